"""Experiment 'gradient_vs_n': gradient cost against n: fd (n+1)K + 3n, fd-central 2nK + 4n, forward ~nK, reverse ~K

Its grid, functions and closed-form predictions are defined in costad/studies/gradient_vs_n.py,
so that the installed `costad run gradient_vs_n` and this script run the same study.

    python experiments/gradient_vs_n.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "gradient_vs_n", *sys.argv[1:]]))
