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
