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
           "plot_counts", "plot_abstract", "plot_times", "plot_values", "shade_regimes", "theory",
           "proportional", "finish", "cost_and_time", "memory_panels", "label_sweep",
           "model_figure"]

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


def plot_abstract(ax, abstract: pd.DataFrame, executed: pd.DataFrame, x: str,
                  strategies) -> None:
    """Counts on abstract inputs beyond each strategy's executed range, dotted, joined to
    its last executed point (design notes, section 4: sizes beyond what can run)."""
    labelled = False
    for strategy in strategies:
        a = abstract[abstract.strategy == strategy].sort_values(x)
        e = executed[executed.strategy == strategy].sort_values(x)
        if a.empty:
            continue
        last = float(e[x].max()) if len(e) else -np.inf
        beyond = a[a[x].astype(float) > last]
        if beyond.empty:
            continue
        xs = beyond[x].astype(float).tolist()
        ys = beyond.value.astype(float).tolist()
        if len(e):
            xs.insert(0, last)
            ys.insert(0, float(e.value.iloc[-1]))
            label = None if labelled else "dotted: counted on abstract inputs, not run"
            labelled = True
        else:                             # never run: the dotted line is all it has
            slope = count_slope(beyond[x], beyond.value)
            label = f"{strategy}, counted on abstract inputs only ({slope.label()})"
        ax.loglog(xs, ys, linestyle=":", marker=".", color=STRATEGY_COLORS.get(strategy),
                  label=label)


def plot_times(ax, times: pd.DataFrame, x: str, strategies, configs=None) -> None:
    """Median time per strategy with the min-max band, the slope and its interval in the
    legend. With ``configs`` (`costad.study.model.configurations`), the slope is fitted
    over the points predicted outside the overhead regime where there are two or more, and
    the legend says from which x."""
    from .model import overhead_exit
    exits = overhead_exit(configs, x) if configs is not None and len(configs) else None
    for strategy in strategies:
        t = times[times.strategy == strategy]
        if t.empty:
            continue
        slope, where = time_slope(t[x], t.value), ""
        if exits is not None:
            function = t.function.iloc[0]
            start = exits.get((function, strategy), np.nan)
            inside = t[t[x].astype(float) >= start] if np.isfinite(start) else t.iloc[:0]
            if inside[x].nunique() >= 2:
                slope = time_slope(inside[x], inside.value, whole=True)
                where = f"; compute from {x} = {start:.3g}"
            else:
                where = "; overhead-bound"
        stats = t.groupby(x)["value"].agg(["median", "min", "max"]).sort_index()
        xs = stats.index.astype(float)
        ax.loglog(xs, stats["median"], marker=MARKERS.get(strategy, "o"),
                  color=STRATEGY_COLORS.get(strategy),
                  label=f"{strategy} ({slope.label()}{where})")
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


