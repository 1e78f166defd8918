"""Reverse mode holds read-only the constant arrays its VJP rules read, while its tape lives.

The tape keeps the constant (untraced) arrays f passed to operations by reference, and the
rules read them when the sweep comes back, at the end: an f that refilled a work buffer after
using it, or a caller changing an array before calling a pullback, gave the gradient of the
new contents, silently. Rather than copying every constant on every call, `ReverseTrace`
makes such an array read-only when it records it and writeable again when the tape is freed
(`costad.reverse._HeldTape`). These tests check the error, the restoration in every way a
tape ends, pullbacks held by the caller, arrays read-only before, views, threads, nested
derivatives, checkpointed loops, and that values and counts are those of before.
"""
import gc
import threading

import numpy as np
import pytest

import costad
from costad import ShapeDtype
from costad.functions import mlp_K, mlp_loss
from costad.reverse import _FROZEN, _HeldTape, record
from costad.tree import flatten_inputs

RNG = np.random.default_rng(23)


def _buffer_loss(data, buffer):
    def f(w):
        total = 0.0
        for row in data:
            buffer[:] = row                     # the work buffer, refilled after its use
            total = total + np.sum(w * buffer)
        return total
    return f


def _writeable(*arrays):
    return all(a.flags.writeable for a in arrays)


# ------------------------------------------------------------------------- the error

@pytest.mark.parametrize("how", ["grad", "value_and_grad", "vjp", "jacobian", "counted"])
def test_a_write_into_a_recorded_constant_is_a_clear_error_and_everything_is_given_back(how):
    data, buffer = np.arange(12.0).reshape(4, 3), np.empty(3)
    f = _buffer_loss(data, buffer)
    w = np.ones(3)
    call = {"grad": lambda: costad.grad(f)(w),
            "value_and_grad": lambda: costad.value_and_grad(f)(w),
            "vjp": lambda: costad.vjp(f, w),
            "jacobian": lambda: costad.jacobian(f, mode="reverse")(w),
            "counted": lambda: costad.count(costad.grad(f), w)}[how]
    with pytest.raises(costad.FrozenConstantError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    assert "`buffer` (float64 array of shape (3,))" in message and "to mul" in message
    assert "buffer[:] = row" in message
    assert ("reverse mode reads this constant array when it sweeps back; write into a copy, "
            "or a fresh array per use") in message
    assert isinstance(info.value, ValueError)
    assert "read-only" in str(info.value.__cause__)            # NumPy's own, chained
    assert _writeable(data, buffer)
    # The same f in forward mode and by differences: the sum of the rows.
    np.testing.assert_array_equal(costad.grad(f, mode="forward")(w), data.sum(axis=0))
    np.testing.assert_allclose(costad.grad(f, mode="fd")(w), data.sum(axis=0), rtol=1e-6)


def test_a_buffer_kept_as_an_attribute_is_named_by_it():
    class Model:
        def __init__(self):
            self.scratch = np.empty(3)
            self.data = RNG.standard_normal((2, 3))

        def loss(self, w):
            total = 0.0
            for row in self.data:
                np.copyto(self.scratch, row)
                total = total + np.sum(np.sin(w) * self.scratch)
            return total

    model = Model()
    with pytest.raises(costad.FrozenConstantError, match=r"`self\.scratch`.*to mul"):
        costad.grad(model.loss)(np.ones(3))
    assert _writeable(model.scratch, model.data)


def test_a_fresh_buffer_per_use_or_a_copy_is_right():
    data = RNG.standard_normal((4, 3))
    w = RNG.standard_normal(3)

    def fresh(w):
        total = 0.0
        for row in data:
            buffer = np.empty(3)
            buffer[:] = row
            total = total + np.sum(w * buffer)
        return total

    buffer = np.empty(3)

    def copied(w):
        total = 0.0
        for row in data:
            buffer[:] = row
            total = total + np.sum(w * buffer.copy())
        return total

    for f in (fresh, copied):
        np.testing.assert_allclose(costad.grad(f)(w), data.sum(axis=0), rtol=1e-14)
    assert buffer.flags.writeable


def test_a_write_before_any_use_and_into_unread_constants_is_allowed():
    # Only an array a recorded rule reads is held: one written before its first use is
    # fine, and so is an add's constant operand (its rule reads no value).
    buffer, offset = np.empty(3), np.zeros(3)

    def f(w):
        buffer[:] = 2.0
        y = w * buffer
        z = y + offset
        offset[:] = 5.0                          # add's rule never reads it
        return np.sum(z)

    np.testing.assert_array_equal(costad.grad(f)(np.ones(3)), np.full(3, 2.0))
    assert _writeable(buffer, offset)



@pytest.mark.parametrize("use", [
    lambda w, c: np.concatenate([w, c]),
    lambda w, c: np.stack([w, c]).reshape(-1),
], ids=["concatenate", "stack"])
def test_constants_only_moved_into_place_are_not_held(use):
    # Structural operations' rules read their arguments' shapes, never their values (their
    # records say so: `vjp_reads_args=False`): a constant they only move into place may be
    # written afterwards, the gradient stays right.
    const = np.arange(3.0)

    def f(w):
        y = use(w, const)
        const[:] = -1.0
        return np.sum(y * y)

    g = costad.grad(f)(np.ones(3))
    np.testing.assert_array_equal(g, np.full(3, 2.0))
    assert const.flags.writeable

def test_the_array_is_read_only_while_f_is_recorded():
    X = RNG.standard_normal((4, 3))
    seen = []

    def f(w):
        y = X @ w
        seen.append(X.flags.writeable)
        return np.sum(np.tanh(y))

    costad.value_and_grad(f)(np.ones(3))
    assert seen == [False] and X.flags.writeable


def test_nested_derivatives_raise_the_error_once():
    data, buffer = np.arange(6.0).reshape(2, 3), np.empty(3)
    f = _buffer_loss(data, buffer)
    for outer in ("reverse", "forward"):
        with pytest.raises(costad.FrozenConstantError) as info:
            costad.grad(lambda w: np.sum(costad.grad(f)(w) ** 2), mode=outer)(np.ones(3))
        assert info.value.__cause__.__class__ is ValueError
        assert _writeable(data, buffer)


# ------------------------------------------------------------------- when it is given back

def test_a_pullback_keeps_the_callers_constants_read_only_until_it_is_dropped():
    A, c = RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    f = lambda x: np.tanh(A @ x) * c                                    # noqa: E731
    x = RNG.standard_normal(3)
    expected = costad.jacobian(f, mode="forward")(x)
    value, pullback = costad.vjp(f, x)
    assert not A.flags.writeable and not c.flags.writeable
    with pytest.raises(ValueError, match="read-only") as info:
        A[0, 0] = 100.0                          # NumPy's own error, outside f
    assert not isinstance(info.value, costad.CostadError)
    with pytest.raises(ValueError, match="read-only"):
        c += 1.0
    rows = [pullback(np.eye(3)[i]) for i in range(3)]
    np.testing.assert_allclose(np.array(rows), expected, rtol=1e-13)
    del pullback
    assert A.flags.writeable and c.flags.writeable
    A[0, 0] = 100.0                              # the caller's again


def test_make_vjp_and_a_once_pullback():
    A = RNG.standard_normal((3, 3))
    f = lambda x: np.sum(np.sin(A @ x))                                  # noqa: E731
    _, pullback = costad.make_vjp(f, np.ones(3))
    assert not A.flags.writeable
    pullback(1.0)
    pullback(1.0)                                # may be called again: still read-only
    assert not A.flags.writeable
    del pullback
    assert A.flags.writeable
    _, once = costad.make_vjp(f, np.ones(3), once=True)
    assert not A.flags.writeable
    once(1.0)                                    # swept for good: given back at once
    assert A.flags.writeable
    del once


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacobian", "hessian", "hvp",
                                  "trace", "counted", "abstract"])
