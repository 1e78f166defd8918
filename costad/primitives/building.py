"""Building arrays: `numpy.array` and `numpy.asarray` of traced values, joining (stack,
hstack, vstack, dstack, column_stack, append, concatenate), repeating (repeat, tile),
padding (pad) and `numpy.linspace` between traced endpoints.

Cost: everything here moves or copies values and is free, except linspace, whose arithmetic
is counted as NumPy does it (see `linspace`). No new primitive: these are compositions of
reshape, broadcast_to, concatenate, getitem and setitem, so their derivatives follow. The
VJP of a copy sums the cotangents of its copies, which is counted: one add per element for
each copy beyond the first (repeat, tile, a value stacked twice).

`numpy.array` and `numpy.asarray`
---------------------------------
NumPy does not dispatch `numpy.array` to ``__array_function__`` (only with ``like=``), and a
traced value's ``__array__`` must refuse, since a plain array would drop the derivative. So
while an interpretation is open anywhere in the process, the ``array`` and ``asarray``
attributes of the ``numpy`` module are replaced by wrappers (installed when the first
interpretation opens and removed when the last closes, by `costad.core`'s level hooks, under
its lock). A wrapper called in a thread that traces, on an argument holding traced values (a
traced value, or nested lists and tuples of them mixed with constants), builds the array
with the free reshape and concatenate primitives; in every other case it calls NumPy's own
function with the arguments unchanged, so other threads and plain data see NumPy's results
and types. What it does not cover, and where the traced value still refuses with a
TypeError: a function imported by name before costad traced (``from numpy import array``
at the top of a module binds NumPy's own function), `numpy.asanyarray` and other
converters, and a ``numpy.array`` that someone else replaced (costad then leaves it alone).
"""
from __future__ import annotations

import functools
import operator

import numpy as np

from ..core import (ShapeDtype, Tracer, dtype_of, on_first_and_last_level, primal_value,
                    shape_of, size_of, trace_depth)
from ..errors import ShapeError, UnsupportedOperationError
from ..numpy_dispatch import implements, unsupported
from ._base import result_dtype
from .elementwise import add, div, mul, sub
from .structural import (_reshape, as_array, atleast_1d, atleast_2d, atleast_3d, axis_index,
                         broadcast_to, cast, concatenate, float_dtype, getitem, moveaxis,
                         reshape, setitem)

__all__ = ["array", "asarray", "contains_traced", "stack", "hstack", "vstack", "dstack",
           "column_stack", "append", "repeat", "tile", "pad", "linspace"]


# ------------------------------------------------------------ numpy.array, numpy.asarray

_NUMPY_ARRAY = np.array           # NumPy's own functions, whatever the module holds later
_NUMPY_ASARRAY = np.asarray


def contains_traced(obj) -> bool:
    """True if ``obj`` is a traced value, or a list or tuple holding one at any depth."""
    if isinstance(obj, Tracer):
        return True
    if not isinstance(obj, (list, tuple)):
        return False
    pending = [obj]
    while pending:
        for item in pending.pop():
            if isinstance(item, Tracer):
                return True
            if isinstance(item, (list, tuple)):
                pending.append(item)
    return False


def _plain(obj):
    """``obj`` with every traced value replaced by its plain value: what NumPy would see."""
    if isinstance(obj, Tracer):
        value = primal_value(obj)
        if value.__class__ is ShapeDtype:       # no data: a zero-stride stand-in
            return np.broadcast_to(np.zeros((), value.dtype), value.shape)
        return value
    if isinstance(obj, (list, tuple)):
        return [_plain(item) for item in obj]
    return obj


def _leaves(obj, out: list) -> list:
    """The traced values and constants of a nested list, in order."""
    if isinstance(obj, (list, tuple)) and not isinstance(obj, Tracer):
        for item in obj:
            _leaves(item, out)
    else:
        out.append(obj)
    return out


