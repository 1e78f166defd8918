"""Forward mode: values carry tangents; every primitive applies its JVP rule.

The tangent work is done with primitives one level down, so it is counted (and can itself
be traced: forward over reverse gives Hessian-vector products).
"""
from __future__ import annotations

from .core import Trace, Tracer, bind, new_level

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
        out = bind(prim, *values, **params)
        if not prim.differentiable:
            return out
        if all(t is None for t in tangents):
            tangent = None
        else:
            tangent = prim.jvp(tangents, out, *values, **params)
        return JVPTracer(self, out, tangent)


def _split(out, trace):
    """Separate an output (a value or a list/tuple/dict of values) into values and tangents."""
    if isinstance(out, JVPTracer) and out._trace is trace:
        return out.value, out.tangent
    if isinstance(out, (list, tuple)):
        pairs = [_split(o, trace) for o in out]
        return type(out)(p[0] for p in pairs), type(out)(p[1] for p in pairs)
    if isinstance(out, dict):
        pairs = {k: _split(v, trace) for k, v in out.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    return out, None


def jvp_call(f, leaves: list, tangents: list, rebuild):
    """Evaluate ``f(rebuild(leaves))`` with tangents seeded on the leaves.

    Returns ``(value, tangent)`` of the output, with the output's structure; a tangent is
    None where the output does not depend on the inputs.
    """
    with new_level(JVPTrace) as trace:
        boxed = [JVPTracer(trace, leaf, t) for leaf, t in zip(leaves, tangents)]
        out = f(rebuild(boxed))
    return _split(out, trace)
