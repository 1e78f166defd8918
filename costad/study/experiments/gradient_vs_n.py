"""C2-C3: the cost of a gradient against n, per strategy, over several function families."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import value_and_grad
from costad.functions import FAMILIES

from .. import Settings, Task
from ..claims import claim, exact_counts
from ..fits import Sweep, count_slope
from ..frames import counts_frame, times_frame
from ..plotting import (COUNT_LABEL, MARKERS, STRATEGY_COLORS, TIME_LABEL, figure, finish,
                        plot_counts, plot_times, theory)
from ..recipes import gradient_call, measure_eval, measure_gradient, skipped

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "FITS", "grid", "tasks",
           "figures", "claims", "predicted", "family_figure", "ratio_figure", "ratios"]

NAME = "gradient_vs_n"
ORDER = 20
DESCRIPTION = ("gradient cost against n: fd (n+1)K + 3n, fd-central 2nK + 4n, forward ~nK, "
               "reverse ~K")
TITLE = "C2, C3: the cost of a gradient against n"
SENTENCE = ("Finite differences cost (n+1)K, forward mode about nK, reverse mode a constant "
            "times K: on log-log axes fd and forward have slope one more than K, reverse the "
            "slope of K.")
FITS = Sweep(kind="total", axis="n")
STRATEGIES = ("fd", "fd-central", "forward", "reverse")
# Strategies whose counted cost (n+1)K would exceed this many operations are skipped.
BUDGET_OPS = {False: 50_000_000, True: 2_000_000}


def grid(settings: Settings) -> dict:
    n = [10, 30, 100] if settings.quick else [10, 30, 100, 300, 1000]
    return {"n": n, "families": list(FAMILIES), "strategies": list(STRATEGIES),
            "budget_ops": BUDGET_OPS[settings.quick]}


def predicted(strategy: str, n: int, K: int) -> int | None:
    """Closed forms of value_and_grad's counted cost."""
    if strategy == "fd":
        return (n + 1) * K + 3 * n
    if strategy == "fd-central":
        return 2 * n * K + 4 * n + K          # the value costs one more evaluation
    return None


def _run(family_name: str, n: int, settings: Settings) -> list[dict]:
    family = FAMILIES[family_name]
    f, x = family.build(n, settings.seed)
    K = family.K(n)
    base = dict(experiment=NAME, function=family_name, n=n)
    rows = measure_eval(base, f, x, settings.repeats, K)
    _, reference = value_and_grad(f)(x)
    budget = BUDGET_OPS[settings.quick]
    for strategy in STRATEGIES:
        if strategy != "reverse" and (n + 1) * K > budget:
            rows += skipped(base, strategy, f"(n+1)K = {(n + 1) * K} ops exceeds the budget "
                                            f"of {budget} ops")
            continue
        rows += measure_gradient(base, strategy, gradient_call(f, x, strategy), reference,
                                 settings.repeats, predicted(strategy, n, K))
    return rows


def tasks(settings: Settings) -> list[Task]:
    out = []
    for family_name, family in FAMILIES.items():
        for n in grid(settings)["n"]:
            n = family.valid_n(n)
            out.append(Task(f"{family_name} n={n}", partial(_run, family_name, n, settings)))
    return out


# ------------------------------------------------------------------------------ report

PLOTTED = ("eval", "fd", "fd-central", "forward", "reverse")