def _build(obj, reference: np.ndarray, what: str, dtype):
    """The traced array with the shape and dtype of NumPy's ``reference`` (then cast to
    ``dtype``, a floating dtype, if given): each traced leaf flattened, consecutive
    constants joined into one constant, then one concatenate and one reshape (all free)."""
    if reference.dtype.kind != "f":
        raise UnsupportedOperationError(
            f"costad: {what} of traced values would make a {reference.dtype} array; costad "
            "traces real floating-point arrays only")
    if dtype is not None:
        dtype = float_dtype(dtype, what)
        return cast(_build(obj, reference, what, None), dtype, what)
    if isinstance(obj, Tracer):
        return obj if tuple(shape_of(obj)) == reference.shape else reshape(
            obj, shape=reference.shape)
    parts, constants = [], []
    for leaf in _leaves(obj, []):
        if isinstance(leaf, Tracer):
            if constants:
                parts.append(np.concatenate(constants))
                constants = []
            parts.append(leaf if len(shape_of(leaf)) == 1
                         else reshape(leaf, shape=(size_of(leaf),)))
        else:
            constants.append(_NUMPY_ASARRAY(leaf, dtype=reference.dtype).ravel())
    if constants:
        parts.append(np.concatenate(constants))
    flat = parts[0] if len(parts) == 1 else concatenate(*parts, axis=0)
    if tuple(shape_of(flat)) == reference.shape:
        return flat
    return reshape(flat, shape=reference.shape)


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0,  # noqa: A002
          like=None):
    """`numpy.array` of traced values (a traced value, or nested lists and tuples of them
    mixed with constants): NumPy's shape, dtype and errors, built with free primitives. A
    traced value is never written in place, so a copy of one is the value itself."""
    if like is not None:
        return _NUMPY_ARRAY(object, dtype, copy=copy, order=order, subok=subok, ndmin=ndmin,
                            like=like)
    # NumPy itself, on the plain values, checks the arguments and finds shape and dtype.
    reference = _NUMPY_ARRAY(_plain(object), copy=copy, order=order, ndmin=ndmin)
    return _build(object, reference, "numpy.array", dtype)


def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """`numpy.asarray` of traced values; a traced value is returned as it is."""
    if like is not None:
        return _NUMPY_ASARRAY(a, dtype, order, device=device, copy=copy, like=like)
    if isinstance(a, Tracer) and dtype is None and device is None:
        return a
    reference = _NUMPY_ASARRAY(_plain(a), order=order, device=device, copy=copy)
    return _build(a, reference, "numpy.asarray", dtype)


def _wrapper(numpy_function, traced_form, first: str):
    @functools.wraps(numpy_function)
    def wrapper(*args, **kwargs):
        # The common case, any thread that is not tracing: NumPy's function, untouched.
        if trace_depth():
            obj = args[0] if args else kwargs.get(first)
            if contains_traced(obj):
                return traced_form(*args, **kwargs)
        return numpy_function(*args, **kwargs)
    return wrapper


_ORIGINALS = {"array": _NUMPY_ARRAY, "asarray": _NUMPY_ASARRAY}
_WRAPPERS = {"array": _wrapper(_NUMPY_ARRAY, array, "object"),
             "asarray": _wrapper(_NUMPY_ASARRAY, asarray, "a")}


def _install() -> None:
    """Put the wrappers in the numpy module (run when the first interpretation opens). A
    function someone else put there is left alone."""
    for name, wrapper in _WRAPPERS.items():
        if getattr(np, name) is _ORIGINALS[name]:
            setattr(np, name, wrapper)


def _remove() -> None:
    """Give the numpy module its own functions back (run when the last one closes)."""
    for name, wrapper in _WRAPPERS.items():
        if getattr(np, name) is wrapper:
            setattr(np, name, _ORIGINALS[name])


on_first_and_last_level(_install, _remove)
# np.array(..., like=traced) is dispatched to ``__array_function__`` without ``like``, as
# whichever function the numpy module holds at the time: NumPy's or the wrapper.
implements(_NUMPY_ARRAY, _WRAPPERS["array"])(array)
implements(_NUMPY_ASARRAY, _WRAPPERS["asarray"])(asarray)


# ---------------------------------------------------------------------------------- joining

@implements(np.concatenate)
def _np_concatenate(arrays, axis=0):
    arrays = [as_array(a) for a in arrays]
    if not arrays:
        raise ShapeError("costad: numpy.concatenate needs at least one array")
    if axis is None:
        arrays = [_reshape(a, -1) for a in arrays]
        axis = 0
    ndim = len(shape_of(arrays[0]))
    if ndim == 0:
        raise ShapeError("costad: numpy.concatenate cannot join 0-d arrays")
    return concatenate(*arrays, axis=axis_index(axis, ndim, "numpy.concatenate"))


@implements(np.stack)
def stack(arrays, axis=0):
    """Join arrays of one shape along a new axis (free)."""
    arrays = [as_array(a) for a in arrays]
    if not arrays:
        raise ShapeError("costad: numpy.stack needs at least one array")
    shapes = sorted({tuple(shape_of(a)) for a in arrays})
    if len(shapes) != 1:
        raise ShapeError(f"costad: numpy.stack needs arrays of one shape, got {shapes}")
    shape = shapes[0]
    ax = axis_index(axis, len(shape) + 1, "numpy.stack")
    new = shape[:ax] + (1,) + shape[ax:]
    return concatenate(*[reshape(a, shape=new) for a in arrays], axis=ax)


