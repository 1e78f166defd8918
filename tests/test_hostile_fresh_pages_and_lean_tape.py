"""A hostile user's look at two changes: the time model's fresh pages (the calibration's two
bandwidth curves) and the lean tape of an uncounted gradient.

Calibrations: a curve given twice at one size, a bandwidth curve value too small to divide
by, the reused curve without the fresh one are refused with one line; a curve of one point,
one curve alone, or rows in any order still predict finite, non-negative times.

Lean tape: every derivative an uncounted gradient takes (nested in every mode pair, through
scan and checkpoint, on scalars, 0-d arrays, float16 and float32, with broadcasting, shared
subexpressions, in-place updates, values kept in closures, an exception, two threads) gives
bit for bit what the full tape gives, and the lean path is checked to have dropped something.
"""
import math
import threading

import numpy as np
import pandas as pd
import pytest

import costad
import costad.pipelines as pipelines
import costad.reverse as reverse
from costad import Calibration, Cost
from costad.study import model, results
from costad.study.calibration import CalibrationError, from_frame, load_for_run
from costad.study.commands import main
from costad.study.provenance import provenance

# ----------------------------------------------------------------- calibration: the curves

FRESH = [[3_000, 1e11], [3_000_000, 1e10], [300_000_000, 2e9]]
REUSED = [[3_000, 5e10], [3_000_000, 1e10], [300_000_000, 4e9]]


def _frame(curves: dict) -> pd.DataFrame:
    """A calibration's parameter rows: the engine's four parameters and ``curves``."""
    rows = [dict(metric="overhead_s", kind=k, value=1e-6) for k in ("eval", "forward",
                                                                     "reverse")]
    rows += [dict(metric="element_s", kind="add", value=1e-9),
             dict(metric="default_element_s", kind="", value=1e-9),
             dict(metric="bandwidth_bytes_per_s", kind="", value=1e10)]
    rows = [dict(r, n=pd.NA) for r in rows]
    rows += [dict(metric=name, kind="", n=n, value=v)
             for name, points in curves.items() for n, v in points]
    df = pd.DataFrame(rows).assign(function="parameter")
    return df.astype({"n": "Int64"})


# Elementwise results of 8 bytes to 800 MB, a product, nothing at all, and 10^12 elements.
_COSTS = [Cost(calls={"add": 1, "exp": 1, "sum": 1}, work={"add": n, "exp": n, "sum": n - 1},
               bytes=48 * n) for n in (1, 10 ** 3, 10 ** 6, 10 ** 8)] + [
    Cost(calls={"matmul": 1}, work={"matmul": 10 ** 6}, bytes=0), Cost(),
    Cost(calls={"add": 1}, work={"add": 10 ** 12}, bytes=24 * 10 ** 12)]


def _predictions_are_finite(cal: Calibration):
    for strategy in ("eval", "fd", "forward", "reverse"):
        for cost in _COSTS:
            p = model.predict(cost, cal, strategy)
            for term in (p.seconds, p.overhead, p.compute, p.memory):
                assert math.isfinite(term) and term >= 0, (strategy, cost.work, p)


@pytest.mark.parametrize("curves", [
    {"bandwidth_curve": FRESH, "bandwidth_reused_curve": REUSED},
    {"bandwidth_curve": FRESH},                       # a calibration from before the reuse
    {"bandwidth_curve": FRESH[1:2], "bandwidth_reused_curve": REUSED[2:]},  # one point each
    {"bandwidth_curve": FRESH[::-1], "bandwidth_reused_curve": REUSED[::-1]},  # reordered
    {"bandwidth_curve": [[3_000, 1.0]], "bandwidth_reused_curve": [[3_000, 1e12]]},
])
def test_calibrations_with_either_or_both_curves_predict_finite_times(curves):
    _predictions_are_finite(from_frame(_frame(curves)))


def test_rows_in_any_order_give_the_same_predictions():
    df = _frame({"bandwidth_curve": FRESH, "bandwidth_reused_curve": REUSED})
    a, b = from_frame(df), from_frame(df.iloc[::-1])
    for cost in _COSTS:
        assert model.predict(cost, a, "reverse") == model.predict(cost, b, "reverse")


