"""Reductions over axes: sum, max, min, and what is written with them (mean).

Cost: reducing s elements to one takes s - 1 binary operations of the reduction's kind
(adds for sum, comparisons for max and min). mean is a sum and one division per output
element, so it needs no rule of its own.
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, shape_of, size_of
from ..numpy_dispatch import implements
from ._base import normalize_axis, reduction_abstract, reduction_cost, register
from .elementwise import div, equal, where
from .structural import broadcast_to, reshape

__all__ = ["sum_", "max_", "min_", "mean", "expand_reduced", "unbroadcast"]


def expand_reduced(value, x_shape: tuple, axis, keepdims: bool):
    """Reshape a reduction's result so it broadcasts back against its input (free)."""
    if keepdims:
        return value
    axes = normalize_axis(axis, len(x_shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
    return reshape(value, shape=kept)


def _sum_impl(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(ct, out, x, axis=None, keepdims=False):
    shape = shape_of(x)
    return broadcast_to(expand_reduced(ct, shape, axis, keepdims), shape=shape)


sum_ = register(Primitive(
    "sum", _sum_impl, reduction_cost("add"), vjp=(_sum_vjp,), linear=True,
    abstract=reduction_abstract,
    doc="sum over axes (s - 1 adds per output element)"))


def _extremum_reduction(name: str, np_func) -> Primitive:
    """max / min over axes. Ties share the derivative equally (as JAX does)."""
    def selection(out, x, axis, keepdims):
        mask = equal(x, expand_reduced(out, shape_of(x), axis, keepdims))
        ties = sum_(where(mask, 1.0, 0.0), axis=axis, keepdims=True)
        return mask, ties

    def jvp(tangents, out, x, axis=None, keepdims=False):
        mask, ties = selection(out, x, axis, keepdims)
        picked = sum_(where(mask, tangents[0], 0.0), axis=axis, keepdims=True)
        result = div(picked, ties)
        return result if keepdims else reshape(result, shape=shape_of(out))

    def vjp(ct, out, x, axis=None, keepdims=False):
        mask, ties = selection(out, x, axis, keepdims)
        share = div(expand_reduced(ct, shape_of(x), axis, keepdims), ties)
        return where(mask, share, 0.0)

    def impl(x, axis=None, keepdims=False):
        return np_func(x, axis=axis, keepdims=keepdims)

    return register(Primitive(name, impl, reduction_cost(name), jvp, (vjp,),
                              abstract=reduction_abstract,
                              doc=f"{name} over axes (s - 1 comparisons per output element)"))


max_ = _extremum_reduction("max", np.max)
min_ = _extremum_reduction("min", np.min)


def _reduction(prim):
    def reduce(x, axis=None, keepdims=False):
        if axis is not None:
            axis = normalize_axis(axis, len(shape_of(x)))
        return prim(x, axis=axis, keepdims=bool(keepdims))
    return reduce


implements(np.sum, methods=("sum",))(_reduction(sum_))
implements(np.max, np.amax, methods=("max",))(_reduction(max_))
implements(np.min, np.amin, methods=("min",))(_reduction(min_))


@implements(np.mean, methods=("mean",))
def mean(x, axis=None, keepdims=False):
    """Sum, then one division per output element."""
    s = _reduction(sum_)(x, axis=axis, keepdims=keepdims)
    count = size_of(x) // max(size_of(s), 1)
    return div(s, float(count))


def unbroadcast(ct, shape: tuple):
    """Sum a cotangent over the axes along which an argument of ``shape`` was broadcast.

    The reverse sweep calls this once, where it hands a contribution to an argument, so
    the rules never do. Axes of length one only need a (free) reshape, not a sum.
    """
    ct_shape = shape_of(ct)
    if ct_shape == shape:
        return ct
    extra = len(ct_shape) - len(shape)
    if extra < 0:
        raise AssertionError(f"costad internal error: a cotangent of shape {ct_shape} for an "
                             f"argument of shape {shape}")
    axes = tuple(i for i in range(extra) if ct_shape[i] != 1) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and ct_shape[extra + i] != 1)
    if axes:
        ct = sum_(ct, axis=axes, keepdims=False)
    if shape_of(ct) != shape:
        ct = reshape(ct, shape=shape)
    return ct
