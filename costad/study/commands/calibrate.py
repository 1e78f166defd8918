"""`costad calibrate`: measure this machine's time model parameters into
results/calibrate.csv and .json (the `calibrate` experiment), and print them."""
from __future__ import annotations

from . import nonnegative_int, positive_int

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "calibrate"
HELP = ("measure this machine's per-call overheads, time per operation, matmul rate and "
        "memory bandwidth (results/calibrate.csv and .json)")


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="fewer and smaller microbenchmarks (a few seconds; a rough "
                             "calibration)")
    parser.add_argument("--results", default="results",
                        help="results folder (default: results)")
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help="random seed, a non-negative integer (default 0)")
    parser.add_argument("--repeats", type=positive_int, default=None,
                        help="timing samples per measurement (default 5, quick 2)")
    from .run import add_cpu_arguments
    add_cpu_arguments(parser)


def run(args) -> int:
    from ..calibration import NAME as EXPERIMENT, describe, load
    from .run import run_experiments
    code = run_experiments([EXPERIMENT], args)
    if code == 0:
        print(describe(load(args.results)))
    return code
