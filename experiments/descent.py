"""Experiment 'descent': gradient descent on a quadratic: small, 1/L, optimal 2/(L+mu) and divergent steps (C8)

Its grid, functions and closed-form predictions are defined in costad/studies/descent.py,
so that the installed `costad run descent` and this script run the same study.

    python experiments/descent.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "descent", *sys.argv[1:]]))
