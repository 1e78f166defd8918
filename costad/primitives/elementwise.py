"""Elementwise primitives: arithmetic, elementary functions, comparisons and selection.

Cost: one operation of the primitive's kind per output element (broadcasting included);
``where`` selects and costs nothing. Rules are economical: exp, sqrt and tanh reuse their
output, a division shares the factor ct / b between its two cotangents (so that f and its
gradient take at most 3x the multiplications and divisions of f, as Baur and Strassen
prove for rational f). Cotangents are summed back over broadcast axes by the reverse sweep.
"""
from __future__ import annotations

import math
import numbers
import operator as _op

import numpy as np

from ..core import Joint, Primitive, ShapeDtype, Tracer, shape_of
from ..numpy_dispatch import implements, operator, ufunc
from ._base import (FLOATS, comparison_abstract, elementwise_abstract, free, like_argument,
                    per_output_element, register, result_dtype, scalar_fast, tangent_sum)

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "tanh", "sin",
           "cos", "abs_", "sign", "maximum", "minimum", "where", "greater", "greater_equal",
           "less", "less_equal", "equal", "not_equal", "power", "clip"]


# ------------------------------------------------------------------------------ arithmetic

add = register(Primitive(
    "add", _op.add, per_output_element("add"),
    lambda tangents, out, a, b: tangent_sum(*tangents),
    (lambda ct, out, a, b: ct, lambda ct, out, a, b: ct),
    abstract=elementwise_abstract, doc="a + b, elementwise with broadcasting"))


def _sub_jvp(tangents, out, a, b):
    ta, tb = tangents
    if tb is None:
        return ta
    if ta is None:
        return neg(tb)
    return sub(ta, tb)


sub = register(Primitive(
    "sub", _op.sub, per_output_element("sub"), _sub_jvp,
    (lambda ct, out, a, b: ct, lambda ct, out, a, b: neg(ct)),
    abstract=elementwise_abstract, doc="a - b, elementwise with broadcasting"))


def _mul_jvp(tangents, out, a, b):
    ta, tb = tangents
    return tangent_sum(None if ta is None else mul(ta, b), None if tb is None else mul(a, tb))


mul = register(Primitive(
    "mul", _op.mul, per_output_element("mul"), _mul_jvp,
    (lambda ct, out, a, b: mul(ct, b), lambda ct, out, a, b: mul(ct, a)),
    abstract=elementwise_abstract, doc="a * b, elementwise with broadcasting"))


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
    return (g if needs[0] else None, neg(mul(g, out)) if needs[1] else None)


div = register(Primitive(
    "div", _div_impl, per_output_element("div"), _div_jvp, Joint(_div_vjp),
    abstract=elementwise_abstract,
    doc="a / b, elementwise with broadcasting (x/0 gives inf or nan, as in NumPy)"))

neg = register(Primitive(
    "neg", _op.neg, per_output_element("neg"), vjp=(lambda ct, out, x: neg(ct),), linear=True,
    abstract=elementwise_abstract, doc="-x"))


# ----------------------------------------------------------------------------------- powers

def _pow_impl(x, y):
    if type(x) in FLOATS and type(y) in (float, int):
        try:
            return math.pow(x, y)
        except (OverflowError, ValueError):
            return np.power(np.float64(x), y)
    return np.power(x, y)


def _is_constant(y) -> bool:
    return not isinstance(y, Tracer) and np.ndim(y) == 0


def _pow_dx(x, y):
    """d(x**y)/dx = y x**(y-1); None (zero) for y = 0, also at x = 0 where x**-1 is inf.

    A constant scalar exponent takes the cheap forms (y = 1: the tangent itself; y = 2:
    2x). A traced or array exponent selects 0 where y = 0 and evaluates x**(y-1) with the
    exponent 1 there, so that no inf * 0 turns the derivative into NaN (JAX's rule).
    """
    if _is_constant(y):
        if y == 0:
            return None
        if y == 1:
            return 1.0
        if y == 2:
            return mul(2.0, x)
        return mul(float(y), pow(x, float(y) - 1.0))
    zero = equal(y, 0.0)
    return where(zero, 0.0, mul(y, pow(x, where(zero, 1.0, sub(y, 1.0)))))


