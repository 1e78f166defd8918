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
from .frames import counts_frame, metric_frame, times_frame

__all__ = ["STRATEGY_COLORS", "MARKERS", "COUNT_LABEL", "TIME_LABEL", "BYTES_LABEL", "figure",
           "plot_counts", "plot_times", "plot_values", "theory", "proportional", "finish",
           "cost_and_time", "memory_panels"]

STRATEGY_COLORS = {"eval": "black", "fd": "tab:blue", "fd-central": "tab:orange",
                   "forward": "tab:green", "reverse": "tab:red", "hand": "tab:purple",
                   "left": "tab:blue", "right": "tab:red", "optimal": "tab:green",
                   "trace": "black"}
MARKERS = {"eval": "s", "fd": "o", "fd-central": "v", "forward": "^", "reverse": "D",
           "hand": "x", "left": "o", "right": "D", "optimal": "^"}
COUNT_LABEL = "counted operations (ops)"
TIME_LABEL = "time per call (s)"
BYTES_LABEL = "bytes"


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


def plot_values(ax, frame: pd.DataFrame, x: str, strategies, what: str = "",
                linestyle: str = "-", marker: str | None = None) -> bool:
    """One log-log line per strategy of one metric's rows (one value per grid point), the
    log-log slope over the upper half of the sweep in the legend. Returns whether anything
    was drawn."""
    drawn = False
    for strategy in strategies:
        c = frame[(frame.strategy == strategy) & (frame.value > 0)].sort_values(x)
        if c.empty:
            continue
        slope = count_slope(c[x], c.value)
        name = f"{strategy} {what}".strip()
        ax.loglog(c[x].astype(float), c.value, marker=marker or MARKERS.get(strategy, "o"),
                  linestyle=linestyle, color=STRATEGY_COLORS.get(strategy),
                  label=f"{name} ({slope.label()})")
        drawn = True
    return drawn


def proportional(ax, xs, anchor_x: float, anchor_y: float, symbol: str, power: float = 1,
                 color="gray") -> None:
    """A dashed theory line y = c x^power through (anchor_x, anchor_y)."""
    xs = np.asarray(sorted(set(float(v) for v in xs)), float)
    exponent = f"^{power:g}" if power != 1 else ""
    theory(ax, xs, anchor_y * (xs / float(anchor_x)) ** power,
           f"theory ∝ {symbol}{exponent} (slope {power:g})", color)


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
    if ax.get_legend_handles_labels()[0]:          # an empty legend only warns
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


def _anchor(frame: pd.DataFrame, x: str):
    """The point at the largest ``x`` of ``frame`` (rows with a positive value), or None."""
    frame = frame[(frame.value > 0) & frame[x].notna()]
    if frame.empty:
        return None
    top = frame.loc[frame[x].astype(float).idxmax()]
    return float(top[x]), float(top.value)


def memory_panels(df: pd.DataFrame, x: str, xlabel: str, strategies, title: str,
                  symbol: str | None = None, reference: str = "reverse"):
    """Memory against ``x``: counted storage (the tape's bytes, `Cost.stored_bytes`, and the
    sweep's peak of tape plus adjoints, `Cost.peak_bytes`) on the left, measured peak memory
    (tracemalloc) on the right, each curve with its fitted slope, and a dashed linear theory
    line through the ``reference`` strategy's largest point."""
    symbol = symbol or x
    fig = figure((11, 4.4))
    ax_c, ax_m = fig.subplots(1, 2)
    stored, peak = metric_frame(df, "tape_bytes"), metric_frame(df, "sweep_peak_bytes")
    panels = ((ax_c, [(stored, "stored", "-", None), (peak, "peak", ":", "*")], stored,
               "counted memory", "counted (stored: tape; peak: tape + adjoints)"),
              (ax_m, [(metric_frame(df, "peak_bytes"), "measured", "-", None)], None,
               "measured peak memory, tracemalloc", "measured (Python objects included)"))
    for ax, curves, anchor_frame, ylabel, subtitle in panels:
        drawn = False
        for frame, what, linestyle, marker in curves:
            drawn |= plot_values(ax, frame, x, strategies, what, linestyle, marker)
        anchor_frame = curves[0][0] if anchor_frame is None else anchor_frame
        anchor = _anchor(anchor_frame[anchor_frame.strategy == reference], x)
        if anchor is not None:
            proportional(ax, anchor_frame[x].dropna(), *anchor, symbol)
        if not drawn:
            ax.text(0.5, 0.5, "no such rows in these results", ha="center",
                    transform=ax.transAxes)
        finish(ax, xlabel, f"{ylabel} ({BYTES_LABEL})", f"{title}: {subtitle}")
    return fig
