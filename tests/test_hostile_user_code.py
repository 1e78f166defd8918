"""Hostile user code: realistic NumPy loss functions, as a user would write them, and the
places where costad gave a wrong number without an error.

The first part holds one test per finding (each failed before its fix); a finding whose fix
is not small is an ``xfail(strict=True)`` test with the reproducer, so that it flips to a
failure once fixed. The second part is a compact regression set of realistic functions that
passed: reverse and forward agree to rounding, both agree with central differences, the value
is NumPy's, and nested derivatives agree with differences of the gradient.
"""
import numpy as np
import pytest

import costad

RNG = np.random.default_rng(19)


# ----------------------------------------------------------------------------- findings

@pytest.mark.parametrize("convert", [np.deg2rad, np.radians, np.rad2deg, np.degrees])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_angle_conversions_of_long_double_are_numpys_values_and_derivatives(convert, mode):
    # Long double took float32's conversion constant: value and derivative were off by
    # 8e-9 relative (float64's epsilon is 2e-16, long double's 1e-19).
    x = np.array([1, 200, -7], dtype=np.longdouble) / np.longdouble(3)
    value, g = costad.value_and_grad(lambda t: np.sum(convert(t)), mode=mode)(x)
    assert value == np.sum(convert(x))
    assert g.dtype == np.longdouble
    np.testing.assert_array_equal(g, np.full(3, convert(np.longdouble(1))))


@pytest.mark.parametrize("exponent", [np.float64(1.5), np.array(1.5), np.int64(3)],
                         ids=["float64", "0-d array", "int64"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_numpy_scalar_exponent_promotes_a_float32_base_as_numpy_does(exponent, mode):
    # x32 ** np.float64(1.5) is float64 in NumPy 2 (a NumPy scalar is not weak); costad
    # made the exponent a Python float and computed in float32, a value off by 3e-8.
    x = np.array([0.3, 0.7, 1.9], np.float32)
    f = lambda t: np.sum(t ** exponent)                                  # noqa: E731
    value, g = costad.value_and_grad(f, mode=mode)(x)
    assert np.asarray(value).dtype == np.float64
    assert value == f(x)
    assert g.dtype == np.float32
    want = (exponent * x.astype(np.float64) ** (exponent - 1)).astype(np.float32)
    np.testing.assert_allclose(g, want, rtol=1e-6)
    assert (costad.count(f, costad.ShapeDtype((3,), np.float32)).by_op
            == costad.count(f, x).by_op)


@pytest.mark.xfail(strict=True, reason="a traced array's += rebinds the name instead of "
                   "updating the array, so an alias keeps the old value (not fixed: needs "
                   "in-place semantics or a refusal that keeps unaliased += working)")
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_in_place_update_through_an_alias_is_numpys_or_refused(mode):
    def f(x):
        z = x * 1.0
        w = z                      # an alias, as NumPy code may hold one
        w += 1.0                   # NumPy updates z too
        return np.sum(z * w)

    x = np.array([0.3, -0.7, 1.2])
    try:
        value, g = costad.value_and_grad(f, mode=mode)(x)
    except (TypeError, costad.CostadError):
        return                                         # a clear refusal is right too
    assert value == pytest.approx(f(x.copy()))
    np.testing.assert_allclose(g, 2 * (x + 1.0))
