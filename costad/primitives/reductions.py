"""Reductions, scans and statistics over axes.

Primitives (each cost exact, per lane of n elements along the reduced or scanned axis):

- ``sum``: n - 1 adds; ``max`` / ``min``: n - 1 comparisons (ties share the derivative
  equally, as in JAX); ``prod``: n - 1 muls.
- ``cumsum``: n - 1 adds (linear: its JVP is itself, its VJP a reversed cumsum).
- ``cumprod``: n - 1 muls.
- ``linear_recurrence`` (y_0 = b_0, y_k = a_{k-1} y_{k-1} + b_k): n - 1 mul and n - 1 add.
  It is what the derivatives of prod and cumprod are written with, so that they are exact
  where x has zeros (no division by x) and cost O(n), and it is closed under
  differentiation (its JVP and VJP are recurrences again).

Everything else is written with primitives, so its count follows from theirs and needs no
rule of its own: mean, var, std, average, ptp, diff, trace and the norms of numpy.linalg
(norm, vector_norm, matrix_norm); their docstrings state the counts.
"""
from __future__ import annotations

import math
import numbers
import operator as _op
import warnings

import numpy as np

from ..core import Joint, Primitive, ShapeDtype, Tracer, dtype_of, primal_value, shape_of, size_of
from ..errors import ShapeError
from ..numpy_dispatch import implements, unsupported
from ._base import (normalize_axis, reduction_abstract, reduction_cost, register, result_dtype,
                    shape_after_reduction)
from .elementwise import abs_, add, div, equal, mul, sqrt, sub, where
from .structural import astype, broadcast_to, concatenate, getitem, reshape, transpose

__all__ = ["sum_", "max_", "min_", "prod", "cumsum", "cumprod", "linear_recurrence", "mean",
           "var", "std", "average", "ptp", "diff", "trace", "norm", "expand_reduced",
           "unbroadcast"]


# ------------------------------------------------------------------------------- helpers

