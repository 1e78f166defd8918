"""Hostile probe of box-mode index accumulation and of the peers' hand-written floor.

Box mode (`costad.adjoints.IndexAccumulator`) allocates its buffer empty, writes a region's
first contribution as ``value + 0`` and zeroes the gaps when the buffer is read. Each test
here holds it to the plain reference (a zeroed buffer, ``+=`` per contribution, an exact
mask for the count, as before box mode), bit for bit and add for add, on the paths a
gradient can take: mixed dtypes and Python scalars, reads of the buffer between
contributions, empty and 0-d arrays, long double, loops, checkpoints, user cotangents,
threads and abstract counting. The last tests poke the peers experiment: the hand-written
gradient's adapter, `rounds_for` and claims P2 and P3 on incomplete results.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import costad
from costad import adjoints
from costad.adjoints import accumulate, densify
from costad.primitives import IndexedCotangent
from costad.study.experiments import peers as experiment
from costad.study.measure import row
from costad.study import results
from costad.study.peers import HandAdapter

from accumulation_reference import accumulated as _accumulated
from accumulation_reference import check as _check
from accumulation_reference import garbage as _garbage
from accumulation_reference import same_bits as _same_bits


# ------------------------------------------------------------------- the accumulator itself

@pytest.mark.filterwarnings("ignore:overflow encountered")
@pytest.mark.parametrize("first, later", [
    (np.float32, np.float64), (np.float64, np.float16), (np.float16, np.float64),
    (np.float64, np.float32), (np.float32, np.int64), (np.float64, np.bool_)])
def test_contributions_of_another_dtype_match_the_zeroed_reference(first, later):
    rng = np.random.default_rng(7)
    big = (rng.standard_normal(6) * 1e5).astype(later) if later is not np.bool_ \
        else np.array([True, False, True, True, False, True])
    contributions = [
        (slice(0, 4), (rng.standard_normal(4) / 3).astype(first), False),
        (slice(10, 16), big, False),                                # a new region, other dtype
        (slice(7, 9), np.array([-0.0, np.nan]).astype(later) if later not in (np.int64, np.bool_)
         else np.array([3, 0]).astype(later), False),
        (slice(2, 12), np.full(10, 1 / 3).astype(later), False),     # overlaps all of them
    ]
    _check((20,), contributions)


def test_python_and_numpy_scalars_into_float16_and_float32_regions():
    for dtype in (np.float16, np.float32):
        contributions = [
            ((slice(0, 2), 1), np.array([0.1, -0.0], dtype=dtype), False),
            ((Ellipsis, 0), np.zeros(3, dtype=dtype) + dtype(1 / 3), False),
            ((2, Ellipsis, 1), 1e-5, False),                         # a 0-d region, Python float
            ((1, 1), np.float64(1 / 7), False),
            ((2, 0), 65519.0 if dtype is np.float16 else 3.4e38, False),
        ]
        _check((3, 2), contributions)


def test_the_buffer_read_between_contributions_is_never_garbage_and_later_adds_are_right():
    contributions = [
        (slice(10, 20), np.arange(10.0), True),         # read: 0..10 and 20.. are gaps
        (slice(30, 40), np.ones(10), True),             # a new region after the read
        (slice(15, 35), np.full(20, 0.5), True),        # overlapping both and a gap
        (3, np.float64(2.0), True),                     # an int on a vector
        (slice(None, None, -1), np.linspace(0, 1, 50), True),
    ]
    _check((50,), contributions)


def test_empty_slices_and_many_empty_boxes_count_nothing_and_read_as_zero():
    contributions = [(slice(i, i), np.zeros(0), False) for i in range(adjoints.MAX_BOXES + 5)]
    contributions += [(slice(2, 6, -1), np.zeros(0), False), (slice(1, 3), np.ones(2), True),
                      (slice(0, 8), np.full(8, 2.0), False)]
    _check((8,), contributions)


def test_a_scalar_int_first_then_boxes_then_fancy_then_dense_on_a_matrix():
    rng = np.random.default_rng(2)
    contributions = [
        ((1, 2), np.float64(5.0), False),
        ((slice(None), 2), rng.standard_normal(4), True),
        ((slice(3, 0, -1), slice(1, 3)), rng.standard_normal((3, 2)), False),
        ((np.array([0, 0, 3]), np.array([1, 1, 2])), np.ones(3), False),
        (None, rng.standard_normal((4, 5)), False),
        ((Ellipsis, -1), rng.standard_normal(4), False),
    ]
    _check((4, 5), contributions)


def test_more_than_max_boxes_of_ints_on_n_d_then_a_strided_slice():
    shape = (4, 5, 3)
    contributions = [((i % 4, (i * 3) % 5, i % 3), np.float64(i + 0.25), False)
                     for i in range(2 * adjoints.MAX_BOXES)]
    contributions += [((slice(None, None, 2),), np.ones((2, 5, 3)), True)]
    _check(shape, contributions)


def test_a_zero_size_array_and_a_zero_d_array():
    _check((0,), [(slice(0, 0), np.zeros(0), True), (slice(None, None, -1), np.zeros(0), False)])
    _check((3, 0), [(1, np.zeros(0), False), ((slice(0, 2),), np.zeros((2, 0)), True)])
    _check((), [((), np.float64(2.5), False), (Ellipsis, np.array(1.5), True)])


def _padding(a: np.ndarray) -> bytes:
    """The bytes of a long double array that hold no value (x86's 80-bit format stored in 12
    or 16 bytes); empty where long double has no padding."""
    if np.finfo(np.longdouble).nmant != 63:
        return b""
    size = np.dtype(np.longdouble).itemsize
    raw = np.frombuffer(np.ascontiguousarray(a).tobytes(), dtype=np.uint8).reshape(-1, size)
    return raw[:, 10:].tobytes()


def test_a_long_double_gradient_through_slices_has_the_zeroed_buffer_s_bytes():
    """Found: long double is stored with padding bytes that a store does not write; box
    mode's empty buffer left them as garbage, so the gradient's bytes differed from run to
    run and from the zeroed buffer's (zero padding; the values were right)."""
    x = np.linspace(-1, 1, 64).astype(np.longdouble)

    def f(t):
        return np.sum(t[0:20] ** 2) + np.sum(t[20:40] * 3) + np.sum(t[50:64])

    want = np.zeros(64, dtype=np.longdouble)
    want[0:20] = 2 * x[0:20]
    want[20:40] = 3
    want[50:64] = 1
    first = None
    for _ in range(5):
        _garbage()
        got = costad.grad(f)(x)
        assert np.array_equal(got, want)
        assert not any(_padding(got))
        first = got.tobytes() if first is None else first
        assert got.tobytes() == first
    for _ in range(5):
        _garbage()
        acc = accumulate(None, IndexedCotangent((8,), slice(2, 4), np.ones(2, np.longdouble)))
        acc = accumulate(acc, IndexedCotangent((8,), slice(6, 7), np.ones(1, np.longdouble)))
        assert np.array_equal(acc.buffer, [0, 0, 1, 1, 0, 0, 1, 0])
        assert not any(_padding(acc.buffer))


