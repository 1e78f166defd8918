"""Counting on abstract inputs (`costad.ShapeDtype`): what a strategy costs at any size,
without running it.

`strategy_cost` is what the study's abstract rows and `costad count` call. Reverse mode is
counted as one recording and one sweep from an abstract cotangent, rather than
`value_and_grad`'s concrete seed 1.0: the counts are the same (the seed is free, and every
count depends on shapes only; a test compares them), but a concrete seed broadcast back
through a product with a constant (``np.sum(100.0 * x)``) is computed concretely by the
engine, which at n = 10^9 allocates gigabytes.
"""
from __future__ import annotations

from typing import Callable

import costad
from costad import Cost, ShapeDtype
from costad.core import dtype_of
from costad.gradients import check_scalar_output

__all__ = ["STRATEGIES", "strategy_cost"]

STRATEGIES = ("eval", "fd", "fd-central", "forward", "reverse")


def _reverse(f: Callable) -> Callable:
    def value_and_gradient(x):
        value, pullback = costad.vjp(f, x)
        check_scalar_output(value, "a gradient")
        return value, pullback(ShapeDtype((), dtype_of(value)))
    return value_and_gradient


def strategy_cost(f: Callable, spec, strategy: str) -> Cost:
    """The exact `Cost` of ``f`` (``eval``) or of its value and gradient by ``strategy``, on
    ``spec`` (abstract or concrete inputs, any pytree)."""
    if strategy == "eval":
        return costad.count(f, spec)
    if strategy == "reverse":
        return costad.count(_reverse(f), spec)
    if strategy not in STRATEGIES:
        raise ValueError(f"costad: unknown strategy {strategy!r}; choose one of "
                         f"{', '.join(STRATEGIES)}")
    return costad.count(costad.value_and_grad(f, mode=strategy), spec)
