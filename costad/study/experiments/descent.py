"""C8: gradient descent theta <- theta - tau grad E on a quadratic with known L and mu.

E(theta) = 1/2 sum_i lambda_i theta_i^2 - <b, theta> with lambda in [mu, L]: after k steps the
gap is exactly E_k - E* = 1/2 sum_i lambda_i (1 - tau lambda_i)^(2k) (theta0_i - theta*_i)^2,
the `predicted` column. Steps: too small, 1/L, the optimal 2/(L + mu), and above 2/L
(divergent). Gradients come from costad's reverse mode.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import grad

from .. import Settings, Task
from ..claims import claim
from ..measure import row
from ..plotting import figure, finish

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "grid", "tasks", "figures",
           "claims", "descent_figure"]

NAME = "descent"
ORDER = 80
DESCRIPTION = ("gradient descent on a quadratic: small, 1/L, optimal 2/(L+mu) and divergent "
               "steps (C8)")
TITLE = "C8: gradient descent step sizes"
SENTENCE = ("Too small a step is slow, a step above 2/L diverges, and 2/(L+mu) is the best "
            "fixed step on a quadratic.")
MU, L = 0.1, 1.0
STEPS = {"small 0.1/L": 0.1 / L, "1/L": 1.0 / L, "optimal 2/(L+mu)": 2.0 / (L + MU),
         "too large 2.05/L": 2.05 / L}


def grid(settings: Settings) -> dict:
    return {"n": 10 if settings.quick else 20, "iterations": 60 if settings.quick else 200,
            "mu": MU, "L": L, "steps": STEPS}


def _run(settings: Settings) -> list[dict]:
    g = grid(settings)
    n, iterations = g["n"], g["iterations"]
    rng = np.random.default_rng(settings.seed)
    lam = np.geomspace(MU, L, n)
    b = rng.standard_normal(n)
    theta_star = b / lam
    e_star = -0.5 * float(np.sum(b * b / lam))

    def energy(theta):
        return 0.5 * np.sum(lam * theta * theta) - np.sum(b * theta)

    gradient = grad(energy)
    theta0 = np.zeros(n)
    rows = []
    for label, tau in STEPS.items():
        base = dict(experiment=NAME, function="quadratic", strategy=label, n=n, param=tau)
        theta = theta0.copy()
        for k in range(iterations + 1):
            gap = float(energy(theta)) - e_star
            predicted = 0.5 * float(np.sum(lam * (1 - tau * lam) ** (2 * k)
                                           * (theta0 - theta_star) ** 2))
            rows.append(row(dict(base, iteration=k), "gap", gap, "1", predicted=predicted))
            theta = theta - tau * gradient(theta)
    return rows


def tasks(settings: Settings) -> list[Task]:
    return [Task("step sizes", lambda: _run(settings))]


# ------------------------------------------------------------------------------ report

def descent_figure(df: pd.DataFrame):
    """Objective gap against iteration for each step size, with the exact prediction."""
    fig = figure((7, 4.6))
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
    finish(ax, "iteration k", "E(theta_k) - E* (objective units)",
           "gradient descent, mu = 0.1, L = 1 (reverse-mode gradients)")
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"descent": partial(descent_figure, df)}


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    g = df[df.metric == "gap"]
    last = g[g.iteration == g.iteration.max()].set_index("strategy").value.astype(float)
    first = g[g.iteration == 0].set_index("strategy").value.astype(float)
    optimal = [s for s in last.index if s.startswith("optimal")][0]
    small = [s for s in last.index if s.startswith("small")][0]
    large = [s for s in last.index if s.startswith("too large")][0]
    return [claim(
        "C8", "small tau is slow, large tau diverges, an optimal tau exists",
        "tau* = 2/(L+mu) fastest; tau > 2/L diverges",
        f"final gap (absolute): optimal {abs(last[optimal]):.1e} (rounding), small "
        f"{last[small]:.1e}, too large {last[large]:.1e}",
        last[optimal] < last[small] and last[large] > first[large])]
