"""The strategies agree: forward and reverse to rounding, finite differences within their
error bound; hand-written backprop (C6) and shared parameters (C7); Jacobians and HVPs."""
import gc

import numpy as np
import pytest

import costad
from costad.functions import (FAMILIES, mlp_backprop, mlp_init, mlp_loss, rnn_init, rnn_loss,
                              seed_example, seed_pairs_loop)

EPS = np.finfo(float).eps


def _fd_bound(f, x, mode):
    """Per-coordinate bound on the finite-difference error at x.

    Forward: h/2 |H_ii| + 2 u |f| / h (truncation plus rounding), with H_ii from costad.hvp.
    Central: h^2/6 M3 + u |f| / h, with M3 estimated from H_ii at x +- h.
    A factor 10 covers the rounding of the perturbed inputs and of the estimates.
    """
    h = costad.default_step(mode)
    fx = abs(float(f(x)))
    n = x.size
    bounds = np.empty(n)
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        hii = abs(costad.hvp(f, x, e)[i])
        if mode == "fd":
            bounds[i] = h / 2 * hii + 2 * EPS * fx / h
        else:
            m3 = abs(costad.hvp(f, x + h * e, e)[i] - costad.hvp(f, x - h * e, e)[i]) / (2 * h)
            bounds[i] = h * h / 6 * (m3 + hii) + EPS * fx / h
    return 10 * bounds + 1e-13


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("n", [2, 7, 24])
def test_strategies_agree(name, n):
    fam = FAMILIES[name]
    n = fam.valid_n(n)
    f, x = fam.build(n, 5)
    value_r, g_rev = costad.value_and_grad(f, mode="reverse")(x)
    value_f, g_fwd = costad.value_and_grad(f, mode="forward")(x)
    assert value_r == pytest.approx(value_f, rel=1e-14)
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-10, atol=1e-12 * np.abs(g_rev).max())
    for mode in ("fd", "fd-central"):
        g_fd = costad.grad(f, mode=mode)(x)
        assert np.all(np.abs(g_fd - g_rev) <= _fd_bound(f, x, mode)), mode


def test_seed_example_gradient_matches_closed_form():
    t1, t2 = 0.4, 1.3
    e = np.exp(t1)
    s = np.sqrt(t1 + t2 * e)
    d1 = t2 * e * s + t2 * e * (1 + t2 * e) / (2 * s)
    d2 = e * s + t2 * e * e / (2 * s)
    for mode in ("forward", "reverse"):
        g = costad.grad(seed_example, mode=mode)((t1, t2))
        assert isinstance(g, tuple)
        np.testing.assert_allclose(g, [d1, d2], rtol=1e-13)


def test_scalar_loop_forward_and_reverse_agree():
    x = np.random.default_rng(0).uniform(0.1, 1.0, 40)
    np.testing.assert_allclose(costad.grad(seed_pairs_loop, mode="forward")(x),
                               costad.grad(seed_pairs_loop)(x), rtol=1e-12)


def test_structured_inputs_keep_their_structure():
    f = lambda p: np.sum(np.tanh(p["w"] @ p["x"])) * p["s"][0] + p["s"][1]   # noqa: E731
    x = {"w": np.arange(6.0).reshape(2, 3) / 10, "x": np.ones(3), "s": [2.0, 0.5]}
    g_rev = costad.grad(f)(x)
    g_fwd = costad.grad(f, mode="forward")(x)
    assert set(g_rev) == {"w", "x", "s"} and isinstance(g_rev["s"], list)
    assert g_rev["w"].shape == (2, 3)
    for key in ("w", "x"):
        np.testing.assert_allclose(g_rev[key], g_fwd[key], rtol=1e-12)
    np.testing.assert_allclose(g_rev["s"], g_fwd["s"], rtol=1e-12)
    assert g_rev["s"][1] == 1.0


