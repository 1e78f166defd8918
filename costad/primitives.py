"""The primitive table: every operation costad knows, one record each.

Each record keeps in one place the NumPy implementation, the cost as a function of shapes
(DESIGN.md section 2), the JVP rule and the VJP rule. The rules are written with the
primitives of this table, never with raw NumPy arithmetic, so the work of differentiating is
counted by the same counter as the function. Rules are economical: exp and tanh reuse their
output, a factor shared by two cotangents is computed once.

Conventions of the rules (see `costad.core.Primitive`): a tangent or cotangent of None is
zero; ``needs[i]`` tells a VJP whether argument i wants a cotangent; binary elementwise rules
un-broadcast their cotangents to the shapes of their arguments.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from .core import Primitive, Tracer, shape_of, size_of
from .errors import ShapeError

__all__ = [
    "PRIMITIVES", "IndexedCotangent",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "tanh", "sin", "cos",
    "abs_", "maximum", "minimum", "sign", "greater", "greater_equal", "less", "less_equal",
    "equal", "not_equal", "sum_", "max_", "min_", "matmul", "reshape", "transpose",
    "broadcast_to", "getitem", "scatter", "concatenate", "where", "stop_gradient",
    "unbroadcast",
]

PRIMITIVES: dict[str, Primitive] = {}

_FLOATS = (float, np.float64)


def _register(prim: Primitive) -> Primitive:
    if prim.name in PRIMITIVES:
        raise ValueError(f"primitive {prim.name!r} registered twice")
    PRIMITIVES[prim.name] = prim
    return prim


# --------------------------------------------------------------------------- cost helpers

def _per_output_element(kind: str):
    """Cost of an elementwise operation: one operation of ``kind`` per output element."""
    def cost(out, *args, **params):
        return {kind: size_of(out)}
    return cost


def _free(out, *args, **params):
    """Cost of a structural operation (indexing, reshape, ...): nothing."""
    return {}


def _scalar_fast(np_func, math_func):
    """Implementation using ``math`` on Python floats (10x faster than a ufunc on a scalar).

    math raises where NumPy returns inf or nan (exp overflow, log of a negative); those
    cases fall back to NumPy so that NaN and inf are computed through, never hidden.
    """
    def impl(x):
        if type(x) in _FLOATS:
            try:
                return math_func(x)
            except (OverflowError, ValueError):
                pass
        return np_func(x)
    impl.__name__ = np_func.__name__
    return impl


# ----------------------------------------------------------------- rule helpers (counted)

def _tangent_sum(a, b):
    """Sum of two tangents, where None is zero."""
    if a is None:
        return b
    if b is None:
        return a
    return add(a, b)


def _fit(t, out):
    """Broadcast a tangent to the output's shape (free: broadcasting is structural)."""
    if t is None:
        return None
    shape = shape_of(out)
    if shape_of(t) != shape:
        return broadcast_to(t, shape=shape)
    return t


def unbroadcast(ct, like):
    """Sum a cotangent over the axes along which the argument ``like`` was broadcast."""
    if ct.__class__ in _FLOATS and like.__class__ in _FLOATS:
        return ct                          # scalar code: nothing was broadcast
    shape = shape_of(like)
    ct_shape = shape_of(ct)
    if ct_shape == shape:
        return ct
    extra = len(ct_shape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and ct_shape[extra + i] != 1)
    if axes:
        ct = sum_(ct, axis=axes, keepdims=False)
    if shape_of(ct) != shape:
        ct = reshape(ct, shape=shape)
    return ct


# ------------------------------------------------------------------ elementwise arithmetic

def _add_jvp(tangents, out, a, b):
    ta, tb = tangents
    return _fit(_tangent_sum(ta, tb), out)


def _add_vjp(ct, out, a, b, needs):
    return (unbroadcast(ct, a) if needs[0] else None,
            unbroadcast(ct, b) if needs[1] else None)


add = _register(Primitive(
    "add", operator.add, _per_output_element("add"), _add_jvp, _add_vjp,
    doc="a + b, elementwise with broadcasting"))


