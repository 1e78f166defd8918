"""The experiment registry: every module of `costad.study.experiments`, and any registered.

An experiment is one module. It declares:

- ``NAME`` (its results are ``results/NAME.csv`` and ``.json``) and ``DESCRIPTION`` (one
  line, for ``costad list``);
- ``ORDER``: a number placing it in ``costad list``, ``costad run --all`` and the report;
- ``grid(settings) -> dict`` (recorded in the provenance) and ``tasks(settings) -> [Task]``;
- ``TITLE`` and ``SENTENCE``: its section of the report;

and optionally:

- ``figures(df) -> {stem: builder}``: its figures, each built by ``builder()`` from the
  results DataFrame ``df`` (stems name the files in ``reports/figures/``);
- ``FITS``: a `costad.study.fits.Sweep`, the curves whose log-log slopes enter ``fits.csv``;
- ``claims(df, fits) -> [row]``: its rows of the claims table (`costad.study.claims.claim`),
  from its results and its own rows of the fits table;
- ``summary(df, meta) -> DataFrame``: its table (``meta``: the results' provenance),
  printed by ``costad show NAME`` (``--markdown`` for Markdown) and written in its report
  section (without it, `costad show` prints a generic summary and the report none).
- ``tables(df) -> [(title, DataFrame)]``: further tables printed in its section of the report.

Every experiment whose results carry predicted times (`costad.study.model`) also gets, from
the report itself, a figure of predicted against measured time and its rows of the time
model's accuracy.

Modules of `costad.study.experiments` are found by `pkgutil` (names starting with ``_`` are
skipped), so adding an experiment is adding a module there (plus its thin script in
``experiments/``). Experiments defined elsewhere join with `register` and leave with
`unregister`.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

from .errors import ExperimentDefinitionError, UnknownExperimentError

__all__ = ["Experiment", "all_experiments", "names", "get", "register", "unregister",
           "valid_name"]

REQUIRED = ("NAME", "DESCRIPTION", "ORDER", "TITLE", "SENTENCE", "grid", "tasks")

# A name becomes a file name (results/NAME.csv): no separators, no leading dot, not empty.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def valid_name(name) -> bool:
    """Whether ``name`` can name an experiment and its results files."""
    return isinstance(name, str) and bool(_NAME.match(name))


def _no_figures(df) -> dict:
    return {}


def _no_claims(df, fits) -> list:
    return []


def _no_tables(df) -> list:
    return []


@dataclass(frozen=True)
class Experiment:
    """What the runner, the report and the command line need of one experiment module."""

    name: str
    description: str
    order: float
    title: str
    sentence: str
    grid: Callable
    tasks: Callable
    figures: Callable = _no_figures
    fits: object = None
    claims: Callable = _no_claims
    summary: Callable | None = None
    tables: Callable = _no_tables
    module: ModuleType | None = None

    @classmethod
    def from_module(cls, module: ModuleType) -> "Experiment":
        """Read an experiment module's declarations, refusing an incomplete one clearly."""
        lacking = [attr for attr in REQUIRED if not hasattr(module, attr)]
        if lacking:
            raise ExperimentDefinitionError(
                f"costad: experiment module {module.__name__} lacks {', '.join(lacking)} "
                f"(an experiment declares {', '.join(REQUIRED)})")
        if not valid_name(module.NAME):
            raise ExperimentDefinitionError(
                f"costad: experiment module {module.__name__} has NAME {module.NAME!r}; a name "
                "is letters, digits, '_', '.' and '-', not starting with '.', '_' or '-'")
        return cls(name=module.NAME, description=module.DESCRIPTION, order=module.ORDER,
                   title=module.TITLE, sentence=module.SENTENCE, grid=module.grid,
                   tasks=module.tasks, figures=getattr(module, "figures", _no_figures),
                   fits=getattr(module, "FITS", None),
                   claims=getattr(module, "claims", _no_claims),
                   summary=getattr(module, "summary", None),
                   tables=getattr(module, "tables", _no_tables), module=module)


_lock = threading.Lock()
_discovered: dict[str, Experiment] | None = None
_registered: dict[str, Experiment] = {}


def _discover() -> dict[str, Experiment]:
    from . import experiments as package
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        experiment = Experiment.from_module(module)
        if experiment.name != info.name:
            # The script experiments/NAME.py, the module and the results share one name.
            raise ExperimentDefinitionError(
                f"costad: {module.__name__} declares NAME {experiment.name!r}; a bundled "
                "experiment's NAME is its module's name")
        found[experiment.name] = experiment
    return found


def _all() -> dict[str, Experiment]:
    global _discovered
    with _lock:
        if _discovered is None:
            _discovered = _discover()
        return {**_discovered, **_registered}


def all_experiments() -> list[Experiment]:
    """Every experiment, in ``ORDER`` (then by name)."""
    return sorted(_all().values(), key=lambda e: (e.order, e.name))


def names() -> tuple[str, ...]:
    """The experiments' names, in ``ORDER``."""
    return tuple(e.name for e in all_experiments())


def get(name: str) -> Experiment:
    """The experiment called ``name``."""
    found = _all().get(name)
    if found is None:
        raise UnknownExperimentError(f"costad: unknown experiment {name!r}; the experiments "
                                     f"are: {', '.join(names())}")
    return found


def register(module: ModuleType) -> Experiment:
    """Add the experiment a module defines (elsewhere than `costad.study.experiments`)."""
    experiment = Experiment.from_module(module)
    _all()                                          # discover the bundled ones first
    with _lock:
        if experiment.name in _discovered or experiment.name in _registered:
            raise ExperimentDefinitionError(f"costad: an experiment called {experiment.name!r} "
                                            "is already registered")
        _registered[experiment.name] = experiment
    return experiment


def unregister(name: str) -> None:
    """Remove an experiment added by `register` (bundled ones stay)."""
    with _lock:
        if name not in _registered:
            raise UnknownExperimentError(f"costad: no experiment {name!r} was registered")
        del _registered[name]
