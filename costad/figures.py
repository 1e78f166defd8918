"""Figures built from results only: each function takes a results DataFrame and returns a
matplotlib `Figure`. Nothing here measures, writes files or touches pyplot's global state
(figures are plain `matplotlib.figure.Figure` objects; `costad.report` saves them).

Conventions (DESIGN.md section 5): log-log axes for cost against size, theory lines dashed,
the fitted exponent in each legend entry, counts and times on separate panels, a unit on
every axis.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .fits import count_slope, time_slope

__all__ = ["FIGURES", "STRATEGY_COLORS", "counts_frame"]

STRATEGY_COLORS = {"eval": "black", "fd": "tab:blue", "fd-central": "tab:orange",
                   "forward": "tab:green", "reverse": "tab:red", "hand": "tab:purple",
                   "left": "tab:blue", "right": "tab:red", "optimal": "tab:green",
                   "trace": "black"}
MARKERS = {"eval": "s", "fd": "o", "fd-central": "v", "forward": "^", "reverse": "D",
           "hand": "x", "left": "o", "right": "D", "optimal": "^"}
COUNT_LABEL = "counted operations (ops)"
TIME_LABEL = "time per call (s)"


def counts_frame(df: pd.DataFrame, kind: str = "total") -> pd.DataFrame:
    """The count rows of one kind ('total' by default), values as floats for plotting."""
    out = df[(df.metric == "ops") & (df.kind == kind)].copy()
    out["value"] = out["value"].astype(float)
    return out


def _times(df: pd.DataFrame) -> pd.DataFrame:
    out = df[df.metric == "time"].copy()
    out["value"] = out["value"].astype(float)
    return out


def _plotcounts_frame(ax, counts: pd.DataFrame, x: str, strategies) -> None:
    for strategy in strategies:
        c = counts[counts.strategy == strategy].sort_values(x)
        if c.empty:
            continue
        slope = count_slope(c[x], c.value)
        ax.loglog(c[x].astype(float), c.value, marker=MARKERS.get(strategy, "o"),
                  color=STRATEGY_COLORS.get(strategy), label=f"{strategy} ({slope.label()})")


def _plot_times(ax, times: pd.DataFrame, x: str, strategies) -> None:
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


def _theory(ax, xs, ys, label: str, color="gray") -> None:
    ax.loglog(np.asarray(xs, float), np.asarray(ys, float), linestyle="--", color=color,
              linewidth=1, label=label)


def _finish(ax, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best")


# ----------------------------------------------------------------------------------- C1

def dag(df: pd.DataFrame) -> Figure:
    """The seed example's DAG, nodes labelled as in the lecture's listing."""
    nodes = df[df.metric == "node"]
    edges = df[df.metric == "edge"]
    depth = {row.kind: int(row.value) for row in nodes.itertuples()}
    label = {row.kind: row.note for row in nodes.itertuples()}
    position, per_depth = {}, {}
    for name in nodes.kind:                       # rows are in the listing's order
        d = depth[name]
        position[name] = (d, -per_depth.get(d, 0))
        per_depth[d] = per_depth.get(d, 0) + 1
    fig = Figure(figsize=(9, 3.2))
    ax = fig.subplots()
    for edge in edges.kind:
        a, b = edge.split("->")
        # An edge that skips levels would pass behind the boxes in between: bend it.
        bend = 0.35 if position[b][0] - position[a][0] > 1 else 0.0
        ax.annotate("", xy=position[b], xytext=position[a],
                    arrowprops=dict(arrowstyle="->", color="gray", shrinkA=22, shrinkB=22,
                                    connectionstyle=f"arc3,rad={bend}"))
    for name, (x, y) in position.items():
        text = label[name].replace(" = ", " =\n", 1)
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", facecolor="lightyellow" if "input" in text
                          else "white", edgecolor="gray"))
    K = int(counts_frame(df).query("strategy == 'trace'").value.iloc[0])
    ax.set_title(f"l(t1, t2) = t2 e^t1 sqrt(t1 + t2 e^t1): the program as a DAG, K = {K} "
                 "elementary operations", fontsize=10)
    ax.set_xlim(-0.6, max(depth.values()) + 0.6)
    ax.set_ylim(-max(per_depth.values()) + 0.4, 1.0)
    ax.set_xlabel("depth (longest path from an input, in nodes)")
    ax.set_yticks([])
    ax.set_xticks(range(max(depth.values()) + 1))
    return fig


# ------------------------------------------------------------------------------- C2, C3

GRADIENT_STRATEGIES = ("eval", "fd", "fd-central", "forward", "reverse")


def gradient_vs_n(df: pd.DataFrame, family: str) -> Figure:
    """Cost of value and gradient against n for one function family: counts and time."""
    d = df[df.function == family]
    counts, times = counts_frame(d), _times(d)
    fig = Figure(figsize=(11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    _plotcounts_frame(ax_c, counts, "n", GRADIENT_STRATEGIES)
    K = counts[counts.strategy == "eval"].sort_values("n")
    n = K.n.astype(float).to_numpy()
    _theory(ax_c, n, (n + 1) * K.value, "theory (n+1)K", STRATEGY_COLORS["fd"])
    _theory(ax_c, n, 2 * n * K.value, "theory 2nK", STRATEGY_COLORS["fd-central"])
    _theory(ax_c, n, K.value, "theory ~K", STRATEGY_COLORS["reverse"])
    _finish(ax_c, "n (number of inputs)", COUNT_LABEL, f"{family}: counted cost of f and grad f")
    _plot_times(ax_t, times, "n", GRADIENT_STRATEGIES)
    _finish(ax_t, "n (number of inputs)", TIME_LABEL, f"{family}: measured time (median, min-max)")
    return fig


def gradient_ratio(df: pd.DataFrame) -> Figure:
    """cost(value and gradient) / K against n: fd grows like n, reverse stays flat."""
    families = list(dict.fromkeys(df.function))
    fig = Figure(figsize=(11, 7.5))
    axes = np.atleast_1d(fig.subplots(2, (len(families) + 1) // 2)).ravel()
    counts = counts_frame(df)
    for ax, family in zip(axes, families):
        c = counts[counts.function == family]
        K = c[c.strategy == "eval"].set_index("n").value
        for strategy in GRADIENT_STRATEGIES[1:]:
            s = c[c.strategy == strategy].set_index("n").value
            if s.empty:
                continue
            ratio = (s / K.reindex(s.index)).sort_index()
            slope = count_slope(ratio.index, ratio.values)
            ax.loglog(ratio.index.astype(float), ratio.values, marker=MARKERS[strategy],
                      color=STRATEGY_COLORS[strategy], label=f"{strategy} ({slope.label()})")
        _finish(ax, "n (number of inputs)", "cost / K (ops per op of f)", family)
    for ax in axes[len(families):]:
        ax.set_visible(False)
    fig.suptitle("cheap gradient principle: reverse mode costs a constant times K", fontsize=11)
    return fig


# ----------------------------------------------------------------------------------- C4

def crossover(ms, forward, reverse) -> float | None:
    """The m where the reverse cost overtakes the forward cost (log-log interpolation)."""
    ms, f, r = (np.asarray(a, float) for a in (ms, forward, reverse))
    diff = np.log(r) - np.log(f)
    for i in range(len(ms) - 1):
        if diff[i] <= 0 < diff[i + 1]:
            t = -diff[i] / (diff[i + 1] - diff[i])
            return float(np.exp(np.log(ms[i]) + t * (np.log(ms[i + 1]) - np.log(ms[i]))))
    return None


def jacobian_shape(df: pd.DataFrame) -> Figure:
    """Jacobian of f: R^n -> R^m against m at fixed n: n JVPs against m VJPs."""
    counts, times = counts_frame(df), _times(df)
    n = int(df.n.dropna().iloc[0])
    fig = Figure(figsize=(11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    _plotcounts_frame(ax_c, counts, "m", ("forward", "reverse"))
    for strategy in ("forward", "reverse"):
        c = counts[counts.strategy == strategy].sort_values("m")
        _theory(ax_c, c.m, c.predicted.astype(float), f"theory {strategy} (exact)",
                STRATEGY_COLORS[strategy])
    by = counts.pivot_table(index="m", columns="strategy", values="value", aggfunc="first")
    m_star = crossover(by.index, by["forward"], by["reverse"])
    for ax in (ax_c, ax_t):
        ax.axvline(n, color="gray", linestyle=":", linewidth=1, label=f"m = n = {n} (equal passes)")
    if m_star is not None:
        ax_c.axvline(m_star, color="black", linestyle="-.", linewidth=1,
                     label=f"counted crossover m = {m_star:.0f}")
    _finish(ax_c, "m (number of outputs)", COUNT_LABEL, f"Jacobian of tanh(Ax), n = {n}: counts")
    _plot_times(ax_t, times, "m", ("forward", "reverse"))
    _finish(ax_t, "m (number of outputs)", TIME_LABEL, "measured time (median, min-max)")
    return fig


# ----------------------------------------------------------------------------------- C5

def chain(df: pd.DataFrame) -> Figure:
    """Chain products: left vs right vs optimal against n (fixed R) and against R (fixed n)."""
    mul, times = counts_frame(df, "mul"), _times(df)
    fig = Figure(figsize=(11, 8))
    (ax_n, ax_r), (ax_nt, ax_rt) = fig.subplots(2, 2)
    for function, x, ax, ax_t in (("fixed-R", "n", ax_n, ax_nt), ("fixed-n", "R", ax_r, ax_rt)):
        c = mul[mul.function == function]
        if c.empty:
            continue
        _plotcounts_frame(ax, c, x, ("left", "right", "optimal"))
        grid = c[c.strategy == "left"].sort_values(x)
        n, R = grid.n.astype(float).to_numpy(), grid.R.astype(float).to_numpy()
        _theory(ax, grid[x], (R - 1) * n ** 3 + n ** 2, "theory (R-1)n^3 + n^2",
                STRATEGY_COLORS["left"])
        _theory(ax, grid[x], R * n ** 2, "theory R n^2", STRATEGY_COLORS["right"])
        fixed = f"R = {int(R[0])}" if x == "n" else f"n = {int(n[0])}"
        label = "n (inner dimension)" if x == "n" else "R (number of factors - 1)"
        _finish(ax, label, "scalar multiplications (mul)", f"counted, {fixed}")
        _plot_times(ax_t, times[times.function == function], x, ("left", "right", "optimal"))
        _finish(ax_t, label, TIME_LABEL, f"measured, {fixed}")
    fig.suptitle("chain rule association: dims [n]*(R+1) + [1]", fontsize=11)
    return fig


# ------------------------------------------------------------------------------- C6, C7

def _cost_and_time(df: pd.DataFrame, x: str, xlabel: str, strategies, title: str) -> Figure:
    counts, times = counts_frame(df), _times(df)
    fig = Figure(figsize=(11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    _plotcounts_frame(ax_c, counts, x, strategies)
    _finish(ax_c, xlabel, COUNT_LABEL, f"{title}: counts")
    _plot_times(ax_t, times, x, strategies)
    _finish(ax_t, xlabel, TIME_LABEL, f"{title}: time (median, min-max)")
    return fig


def depth(df: pd.DataFrame) -> Figure:
    return _cost_and_time(df, "R", "R (hidden layers)", ("eval", "fd", "forward", "reverse",
                                                          "hand"), "MLP gradient against depth")


def rnn(df: pd.DataFrame) -> Figure:
    return _cost_and_time(df, "T", "T (sequence length, steps)",
                          ("eval", "fd", "forward", "reverse"), "RNN gradient against T")


# ------------------------------------------------------------------------------- FD, C8

def fd_accuracy(df: pd.DataFrame) -> Figure:
    """Error of finite differences against the step: the V shape and its theoretical minima."""
    fig = Figure(figsize=(7, 4.6))
    ax = fig.subplots()
    errors = df[df.metric == "error"]
    optimal = df[df.metric == "optimal_step"].set_index("strategy")
    for strategy, theory_label in (("fd", "sqrt(eps)"), ("fd-central", "eps^(1/3)")):
        e = errors[errors.strategy == strategy].sort_values("param")
        color = STRATEGY_COLORS[strategy]
        ax.loglog(e.param, e.value.astype(float).clip(lower=1e-17), marker=".", color=color,
                  label=f"{strategy}: minimum at h = {float(optimal.loc[strategy, 'value']):.1e}")
        ax.axvline(float(optimal.loc[strategy, "predicted"]), color=color, linestyle="--",
                   linewidth=1, label=f"theory h* ~ {theory_label}")
    _finish(ax, "step h (absolute)", "relative error of the gradient (1)",
            "finite differences on the seed example: truncation vs rounding")
    return fig


def descent(df: pd.DataFrame) -> Figure:
    """Objective gap against iteration for each step size, with the exact prediction."""
    fig = Figure(figsize=(7, 4.6))
    ax = fig.subplots()
    gaps = df[df.metric == "gap"]
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for color, (label, g) in zip(colors, gaps.groupby("strategy", sort=False)):
        g = g.sort_values("iteration")
        # The optimal step reaches E* to rounding; |gap| keeps those points on the log axis.
        ax.semilogy(g.iteration, g.value.astype(float).abs().clip(lower=1e-16), color=color,
                    label=f"tau = {label} ({g.param.iloc[0]:.3g})")
        ax.semilogy(g.iteration, g.predicted.astype(float), color=color, linestyle="--",
                    linewidth=1)
    ax.plot([], [], color="gray", linestyle="--", label="theory (exact for a quadratic)")
    _finish(ax, "iteration k", "E(theta_k) - E* (objective units)",
            "gradient descent, mu = 0.1, L = 1 (reverse-mode gradients)")
    return fig


# Figure name -> (experiment it reads, builder). gradient_vs_n has one figure per family.
FIGURES = {
    "dag": ("graph", dag),
    "gradient_ratio": ("gradient_vs_n", gradient_ratio),
    "jacobian_shape": ("jacobian_shape", jacobian_shape),
    "chain": ("chain", chain),
    "depth": ("depth", depth),
    "rnn": ("rnn", rnn),
    "fd_accuracy": ("fd_accuracy", fd_accuracy),
    "descent": ("descent", descent),
}
