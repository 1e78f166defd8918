"""C6 and C3 against depth: MLP gradients as the number of layers R grows."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import counted, value_and_grad
from costad.functions import mlp_backprop, mlp_init, mlp_loss

from .. import Settings, Task
from ..claims import claim
from ..fits import Sweep
from ..frames import counts_frame
from ..plotting import cost_and_time, memory_panels
from ..recipes import gradient_call, measure_eval, measure_gradient, skipped

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "FITS", "grid", "tasks",
           "figures", "memory_figure", "claims"]

NAME = "depth"
ORDER = 50
DESCRIPTION = ("MLP gradient against depth R: reverse and hand backprop linear in R, "
               "fd/forward ~R^2 (C6)")
TITLE = "C6: backpropagation in an MLP"
SENTENCE = ("Hand-written backprop and reverse mode agree and both grow linearly with the "
            "depth R; finite differences and forward mode grow like R^2.")
FITS = Sweep(kind="total", axis="R")
WIDTH, BATCH, CLASSES, INPUTS = 16, 8, 4, 4
STRATEGIES = ("fd", "forward", "reverse", "hand")
BUDGET_N = {False: 2500, True: 600}        # fd and forward only up to this many parameters


def grid(settings: Settings) -> dict:
    return {"R": [1, 2, 4] if settings.quick else [1, 2, 4, 8, 16], "width": WIDTH,
            "batch": BATCH, "classes": CLASSES, "inputs": INPUTS,
            "budget_n": BUDGET_N[settings.quick]}


def _hand(params, X, Y):
    """The hand-written backprop, run through costad's evaluation so its work is counted."""
    return counted(lambda p: mlp_backprop(p, X, Y))(params)


def _run(R: int, settings: Settings) -> list[dict]:
    rng = np.random.default_rng(settings.seed + R)
    params = mlp_init([INPUTS] + [WIDTH] * R + [CLASSES], rng)
    X = rng.standard_normal((BATCH, INPUTS))
    Y = np.eye(CLASSES)[rng.integers(0, CLASSES, BATCH)]

    def loss(p):
        return mlp_loss(p, X, Y)

    n = sum(p.size for p in params)
    base = dict(experiment=NAME, function="mlp", n=n, R=R)
    rows = measure_eval(base, loss, params, settings.repeats, None)
    _, reference = value_and_grad(loss)(params)
    for strategy in STRATEGIES:
        if strategy in ("fd", "forward") and n > BUDGET_N[settings.quick]:
            rows += skipped(base, strategy, f"n = {n} parameters exceeds the budget of "
                                            f"{BUDGET_N[settings.quick]} for {strategy}")
            continue
        fn = (partial(_hand, params, X, Y) if strategy == "hand"
              else gradient_call(loss, params, strategy))
        rows += measure_gradient(base, strategy, fn, reference, settings.repeats)
    return rows


def tasks(settings: Settings) -> list[Task]:
    return [Task(f"R={R}", partial(_run, R, settings)) for R in grid(settings)["R"]]


# ------------------------------------------------------------------------------ report

def figures(df: pd.DataFrame) -> dict:
    return {"depth": partial(cost_and_time, df, "R", "R (hidden layers)",
                             ("eval", "fd", "forward", "reverse", "hand"),
                             "MLP gradient against depth"),
            "depth_memory": partial(memory_figure, df)}


def memory_figure(df: pd.DataFrame):
    """Stored and peak bytes (counted) and measured peak memory against R."""
    return memory_panels(df, "R", "R (hidden layers)", STRATEGIES, "MLP memory")


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    agree = df[(df.metric == "agrees") & (df.strategy == "hand")]
    c = counts_frame(df).pivot_table(index="R", columns="strategy", values="value",
                                     aggfunc="first")
    ratio = (c["hand"] / c["reverse"]).max()
    return [claim(
        "C6", "backprop M_r = rho'(A_r x_r + b_r) grad x_{r+1}, grad A_r = M_r x_r^T, ...",
        "hand backprop = reverse mode to rounding",
        f"agrees at {int(agree.value.sum())}/{len(agree)} depths; hand / reverse cost "
        f"<= {ratio:.2f}", len(agree) > 0 and agree.value.eq(1).all())]
