"""What every family of primitives shares: the table, cost helpers and rule helpers.

A family file defines its primitives with `register` and its NumPy entry points with the
registration helpers of `costad.numpy_dispatch`; nothing else needs editing to add one.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core import Primitive, ShapeDtype, shape_of, size_of
from ..errors import ShapeError

__all__ = ["PRIMITIVES", "register", "per_output_element", "free", "reduction_cost",
           "tangent_sum", "normalize_axis", "normalize_axes", "scalar_fast", "shape_after_reduction",
           "FLOATS", "IndexedCotangent", "TupleCotangent", "result_dtype", "elementwise_abstract",
           "comparison_abstract", "like_argument", "view_abstract", "reduction_abstract"]

PRIMITIVES: dict[str, Primitive] = {}

# Python's float and NumPy's float64 scalar: the types of scalar code's values.
FLOATS = (float, np.float64)


def register(prim: Primitive) -> Primitive:
    """Add ``prim`` to the table (names are unique: a name is also a cost kind)."""
    if prim.name in PRIMITIVES:
        raise ValueError(f"primitive {prim.name!r} registered twice")
    PRIMITIVES[prim.name] = prim
    return prim


# --------------------------------------------------------------------------- cost helpers

def per_output_element(kind: str):
    """Cost of an elementwise operation: one operation of ``kind`` per output element."""
    def cost(out, *args, **params):
        return {kind: size_of(out)}
    return cost


def free(out, *args, **params):
    """Cost of a structural operation (indexing, reshape, ...): nothing."""
    return {}


def reduction_cost(kind: str):
    """Reducing s elements to one takes s - 1 binary operations of ``kind``."""
    def cost(out, x, *args, **params):
        return {kind: max(size_of(x) - size_of(out), 0)}
    return cost


# ----------------------------------------------------------------------------- rule helpers

def tangent_sum(a, b):
    """Sum of two tangents, where None is zero (the add, if any, is counted)."""
    if a is None:
        return b
    if b is None:
        return a
    from .elementwise import add
    return add(a, b)


def normalize_axis(axis, ndim: int) -> tuple[int, ...]:
    """Reduction axes as a sorted tuple of non-negative ints; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, numbers.Integral) or not hasattr(axis, "__iter__"):
        axis = (axis,)                  # a float axis is refused below, not iterated
    out = []
    for a in axis:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise ShapeError(f"costad: axis {a!r} is not an integer")
        if not -ndim <= a < ndim:
            raise ShapeError(f"costad: axis {a} is out of bounds for an array of dimension {ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"costad: repeated axis in {tuple(axis)}")
    return tuple(sorted(out))


def normalize_axes(axes, ndim: int) -> tuple[int, ...]:
    """A permutation of the axes (as for transpose), negatives resolved and checked."""
    axes = tuple(axes)
    if len(axes) != ndim:
        raise ShapeError(f"costad: axes {axes} do not match an array of dimension {ndim}")
    out = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool) or not -ndim <= a < ndim:
            raise ShapeError(f"costad: axes {axes} are not a permutation of the {ndim} axes")
        out.append(int(a) % ndim)
    if sorted(out) != list(range(ndim)):
        raise ShapeError(f"costad: axes {axes} are not a permutation of the {ndim} axes")
    return tuple(out)


def scalar_fast(np_func, math_func):
    """Implementation using ``math`` on Python floats (10x faster than a ufunc on a scalar).

    math raises where NumPy returns inf or nan (exp overflow, log of a negative); those
    cases fall back to NumPy so that NaN and inf are computed through, never hidden.
    """
    def impl(x):
        if type(x) in FLOATS:
            try:
                return math_func(x)
            except (OverflowError, ValueError):
                pass
        return np_func(x)
    impl.__name__ = np_func.__name__
    return impl


def shape_after_reduction(shape: tuple, axes: tuple[int, ...], keepdims: bool) -> tuple:
    """The shape of a reduction's result."""
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)



class IndexedCotangent:
    """A cotangent that is zero except at ``x[index]``, where it is ``value``.

    The VJP of indexing returns one instead of a dense array of zeros, so that reading a
    scalar out of an n-vector costs O(1) in the backward pass, not O(n); `costad.adjoints`
    adds it into the adjoint in place (as HIPS autograd's sparse object does).
    """

    __slots__ = ("shape", "index", "value", "abstract")

    def __init__(self, shape: tuple, index, value, abstract: bool = False):
        self.shape = shape
        self.index = index
        self.value = value
        self.abstract = abstract          # x is abstract: never allocate an adjoint buffer


# ------------------------------------------------------------------------- abstract rules

def _dtype_operand(a):
    if a.__class__ is ShapeDtype:
        return a.dtype
    if isinstance(a, (bool, int, float)):
        return a                                   # Python scalars are weak (NEP 50)
    return np.result_type(a)


def result_dtype(*args, floating: bool = True) -> np.dtype:
    """NumPy's result dtype for an arithmetic operation on ``args`` (abstract or not);
    ``floating`` makes integer operands give a float, as costad's operations do."""
    operands = [_dtype_operand(a) for a in args]
    if floating:
        operands.append(0.0)
    return np.result_type(*operands)


def elementwise_abstract(*args, **params) -> ShapeDtype:
    """Abstract rule of an elementwise operation: broadcast shape, promoted float dtype."""
    return ShapeDtype(np.broadcast_shapes(*(tuple(shape_of(a)) for a in args)),
                      result_dtype(*args))


def comparison_abstract(*args, **params) -> ShapeDtype:
    return ShapeDtype(np.broadcast_shapes(*(tuple(shape_of(a)) for a in args)), np.bool_)


def like_argument(x, *args, **params) -> ShapeDtype:
    """Abstract rule of an operation whose output has its first argument's shape and dtype."""
    return ShapeDtype(shape_of(x), _dtype_operand(x) if x.__class__ is ShapeDtype
                      else np.result_type(x))


def view_abstract(impl):
    """Abstract rule of a structural operation that returns a view (reshape, transpose,
    broadcasting, basic indexing): ``impl`` applied to zero-stride stand-ins, which hold one
    element whatever their shape, so it costs no memory."""
    def rule(*args, **params):
        proxies = [np.broadcast_to(np.zeros((), a.dtype), a.shape) if a.__class__ is ShapeDtype
                   else a for a in args]
        out = impl(*proxies, **params)
        return ShapeDtype(np.shape(out), np.result_type(out))
    return rule


def reduction_abstract(x, axis=None, keepdims=False, **params) -> ShapeDtype:
    """Abstract rule of a reduction over ``axis``."""
    shape = tuple(shape_of(x))
    return ShapeDtype(shape_after_reduction(shape, normalize_axis(axis, len(shape)),
                                            keepdims), result_dtype(x))


class TupleCotangent:
    """The cotangent of component ``index`` of a primitive with several outputs (a loop's
    final carry and outputs), ``size`` components in all; `costad.adjoints` gathers them."""

    __slots__ = ("index", "value", "size")

    def __init__(self, index: int, value, size: int):
        self.index = index
        self.value = value
        self.size = size