def test_constants_are_writeable_after_every_reverse_transformation(name):
    A, b = RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    f = lambda x: np.sum(np.tanh(A @ x) * b) + np.sum(x * x * b)        # noqa: E731
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)
    run = {"grad": lambda: costad.grad(f)(x),
           "value_and_grad": lambda: costad.value_and_grad(f)(x),
           "jacobian": lambda: costad.jacobian(lambda t: np.tanh(A @ t) * b,
                                               mode="reverse")(x),
           "hessian": lambda: costad.jacobian(costad.grad(f), mode="reverse")(x),
           "hvp": lambda: costad.hvp(f, x, v),
           "trace": lambda: costad.trace(f, x),
           "counted": lambda: costad.count(costad.value_and_grad(f), x),
           "abstract": lambda: costad.count(costad.value_and_grad(f), ShapeDtype((3,)))}[name]
    result = run()
    assert _writeable(A, b)
    assert not _FROZEN
    del result


def test_constants_are_given_back_after_an_exception_in_f():
    A = RNG.standard_normal((3, 3))

    def f(x):
        y = A @ x
        if True:
            raise RuntimeError("f failed")
        return np.sum(y)

    with pytest.raises(RuntimeError, match="f failed") as info:
        costad.grad(f)(np.ones(3))
    assert A.flags.writeable                     # though the traceback is still held
    del info
    with pytest.raises(costad.NonScalarOutputError):
        costad.grad(lambda x: A @ x)(np.ones(3))  # after recording, before the sweep
    assert A.flags.writeable
    with pytest.raises(costad.ShapeError):
        costad.jacobian(lambda x: [A @ x], mode="reverse")(np.ones(3))
    assert A.flags.writeable


