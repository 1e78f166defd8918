"""Counted evaluation: box the inputs so NumPy calls inside ``f`` reach costad.

A plain NumPy function applied to plain arrays never calls costad, so nothing could be
counted. `call` wraps the inputs in `BoxTracer` values when a `counting()` block is active:
every primitive is then evaluated (and charged) one level down, and nothing is recorded.
Outside a counting block `call` runs ``f`` on the plain inputs, at NumPy's own speed, which
is what timings of finite differences and of the plain function measure.
"""
from __future__ import annotations

from . import cost as _cost
from .core import ShapeDtype, Trace, Tracer, apply, new_level
from .tree import TreeDef, tree_flatten

__all__ = ["BoxTrace", "BoxTracer", "call"]


class BoxTracer(Tracer):
    """A value boxed so that NumPy calls on it are counted; it carries no derivative."""

    __slots__ = ("value",)
    differentiating = False

    def __init__(self, trace: "BoxTrace", value):
        self._trace = trace
        self.value = value

    @property
    def primal(self):
        return self.value


class BoxTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        values = [a.value if isinstance(a, BoxTracer) and a._trace is self else a for a in args]
        out = apply(prim, tuple(values), params, self.level)
        return BoxTracer(self, out) if prim.differentiable else out


def call(f, leaves: list, in_tree: TreeDef):
    """``f(in_tree.unflatten(leaves))``, counted when a counting block is active; abstract
    inputs (`ShapeDtype`, which NumPy cannot compute with) are always boxed."""
    if not _cost.is_counting() and not any(leaf.__class__ is ShapeDtype for leaf in leaves):
        return f(in_tree.unflatten(leaves))
    with new_level(BoxTrace) as trace:
        out = f(in_tree.unflatten([BoxTracer(trace, leaf) for leaf in leaves]))
    out_leaves, out_tree = tree_flatten(out, name="f(x)")
    return out_tree.unflatten(o.value if isinstance(o, BoxTracer) and o._trace is trace else o
                              for o in out_leaves)
