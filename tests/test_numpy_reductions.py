"""Reductions, scans and statistics (issue 11 Part B): prod, cumsum, cumprod, diff, var,
std, average, ptp, trace and numpy.linalg.norm, as NumPy functions and ndarray methods.

For each: NumPy's values; gradients that agree in all four modes; exact counts against
their closed forms (the function's and its derivative rules'); float32 kept; exact
derivatives where x has zeros; stated derivatives at non-differentiable points; nested
derivatives; the named error for what stays out."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import costad
from costad import core
from costad.primitives import reductions as R

MODES = costad.MODES
RNG = np.random.default_rng(11)
INF = np.inf


def _weights_for(y):
    """Fixed, distinct weights turning any output into a scalar loss."""
    return np.cos(np.arange(np.size(y)) + 1.0).reshape(np.shape(y))


def _loss(f):
    def loss(t):
        y = f(t)
        return np.sum(y * _weights_for(y))
    return loss


def _costad_value(f, x):
    """f evaluated by costad (boxed inputs inside a counting block), and its count."""
    with costad.counting() as c:
        value = costad.counted(f)(x)
    return value, c.by_op


# ------------------------------------------------------- functions, methods, all modes

# (id, f, input shape): every function in its NumPy and method forms, axes, keepdims, ddof.
CASES = [
    ("prod", lambda t: np.prod(t), (3, 4)),
    ("prod-axis", lambda t: np.prod(t, axis=1), (3, 4)),
    ("prod-axes-keepdims", lambda t: np.prod(t, axis=(0, 2), keepdims=True), (2, 3, 2)),
    ("prod-method", lambda t: t.prod(-1), (3, 4)),
    ("cumsum", lambda t: np.cumsum(t), (3, 4)),
    ("cumsum-axis", lambda t: np.cumsum(t, axis=0), (3, 4)),
    ("cumsum-method", lambda t: t.cumsum(axis=-1), (2, 3, 2)),
    ("cumprod", lambda t: np.cumprod(t), (2, 3)),
    ("cumprod-axis", lambda t: np.cumprod(t, axis=1), (3, 4)),
    ("cumprod-method", lambda t: t.cumprod(0), (3, 4)),
    ("diff", lambda t: np.diff(t), (3, 4)),
    ("diff-n-axis", lambda t: np.diff(t, n=2, axis=0), (4, 3)),
    ("diff-prepend-append", lambda t: np.diff(t, axis=1, prepend=1.5, append=t[:, :1]),
     (3, 4)),
    ("var", lambda t: np.var(t), (3, 4)),
    ("var-axis-ddof", lambda t: np.var(t, axis=0, ddof=1), (3, 4)),
    ("var-method-keepdims", lambda t: t.var(axis=(0, 2), keepdims=True, ddof=2), (2, 3, 2)),
    ("std", lambda t: np.std(t), (3, 4)),
    ("std-axis-ddof", lambda t: np.std(t, axis=1, ddof=1, keepdims=True), (3, 4)),
    ("std-method", lambda t: t.std(0), (3, 4)),
    ("average", lambda t: np.average(t, axis=1), (3, 4)),
    ("average-weights-1d", lambda t: np.average(t, axis=1, weights=np.arange(1.0, 5.0)),
     (3, 4)),
    ("average-weights-full", lambda t: np.average(t, weights=np.arange(1.0, 13.0)
                                                  .reshape(3, 4)), (3, 4)),
    ("average-weights-axes", lambda t: np.average(t, axis=(2, 0), weights=np.arange(1.0, 5.0)
                                                  .reshape(2, 2), keepdims=True), (2, 3, 2)),
    ("average-traced-weights", lambda t: np.average(np.arange(12.0).reshape(3, 4), axis=0,
                                                    weights=t * t + 1.0), (3, 4)),
    ("ptp", lambda t: np.ptp(t), (3, 4)),
    ("ptp-axis-keepdims", lambda t: np.ptp(t, axis=0, keepdims=True), (3, 4)),
    ("trace", lambda t: np.trace(t), (3, 4)),
    ("trace-offset", lambda t: np.trace(t, offset=-1), (4, 3)),
    ("trace-axes", lambda t: np.trace(t, 1, axis1=2, axis2=0), (3, 2, 4)),
    ("trace-method", lambda t: t.trace(), (2, 3, 3)),
    ("norm", lambda t: np.linalg.norm(t), (3, 4)),
    ("norm-2-axis", lambda t: np.linalg.norm(t, 2, axis=1), (3, 4)),
    ("norm-vector-2", lambda t: np.linalg.norm(t, ord=2), (5,)),
    ("norm-1", lambda t: np.linalg.norm(t, ord=1, axis=0, keepdims=True), (3, 4)),
    ("norm-inf", lambda t: np.linalg.norm(t, ord=INF), (5,)),
    ("norm-minus-inf", lambda t: np.linalg.norm(t, ord=-INF, axis=-1), (3, 4)),
    ("norm-fro", lambda t: np.linalg.norm(t, "fro"), (3, 4)),
    ("norm-fro-axes", lambda t: np.linalg.norm(t, "fro", axis=(2, 0), keepdims=True),
     (2, 3, 2)),
    ("norm-matrix-1", lambda t: np.linalg.norm(t, 1), (3, 4)),
    ("norm-matrix-minus-1", lambda t: np.linalg.norm(t, -1, axis=(0, 1)), (3, 4)),
    ("norm-matrix-inf", lambda t: np.linalg.norm(t, INF, axis=(1, 0)), (3, 4)),
    ("norm-matrix-minus-inf", lambda t: np.linalg.norm(t, -INF, axis=(0, 2)), (3, 2, 4)),
]
if hasattr(np, "cumulative_sum"):
    CASES += [
        ("cumulative_sum", lambda t: np.cumulative_sum(t, axis=1, include_initial=True),
         (3, 4)),
        ("cumulative_prod", lambda t: np.cumulative_prod(t, axis=0), (3, 4)),
    ]
if hasattr(np.linalg, "vector_norm"):
    CASES += [
        ("vector_norm", lambda t: np.linalg.vector_norm(t), (3, 4)),
        ("vector_norm-axes-1", lambda t: np.linalg.vector_norm(t, axis=(2, 0), ord=1,
                                                               keepdims=True), (2, 3, 2)),
        ("vector_norm-inf", lambda t: np.linalg.vector_norm(t, axis=(0, 1), ord=INF),
         (3, 2, 2)),
        ("matrix_norm", lambda t: np.linalg.matrix_norm(t), (2, 3, 2)),
        ("matrix_norm-inf", lambda t: np.linalg.matrix_norm(t, ord=INF, keepdims=True),
         (2, 3, 2)),
    ]
CASE_IDS = [c[0] for c in CASES]


def _input(shape, dtype=np.float64):
    # Distinct values away from 0 and from each other (no ties, no kinks of |x|).
    x = RNG.uniform(0.5, 1.5, shape) * RNG.choice([-1.0, 1.0], shape)
    return x.astype(dtype)


@pytest.mark.parametrize("name,f,shape", CASES, ids=CASE_IDS)
def test_values_equal_numpys(name, f, shape):
    x = _input(shape)
    value, _ = _costad_value(f, x)
    expected = f(x)                                  # plain NumPy
    assert np.shape(value) == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name,f,shape", CASES, ids=CASE_IDS)
def test_gradients_agree_in_every_mode(name, f, shape):
    x = _input(shape)
    loss = _loss(f)
    g = {mode: costad.grad(loss, mode=mode)(x) for mode in MODES}
    scale = 1.0 + np.abs(g["reverse"]).max()
    np.testing.assert_allclose(g["forward"], g["reverse"], rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_allclose(g["fd-central"], g["reverse"], rtol=1e-6, atol=1e-7 * scale)
    np.testing.assert_allclose(g["fd"], g["reverse"], rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("name,f,shape", CASES, ids=CASE_IDS)
def test_float32_stays_float32(name, f, shape):
    x = _input(shape, np.float32)
    value, _ = _costad_value(f, x)
    assert np.asarray(value).dtype == np.asarray(f(x)).dtype
    for mode in ("forward", "reverse"):
        g = costad.grad(_loss(f), mode=mode)(x)
        assert g.dtype == np.float32
        g64 = costad.grad(_loss(f), mode=mode)(x.astype(np.float64))
        np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-5 * (1 + np.abs(g64).max()))


@pytest.mark.parametrize("method,function,kwargs", [
    ("prod", np.prod, dict(axis=1, keepdims=True)), ("cumsum", np.cumsum, dict(axis=0)),
    ("cumprod", np.cumprod, {}), ("var", np.var, dict(ddof=1)),
    ("std", np.std, dict(axis=(0, 1))), ("trace", np.trace, dict(offset=1)),
    ("sum", np.sum, dict(axis=0)), ("mean", np.mean, dict(keepdims=True)),
    ("max", np.max, dict(axis=1)), ("min", np.min, {})])
def test_methods_equal_the_numpy_functions_in_value_count_and_gradient(method, function,
                                                                        kwargs):
    x = _input((3, 4))
    via_method = lambda t: getattr(t, method)(**kwargs)                 # noqa: E731
    via_function = lambda t: function(t, **kwargs)                      # noqa: E731
    (v1, c1), (v2, c2) = _costad_value(via_method, x), _costad_value(via_function, x)
    np.testing.assert_array_equal(v1, v2)
    assert c1 == c2
    np.testing.assert_array_equal(costad.grad(_loss(via_method))(x),
                                  costad.grad(_loss(via_function))(x))


def test_every_function_is_listed_as_supported():
    names = set(costad.supported_numpy())
    assert {"numpy.prod", "numpy.cumsum", "numpy.cumprod", "numpy.diff", "numpy.var",
            "numpy.std", "numpy.average", "numpy.ptp", "numpy.trace",
            "numpy.linalg.norm"} <= names


# ------------------------------------------------------------------ exact closed forms

def _cost(f, x):
    return costad.count(f, x).by_op


def _nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}


def _split(shape, axis):
    """N elements per output, L outputs, for a reduction of ``shape`` over ``axis``."""
    axes = range(len(shape)) if axis is None else (
        [axis] if isinstance(axis, int) else list(axis))
    n = math.prod(shape[a] for a in axes)
    return n, math.prod(shape) // n if n else 0


REDUCTION_SHAPES = [((7,), None), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), (0, 2)),
                    ((2, 3, 4), None), ((1, 5), 0), ((3, 1), 1)]


@pytest.mark.parametrize("shape,axis", REDUCTION_SHAPES)
def test_prod_costs_n_minus_1_muls_per_output(shape, axis):
    n, lanes = _split(shape, axis)
    assert _cost(lambda t: np.prod(t, axis=axis), _input(shape)) == _nonzero(
        {"mul": lanes * (n - 1)})


@pytest.mark.parametrize("shape,axis", [((7,), None), ((3, 4), None), ((3, 4), 0),
                                        ((3, 4), 1), ((2, 3, 4), -2), ((1,), 0)])
@pytest.mark.parametrize("fname,kind", [("cumsum", "add"), ("cumprod", "mul")])
def test_scans_cost_n_minus_1_per_lane(fname, kind, shape, axis):
    size = math.prod(shape)
    n = size if axis is None else shape[axis]
    assert _cost(lambda t: getattr(np, fname)(t, axis=axis), _input(shape)) == _nonzero(
        {kind: size - size // n})


@pytest.mark.parametrize("shape,axis,n,pre,app", [((6,), -1, 1, 0, 0), ((6,), 0, 3, 0, 0),
                                                  ((3, 5), 0, 2, 1, 0), ((3, 5), 1, 2, 1, 2),
                                                  ((3, 4), 1, 6, 0, 1)])
def test_diff_costs_m_minus_1_subs_per_pass(shape, axis, n, pre, app):
    kwargs = {}
    if pre:
        kwargs["prepend"] = 1.0
    if app:
        kwargs["append"] = np.ones(shape[:axis % 2] + (app,) + shape[axis % 2 + 1:]
                                   if len(shape) == 2 else (app,))
    m = shape[axis] + pre + app
    lanes = math.prod(shape) // shape[axis]
    subs = sum(lanes * max(m - j - 1, 0) for j in range(n))
    assert _cost(lambda t: np.diff(t, n=n, axis=axis, **kwargs), _input(shape)) == _nonzero(
        {"sub": subs})


@pytest.mark.parametrize("shape,axis", REDUCTION_SHAPES)
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_and_std_closed_forms(shape, axis, ddof):
    n, lanes = _split(shape, axis)
    var = {"add": 2 * lanes * (n - 1), "sub": n * lanes, "mul": n * lanes, "div": 2 * lanes}
    x = _input(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # n - ddof = 0 for n = 1
        assert _cost(lambda t: np.var(t, axis=axis, ddof=ddof), x) == _nonzero(var)
        assert _cost(lambda t: np.std(t, axis=axis, ddof=ddof), x) == _nonzero(
            dict(var, sqrt=lanes, equal=lanes))


def test_var_with_a_given_mean_skips_the_means_work():
    x = _input((3, 4))
    m = np.mean(x, axis=1, keepdims=True)
    assert _cost(lambda t: np.var(t, axis=1, mean=m), x) == {
        "add": 3 * 3, "sub": 12, "mul": 12, "div": 3}
    np.testing.assert_allclose(_costad_value(lambda t: np.var(t, axis=1, mean=m), x)[0],
                               np.var(x, axis=1), rtol=1e-14)


@pytest.mark.parametrize("shape,axis", REDUCTION_SHAPES)
def test_ptp_costs_a_max_a_min_and_a_sub(shape, axis):
    n, lanes = _split(shape, axis)
    assert _cost(lambda t: np.ptp(t, axis=axis), _input(shape)) == _nonzero(
        {"max": lanes * (n - 1), "min": lanes * (n - 1), "sub": lanes})


def test_average_closed_forms():
    x = _input((3, 4))
    # unweighted: the mean
    assert _cost(lambda t: np.average(t, axis=1), x) == {"add": 9, "div": 3}
    # 1-D weights along the axis: sum(w) once (3 adds), numerator 3 x 3 adds
    assert _cost(lambda t: np.average(t, axis=1, weights=np.arange(1.0, 5.0)), x) == {
        "mul": 12, "add": 9 + 3, "div": 3}
    # full weights: both sums over every output
    w = np.arange(1.0, 13.0).reshape(3, 4)
    assert _cost(lambda t: np.average(t, axis=0, weights=w), x) == {
        "mul": 12, "add": 2 * 4 * 2, "div": 4}
    assert _cost(lambda t: np.average(t, weights=w), x) == {"mul": 12, "add": 22, "div": 1}


@pytest.mark.parametrize("shape,kwargs,d", [((3, 4), {}, 3), ((4, 3), dict(offset=-1), 3),
                                            ((3, 4), dict(offset=3), 1),
                                            ((3, 4), dict(offset=9), 0),
                                            ((2, 3, 4), dict(axis1=1, axis2=2), 3),
                                            ((5, 2, 5), dict(axis1=2, axis2=0), 5)])
def test_trace_costs_d_minus_1_adds_per_output(shape, kwargs, d):
    x = _input(shape)
    lanes = np.trace(x, **kwargs).size
    assert _cost(lambda t: np.trace(t, **kwargs), x) == _nonzero({"add": lanes * max(d - 1, 0)})


@pytest.mark.parametrize("ord_,axis,expected", [
    (None, None, {"mul": 12, "add": 11, "sqrt": 1, "equal": 1}),
    (2, 1, {"mul": 12, "add": 9, "sqrt": 3, "equal": 3}),
    ("fro", None, {"mul": 12, "add": 11, "sqrt": 1, "equal": 1}),
    (1, 0, {"abs": 12, "add": 8}),
    (INF, 1, {"abs": 12, "max": 9}),
    (-INF, 0, {"abs": 12, "min": 8}),
    (1, None, {"abs": 12, "add": 8, "max": 3}),          # largest column sum
    (INF, None, {"abs": 12, "add": 9, "max": 2}),        # largest row sum
    (-1, (0, 1), {"abs": 12, "add": 8, "min": 3}),
])
def test_norm_closed_forms(ord_, axis, expected):
    assert _cost(lambda t: np.linalg.norm(t, ord_, axis), _input((3, 4))) == expected


# ---------------------------------------------------------------- derivative rule costs

def _pullback_cost(f, x):
    """The counted cost of one backward sweep: for f a single primitive of x, exactly its
    VJP rule (the seed and the first contribution to x's adjoint are free)."""
    value, pullback = costad.vjp(f, x)
    ct = _weights_for(value)
    with costad.counting() as c:
        g = pullback(ct)
    return c.by_op, g


def _push_cost(f, x):
    """The counted cost of a JVP beyond the function's own: the JVP rule."""
    function = costad.count(f, x).by_op
    with costad.counting() as c:
        costad.jvp(f, x, _input(np.shape(x)))
    return _nonzero({k: v - function.get(k, 0) for k, v in c.by_op.items()})


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_prod_rules_cost_3n_minus_4_muls(n):
    lanes = 2
    x = _input((lanes, n))
    f = lambda t: R.prod(t, axis=(1,))                                      # noqa: E731
    assert _pullback_cost(f, x)[0] == _nonzero({"mul": lanes * (3 * n - 4) if n > 1 else 0})
    assert _push_cost(f, x) == _nonzero({"mul": lanes * (3 * n - 4) if n > 1 else 0,
                                         "add": lanes * (n - 1)})


@pytest.mark.parametrize("n", [1, 2, 5])
def test_cumprod_rules_cost_2_n_minus_1_mul_and_n_minus_1_add(n):
    lanes = 3
    x = _input((n, lanes))
    f = lambda t: R.cumprod(t, axis=0)                                      # noqa: E731
    expected = _nonzero({"mul": 2 * lanes * (n - 1), "add": lanes * (n - 1)})
    assert _pullback_cost(f, x)[0] == expected
    assert _push_cost(f, x) == expected


@pytest.mark.parametrize("n", [1, 4])
def test_cumsum_rules_cost_n_minus_1_adds(n):
    x = _input((2, n))
    f = lambda t: R.cumsum(t, axis=1)                                       # noqa: E731
    assert _pullback_cost(f, x)[0] == _push_cost(f, x) == _nonzero({"add": 2 * (n - 1)})


def test_linear_recurrence_rule_costs():
    a, b = _input((2, 4)), _input((2, 5))
    s = a.size
    f = lambda ab: R.linear_recurrence(ab[0], ab[1], axis=1)                # noqa: E731
    # VJP: the adjoint recurrence (s mul, s add), then s mul for a
    assert _pullback_cost(f, [a, b])[0] == {"mul": 2 * s, "add": s}
    assert _pullback_cost(lambda bb: R.linear_recurrence(a, bb, axis=1), b)[0] == {
        "mul": s, "add": s}
    # JVP: the right side da*y + db (s mul, s add), then the recurrence (s mul, s add)
    function = costad.count(f, [a, b]).by_op
    assert function == {"mul": s, "add": s}
    with costad.counting() as c:
        costad.jvp(f, [a, b], [_input(a.shape), _input(b.shape)])
    assert c.by_op == {"mul": 3 * s, "add": 3 * s}


def test_linear_recurrence_values():
    a, b = _input((3, 2)), _input((4, 2))
    y = R.linear_recurrence(a, b, axis=0)
    expected = [b[0]]
    for k in range(1, 4):
        expected.append(a[k - 1] * expected[-1] + b[k])
    np.testing.assert_allclose(y, np.array(expected), rtol=1e-15)
    with pytest.raises(costad.ShapeError):
        R.linear_recurrence(b, b, axis=0)


def test_linear_recurrence_one_lane_path_equals_the_general_one():
    # A single lane of float64 runs on Python floats: the same IEEE roundings, bit for bit.
    a, b = _input((40,)), _input((41,))
    two_lanes = R.linear_recurrence(np.stack([a, a], axis=1), np.stack([b, b], axis=1),
                                    axis=0)
    np.testing.assert_array_equal(R.linear_recurrence(a, b, axis=0), two_lanes[:, 0])
    np.testing.assert_array_equal(R.linear_recurrence(a[None], b[None], axis=1)[0],
                                  two_lanes[:, 1])


# --------------------------------------------------------------- zeros, ties and kinks

@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("x,expected", [
    ([2.0, 0.0, 3.0, 4.0], [0.0, 24.0, 0.0, 0.0]),      # one zero: the others' product
    ([2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]),       # two zeros: all zero
    ([0.0], [1.0]),
    ([5.0, 0.0], [0.0, 5.0]),
])
def test_prod_gradient_is_exact_with_zeros(mode, x, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no division by zero anywhere
        g = costad.grad(np.prod, mode=mode)(np.array(x))
    np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_cumprod_jacobian_is_exact_with_zeros(mode):
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    # d out_k / d x_i = prod_{j <= k, j != i} x_j for i <= k
    expected = np.zeros((5, 5))
    for k in range(5):
        for i in range(k + 1):
            expected[k, i] = np.prod([x[j] for j in range(k + 1) if j != i])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = costad.jacobian(np.cumprod, mode=mode)(x)
    np.testing.assert_array_equal(J, expected)


@pytest.mark.parametrize("mode", ["forward", "reverse", "fd-central"])
@pytest.mark.parametrize("f", [lambda t: np.linalg.norm(t),
                               lambda t: np.linalg.norm(t, axis=0).sum(),
                               lambda t: np.linalg.norm(t, "fro"),
                               lambda t: np.linalg.norm(t, 1),
                               lambda t: np.linalg.norm(t, INF),
                               lambda t: np.std(t),
                               lambda t: np.ptp(t, axis=1).sum()])
def test_norm_like_functions_have_gradient_zero_at_zero_not_nan(mode, f):
    x = np.zeros((3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = costad.grad(f, mode=mode)(x)
    np.testing.assert_array_equal(g, np.zeros((3, 2)))


@pytest.mark.parametrize("mode", ["forward", "reverse", "fd-central"])
def test_std_of_a_constant_slice_has_gradient_zero(mode):
    x = np.array([[1.5, 1.5, 1.5], [1.0, 2.0, 4.0]])
    g = costad.grad(lambda t: np.sum(np.std(t, axis=1)), mode=mode)(x)
    np.testing.assert_allclose(g[0], 0.0, atol=1e-9)
    d = x[1] - x[1].mean()
    np.testing.assert_allclose(g[1], d / (3 * np.std(x[1])), rtol=1e-6)


def test_second_derivative_of_the_2_norm_at_zero_is_zero_not_nan():
    hv = costad.hvp(lambda t: np.linalg.norm(t), np.zeros(3), np.ones(3))
    np.testing.assert_array_equal(hv, np.zeros(3))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_ties_share_the_derivative_equally(mode):
    x = np.array([3.0, -3.0, 1.0, 3.0])
    g = costad.grad(lambda t: np.linalg.norm(t, INF), mode=mode)(x)
    np.testing.assert_allclose(g, [1 / 3, -1 / 3, 0.0, 1 / 3])
    g = costad.grad(lambda t: np.linalg.norm(t, -INF), mode=mode)(np.array([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(g, [0.5, -0.5, 0.0])
    g = costad.grad(np.ptp, mode=mode)(np.array([2.0, 0.0, 2.0, 0.0, 1.0]))
    np.testing.assert_allclose(g, [0.5, -0.5, 0.5, -0.5, 0.0])


# ---------------------------------------------------------------------- nested modes

NESTED = [
    ("prod", lambda t: np.prod(t, axis=1).sum()),
    ("cumprod", lambda t: np.sum(np.cumprod(t, axis=0) * _weights_for(t))),
    ("cumsum", lambda t: np.sum(np.cumsum(t) ** 2)),
    ("var", lambda t: np.sum(np.var(t, axis=0, ddof=1) ** 2)),
    ("std", lambda t: np.sum(np.std(t, axis=1))),
    ("average", lambda t: np.average(t * t, axis=1, weights=t[0] ** 2 + 1.0).sum()),
    ("ptp", lambda t: np.sum(np.ptp(t, axis=0) ** 2)),
    ("trace", lambda t: np.trace(t) ** 2),
    ("diff", lambda t: np.sum(np.diff(t, n=2) ** 3)),
    ("norm", lambda t: np.linalg.norm(t) * np.linalg.norm(t, 1, axis=1).sum()),
]


@pytest.mark.parametrize("name,f", NESTED, ids=[n for n, _ in NESTED])
def test_nested_derivatives_forward_over_reverse_and_reverse_over_forward(name, f):
    x, v = _input((3, 3)), _input((3, 3))
    fwd_over_rev = costad.hvp(f, x, v)
    rev_over_fwd = costad.grad(lambda t: costad.jvp(f, t, v)[1])(x)
    rev_over_rev = costad.grad(lambda t: np.sum(costad.grad(f)(t) * v))(x)
    h = 1e-5
    g = costad.grad(f)
    central = (g(x + h * v) - g(x - h * v)) / (2 * h)
    scale = 1.0 + np.abs(central).max()
    np.testing.assert_allclose(rev_over_fwd, fwd_over_rev, rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(rev_over_rev, fwd_over_rev, rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(central, fwd_over_rev, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("outer", MODES)
@pytest.mark.parametrize("inner", MODES)
def test_prod_second_derivatives_in_every_mode_pair(outer, inner):
    x = np.array([2.0, 0.0, 3.0, 4.0])
    steps = dict(step=1e-4) if outer.startswith("fd") and inner.startswith("fd") else {}
    row = costad.grad(lambda t: costad.grad(np.prod, mode=inner, **steps)(t)[1], mode=outer,
                      **steps)(x)
    # d/dx_j of prod_{k != 1} x_k, exact even at the zero
    tol = 1e-4 if (outer.startswith("fd") or inner.startswith("fd")) else 1e-14
    np.testing.assert_allclose(row, [12.0, 0.0, 8.0, 6.0], rtol=tol, atol=tol)


# ---------------------------------------------------------------- hostile inputs, edges

def test_nan_and_inf_propagate_as_in_numpy():
    x = np.array([[1.0, np.nan, 2.0], [np.inf, 1.0, 3.0]])
    for f in (lambda t: np.prod(t, axis=1), lambda t: np.cumsum(t, axis=1),
              lambda t: np.cumprod(t), lambda t: np.var(t, axis=1),
              lambda t: np.linalg.norm(t, axis=1), lambda t: np.ptp(t, axis=1),
              lambda t: np.diff(t)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            np.testing.assert_array_equal(_costad_value(f, x)[0], f(x))


@pytest.mark.parametrize("f,shape", [
    (lambda t: np.prod(t), (0,)), (lambda t: np.prod(t, axis=0), (0, 3)),
    (lambda t: np.cumsum(t), (0, 2)), (lambda t: np.cumprod(t, axis=1), (3, 0)),
    (lambda t: np.diff(t, n=3), (2,)), (lambda t: np.diff(t, axis=0), (0, 2)),
    (lambda t: np.linalg.norm(t), (0,)), (lambda t: np.linalg.norm(t, 1, axis=0), (0, 2)),
    (lambda t: np.linalg.norm(t, INF, axis=0), (0, 2)),
    (lambda t: np.linalg.norm(t, "fro"), (0, 3)), (lambda t: np.linalg.norm(t, 1), (3, 0)),
    (lambda t: np.trace(t), (0, 4)), (lambda t: np.var(t, axis=1), (0, 3)),
    (lambda t: np.ptp(t, axis=1), (0, 3)),
])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_empty_arrays_give_numpys_values_and_empty_or_zero_gradients(f, shape, mode):
    x = np.zeros(shape)
    value, _ = _costad_value(f, x)
    np.testing.assert_array_equal(value, f(x))
    assert np.shape(value) == np.shape(f(x))
    g = costad.grad(lambda t: np.sum(f(t)), mode=mode)(x)
    assert g.shape == shape and not np.any(g)


def test_variance_of_an_empty_slice_is_nan_with_numpys_warning():
    x = np.zeros((0, 3))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), \
            np.errstate(invalid="ignore"):
        value, _ = _costad_value(lambda t: np.var(t, axis=0), x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(value, np.var(x, axis=0))


def test_ddof_at_least_n_gives_numpys_inf_and_warning():
    x = np.array([1.0, 2.0])
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), \
            np.errstate(divide="ignore"):
        value, _ = _costad_value(lambda t: np.var(t, ddof=2), x)
    assert value == np.inf


@pytest.mark.parametrize("f", [lambda t: np.prod(t), lambda t: np.cumsum(t),
                               lambda t: np.cumprod(t, axis=0), lambda t: np.var(t),
                               lambda t: np.std(t), lambda t: np.ptp(t),
                               lambda t: np.linalg.norm(t), lambda t: np.average(t),
                               lambda t: np.cumsum(t, axis=-1)])
@pytest.mark.parametrize("mode", MODES)
def test_zero_dimensional_inputs(f, mode):
    x = np.float64(-1.5)
    value, _ = _costad_value(f, x)
    np.testing.assert_array_equal(value, f(x))
    g = costad.grad(lambda t: np.sum(f(t)), mode=mode)(x)
    expected = costad.grad(lambda t: np.sum(f(t)), mode="fd-central")(x)
    assert g == pytest.approx(expected, abs=1e-6)


def test_repeated_values_in_cumprod_and_prod():
    x = np.full(4, 2.0)
    np.testing.assert_allclose(costad.grad(np.prod)(x), np.full(4, 8.0))
    J = costad.jacobian(np.cumprod, mode="reverse")(x)
    np.testing.assert_allclose(J, np.tril(np.array([[2.0 ** k] * 4 for k in range(4)])))


def test_average_returned_gives_the_sum_of_weights_like_numpy():
    x = _input((3, 4))
    w = np.arange(1.0, 5.0)
    for kwargs in (dict(axis=1, weights=w), dict(axis=1), dict(), dict(weights=x * 0 + 2.0)):
        (avg, scl), _ = _costad_value(lambda t: np.average(t, returned=True, **kwargs), x)
        e_avg, e_scl = np.average(x, returned=True, **kwargs)
        np.testing.assert_allclose(avg, e_avg, rtol=1e-14)
        np.testing.assert_array_equal(scl, e_scl)
        assert np.shape(scl) == np.shape(e_scl)
    # the sum of traced weights is differentiable: d sum(w) / dw = 1
    g = costad.grad(lambda t: np.average(x, axis=1, weights=t, returned=True)[1].sum())(w)
    np.testing.assert_array_equal(g, np.full(4, 3.0))


def test_average_with_plain_input_and_traced_weights_dispatches():
    x = [[1.0, 2.0, 4.0], [3.0, 0.0, 1.0]]
    w = np.array([1.0, 2.0, 3.0])
    g = costad.grad(lambda t: np.average(x, axis=1, weights=t).sum())(w)
    expected = costad.grad(lambda t: np.average(x, axis=1, weights=t).sum(), mode="fd-central")(w)
    np.testing.assert_allclose(g, expected, rtol=1e-7)


# -------------------------------------------------------------------- the named errors

@pytest.mark.parametrize("use,words", [
    (lambda t: np.linalg.norm(t[0], 3), ["numpy.linalg.norm", "ord=3", "vectors"]),
    (lambda t: np.linalg.norm(t[0], 0), ["numpy.linalg.norm", "ord=0"]),
    (lambda t: np.linalg.norm(t, "nuc"), ["numpy.linalg.norm", "ord='nuc'"]),
    (lambda t: np.linalg.norm(t, 2), ["numpy.linalg.norm", "ord=2", "matrices"]),
    (lambda t: np.linalg.norm(t, -2, axis=(0, 1)), ["numpy.linalg.norm", "ord=-2"]),
    (lambda t: np.prod(t, dtype=np.float32), ["numpy.prod", "dtype"]),
    (lambda t: np.prod(t, 0, np.float32), ["numpy.prod", "dtype"]),
    (lambda t: np.sum(t, 0, float), ["numpy.sum", "dtype"]),
    (lambda t: np.max(t, 0, None, False, 0.0), ["numpy.max", "initial"]),
    (lambda t: np.cumsum(t, 0, float), ["numpy.cumsum", "dtype"]),
    (lambda t: t.cumprod(out=np.zeros(6)), ["out"]),
    (lambda t: np.var(t, where=t > 0), ["where"]),
    (lambda t: t.std(0, float), ["numpy.std", "dtype"]),
    (lambda t: np.trace(t, dtype=float), ["numpy.trace", "dtype"]),
    (lambda t: np.ptp(t, out=np.zeros(())), ["out"]),
    (lambda t: np.var(t, ddof=t[0, 0]), ["numpy.var", "ddof"]),
    (lambda t: np.mean(t, 0, float), ["numpy.mean", "dtype"]),
] + ([
    (lambda t: np.linalg.vector_norm(t, ord=3), ["numpy.linalg.vector_norm", "ord=3"]),
    (lambda t: np.linalg.matrix_norm(t, ord="nuc"), ["numpy.linalg.matrix_norm", "'nuc'"]),
] if hasattr(np.linalg, "vector_norm") else []))
def test_unsupported_arguments_are_named(use, words):
    with pytest.raises(costad.UnsupportedOperationError) as err:
        costad.grad(lambda t: np.sum(use(t)))(_input((2, 3)))
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("use,word", [
    (lambda t: np.prod(t, axis=2), "out of bounds"),
    (lambda t: np.cumsum(t, axis=(0, 1)), "integer"),
    (lambda t: np.cumprod(t, axis=-3), "out of bounds"),
    (lambda t: np.var(t, axis=(0, 0)), "repeated"),
    (lambda t: np.std(t, axis=5), "out of bounds"),
    (lambda t: np.diff(t, n=-1), "non-negative"),
    (lambda t: np.diff(t[0, 0]), "at least one dimension"),
    (lambda t: np.diff(t, axis=2), "out of bounds"),
    (lambda t: np.diff(t, axis=0, prepend=np.ones((1, 5))), "concatenate"),
    (lambda t: np.trace(t[0]), "two dimensions"),
    (lambda t: np.trace(t, axis1=1, axis2=-1), "same"),
    (lambda t: np.trace(t, offset=1.5), "offset"),
    (lambda t: np.average(t, weights=np.ones(3)), "axis must be given"),
    (lambda t: np.average(t, axis=0, weights=np.ones(3)), "do not match"),
    (lambda t: np.linalg.norm(t[0], "fro"), "for vectors"),
    (lambda t: np.linalg.norm(t, 3, axis=(0, 1)), "for matrices"),
    (lambda t: np.linalg.norm(t, axis=(0, 0)), "duplicate"),
    (lambda t: np.linalg.norm(t.reshape(1, 2, 3), 1), "improper number of dimensions"),
    (lambda t: np.linalg.norm(t, -INF, axis=1)[:0].sum() + np.linalg.norm(t[:, :0], -INF,
                                                                          axis=1),
     "empty slice"),
    (lambda t: np.ptp(t[:, :0], axis=1), "empty slice"),
    (lambda t: np.var(t, ddof=1, correction=1), "correction"),
])
def test_bad_arguments_give_a_shape_error(use, word):
    with pytest.raises(costad.ShapeError, match=word):
        costad.grad(lambda t: np.sum(use(t)))(_input((2, 3)))


@pytest.mark.skipif(not hasattr(np.linalg, "vector_norm"), reason="NumPy < 2.0")
def test_vector_norm_counts_every_reduced_element_once():
    x = _input((2, 3, 4))
    assert _cost(lambda t: np.linalg.vector_norm(t, axis=(0, 2)), x) == {
        "mul": 24, "add": 3 * 7, "sqrt": 3, "equal": 3}
    assert _cost(lambda t: np.linalg.vector_norm(t, ord=-INF), x) == {"abs": 24, "min": 23}
    with pytest.raises(costad.ShapeError, match="matrix_norm"):
        costad.grad(lambda t: np.linalg.matrix_norm(t[0, 0]))(x)


def test_weights_summing_to_zero_raise_numpys_error():
    with pytest.raises(ZeroDivisionError, match="sum to zero"):
        costad.grad(lambda t: np.average(t, weights=np.array([1.0, -1.0, 0.0])))(np.ones(3))


def test_np_var_correction_is_ddof():
    x = _input((3, 4))
    value, _ = _costad_value(lambda t: np.var(t, axis=1, correction=1), x)
    np.testing.assert_allclose(value, np.var(x, axis=1, ddof=1), rtol=1e-14)


# ----------------------------------------------------------------- abstract evaluation

ABSTRACT = [
    ("prod", lambda t: R._np_prod(t, axis=1)),
    ("cumsum", lambda t: costad.numpy_dispatch.FUNCTIONS[np.cumsum](t, axis=0)),
    ("cumprod", lambda t: costad.numpy_dispatch.FUNCTIONS[np.cumprod](t)),
    ("diff", lambda t: R.diff(t, n=2, prepend=0.0)),
    ("var", lambda t: R.var(t, ddof=1)), ("std", lambda t: R.std(t, axis=1)),
    ("average", lambda t: R.average(t, axis=1, weights=np.arange(1.0, 5.0))),
    ("ptp", lambda t: R.ptp(t)), ("trace", lambda t: R.trace(t, offset=1)),
    ("norm", lambda t: R.norm(t, axis=1)), ("norm-1", lambda t: R.norm(t, 1)),
    ("norm-inf", lambda t: R.norm(t, INF, axis=0)), ("fro", lambda t: R.norm(t)),
]


@pytest.mark.parametrize("name,f", ABSTRACT, ids=[n for n, _ in ABSTRACT])
def test_counts_on_abstract_inputs_equal_concrete_counts(name, f):
    with costad.counting() as concrete:
        value = f(_input((3, 4)))
    with costad.counting() as abstract:
        out = f(costad.ShapeDtype((3, 4)))
    assert abstract == concrete
    assert out == costad.ShapeDtype(np.shape(value), np.asarray(value).dtype)
    for mode in costad.MODES:
        g = costad.value_and_grad(lambda t: np.sum(f(t)), mode=mode)
        assert costad.count(g, costad.ShapeDtype((3, 4))) == costad.count(g, _input((3, 4)))


# ------------------------------------------------------------------- property test

def _closed_form(name, shape, axis, keepdims, ddof):
    """The count of one call, from the cost rules alone (independent of the code)."""
    size = math.prod(shape)
    if name in ("cumsum", "cumprod"):
        n = size if axis is None else shape[axis]
        return {"add" if name == "cumsum" else "mul": size - size // n}
    if name == "diff":
        n = shape[axis]
        return {"sub": size // n * (n - 1)}
    if name == "trace":
        d = min(shape[0], shape[1])
        return {"add": size // (shape[0] * shape[1]) * (d - 1)}
    n, lanes = _split(shape, axis)
    reduce_ = lanes * (n - 1)
    return {
        "prod": {"mul": reduce_},
        "var": {"add": 2 * reduce_, "sub": size, "mul": size, "div": 2 * lanes},
        "std": {"add": 2 * reduce_, "sub": size, "mul": size, "div": 2 * lanes,
                "sqrt": lanes, "equal": lanes},
        "ptp": {"max": reduce_, "min": reduce_, "sub": lanes},
        "average": {"mul": size, "add": 2 * reduce_, "div": lanes},
        "norm2": {"mul": size, "add": reduce_, "sqrt": lanes, "equal": lanes},
        "norm1": {"abs": size, "add": reduce_},
        "norminf": {"abs": size, "max": reduce_},
    }[name]


def _function(name, axis, keepdims, ddof, w):
    vector_axis = axis if axis is None or isinstance(axis, int) else axis[0]
    return {
        "prod": lambda t: np.prod(t, axis=axis, keepdims=keepdims),
        "cumsum": lambda t: np.cumsum(t, axis=vector_axis),
        "cumprod": lambda t: t.cumprod(axis=vector_axis),
        "diff": lambda t: np.diff(t, axis=vector_axis),
        "trace": lambda t: t.trace(),
        "var": lambda t: t.var(axis=axis, ddof=ddof, keepdims=keepdims),
        "std": lambda t: np.std(t, axis=axis, ddof=ddof, keepdims=keepdims),
        "ptp": lambda t: np.ptp(t, axis=axis, keepdims=keepdims),
        "average": lambda t: np.average(t, axis=axis, weights=w, keepdims=keepdims),
        "norm2": lambda t: np.linalg.norm(t, 2, axis=vector_axis, keepdims=keepdims),
        "norm1": lambda t: np.linalg.norm(t, 1, axis=vector_axis, keepdims=keepdims),
        "norminf": lambda t: np.linalg.norm(t, INF, axis=vector_axis, keepdims=keepdims),
    }[name]


NAMES = ["prod", "cumsum", "cumprod", "diff", "trace", "var", "std", "ptp", "average",
         "norm2", "norm1", "norminf"]


@st.composite
def reduction_calls(draw):
    name = draw(st.sampled_from(NAMES))
    ndim = draw(st.integers(2 if name == "trace" else 1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    if name == "trace":
        axis = None
    elif name in ("cumsum", "cumprod", "diff", "norm2", "norm1", "norminf"):
        axis = draw(st.one_of(st.integers(0, ndim - 1),
                              st.just(None) if name.startswith("cum") else st.nothing()))
    else:
        axis = draw(st.one_of(st.none(), st.integers(0, ndim - 1),
                              st.sets(st.integers(0, ndim - 1), min_size=1).map(tuple)))
    return (name, shape, axis, draw(st.booleans()), draw(st.integers(0, 2)),
            draw(st.integers(0, 2 ** 31)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=reduction_calls())
def test_random_reductions_agree_across_modes_and_count_their_closed_forms(call):
    name, shape, axis, keepdims, ddof, seed = call
    if name in ("var", "std"):
        n, _ = _split(shape, axis)
        assume(n - ddof > 0)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    w = rng.uniform(0.5, 2.0, shape)
    f = _function(name, axis, keepdims, ddof, w)
    value, counts = _costad_value(f, x)
    np.testing.assert_allclose(value, f(x), rtol=1e-12, atol=1e-14)
    assert counts == _nonzero(_closed_form(name, shape, axis, keepdims, ddof))
    loss = _loss(f)
    g_rev = costad.grad(loss)(x)
    g_fwd = costad.grad(loss, mode="forward")(x)
    scale = 1.0 + np.abs(g_rev).max()
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-10, atol=1e-12 * scale)
    g_fd = costad.grad(loss, mode="fd-central")(x)
    np.testing.assert_allclose(g_fd, g_rev, rtol=1e-5, atol=1e-6 * scale)
