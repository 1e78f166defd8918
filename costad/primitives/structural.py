"""Structural primitives: reshaping, transposing, broadcasting, indexing, joining, casting;
and the NumPy functions on axes (moveaxis, swapaxes, rollaxis, atleast_1d/2d/3d).

They move or select values and cost nothing (docs/design.md, section 2). All are linear, so
their JVP is the primitive itself; their VJPs move cotangents back (a broadcast's VJP is
summed by the reverse sweep, which is counted, and so are the adds of a scatter whose
advanced index repeats a position). `costad.primitives.building` and
`costad.primitives.indexing` build the rest of NumPy's building and reshaping functions
from these primitives.
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from ..core import (MATERIALIZE_LIMIT, Joint, Primitive, ShapeDtype, Tracer, apply, dtype_of,
                    is_abstract, nbytes_of, no_traffic, shape_of, size_of, zeros_of)
from ..errors import ShapeError, UnsupportedOperationError
from ..numpy_dispatch import implements, method
from ..tree import tree_flatten
from ._base import (IndexedCotangent, free, like_argument, normalize_axes, register,
                    result_dtype, view_abstract)

__all__ = ["reshape", "transpose", "broadcast_to", "getitem", "scatter", "setitem",
           "concatenate", "stop_gradient", "astype", "cast", "float_dtype", "swap_last",
           "repeated_writes", "axis_index", "axis_tuple", "permute", "as_array", "moveaxis",
           "swapaxes", "rollaxis", "atleast_1d", "atleast_2d", "atleast_3d"]


def _reshape_impl(x, shape):
    return np.reshape(x, shape)


reshape = register(Primitive(
    "reshape", _reshape_impl, free,
    vjp=(lambda ct, out, x, shape: reshape(ct, shape=shape_of(x)),), linear=True,
    abstract=view_abstract(_reshape_impl), traffic=no_traffic, vjp_reads_args=False,
    doc="reshape (free)"))


def _transpose_vjp(ct, out, x, axes=None):
    inverse = None if axes is None else tuple(int(i) for i in np.argsort(axes))
    return transpose(ct, axes=inverse)


def _transpose_impl(x, axes=None):
    return np.transpose(x, axes)


transpose = register(Primitive(
    "transpose", _transpose_impl, free,
    vjp=(_transpose_vjp,), linear=True, abstract=view_abstract(_transpose_impl),
    traffic=no_traffic, vjp_reads_args=False,
    doc="permute axes (free); axes are stored non-negative"))

def _broadcast_to_impl(x, shape):
    return np.broadcast_to(x, shape)


broadcast_to = register(Primitive(
    "broadcast_to", _broadcast_to_impl, free,
    vjp=(lambda ct, out, x, shape: ct,),                 # the sweep sums it back to x's shape
    linear=True, abstract=view_abstract(_broadcast_to_impl), traffic=no_traffic,
    vjp_reads_args=False, doc="broadcast to a shape (free; its VJP sums, which is counted)"))

def _getitem_impl(x, index):
    return x[index]


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def _getitem_traffic(out, x, index):
    """Basic indexing is a view and moves no bytes, except that integers alone (x[i, j])
    make a NumPy scalar, a copy; advanced indexing copies. A copy reads and writes its
    result's bytes."""
    parts = index if isinstance(index, tuple) else (index,)
    scalar = len(parts) == len(shape_of(x)) and all(isinstance(p, (int, np.integer))
                                                   for p in parts)
    if _is_basic(index) and not scalar:
        return 0
    return 2 * nbytes_of(out)


getitem = register(Primitive(
    "getitem", _getitem_impl, free,
    vjp=(lambda ct, out, x, index: IndexedCotangent(shape_of(x), index, ct, is_abstract(x)),),
    linear=True, vjp_reads_args=False,
    abstract=view_abstract(_getitem_impl), traffic=_getitem_traffic,
    doc="x[index]: basic and advanced indexing, slicing (free)"))


def _scatter_impl(value, shape, index):
    dense = np.zeros(shape, dtype=result_dtype(value))
    np.add.at(dense, index, value)
    return dense


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (numbers.Integral, slice)) or p is None or p is Ellipsis
               for p in parts)


def repeated_writes(shape: tuple, index) -> int:
    """How many of the positions ``zeros(shape)[index]`` selects were selected before.

    Adding values at ``index`` costs one add for each (the first value at a position is an
    assignment). Basic indices never repeat a position. For advanced ones the coordinates
    of every selected element are read from per-axis ``arange`` grids broadcast to
    ``shape`` (zero strides, so memory is that of the selection, never of ``shape``).
    """
    if _is_basic_index(index) or not shape:
        return 0
    coords = []
    for k, n in enumerate(shape):
        grid = np.arange(n).reshape(tuple(-1 if j == k else 1 for j in range(len(shape))))
        coords.append(np.broadcast_to(grid, shape)[index].ravel())
    if coords[0].size == 0:
        return 0
    flat = np.ravel_multi_index(tuple(coords), shape)
    return int(flat.size - np.unique(flat).size)


