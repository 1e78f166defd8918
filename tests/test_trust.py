"""No silent wrong number, no traceback (issue 10, items 1-14): every result is right or a
clear error. Each test names the item it guards."""
import collections
import math
import threading
import warnings

import numpy as np
import pytest

import costad

MODES = costad.MODES
RNG = np.random.default_rng(10)


def _all_modes(f, x):
    return {mode: costad.grad(f, mode=mode)(x) for mode in MODES}


# ------------------------------------------------------------------ 1. transpose with axes

@pytest.mark.parametrize("shape,axes", [((3, 3, 3), (-1, 0, 1)), ((2, 3, 4), (-1, -3, -2)),
                                        ((2, 3, 4), (2, 0, -2)), ((2, 3), (-1, -2))])
def test_transpose_with_negative_axes_in_every_mode(shape, axes):
    w = RNG.standard_normal(np.transpose(np.zeros(shape), axes).shape)
    x = RNG.standard_normal(shape)
    expected = np.transpose(w, np.argsort([a % len(shape) for a in axes]))
    for f in (lambda t: np.sum(np.transpose(t, axes) * w),
              lambda t: np.sum(t.transpose(axes) * w),
              lambda t: np.sum(t.transpose(*axes) * w)):
        for mode, g in _all_modes(f, x).items():
            np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-6, err_msg=mode)


def test_transpose_with_out_of_range_axes_is_a_clear_error():
    with pytest.raises(costad.ShapeError, match="axes"):
        costad.grad(lambda t: np.transpose(t, (0, 3)).sum())(np.ones((2, 2)))


# --------------------------------------------------------- 2. pytrees: structure records

def test_jvp_matches_dict_tangents_by_key():
    f = lambda d: 3 * d["a"] + 5 * d["b"]                                  # noqa: E731
    value, tangent = costad.jvp(f, {"a": 1.0, "b": 2.0}, {"b": 1.0, "a": 0.0})
    assert value == 13.0 and tangent == 5.0
    value, tangent = costad.jvp(f, {"b": 2.0, "a": 1.0}, {"a": 1.0, "b": 0.0})
    assert tangent == 3.0


@pytest.mark.parametrize("tangent,word", [({"a": 1.0, "c": 0.0}, "keys"),
                                          ([1.0, 0.0], "dict"),
                                          ({"a": 1.0}, "keys"),
                                          ({"a": np.ones(2), "b": 0.0}, "shape")])
def test_jvp_refuses_a_tangent_of_another_structure(tangent, word):
    f = lambda d: 3 * d["a"] + 5 * d["b"]                                  # noqa: E731
    with pytest.raises(costad.ShapeError, match=word):
        costad.jvp(f, {"a": 1.0, "b": 2.0}, tangent)


def test_hvp_matches_dict_directions_by_key():
    f = lambda d: d["a"] ** 2 * d["b"]                                     # noqa: E731
    x = {"a": 1.5, "b": 2.0}
    hv = costad.hvp(f, x, {"b": 1.0, "a": 0.0})          # H e_b = (2a, 0)
    assert hv["a"] == pytest.approx(3.0) and hv["b"] == pytest.approx(0.0)
    with pytest.raises(costad.ShapeError):
        costad.hvp(f, x, {"a": 1.0, "z": 0.0})