def test_a_traced_value_kept_by_f_does_not_keep_the_constants_read_only():
    A = RNG.standard_normal((3, 3))
    kept = []

    def f(x):
        y = A @ x
        kept.append(y)                           # escapes
        return np.sum(y * y)

    costad.grad(f)(np.ones(3))
    assert A.flags.writeable
    with pytest.raises(costad.EscapedTracerError):
        kept[0] + 1.0


def test_an_array_read_only_before_stays_read_only_and_is_not_held():
    A = RNG.standard_normal((3, 3))
    A.flags.writeable = False
    base = RNG.standard_normal((4, 3))
    base.flags.writeable = False
    view = base[1:]                              # a view of a read-only base
    f = lambda x: np.sum(np.tanh(A @ x) * (view @ x))                    # noqa: E731
    x = RNG.standard_normal(3)
    _, pullback = costad.vjp(f, x)
    assert not _FROZEN                           # nothing of costad's to give back
    np.testing.assert_allclose(pullback(1.0), costad.grad(f, mode="forward")(x), rtol=1e-13)
    del pullback
    assert not A.flags.writeable and not base.flags.writeable and not view.flags.writeable


def test_a_view_is_held_not_its_base_and_a_refused_restore_does_not_raise():
    base = RNG.standard_normal((4, 3))
    view = base[:3]
    f1 = lambda x: np.sum(view @ x * x)                                   # noqa: E731
    f2 = lambda x: np.sum(np.sin(base @ x))                               # noqa: E731
    _, pull_view = costad.vjp(f1, np.ones(3))
    assert not view.flags.writeable and base.flags.writeable   # the base is not protected
    _, pull_base = costad.vjp(f2, np.ones(3))
    assert not base.flags.writeable
    del pull_view            # NumPy refuses to make a view of a read-only base writeable
    assert not view.flags.writeable
    del pull_base            # the base is given back, and then the view
    assert base.flags.writeable and view.flags.writeable
    assert not _FROZEN


def test_a_view_whose_owner_made_its_base_read_only_is_left_read_only_without_error():
    base = RNG.standard_normal((4, 3))
    view = base[:3]
    _, pullback = costad.vjp(lambda x: np.sum(view @ x), np.ones(3))
    base.flags.writeable = False                 # the owner's choice, meanwhile
    del pullback                                 # refused by NumPy: no error
    assert not view.flags.writeable and not _FROZEN
    base.flags.writeable = True
    costad.grad(lambda x: np.sum(np.sin(base @ x)))(np.ones(3))
    assert view.flags.writeable                  # made writeable once it could be


# ----------------------------------------------------------------------------- threads

def test_a_constant_shared_by_two_threads_stays_read_only_until_the_last_tape_is_freed():
    X = RNG.standard_normal((5, 3))
    f = lambda w: np.sum(np.tanh(X @ w))                                  # noqa: E731
    w = RNG.standard_normal(3)
    expected = costad.grad(f, mode="forward")(w)
    _, pullback = costad.vjp(f, w)               # this thread's tape holds X
    results = []
    worker = threading.Thread(target=lambda: results.append(costad.grad(f)(w)))
    worker.start()
    worker.join()
    np.testing.assert_allclose(results[0], expected, rtol=1e-13)
    assert not X.flags.writeable                 # the other thread's tape is gone, not ours
    del pullback
    assert X.flags.writeable


def test_threads_recording_with_the_same_constant_at_once():
    X = RNG.standard_normal((8, 4))
    f = lambda w: np.sum(np.tanh(X @ w) * X[:, 0])                        # noqa: E731
    w = RNG.standard_normal(4)
    expected = costad.grad(f)(w)
    barrier = threading.Barrier(2)
    errors, gradients = [], []

    def work():
        try:
            barrier.wait()
            for _ in range(40):
                gradients.append(costad.grad(f)(w))
                _, pullback = costad.vjp(f, w)
                assert not X.flags.writeable
                gradients.append(pullback(1.0))
                del pullback
        except BaseException as error:           # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(gradients) == 160
    for g in gradients:
        np.testing.assert_array_equal(g, expected)
    assert X.flags.writeable and not _FROZEN


# ----------------------------------------------------- values and counts are those of before

