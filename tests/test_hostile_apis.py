"""Hostile use of the less-used public APIs: `costad.chain`, `costad.scan` and
`costad.checkpoint`, abstract counting, `Cost`, `counting()`, `counted`, `trace` and the
pytree helpers; the places where one gave a wrong number without an error, or a raw Python
error where a clear costad one belongs.

One test per finding; each failed before its fix.
"""
import numpy as np
import pytest

import costad
from costad import chain

XS = np.linspace(0.1, 1.0, 7)


# --------------------------------------------------------------------------- scan's steps

def _y_of_another_structure(c, x):
    return c * 2.0, (c if x < 0.5 else (c + 100.0, c + 1000.0))


@pytest.mark.parametrize("checkpoints", [None, 2, "sqrt"])
def test_scan_refuses_a_step_whose_y_changes_structure(checkpoints):
    # From step 4 on the step returns two ys; the loop kept the first of them and dropped
    # the other, silently (ys was [1, 2, 4, 108, 116, ...]), in every reverse-mode form.
    def ys(a):
        return costad.scan(lambda c, x: _y_of_another_structure(c * a, x), 1.0, XS,
                           checkpoints=checkpoints)[1]
    with pytest.raises(costad.ShapeError, match="structure of the first step"):
        costad.vjp(ys, 1.0)
    with pytest.raises(costad.ShapeError, match="structure of the first step"):
        costad.scan(_y_of_another_structure, 1.0, XS)


@pytest.mark.parametrize("checkpoints", [None, 2])
def test_scan_refuses_a_y_that_is_none_at_some_steps_only(checkpoints):
    # Was an array of objects [None, None, None, 8.0, ...] as ys, and a TypeError from
    # deep inside reverse mode's sum for its gradient.
    def loss(a):
        _, ys = costad.scan(lambda c, x: (c * a, None if x < 0.5 else c), 1.0, XS,
                            checkpoints=checkpoints)
        return np.sum(ys)
    with pytest.raises(costad.ShapeError, match="None"):
        costad.grad(loss)(0.9)
    with pytest.raises(costad.ShapeError, match="None"):
        costad.scan(lambda c, x: (c * 2.0, None if x < 0.5 else c), 1.0, XS)


def test_checkpointed_scan_refuses_a_carry_that_changes_shape_later():
    # The plain loop refused it; the checkpointed one returned a carry of shape (2,) for a
    # loop whose carry is (1,), checking only the first step.
    def carry(a):
        return costad.scan(lambda c, x: ((c * a if x < 0.5 else np.ones(2) * c), None),
                           np.ones(1), XS, checkpoints=2)[0]
    with pytest.raises(costad.ShapeError, match=r"shape \(2,\) where \(1,\)"):
        costad.vjp(carry, 1.0)


def test_checkpointed_scan_returns_ys_none_for_a_step_without_y():
    # The docstring: ys is None if step's y is None. Under reverse mode the checkpointed
    # loop returned an array of None objects instead.
    ys, _ = costad.vjp(lambda a: costad.scan(lambda c, x: (c * a, None), 1.0, XS,
                                             checkpoints=2)[1], 1.0)
    assert ys is None


# ------------------------------------------------------ sweeping a checkpointed scan again

def _loop(a, checkpoints):
    c, ys = costad.scan(lambda c, x: (np.sin(c * a + x), c * x), 0.3, XS,
                        checkpoints=checkpoints)
    return c + np.sum(ys)


@pytest.mark.parametrize("checkpoints", [1, 2, "sqrt"])
def test_a_checkpointed_scans_pullback_may_be_swept_again(checkpoints):
    # The second call of the pullback raised checkpointing.ScheduleError ("every step is
    # already reversed"): the first sweep had consumed the schedule's snapshots.
    _, plain = costad.vjp(lambda a: _loop(a, None), 1.3)
    _, pullback = costad.vjp(lambda a: _loop(a, checkpoints), 1.3)
    first = pullback(1.0)
    assert first == pytest.approx(plain(1.0), rel=1e-14)
    with costad.counting() as again:
        second = pullback(2.0)
    assert second == pytest.approx(2 * first, rel=1e-14)
    # the forward sweep runs again, and is counted: l + T(l, s) evaluations in all
    l = len(XS)
    if checkpoints != "sqrt":
        from costad.checkpointing import revolve_advances
        assert again.calls["scan_step"] == l + revolve_advances(l, checkpoints)


def test_reverse_jacobian_through_a_checkpointed_scan():
    # jacobian(mode="reverse") sweeps once per output: it raised ScheduleError. Its count
    # on an abstract input equals the executed one.
    def f(x):
        return costad.scan(lambda c, xx: (np.sin(c) * xx, c), x[:2],
                           np.ones((3, 2)) * x[2:], checkpoints=2)[0]
    x = np.arange(4.0) + 0.5
    J = costad.jacobian(f, "reverse")(x)
    np.testing.assert_allclose(J, costad.jacobian(f, "forward")(x), rtol=1e-14, atol=0)
    with costad.counting() as executed:
        costad.jacobian(f, "reverse")(x)
    with costad.counting() as abstract:
        costad.jacobian(f, "reverse")(costad.ShapeDtype((4,)))
    assert abstract == executed


