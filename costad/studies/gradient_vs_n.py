"""C2-C3: the cost of a gradient against n, per strategy, over several function families."""
from __future__ import annotations

from functools import partial

from ..functions import FAMILIES
from ..gradients import value_and_grad
from . import Settings, Task
from .common import gradient_call, measure_eval, measure_gradient, skipped

NAME = "gradient_vs_n"
DESCRIPTION = ("gradient cost against n: fd (n+1)K + 3n, fd-central 2nK + 4n, forward ~nK, "
               "reverse ~K")
STRATEGIES = ("fd", "fd-central", "forward", "reverse")
# Strategies whose counted cost (n+1)K would exceed this many operations are skipped.
BUDGET_OPS = {False: 50_000_000, True: 2_000_000}


def grid(settings: Settings) -> dict:
    n = [10, 30, 100] if settings.quick else [10, 30, 100, 300, 1000]
    return {"n": n, "families": list(FAMILIES), "strategies": list(STRATEGIES),
            "budget_ops": BUDGET_OPS[settings.quick]}


def predicted(strategy: str, n: int, K: int) -> int | None:
    """Closed forms of value_and_grad's counted cost."""
    if strategy == "fd":
        return (n + 1) * K + 3 * n
    if strategy == "fd-central":
        return 2 * n * K + 4 * n + K          # the value costs one more evaluation
    return None


def _run(family_name: str, n: int, settings: Settings) -> list[dict]:
    family = FAMILIES[family_name]
    f, x = family.build(n, settings.seed)
    K = family.K(n)
    base = dict(experiment=NAME, function=family_name, n=n)
    rows = measure_eval(base, f, x, settings.repeats, K)
    _, reference = value_and_grad(f)(x)
    budget = BUDGET_OPS[settings.quick]
    for strategy in STRATEGIES:
        if strategy != "reverse" and (n + 1) * K > budget:
            rows += skipped(base, strategy, f"(n+1)K = {(n + 1) * K} ops exceeds the budget "
                                            f"of {budget} ops")
            continue
        rows += measure_gradient(base, strategy, gradient_call(f, x, strategy), reference,
                                 settings.repeats, predicted(strategy, n, K))
    return rows


def tasks(settings: Settings) -> list[Task]:
    out = []
    for family_name, family in FAMILIES.items():
        for n in grid(settings)["n"]:
            n = family.valid_n(n)
            out.append(Task(f"{family_name} n={n}", partial(_run, family_name, n, settings)))
    return out