def _join(arrays, axis, what):
    if not arrays:
        raise ShapeError(f"costad: {what} needs at least one array")
    return concatenate(*arrays, axis=axis_index(axis, len(shape_of(arrays[0])), what))


@implements(np.hstack)
def hstack(tup):
    """Join along axis 1, or axis 0 for 1-d arrays (free)."""
    arrays = [atleast_1d(a) for a in tup]
    axis = 0 if arrays and len(shape_of(arrays[0])) == 1 else 1
    return _join(arrays, axis, "numpy.hstack")


@implements(np.vstack)
def vstack(tup):
    """Join along axis 0 after making every array at least 2-d (free)."""
    return _join([atleast_2d(a) for a in tup], 0, "numpy.vstack")


@implements(np.dstack)
def dstack(tup):
    """Join along axis 2 after making every array at least 3-d (free)."""
    return _join([atleast_3d(a) for a in tup], 2, "numpy.dstack")


@implements(np.column_stack)
def column_stack(tup):
    """Join 1-d arrays as columns, and 2-d arrays, along axis 1 (free)."""
    arrays = []
    for a in tup:
        a = as_array(a)
        shape = tuple(shape_of(a))
        if len(shape) < 2:
            a = reshape(a, shape=(size_of(a), 1))
        arrays.append(a)
    return _join(arrays, 1, "numpy.column_stack")


@implements(np.append)
def append(arr, values, axis=None):
    """``values`` joined after ``arr``: both flattened when axis is None (free)."""
    arr, values = as_array(arr), as_array(values)
    if axis is None:
        if len(shape_of(arr)) != 1:
            arr = _reshape(arr, -1)
        values = _reshape(values, -1)
        axis = 0
    return _join([arr, values], axis, "numpy.append")




# -------------------------------------------------------------------------------- repeating

@implements(np.repeat, methods=("repeat",))
def repeat(a, repeats, axis=None):
    """Each element repeated along an axis (the array flattened when axis is None): a gather
    with a constant index, free; its VJP adds the copies' cotangents, one add per copy
    beyond the first."""
    if contains_traced(repeats):
        raise TypeError("costad: numpy.repeat with traced repeats: the counts are constants "
                        "(wrap them in costad.stop_gradient if they are computed from inputs)")
    x = as_array(a)
    if axis is None:
        x, axis = _reshape(x, -1), 0
    shape = tuple(shape_of(x))
    if not shape:
        raise ShapeError("costad: numpy.repeat: axis given for a 0-d array")
    ax = axis_index(axis, len(shape), "numpy.repeat")
    counts = np.asarray(repeats)
    if counts.size and not np.can_cast(counts.dtype, np.intp, "same_kind"):
        raise TypeError(f"costad: numpy.repeat needs integer repeats, got {counts.dtype}")
    try:
        index = np.repeat(np.arange(shape[ax]), counts.astype(np.intp))
    except ValueError as err:
        raise ShapeError(f"costad: numpy.repeat: {err}") from None
    return getitem(x, index=(slice(None),) * ax + (index,))


@implements(np.tile)
def tile(A, reps):
    """A repeated ``reps`` times along each axis: broadcast along new interleaved axes, then
    reshaped (free); its VJP sums the copies, (prod(reps) - 1) adds per element of A."""
    x = as_array(A)
    try:
        tup = tuple(operator.index(r) for r in reps)
    except TypeError:
        try:
            tup = (operator.index(reps),)
        except TypeError:
            raise TypeError(f"costad: numpy.tile needs integer reps, got {reps!r}") from None
    if any(t < 0 for t in tup):
        raise ShapeError(f"costad: numpy.tile: negative repetitions {tup}")
    shape = tuple(shape_of(x))
    if len(tup) > len(shape):
        shape = (1,) * (len(tup) - len(shape)) + shape
    tup = (1,) * (len(shape) - len(tup)) + tup
    out_shape = tuple(s * t for s, t in zip(shape, tup))
    if all(t == 1 for t in tup):
        return x if tuple(shape_of(x)) == out_shape else reshape(x, shape=out_shape)
    spread = tuple(v for s in shape for v in (1, s))
    copies = tuple(v for s, t in zip(shape, tup) for v in (t, s))
    return reshape(broadcast_to(reshape(x, shape=spread), shape=copies), shape=out_shape)


