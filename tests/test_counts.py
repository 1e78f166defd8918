"""The lecture's closed forms, counted exactly (claims C1 to C4)."""
import tracemalloc

import numpy as np
import pytest

import costad
from costad.functions import FAMILIES, seed_example, seed_pairs_loop

SEED_LISTING = """\
t1 = input x[0]
t2 = input x[1]
t3 = exp(t1)
t4 = mul(t2, t3)
t5 = add(t1, t4)
t6 = sqrt(t5)
t7 = mul(t4, t6)
return t7"""


def counted(fun, *args):
    with costad.counting() as c:
        out = fun(*args)
    return c, out


def test_seed_example_traces_to_the_lecture_listing():
    graph = costad.trace(seed_example, [1.0, 2.0])
    assert str(graph) == SEED_LISTING
    assert graph.cost.total == 5
    assert graph.cost.by_op == {"exp": 1, "mul": 2, "add": 1, "sqrt": 1}
    assert [n.op for n in graph.operations] == ["exp", "mul", "add", "sqrt", "mul"]
    assert graph.depths() == [0, 0, 1, 2, 3, 4, 5]


def test_seed_example_dot_has_every_edge():
    dot = costad.trace(seed_example, (1.0, 2.0)).to_dot()
    for edge in ["t1 -> t3", "t2 -> t4", "t3 -> t4", "t1 -> t5", "t4 -> t5", "t5 -> t6",
                 "t4 -> t7", "t6 -> t7"]:
        assert edge in dot
    assert dot.count("->") == 8


def test_count_equals_graph_cost_and_family_closed_forms():
    for fam in FAMILIES.values():
        for n in (2, 6, 20, 64):
            n = fam.valid_n(n)
            f, x = fam.build(n, 0)
            assert costad.count(f, x).total == fam.K(n) == costad.trace(f, x).cost.total


# Closed forms of (grad, value_and_grad) for the finite-difference modes.
FD_CLOSED_FORMS = {
    "fd": (lambda n, K: (n + 1) * K + 3 * n, lambda n, K: (n + 1) * K + 3 * n),
    # central differences never need f(x); the value costs one more evaluation
    "fd-central": (lambda n, K: 2 * n * K + 4 * n, lambda n, K: 2 * n * K + 4 * n + K),
}


@pytest.mark.parametrize("mode", sorted(FD_CLOSED_FORMS))
@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("n", [2, 5, 16])
def test_finite_differences_cost_their_closed_forms(mode, name, n):
    fam = FAMILIES[name]
    n = fam.valid_n(n)
    f, x = fam.build(n, 1)
    K = fam.K(n)
    grad_form, value_and_grad_form = FD_CLOSED_FORMS[mode]
    c, _ = counted(costad.grad(f, mode=mode), x)
    assert c.total == grad_form(n, K)
    c, _ = counted(costad.value_and_grad(f, mode=mode), x)
    assert c.total == value_and_grad_form(n, K)


def test_fd_counts_hold_for_structured_and_scalar_inputs():
    c, _ = counted(costad.grad(seed_example, mode="fd"), (0.3, 0.7))
    assert c.total == 3 * 5 + 3 * 2
    f = lambda p: np.sum(p["w"] * p["w"]) + p["b"]          # noqa: E731  K = 3 + 2 + 1
    c, _ = counted(costad.grad(f, mode="fd"), {"w": np.ones(3), "b": 0.5})
    assert c.total == 5 * 6 + 3 * 4


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_reverse_cost_over_K_is_bounded_independently_of_n(name):
    fam = FAMILIES[name]
    ratios = []
    for n in (4, 16, 64, 256):
        n = fam.valid_n(n)
        f, x = fam.build(n, 2)
        c, _ = counted(costad.value_and_grad(f, mode="reverse"), x)
        ratios.append(c.total / fam.K(n))
    # Cheap gradient principle: value and gradient cost a small constant times K.
    assert max(ratios) <= 4.0
    assert ratios[-1] <= ratios[0] * 1.5              # no growth with n


def test_reverse_reports_tape_storage():
    f, x = FAMILIES["seed"].build(8, 0)
    c, _ = counted(costad.grad(f), x)
    graph = costad.trace(f, x)
    assert c.stored_nodes == len(graph)
    assert c.stored_bytes >= x.nbytes


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_forward_mode_costs_a_bounded_multiple_of_K_per_direction(name):
    fam = FAMILIES[name]
    for n in (4, 16, 64):
        n = fam.valid_n(n)
        f, x = fam.build(n, 3)
        c, _ = counted(costad.grad(f, mode="forward"), x)
        assert c.total % n == 0                    # every direction costs the same
        assert c.total / n <= 4.0 * fam.K(n)


@pytest.mark.parametrize("n", [2, 3, 10, 50])
def test_baur_strassen_mul_and_div_at_most_three_times(n):
    f, x = FAMILIES["rational"].build(n, n)
    K_muldiv = costad.count(f, x).count("mul", "div")
    c, _ = counted(costad.value_and_grad(f, mode="reverse"), x)
    assert c.count("mul", "div") <= 3 * K_muldiv


