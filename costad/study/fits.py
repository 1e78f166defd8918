"""Fitted exponents: log-log slopes over the upper half of a sweep.

Counts are exact, so their slope is exact (a least-squares fit of log count against log n on
the upper half of the grid). Times are noisy: their slope comes with a bootstrap confidence
interval over the replicates (samples resampled with replacement at every grid point, the
median taken, the slope refitted), with a fixed seed so the report is reproducible.

Where the results carry predicted times (`costad.study.model`), two further pairs of slopes
are fitted over parts of the sweep the model names: ``compute_*`` from where every point is
predicted compute- or memory-bound (`costad.study.model.overhead_exit`), and ``steady_*``
from where the model predicts time proportional to the counts (`steady_start`): the
overhead a small share and the calibrated rate constant, so that a cache boundary or a
small matrix's slower BLAS rate does not fall inside. The lecture's "each operation costs
O(1)" says time grows like the counts there, and claim T4 checks it.

`fits_table` gathers the slopes of every experiment that declares a `Sweep` (``FITS``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from .frames import counts_frame

__all__ = ["Slope", "Sweep", "loglog_slope", "upper_half", "count_slope", "time_slope",
           "steady_start", "fits_table", "FITS_COLUMNS", "STEADY_OVERHEAD_SHARE",
           "STEADY_SLOPE_TOLERANCE"]

FITS_COLUMNS = ["experiment", "function", "strategy", "x", "count_slope", "time_slope",
                "time_slope_low", "time_slope_high", "compute_from", "compute_count_slope",
                "compute_time_slope", "compute_time_low", "compute_time_high",
                "steady_from", "steady_count_slope", "steady_predicted_slope",
                "steady_time_slope", "steady_time_low", "steady_time_high"]

# Where the model predicts time proportional to the counts (`steady_start`): its predicted
# slope within this much of the count slope (a rate changing by 15% over a decade moves it
# by 0.06), and its overhead term at most this share of the time or growing like the counts.
STEADY_OVERHEAD_SHARE = 0.10
STEADY_SLOPE_TOLERANCE = 0.05


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
        if np.isfinite(self.value) and np.isnan(self.low) and np.isnan(self.high):
            return f"slope {fmt(self.value)} (no interval: one sample per point)"
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
               whole: bool = False, fastest: bool = False) -> Slope:
    """Slope of median time over the upper half of x (``whole``: over every x given), with a
    bootstrap interval; ``fastest``: of the fastest sample's time instead of the median's.

    ``x`` and ``samples`` are parallel: one entry per timing sample (replicate).
    """
    statistic = np.min if fastest else np.median
    frame = pd.DataFrame({"x": np.asarray(x, float), "t": np.asarray(samples, float)})
    xs = np.unique(frame.x) if whole else upper_half(frame.x)
    groups = [frame.t[frame.x == v].to_numpy() for v in xs]
    if len(groups) < 2 or any(len(g) == 0 for g in groups):
        return Slope(float("nan"), float("nan"), float("nan"), len(groups))
    point = loglog_slope(xs, [statistic(g) for g in groups])
    if any(len(g) < 2 for g in groups):
        # One sample at a point (`--repeats 1`): every resample is the sample itself, and
        # the bootstrap would give an interval of zero width, which reads as an exact
        # slope. There is no interval to give.
        return Slope(point, float("nan"), float("nan"), len(groups))
    # Vectorized bootstrap: a (boots, points) matrix of the statistic of resamples, one fit
    # per row.
    rng = np.random.default_rng(seed)
    resampled = np.column_stack([statistic(g[rng.integers(0, len(g), (boots, len(g)))],
                                           axis=1) for g in groups])
    lx = np.log(xs) - np.log(xs).mean()
    ly = np.log(resampled)
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
                          start: float, fastest: bool = False) -> tuple[Slope, Slope] | None:
    """Count and time slopes over the points of a sweep from ``start`` on (where the time
    model predicts compute- or memory-bound work), over the same points; None when fewer
    than two timed points lie there. ``fastest``: the time slope of the fastest samples
    (`time_slope`)."""
    if not np.isfinite(start):
        return None
    t = t[t[axis].astype(float) >= start]
    xs = np.unique(t[axis].astype(float))
    if len(xs) < 2:
        return None
    c = c[c[axis].astype(float).isin(xs) & (c.value > 0)]
    counted = loglog_slope(c[axis], c.value) if c[axis].nunique() >= 2 else float("nan")
    return (Slope(counted, counted, counted, len(c)),
            time_slope(t[axis], t.value.astype(float), whole=True, fastest=fastest))


def steady_start(configs: pd.DataFrame, counts: pd.DataFrame, axis: str) -> float:
    """The smallest ``axis`` value from which the model predicts one curve's time to grow
    like its counts, or NaN when fewer than two points of the sweep's end qualify.

    ``configs``: the curve's configurations (`costad.study.model.configurations`: predicted
    time, its overhead term, regime); ``counts``: its count rows (``value`` per ``axis``).
    From the start on, every point is compute- or memory-bound, the log-log slope of the
    predicted times over those points is within `STEADY_SLOPE_TOLERANCE` of the counts'
    slope (a constant predicted time per operation, which a working set crossing a cache
    size, where the calibrated bandwidth changes, would break), and the overhead term is
    either at most `STEADY_OVERHEAD_SHARE` of the predicted time or itself grows like the
    counts (an RNN's calls grow with its steps): a fixed overhead shrinking against growing
    work could otherwise cancel a falling bandwidth in the total and pass for steady.
    """
    counted = counts[counts.value > 0].groupby(counts[axis].astype(float)).value.first()
    c = configs.dropna(subset=[axis, "predicted", "overhead"]).copy()
    c["x"] = c[axis].astype(float)
    c = c[c.x.isin(counted.index)].sort_values("x")
    xs = c.x.to_numpy()
    predicted = c.predicted.astype(float).to_numpy()
    overhead = c.overhead.astype(float).to_numpy()
    bound = c.regime.isin(["compute", "memory"]).to_numpy() & (predicted > 0)
    ops = counted.reindex(xs).to_numpy(dtype=float)
    for i in range(len(xs) - 1):
        if not bound[i:].all() or len(np.unique(xs[i:])) < 2:
            continue
        count_slope_ = loglog_slope(xs[i:], ops[i:])
        if abs(loglog_slope(xs[i:], predicted[i:]) - count_slope_) > STEADY_SLOPE_TOLERANCE:
            continue
        small = (overhead[i:] <= STEADY_OVERHEAD_SHARE * predicted[i:]).all()
        if small or ((overhead[i:] > 0).all() and abs(
                loglog_slope(xs[i:], overhead[i:]) - count_slope_) <= STEADY_SLOPE_TOLERANCE):
            return float(xs[i])
    return float("nan")


def _slope_columns(prefix: str, start: float, regime) -> dict:
    """The fits-table columns of the slopes over one part of a sweep (None: not fitted)."""
    fitted = regime is not None
    return {f"{prefix}_from": start if fitted else None,
            f"{prefix}_count_slope": round(regime[0].value, 4) if fitted else None,
            f"{prefix}_time_slope": round(regime[1].value, 3) if fitted else None,
            f"{prefix}_time_low": round(regime[1].low, 3) if fitted else None,
            f"{prefix}_time_high": round(regime[1].high, 3) if fitted else None}


def fits_table(experiments, data: dict) -> pd.DataFrame:
    """One row per curve: the exact slope of counts and the slope of times with its interval
    over the upper half of the sweep; and, where the results carry predictions, both slopes
    over the part of the sweep predicted outside the overhead regime (``compute_from`` on)
    and over the part where it predicts time proportional to the counts (``steady_from``
    on, `steady_start`, with the model's own slope there, ``steady_predicted_slope``; the
    time slope there is of the fastest samples, as the model's accuracy is measured).

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
            steady_from = steady_start(mine, c, axis) if len(mine) else np.nan
            # Measured as the model's predictions are judged (claim T3): the fastest sample,
            # since other work and the allocator's state only ever add time (reverse mode
            # at n = 10^7 took 0.64 s in some samples and 1.7 s in others of one point).
            steady = (compute_regime_slopes(c, t, axis, steady_from, fastest=True)
                      if len(t) else None)
            predicted_slope = None
            if steady is not None:
                there = mine[mine[axis].astype(float) >= steady_from]
                predicted_slope = round(loglog_slope(there[axis].astype(float),
                                                     there.predicted.astype(float)), 4)
            rows.append({"experiment": experiment.name, "function": function,
                         "strategy": strategy, "x": axis, "count_slope": round(cs.value, 4),
                         "time_slope": None if ts is None else round(ts.value, 3),
                         "time_slope_low": None if ts is None else round(ts.low, 3),
                         "time_slope_high": None if ts is None else round(ts.high, 3),
                         **_slope_columns("compute", start, regime),
                         **_slope_columns("steady", steady_from, steady),
                         "steady_predicted_slope": predicted_slope})
    return pd.DataFrame(rows, columns=FITS_COLUMNS)