def _scatter_cost(out, value, shape, index):
    repeats = repeated_writes(shape, index)
    return {"add": repeats} if repeats else {}


scatter = register(Primitive(
    "scatter", _scatter_impl, _scatter_cost,
    vjp=(lambda ct, out, value, shape, index: getitem(ct, index=index),), linear=True,
    vjp_reads_args=False,
    abstract=lambda value, shape, index: ShapeDtype(shape, result_dtype(value)),
    doc="zeros of a shape with value added at index (the dense form of an indexed "
        "cotangent): free, except one add for each value landing on a position already "
        "written (repeated advanced indices)"))


def _setitem_impl(x, value, index):
    out = np.array(x, dtype=np.result_type(x, value), copy=True)
    out[index] = value
    return out


def _setitem_jvp(tangents, out, x, value, index):
    tx, tv = tangents
    if tx is None and tv is None:
        return None
    return setitem(zeros_of(x) if tx is None else tx,
                   0.0 if tv is None else tv, index=index)


setitem = register(Primitive(
    "setitem", _setitem_impl, free, _setitem_jvp,
    (lambda ct, out, x, value, index: setitem(ct, 0.0, index=index),
     lambda ct, out, x, value, index: getitem(ct, index=index)),
    abstract=lambda x, value, index: ShapeDtype(shape_of(x), result_dtype(x, value)),
    vjp_reads_args=False,
    doc="a copy of x with x[index] = value (free); how finite differences perturb one "
        "coordinate of a traced input"))


def _concatenate_jvp(tangents, out, *xs, axis=0):
    if all(t is None for t in tangents):
        return None
    parts = [zeros_of(x) if t is None else t
             for t, x in zip(tangents, xs)]
    return concatenate(*parts, axis=axis)


def _concatenate_vjp(ct, out, *xs_and_needs, axis=0):
    *xs, needs = xs_and_needs              # needs follows the arguments, as in every Joint
    ax = axis % len(shape_of(out))
    cts, start = [], 0
    for x, need in zip(xs, needs):
        stop = start + shape_of(x)[ax]
        cts.append(getitem(ct, index=(slice(None),) * ax + (slice(start, stop),))
                   if need else None)
        start = stop
    return tuple(cts)


def _concatenate_abstract(*xs, axis=0):
    shapes = [tuple(shape_of(x)) for x in xs]
    ndim = len(shapes[0])
    if not shapes[0] or any(len(s) != ndim for s in shapes):
        raise ValueError("all inputs must have the same number of dimensions, at least 1")
    ax = axis % ndim
    if any(s[:ax] + s[ax + 1:] != shapes[0][:ax] + shapes[0][ax + 1:] for s in shapes):
        raise ValueError("all dimensions except the concatenation axis must match")
    shape = shapes[0][:ax] + (sum(s[ax] for s in shapes),) + shapes[0][ax + 1:]
    return ShapeDtype(shape, result_dtype(*xs))


concatenate = register(Primitive(
    "concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis), free,
    _concatenate_jvp, Joint(_concatenate_vjp), abstract=_concatenate_abstract,
    vjp_reads_args=False, doc="join arrays along an axis (free)"))


def _astype_impl(x, dtype):
    out = np.asarray(x).astype(dtype)
    return out[()] if out.ndim == 0 else out          # 0-d gives a NumPy scalar


astype = register(Primitive(
    "astype", _astype_impl, free,
    vjp=(lambda ct, out, x, dtype: astype(ct, dtype=dtype_of(x)),), linear=True,
    abstract=lambda x, dtype: ShapeDtype(shape_of(x), dtype), vjp_reads_args=False,
    doc="x cast to another floating dtype (free; its VJP casts the cotangent back)"))

_stop_gradient = register(Primitive(
    "stop_gradient", lambda x: x, free, differentiable=False, abstract=like_argument,
    traffic=no_traffic,
    doc="the value of x, treated as a constant by every derivative"))


def stop_gradient(x):
    """``x`` as a constant for every derivative (free): a value, or a list, tuple, dict or
    namedtuple of values, leaf by leaf. A container handed to the primitive whole holds no
    traced value at its top level, so it would come back unchanged, its values still
    carrying their derivatives (stop_gradient(params) of a dict did nothing)."""
    if isinstance(x, (list, tuple, dict)):
        leaves, tree = tree_flatten(x, name="stop_gradient's argument")
        return tree.unflatten(_stop_gradient(leaf) for leaf in leaves)
    return _stop_gradient(x)


def swap_last(x):
    """Transpose the last two axes (free)."""
    n = len(shape_of(x))
    return transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


