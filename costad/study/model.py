"""The time model in the study: a prediction for every timed row, its regime, and how well
it does.

A prediction is a pure function of the row's own counts (primitive calls, work per
primitive, bytes, and the passes of f the strategy makes) and the machine's calibration
(`costad.study.calibration`, measured apart from any study), never fitted on the study's
timings. Its core is `costad.predict_time`::

    overhead = calls x (per-call overhead of the strategy's interpretation)
    time     = overhead + max(work x seconds per operation, bytes / bandwidth)

and the study adds what the engine's model does not hold yet, each measured by the
calibration and used only when it has it (a calibration without them predicts exactly as
`costad.predict_time`):

- the per-call overhead split by primitive: each call costs its NumPy call (``call_s``:
  a ufunc about a microsecond, ``np.sum`` or ``np.max`` with an axis several) plus what
  the interpretation adds (``interp_s``: nothing for plain NumPy, a few microseconds to
  record a tape node);
- the fixed cost of one call of a strategy (``fixed_s``: flattening the inputs, opening an
  interpretation, building the pullback; tens of microseconds for reverse mode, more than
  the per-call overheads of a small function), of each further pass of f (``pass_s``:
  finite differences make n + 1, forward mode n) and of each further input array in each
  pass (``leaf_s``: an MLP's 2R + 2 weight and bias arrays), all added to the overhead
  term;
- the bandwidth of the working set (``bandwidth_curve`` and ``bandwidth_reused_curve``:
  add's bandwidth against the bytes one call moves, with a fresh result and into a reused
  output, the faster of the two): the bytes per computing call, or a reverse sweep's peak
  when larger (`working_set`), pick the point of the curve, so data that fits in a cache is
  not charged at the speed of main memory;
- the cost of fresh pages (where the fresh-result curve falls below the reused one: above
  glibc's mmap threshold every page of a fresh result is faulted in at every call), read at
  the size of one elementwise result and charged per byte those results write
  (`fresh_page_seconds`), to the strategies whose every result is a fresh array
  (`FRESH_RESULTS`: forward and reverse mode);
- the matrix product's rate against its size (``matmul_curve``: a square product's
  seconds per operation against its operations): the counted operations per matmul call
  pick the point of the curve (`matmul_rate`), so small products are not charged at the
  rate BLAS reaches only on large blocks.

Which per-call overhead applies is the study's decision (`OVERHEAD_OF`): plain evaluation
calls NumPy directly (``eval``), hand-written backprop through `costad.counted`
(``counted``: NumPy after flattening its input); finite differences call NumPy for
f and costad's primitives for the perturbation (``fd``, where the calibration has it);
forward and reverse mode pay their interpretations' overheads; matrix chains are
`costad.chain.multiply`'s (``chain``: costad's matmul outside any trace, and the ordering).
A key the calibration lacks falls back to the engine's mapping
(`costad.timemodel.STRATEGY_OVERHEADS`).

The report side (`configurations`, `accuracy`, `overhead_exit`) reads results only.
"""
from __future__ import annotations

from dataclasses import replace

import math

import numpy as np
import pandas as pd

from costad import Calibration, Cost, Prediction, predict_time
from costad.timemodel import REGIMES, STRATEGY_OVERHEADS

from .calibration import ELEMENTWISE
from .frames import is_abstract
from .measure import row

__all__ = ["OVERHEAD_OF", "MODEL_METRIC", "overhead_key", "predict", "passes", "call_overhead",
           "bandwidth_for", "working_set", "bytes_per_call", "fresh_results",
           "fresh_page_seconds", "FRESH_PER_OP",
           "FRESH_RESULTS", "matmul_rate", "model_rows",
           "configuration_keys", "configurations", "accuracy", "overhead_exit",
           "REGIME_COLORS", "human_seconds"]

# The calibrated per-call overhead each strategy pays (see the module docstring).
OVERHEAD_OF = {"eval": "eval", "hand": "counted", "fd": "fd", "fd-central": "fd",
               "forward": "forward", "reverse": "reverse", "left": "chain",
               "right": "chain", "optimal": "chain"}

# Rows holding a prediction's terms: kind overhead, compute, memory and total (unit s).
MODEL_METRIC = "model_s"