@pytest.mark.parametrize("curves, fragment", [
    # the same size twice (files joined, or a row edited): interpolation took either value
    ({"bandwidth_curve": FRESH + [[3_000_000, 1e5]], "bandwidth_reused_curve": REUSED},
     "bandwidth_curve is given more than once at 3000000"),
    ({"bandwidth_curve": FRESH, "bandwidth_reused_curve": REUSED + REUSED[:1]},
     "bandwidth_reused_curve is given more than once at 3000"),
    ({"bandwidth_curve": FRESH, "matmul_curve": [[10, 1e-9], [10, 2e-9]]},
     "matmul_curve is given more than once at 10"),
    # positive and finite, but its reciprocal is not: the model's bandwidth came out 0
    ({"bandwidth_curve": [[3_000, 1e-320]] + FRESH[1:], "bandwidth_reused_curve": REUSED},
     "bandwidth_curve must hold bandwidths of at least 1 B/s"),
    ({"bandwidth_curve": FRESH, "bandwidth_reused_curve": [[3_000, 1e-300]]},
     "bandwidth_reused_curve must hold bandwidths of at least 1 B/s"),
    # the reused curve alone: the fresh pages' time would be left out without a word
    ({"bandwidth_reused_curve": REUSED}, "bandwidth_reused_curve but no bandwidth_curve"),
])
def test_malformed_curves_are_refused_in_one_line(curves, fragment):
    with pytest.raises(CalibrationError, match="malformed: .*" + fragment) as err:
        from_frame(_frame(curves))
    assert "\n" not in str(err.value)


def test_costad_count_with_a_denormal_bandwidth_says_why_it_predicts_nothing(tmp_path,
                                                                             capsys):
    # It loaded, then `costad count` (and `costad run`) stopped with an internal error: the
    # fresh-page term was infinite and the bandwidth it lowered was 0.
    df = _frame({"bandwidth_curve": [[3_000, 1e-320]] + FRESH[1:],
                 "bandwidth_reused_curve": REUSED})
    full = df.reindex(columns=results.COLUMNS).assign(experiment="calibrate", unit="B/s",
                                                      replicate=0, note="")
    results.write(full, "calibrate", tmp_path / "results", provenance(["test"]))
    cal, how = load_for_run(tmp_path / "results")
    assert cal is None and "at least 1 B/s" in how
    source = tmp_path / "f.py"
    source.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(np.exp(x) + x)\n")
    assert main(["count", f"{source}:f", "--shape", "1000", "--results",
                 str(tmp_path / "results")]) == 0
    out = capsys.readouterr()
    assert "internal error" not in out.err and "predicted (this machine)" not in out.out
    assert "no predicted times: the calibration is malformed" in out.out


# ------------------------------------------------------------------------ the lean tape

RNG = np.random.default_rng(17)
W = RNG.standard_normal((4, 4))


def _same_bits(a, b):
    la, ta = costad.tree_flatten(a)
    lb, tb = costad.tree_flatten(b)
    assert ta == tb
    for u, v in zip(la, lb):
        assert type(u) is type(v)
        u, v = np.asarray(u), np.asarray(v)
        assert u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes()


@pytest.fixture
def lean_and_full(monkeypatch):
    """``run(thunk)``: the thunk's result with lean tapes, then with every tape full
    (`record` made to ignore ``lean``), compared bit for bit. With ``drops`` the lean run
    must have left at least one array off a tape (else the comparison would test nothing);
    without, nothing is asserted about it (scalars and a tape whose values are an outer
    level's tracers keep every value)."""
    record, drop = reverse.record, reverse._drop_unread
    dropped = []

    def counting_drop(tape, values, parents):
        kept = drop(tape, values, parents)
        dropped.extend(k for k, v in zip(kept, values) if k is not v)
        return kept

    def run(thunk, drops=True):
        monkeypatch.setattr(reverse, "_drop_unread", counting_drop)
        dropped.clear()
        lean = thunk()
        assert dropped or not drops, "the lean path dropped nothing: two full tapes"
        monkeypatch.setattr(pipelines, "record",
                            lambda f, leaves, tree, lean=False: record(f, leaves, tree))
        try:
            full = thunk()
        finally:
            monkeypatch.setattr(pipelines, "record", record)
        _same_bits(lean, full)
        return lean
    return run