# ---------------------------------------------------------------------------- chain

def test_left_cost_formula_is_never_negative():
    # R = 0 is one factor, dims [n, 1]: nothing to multiply. The formula gave n^2 - n^3.
    assert chain.left_cost_formula(3, 0) == chain.cost([3, 1], "left") == 0
    assert chain.right_cost_formula(3, 0) == 0
    for n, R in ((1, 1), (4, 1), (4, 3)):
        assert chain.left_cost_formula(n, R) == chain.cost([n] * (R + 1) + [1], "left")
    for bad in ((0, 2), (3, -1), (3.0, 2), (True, 2)):
        with pytest.raises(ValueError, match="costad.chain"):
            chain.left_cost_formula(*bad)


@pytest.mark.parametrize("tree", [(0, (1,)), "abc", (1, 2), (0, 1, 2), (False, True)])
def test_tree_cost_refuses_what_is_not_a_parenthesization_clearly(tree):
    # IndexError, RecursionError (a string), or a count for booleans taken as indices.
    with pytest.raises(ValueError, match="costad.chain"):
        chain.tree_cost([3, 4, 5], tree)


def test_tree_cost_takes_numpy_integers_as_factor_indices():
    # An index from np.argmin or an int64 array raised IndexError.
    dims = [3, 4, 5, 6]
    tree = ((np.int64(0), np.int64(1)), np.int64(2))
    assert chain.tree_cost(dims, tree) == chain.cost(dims, "left")


def test_chain_cost_reads_dims_given_as_an_iterator_once():
    # cost() read dims twice (the tree, then its cost): an iterator was empty the second
    # time, and the error said "dims must list at least 2 sizes, got []".
    dims = [30, 35, 15, 5, 10, 20, 25]
    for order in chain.ORDERS:
        assert chain.cost(iter(dims), order) == chain.cost(dims, order)


# ------------------------------------------------------------- counted, checkpoint, trees

def test_counted_takes_several_arguments_and_keywords():
    # counted(f) took exactly one argument: counted(f)(W, b) was a TypeError about
    # counted_f, inside counting() and outside it.
    def layer(W, b, scale=1.0):
        return np.sum(np.tanh(W @ b)) * scale
    W, b = np.ones((3, 4)), np.ones(4)
    g = costad.counted(layer)
    assert g(W, b, scale=2.0) == layer(W, b, scale=2.0)
    with costad.counting() as c:
        value = g(W, b, scale=2.0)
    assert value == layer(W, b, scale=2.0)
    assert c == costad.count(lambda p: layer(*p, scale=2.0), [W, b])
    with costad.counting() as one:                 # the one-argument form is unchanged
        costad.counted(np.sum)(W)
    assert one.by_op == {"add": 11}


def test_checkpoint_passes_keyword_arguments():
    # checkpoint(f)(x, k=3) was a TypeError from the wrapper; a traced keyword argument
    # is differentiated like any value f's closure refers to.
    cell = costad.checkpoint(lambda b, k=2.0: np.sin(b) * k)
    for mode in costad.MODES:
        assert costad.grad(lambda a: cell(a, k=3.0), mode=mode)(0.5) == pytest.approx(
            3 * np.cos(0.5), rel=1e-6)
        assert costad.grad(lambda a: cell(0.5, k=a * a), mode=mode)(2.0) == pytest.approx(
            4 * np.sin(0.5), rel=1e-6)


def test_tree_unflatten_with_its_arguments_swapped_is_a_clear_error():
    # An AttributeError: 'list' object has no attribute 'unflatten'.
    leaves, tree = costad.tree_flatten({"a": 1.0, "b": [2.0]})
    with pytest.raises(TypeError, match="TreeDef"):
        costad.tree_unflatten(leaves, tree)
    assert costad.tree_unflatten(tree, leaves) == {"a": 1.0, "b": [2.0]}


def test_costs_sum_with_the_builtin_sum():
    # sum(costs) started from 0 and raised TypeError: int + Cost.
    a = costad.Cost({"add": 2}, calls={"add": 1}, peak_bytes=5)
    b = costad.Cost({"mul": 1}, stored_nodes=1, stored_bytes=8, peak_bytes=9)
    assert sum([a, b]) == a + b
    with pytest.raises(TypeError):
        1 + a                                      # only 0, what sum starts from


def test_readme_states_how_many_numpy_functions_are_supported():
    # The README said 161; supported_numpy() lists 172.
    import pathlib
    import re
    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    stated = re.search(r"(\d+) NumPy functions and ufuncs are supported", readme)
    assert stated and int(stated.group(1)) == len(costad.supported_numpy())


