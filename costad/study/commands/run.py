"""`costad run`: run experiments and write results/NAME.csv and .json."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from dataclasses import replace

from .. import Settings, get, names, run_study
from ..calibration import NAME as CALIBRATION, load_for_run
from ..provenance import provenance
from ..results import ResultsError, write
from . import fail, nonnegative_int, positive_int

__all__ = ["NAME", "HELP", "add_arguments", "run", "run_experiments"]

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
    return run_experiments(chosen, args)


def run_experiments(chosen: list[str], args) -> int:
    """Run the experiments ``chosen`` with the settings of ``args`` and write their results.

    The calibration runs first when chosen (whatever its place on the command line), so
    that the experiments after it predict their times from it; the others use the
    calibration already in the results folder when it was measured on this machine.

    BLAS runs on one thread throughout (threadpoolctl; the provenance records the pools as
    they were in use): the time model counts one core's operations, and a BLAS thread
    waiting for a core that another process holds would stall a matrix product for a
    scheduler tick (milliseconds) on a busy machine.
    """
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        return _run_experiments(chosen, args)


BLAS_THREADS = 1


def _run_experiments(chosen: list[str], args) -> int:
    directory = Path(args.results)
    problem = _check_writable(directory)
    if problem:
        return fail(problem)
    chosen = sorted(dict.fromkeys(chosen), key=lambda n: n != CALIBRATION)
    settings = Settings.make(args.quick, args.seed, args.repeats)
    written, told = [], False
    for name in chosen:
        experiment = get(name)
        calibration, how = None, None
        if name != CALIBRATION:
            calibration, how = load_for_run(directory)
            if calibration is None and not told:
                print(f"costad: note: times are not predicted: {how}", file=sys.stderr)
                told = True
        start = time.perf_counter()
        try:
            df = run_study(name, replace(settings, calibration=calibration),
                           progress=_progress(name))
        except KeyboardInterrupt:
            print(f"\ncostad: interrupted during {name}; its previous results are untouched",
                  file=sys.stderr)
            return 130
        extra = {} if how is None else {"calibration": {
            "used": calibration is not None, "how": how,
            "csv_sha256": None if calibration is None else calibration.source.get(
                "csv_sha256")}}
        meta = provenance(args.argv, grid=experiment.grid(settings), seed=settings.seed,
                          repeats=settings.repeats, quick=settings.quick,
                          description=experiment.description, blas_threads_limit=BLAS_THREADS,
                          seconds=round(time.perf_counter() - start, 1), **extra)
        try:
            csv_file, _ = write(df, name, directory, meta)
        except ResultsError as err:
            return fail(str(err))
        written.append((name, len(df), csv_file, meta["seconds"]))
    print("written:")
    for name, rows, csv_file, seconds in written:
        print(f"  {csv_file} ({rows} rows, {seconds} s) and {csv_file.with_suffix('.json')}")
    return 0
