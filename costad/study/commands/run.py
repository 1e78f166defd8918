"""`costad run`: run experiments and write results/NAME.csv and .json."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from .. import Settings, get, names, run_study
from ..calibration import NAME as CALIBRATION, load_for_run
from ..provenance import provenance
from ..results import ResultsError, write
from . import UsageError, _Parser, fail, main, nonnegative_int, positive_int

__all__ = ["NAME", "HELP", "add_arguments", "add_run_settings", "run", "run_experiments",
           "one_cpu", "cpu_problem", "run_script"]

NAME = "run"
HELP = "run experiments and write results/NAME.csv and .json"


def add_arguments(parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--all", action="store_true", help="every experiment")
    add_run_settings(parser, quick_help="small grids (under a minute in all)")


def add_run_settings(parser, quick_help: str) -> None:
    """The settings of every command that runs experiments (`run_experiments`): --quick,
    --results, --seed, --repeats, and the CPU the run is held to (--cpu, --no-pin)."""
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--results", default="results",
                        help="results folder (default: results)")
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help="random seed, a non-negative integer (default 0)")
    parser.add_argument("--repeats", type=positive_int, default=None,
                        help="timing samples per measurement (default 5, quick 2)")
    add_cpu_arguments(parser)


def add_cpu_arguments(parser) -> None:
    """--cpu and --no-pin: the CPU a timing command is held to (`one_cpu`)."""
    # One or the other: `--cpu 1 --no-pin` would otherwise drop the CPU asked for unsaid.
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--cpu", type=nonnegative_int, default=None,
                       help="run on this CPU only (default: the lowest this process may use)")
    group.add_argument("--no-pin", action="store_true",
                       help="let the operating system move the run between CPUs")


def run_script(name: str, argv: list[str]) -> int:
    """``python experiments/NAME.py [settings]``: `costad run NAME` with the settings of a
    run only. Another experiment's name among them is refused, not run as well
    (``experiments/chain.py graph`` would otherwise run graph too)."""
    if not {"-h", "--help"} & set(argv):
        settings = _Parser(prog=f"experiments/{name}.py", add_help=False)
        add_run_settings(settings, quick_help="")
        try:
            settings.parse_args(argv)
        except UsageError as err:
            return fail(str(err))
    return main(["run", name, *argv])


def cpu_problem(cpu: int | None) -> str | None:
    """Why this process cannot be held to ``cpu`` (None: it can, or the platform does not
    pin at all)."""
    if cpu is None or not hasattr(os, "sched_getaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed:
        return (f"CPU {cpu} is not available to this process (it may use "
                f"{', '.join(map(str, sorted(allowed)))})")
    return None


@contextlib.contextmanager
def one_cpu(cpu: int | None = None, pin: bool = True):
    """Hold this thread (and the threads it starts) to one CPU while the block runs, then
    give back the CPUs it had; yields the CPU, or None where nothing was pinned (``pin``
    false, or a platform without ``os.sched_setaffinity``).

    Why: the calibration and the experiments it predicts must measure the same core. On a
    shared machine cores differ: on the reference VM one of its two CPUs ran the same call
    (mlp reverse mode at n = 3001) in 0.64 to 0.74 ms, the other in 0.97 to 1.18 ms, and an
    unpinned process lands on either. Raises `ValueError` for a CPU this process may not use.
    """
    if not pin or not hasattr(os, "sched_setaffinity"):
        yield None
        return
    problem = cpu_problem(cpu)
    if problem:
        raise ValueError(problem)
    allowed = os.sched_getaffinity(0)
    chosen = min(allowed) if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    try:
        yield chosen
    finally:
        os.sched_setaffinity(0, allowed)


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
    scheduler tick (milliseconds) on a busy machine. The whole run is held to one CPU
    (`one_cpu`, recorded as ``cpu_pinned``): the calibration and the experiments then
    measure the same core.
    """
    from threadpoolctl import threadpool_limits
    cpu, pin = getattr(args, "cpu", None), not getattr(args, "no_pin", False)
    problem = cpu_problem(cpu) if pin else None
    if problem:
        return fail(problem)
    with one_cpu(cpu, pin) as pinned, threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        return _run_experiments(chosen, args, pinned)


BLAS_THREADS = 1


def _run_experiments(chosen: list[str], args, cpu: int | None = None) -> int:
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
                          cpu_pinned=cpu,
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
