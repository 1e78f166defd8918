"""NumPy's elementwise functions on traced values (issue 11 Part B, elementwise family):
values equal NumPy's, gradients agree in every mode and with the calculus, counts follow
each record's rule exactly, float32 stays float32, edge points give what the records say,
derivatives nest, bad arguments are named errors, and random programs agree across modes."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import costad
from costad import primitives as P

MODES = costad.MODES
RNG = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def _same_inputs_in_every_run():
    # Every test draws the same inputs whether run alone or in the suite.
    global RNG
    RNG = np.random.default_rng(11)


def uniform(lo, hi, *shape, dtype=np.float64):
    return RNG.uniform(lo, hi, shape).astype(dtype)


def counted(fun, *args):
    with costad.counting() as c:
        out = fun(*args)
    return c.by_op, out


def times(rule: dict, n: int) -> dict:
    return {kind: k * n for kind, k in rule.items() if k * n}


def plus(*counts: dict) -> dict:
    total: dict = {}
    for c in counts:
        for kind, k in c.items():
            total[kind] = total.get(kind, 0) + k
    return {kind: k for kind, k in total.items() if k}


# ------------------------------------------------------------------ smooth unary functions
# name: (NumPy function, domain, derivative, cost per element of f, of its JVP and VJP rule)
SINC_RULE = {"abs": 1, "less": 1, "mul": 5, "cos": 1, "sub": 1, "div": 1, "add": 1}
UNARY = {
    "tan": (np.tan, (-1.2, 1.2), lambda x: 1 / np.cos(x) ** 2, {"tan": 1},
            {"mul": 2, "add": 1}),
    "arcsin": (np.arcsin, (-0.95, 0.95), lambda x: 1 / np.sqrt(1 - x * x), {"arcsin": 1},
               {"sub": 1, "add": 1, "mul": 1, "sqrt": 1, "div": 1}),
    "arccos": (np.arccos, (-0.95, 0.95), lambda x: -1 / np.sqrt(1 - x * x), {"arccos": 1},
               {"sub": 1, "add": 1, "mul": 1, "sqrt": 1, "div": 1, "neg": 1}),
    "arctan": (np.arctan, (-3, 3), lambda x: 1 / (1 + x * x), {"arctan": 1},
               {"mul": 1, "add": 1, "div": 1}),
    "sinh": (np.sinh, (-3, 3), np.cosh, {"sinh": 1}, {"cosh": 1, "mul": 1}),
    "cosh": (np.cosh, (-3, 3), np.sinh, {"cosh": 1}, {"sinh": 1, "mul": 1}),
    "arcsinh": (np.arcsinh, (-3, 3), lambda x: 1 / np.sqrt(x * x + 1), {"arcsinh": 1},
                {"hypot": 1, "div": 1}),
    "arccosh": (np.arccosh, (1.1, 4), lambda x: 1 / np.sqrt(x * x - 1), {"arccosh": 1},
                {"sub": 1, "add": 1, "sqrt": 2, "mul": 1, "div": 1}),
    "arctanh": (np.arctanh, (-0.9, 0.9), lambda x: 1 / (1 - x * x), {"arctanh": 1},
                {"sub": 1, "add": 1, "mul": 1, "div": 1}),
    "log1p": (np.log1p, (-0.9, 3), lambda x: 1 / (1 + x), {"log1p": 1},
              {"add": 1, "div": 1}),
    "expm1": (np.expm1, (-2, 2), np.exp, {"expm1": 1}, {"add": 1, "mul": 1}),
    "log2": (np.log2, (0.1, 5), lambda x: 1 / (x * np.log(2)), {"log2": 1},
             {"div": 1, "mul": 1}),
    "log10": (np.log10, (0.1, 5), lambda x: 1 / (x * np.log(10)), {"log10": 1},
              {"div": 1, "mul": 1}),
    "exp2": (np.exp2, (-3, 3), lambda x: np.log(2) * 2 ** x, {"exp2": 1}, {"mul": 2}),
    "cbrt": (np.cbrt, (-3, 3), lambda x: 1 / (3 * np.cbrt(x) ** 2), {"cbrt": 1},
             {"mul": 2, "div": 1}),
    "sinc": (np.sinc, (-2.5, 2.5), lambda x: (np.cos(np.pi * x) - np.sinc(x)) / x,
             {"sinc": 1}, SINC_RULE),
    "deg2rad": (np.deg2rad, (-400, 400), lambda x: np.full_like(x, np.pi / 180), {"mul": 1},
                {"mul": 1}),
    "radians": (np.radians, (-400, 400), lambda x: np.full_like(x, np.pi / 180), {"mul": 1},
                {"mul": 1}),
    "rad2deg": (np.rad2deg, (-7, 7), lambda x: np.full_like(x, 180 / np.pi), {"mul": 1},
                {"mul": 1}),
    "degrees": (np.degrees, (-7, 7), lambda x: np.full_like(x, 180 / np.pi), {"mul": 1},
                {"mul": 1}),
}


def weighted_sum(fn, w):
    return lambda x: np.sum(w * fn(x))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_equal_numpy(name):
    fn, (lo, hi), *_ = UNARY[name]
    x = uniform(lo, hi, 3, 4)
    expected = fn(x)
    value, _ = costad.jvp(fn, x, np.ones_like(x))
    np.testing.assert_array_equal(value, expected)
    value, _ = costad.vjp(fn, x)
    np.testing.assert_array_equal(value, expected)
    _, value = counted(costad.counted(fn), x)
    np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients_agree_in_every_mode_and_with_calculus(name):
    fn, (lo, hi), derivative, *_ = UNARY[name]
    x, w = uniform(lo, hi, 7), uniform(0.5, 1.5, 7)
    g = {mode: costad.grad(weighted_sum(fn, w), mode=mode)(x) for mode in MODES}
    np.testing.assert_allclose(g["reverse"], w * derivative(x), rtol=1e-12)
    np.testing.assert_allclose(g["forward"], g["reverse"], rtol=1e-13)
    np.testing.assert_allclose(g["fd-central"], g["reverse"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g["fd"], g["reverse"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("n", [1, 6])
def test_unary_counts_follow_the_record(name, n):
    fn, (lo, hi), _, f_cost, rule = UNARY[name]
    x, v = uniform(lo, hi, n), uniform(-1, 1, n)
    assert costad.count(fn, x).by_op == times(f_cost, n)
    assert counted(costad.jvp, fn, x, v)[0] == plus(times(f_cost, n), times(rule, n))
    by_op, (_, pullback) = counted(costad.vjp, fn, x)
    assert by_op == times(f_cost, n)
    assert counted(pullback, v)[0] == times(rule, n)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float32_stays_float32(name):
    fn, (lo, hi), derivative, *_ = UNARY[name]
    x = uniform(lo, hi, 5, dtype=np.float32)
    value, _ = costad.vjp(fn, x)
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, fn(x))
    for mode in MODES:
        g = costad.grad(lambda t: np.sum(fn(t)), mode=mode)(x)
        assert g.dtype == np.float32, mode
        if mode in ("forward", "reverse"):     # float32 finite differences are coarse
            np.testing.assert_allclose(g, derivative(x.astype(np.float64)), rtol=1e-5,
                                       atol=1e-6, err_msg=mode)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_python_floats_and_0d_arrays(name):
    fn, (lo, hi), derivative, *_ = UNARY[name]
    x = float(uniform(lo, hi, 1)[0])
    for mode in MODES:
        g = costad.grad(fn, mode=mode)(x)
        assert type(g) is float
        assert g == pytest.approx(float(derivative(np.float64(x))), rel=1e-6, abs=1e-7)
        g0 = costad.grad(fn, mode=mode)(np.array(x))
        assert g0.shape == () and g0 == pytest.approx(g, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("name", ["tan", "arcsinh", "sinc", "deg2rad", "cbrt"])
def test_empty_arrays_give_empty_gradients_in_every_mode(name):
    fn = UNARY[name][0]
    for mode in MODES:
        g = costad.grad(lambda t: np.sum(fn(t)), mode=mode)(np.zeros((0, 3)))
        assert g.shape == (0, 3)
    assert costad.count(fn, np.zeros((0, 3))).by_op == {}


def second_derivative(fn, x, outer, inner):
    first = costad.grad(lambda t: np.sum(fn(t)), mode=inner)
    return costad.grad(lambda t: np.sum(first(t)), mode=outer)(x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_second_derivatives_nest(name):
    fn, (lo, hi), derivative, *_ = UNARY[name]
    x = uniform(lo, hi, 4)
    h = 1e-5
    expected = (derivative(x + h) - derivative(x - h)) / (2 * h)
    fwd_rev = second_derivative(fn, x, "forward", "reverse")
    rev_fwd = second_derivative(fn, x, "reverse", "forward")
    np.testing.assert_allclose(fwd_rev, rev_fwd, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(rev_fwd, expected, rtol=1e-5, atol=1e-7)
    rev_rev = second_derivative(fn, x, "reverse", "reverse")
    np.testing.assert_allclose(rev_rev, rev_fwd, rtol=1e-11, atol=1e-12)


def test_third_derivative_of_tan():
    f = np.tan
    for mode in ("forward", "reverse", "forward"):
        f = costad.grad(f, mode=mode)
    t = 0.4                                      # tan''' = 2 sec^2 (sec^2 + 2 tan^2)
    sec2 = 1 / math.cos(t) ** 2
    assert f(t) == pytest.approx(2 * sec2 * (sec2 + 2 * math.tan(t) ** 2), rel=1e-12)


# ------------------------------------------------------------- points without a derivative

def reverse_grad(fn, x):
    with np.errstate(all="ignore"):
        return costad.grad(lambda t: np.sum(fn(t)))(np.asarray(x, dtype=float))


@pytest.mark.parametrize("fn,x,expected", [
    (np.arcsin, [1.0, -1.0], [np.inf, np.inf]),
    (np.arccos, [1.0, -1.0], [-np.inf, -np.inf]),
    (np.arctanh, [1.0, -1.0], [np.inf, np.inf]),
    (np.arccosh, [1.0], [np.inf]),
    (np.log1p, [-1.0], [np.inf]),
    (np.cbrt, [0.0], [np.inf]),
    (np.log2, [0.0], [np.inf]),
    (np.arcsin, [1.5], [np.nan]),                  # outside the domain: NaN, as the value
    (np.arccosh, [0.5], [np.nan]),
    (np.tan, [np.nan], [np.nan]),
    (np.sinc, [0.0], [0.0]),
])
def test_infinite_or_undefined_derivatives_at_the_edges(fn, x, expected):
    np.testing.assert_array_equal(reverse_grad(fn, x), expected)
    with np.errstate(all="ignore"):             # one input: no zero tangent times inf
        g = costad.grad(lambda t: np.sum(fn(t)), mode="forward")(np.float64(x[0]))
    np.testing.assert_array_equal(g, expected[0])


def test_sinc_derivative_is_accurate_near_zero():
    def reference(x):                            # the Taylor series, to rounding for |x|<0.5
        y = np.pi * x
        return np.pi * sum((-1) ** k * 2 * k * y ** (2 * k - 1) / math.factorial(2 * k + 1)
                           for k in range(1, 25))
    x = np.concatenate([np.logspace(-300, -0.31, 400), -np.logspace(-12, -0.31, 100)])
    g = reverse_grad(np.sinc, x)
    np.testing.assert_allclose(g, reference(x), rtol=1e-10)
    g32 = costad.grad(lambda t: np.sum(np.sinc(t)))(x[x > 1e-30].astype(np.float32))
    np.testing.assert_allclose(g32, reference(x[x > 1e-30]), rtol=1e-4)


# ----------------------------------------------------------------- smooth binary functions
# name: (NumPy function, domains of a and b, partials, f cost, JVP rule, VJP rule (both))
BINARY = {
    "arctan2": (np.arctan2, ((-2, 2), (-2, 2)),
                lambda a, b: (b / (a * a + b * b), -a / (a * a + b * b)), {"arctan2": 1},
                {"hypot": 1, "div": 3, "mul": 2, "sub": 1},
                {"hypot": 1, "div": 3, "mul": 2, "neg": 1}),
    "hypot": (np.hypot, ((-2, 2), (-2, 2)),
              lambda a, b: (a / np.hypot(a, b), b / np.hypot(a, b)), {"hypot": 1},
              {"equal": 1, "div": 2, "mul": 2, "add": 1}, {"equal": 1, "div": 2, "mul": 2}),
    "logaddexp": (np.logaddexp, ((-3, 3), (-3, 3)),
                  lambda a, b: (1 / (1 + np.exp(b - a)), 1 / (1 + np.exp(a - b))),
                  {"logaddexp": 1}, {"sub": 2, "exp": 2, "mul": 2, "add": 1},
                  {"sub": 2, "exp": 2, "mul": 2}),
    "logaddexp2": (np.logaddexp2, ((-3, 3), (-3, 3)),
                   lambda a, b: (1 / (1 + 2 ** (b - a)), 1 / (1 + 2 ** (a - b))),
                   {"logaddexp2": 1}, {"sub": 2, "exp2": 2, "mul": 2, "add": 1},
                   {"sub": 2, "exp2": 2, "mul": 2}),
    "mod": (np.mod, ((-5, 5), (0.3, 2)),
            lambda a, b: (np.ones_like(a), -np.floor_divide(a, b)), {"mod": 1},
            {"floor_divide": 1, "mul": 1, "sub": 1}, {"floor_divide": 1, "mul": 1, "neg": 1}),
    "fmod": (np.fmod, ((-5, 5), (-2, -0.3)),
             lambda a, b: (np.ones_like(a), -np.trunc(a / b)), {"fmod": 1},
             {"sub": 2, "div": 1, "rint": 1, "mul": 1}, {"sub": 1, "div": 1, "rint": 1,
                                                         "mul": 1, "neg": 1}),
    "fmax": (np.fmax, ((-2, 2), (-2, 2)),
             lambda a, b: ((a >= b) * 1.0, (a < b) * 1.0), {"fmax": 1}, {"equal": 1},
             {"equal": 1}),
    "fmin": (np.fmin, ((-2, 2), (-2, 2)),
             lambda a, b: ((a <= b) * 1.0, (a > b) * 1.0), {"fmin": 1}, {"equal": 1},
             {"equal": 1}),
}


def binary_inputs(name, shape_a=(3, 4), shape_b=(3, 4)):
    _, ((la, ha), (lb, hb)), *_ = BINARY[name]
    return uniform(la, ha, *shape_a), uniform(lb, hb, *shape_b)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_equal_numpy(name):
    fn = BINARY[name][0]
    a, b = binary_inputs(name, (3, 4), (4,))
    value, _ = costad.vjp(lambda p: fn(p[0], p[1]), [a, b])
    np.testing.assert_array_equal(value, fn(a, b))
    value, _ = costad.vjp(lambda p: fn(p, b), a)             # b a constant
    np.testing.assert_array_equal(value, fn(a, b))
    value, _ = costad.vjp(lambda p: fn(2.0 * a, p), b)        # a a constant
    np.testing.assert_array_equal(value, fn(2.0 * a, b))


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((1, 4), (3, 1))])
def test_binary_gradients_agree_in_every_mode_and_with_calculus(name, shapes):
    fn, _, partials, *_ = BINARY[name]
    a, b = binary_inputs(name, *shapes)
    w = uniform(0.5, 1.5, *np.broadcast_shapes(*shapes))
    f = lambda p: np.sum(w * fn(p[0], p[1]))                              # noqa: E731
    g = {mode: costad.grad(f, mode=mode)([a, b]) for mode in MODES}
    da, db = partials(*np.broadcast_arrays(a, b))
    for got, partial, shape in zip(g["reverse"], (da, db), shapes):
        expected = np.sum(w * partial, axis=tuple(range(w.ndim - len(shape))))
        expected = np.sum(expected, axis=tuple(i for i, n in enumerate(shape) if n == 1),
                           keepdims=True).reshape(shape)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    for mode in ("forward", "fd-central", "fd"):
        tolerance = {"forward": 1e-13, "fd-central": 1e-6, "fd": 1e-4}[mode]
        for got, ref in zip(g[mode], g["reverse"]):
            np.testing.assert_allclose(got, ref, rtol=tolerance, atol=tolerance, err_msg=mode)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_counts_follow_the_record(name):
    fn, _, _, f_cost, jvp_rule, vjp_rule = BINARY[name]
    a, b = binary_inputs(name, (2, 3), (2, 3))
    n = 6
    f = lambda p: fn(p[0], p[1])                                          # noqa: E731
    assert costad.count(f, [a, b]).by_op == times(f_cost, n)
    v = [uniform(-1, 1, 2, 3), uniform(-1, 1, 2, 3)]
    assert counted(costad.jvp, f, [a, b], v)[0] == plus(times(f_cost, n), times(jvp_rule, n))
    _, pullback = costad.vjp(f, [a, b])
    assert counted(pullback, v[0])[0] == times(vjp_rule, n)


@pytest.mark.parametrize("name,only_a,only_b", [
    ("arctan2", {"hypot": 1, "div": 2, "mul": 1}, {"hypot": 1, "div": 2, "mul": 1, "neg": 1}),
    ("hypot", {"equal": 1, "div": 1, "mul": 1}, {"equal": 1, "div": 1, "mul": 1}),
    ("logaddexp", {"sub": 1, "exp": 1, "mul": 1}, {"sub": 1, "exp": 1, "mul": 1}),
    ("mod", {}, {"floor_divide": 1, "mul": 1, "neg": 1}),
    ("fmod", {}, {"sub": 1, "div": 1, "rint": 1, "mul": 1, "neg": 1}),
    ("fmax", {"equal": 1}, {"equal": 1}),
])
def test_a_constant_argument_costs_no_partial(name, only_a, only_b):
    fn = BINARY[name][0]
    a, b = binary_inputs(name, (5,), (5,))
    ct = uniform(-1, 1, 5)
    _, pullback = costad.vjp(lambda t: fn(t, b), a)
    assert counted(pullback, ct)[0] == times(only_a, 5)
    _, pullback = costad.vjp(lambda t: fn(a, t), b)
    assert counted(pullback, ct)[0] == times(only_b, 5)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_float32_stays_float32(name):
    fn = BINARY[name][0]
    a, b = (v.astype(np.float32) for v in binary_inputs(name, (4,), (4,)))
    value, _ = costad.vjp(lambda p: fn(p[0], p[1]), [a, b])
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, fn(a, b))
    for mode in MODES:
        ga, gb = costad.grad(lambda p: np.sum(fn(p[0], p[1])), mode=mode)([a, b])
        assert ga.dtype == gb.dtype == np.float32, mode


@pytest.mark.parametrize("name", ["arctan2", "hypot", "logaddexp", "logaddexp2", "mod",
                                  "fmod", "fmax"])
def test_binary_second_derivatives_nest(name):
    fn = BINARY[name][0]
    a, b = binary_inputs(name, (3,), (3,))
    x = np.concatenate([a, b])
    f = lambda t: np.sum(fn(t[:3], t[3:]) ** 2)                           # noqa: E731
    fwd_rev = costad.jacobian(costad.grad(f), mode="forward")(x)
    rev_fwd = costad.jacobian(costad.grad(f, mode="forward"), mode="reverse")(x)
    np.testing.assert_allclose(fwd_rev, rev_fwd, rtol=1e-11, atol=1e-12)
    h, g = 1e-6, costad.grad(f)
    fd = np.stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(6)], axis=1)
    np.testing.assert_allclose(fwd_rev, fd, rtol=1e-5, atol=1e-6)


def test_arctan2_at_the_origin_is_nan_and_hypot_is_zero():
    for mode in ("forward", "reverse"):
        with np.errstate(all="ignore"):
            g = costad.grad(lambda v: np.arctan2(v[0], v[1]), mode=mode)(np.zeros(2))
        assert np.isnan(g).all()
        g = costad.grad(lambda v: np.hypot(v[0], v[1]), mode=mode)(np.zeros(2))
        np.testing.assert_array_equal(g, [0.0, 0.0])


@pytest.mark.parametrize("scale", [1e-200, 1e-320, 1e200, 1e300])
def test_arctan2_and_hypot_partials_neither_overflow_nor_underflow(scale):
    x = np.array([3.0, 4.0]) * scale
    for mode in ("forward", "reverse"):
        g = costad.grad(lambda v: np.hypot(v[0], v[1]), mode=mode)(x)
        np.testing.assert_allclose(g, [0.6, 0.8], rtol=1e-12)
    if scale > 1e-300:                           # 1/(25 scale) would not be a float
        g = costad.grad(lambda v: np.arctan2(v[0], v[1]))(x)
        np.testing.assert_allclose(g, [4 / (25 * scale), -3 / (25 * scale)], rtol=1e-12)


def test_logaddexp_at_infinities_and_large_arguments():
    g = costad.grad(lambda v: np.logaddexp(v[0], v[1]))(np.array([-np.inf, 1.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0])
    g = costad.grad(lambda v: np.logaddexp2(v[0], v[1]))(np.array([800.0, 800.0]))
    np.testing.assert_array_equal(g, [0.5, 0.5])
    g = costad.grad(lambda v: np.logaddexp(v[0], v[1]), mode="forward")(np.array([1e3, 0.0]))
    np.testing.assert_array_equal(g, [1.0, 0.0])


# -------------------------------------------------------------------- fmax, fmin and NaN

@pytest.mark.parametrize("fn", [np.fmax, np.fmin])
def test_fmax_fmin_ignore_nan_and_give_ties_to_the_first_argument(fn):
    a = np.array([np.nan, 1.0, np.nan, 2.0, -1.0, 0.0])
    b = np.array([1.0, np.nan, np.nan, 2.0, 3.0, -0.0])
    f = lambda p: fn(p[0], p[1])                                          # noqa: E731
    value, _ = costad.vjp(f, [a, b])
    np.testing.assert_array_equal(value, fn(a, b))
    take_a = np.array([0, 1, 0, 1, 0 if fn is np.fmax else 1, 1], dtype=float)
    for mode in ("forward", "reverse"):
        ga, gb = costad.grad(lambda p: np.sum(f(p)), mode=mode)([a, b])
        np.testing.assert_array_equal(ga, take_a, err_msg=mode)
        np.testing.assert_array_equal(gb, 1.0 - take_a, err_msg=mode)


# ---------------------------------------------------------------------- mod, fmod, divmod

def test_mod_forms_agree_with_numpy_and_python():
    a, b = np.array([5.5, -5.5, 5.5, -5.5, 3.0]), np.array([2.0, 2.0, -2.0, -2.0, 1.5])
    expected = np.remainder(a, b)
    for f in (lambda p: p[0] % p[1], lambda p: np.mod(p[0], p[1]),
              lambda p: np.remainder(p[0], p[1]), lambda p: divmod(p[0], p[1])[1],
              lambda p: np.divmod(p[0], p[1])[1]):
        value, _ = costad.vjp(f, [a, b])
        np.testing.assert_array_equal(value, expected)
    value, _ = costad.vjp(lambda t: 7.0 % t, b)                 # __rmod__
    np.testing.assert_array_equal(value, 7.0 % b)
    value, _ = costad.vjp(lambda t: 5.5 % t, 2.0)                # Python floats
    assert value == 5.5 % 2.0
    assert costad.grad(lambda t: 7.0 % t)(2.5) == -2.0          # -floor(7 / 2.5)
    g = costad.grad(lambda t: np.sum(7.0 % t))(b)
    np.testing.assert_array_equal(g, -np.floor_divide(7.0, b))


@pytest.mark.parametrize("fn", [np.mod, np.fmod])
def test_remainders_at_a_jump_take_the_side_of_the_value(fn):
    # a = 3 b: the value is 0 = a - 3 b, so the partials are 1 and -3 (the right side in a).
    for mode in ("forward", "reverse"):
        g = costad.grad(lambda p: fn(p[0], p[1]), mode=mode)(np.array([3.0, 1.0]))
        np.testing.assert_array_equal(g, [1.0, -3.0])
        g = costad.grad(lambda p: fn(p[0], p[1]), mode=mode)(np.array([-4.5, 1.5]))
        np.testing.assert_array_equal(g, [1.0, 3.0])


@pytest.mark.parametrize("fn", [np.mod, np.fmod])
def test_remainder_quotient_follows_the_value_where_the_division_rounds(fn):
    # a / b rounds up to 17 although a < 17 b: the remainder is b - tiny, a = 16 b + r, so
    # the partial in b is -16 (trunc(a / b) would say -17).
    a, b = 15.352797244684366, 0.903105720275551
    assert a / b == 17.0 and fn(a, b) > 0.9
    for mode in ("forward", "reverse"):
        g = costad.grad(lambda p: fn(p[0], p[1]), mode=mode)(np.array([a, b]))
        np.testing.assert_array_equal(g, [1.0, -16.0])


def test_floor_divide_and_divmod_values_and_zero_derivatives():
    a, b = np.array([5.5, -5.5, 7.0]), np.array([2.0, 2.0, -3.0])
    for mode in MODES:
        g = costad.grad(lambda p: np.sum(p[0] // p[1] + np.floor_divide(p[0], p[1])
                                         + divmod(p[0], p[1])[0]), mode=mode)([a, b])
        np.testing.assert_array_equal(g[0], np.zeros(3))
        np.testing.assert_array_equal(g[1], np.zeros(3))
    value, _ = costad.vjp(lambda p: [p[0] // p[1], 10.0 // p[1]], [a, b])
    np.testing.assert_array_equal(value[0], a // b)
    np.testing.assert_array_equal(value[1], 10.0 // b)
    by_op, _ = counted(costad.counted(lambda p: divmod(p[0], p[1])), [a, b])
    assert by_op == {"floor_divide": 3, "mod": 3}


# ------------------------------------------------------------------------------- rounding

ROUNDING = {
    "floor": (np.floor, {"floor": 1}), "ceil": (np.ceil, {"ceil": 1}),
    "trunc": (np.trunc, {"trunc": 1}), "rint": (np.rint, {"rint": 1}),
    "round": (np.round, {"round": 1}), "around": (np.around, {"round": 1}),
    "round2": (lambda t: np.round(t, 2), {"round": 1}),
    "method": (lambda t: t.round(1), {"round": 1}),
    "method_kw": (lambda t: t.round(decimals=-1), {"round": 1}),
}
HALVES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2345, -7.77, 15.0, 0.0])


@pytest.mark.parametrize("name", sorted(ROUNDING))
def test_rounding_values_counts_and_zero_derivatives(name):
    fn, rule = ROUNDING[name]
    x = HALVES.copy()
    reference = {"method": lambda t: np.round(t, 1),
                 "method_kw": lambda t: np.round(t, -1)}.get(name, fn)
    value, _ = costad.vjp(lambda t: fn(t) * 1.0, x)
    np.testing.assert_array_equal(value, reference(x))
    for mode in MODES:
        # x * round(x): the derivative is round(x), as the step contributes nothing; the
        # points are away from jumps at the finite-difference scale only for fd modes.
        y = x + 0.01 if mode.startswith("fd") else x
        g = costad.grad(lambda t: np.sum(t * fn(t)), mode=mode)(y)
        if mode.startswith("fd"):
            np.testing.assert_allclose(g, reference(y), rtol=1e-4, atol=1e-4, err_msg=mode)
        else:
            np.testing.assert_array_equal(g, reference(y), err_msg=mode)
    assert costad.count(fn, x).by_op == times(rule, x.size)


def test_python_round_of_a_traced_scalar():
    assert costad.grad(lambda t: round(t) * t)(2.5) == 2.0           # half to even
    assert costad.grad(lambda t: round(t, 1) + t, mode="forward")(1.25) == 1.0
    value, _ = costad.vjp(lambda t: round(t, 2), np.float64(1.2345))
    assert value == round(np.float64(1.2345), 2)
    assert costad.count(lambda t: round(t), 3.5).by_op == {"round": 1}


def test_rounding_keeps_float32():
    x = HALVES.astype(np.float32)
    for fn in (np.floor, np.ceil, np.trunc, np.rint, np.round, lambda t: t.round(2)):
        value, _ = costad.vjp(lambda t: t * fn(t), x)
        assert value.dtype == np.float32
        for mode in MODES:
            assert costad.grad(lambda t: np.sum(t * fn(t)), mode=mode)(x).dtype == np.float32


@pytest.mark.parametrize("use,word", [
    (lambda t: np.round(t, 1.5), "decimals=1.5"),
    (lambda t: t.round(decimals="1"), "decimals='1'"),
    (lambda t: np.round(t, t[0]), "decimals"),
    (lambda t: np.round(t, True), "decimals=True"),
    (lambda t: round(t), r"round\(\) of a traced array of shape \(3,\)"),
    (lambda t: np.round(t, 0, np.zeros(3)), "numpy.round"),
    (lambda t: t.round(out=np.zeros(3)), "out="),
    (lambda t: np.floor(t, out=np.zeros(3)), "numpy.floor with keyword"),
])
def test_bad_rounding_arguments_are_named_errors(use, word):
    with pytest.raises(costad.UnsupportedOperationError, match=word):
        costad.grad(lambda t: np.sum(use(t)))(np.ones(3))


# ------------------------------------------------------------------------------ nan_to_num

@pytest.mark.parametrize("kwargs", [{}, {"nan": 2.0}, {"nan": -1.0, "posinf": 5.0},
                                    {"posinf": 1e3, "neginf": -1e3}, {"copy": True}])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_to_num_values_and_derivative_mask(kwargs, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -0.25, 0.0], dtype=dtype)
    value, _ = costad.vjp(lambda t: np.nan_to_num(t, **kwargs), x)
    np.testing.assert_array_equal(value, np.nan_to_num(x, **kwargs))
    assert value.dtype == dtype
    for mode in ("forward", "reverse"):
        g = costad.grad(lambda t: np.sum(np.nan_to_num(t, **kwargs) * 0.5), mode=mode)(x)
        np.testing.assert_array_equal(g, [0, 0, 0, 0.5, 0.5, 0.5])
        assert g.dtype == dtype


def test_nan_to_num_counts_and_modes():
    x = uniform(-2, 2, 5)
    assert costad.count(np.nan_to_num, x).by_op == {"nan_to_num": 5}
    _, pullback = costad.vjp(np.nan_to_num, x)
    assert counted(pullback, np.ones(5))[0] == {"isfinite": 5}
    for mode in MODES:
        g = costad.grad(lambda t: np.sum(np.nan_to_num(t) ** 2), mode=mode)(x)
        np.testing.assert_allclose(g, 2 * x, rtol=1e-5, err_msg=mode)


@pytest.mark.parametrize("use,word", [
    (lambda t: np.nan_to_num(t, copy=False), "copy=False"),
    (lambda t: np.nan_to_num(t, nan=t[0]), "nan="),
    (lambda t: np.nan_to_num(t, posinf="big"), "posinf='big'"),
    (lambda t: np.nan_to_num(t, neginf=1j), "neginf=1j"),
])
def test_bad_nan_to_num_arguments_are_named_errors(use, word):
    with pytest.raises(costad.UnsupportedOperationError, match=word):
        costad.grad(lambda t: np.sum(use(t)))(np.ones(3))


def test_isfinite_isnan_isinf_are_piecewise_constant():
    x = np.array([np.nan, np.inf, -1.0, 2.0])
    for fn in (np.isfinite, np.isnan, np.isinf):
        value, _ = costad.vjp(lambda t: np.where(fn(t), 0.0, t), x)
        np.testing.assert_array_equal(value, np.where(fn(x), 0.0, x))
        assert costad.count(fn, x).by_op == {fn.__name__: 4}


# --------------------------------------------------------------------------- real and conj

@pytest.mark.parametrize("form,cost", [
    (np.real, {}), (np.conj, {}), (np.conjugate, {}), (lambda t: t.real, {}),
    (lambda t: t.conj(), {}), (lambda t: t.conjugate(), {}),
    (lambda t: np.real(t) + t.imag, {"add": 6}), (lambda t: t - np.imag(t), {"sub": 6})])
def test_real_conj_and_imag_of_real_values_are_free(form, cost):
    x = uniform(-2, 2, 2, 3)
    value, _ = costad.vjp(form, x)
    np.testing.assert_array_equal(value, x)
    assert costad.count(form, x).by_op == cost
    for mode in MODES:
        g = costad.grad(lambda t: np.sum(form(t) * t), mode=mode)(x)
        np.testing.assert_allclose(g, 2 * x, rtol=1e-5, atol=1e-6, err_msg=mode)


def test_imag_is_read_only_zeros_of_the_dtype():
    x32 = uniform(-1, 1, 4, dtype=np.float32)
    seen = {}

    def f(t):
        seen["imag"], seen["np_imag"], seen["scalar"] = t.imag, np.imag(t), np.imag(t[0])
        return np.sum(t)

    costad.grad(f)(x32)
    for key in ("imag", "np_imag"):
        np.testing.assert_array_equal(seen[key], np.zeros(4, np.float32))
        assert seen[key].dtype == np.float32 and not seen[key].flags.writeable
    assert seen["scalar"] == 0 and seen["scalar"].dtype == np.float32
    assert np.imag(x32).flags.writeable is False              # as NumPy's own


# ------------------------------------------------------------------- registry and abstract

NEW_NUMPY = ["tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "arcsinh",
             "arccosh", "arctanh", "log1p", "expm1", "log2", "log10", "exp2", "logaddexp",
             "logaddexp2", "hypot", "sinc", "deg2rad", "rad2deg", "radians", "degrees", "cbrt",
             "floor", "ceil", "rint", "trunc", "round", "around", "remainder", "fmod", "fmax",
             "fmin", "nan_to_num", "real", "imag", "conjugate", "floor_divide", "divmod",
             "isfinite", "isnan", "isinf"]


def test_new_functions_are_listed_as_supported():
    supported = set(costad.supported_numpy())
    assert [name for name in NEW_NUMPY if f"numpy.{name}" not in supported] == []


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "rint", "round", "floor_divide",
                                  "isfinite", "isnan", "isinf"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_piecewise_constant_abstract_rules(name, dtype):
    prim = P.PRIMITIVES[name]
    assert not prim.differentiable and prim.jvp is None and prim.vjp is None
    args = [uniform(-3, 3, 2, 3, dtype=dtype)] + ([uniform(1, 2, 3, dtype=dtype)]
                                                  if name == "floor_divide" else [])
    real = prim.impl(*args)
    abstract = prim.abstract(*[costad.ShapeDtype(a.shape, a.dtype) for a in args])
    assert abstract == costad.ShapeDtype(real.shape, real.dtype)


# -------------------------------------------------------------------- random programs

# Each step keeps its argument in the function's safe domain, so that central differences
# are accurate: arguments are squashed with tanh or shifted, never near a jump.
PROGRAM_UNARY = {
    "tan": lambda a: np.tan(np.tanh(a)), "arcsin": lambda a: np.arcsin(0.9 * np.tanh(a)),
    "arccos": lambda a: np.arccos(0.9 * np.tanh(a)), "arctan": np.arctan,
    "sinh": lambda a: np.sinh(np.tanh(a)), "cosh": lambda a: np.cosh(np.tanh(a)),
    "arcsinh": np.arcsinh, "arccosh": lambda a: np.arccosh(a * a + 1.5),
    "arctanh": lambda a: np.arctanh(0.9 * np.tanh(a)), "log1p": lambda a: np.log1p(a * a),
    "expm1": lambda a: np.expm1(np.tanh(a)), "log2": lambda a: np.log2(a * a + 0.5),
    "log10": lambda a: np.log10(a * a + 0.5), "exp2": lambda a: np.exp2(np.tanh(a)),
    "cbrt": lambda a: np.cbrt(a * a + 0.5), "sinc": lambda a: np.sinc(np.tanh(a)),
    "deg2rad": np.deg2rad, "rad2deg": lambda a: np.rad2deg(a) / 100.0,
    "nan_to_num": np.nan_to_num, "real": lambda a: np.real(a) + a.imag,
    "conj": lambda a: a.conj(),
}
# fmax and fmin have a kink where their arguments are equal, and central differences there
# average the two one-sided derivatives (hypothesis found fmax(2 tanh(x + 0.5), x + 0.5) at
# x = -0.5). A plain evaluation records how far each fmax/fmin was from its kink; points
# closer than KINK_CLEARANCE are not differentiable points and are left out (`assume`).
KINK_CLEARANCE = 1e-4
_kink_gaps: list[float] = []


def _kink_at(a, b):
    """``b`` unchanged; on plain NumPy values, the distance from ``a`` recorded."""
    if not isinstance(a, costad.core.Tracer) and not isinstance(b, costad.core.Tracer):
        _kink_gaps.append(float(np.min(np.abs(np.asarray(a) - np.asarray(b)))))
    return b


PROGRAM_BINARY = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b,
    "arctan2": lambda a, b: np.arctan2(a, b * b + 0.5), "hypot": lambda a, b: np.hypot(a, b + 3.0),
    "logaddexp": np.logaddexp, "logaddexp2": np.logaddexp2,
    "fmax": lambda a, b: np.fmax(a, _kink_at(a, b + 0.5)),
    "fmin": lambda a, b: np.fmin(a, _kink_at(a, b - 0.5)),
    # remainders far from their jumps: quotient 1 (mod) and -1 (fmod), remainder in (2, 6)
    "mod": lambda a, b: (np.tanh(a) + 12.0) % (8.0 + 0.1 * np.tanh(b)),
    "fmod": lambda a, b: np.fmod(-12.0 - np.tanh(a), 8.0 + 0.1 * np.tanh(b)),
}

step = st.one_of(
    st.tuples(st.just("u"), st.sampled_from(sorted(PROGRAM_UNARY)), st.integers(0, 99)),
    st.tuples(st.just("b"), st.sampled_from(sorted(PROGRAM_BINARY)), st.integers(0, 99),
              st.integers(0, 99)),
    st.tuples(st.just("sum"), st.just(""), st.integers(0, 99)),
)


def build(program):
    """Steps over a growing list of values; each value is squashed back to (-2, 2) by tanh
    after every step, so that no step leaves its safe domain; the output is a sum."""
    def f(x):
        values = [x]
        for kind, name, *refs in program:
            a = values[refs[0] % len(values)]
            if kind == "u":
                out = PROGRAM_UNARY[name](a)
            elif kind == "b":
                out = PROGRAM_BINARY[name](a, values[refs[1] % len(values)])
            else:
                out = np.sum(a) * 0.3
            values.append(2.0 * np.tanh(out))
        return np.sum(values[-1]) + np.sum(values[0])
    return f


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(program=st.lists(step, min_size=1, max_size=8),
       x=st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=4))
def test_random_elementwise_programs_agree_across_modes(program, x):
    x = np.array(x)
    f = build(program)
    _kink_gaps.clear()
    f(x)
    assume(min(_kink_gaps, default=math.inf) > KINK_CLEARANCE)
    g_rev = costad.grad(f)(x)
    g_fwd = costad.grad(f, mode="forward")(x)
    scale = 1.0 + np.abs(g_rev).max()
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-10, atol=1e-11 * scale)
    g_fd = costad.grad(f, mode="fd-central")(x)
    np.testing.assert_allclose(g_fd, g_rev, rtol=1e-5, atol=1e-6 * scale)
    value, _ = costad.vjp(f, x)
    assert value == pytest.approx(f(x), rel=1e-12, abs=1e-12)
