"""Counts at any size without running (issue 13): abstract inputs (`costad.ShapeDtype`) give
exactly the counts of concrete ones, allocate nothing of the input's size, and refuse
control flow that needs values with a clear error."""
import tracemalloc

import numpy as np
import pytest

import costad
from costad.functions import FAMILIES

SIZES = [2, 7, 30, 100]


def _counted(fn, x):
    with costad.counting() as c:
        fn(x)
    return c


@pytest.mark.parametrize("mode", costad.MODES)
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_abstract_counts_equal_executed_counts_for_every_family_and_strategy(name, mode):
    family = FAMILIES[name]
    for n in SIZES:
        n = family.valid_n(n)
        f, x = family.build(n, 0)
        spec = costad.ShapeDtype(x.shape)
        executed = _counted(costad.value_and_grad(f, mode=mode), x)
        # every field: operations per kind, calls, bytes, tape storage
        assert _counted(costad.value_and_grad(f, mode=mode), spec) == executed
        assert costad.count(costad.value_and_grad(f, mode=mode), spec) == executed
        assert costad.count(costad.value_and_grad(f, mode=mode), x) == executed
        assert costad.count(f, spec) == costad.count(f, x)
        assert costad.count(f, spec).total == family.K(n)


def test_abstract_gradients_are_shape_dtype_records():
    f = lambda d: np.sum(d["w"] * d["x"]) * d["s"]                       # noqa: E731
    spec = {"w": costad.ShapeDtype((3, 2)), "x": costad.ShapeDtype((2,), "float32"),
            "s": costad.ShapeDtype(())}
    for mode in costad.MODES:
        value, g = costad.value_and_grad(f, mode=mode)(spec)
        assert isinstance(value, costad.ShapeDtype) and value.shape == ()
        assert g["w"] == costad.ShapeDtype((3, 2))
        assert g["x"] == costad.ShapeDtype((2,), "float32")
        assert g["s"] == costad.ShapeDtype(())


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_abstract_jacobian_and_hvp_count_as_executed(mode):
    A = np.random.default_rng(0).standard_normal((5, 4))
    f = lambda x: np.tanh(A @ x) * np.sum(x)                             # noqa: E731
    x, spec = np.full(4, 0.3), costad.ShapeDtype((4,))
    executed = _counted(costad.jacobian(f, mode=mode), x)
    assert _counted(costad.jacobian(f, mode=mode), spec) == executed
    assert costad.jacobian(f, mode=mode)(spec) == costad.ShapeDtype((5, 4))
    g = lambda v: np.sum(np.exp(v) * v)                                  # noqa: E731
    with costad.counting() as concrete:
        costad.hvp(g, x, x)
    with costad.counting() as abstract:
        assert costad.hvp(g, spec, spec) == costad.ShapeDtype((4,))
    assert abstract == concrete


@pytest.mark.parametrize("use,operation", [
    (lambda t: np.sum(t) if np.sum(t) > 0 else -np.sum(t), "condition"),
    (lambda t: float(np.sum(t)), "float"),
    (lambda t: np.sum(t) * (1.0 if bool(t[0] > 0) else 2.0), "condition"),
    (lambda t: np.zeros(3).__setitem__(0, t[1]) or t.sum(), "storing"),
])
@pytest.mark.parametrize("mode", costad.MODES)
def test_control_flow_on_values_names_the_operation(use, operation, mode):
    with pytest.raises(costad.AbstractValueError, match=operation) as err:
        costad.count(costad.value_and_grad(use, mode=mode), costad.ShapeDtype((4,)))
    assert "concrete input" in str(err.value)


def test_control_flow_on_shapes_is_fine():
    def f(t):
        total = 0.0
        for i in range(t.shape[0] // 1000):              # shapes are known abstractly
            total = total + np.sum(t[i * 1000:(i + 1) * 1000])
        return total
    spec = costad.ShapeDtype((5000,))
    assert costad.count(f, spec) == costad.count(f, np.ones(5000))


def test_counting_a_billion_inputs_allocates_nothing_of_their_size():
    f, _ = FAMILIES["seed"].build(10, 0)
    n = 10 ** 9
    K = FAMILIES["seed"].K(n)
    expected = {"fd": (n + 1) * K + 3 * n, "fd-central": 2 * n * K + 4 * n + K}
    tracemalloc.start()
    try:
        for mode in costad.MODES:
            cost = costad.count(costad.value_and_grad(f, mode=mode), costad.ShapeDtype((n,)))
            if mode in expected:
                assert cost.total == expected[mode]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2 ** 20          # 20 MB, against 8 GB for one concrete input


def test_reverse_mode_through_overlapping_slices_counts_repeated_writes_only():
    # rosenbrock reads x[:-1] and x[1:]: n - 2 elements written twice, each one add
    f = lambda x: np.sum(x[:-1] * x[1:]) + np.sum(x[2:5]) + x[3]          # noqa: E731
    for n in (6, 50):
        assert (_counted(costad.grad(f), costad.ShapeDtype((n,)))
                == _counted(costad.grad(f), np.ones(n)))
    g = lambda x: np.sum(x[::-1, 1:] * x[:, :-1]) + x[1, 2]                # noqa: E731
    assert (_counted(costad.grad(g), costad.ShapeDtype((4, 5)))
            == _counted(costad.grad(g), np.ones((4, 5))))


def test_strided_and_advanced_indices_are_exact_when_small_and_refused_when_huge():
    f = lambda x: np.sum(x[::2]) + np.sum(x[np.array([0, 0, 3])]) + np.sum(x[1:4])  # noqa
    assert (_counted(costad.grad(f), costad.ShapeDtype((10,)))
            == _counted(costad.grad(f), np.ones(10)))
    with pytest.raises(costad.UnsupportedOperationError, match="contiguous slices"):
        costad.count(costad.grad(f), costad.ShapeDtype((10 ** 9,)))


def test_shape_dtype_is_validated():
    with pytest.raises(costad.ShapeError, match="integers"):
        costad.ShapeDtype(("a",))
    with pytest.raises(costad.ShapeError, match="negative"):
        costad.ShapeDtype((-1,))
    with pytest.raises(costad.InputTypeError, match="float"):
        costad.grad(lambda t: t.sum())(costad.ShapeDtype((3,), "int64"))
    assert costad.ShapeDtype(5) == costad.ShapeDtype((5,), "float64")
    assert costad.ShapeDtype((2, 3), "float32").nbytes == 24


def test_ties_in_a_maximum_do_not_change_counts():
    # The convention abstract counting follows: max's rules compare every element with the
    # maximum and share among ties, whatever the values, so counts depend on shapes only.
    f = lambda x: np.max(x) * 2.0                                           # noqa: E731
    ties, distinct = np.ones(8), np.arange(8.0)
    for mode in costad.MODES:
        assert (_counted(costad.grad(f, mode=mode), ties)
                == _counted(costad.grad(f, mode=mode), distinct)
                == _counted(costad.grad(f, mode=mode), costad.ShapeDtype((8,))))
