"""The `costad` command: list, run and show the experiments (and build the report).

    costad list
    costad run NAME... | --all [--quick] [--results DIR] [--seed S] [--repeats N]
    costad show NAME [--results DIR]
    costad report [--results DIR] [--out DIR] [--check]
    costad bench-table FILE.json [--results DIR --name NAME]
    costad bench-compare BASE.json NEW.json [--time-threshold RATIO]
    costad peers [--pairs P ...] [--repeats N] [--peer NAME ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from . import results
from .studies import STUDY_NAMES, Settings, get_study, run_study

__all__ = ["main"]


def _fail(message: str, code: int = 2) -> int:
    print(f"costad: error: {message}", file=sys.stderr)
    return code


def _cmd_list(args) -> int:
    width = max(map(len, STUDY_NAMES))
    for name in STUDY_NAMES:
        print(f"{name:<{width}}  {get_study(name).DESCRIPTION}")
    return 0


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


def _cmd_run(args, argv) -> int:
    names = list(STUDY_NAMES) if args.all else args.names
    if not names:
        return _fail("name at least one experiment, or --all (see `costad list`)")
    unknown = [n for n in names if n not in STUDY_NAMES]
    if unknown:
        return _fail(f"unknown experiment {', '.join(map(repr, unknown))}; the experiments "
                     f"are: {', '.join(STUDY_NAMES)}")
    directory = Path(args.results)
    problem = _check_writable(directory)
    if problem:
        return _fail(problem)
    settings = Settings.make(args.quick, args.seed, args.repeats)
    written = []
    for name in names:
        study = get_study(name)
        start = time.perf_counter()
        try:
            df = run_study(name, settings, progress=_progress(name))
        except KeyboardInterrupt:
            print(f"\ncostad: interrupted during {name}; its previous results are untouched",
                  file=sys.stderr)
            return 130
        meta = results.provenance(argv, grid=study.grid(settings), seed=settings.seed,
                                  repeats=settings.repeats, quick=settings.quick,
                                  description=study.DESCRIPTION,
                                  seconds=round(time.perf_counter() - start, 1))
        try:
            csv_file, _ = results.write(df, name, directory, meta)
        except results.ResultsError as err:
            return _fail(str(err))
        written.append((name, len(df), csv_file, meta["seconds"]))
    print("written:")
    for name, rows, csv_file, seconds in written:
        print(f"  {csv_file} ({rows} rows, {seconds} s) and {csv_file.with_suffix('.json')}")
    return 0


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One line per configuration: total counted ops, its prediction, and median time."""
    keys = ["function", "strategy", "n", "R", "T", "m", "param", "iteration"]
    keys = [k for k in keys if df[k].notna().any()]
    totals = df[(df.metric == "ops") & (df.kind.isin(["total", "mul"]))]
    ops = totals.groupby(keys, dropna=False, sort=False).agg(
        ops=("value", "first"), predicted=("predicted", "first"))
    times = df[df.metric == "time"].copy()
    table = ops
    if len(times):
        times["value"] = times["value"].astype(float)
        med = times.groupby(keys, dropna=False, sort=False)["value"].median().rename("median_s")
        table = ops.join(med, how="outer")
    others = df[~df.metric.isin(["ops", "time", "node", "edge", "output"])]
    if len(others) and not len(table):
        return others[keys + ["metric", "value", "predicted"]].reset_index(drop=True)
    return table.reset_index()


def _cmd_show(args) -> int:
    try:
        df, meta = results.load(args.name, args.results)
    except results.ResultsError as err:
        return _fail(str(err))
    print(f"{args.name}: {meta.get('description', '')}")
    print(f"costad {meta.get('costad_version')}, commit {str(meta.get('git_commit'))[:12]}"
          f"{' (dirty)' if meta.get('git_dirty') else ''}, {meta.get('date')}, "
          f"{meta.get('cpu')}; units: ops = elementary operations, s = seconds per call")
    with pd.option_context("display.max_rows", 200, "display.width", 160):
        print(summary(df).to_string(index=False))
    return 0


