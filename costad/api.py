"""Tracing, counting and the derivative transformations beyond the gradient.

`trace` and `count` look at one evaluation of f; `jvp`, `vjp`, `jacobian` and `hvp` are the
building blocks of forward and reverse mode. Jacobians follow the lecture: forward mode
costs one pass per input (n JVPs), reverse mode one sweep per output (m VJPs).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import boxing
from . import cost as _cost
from .core import Tracer, shape_of
from .errors import InputTypeError, ShapeError
from .forward import jvp_call
from .gradients import grad, leaf_gradients, unit_tangent
from .graph import Graph
from .pytree import flatten
from .reverse import backward, record, tape_storage

__all__ = ["trace", "count", "counted", "jvp", "vjp", "jacobian", "hvp"]


def trace(f: Callable, x) -> Graph:
    """Record one evaluation of ``f(x)`` as a `Graph` (nodes in their linear order)."""
    leaves, rebuild, paths = flatten(x)
    with _cost.counting() as c:
        tape, inputs, output, _ = record(f, leaves, rebuild)
    return Graph(tape, inputs, output, paths, _cost.Cost(c.by_op))


def count(f: Callable, x) -> _cost.Cost:
    """The counted `Cost` of one evaluation of ``f(x)``: K is ``count(f, x).total``."""
    leaves, rebuild, _ = flatten(x)
    with _cost.counting() as c:
        boxing.call(f, leaves, rebuild)
    return c


def counted(f: Callable) -> Callable:
    """``f`` made countable: inside a `counting()` block, ``counted(f)(x)`` evaluates ``f``
    on boxed inputs so that its plain NumPy operations are charged; outside one it is
    ``f(x)`` at NumPy's own speed (what timings measure)."""
    def counted_f(x):
        leaves, rebuild, _ = flatten(x)
        return boxing.call(f, leaves, rebuild)
    counted_f.__name__ = f"counted_{getattr(f, '__name__', 'f')}"
    return counted_f


def _output_leaf(out, what: str):
    if isinstance(out, (list, tuple, dict)) or out is None:
        raise ShapeError(f"costad: {what} needs f to return one array or scalar, not "
                         f"{type(out).__name__}")
    return out


def jvp(f: Callable, x, v):
    """Forward mode: ``(f(x), J v)`` for a tangent ``v`` with the structure of ``x``.

    ``f`` may return a scalar, an array, or a list/tuple/dict of them; the tangent has the
    same structure (zeros where the output does not depend on x).
    """
    leaves, rebuild, paths = flatten(x)
    tangents, _, _ = flatten(v, name="v")
    if len(tangents) != len(leaves):
        raise ShapeError(f"costad: the tangent v has {len(tangents)} leaves but x has "
                         f"{len(leaves)}")
    for leaf, t, path in zip(leaves, tangents, paths):
        if shape_of(leaf) != shape_of(t):
            raise ShapeError(f"costad: the tangent for {path} has shape {shape_of(t)} but "
                             f"the input has shape {shape_of(leaf)}")
    value, tangent = jvp_call(f, leaves, tangents, rebuild)
    return value, _fill_zeros(tangent, value)


def _fill_zeros(tangent, value):
    """Replace the None (zero) tangents of a structured output by arrays of zeros."""
    if isinstance(value, (list, tuple)):
        return type(value)(_fill_zeros(t, v) for t, v in zip(tangent, value))
    if isinstance(value, dict):
        return {k: _fill_zeros(tangent[k], v) for k, v in value.items()}
    if tangent is None:
        return np.zeros(shape_of(value)) if isinstance(value, np.ndarray) else 0.0
    return tangent


def vjp(f: Callable, x):
    """Reverse mode: ``(f(x), pullback)`` where ``pullback(ct)`` returns ``ct^T J`` shaped
    like ``x``. The tape is recorded once; each pullback call is one backward sweep."""
    leaves, rebuild, _ = flatten(x)
    tape, inputs, output, value = record(f, leaves, rebuild)
    _output_leaf(value, "vjp")
    if _cost.is_counting():
        _cost.charge_storage(*tape_storage(tape))

    def pullback(ct):
        if shape_of(ct) != shape_of(value):
            raise ShapeError(f"costad: the cotangent has shape {shape_of(ct)} but f's output "
                             f"has shape {shape_of(value)}")
        if output is None:
            adjoints = [None] * len(tape)
        else:
            adjoints = backward(tape, output, ct)
        return rebuild(leaf_gradients(adjoints, inputs, leaves))

    return value, pullback


def _single_array(x, what: str):
    leaves, rebuild, _ = flatten(x)
    if len(leaves) != 1:
        raise InputTypeError(f"costad: {what} takes a single float or array input, "
                             f"got a structure of {len(leaves)} leaves")
    return leaves, rebuild


def jacobian(f: Callable, mode: str = "forward") -> Callable:
    """Return ``x -> J``, the Jacobian of f: R^n -> R^m, of shape ``f(x).shape + x.shape``.

    ``mode="forward"`` evaluates n JVPs (one pass of f per input direction);
    ``mode="reverse"`` records f once and runs m backward sweeps (one per output).
    """
    if mode not in ("forward", "reverse"):
        raise ValueError(f"costad: jacobian mode must be 'forward' or 'reverse', not {mode!r}")

    def jacobian_forward(x):
        leaves, rebuild = _single_array(x, "jacobian")
        x_shape = shape_of(leaves[0])
        n = int(np.prod(x_shape))
        columns = []
        out_shape = None
        for k in range(n):
            value, tangent = jvp_call(f, leaves, unit_tangent(leaves, 0, k), rebuild)
            out_shape = shape_of(_output_leaf(value, "jacobian"))
            columns.append(np.zeros(out_shape) if tangent is None else np.asarray(tangent))
        if out_shape is None:
            out_shape = shape_of(boxing.call(f, leaves, rebuild))
        if not columns:
            return np.zeros(out_shape + x_shape)
        J = np.stack([np.broadcast_to(c, out_shape) for c in columns], axis=-1)
        return J.reshape(out_shape + x_shape)

    def jacobian_reverse(x):
        leaves, rebuild = _single_array(x, "jacobian")
        x_shape = shape_of(leaves[0])
        tape, inputs, output, value = record(f, leaves, rebuild)
        out_shape = shape_of(_output_leaf(value, "jacobian"))
        if _cost.is_counting():
            _cost.charge_storage(*tape_storage(tape))
        m = int(np.prod(out_shape))
        rows = np.zeros((m,) + x_shape)
        if output is not None:
            for i in range(m):
                seed = np.zeros(out_shape)
                seed.flat[i] = 1.0                       # seeds are free
                adjoints = backward(tape, output, seed)
                g = adjoints[inputs[0]]
                if g is not None:
                    rows[i] = g
        return rows.reshape(out_shape + x_shape)

    return jacobian_forward if mode == "forward" else jacobian_reverse


def hvp(f: Callable, x, v):
    """Hessian-vector product H(x) v, by forward mode over reverse mode.

    The reverse-mode gradient is itself traced by forward mode, so its cost is counted
    like any other: a bounded multiple of K, independent of n.
    """
    gradient = grad(f, mode="reverse")
    _, tangent = jvp(gradient, x, v)
    return tangent
