"""Elementary functions beyond exp, log, sqrt, tanh, sin and cos: the other trigonometric
and hyperbolic functions and their inverses, logarithms and exponentials in base 2 and 10,
log1p and expm1, logaddexp, hypot, sinc, cbrt, and the angle conversions.

Cost: each is a primitive, one operation of its own kind per output element, because
NumPy's implementation is more accurate than any composition (log1p and expm1 near 0,
logaddexp and hypot without overflow, log2 exact at powers of two), except the angle
conversions, which NumPy itself computes as one multiplication by a constant: they are
written with ``mul`` and cost one mul per element. Each record's doc states its derivative
rule, the rule's cost per element, and what it gives where the function has no derivative.
The rules reuse the output where the derivative allows (tan, expm1, exp2, cbrt, sinc).
"""
from __future__ import annotations

import math

import numpy as np

from ..core import Joint, Primitive, dtype_of
from ..numpy_dispatch import implements, ufunc
from ._base import (FLOATS, elementwise_abstract, per_output_element, register, scalar_fast,
                    tangent_sum)
from .elementwise import abs_, add, cos, div, equal, exp, less, mul, neg, sqrt, sub, where

__all__ = ["tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "arcsinh",
           "arccosh", "arctanh", "log1p", "expm1", "log2", "log10", "exp2", "logaddexp",
           "logaddexp2", "hypot", "sinc", "cbrt", "deg2rad", "rad2deg"]

_LN2 = math.log(2.0)
_LOG2_E = 1.0 / math.log(2.0)
_LOG10_E = 1.0 / math.log(10.0)


def _unary(name: str, np_func, math_func, scale, doc: str) -> Primitive:
    """An elementwise function of one argument whose derivative rule is ``scale(t, out, x)``:
    the tangent (or cotangent) ``t`` times the derivative at ``x``, written with primitives.
    A unary elementwise derivative is diagonal, so one rule serves JVP and VJP."""
    impl = np_func if math_func is None else scalar_fast(np_func, math_func)
    return register(Primitive(
        name, impl, per_output_element(name),
        lambda tangents, out, x: scale(tangents[0], out, x),
        (lambda ct, out, x: scale(ct, out, x),),
        abstract=elementwise_abstract, doc=doc))


def _binary_fast(np_func, math_func):
    """``math_func`` on two Python floats (as `scalar_fast`), NumPy otherwise."""
    def impl(a, b):
        if type(a) in FLOATS and type(b) in FLOATS:
            try:
                return math_func(a, b)
            except (OverflowError, ValueError):
                pass
        return np_func(a, b)
    impl.__name__ = np_func.__name__
    return impl


def _one_minus_x_squared(x):
    """(1 - x)(1 + x): 1 - x^2 without the cancellation of 1 - x*x near |x| = 1."""
    return mul(sub(1.0, x), add(1.0, x))


# ------------------------------------------------------------------------- trigonometric

tan = _unary(
    "tan", np.tan, math.tan,
    lambda t, out, x: mul(t, add(1.0, mul(out, out))),
    "tangent; derivative 1 + tan(x)^2 from the output (2 mul, 1 add per element)")

arcsin = _unary(
    "arcsin", np.arcsin, math.asin,
    lambda t, out, x: div(t, sqrt(_one_minus_x_squared(x))),
    "inverse sine; derivative 1 / sqrt((1 - x)(1 + x)) (sub, add, mul, sqrt, div per "
    "element); +inf at x = +-1 (the tangent's sign times inf), NaN outside [-1, 1]")

arccos = _unary(
    "arccos", np.arccos, math.acos,
    lambda t, out, x: neg(div(t, sqrt(_one_minus_x_squared(x)))),
    "inverse cosine; derivative -1 / sqrt((1 - x)(1 + x)) (sub, add, mul, sqrt, div, neg "
    "per element); -inf at x = +-1, NaN outside [-1, 1]")

arctan = _unary(
    "arctan", np.arctan, math.atan,
    lambda t, out, x: div(t, add(1.0, mul(x, x))),
    "inverse tangent; derivative 1 / (1 + x^2) (mul, add, div per element)")


def _arctan2_jvp(tangents, out, y, x):
    # d atan2(y, x) = (x dy - y dx) / r^2 with r = hypot(x, y), taken as (dy (x/r) - dx (y/r))
    # / r so that no x^2 + y^2 overflows or underflows.
    ty, tx = tangents
    r = hypot(x, y)
    dy = None if ty is None else mul(ty, div(x, r))
    dx = None if tx is None else mul(tx, div(y, r))
    if dx is None:
        numerator = dy
    elif dy is None:
        numerator = neg(dx)
    else:
        numerator = sub(dy, dx)
    return div(numerator, r)


def _arctan2_vjp(ct, out, y, x, needs):
    r = hypot(x, y)
    g = div(ct, r)                                   # shared by both partials
    return (mul(g, div(x, r)) if needs[0] else None,
            neg(mul(g, div(y, r))) if needs[1] else None)


# ----------------------------------------------------------------------------- hyperbolic