def _pow_dy(out, x):
    """d(x**y)/dy = x**y log x, taken as 0 at x = 0 (0**y is flat for y > 0); NaN for
    x < 0, where x**y has no real derivative in y."""
    if _is_constant(x) and x != 0:
        return mul(out, log(x))
    safe = where(equal(x, 0.0), 1.0, x)
    return mul(out, log(safe))


def _scale(t, d):
    if d is None:
        return None
    return t if (d.__class__ is float and d == 1.0) else mul(t, d)


def _pow_jvp(tangents, out, x, y):
    tx, ty = tangents
    return tangent_sum(None if tx is None else _scale(tx, _pow_dx(x, y)),
                       None if ty is None else mul(ty, _pow_dy(out, x)))


pow = register(Primitive(  # noqa: A001  (the primitive's name is pow)
    "pow", _pow_impl, per_output_element("pow"), _pow_jvp,
    (lambda ct, out, x, y: _scale(ct, _pow_dx(x, y)),
     lambda ct, out, x, y: mul(ct, _pow_dy(out, x))),
    abstract=elementwise_abstract,
    doc="x ** y, elementwise with broadcasting; NumPy's values (a negative base with an "
        "integral exponent is real)"))


def power(x, y):
    """x ** y: one ``pow`` per element, whether the exponent is constant or traced."""
    if not isinstance(y, Tracer) and np.ndim(y) == 0 and not isinstance(y, (bool, np.bool_)):
        y = int(y) if isinstance(y, numbers.Integral) else float(y)
    return pow(x, y)


# ------------------------------------------------------------ elementwise unary functions

exp = register(Primitive(
    "exp", scalar_fast(np.exp, math.exp), per_output_element("exp"),
    lambda tangents, out, x: mul(tangents[0], out),        # reuses the output
    (lambda ct, out, x: mul(ct, out),),
    abstract=elementwise_abstract, doc="exp(x)"))

log = register(Primitive(
    "log", scalar_fast(np.log, math.log), per_output_element("log"),
    lambda tangents, out, x: div(tangents[0], x),
    (lambda ct, out, x: div(ct, x),),
    abstract=elementwise_abstract, doc="natural logarithm"))

sqrt = register(Primitive(
    "sqrt", scalar_fast(np.sqrt, math.sqrt), per_output_element("sqrt"),
    lambda tangents, out, x: div(tangents[0], mul(2.0, out)),  # reuses the output
    (lambda ct, out, x: div(ct, mul(2.0, out)),),
    abstract=elementwise_abstract, doc="square root"))


def _tanh_derivative(out):
    return sub(1.0, mul(out, out))                           # 1 - tanh^2, from the output


tanh = register(Primitive(
    "tanh", scalar_fast(np.tanh, math.tanh), per_output_element("tanh"),
    lambda tangents, out, x: mul(tangents[0], _tanh_derivative(out)),
    (lambda ct, out, x: mul(ct, _tanh_derivative(out)),),
    abstract=elementwise_abstract, doc="hyperbolic tangent"))

sin = register(Primitive(
    "sin", scalar_fast(np.sin, math.sin), per_output_element("sin"),
    lambda tangents, out, x: mul(tangents[0], cos(x)),
    (lambda ct, out, x: mul(ct, cos(x)),),
    abstract=elementwise_abstract, doc="sine"))

cos = register(Primitive(
    "cos", scalar_fast(np.cos, math.cos), per_output_element("cos"),
    lambda tangents, out, x: neg(mul(tangents[0], sin(x))),
    (lambda ct, out, x: neg(mul(ct, sin(x))),),
    abstract=elementwise_abstract, doc="cosine"))

sign = register(Primitive(
    "sign", np.sign, per_output_element("sign"), differentiable=False, abstract=like_argument,
    doc="sign of x (-1, 0 or 1); piecewise constant, so never traced"))

abs_ = register(Primitive(
    "abs", abs, per_output_element("abs"),
    lambda tangents, out, x: mul(tangents[0], sign(x)),
    (lambda ct, out, x: mul(ct, sign(x)),),
    abstract=elementwise_abstract, doc="|x| (derivative sign(x), 0 at 0)"))


# ------------------------------------------------------------ comparisons and selection