def family_figure(df: pd.DataFrame, family: str):
    """Cost of value and gradient against n for one function family: counts and time."""
    d = df[df.function == family]
    counts, times = counts_frame(d), times_frame(d)
    fig = figure((11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    plot_counts(ax_c, counts, "n", PLOTTED)
    K = counts[counts.strategy == "eval"].sort_values("n")
    n = K.n.astype(float).to_numpy()
    theory(ax_c, n, (n + 1) * K.value, "theory (n+1)K", STRATEGY_COLORS["fd"])
    theory(ax_c, n, 2 * n * K.value, "theory 2nK", STRATEGY_COLORS["fd-central"])
    theory(ax_c, n, K.value, "theory ~K", STRATEGY_COLORS["reverse"])
    finish(ax_c, "n (number of inputs)", COUNT_LABEL, f"{family}: counted cost of f and grad f")
    plot_times(ax_t, times, "n", PLOTTED)
    finish(ax_t, "n (number of inputs)", TIME_LABEL, f"{family}: measured time (median, min-max)")
    return fig


def ratio_figure(df: pd.DataFrame):
    """cost(value and gradient) / K against n: fd grows like n, reverse stays flat."""
    families = list(dict.fromkeys(df.function))
    fig = figure((11, 7.5))
    axes = np.atleast_1d(fig.subplots(2, (len(families) + 1) // 2)).ravel()
    counts = counts_frame(df)
    for ax, family in zip(axes, families):
        c = counts[counts.function == family]
        K = c[c.strategy == "eval"].set_index("n").value
        for strategy in PLOTTED[1:]:
            s = c[c.strategy == strategy].set_index("n").value
            if s.empty:
                continue
            ratio = (s / K.reindex(s.index)).sort_index()
            slope = count_slope(ratio.index, ratio.values)
            ax.loglog(ratio.index.astype(float), ratio.values, marker=MARKERS[strategy],
                      color=STRATEGY_COLORS[strategy], label=f"{strategy} ({slope.label()})")
        finish(ax, "n (number of inputs)", "cost / K (ops per op of f)", family)
    for ax in axes[len(families):]:
        ax.set_visible(False)
    fig.suptitle("cheap gradient principle: reverse mode costs a constant times K", fontsize=11)
    return fig


def figures(df: pd.DataFrame) -> dict:
    out = {f"gradient_vs_n_{family}": partial(family_figure, df, family)
           for family in dict.fromkeys(df.function)}
    out["gradient_ratio"] = partial(ratio_figure, df)
    return out


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """cost / K per (function, strategy, n); forward also per direction."""
    c = counts_frame(df)
    K = c[c.strategy == "eval"].set_index(["function", "n"]).value
    out = c[c.strategy != "eval"].copy()
    out["K"] = [K.get((f, n)) for f, n in zip(out.function, out.n)]
    out["ratio"] = out.value / out.K
    out["per_direction"] = out.ratio / out.n.astype(float)
    return out


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    rows = []
    total, ok = exact_counts(df[df.strategy.isin(["fd", "fd-central"])])
    slopes = fits[fits.strategy == "fd"]
    rows.append(claim(
        "C2", "finite differences cost (n+1)K + 3n (central 2nK + 4n)",
        "counts equal the closed forms",
        f"{ok}/{total} counts equal; fd count slopes "
        f"{', '.join(f'{s:.2f}' for s in slopes.count_slope)} (theory 2 when K ~ n)",
        ok == total and total > 0))
    r = ratios(df)
    worst = r[r.strategy == "reverse"].groupby("function").ratio.max()
    rows.append(claim(
        "C3", "reverse mode gives the gradient in O(K): cost(f, grad f)/K bounded",
        "a constant, 3 to 4 (Griewank-Walther)",
        "max ratio " + ", ".join(f"{f} {v:.2f}" for f, v in worst.items()),
        bool((worst <= 4.0).all())))
    if "rational" in set(df.function):
        kinds = df[(df.metric == "ops") & df.kind.isin(["mul", "div"])
                   & (df.function == "rational")]
        muldiv = kinds.groupby(["strategy", "n"]).value.sum()
        bs = (muldiv["reverse"] / muldiv["eval"]).max()
        rows.append(claim(
            "C3b", "Baur-Strassen: for a rational f, f and grad f take at most 3x the "
            "multiplications and divisions of f", "mul+div ratio <= 3",
            f"max ratio {bs:.2f} (rational family, reverse mode)", bs <= 3))
    per_dir = r[r.strategy == "forward"].groupby("function").per_direction.max()
    rows.append(claim(
        "C4a", "forward mode: n passes, each a bounded multiple of K",
        "cost per direction / K bounded",
        "max " + ", ".join(f"{f} {v:.2f}" for f, v in per_dir.items()),
        bool((per_dir <= 4.0).all())))
    return rows
