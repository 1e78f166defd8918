"""`costad calibrate`: measure this machine's time model parameters into
results/calibrate.csv and .json (the `calibrate` experiment), and print them."""
from __future__ import annotations

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "calibrate"
HELP = ("measure this machine's per-call overheads, time per operation, matmul rate and "
        "memory bandwidth (results/calibrate.csv and .json)")


def add_arguments(parser) -> None:
    from .run import add_run_settings
    add_run_settings(parser, quick_help="fewer and smaller microbenchmarks (a few seconds; a "
                                        "rough calibration)")


def run(args) -> int:
    from ..calibration import NAME as EXPERIMENT, describe, load
    from .run import run_experiments
    code = run_experiments([EXPERIMENT], args)
    if code == 0:
        print(describe(load(args.results)))
    return code
