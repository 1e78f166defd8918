"""Experiment 'chain': Jacobian chain products: left (R-1)n^3 + n^2, right R n^2, optimal by DP (C5)

Its grid, functions and closed-form predictions are defined in costad/studies/chain.py,
so that the installed `costad run chain` and this script run the same study.

    python experiments/chain.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "chain", *sys.argv[1:]]))
