"""Problems found by probing costad as a hostile user would, each fixed and kept here.

Each test asserts the behaviour the README promises (or the only reasonable one). Silent
wrong numbers first, then crashes, then the rest.
"""
import numpy as np
import pytest

import costad

SD = costad.ShapeDtype


def _differing_fields(a, b):
    return {f: (getattr(a, f), getattr(b, f)) for f in costad.Cost.__slots__
            if getattr(a, f) != getattr(b, f)}


# ----------------------------------------------------------------- silent wrong numbers

def test_reverse_gradient_with_masked_array_constant_matches_its_value_or_is_refused():
    # (x * ma).sum() skips the masked element: value 26, gradient [1, 0, 3, 4] (forward
    # mode and finite differences agree). Reverse mode returns [1, 1, 3, 4].
    ma = np.ma.masked_array([1.0, 2.0, 3.0, 4.0], mask=[0, 1, 0, 0])
    f = lambda x: (x * ma).sum()
    x = np.array([1.0, 2.0, 3.0, 4.0])
    try:
        g = costad.grad(f, mode="reverse")(x)
    except (costad.CostadError, TypeError):
        return                                   # refusing the subclass is fine too
    np.testing.assert_allclose(g, costad.grad(f, mode="forward")(x))


def test_vjp_with_masked_array_cotangent_is_refused():
    # ndarray subclasses are refused as inputs (README), but a masked cotangent is taken:
    # pullback([1, --, 3]) of x -> 2x returns [2, 2, 6], neither the data (4) nor 0.
    _, pullback = costad.vjp(lambda x: x * 2.0, np.ones(3))
    ct = np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises((costad.CostadError, TypeError)):
        pullback(ct)


def test_mutating_the_vjp_value_does_not_change_the_pullback():
    # The value vjp returns is the tape's own array, and tanh's VJP reuses its output:
    # the usual residual pattern r, pb = vjp(model, w); r -= y; pb(r) silently gives a
    # wrong gradient ([-0.2234, -0.3200] instead of [-0.2259, -0.3389]).
    A = np.array([[1.0, 2.0], [0.5, -1.0]])
    w, y = np.array([0.3, -0.2]), np.array([0.1, 0.4])
    model = lambda w: np.tanh(A @ w)
    r, pullback = costad.vjp(model, w)
    expected = pullback(r - y)
    r, pullback = costad.vjp(model, w)
    r -= y
    np.testing.assert_allclose(pullback(r), expected, rtol=1e-12)


def test_pullback_is_not_changed_by_updating_the_input_in_place_afterwards():
    # The tape keeps the caller's array itself: updating x in place after vjp (an
    # optimiser step, say) changes every later pullback: [0, 0, 0] instead of [2, 4, 6].
    x = np.array([1.0, 2.0, 3.0])
    _, pullback = costad.vjp(lambda y: y ** 2, x)
    x[:] = 0.0
    np.testing.assert_allclose(pullback(np.ones(3)), [2.0, 4.0, 6.0])


def test_vjp_value_of_a_copy_is_not_the_callers_array():
    # y.copy() and y.astype(np.float64) make new arrays in NumPy; traced, they return the
    # input itself, so vjp hands back the caller's array and mutating the result
    # changes the caller's x.
    for f in (lambda y: y.copy(), lambda y: y.astype(np.float64)):
        x = np.array([0.3, -0.2, 0.5])
        value, _ = costad.vjp(f, x)
        value += 7.0
        np.testing.assert_array_equal(x, [0.3, -0.2, 0.5])


def test_reverse_gradient_of_float64_program_is_not_rounded_to_float32():
    # The value is float64 (np.float64 * np.float32 is float64); forward mode gives 3.1.
    # Reverse mode's seed is a weak Python float, so the adjoint buffer of x takes the
    # dtype of the float32 contribution and the gradient is rounded to float32.
    f = lambda x: x[0] * 0.1 + x[0] * np.float32(3.0)
    x = np.array([1.0])
    assert f(x).dtype == np.float64
    g = costad.grad(f, mode="reverse")(x)
    assert abs(g[0] - 3.1) < 1e-12, repr(g)


