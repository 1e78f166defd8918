"""Measurement recipes shared by the experiments (gradient strategies, budgets)."""
from __future__ import annotations

from typing import Callable

from costad import count, value_and_grad

from .measure import (count_call, count_rows, peak_bytes, relative_error, row, time_call,
                       time_rows)

__all__ = ["TOLERANCE", "measure_eval", "measure_gradient", "gradient_call", "skipped"]

# Agreement with the reference (reverse-mode) gradient, relative to max(1, |reference|).
TOLERANCE = {"reverse": 1e-10, "forward": 1e-10, "hand": 1e-10, "fd": 1e-4,
             "fd-central": 1e-7}


def measure_eval(base: dict, f: Callable, x, repeats: int, predicted_K: int | None) -> list[dict]:
    """Count and time one plain evaluation of f: K and its time."""
    rows = count_rows(dict(base, strategy="eval"), count(f, x), predicted_K)
    rows += time_rows(dict(base, strategy="eval"), time_call(lambda: f(x), repeats))
    return rows


def measure_gradient(base: dict, strategy: str, fn: Callable[[], tuple], reference,
                     repeats: int, predicted_total: int | None = None) -> list[dict]:
    """Counts, agreement with the reference gradient, times and peak memory of ``fn()``,
    which returns ``(value, gradient)``."""
    base = dict(base, strategy=strategy)
    cost, (_, gradient) = count_call(fn)
    rows = count_rows(base, cost, predicted_total)
    error = relative_error(gradient, reference)
    rows.append(row(base, "rel_error", error, "1"))
    rows.append(row(base, "agrees", int(error <= TOLERANCE[strategy]), "bool",
                    note=f"tolerance {TOLERANCE[strategy]:g}"))
    rows += time_rows(base, time_call(fn, repeats))
    rows.append(row(base, "peak_bytes", peak_bytes(fn), "bytes", note="tracemalloc"))
    return rows


def gradient_call(f: Callable, x, mode: str) -> Callable[[], tuple]:
    """A call of no arguments computing ``(f(x), grad f(x))`` by ``mode``."""
    vg = value_and_grad(f, mode=mode)
    return lambda: vg(x)


def skipped(base: dict, strategy: str, reason: str) -> list[dict]:
    """A strategy left out by the budget: recorded, never silently dropped."""
    return [row(dict(base, strategy=strategy), "skipped", 1, "bool", note=reason)]