def _sub_jvp(tangents, out, a, b):
    ta, tb = tangents
    if tb is None:
        return _fit(ta, out)
    if ta is None:
        return _fit(neg(tb), out)
    return sub(ta, tb)


def _sub_vjp(ct, out, a, b, needs):
    return (unbroadcast(ct, a) if needs[0] else None,
            unbroadcast(neg(ct), b) if needs[1] else None)


sub = _register(Primitive(
    "sub", operator.sub, _per_output_element("sub"), _sub_jvp, _sub_vjp,
    doc="a - b, elementwise with broadcasting"))


def _mul_jvp(tangents, out, a, b):
    ta, tb = tangents
    return _tangent_sum(None if ta is None else mul(ta, b),
                        None if tb is None else mul(a, tb))


def _mul_vjp(ct, out, a, b, needs):
    return (unbroadcast(mul(ct, b), a) if needs[0] else None,
            unbroadcast(mul(ct, a), b) if needs[1] else None)


mul = _register(Primitive(
    "mul", operator.mul, _per_output_element("mul"), _mul_jvp, _mul_vjp,
    doc="a * b, elementwise with broadcasting"))


def _div_impl(a, b):
    try:
        return a / b
    except ZeroDivisionError:                    # Python floats raise; NumPy gives inf/nan
        return np.divide(np.float64(a), np.float64(b))


def _div_jvp(tangents, out, a, b):
    # d(a/b) = (da - out * db) / b
    ta, tb = tangents
    if tb is None:
        return div(ta, b)
    numerator = neg(mul(out, tb)) if ta is None else sub(ta, mul(out, tb))
    return div(numerator, b)


def _div_vjp(ct, out, a, b, needs):
    # The shared factor ct / b serves both cotangents (Baur-Strassen: 3 mul/div per div).
    g = div(ct, b)
    return (unbroadcast(g, a) if needs[0] else None,
            unbroadcast(neg(mul(g, out)), b) if needs[1] else None)


div = _register(Primitive(
    "div", _div_impl, _per_output_element("div"), _div_jvp, _div_vjp,
    doc="a / b, elementwise with broadcasting (x/0 gives inf or nan, as in NumPy)"))


neg = _register(Primitive(
    "neg", operator.neg, _per_output_element("neg"),
    lambda tangents, out, x: neg(tangents[0]),
    lambda ct, out, x, needs: (neg(ct),),
    doc="-x"))


def _pow_impl(x, p):
    if type(x) in _FLOATS:
        try:
            return math.pow(x, p)
        except (OverflowError, ValueError):
            return np.power(np.float64(x), p)
    return np.power(x, p)


def _pow_derivative(x, p):
    """d(x**p)/dx = p * x**(p-1), with the cheap forms for p = 2 and p = 1."""
    if p == 2:
        return mul(2.0, x)
    if p == 1:
        return None
    return mul(float(p), pow(x, p=p - 1))


def _pow_jvp(tangents, out, x, p):
    d = _pow_derivative(x, p)
    return tangents[0] if d is None else mul(tangents[0], d)


def _pow_vjp(ct, out, x, needs, p):
    d = _pow_derivative(x, p)
    return (ct if d is None else mul(ct, d),)


pow = _register(Primitive(  # noqa: A001  (the primitive's name is pow)
    "pow", _pow_impl, _per_output_element("pow"), _pow_jvp, _pow_vjp,
    doc="x ** p for a constant exponent p"))


# ------------------------------------------------------------ elementwise unary functions

exp = _register(Primitive(
    "exp", _scalar_fast(np.exp, math.exp), _per_output_element("exp"),
    lambda tangents, out, x: mul(tangents[0], out),        # reuses the output
    lambda ct, out, x, needs: (mul(ct, out),),
    doc="exp(x)"))

log = _register(Primitive(
    "log", _scalar_fast(np.log, math.log), _per_output_element("log"),
    lambda tangents, out, x: div(tangents[0], x),
    lambda ct, out, x, needs: (div(ct, x),),
    doc="natural logarithm"))