sinh = _unary(
    "sinh", np.sinh, math.sinh,
    lambda t, out, x: mul(t, cosh(x)),
    "hyperbolic sine; derivative cosh(x) (1 cosh, 1 mul per element)")

cosh = _unary(
    "cosh", np.cosh, math.cosh,
    lambda t, out, x: mul(t, sinh(x)),
    "hyperbolic cosine; derivative sinh(x) (1 sinh, 1 mul per element)")


# hypot comes before arcsinh and arctan2, whose rules use it.

def _hypot_safe(out):
    """out, with 1 at the origin (where a = b = 0): the partials a / out and b / out are
    then 0 there, as abs' is sign(0) = 0. The ratios lie in [-1, 1], so they never
    overflow (x / out^2 forms would)."""
    return where(equal(out, 0.0), 1.0, out)


def _hypot_jvp(tangents, out, a, b):
    ta, tb = tangents
    safe = _hypot_safe(out)                          # one comparison serves both partials
    return tangent_sum(None if ta is None else mul(ta, div(a, safe)),
                       None if tb is None else mul(tb, div(b, safe)))


def _hypot_vjp(ct, out, a, b, needs):
    safe = _hypot_safe(out)
    return (mul(ct, div(a, safe)) if needs[0] else None,
            mul(ct, div(b, safe)) if needs[1] else None)


hypot = register(Primitive(
    "hypot", _binary_fast(np.hypot, math.hypot), per_output_element("hypot"), _hypot_jvp,
    Joint(_hypot_vjp), abstract=elementwise_abstract,
    doc="sqrt(a^2 + b^2) without overflow; partials a / out and b / out (1 equal, then 1 "
        "div and 1 mul per argument and element); 0 at a = b = 0, as abs' at 0"))

arctan2 = register(Primitive(
    "arctan2", _binary_fast(np.arctan2, math.atan2), per_output_element("arctan2"),
    _arctan2_jvp, Joint(_arctan2_vjp), abstract=elementwise_abstract,
    doc="atan2(y, x); partials x / r^2 in y and -y / r^2 in x with r = hypot(x, y), "
        "computed as (x/r)/r (VJP: 1 hypot, 1 div, then 1 div and 1 mul per argument, 1 neg "
        "for x); NaN at y = x = 0, where the angle jumps"))

arcsinh = _unary(
    "arcsinh", np.arcsinh, math.asinh,
    lambda t, out, x: div(t, hypot(x, 1.0)),
    "inverse hyperbolic sine; derivative 1 / hypot(x, 1) = 1 / sqrt(x^2 + 1) without "
    "overflow (1 hypot, 1 div per element)")

arccosh = _unary(
    "arccosh", np.arccosh, math.acosh,
    lambda t, out, x: div(t, mul(sqrt(sub(x, 1.0)), sqrt(add(x, 1.0)))),
    "inverse hyperbolic cosine; derivative 1 / (sqrt(x - 1) sqrt(x + 1)), accurate near 1 "
    "and free of overflow (sub, add, 2 sqrt, mul, div per element); +inf at x = 1, NaN "
    "below 1")

arctanh = _unary(
    "arctanh", np.arctanh, math.atanh,
    lambda t, out, x: div(t, _one_minus_x_squared(x)),
    "inverse hyperbolic tangent; derivative 1 / ((1 - x)(1 + x)) (sub, add, mul, div per "
    "element); +inf at x = +-1, NaN outside [-1, 1]")


# -------------------------------------------------------------- logarithms, exponentials

log1p = _unary(
    "log1p", np.log1p, math.log1p,
    lambda t, out, x: div(t, add(1.0, x)),
    "log(1 + x), accurate near 0; derivative 1 / (1 + x) (add, div per element); +inf at "
    "x = -1")

expm1 = _unary(
    "expm1", np.expm1, math.expm1,
    lambda t, out, x: mul(t, add(out, 1.0)),
    "exp(x) - 1, accurate near 0; derivative exp(x) = out + 1 from the output (add, mul "
    "per element)")

log2 = _unary(
    "log2", np.log2, math.log2,
    lambda t, out, x: mul(div(t, x), _LOG2_E),
    "base-2 logarithm (exact at powers of two); derivative (1/x) log2(e) (div, mul per "
    "element); inf at 0")

log10 = _unary(
    "log10", np.log10, math.log10,
    lambda t, out, x: mul(div(t, x), _LOG10_E),
    "base-10 logarithm; derivative (1/x) log10(e) (div, mul per element); inf at 0")

exp2 = _unary(
    "exp2", np.exp2, getattr(math, "exp2", None),            # math.exp2: Python 3.11+
    lambda t, out, x: mul(t, mul(out, _LN2)),
    "2 ** x; derivative ln(2) 2**x from the output (2 mul per element)")


_LOGADDEXP_RULE = (
    "partials e^(a - out) and e^(b - out) (base 2: 2^(a - out), 2^(b - out)), each computed "
    "apart (sub, exp or exp2, mul per argument and element) so that neither loses accuracy "
    "when the other is close to 1; an argument of -inf gets 0 and the other 1; +inf, or "
    "both -inf, gives NaN (there a - out is inf - inf)")


