"""The studies of DESIGN.md section 4, one module each.

A study declares its grid, its functions and its predicted closed forms, and splits its
work into tasks; each task returns tidy rows (`costad.measure.row`). The runner
(`costad.studies.run_study`) executes the tasks with a progress bar and returns a DataFrame;
it writes nothing. `costad run` and the scripts in `experiments/` call it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..results import to_frame

__all__ = ["Settings", "Task", "STUDY_NAMES", "get_study", "run_study"]

STUDY_NAMES = ("graph", "gradient_vs_n", "jacobian_shape", "chain", "depth", "rnn",
               "fd_accuracy", "descent")


@dataclass(frozen=True)
class Settings:
    """How a study runs: quick mode (small grid), the random seed and timing repeats."""

    quick: bool = False
    seed: int = 0
    repeats: int = 5

    @classmethod
    def make(cls, quick: bool = False, seed: int = 0, repeats: int | None = None) -> "Settings":
        return cls(quick, seed, repeats if repeats is not None else (2 if quick else 5))


@dataclass(frozen=True)
class Task:
    """One unit of work of a study: a label for the progress bar and a function of no
    arguments returning rows."""

    label: str
    run: Callable[[], list[dict]]


def get_study(name: str):
    """The module of study ``name``: it has NAME, DESCRIPTION, grid(settings), tasks(settings)."""
    if name not in STUDY_NAMES:
        raise KeyError(f"costad: unknown experiment {name!r}; the experiments are: "
                       f"{', '.join(STUDY_NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


def run_study(name: str, settings: Settings, progress: Callable | None = None) -> pd.DataFrame:
    """Run every task of study ``name`` and return its tidy DataFrame.

    ``progress(tasks)`` may wrap the task list (for example in a tqdm progress bar).
    """
    study = get_study(name)
    tasks = study.tasks(settings)
    if not tasks:
        raise ValueError(f"costad: experiment {name!r} has an empty sweep")
    rows: list[dict] = []
    for task in (progress(tasks) if progress else tasks):
        rows.extend(task.run())
    return to_frame(rows)