def _cmd_report(args) -> int:
    from . import report                  # matplotlib is imported only when reporting
    if args.check:
        problems = report.check(args.results, args.out)
        if problems:
            print("costad report --check: the report does not match a rebuild:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"costad report --check: {args.out} matches a rebuild from {args.results}")
        return 0
    outcome = report.build(args.results, args.out)
    out = Path(args.out)
    print(f"written: {len(outcome.files)} files in {out} (figures in "
          f"{out / report.FIGURE_DIR}, report {out / 'README.md'})")
    if outcome.missing:
        print("costad report: built what it could; missing results:", file=sys.stderr)
        for name, reason in outcome.missing.items():
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0


def _cmd_bench_table(args, argv) -> int:
    from . import bench
    try:
        data = bench.load_json(args.file)
    except bench.BenchmarkFileError as err:
        return _fail(str(err))
    df = bench.to_tidy(data)
    if args.results is None:
        sys.stdout.write(df.to_csv(index=False, lineterminator="\n"))
        return 0
    meta = results.provenance(argv, source=str(args.file),
                              machine_info=data.get("machine_info"),
                              commit_info=data.get("commit_info"),
                              description=f"pytest-benchmark run {args.file}")
    try:
        csv_file, json_file = results.write(df, args.name, args.results, meta)
    except results.ResultsError as err:
        return _fail(str(err))
    print(f"written: {csv_file} ({len(df)} rows) and {json_file}")
    return 0


def _cmd_bench_compare(args) -> int:
    from . import bench
    try:
        base, new = bench.load_json(args.base), bench.load_json(args.new)
    except bench.BenchmarkFileError as err:
        return _fail(str(err))
    comparison = bench.compare(base, new, args.time_threshold)
    print(comparison.table())
    print("ratio = new / base median time; noise = combined IQR / median of both runs. "
          + ("Counts fail the gate on any change; times fail above x"
             f"{args.time_threshold:g}." if args.time_threshold else
             "Counts fail the gate on any change; times are reported, not gated."))
    if comparison.failed:
        print("costad bench-compare: FAILED", file=sys.stderr)
        return 1
    print("costad bench-compare: counts equal")
    return 0


def _cmd_peers(args) -> int:
    from . import peers
    try:
        rows = peers.scalar_loop_rows(args.pairs, args.repeats, args.peer)
    except ValueError as err:
        return _fail(str(err).removeprefix("costad: "))
    frame = pd.DataFrame(rows, columns=["library", "variant", "pairs", "K", "W", "time_min_s",
                                        "us_per_f_op", "us_per_counted_op"])
    frame = frame.astype({"pairs": "Int64", "K": "Int64", "W": "Int64"})   # exact, NA-safe
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(frame.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3g}"))
    print("Seed example over P pairs in a Python loop, value and gradient. K: operations of f; "
          "W: operations of value and gradient, both counted by costad. Times: minimum over "
          f"{args.repeats} interleaved rounds (perf_counter, seconds).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="costad", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the experiments, a line each")
    run = sub.add_parser("run", help="run experiments and write results/NAME.csv and .json")
    run.add_argument("names", nargs="*", metavar="NAME")
    run.add_argument("--all", action="store_true", help="every experiment")
    run.add_argument("--quick", action="store_true", help="small grids (under a minute in all)")
    run.add_argument("--results", default="results", help="results folder (default: results)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--repeats", type=int, default=None,
                     help="timing samples per measurement (default 5, quick 2)")
    show = sub.add_parser("show", help="a compact table of a results file")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--results", default="results")
    rep = sub.add_parser("report", help="figures, fits and reports/README.md from results")
    rep.add_argument("--results", default="results")
    rep.add_argument("--out", default="reports")
    rep.add_argument("--check", action="store_true",
                     help="rebuild into a temporary folder and fail if anything differs")
    table = sub.add_parser("bench-table",
                           help="a pytest-benchmark JSON as a tidy table (CSV, or results files)")
    table.add_argument("file", metavar="FILE.json")
    table.add_argument("--results", default=None,
                       help="write NAME.csv and NAME.json there instead of printing CSV")
    table.add_argument("--name", default="benchmarks")
    cmp_ = sub.add_parser("bench-compare",
                          help="fail if any count differs between two benchmark runs")
    cmp_.add_argument("base", metavar="BASE.json")
    cmp_.add_argument("new", metavar="NEW.json")
    cmp_.add_argument("--time-threshold", type=float, default=None, metavar="RATIO",
                      help="also fail when a median time grows beyond this ratio (off by default)")
    peers = sub.add_parser("peers", help="time costad and the installed peers (PyTorch, "
                                         "HIPS autograd) on the scalar-code loop")
    peers.add_argument("--pairs", type=int, nargs="+", default=[250, 1000, 4000], metavar="P",
                       help="numbers of pairs (default: 250 1000 4000)")
    peers.add_argument("--repeats", type=int, default=5, help="timed rounds (default 5)")
    peers.add_argument("--peer", nargs="+", default=None, metavar="NAME",
                       help="peers to time (default: every one installed of torch, autograd)")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _dispatch(argv)
    except BrokenPipeError:
        # The reader went away (`costad show NAME | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _dispatch(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return _cmd_list(args)
    if args.command == "run":
        return _cmd_run(args, ["costad"] + argv)
    if args.command == "show":
        return _cmd_show(args)
    if args.command == "report":
        return _cmd_report(args)
    if args.command == "bench-table":
        return _cmd_bench_table(args, ["costad"] + argv)
    if args.command == "bench-compare":
        return _cmd_bench_compare(args)
    if args.command == "peers":
        return _cmd_peers(args)
    return _fail(f"unknown command {args.command!r}")
