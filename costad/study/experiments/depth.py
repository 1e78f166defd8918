"""C6 and C3 against depth: MLP gradients as the number of layers R grows."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import ShapeDtype, counted, value_and_grad
from costad.functions import mlp_backprop, mlp_init, mlp_loss

from .. import Settings, Task
from ..claims import claim
from ..fits import Sweep
from ..abstract import strategy_cost
from ..frames import ABSTRACT, counts_frame
from ..measure import count_rows
from ..plotting import cost_and_time, memory_panels
from ..recipes import Point, measure_sweep, skipped

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
# The time model's companion: a wide MLP whose layers' matmuls dominate their time (fd and
# forward fall outside the budget and are recorded as skipped), also counted on abstract
# inputs up to about 10^9 parameters (R = 4096).
WIDE, WIDE_WIDTH, WIDE_BATCH = "mlp-wide", 512, 128
WIDTHS = {"mlp": (WIDTH, BATCH), WIDE: (WIDE_WIDTH, WIDE_BATCH)}
# Finite differences and forward mode count one pass per input array on abstract inputs
# (2R + 2 of them, each pass through all R layers): O(R^2) evaluations, so only this far.
ABSTRACT_PASSES_R = 64


def grid(settings: Settings) -> dict:
    return {"R": [1, 2, 4] if settings.quick else [1, 2, 4, 8, 16], "width": WIDTH,
            "batch": BATCH, "classes": CLASSES, "inputs": INPUTS,
            "budget_n": BUDGET_N[settings.quick],
            # from R = 2: with one hidden layer there is no width x width product yet
            "wide": {"width": WIDE_WIDTH, "batch": WIDE_BATCH,
                     "R": [2, 4] if settings.quick else [2, 4, 8, 16, 32],
                     "abstract_R": [2, 4, 64] if settings.quick else [2, 4, 16, 64, 256,
                                                                      1024, 4096]}}


def _hand(params, X, Y):
    """The hand-written backprop, run through costad's evaluation so its work is counted."""
    return counted(lambda p: mlp_backprop(p, X, Y))(params)


def _point(R: int, settings: Settings, function: str = "mlp") -> tuple[Point, list[dict]]:
    """The MLP of depth R and the strategies to measure on it, with the rows of those the
    budget leaves out."""
    width, batch = WIDTHS[function]
    rng = np.random.default_rng(settings.seed + R)
    params = mlp_init([INPUTS] + [width] * R + [CLASSES], rng)
    X = rng.standard_normal((batch, INPUTS))
    Y = np.eye(CLASSES)[rng.integers(0, CLASSES, batch)]

    def loss(p):
        return mlp_loss(p, X, Y)

    n = sum(p.size for p in params)
    base = dict(experiment=NAME, function=function, n=n, R=R)
    rows, chosen = [], []
    for strategy in STRATEGIES:
        if strategy in ("fd", "forward") and n > BUDGET_N[settings.quick]:
            rows += skipped(base, strategy, f"n = {n} parameters exceeds the budget of "
                                            f"{BUDGET_N[settings.quick]} for {strategy}")
        else:
            chosen.append(strategy)
    _, reference = value_and_grad(loss)(params)
    return Point(base, loss, params, tuple(chosen), reference,
                 calls={"hand": partial(_hand, params, X, Y)}), rows


def _run(Rs, settings: Settings, function: str = "mlp") -> list[dict]:
    """Measure the MLP at every depth of ``Rs``, all timed in the same interleaved rounds
    (the drift of a shared machine then bends no slope against R)."""
    return measure_sweep(partial(_point, settings=settings, function=function), Rs,
                         settings)


def _abstract(settings: Settings) -> list[dict]:
    """The wide MLP counted on abstract inputs (note "abstract"), every strategy, up to
    about 10^9 parameters: shapes only, nothing of that size allocated."""
    rng = np.random.default_rng(settings.seed)
    X = rng.standard_normal((WIDE_BATCH, INPUTS))
    Y = np.eye(CLASSES)[rng.integers(0, CLASSES, WIDE_BATCH)]
    rows = []
    for R in grid(settings)["wide"]["abstract_R"]:
        widths = [INPUTS] + [WIDE_WIDTH] * R + [CLASSES]
        spec = [s for a, b in zip(widths[:-1], widths[1:])
                for s in (ShapeDtype((a, b)), ShapeDtype((b,)))]
        base = dict(experiment=NAME, function=WIDE, n=sum(s.size for s in spec), R=R)
        for strategy in ("eval",) + STRATEGIES:
            if strategy in ("fd", "forward") and R > ABSTRACT_PASSES_R:
                continue
            cost = (strategy_cost(lambda p: mlp_backprop(p, X, Y), spec, "eval")
                    if strategy == "hand" else
                    strategy_cost(lambda p: mlp_loss(p, X, Y), spec, strategy))
            rows += count_rows(dict(base, strategy=strategy), cost, note=ABSTRACT)
    return rows


def tasks(settings: Settings) -> list[Task]:
    g = grid(settings)
    wide = g["wide"]["R"]
    return ([Task(f"R={R}", partial(_run, [R], settings)) for R in g["R"]]
            + [Task(f"wide R={wide[0]}...{wide[-1]}", partial(_run, wide, settings, WIDE))]
            + [Task("wide, abstract", partial(_abstract, settings))])


# ------------------------------------------------------------------------------ report

def figures(df: pd.DataFrame) -> dict:
    mlp = df[df.function == "mlp"]
    out = {"depth": partial(cost_and_time, mlp, "R", "R (hidden layers)",
                            ("eval", "fd", "forward", "reverse", "hand"),
                            "MLP gradient against depth"),
           "depth_memory": partial(memory_figure, mlp)}
    if (df.function == WIDE).any():
        out["depth_wide"] = partial(cost_and_time, df[df.function == WIDE], "R",
                                    "R (hidden layers)",
                                    ("eval", "fd", "forward", "reverse", "hand"),
                                    f"width {WIDE_WIDTH}, batch {WIDE_BATCH}")
    return out


def memory_figure(df: pd.DataFrame):
    """Stored and peak bytes (counted) and measured peak memory against R (the narrow MLP,
    where every strategy runs)."""
    return memory_panels(df, "R", "R (hidden layers)", STRATEGIES, "MLP memory")


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    agree = df[(df.metric == "agrees") & (df.strategy == "hand")]
    c = counts_frame(df[df.function == "mlp"]).pivot_table(
        index="R", columns="strategy", values="value", aggfunc="first")
    ratio = (c["hand"] / c["reverse"]).max()
    return [claim(
        "C6", "backprop M_r = rho'(A_r x_r + b_r) grad x_{r+1}, grad A_r = M_r x_r^T, ...",
        "hand backprop = reverse mode to rounding",
        f"agrees at {int(agree.value.sum())}/{len(agree)} depths; hand / reverse cost "
        f"<= {ratio:.2f}", len(agree) > 0 and agree.value.eq(1).all())]
