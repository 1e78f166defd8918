"""Closures of loop bodies: the traced values a function refers to, and running it again with
those values replaced.

A loop body such as ``lambda h, x: np.tanh(W @ h + U @ x)`` refers to parameters (W, U)
through its closure, not its arguments. To record such a body once and run it again later
(a checkpointed loop recomputes steps during the backward sweep, after the trace that made
W has ended), costad needs W as an explicit input. `discover` runs the body once on plain
values, uncounted, and lists the traced values of enclosing interpretations it meets; it is
the closure conversion JAX performs when it makes a jaxpr. `call` runs the body with those
values replaced by others (their values one level down, or fresh tracers of a new tape).

Both are capturing traces (`costad.core.capturing`): they see every primitive applied in
their extent whose traced arguments all belong to enclosing (or ended) interpretations.
"""
from __future__ import annotations

from typing import Callable

from . import cost as _cost
from .core import Trace, Tracer, apply, capturing, evaluate, primal_value
from .errors import UnsupportedOperationError
from .tree import TreeDef, tree_flatten

__all__ = ["discover", "call"]


class _BodyTracer(Tracer):
    """A value inside a body run by `_Discovery` or `_Substitution`."""

    __slots__ = ("value",)

    def __init__(self, trace: Trace, value):
        self._trace = trace
        self.value = value

    @property
    def primal(self):
        return self.value


class _Discovery(Trace):
    """Evaluates on plain values and notes the enclosing traced values met on the way."""

    __slots__ = ("found",)

    def __init__(self, level: int):
        super().__init__(level)
        self.found: dict[int, Tracer] = {}

    def note(self, value):
        if isinstance(value, _BodyTracer) and value._trace is self:
            return value.value
        if isinstance(value, Tracer):
            self.found.setdefault(id(value), value)
            return primal_value(value)
        return value

    def process(self, prim, args, params):
        out = evaluate(prim, tuple(self.note(a) for a in args), params)
        return _BodyTracer(self, out) if prim.differentiable else out


class _Substitution(Trace):
    """Replaces the known enclosing traced values, then applies one level down."""

    __slots__ = ("mapping",)

    def __init__(self, level: int, mapping: dict):
        super().__init__(level)
        self.mapping = mapping

    def replace(self, value):
        if isinstance(value, _BodyTracer) and value._trace is self:
            return value.value
        if isinstance(value, Tracer):
            try:
                return self.mapping[id(value)]
            except KeyError:
                raise UnsupportedOperationError(
                    "costad: a loop body used a traced value that was not in use when costad "
                    "first ran it (a closure variable touched only in later steps, or made "
                    "by another loop step); pass it to the loop explicitly (in the carry or "
                    "xs) instead") from None
        return value

    def process(self, prim, args, params):
        out = apply(prim, tuple(self.replace(a) for a in args), params, self.level)
        return _BodyTracer(self, out) if prim.differentiable else out


def _wrapped(trace, value):
    """A body's input as the trace sees it: float values (and traced ones) wrapped, other
    arguments (integers, indices, strings) passed as they are, constants of the body."""
    if isinstance(value, Tracer):
        return _BodyTracer(trace, value)
    dtype = getattr(value, "dtype", None)
    if value.__class__ is float or (dtype is not None and dtype.kind == "f"):
        return _BodyTracer(trace, value)
    return value


def discover(f: Callable, leaves: list, in_tree: TreeDef) -> tuple[list[Tracer], TreeDef]:
    """Run ``f(*in_tree.unflatten(leaves))`` once, uncounted; return the enclosing traced
    values it refers to (in order of first use) and the structure of its output."""
    with _cost.uncounted(), capturing(_Discovery) as trace:
        out = f(*in_tree.unflatten(_wrapped(trace, primal_value(v)) for v in leaves))
    out_leaves, out_tree = tree_flatten(out, name="the loop body's output")
    for o in out_leaves:
        trace.note(o)
    return list(trace.found.values()), out_tree


def call(f: Callable, leaves: list, in_tree: TreeDef, consts: list, values: list,
         box: bool = True) -> tuple[list, TreeDef]:
    """``f(*in_tree.unflatten(leaves))`` with each traced value ``consts[i]`` replaced by
    ``values[i]``; returns the output's leaves and structure.

    With ``box``, the inputs are wrapped even when nothing is replaced, so that NumPy code
    on plain values is still seen (and counted) by costad.
    """
    if not consts and not (box and _cost.is_counting()):
        out = f(*in_tree.unflatten(leaves))
        return tree_flatten(out, name="the loop body's output")
    mapping = {id(c): v for c, v in zip(consts, values)}
    with capturing(_Substitution, mapping) as trace:
        out = f(*in_tree.unflatten(_wrapped(trace, v) for v in leaves))
    out_leaves, out_tree = tree_flatten(out, name="the loop body's output")
    return [trace.replace(o) for o in out_leaves], out_tree
