"""Selecting and rearranging values: splitting (split, array_split, hsplit, vsplit, dsplit),
flips and rotations (flip, flipud, fliplr, rot90, roll), gathers (take, take_along_axis,
diag, diagonal), triangles (tril, triu), sorting (sort, argsort) and select.

Cost: all free, since they move or select values (docs/design.md, section 2). No new
primitive: they are written with getitem, concatenate, transpose, scatter and where, so
their derivatives follow: a gather's VJP scatters the cotangent back (adding where an index
repeats, one add per repetition), a flip's or roll's moves it back, a triangle's masks it.

Sorting: the permutation is NumPy's stable argsort of the plain values, a constant; the
sorted array gathers through it, so its derivative follows the permutation. At ties (equal
values, 0.0 and -0.0 included) the stable order decides which input feeds which output;
sort is not differentiable there, and any choice is right almost everywhere. argsort
returns plain integers (it is piecewise constant), and neither counts its comparisons.
"""
from __future__ import annotations

import itertools
import operator

import numpy as np

from ..core import Primitive, ShapeDtype, Tracer, dtype_of, nbytes_of, primal_value, shape_of
from ..errors import ShapeError, UnsupportedOperationError
from ..numpy_dispatch import implements, method
from ._base import free, like_argument, register, result_dtype
from .building import contains_traced
from .elementwise import where
from .structural import (_reshape, as_array, axis_index, axis_tuple, concatenate, getitem,
                         permute, scatter)

__all__ = ["split", "array_split", "hsplit", "vsplit", "dsplit", "flip", "flipud", "fliplr",
           "rot90", "roll", "take", "take_along_axis", "along_axis_index", "diag", "diagonal",
           "tril", "triu", "sort", "argsort", "select", "permute_along"]


def _refuse_traced(value, what: str) -> None:
    if contains_traced(value):
        raise TypeError(f"costad: {what} with a traced value: it is a constant (wrap it in "
                        "costad.stop_gradient if it is computed from inputs)")


# ------------------------------------------------------------------------------- splitting

def _split_points(n: int, indices_or_sections, what: str, equal: bool) -> list[int]:
    try:
        indices = [operator.index(i) for i in indices_or_sections]
    except TypeError:
        if isinstance(indices_or_sections, (bool, np.bool_)):
            raise ShapeError(f"costad: {what}: sections must be an integer or a list of "
                             "indices") from None
        try:
            sections = int(indices_or_sections)
        except (TypeError, ValueError):
            raise ShapeError(f"costad: {what}: sections must be an integer or a list of "
                             f"integer indices, got {indices_or_sections!r}") from None
        if sections <= 0:
            raise ShapeError(f"costad: {what}: the number of sections must be positive")
        if equal and n % sections:
            raise ShapeError(f"costad: {what}: an axis of length {n} does not split into "
                             f"{sections} equal sections (numpy.array_split allows unequal)")
        each, extras = divmod(n, sections)
        sizes = [each + 1] * extras + [each] * (sections - extras)
        return [0] + list(itertools.accumulate(sizes))
    return [0] + indices + [n]


def _split(ary, indices_or_sections, axis, what, equal=True):
    ary = as_array(ary)
    shape = tuple(shape_of(ary))
    if not shape:
        raise ShapeError(f"costad: {what} cannot split a 0-d array")
    ax = axis_index(axis, len(shape), what)
    points = _split_points(shape[ax], indices_or_sections, what, equal)
    before = (slice(None),) * ax
    return [getitem(ary, index=before + (slice(start, stop),))
            for start, stop in zip(points[:-1], points[1:])]


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    """Equal sections, or pieces between indices, as a list of views (free)."""
    return _split(ary, indices_or_sections, axis, "numpy.split")


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """As split, sections of lengths differing by at most one allowed (free)."""
    return _split(ary, indices_or_sections, axis, "numpy.array_split", equal=False)


def _split_at_least(ary, indices_or_sections, ndim, axis, what):
    if len(shape_of(ary)) < ndim:
        raise ShapeError(f"costad: {what} only works on arrays of {ndim} or more dimensions")
    return _split(ary, indices_or_sections, axis, what)


@implements(np.hsplit)
def hsplit(ary, indices_or_sections):
    """split along axis 1 (axis 0 for 1-d arrays)."""
    axis = 1 if len(shape_of(ary)) > 1 else 0
    return _split_at_least(ary, indices_or_sections, 1, axis, "numpy.hsplit")


@implements(np.vsplit)
def vsplit(ary, indices_or_sections):
    """split along axis 0 of an array of 2 or more dimensions."""
    return _split_at_least(ary, indices_or_sections, 2, 0, "numpy.vsplit")


