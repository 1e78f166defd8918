"""Tracing, counting and the derivative transformations beyond the gradient.

`trace` and `count` look at one evaluation of f; `jvp`, `vjp`, `jacobian` and `hvp` are
built, like the gradients, on the two pipelines of `costad.pipelines`. Jacobians follow the
lecture: forward mode costs one pass per input (n JVPs), reverse mode one sweep per output
(m VJPs).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import boxing
from . import cost as _cost
from .core import ShapeDtype, dtype_of, is_abstract, is_differentiated, shape_of, unboxed
from .cost import repeated as cost_repeated
from .errors import CostadError, InputTypeError, ShapeError
from .gradients import check_repeated_pass, grad, unit_tangent
from .graph import Graph
from .pipelines import (check_real_leaf, detached, make_jvp, make_vjp, one_like, tangent_leaves,
                        zeros_like_leaf)
from .primitives import reshape, stack
from .reverse import record, thaw
from .tree import flatten_inputs, tree_flatten

__all__ = ["trace", "count", "counted", "jvp", "vjp", "jacobian", "hvp"]


def trace(f: Callable, x) -> Graph:
    """Record one evaluation of ``f(x)`` as a `Graph` (nodes in their linear order)."""
    leaves, in_tree = flatten_inputs(x)
    with _cost.counting() as c:
        tape, inputs, _, nodes, _ = record(f, leaves, in_tree)
    thaw(tape)                    # a graph is never swept: f's constants stay writeable
    return Graph(tape, inputs, nodes, in_tree.paths(), _cost.Cost(c.by_op))


def count(f: Callable, x) -> _cost.Cost:
    """The counted `Cost` of one evaluation of ``f(x)``: K is ``count(f, x).total``."""
    leaves, in_tree = flatten_inputs(x)
    with _cost.counting() as c:
        boxing.call(f, leaves, in_tree)
    return c


def counted(f: Callable) -> Callable:
    """``f`` made countable: inside a `counting()` block, ``counted(f)(x)`` evaluates ``f``
    on boxed inputs so that its plain NumPy operations are charged; outside one it is
    ``f(x)`` at NumPy's own speed (what timings measure). ``f`` may take several
    positional arguments, each boxed, and keyword arguments, passed as they are."""
    def counted_f(*args, **kwargs):
        if not _cost.is_counting():
            return f(*args, **kwargs)                 # NumPy's own speed, any input
        # nothing is differentiated: any leaf
        leaves, in_tree = tree_flatten(args, name="args")
        return boxing.call(lambda boxed: f(*boxed, **kwargs), leaves, in_tree)
    counted_f.__name__ = f"counted_{getattr(f, '__name__', 'f')}"
    return counted_f


def jvp(f: Callable, x, v):
    """Forward mode: ``(f(x), J v)`` for a tangent ``v`` with the structure of ``x``.

    ``v`` must have the structure of ``x`` (dict entries matched by key) and the same leaf
    shapes. ``f`` may return a scalar, an array, or a list/tuple/dict of them; the tangent
    has the same structure (zeros where the output does not depend on x).
    """
    leaves, in_tree, push = make_jvp(f, x)
    tangents = tangent_leaves(v, in_tree, leaves)
    values, out_tangents, out_tree = push(tangents)
    return (out_tree.unflatten(detached(v) for v in values),
            out_tree.unflatten(zeros_like_leaf(val) if t is None else detached(t)
                               for t, val in zip(out_tangents, values)))


def vjp(f: Callable, x):
    """Reverse mode: ``(f(x), pullback)`` where ``pullback(ct)`` returns ``ct^T J`` shaped
    like ``x``. ``ct`` must have the structure of f's output. The tape is recorded once, on
    copies of x's arrays (updating x later does not change the pullback); each pullback
    call is one backward sweep. The constant arrays f passed to operations whose VJP
    rules read them are kept read-only until the pullback is dropped (a change to them
    would change the pullback, silently)."""
    return make_vjp(f, x, keep_inputs=True)


def _single_leaf(x, what: str):
    leaves, in_tree = flatten_inputs(x)
    if len(leaves) != 1:
        raise InputTypeError(f"costad: {what} takes a single float or array input, "
                             f"got a structure of {len(leaves)} leaves")
    return leaves[0]


def _single_output(out_tree, values, what: str):
    if out_tree.node is not None or values[0] is None:
        raise ShapeError(f"costad: {what} needs f to return one array or scalar, not "
                         f"{out_tree.describe()}")
    # A string or an object has no Jacobian (a string's dtype made one of empty bytes).
    return check_real_leaf(values[0], "", "f(x)")


def jacobian(f: Callable, mode: str = "forward") -> Callable:
    """Return ``x -> J``, the Jacobian of f: R^n -> R^m, of shape ``f(x).shape + x.shape``.

    ``mode="forward"`` evaluates n JVPs (one pass of f per input direction);
    ``mode="reverse"`` records f once and runs m backward sweeps (one per output). On an
    abstract input (`ShapeDtype`) one pass or sweep is counted n or m times (they all have
    the same shape-only trace) and the Jacobian is returned as a `ShapeDtype`.
    """
    if mode not in ("forward", "reverse"):
        raise ValueError(f"costad: jacobian mode must be 'forward' or 'reverse', not {mode!r}")

    def jacobian_forward(x):
        leaf = _single_leaf(x, "jacobian")
        leaves, in_tree, push = make_jvp(f, x)
        x_shape = shape_of(leaf)
        n = int(np.prod(x_shape))
        if is_abstract(leaf):
            if not n:                     # no column: the value alone, as below
                value = boxing.call(f, leaves, in_tree)
                return ShapeDtype(shape_of(value) + x_shape, dtype_of(value))
            with cost_repeated(n):
                values, tangents, out_tree = push(unit_tangent(leaves, 0, 0))
                check_repeated_pass(n, list(values) + list(tangents),
                                    "forward-mode Jacobian")
            value = _single_output(out_tree, values, "jacobian")
            return ShapeDtype(shape_of(value) + x_shape, dtype_of(value))
        columns, value = [], None
        for k in range(n):
            values, tangents, out_tree = push(unit_tangent(leaves, 0, k))
            value = _single_output(out_tree, values, "jacobian")
            columns.append(zeros_like_leaf(value) if tangents[0] is None else tangents[0])
        if value is None:
            value = boxing.call(f, leaves, in_tree)
        return _assemble(columns, shape_of(value), x_shape, dtype_of(value), last=True)

    def jacobian_reverse(x):
        leaf = _single_leaf(x, "jacobian")
        x_shape = shape_of(leaf)
        value, pullback = make_vjp(f, x)
        if isinstance(value, (list, tuple, dict)) or value is None:
            del pullback          # its tape holds f's constants read-only: let it go now
            raise ShapeError(f"costad: jacobian needs f to return one array or scalar, not "
                             f"{type(value).__name__}")
        try:
            check_real_leaf(value, "", "f(x)")
        except CostadError:
            del pullback          # as above
            raise
        out_shape = shape_of(value)
        m = int(np.prod(out_shape))
        # An abstract input gives abstract rows, even where f's output is a constant
        # that does not depend on it (a concrete value then, but rows of no values).
        if is_abstract(value) or is_abstract(leaf):
            seed = ShapeDtype(out_shape, dtype_of(value)) if out_shape else one_like(value)
            if m:
                # The first sweep, then one of the m - 1 others charged m - 1 times: a
                # later sweep may cost more than the first (a checkpointed loop runs its
                # forward sweep again), as the concrete rows do.
                row = pullback(seed)
                try:
                    check_repeated_pass(m, [value] + tree_flatten(row)[0],
                                        "reverse-mode Jacobian")
                except CostadError:
                    del pullback          # its tape holds f's constants read-only
                    raise
            if m > 1:
                with cost_repeated(m - 1):
                    pullback(seed)
            return ShapeDtype(out_shape + x_shape, dtype_of(leaf))
        rows = []
        for i in range(m):
            seed = np.zeros(out_shape, dtype_of(value))
            seed[np.unravel_index(i, out_shape)] = 1                    # seeds are free
            rows.append(pullback(seed if out_shape else one_like(value)))
        return _assemble(rows, out_shape, x_shape, dtype_of(leaf), last=False)

    return jacobian_forward if mode == "forward" else jacobian_reverse


def _assemble(parts: list, out_shape: tuple, x_shape: tuple, dtype, last: bool):
    """The Jacobian from its columns (forward: one per input, stacked last) or rows
    (reverse: one per output, stacked first), shaped out_shape + x_shape. Plain values are
    stacked by NumPy; values an enclosing derivative traces, with free primitives."""
    shape = out_shape + x_shape
    if not parts:
        return np.zeros(shape, dtype)
    if not any(is_differentiated(p) for p in parts):
        plain = [np.broadcast_to(np.asarray(unboxed(p), dtype=dtype),
                                 out_shape if last else x_shape) for p in parts]
        return np.stack(plain, axis=-1 if last else 0).reshape(shape)
    size = int(np.prod(out_shape if last else x_shape))
    flat = [reshape(p, shape=(size,)) for p in parts]
    stacked = stack(flat, axis=1 if last else 0)
    return reshape(stacked, shape=shape)


def hvp(f: Callable, x, v):
    """Hessian-vector product H(x) v, by forward mode over reverse mode.

    ``v`` must have the structure of ``x``. The reverse-mode gradient is itself traced by
    forward mode, so its cost is counted like any other: a bounded multiple of K,
    independent of n.
    """
    return jvp(grad(f, mode="reverse"), x, v)[1]

