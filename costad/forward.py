"""Forward mode: values carry tangents; every primitive applies its JVP rule.

The tangent work is done with primitives one level down, so it is counted (and can itself
be traced: forward over reverse gives Hessian-vector products). Inputs and outputs are flat
lists of leaves; `costad.pipelines` handles their structure.
"""
from __future__ import annotations

from .core import Trace, Tracer, apply, new_level, rule_below, shape_of
from .primitives import broadcast_to
from .tree import TreeDef, tree_flatten

__all__ = ["JVPTrace", "JVPTracer", "jvp_call"]


class JVPTracer(Tracer):
    """A value and its tangent (None for a zero tangent)."""

    __slots__ = ("value", "tangent")

    def __init__(self, trace: "JVPTrace", value, tangent):
        self._trace = trace
        self.value = value
        self.tangent = tangent

    @property
    def primal(self):
        return self.value

    def __repr__(self) -> str:
        return f"JVPTracer(value={self.value!r}, tangent={self.tangent!r})"


class JVPTrace(Trace):
    """The forward-mode interpretation."""

    __slots__ = ()

    def process(self, prim, args, params):
        values, tangents = [], []
        for a in args:
            if isinstance(a, JVPTracer) and a._trace is self:
                values.append(a.value)
                tangents.append(a.tangent)
            else:                              # a constant, or a value of an outer trace
                values.append(a)
                tangents.append(None)
        out = apply(prim, tuple(values), params, self.level)
        if not prim.differentiable:
            return out
        if all(t is None for t in tangents):
            tangent = None
        else:
            tangent = rule_below(self.level, _tangent, prim, tangents, out, values, params)
        return JVPTracer(self, out, tangent)


def _tangent(prim, tangents, out, values, params):
    tangent = prim.jvp(tangents, out, *values, **params)
    # A tangent of a broadcast argument is broadcast once here (free), not in rules.
    if tangent is not None and not isinstance(out, tuple) and shape_of(tangent) != shape_of(out):
        tangent = broadcast_to(tangent, shape=shape_of(out))
    return tangent


def jvp_call(f, leaves: list, tangents: list, in_tree: TreeDef):
    """Evaluate ``f`` on the inputs ``in_tree.unflatten(leaves)`` with tangents seeded.

    Returns ``(values, tangents, out_tree)``: the output's leaves, their tangents (None
    where the output does not depend on the inputs) and its structure.
    """
    with new_level(JVPTrace) as trace:
        boxed = [JVPTracer(trace, leaf, t) for leaf, t in zip(leaves, tangents)]
        out = f(in_tree.unflatten(boxed))
    out_leaves, out_tree = tree_flatten(out, name="f(x)")
    values, out_tangents = [], []
    for o in out_leaves:
        if isinstance(o, JVPTracer) and o._trace is trace:
            values.append(o.value)
            out_tangents.append(o.tangent)
        else:
            values.append(o)
            out_tangents.append(None)
    return values, out_tangents, out_tree