def expand_reduced(value, x_shape: tuple, axis, keepdims: bool):
    """Reshape a reduction's result so it broadcasts back against its input (free)."""
    if keepdims:
        return value
    axes = normalize_axis(axis, len(x_shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
    return reshape(value, shape=kept)


def _along(axis: int, part) -> tuple:
    """An index that applies ``part`` (a slice) along ``axis`` and keeps every other axis."""
    return (slice(None),) * axis + (part,)


def _slice(x, axis: int, start, stop):
    return getitem(x, index=_along(axis, slice(start, stop)))


def _flip(x, axis: int):
    return getitem(x, index=_along(axis, slice(None, None, -1)))


def _lanes(x, axis):
    """``x`` with the axes ``axis`` moved last and merged into one (free), so that every
    reduction is along the last axis of a ``kept + (n,)`` array.

    Returns ``(lanes, kept, n, back)``; ``back`` maps a ``kept + (n,)`` array to x's layout.
    """
    shape = tuple(shape_of(x))
    nd = len(shape)
    axes = normalize_axis(axis, nd)
    kept_axes = tuple(i for i in range(nd) if i not in axes)
    perm = kept_axes + axes
    kept = tuple(shape[i] for i in kept_axes)
    n = math.prod(shape[i] for i in axes)
    identity = perm == tuple(range(nd))
    moved = x if identity else transpose(x, axes=perm)
    lanes = reshape(moved, shape=kept + (n,))

    def back(y):
        y = reshape(y, shape=tuple(shape[i] for i in perm))
        return y if identity else transpose(y, axes=tuple(int(i) for i in np.argsort(perm)))
    return lanes, kept, n, back


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _one_axis(axis, ndim: int, what: str) -> int:
    """A single axis, resolved to a non-negative int (NumPy's AxisError as a ShapeError)."""
    if not _is_integer(axis):
        raise ShapeError(f"costad: {what}: axis must be an integer, not {axis!r}")
    if not -ndim <= axis < ndim:
        raise ShapeError(f"costad: {what}: axis {axis} is out of bounds for an array of "
                         f"dimension {ndim}")
    return int(axis) % ndim


def _ordered_axes(axis, ndim: int, what: str) -> tuple[int, ...]:
    """Axes resolved to non-negative ints in the caller's order (None: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
    out = tuple(_one_axis(a, ndim, what) for a in axes)
    if len(set(out)) != len(out):
        raise ShapeError(f"costad: {what}: repeated axis in {tuple(axes)}")
    return out


def _refuse(what: str, **given) -> None:
    """NumPy arguments costad does not trace (dtype=, out=, ...), passed by position too."""
    for name, value in given.items():
        if value is not None:
            raise unsupported(f"{what} with {name}=")


def _as_array(a):
    """A traced value as it is; anything else as NumPy would take it (lists, scalars)."""
    return a if isinstance(a, (Tracer, ShapeDtype)) else np.asarray(a)


def _count(shape: tuple, axes: tuple[int, ...]) -> int:
    return math.prod(shape[i] for i in axes)


# ---------------------------------------------------------------------- sum, max, min

def _sum_impl(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(ct, out, x, axis=None, keepdims=False):
    shape = shape_of(x)
    return broadcast_to(expand_reduced(ct, shape, axis, keepdims), shape=shape)


sum_ = register(Primitive(
    "sum", _sum_impl, reduction_cost("add"), vjp=(_sum_vjp,), linear=True,
    abstract=reduction_abstract, vjp_reads_args=False,
    doc="sum over axes (s - 1 adds per output element)"))


def _extremum_reduction(name: str, np_func) -> Primitive:
    """max / min over axes. Ties share the derivative equally (as JAX does); where the
    result is NaN the derivative is NaN."""
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
        # Unselected elements get share * 0: zero, except where the result is NaN (no
        # element equals it, ties = 0, the share is inf) and the gradient is NaN too, as
        # in forward mode: a NaN is computed through, never hidden.
        return where(mask, share, mul(share, 0.0))

    def impl(x, axis=None, keepdims=False):
        return np_func(x, axis=axis, keepdims=keepdims)

    return register(Primitive(name, impl, reduction_cost(name), jvp, (vjp,),
                              abstract=reduction_abstract,
                              doc=f"{name} over axes (s - 1 comparisons per output element)"))


max_ = _extremum_reduction("max", np.max)
min_ = _extremum_reduction("min", np.min)


def _reduce(prim, a, axis, keepdims):
    x = _as_array(a)
    if axis is not None:
        axis = normalize_axis(axis, len(shape_of(x)))
    return prim(x, axis=axis, keepdims=bool(keepdims))


# NumPy's positional order is kept (np.sum(x, 0, float) passes dtype by position), so that
# an argument costad does not trace is refused, never taken for another.
@implements(np.sum, methods=("sum",))
def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _refuse("numpy.sum", dtype=dtype, out=out, initial=initial, where=where)
    return _reduce(sum_, a, axis, keepdims)


@implements(np.max, np.amax, methods=("max",))
def _np_max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _refuse("numpy.max", out=out, initial=initial, where=where)
    return _reduce(max_, a, axis, keepdims)


@implements(np.min, np.amin, methods=("min",))
def _np_min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _refuse("numpy.min", out=out, initial=initial, where=where)
    return _reduce(min_, a, axis, keepdims)


@implements(np.mean, methods=("mean",))
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Sum, then one division per output element.

    A float16 array is summed and divided in float32, then rounded to float16, as NumPy's
    mean does (the casts are free): summed in float16, a long slice stalls where the
    spacing of float16 exceeds its elements (10^4 ones summed along an axis give 2048, a
    mean of 0.2048 where NumPy's is 1)."""
    _refuse("numpy.mean", dtype=dtype, out=out, where=where)
    x = _as_array(a)
    half = dtype_of(x) == np.float16
    s = _reduce(sum_, astype(x, dtype=np.float32) if half else x, axis, keepdims)
    count = size_of(x) // max(size_of(s), 1)
    m = div(s, float(count))
    return astype(m, dtype=np.float16) if half else m


# --------------------------------------------------------------------- linear recurrence

def _check_recurrence(a_shape: tuple, b_shape: tuple, axis: int) -> None:
    if (len(a_shape) != len(b_shape) or not 0 <= axis < len(b_shape)
            or a_shape[:axis] + a_shape[axis + 1:] != b_shape[:axis] + b_shape[axis + 1:]
            or a_shape[axis] != max(b_shape[axis] - 1, 0)):
        raise ValueError(f"a linear recurrence along axis {axis} takes a of shape {b_shape} "
                         f"with one element fewer along the axis; got {a_shape}")


def _recurrence_impl(a, b, axis):
    a, b = np.asarray(a), np.asarray(b)
    _check_recurrence(a.shape, b.shape, axis)
    dtype = result_dtype(a, b)
    if dtype == np.float64 and b.size == b.shape[axis]:
        # One lane: Python floats are IEEE doubles too (same roundings), and 10x faster
        # per step than NumPy scalars.
        ys, a_s = b.ravel().tolist(), a.ravel().tolist()
        for k in range(1, len(ys)):
            ys[k] += a_s[k - 1] * ys[k - 1]
        return np.array(ys, dtype=dtype).reshape(b.shape)
    y = np.array(b, dtype=dtype, copy=True)
    ys, a_s = np.moveaxis(y, axis, 0), np.moveaxis(a, axis, 0)   # views: y fills in place
    for k in range(1, ys.shape[0]):
        ys[k] += a_s[k - 1] * ys[k - 1]
    return y


def _recurrence_abstract(a, b, axis):
    _check_recurrence(tuple(shape_of(a)), tuple(shape_of(b)), axis)
    return ShapeDtype(shape_of(b), result_dtype(a, b))


def _recurrence_cost(out, a, b, axis):
    s = size_of(a)                          # (n - 1) per lane: one mul and one add each
    return {"mul": s, "add": s}


def _recurrence_jvp(tangents, out, a, b, axis):
    # dy_0 = db_0, dy_k = a_{k-1} dy_{k-1} + (da_{k-1} y_{k-1} + db_k): the same recurrence.
    ta, tb = tangents
    n = shape_of(b)[axis]
    if ta is None or n == 0:
        rhs = tb
    else:
        shifted = mul(ta, _slice(out, axis, 0, n - 1))
        if tb is None:
            first_shape = tuple(shape_of(b)[:axis]) + (1,) + tuple(shape_of(b)[axis + 1:])
            first = np.zeros(first_shape, dtype=dtype_of(shifted))
        else:
            first = _slice(tb, axis, 0, 1)
            shifted = add(_slice(tb, axis, 1, None), shifted)
        rhs = concatenate(first, shifted, axis=axis)
    return None if rhs is None else linear_recurrence(a, rhs, axis=axis)


def _recurrence_vjp(ct, out, a, b, needs, axis):
    # The adjoint runs backwards: lam_{n-1} = ct_{n-1}, lam_i = a_i lam_{i+1} + ct_i (a
    # recurrence on the flipped arrays); then ct_a_i = lam_{i+1} y_i.
    n = shape_of(b)[axis]
    lam = _flip(linear_recurrence(_flip(a, axis), _flip(ct, axis), axis=axis), axis)
    ct_a = mul(_slice(lam, axis, 1, None), _slice(out, axis, 0, max(n - 1, 0))) \
        if needs[0] else None
    return ct_a, (lam if needs[1] else None)


linear_recurrence = register(Primitive(
    "linear_recurrence", _recurrence_impl, _recurrence_cost, _recurrence_jvp,
    Joint(_recurrence_vjp), abstract=_recurrence_abstract,
    doc="y_0 = b_0, y_k = a_{k-1} y_{k-1} + b_k along an axis (a has one element fewer "
        "there): n - 1 mul and n - 1 add per lane. JVP: a recurrence with the right side "
        "da y + db (n - 1 mul, + n - 1 add if both tangents), then n - 1 mul and add. VJP: "
        "the adjoint recurrence backwards (n - 1 mul and add), then n - 1 mul for a."))


# ------------------------------------------------------------------------------ scans

def _scan_cost(kind: str):
    def cost(out, x, axis):
        n = shape_of(x)[axis]
        return {kind: size_of(x) - size_of(x) // n} if n else {}
    return cost


def _scan_abstract(x, axis):
    shape = tuple(shape_of(x))
    if not 0 <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of bounds for an array of dimension {len(shape)}")
    return ShapeDtype(shape, result_dtype(x))


def _cumsum_impl(x, axis):
    return np.cumsum(x, axis=axis)


cumsum = register(Primitive(
    "cumsum", _cumsum_impl, _scan_cost("add"),
    vjp=(lambda ct, out, x, axis: _flip(cumsum(_flip(ct, axis), axis=axis), axis),),
    linear=True, abstract=_scan_abstract,
    doc="running sum along an axis: n - 1 adds per lane; linear, its VJP a reversed cumsum "
        "(n - 1 adds per lane)"))


def _cumprod_jvp(tangents, out, x, axis):
    # T_0 = t_0, T_k = x_k T_{k-1} + out_{k-1} t_k: no division, exact where x has zeros.
    t = tangents[0]
    n = shape_of(x)[axis]
    if n <= 1:
        return None if n == 0 else t
    rhs = concatenate(_slice(t, axis, 0, 1),
                      mul(_slice(out, axis, 0, n - 1), _slice(t, axis, 1, None)), axis=axis)
    return linear_recurrence(_slice(x, axis, 1, None), rhs, axis=axis)


def _cumprod_vjp(ct, out, x, axis):
    # ct_x_i = out_{i-1} R_i with R_i = ct_i + x_{i+1} R_{i+1} (out_{-1} = 1): no division.
    n = shape_of(x)[axis]
    if n <= 1:
        return None if n == 0 else ct
    r = _flip(linear_recurrence(_flip(_slice(x, axis, 1, None), axis), _flip(ct, axis),
                                axis=axis), axis)
    return concatenate(_slice(r, axis, 0, 1),
                       mul(_slice(out, axis, 0, n - 1), _slice(r, axis, 1, None)), axis=axis)


def _cumprod_impl(x, axis):
    return np.cumprod(x, axis=axis)


cumprod = register(Primitive(
    "cumprod", _cumprod_impl, _scan_cost("mul"), _cumprod_jvp, (_cumprod_vjp,),
    abstract=_scan_abstract,
    doc="running product along an axis: n - 1 muls per lane. JVP and VJP each cost "
        "2(n - 1) mul and n - 1 add per lane (a linear recurrence and n - 1 mul), with no "
        "division, so they are exact where x has zeros"))


# ---------------------------------------------------------------------------------- prod

def _prod_impl(x, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims)


def _prod_vjp(ct, out, x, axis=None, keepdims=False):
    # d prod / dx_i = P_i S_i, P and S the exclusive prefix and suffix products. With the
    # cotangent folded into the suffix scan: Q = reversed cumprod of (x_1..x_{n-1}, ct)
    # (n - 1 mul), P_1.. = cumprod of x_0..x_{n-2} (n - 2 mul), g = (Q_0, P Q_1..) (n - 1
    # mul): 3n - 4 mul per lane, no division.
    shape = shape_of(x)
    lanes, kept, n, back = _lanes(x, axis)
    if n <= 1:
        return broadcast_to(expand_reduced(ct, shape, axis, keepdims), shape=shape)
    last = len(kept)
    tail = concatenate(_slice(lanes, last, 1, None), reshape(ct, shape=kept + (1,)), axis=last)
    q = _flip(cumprod(_flip(tail, last), axis=last), last)
    p = cumprod(_slice(lanes, last, 0, n - 1), axis=last)
    g = concatenate(_slice(q, last, 0, 1), mul(p, _slice(q, last, 1, None)), axis=last)
    return back(g)


def _prod_jvp(tangents, out, x, axis=None, keepdims=False):
    # The tangent of the running product, T_k = x_k T_{k-1} + P_k t_k, at k = n - 1:
    # P (n - 2 mul), P t (n - 1 mul), the recurrence (n - 1 mul, n - 1 add).
    lanes, kept, n, _ = _lanes(x, axis)
    if n == 0:
        return None
    t, _, _, _ = _lanes(tangents[0], axis)
    last = len(kept)
    if n > 1:
        p = cumprod(_slice(lanes, last, 0, n - 1), axis=last)
        rhs = concatenate(_slice(t, last, 0, 1), mul(p, _slice(t, last, 1, None)), axis=last)
        t = _slice(linear_recurrence(_slice(lanes, last, 1, None), rhs, axis=last),
                   last, n - 1, n)
    return reshape(t, shape=shape_of(out))


prod = register(Primitive(
    "prod", _prod_impl, reduction_cost("mul"), _prod_jvp, (_prod_vjp,),
    abstract=reduction_abstract,
    doc="product over axes: n - 1 muls per output element. VJP 3n - 4 mul per lane (n >= 2; "
        "free for n = 1), JVP 3n - 4 mul and n - 1 add: exclusive prefix and suffix products "
        "(cumprod, a linear recurrence), no division, so exact where x has zeros"))


@implements(np.prod, methods=("prod",))
def _np_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _refuse("numpy.prod", dtype=dtype, out=out, initial=initial, where=where)
    return _reduce(prod, a, axis, keepdims)


def _scan_entry(prim: Primitive, name: str):
    def scan(a, axis=None, dtype=None, out=None):
        _refuse(f"numpy.{name}", dtype=dtype, out=out)
        x = _as_array(a)
        shape = tuple(shape_of(x))
        if axis is None or not shape:
            if axis is not None:                  # NumPy scans a 0-d array as a 1-d one
                _one_axis(axis, 1, f"numpy.{name}")
            if len(shape) != 1:
                x = reshape(x, shape=(size_of(x),))
            return prim(x, axis=0)
        return prim(x, axis=_one_axis(axis, len(shape), f"numpy.{name}"))
    scan.__name__ = name
    scan.__doc__ = f"numpy.{name}: the ``{prim.name}`` primitive (a flattened array for axis=None)."
    return scan


implements(np.cumsum, methods=("cumsum",))(_scan_entry(cumsum, "cumsum"))
implements(np.cumprod, methods=("cumprod",))(_scan_entry(cumprod, "cumprod"))


def _cumulative_entry(prim: Primitive, name: str, initial: float):
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        _refuse(f"numpy.{name}", dtype=dtype, out=out)
        x = _as_array(x)
        shape = tuple(shape_of(x))
        if not shape:
            x, shape = reshape(x, shape=(1,)), (1,)
        if axis is None:
            if len(shape) > 1:
                raise ShapeError(f"costad: numpy.{name} of an array of more than one "
                                 "dimension needs an axis")
            axis = 0
        ax = _one_axis(axis, len(shape), f"numpy.{name}")
        y = prim(x, axis=ax)
        if include_initial:                      # a constant first slice: free
            first = np.full(shape[:ax] + (1,) + shape[ax + 1:], initial, dtype=dtype_of(y))
            y = concatenate(first, y, axis=ax)
        return y
    cumulative.__name__ = name
    cumulative.__doc__ = (f"numpy.{name}: the ``{prim.name}`` primitive; include_initial "
                          f"prepends the constant {initial} (free).")
    return cumulative


if hasattr(np, "cumulative_sum"):                # NumPy >= 2.1
    implements(np.cumulative_sum)(_cumulative_entry(cumsum, "cumulative_sum", 0.0))
    implements(np.cumulative_prod)(_cumulative_entry(cumprod, "cumulative_prod", 1.0))


# ---------------------------------------------------------------------------------- diff

def _diff_edge(value, shape: tuple, ax: int):
    """A value joined before or after diff's input; a scalar fills one slice (free)."""
    value = _as_array(value)
    if not shape_of(value):
        value = broadcast_to(value, shape=shape[:ax] + (1,) + shape[ax + 1:])
    return value


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """x[1:] - x[:-1] along ``axis``, ``n`` times: a pass over m elements costs m - 1 sub
    per lane. ``prepend`` / ``append`` (constants or traced; a scalar is broadcast to one
    slice, as NumPy does) are joined first, for free. None is taken as not given."""
    x = _as_array(a)
    try:
        n = _op.index(n)
    except TypeError:
        raise ShapeError(f"costad: numpy.diff: the order n must be an integer, not {n!r}") \
            from None
    if n < 0:
        raise ShapeError(f"costad: numpy.diff: the order n must be non-negative, got {n}")
    if n == 0:
        return x
    shape = tuple(shape_of(x))
    if not shape:
        raise ShapeError("costad: numpy.diff needs an input of at least one dimension")
    ax = _one_axis(axis, len(shape), "numpy.diff")
    parts = [x]
    if prepend is not None:
        parts.insert(0, _diff_edge(prepend, shape, ax))
    if append is not None:
        parts.append(_diff_edge(append, shape, ax))
    if len(parts) > 1:
        x = concatenate(*parts, axis=ax)
    for _ in range(n):
        m = shape_of(x)[ax]
        x = sub(_slice(x, ax, 1, None), _slice(x, ax, 0, max(m - 1, 0)))
    return x


# ----------------------------------------------------------------------- var, std, ptp

def _ddof(what: str, ddof, correction):
    if correction is not None:
        if ddof != 0:
            raise ShapeError(f"costad: {what}: ddof and correction cannot both be given")
        ddof = correction
    if isinstance(ddof, Tracer) or not isinstance(ddof, numbers.Real):
        raise unsupported(f"{what} with ddof={ddof!r} (ddof must be a constant number)")
    return ddof


def _variance(what, a, axis, ddof, keepdims, mean_, correction):
    x = _as_array(a)
    shape = tuple(shape_of(x))
    ddof = _ddof(what, ddof, correction)
    axes = normalize_axis(axis, len(shape))
    count = _count(shape, axes)
    if mean_ is None:
        mean_ = div(sum_(x, axis=axes, keepdims=True), float(count))
    d = sub(x, mean_)
    s = sum_(mul(d, d), axis=axes, keepdims=bool(keepdims))
    dof = count - ddof
    if dof <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=4)
    return div(s, float(max(dof, 0)))


def _sqrt_zero_subgradient(v):
    """sqrt(v) whose derivative is 0 where v == 0, not inf * 0 = nan.

    Used where the square root ends a norm-like function (std, the 2-norm), which is not
    differentiable there: 0 is the smallest subgradient, and what central differences give.
    One comparison per element is counted for the guard; the selections are free.
    """
    zero = equal(v, 0.0)
    return where(zero, 0.0, sqrt(where(zero, 1.0, v)))


@implements(np.var, methods=("var",))
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """Mean of squared deviations, divided by N - ddof (``correction`` is NumPy 2's name for
    ddof; ``mean`` a precomputed mean, as NumPy takes it).

    Count, for N elements per output element and L outputs: 2(N - 1)L add, NL sub, NL mul,
    2L div (the mean's division and the final one; L add and L div fewer with ``mean``).
    N - ddof <= 0 gives inf or nan with NumPy's warning, as NumPy does.
    """
    _refuse("numpy.var", dtype=dtype, out=out, where=where)
    return _variance("numpy.var", a, axis, ddof, keepdims, mean, correction)


@implements(np.std, methods=("std",))
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """sqrt(var): var's count plus L sqrt and L equal (the guard below).

    Where the variance is 0 (a constant slice) std is not differentiable; its gradient there
    is 0 (the smallest subgradient, and what central differences give), not NaN.
    """
    _refuse("numpy.std", dtype=dtype, out=out, where=where)
    return _sqrt_zero_subgradient(_variance("numpy.std", a, axis, ddof, keepdims, mean,
                                            correction))


def _check_nonempty(what: str, shape: tuple, axes: tuple) -> None:
    """NumPy's max and min refuse an empty slice (there is no identity to return)."""
    if _count(shape, axes) == 0 and math.prod(shape_after_reduction(shape, axes, False)) > 0:
        raise ShapeError(f"costad: {what} of an empty slice (its reduction has no identity)")


@implements(np.ptp)
def ptp(a, axis=None, out=None, keepdims=False):
    """max - min: (N - 1)L max, (N - 1)L min and L sub. Tied extremes share the derivative
    equally (max's and min's convention), so a constant slice has gradient 0."""
    _refuse("numpy.ptp", out=out)
    x = _as_array(a)
    shape = tuple(shape_of(x))
    axes = normalize_axis(axis, len(shape))
    _check_nonempty("numpy.ptp", shape, axes)
    keepdims = bool(keepdims)
    return sub(max_(x, axis=axes, keepdims=keepdims), min_(x, axis=axes, keepdims=keepdims))


# ------------------------------------------------------------------------------- average

@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Without weights, the mean. With weights, sum(w x) / sum(w): size(x) mul (w
    broadcast), (N - 1)L add for the numerator, and for the denominator N - 1 add per
    element of sum(w) (once if w is 1-D along ``axis``), then L div. Weights may be traced.

    ``returned=True`` gives ``(average, sum of weights)``, the sum broadcast to the
    average's shape (the count N, a constant, without weights). Weights summing to 0 raise
    ZeroDivisionError, as in NumPy.
    """
    x = _as_array(a)
    shape = tuple(shape_of(x))
    axes = None if axis is None else _ordered_axes(axis, len(shape), "numpy.average")
    keepdims = bool(keepdims)
    if weights is None:
        avg = mean(x, axis=axes, keepdims=keepdims)
        scale = np.asarray(size_of(x) / max(size_of(avg), 1), dtype=dtype_of(avg))[()]
    else:
        w = _as_array(weights)
        w_shape = tuple(shape_of(w))
        if w_shape != shape:
            if axes is None:
                raise ShapeError("costad: numpy.average: axis must be given when the shapes "
                                 f"of a {shape} and weights {w_shape} differ")
            if w_shape != tuple(shape[i] for i in axes):
                raise ShapeError(f"costad: numpy.average: weights of shape {w_shape} do not "
                                 f"match a's shape {shape} along axis {axes}")
            order = tuple(int(i) for i in np.argsort(axes))
            if order != tuple(range(len(order))):
                w = transpose(w, axes=order)
            w = reshape(w, shape=tuple(n if i in axes else 1 for i, n in enumerate(shape)))
        reduce_axes = None if axes is None else tuple(sorted(axes))
        scale = sum_(w, axis=reduce_axes, keepdims=keepdims)
        value = primal_value(scale)
        if value.__class__ is not ShapeDtype and np.any(np.asarray(value) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = div(sum_(mul(x, w), axis=reduce_axes, keepdims=keepdims), scale)
    if not returned:
        return avg
    if tuple(shape_of(scale)) != tuple(shape_of(avg)):
        scale = (broadcast_to(scale, shape=shape_of(avg)) if isinstance(scale, Tracer)
                 else np.broadcast_to(scale, shape_of(avg)).copy())
    return avg, scale


# --------------------------------------------------------------------------------- trace

@implements(np.trace, methods=("trace",))
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum of a diagonal: the diagonal is read with index arrays (free), then summed: d - 1
    adds per output element for a diagonal of length d."""
    _refuse("numpy.trace", dtype=dtype, out=out)
    x = _as_array(a)
    shape = tuple(shape_of(x))
    nd = len(shape)
    if nd < 2:
        raise ShapeError(f"costad: numpy.trace needs an array of at least two dimensions, "
                         f"got shape {shape}")
    ax1 = _one_axis(axis1, nd, "numpy.trace")
    ax2 = _one_axis(axis2, nd, "numpy.trace")
    if ax1 == ax2:
        raise ShapeError("costad: numpy.trace: axis1 and axis2 cannot be the same")
    try:
        offset = _op.index(offset)
    except TypeError:
        raise ShapeError(f"costad: numpy.trace: offset must be an integer, not {offset!r}") \
            from None
    n1, n2 = shape[ax1], shape[ax2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    rows = np.arange(length) + max(-offset, 0)
    cols = np.arange(length) + max(offset, 0)
    others = tuple(i for i in range(nd) if i not in (ax1, ax2))
    perm = others + (ax1, ax2)
    if perm != tuple(range(nd)):
        x = transpose(x, axes=perm)
    diagonal = getitem(x, index=(Ellipsis, rows, cols))
    return sum_(diagonal, axis=(nd - 2,), keepdims=False)


# ---------------------------------------------------------------------- numpy.linalg.norm

_INF = float("inf")


def _ord_name(ord_) -> str:
    return repr(ord_) if isinstance(ord_, str) else str(ord_)


def _two_norm(x, axis, keepdims):
    return _sqrt_zero_subgradient(sum_(mul(x, x), axis=axis, keepdims=keepdims))


def _vector_norm(x, ord_, ax: int, keepdims: bool, what: str = "numpy.linalg.norm"):
    shape = tuple(shape_of(x))
    if ord_ is None or ord_ == 2:
        return _two_norm(x, (ax,), keepdims)
    if isinstance(ord_, str):
        raise ShapeError(f"costad: {what}: invalid norm order {ord_!r} for vectors")
    if ord_ == 1:
        return sum_(abs_(x), axis=(ax,), keepdims=keepdims)
    if ord_ == _INF or ord_ == -_INF:
        if shape[ax] == 0:
            if ord_ == -_INF:
                _check_nonempty(f"{what} with ord=-inf", shape, (ax,))
            # NumPy's max starts from 0 here (initial=0): a constant, free.
            return np.zeros(shape_after_reduction(shape, (ax,), keepdims), dtype_of(x))
        return (max_ if ord_ == _INF else min_)(abs_(x), axis=(ax,), keepdims=keepdims)
    raise unsupported(f"{what} with ord={_ord_name(ord_)} for vectors (supported: "
                      "None, 2, 1, inf, -inf)")


def _matrix_norm(x, ord_, row: int, col: int, keepdims: bool, what: str = "numpy.linalg.norm"):
    shape = tuple(shape_of(x))
    if ord_ is None or (isinstance(ord_, str) and ord_ in ("fro", "f")):
        result = _two_norm(x, tuple(sorted((row, col))), False)
    elif isinstance(ord_, str) or ord_ in (2, -2):
        if ord_ in ("nuc", 2, -2):
            raise unsupported(f"{what} with ord={_ord_name(ord_)} for matrices "
                              "(it needs singular values; supported: None, 'fro', 1, -1, "
                              "inf, -inf)")
        raise ShapeError(f"costad: {what}: invalid norm order {ord_!r} for "
                         "matrices")
    elif ord_ in (1, -1, _INF, -_INF):
        # 1: the largest column sum of |x| (sum over rows, then max over columns); inf: the
        # largest row sum. NumPy's max starts from 0, its min has no identity.
        summed, then = (row, col) if ord_ in (1, -1) else (col, row)
        if then > summed:
            then -= 1                           # the summed axis is gone
        s = sum_(abs_(x), axis=(summed,), keepdims=False)
        s_shape = tuple(shape_of(s))
        if s_shape[then] == 0:
            if ord_ in (-1, -_INF):
                _check_nonempty(f"{what} with ord={_ord_name(ord_)}", s_shape,
                                (then,))
            result = np.zeros(shape_after_reduction(s_shape, (then,), False), dtype_of(s))
        else:
            result = (max_ if ord_ > 0 else min_)(s, axis=(then,), keepdims=False)
    else:
        raise ShapeError(f"costad: {what}: invalid norm order {ord_!r} for "
                         "matrices")
    if keepdims:
        kept = tuple(1 if i in (row, col) else n for i, n in enumerate(shape))
        result = reshape(result, shape=kept)
    return result


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's name)
    """numpy.linalg.norm: vector norms ord None or 2 (sqrt(sum x*x)), 1 (sum |x|), inf and
    -inf (max and min |x|); matrix norms None and 'fro' (sqrt of the sum of squares), 1,
    -1, inf, -inf (max and min absolute column and row sums). Other orders ('nuc', 2 and -2
    for matrices; 0 and p-norms for vectors) raise UnsupportedOperationError.

    Counts, for N elements per output element and L outputs: 2-norm and Frobenius: NL mul,
    (N - 1)L add, L sqrt, L equal (the guard below); 1: NL abs, (N - 1)L add; inf / -inf:
    NL abs, (N - 1)L max / min.

    Derivatives at non-differentiable points: at x = 0 the 2-norm and Frobenius norm have
    gradient 0 (the smallest subgradient, and what central differences give; JAX gives NaN);
    ties of max |x| (inf) and min |x| (-inf) share the derivative equally; |x| has
    derivative sign(x), 0 at 0.
    """
    return _norm(x, ord, axis, keepdims, "numpy.linalg.norm")


def _norm(x, ord_, axis, keepdims, what: str):
    x = _as_array(x)
    shape = tuple(shape_of(x))
    nd = len(shape)
    keepdims = bool(keepdims)
    if axis is None:
        if (ord_ is None or (isinstance(ord_, str) and ord_ in ("fro", "f") and nd == 2)
                or (nd == 1 and not isinstance(ord_, str) and ord_ == 2)):
            result = _two_norm(x, None, False)
            return reshape(result, shape=(1,) * nd) if keepdims else result
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (axis,)
    if len(axis) == 1:
        return _vector_norm(x, ord_, _one_axis(axis[0], nd, what), keepdims, what)
    if len(axis) == 2:
        row, col = _one_axis(axis[0], nd, what), _one_axis(axis[1], nd, what)
        if row == col:
            raise ShapeError(f"costad: {what}: duplicate axes given")
        return _matrix_norm(x, ord_, row, col, keepdims, what)
    raise ShapeError(f"costad: {what}: improper number of dimensions to norm "
                     f"(an array of shape {shape} with axis={axis})")


if hasattr(np.linalg, "vector_norm"):            # NumPy >= 2.0
    @implements(np.linalg.vector_norm)
    def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
        """numpy.linalg.vector_norm: the vector norms of `norm` over any axes at once (the
        axes are merged into one, for free); the same counts, N being all the reduced
        elements."""
        x = _as_array(x)
        shape = tuple(shape_of(x))
        axes = normalize_axis(axis, len(shape))
        lanes, kept, _, _ = _lanes(x, axes)
        result = _vector_norm(lanes, ord, len(kept), False, "numpy.linalg.vector_norm")
        if keepdims:
            result = reshape(result, shape=shape_after_reduction(shape, axes, True))
        return result

    @implements(np.linalg.matrix_norm)
    def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
        """numpy.linalg.matrix_norm: `norm` over the last two axes."""
        return _norm(x, ord, (-2, -1), keepdims, "numpy.linalg.matrix_norm")


# --------------------------------------------------------------------------- unbroadcast

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