def test_reverse_sweep_of_float32_program_stays_float32():
    # The backward sweep of a float32 program runs in float64 (the seed 1.0 is broadcast
    # to a float64 array), so its bytes are overcounted and hvp returns float64.
    f = lambda x: np.exp(x).sum()
    b64 = costad.count(costad.value_and_grad(f), np.ones(1000)).bytes
    b32 = costad.count(costad.value_and_grad(f), np.ones(1000, np.float32)).bytes
    assert 2 * b32 == b64, (b32, b64)            # 24004 and 48008; counted 32004
    x = np.array([0.5, 1.0, 2.0], np.float32)
    hv = costad.hvp(lambda y: (np.sin(y) ** 2).sum(), x, np.ones(3, np.float32))
    assert hv.dtype == np.float32


def test_fd_gradient_of_identity_at_large_input_is_one_or_refused():
    # x + h rounds to x + 2h here (h = 2**-26 is half an ulp), and fd divides by h:
    # the derivative of t -> t comes out as 2.0. README: a step lost to rounding is refused.
    x = 1.5e8 + 2.0 ** -25
    try:
        g = costad.grad(lambda t: t * 1.0, mode="fd")(x)
    except ValueError:
        return
    assert abs(g - 1.0) < 1e-6, g


def test_fd_gradient_of_float32_computation_on_float64_input_is_not_silently_zero():
    # f computes in float32; the float64 default step (1.5e-8) vanishes in f's rounding and
    # fd returns exactly 0 while forward, reverse and fd-central give about [4, 6].
    f = lambda x: (x.astype(np.float32) ** 2).sum()
    x = np.array([2.0, 3.0])
    try:
        g = costad.grad(f, mode="fd")(x)
    except ValueError:
        return
    np.testing.assert_allclose(g, [4.0, 6.0], rtol=1e-2)


def test_abstract_count_of_eigh_eigenvalue_gradient_matches_concrete():
    # The concrete VJP skips the eigenvector term when its cotangent is exactly zero (a
    # value test); the abstract count cannot, so the two differ (README: equal, field by
    # field, and no count depends on values).
    S = np.diag([1.0, 2.0, 3.0, 4.0])
    f = lambda x: (np.linalg.eigh(S + np.outer(x, x))[0] ** 2).sum()
    F = costad.value_and_grad(f, mode="reverse")
    concrete = costad.count(F, np.array([0.3, -0.7, 1.1, 0.45]))
    abstract = costad.count(F, SD((4,)))
    assert not _differing_fields(concrete, abstract)


def test_integer_index_of_matrix_row_is_a_view_moving_no_bytes():
    # x[0] of a 2-d array is a view, but getitem's traffic rule charges any all-integer
    # index as a copy; the abstract count then also stores it (stored_bytes differ).
    assert costad.count(lambda x: x[0], np.ones((3, 4))).bytes == 0
    F = costad.value_and_grad(lambda x: (x[0] * np.ones(2)).sum())
    assert not _differing_fields(costad.count(F, np.ones((2, 2))), costad.count(F, SD((2, 2))))


def test_fresh_arrays_with_a_numpy_base_are_counted_in_stored_bytes():
    # tape_storage takes any array with a base for a view. np.einsum(optimize=True) and
    # mixed advanced indexing (x[:, [2, 0, 2]]) return fresh arrays whose base is NumPy's
    # internal buffer, so the concrete stored_bytes miss them (40 vs 72; 184 vs 256).
    F = costad.value_and_grad(lambda x: np.einsum("ij,jk->ik", x, x).sum())
    concrete = costad.count(F, np.ones((2, 2)))
    abstract = costad.count(F, SD((2, 2)))
    assert concrete.stored_bytes == abstract.stored_bytes == 32 + 32 + 8
    F = costad.value_and_grad(lambda x: (x[:, [2, 0, 2]] ** 2).sum())
    assert costad.count(F, np.ones((3, 4))).stored_bytes == costad.count(
        F, SD((3, 4))).stored_bytes


def test_reverse_gradient_of_max_with_nan_does_not_hide_the_nan():
    # np.max([nan, 1]) is nan; forward mode's derivative is nan, reverse mode returns a
    # finite [0, 0] (README: NaN is computed through, never hidden; reverse keeps it
    # where it is).
    g = costad.grad(lambda x: np.max(x), mode="reverse")(np.array([np.nan, 1.0]))
    assert np.isnan(g).any(), g


def test_maximum_derivative_follows_the_nan_argument_numpy_selected():
    # np.maximum(nan, 1.0) returns the nan (x[0]); every AD mode sends the derivative to
    # x[1], which NumPy did not select, giving a finite gradient of a nan function.
    f = lambda x: np.maximum(x[0], x[1])
    x = np.array([np.nan, 1.0])
    for mode in ("forward", "reverse"):
        g = costad.grad(f, mode=mode)(x)
        assert g[1] == 0.0 or np.isnan(g).any(), (mode, g)


