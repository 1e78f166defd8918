"""`costad show`: a compact table of a results file."""
from __future__ import annotations

import pandas as pd

from ..errors import UnknownExperimentError
from ..frames import is_abstract, markdown_table, number
from ..registry import get
from ..results import ResultsError, load
from . import fail, results_name

__all__ = ["NAME", "HELP", "add_arguments", "run", "summary", "table", "machine",
           "plain_number"]

NAME = "show"
HELP = "a compact table of a results file"


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", type=results_name)
    parser.add_argument("--results", default="results",
                        help="results folder (default: results)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table in Markdown, under a line naming the machine")


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One line per configuration: total counted ops, its prediction, and median time (rows
    counted on abstract inputs left out: they are not runs)."""
    df = df[~is_abstract(df)]
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


def table(name: str, df: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """The experiment's own summary (its ``summary(df, meta)``), else the generic
    `summary` (results that no registered experiment names, a benchmark table say)."""
    try:
        experiment = get(name)
    except UnknownExperimentError:
        experiment = None
    if experiment is not None and experiment.summary is not None:
        return experiment.summary(df, meta)
    return summary(df)


def plain_number(v: float) -> str:
    """A float for the plain table: six significant digits, whatever its magnitude."""
    return f"{v:.6g}"


def machine(meta: dict) -> str:
    """One line naming where and with what results were made (from their provenance)."""
    # The provenance is informative, not checked: an edited or foreign JSON may give these
    # entries other types, which print as unknown rather than end in an internal error.
    threads = meta.get("threads")
    threads = threads if isinstance(threads, dict) else {}
    pools = meta.get("thread_pools")
    pools = [p for p in pools if isinstance(p, dict)] if isinstance(pools, list) else []
    # The BLAS by name and version: how many threads it ran is the experiment's to say (the
    # provenance records the pools as they were when the results were written).
    blas = ", ".join(f"{p.get('internal_api')} {p.get('version')}"
                     for p in pools if p.get("user_api") == "blas")
    return (f"{meta.get('cpu')}, {threads.get('cpu_count')} CPUs, {meta.get('os')}; Python "
            f"{meta.get('python')}, NumPy {meta.get('numpy')}"
            + (f", BLAS {blas}" if blas else "")
            + f"; costad {meta.get('costad_version')}, commit "
            f"{str(meta.get('git_commit'))[:12]}{' (dirty)' if meta.get('git_dirty') else ''}"
            f", {meta.get('date')}")


def run(args) -> int:
    try:
        df, meta = load(args.name, args.results)
        frame = table(args.name, df, meta)
    except ResultsError as err:
        return fail(str(err))
    if args.markdown:
        argv = meta.get("argv")
        argv = " ".join(map(str, argv)) if isinstance(argv, list) else str(argv or "")
        print(f"Measured on {machine(meta)}; `{argv}`.\n")
        print(markdown_table(frame, number_format=number))
        return 0
    print(f"{args.name}: {meta.get('description', '')}")
    print(f"costad {meta.get('costad_version')}, commit {str(meta.get('git_commit'))[:12]}"
          f"{' (dirty)' if meta.get('git_dirty') else ''}, {meta.get('date')}, "
          f"{meta.get('cpu')}; units: ops = elementary operations, s = seconds per call")
    with pd.option_context("display.max_rows", 200, "display.width", 160):
        # Significant digits, not pandas' six decimals, which print a calibration's seconds
        # per operation (~1e-9) and fd_accuracy's smallest errors as 0.0. Counts are ints
        # and keep every digit.
        print(frame.to_string(index=False, float_format=plain_number))
    abstract = int((is_abstract(df) & (df.metric == "ops") & (df.kind == "total")).sum())
    if abstract:
        print(f"(and {abstract} configurations counted on abstract inputs, note 'abstract', "
              "not shown)")
    return 0
