"""Tracing machinery: primitives, traced values and the interpreter stack.

This module knows no specific operation. A `Primitive` bundles what an operation is (its
NumPy implementation, its cost, its JVP and VJP rules); `bind` applies one. When no
argument is a traced value, `bind` evaluates the primitive and charges its cost to the
active counter. Otherwise the innermost interpretation (`Trace`) among the arguments
handles it: forward mode computes a tangent, reverse mode records a tape node, and
either then binds the primitive again on the values one level down. Counting therefore
sits underneath every interpretation, and the derivative rules, written with primitives,
are counted by the same counter as the function (the design of JAX's Autodidax).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as _np

from . import cost as _cost
from .errors import EscapedTracerError, ShapeError

__all__ = ["Primitive", "Tracer", "Trace", "bind", "apply", "evaluate", "new_level", "ENDED",
           "shape_of", "size_of", "is_traced"]


class Primitive:
    """One record of the primitive table.

    name:  the primitive's name, as printed in graph listings.
    impl:  ``impl(*args, **params)`` on plain NumPy values.
    cost:  ``cost(out, *args, **params) -> {kind: count}`` (DESIGN.md section 2);
           ``{}`` for structural operations.
    jvp:   ``jvp(tangents, out, *args, **params) -> tangent`` or None for a zero tangent;
           ``tangents[i]`` is None where argument i has a zero tangent. None for a
           primitive whose output has no derivative (comparisons).
    vjp:   ``vjp(ct, out, *args, needs, **params) -> tuple`` with one cotangent per
           argument (None where ``needs[i]`` is false or the contribution is zero);
           ``needs`` is passed positionally, right after the arguments.
    differentiable: False for primitives with a piecewise-constant output (comparisons,
           sign): their results are never traced.
    """

    __slots__ = ("name", "impl", "cost", "jvp", "vjp", "differentiable", "doc")

    def __init__(self, name: str, impl: Callable, cost: Callable, jvp: Callable | None,
                 vjp: Callable | None, differentiable: bool = True, doc: str = ""):
        self.name = name
        self.impl = impl
        self.cost = cost
        self.jvp = jvp
        self.vjp = vjp
        self.differentiable = differentiable
        self.doc = doc

    def __call__(self, *args, **params):
        if _trace_stack:
            return apply(self, args, params)
        # Nothing is being traced (a VJP rule inside a plain reverse sweep, say): evaluate.
        return evaluate(self, args, params)

    def __repr__(self) -> str:
        return f"<costad primitive {self.name}>"


class Trace:
    """An interpretation of primitives: subclasses implement `process`."""

    __slots__ = ("level",)

    def __init__(self, level: int):
        self.level = level

    def process(self, prim: Primitive, args: tuple, params: Mapping[str, Any]):
        raise NotImplementedError


class Tracer:
    """A traced value: stands in for an array while a function is interpreted.

    Python operators, NumPy ufuncs (NEP 13) and NumPy functions (NEP 18) on a tracer are
    routed to costad's primitives by `costad.numpy_dispatch`, which installs those methods.
    Subclasses set ``_trace`` and provide ``primal`` (the value one level down).
    """

    __slots__ = ("_trace",)
    # Make NumPy defer to us in mixed expressions such as ``ndarray * tracer``.
    __array_priority__ = 1000

    @property
    def primal(self):
        raise NotImplementedError

    @property
    def shape(self) -> tuple:
        return shape_of(self.primal)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return size_of(self.primal)

    @property
    def dtype(self):
        return getattr(self.primal, "dtype", None) or _float_dtype

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a traced scalar")
        return shape[0]

    def __bool__(self) -> bool:
        # Data-dependent control flow is allowed: the branch taken is the one recorded.
        return bool(self.primal)

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "costad cannot turn a traced value into a plain NumPy array (np.asarray, np.array, "
            "float(), or a NumPy function outside costad's table was applied to it); "
            "that would silently drop its derivative. Use the NumPy operations costad "
            "supports (costad.supported_numpy()).")

    def __float__(self):
        raise TypeError("costad cannot convert a traced value to float: its derivative "
                        "would be lost. Keep it as an array or use costad.stop_gradient.")

    __int__ = __float__
    __complex__ = __float__


_float_dtype = _np.dtype(float)

# The stack of active interpretations; a trace's level is its index in it.
_trace_stack: list[Trace] = []

# The level of a trace that has left the stack.
ENDED = -1


def shape_of(x) -> tuple:
    """Shape of a plain value or a tracer (a Python float has shape ())."""
    if x.__class__ is float:
        return ()
    shape = getattr(x, "shape", None)
    if shape is None:
        return _np.shape(x)
    return shape


def size_of(x) -> int:
    """Number of scalars in a plain value or a tracer."""
    if x.__class__ is float:
        return 1
    size = getattr(x, "size", None)
    if size is None:
        return int(_np.size(x))
    return size


def is_traced(x) -> bool:
    """True if ``x`` is a traced value of any active interpretation."""
    return isinstance(x, Tracer)


class new_level:
    """Context manager that pushes a trace of class ``trace_cls`` on the interpreter stack."""

    def __init__(self, trace_cls: type, *args):
        self.trace_cls = trace_cls
        self.args = args

    def __enter__(self) -> Trace:
        trace = self.trace_cls(len(_trace_stack), *self.args)
        _trace_stack.append(trace)
        self.trace = trace
        return trace

    def __exit__(self, *exc) -> None:
        popped = _trace_stack.pop()
        assert popped is self.trace, "interpreter stack out of order"
        popped.level = ENDED          # its tracers, if any escaped, now refuse to work


def bind(prim: Primitive, *args, **params):
    """Apply ``prim`` to ``args``: by the innermost trace among them, or evaluate it."""
    return apply(prim, args, params)


def apply(prim: Primitive, args: tuple, params: Mapping[str, Any]):
    """`bind` with the arguments packed in a tuple (traces use it to go one level down)."""
    top = None
    for a in args:
        if isinstance(a, Tracer):
            trace = a._trace
            if top is None or trace.level > top.level:
                top = trace
    if top is None:
        return evaluate(prim, args, params)
    if top.level == ENDED:
        raise EscapedTracerError()
    return top.process(prim, args, params)


def evaluate(prim: Primitive, args: tuple, params: Mapping[str, Any]):
    """Run the NumPy implementation and charge its cost to the active counter."""
    try:
        out = prim.impl(*args, **params) if params else prim.impl(*args)
    except (ValueError, IndexError) as err:
        shapes = ", ".join(str(shape_of(a)) for a in args)
        raise ShapeError(f"costad: {prim.name} cannot be applied to inputs of shapes "
                         f"{shapes}: {err}") from err
    if _cost._counters:
        _cost._counters[-1]._add_counts(prim.cost(out, *args, **params))
    return out