def _comparison(name: str, op) -> Primitive:
    return register(Primitive(
        name, op, per_output_element(name), differentiable=False, abstract=comparison_abstract,
        doc=f"elementwise comparison {op.__name__}; its boolean output is never traced"))


greater = _comparison("greater", _op.gt)
greater_equal = _comparison("greater_equal", _op.ge)
less = _comparison("less", _op.lt)
less_equal = _comparison("less_equal", _op.le)
equal = _comparison("equal", _op.eq)
not_equal = _comparison("not_equal", _op.ne)


def _where_jvp(tangents, out, cond, a, b):
    _, ta, tb = tangents
    if ta is None and tb is None:
        return None
    return where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb)


where = register(Primitive(
    "where", np.where, free, _where_jvp,
    (None, lambda ct, out, cond, a, b: where(cond, ct, 0.0),
     lambda ct, out, cond, a, b: where(cond, 0.0, ct)),
    abstract=lambda cond, a, b: ShapeDtype(
        np.broadcast_shapes(*(tuple(shape_of(v)) for v in (cond, a, b))),
        result_dtype(a, b)),
    doc="select a where cond else b (structural: a selection, not arithmetic)"))


def _extremum(name: str, np_func, compare) -> Primitive:
    """maximum / minimum: the derivative follows the selected argument (a on ties)."""
    def jvp(tangents, out, a, b):
        ta, tb = tangents
        return where(compare(a, b), 0.0 if ta is None else ta, 0.0 if tb is None else tb)

    def vjp(ct, out, a, b, needs):
        take_a = compare(a, b)                      # one comparison serves both cotangents
        return (where(take_a, ct, 0.0) if needs[0] else None,
                where(take_a, 0.0, ct) if needs[1] else None)

    return register(Primitive(name, np_func, per_output_element(name), jvp, Joint(vjp),
                              abstract=elementwise_abstract,
                              doc=f"elementwise {name} with broadcasting"))


maximum = _extremum("maximum", np.maximum, greater_equal)
minimum = _extremum("minimum", np.minimum, less_equal)


# ------------------------------------------------------------------- NumPy entry points

@implements(np.clip, methods=("clip",))
def clip(x, a_min=None, a_max=None):
    """min(max(x, a_min), a_max)."""
    if a_min is not None:
        x = maximum(x, a_min)
    if a_max is not None:
        x = minimum(x, a_max)
    return x


@implements(np.where)
def _np_where(cond, a=None, b=None):
    if a is None or b is None:
        from ..numpy_dispatch import unsupported
        raise unsupported("numpy.where(cond) with one argument (it returns indices)")
    if isinstance(cond, Tracer):
        from .structural import stop_gradient
        cond = stop_gradient(cond)
    return where(cond, a, b)


for _ufunc, _fn in [
        (np.add, add), (np.subtract, sub), (np.multiply, mul), (np.divide, div),
        (np.true_divide, div), (np.negative, neg), (np.positive, lambda x: x),
        (np.power, power), (np.exp, exp), (np.log, log), (np.sqrt, sqrt), (np.tanh, tanh),
        (np.sin, sin), (np.cos, cos), (np.absolute, abs_), (np.fabs, abs_), (np.sign, sign),
        (np.maximum, maximum), (np.minimum, minimum),
        (np.square, lambda x: mul(x, x)), (np.reciprocal, lambda x: div(1.0, x)),
        (np.greater, greater), (np.greater_equal, greater_equal), (np.less, less),
        (np.less_equal, less_equal), (np.equal, equal), (np.not_equal, not_equal)]:
    ufunc(_ufunc, _fn)

for _name, _prim, _reflected in [
        ("__add__", add, "__radd__"), ("__sub__", sub, "__rsub__"),
        ("__mul__", mul, "__rmul__"), ("__truediv__", div, "__rtruediv__"),
        ("__lt__", less, None), ("__le__", less_equal, None), ("__gt__", greater, None),
        ("__ge__", greater_equal, None), ("__eq__", equal, None), ("__ne__", not_equal, None),
        ("__neg__", neg, None), ("__abs__", abs_, None)]:
    operator(_name, _prim, _reflected)
operator("__pow__", power, "__rpow__")
operator("__pos__", lambda x: x)
