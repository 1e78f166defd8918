"""C4: forward mode costs ~ #inputs (n JVPs), reverse ~ #outputs (m VJPs)."""
from __future__ import annotations

from functools import partial

import numpy as np

from ..api import count, jacobian
from ..measure import count_call, count_rows, relative_error, row, time_call, time_rows
from . import Settings, Task

NAME = "jacobian_shape"
DESCRIPTION = "Jacobian of tanh(A x), R^n -> R^m, m swept at fixed n: n JVPs vs m VJPs (C4)"


def grid(settings: Settings) -> dict:
    if settings.quick:
        return {"n": 16, "m": [1, 4, 16, 48]}
    return {"n": 40, "m": [1, 2, 5, 10, 20, 40, 80, 160]}


def predicted(mode: str, n: int, m: int) -> int:
    """Exact counts for f(x) = tanh(A x): K = 2mn (matmul m n mul + m(n-1) add, m tanh).

    forward: n passes of f with a tangent: K + (2mn - m) for A t + 3m for tanh's JVP.
    reverse: one pass (K) and m sweeps: 3m for tanh's VJP and 2mn - n for A^T ct.
    """
    K = 2 * m * n
    if mode == "forward":
        return n * (K + 2 * m * n - m + 3 * m)
    return K + m * (3 * m + 2 * m * n - n)


def _run(n: int, m: int, settings: Settings) -> list[dict]:
    rng = np.random.default_rng(settings.seed + m)
    A = rng.standard_normal((m, n)) / np.sqrt(n)
    x = rng.standard_normal(n)

    def f(v):
        return np.tanh(A @ v)

    base = dict(experiment=NAME, function="tanh(Ax)", n=n, m=m)
    K = count(f, x)
    rows = count_rows(dict(base, strategy="eval"), K, 2 * m * n)
    reference = jacobian(f, mode="reverse")(x)
    for mode in ("forward", "reverse"):
        jac = jacobian(f, mode=mode)
        b = dict(base, strategy=mode)
        cost, J = count_call(lambda: jac(x))
        rows += count_rows(b, cost, predicted(mode, n, m))
        rows.append(row(b, "rel_error", relative_error(J, reference), "1"))
        rows += time_rows(b, time_call(lambda: jac(x), settings.repeats))
    return rows


def tasks(settings: Settings) -> list[Task]:
    g = grid(settings)
    return [Task(f"m={m}", partial(_run, g["n"], m, settings)) for m in g["m"]]