# ---------------------------------------------------------------------------------- padding

def _as_pairs(x, ndim: int, as_index: bool):
    """NumPy's reading of pad_width and constant_values: one (before, after) pair per axis,
    from a scalar, a pair, or one pair per axis."""
    x = np.array(x)
    if as_index:
        if x.size and x.dtype.kind not in "iu":
            raise TypeError("costad: numpy.pad: pad_width must be of integral type")
        x = x.astype(np.intp)
    if x.ndim < 3 and x.size == 1:
        x = x.ravel()
        pairs = ((x[0], x[0]),) * ndim
    elif x.ndim < 3 and x.size == 2 and x.shape != (2, 1):
        x = x.ravel()
        pairs = ((x[0], x[1]),) * ndim
    else:
        try:
            pairs = np.broadcast_to(x, (ndim, 2))
        except ValueError:
            raise ShapeError(f"costad: numpy.pad: {'pad_width' if as_index else 'constant_values'}"
                             f" of shape {x.shape} does not fit an array of dimension "
                             f"{ndim}") from None
    if as_index and any(v < 0 for pair in pairs for v in pair):
        raise ShapeError("costad: numpy.pad: pad widths cannot be negative")
    return [(pair[0], pair[1]) for pair in pairs]


@implements(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):  # noqa: A002
    """Constant padding, axis after axis as NumPy does (so a corner takes the value of the
    last axis padded there): constant blocks joined with concatenate (free)."""
    if not (isinstance(mode, str) and mode == "constant"):
        raise unsupported(f"numpy.pad with mode={mode!r} (only mode='constant' is traced)")
    unknown = sorted(set(kwargs) - {"constant_values"})
    if unknown:
        raise ShapeError(f"costad: numpy.pad: unsupported keyword arguments for mode "
                         f"'constant': {unknown}")
    values = kwargs.get("constant_values", 0)
    if contains_traced(values):
        raise unsupported("numpy.pad with traced constant_values (pad with np.concatenate "
                          "to use traced values)")
    x = as_array(array)
    ndim = len(shape_of(x))
    dtype = dtype_of(x)
    for axis, ((before, after), (low, high)) in enumerate(zip(
            _as_pairs(pad_width, ndim, True), _as_pairs(values, ndim, False))):
        if not before and not after:
            continue
        shape = tuple(shape_of(x))
        parts = []
        for width, value, last in ((before, low, False), (after, high, True)):
            if width:
                block = shape[:axis] + (int(width),) + shape[axis + 1:]
                constant = np.broadcast_to(np.asarray(value).astype(dtype), block)
                parts.append(constant)
        parts.insert(1 if before else 0, x)
        x = concatenate(*parts, axis=axis)
    return x


# --------------------------------------------------------------------------------- linspace

@implements(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, axis=0, *, device=None):
    """``num`` points from start to stop, as NumPy computes them: delta = stop - start, step
    = delta / div (div = num - 1, or num without the endpoint), then k * step + start for
    k = 0 ... num - 1, and the last point set to stop (a free assignment). With s elements
    in the broadcast endpoints it costs s sub, s div (none when div is 0), num*s mul and
    num*s add. When a step underflows to zero NumPy takes (k / div) * delta instead (a
    constant times delta): the same counts, and the same values."""
    num = operator.index(num)
    if num < 0:
        raise ShapeError(f"costad: numpy.linspace: the number of samples, {num}, must be "
                         "non-negative")
    if device not in (None, "cpu"):
        raise unsupported(f"numpy.linspace with device={device!r}")
    start = as_array(start) if isinstance(start, (list, tuple)) else start
    stop = as_array(stop) if isinstance(stop, (list, tuple)) else stop
    steps = num - 1 if endpoint else num
    dtype = result_dtype(primal_value(start), primal_value(stop))   # NumPy's, on the values
    delta = sub(stop, start)
    k = np.arange(0, num, dtype=dtype).reshape((-1,) + (1,) * len(shape_of(delta)))
    if steps > 0:
        step = div(delta, steps)
        plain = primal_value(step)
        if plain.__class__ is not ShapeDtype and np.any(np.asarray(plain) == 0):
            y = mul(k / steps, delta)               # NumPy's path for denormal steps
        else:
            y = mul(k, step)
    else:
        step = np.nan
        y = mul(k, delta)
    y = add(y, start)
    if endpoint and num > 1:
        y = setitem(y, stop, index=-1)
    axis = axis_index(axis, len(shape_of(y)), "numpy.linspace")
    if axis != 0:
        y = moveaxis(y, 0, axis)
    return (y, step) if retstep else y
