"""Indexed contributions into an adjoint buffer (`costad.adjoints.IndexAccumulator`).

While every index selects a box (ints and slices of step +1 or -1), the accumulator keeps
the covered boxes instead of a mask, allocates its buffer empty, writes a region's first
contribution instead of adding it into zeros, and zeroes what no box covers when the buffer
is read. These tests hold it to the plain reference: a zeroed buffer, ``+=`` per
contribution and an exact mask for the count, bit for bit and add for add, and check the
paths that leave box mode (another index, too many boxes, a dense contribution).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costad
from costad import adjoints
from costad.adjoints import accumulate
from costad.primitives import IndexedCotangent

from accumulation_reference import accumulated, garbage, reference
from accumulation_reference import same_bits as _same_bits


def _accumulated(shape, contributions):
    """(buffer, adds) of ``(index, value)`` contributions through `accumulate`."""
    buffer, adds, _ = accumulated(shape, [(index, value, False) for index, value in contributions])
    return buffer, adds


def _reference(shape, contributions):
    """(buffer, adds) of the zeroed buffer, ``+=`` and an exact mask (before box mode)."""
    buffer, adds, _ = reference(shape, [(index, value, False) for index, value in contributions])
    return buffer, adds


def _values(shape, dtype, rng):
    values = rng.standard_normal(shape).astype(dtype)
    flat = values.reshape(-1)
    if flat.size >= 3:
        flat[0], flat[1], flat[2] = -0.0, np.inf, np.nan    # the sums' special cases
    return values


# Index kinds: boxes (slices of step +1 and -1, ints, Ellipsis), and ones that are not.
def _box_index(draw, shape):
    parts = []
    for n in shape:
        kind = draw(st.sampled_from(["slice", "int", "reverse", "all"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "all":
            parts.append(slice(None))
        else:
            a, b = sorted((draw(st.integers(0, n)), draw(st.integers(0, n))))
            parts.append(slice(a, b) if kind == "slice" else
                         slice(b - 1 if b else None, a - 1 if a else None, -1))
    return parts[0] if len(parts) == 1 and draw(st.booleans()) else tuple(parts)


def _other_index(draw, shape):
    n = shape[0]
    kind = draw(st.sampled_from(["strided", "fancy", "mask"]))
    if kind == "strided":
        return slice(0, n, 2)
    if kind == "fancy":
        return np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6)))
    return np.arange(n) % 3 == 0


@st.composite
def _programs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.float16]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    contributions = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["box"] * 6 + ["other", "dense"]))
        if kind == "dense":
            contributions.append((None, _values(shape, dtype, rng)))
            continue
        index = _box_index(draw, shape) if kind == "box" else _other_index(draw, shape)
        region = np.zeros(shape)[index]
        value = _values(np.shape(region), dtype, rng)
        contributions.append((index, value if np.ndim(region) else dtype(value)))
    return shape, dtype, contributions


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_programs())
def test_accumulation_equals_the_zeroed_reference_bit_for_bit_and_add_for_add(program):
    shape, dtype, contributions = program
    got, adds = _accumulated(shape, contributions)
    want, want_adds = _reference(shape, contributions)
    assert _same_bits(got, want)
    assert adds == want_adds


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_programs())
def test_box_mode_and_mask_mode_agree(program):
    shape, dtype, contributions = program
    boxes = _accumulated(shape, contributions)
    saved = adjoints.MAX_BOXES
    adjoints.MAX_BOXES = 0                       # every accumulator leaves box mode at once
    try:
        masks = _accumulated(shape, contributions)
    finally:
        adjoints.MAX_BOXES = saved
    assert _same_bits(boxes[0], masks[0]) and boxes[1] == masks[1]


def test_a_vector_cut_into_slices_is_accumulated_in_box_mode_never_zeroed():
    contributions = [(slice(0, 4), np.ones(4)), (slice(4, 10), np.full(6, 2.0))]
    acc = None
    for index, value in contributions:
        acc = accumulate(acc, IndexedCotangent((10,), index, value))
    assert acc.touched == [((0, 4),), ((4, 10),)] and not acc._zeroed
    assert _same_bits(acc.buffer, np.array([1.0] * 4 + [2.0] * 6))


def test_what_no_slice_covers_reads_as_zero_not_garbage():
    for _ in range(20):
        garbage()
        acc = accumulate(None, IndexedCotangent((1000,), slice(2, 5), np.ones(3)))
        acc = accumulate(acc, IndexedCotangent((1000,), slice(900, 901), np.ones(1)))
        want = np.zeros(1000)
        want[2:5] = want[900] = 1.0
        assert _same_bits(acc.buffer, want)


def test_overlapping_slices_are_charged_their_overlap():
    got, adds = _accumulated((10,), [(slice(0, 6), np.ones(6)), (slice(3, 9), np.ones(6)),
                                     (slice(5, 4, -1), np.ones(1))])
    assert adds == 3 + 1
    assert _same_bits(got, np.array([1, 1, 1, 2, 2, 3, 1, 1, 1, 0.0]))


def test_too_many_boxes_leave_box_mode_for_an_exact_mask():
    n = adjoints.MAX_BOXES + 10
    contributions = [(slice(i, i + 1) if i % 2 else i, np.float64(i + 1.0)
                      if i % 2 == 0 else np.array([i + 1.0])) for i in range(n)]
    contributions.append((slice(0, n), np.ones(n)))
    got, adds = _accumulated((n,), contributions)
    assert adds == n
    assert _same_bits(got, np.arange(1.0, n + 1) + 1)


def test_an_int_into_an_n_d_buffer_zeroes_its_gaps_first():
    got, adds = _accumulated((3, 4), [((1, 2), np.float64(5.0)), ((slice(None), 2),
                                                                  np.ones(3))])
    want = np.zeros((3, 4))
    want[1, 2] = 5.0
    want[:, 2] += 1.0
    assert adds == 1 and _same_bits(got, want)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_gradients_through_a_flat_parameter_vector_match_mask_mode(dtype, monkeypatch):
    rng = np.random.default_rng(3)
    theta = rng.standard_normal(3 * 4 + 4 + 4 + 1).astype(dtype)
    X = rng.standard_normal((5, 3)).astype(dtype)

    def f(theta):
        A, b = theta[:12].reshape(3, 4), theta[12:16]
        v, c = theta[16:20], theta[20]
        h = np.tanh(X @ A + b)
        return np.sum(h @ v + c) + theta[2:6].sum() * theta[-1]       # overlapping reads

    with costad.counting() as boxed_counts:
        boxed = costad.grad(f)(theta)
    boxed_uncounted = costad.grad(f)(theta)
    monkeypatch.setattr(adjoints, "MAX_BOXES", 0)
    with costad.counting() as mask_counts:
        masked = costad.grad(f)(theta)
    assert _same_bits(boxed, masked) and _same_bits(boxed_uncounted, masked)
    assert boxed_counts.by_op == mask_counts.by_op


def test_nested_derivatives_through_slices_match_mask_mode(monkeypatch):
    theta = np.linspace(-1.0, 1.0, 9)

    def f(t):
        return np.sum(np.sin(t[:4]) * t[4:8]) + t[8] ** 3 + np.sum(t[1:3] ** 2)

    v = np.linspace(0.5, 1.5, 9)
    results = []
    for max_boxes in (adjoints.MAX_BOXES, 0):
        monkeypatch.setattr(adjoints, "MAX_BOXES", max_boxes)
        results.append([
            costad.hvp(f, theta, v),
            costad.jacobian(costad.grad(f), mode="forward")(theta),
            costad.jacobian(costad.grad(f), mode="reverse")(theta),
            costad.grad(lambda t: np.sum(costad.grad(f)(t) ** 2))(theta)])
    for a, b in zip(*results):
        assert _same_bits(a, b)
    # And the Hessian is right: symmetric, and the second derivative of t[8]^3 is 6 t[8].
    hessian = results[0][1]
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)
    assert hessian[8, 8] == pytest.approx(6 * theta[8])