# The strategies whose every primitive result is a fresh array: costad's interpretations
# keep each result referenced (in a box, on the tape), so NumPy can never reuse a temporary
# in place. Plain NumPy code can: NumPy >= 1.13 writes `a * b - 1.0` into the temporary
# `a * b` when nothing else holds it and it is large ("temporary elision"), and how many
# results a function gets that way is not in its counts; those strategies are charged the
# data's speed alone.
FRESH_RESULTS = frozenset({"forward", "reverse"})

# The primitives that write one result element per counted operation: the calibration's
# elementwise operations (reductions and in-place accumulation aside).
FRESH_PER_OP = frozenset(name for name, (_, arity) in ELEMENTWISE.items()
                         if arity != -1 and name != "accumulate")
# Bytes per result element where not a float64's 8: comparisons write booleans.
_RESULT_ITEMSIZE = {"equal": 1, "greater": 1}

REGIME_COLORS = {"overhead": "0.75", "compute": "tab:orange", "memory": "tab:cyan"}


def overhead_key(strategy: str, calibration: Calibration) -> str:
    """The key of ``calibration.overhead_s`` whose per-call overhead ``strategy`` pays."""
    key = OVERHEAD_OF.get(strategy)
    if key in calibration.overhead_s:
        return key
    key = STRATEGY_OVERHEADS.get(strategy, strategy)
    if key in calibration.overhead_s:
        return key
    raise ValueError(f"costad: the calibration has no per-call overhead for strategy "
                     f"{strategy!r}; it has {', '.join(sorted(calibration.overhead_s))}")


def passes(strategy: str, n: int) -> int:
    """How many times ``strategy`` evaluates f for a gradient of n inputs (`value_and_grad`):
    forward differences n + 1, central 2n + 1 (n pairs and the value), forward mode n,
    anything else once."""
    if strategy == "fd":
        return n + 1
    if strategy == "fd-central":
        return 2 * n + 1
    if strategy == "forward":
        return n
    return 1


def working_set(cost: Cost) -> float:
    """The bytes the work keeps in play, as the counts tell it: the bytes one computing call
    moves on average, or the reverse sweep's peak (tape and adjoints) when larger."""
    return float(max(bytes_per_call(cost), cost.peak_bytes))


def bytes_per_call(cost: Cost) -> float:
    """The bytes one computing call (a primitive with counted work) moves on average."""
    computing = sum(cost.calls.get(name, 0) for name in cost.work)
    return cost.bytes / computing if computing else 0.0


def fresh_results(cost: Cost) -> tuple[float, float]:
    """The bytes the elementwise calls of ``cost`` write to their results, and the bytes of
    one result on average: each of their operations writes one element (`FRESH_PER_OP`),
    8 bytes (the study computes in float64), 1 for a comparison (a boolean). (0, 0) without
    elementwise work."""
    written = sum(cost.work.get(name, 0) * _RESULT_ITEMSIZE.get(name, 8)
                  for name in FRESH_PER_OP)
    calls = sum(cost.calls.get(name, 0) for name in FRESH_PER_OP if cost.work.get(name))
    if not written or not calls:
        return 0.0, 0.0
    return float(written), written / calls


def fresh_page_seconds(cost: Cost, calibration: Calibration) -> float:
    """Seconds the fresh results of ``cost`` (`fresh_results`) cost beyond their bytes: what
    the calibration's add pays with a fresh result over the same add into a reused output,
    at results of the same size (``1 / fresh - 1 / reused`` per byte add moves, three per
    byte it writes, never below 0); 0 without both curves.

    Above glibc's mmap threshold (32 MiB) every fresh array is a new mapping whose pages are
    faulted in when first written: time that moves no counted byte. The size of one result,
    not the working set, decides it."""
    source = calibration.source or {}
    fresh, reused = source.get("bandwidth_curve"), source.get("bandwidth_reused_curve")
    written, size = fresh_results(cost)
    if not fresh or not reused or not written:
        return 0.0
    moved = 3.0 * size            # add reads two operands of its result's size, writes one
    per_byte = 1.0 / _on_curve(fresh, moved) - 1.0 / _on_curve(reused, moved)
    return 3.0 * written * max(per_byte, 0.0)


