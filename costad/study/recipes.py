"""Measurement recipes shared by the experiments (gradient strategies, budgets)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from costad import count, tree_leaves, value_and_grad

from .measure import (Timing, count_call, count_rows, peak_bytes, relative_error, row,
                      time_call, time_calls, time_rows)
from .model import model_rows, passes, predict

__all__ = ["TOLERANCE", "Point", "measure_strategies", "measure_points", "measure_sweep",
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


@dataclass
class Point:
    """One input of a sweep and what to measure on it: f's evaluation and the gradient
    ``strategies`` (each `value_and_grad` by that mode, or the call given in ``calls``,
    returning ``(value, gradient)`` too), checked against ``reference``.
    ``predicted(strategy)``: the closed form of its total count, or None."""

    base: dict
    f: Callable
    x: object
    strategies: tuple = ()
    reference: object = None
    predicted: Callable[[str], int | None] = lambda s: None
    calls: Mapping[str, Callable[[], tuple]] = field(default_factory=dict)


def measure_points(points: list[Point], repeats: int, calibration=None) -> list[dict]:
    """Count every point's evaluation and strategies, then time all of them in one set of
    interleaved rounds (`costad.study.measure.time_calls`), and return their rows.

    Interleaving every point of a sweep, not only the strategies of one point, makes the
    sweep's time slope robust to a machine whose speed drifts over minutes (a shared VM):
    the drift then slows every point of a round alike instead of the points timed during
    it."""
    runs = []
    for point in points:
        runs.append((point, "eval", lambda f=point.f, x=point.x: f(x), count(point.f, point.x)))
        for strategy in point.strategies:
            fn = point.calls.get(strategy) or gradient_call(point.f, point.x, strategy)
            runs.append((point, strategy, fn, count_call(fn)))
    timings = time_calls([fn for _, _, fn, _ in runs], repeats)
    rows = []
    for (point, strategy, fn, counted), timing in zip(runs, timings):
        b = dict(point.base, strategy=strategy)
        cost = counted if strategy == "eval" else counted[0]
        rows += count_rows(b, cost, point.predicted(strategy))
        if strategy != "eval":
            error = relative_error(counted[1][1], point.reference)
            rows.append(row(b, "rel_error", error, "1"))
            rows.append(row(b, "agrees", int(error <= TOLERANCE[strategy]), "bool",
                            note=f"tolerance {TOLERANCE[strategy]:g}"))
        rows += timed(b, cost, fn, repeats, calibration, timing=timing,
                      leaves=len(tree_leaves(point.x)))
        if strategy != "eval":
            rows.append(row(b, "peak_bytes", peak_bytes(fn), "bytes", note="tracemalloc"))
    return rows


def measure_sweep(point_at: Callable[[object], tuple[Point, list[dict]]], values,
                  settings) -> list[dict]:
    """`measure_points` over ``point_at(v)`` for every v of ``values`` (each returns its
    `Point` and the rows of the strategies a budget left out), all timed in the same
    interleaved rounds, with those rows after."""
    points, rows = [], []
    for value in values:
        point, left_out = point_at(value)
        points.append(point)
        rows += left_out
    return measure_points(points, settings.repeats, settings.calibration) + rows


def measure_strategies(base: dict, f: Callable, x, strategies, reference, repeats: int,
                       predicted: Callable[[str], int | None] = lambda s: None,
                       calibration=None) -> list[dict]:
    """Count and time f and every strategy of ``strategies`` at one input, their timings
    taken in interleaved rounds (`measure_points` of one point): a
    burst of other work on the machine then slows one sample of each strategy, not every
    sample of one. ``predicted(strategy)``: the closed form of its total count, or None."""
    return measure_points([Point(base, f, x, tuple(strategies), reference, predicted)],
                          repeats, calibration)


def gradient_call(f: Callable, x, mode: str) -> Callable[[], tuple]:
    """A call of no arguments computing ``(f(x), grad f(x))`` by ``mode``."""
    vg = value_and_grad(f, mode=mode)
    return lambda: vg(x)


def skipped(base: dict, strategy: str, reason: str) -> list[dict]:
    """A strategy left out by the budget: recorded, never silently dropped."""
    return [row(dict(base, strategy=strategy), "skipped", 1, "bool", note=reason)]