def shade_regimes(ax, configs: pd.DataFrame, x: str, strategies) -> None:
    """A strip per strategy along the bottom of a time panel, coloured by the regime its
    predictions name at each point (overhead grey, compute orange, memory cyan), in the
    order of ``strategies`` from the bottom up."""
    from matplotlib.patches import Patch

    from .model import REGIME_COLORS
    if configs is None or configs.empty:
        return
    seen, height = set(), 0.022
    shown = [s for s in strategies if s in set(configs.strategy)]
    # Room below the data for the strips: lower the axis by the share of its (log) height
    # they take, so that they never cover a measured point.
    share = 0.01 + height * len(shown) + 0.02
    bottom, top = ax.get_ylim()
    if bottom > 0 and top > bottom:
        ax.set_ylim(bottom / (top / bottom) ** (share / (1 - share)), top)
    for i, strategy in enumerate(shown):
        c = configs[configs.strategy == strategy].dropna(subset=[x]).sort_values(x)
        xs = c[x].astype(float).to_numpy()
        if not len(xs):
            continue
        edges = np.sqrt(xs[:-1] * xs[1:])
        lows = np.concatenate([[xs[0]], edges])
        highs = np.concatenate([edges, [xs[-1]]])
        for low, high, regime in zip(lows, highs, c.regime):
            if regime not in REGIME_COLORS:
                continue
            ax.axvspan(low, high, ymin=0.01 + i * height, ymax=0.01 + (i + 0.8) * height,
                       color=REGIME_COLORS[regime], alpha=0.9, linewidth=0)
            seen.add(regime)
        ax.text(xs[0], 0.01 + i * height, f"{strategy} ", transform=ax.get_xaxis_transform(),
                fontsize=5, va="bottom", ha="right", color=STRATEGY_COLORS.get(strategy))
    handles, labels = ax.get_legend_handles_labels()
    for regime in ("overhead", "compute", "memory"):
        if regime in seen:
            handles.append(Patch(color=REGIME_COLORS[regime]))
            labels.append(f"predicted {regime}-bound (strips)")
    ax.legend(handles, labels, fontsize=7, loc="best")


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
    """The usual pair of panels: counts (left, extended dotted by counts on abstract inputs
    where the results have them) and measured time (right, shaded by the predicted regime
    where the results carry predictions) against ``x``."""
    from .model import configurations
    counts, times = counts_frame(df), times_frame(df)
    configs = configurations(df)
    fig = figure((11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    plot_counts(ax_c, counts, x, strategies)
    plot_abstract(ax_c, counts_frame(df, abstract=True), counts, x, strategies)
    finish(ax_c, xlabel, COUNT_LABEL, f"{title}: counts")
    plot_times(ax_t, times, x, strategies, configs)
    finish(ax_t, xlabel, TIME_LABEL, f"{title}: time (median, min-max)")
    shade_regimes(ax_t, configs, x, strategies)
    label_sweep(ax_t, times[x])
    return fig


def label_sweep(ax, xs) -> None:
    """On a log axis spanning less than two decades, label the sweep's own values rather
    than crowded minor ticks."""
    from matplotlib.ticker import NullFormatter
    values = np.unique(np.asarray(xs, float))
    if len(values) >= 2 and values.max() / values.min() < 100:
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.xaxis.set_minor_formatter(NullFormatter())


def model_figure(configs: pd.DataFrame, title: str, group: str = "strategy"):
    """Predicted against measured time, one point per timed configuration (the fastest of
    its samples, as the calibration measures), log-log, with the line y = x and a band of
    +-25%; coloured by ``group``, markers by predicted regime."""
    from .model import accuracy
    fig = figure((6, 5.4))
    ax = fig.subplots()
    regime_markers = {"overhead": "o", "compute": "s", "memory": "^", "": "x"}
    if len(configs):
        low = float(min(configs.measured.min(), configs.predicted.min())) / 2
        high = float(max(configs.measured.max(), configs.predicted.max())) * 2
        line = np.array([low, high])
        ax.fill_between(line, line / 1.25, line * 1.25, color="0.85", linewidth=0,
                        label="within 25%")
        ax.loglog(line, line, color="black", linewidth=1, label="predicted = measured")
        for key, c in configs.groupby(group, sort=False):
            for regime, r in c.groupby("regime", sort=False):
                ax.loglog(r.measured.astype(float), r.predicted.astype(float), linestyle="",
                          marker=regime_markers.get(regime, "x"), markersize=4,
                          color=STRATEGY_COLORS.get(key), alpha=0.8,
                          label=f"{key}, {regime or 'no regime'}-bound")
        stats = accuracy(configs)
        title += (f"\nmedian |predicted/measured - 1| = {stats['median']:.0%}, "
                  f"90th percentile {stats['p90']:.0%} ({stats['count']} points)")
    finish(ax, "measured time, fastest sample (s)", "predicted time (s)", title)
    ax.legend(fontsize=6, loc="upper left", ncol=1)
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
