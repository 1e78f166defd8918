"""C7: shared parameters. A recurrent net's gradient sums the contributions of T steps."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import value_and_grad
from costad.functions import rnn_init, rnn_loss

from .. import Settings, Task
from ..claims import claim
from ..fits import Sweep
from ..plotting import cost_and_time, memory_panels
from ..recipes import Point, measure_sweep, skipped

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "FITS", "grid", "tasks",
           "figures", "memory_figure", "claims"]

NAME = "rnn"
ORDER = 60
DESCRIPTION = "recurrent net with shared parameters: gradient cost against sequence length T (C7)"
TITLE = "C7: shared parameters (RNN)"
SENTENCE = ("The gradient with respect to parameters shared by T steps adds T contributions: "
            "linear in T for reverse mode.")
FITS = Sweep(kind="total", axis="T")
STATE = 6
STRATEGIES = ("fd", "forward", "reverse")
# The time model's companion: a wide state, whose matrix-vector products dominate each
# step's time; reverse mode only (its 2 d^2 + 2d parameters are beyond fd and forward).
WIDE, WIDE_STATE = "rnn-wide", 256
STATES = {"rnn": (STATE, STRATEGIES), WIDE: (WIDE_STATE, ("reverse",))}


def grid(settings: Settings) -> dict:
    return {"T": [5, 10, 20] if settings.quick else [5, 10, 20, 40, 80, 160], "state": STATE,
            "wide_state": WIDE_STATE}


def _point(T: int, settings: Settings, function: str = "rnn") -> tuple[Point, list[dict]]:
    """The RNN over T steps and the strategies to measure on it, with the rows of those
    left to the small state."""
    state, strategies = STATES[function]
    rng = np.random.default_rng(settings.seed)
    params = rnn_init(state, rng)
    xs = np.random.default_rng(settings.seed + T).standard_normal((T, state))

    def loss(p):
        return rnn_loss(p, xs)

    n = sum(p.size for p in params)
    base = dict(experiment=NAME, function=function, n=n, T=T)
    rows = [r for strategy in STRATEGIES if strategy not in strategies
            for r in skipped(base, strategy, f"n = {n} parameters: {strategy} is timed on "
                                             f"the state-{STATE} RNN only (budget)")]
    _, reference = value_and_grad(loss)(params)
    return Point(base, loss, params, tuple(s for s in STRATEGIES if s in strategies),
                 reference), rows


def _run(Ts, settings: Settings, function: str = "rnn") -> list[dict]:
    """Measure the RNN at every length of ``Ts``, all timed in the same interleaved rounds
    (the drift of a shared machine then bends no slope against T)."""
    return measure_sweep(partial(_point, settings=settings, function=function), Ts,
                         settings)


def tasks(settings: Settings) -> list[Task]:
    T = grid(settings)["T"]
    return ([Task(f"T={t}", partial(_run, [t], settings)) for t in T]
            + [Task(f"wide T={T[0]}...{T[-1]}", partial(_run, T, settings, WIDE))])


# ------------------------------------------------------------------------------ report

def figures(df: pd.DataFrame) -> dict:
    rnn = df[df.function == "rnn"]
    out = {"rnn": partial(cost_and_time, rnn, "T", "T (sequence length, steps)",
                          ("eval", "fd", "forward", "reverse"), "RNN gradient against T"),
           "rnn_memory": partial(memory_figure, rnn)}
    if (df.function == WIDE).any():
        out["rnn_wide"] = partial(cost_and_time, df[df.function == WIDE], "T",
                                  "T (sequence length, steps)", ("eval", "reverse"),
                                  f"RNN, state {WIDE_STATE}")
    return out


def memory_figure(df: pd.DataFrame):
    """Stored and peak bytes (counted) and measured peak memory against T (the small RNN,
    where every strategy runs)."""
    return memory_panels(df, "T", "T (sequence length, steps)", STRATEGIES, "RNN memory")


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    agree = df[df.metric == "agrees"]
    slope = float(fits[(fits.strategy == "reverse")
                       & (fits.function == "rnn")].count_slope.iloc[0])
    return [claim(
        "C7", "shared parameters: contributions add up over the T steps",
        "gradient matches FD; reverse cost linear in T",
        f"all strategies agree: {bool(agree.value.eq(1).all())}; reverse count slope "
        f"{slope:.2f}", agree.value.eq(1).all() and abs(slope - 1) <= 0.05)]
