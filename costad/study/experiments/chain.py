"""C5: the association of the chain rule's product decides its cost."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import chain as chains

from .. import Settings, Task
from ..claims import claim, exact_counts
from ..fits import Sweep
from ..frames import counts_frame, times_frame
from ..measure import count_call, resource_rows, row
from ..recipes import timed
from ..model import configurations
from ..plotting import (STRATEGY_COLORS, TIME_LABEL, figure, finish, plot_counts, plot_times,
                        shade_regimes, theory)

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "FITS", "grid", "tasks",
           "figures", "claims", "chain_figure"]

NAME = "chain"
ORDER = 40
DESCRIPTION = "Jacobian chain products: left (R-1)n^3 + n^2, right R n^2, optimal by DP (C5)"
TITLE = "C5: association of the chain rule"
SENTENCE = ("Multiplying the Jacobians from the input side costs (R-1)n^3 + n^2 "
            "multiplications, from the output side R n^2.")
# Multiplications, the classical unit of matrix chains; random chains sweep nothing.
FITS = Sweep(kind="mul", axis={"fixed-R": "n", "fixed-n": "R"})
ORDERS = chains.ORDERS


def grid(settings: Settings) -> dict:
    if settings.quick:
        return {"fixed_R": {"R": 8, "n": [4, 16, 64]}, "fixed_n": {"n": 32, "R": [1, 4, 16]},
                "random": {"chains": 3, "factors": 6, "max_dim": 100}}
    return {"fixed_R": {"R": 8, "n": [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]},
            "fixed_n": {"n": 64, "R": [1, 2, 4, 8, 16, 32, 64]},
            "random": {"chains": 6, "factors": 8, "max_dim": 200}}


def _measure(function: str, dims: list[int], settings: Settings, **keys) -> list[dict]:
    rng = np.random.default_rng(settings.seed + sum(dims))
    mats = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(dims[:-1], dims[1:])]
    rows = []
    dims_note = "dims=" + ",".join(map(str, dims))
    for order in ORDERS:
        base = dict(experiment=NAME, function=function, strategy=order, **keys)
        cost, _ = count_call(lambda: chains.multiply(mats, order))
        rows.append(row(base, "ops", cost.by_op.get("mul", 0), "ops", kind="mul",
                        predicted=chains.cost(dims, order), note=dims_note))
        rows.append(row(base, "ops", cost.by_op.get("add", 0), "ops", kind="add",
                        note=dims_note))
        rows += resource_rows(base, cost)
        rows += timed(base, cost, lambda: chains.multiply(mats, order), settings.repeats,
                      settings.calibration, 1)
    return rows


def tasks(settings: Settings) -> list[Task]:
    g = grid(settings)
    out = []
    R = g["fixed_R"]["R"]
    for n in g["fixed_R"]["n"]:
        out.append(Task(f"R={R} n={n}", partial(_measure, "fixed-R", [n] * (R + 1) + [1],
                                                 settings, n=n, R=R)))
    n = g["fixed_n"]["n"]
    for R in g["fixed_n"]["R"]:
        out.append(Task(f"n={n} R={R}", partial(_measure, "fixed-n", [n] * (R + 1) + [1],
                                                 settings, n=n, R=R)))
    rng = np.random.default_rng(settings.seed)
    spec = g["random"]
    for i in range(spec["chains"]):
        dims = [int(d) for d in rng.integers(1, spec["max_dim"] + 1, spec["factors"] + 1)]
        out.append(Task(f"random chain {i}", partial(_measure, f"random-{i}", dims, settings,
                                                      R=spec["factors"] - 1)))
    return out


# ------------------------------------------------------------------------------ report

def chain_figure(df: pd.DataFrame):
    """Chain products: left vs right vs optimal against n (fixed R) and against R (fixed n)."""
    mul, times = counts_frame(df, "mul"), times_frame(df)
    fig = figure((11, 8))
    (ax_n, ax_r), (ax_nt, ax_rt) = fig.subplots(2, 2)
    for function, x, ax, ax_t in (("fixed-R", "n", ax_n, ax_nt), ("fixed-n", "R", ax_r, ax_rt)):
        c = mul[mul.function == function]
        if c.empty:
            continue
        plot_counts(ax, c, x, ORDERS)
        grid_ = c[c.strategy == "left"].sort_values(x)
        n, R = grid_.n.astype(float).to_numpy(), grid_.R.astype(float).to_numpy()
        theory(ax, grid_[x], (R - 1) * n ** 3 + n ** 2, "theory (R-1)n^3 + n^2",
               STRATEGY_COLORS["left"])
        theory(ax, grid_[x], R * n ** 2, "theory R n^2", STRATEGY_COLORS["right"])
        fixed = f"R = {int(R[0])}" if x == "n" else f"n = {int(n[0])}"
        label = "n (inner dimension)" if x == "n" else "R (number of factors - 1)"
        finish(ax, label, "scalar multiplications (mul)", f"counted, {fixed}")
        configs = configurations(df[df.function == function])
        plot_times(ax_t, times[times.function == function], x, ORDERS, configs)
        finish(ax_t, label, TIME_LABEL, f"measured, {fixed}")
        shade_regimes(ax_t, configs, x, ORDERS)
    fig.suptitle("chain rule association: dims [n]*(R+1) + [1]", fontsize=11)
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"chain": partial(chain_figure, df)}


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    total, ok = exact_counts(df)
    left = fits[(fits.function == "fixed-R") & (fits.strategy == "left")].count_slope
    right = fits[(fits.function == "fixed-R") & (fits.strategy == "right")].count_slope
    mul = counts_frame(df, "mul")
    random = mul[mul.function.str.startswith("random")].pivot_table(
        index="function", columns="strategy", values="value", aggfunc="first")
    beats = bool((random["optimal"] <= random[["left", "right"]].min(axis=1)).all())
    return [claim(
        "C5", "left association (R-1)n^3 + n^2, right R n^2; optimal by DP",
        "exact counts; slopes 3 and 2 in n",
        f"{ok}/{total} counts equal; slopes left {left.iloc[0]:.2f}, right "
        f"{right.iloc[0]:.2f}; optimal <= left, right on {len(random)} random chains",
        ok == total and beats)]
