"""`costad list`: the experiments, a line each."""
from __future__ import annotations

from .. import all_experiments

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "list"
HELP = "the experiments, a line each"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    found = all_experiments()
    width = max((len(e.name) for e in found), default=0)
    for experiment in found:
        print(f"{experiment.name:<{width}}  {experiment.description}")
    return 0
