"""C4: forward mode costs ~ #inputs (n JVPs), reverse ~ #outputs (m VJPs)."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import count, jacobian

from .. import Settings, Task
from ..claims import claim, exact_counts
from ..fits import Sweep
from ..frames import counts_frame, times_frame
from ..measure import count_call, count_rows, relative_error, row
from ..model import configurations
from ..plotting import (COUNT_LABEL, STRATEGY_COLORS, TIME_LABEL, figure, finish, plot_counts,
                        plot_times, shade_regimes, theory)
from ..recipes import timed

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "FITS", "grid", "tasks",
           "figures", "claims", "predicted", "crossover", "jacobian_figure"]

NAME = "jacobian_shape"
ORDER = 30
DESCRIPTION = "Jacobian of tanh(A x), R^n -> R^m, m swept at fixed n: n JVPs vs m VJPs (C4)"
TITLE = "C4: Jacobians, forward against reverse"
SENTENCE = ("n JVPs against m VJPs for f: R^n -> R^m: reverse wins for few outputs, forward "
            "for many.")
FITS = Sweep(kind="total", axis="m")


def grid(settings: Settings) -> dict:
    if settings.quick:
        return {"n": 16, "m": [1, 4, 16, 48]}
    # n = 400: each pass reads the m x n matrix A, so that from m of a few hundred on the
    # passes' data, not their interpretation, sets the time (the model's compute or memory
    # regime); the counted crossover sits near m = 2n.
    return {"n": 400, "m": [1, 2, 5, 10, 20, 40, 80, 160, 320, 640, 1280]}


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
        # n passes of f forward; reverse records f once and sweeps m times.
        rows += timed(b, cost, lambda: jac(x), settings.repeats, settings.calibration,
                      n if mode == "forward" else 1, m if mode == "reverse" else 1)
    return rows


def tasks(settings: Settings) -> list[Task]:
    g = grid(settings)
    return [Task(f"m={m}", partial(_run, g["n"], m, settings)) for m in g["m"]]


# ------------------------------------------------------------------------------ report

def crossover(ms, forward, reverse) -> float | None:
    """The m where the reverse cost overtakes the forward cost (log-log interpolation)."""
    ms, f, r = (np.asarray(a, float) for a in (ms, forward, reverse))
    diff = np.log(r) - np.log(f)
    for i in range(len(ms) - 1):
        if diff[i] <= 0 < diff[i + 1]:
            t = -diff[i] / (diff[i + 1] - diff[i])
            return float(np.exp(np.log(ms[i]) + t * (np.log(ms[i + 1]) - np.log(ms[i]))))
    return None


def _crossover_of(df: pd.DataFrame) -> float | None:
    by = counts_frame(df).pivot_table(index="m", columns="strategy", values="value",
                                      aggfunc="first")
    return crossover(by.index, by["forward"], by["reverse"])


def jacobian_figure(df: pd.DataFrame):
    """Jacobian of f: R^n -> R^m against m at fixed n: n JVPs against m VJPs."""
    counts, times = counts_frame(df), times_frame(df)
    n = int(df.n.dropna().iloc[0])
    fig = figure((11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    plot_counts(ax_c, counts, "m", ("forward", "reverse"))
    for strategy in ("forward", "reverse"):
        c = counts[counts.strategy == strategy].sort_values("m")
        theory(ax_c, c.m, c.predicted.astype(float), f"theory {strategy} (exact)",
               STRATEGY_COLORS[strategy])
    m_star = _crossover_of(df)
    for ax in (ax_c, ax_t):
        ax.axvline(n, color="gray", linestyle=":", linewidth=1,
                   label=f"m = n = {n} (equal passes)")
    if m_star is not None:
        ax_c.axvline(m_star, color="black", linestyle="-.", linewidth=1,
                     label=f"counted crossover m = {m_star:.0f}")
    finish(ax_c, "m (number of outputs)", COUNT_LABEL, f"Jacobian of tanh(Ax), n = {n}: counts")
    configs = configurations(df)
    plot_times(ax_t, times, "m", ("forward", "reverse"), configs)
    finish(ax_t, "m (number of outputs)", TIME_LABEL, "measured time (median, min-max)")
    shade_regimes(ax_t, configs, "m", ("forward", "reverse"))
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"jacobian_shape": partial(jacobian_figure, df)}


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    m_star = _crossover_of(df)
    n = int(df.n.dropna().iloc[0])
    total, ok = exact_counts(df)
    # From the exact counts of jacobian_shape: n (4mn + 2m) = 2mn + m (3m + 2mn - n).
    m_theory = (4 * n * n + n) / (2 * n + 3)
    return [claim(
        "C4", "forward costs ~ #inputs (n JVPs), reverse ~ #outputs (m VJPs)",
        f"passes equal at m = n = {n}; counted costs cross at m = (4n^2+n)/(2n+3) = "
        f"{m_theory:.1f}, since each forward pass also re-evaluates f",
        f"counted crossover at m = {m_star:.0f}; {ok}/{total} counts equal the exact "
        "prediction" if m_star else f"no crossover in the sweep; {ok}/{total} exact",
        m_star is not None and n / 4 <= m_star <= 4 * n and ok == total)]
