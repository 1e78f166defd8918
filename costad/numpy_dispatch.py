"""Route NumPy on traced values to costad's primitives.

A traced value answers Python operators, NumPy ufuncs (NEP 13, ``__array_ufunc__``) and
NumPy functions (NEP 18, ``__array_function__``), so unmodified NumPy code such as
``np.exp(x)``, ``x @ W``, ``x.sum()``, ``x[i]`` or ``np.sum(x, axis=0)`` records
primitives. This module holds the protocols and the dispatch tables; each family of
primitives (`costad.primitives`) registers its own entries with `ufunc`, `implements`,
`method` and `operator`, next to the primitives they use. Anything not registered raises
`UnsupportedOperationError` naming the function and listing what is supported.

An ndarray method registered with ``implements(..., methods=[...])`` goes through the same
dispatch as the NumPy function, so ``x.sum(dtype=float)`` and ``np.sum(x, dtype=float)``
get the same answer.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .core import ENDED, Primitive, Tracer, apply, handler
from .errors import EscapedTracerError, UnsupportedOperationError

__all__ = ["supported_numpy", "ufunc", "implements", "method", "operator", "unsupported",
           "dispatch_function", "install_array_api", "UFUNCS", "FUNCTIONS", "INSTALLED"]

UFUNCS: dict[np.ufunc, Callable] = {}
FUNCTIONS: dict[Callable, Callable] = {}
# Every attribute installed on traced values, so that abstract values (`ShapeDtype`) can be
# given the same array interface (`install_array_api`).
INSTALLED: dict[str, object] = {}


def _install(name: str, attribute) -> None:
    INSTALLED[name] = attribute
    setattr(Tracer, name, attribute)

# Keyword arguments of NumPy functions that costad does not trace (when not None).
REJECTED_KWARGS = ("out", "dtype", "where", "initial", "casting", "order", "subok",
                   "signature")

_NO_PARAMS: dict = {}        # shared by the operator methods; primitives never mutate params


def numpy_name(obj) -> str:
    """``numpy.exp``, ``numpy.linalg.solve``: how NumPy names a function."""
    if isinstance(obj, np.ufunc):
        return f"numpy.{obj.__name__}"
    module = getattr(obj, "__module__", None) or "numpy"
    return f"{module}.{getattr(obj, '__name__', repr(obj))}"


def supported_numpy() -> list[str]:
    """Names of the NumPy ufuncs and functions costad can trace."""
    return sorted({numpy_name(f) for f in UFUNCS} | {numpy_name(f) for f in FUNCTIONS})


def unsupported(what: str) -> UnsupportedOperationError:
    """The error for something costad does not trace, with the list of what it does."""
    return UnsupportedOperationError(
        f"costad cannot trace {what}; supported: {', '.join(supported_numpy())}")


# ---------------------------------------------------------------------------- registration

def ufunc(np_ufunc: np.ufunc, fn: Callable) -> None:
    """Route calls of ``np_ufunc`` on traced values to ``fn``."""
    UFUNCS[np_ufunc] = fn


def implements(*np_funcs: Callable, methods: tuple[str, ...] = ()):
    """Decorator: ``fn`` implements the NumPy functions ``np_funcs`` on traced values, and
    the ndarray methods named in ``methods`` (called as ``np_funcs[0](x, ...)``)."""
    def register(fn):
        for func in np_funcs:
            if func is not None:
                FUNCTIONS[func] = fn
        for name in methods:
            _install(name, _dispatching_method(np_funcs[0]))
        return fn
    return register


def method(name: str, fn: Callable) -> None:
    """Install ``fn`` as the tracer method (or property) ``name``."""
    _install(name, fn)


def operator(name: str, fn, reflected: str | None = None) -> None:
    """Install the Python operator ``name`` (and its reflected twin) calling ``fn``.

    A primitive is applied directly, without the keyword packing of `Primitive.__call__`
    (operators are the hot path of scalar code); a primitive object is not a descriptor,
    so it could not serve as a method itself.
    """
    if isinstance(fn, Primitive):
        _install(name, lambda *args: apply(fn, args, _NO_PARAMS))
        if reflected:
            _install(reflected, lambda self, other: apply(fn, (other, self), _NO_PARAMS))
    else:
        _install(name, lambda *args: fn(*args))
        if reflected:
            _install(reflected, lambda self, other: fn(other, self))


def _dispatching_method(func):
    def call(self, *args, **kwargs):
        return dispatch_function(func, (self,) + args, kwargs, as_method=True)
    call.__name__ = getattr(func, "__name__", "method")
    return call


# ------------------------------------------------------------------ the protocols (NEP 13/18)

def _check_alive(self) -> None:
    # Primitives evaluate directly when nothing is traced, so an escaped tracer must be
    # caught at the NumPy entry points, or it would recurse through NumPy without end. A
    # value of an ended trace is alive while a capturing trace takes its primitives (a
    # checkpointed loop's step, run again during the sweep, reading the parameters its
    # closure refers to): `apply` hands them to it, as for an operator.
    trace = getattr(self, "_trace", None)                 # abstract values have none
    if trace is not None and trace.level == ENDED:
        live = handler((self,))
        if live is None or live.level == ENDED:
            raise EscapedTracerError()


def _array_ufunc(self, np_ufunc, method_name, *inputs, **kwargs):
    _check_alive(self)
    if method_name != "__call__":
        raise unsupported(f"{numpy_name(np_ufunc)}.{method_name}")
    fn = UFUNCS.get(np_ufunc)
    if fn is None:
        raise unsupported(numpy_name(np_ufunc))
    if kwargs:
        raise unsupported(f"{numpy_name(np_ufunc)} with keyword arguments {sorted(kwargs)}")
    return fn(*inputs)


def dispatch_function(func, args: tuple, kwargs: dict, as_method: bool = False):
    """Call costad's implementation of the NumPy function ``func``."""
    what = (f"ndarray.{getattr(func, '__name__', func)}" if as_method else numpy_name(func))
    fn = FUNCTIONS.get(func)
    if fn is None:
        raise unsupported(what)
    for name in REJECTED_KWARGS:
        if kwargs.get(name) is not None:
            raise unsupported(f"{what} with {name}=")
    kwargs = {k: v for k, v in kwargs.items() if k not in REJECTED_KWARGS}
    try:
        return fn(*args, **kwargs)
    except TypeError as err:
        if err.__traceback__.tb_next is None:
            # Raised while binding the call: NumPy accepts arguments costad does not.
            raise unsupported(f"{what} with these arguments ({err})") from None
        raise


