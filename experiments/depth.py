"""Experiment 'depth': MLP gradient against depth R: reverse and hand backprop linear in R, fd/forward ~R^2 (C6)

Its grid, functions and closed-form predictions are defined in costad/studies/depth.py,
so that the installed `costad run depth` and this script run the same study.

    python experiments/depth.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "depth", *sys.argv[1:]]))