# ------------------------------------------------------------ gradients against mask mode

def _both_modes(monkeypatch, thunk):
    """(result, counts) in box mode and with box mode left at once (the zeroed buffer)."""
    _garbage()
    with costad.counting() as boxed_counts:
        boxed = thunk()
    monkeypatch.setattr(adjoints, "MAX_BOXES", 0)
    _garbage()
    with costad.counting() as mask_counts:
        masked = thunk()
    monkeypatch.undo()
    return (boxed, dict(boxed_counts.by_op)), (masked, dict(mask_counts.by_op))


def _assert_same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for p, q in zip(a, b):
            _assert_same(p, q)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    else:
        assert _same_bits(a, b)


def _agree(monkeypatch, thunk):
    (boxed, boxed_counts), (masked, mask_counts) = _both_modes(monkeypatch, thunk)
    _assert_same(boxed, masked)
    assert boxed_counts == mask_counts


def _step(c, xi):
    return c * 0.9 + np.sum(xi[1:3] ** 2) + xi[0], c * xi[2]


@pytest.mark.parametrize("checkpoints", [None, 2, "sqrt"])
def test_scan_with_slices_in_its_step_matches_mask_mode(checkpoints, monkeypatch):
    x = np.linspace(-1.0, 1.0, 24)

    def f(t):
        c, ys = costad.scan(_step, t[0], t.reshape(6, 4), checkpoints=checkpoints)
        inner = costad.scan(lambda c, xi: (c + t[2:5] * xi + t[7], None), np.zeros(3),
                            np.arange(4.0), checkpoints=checkpoints)[0]
        return c + np.sum(ys) + np.sum(inner)
    _agree(monkeypatch, lambda: costad.grad(f)(x))
    _agree(monkeypatch, lambda: costad.hvp(f, x, np.ones(24)))


def test_checkpoint_and_nested_modes_with_overlapping_and_reversed_slices(monkeypatch):
    x = np.linspace(-1.0, 1.0, 12)
    inner = costad.checkpoint(lambda t: np.sum(t[0:5] * t[3:8]) + t[10])

    def f(t):
        return inner(t) * t[1] + np.sum(t[::-1][:4] ** 3) + np.sum(t[9:2:-1])
    _agree(monkeypatch, lambda: costad.grad(f)(x))
    _agree(monkeypatch, lambda: costad.jacobian(costad.grad(f), mode="forward")(x))
    _agree(monkeypatch, lambda: costad.jacobian(costad.grad(f), mode="reverse")(x))
    _agree(monkeypatch, lambda: costad.grad(lambda t: np.sum(costad.grad(f)(t) ** 2))(x))


