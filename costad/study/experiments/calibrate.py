"""The time model's parameters, measured on this machine apart from any study.

Runs first (ORDER 1): every later experiment of the same run predicts its times from this
calibration (`costad.study.model`), so `costad run --all` and `make report` measure the
machine in the state the study then runs in. It takes about half a minute (a few seconds
in quick mode), a small share of the study. The measurements are in
`costad.study.calibration`; this module holds the grid, the tasks and the figures.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from .. import Settings, Task
from ..calibration import (ELEMENTWISE, MIN_REPEATS, OVERHEADS, measure_bandwidth,
                           measure_elements, measure_leaves, measure_matmul,
                           measure_out_of_cache, measure_overheads, sizes)
from ..plotting import figure, finish

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "grid", "tasks", "figures"]

NAME = "calibrate"
ORDER = 1
DESCRIPTION = ("this machine's time model: per-call overheads, time per operation, matmul "
               "rate, memory bandwidth")
TITLE = "The time model's parameters (this machine)"
SENTENCE = ("Measured on microbenchmarks apart from any study, these parameters turn every "
            "timed row's counts into a predicted time: calls x the per-call overhead of the "
            "strategy's interpretation, plus the larger of work x time per operation "
            "(compute) and bytes / bandwidth (memory).")

OVERHEAD_COLORS = {"eval": "black", "counted": "tab:cyan", "chain": "tab:gray",
                   "count": "tab:brown",
                   "forward": "tab:green", "reverse_record": "tab:pink",
                   "reverse_sweep": "tab:olive", "reverse": "tab:red", "fd": "tab:blue"}


def grid(settings: Settings) -> dict:
    return {**sizes(settings.quick), "interpretations": list(OVERHEADS),
            "primitives": list(ELEMENTWISE)}


def tasks(settings: Settings) -> list[Task]:
    g = sizes(settings.quick)
    repeats = settings.repeats if settings.quick else max(settings.repeats, MIN_REPEATS)
    out = [Task("per-call costs", partial(measure_overheads, OVERHEADS, g["chain_lengths"],
                                          g["chain_inputs"], repeats))]
    out.append(Task("per input array", partial(
        measure_leaves, [k for k in OVERHEADS if k != "chain"], g["leaves"], repeats)))
    out.append(Task("elements in cache", partial(measure_elements, list(ELEMENTWISE),
                                                 g["in_cache"], repeats, settings.seed)))
    out.append(Task("elements out of cache", partial(
        measure_out_of_cache, list(ELEMENTWISE), g["out_of_cache"], repeats, settings.seed)))
    out.append(Task("matmul", partial(measure_matmul, g["matmul"], repeats, settings.seed)))
    out.append(Task("bandwidth", partial(measure_bandwidth, g["bandwidth"], repeats,
                                         settings.seed)))
    return out


# ------------------------------------------------------------------------------ report

def _medians(df: pd.DataFrame, function: str, strategy: str, by: str) -> pd.Series:
    t = df[(df.function == function) & (df.strategy == strategy) & (df.metric == "time")]
    return t.assign(value=t.value.astype(float)).groupby(by).value.median()


def overhead_figure(df: pd.DataFrame):
    """Time per call against primitive applications, per interpretation (chains of L
    primitives on a few elements), with the per-call costs the calibration fitted."""
    fig = figure((7.5, 5))
    ax = fig.subplots()
    p = df[df.function == "parameter"]
    per_call = dict(zip(p[p.metric == "overhead_s"].kind, p[p.metric == "overhead_s"].value))
    interp = dict(zip(p[p.metric == "interp_s"].kind, p[p.metric == "interp_s"].value))
    chains = df[df.function == "chain"]
    for key in dict.fromkeys(chains.strategy):
        c = chains[chains.strategy == key]
        t = c[c.metric == "time"].assign(value=lambda d: d.value.astype(float)).groupby(
            ["n", "R"]).value.median()
        calls = c[(c.metric == "calls") & (c.kind == "total")].set_index(["n", "R"]).value
        calls = calls.astype(float).reindex(t.index)
        label = f"{key}: {float(per_call.get(key, np.nan)) * 1e6:.2f} us/call"
        if key in interp:
            label += f" (interpretation {float(interp[key]) * 1e6:.2f})"
        ax.loglog(calls, t, "o", color=OVERHEAD_COLORS.get(key), label=label, markersize=4)
    finish(ax, "primitive applications per call (count)", "time per call (s)",
           "per-call costs: chains of L primitives on 2 to 32 elements\n(chain: L + 1 "
           "2 x 2 matrices multiplied)")
    return fig


def element_figure(df: pd.DataFrame):
    """Seconds per operation per primitive, in cache (the model's) and out of cache."""
    p = df[df.function == "parameter"]
    inside = p[p.metric == "element_s"].set_index("kind").value.astype(float)
    outside = p[p.metric == "element_out_s"].set_index("kind").value.astype(float)
    names = [k for k in inside.index if k != "matmul"]
    names.sort(key=lambda k: inside[k])
    fig = figure((7.5, 0.25 * len(names) + 1.6))
    ax = fig.subplots()
    y = np.arange(len(names))
    ax.barh(y - 0.2, [inside[k] for k in names], height=0.4, color="tab:orange",
            label="in cache (element_s, the model's compute term)")
    ax.barh(y + 0.2, [outside.get(k, np.nan) for k in names], height=0.4, color="tab:cyan",
            label="out of cache (median time / ops)")
    ax.set_yticks(y, names, fontsize=7)
    ax.set_xscale("log")
    finish(ax, "time per operation (s)", "primitive (name)",
           "time per operation, in and out of cache")
    return fig


def memory_figure(df: pd.DataFrame):
    """Bandwidth of add against its working set, and matmul throughput against n."""
    fig = figure((11, 4.4))
    ax_b, ax_m = fig.subplots(1, 2)
    for metric, color, label in (
            ("bandwidth_curve", "tab:cyan", "add, fresh result"),
            ("bandwidth_reused_curve", "tab:blue", "add into a reused output (out=)")):
        curve = df[(df.function == "parameter") & (df.metric == metric)].sort_values("n")
        if len(curve):
            ax_b.loglog(curve.n.astype(float), curve.value.astype(float), "o-", color=color,
                        label=label)
    p = df[(df.function == "parameter") & (df.metric == "bandwidth_bytes_per_s")]
    if len(p):
        value = float(p.value.iloc[0])
        ax_b.axhline(value, color="black", linestyle="--", linewidth=1,
                     label=f"calibrated bandwidth {value / 1e9:.1f} GB/s (out of cache)")
    finish(ax_b, "bytes read and written per call (bytes)", "bandwidth (bytes/s)",
           "memory bandwidth against working set")
    for strategy, color in (("gemm", "tab:purple"), ("gemv", "tab:gray")):
        t = _medians(df, "matmul", strategy, "n")
        if t.empty:
            continue
        w = df[(df.function == "matmul") & (df.strategy == strategy) & (df.metric == "work")]
        ops = w.set_index("n").value.astype(float).reindex(t.index)
        ax_m.loglog(t.index.astype(float), ops / t, "o-", color=color,
                    label=f"{strategy}: n x n @ n x {'n' if strategy == 'gemm' else '1'}")
    finish(ax_m, "n (matrix size)", "counted operations per second (ops/s)",
           "matmul throughput (mul and add counted)")
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"calibrate_overhead": partial(overhead_figure, df),
            "calibrate_elements": partial(element_figure, df),
            "calibrate_memory": partial(memory_figure, df)}


def summary(df: pd.DataFrame, meta: dict | None = None) -> pd.DataFrame:
    """The calibration's parameters (what the time model reads), not its many samples:
    printed by ``costad show calibrate``."""
    params = df[df.function == "parameter"]
    return params[["metric", "kind", "n", "value", "unit"]].reset_index(drop=True)
