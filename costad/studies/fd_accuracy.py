"""Finite-difference error against the step: truncation falls, rounding rises (the V)."""
from __future__ import annotations

import numpy as np

from ..functions import seed_example
from ..gradients import grad
from ..measure import row
from . import Settings, Task

NAME = "fd_accuracy"
DESCRIPTION = "fd and fd-central error against the step h: minima near sqrt(eps) and eps^(1/3)"
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