# ------------------------------------------------------------------- NumPy entry points

@implements(np.reshape)
def _np_reshape(x, shape=None, order="C", *, newshape=None, copy=None):
    return _reshape(x, newshape if shape is None else shape, order=order)


def _reshape(x, *shape, order="C"):
    if order != "C":
        from ..numpy_dispatch import unsupported
        raise unsupported("reshape in an order other than C")
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = tuple(shape[0])
    # operator.index, as NumPy: a float size (2.9) is refused, never truncated to 2.
    shape = tuple(operator.index(n) for n in shape)
    if -1 in shape:   # resolve -1 here, so the recorded shape is explicit
        known = int(np.prod([n for n in shape if n != -1]))
        shape = tuple(size_of(x) // known if n == -1 and known else n for n in shape)
    return reshape(x, shape=shape)


def _transpose(x, axes=None):
    ndim = len(shape_of(x))
    return transpose(x, axes=None if axes is None else normalize_axes(axes, ndim))


@implements(np.transpose)
def _np_transpose(x, axes=None):
    return _transpose(x, axes)


def _transpose_method(x, *axes):
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], numbers.Integral)):
        axes = axes[0]
    return _transpose(x, axes if axes != () else None)




# ------------------------------------------------------------------- axes and dimensions

def axis_index(axis, ndim: int, what: str) -> int:
    """One axis, resolved to a non-negative int, with an error naming ``what``."""
    if not isinstance(axis, numbers.Integral) or isinstance(axis, (bool, np.bool_)):
        raise ShapeError(f"costad: {what}: axis {axis!r} is not an integer")
    if not -ndim <= axis < ndim:
        raise ShapeError(f"costad: {what}: axis {axis} is out of bounds for an array of "
                         f"dimension {ndim}")
    return int(axis) % ndim


def axis_tuple(axis, ndim: int, what: str) -> tuple[int, ...]:
    """One axis or a sequence of them, resolved, in the order given, without repeats."""
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = tuple(axis_index(a, ndim, what) for a in axes)
    if len(set(out)) != len(out):
        raise ShapeError(f"costad: {what}: repeated axis in {axes}")
    return out


def permute(a, order):
    """Transpose ``a`` to the axis order ``order`` (free; the identity is ``a`` itself)."""
    order = tuple(order)
    if order == tuple(range(len(order))):
        return a
    return transpose(a, axes=order)


