"""Matrix-chain association (claim C5): the lecture's closed forms, the dynamic program
against brute force, and counted products."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costad
from costad import chain


@pytest.mark.parametrize("n,R", list(itertools.product([1, 2, 3, 5, 16, 100], [1, 2, 3, 8, 20])))
def test_lecture_closed_forms(n, R):
    dims = [n] * (R + 1) + [1]
    assert chain.cost(dims, "left") == (R - 1) * n ** 3 + n ** 2 == chain.left_cost_formula(n, R)
    assert chain.cost(dims, "right") == R * n ** 2 == chain.right_cost_formula(n, R)
    assert chain.cost(dims, "optimal") <= min(chain.cost(dims, "left"),
                                              chain.cost(dims, "right"))


def test_clrs_textbook_instance():
    dims = [30, 35, 15, 5, 10, 20, 25]
    best, tree = chain.optimal(dims)
    assert best == 15125
    assert tree == ((0, (1, 2)), ((3, 4), 5))        # CLRS: ((A1(A2A3))((A4A5)A6))
    assert chain.tree_cost(dims, tree) == 15125


def test_costs_are_python_ints_without_overflow():
    dims = [10 ** 6] * 4 + [1]
    c = chain.cost(dims, "left")
    assert isinstance(c, int) and c == 2 * 10 ** 18 + 10 ** 12


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=8))
def test_optimal_equals_brute_force(dims):
    best = chain.cost(dims, "optimal")
    assert best == chain.brute_force_optimal(dims)
    assert best <= chain.cost(dims, "left") and best <= chain.cost(dims, "right")
    assert chain.tree_cost(dims, chain.optimal(dims)[1]) == best


def test_ties_are_broken_deterministically_by_the_smallest_split():
    assert chain.optimal([2, 2, 2, 2]) == (16, (0, (1, 2)))


@pytest.mark.parametrize("order", chain.ORDERS)
@pytest.mark.parametrize("dims", [[4, 3, 5, 2, 6], [3, 3, 3, 3, 1], [1, 7, 2, 9], [5, 5]])
def test_counted_multiply_equals_the_formula_and_multi_dot(order, dims):
    rng = np.random.default_rng(len(dims))
    mats = [rng.standard_normal((a, b)) for a, b in zip(dims[:-1], dims[1:])]
    with costad.counting() as c:
        product = chain.multiply(mats, order)
    assert c.by_op.get("mul", 0) == chain.cost(dims, order)
    tree = chain.parenthesize(dims, order)
    assert c.by_op.get("add", 0) == _adds(dims, tree)
    expected = mats[0] if len(mats) == 1 else np.linalg.multi_dot(mats)
    np.testing.assert_allclose(product, expected, rtol=1e-12)


def _adds(dims, tree):
    """Sum of m (k-1) p over the products of the tree, computed independently."""
    def walk(t):
        if isinstance(t, int):
            return t, t, 0
        (i, m, a1), (_, j, a2) = walk(t[0]), walk(t[1])
        return i, j, a1 + a2 + dims[i] * (dims[m + 1] - 1) * dims[j + 1]
    return walk(tree)[2]


def test_layer_jacobians_left_is_forward_right_is_reverse():
    rng = np.random.default_rng(0)
    n, R = 5, 4
    Ws = [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(R)]
    v = rng.standard_normal(n)
    layers = [lambda x, W=W: np.tanh(W @ x) for W in Ws] + [lambda x: np.sum(x * v)[None]]

    def g(x):
        for layer in layers:
            x = layer(x)
        return x[0]

    x0 = rng.standard_normal(n)
    mats, out = chain.jacobians(layers, x0)
    assert [m.shape for m in mats] == [(n, n)] * R + [(1, n)]
    assert out.shape == (1,)
    gradient = costad.grad(g)(x0)
    dims = [n] * (R + 1) + [1]
    with costad.counting() as fwd:
        row_fwd = chain.forward_accumulation(mats)
    with costad.counting() as rev:
        row_rev = chain.reverse_accumulation(mats)
    np.testing.assert_allclose(row_fwd[0], gradient, rtol=1e-12)
    np.testing.assert_allclose(row_rev[0], gradient, rtol=1e-12)
    assert fwd.by_op["mul"] == chain.cost(dims, "left") == (R - 1) * n ** 3 + n ** 2
    assert rev.by_op["mul"] == chain.cost(dims, "right") == R * n ** 2


@pytest.mark.parametrize("dims,match", [([3], "at least 2"), ([], "at least 2"),
                                        ([3, 0, 2], "positive"), ([3, -1], "positive"),
                                        ([3, 2.5], "integers"), ([3, True], "integers")])
def test_bad_dims(dims, match):
    with pytest.raises(ValueError, match=match):
        chain.cost(dims, "left")


def test_bad_order_and_mismatched_matrices():
    with pytest.raises(ValueError, match="unknown order 'middle'"):
        chain.cost([2, 3], "middle")
    with pytest.raises(costad.ShapeError, match=r"factors 0 and 1.*\(2, 3\) @ \(4, 2\)"):
        chain.multiply([np.ones((2, 3)), np.ones((4, 2))], "left")
    with pytest.raises(costad.ShapeError, match="2-D"):
        chain.multiply([np.ones(3), np.ones((3, 2))], "left")
    with pytest.raises(ValueError, match="at least one"):
        chain.multiply([], "left")
