"""Elementwise primitives: arithmetic, elementary functions, comparisons and selection,
NaN-ignoring extrema, rounding and remainders (the other elementary functions are in
`costad.primitives.transcendental`).

Cost: one operation of the primitive's kind per output element (broadcasting included);
``where`` selects and costs nothing. Rounding (floor, ceil, trunc, rint, round), floor
division and the tests isfinite, isnan, isinf are piecewise constant: never traced, so
their derivative is zero in every mode. real, conj and imag of a traced (always real) value
are free: the value itself, or constant zeros. Rules are economical: exp, sqrt and tanh reuse their
output, a division shares the factor ct / b between its two cotangents (so that f and its
gradient take at most 3x the multiplications and divisions of f, as Baur and Strassen
prove for rational f). Cotangents are summed back over broadcast axes by the reverse sweep.
"""
from __future__ import annotations

import math
import numbers
import operator as _op

import numpy as np

from ..core import (Joint, Primitive, ShapeDtype, Tracer, dtype_of, primal_value, shape_of,
                    size_of)
from ..errors import UnsupportedOperationError
from ..numpy_dispatch import implements, method, operator, ufunc, unsupported
from ._base import (FLOATS, comparison_abstract, elementwise_abstract, free, like_argument,
                    per_output_element, register, result_dtype, scalar_fast, tangent_sum)

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "tanh", "sin",
           "cos", "abs_", "sign", "maximum", "minimum", "where", "greater", "greater_equal",
           "less", "less_equal", "equal", "not_equal", "power", "clip", "fmax", "fmin",
           "floor", "ceil", "trunc", "rint", "round_", "floor_divide", "isfinite", "isnan",
           "isinf", "mod", "fmod", "nan_to_num"]


# ------------------------------------------------------------------------------ arithmetic

add = register(Primitive(
    "add", _op.add, per_output_element("add"),
    lambda tangents, out, a, b: tangent_sum(*tangents),
    (lambda ct, out, a, b: ct, lambda ct, out, a, b: ct),
    abstract=elementwise_abstract, vjp_reads_args=False, vjp_reads_out=False,
    doc="a + b, elementwise with broadcasting"))


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
    abstract=elementwise_abstract, vjp_reads_args=False, vjp_reads_out=False,
    doc="a - b, elementwise with broadcasting"))


def _mul_jvp(tangents, out, a, b):
    ta, tb = tangents
    return tangent_sum(None if ta is None else mul(ta, b), None if tb is None else mul(a, tb))