def test_counted_benchmark_warns_when_nothing_was_counted():
    # A plain NumPy function given to the fixture was recorded as count_total 0, silently,
    # and the gate then guarded that 0.
    from types import SimpleNamespace
    from costad.study.pytest_plugin import CountedBenchmarkWarning, attach_counts

    def loss(x):
        return np.sum(np.exp(x) * x)
    bench = SimpleNamespace(extra_info={})
    with pytest.warns(CountedBenchmarkWarning, match="costad.counted"):
        attach_counts(bench, loss, np.ones(4))
    assert bench.extra_info["count_total"] == 0
    bench = SimpleNamespace(extra_info={})
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        attach_counts(bench, costad.counted(loss), np.ones(4))
    assert bench.extra_info["count_total"] == 11


@pytest.mark.xfail(strict=True, reason="a loop primitive's graph node reports no cost of its "
                   "own: Graph calls prim.cost, which is {} for scan and checkpoint (their "
                   "steps are charged as they run); not fixed here")
@pytest.mark.parametrize("checkpointed", ["scan", "checkpoint"])
def test_graph_node_costs_add_up_to_the_graph_cost_through_loop_primitives(checkpointed):
    # The nodes of a plain loop sum to graph.cost.total (6); a checkpointed scan's or a
    # checkpoint's node says {} while the graph costs 6 (or 2): summing node costs gives 0.
    if checkpointed == "scan":
        def f(a):
            return costad.scan(lambda c, x: (np.sin(c * a), None), 1.0, np.ones(3),
                               checkpoints=2)[0]
    else:
        f = costad.checkpoint(lambda a: np.sin(a) * a)
    graph = costad.trace(f, 1.0)
    assert sum(sum(node.cost.values()) for node in graph.nodes) == graph.cost.total


# --------------------------------------------------------------------- abstract counting

@pytest.mark.parametrize("inner", ["grad-forward", "grad-fd", "jacobian-forward",
                                   "jacobian-reverse"])
@pytest.mark.parametrize("outer", ["reverse", "forward"])
def test_an_inner_repeated_pass_under_an_outer_derivative_is_refused_not_miscounted(inner,
                                                                                    outer):
    # The inner derivative's passes over an abstract x are run once and charged n times;
    # an outer derivative of W, which f closes over, then saw one pass where there are n:
    # reverse over a forward Jacobian counted 126 operations against 314 executed,
    # silently. (An x traced by the outer derivative itself was refused already.)
    def make(x):
        def h(W):
            g = lambda y: np.tanh(W @ y)                                # noqa: E731
            if inner == "grad-forward":
                return np.sum(costad.grad(lambda y: np.sum(g(y)), mode="forward")(x))
            if inner == "grad-fd":
                return np.sum(costad.grad(lambda y: np.sum(g(y)), mode="fd")(x))
            return np.sum(costad.jacobian(g, inner.split("-")[1])(x))
        return h
    costad.grad(make(np.ones(3)), mode=outer)(np.eye(3))        # concrete: it runs
    with pytest.raises(costad.UnsupportedOperationError, match="inside another derivative"):
        costad.grad(make(costad.ShapeDtype((3,))), mode=outer)(costad.ShapeDtype((3, 3)))
    # with the outer derivative counting only (no differentiation of W), counts are exact
    with costad.counting() as executed:
        costad.count(make(np.ones(3)), np.eye(3))
    with costad.counting() as abstract:
        costad.count(make(costad.ShapeDtype((3,))), costad.ShapeDtype((3, 3)))
    assert abstract == executed


def test_abstract_jacobian_of_an_empty_input_counts_the_value():
    # Forward mode over n = 0 columns: "a Cost's counts are non-negative integers; tanh
    # is -1" (the pass charged -1 times). The concrete Jacobian counts one evaluation.
    f = lambda x: np.tanh(x) * 2                                         # noqa: E731
    for mode in ("forward", "reverse"):
        with costad.counting() as executed:
            J = costad.jacobian(f, mode)(np.ones(0))
        with costad.counting() as abstract:
            A = costad.jacobian(f, mode)(costad.ShapeDtype((0,)))
        assert (A.shape, A.dtype) == (J.shape, J.dtype) == ((0, 0), np.float64)
        assert abstract == executed


def test_abstract_reverse_jacobian_of_a_constant_output():
    # f's output does not depend on x: the concrete Jacobian is zeros, the abstract one
    # raised AbstractValueError (rows of no values were converted to arrays).
    f = lambda x: np.ones(2)                                             # noqa: E731
    with costad.counting() as executed:
        J = costad.jacobian(f, "reverse")(np.ones(3))
    with costad.counting() as abstract:
        A = costad.jacobian(f, "reverse")(costad.ShapeDtype((3,)))
    assert A.shape == J.shape == (2, 3)
    assert abstract == executed
