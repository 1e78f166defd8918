"""C8: gradient descent theta <- theta - tau grad E on a quadratic with known L and mu.

E(theta) = 1/2 sum_i lambda_i theta_i^2 - <b, theta> with lambda in [mu, L]: after k steps the
gap is exactly E_k - E* = 1/2 sum_i lambda_i (1 - tau lambda_i)^(2k) (theta0_i - theta*_i)^2,
the `predicted` column. Steps: too small, 1/L, the optimal 2/(L + mu), and above 2/L
(divergent). Gradients come from costad's reverse mode.
"""
from __future__ import annotations

import numpy as np

from ..gradients import grad
from ..measure import row
from . import Settings, Task

NAME = "descent"
DESCRIPTION = ("gradient descent on a quadratic: small, 1/L, optimal 2/(L+mu) and divergent "
               "steps (C8)")
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
