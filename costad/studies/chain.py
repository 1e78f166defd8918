"""C5: the association of the chain rule's product decides its cost."""
from __future__ import annotations

from functools import partial

import numpy as np

from .. import chain
from ..measure import count_call, row, time_call, time_rows
from . import Settings, Task

NAME = "chain"
DESCRIPTION = "Jacobian chain products: left (R-1)n^3 + n^2, right R n^2, optimal by DP (C5)"
ORDERS = chain.ORDERS


def grid(settings: Settings) -> dict:
    if settings.quick:
        return {"fixed_R": {"R": 8, "n": [4, 16, 64]}, "fixed_n": {"n": 32, "R": [1, 4, 16]},
                "random": {"chains": 3, "factors": 6, "max_dim": 100}}
    return {"fixed_R": {"R": 8, "n": [4, 8, 16, 32, 64, 128, 256]},
            "fixed_n": {"n": 64, "R": [1, 2, 4, 8, 16, 32]},
            "random": {"chains": 6, "factors": 8, "max_dim": 200}}


def _measure(function: str, dims: list[int], settings: Settings, **keys) -> list[dict]:
    rng = np.random.default_rng(settings.seed + sum(dims))
    mats = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(dims[:-1], dims[1:])]
    rows = []
    dims_note = "dims=" + ",".join(map(str, dims))
    for order in ORDERS:
        base = dict(experiment=NAME, function=function, strategy=order, **keys)
        cost, _ = count_call(lambda: chain.multiply(mats, order))
        rows.append(row(base, "ops", cost.by_op.get("mul", 0), "ops", kind="mul",
                        predicted=chain.cost(dims, order), note=dims_note))
        rows.append(row(base, "ops", cost.by_op.get("add", 0), "ops", kind="add",
                        note=dims_note))
        rows += time_rows(base, time_call(lambda: chain.multiply(mats, order), settings.repeats))
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
