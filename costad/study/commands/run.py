"""`costad run`: run experiments and write results/NAME.csv and .json."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from .. import Settings, get, names, run_study
from ..provenance import provenance
from ..results import ResultsError, write
from . import fail, nonnegative_int, positive_int

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "run"
HELP = "run experiments and write results/NAME.csv and .json"


def add_arguments(parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--all", action="store_true", help="every experiment")
    parser.add_argument("--quick", action="store_true",
                        help="small grids (under a minute in all)")
    parser.add_argument("--results", default="results",
                        help="results folder (default: results)")
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help="random seed, a non-negative integer (default 0)")
    parser.add_argument("--repeats", type=positive_int, default=None,
                        help="timing samples per measurement (default 5, quick 2)")


def _check_writable(directory: Path) -> str | None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"cannot create the results folder {directory}: {err.strerror or err}"
    if not os.access(directory, os.W_OK):
        return f"the results folder {directory} is not writable"
    return None


def _progress(name: str):
    def wrap(tasks):
        try:
            from tqdm import tqdm
        except ImportError:                        # tqdm is a dependency; stay usable without
            return tasks
        return tqdm(tasks, desc=name, unit="task", file=sys.stderr, leave=True,
                    disable=None)
    return wrap


def run(args) -> int:
    known = names()
    chosen = list(known) if args.all else args.names
    if not chosen:
        return fail("name at least one experiment, or --all (see `costad list`)")
    unknown = [n for n in chosen if n not in known]
    if unknown:
        return fail(f"unknown experiment {', '.join(map(repr, unknown))}; the experiments "
                    f"are: {', '.join(known)}")
    directory = Path(args.results)
    problem = _check_writable(directory)
    if problem:
        return fail(problem)
    settings = Settings.make(args.quick, args.seed, args.repeats)
    written = []
    for name in chosen:
        experiment = get(name)
        start = time.perf_counter()
        try:
            df = run_study(name, settings, progress=_progress(name))
        except KeyboardInterrupt:
            print(f"\ncostad: interrupted during {name}; its previous results are untouched",
                  file=sys.stderr)
            return 130
        meta = provenance(args.argv, grid=experiment.grid(settings), seed=settings.seed,
                          repeats=settings.repeats, quick=settings.quick,
                          description=experiment.description,
                          seconds=round(time.perf_counter() - start, 1))
        try:
            csv_file, _ = write(df, name, directory, meta)
        except ResultsError as err:
            return fail(str(err))
        written.append((name, len(df), csv_file, meta["seconds"]))
    print("written:")
    for name, rows, csv_file, seconds in written:
        print(f"  {csv_file} ({rows} rows, {seconds} s) and {csv_file.with_suffix('.json')}")
    return 0
