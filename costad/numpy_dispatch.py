"""Route NumPy on traced values to costad's primitives.

A traced value answers Python operators, NumPy ufuncs (NEP 13, ``__array_ufunc__``) and
NumPy functions (NEP 18, ``__array_function__``), so unmodified NumPy code such as
``np.exp(x)``, ``x @ W``, ``x.sum()``, ``x[i]`` or ``np.sum(x, axis=0)`` records
primitives. Each supported NumPy entry point maps to one primitive or to a short
composition of primitives (``np.mean`` is a sum and a division); anything else raises
`UnsupportedOperationError` naming the function and listing what is supported.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import primitives as P
from .core import ENDED, Primitive, Tracer, apply, shape_of, size_of
from .errors import EscapedTracerError, UnsupportedOperationError

__all__ = ["supported_numpy", "mean", "dot", "outer", "stack", "power", "clip"]


# ----------------------------------------------------------------- compositions of primitives

def power(x, p):
    """x ** p. A constant scalar exponent is the ``pow`` primitive; a traced exponent is
    exp(p log x), valid for x > 0."""
    if isinstance(p, Tracer):
        return P.exp(P.mul(p, P.log(x)))
    if np.ndim(p) != 0:
        raise UnsupportedOperationError(
            "costad supports x ** p for a scalar constant p; for an array of exponents write "
            "np.exp(p * np.log(x))")
    return P.pow(x, p=float(p) if not isinstance(p, numbers.Integral) else int(p))


def mean(x, axis=None, keepdims=False):
    """Sum, then one division per output element."""
    s = P.sum_(x, axis=axis, keepdims=keepdims)
    count = size_of(x) // max(size_of(s), 1)
    return P.div(s, float(count))


def dot(a, b):
    """np.dot for scalars (a product) and for 1-D and 2-D arrays (a matmul)."""
    if len(shape_of(a)) == 0 or len(shape_of(b)) == 0:
        return P.mul(a, b)
    if len(shape_of(a)) > 2 or len(shape_of(b)) > 2:
        raise UnsupportedOperationError(
            "costad traces numpy.dot on arrays of at most 2 dimensions; use np.matmul (@)")
    return P.matmul(a, b)


def outer(a, b):
    """Outer product of two vectors: one multiplication per output element."""
    return P.mul(P.reshape(a, shape=(size_of(a), 1)), P.reshape(b, shape=(1, size_of(b))))


def stack(arrays, axis=0):
    """Join arrays along a new axis (free)."""
    arrays = list(arrays)
    ndim = len(shape_of(arrays[0])) + 1
    ax = axis % ndim
    expanded = [P.reshape(a, shape=shape_of(a)[:ax] + (1,) + shape_of(a)[ax:]) for a in arrays]
    return P.concatenate(*expanded, axis=ax)


def clip(x, a_min, a_max):
    """min(max(x, a_min), a_max)."""
    if a_min is not None:
        x = P.maximum(x, a_min)
    if a_max is not None:
        x = P.minimum(x, a_max)
    return x


def _reshape(x, *shape, order="C"):
    if order != "C":
        raise UnsupportedOperationError("costad traces reshape in C order only")
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = tuple(shape[0])
    shape = tuple(int(n) for n in shape)
    size = size_of(x)
    if -1 in shape:   # resolve -1 here, so the recorded shape is explicit
        known = int(np.prod([n for n in shape if n != -1]))
        shape = tuple(size // known if n == -1 else n for n in shape)
    return P.reshape(x, shape=shape)


def _transpose(x, axes=None, *more):
    if more:
        axes = (axes,) + more
    return P.transpose(x, axes=None if axes is None else tuple(axes))


def _expand_dims(x, axis):
    shape = list(shape_of(x))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    ndim = len(shape) + len(axes)
    for ax in sorted(a % ndim for a in axes):
        shape.insert(ax, 1)
    return P.reshape(x, shape=tuple(shape))


def _squeeze(x, axis=None):
    shape = shape_of(x)
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {a % len(shape) for a in ((axis,) if isinstance(axis, numbers.Integral) else axis)}
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return P.reshape(x, shape=new)


def _reduction(prim):
    def reduce(x, axis=None, keepdims=False):
        return prim(x, axis=axis, keepdims=keepdims)
    return reduce


def _where(cond, a=None, b=None):
    if a is None or b is None:
        raise UnsupportedOperationError("costad traces numpy.where(cond, a, b) with three "
                                        "arguments only")
    if isinstance(cond, Tracer):
        cond = P.stop_gradient(cond)
    return P.where(cond, a, b)


def _constant_like(fill):
    def like(x, dtype=None):
        return np.full(shape_of(x), fill, dtype=dtype or float)   # constants are free
    return like


# -------------------------------------------------------------------------- dispatch tables

_UFUNCS = {
    np.add: P.add, np.subtract: P.sub, np.multiply: P.mul, np.divide: P.div,
    np.true_divide: P.div, np.negative: P.neg, np.positive: lambda x: x,
    np.power: power, np.exp: P.exp, np.log: P.log, np.sqrt: P.sqrt, np.tanh: P.tanh,
    np.sin: P.sin, np.cos: P.cos, np.absolute: P.abs_, np.fabs: P.abs_,
    np.sign: P.sign, np.maximum: P.maximum, np.minimum: P.minimum, np.matmul: P.matmul,
    np.square: lambda x: P.mul(x, x), np.reciprocal: lambda x: P.div(1.0, x),
    np.greater: P.greater, np.greater_equal: P.greater_equal, np.less: P.less,
    np.less_equal: P.less_equal, np.equal: P.equal, np.not_equal: P.not_equal,
}

_FUNCTIONS = {
    np.sum: _reduction(P.sum_), np.max: _reduction(P.max_), np.min: _reduction(P.min_),
    np.amax: _reduction(P.max_), np.amin: _reduction(P.min_), np.mean: mean,
    np.dot: dot, np.outer: outer, np.reshape: _reshape, np.transpose: _transpose,
    np.concatenate: lambda arrays, axis=0: P.concatenate(*arrays, axis=axis),
    np.stack: stack, np.where: _where, np.clip: clip,
    np.broadcast_to: lambda x, shape: P.broadcast_to(x, shape=tuple(shape)),
    np.expand_dims: _expand_dims, np.squeeze: _squeeze,
    np.ravel: lambda x: _reshape(x, -1), np.copy: lambda x: x,
    np.shape: shape_of, np.ndim: lambda x: len(shape_of(x)), np.size: size_of,
    np.zeros_like: _constant_like(0.0), np.ones_like: _constant_like(1.0),
}
_FUNCTIONS = {k: v for k, v in _FUNCTIONS.items() if k is not None}


def _numpy_name(obj) -> str:
    if isinstance(obj, np.ufunc):
        return f"numpy.{obj.__name__}"
    module = getattr(obj, "__module__", None) or "numpy"
    return f"{module}.{getattr(obj, '__name__', repr(obj))}"


def supported_numpy() -> list[str]:
    """Names of the NumPy ufuncs and functions costad can trace."""
    return sorted({_numpy_name(f) for f in _UFUNCS} | {_numpy_name(f) for f in _FUNCTIONS})


def _unsupported(what: str) -> UnsupportedOperationError:
    return UnsupportedOperationError(
        f"costad cannot trace {what}; supported: {', '.join(supported_numpy())}")


# ------------------------------------------------------------------ the protocols (NEP 13/18)

def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    # Primitives evaluate directly when nothing is traced, so an escaped tracer must be
    # caught at the NumPy entry points, or it would recurse through NumPy without end.
    if self._trace.level == ENDED:
        raise EscapedTracerError()
    if method != "__call__":
        raise _unsupported(f"{_numpy_name(ufunc)}.{method}")
    if kwargs:
        raise _unsupported(f"{_numpy_name(ufunc)} with keyword arguments {sorted(kwargs)}")
    fn = _UFUNCS.get(ufunc)
    if fn is None:
        raise _unsupported(_numpy_name(ufunc))
    return fn(*inputs)


_REJECTED_KWARGS = ("out", "dtype", "where", "initial")


def _array_function(self, func, types, args, kwargs):
    if self._trace.level == ENDED:
        raise EscapedTracerError()
    fn = _FUNCTIONS.get(func)
    if fn is None:
        raise _unsupported(_numpy_name(func))
    for name in _REJECTED_KWARGS:
        if kwargs.get(name) is not None:
            raise _unsupported(f"{_numpy_name(func)} with {name}=")
    kwargs = {k: v for k, v in kwargs.items() if k not in _REJECTED_KWARGS}
    return fn(*args, **kwargs)


def _getitem(self, index):
    if type(index) is int:                      # the hot path of scalar code
        return apply(P.getitem, (self,), {"index": index})
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(part, Tracer) for part in parts):
        raise TypeError("costad cannot index with a traced value: an index is a constant "
                        "(wrap it in costad.stop_gradient if it is computed from inputs)")
    if isinstance(index, list):
        index = np.asarray(index)
    return P.getitem(self, index=index)


def _iter(self):
    for i in range(len(self)):
        yield P.getitem(self, index=i)


def _astype(self, dtype, *args, **kwargs):
    if np.issubdtype(np.dtype(dtype), np.floating):
        return self
    raise TypeError(f"costad cannot cast a traced value to {np.dtype(dtype)}: its derivative "
                    "would be lost")


_NO_PARAMS: dict = {}        # shared by the operator methods; primitives never mutate params


def _flip(fn):
    """The reflected operator (``other - self`` for ``__rsub__``)."""
    if isinstance(fn, Primitive):
        return lambda self, other: apply(fn, (other, self), _NO_PARAMS)
    return lambda self, other: fn(other, self)


def _method(fn):
    """A method calling ``fn``. A primitive is applied directly, without the keyword
    packing of `Primitive.__call__` (operators are the hot path of scalar code); a primitive
    object is not a descriptor, so it could not serve as a method itself."""
    if isinstance(fn, Primitive):
        return lambda *args: apply(fn, args, _NO_PARAMS)
    return lambda *args, **kwargs: fn(*args, **kwargs)


_METHODS = {
    "__array_ufunc__": _array_ufunc,
    "__array_function__": _array_function,
    "__add__": _method(P.add), "__radd__": _flip(P.add),
    "__sub__": _method(P.sub), "__rsub__": _flip(P.sub),
    "__mul__": _method(P.mul), "__rmul__": _flip(P.mul),
    "__truediv__": _method(P.div), "__rtruediv__": _flip(P.div),
    "__pow__": _method(power), "__rpow__": _flip(power),
    "__matmul__": _method(P.matmul), "__rmatmul__": _flip(P.matmul),
    "__neg__": _method(P.neg), "__pos__": lambda self: self, "__abs__": _method(P.abs_),
    "__lt__": _method(P.less), "__le__": _method(P.less_equal),
    "__gt__": _method(P.greater), "__ge__": _method(P.greater_equal),
    "__eq__": _method(P.equal), "__ne__": _method(P.not_equal), "__hash__": object.__hash__,
    "__getitem__": _getitem, "__iter__": _iter,
    "sum": _reduction(P.sum_), "max": _reduction(P.max_), "min": _reduction(P.min_),
    "mean": _method(mean), "dot": _method(dot), "reshape": _reshape, "transpose": _transpose,
    "T": property(lambda self: P.transpose(self)), "ravel": lambda self: _reshape(self, -1),
    "flatten": lambda self: _reshape(self, -1), "squeeze": _squeeze,
    "copy": lambda self: self, "astype": _astype, "clip": clip,
}

for _name, _method in _METHODS.items():
    setattr(Tracer, _name, _method)