def _f(x):
    return np.sum(np.exp(np.tanh(x @ W + x) - x * x) + -(x + 1.0))


def _g(x):
    return np.tanh(x @ W + x) * 2.0 + x


X, V = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))

_NESTED = {
    "grad": lambda: costad.grad(_f)(X),
    "grad of grad": lambda: costad.grad(lambda y: np.sum(costad.grad(_f)(y) * V))(X),
    "grad of grad of grad": lambda: costad.grad(lambda y: np.sum(costad.grad(
        lambda z: np.sum(costad.grad(_f)(z) * V))(y) * V))(X),
    "forward over reverse": lambda: costad.jvp(costad.grad(_f), X, V),
    "reverse over forward": lambda: costad.grad(lambda y: costad.jvp(_f, y, V)[1])(X),
    "forward-mode grad of a gradient": lambda: costad.grad(
        lambda y: np.sum(costad.grad(_f)(y) * V), mode="forward")(X),
    "hvp": lambda: costad.hvp(_f, X, V),
    "jacobian of a gradient, reverse": lambda: costad.jacobian(costad.grad(_f),
                                                               mode="reverse")(X),
    "jacobian of a gradient, forward": lambda: costad.jacobian(costad.grad(_f),
                                                               mode="forward")(X),
    "value_and_grad of a pytree": lambda: costad.value_and_grad(
        lambda p: np.sum(np.tanh(p["a"] @ p["b"] + p["a"])))({"b": W, "a": X}),
}


# Where a lean tape's values are an outer level's tracers, it keeps them all.
_KEEPS_ALL = {"forward over reverse", "forward-mode grad of a gradient", "hvp",
              "jacobian of a gradient, reverse", "jacobian of a gradient, forward"}


@pytest.mark.parametrize("name", sorted(_NESTED))
def test_nested_derivatives_in_every_mode_pair_are_bitwise_those_of_full_tapes(
        name, lean_and_full):
    lean_and_full(_NESTED[name], drops=name not in _KEEPS_ALL)


def _scanned(x):
    def step(c, xi):
        y = c * xi + 1.0
        return np.tanh(y @ W + y), np.sum(-y)
    c, ys = costad.scan(step, x[0] * 2.0 + x[1], xs=x)
    return np.sum(c + 1.0) + np.sum(ys - 2.0)


def _scanned_checkpoints(x):
    def step(c, xi):
        y = c * xi + 1.0
        return np.tanh(y @ W + y), None
    c, _ = costad.scan(step, x[0] * 2.0 + x[1], xs=x, checkpoints=2)
    return np.sum(c + 1.0)


_REMAT = costad.checkpoint(lambda a, b: np.exp(a * b + a) - b)


def _checkpointed(x):
    a = x * 2.0
    return np.sum(_REMAT(a, a + x) + a)


@pytest.mark.parametrize("f", [_scanned, _scanned_checkpoints, _checkpointed],
                         ids=lambda f: f.__name__)
def test_gradients_through_scan_and_checkpoint_are_bitwise_those_of_full_tapes(
        f, lean_and_full):
    lean_and_full(lambda: costad.value_and_grad(f)(X))
    lean_and_full(lambda: costad.grad(lambda y: np.sum(costad.grad(f)(y) * V))(X))


_KEPT: list = []


def _keeps_intermediates(x):
    y = x @ W
    z = y + 1.0                     # y is dropped from the tape here ...
    _KEPT.append(y)                 # ... and kept by f in a global
    z += 1.0                        # an in-place update of an intermediate
    s = x * x
    return np.sum(np.exp(z) * s + s - -(s + z))   # shared subexpressions


@pytest.mark.parametrize("case", ["scalar", "0-d", "float16", "float32", "broadcast",
                                  "kept", "shared"])
