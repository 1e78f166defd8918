"""Experiment 'fd_accuracy': fd and fd-central error against the step h: minima near sqrt(eps) and eps^(1/3)

Its grid, functions and closed-form predictions are defined in costad/studies/fd_accuracy.py,
so that the installed `costad run fd_accuracy` and this script run the same study.

    python experiments/fd_accuracy.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "fd_accuracy", *sys.argv[1:]]))