def _logaddexp(name: str, np_func, base_exp) -> Primitive:
    """log(e^a + e^b), or log2(2^a + 2^b): see _LOGADDEXP_RULE."""
    def partial(t, v, out):
        return mul(t, base_exp(sub(v, out)))

    def jvp(tangents, out, a, b):
        ta, tb = tangents
        return tangent_sum(None if ta is None else partial(ta, a, out),
                           None if tb is None else partial(tb, b, out))

    return register(Primitive(
        name, np_func, per_output_element(name), jvp,
        (lambda ct, out, a, b: partial(ct, a, out), lambda ct, out, a, b: partial(ct, b, out)),
        abstract=elementwise_abstract,
        doc=f"{name}(a, b), without overflow; {_LOGADDEXP_RULE}"))


logaddexp = _logaddexp("logaddexp", np.logaddexp, exp)
logaddexp2 = _logaddexp("logaddexp2", np.logaddexp2, exp2)


# ----------------------------------------------------------------------- other functions

cbrt = _unary(
    "cbrt", np.cbrt, getattr(math, "cbrt", None),            # math.cbrt: Python 3.11+
    lambda t, out, x: div(t, mul(3.0, mul(out, out))),
    "cube root (real for negative x); derivative 1 / (3 cbrt(x)^2) from the output (2 mul, "
    "1 div per element); +inf at 0")


_SINC_C1 = -math.pi ** 2 / 3.0
_SINC_C3 = math.pi ** 4 / 30.0


def _sinc_series_radius(x) -> float:
    """Below this |x|, sinc' is taken from its Taylor series: the radius where the series'
    truncation error, (pi x)^4 / 280 relative, meets the formula's rounding error, about
    3 eps / (pi x)^2 relative: (0.87 eps)^(1/6), eps that of x's dtype (the rule computes
    in it)."""
    dtype = dtype_of(x)
    eps = float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)
    return (0.87 * eps) ** (1 / 6)


def _sinc_scale(t, out, x):
    # sinc'(x) = (cos(pi x) - sinc(x)) / x cancels near 0 (absolute error about eps / |x|),
    # so below the radius r the series -pi^2 x / 3 + pi^4 x^3 / 30 is taken instead; both
    # are evaluated and one selected (where is free). Relative error about 1e-11 in float64.
    small = less(abs_(x), _sinc_series_radius(x))
    formula = div(sub(cos(mul(math.pi, x)), out), where(small, 1.0, x))
    series = mul(x, add(_SINC_C1, mul(_SINC_C3, mul(x, x))))
    return mul(t, where(small, series, formula))


sinc = _unary(
    "sinc", np.sinc, None, _sinc_scale,
    "normalised sinc, sin(pi x) / (pi x) and 1 at 0; derivative (cos(pi x) - sinc(x)) / x "
    "from the output, and its Taylor series -pi^2 x / 3 + pi^4 x^3 / 30 near 0, where the "
    "formula cancels (abs, less, mul, cos, sub, div, 3 mul, add, mul per element)")


# pi to more digits than any float dtype holds: long double's loop uses its own pi.
_PI_DIGITS = "3.14159265358979323846264338327950288"


def _angle_constant(x, numerator, denominator):
    """NumPy's conversion constant for x's dtype: computed in float64 for float64, in long
    double for long double (a long double scalar, so that neither the constant nor the
    product is rounded to float64), in float32 otherwise (float32 and float16 loops use the
    float32 constant)."""
    dtype = dtype_of(x)
    if dtype == np.float64:
        return numerator / denominator
    if dtype == np.longdouble:
        pi = np.longdouble(_PI_DIGITS)
        return (pi / 180) if numerator == math.pi else (180 / pi)
    return float(np.float32(numerator) / np.float32(denominator))


def deg2rad(x):
    """Degrees to radians: x * (pi/180), one mul per element, as NumPy computes it (equal
    to NumPy's values in float64 and float32; float16 within one float16 ulp, as NumPy
    rounds there once from float32)."""
    return mul(x, _angle_constant(x, math.pi, 180.0))


def rad2deg(x):
    """Radians to degrees: x * (180/pi), one mul per element, as NumPy computes it (see
    `deg2rad` for float16)."""
    return mul(x, _angle_constant(x, 180.0, math.pi))


# ------------------------------------------------------------------- NumPy entry points

implements(np.sinc)(lambda x: sinc(x))

for _ufunc, _fn in [
        (np.tan, tan), (np.arcsin, arcsin), (np.arccos, arccos), (np.arctan, arctan),
        (np.arctan2, arctan2), (np.sinh, sinh), (np.cosh, cosh), (np.arcsinh, arcsinh),
        (np.arccosh, arccosh), (np.arctanh, arctanh), (np.log1p, log1p), (np.expm1, expm1),
        (np.log2, log2), (np.log10, log10), (np.exp2, exp2), (np.logaddexp, logaddexp),
        (np.logaddexp2, logaddexp2), (np.hypot, hypot), (np.cbrt, cbrt),
        (np.deg2rad, deg2rad), (np.radians, deg2rad), (np.rad2deg, rad2deg),
        (np.degrees, rad2deg)]:
    ufunc(_ufunc, _fn)