@implements(np.dsplit)
def dsplit(ary, indices_or_sections):
    """split along axis 2 of an array of 3 or more dimensions."""
    return _split_at_least(ary, indices_or_sections, 3, 2, "numpy.dsplit")




# ---------------------------------------------------------------------- flips and rotations

@implements(np.flip)
def flip(m, axis=None):
    """Reverse the order of elements along axes (all of them when axis is None): a view
    through reversed slices (free)."""
    x = as_array(m)
    ndim = len(shape_of(x))
    axes = range(ndim) if axis is None else axis_tuple(axis, ndim, "numpy.flip")
    if not axes:
        return x
    return getitem(x, index=tuple(slice(None, None, -1) if i in axes else slice(None)
                                  for i in range(ndim)))


@implements(np.flipud)
def flipud(m):
    """flip along axis 0 (free)."""
    if len(shape_of(m)) < 1:
        raise ShapeError("costad: numpy.flipud needs an array of at least 1 dimension")
    return flip(m, 0)


@implements(np.fliplr)
def fliplr(m):
    """flip along axis 1 (free)."""
    if len(shape_of(m)) < 2:
        raise ShapeError("costad: numpy.fliplr needs an array of at least 2 dimensions")
    return flip(m, 1)


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees k times in the plane of two axes, as NumPy does: flips and a
    transpose (free)."""
    x = as_array(m)
    ndim = len(shape_of(x))
    axes = tuple(axes)
    if len(axes) != 2:
        raise ShapeError("costad: numpy.rot90 needs exactly two axes")
    a0, a1 = (axis_index(a, ndim, "numpy.rot90") for a in axes)
    if a0 == a1:
        raise ShapeError("costad: numpy.rot90: the two axes must be different")
    k = operator.index(k) % 4
    if k == 0:
        return x
    if k == 2:
        return flip(x, (a0, a1))
    order = list(range(ndim))
    order[a0], order[a1] = order[a1], order[a0]
    return permute(flip(x, a1), order) if k == 1 else flip(permute(x, order), a1)


@implements(np.roll)
def roll(a, shift, axis=None):
    """Shift elements cyclically along axes (the flattened array when axis is None): two
    slices joined (free). Shifts for a repeated axis add up, as in NumPy."""
    _refuse_traced(shift, "numpy.roll")
    x = as_array(a)
    if axis is None:
        flat = roll(_reshape(x, -1), shift, 0)
        return flat if shape_of(x) == shape_of(flat) else _reshape(flat, shape_of(x))
    shape = tuple(shape_of(x))
    pairs = np.broadcast(np.asarray(shift), np.asarray(axis))
    if pairs.ndim > 1:
        raise ShapeError("costad: numpy.roll: shift and axis must be scalars or 1-d sequences")
    shifts = dict.fromkeys(range(len(shape)), 0)
    for s, ax in pairs:
        shifts[axis_index(int(ax), len(shape), "numpy.roll")] += operator.index(s)
    for ax, s in shifts.items():
        n = shape[ax]
        if n == 0 or s % n == 0:
            continue
        cut = n - s % n
        before = (slice(None),) * ax
        x = concatenate(getitem(x, index=before + (slice(cut, None),)),
                        getitem(x, index=before + (slice(None, cut),)), axis=ax)
    return x


# ------------------------------------------------------------------------------- gathering

def _integer_indices(indices, what: str) -> np.ndarray:
    _refuse_traced(indices, what)
    index = np.asarray(indices)
    if index.dtype.kind in "iub":
        return index.astype(np.intp, copy=False)
    if index.size == 0:
        return index.astype(np.intp)
    raise TypeError(f"costad: {what} needs integer indices, got {index.dtype}")


@implements(np.take, methods=("take",))
def take(a, indices, axis=None, mode="raise"):
    """Elements at ``indices`` along an axis (of the flattened array when axis is None);
    mode 'wrap' and 'clip' as in NumPy. A gather (free); its VJP adds at repeated indices."""
    x = as_array(a)
    index = _integer_indices(indices, "numpy.take")
    if axis is None:
        x, axis = _reshape(x, -1), 0
    shape = tuple(shape_of(x))
    if not shape:
        raise ShapeError("costad: numpy.take: an axis of a 0-d array")
    ax = axis_index(axis, len(shape), "numpy.take")
    n = shape[ax]
    if index.size and n == 0:
        raise ShapeError("costad: numpy.take: cannot take from an empty axis")
    if mode == "raise":
        bad = index[(index < -n) | (index >= n)]
        if bad.size:
            raise ShapeError(f"costad: numpy.take: index {int(bad.flat[0])} is out of bounds "
                             f"for axis {ax} with size {n}")
    elif mode == "wrap":
        index = index % n if index.size else index
    elif mode == "clip":
        index = np.clip(index, 0, n - 1) if index.size else index
    else:
        raise ShapeError(f"costad: numpy.take: mode must be 'raise', 'wrap' or 'clip', "
                         f"got {mode!r}")
    part = int(index) if index.ndim == 0 else index
    return getitem(x, index=(slice(None),) * ax + (part,))


def along_axis_index(shape: tuple, index: np.ndarray, axis: int) -> tuple:
    """The advanced index that reads ``index`` along ``axis`` and every other axis in
    place (NumPy's take_along_axis): open ``arange`` grids, no array of the data's size."""
    ndim = len(shape)
    return tuple(index if i == axis else
                 np.arange(n).reshape(tuple(-1 if j == i else 1 for j in range(ndim)))
                 for i, n in enumerate(shape))


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """Elements at ``indices`` along ``axis``, matching the other axes (free; its VJP adds
    at repeated indices)."""
    x = as_array(arr)
    _refuse_traced(indices, "numpy.take_along_axis")
    index = np.asarray(indices)
    if index.dtype.kind not in "iu":
        raise TypeError(f"costad: numpy.take_along_axis needs an integer index array, got "
                        f"{index.dtype}")
    if axis is None:
        if index.ndim != 1:
            raise ShapeError("costad: numpy.take_along_axis with axis=None needs 1-d indices")
        x, axis = _reshape(x, -1), 0
    shape = tuple(shape_of(x))
    ax = axis_index(axis, len(shape), "numpy.take_along_axis")
    if index.ndim != len(shape):
        raise ShapeError(f"costad: numpy.take_along_axis: indices of dimension {index.ndim} "
                         f"for an array of dimension {len(shape)}")
    n = shape[ax]
    bad = index[(index < -n) | (index >= n)]
    if bad.size:
        raise ShapeError(f"costad: numpy.take_along_axis: index {int(bad.flat[0])} is out of "
                         f"bounds for axis {ax} with size {n}")
    return getitem(x, index=along_axis_index(shape, index, ax))


@implements(np.diagonal, methods=("diagonal",))
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal at ``offset`` in the plane of axis1 and axis2, as the last axis of the
    result, the other axes in order (free)."""
    x = as_array(a)
    shape = tuple(shape_of(x))
    ndim = len(shape)
    if ndim < 2:
        raise ShapeError("costad: numpy.diagonal needs an array of at least 2 dimensions")
    i = axis_index(axis1, ndim, "numpy.diagonal")
    j = axis_index(axis2, ndim, "numpy.diagonal")
    if i == j:
        raise ShapeError("costad: numpy.diagonal: axis1 and axis2 cannot be the same")
    offset = operator.index(offset)
    if offset >= 0:
        cols = np.arange(max(0, min(shape[i], shape[j] - offset))) + offset
        rows = cols - offset
    else:
        rows = np.arange(max(0, min(shape[i] + offset, shape[j]))) - offset
        cols = rows + offset
    y = permute(x, [d for d in range(ndim) if d not in (i, j)] + [i, j])
    return getitem(y, index=(Ellipsis, rows, cols))


@implements(np.diag)
def diag(v, k=0):
    """A 1-d input placed on the k-th diagonal of a square matrix (a scatter into zeros),
    or the k-th diagonal of a 2-d input (free)."""
    x = as_array(v)
    shape = tuple(shape_of(x))
    k = operator.index(k)
    if len(shape) == 2:
        return diagonal(x, k)
    if len(shape) != 1:
        raise ShapeError(f"costad: numpy.diag needs a 1-d or 2-d input, got dimension "
                         f"{len(shape)}")
    n = shape[0] + abs(k)
    i = np.arange(shape[0])
    index = (i, i + k) if k >= 0 else (i - k, i)
    return scatter(x, shape=(n, n), index=index)


def _triangle(m, k, lower: bool, what: str):
    x = as_array(m)
    shape = tuple(shape_of(x))
    if not shape:
        raise ShapeError(f"costad: {what} needs an array of at least 1 dimension")
    k = operator.index(k)
    rows, cols = shape[-2:] if len(shape) >= 2 else (shape[-1], shape[-1])
    mask = np.tri(rows, cols, k=k if lower else k - 1, dtype=bool)
    zero = np.zeros((), dtype_of(x))
    return where(mask, x, zero) if lower else where(mask, zero, x)


@implements(np.tril)
def tril(m, k=0):
    """Zeros above the k-th diagonal of the last two axes (a selection, free); a 1-d input
    is read as the rows of a square matrix, as in NumPy."""
    return _triangle(m, k, True, "numpy.tril")


@implements(np.triu)
def triu(m, k=0):
    """Zeros below the k-th diagonal of the last two axes (a selection, free)."""
    return _triangle(m, k, False, "numpy.triu")


# --------------------------------------------------------------------------------- sorting

_SORT_KINDS = (None, "quicksort", "quick", "mergesort", "merge", "heapsort", "heap", "stable")


@implements(np.sort)
def sort(a, axis=-1, kind=None, stable=None):
    """Sorted along an axis (the flattened array when axis is None): the values permuted by
    the stable argsort of the plain values (free; see the module's note on ties)."""
    if kind not in _SORT_KINDS:
        raise ShapeError(f"costad: numpy.sort: unknown sort kind {kind!r}")
    x = as_array(a)
    if axis is None:
        x, axis = _reshape(x, -1), 0
    shape = tuple(shape_of(x))
    ax = axis_index(axis, len(shape), "numpy.sort")
    plain = primal_value(x)
    # An abstract input has no values to order: the permutation stays unknown (None), and
    # the count is the same, since permuting is free whatever the order.
    order = None if plain.__class__ is ShapeDtype else np.argsort(plain, axis=ax,
                                                                   kind="stable")
    return permute_along(x, order=order, axis=ax)


def _permute_impl(x, order, axis):
    if order is None:        # the permutation of abstract values: the result is unknown too
        return ShapeDtype(shape_of(x), dtype_of(x))
    return np.take_along_axis(x, order, axis)


def _inverse(order, axis):
    """The inverse permutation along ``axis`` (a constant; None stays None)."""
    if order is None:
        return None
    inverse = np.empty_like(order)
    np.put_along_axis(inverse, order, np.arange(order.shape[axis]).reshape(
        tuple(-1 if i == axis else 1 for i in range(order.ndim))), axis)
    return inverse


permute_along = register(Primitive(
    "permute_along", _permute_impl, free,
    vjp=(lambda ct, out, x, order, axis: permute_along(ct, order=_inverse(order, axis),
                                                       axis=axis),),
    linear=True, abstract=lambda x, order, axis: like_argument(x),
    traffic=lambda out, x, order, axis: 2 * nbytes_of(out),
    doc="x permuted along an axis by a constant permutation (sorting; free; a copy)"))


@implements(np.argsort, methods=("argsort",))
def argsort(a, axis=-1, kind=None, stable=None):
    """The sorting permutation of the plain values: plain integers, never traced, free."""
    plain = primal_value(as_array(a))
    if plain.__class__ is ShapeDtype:
        raise UnsupportedOperationError(
            "costad: numpy.argsort needs the values, which an abstract (ShapeDtype) input "
            "does not have; count it on a concrete input")
    return np.argsort(plain, axis=axis, kind=kind, stable=stable)


def _sort_in_place(self, *args, **kwargs):
    raise UnsupportedOperationError(
        "costad cannot trace ndarray.sort(): it sorts in place, and a traced value is never "
        "changed in place; use y = np.sort(x)")


method("sort", _sort_in_place)


# ---------------------------------------------------------------------------------- select

def _weak_or_array(value):
    """As NumPy's select keeps them: Python scalars (weak in promotion), traced values, and
    arrays for everything else."""
    if type(value) in (int, float, complex) or isinstance(value, Tracer):
        return value
    return as_array(value)


@implements(np.select)
def select(condlist, choicelist, default=0):
    """The choice of the first true condition, elementwise, else ``default``: a chain of
    where (free); each choice's derivative flows where its condition picked it."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ShapeError("costad: numpy.select: condlist and choicelist must have the same "
                         "length")
    if not condlist:
        raise ShapeError("costad: numpy.select needs at least one condition")
    conds = []
    for i, cond in enumerate(condlist):
        if isinstance(cond, Tracer) and dtype_of(cond) != np.bool_:
            raise TypeError(f"costad: numpy.select: entry {i} of condlist is a traced float; "
                            "conditions are boolean arrays (from comparisons)")
        if not isinstance(cond, (Tracer, ShapeDtype)):       # an abstract mask stays so
            cond = np.asarray(cond)
        if dtype_of(cond) != np.bool_:
            raise TypeError(f"costad: numpy.select: entry {i} of condlist should be a boolean "
                            f"array, got {cond.dtype}")
        conds.append(cond)
    choices = [_weak_or_array(c) for c in choicelist] + [_weak_or_array(default)]
    dtype = result_dtype(*(primal_value(c) for c in choices), floating=False)

    def cast(value):
        return value if isinstance(value, Tracer) else np.asarray(value, dtype=dtype)

    result = cast(choices[-1])
    for cond, choice in reversed(list(zip(conds, choices[:-1]))):
        result = where(cond, cast(choice), result)
    return result