def test_calibration_is_not_changed_by_mutating_the_callers_dict():
    # Calibration is frozen and validated, but keeps the caller's dicts: changing them
    # afterwards bypasses validation and predicts a negative time.
    overhead = {"eval": 1e-6}
    cal = costad.Calibration(overhead, {}, 1e-9, 1e10)
    cost = costad.count(lambda x: np.sin(x), np.ones(10))
    before = costad.predict_time(cost, cal).seconds
    overhead["eval"] = -5.0
    assert costad.predict_time(cost, cal).seconds == before


def test_matrix_constant_in_f_is_refused_or_counted_as_its_product():
    # ndarray * np.matrix is a matrix product in NumPy (value 29 here); costad counts four
    # elementwise multiplications for it (a 2x2 product is 8 mul and 4 add).
    M = np.matrix([[1.0, 2.0], [3.0, 4.0]])

    def f(x):
        y = x.reshape(2, 2) * M
        return y[0, 0] + y[1, 1]

    try:
        cost = costad.count(f, np.array([1.0, 2.0, 3.0, 4.0]))
    except (costad.CostadError, TypeError):
        return
    assert cost.by_op.get("mul", 0) + cost.work.get("matmul", 0) >= 8, cost


def test_abstract_reverse_count_allocates_nothing_of_the_input_size():
    # README: abstract counts are made "without computing values or allocating the
    # arrays". The seed 1.0 is broadcast to a concrete zero-stride array, and the first
    # add of two such contributions (x used twice) materialises n floats: 76 MB here,
    # 8 GB at n = 10**9.
    import tracemalloc
    F = costad.value_and_grad(lambda x: x.sum() + x.sum(), mode="reverse")
    tracemalloc.start()
    try:
        costad.count(F, SD((10 ** 7,)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 ** 20, peak


def test_checkpointed_scan_peak_bytes_grow_with_the_snapshots_kept():
    # The scan's working set (snapshots and step tapes) is charged with max() beside the
    # enclosing tape's peak instead of on top of it, although the enclosing tape (here it
    # holds xs, 128 kB) is alive throughout the loop's reversal. Keeping 16 carries of 8 kB
    # and keeping 1 then report the same peak_bytes (168264).
    n, l = 1000, 16

    def peak(s):
        f = lambda p: costad.scan(lambda h, x: (np.tanh(p * h + x), None), np.ones(n),
                                  np.ones((l, n)), checkpoints=s)[0].sum()
        return costad.count(costad.value_and_grad(f), np.full(n, 0.5)).peak_bytes

    assert peak(16) > peak(1)


# --------------------------------------------------------------- crashes and tracebacks

def test_reverse_mode_with_matrix_constant_has_no_internal_error():
    # AssertionError "costad internal error: a gradient of shape (1, 4) for an input of
    # shape (4,)" instead of a gradient or a clear refusal.
    M = np.matrix([[1.0, 2.0], [3.0, 4.0]])

    def f(x):
        y = x.reshape(2, 2) * M
        return y[0, 0] + y[1, 1]

    x = np.array([1.0, 2.0, 3.0, 4.0])
    try:
        g = costad.grad(f, mode="reverse")(x)
    except (costad.CostadError, TypeError):
        return
    np.testing.assert_allclose(g, costad.grad(f, mode="fd-central")(x), rtol=1e-6)


def test_reverse_jacobian_nests_in_other_derivatives():
    # jacobian(mode="reverse") writes each row into np.zeros with rows[i] = ..., which a
    # traced row refuses: grad of it, and counting it, raise TypeError (forward works).
    f = lambda x: np.sin(x) * x.sum()
    x = np.array([0.5, 1.0, 2.0])
    expected = costad.grad(lambda y: costad.jacobian(f, mode="forward")(y).sum())(x)
    got = costad.grad(lambda y: costad.jacobian(f, mode="reverse")(y).sum())(x)
    np.testing.assert_allclose(got, expected)


def test_count_of_reverse_jacobian_on_concrete_input():
    f = lambda x: np.sin(x) * x.sum()
    J = costad.jacobian(f, mode="reverse")
    with costad.counting() as c:
        J(np.ones(3))
    assert costad.count(J, np.ones(3)).total == c.total


def test_count_of_hvp_through_checkpoint():
    # hvp of a function using costad.checkpoint (or a checkpointed scan) runs, and counts
    # inside counting(), but costad.count of it raises UnsupportedOperationError ("a loop
    # body used a traced value that was not in use when costad first ran it"), on concrete
    # and abstract inputs alike.
    f = lambda x: costad.checkpoint(lambda a: np.sin(a) * a)(x).sum()
    H = lambda y: costad.hvp(f, y, np.ones(3))
    x = np.array([0.3, -0.7, 1.1])
    with costad.counting() as c:
        H(x)
    assert costad.count(H, x).total == c.total
    assert costad.count(H, SD((3,))).total == c.total


def test_checkpoint_passes_non_array_arguments_unchanged():
    # README: outside any derivative checkpoint(f) is f itself; here f(x, 1) works but
    # checkpoint(f)(x, 1) raises TypeError (the int is wrapped as a traced value).
    f = lambda a, k: a[k] * a[0]
    x = np.array([0.5, 1.5, 2.0])
    assert costad.checkpoint(f)(x, 1) == f(x, 1)
    g = costad.grad(lambda y: costad.checkpoint(f)(y, 1))(x)
    np.testing.assert_allclose(g, [1.5, 0.5, 0.0])


def test_checkpointed_scan_accepts_integer_xs():
    # xs of step indices work with checkpoints=None, but raise TypeError with checkpoints.
    x = np.array([0.5, 1.5, 2.0])
    step = lambda c, k: (c * x[k], None)
    plain, _ = costad.scan(step, 1.0, np.arange(3))
    checkpointed, _ = costad.scan(step, 1.0, np.arange(3), checkpoints=2)
    assert checkpointed == plain


def test_trace_of_function_using_checkpoint():
    # trace() fails on the checkpoint primitive (TypeError: unexpected 'residuals') and on a
    # checkpointed scan (NumPy ValueError from shape_of on its tuple output).
    f = lambda x: costad.checkpoint(lambda a: a * 2.0)(x).sum()
    graph = costad.trace(f, np.ones(2))
    assert graph.cost.total == costad.count(f, np.ones(2)).total
    g = lambda x: costad.scan(lambda c, _: (c * x, None), np.ones(2), length=3,
                              checkpoints=2)[0].sum()
    costad.trace(g, np.ones(2))


def test_abstract_count_of_grad_of_forward_grad_is_refused_clearly():
    # An inner forward (or fd) gradient runs one pass per abstract input array and charges
    # it n times; an outer derivative would have to differentiate all n passes. Concrete
    # inputs count it; abstract ones get a clear error, not a misleading one.
    g = lambda z: (np.sin(z) ** 2).sum()
    F = costad.grad(lambda y: (costad.grad(g, mode="forward")(y) * np.arange(4.0)).sum(),
                    mode="reverse")
    assert costad.count(F, np.ones(4)).total > 0
    with pytest.raises(costad.UnsupportedOperationError, match="concrete input"):
        costad.count(F, SD((4,)))

def test_abstract_count_of_boolean_mask_reduction():
    # The README's own example of a piecewise-constant output, (x > 0).sum(): concrete
    # counts work, abstract ones raise AttributeError ('ShapeDtype' has no attribute 'sum').
    f = lambda x: (x > 0).sum() + x.sum()
    assert not _differing_fields(costad.count(f, np.ones(3)), costad.count(f, SD((3,))))


def test_control_flow_on_abstract_mask_raises_abstract_value_error():
    # Control flow on values must raise AbstractValueError; (x > 0).any() raises a bare
    # AttributeError instead.
    f = lambda x: x.sum() if (x > 0).any() else -x.sum()
    with pytest.raises(costad.AbstractValueError):
        costad.count(f, SD((3,)))


def test_abstract_count_of_select():
    # np.select is a chain of where, which counts abstractly; with abstract conditions it
    # raises AbstractValueError claiming the values are needed.
    f = lambda x: np.select([x > 0.5, x < -0.5], [x ** 2, x ** 3], default=x).sum()
    assert not _differing_fields(costad.count(f, np.ones(4)), costad.count(f, SD((4,))))


# ------------------------------------------------------------ contradictions of the README

def test_reverse_jacobian_keeps_float32():
    # README: every function keeps float32 in all modes; the forward Jacobian is float32,
    # the reverse one float64.
    x = np.array([0.5, 1.0, 2.0], np.float32)
    f = lambda x: np.sin(x) * x.sum()
    assert costad.jacobian(f, mode="forward")(x).dtype == np.float32
    assert costad.jacobian(f, mode="reverse")(x).dtype == np.float32


def test_abstract_count_of_forward_jacobian_matches_concrete():
    # calls and bytes differ: the concrete Jacobian stacks its columns with counted
    # primitives (broadcast_to, reshape, concatenate), the abstract one does not.
    J = costad.jacobian(lambda x: np.sin(x) * x.sum(), mode="forward")
    assert not _differing_fields(costad.count(J, np.ones(4)), costad.count(J, SD((4,))))


def test_escaped_tracer_in_np_array_raises_escaped_tracer_error():
    kept = []

    def f(x):
        kept.append(x)
        return (x ** 2).sum()

    costad.grad(f)(np.ones(2))
    with pytest.raises(costad.EscapedTracerError):
        np.array(kept[0])


def test_graph_of_tuple_output_does_not_claim_a_constant_output():
    # trace of f returning (x[0] * 2, x[1]) prints "return <constant>": both outputs are
    # traced values. Listing them, or refusing a tuple output clearly, would be right.
    try:
        graph = costad.trace(lambda x: (x[0] * 2.0, x[1]), [1.0, 2.0])
    except (costad.CostadError, ValueError):
        return
    assert "<constant>" not in str(graph)


def test_calibration_with_malformed_tables_is_a_one_line_error():
    # AttributeError ('NoneType' object has no attribute 'items') instead of the ValueError
    # every other malformed value gets; a huge integer bandwidth raises OverflowError.
    with pytest.raises(ValueError):
        costad.Calibration(None, {}, 1e-9, 1e10)
    with pytest.raises(ValueError):
        costad.Calibration({"eval": 1e-6}, [], 1e-9, 1e10)
    with pytest.raises(ValueError):
        costad.Calibration({"eval": 1e-6}, {}, 1e-9, 10 ** 400)


def test_calibration_accepts_numpy_float_values():
    # np.float32(1e-6) is refused with "must be a positive finite number, got
    # np.float32(1e-06)" (np.float64 passes only because it subclasses float).
    cal = costad.Calibration({"eval": np.float32(1e-6)}, {"sin": np.float32(1e-9)},
                             1e-9, 1e10)
    assert costad.predict_time(costad.count(np.sin, np.ones(3)), cal).seconds > 0


def test_shape_dtype_refuses_non_integer_shapes():
    # ShapeDtype((2.5,)) silently becomes shape (2,), and ShapeDtype("12") shape (1, 2).
    with pytest.raises(costad.ShapeError):
        SD((2.5,))
    with pytest.raises(costad.ShapeError):
        SD("12")


def test_checkpointed_scan_refuses_a_carry_that_changes_structure():
    # The step turns the carry (y,) into a scalar. fd, fd-central and forward mode fail at
    # step 2 (c[0] of a scalar); reverse mode with checkpoints silently rebuilds the carry
    # in its initial structure, so step 2 runs and a gradient [1, 3] comes out.
    x = np.array([0.5, 1.5])
    step = lambda c, _: ((c[0] * x).sum(), None)
    F = lambda y: costad.scan(step, (y,), length=2, checkpoints=1)[0][0]
    with pytest.raises((costad.ShapeError, IndexError)):
        costad.grad(F, mode="forward")(x)
    with pytest.raises((costad.ShapeError, IndexError)):
        costad.grad(F, mode="reverse")(x)


def test_tree_unflatten_refuses_a_wrong_number_of_leaves():
    # Extra leaves are silently dropped; too few raise a bare StopIteration.
    _, tree = costad.tree_flatten({"a": 1.0, "b": [2.0, 3.0]})
    with pytest.raises((ValueError, costad.CostadError)):
        costad.tree_unflatten(tree, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises((ValueError, costad.CostadError)):
        costad.tree_unflatten(tree, [1.0, 2.0])


def test_to_dot_escapes_quotes_in_input_names():
    # A dict key holding a double quote is written unescaped into a DOT label
    # (label="t1\ninput x['a"b']"), which Graphviz cannot parse.
    import re
    dot = costad.trace(lambda p: p['a"b'] * 2.0, {'a"b': 1.0}).to_dot()
    for line in dot.splitlines():
        unescaped = len(re.findall(r'(?<!\\)"', line))
        assert unescaped % 2 == 0, line


def test_counted_outside_counting_is_f_itself():
    # README: outside a counting() block counted(f)(x) is f(x); with an integer array it
    # raises InputTypeError ("derivatives need a float array"), though nothing is
    # differentiated.
    x = np.arange(3)
    np.testing.assert_array_equal(costad.counted(lambda y: y * 2)(x), x * 2)