def as_array(a):
    """An argument of a joining function as an array: a traced value as it is, a constant
    (list, number) as a NumPy array; a list holding traced values is built with
    `numpy.array`'s traced form."""
    if isinstance(a, (Tracer, np.ndarray, ShapeDtype)):
        return a
    from .building import asarray, contains_traced
    return asarray(a) if contains_traced(a) else np.asarray(a)


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    """Move axes to new positions, the others keeping their order (free)."""
    ndim = len(shape_of(a))
    src = axis_tuple(source, ndim, "numpy.moveaxis")
    dst = axis_tuple(destination, ndim, "numpy.moveaxis")
    if len(src) != len(dst):
        raise ShapeError("costad: numpy.moveaxis: source and destination must have the same "
                         "number of elements")
    order = [n for n in range(ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(a, order)


@implements(np.swapaxes, methods=("swapaxes",))
def swapaxes(a, axis1, axis2):
    """Exchange two axes (free)."""
    ndim = len(shape_of(a))
    i, j = axis_index(axis1, ndim, "numpy.swapaxes"), axis_index(axis2, ndim, "numpy.swapaxes")
    order = list(range(ndim))
    order[i], order[j] = j, i
    return permute(a, order)


@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    """Roll ``axis`` back until it lies at position ``start`` (free); NumPy's rules."""
    ndim = len(shape_of(a))
    axis = axis_index(axis, ndim, "numpy.rollaxis")
    if not isinstance(start, numbers.Integral) or isinstance(start, bool):
        raise ShapeError(f"costad: numpy.rollaxis: start {start!r} is not an integer")
    start = int(start) + ndim if start < 0 else int(start)
    if not 0 <= start < ndim + 1:
        raise ShapeError(f"costad: numpy.rollaxis: start must satisfy {-ndim} <= start < "
                         f"{ndim + 1}")
    if axis < start:
        start -= 1
    order = [n for n in range(ndim) if n != axis]
    order.insert(start, axis)
    return permute(a, order)


def _atleast(arys, expand):
    out = tuple(_expanded(as_array(a), expand) for a in arys)
    return out[0] if len(out) == 1 else out


def _expanded(a, expand):
    shape = tuple(shape_of(a))
    new = expand(shape)
    return a if new == shape else reshape(a, shape=new)


@implements(np.atleast_1d)
def atleast_1d(*arys):
    """0-d inputs become shape (1,) (free)."""
    return _atleast(arys, lambda s: s if s else (1,))


@implements(np.atleast_2d)
def atleast_2d(*arys):
    """0-d inputs become (1, 1), 1-d inputs (1, n) (free)."""
    return _atleast(arys, lambda s: ((1,) * (2 - len(s)) + s) if len(s) < 2 else s)


@implements(np.atleast_3d)
def atleast_3d(*arys):
    """0-d inputs become (1, 1, 1), (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1) (free)."""
    def expand(s):
        return {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
    return _atleast(arys, expand)


@implements(np.broadcast_to)
def _np_broadcast_to(x, shape, subok=False):
    shape = (int(shape),) if isinstance(shape, numbers.Integral) else tuple(shape)
    return broadcast_to(x, shape=shape)


@implements(np.expand_dims)
def _expand_dims(x, axis):
    shape = list(shape_of(x))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    ndim = len(shape) + len(axes)
    for ax in sorted(a % ndim for a in axes):
        shape.insert(ax, 1)
    return reshape(x, shape=tuple(shape))


@implements(np.squeeze, methods=("squeeze",))
def _squeeze(x, axis=None):
    shape = shape_of(x)
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {a % len(shape) for a in ((axis,) if isinstance(axis, numbers.Integral) else axis)}
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return reshape(x, shape=new)


@implements(np.ravel)
def _ravel(x, order="C"):
    return _reshape(x, -1, order=order)


@implements(np.copy)
def _copy(x, order="K", subok=False):
    return x                                    # traced values are never written in place


implements(np.shape)(shape_of)
implements(np.ndim)(lambda x: len(shape_of(x)))
implements(np.size)(lambda x, axis=None: size_of(x) if axis is None else shape_of(x)[axis])


def _constant(shape, fill, dtype, abstract: bool):
    """An array of ``fill`` (constants are free): a fresh writable array, as NumPy gives,
    except shaped like an abstract input of more than `MATERIALIZE_LIMIT` elements, where
    it is a read-only zero-stride view of one element, so that counting at n = 10^9
    allocates nothing of that size (writing into it is then refused by NumPy)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if abstract and math.prod(shape) > MATERIALIZE_LIMIT:
        return np.broadcast_to(np.asarray(fill, dtype=dtype), shape)
    return np.full(shape, fill, dtype=dtype)


def _constant_like(fill):
    def like(x, dtype=None, order="K", subok=True, shape=None, *, device=None):
        return _constant(shape_of(x) if shape is None else shape, fill,
                         dtype or dtype_of(x), is_abstract(x))
    return like


def _full_like(x, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    shape = shape_of(x) if shape is None else shape
    if isinstance(fill_value, Tracer):
        # A traced fill is a value to differentiate through: broadcast it (x gives only
        # the shape), never take its plain value.
        if dtype is not None:
            raise UnsupportedOperationError(
                "costad: numpy.full_like with a traced fill_value and a dtype (cast the "
                "fill first)")
        return np.broadcast_to(fill_value, shape)
    return _constant(shape, fill_value, dtype or dtype_of(x), is_abstract(x))


implements(np.zeros_like)(_constant_like(0.0))
implements(np.ones_like)(_constant_like(1.0))
implements(np.full_like)(_full_like)


def _getitem(self, index):
    if type(index) is int:                      # the hot path of scalar code
        return apply(getitem, (self,), {"index": index})
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(part, Tracer) for part in parts):
        raise TypeError("costad cannot index with a traced value: an index is a constant "
                        "(wrap it in costad.stop_gradient if it is computed from inputs)")
    if isinstance(index, list):
        index = np.asarray(index)
    return getitem(self, index=index)


def _iter(self):
    for i in range(len(self)):
        yield getitem(self, index=i)


def _astype(self, dtype, *args, **kwargs):
    return cast(self, dtype, "ndarray.astype")


def float_dtype(dtype, what: str) -> np.dtype:
    """``dtype`` if it is a floating dtype; any other is refused (casting a traced value to
    an integer, boolean or complex dtype would lose its derivative)."""
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise UnsupportedOperationError(f"costad: {what} cannot cast a traced value to "
                                        f"{dtype}: its derivative would be lost")
    return dtype


def cast(x, dtype, what: str):
    """``x`` in another floating dtype (free); the same dtype gives ``x`` itself."""
    dtype = float_dtype(dtype, what)
    return x if dtype == dtype_of(x) else astype(x, dtype=dtype)


method("__getitem__", _getitem)
method("__iter__", _iter)
method("reshape", lambda self, *shape, order="C": _reshape(self, *shape, order=order))
method("transpose", _transpose_method)
method("T", property(lambda self: transpose(self)))
method("ravel", lambda self, order="C": _reshape(self, -1, order=order))
method("flatten", lambda self, order="C": _reshape(self, -1, order=order))
method("copy", lambda self, order="C": self)
method("astype", _astype)