sqrt = _register(Primitive(
    "sqrt", _scalar_fast(np.sqrt, math.sqrt), _per_output_element("sqrt"),
    lambda tangents, out, x: div(tangents[0], mul(2.0, out)),  # reuses the output
    lambda ct, out, x, needs: (div(ct, mul(2.0, out)),),
    doc="square root"))


def _tanh_derivative(out):
    return sub(1.0, mul(out, out))                           # 1 - tanh^2, from the output


tanh = _register(Primitive(
    "tanh", _scalar_fast(np.tanh, math.tanh), _per_output_element("tanh"),
    lambda tangents, out, x: mul(tangents[0], _tanh_derivative(out)),
    lambda ct, out, x, needs: (mul(ct, _tanh_derivative(out)),),
    doc="hyperbolic tangent"))

sin = _register(Primitive(
    "sin", _scalar_fast(np.sin, math.sin), _per_output_element("sin"),
    lambda tangents, out, x: mul(tangents[0], cos(x)),
    lambda ct, out, x, needs: (mul(ct, cos(x)),),
    doc="sine"))

cos = _register(Primitive(
    "cos", _scalar_fast(np.cos, math.cos), _per_output_element("cos"),
    lambda tangents, out, x: neg(mul(tangents[0], sin(x))),
    lambda ct, out, x, needs: (neg(mul(ct, sin(x))),),
    doc="cosine"))

sign = _register(Primitive(
    "sign", np.sign, _per_output_element("sign"), None, None, differentiable=False,
    doc="sign of x (-1, 0 or 1); piecewise constant, so never traced"))

abs_ = _register(Primitive(
    "abs", abs, _per_output_element("abs"),
    lambda tangents, out, x: mul(tangents[0], sign(x)),
    lambda ct, out, x, needs: (mul(ct, sign(x)),),
    doc="|x| (derivative sign(x), 0 at 0)"))


# ------------------------------------------------------------ comparisons and selection

def _comparison(name: str, op) -> Primitive:
    return _register(Primitive(
        name, op, _per_output_element(name), None, None, differentiable=False,
        doc=f"elementwise comparison {op.__name__}; its boolean output is never traced"))


greater = _comparison("greater", operator.gt)
greater_equal = _comparison("greater_equal", operator.ge)
less = _comparison("less", operator.lt)
less_equal = _comparison("less_equal", operator.le)
equal = _comparison("equal", operator.eq)
not_equal = _comparison("not_equal", operator.ne)


def _where_jvp(tangents, out, cond, a, b):
    _, ta, tb = tangents
    if ta is None and tb is None:
        return None
    return where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb)


def _where_vjp(ct, out, cond, a, b, needs):
    return (None,
            unbroadcast(where(cond, ct, 0.0), a) if needs[1] else None,
            unbroadcast(where(cond, 0.0, ct), b) if needs[2] else None)


where = _register(Primitive(
    "where", np.where, _free, _where_jvp, _where_vjp,
    doc="select a where cond else b (structural: a selection, not arithmetic)"))


def _extremum(name: str, np_func, compare) -> Primitive:
    """maximum / minimum: the derivative follows the selected argument (a on ties)."""
    def jvp(tangents, out, a, b):
        take_a = compare(a, b)
        ta, tb = tangents
        return _fit(where(take_a, 0.0 if ta is None else ta, 0.0 if tb is None else tb), out)

    def vjp(ct, out, a, b, needs):
        take_a = compare(a, b)
        return (unbroadcast(where(take_a, ct, 0.0), a) if needs[0] else None,
                unbroadcast(where(take_a, 0.0, ct), b) if needs[1] else None)

    return _register(Primitive(name, np_func, _per_output_element(name), jvp, vjp,
                               doc=f"elementwise {name} with broadcasting"))


maximum = _extremum("maximum", np.maximum, greater_equal)
minimum = _extremum("minimum", np.minimum, less_equal)


# ------------------------------------------------------------------------------ reductions

def _normalize_axis(axis, ndim: int):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < ndim:
            raise ShapeError(f"costad: axis {a} is out of bounds for an array of dimension {ndim}")
        out.append(a % ndim)
    return tuple(sorted(out))


