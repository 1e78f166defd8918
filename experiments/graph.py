"""Experiment 'graph': the lecture's example l(t1, t2) traced: its listing, DAG and K = 5 (C1)

Its grid, functions and closed-form predictions are defined in costad/studies/graph.py,
so that the installed `costad run graph` and this script run the same study.

    python experiments/graph.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "graph", *sys.argv[1:]]))
