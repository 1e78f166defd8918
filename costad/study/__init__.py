"""The study: costad's experiments, their results files, fits, figures and report.

The engine (`costad`) counts and differentiates; this package measures with it. Each
experiment is one module in `costad.study.experiments` (see `costad.study.registry` for what
a module declares); the registry finds them, and the runner, the report, the fits and claims
tables and the `costad` command loop over the registered experiments.

A study's work is split into tasks; each task returns tidy rows (`costad.study.measure.row`).
`run_study` executes the tasks (with an optional progress wrapper) and returns a DataFrame;
it writes nothing. `costad run` and the scripts in `experiments/` call it.

Importing this package is light (no pandas, no matplotlib): the pytest plugin lives here and
is loaded by every pytest session of a project that installs costad.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Settings", "Task", "run_study", "Experiment", "all_experiments", "names", "get",
           "register", "unregister", "UnknownExperimentError"]


@dataclass(frozen=True)
class Settings:
    """How a study runs: quick mode (small grid), the random seed and timing repeats; and
    the machine's calibration (a `costad.Calibration`, or None), from which every timed row
    gets its predicted time (`costad.study.model`)."""

    quick: bool = False
    seed: int = 0
    repeats: int = 5
    calibration: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        # A bad setting is refused here, before any work (and before any file is written).
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"costad: the seed must be a non-negative integer, got {self.seed!r}")
        if (isinstance(self.repeats, bool) or not isinstance(self.repeats, int)
                or self.repeats < 1):
            raise ValueError(f"costad: repeats must be a positive integer, got {self.repeats!r}")
        if self.calibration is not None:
            from costad import Calibration
            if not isinstance(self.calibration, Calibration):
                raise TypeError(f"costad: Settings.calibration must be a costad.Calibration "
                                f"or None, got {type(self.calibration).__name__}")

    @classmethod
    def make(cls, quick: bool = False, seed: int = 0, repeats: int | None = None,
             calibration=None) -> "Settings":
        """Settings with the default repeats of the mode (5, quick 2) unless given."""
        return cls(quick, seed, repeats if repeats is not None else (2 if quick else 5),
                   calibration)


@dataclass(frozen=True)
class Task:
    """One unit of work of a study: a label for the progress bar and a function of no
    arguments returning rows."""

    label: str
    run: Callable[[], list[dict]]


def run_study(name: str, settings: Settings, progress: Callable | None = None):
    """Run every task of experiment ``name`` and return its tidy DataFrame.

    ``progress(tasks)`` may wrap the task list (for example in a tqdm progress bar).
    """
    from .results import to_frame              # pandas only when a study actually runs
    experiment = get(name)
    tasks = experiment.tasks(settings)
    if not tasks:
        raise ValueError(f"costad: experiment {name!r} has an empty sweep")
    rows: list[dict] = []
    for task in (progress(tasks) if progress else tasks):
        rows.extend(task.run())
    return to_frame(rows)


# The registry's public names (imported last: the experiment modules import Settings and Task
# from this package when the registry discovers them).
from .registry import (Experiment, UnknownExperimentError, all_experiments, get, names,  # noqa: E402
                       register, unregister)
