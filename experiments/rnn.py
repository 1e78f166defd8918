"""Experiment 'rnn': recurrent net with shared parameters: gradient cost against sequence length T (C7)

Its grid, functions and closed-form predictions are defined in costad/studies/rnn.py,
so that the installed `costad run rnn` and this script run the same study.

    python experiments/rnn.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "rnn", *sys.argv[1:]]))
