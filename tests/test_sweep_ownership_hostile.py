"""Hostile uses of the backward sweep that frees its tape and adds into its own adjoints.

A gradient's sweep drops tape nodes as it passes them and adds later contributions into an
adjoint array it made itself (`costad.reverse._hand`). These tests try to make that visible:
a changed gradient bit, a changed memory layout, a changed count, a user's array written
into, a new error. Where the expected numbers come from a closed form or forward mode the
comparison has a tolerance; where the sweep that adds into a fresh array is compared with
one that does not, it is exact.
"""
import threading

import numpy as np
import pytest

import costad
import costad.reverse as reverse_module
from costad.reverse import backward, record
from costad.tree import flatten_inputs

RNG = np.random.default_rng(16)


def _swept(f, x, in_place: bool):
    """The adjoints of x's leaves by one sweep of a fresh tape; without ``in_place`` every
    accumulation makes a fresh array, as before the sweep owned its adjoints."""
    leaves, tree = flatten_inputs(x)
    tape, inputs, _, nodes, _ = record(f, leaves, tree)
    if in_place:
        return backward(tape, [(nodes[0], 1.0)], inputs, consume=True)
    saved = reverse_module.add_in_place
    reverse_module.add_in_place = lambda buffer, contribution: False
    try:
        return backward(tape, [(nodes[0], 1.0)], inputs)
    finally:
        reverse_module.add_in_place = saved


def _assert_same_adjoints(f, x):
    for new, old in zip(_swept(f, x, True), _swept(f, x, False)):
        assert new.dtype == old.dtype
        np.testing.assert_array_equal(new, old)
        assert new.tobytes() == old.tobytes()
        # The layout is part of the result: a reduction of the adjoint further down the
        # sweep sums in memory order, so another layout changes its rounding.
        assert new.flags.c_contiguous == old.flags.c_contiguous
        assert new.flags.f_contiguous == old.flags.f_contiguous


def test_adjoint_in_another_layout_keeps_the_layout_of_a_fresh_sum():
    # y's adjoint is first the sum of two transposed contributions (a Fortran-order array);
    # then come C-order contributions. A fresh sum of Fortran- and C-order arrays is
    # C-order, so adding them into the Fortran-order buffer would change the layout of
    # y's adjoint, and with it the rounding of b's adjoint, a sum over the long axis.
    n = 1000
    x, b = RNG.standard_normal((n, 3)), RNG.standard_normal((1, 3))
    k1, k2 = RNG.standard_normal((3, n)), RNG.standard_normal((3, n))

    def f(p):
        y = p[0] + p[1]
        return np.sum(y * y) + np.sum(np.tanh(y)) + np.sum(y.T * k1) + np.sum(y.T * k2)

    _assert_same_adjoints(f, (x, b))
    g = costad.grad(f)((x, b))
    assert g[0].flags.c_contiguous
    np.testing.assert_allclose(g[1], costad.grad(f, mode="forward")((x, b))[1], rtol=1e-12)


# ----------------------------------------------------------------- cases that hold (guards)

def _flat(value) -> list:
    """The leaves of a result as (type, dtype, layout, bytes), for exact comparison."""
    leaves = costad.tree_leaves(value) if not isinstance(value, np.ndarray) else [value]
    out = []
    for leaf in leaves:
        if isinstance(leaf, np.ndarray):
            out.append((leaf.__class__, leaf.dtype, leaf.shape, leaf.flags.c_contiguous,
                        leaf.tobytes()))
        else:
            out.append((leaf.__class__, repr(leaf)))
    return out


def _counted(run):
    with costad.counting() as c:
        value = run()
    return _flat(value), (dict(c.by_op), dict(c.calls), dict(c.work), c.bytes, c.peak_bytes,
                          c.stored_nodes)


def _same_with_and_without_in_place(monkeypatch, run):
    """``run()``'s result and counts, which must be those of a sweep that makes a fresh
    array for every accumulation (as before the sweep added into its own adjoints)."""
    new = _counted(run)
    with monkeypatch.context() as m:
        m.setattr(reverse_module, "add_in_place", lambda buffer, contribution: False)
        old = _counted(run)
    assert new == old
    return new


def _many(x):
    # x's adjoint gets seven contributions: a fresh sum, then five added in place.
    return (np.sum(x * x) + np.sum(np.exp(x)) + np.sum(np.sin(x)) + np.sum(x * 3.0)
            + np.sum(np.tanh(x)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_precisions_give_the_bits_and_counts_of_fresh_sums(monkeypatch, dtype):
    x = (RNG.standard_normal(7) * 0.5).astype(dtype)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.value_and_grad(_many)(x))
    g = costad.grad(_many)(x)
    assert g.dtype == dtype
    np.testing.assert_allclose(g, costad.grad(_many, mode="forward")(x),
                               rtol=1e-12 if dtype == np.float64 else 1e-2)


def test_contributions_of_another_dtype_are_not_added_into_the_buffer(monkeypatch):
    # x is float32; some contributions are float64 (through a float64 constant or a cast),
    # so x's adjoint changes dtype on the way: a float64 contribution never goes into a
    # float32 buffer, nor a float32 one into a float64 buffer.
    x = RNG.standard_normal(6).astype(np.float32)
    c64 = RNG.standard_normal(6)

    def f(x):
        return (np.sum(x * x) + np.sum(np.exp(x)) + np.sum(x * c64)
                + np.sum(x.astype(np.float64) * 2.0) + np.sum(np.tanh(x)) + np.sum(x * x))

    _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(f)(x))


