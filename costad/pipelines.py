"""The two derivative pipelines every transformation is built on (HIPS autograd's model).

`make_vjp` records f once and returns its value and a pullback (one backward sweep per
call); `make_jvp` returns a function pushing tangents forward through f (one pass per
call). `grad`, `value_and_grad`, `vjp`, `jvp`, `jacobian`, `hvp` and the study use nothing
else. Inputs are flattened once into leaves plus a structure record (`costad.tree`); the
interpretations see flat lists only, and a tangent or cotangent must have the structure it
stands for.

Gradients have the type of their input leaf: a Python float for a float, a NumPy scalar of
the same dtype for a NumPy scalar, an array of the same dtype and shape for an array.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import cost as _cost
from .core import ShapeDtype, Tracer, dtype_of, is_abstract, shape_of
from .errors import CostadError, OutputTypeError
from .forward import jvp_call
from .reverse import adjoint_peak, backward, record, tape_storage, thaw
from .tree import TreeDef, flatten_inputs, tree_flatten

__all__ = ["make_vjp", "make_jvp", "as_leaf_gradient", "zeros_like_leaf", "check_real_leaf",
           "tangent_leaves", "one_like", "cast_like", "detached"]


def zeros_like_leaf(leaf):
    """A zero of the type, dtype and shape of ``leaf`` (free)."""
    if is_abstract(leaf):
        return ShapeDtype(shape_of(leaf), dtype_of(leaf))
    if leaf.__class__ is float:
        return 0.0
    if isinstance(leaf, np.ndarray):
        return np.zeros_like(leaf)
    if isinstance(leaf, np.generic):
        return leaf.dtype.type(0)
    return np.zeros(shape_of(leaf), dtype=dtype_of(leaf))       # a tracer of an outer level


def as_leaf_gradient(g, leaf, owned: bool = False):
    """The gradient ``g`` of one input leaf, with the leaf's type, dtype and shape.

    A gradient of another shape is an internal error: it is never broadcast to fit. An
    array is copied unless ``owned`` says nothing else holds it (a fresh, writeable array of
    the leaf's dtype, returned once): a view of the tape or a shared adjoint never is.
    """
    if g is None:
        return zeros_like_leaf(leaf)
    if shape_of(g) != shape_of(leaf):
        raise AssertionError(f"costad internal error: a gradient of shape {shape_of(g)} for "
                             f"an input of shape {shape_of(leaf)}")
    if isinstance(g, Tracer) or isinstance(leaf, Tracer):
        return g                                  # nested: the outer trace owns the types
    if is_abstract(leaf) or is_abstract(g):
        return ShapeDtype(shape_of(leaf), dtype_of(leaf))
    if leaf.__class__ is float:
        return float(g)
    if isinstance(leaf, np.ndarray):
        if owned and g.__class__ is np.ndarray and g.dtype == leaf.dtype:
            return g
        return np.array(g, dtype=leaf.dtype)      # a fresh array, never a view of the tape
    return leaf.dtype.type(g)


def _owned(adjoint, seeds: list, adjoints: list) -> bool:
    """True if an input's adjoint array is the sweep's own: made by a primitive (no base),
    writeable, not a seed the caller passed, and the adjoint of this input only."""
    return (adjoint.__class__ is np.ndarray and adjoint.base is None
            and adjoint.flags.writeable and not any(adjoint is s for s in seeds)
            and sum(a is adjoint for a in adjoints) == 1)


def check_real_leaf(value, path: str, what: str):
    """Refuse an output, tangent or cotangent leaf that is not a real number or a plain
    array (a masked array's mask would be silently ignored)."""
    if isinstance(value, Tracer):
        return value
    subject = f"{what} {path}".rstrip()           # a single leaf has no path
    if isinstance(value, np.ndarray) and value.__class__ is not np.ndarray:
        raise OutputTypeError(f"costad: {subject} is a {value.__class__.__name__}, an "
                              "ndarray subclass; pass a plain ndarray (np.asarray)")
    if value.__class__ is ShapeDtype:
        if value.dtype.kind not in "fiu":
            raise OutputTypeError(f"costad: {subject} is an abstract {value.dtype} array")
        return value
    if isinstance(value, (bool, np.bool_)) or getattr(value, "dtype", None) == np.bool_:
        raise OutputTypeError(f"costad: {subject} is boolean; it has no derivative")
    kind = np.result_type(value).kind if isinstance(value, (int, float, complex, np.generic,
                                                           np.ndarray)) else None
    if kind is None:
        raise OutputTypeError(f"costad: {subject} is a {type(value).__name__}, not a "
                              "number or an array")
    if kind == "c":
        raise OutputTypeError(f"costad: {subject} is complex; costad differentiates "
                              "real-valued functions only")
    if kind not in "fiu":
        raise OutputTypeError(f"costad: {subject} has dtype {np.result_type(value)}")
    return value


def one_like(value):
    """The seed 1 in the dtype of ``value`` (a Python float for a Python number), so that a
    reverse sweep runs in the precision of the function it differentiates; abstract for an
    abstract value, so that nothing derived from it is allocated."""
    if is_abstract(value):
        return ShapeDtype(shape_of(value), dtype_of(value))
    dtype = getattr(value, "dtype", None)
    if dtype is None or value.__class__ is float:
        return 1.0
    return dtype.type(1) if dtype.kind == "f" else 1.0


def cast_like(c, value):
    """A plain cotangent at least as precise as the value it stands for (free): a Python
    number takes the value's dtype, an array is promoted, never demoted; abstract for an
    abstract value."""
    if isinstance(c, Tracer) or c.__class__ is ShapeDtype:
        return c
    if is_abstract(value):
        return ShapeDtype(shape_of(value), dtype_of(value))
    if isinstance(value, Tracer):
        return c
    dtype = getattr(value, "dtype", None)
    if dtype is None or dtype.kind != "f":
        return c
    if isinstance(c, (np.ndarray, np.generic)):
        wider = np.promote_types(c.dtype, dtype) if c.dtype.kind in "fiub" else dtype
        return c if c.dtype == wider else c.astype(wider)
    return dtype.type(c) if value.__class__ is not float else c


def tangent_leaves(v, in_tree: TreeDef, leaves: list, what: str = "the tangent v") -> list:
    """The leaves of a tangent (or direction) ``v``, checked against the inputs' structure
    and cast to each input's dtype."""
    v_leaves, v_tree = tree_flatten(v, lambda t, path: check_real_leaf(t, path, what),
                                    name="v")
    in_tree.check_matches(v_tree, what, "x", "v")
    out = []
    for t, leaf in zip(v_leaves, leaves):
        if isinstance(t, Tracer):
            out.append(t)
        elif is_abstract(t) or is_abstract(leaf):
            out.append(ShapeDtype(shape_of(leaf), dtype_of(leaf)))
        elif isinstance(leaf, np.ndarray) or isinstance(t, np.ndarray):
            out.append(np.asarray(t, dtype=dtype_of(leaf)))
        elif leaf.__class__ is float:
            out.append(float(t))
        else:
            out.append(dtype_of(leaf).type(t))
    return out


def make_vjp(f: Callable, x: Any, keep_inputs: bool = False, once: bool = False):
    """Record ``f(x)`` once; return ``(value, pullback)``.

    ``pullback(ct)`` takes a cotangent with the structure of the value and returns
    ``ct^T J`` with the structure of ``x``; each call is one backward sweep. Inside a
    `counting()` block the tape's storage, and the peak bytes of tape and adjoints during a
    sweep, are recorded once, here. With ``keep_inputs`` the tape records copies of the
    input arrays, so that a pullback called later is not changed by the caller updating its
    arrays in between (`costad.vjp`); gradients, which sweep at once, need no copy. With
    ``once`` the pullback may be called only once (gradients): its sweep frees the tape's
    values as it passes them, which lowers the peak memory of the sweep, and, unless it
    is counted, the tape keeps only the arrays the sweep's rules read (`record`'s ``lean``),
    which lowers the recording's.

    The tape keeps the constant arrays f passed to operations by reference, and holds those
    its VJP rules read read-only for as long as it lives (`costad.reverse`): the pullback
    keeps them read-only until it is dropped (with ``once``, until it has swept).
    """
    leaves, in_tree = flatten_inputs(x)
    if keep_inputs:
        leaves = [detached(leaf) for leaf in leaves]
    # A single sweep that is not counted needs only what the rules read: the recording
    # then keeps no other array (a counted one keeps all, for the storage it charges).
    # Asked once, before recording: storage is charged only from a tape recorded whole,
    # even if f leaves a counting block of its own open.
    counted = _cost.is_counting()
    tape, inputs, values, nodes, out_tree = record(f, leaves, in_tree,
                                                   lean=once and not counted)
    stored_bytes = 0
    if counted:
        stored_nodes, stored_bytes = tape_storage(tape)
        _cost.charge_storage(stored_nodes, stored_bytes)
        outputs = [node for node in nodes if node is not None]
        _cost.charge_peak(stored_bytes + adjoint_peak(tape, outputs, inputs))
    # The caller gets copies: the tape keeps its own arrays (tanh's rule reuses its output),
    # and an output may be an input itself (the identity, x.copy()).
    value = out_tree.unflatten(detached(v) for v in values)
    swept: list = []

    def pullback(ct):
        ct_leaves, ct_tree = tree_flatten(
            ct, lambda c, path: check_real_leaf(c, path, "the cotangent"), name="ct")
        out_tree.check_matches(ct_tree, "the cotangent", "f's output", "ct")
        seeds = [(node, cast_like(c, v)) for node, c, v in zip(nodes, ct_leaves, values)
                 if node is not None]
        if once:
            if swept:
                # its sweep has freed the tape: a second call would read nothing
                raise CostadError("costad: this pullback was made with once=True and has "
                                  "already swept its tape; use once=False (or costad.vjp) "
                                  "to call a pullback again")
            swept.append(True)
        try:
            with _cost.sweeping(stored_bytes):
                adjoints = backward(tape, seeds, inputs, consume=once)
            return in_tree.unflatten(as_leaf_gradient(a, leaf, _owned(a, ct_leaves, adjoints))
                                     for a, leaf in zip(adjoints, leaves))
        finally:
            if once:
                # Swept for good: the constant arrays the tape held read-only are writeable
                # again now (`costad.reverse`'s `_HeldTape`), whoever keeps the pullback.
                thaw(tape)

    return value, pullback


def detached(value):
    """A plain array the caller may change freely: a copy (a scalar or tracer as it is)."""
    return np.array(value) if value.__class__ is np.ndarray else value


def make_jvp(f: Callable, x: Any):
    """Flatten ``x`` once; return ``(leaves, in_tree, push)``.

    ``push(tangents)`` takes one tangent per leaf (None for zero) and evaluates ``f`` with
    them, returning ``(values, out_tangents, out_tree)`` as flat lists (a tangent is None
    where the output does not depend on the inputs).
    """
    leaves, in_tree = flatten_inputs(x)

    def push(tangents: list):
        return jvp_call(f, leaves, tangents, in_tree)

    return leaves, in_tree, push