def _mlp_setup(depth=3, width=6, batch=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    params = mlp_init([4] + [width] * depth + [classes], rng)
    X = rng.standard_normal((batch, 4))
    Y = np.eye(classes)[rng.integers(0, classes, batch)]
    return params, X, Y


def test_hand_written_backprop_equals_reverse_mode():   # claim C6
    params, X, Y = _mlp_setup()
    loss_hand, grads_hand = mlp_backprop(params, X, Y)
    loss_rev, grads_rev = costad.value_and_grad(lambda p: mlp_loss(p, X, Y))(params)
    assert loss_hand == pytest.approx(loss_rev, rel=1e-13)
    for gh, gr in zip(grads_hand, grads_rev):
        np.testing.assert_allclose(gh, gr, rtol=1e-10, atol=1e-14)


def test_rnn_shared_parameters_gradient_matches_fd():   # claim C7
    rng = np.random.default_rng(3)
    params = rnn_init(3, rng)
    xs = rng.standard_normal((6, 3))
    g_rev = costad.grad(lambda p: rnn_loss(p, xs))(params)
    g_fd = costad.grad(lambda p: rnn_loss(p, xs), mode="fd-central")(params)
    for a, b in zip(g_rev, g_fd):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    # The contributions of the T steps add up in the shared W: cost linear in T.
    costs = []
    for T in (4, 8, 16):
        with costad.counting() as c:
            costad.grad(lambda p: rnn_loss(p, rng.standard_normal((T, 3))))(params)
        costs.append(c.total)
    assert costs[2] - costs[1] == 2 * (costs[1] - costs[0])


@pytest.mark.parametrize("shape_in,shape_out", [((3,), (4,)), ((5,), (2,)), ((4,), ())])
def test_jacobian_forward_equals_reverse(shape_in, shape_out):
    rng = np.random.default_rng(0)
    A = rng.standard_normal(shape_out + shape_in)
    f = lambda x: np.tanh(A @ x) * np.sum(x * x)          # noqa: E731
    x = rng.standard_normal(shape_in)
    J_f = costad.jacobian(f, mode="forward")(x)
    J_r = costad.jacobian(f, mode="reverse")(x)
    assert J_f.shape == shape_out + shape_in
    np.testing.assert_allclose(J_f, J_r, rtol=1e-12, atol=1e-14)
    h = 1e-6
    J_fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)], -1)
    np.testing.assert_allclose(J_f, J_fd, rtol=1e-6, atol=1e-8)


def test_jacobian_costs_n_jvps_versus_m_vjps():   # claim C4
    rng = np.random.default_rng(1)
    n, m = 12, 3
    A = rng.standard_normal((m, n))
    f = lambda x: np.exp(A @ x)                            # noqa: E731
    x = rng.standard_normal(n) / 4
    K = costad.count(f, x).total
    with costad.counting() as fwd:
        costad.jacobian(f, mode="forward")(x)
    with costad.counting() as rev:
        costad.jacobian(f, mode="reverse")(x)
    assert fwd.total % n == 0 and fwd.total // n >= K       # n passes, each at least K
    sweeps = rev.total - K                                  # one recording, m sweeps
    assert sweeps % m == 0
    assert rev.total < fwd.total


def test_hvp_matches_finite_differences_of_the_gradient():
    f, x = FAMILIES["rosenbrock"].build(6, 0)
    v = np.random.default_rng(0).standard_normal(6)
    hv = costad.hvp(f, x, v)
    g = costad.grad(f)
    h = 1e-5
    np.testing.assert_allclose(hv, (g(x + h * v) - g(x - h * v)) / (2 * h), rtol=1e-6)
    # and on a function that indexes scalars (nested accumulation of indexed cotangents)
    x2 = np.random.default_rng(1).uniform(0.2, 1.0, 6)
    hv2 = costad.hvp(seed_pairs_loop, x2, v)
    g2 = costad.grad(seed_pairs_loop)
    np.testing.assert_allclose(hv2, (g2(x2 + h * v) - g2(x2 - h * v)) / (2 * h), rtol=1e-6)


def test_jvp_and_vjp_on_vector_functions():
    f = lambda x: np.stack([x[0] * x[1], np.sin(x[2])])  # noqa: E731
    x = np.array([1.0, 2.0, 0.5])
    value, tangent = costad.jvp(f, x, np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(value, [2.0, np.sin(0.5)])
    np.testing.assert_allclose(tangent, [2.0, np.cos(0.5)])
    value, pullback = costad.vjp(f, x)
    np.testing.assert_allclose(pullback(np.array([1.0, 0.0])), [2.0, 1.0, 0.0])
    np.testing.assert_allclose(pullback(np.array([0.0, 1.0])), [0.0, 0.0, np.cos(0.5)])


@pytest.mark.parametrize("enabled", [True, False])
def test_reverse_mode_restores_the_garbage_collector(enabled):
    # Recording pauses the cyclic collector; it must come back as it was, even after f fails.
    def fails(x):
        raise RuntimeError("inside f")

    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert costad.grad(seed_pairs_loop)(np.ones(4)).shape == (4,)
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError, match="inside f"):
            costad.grad(fails)(np.ones(4))
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
