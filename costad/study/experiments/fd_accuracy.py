"""Finite-difference error against the step: truncation falls, rounding rises (the V)."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import grad
from costad.functions import seed_example

from .. import Settings, Task
from ..claims import claim
from ..measure import row
from ..plotting import STRATEGY_COLORS, figure, finish

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "grid", "tasks", "figures",
           "claims", "v_figure"]

NAME = "fd_accuracy"
ORDER = 70
DESCRIPTION = "fd and fd-central error against the step h: minima near sqrt(eps) and eps^(1/3)"
TITLE = "Finite-difference accuracy"
SENTENCE = ("Truncation error falls with the step, rounding error rises: the minimum sits "
            "near sqrt(eps) for forward and eps^(1/3) for central differences.")
POINT = (0.5, 1.5)
EPS = float(np.finfo(float).eps)
OPTIMAL = {"fd": EPS ** 0.5, "fd-central": EPS ** (1 / 3)}


def grid(settings: Settings) -> dict:
    per_decade = 2 if settings.quick else 4
    return {"log10_step": [-16 + k / per_decade for k in range(16 * per_decade + 1)],
            "point": list(POINT), "function": "seed"}


def _run(settings: Settings) -> list[dict]:
    exact = np.array(grad(seed_example)(POINT))
    scale = np.max(np.abs(exact))
    rows = []
    for strategy in ("fd", "fd-central"):
        base = dict(experiment=NAME, function="seed", strategy=strategy, n=len(POINT))
        errors = []
        for exponent in grid(settings)["log10_step"]:
            h = 10.0 ** exponent
            try:
                g = np.array(grad(seed_example, mode=strategy, step=h)(POINT))
            except ValueError as err:              # x + h == x: costad refuses the step
                rows.append(row(dict(base, param=h), "skipped", 1, "bool", note=str(err)))
                continue
            error = float(np.max(np.abs(g - exact)) / scale)
            errors.append((error, h))
            rows.append(row(dict(base, param=h), "error", error, "1",
                            note="max relative error of the gradient"))
        best_error, best_h = min(errors)
        rows.append(row(dict(base, param=best_h), "optimal_step", best_h, "1",
                        predicted=OPTIMAL[strategy],
                        note=f"measured minimum error {best_error:.3g}"))
    return rows


def tasks(settings: Settings) -> list[Task]:
    return [Task("steps", lambda: _run(settings))]


# ------------------------------------------------------------------------------ report

def v_figure(df: pd.DataFrame):
    """Error of finite differences against the step: the V shape and its theoretical minima."""
    fig = figure((7, 4.6))
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
    finish(ax, "step h (absolute)", "relative error of the gradient (1)",
           "finite differences on the seed example: truncation vs rounding")
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"fd_accuracy": partial(v_figure, df)}


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    o = df[df.metric == "optimal_step"].set_index("strategy")
    within = all(o.loc[s, "predicted"] / 100 <= o.loc[s, "value"] <= o.loc[s, "predicted"]
                 * 100 for s in o.index)
    return [claim(
        "FD", "finite-difference error is V-shaped in the step",
        "minima near sqrt(eps) = 1.5e-08 (fd) and eps^(1/3) = 6.1e-06 (central)",
        ", ".join(f"{s} {float(o.loc[s, 'value']):.1e}" for s in o.index), within)]