def test_broadcast_parameters_and_scalars_used_many_times(monkeypatch):
    # b (1, n) and s (a scalar) receive unbroadcast contributions (fresh sums over axes).
    a = RNG.standard_normal((5, 4))

    def f(p):
        b, s, v = p["b"], p["s"], p["v"]
        return (np.sum(a * b) + np.sum(np.tanh(a + b)) + np.sum(b * b) + np.sum(v @ (a * b))
                + np.sum(a * s) + np.sum(np.exp(a * s)) + s * s + np.sum(s + b))

    for s in (0.3, np.float64(0.3), np.array(0.3)):
        p = {"b": RNG.standard_normal((1, 4)), "s": s, "v": RNG.standard_normal(5)}
        _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(f)(p))
        g, g_forward = costad.grad(f)(p), costad.grad(f, mode="forward")(p)
        for k in p:
            np.testing.assert_allclose(g[k], g_forward[k], rtol=1e-12)


def test_zero_dimensional_inputs_and_indexed_reads(monkeypatch):
    def f(x):
        return (x[0] * x[1] + np.sum(x[::2] * x[::2]) + np.sum(x[[1, 1, 3]])
                + np.sum(x * x) + np.sum(x[1:4] ** 2) + np.sum(np.exp(x)))

    x = RNG.standard_normal(6)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(f)(x))
    np.testing.assert_allclose(costad.grad(f)(x), costad.grad(f, mode="forward")(x),
                               rtol=1e-13)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(_many)(np.array(0.7)))


def test_pytrees_in_any_key_order_and_one_array_as_two_leaves(monkeypatch):
    x, w = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 4))
    x0, w0 = x.copy(), w.copy()

    def f(p):
        h = np.tanh(p["x"] @ p["w"])
        return (np.sum(h * h) + np.sum(h @ p["w"]) + np.sum(p["x"] * p["x"])
                + np.sum(p["w"] * p["w"]))

    a = _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(f)({"x": x, "w": w}))
    b = _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(f)({"w": w, "x": x}))
    assert sorted(a[0], key=repr) == sorted(b[0], key=repr)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)

    def two(t):
        return np.sum(t[0] * t[1]) + np.sum(t[0]) + np.sum(t[1] * t[1]) + np.sum(t[0] + t[1])

    v = RNG.standard_normal(5)
    g0, g1 = costad.grad(two)((v, v))
    np.testing.assert_allclose(g0, v + 2.0, rtol=1e-14)
    np.testing.assert_allclose(g1, v + 2 * v + 1.0, rtol=1e-14)
    assert not np.shares_memory(g0, g1)


def test_vjp_with_an_intermediate_output_keeps_the_callers_cotangent(monkeypatch):
    # y is an output (seeded with the caller's array) and has more consumers: its adjoint
    # is the caller's array plus contributions, which must go into a fresh array.
    def f(x):
        y = np.tanh(x)
        return y, np.sum(y * y) + np.sum(y * x) + np.sum(np.exp(y))

    x = RNG.standard_normal(5)
    _, pullback = costad.vjp(f, x)
    ct = RNG.standard_normal(5)
    ct0 = ct.copy()
    first = pullback((ct, 1.0))
    np.testing.assert_array_equal(ct, ct0)
    np.testing.assert_array_equal(pullback((ct, 1.0)), first)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.vjp(f, x)[1]((ct, 1.0)))


def test_jacobian_in_reverse_mode_and_hvp(monkeypatch):
    def f(x):
        y = np.tanh(x)
        return y * y + y * x + np.exp(y)

    x, v = RNG.standard_normal(5), RNG.standard_normal(5)
    _same_with_and_without_in_place(monkeypatch,
                                    lambda: costad.jacobian(f, mode="reverse")(x))
    np.testing.assert_allclose(costad.jacobian(f, mode="reverse")(x),
                               costad.jacobian(f, mode="forward")(x), rtol=1e-13)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.hvp(_many, x, v))
    hessian = costad.jacobian(costad.grad(_many, mode="forward"), mode="forward")(x)
    np.testing.assert_allclose(costad.hvp(_many, x, v), hessian @ v, rtol=1e-12)


@pytest.mark.parametrize("inner", ["reverse", "forward"])
@pytest.mark.parametrize("outer", ["reverse", "forward", "fd-central"])
def test_nested_derivatives_in_every_mode_pair(monkeypatch, inner, outer):
    u = RNG.standard_normal(4)

    def directional(x):
        # Some contributions to w's adjoint depend on x (traced by the outer derivative),
        # some do not (plain arrays, added in place): both kinds meet in one adjoint.
        def g(w):
            return np.sum(w * w) + np.sum(w * x) + np.sum(np.exp(w * x)) + np.sum(w * u)
        return np.sum(costad.grad(g, mode=inner)(x * 0.3) * u)

    x = RNG.standard_normal(4)
    _same_with_and_without_in_place(monkeypatch,
                                    lambda: costad.grad(directional, mode=outer)(x))
    np.testing.assert_allclose(costad.grad(directional, mode=outer)(x),
                               costad.grad(directional, mode="forward")(x),
                               rtol=1e-6 if outer.startswith("fd") else 1e-12)