def test_nested_derivatives_are_right():
    A = RNG.standard_normal((3, 3))
    S = A + A.T
    f = lambda x: 0.5 * np.sum(x * (S @ x)) + np.sum(np.sin(x))           # noqa: E731
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)
    hessian = S - np.diag(np.sin(x))
    for inner, outer in [("reverse", "reverse"), ("reverse", "forward"),
                         ("forward", "reverse")]:
        H = costad.jacobian(costad.grad(f, mode=inner), mode=outer)(x)
        np.testing.assert_allclose(H, hessian, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(costad.hvp(f, x, v), hessian @ v, rtol=1e-12)
    assert S.flags.writeable and not _FROZEN


@pytest.mark.parametrize("checkpoints", [1, 2, "sqrt"])
def test_a_checkpointed_scan_with_constant_inputs_is_right(checkpoints):
    U = RNG.standard_normal((3, 3)) * 0.5        # in the step's closure
    xs = RNG.standard_normal((6, 3))             # a constant sequence

    def loss(W, checkpoints):
        def step(h, x):
            return np.tanh(W @ h + U @ x), None
        h, _ = costad.scan(step, np.ones(3), xs, checkpoints=checkpoints)
        return np.sum(h ** 2)

    W = RNG.standard_normal((3, 3)) * 0.5
    value, g = costad.value_and_grad(lambda t: loss(t, None))(W)
    value_ck, g_ck = costad.value_and_grad(lambda t: loss(t, checkpoints))(W)
    assert value_ck == value
    np.testing.assert_allclose(g_ck, g, rtol=1e-12)
    np.testing.assert_allclose(g, costad.grad(lambda t: loss(t, None), mode="forward")(W),
                               rtol=1e-12)
    assert _writeable(U, xs) and not _FROZEN


def _mlp_case(widths=(6, 5, 4), batch=7):
    rng = np.random.default_rng(5)
    params = []
    for d_in, d_out in zip(widths[:-1], widths[1:]):
        params += [rng.standard_normal((d_in, d_out)) * 0.3, rng.standard_normal(d_out)]
    X = rng.standard_normal((batch, widths[0]))
    Y = np.eye(widths[-1])[rng.integers(0, widths[-1], batch)]
    return params, X, Y, widths, batch


def test_counts_are_unchanged_and_abstract_counts_equal_concrete_ones():
    params, X, Y, widths, batch = _mlp_case()
    f = lambda p: mlp_loss(p, X, Y)                                       # noqa: E731
    assert costad.count(f, params).total == mlp_K(widths, batch)
    counted = costad.count(costad.value_and_grad(f), params)
    abstract = costad.count(costad.value_and_grad(f),
                            [ShapeDtype(p.shape) for p in params])
    assert counted.by_op == abstract.by_op
    assert counted.stored_bytes == abstract.stored_bytes
    assert counted.peak_bytes == abstract.peak_bytes
    with costad.counting() as c:
        value, g = costad.value_and_grad(f)(params)
    assert c.by_op == counted.by_op
    assert _writeable(X, Y, *params) and not _FROZEN


def test_values_are_bit_identical_to_a_tape_of_copied_constants():
    # Freezing changes no arithmetic: the gradient is, bit for bit, that of the same
    # function whose constants are fresh copies on every call (nothing to freeze or share).
    params, X, Y, _, _ = _mlp_case((8, 6, 6, 3), 5)
    frozen = costad.value_and_grad(lambda p: mlp_loss(p, X, Y))(params)
    copied = costad.value_and_grad(lambda p: mlp_loss(p, X.copy(), Y.copy()))(params)
    assert frozen[0] == copied[0]
    for a, b in zip(frozen[1], copied[1]):
        assert a.tobytes() == b.tobytes()


def test_scalar_code_never_gets_a_held_tape():
    leaves, tree = flatten_inputs(1.5)
    tape, *_ = record(lambda x: np.sin(x) * 2.0 + x * np.float64(3.0), leaves, tree)
    assert tape.__class__ is list
    A = np.ones((2, 2))
    leaves, tree = flatten_inputs(np.ones(2))
    tape, *_ = record(lambda x: np.sum(A @ x), leaves, tree)
    assert tape.__class__ is _HeldTape and not A.flags.writeable
    del tape
    gc.collect()
    assert A.flags.writeable


def test_a_reverse_jacobian_refused_for_its_output_type_gives_the_constants_back():
    data = np.arange(3.0)
    with pytest.raises(costad.OutputTypeError, match=r"f\(x\) is a str") as caught:
        costad.jacobian(lambda w: "a" if np.sum(w * data) is not None else 0.0,
                        mode="reverse")(np.ones(3))
    assert caught.tb is not None                # the traceback, and its frames, still live
    assert data.flags.writeable
