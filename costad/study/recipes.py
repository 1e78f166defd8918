"""Measurement recipes shared by the experiments (gradient strategies, budgets)."""
from __future__ import annotations

from typing import Callable

from costad import count, tree_leaves, value_and_grad

from .measure import (Timing, count_call, count_rows, peak_bytes, relative_error, row,
                      time_call, time_calls, time_rows)
from .model import model_rows, passes, predict

__all__ = ["TOLERANCE", "measure_eval", "measure_gradient", "measure_strategies",
           "gradient_call", "skipped", "timed"]

# Agreement with the reference (reverse-mode) gradient, relative to max(1, |reference|).
TOLERANCE = {"reverse": 1e-10, "forward": 1e-10, "hand": 1e-10, "fd": 1e-4,
             "fd-central": 1e-7}


def timed(base: dict, cost, fn: Callable[[], object], repeats: int,
          calibration=None, n_passes: int | None = None, sweeps: int = 1,
          timing: Timing | None = None, leaves: int = 1) -> list[dict]:
    """Timing rows of ``fn()`` (strategy ``base["strategy"]``), whose counted cost is
    ``cost`` in ``n_passes`` passes of f (default: `costad.study.model.passes` of the
    strategy at ``base["n"]`` inputs; ``sweeps``: reverse mode's backward sweeps), recorded
    as the metric ``passes``, on an input of ``leaves`` arrays (the metric ``leaves``);
    with a calibration, each timing row carries the predicted time and the prediction's
    terms are rows of their own (`costad.study.model`).
    ``timing``: samples already taken (`measure_strategies`), else ``fn`` is timed here."""
    strategy = base["strategy"]
    if n_passes is None:
        n_passes = passes(strategy, int(base.get("n") or 1))
    prediction = None if calibration is None else predict(cost, calibration, strategy,
                                                          n_passes, sweeps, leaves)
    rows = [row(base, "passes", n_passes, "count"), row(base, "leaves", leaves, "count")]
    rows += model_rows(base, prediction)
    rows += time_rows(base, time_call(fn, repeats) if timing is None else timing,
                      None if prediction is None else prediction.seconds)
    return rows


def measure_strategies(base: dict, f: Callable, x, strategies, reference, repeats: int,
                       predicted: Callable[[str], int | None] = lambda s: None,
                       calibration=None) -> list[dict]:
    """`measure_eval` and `measure_gradient` of every strategy of ``strategies`` at one
    input, their timings taken in interleaved rounds (`costad.study.measure.time_calls`):
    a burst of other work on the machine then slows one sample of each strategy, not every
    sample of one. ``predicted(strategy)``: the closed form of its total count, or None."""
    runs = [("eval", lambda: f(x), count(f, x))]
    for strategy in strategies:
        fn = gradient_call(f, x, strategy)
        runs.append((strategy, fn, count_call(fn)))
    timings = time_calls([fn for _, fn, _ in runs], repeats)
    rows = []
    for (strategy, fn, counted), timing in zip(runs, timings):
        b = dict(base, strategy=strategy)
        cost = counted if strategy == "eval" else counted[0]
        rows += count_rows(b, cost, predicted(strategy))
        if strategy != "eval":
            error = relative_error(counted[1][1], reference)
            rows.append(row(b, "rel_error", error, "1"))
            rows.append(row(b, "agrees", int(error <= TOLERANCE[strategy]), "bool",
                            note=f"tolerance {TOLERANCE[strategy]:g}"))
        rows += timed(b, cost, fn, repeats, calibration, timing=timing,
                      leaves=len(tree_leaves(x)))
        if strategy != "eval":
            rows.append(row(b, "peak_bytes", peak_bytes(fn), "bytes"))
    return rows


def measure_eval(base: dict, f: Callable, x, repeats: int, predicted_K: int | None,
                 calibration=None) -> list[dict]:
    """Count and time one plain evaluation of f: K and its time."""
    base = dict(base, strategy="eval")
    cost = count(f, x)
    return count_rows(base, cost, predicted_K) + timed(base, cost, lambda: f(x), repeats,
                                                       calibration, leaves=len(tree_leaves(x)))


def measure_gradient(base: dict, strategy: str, fn: Callable[[], tuple], reference,
                     repeats: int, predicted_total: int | None = None,
                     calibration=None) -> list[dict]:
    """Counts, agreement with the reference gradient, times and peak memory of ``fn()``,
    which returns ``(value, gradient)``."""
    base = dict(base, strategy=strategy)
    cost, (_, gradient) = count_call(fn)
    rows = count_rows(base, cost, predicted_total)
    error = relative_error(gradient, reference)
    rows.append(row(base, "rel_error", error, "1"))
    rows.append(row(base, "agrees", int(error <= TOLERANCE[strategy]), "bool",
                    note=f"tolerance {TOLERANCE[strategy]:g}"))
    # The reference gradient has the input's structure: its leaves are the input's arrays.
    rows += timed(base, cost, fn, repeats, calibration, leaves=len(tree_leaves(reference)))
    rows.append(row(base, "peak_bytes", peak_bytes(fn), "bytes", note="tracemalloc"))
    return rows


def gradient_call(f: Callable, x, mode: str) -> Callable[[], tuple]:
    """A call of no arguments computing ``(f(x), grad f(x))`` by ``mode``."""
    vg = value_and_grad(f, mode=mode)
    return lambda: vg(x)


def skipped(base: dict, strategy: str, reason: str) -> list[dict]:
    """A strategy left out by the budget: recorded, never silently dropped."""
    return [row(dict(base, strategy=strategy), "skipped", 1, "bool", note=reason)]
