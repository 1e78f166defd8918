"""C7: shared parameters. A recurrent net's gradient sums the contributions of T steps."""
from __future__ import annotations

from functools import partial

import numpy as np

from ..functions import rnn_init, rnn_loss
from ..gradients import value_and_grad
from . import Settings, Task
from .common import gradient_call, measure_eval, measure_gradient

NAME = "rnn"
DESCRIPTION = "recurrent net with shared parameters: gradient cost against sequence length T (C7)"
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