def bandwidth_for(cost: Cost, calibration: Calibration) -> float:
    """The bandwidth (B/s) of the data's traffic: the calibration's bandwidth curves at the
    `working_set` (log-log interpolation, held constant beyond its ends), the faster of add
    with a fresh result and add into a reused output (whatever the slower one pays is not
    its bytes; `fresh_page_seconds` is), or the one curve the calibration has, or its one
    out-of-cache bandwidth without a curve."""
    source = calibration.source or {}
    curves = [c for c in (source.get("bandwidth_curve"), source.get("bandwidth_reused_curve"))
              if c]
    size = working_set(cost)
    if not curves or not size:
        return calibration.bandwidth_bytes_per_s
    return max(_on_curve(curve, size) for curve in curves)


def _on_curve(curve, size: float) -> float:
    """A calibrated curve's value at ``size``: log-log interpolation, held constant beyond
    its ends."""
    sizes, values = zip(*sorted((float(b), float(v)) for b, v in curve))
    return float(np.exp(np.interp(np.log(size), np.log(sizes), np.log(values))))


def matmul_rate(cost: Cost, calibration: Calibration) -> float | None:
    """Seconds per operation of the matrix products in ``cost``: the calibration's
    ``matmul_curve`` at the operations of an average product (work / calls of ``matmul``);
    None when the calibration has no curve or the cost no product."""
    curve = calibration.source.get("matmul_curve") if calibration.source else None
    calls, work = cost.calls.get("matmul", 0), cost.work.get("matmul", 0)
    if not curve or not calls or not work:
        return None
    return _on_curve(curve, work / calls)


def call_overhead(cost: Cost, calibration: Calibration, key: str) -> float:
    """Seconds the primitive applications of ``cost`` spend outside their arithmetic under
    the interpretation ``key``: each call's NumPy cost (``call_s`` of its primitive) plus
    what the interpretation adds per call (``interp_s``), when the calibration has them;
    else the engine's ``calls x overhead_s[key]``."""
    source = calibration.source or {}
    call_s, interp = source.get("call_s"), source.get("interp_s", {})
    if not call_s or key not in interp:
        return cost.total_calls * calibration.overhead_s[key]
    default = source.get("default_call_s") or float(np.median(list(call_s.values())))
    numpy = sum(n * call_s.get(name, default) for name, n in cost.calls.items())
    # A fitted per-call cost below zero is timing noise: an interpretation adds no less than 0.
    return numpy + cost.total_calls * max(interp[key], 0.0)


def _memory_bandwidth(cost: Cost, calibration: Calibration, strategy: str) -> float:
    """The bandwidth the memory term divides ``cost.bytes`` by: the data's (`bandwidth_for`),
    lowered by the fresh pages' time (`fresh_page_seconds`) for a strategy whose every
    result is a fresh array (`FRESH_RESULTS`)."""
    bandwidth = bandwidth_for(cost, calibration)
    extra = fresh_page_seconds(cost, calibration) if strategy in FRESH_RESULTS else 0.0
    if not extra or not cost.bytes:
        return bandwidth
    return cost.bytes / (cost.bytes / bandwidth + extra)


def predict(cost: Cost, calibration: Calibration, strategy: str,
            n_passes: int = 1, sweeps: int = 1, leaves: int = 1) -> Prediction:
    """The predicted time of the counted work ``cost`` done by ``strategy`` in ``n_passes``
    passes of f (`passes`) on an input of ``leaves`` arrays (each further one costs
    ``leaf_s`` per pass) and, for reverse mode, ``sweeps`` backward sweeps of one recording
    (a Jacobian's m rows; each further one costs the calibrated fixed cost of a sweep,
    ``fixed_s["reverse_sweep"]``): a pure function of the counts and the calibration (see
    the module docstring)."""
    key = overhead_key(strategy, calibration)
    # predict_time applies overhead_s["eval"] to the "eval" strategy: hand it the one chosen.
    rate = matmul_rate(cost, calibration)
    element_s = calibration.element_s if rate is None else {**calibration.element_s,
                                                            "matmul": rate}
    chosen = replace(calibration, overhead_s={"eval": calibration.overhead_s[key]},
                     element_s=element_s,
                     bandwidth_bytes_per_s=_memory_bandwidth(cost, calibration, strategy))
    core = predict_time(cost, chosen, "eval")
    source = calibration.source or {}
    fixed = (source.get("fixed_s", {}).get(key, 0.0)
             + source.get("pass_s", {}).get(key, 0.0) * max(n_passes - 1, 0)
             + source.get("fixed_s", {}).get("reverse_sweep", 0.0) * max(sweeps - 1, 0)
             + source.get("leaf_s", {}).get(key, 0.0) * max(leaves - 1, 0) * n_passes)
    # A fitted intercept can come out slightly negative (timing noise): no negative time.
    overhead = call_overhead(cost, calibration, key) + max(fixed, 0.0)
    return Prediction(overhead + max(core.compute, core.memory), overhead, core.compute,
                      core.memory)


