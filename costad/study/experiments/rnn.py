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
from ..recipes import gradient_call, measure_eval, measure_gradient

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


def grid(settings: Settings) -> dict:
    return {"T": [5, 10, 20] if settings.quick else [5, 10, 20, 40, 80, 160], "state": STATE}


def _run(T: int, settings: Settings) -> list[dict]:
    rng = np.random.default_rng(settings.seed)
    params = rnn_init(STATE, rng)
    xs = np.random.default_rng(settings.seed + T).standard_normal((T, STATE))

    def loss(p):
        return rnn_loss(p, xs)

    n = sum(p.size for p in params)
    base = dict(experiment=NAME, function="rnn", n=n, T=T)
    rows = measure_eval(base, loss, params, settings.repeats, None)
    _, reference = value_and_grad(loss)(params)
    for strategy in STRATEGIES:
        rows += measure_gradient(base, strategy, gradient_call(loss, params, strategy),
                                 reference, settings.repeats)
    return rows


def tasks(settings: Settings) -> list[Task]:
    return [Task(f"T={T}", partial(_run, T, settings)) for T in grid(settings)["T"]]


# ------------------------------------------------------------------------------ report

def figures(df: pd.DataFrame) -> dict:
    return {"rnn": partial(cost_and_time, df, "T", "T (sequence length, steps)",
                           ("eval", "fd", "forward", "reverse"), "RNN gradient against T"),
            "rnn_memory": partial(memory_figure, df)}


def memory_figure(df: pd.DataFrame):
    """Stored and peak bytes (counted) and measured peak memory against T."""
    return memory_panels(df, "T", "T (sequence length, steps)", STRATEGIES, "RNN memory")


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    agree = df[df.metric == "agrees"]
    slope = float(fits[fits.strategy == "reverse"].count_slope.iloc[0])
    return [claim(
        "C7", "shared parameters: contributions add up over the T steps",
        "gradient matches FD; reverse cost linear in T",
        f"all strategies agree: {bool(agree.value.eq(1).all())}; reverse count slope "
        f"{slope:.2f}", agree.value.eq(1).all() and abs(slope - 1) <= 0.05)]
