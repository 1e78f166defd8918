"""Plotting helpers the experiments' figures share: colours, markers, count and time panels,
theory lines, axis finishing.

Figures are built from results only: a builder takes a results DataFrame and returns a
matplotlib `Figure`. Nothing here measures, writes files or touches pyplot's global state
(figures are plain `matplotlib.figure.Figure` objects; `costad.study.report` saves them).
matplotlib itself is imported only when a figure is made, so that listing or running
experiments does not pay for it.

Conventions (docs/design.md section 5): log-log axes for cost against size, theory lines
dashed, the fitted exponent in each legend entry, counts and times on separate panels, a unit
on every axis.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .fits import count_slope, time_slope
from .frames import counts_frame, times_frame

__all__ = ["STRATEGY_COLORS", "MARKERS", "COUNT_LABEL", "TIME_LABEL", "figure", "plot_counts",
           "plot_times", "theory", "finish", "cost_and_time"]

STRATEGY_COLORS = {"eval": "black", "fd": "tab:blue", "fd-central": "tab:orange",
                   "forward": "tab:green", "reverse": "tab:red", "hand": "tab:purple",
                   "left": "tab:blue", "right": "tab:red", "optimal": "tab:green",
                   "trace": "black"}
MARKERS = {"eval": "s", "fd": "o", "fd-central": "v", "forward": "^", "reverse": "D",
           "hand": "x", "left": "o", "right": "D", "optimal": "^"}
COUNT_LABEL = "counted operations (ops)"
TIME_LABEL = "time per call (s)"


def figure(figsize: tuple[float, float]):
    """A new `matplotlib.figure.Figure` (not registered with pyplot)."""
    from matplotlib.figure import Figure
    return Figure(figsize=figsize)


def plot_counts(ax, counts: pd.DataFrame, x: str, strategies) -> None:
    """One log-log line per strategy, its exact count slope in the legend."""
    for strategy in strategies:
        c = counts[counts.strategy == strategy].sort_values(x)
        if c.empty:
            continue
        slope = count_slope(c[x], c.value)
        ax.loglog(c[x].astype(float), c.value, marker=MARKERS.get(strategy, "o"),
                  color=STRATEGY_COLORS.get(strategy), label=f"{strategy} ({slope.label()})")


def plot_times(ax, times: pd.DataFrame, x: str, strategies) -> None:
    """Median time per strategy with the min-max band, the slope and its interval in the
    legend."""
    for strategy in strategies:
        t = times[times.strategy == strategy]
        if t.empty:
            continue
        slope = time_slope(t[x], t.value)
        stats = t.groupby(x)["value"].agg(["median", "min", "max"]).sort_index()
        xs = stats.index.astype(float)
        ax.loglog(xs, stats["median"], marker=MARKERS.get(strategy, "o"),
                  color=STRATEGY_COLORS.get(strategy), label=f"{strategy} ({slope.label()})")
        ax.fill_between(xs, stats["min"], stats["max"], color=STRATEGY_COLORS.get(strategy),
                        alpha=0.15, linewidth=0)


def theory(ax, xs, ys, label: str, color="gray") -> None:
    """A dashed theory line."""
    ax.loglog(np.asarray(xs, float), np.asarray(ys, float), linestyle="--", color=color,
              linewidth=1, label=label)


def finish(ax, xlabel: str, ylabel: str, title: str) -> None:
    """Axis labels (with units), title, grid and legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def cost_and_time(df: pd.DataFrame, x: str, xlabel: str, strategies, title: str):
    """The usual pair of panels: counts (left) and measured time (right) against ``x``."""
    counts, times = counts_frame(df), times_frame(df)
    fig = figure((11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    plot_counts(ax_c, counts, x, strategies)
    finish(ax_c, xlabel, COUNT_LABEL, f"{title}: counts")
    plot_times(ax_t, times, x, strategies)
    finish(ax_t, xlabel, TIME_LABEL, f"{title}: time (median, min-max)")
    return fig