def test_vjp_with_user_cotangents_of_other_dtypes_and_special_values(monkeypatch):
    x = np.linspace(-1.0, 1.0, 10).astype(np.float32)

    def pull():
        _, pullback = costad.vjp(lambda t: (t[2:6] * 2, t[0] * t[1], t[4:9]), x)
        first = pullback((np.arange(4, dtype=np.float16), 1.0, np.arange(5.0) / 3))
        second = pullback((np.array([-0.0, np.nan, np.inf, -np.inf], np.float32), np.nan,
                           np.full(5, -0.0)))
        return first, second
    _agree(monkeypatch, pull)


def test_zero_d_and_empty_inputs_match_mask_mode(monkeypatch):
    _agree(monkeypatch, lambda: costad.grad(lambda t: t[()] ** 2 + np.sum(t[...] * 3))(
        np.array(1.5)))
    _agree(monkeypatch, lambda: costad.grad(lambda t: np.sum(t[0:0]) + np.sum(t[::-1]))(
        np.zeros(0)))
    _agree(monkeypatch, lambda: costad.grad(lambda t: np.sum(t[1:2]) + np.sum(t[0]))(
        np.zeros((3, 0))))
    _agree(monkeypatch, lambda: costad.grad(
        lambda t: sum(np.sum(t[i:i]) for i in range(40)) + np.sum(t[1:3]))(np.ones(7)))


def test_two_threads_taking_gradients_through_slices_at_once():
    x = np.linspace(-1.0, 1.0, 40)
    out, errors = {}, []

    def worker(k):
        try:
            out[k] = [costad.grad(lambda t: np.sum(t[k:k + 5] ** 2) + t[39] * t[k])(x)
                      for _ in range(100)]
        except Exception as err:                  # pragma: no cover - reported below
            errors.append(err)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(3):
        want = np.zeros(40)
        want[k:k + 5] = 2 * x[k:k + 5]
        want[39] += x[k]
        want[k] += x[39]
        for got in out[k]:
            assert _same_bits(got, want)


def test_abstract_counting_of_sliced_gradients_equals_the_concrete_count():
    def f(t):
        return np.sum(t[0:500] ** 2) + np.sum(t[400:] * 3) + t[5] + np.sum(t[::-1][:10])
    concrete = costad.count(costad.grad(f), np.ones(1000)).by_op
    abstract = costad.count(costad.grad(f), costad.ShapeDtype((1000,), np.float64)).by_op
    assert concrete == abstract


# ------------------------------------------------------------------------------ the peers

def test_the_hand_adapter_on_families_without_a_hand_written_gradient():
    hand = HandAdapter()
    assert not hand.applies_to("seed") and not hand.applies_to("rnn")
    assert hand.applies_to("mlp") and hand.applies_to("mlp-512")
    with pytest.raises(KeyError, match="unknown function family"):
        hand.applies_to("no-such-family")
    with pytest.raises(TypeError, match="belongs to a family"):
        hand.prepare(lambda x: x, np.ones(3))


@pytest.mark.parametrize("repeats, first, expected", [
    (1, 0.0, 4), (1, -1.0, 4), (5, 1e-12, 20), (5, 10.0, 5), (5, 1e9, 5),
    (5, float("inf"), 5), (3, 3.0, 3), (3, 2.5, 4), (2, 10 / 7, 6)])   # 7 x 10/7 s is over 10 s
def test_rounds_for_edges(repeats, first, expected):
    assert experiment.rounds_for(repeats, first) == expected


def _frame(tool_ns, function="mlp-512", costad_ratio=2.7):
    rows = []
    for tool, n in tool_ns:
        base = dict(experiment="peers", function=function, n=n, strategy=tool)
        fg = {"costad": 0.044, "hand": 0.040}.get(tool, 0.05)
        rows += [row(base, "agrees", 1, "bool"),
                 row(base, "time", 0.015, "s", kind="f", replicate=0),
                 row(base, "time", fg, "s", kind="f+grad", replicate=0),
                 row(base, "ratio", costad_ratio if tool == "costad" else 2.5, "1",
                     kind="f+grad/f")]
    return results.to_frame(rows)


def _claims(df):
    return {c["claim"]: c for c in experiment.claims(df, pd.DataFrame())}


def test_p2_is_judged_at_costad_s_largest_n_when_another_tool_ran_a_larger_one():
    """Found: P2 took the largest n of any tool's ratio on mlp-512 and then looked up
    costad's ratio there, a KeyError when only another tool (the hand-written gradient, as
    P3 allows) was timed at that n."""
    df = _frame([("costad", 1000), ("hand", 1000), ("torch", 1000), ("hand", 2000)])
    found = _claims(df)
    assert found["P2"]["holds"] == "yes"
    assert "(n = 1000)" in found["P2"]["statement"]
    assert found["P2"]["measured"] == "costad 2.70; hand 2.50; torch 2.50"
    assert found["P3"]["measured"] == "mlp-512 (n = 1000) 1.10"


def test_claims_on_results_without_hand_rows_have_no_p3():
    found = _claims(_frame([("costad", 1050624), ("torch", 1050624)], costad_ratio=2.96))
    assert list(found) == ["P1", "P2"]
    assert found["P2"]["holds"] == "NO"
    assert list(_claims(_frame([("costad", 100), ("torch", 100)], function="mlp"))) == ["P1"]
