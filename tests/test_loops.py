"""Memory and recomputation (issue 14): reverse mode's storage and peak bytes, `costad.scan`
with binomial checkpointing at revolve's optimum, sqrt segments, and `costad.checkpoint`."""
import numpy as np
import pytest

import costad
from costad import checkpointing, loops
from costad.functions import FAMILIES

RNG = np.random.default_rng(14)


def _counted(fn, *args):
    with costad.counting() as c:
        out = fn(*args)
    return c, out


# ---------------------------------------------------------------- storage and peak bytes

@pytest.mark.parametrize("n", [2, 10, 64, 1000])
def test_seed_family_stores_and_peaks_at_its_closed_forms(n):
    # Tape: the input (8n bytes) and five arrays of n/2 (exp, mul, add, sqrt, mul) and the
    # sum: 28n + 8 bytes; slices are views. Adjoints peak while mul(t2, t3) is reversed:
    # those of t4, t1, t2, t3 (n/2 each) = 16n bytes, so the sweep peaks at 44n + 8.
    f, x = FAMILIES["seed"].build(n, 0)
    c, _ = _counted(costad.grad(f), x)
    assert c.stored_bytes == 28 * n + 8
    assert c.peak_bytes == 44 * n + 8
    a, _ = _counted(costad.grad(f), costad.ShapeDtype((n,)))
    assert (a.stored_bytes, a.peak_bytes) == (c.stored_bytes, c.peak_bytes)


def test_scalar_loop_peak_is_linear_in_n():
    from costad.functions import seed_pairs_loop
    peaks = [_counted(costad.grad(seed_pairs_loop), np.ones(n))[0].peak_bytes
             for n in (20, 200, 2000)]
    assert peaks[2] - peaks[1] == 10 * (peaks[1] - peaks[0])


def test_other_strategies_store_nothing():
    f, x = FAMILIES["rosenbrock"].build(10, 0)
    for mode in ("fd", "fd-central", "forward"):
        c, _ = _counted(costad.grad(f, mode=mode), x)
        assert (c.stored_nodes, c.stored_bytes, c.peak_bytes) == (0, 0, 0)


# ------------------------------------------------------------------------------- scan

def _rnn(T, d=3, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((d, d)) / 2, rng.standard_normal((d, d)) / 2,
              0.1 * rng.standard_normal(d)]
    xs = rng.standard_normal((T, d))

    def loss(p, checkpoints):
        W, U, b = p

        def step(h, x):                       # closes over W, U, b (traced parameters)
            h = np.tanh(W @ h + U @ x + b)
            return h, np.sum(h * h)

        h, ys = costad.scan(step, np.zeros(d), xs, checkpoints=checkpoints)
        return np.sum(h) + np.mean(ys)
    return params, loss


