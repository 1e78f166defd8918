"""What the backward sweep may free or write into, and what it must leave alone.

A gradient's sweep drops each tape node once passed (the tape is swept once), and adds
further contributions to an adjoint in place when that adjoint is an array the sweep made
itself. Neither may change a value anyone else can see: the caller's arrays, an
intermediate the user's function kept, a value still on the tape, a cotangent shared by
two adjoints. Each test compares against forward mode or a closed form, and checks that
what the user holds is unchanged.
"""
import numpy as np
import pytest

import costad
from costad.reverse import backward, record
from costad.tree import flatten_inputs

RNG = np.random.default_rng(7)


def _forward_grad(f, x):
    return costad.grad(f, mode="forward")(x)


def test_intermediate_kept_by_the_function_is_not_written_into():
    # y has three consumers, so its adjoint receives three contributions; the function
    # keeps y (and the product) in a list that outlives the gradient.
    kept = []

    def f(x):
        y = np.tanh(x)
        p = y * y
        kept.append((y, p))
        return np.sum(p + y) + np.sum(np.exp(y))

    x = RNG.standard_normal((6, 5))
    g = costad.grad(f)(x)
    np.testing.assert_allclose(g, _forward_grad(f, x), rtol=1e-13)
    # The values the traced y and y * y stood for (on the tape, and kept by f) are still
    # tanh(x) and its square.
    y_kept, p_kept = kept[0]
    np.testing.assert_array_equal(y_kept.value, np.tanh(x))
    np.testing.assert_array_equal(p_kept.value, np.tanh(x) * np.tanh(x))


def test_shared_cotangent_of_an_add_is_not_accumulated_into_twice():
    # add's rule hands the same cotangent object to both arguments; each adjoint then
    # receives more contributions. Writing into the shared one would corrupt the other.
    def f(x):
        a = x * 2.0
        b = x * 3.0
        s = a + b                      # ct of s goes to a and to b, the same array
        return np.sum(s * s) + np.sum(a * x) + np.sum(b * np.sin(x))

    x = RNG.standard_normal((4, 7))
    np.testing.assert_allclose(costad.grad(f)(x), _forward_grad(f, x), rtol=1e-13)


def test_input_used_many_times_gets_the_exact_sum_of_its_contributions():
    # x's adjoint: a first contribution (kept), a fresh sum, then sums in place.
    def f(x):
        return np.sum(x * x) + np.sum(np.exp(x)) + np.sum(np.tanh(x)) + np.sum(x * 5.0)

    x = RNG.standard_normal(9)
    expected = 2 * x + np.exp(x) + (1 - np.tanh(x) ** 2) + 5.0
    np.testing.assert_allclose(costad.grad(f)(x), expected, rtol=1e-14)


def test_caller_arrays_and_returned_gradients_are_left_alone():
    x = RNG.standard_normal((3, 4))
    w = RNG.standard_normal((4, 4))
    x0, w0 = x.copy(), w.copy()

    def f(p):
        h = np.tanh(p["x"] @ p["w"])
        return np.sum(h * h) + np.sum(h @ p["w"]) + np.sum(p["x"] * p["x"])

    p = {"x": x, "w": w}
    value, g = costad.value_and_grad(f)(p)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    g_forward = costad.grad(f, mode="forward")(p)
    for k in p:
        np.testing.assert_allclose(g[k], g_forward[k], rtol=1e-13)
        assert not np.shares_memory(g[k], p[k])
    # A second call gives the same numbers: nothing of the first sweep was reused.
    value2, g2 = costad.value_and_grad(f)(p)
    assert value2 == value
    for k in p:
        np.testing.assert_array_equal(g2[k], g[k])


def test_pullback_of_vjp_can_be_called_again():
    # costad.vjp's tape is swept once per call: it must stay whole.
    def f(x):
        y = np.tanh(x)
        return y * y + y * x

    x = RNG.standard_normal(5)
    _, pullback = costad.vjp(f, x)
    ct = RNG.standard_normal(5)
    first = pullback(ct)
    second = pullback(ct)
    np.testing.assert_array_equal(first, second)
    third = pullback(2.0 * ct)
    np.testing.assert_allclose(third, 2.0 * first, rtol=1e-14)


def test_consuming_sweep_empties_the_tape_and_gives_the_same_adjoints():
    def f(x):
        y = np.tanh(x)
        return np.sum(y * y + y)

    x = RNG.standard_normal(6)
    leaves, tree = flatten_inputs(x)
    kept_tape, inputs, values, nodes, _ = record(f, leaves, tree)
    once_tape = list(kept_tape)
    seeds = [(nodes[0], 1.0)]
    kept = backward(kept_tape, seeds, inputs)
    once = backward(once_tape, seeds, inputs, consume=True)
    assert all(node is None for node in once_tape)
    assert all(node is not None for node in kept_tape)
    np.testing.assert_array_equal(once[0], kept[0])


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_nested_derivatives_through_accumulating_adjoints(mode):
    # grad of (x -> the sum of grad f(x) * v): the inner sweep is itself differentiated, so
    # its accumulations must be recorded, never done in place on plain arrays.
    v = RNG.standard_normal(4)

    def f(x):
        y = np.tanh(x)
        return np.sum(y * y) + np.sum(y * x) + np.sum(np.exp(y))

    def directional(x):
        return np.sum(costad.grad(f)(x) * v)

    x = RNG.standard_normal(4)
    outer = costad.grad(directional, mode=mode)(x)
    np.testing.assert_allclose(outer, costad.hvp(f, x, v), rtol=1e-12)


def test_counts_of_a_gradient_with_accumulations_are_unchanged(monkeypatch):
    # x's adjoint gets four contributions (two from x * x, one each from exp and sin):
    # three accumulating adds of 10, whether made into a fresh array or in place, plus
    # the two scalar adds of f itself.
    def f(x):
        return np.sum(x * x) + np.sum(np.exp(x)) + np.sum(np.sin(x))

    x = RNG.standard_normal(10)
    with costad.counting() as c:
        costad.grad(f)(x)
    assert c.calls["add"] == 2 + 3
    assert c.work["add"] == 2 + 3 * 10
    # the adds made in place move the bytes of the fresh sums they replace
    import costad.reverse as reverse_module
    monkeypatch.setattr(reverse_module, "add_in_place", lambda buffer, contribution: False)
    with costad.counting() as fresh:
        costad.grad(f)(x)
    assert (c.bytes, c.calls, c.work, c.by_op) == (fresh.bytes, fresh.calls, fresh.work,
                                                   fresh.by_op)


def test_a_single_use_pullback_called_again_is_a_clear_error():
    # make_vjp(once=True) frees the tape as it sweeps: a second sweep would read nothing
    value, pullback = costad.make_vjp(lambda x: np.sum(np.tanh(x) * x), np.ones(3), once=True)
    first = pullback(1.0)
    np.testing.assert_allclose(first, np.tanh(1.0) + (1 - np.tanh(1.0) ** 2))
    with pytest.raises(costad.CostadError, match="once=True.*already swept"):
        pullback(1.0)