def _expand_reduced(value, x_shape: tuple, axis, keepdims: bool):
    """Reshape a reduction's result so it broadcasts back against its input (free)."""
    if keepdims:
        return value
    axes = _normalize_axis(axis, len(x_shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
    return reshape(value, shape=kept)


def _reduction_cost(kind: str):
    """Reducing s elements to one takes s - 1 binary operations."""
    def cost(out, x, axis=None, keepdims=False):
        return {kind: max(size_of(x) - size_of(out), 0)}
    return cost


def _sum_impl(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(ct, out, x, needs, axis=None, keepdims=False):
    shape = shape_of(x)
    return (broadcast_to(_expand_reduced(ct, shape, axis, keepdims), shape=shape),)


sum_ = _register(Primitive(
    "sum", _sum_impl, _reduction_cost("add"),
    lambda tangents, out, x, axis=None, keepdims=False: sum_(tangents[0], axis=axis,
                                                             keepdims=keepdims),
    _sum_vjp,
    doc="sum over axes (s - 1 adds per output element)"))


def _extremum_reduction(name: str, np_func) -> Primitive:
    """max / min over axes. Ties share the derivative equally (as JAX does)."""
    def selection(out, x, axis, keepdims):
        mask = equal(x, _expand_reduced(out, shape_of(x), axis, keepdims))
        ties = sum_(where(mask, 1.0, 0.0), axis=axis, keepdims=True)
        return mask, ties

    def jvp(tangents, out, x, axis=None, keepdims=False):
        mask, ties = selection(out, x, axis, keepdims)
        picked = sum_(where(mask, tangents[0], 0.0), axis=axis, keepdims=True)
        result = div(picked, ties)
        return result if keepdims else reshape(result, shape=shape_of(out))

    def vjp(ct, out, x, needs, axis=None, keepdims=False):
        mask, ties = selection(out, x, axis, keepdims)
        share = div(_expand_reduced(ct, shape_of(x), axis, keepdims), ties)
        return (where(mask, share, 0.0),)

    def impl(x, axis=None, keepdims=False):
        return np_func(x, axis=axis, keepdims=keepdims)

    return _register(Primitive(name, impl, _reduction_cost(name), jvp, vjp,
                               doc=f"{name} over axes (s - 1 comparisons per output element)"))


max_ = _extremum_reduction("max", np.max)
min_ = _extremum_reduction("min", np.min)


# -------------------------------------------------------------------------- linear algebra

def _matmul_cost(out, a, b):
    k = shape_of(a)[-1]
    s = size_of(out)
    return {"mul": s * k, "add": s * max(k - 1, 0)}


def _as_matrices(a, b):
    """Promote 1-D operands as matmul does: (k,) -> (1, k) on the left, (k, 1) on the right."""
    a2 = reshape(a, shape=(1,) + shape_of(a)) if len(shape_of(a)) == 1 else a
    b2 = reshape(b, shape=shape_of(b) + (1,)) if len(shape_of(b)) == 1 else b
    return a2, b2


def _swap_last(x):
    n = len(shape_of(x))
    axes = tuple(range(n - 2)) + (n - 1, n - 2)
    return transpose(x, axes=axes)


def _matmul_jvp(tangents, out, a, b):
    ta, tb = tangents
    return _tangent_sum(None if ta is None else matmul(ta, b),
                        None if tb is None else matmul(a, tb))


def _matmul_vjp(ct, out, a, b, needs):
    a2, b2 = _as_matrices(a, b)
    out2_shape = np.broadcast_shapes(shape_of(a2)[:-2], shape_of(b2)[:-2]) + (
        shape_of(a2)[-2], shape_of(b2)[-1])
    ct2 = reshape(ct, shape=out2_shape) if shape_of(ct) != out2_shape else ct
    ga = gb = None
    if needs[0]:
        ga = unbroadcast(matmul(ct2, _swap_last(b2)), a2)
        ga = reshape(ga, shape=shape_of(a)) if shape_of(ga) != shape_of(a) else ga
    if needs[1]:
        gb = unbroadcast(matmul(_swap_last(a2), ct2), b2)
        gb = reshape(gb, shape=shape_of(b)) if shape_of(gb) != shape_of(b) else gb
    return ga, gb


def _matmul_impl(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise ValueError("matmul does not take scalars (use *)")
    return np.matmul(a, b)


matmul = _register(Primitive(
    "matmul", _matmul_impl, _matmul_cost, _matmul_jvp, _matmul_vjp,
    doc="a @ b; (m,k)@(k,p) costs m*k*p mul and m*(k-1)*p add"))


# ------------------------------------------------------------- structural (cost nothing)

reshape = _register(Primitive(
    "reshape", lambda x, shape: np.reshape(x, shape), _free,
    lambda tangents, out, x, shape: reshape(tangents[0], shape=shape_of(out)),
    lambda ct, out, x, needs, shape: (reshape(ct, shape=shape_of(x)),),
    doc="reshape (free)"))


def _transpose_vjp(ct, out, x, needs, axes=None):
    inverse = None if axes is None else tuple(int(i) for i in np.argsort(axes))
    return (transpose(ct, axes=inverse),)


transpose = _register(Primitive(
    "transpose", lambda x, axes=None: np.transpose(x, axes), _free,
    lambda tangents, out, x, axes=None: transpose(tangents[0], axes=axes),
    _transpose_vjp,
    doc="permute axes (free)"))

broadcast_to = _register(Primitive(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape), _free,
    lambda tangents, out, x, shape: broadcast_to(tangents[0], shape=shape),
    lambda ct, out, x, needs, shape: (unbroadcast(ct, x),),
    doc="broadcast to a shape (free; its VJP sums, which is counted)"))


class IndexedCotangent:
    """A cotangent that is zero except at ``x[index]``, where it is ``value``.

    The VJP of indexing returns one instead of a dense array of zeros, so that reading a
    scalar out of an n-vector costs O(1) in the backward pass, not O(n) (the pitfall of
    HIPS autograd's per-index VJP). The reverse sweep scatters it into the adjoint.
    """

    __slots__ = ("shape", "index", "value")

    def __init__(self, shape: tuple, index, value):
        self.shape = shape
        self.index = index
        self.value = value


getitem = _register(Primitive(
    "getitem", lambda x, index: x[index], _free,
    lambda tangents, out, x, index: getitem(tangents[0], index=index),
    lambda ct, out, x, needs, index: (IndexedCotangent(shape_of(x), index, ct),),
    doc="x[index]: basic and advanced indexing, slicing (free)"))


def _scatter_impl(value, shape, index):
    dense = np.zeros(shape, dtype=np.result_type(value, float))
    np.add.at(dense, index, value)
    return dense


scatter = _register(Primitive(
    "scatter", _scatter_impl, _free,
    lambda tangents, out, value, shape, index: scatter(tangents[0], shape=shape, index=index),
    lambda ct, out, value, needs, shape, index: (getitem(ct, index=index),),
    doc="zeros of a shape with value placed at index (the dense form of an indexed "
        "cotangent; free)"))


def _concatenate_jvp(tangents, out, *xs, axis=0):
    if all(t is None for t in tangents):
        return None
    parts = [np.zeros(shape_of(x)) if t is None else t for t, x in zip(tangents, xs)]
    return concatenate(*parts, axis=axis)


def _concatenate_vjp(ct, out, *xs_and_needs, axis=0):
    *xs, needs = xs_and_needs              # needs follows the arguments, as in every VJP
    ndim = len(shape_of(out))
    ax = axis % ndim
    cts, start = [], 0
    for x, need in zip(xs, needs):
        stop = start + shape_of(x)[ax]
        if need:
            index = (slice(None),) * ax + (slice(start, stop),)
            cts.append(getitem(ct, index=index))
        else:
            cts.append(None)
        start = stop
    return tuple(cts)


concatenate = _register(Primitive(
    "concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis), _free,
    _concatenate_jvp, _concatenate_vjp,
    doc="join arrays along an axis (free)"))

stop_gradient = _register(Primitive(
    "stop_gradient", lambda x: x, _free, None, None, differentiable=False,
    doc="the value of x, treated as a constant by every derivative"))