def test_seed_loop_reverse_counts_are_linear_in_n():
    totals = []
    for n in (20, 200, 2000):
        x = np.random.default_rng(0).uniform(0.1, 1.0, n)
        c, _ = counted(costad.value_and_grad(seed_pairs_loop), x)
        totals.append(c.total)
        assert costad.count(seed_pairs_loop, x).total == 3 * n - 1
    # Exactly affine in n: reading scalars out of x adds no per-index O(n) work.
    assert totals[2] - totals[1] == 10 * (totals[1] - totals[0])


def _backward_peak_bytes(n):
    x = np.random.default_rng(0).uniform(0.1, 1.0, n)
    vg = costad.value_and_grad(seed_pairs_loop)
    vg(x)
    tracemalloc.start()
    vg(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_indexing_scalars_does_not_allocate_O_n_per_index():
    # With a dense zero array per index (HIPS autograd's pitfall) memory traffic would be
    # O(n^2); here the peak grows linearly: 4x the inputs, about 4x the peak, never 16x.
    small, large = _backward_peak_bytes(1000), _backward_peak_bytes(4000)
    assert large < 6 * small


def test_reverse_indexing_counts_repeated_contributions_only():
    # x[0] is read twice: its second contribution costs one add; x[1] read once costs none.
    f = lambda x: x[0] * x[1] + x[0]                  # noqa: E731   K = 2
    c, g = counted(costad.grad(f), np.array([2.0, 3.0]))
    np.testing.assert_allclose(g, [4.0, 2.0])
    # f: 1 mul, 1 add; mul VJP: 2 mul; add VJP: free; second contribution to x[0]: 1 add
    assert c.by_op == {"mul": 3, "add": 2}


def test_integer_index_of_a_matrix_reads_a_row():
    # x[0] of a 2-D input is a row, not a scalar: its contributions accumulate per element.
    f = lambda x: x[0].sum() + (x[0] * 2.0).sum() + x[1, 2]     # noqa: E731   K = 12
    x = np.arange(12.0).reshape(3, 4)
    c, g = counted(costad.grad(f), x)
    expected = np.zeros((3, 4))
    expected[0], expected[1, 2] = 3.0, 1.0
    np.testing.assert_array_equal(g, expected)
    np.testing.assert_array_equal(costad.grad(f, mode="forward")(x), expected)
    # f: 8 add, 4 mul; mul VJP: 4 mul; the second row contribution: 4 add
    assert c.by_op == {"add": 12, "mul": 8}


def test_counting_blocks_nest_and_add_up():
    f, x = FAMILIES["rosenbrock"].build(10, 0)
    with costad.counting() as outer:
        with costad.counting() as inner:
            costad.grad(f)(x)
        costad.count(f, x)
    assert outer.total == inner.total + FAMILIES["rosenbrock"].K(10)
    assert (inner + costad.Cost({"add": 1})).total == inner.total + 1


def test_counted_charges_plain_numpy_inside_counting_only():
    f = lambda p: np.sum(np.exp(p["a"]) * p["b"])                     # noqa: E731
    x = {"a": np.ones(3), "b": np.full(3, 2.0)}
    with costad.counting() as c:
        value = costad.counted(f)(x)
    assert value == pytest.approx(f(x))
    assert c.by_op == {"exp": 3, "mul": 3, "add": 2}
    assert costad.counted(f)(x) == pytest.approx(f(x))              # outside: plain NumPy
    assert costad.tree_leaves({"a": [1.0, (2.0, np.ones(2))]})[:2] == [1.0, 2.0]


@pytest.mark.parametrize("n", [2, 10, 64])
def test_calls_and_bytes_of_the_seed_family_follow_their_closed_forms(n):
    # getitem x2 (views: no bytes), then exp, mul, add, sqrt, mul on n/2 elements and a
    # sum: each reads its operands and writes its result, 8 bytes per float64.
    f, x = FAMILIES["seed"].build(n, 0)
    c = costad.count(f, x)
    assert c.calls == {"getitem": 2, "exp": 1, "mul": 2, "add": 1, "sqrt": 1, "sum": 1}
    h = n // 2
    assert c.bytes == 8 * (2 * h + 3 * h + 3 * h + 2 * h + 3 * h + (h + 1))


def test_costs_add_every_field_and_peaks_take_the_maximum():
    a = costad.Cost({"mul": 2}, 3, 40, calls={"mul": 1}, bytes=24, peak_bytes=100)
    b = costad.Cost({"add": 1}, 1, 8, calls={"add": 1, "mul": 2}, bytes=16, peak_bytes=60)
    s = a + b
    assert s.by_op == {"mul": 2, "add": 1} and s.calls == {"mul": 3, "add": 1}
    assert (s.bytes, s.stored_nodes, s.stored_bytes, s.peak_bytes) == (40, 4, 48, 100)
    assert s.total_calls == 4