def test_gradients_of_dicts_in_any_key_order_agree():
    f = lambda d: np.sum(d["w"] * d["x"]) + d["s"]                         # noqa: E731
    a = {"w": np.arange(3.0), "x": np.ones(3), "s": 2.0}
    b = {"s": 2.0, "x": np.ones(3), "w": np.arange(3.0)}
    for mode in MODES:
        ga, gb = costad.grad(f, mode=mode)(a), costad.grad(f, mode=mode)(b)
        assert set(ga) == set(gb) == {"w", "x", "s"}
        for k in ga:
            np.testing.assert_allclose(ga[k], gb[k], rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------ 3. powers

def test_traced_exponent_keeps_numpy_values():
    f = lambda v: v[0] ** v[1]                                             # noqa: E731
    x = np.array([-1.5, 2.0])
    assert costad.count(f, x).total == 1
    value, g = costad.value_and_grad(f)(x)
    assert value == 2.25
    assert g[0] == pytest.approx(2 * -1.5)               # d/dx x^y = y x^(y-1)
    assert np.isnan(g[1])                                # d/dy: log of a negative base


def test_zero_powers_have_zero_derivatives_not_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for mode in ("forward", "reverse"):
            assert costad.grad(lambda t: t ** 0, mode=mode)(0.0) == 0.0
            assert costad.grad(lambda t: t ** 0.0, mode=mode)(0.0) == 0.0
            # 0 ** y for y > 0 is 0 near y: derivative 0 in y
            assert costad.grad(lambda y: 0.0 ** y, mode=mode)(2.0) == 0.0
            g = costad.grad(lambda v: v[0] ** v[1] + v[2], mode=mode)(np.array([0.0, 0.0,
                                                                                 1.0]))
            np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_traced_exponent_gradient_agrees_with_finite_differences():
    f = lambda v: np.sum(v[:2] ** v[2:])                                   # noqa: E731
    x = np.array([1.3, 0.7, 2.5, -0.5])
    g = costad.grad(f)(x)
    np.testing.assert_allclose(costad.grad(f, mode="forward")(x), g, rtol=1e-12)
    np.testing.assert_allclose(costad.grad(f, mode="fd-central")(x), g, rtol=1e-7)


# ---------------------------------------------------------------------- 4, 13. complex, bool

@pytest.mark.parametrize("mode", MODES)
def test_complex_intermediates_are_refused_never_zero(mode):
    f = lambda t: np.sum(np.abs(t * (1 + 1j)))                             # noqa: E731
    x = np.array([1.0, -2.0, 3.0])
    if mode.startswith("fd"):
        # Finite differences run f as plain NumPy, which handles the complex intermediate
        # exactly: the gradient of sqrt(2) |t| is right. Counting it is refused: costad does
        # not count complex arithmetic.
        np.testing.assert_allclose(costad.grad(f, mode=mode)(x), np.sqrt(2) * np.sign(x),
                                   rtol=1e-6)
        with pytest.raises(costad.UnsupportedOperationError, match="complex"):
            with costad.counting():
                costad.grad(f, mode=mode)(x)
    else:
        with pytest.raises(costad.UnsupportedOperationError, match="complex"):
            costad.grad(f, mode=mode)(x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [lambda t: np.sum(t) * 1j, lambda t: np.sum(t) > 0,
                               lambda t: np.all(t > 0), lambda t: 1j])
def test_complex_or_boolean_outputs_are_refused(mode, f):
    with pytest.raises((costad.UnsupportedOperationError, costad.OutputTypeError)):
        costad.grad(f, mode=mode)(np.ones(3))
    with pytest.raises((costad.UnsupportedOperationError, costad.OutputTypeError)):
        costad.value_and_grad(f, mode=mode)(np.ones(3))


@pytest.mark.parametrize("mode", MODES)
def test_a_count_of_comparisons_is_piecewise_constant_with_zero_gradient(mode):
    g = costad.grad(lambda t: (t > 0).sum(), mode=mode)(np.array([-1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g, np.zeros(3))


# --------------------------------------------------------------------- 5. float32, float16

@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("mode", MODES)
def test_low_precision_inputs_give_right_gradients_of_their_dtype(dtype, mode):
    x = np.array([0.5, 1.0, 1.5], dtype=dtype)
    g = costad.grad(lambda t: np.sum(t * t * t), mode=mode)(x)
    assert isinstance(g, np.ndarray) and g.dtype == dtype
    rtol = {np.float32: 1e-2, np.float16: 1e-1}[dtype] if mode.startswith("fd") else 1e-3
    np.testing.assert_allclose(g.astype(float), 3 * x.astype(float) ** 2, rtol=rtol)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_keeps_the_type_of_each_leaf(mode):
    x = {"f": 1.5, "s32": np.float32(1.5), "a32": np.ones(2, np.float32), "a64": np.ones(2)}
    g = costad.grad(lambda d: d["f"] * d["s32"] + np.sum(d["a32"] * d["a64"]), mode=mode)(x)
    assert type(g["f"]) is float
    assert isinstance(g["s32"], np.float32)
    assert g["a32"].dtype == np.float32 and g["a64"].dtype == np.float64


@pytest.mark.parametrize("mode", ["fd", "fd-central"])
def test_a_step_lost_to_rounding_is_refused(mode):
    with pytest.raises(ValueError, match="step"):
        costad.grad(lambda t: np.sum(t * t), mode=mode, step=1e-9)(np.ones(2, np.float32))


# --------------------------------------------------------------------- 6. in-place updates

@pytest.mark.parametrize("mode", MODES)
def test_f_never_receives_the_callers_buffer(mode):
    def f(x):
        x += 1.0                                  # in place on a plain array
        return np.sum(x * x)

    x = np.array([1.0, 2.0])
    before = x.copy()
    g = costad.grad(f, mode=mode)(x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, 2 * (before + 1.0), rtol=1e-5)


def test_item_assignment_into_a_traced_array_is_a_clear_error():
    def f(x):
        x[0] = 1.0
        return x.sum()
    with pytest.raises(TypeError, match="assign"):
        costad.grad(f)(np.ones(2))


# ------------------------------------------------------------------------------- 7. steps

@pytest.mark.parametrize("step", [0.0, -1e-6, float("nan"), float("inf"), "1e-6", True])
@pytest.mark.parametrize("mode", ["fd", "fd-central"])
def test_bad_steps_are_refused_when_grad_is_called(step, mode):
    with pytest.raises((ValueError, TypeError), match="step"):
        costad.grad(lambda t: t * t, mode=mode, step=step)


# ------------------------------------------------------------------------ 8. subclasses

@pytest.mark.parametrize("x", [np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
                               np.matrix([[1.0, 2.0]])])
@pytest.mark.parametrize("mode", MODES)
def test_ndarray_subclasses_are_refused(x, mode):
    with pytest.raises(costad.InputTypeError, match="subclass"):
        costad.grad(lambda t: np.sum(t * t), mode=mode)(x)
    with pytest.raises(costad.InputTypeError, match="subclass"):
        costad.count(lambda t: np.sum(t * t), x)


# ---------------------------------------------------------------------------- 9. threads

def _in_lockstep(works):
    """Run each work(checkpoint) in its own thread; ``checkpoint()`` waits until every
    thread has reached it, so their traces and counting blocks are open at the same time."""
    barrier = threading.Barrier(len(works), timeout=10)
    results, errors = [None] * len(works), []

    def run(i):
        try:
            results[i] = works[i](barrier.wait)
        except Exception as err:                          # reported by the assert below
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_two_threads_count_and_trace_different_functions_at_once():
    def f(t, checkpoint=lambda: None):
        checkpoint()                                      # both traces are open here
        return np.sum(np.exp(t) * t)

    def g(t, checkpoint=lambda: None):
        checkpoint()
        return np.sum(np.tanh(t)) * t[0]

    xf, xg = np.ones(50), np.ones(30)
    expected = []
    for fun, x in ((f, xf), (g, xg)):
        with costad.counting() as c:
            grad = costad.grad(fun)(x)
        expected.append((c.by_op, grad))
    assert expected[0][0] != expected[1][0]

    def work(fun, x):
        def run(checkpoint):
            with costad.counting() as c:
                checkpoint()                              # both counting blocks are open
                grad = costad.grad(lambda t: fun(t, checkpoint))(x)
                checkpoint()
            return c.by_op, grad
        return run

    for (by_op, grad), (want_op, want_grad) in zip(_in_lockstep([work(f, xf), work(g, xg)]),
                                                   expected):
        assert by_op == want_op
        np.testing.assert_array_equal(grad, want_grad)


@pytest.mark.parametrize("mode", MODES)
def test_two_threads_in_every_mode(mode):
    def work(scale):
        def run(checkpoint):
            def f(t):
                checkpoint()
                return scale * t[0] * t[1]
            with costad.counting() as c:
                g = costad.grad(f, mode=mode)(np.array([1.0, 2.0]))
            return c.total, g
        return run

    # Both threads call f equally often (same mode, same input size), so they stay in step.
    got = _in_lockstep([work(2.0), work(3.0)])
    for (total, g), scale in zip(got, (2.0, 3.0)):
        np.testing.assert_allclose(g, [scale * 2.0, scale * 1.0], rtol=1e-6)
        assert total == got[0][0]


# --------------------------------------------------------------- 10. gradient shapes exact

def test_a_wrong_shaped_gradient_is_an_internal_error_not_a_broadcast():
    from costad import gradients
    with pytest.raises(AssertionError, match="shape"):
        gradients.as_leaf_gradient(np.ones(1), np.zeros(3))


# ------------------------------------------------------------------ 11. nested derivatives

CUBE = lambda t: t ** 3                                                   # noqa: E731


@pytest.mark.parametrize("inner", MODES)
@pytest.mark.parametrize("outer", MODES)
def test_second_derivative_in_every_mode_pair(outer, inner):
    steps = {}
    if outer.startswith("fd") and inner.startswith("fd"):
        steps = dict(step=1e-4)                      # explicit steps: see the next test
    d2 = costad.grad(costad.grad(CUBE, mode=inner, **steps), mode=outer, **steps)(2.0)
    tol = 1e-3 if (outer.startswith("fd") or inner.startswith("fd")) else 1e-12
    assert d2 == pytest.approx(12.0, rel=tol)


def test_finite_differences_nested_with_default_steps_are_refused():
    with pytest.raises(ValueError, match="nested"):
        costad.grad(costad.grad(CUBE, mode="fd"), mode="fd-central")(2.0)


@pytest.mark.parametrize("inner", MODES)
@pytest.mark.parametrize("outer", ["forward", "reverse"])
def test_nested_derivatives_over_vectors_and_dicts(outer, inner):
    # d/dx of (d/dx f)[0] for f(x) = sum x_i^2 x_0: row 0 of the Hessian.
    f = lambda d: np.sum(d["x"] ** 2) * d["x"][0] + d["s"] ** 3           # noqa: E731
    x = {"x": np.array([1.0, 2.0, 3.0]), "s": 0.5}
    g = costad.grad(lambda d: costad.grad(f, mode=inner)(d)["x"][0], mode=outer)(x)
    # d/dx0 f = sum x^2 + 2 x0^2, so its gradient in x is (2x0 + 4x0, 2x1, 2x2)
    tol = 1e-5 if inner.startswith("fd") else 1e-12
    np.testing.assert_allclose(g["x"], [6.0, 4.0, 6.0], rtol=tol)
    assert g["s"] == 0.0


@pytest.mark.parametrize("modes", [("reverse", "reverse", "reverse"),
                                   ("forward", "reverse", "forward"),
                                   ("reverse", "forward", "forward")])
def test_third_derivatives(modes):
    f = lambda t: np.sin(t) * t                                            # noqa: E731
    for mode in modes:
        f = costad.grad(f, mode=mode)
    t = 0.7                               # (t sin t)''' = -3 sin t - t cos t
    assert f(t) == pytest.approx(-3 * np.sin(t) - t * np.cos(t), rel=1e-12)


# ---------------------------------------------------------------- 12. clear errors in f

@pytest.mark.parametrize("use,word", [
    (lambda t: math.floor(t[0]) * 1.0, "floor"),
    (lambda t: np.copysign(t, -1.0).sum(), "copysign"),
    (lambda t: t.item(), "item"),
    (lambda t: sum(t.tolist()), "tolist"),
    (lambda t: t.sum(dtype=float), "dtype"),
    (lambda t: t.max(initial=0.0), "initial"),
    (lambda t: t.real_not_an_attribute, "real_not_an_attribute"),
])
def test_unsupported_uses_name_the_operation(use, word):
    error = AttributeError if word.endswith("not_an_attribute") else \
        costad.UnsupportedOperationError
    with pytest.raises(error, match=word):
        costad.grad(use)(np.ones(2))


@pytest.mark.parametrize("store", [lambda y, x: y.__setitem__(0, x[1]),
                                   lambda y, x: y.__setitem__(slice(0, 2), x)])
def test_storing_a_traced_value_into_a_plain_array_is_explained(store):
    def f(x):
        y = np.zeros(3)
        store(y, x)
        return y.sum()
    # NumPy may wrap costad's TypeError in its own ValueError ("setting an array element
    # with a sequence"); costad's explanation is then the error's context, shown with it.
    with pytest.raises((TypeError, ValueError)) as err:
        costad.grad(f)(np.ones(2))
    messages = str(err.value) + str(err.value.__context__)
    assert "plain NumPy array" in messages


# --------------------------------------------------------------------- 14. vjp cotangents

def test_vjp_of_structured_outputs_takes_structured_cotangents():
    f = lambda x: (x * 2.0, {"s": np.sum(x)})                              # noqa: E731
    value, pullback = costad.vjp(f, np.arange(3.0))
    g = pullback((np.ones(3), {"s": 10.0}))
    np.testing.assert_array_equal(g, [12.0, 12.0, 12.0])
    with pytest.raises(costad.ShapeError, match="structure"):
        pullback([np.ones(3), {"s": 10.0}])                  # a list where f gave a tuple
    with pytest.raises(costad.ShapeError, match="structure"):
        pullback((np.ones(3), {"t": 10.0}))


def test_vjp_pullback_of_an_array_output_refuses_a_list_cotangent():
    _, pullback = costad.vjp(lambda x: x * 2.0, np.ones(2))
    with pytest.raises(costad.ShapeError, match="structure"):
        pullback([1.0, 1.0])


def test_namedtuples_are_containers_and_list_subclasses_are_refused_clearly():
    Point = collections.namedtuple("Point", "a b")
    g = costad.grad(lambda p: p.a * p.b)(Point(2.0, 3.0))
    assert isinstance(g, Point) and g == Point(3.0, 2.0)

    class MyList(list):
        pass

    with pytest.raises(costad.InputTypeError, match="MyList"):
        costad.grad(lambda p: p[0] * p[1])(MyList([2.0, 3.0]))


def test_gradients_never_alias_each_other_the_seed_or_the_tape():
    W = np.arange(6.0).reshape(2, 3)
    # add's VJP hands the same cotangent to both arguments: two distinct arrays come back
    ga, gb = costad.grad(lambda d: np.sum((d[0] + d[1]) @ W.T))([np.ones(3), np.ones(3)])
    assert ga is not gb and not np.shares_memory(ga, gb)
    ga += 1.0
    np.testing.assert_array_equal(gb, W.sum(axis=0))
    # the identity's pullback returns the seed's values, never the caller's array itself
    seed = np.array([1.0, 2.0])
    _, pullback = costad.vjp(lambda x: x, np.zeros(2))
    g = pullback(seed)
    assert g is not seed
    g[0] = 99.0
    assert seed[0] == 1.0
