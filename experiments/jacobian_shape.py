"""Experiment 'jacobian_shape': Jacobian of tanh(A x), R^n -> R^m, m swept at fixed n: n JVPs vs m VJPs (C4)

Its grid, functions and closed-form predictions are defined in costad/studies/jacobian_shape.py,
so that the installed `costad run jacobian_shape` and this script run the same study.

    python experiments/jacobian_shape.py [--quick] [--results DIR] [--seed S] [--repeats N]
"""
import sys

from costad.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "jacobian_shape", *sys.argv[1:]]))