def model_rows(base: dict, prediction: Prediction | None) -> list[dict]:
    """The prediction's terms as rows (metric ``model_s``; kinds overhead, compute, memory
    and total; the total's note names the dominant regime). None: no rows."""
    if prediction is None:
        return []
    rows = [row(base, MODEL_METRIC, getattr(prediction, term), "s", kind=term)
            for term in REGIMES]
    rows.append(row(base, MODEL_METRIC, prediction.seconds, "s", kind="total",
                    note=f"regime={prediction.dominant}"))
    return rows


# ----------------------------------------------------------------------------- report side

_KEYS = ["experiment", "function", "strategy", "n", "R", "T", "m", "param", "iteration"]


def configuration_keys(df: pd.DataFrame) -> list[str]:
    """The columns that tell one measured configuration from another in ``df``."""
    return [k for k in _KEYS if k in df.columns and df[k].notna().any()]


def configurations(df: pd.DataFrame) -> pd.DataFrame:
    """One line per timed configuration that has a prediction: the keys, ``measured`` (the
    fastest of its timing samples, s), ``median`` (of the samples, s), ``predicted`` (s),
    the terms ``overhead``, ``compute``, ``memory`` (s), ``regime`` (the largest term) and
    ``ratio`` (predicted / measured). Empty when nothing was predicted.

    The prediction is compared with the fastest sample, as the calibration's fits are: on a
    machine that runs other work too, that work only ever slows a sample down, so the
    fastest is the best estimate of the time of the counted work itself (`timeit`'s rule).
    """
    keys = configuration_keys(df)
    columns = keys + ["measured", "median", "samples", "predicted", "overhead", "compute",
                      "memory", "regime", "ratio"]
    times = df[(df.metric == "time") & df.predicted.notna()]
    if times.empty:
        return pd.DataFrame(columns=columns)
    times = times.assign(value=times.value.astype(float),
                         predicted=times.predicted.astype(float))
    measured = times.groupby(keys, dropna=False, sort=False).agg(
        measured=("value", "min"), median=("value", "median"), samples=("value", "size"),
        predicted=("predicted", "first"))
    terms = df[(df.metric == MODEL_METRIC) & df.kind.isin(REGIMES) & ~is_abstract(df)]
    terms = terms.assign(value=terms.value.astype(float)).pivot_table(
        index=keys, columns="kind", values="value", aggfunc="first", dropna=False)
    out = measured.join(terms.reindex(columns=list(REGIMES)), how="left").reset_index()
    out["regime"] = [max(REGIMES, key=lambda r: row_[r]) if row_[list(REGIMES)].notna().all()
                     else "" for _, row_ in out.iterrows()]
    out["ratio"] = out.predicted / out.measured
    return out[columns]


def accuracy(configs: pd.DataFrame) -> dict:
    """Median and 90th percentile of |predicted / measured - 1| over ``configs`` (from
    `configurations`), with the number of configurations; NaN when there are none."""
    miss = (configs.ratio.astype(float) - 1).abs().dropna()
    if miss.empty:
        return {"median": float("nan"), "p90": float("nan"), "count": 0}
    return {"median": float(np.median(miss)), "p90": float(np.quantile(miss, 0.9)),
            "count": int(len(miss))}


def overhead_exit(configs: pd.DataFrame, x: str) -> pd.Series:
    """Per (function, strategy): the smallest ``x`` from which every larger point of the
    sweep is predicted outside the overhead regime (compute- or memory-bound); NaN where
    the sweep never leaves it."""
    out = {}
    for (function, strategy), c in configs.groupby(["function", "strategy"], sort=False):
        c = c.dropna(subset=[x]).sort_values(x)
        exit_x = float("nan")
        for value, regime in zip(reversed(c[x].tolist()), reversed(c.regime.tolist())):
            if regime in ("compute", "memory"):
                exit_x = float(value)
            else:
                break
        out[(function, strategy)] = exit_x
    return pd.Series(out, dtype=float)


def human_seconds(s: float) -> str:
    """A duration for a reader: from nanoseconds to years."""
    if not math.isfinite(s):
        return str(s)
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600),
                       ("min", 60), ("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"
