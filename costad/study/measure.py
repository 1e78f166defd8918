"""The measurement harness: exact counts, wall times and memory of one strategy on one input.

Measuring returns data (rows of the tidy schema of `costad.study.results`); nothing here plots or
writes files. Counting and timing are separate runs, so timings carry no counting overhead:
counts come from one run inside `counting()`, times from plain runs outside it.
"""
from __future__ import annotations

import gc
import math
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from costad import Cost, counting, tree_leaves

__all__ = ["Timing", "time_call", "time_calls", "autorange", "sample", "count_call", "peak_bytes",
           "count_rows", "resource_rows", "time_rows", "row", "relative_error",
           "MIN_SAMPLE_SECONDS"]

# A timing sample lasts at least this long, so that the timer's resolution (well under a
# microsecond for perf_counter) is negligible against it.
MIN_SAMPLE_SECONDS = 0.005


@dataclass
class Timing:
    """Seconds per call for each sample (every sample kept), and the calls per sample."""

    samples: list[float] = field(default_factory=list)
    loops: int = 1

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return float(np.median(self.samples))


def time_call(fn: Callable[[], object], repeats: int = 5, warmup: int = 1,
              min_seconds: float = MIN_SAMPLE_SECONDS) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` samples of ``loops`` calls.

    ``loops`` is the smallest of 1, 2, 5, 10, 20, 50, ... for which one sample lasts at
    least ``min_seconds`` (the rule of ``timeit.Timer.autorange``).
    """
    if repeats < 1:
        raise ValueError("costad: repeats must be at least 1")
    for _ in range(warmup):
        fn()
    loops, first = autorange(fn, min_seconds)
    samples = [first]                           # the calibrating run is the first sample
    for _ in range(repeats - 1):
        samples.append(sample(fn, loops))
    return Timing(samples, loops)


def autorange(fn: Callable[[], object], min_seconds: float = MIN_SAMPLE_SECONDS
              ) -> tuple[int, float]:
    """The smallest ``loops`` of 1, 2, 5, 10, 20, 50, ... for which ``loops`` calls of
    ``fn()`` last at least ``min_seconds``, and the seconds per call of that run."""
    for loops in _loop_counts():
        per_call = sample(fn, loops)
        if per_call * loops >= min_seconds:
            return loops, per_call


def sample(fn: Callable[[], object], loops: int) -> float:
    """One timing sample: seconds per call over ``loops`` consecutive calls of ``fn()``,
    with Python's cyclic garbage collector paused (as `timeit` does), and left as it was
    found afterwards.

    Why paused: a collection triggered during the timed calls traverses every object of the
    process, and a study's process holds many (its results rows, pandas, matplotlib). With
    the collector running, reverse mode of the mlp family at n = 3001 measured 1.0 ms in a
    process holding 10^6 small objects against 0.56 ms without them; paused, 0.56 ms in
    both. The time measured is then the function's, not the harness's.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        return (time.perf_counter() - start) / loops
    finally:
        if was_enabled:
            gc.enable()


def time_calls(fns, repeats: int = 5, warmup: int = 1,
               min_seconds: float = MIN_SAMPLE_SECONDS) -> list[Timing]:
    """Time several calls in rounds: each call's loops are found as in `time_call`, then
    every round takes one sample of each call in turn, ``repeats`` samples in all.

    Interleaving spreads each call's samples over the whole measurement, so that a burst of
    other work on the machine slows one sample of each call rather than every sample of
    one: the fastest of a call's samples (`Timing.best`) is then a fair estimate for all.
    """
    if repeats < 1:
        raise ValueError("costad: repeats must be at least 1")
    fns = list(fns)
    timings = []
    for fn in fns:
        one = time_call(fn, 1, warmup, min_seconds)
        timings.append(Timing(list(one.samples), one.loops))
    for _ in range(repeats - 1):
        for fn, timing in zip(fns, timings):
            timing.samples.append(sample(fn, timing.loops))
    return timings


def _loop_counts():
    scale = 1
    while True:
        for multiple in (1, 2, 5):
            yield scale * multiple
        scale *= 10


def count_call(fn: Callable[[], object]) -> tuple[Cost, object]:
    """The exact `Cost` of one call of ``fn()``, and its result."""
    with counting() as c:
        result = fn()
    return c, result


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes allocated by Python and NumPy during one call (tracemalloc), above what
    was allocated before it: the measured counterpart of the counted ``sweep_peak_bytes``
    (it includes Python's objects, and garbage not yet collected)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    if not was_tracing:
        tracemalloc.stop()
    return max(0, peak - base)


def row(base: dict, metric: str, value, unit: str, kind: str = "", replicate: int = 0,
        predicted=None, note: str = "") -> dict:
    """One tidy observation: ``base`` holds experiment, function, strategy and the grid keys."""
    r = dict(base)
    r.update(metric=metric, kind=kind, replicate=replicate, value=value, unit=unit,
             predicted=predicted, note=note)
    return r


def count_rows(base: dict, cost: Cost, predicted_total: int | None = None,
               note: str = "") -> list[dict]:
    """Rows for a counted cost: the total (with its prediction) and each kind; storage; and
    what the time model reads (`resource_rows`).

    Storage rows, counted (reverse mode only): ``tape_nodes`` and ``tape_bytes`` (what the
    tape keeps, `Cost.stored_bytes`) and ``sweep_peak_bytes`` (`Cost.peak_bytes`: the most
    bytes alive during the reverse sweep, tape plus adjoints, or a checkpointed loop's
    working set). Measured memory is the separate metric ``peak_bytes`` (tracemalloc).
    """
    rows = [row(base, "ops", cost.total, "ops", kind="total", predicted=predicted_total,
                note=note)]
    rows += [row(base, "ops", n, "ops", kind=kind, note=note)
             for kind, n in sorted(cost.by_op.items())]
    if cost.stored_nodes:
        rows.append(row(base, "tape_nodes", cost.stored_nodes, "nodes", note=note))
        rows.append(row(base, "tape_bytes", cost.stored_bytes, "bytes", note=note))
    if cost.peak_bytes:
        rows.append(row(base, "sweep_peak_bytes", cost.peak_bytes, "bytes", note=note))
    return rows + resource_rows(base, cost, note)


def resource_rows(base: dict, cost: Cost, note: str = "") -> list[dict]:
    """The counts a time prediction is computed from, each its own metric: ``calls``
    (primitive applications, total and per primitive; unit count), ``work`` (operations per
    primitive; unit ops) and ``bytes`` (read and written by primitives)."""
    rows = [row(base, "calls", cost.total_calls, "count", kind="total", note=note)]
    rows += [row(base, "calls", n, "count", kind=name, note=note)
             for name, n in sorted(cost.calls.items())]
    rows += [row(base, "work", n, "ops", kind=name, note=note)
             for name, n in sorted(cost.work.items())]
    rows.append(row(base, "bytes", cost.bytes, "bytes", kind="total", note=note))
    return rows


def time_rows(base: dict, timing: Timing, predicted: float | None = None) -> list[dict]:
    """One row per timing sample (seconds per call), each with the predicted time (s) when
    there is one (`costad.study.model`)."""
    return [row(base, "time", t, "s", replicate=i, predicted=predicted,
                note=f"loops={timing.loops}") for i, t in enumerate(timing.samples)]


def relative_error(value, reference) -> float:
    """max |value - reference| / max(1, max |reference|), over every leaf."""
    a, b = tree_leaves(value), tree_leaves(reference)
    num = max((float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b)),
              default=0.0)
    den = max([1.0] + [float(np.max(np.abs(np.asarray(y)))) for y in b if np.size(y)])
    return num / den if math.isfinite(num) else math.inf
