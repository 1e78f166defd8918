"""`costad show`: a compact table of a results file."""
from __future__ import annotations

import pandas as pd

from ..calibration import NAME as CALIBRATION
from ..frames import is_abstract
from ..results import ResultsError, load
from . import fail, results_name

__all__ = ["NAME", "HELP", "add_arguments", "run", "summary"]

NAME = "show"
HELP = "a compact table of a results file"


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", type=results_name)
    parser.add_argument("--results", default="results",
                        help="results folder (default: results)")


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


def run(args) -> int:
    try:
        df, meta = load(args.name, args.results)
    except ResultsError as err:
        return fail(str(err))
    print(f"{args.name}: {meta.get('description', '')}")
    print(f"costad {meta.get('costad_version')}, commit {str(meta.get('git_commit'))[:12]}"
          f"{' (dirty)' if meta.get('git_dirty') else ''}, {meta.get('date')}, "
          f"{meta.get('cpu')}; units: ops = elementary operations, s = seconds per call")
    with pd.option_context("display.max_rows", 200, "display.width", 160):
        if args.name == CALIBRATION:
            # The calibration's measurements are many; what a reader wants is its parameters.
            params = df[df.function == "parameter"]
            print(params[["metric", "kind", "n", "value", "unit"]].to_string(index=False))
        else:
            print(summary(df).to_string(index=False))
    abstract = int((is_abstract(df) & (df.metric == "ops") & (df.kind == "total")).sum())
    if abstract:
        print(f"(and {abstract} configurations counted on abstract inputs, note 'abstract', "
              "not shown)")
    return 0