mul = register(Primitive(
    "mul", _op.mul, per_output_element("mul"), _mul_jvp,
    (lambda ct, out, a, b: mul(ct, b), lambda ct, out, a, b: mul(ct, a)),
    abstract=elementwise_abstract, vjp_reads_out=False,
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
    return (g if needs[0] else None, neg(mul(g, out)) if needs[1] else None)


div = register(Primitive(
    "div", _div_impl, per_output_element("div"), _div_jvp, Joint(_div_vjp),
    abstract=elementwise_abstract,
    doc="a / b, elementwise with broadcasting (x/0 gives inf or nan, as in NumPy)"))

neg = register(Primitive(
    "neg", _op.neg, per_output_element("neg"), vjp=(lambda ct, out, x: neg(ct),), linear=True,
    abstract=elementwise_abstract, vjp_reads_args=False, vjp_reads_out=False, doc="-x"))


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
    """x ** y: one ``pow`` per element, whether the exponent is constant or traced.

    A constant scalar exponent is taken as a Python number (the derivative's cheap forms
    test it). A NumPy scalar or 0-d array exponent is not weak in NumPy 2's promotion,
    though: a float32 base with a float64 or int64 exponent computes in float64. Where the
    Python number would give another dtype than NumPy's, the base is cast to NumPy's first
    (free), so that the values, and the precision, are NumPy's."""
    cls = y.__class__
    if cls is int or cls is float:                    # weak already: the hot path
        return pow(x, y)
    if not isinstance(y, Tracer) and np.ndim(y) == 0 and not isinstance(y, (bool, np.bool_)):
        dtype = result_dtype(primal_value(x), y)
        y = int(y) if isinstance(y, numbers.Integral) else float(y)
        if dtype != result_dtype(primal_value(x), y):
            from .structural import cast          # structural is loaded after this family
            x = cast(x, dtype, "numpy.power")
    return pow(x, y)


# ------------------------------------------------------------ elementwise unary functions

exp = register(Primitive(
    "exp", scalar_fast(np.exp, math.exp), per_output_element("exp"),
    lambda tangents, out, x: mul(tangents[0], out),        # reuses the output
    (lambda ct, out, x: mul(ct, out),),
    abstract=elementwise_abstract, vjp_reads_args=False, doc="exp(x)"))

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


def _tanh_grad_impl(t, y):
    if type(t) in FLOATS and type(y) in FLOATS:
        return t * (1.0 - y * y)
    # One temporary instead of three (the same operations, in place on NumPy's side): at
    # the sizes of array code, each fresh temporary costs as much as the arithmetic.
    factor = np.multiply(y, y)
    if not isinstance(factor, np.ndarray):                  # a NumPy scalar
        return np.multiply(t, 1.0 - factor)
    np.subtract(1.0, factor, out=factor)
    in_place = (factor.shape == np.broadcast_shapes(np.shape(t), factor.shape)
                and factor.dtype == np.result_type(t, factor))
    return np.multiply(t, factor, out=factor) if in_place else np.multiply(t, factor)


def _tanh_grad_cost(out, t, y):
    return {"mul": size_of(out) + size_of(y), "sub": size_of(y)}


tanh_grad = register(Primitive(
    "tanh_grad", _tanh_grad_impl, _tanh_grad_cost,
    # d(t (1 - y^2)) = dt (1 - y^2) - 2 t y dy
    lambda tangents, out, t, y: tangent_sum(
        None if tangents[0] is None else tanh_grad(tangents[0], y),
        None if tangents[1] is None else mul(mul(-2.0, mul(t, y)), tangents[1])),
    (lambda ct, out, t, y: tanh_grad(ct, y),
     lambda ct, out, t, y: mul(mul(-2.0, mul(ct, t)), y)),
    abstract=elementwise_abstract,
    doc="t * (1 - y*y), tanh's derivative applied from its output y (one sub per element of "
        "y and a mul each for y*y and the product: the count of the composition, in one "
        "pass over memory instead of three)"))


tanh = register(Primitive(
    "tanh", scalar_fast(np.tanh, math.tanh), per_output_element("tanh"),
    lambda tangents, out, x: tanh_grad(tangents[0], out),
    (lambda ct, out, x: tanh_grad(ct, out),),
    abstract=elementwise_abstract, vjp_reads_args=False, doc="hyperbolic tangent"))

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
logical_and = _comparison("logical_and", np.logical_and)
logical_or = _comparison("logical_or", np.logical_or)
logical_xor = _comparison("logical_xor", np.logical_xor)
logical_not = register(Primitive(
    "logical_not", np.logical_not, per_output_element("logical_not"), differentiable=False,
    abstract=comparison_abstract, doc="elementwise not of a boolean mask (never traced)"))


def _any_or_all(a, axis=None, keepdims=False, **unused):
    """any/all of a mask: a Python condition's value, which abstract counting has not."""
    plain = primal_value(a)
    if plain.__class__ is ShapeDtype:
        plain._needs_a_value("any() or all() of a mask")
    from ..numpy_dispatch import unsupported
    raise unsupported("numpy.any and numpy.all of a traced value (its derivative is zero: "
                      "apply them to costad.stop_gradient(x))")


implements(np.any, methods=("any",))(_any_or_all)
implements(np.all, methods=("all",))(_any_or_all)


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


def _pick(name: str, op, np_extremum) -> Primitive:
    """Which argument np.maximum (np.minimum) returns: a where a >= b (a <= b) or a is NaN;
    one comparison per element, never traced."""
    def impl(a, b):
        if type(a) in FLOATS and type(b) in FLOATS:
            return op(a, b) or a != a
        return np.logical_or(op(a, b), np.isnan(a))
    return register(Primitive(
        name, impl, per_output_element(name), differentiable=False,
        abstract=comparison_abstract,
        doc=f"the argument {np_extremum.__name__} selects: the first on ties and where it "
            "is NaN (one comparison per element)"))


def _extremum(name: str, np_func, pick) -> Primitive:
    """maximum / minimum: the derivative follows the argument NumPy selects (a on ties; the
    NaN where one is NaN, so that a NaN result has a NaN derivative)."""
    def jvp(tangents, out, a, b):
        ta, tb = tangents
        return where(pick(a, b), 0.0 if ta is None else ta, 0.0 if tb is None else tb)

    def vjp(ct, out, a, b, needs):
        take_a = pick(a, b)                         # one comparison serves both cotangents
        return (where(take_a, ct, 0.0) if needs[0] else None,
                where(take_a, 0.0, ct) if needs[1] else None)

    return register(Primitive(name, np_func, per_output_element(name), jvp, Joint(vjp),
                              abstract=elementwise_abstract,
                              doc=f"elementwise {name} with broadcasting"))


max_pick = _pick("max_pick", _op.ge, np.maximum)
min_pick = _pick("min_pick", _op.le, np.minimum)
maximum = _extremum("maximum", np.maximum, max_pick)
minimum = _extremum("minimum", np.minimum, min_pick)


def _nan_ignoring_extremum(name: str, np_func) -> Primitive:
    """fmax / fmin: as maximum / minimum, but a NaN loses to a number. The derivative
    follows the argument the output equals (a on ties; b when a is NaN; b's when both are
    NaN, where the value is NaN anyway): one equal per element serves both cotangents."""
    def jvp(tangents, out, a, b):
        ta, tb = tangents
        return where(equal(out, a), 0.0 if ta is None else ta, 0.0 if tb is None else tb)

    def vjp(ct, out, a, b, needs):
        take_a = equal(out, a)
        return (where(take_a, ct, 0.0) if needs[0] else None,
                where(take_a, 0.0, ct) if needs[1] else None)

    return register(Primitive(
        name, np_func, per_output_element(name), jvp, Joint(vjp), abstract=elementwise_abstract,
        doc=f"elementwise {name} with broadcasting, NaN ignored as NumPy does; the "
            "derivative follows the argument selected (the first on ties): 1 equal per element"))


fmax = _nan_ignoring_extremum("fmax", np.fmax)
fmin = _nan_ignoring_extremum("fmin", np.fmin)


# --------------------------------------------- rounding and remainders (piecewise functions)

def _piecewise_constant(name: str, impl, abstract, doc: str) -> Primitive:
    """A step function: its derivative is zero wherever it has one, so its output is never
    traced and every mode gives a zero derivative through it (one operation per element)."""
    return register(Primitive(name, impl, per_output_element(name), differentiable=False,
                              abstract=abstract, doc=doc + "; piecewise constant, so never "
                              "traced (zero derivative in every mode)"))


def _round_impl(x, decimals=0):
    return np.round(x, decimals)


floor = _piecewise_constant("floor", np.floor, like_argument, "floor(x)")
ceil = _piecewise_constant("ceil", np.ceil, like_argument, "ceil(x)")
trunc = _piecewise_constant("trunc", np.trunc, like_argument, "x rounded toward 0")
rint = _piecewise_constant("rint", np.rint, elementwise_abstract,
                           "x rounded to the nearest integer, halves to even")
round_ = _piecewise_constant("round", _round_impl, like_argument,
                             "np.round(x, decimals): halves to even, at decimals digits "
                             "(one round per element whatever decimals)")
floor_divide = _piecewise_constant("floor_divide", np.floor_divide, elementwise_abstract,
                                   "a // b, NumPy's floor division (the companion of mod)")
isfinite = _piecewise_constant("isfinite", np.isfinite, comparison_abstract,
                               "True where x is neither NaN nor infinite")
isnan = _piecewise_constant("isnan", np.isnan, comparison_abstract, "True where x is NaN")
isinf = _piecewise_constant("isinf", np.isinf, comparison_abstract,
                            "True where x is +inf or -inf")


def _mod_jvp(tangents, out, a, b):
    # mod(a, b) = a - floor_divide(a, b) * b, with floor_divide locally constant.
    ta, tb = tangents
    if tb is None:
        return ta
    scaled = mul(tb, floor_divide(a, b))
    return neg(scaled) if ta is None else sub(ta, scaled)


mod = register(Primitive(
    "mod", np.remainder, per_output_element("mod"), _mod_jvp,
    (lambda ct, out, a, b: ct, lambda ct, out, a, b: neg(mul(ct, floor_divide(a, b)))),
    abstract=elementwise_abstract,
    doc="a % b (numpy.remainder, the sign of b); partials 1 in a and -floor_divide(a, b) "
        "in b (1 floor_divide, 1 mul, 1 neg per element); where a is a multiple of b "
        "(a jump) the partials of the side the value takes: 1 in a, -a/b in b"))


def _fmod_quotient(out, a, b):
    """The integer n with fmod(a, b) = a - n b, as rint((a - out) / b): consistent with
    the output even where a / b rounds across an integer (trunc(a / b) is not)."""
    return rint(div(sub(a, out), b))


def _fmod_jvp(tangents, out, a, b):
    ta, tb = tangents
    if tb is None:
        return ta
    scaled = mul(tb, _fmod_quotient(out, a, b))
    return neg(scaled) if ta is None else sub(ta, scaled)


fmod = register(Primitive(
    "fmod", np.fmod, per_output_element("fmod"), _fmod_jvp,
    (lambda ct, out, a, b: ct, lambda ct, out, a, b: neg(mul(ct, _fmod_quotient(out, a, b)))),
    abstract=elementwise_abstract,
    doc="C's fmod(a, b) (the sign of a); partials 1 in a and -n in b, n = rint((a - out) "
        "/ b) the truncated quotient (sub, div, rint, mul, neg per element); at a jump the "
        "partials of the side the value takes: 1 in a, -a/b in b"))


def _nan_to_num_impl(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _keep_finite(t, x):
    return where(isfinite(x), t, 0.0)


nan_to_num = register(Primitive(
    "nan_to_num", _nan_to_num_impl, per_output_element("nan_to_num"),
    lambda tangents, out, x, **params: _keep_finite(tangents[0], x),
    (lambda ct, out, x, **params: _keep_finite(ct, x),),
    abstract=like_argument,
    doc="NaN and +-inf replaced by constants (nan, posinf, neginf; NumPy's defaults); "
        "derivative 1 where x is finite, 0 where a value was replaced (1 isfinite per "
        "element)"))


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
        raise unsupported("numpy.where(cond) with one argument (it returns indices)")
    if isinstance(cond, Tracer):
        from .structural import stop_gradient
        cond = stop_gradient(cond)
    return where(cond, a, b)


def _integer_decimals(decimals) -> int:
    if (isinstance(decimals, (bool, np.bool_)) or not isinstance(decimals, numbers.Integral)):
        raise unsupported(f"numpy.round with decimals={decimals!r} (decimals must be a "
                          "constant integer)")
    return int(decimals)


@implements(np.round, np.around, methods=("round",))
def _np_round(a, decimals=0):
    """np.round(a, decimals), np.around, a.round(decimals): zero derivative."""
    return round_(a, decimals=_integer_decimals(decimals))


def _dunder_round(self, ndigits=None):
    # round(x) and round(x, n) of a traced scalar give np.round's value, a float of x's
    # dtype (where Python gives an int for round(x)): equal in value, zero derivative.
    # NumPy arrays refuse round(), so traced arrays do too: every mode runs the same code.
    shape = shape_of(self)
    if shape != ():
        raise UnsupportedOperationError(
            f"costad: round() of a traced array of shape {shape}: NumPy arrays do not "
            "support round() either; use np.round(x, decimals) or x.round(decimals)")
    return round_(self, decimals=0 if ndigits is None else _integer_decimals(ndigits))


def _divmod(a, b):
    """divmod(a, b) = (a // b, a % b): one floor_divide and one mod per element."""
    return floor_divide(a, b), mod(a, b)


def _replacement(value, name: str):
    if value is None:
        return None
    if (isinstance(value, (bool, np.bool_, Tracer)) or not isinstance(value, numbers.Real)):
        raise unsupported(f"numpy.nan_to_num with {name}={value!r} (a constant real number "
                          "is required)")
    return float(value)


@implements(np.nan_to_num)
def _np_nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    if not copy:
        raise unsupported("numpy.nan_to_num with copy=False (it would write into a traced "
                          "value)")
    return nan_to_num(x, nan=_replacement(nan, "nan"), posinf=_replacement(posinf, "posinf"),
                      neginf=_replacement(neginf, "neginf"))


def _real(x):
    """The real part of a traced value: itself (traced values are real; complex ones are
    refused where they appear). Free."""
    return x


def _imag(x):
    """The imaginary part of a traced (real) value: constant zeros of its shape and dtype,
    read-only as NumPy's (a zero-stride view: no memory proportional to the data). Free."""
    shape, dtype = shape_of(x), dtype_of(x)
    if shape == ():
        return dtype.type(0)
    return np.broadcast_to(np.zeros((), dtype), shape)


implements(np.real)(_real)
implements(np.imag)(_imag)
method("real", property(_real))
method("imag", property(_imag))
method("conj", _real)
method("conjugate", _real)
method("__round__", _dunder_round)

for _ufunc, _fn in [
        (np.add, add), (np.subtract, sub), (np.multiply, mul), (np.divide, div),
        (np.true_divide, div), (np.negative, neg), (np.positive, lambda x: x),
        (np.power, power), (np.exp, exp), (np.log, log), (np.sqrt, sqrt), (np.tanh, tanh),
        (np.sin, sin), (np.cos, cos), (np.absolute, abs_), (np.fabs, abs_), (np.sign, sign),
        (np.maximum, maximum), (np.minimum, minimum),
        (np.square, lambda x: mul(x, x)), (np.reciprocal, lambda x: div(1.0, x)),
        (np.greater, greater), (np.greater_equal, greater_equal), (np.less, less),
        (np.less_equal, less_equal), (np.equal, equal), (np.not_equal, not_equal),
        (np.fmax, fmax), (np.fmin, fmin), (np.floor, floor), (np.ceil, ceil),
        (np.trunc, trunc), (np.rint, rint), (np.floor_divide, floor_divide),
        (np.remainder, mod), (np.fmod, fmod), (np.divmod, _divmod), (np.isfinite, isfinite),
        (np.isnan, isnan), (np.isinf, isinf), (np.conjugate, _real),
        (np.logical_and, logical_and), (np.logical_or, logical_or),
        (np.logical_xor, logical_xor), (np.logical_not, logical_not),
        (np.bitwise_and, logical_and), (np.bitwise_or, logical_or),
        (np.bitwise_xor, logical_xor), (np.invert, logical_not)]:      # np.mod, np.conj
    ufunc(_ufunc, _fn)

for _name, _prim, _reflected in [
        ("__add__", add, "__radd__"), ("__sub__", sub, "__rsub__"),
        ("__mul__", mul, "__rmul__"), ("__truediv__", div, "__rtruediv__"),
        ("__lt__", less, None), ("__le__", less_equal, None), ("__gt__", greater, None),
        ("__ge__", greater_equal, None), ("__eq__", equal, None), ("__ne__", not_equal, None),
        ("__neg__", neg, None), ("__abs__", abs_, None)]:
    operator(_name, _prim, _reflected)
for _name, _prim, _reflected in [
        ("__and__", logical_and, "__rand__"), ("__or__", logical_or, "__ror__"),
        ("__xor__", logical_xor, "__rxor__"), ("__invert__", logical_not, None)]:
    operator(_name, _prim, _reflected)                  # on masks (abstract ones included)
operator("__mod__", mod, "__rmod__")
operator("__floordiv__", floor_divide, "__rfloordiv__")
operator("__divmod__", _divmod, "__rdivmod__")
operator("__pow__", power, "__rpow__")
operator("__pos__", lambda x: x)