def _array_function(self, func, types, args, kwargs):
    _check_alive(self)
    return dispatch_function(func, args, kwargs)


def _unsupported_operator(symbol: str, numpy_equivalent: str):
    def refuse(*args):
        raise unsupported(f"the operator {symbol} ({numpy_equivalent})")
    return refuse


for _name, _symbol, _equivalent in [
        ("__mod__", "% (mod)", "numpy.remainder"), ("__rmod__", "% (mod)", "numpy.remainder"),
        ("__floordiv__", "//", "numpy.floor_divide"),
        ("__rfloordiv__", "//", "numpy.floor_divide"),
        ("__divmod__", "divmod", "numpy.divmod"), ("__rdivmod__", "divmod", "numpy.divmod"),
        ("__round__", "round()", "numpy.round"), ("__trunc__", "math.trunc", "numpy.trunc"),
        ("__floor__", "math.floor", "numpy.floor"), ("__ceil__", "math.ceil", "numpy.ceil")]:
    _install(_name, _unsupported_operator(_symbol, _equivalent))


def _refuse_conversion(name: str, why: str):
    def refuse(self, *args, **kwargs):
        raise UnsupportedOperationError(f"costad cannot trace ndarray.{name}(): {why}")
    return refuse


for _name in ("item", "tolist", "tobytes", "tofile"):
    _install(_name, _refuse_conversion(
        _name, "it turns a traced value into plain Python data and would drop its derivative "
        "(use costad.stop_gradient(x) for a constant)"))

_install("__array_ufunc__", _array_ufunc)
_install("__array_function__", _array_function)
Tracer.__hash__ = object.__hash__


def install_array_api(cls, keep: tuple[str, ...]) -> None:
    """Give ``cls`` (abstract values) every attribute installed on traced values but those
    named in ``keep`` (its own), so that NumPy code runs on it as on a traced value.

    NumPy applied by f to a plain array is invisible to costad and not counted (an
    operation on a constant, such as a comparison's mask); the same code on an abstract
    stand-in for that array must not be counted either, so these entry points run
    uncounted."""
    from . import cost as _cost

    def traced(values) -> bool:
        return any(isinstance(v, Tracer) or (isinstance(v, (list, tuple, dict)) and traced(
            v.values() if isinstance(v, dict) else v)) for v in values)

    def uncounted(fn):
        def call(*args, **kwargs):
            if traced(args) or traced(kwargs.values()):   # a traced operand: counted
                return fn(*args, **kwargs)
            with _cost.uncounted():
                return fn(*args, **kwargs)
        call.__name__ = getattr(fn, "__name__", "call")
        return call

    for name, attribute in INSTALLED.items():
        if name in keep:
            continue
        if isinstance(attribute, property):
            attribute = property(uncounted(attribute.fget))
        elif callable(attribute):
            attribute = uncounted(attribute)
        setattr(cls, name, attribute)