def test_hostile_inputs_give_bitwise_the_full_tapes_gradient(case, lean_and_full):
    b = RNG.standard_normal(4)
    cases = {
        "scalar": (lambda x: np.exp(x * x + x) - x * 2.0, 1.5),
        "0-d": (lambda x: np.sum(np.exp(x * x + x)), np.array(1.5)),
        "float16": (lambda x: np.sum(np.tanh(x @ W.astype(np.float16) + x) - x * x),
                    X.astype(np.float16)),
        "float32": (lambda x: np.sum(np.tanh(x @ W + x) - x * x), X.astype(np.float32)),
        "broadcast": (lambda x: np.sum(np.exp(x[:, :1] * b + x) - -(x[None] + x[:, None])),
                      X),
        "kept": (_keeps_intermediates, X),
        "shared": (lambda x: np.sum((x * x + 1.0) * (x * x - 2.0) + np.exp(-(x * x))), X),
    }
    f, x = cases[case]
    value, gradient = lean_and_full(lambda: costad.value_and_grad(f)(x),
                                    drops=case not in ("scalar", "0-d"))
    assert np.asarray(gradient).dtype == np.asarray(x).dtype
    if case == "kept":
        # what f kept escaped: it says so, lean or not, rather than give a value
        with pytest.raises(costad.EscapedTracerError):
            np.asarray(_KEPT[-1])


def test_make_vjp_once_with_a_dropped_intermediate_among_the_outputs(lean_and_full):
    def f(x):
        a = x * x                   # an output, and dropped by the add below
        return a, a + 1.0, np.sum(x @ W + x)

    def run():
        value, pullback = costad.make_vjp(f, X, once=True)
        return value, pullback((V, V, 1.0))
    lean_and_full(run)


def test_a_lean_pullback_swept_inside_a_counting_block_counts_as_a_full_one(monkeypatch):
    def counted_sweep():
        _, pullback = costad.make_vjp(_f, X, once=True)      # recorded uncounted: lean
        with costad.counting() as c:
            g = pullback(1.0)
        return g, c
    lean_g, lean_c = counted_sweep()
    record = reverse.record
    monkeypatch.setattr(pipelines, "record",
                        lambda f, leaves, tree, lean=False: record(f, leaves, tree))
    full_g, full_c = counted_sweep()
    _same_bits(lean_g, full_g)
    assert (lean_c.by_op, lean_c.calls, lean_c.work, lean_c.bytes, lean_c.peak_bytes) == \
        (full_c.by_op, full_c.calls, full_c.work, full_c.bytes, full_c.peak_bytes)


def test_an_exception_inside_f_leaves_the_next_lean_gradient_right():
    def broken(x):
        np.exp(x * x + 1.0)
        raise KeyError("inside f")
    with pytest.raises(KeyError, match="inside f"):
        costad.grad(broken)(X)
    with costad.counting():
        counted = costad.grad(_f)(X)
    _same_bits(costad.grad(_f)(X), counted)


def test_a_counting_thread_and_a_lean_thread_at_once_give_the_same_gradient():
    with costad.counting():
        reference = costad.grad(_f)(X)
    failures, stored = [], []

    def lean():
        for _ in range(100):
            g = costad.grad(_f)(X)
            if g.tobytes() != reference.tobytes():
                failures.append("lean")

    def counted():
        for _ in range(100):
            with costad.counting() as c:
                g = costad.grad(_f)(X)
            stored.append(c.stored_bytes)
            if g.tobytes() != reference.tobytes():
                failures.append("counted")
    threads = [threading.Thread(target=lean), threading.Thread(target=counted)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    # every counted recording kept its full tape (its storage is charged from it)
    assert len(set(stored)) == 1 and stored[0] > 0


def test_a_counting_block_left_open_inside_f_charges_no_storage_from_a_lean_tape():
    # make_vjp asks once, before recording, whether it counts: a tape recorded lean (no
    # block open then) is never charged as storage, even if f leaves a block open.
    W = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    x = np.linspace(0.1, 0.4, 4)
    leaked = []

    def f(v):
        block = costad.counting()
        leaked.append((block, block.__enter__()))        # never closed by f
        return np.sum(np.tanh(v @ W))
    try:
        g = costad.grad(f)(x)
    finally:
        for block, _ in reversed(leaked):
            block.__exit__(None, None, None)
    assert np.array_equal(g, costad.grad(lambda v: np.sum(np.tanh(v @ W)))(x))
    cost = leaked[0][1]
    assert cost.total > 0                      # f's primitives were counted in the block
    assert cost.stored_nodes == 0 and cost.stored_bytes == 0 and cost.peak_bytes == 0
