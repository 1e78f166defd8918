"""Fitted exponents: log-log slopes over the upper half of a sweep.

Counts are exact, so their slope is exact (a least-squares fit of log count against log n on
the upper half of the grid). Times are noisy: their slope comes with a bootstrap confidence
interval over the replicates (samples resampled with replacement at every grid point, the
median taken, the slope refitted), with a fixed seed so the report is reproducible.

`fits_table` gathers the slopes of every experiment that declares a `Sweep` (``FITS``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from .frames import counts_frame

__all__ = ["Slope", "Sweep", "loglog_slope", "upper_half", "count_slope", "time_slope",
           "fits_table", "FITS_COLUMNS"]

FITS_COLUMNS = ["experiment", "function", "strategy", "x", "count_slope", "time_slope",
                "time_slope_low", "time_slope_high", "compute_from", "compute_count_slope",
                "compute_time_slope", "compute_time_low", "compute_time_high"]


@dataclass(frozen=True)
class Slope:
    """A fitted exponent with its confidence interval (equal to it for exact counts)."""

    value: float
    low: float
    high: float
    points: int

    def label(self) -> str:
        def fmt(v):            # round first, so that -0.004 prints as 0.00, not -0.00
            return f"{round(v, 2) + 0.0:.2f}"
        if self.low == self.high:
            return f"slope {fmt(self.value)}"
        return f"slope {fmt(self.value)} [{fmt(self.low)}, {fmt(self.high)}]"


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    return float(np.polyfit(lx, ly, 1)[0])


def upper_half(xs) -> np.ndarray:
    """The grid points in the upper half of the sweep (at least two)."""
    xs = np.unique(np.asarray(xs, dtype=float))
    if len(xs) < 2:
        return xs
    keep = xs[xs >= np.median(xs)]
    return keep if len(keep) >= 2 else xs[-2:]


def count_slope(x, y) -> Slope:
    """Exact slope of counts over the upper half of x."""
    frame = pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float)})
    frame = frame[frame.x.isin(upper_half(frame.x)) & (frame.y > 0)]
    if len(frame) < 2:
        return Slope(float("nan"), float("nan"), float("nan"), len(frame))
    s = loglog_slope(frame.x, frame.y)
    return Slope(s, s, s, len(frame))


def time_slope(x, samples, boots: int = 400, seed: int = 0, level: float = 0.95,
               whole: bool = False) -> Slope:
    """Slope of median time over the upper half of x (``whole``: over every x given), with a
    bootstrap interval.

    ``x`` and ``samples`` are parallel: one entry per timing sample (replicate).
    """
    frame = pd.DataFrame({"x": np.asarray(x, float), "t": np.asarray(samples, float)})
    xs = np.unique(frame.x) if whole else upper_half(frame.x)
    groups = [frame.t[frame.x == v].to_numpy() for v in xs]
    if len(groups) < 2 or any(len(g) == 0 for g in groups):
        return Slope(float("nan"), float("nan"), float("nan"), len(groups))
    point = loglog_slope(xs, [np.median(g) for g in groups])
    # Vectorized bootstrap: a (boots, points) matrix of resampled medians, one fit per row.
    rng = np.random.default_rng(seed)
    medians = np.column_stack([np.median(g[rng.integers(0, len(g), (boots, len(g)))], axis=1)
                               for g in groups])
    lx = np.log(xs) - np.log(xs).mean()
    ly = np.log(medians)
    slopes = (ly - ly.mean(axis=1, keepdims=True)) @ lx / (lx @ lx)
    alpha = (1 - level) / 2
    return Slope(point, float(np.quantile(slopes, alpha)), float(np.quantile(slopes, 1 - alpha)),
                 len(groups))


@dataclass(frozen=True)
class Sweep:
    """The curves an experiment contributes to the fits table.

    ``kind``: the count kind fitted ("total", or "mul" for matrix chains). ``axis``: the grid
    column swept, either one name for every function or a mapping function -> column; a
    function missing from the mapping is not fitted (for example a random chain, no sweep).
    """

    kind: str = "total"
    axis: str | Mapping[str, str] = "n"

    def axis_of(self, function: str) -> str | None:
        if isinstance(self.axis, str):
            return self.axis
        return self.axis.get(function)


def compute_regime_slopes(c: pd.DataFrame, t: pd.DataFrame, axis: str,
                          start: float) -> tuple[Slope, Slope] | None:
    """Count and time slopes over the points of a sweep from ``start`` on (where the time
    model predicts compute- or memory-bound work), over the same points; None when fewer
    than two timed points lie there."""
    if not np.isfinite(start):
        return None
    t = t[t[axis].astype(float) >= start]
    xs = np.unique(t[axis].astype(float))
    if len(xs) < 2:
        return None
    c = c[c[axis].astype(float).isin(xs) & (c.value > 0)]
    counted = loglog_slope(c[axis], c.value) if c[axis].nunique() >= 2 else float("nan")
    return (Slope(counted, counted, counted, len(c)),
            time_slope(t[axis], t.value.astype(float), whole=True))


def fits_table(experiments, data: dict) -> pd.DataFrame:
    """One row per curve: the exact slope of counts and the slope of times with its interval
    over the upper half of the sweep; and, where the results carry predictions, both slopes
    over the part of the sweep predicted outside the overhead regime (``compute_from`` on).

    ``experiments``: the registered experiments (in order); ``data``: name -> (df, meta) of
    those whose results loaded.
    """
    from .model import configurations, overhead_exit
    rows = []
    for experiment in experiments:
        sweep = experiment.fits
        if sweep is None or experiment.name not in data:
            continue
        df = data[experiment.name][0]
        counts, times = counts_frame(df, sweep.kind), df[df.metric == "time"]
        configs = configurations(df)
        for (function, strategy), c in counts.groupby(["function", "strategy"], sort=False):
            axis = sweep.axis_of(function)
            if axis is None:
                continue
            t = times[(times.function == function) & (times.strategy == strategy)]
            cs = count_slope(c[axis], c.value)
            ts = time_slope(t[axis], t.value.astype(float)) if len(t) else None
            mine = configs[(configs.function == function) & (configs.strategy == strategy)]
            start = (overhead_exit(mine, axis).get((function, strategy), np.nan)
                     if len(mine) else np.nan)
            regime = compute_regime_slopes(c, t, axis, start) if len(t) else None
            rows.append({"experiment": experiment.name, "function": function,
                         "strategy": strategy, "x": axis, "count_slope": round(cs.value, 4),
                         "time_slope": None if ts is None else round(ts.value, 3),
                         "time_slope_low": None if ts is None else round(ts.low, 3),
                         "time_slope_high": None if ts is None else round(ts.high, 3),
                         "compute_from": None if regime is None else start,
                         "compute_count_slope": None if regime is None
                         else round(regime[0].value, 4),
                         "compute_time_slope": None if regime is None
                         else round(regime[1].value, 3),
                         "compute_time_low": None if regime is None else round(regime[1].low, 3),
                         "compute_time_high": None if regime is None
                         else round(regime[1].high, 3)})
    return pd.DataFrame(rows, columns=FITS_COLUMNS)