def test_counting_from_outside_and_abstract_inputs(monkeypatch):
    x = RNG.standard_normal(8)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.count(costad.grad(_many), x))
    _same_with_and_without_in_place(monkeypatch,
                                    lambda: costad.grad(costad.counted(_many))(x))
    sd = costad.ShapeDtype((10 ** 6,), np.float64)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(_many)(sd))


@pytest.mark.parametrize("checkpoints", [None, 2, "sqrt"])
def test_scans_with_and_without_checkpoints(monkeypatch, checkpoints):
    xs = RNG.standard_normal(6)

    def step(c, x):
        h = np.tanh(c * x + c)
        return h + c * c * 0.1, np.sum(h * h)

    def f(p):
        c, ys = costad.scan(step, p, xs, checkpoints=checkpoints)
        return np.sum(c * c) + np.sum(ys) + np.sum(p * p)

    p = RNG.standard_normal(4)
    _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(f)(p))
    np.testing.assert_allclose(costad.grad(f)(p), costad.grad(f, mode="forward")(p),
                               rtol=1e-12)


def test_nan_and_inf_and_an_overflowing_accumulation(monkeypatch):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0, -0.0])
    with np.errstate(invalid="ignore"):                 # sin(inf) is NaN, as it should be
        _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(_many)(x))

    def f(x):
        # Three float16 contributions of 3e4: the third add, made in place, overflows.
        return np.sum(x * 30000.0) + np.sum(x * 30000.0) + np.sum(x * 30000.0)

    small = np.full(4, 1e-3, dtype=np.float16)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        costad.grad(f)(small)
    with np.errstate(over="ignore"):
        assert np.all(np.isposinf(costad.grad(f)(small)))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")      # np.matrix itself
def test_subclasses_are_refused_as_before():
    x = RNG.standard_normal((3, 3))
    with pytest.raises(costad.InputTypeError):
        costad.grad(_many)(np.matrix(x))
    with pytest.raises(costad.InputTypeError):
        costad.grad(_many)(np.ma.masked_array(x))
    with pytest.raises(costad.UnsupportedOperationError):
        costad.grad(lambda v: np.sum(v * np.ma.masked_array(x)) + np.sum(v * v))(x)


def test_two_threads_computing_gradients_at_once():
    xs = [RNG.standard_normal(50) for _ in range(4)]
    expected = [costad.grad(_many)(x) for x in xs]
    results: list = [[] for _ in xs]

    def work(k):
        for _ in range(40):
            results[k].append(costad.grad(_many)(xs[k]))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, got in enumerate(results):
        assert len(got) == 40
        for g in got:
            np.testing.assert_array_equal(g, expected[k])


def test_adjoints_of_permuted_3d_views_keep_the_layout_of_fresh_sums(monkeypatch):
    # y's adjoint receives contributions in every axis order of a (20, 3, 4) array (the
    # C-ordered ones of y * y last, as y * y is computed first); the
    # buffer takes a contribution in place only where a fresh sum has the buffer's layout
    # (and does so for a buffer that is not C-ordered, with a contribution of its strides).
    perms = [(0, 1, 2), (2, 1, 0), (1, 0, 2), (0, 2, 1), (1, 2, 0), (2, 0, 1)]
    x, b = RNG.standard_normal((20, 3, 4)), RNG.standard_normal((1, 3, 1))
    ks = {p: RNG.standard_normal(tuple((20, 3, 4)[i] for i in p)) for p in perms}
    # (The sweep meets the terms of a sum last first.)
    orders = [[(0, 1, 2), (2, 1, 0), (2, 1, 0), (2, 1, 0)], perms, perms[::-1],
              [(1, 0, 2), (1, 0, 2), (0, 2, 1), (2, 0, 1), (1, 0, 2)]]
    taken_by_other_layouts = []
    add_in_place = reverse_module.add_in_place

    def spy(buffer, contribution):
        done = add_in_place(buffer, contribution)
        if done and not buffer.flags.c_contiguous:
            taken_by_other_layouts.append(buffer.strides)
        return done

    for order in orders:
        def f(q, order=order):
            y = q[0] + q[1]
            return np.sum(y * y) + sum(np.sum(np.transpose(y, p) * ks[p]) for p in order)

        monkeypatch.setattr(reverse_module, "add_in_place", spy)
        _same_with_and_without_in_place(monkeypatch, lambda: costad.grad(f)((x, b)))
        monkeypatch.setattr(reverse_module, "add_in_place", add_in_place)
        g, g_forward = costad.grad(f)((x, b)), costad.grad(f, mode="forward")((x, b))
        np.testing.assert_allclose(g[1], g_forward[1], rtol=1e-12)
    assert taken_by_other_layouts