@pytest.mark.parametrize("checkpoints", [1, 2, 3, 5, 40, "sqrt"])
def test_checkpointed_scan_gives_the_plain_gradient(checkpoints):
    params, loss = _rnn(17)
    plain_value, plain = costad.value_and_grad(lambda p: loss(p, None))(params)
    value, g = costad.value_and_grad(lambda p: loss(p, checkpoints))(params)
    assert value == plain_value
    for a, b in zip(g, plain):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    g_fd = costad.grad(lambda p: loss(p, checkpoints), mode="fd-central")(params)
    for a, b in zip(g_fd, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("l", [1, 2, 3, 5, 10, 17, 30])
def test_step_evaluations_are_l_plus_revolves_T_exactly(l):
    xs = RNG.uniform(0.1, 0.9, l)

    def loss(a, s):
        carry, _ = costad.scan(lambda c, x: (np.sin(c * a) + x, None), 0.3, xs,
                               checkpoints=s)
        return carry
    for s in sorted({1, 2, 3, 4, 6, l, l + 3}):
        c, _ = _counted(costad.grad(lambda a: loss(a, s)), 0.7)
        assert c.calls[loops.STEP] == l + checkpointing.revolve_advances(l, s)
        assert c.calls[loops.STEP] == l + checkpointing.revolve_advances_recursive(l, s)
    c, _ = _counted(costad.grad(lambda a: loss(a, None)), 0.7)
    assert c.calls[loops.STEP] == l
    c, _ = _counted(costad.grad(lambda a: loss(a, "sqrt")), 0.7)
    assert c.calls[loops.STEP] == l + checkpointing.sqrt_advances(l)


def test_the_published_examples_of_revolve():
    xs = np.zeros(1000)
    for l, s, T in [(10, 1, 45), (10, 3, 15), (100, 5, 316), (1000, 10, 3636)]:
        c, _ = _counted(costad.grad(lambda a: costad.scan(
            lambda h, x: (h * a + x, None), 1.0, xs[:l], checkpoints=s)[0]), 0.5)
        assert c.calls[loops.STEP] == l + T


def test_never_more_than_s_snapshots_are_alive(monkeypatch):
    seen = []

    class Watched(checkpointing.Executor):
        def finish(self):
            stats = super().finish()
            seen.append(stats)
            return stats

    monkeypatch.setattr(loops, "Executor", Watched)
    params, loss = _rnn(30)
    for s in (1, 2, 4, 7):
        seen.clear()
        costad.grad(lambda p: loss(p, s))(params)
        (stats,) = seen
        assert stats.peak_snapshots <= s and stats.peak_tapes == 1
        assert stats.evaluations == 30 + checkpointing.revolve_advances(30, s)


def test_checkpointed_scan_counts_every_operation_of_its_recomputation():
    # The same operations as the plain loop, plus one step's forward work per advance.
    params, loss = _rnn(12)
    plain, _ = _counted(costad.grad(lambda p: loss(p, None)), params)
    # One step's forward operations: W h, U x: 2 x (9 mul + 6 add); + U x, + b: 2 x 3 add;
    # tanh: 3; h * h: 3 mul; its sum: 2 add. Two loop lengths differ by one step and by one
    # add in the mean of the ys.
    _, shorter = _rnn(11)
    step_ops = 44
    assert (costad.count(lambda q: loss(q, None), params).total
            - costad.count(lambda q: shorter(q, None), params).total) == step_ops + 1
    ck, _ = _counted(costad.grad(lambda p: loss(p, 2)), params)
    extra = checkpointing.revolve_advances(12, 2)
    assert ck.total - plain.total == extra * step_ops
    assert ck.stored_bytes < plain.stored_bytes


def test_scan_in_forward_mode_fd_and_nested_derivatives():
    params, loss = _rnn(9)
    g = costad.grad(lambda p: loss(p, 3))(params)
    for mode in ("forward", "fd-central"):
        other = costad.grad(lambda p: loss(p, 3), mode=mode)(params)
        for a, b in zip(other, g):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    # forward over reverse (a Hessian-vector product) through the checkpointed loop
    v = [RNG.standard_normal(p.shape) for p in params]
    hv = costad.hvp(lambda p: loss(p, 3), params, v)
    hv_plain = costad.hvp(lambda p: loss(p, None), params, v)
    for a, b in zip(hv, hv_plain):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_scan_counts_abstractly_as_executed():
    params, loss = _rnn(8)
    spec = [costad.ShapeDtype(p.shape) for p in params]
    for s in (None, 2, "sqrt"):
        executed, _ = _counted(costad.grad(lambda p: loss(p, s)), params)
        abstract, _ = _counted(costad.grad(lambda p: loss(p, s)), spec)
        assert abstract == executed


def test_scan_without_xs_and_with_structured_carry():
    def loss(a, s):
        (x, v), ys = costad.scan(lambda c, _: ((c[0] + 0.1 * c[1], c[1] - 0.1 * a * c[0]),
                                               c[0]), (1.0, 0.0), length=20, checkpoints=s)
        return x * x + np.sum(ys)
    g = costad.grad(lambda a: loss(a, None))(2.0)
    assert costad.grad(lambda a: loss(a, 3))(2.0) == pytest.approx(g, rel=1e-13)
    assert costad.grad(lambda a: loss(a, 3), mode="forward")(2.0) == pytest.approx(g, rel=1e-12)


def test_checkpoint_nested_in_scan():
    params, _ = _rnn(1)
    W, U, b = params
    xs = RNG.standard_normal((11, 3))

    def loss(p, s, inner):
        W, U, b = p
        cell = lambda h, x: np.tanh(W @ h + U @ x + b)                  # noqa: E731
        cell = costad.checkpoint(cell) if inner else cell
        h, _ = costad.scan(lambda h, x: (cell(h, x), None), np.zeros(3), xs, checkpoints=s)
        return np.sum(h * h)
    g = costad.grad(lambda p: loss(p, None, False))(params)
    for s in (None, 2):
        other = costad.grad(lambda p: loss(p, s, True))(params)
        for a, ref in zip(other, g):
            np.testing.assert_allclose(a, ref, rtol=1e-13, atol=1e-15)


def test_checkpoint_recomputes_its_interior_and_counts_it():
    f, x = FAMILIES["rosenbrock"].build(20, 0)
    K = FAMILIES["rosenbrock"].K(20)
    plain, g = _counted(costad.grad(f), x)
    ck, g_ck = _counted(costad.grad(costad.checkpoint(f)), x)
    np.testing.assert_allclose(g_ck, g, rtol=1e-15)
    assert ck.total == plain.total + K                    # the interior, evaluated again
    assert ck.stored_nodes < plain.stored_nodes
    for mode in ("forward", "fd"):                        # outside reverse mode: f itself
        other, _ = _counted(costad.grad(costad.checkpoint(f), mode=mode), x)
        assert other == _counted(costad.grad(f, mode=mode), x)[0]


def test_checkpoint_with_structured_outputs_and_closures():
    A = RNG.standard_normal((3, 3))

    def g(W):
        inner = costad.checkpoint(lambda v, s: {"out": np.tanh(W @ v) * s, "s": s * s})
        d = inner(np.ones(3), 2.0)
        return np.sum(d["out"]) + d["s"]
    np.testing.assert_allclose(costad.grad(g)(A), costad.grad(g, mode="forward")(A),
                               rtol=1e-12)


def test_scan_refuses_bad_arguments_clearly():
    with pytest.raises(ValueError, match="checkpoints"):
        costad.scan(lambda c, x: (c, None), 0.0, np.ones(3), checkpoints=0)
    with pytest.raises(ValueError, match="checkpoints"):
        costad.scan(lambda c, x: (c, None), 0.0, np.ones(3), checkpoints="log")
    with pytest.raises(costad.ShapeError, match="pair"):
        costad.grad(lambda a: costad.scan(lambda c, x: c * a, 1.0, np.ones(3),
                                          checkpoints=2)[0])(1.0)
    with pytest.raises(costad.ShapeError, match="number of steps"):
        costad.scan(lambda c, x: (c, None), 0.0, (np.ones(3), np.ones(4)))
    with pytest.raises(ValueError, match="at least one step"):
        costad.scan(lambda c, x: (c, None), 0.0, length=0)
