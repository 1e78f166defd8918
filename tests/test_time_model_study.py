"""The time model in the study (issue 12): exact calls and bytes on the families, predictions
as a pure function of counts and calibration, the calibration's schema and loader, figures
and claims from synthetic results, and abstract rows equal to executed ones. No test here
asserts on a measured time."""
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

import costad
from costad import Calibration, Cost, predict_time
from costad.functions import FAMILIES
from costad.study import Settings, calibration, model, modelreport, report, results, run_study
from costad.study.calibration import (CALLS, ELEMENTWISE, OVERHEADS, PARAMETERS,
                                      CalibrationError, from_frame, load, load_for_run)
from costad.study.commands import main
from costad.study.fits import Sweep, fits_table, steady_start
from costad.study.frames import is_abstract
from costad.study.measure import Timing
from costad.study.provenance import provenance
from costad.study.recipes import Point, measure_points, timed
from costad.study.registry import get

# A synthetic calibration: round numbers, so that predictions can be computed by hand.
ENGINE = Calibration(overhead_s={"eval": 1e-6, "fd": 2e-6, "forward": 4e-6, "reverse": 5e-6,
                                 "chain": 3e-6},
                     element_s={"exp": 4e-9, "matmul": 1e-10},
                     default_element_s=1e-9, bandwidth_bytes_per_s=1e10)
STUDY = Calibration(ENGINE.overhead_s, ENGINE.element_s, 1e-9, 1e10, {
    "call_s": {"exp": 2e-6, "sum": 6e-6}, "default_call_s": 1e-6,
    "interp_s": {"eval": 0.0, "reverse": 3e-6, "fd": 0.5e-6, "forward": 2e-6},
    "fixed_s": {"reverse": 50e-6, "fd": 10e-6, "eval": 0.0},
    "pass_s": {"fd": 20e-6, "forward": 30e-6},
    "bandwidth_curve": [[1_000, 1e11], [1_000_000, 1e10], [100_000_000, 2e9]]})


def _counted(fn, x):
    with costad.counting() as c:
        fn(x)
    return c


# ------------------------------------------------------------ calls and bytes, exactly

@pytest.mark.parametrize("n", [4, 50, 1000])
def test_calls_and_bytes_of_rosenbrock_rational_and_logreg_follow_their_closed_forms(n):
    m = n - 1
    f, x = FAMILIES["rosenbrock"].build(n, 0)
    c = costad.count(f, x)
    # x[:-1], x[1:] (views), head**2, tail - ., .**2, 100 * ., 1 - head, .**2, add, sum:
    # a Python float operand is 8 bytes read, an array of m float64 8m.
    assert c.calls == {"getitem": 2, "pow": 3, "sub": 2, "mul": 1, "add": 1, "sum": 1}
    assert c.bytes == 3 * (16 * m + 8) + 24 * m + (16 * m + 8) + (16 * m + 8) + 24 * m \
        + (8 * m + 8) == 136 * m + 48
    f, x = FAMILIES["rational"].build(n, 0)
    c = costad.count(f, x)
    assert c.calls == {"getitem": 4, "mul": 4, "sub": 1, "add": 3, "div": 2, "sum": 1}
    # eight elementwise operations on m elements and the sum, then scalar reads (16 bytes:
    # a NumPy scalar is a copy) and scalar arithmetic (24 bytes each)
    assert c.bytes == 152 * m + 32 + 16 + 24 + 16 + 24 + 24
    f, x = FAMILIES["logreg"].build(n, 0)
    c = costad.count(f, x)
    assert c.calls == {"matmul": 1, "mul": 1, "neg": 1, "exp": 1, "add": 1, "log": 1,
                       "sum": 1, "div": 1}
    # X @ w reads 16n + n floats and writes 16; the rest works on 16 elements
    assert c.bytes == 136 * n + 1704


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_finite_differences_calls_and_bytes_are_n_plus_one_evaluations_and_the_perturbation(
        name):
    family = FAMILIES[name]
    n = family.valid_n(12)
    f, x = family.build(n, 0)
    K = costad.count(f, x)
    fd = _counted(costad.value_and_grad(f, mode="fd"), x)
    # per coordinate: read x_k (16 bytes), x_k + h (24), a perturbed copy of x (setitem:
    # 16n + 8), f, f1 - f0 (24), / h (24)
    assert fd.total_calls == (n + 1) * K.total_calls + 5 * n
    assert fd.bytes == (n + 1) * K.bytes + n * (16 * n + 96)
    central = _counted(costad.value_and_grad(f, mode="fd-central"), x)
    assert central.total_calls == n * (2 * K.total_calls + 7) + K.total_calls
    for mode in ("eval", "reverse"):
        small, large = (_counted(g if mode == "eval" else costad.value_and_grad(g, mode=mode), y)
                        for g, y in (family.build(family.valid_n(k), 0) for k in (12, 300)))
        assert small.calls == large.calls          # vectorized: calls do not grow with n


def test_passes_are_the_evaluations_of_f_each_strategy_makes():
    calls = []

    def f(x):
        calls.append(1)
        return np.sum(np.exp(x))
    x = np.linspace(0.1, 0.9, 7)
    for mode in costad.MODES:
        calls.clear()
        costad.value_and_grad(f, mode=mode)(x)
        assert len(calls) == model.passes(mode, x.size), mode
    assert model.passes("eval", 7) == model.passes("hand", 7) == 1


# ----------------------------------------------------- predictions: counts in, seconds out

def test_without_the_study_parameters_a_prediction_is_the_engines():
    f, x = FAMILIES["seed"].build(1000, 0)
    cost = _counted(costad.value_and_grad(f, mode="reverse"), x)
    for strategy in ("eval", "reverse", "forward"):
        assert model.predict(cost, ENGINE, strategy) == predict_time(cost, ENGINE, strategy)
    # finite differences pay their own calibrated overhead where the calibration has it ...
    fd = model.predict(cost, ENGINE, "fd")
    assert fd.overhead == pytest.approx(cost.total_calls * 2e-6)
    # ... and the engine's (plain evaluation's) where it does not
    plain = Calibration({k: v for k, v in ENGINE.overhead_s.items() if k != "fd"},
                        ENGINE.element_s, 1e-9, 1e10)
    assert model.predict(cost, plain, "fd") == predict_time(cost, plain, "fd")
    assert model.predict(cost, ENGINE, "left").overhead == pytest.approx(
        cost.total_calls * 3e-6)
    with pytest.raises(ValueError, match="no per-call overhead for strategy 'mystery'"):
        model.predict(cost, plain, "mystery")


# The same with both bandwidth curves: fresh results slower than a reused output past
# 3 MB per call (as glibc's fresh mappings are), faster below it.
FRESH = Calibration(STUDY.overhead_s, STUDY.element_s, 1e-9, 1e10, {
    **STUDY.source,
    "bandwidth_curve": [[3_000, 1e11], [3_000_000, 1e10], [300_000_000, 2e9]],
    "bandwidth_reused_curve": [[3_000, 5e10], [3_000_000, 1e10], [300_000_000, 4e9]]})


def _elementwise_cost(n: int, total_bytes: int) -> Cost:
    """exp and add of n elements, then their sum: two fresh results of 8n bytes."""
    return Cost(calls={"exp": 1, "add": 1, "sum": 1, "reshape": 1},
                work={"exp": n, "add": n, "sum": n - 1}, bytes=total_bytes)


def test_fresh_results_are_the_elementwise_calls_results():
    assert model.fresh_results(_elementwise_cost(1000, 50_000)) == (16_000.0, 8_000.0)
    # reductions and products write no result per operation; in-place adds are no primitive
    assert model.fresh_results(Cost(calls={"sum": 2, "matmul": 1},
                                    work={"sum": 99, "matmul": 10 ** 6})) == (0.0, 0.0)
    assert "accumulate" not in model.FRESH_PER_OP and "sum" not in model.FRESH_PER_OP
    # a comparison writes one byte per element
    assert model.fresh_results(Cost(calls={"equal": 1, "exp": 1},
                                    work={"equal": 100, "exp": 100})) == (900.0, 450.0)
    assert {"add", "mul", "exp", "tanh", "div"} <= model.FRESH_PER_OP


def test_fresh_pages_are_charged_to_forward_and_reverse_mode_only_by_hand():
    # results of 10^8 bytes: add moves 3 x 10^8 per call, the curves' last point, where a
    # fresh result runs at 2 GB/s and a reused output at 4 GB/s
    n = 12_500_000
    cost = _elementwise_cost(n, 3 * 10 ** 9)
    extra = 3 * (2 * 8 * n) * (1 / 2e9 - 1 / 4e9)
    assert model.fresh_page_seconds(cost, FRESH) == pytest.approx(extra) == pytest.approx(0.15)
    # the data's bandwidth at 10^9 bytes per computing call: the faster curve's end
    assert model.bandwidth_for(cost, FRESH) == pytest.approx(4e9)
    for strategy in ("eval", "fd", "hand"):
        assert model.predict(cost, FRESH, strategy).memory == pytest.approx(0.75), strategy
    for strategy in sorted(model.FRESH_RESULTS):
        assert model.predict(cost, FRESH, strategy).memory == pytest.approx(0.75 + extra)
    # small results: the fresh curve is the faster one, nothing beyond the bytes
    small = _elementwise_cost(125, 3_000)
    assert model.fresh_page_seconds(small, FRESH) == 0.0
    assert model.predict(small, FRESH, "reverse").memory == pytest.approx(3_000 / 1e11)
    # without the reused curve (a calibration from before it) no fresh-page term
    assert model.fresh_page_seconds(cost, STUDY) == 0.0
    assert model.predict(cost, STUDY, "reverse").memory == pytest.approx(3e9 / 2e9)
    # no elementwise work: no fresh results
    assert model.fresh_page_seconds(Cost(calls={"matmul": 1}, work={"matmul": 10 ** 9},
                                         bytes=10 ** 9), FRESH) == 0.0


def test_a_prediction_with_the_study_parameters_by_hand():
    cost = Cost({"exp": 10_000, "add": 9_999}, calls={"exp": 1, "sum": 1, "getitem": 2},
                work={"exp": 10_000, "sum": 9_999}, bytes=160_008)
    p = model.predict(cost, STUDY, "fd", n_passes=11)
    calls = 2e-6 + 6e-6 + 2 * 1e-6 + 4 * 0.5e-6     # NumPy per primitive + fd's interpretation
    assert p.overhead == pytest.approx(calls + 10e-6 + 10 * 20e-6)
    assert p.compute == pytest.approx(10_000 * 4e-9 + 9_999 * 1e-9)
    # 160008 bytes over 2 computing calls: 80004 per call, between the curve's first two
    # points (log-log interpolation)
    t = (math.log(80_004) - math.log(1_000)) / (math.log(1_000_000) - math.log(1_000))
    bandwidth = math.exp(math.log(1e11) + t * (math.log(1e10) - math.log(1e11)))
    assert model.bandwidth_for(cost, STUDY) == pytest.approx(bandwidth)
    assert p.memory == pytest.approx(160_008 / bandwidth)
    assert p.seconds == pytest.approx(p.overhead + max(p.compute, p.memory))
    # beyond the curve's ends the bandwidth is held constant
    huge = Cost(calls={"exp": 1}, work={"exp": 1}, bytes=10 ** 12)
    assert model.bandwidth_for(huge, STUDY) == pytest.approx(2e9)
    assert model.bandwidth_for(Cost(calls={"exp": 1}, work={"exp": 1}, bytes=8), STUDY) \
        == pytest.approx(1e11)
    # a pure function: the same counts and calibration, the same prediction
    assert model.predict(cost, STUDY, "fd", n_passes=11) == p
    # a negative fitted intercept is noise, not negative time
    noisy = Calibration(STUDY.overhead_s, STUDY.element_s, 1e-9, 1e10,
                        {**STUDY.source, "fixed_s": {"eval": -1.0}})
    assert model.predict(cost, noisy, "eval").overhead >= 0


def test_the_matmul_rate_is_read_from_the_curve_at_the_size_of_an_average_product():
    curve = [[10 ** 6, 4e-11], [10 ** 9, 1e-11]]
    with_curve = Calibration(STUDY.overhead_s, STUDY.element_s, 1e-9, 1e10,
                             {**STUDY.source, "matmul_curve": curve})
    # two products of 10^6 operations each and an exp: the small products' rate
    cost = Cost({"mul": 10 ** 6, "add": 10 ** 6 - 1000}, calls={"matmul": 2, "exp": 1},
                work={"matmul": 2 * 10 ** 6, "exp": 1000}, bytes=8)
    assert model.matmul_rate(cost, with_curve) == pytest.approx(4e-11)
    p = model.predict(cost, with_curve, "eval")
    assert p.compute == pytest.approx(2 * 10 ** 6 * 4e-11 + 1000 * 4e-9)
    # halfway between the curve's points on a log scale, and held beyond its ends
    mid = Cost(calls={"matmul": 1}, work={"matmul": 31_622_777})
    assert model.matmul_rate(mid, with_curve) == pytest.approx(2e-11, rel=1e-6)
    big = Cost(calls={"matmul": 1}, work={"matmul": 10 ** 12})
    assert model.matmul_rate(big, with_curve) == pytest.approx(1e-11)
    # no curve, or no product: the calibration's one element_s["matmul"] stands
    assert model.matmul_rate(cost, STUDY) is None
    assert model.matmul_rate(Cost(calls={"exp": 1}, work={"exp": 5}), with_curve) is None
    assert model.predict(cost, STUDY, "eval").compute == pytest.approx(
        2 * 10 ** 6 * 1e-10 + 1000 * 4e-9)


def test_timed_rows_carry_the_prediction_of_their_counts_and_nothing_without_a_calibration(
        monkeypatch):
    f, x = FAMILIES["seed"].build(100, 0)
    cost = _counted(costad.value_and_grad(f, mode="reverse"), x)
    # the timer is replaced: rows depend on the counts and the calibration, not on a clock
    samples = iter([[0.001, 0.002], [5.0, 7.0]])
    monkeypatch.setattr("costad.study.recipes.time_call",
                        lambda fn, repeats: Timing(next(samples), 1))
    base = dict(experiment="x", function="seed", strategy="reverse", n=100)
    first = pd.DataFrame(timed(base, cost, lambda: None, 2, STUDY))
    second = pd.DataFrame(timed(base, cost, lambda: None, 2, STUDY))
    expected = model.predict(cost, STUDY, "reverse", 1)
    for rows in (first, second):
        times = rows[rows.metric == "time"]
        assert list(times.predicted) == [expected.seconds] * 2
        terms = rows[rows.metric == model.MODEL_METRIC].set_index("kind").value
        assert terms["overhead"] == expected.overhead and terms["total"] == expected.seconds
        assert rows[rows.metric == "passes"].value.tolist() == [1]
    monkeypatch.setattr("costad.study.recipes.time_call",
                        lambda fn, repeats: Timing([0.5], 1))
    bare = pd.DataFrame(timed(base, cost, lambda: None, 1, None))
    assert bare[bare.metric == "time"].predicted.isna().all()
    assert not (bare.metric == model.MODEL_METRIC).any()
    fd = pd.DataFrame(timed(dict(base, strategy="fd"), cost, lambda: None, 1, STUDY))
    assert fd[fd.metric == "passes"].value.tolist() == [101]


def test_measured_rows_record_calls_work_and_bytes_beside_ops():
    f, x = FAMILIES["rosenbrock"].build(30, 0)
    vg = costad.value_and_grad(f, mode="reverse")
    cost = _counted(vg, x)
    rows = pd.DataFrame(measure_points([Point(dict(experiment="x", function="r", n=30), f, x,
                                              ("reverse",), vg(x)[1])], 1, STUDY))
    rows = rows[rows.strategy == "reverse"]
    calls = rows[rows.metric == "calls"].set_index("kind").value
    assert calls["total"] == cost.total_calls
    assert {k: calls[k] for k in cost.calls} == cost.calls
    work = rows[rows.metric == "work"].set_index("kind").value
    assert dict(work) == cost.work and sum(work) == cost.total
    assert rows[rows.metric == "bytes"].value.tolist() == [cost.bytes]
    assert (rows[rows.metric == "time"].predicted
            == model.predict(cost, STUDY, "reverse").seconds).all()


# ------------------------------------------------------------------- the calibration

def test_the_calibration_results_hold_every_parameter(quick_frames):
    df = quick_frames[calibration.NAME]
    assert list(df.columns) == results.COLUMNS
    params = df[df.function == "parameter"]
    assert set(params.metric) == set(PARAMETERS)
    table = {m: dict(zip(g.kind, g.value)) for m, g in params.groupby("metric")}
    assert set(table["overhead_s"]) == set(table["interp_s"]) == set(OVERHEADS)
    assert set(table["element_s"]) == set(ELEMENTWISE) | {"matmul"}
    assert set(table["call_s"]) == set(CALLS)
    for metric in ("overhead_s", "element_s", "element_out_s", "call_s",
                   "default_element_s", "bandwidth_bytes_per_s", "bandwidth_curve",
                   "bandwidth_reused_curve"):
        values = params[params.metric == metric].value.astype(float)
        assert len(values) and (values > 0).all() and np.isfinite(values).all(), metric
    assert (params.unit == np.where(params.metric.str.startswith("bandwidth"), "B/s",
                                    "s")).all()
    cal = from_frame(df)
    assert isinstance(cal, Calibration)
    assert set(cal.overhead_s) == set(OVERHEADS)
    assert cal.source["pass_s"]["eval"] == 0.0          # one pass: no pass term to fit
    assert len(cal.source["bandwidth_curve"]) >= 2
    assert len(cal.source["bandwidth_reused_curve"]) >= 2
    assert "GB/s" in calibration.describe(cal)


def test_load_reads_the_calibration_back_and_refuses_missing_or_malformed_ones(
        quick_frames, quick_dir, tmp_path):
    cal = load(quick_dir)
    assert cal.overhead_s == from_frame(quick_frames["calibrate"]).overhead_s
    assert cal.source["csv_sha256"] and cal.source["cpu"]
    with pytest.raises(CalibrationError, match=r"no calibration in .*costad calibrate"):
        load(tmp_path)
    df = quick_frames["calibrate"]
    lacking = df[~((df.function == "parameter") & (df.metric == "overhead_s")
                   & (df.kind == "reverse"))]
    results.write(lacking, "calibrate", tmp_path / "lacking", provenance(["test"]))
    with pytest.raises(CalibrationError, match="lacks reverse"):
        load(tmp_path / "lacking")
    bad = df.copy()
    bad.loc[(bad.function == "parameter") & (bad.metric == "bandwidth_bytes_per_s"),
            "value"] = -3.0
    results.write(bad, "calibrate", tmp_path / "negative", provenance(["test"]))
    with pytest.raises(CalibrationError, match="malformed"):
        load(tmp_path / "negative")
    results.write(df, "calibrate", tmp_path / "edited", provenance(["test"]))
    csv = tmp_path / "edited" / "calibrate.csv"
    csv.write_text(csv.read_text().replace("parameter", "parametre", 1))
    with pytest.raises(CalibrationError, match="cannot be used.*sha256"):
        load(tmp_path / "edited")
    for error in (CalibrationError,):
        try:
            load(tmp_path)
        except error as err:
            assert "\n" not in str(err)


def test_a_calibration_of_another_machine_is_not_used(quick_frames, tmp_path, capsys):
    results.write(quick_frames["calibrate"], "calibrate", tmp_path,
                  provenance(["test"], cpu="Some Other CPU @ 1.0GHz"))
    cal, how = load_for_run(tmp_path)
    assert cal is None and "Some Other CPU" in how and "costad calibrate" in how
    assert main(["run", "graph", "fd_accuracy", "--quick", "--results", str(tmp_path)]) == 0
    assert "times are not predicted" in capsys.readouterr().err
    meta = results.load("graph", tmp_path)[1]
    assert meta["calibration"]["used"] is False


@pytest.mark.parametrize("metric, kind, value, fragment", [
    ("call_s", "tanh", np.nan, "call_s['tanh']"), ("call_s", "tanh", -1e-3, "call_s['tanh']"),
    ("fixed_s", "reverse", np.nan, "fixed_s['reverse']"),
    ("leaf_s", "reverse", np.inf, "leaf_s['reverse']"),
    ("default_call_s", "", np.nan, "default_call_s"),
    ("bandwidth_curve", None, -1.0, "bandwidth_curve"),
    ("bandwidth_reused_curve", None, np.inf, "bandwidth_reused_curve"),
    ("matmul_curve", None, np.nan, "matmul_curve"), ("call_s", "tanh", None, "number")])
def test_the_studys_own_parameters_are_checked_too(quick_frames, metric, kind, value,
                                                    fragment):
    # call_s, fixed_s, pass_s, leaf_s and the bandwidth curve live in the calibration's
    # source, which Calibration does not check: a NaN or negative one predicted NaN or
    # negative seconds (and a negative bandwidth was an internal error)
    df = quick_frames["calibrate"].copy()
    where = (df.function == "parameter") & (df.metric == metric)
    if kind is not None:
        where &= df.kind == kind
    df.loc[df.index[where][:1], "value"] = value
    with pytest.raises(CalibrationError, match=r"malformed: .*" + re.escape(fragment)):
        from_frame(df)
    noisy = quick_frames["calibrate"].copy()    # a fitted term below 0 is noise, clamped
    noisy.loc[(noisy.function == "parameter") & (noisy.metric == "interp_s"), "value"] = -1e-9
    assert model.predict(costad.count(lambda x: np.sum(np.tanh(x)), np.ones(4)),
                         from_frame(noisy), "reverse").seconds > 0


def test_a_parameter_given_twice_or_a_calibration_of_no_named_cpu_is_not_used(
        quick_frames, tmp_path):
    # a duplicated parameter row (files joined or edited) silently took its last value; a
    # provenance without a CPU skipped the check that the calibration is this machine's
    df = quick_frames["calibrate"]
    twice = pd.concat([df, df[(df.function == "parameter") & (df.metric == "call_s")
                              & (df.kind == "add")].assign(value=1.0)], ignore_index=True)
    with pytest.raises(CalibrationError, match="call_s is given more than once for 'add'"):
        from_frame(twice)
    results.write(df, "calibrate", tmp_path, provenance(["test"]))
    meta_file = tmp_path / "calibrate.json"
    meta = json.loads(meta_file.read_text())
    del meta["cpu"]
    meta_file.write_text(json.dumps(meta))
    calibration_, how = load_for_run(tmp_path)
    assert calibration_ is None and "does not record the CPU" in how


def test_a_run_with_a_calibration_predicts_every_timed_row(quick_frames):
    cal = from_frame(quick_frames["calibrate"])
    df = run_study("rnn", Settings.make(quick=True, repeats=1, calibration=cal))
    times = df[df.metric == "time"]
    assert len(times) and times.predicted.notna().all() and (times.predicted > 0).all()
    configs = model.configurations(df)
    assert len(configs) == len(times.groupby(["function", "strategy", "T"]))
    assert set(configs.regime) <= {"overhead", "compute", "memory"}
    with pytest.raises(TypeError, match="costad.Calibration"):
        Settings(calibration={"eval": 1e-6})


def test_costad_calibrate_writes_and_prints_the_parameters(tmp_path, capsys, monkeypatch):
    # measured with a stand-in for the timer: this tests the command, not the machine
    monkeypatch.setattr(calibration, "time_calls", _fake_timer)
    assert main(["calibrate", "--quick", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "per-call overhead" in out and "memory bandwidth" in out
    cal = load(tmp_path)
    assert set(cal.overhead_s) == set(OVERHEADS)
    assert results.load("calibrate", tmp_path)[1]["blas_threads_limit"] == 1
    assert main(["show", "calibrate", "--results", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "element_s" in shown and "bandwidth_bytes_per_s" in shown
    notes = results.load("calibrate", tmp_path)[0].note
    assert notes.str.contains("recorded as 1e-12").any()      # a flat fit says so


def test_costad_show_prints_small_numbers_with_their_digits(tmp_path, capsys, monkeypatch):
    # pandas' default six decimals printed every seconds-per-operation of a calibration
    # (and fd_accuracy's smallest errors) as 0.0: the plain table keeps significant digits
    monkeypatch.setattr(calibration, "time_calls", _fake_timer)
    assert main(["calibrate", "--quick", "--results", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["show", "calibrate", "--results", str(tmp_path)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.split()[:1] in (["element_s"], ["default_element_s"], ["call_s"])]
    df = results.load("calibrate", tmp_path)[0]
    params = df[(df.function == "parameter")
                & df.metric.isin(["element_s", "default_element_s", "call_s"])]
    assert len(rows) == len(params) > 0
    for row, value in zip(rows, params.value):
        assert float(row[-2]) == pytest.approx(float(value), rel=1e-5), row


def _fake_timer(fns, repeats=5, warmup=1, min_seconds=0.0):
    """A stand-in for `time_calls` that runs each call once and reports 1 ms, whatever it
    did: the fits then find no slope, which the calibration records as its floor, and says
    so."""
    out = []
    for fn in fns:
        fn()
        out.append(Timing([1e-3] * repeats, 1))
    return out


# ------------------------------------------------- figures and claims from synthetic results

def _synthetic(regimes=("overhead", "compute")) -> pd.DataFrame:
    """Results of an imaginary experiment: time = 1e-5 + 2e-9 n for eval and 5x that for
    reverse (the fastest of three samples), predicted 10% high; counts 3n and 8n."""
    rows = []
    for strategy, scale, ops in (("eval", 1.0, 3), ("reverse", 5.0, 8)):
        for n in (10, 100, 1000, 10 ** 4, 10 ** 5, 10 ** 6):
            base = dict(experiment="toy", function="f", strategy=strategy, n=n)
            measured = scale * (1e-5 + 2e-9 * n)
            overhead, compute = scale * 1e-5 * 1.1, scale * 2e-9 * n * 1.1
            rows.append(dict(base, metric="ops", kind="total", value=ops * n, unit="ops"))
            for i, factor in enumerate((1.0, 1.05, 1.1)):      # the fastest is the time
                rows.append(dict(base, metric="time", kind="", value=measured * factor,
                                 unit="s", replicate=i, predicted=overhead + compute))
            for kind, value in (("overhead", overhead), ("compute", compute),
                                ("memory", compute / 2), ("total", overhead + compute)):
                rows.append(dict(base, metric=model.MODEL_METRIC, kind=kind, value=value,
                                 unit="s"))
    return results.to_frame(rows)


class _Toy:
    name = "toy"
    fits = Sweep(kind="total", axis="n")


def test_configurations_regimes_and_exits_from_synthetic_results():
    configs = model.configurations(_synthetic())
    assert len(configs) == 12
    assert np.allclose(configs.ratio, 1.1)
    assert (configs[configs.n <= 1000].regime == "overhead").all()
    assert (configs[configs.n >= 10 ** 4].regime == "compute").all()
    exits = model.overhead_exit(configs, "n")
    assert exits[("f", "eval")] == exits[("f", "reverse")] == 10 ** 4
    stats = model.accuracy(configs)
    assert stats == {"median": pytest.approx(0.1), "p90": pytest.approx(0.1), "count": 12}


def test_fits_and_time_model_claims_from_synthetic_results():
    data = {"toy": (_synthetic(), {})}
    fits = fits_table([_Toy()], data)
    row = fits.set_index("strategy").loc["reverse"]
    assert row.compute_from == 10 ** 4
    assert row.compute_count_slope == pytest.approx(1.0)
    # time = 5e-5 + 1e-8 n over n = 10^4 .. 10^6: the slope of that curve, not 1 exactly
    xs = np.array([1e4, 1e5, 1e6])
    assert row.compute_time_slope == pytest.approx(
        np.polyfit(np.log(xs), np.log(5e-5 + 1e-8 * xs), 1)[0], abs=1e-3)
    claims = {r["claim"]: r for r in modelreport.claims(data, fits)}
    assert claims["T3"]["holds"] == "yes" and "median 10.0%" in claims["T3"]["measured"]
    assert claims["T4"]["holds"] == "yes"
    # a model 3x off fails T3, and says by how much
    off = _synthetic()
    off["predicted"] = [None if p is None else p * 3 for p in off.predicted]
    claims = {r["claim"]: r for r in modelreport.claims({"toy": (off, {})}, fits)}
    assert claims["T3"]["holds"] == "NO" and "median 230.0%" in claims["T3"]["measured"]
    assert modelreport.claims({"toy": (_synthetic().assign(predicted=None), {})}, fits) == []


def _curve(xs, overhead, work, counts, regime="compute"):
    """Configurations and count rows of one synthetic curve (predicted = overhead + work)."""
    xs = np.asarray(xs, float)
    configs = pd.DataFrame({"n": xs, "predicted": overhead + work, "overhead": overhead,
                            "regime": regime})
    return configs, pd.DataFrame({"n": xs, "value": counts})


def test_steady_start_where_the_predicted_rate_is_constant():
    xs = np.array([1e4, 1e5, 1e6, 1e7])
    # the overhead a fixed 1e-5 s, the rate constant: steady once the overhead is small
    configs, counts = _curve(xs, np.full(4, 1e-5), 1e-9 * xs, 3 * xs)
    assert steady_start(configs, counts, "n") == 1e5
    # the rate halves between 10^5 and 10^6 (a cache boundary): steady only beyond it
    rate = np.array([1e-9, 1e-9, 2e-9, 2e-9])
    configs, counts = _curve(xs, np.full(4, 1e-7), rate * xs, 3 * xs)
    assert steady_start(configs, counts, "n") == 1e6
    # a fixed overhead of half the time at 10^4 while the work's rate falls: the total
    # grows exactly like the counts by cancellation, which is not a constant rate; from
    # 10^5 on the overhead is under 10%
    configs, counts = _curve(xs[:3], np.ones(3), 2e-4 * xs[:3] - 1, 3 * xs[:3])
    assert configs.predicted.tolist() == pytest.approx([2.0, 20.0, 200.0])
    assert steady_start(configs, counts, "n") == 1e5
    # an overhead growing like the counts (calls per step of a loop) is steady whatever
    # its share
    configs, counts = _curve(xs, 4e-9 * xs, 1e-9 * xs, 3 * xs, regime="memory")
    assert steady_start(configs, counts, "n") == 1e4
    # overhead-bound, or a single point: no steady part
    configs, counts = _curve(xs, 1e-9 * xs, 1e-10 * xs, 3 * xs, regime="overhead")
    assert np.isnan(steady_start(configs, counts, "n"))
    configs, counts = _curve(xs[:1], np.zeros(1), np.ones(1), 3 * xs[:1])
    assert np.isnan(steady_start(configs, counts, "n"))


def test_a_time_slope_of_the_fastest_samples_ignores_samples_slowed_by_other_work():
    from costad.study.fits import time_slope
    xs = np.repeat([1e5, 1e6, 1e7], 5)
    base = np.repeat([1e-3, 1e-2, 1e-1], 5)
    # at the largest size three of five samples paid 3x (fresh pages): the median's slope
    # rises, the fastest sample's does not
    slow = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 1, 1], float)
    assert time_slope(xs, base * slow, whole=True, fastest=True).value == pytest.approx(1.0)
    assert time_slope(xs, base * slow, whole=True).value > 1.2
    s = time_slope(xs, base * slow, whole=True, fastest=True)
    assert s.low <= 1.0 <= s.high


def test_t4_judges_steady_slopes_and_names_the_curves_it_cannot_judge():
    data = {"toy": (_synthetic(), {})}
    fits = fits_table([_Toy()], data)
    row = fits.set_index("strategy").loc["reverse"]
    assert row.steady_from == 10 ** 5 and row.steady_count_slope == pytest.approx(1.0)
    assert abs(row.steady_predicted_slope - 1.0) <= 0.05
    # a measured time 3x slower at the largest n only: the steady slope is off, T4 fails
    slow = _synthetic()
    slow.loc[(slow.metric == "time") & (slow.n == 10 ** 6), "value"] *= 3
    t4 = {r["claim"]: r for r in modelreport.claims(
        {"toy": (slow, {})}, fits_table([_Toy()], {"toy": (slow, {})}))}["T4"]
    assert t4["holds"] == "NO" and "0/2 curves within" in t4["measured"]
    # curves with no steady part are named, not hidden
    unjudged = fits.assign(steady_from=None, steady_time_slope=None, steady_count_slope=None)
    t4 = {r["claim"]: r for r in modelreport.claims(data, unjudged)}["T4"]
    assert t4["holds"] == "NO" and "toy f eval" in t4["measured"]
    partly = fits.copy()
    partly.loc[partly.strategy == "eval", ["steady_time_slope", "steady_count_slope"]] = None
    t4 = {r["claim"]: r for r in modelreport.claims(data, partly)}["T4"]
    assert t4["holds"] == "yes" and "not judged): toy f eval" in t4["measured"]


def test_time_model_figures_from_synthetic_results():
    df = _synthetic()
    with report.style():
        fig = modelreport.figures("toy", df)["model_toy"]()
        ax = fig.axes[0]
        assert "(s)" in ax.get_xlabel() and "(s)" in ax.get_ylabel()
        assert "median |predicted/measured - 1| = 10%" in ax.get_title()
        assert any("within 25%" in t.get_text() for t in ax.get_legend().get_texts())
        from costad.study.plotting import cost_and_time
        fig = cost_and_time(df, "n", "n (inputs)", ("eval", "reverse"), "toy")
        legend = " ".join(t.get_text() for t in fig.axes[1].get_legend().get_texts())
        assert "compute from n = 1e+04" in legend
        assert "predicted overhead-bound" in legend and "predicted compute-bound" in legend
    assert modelreport.figures("toy", df.assign(predicted=None)) == {}
    section = modelreport.section({"toy": (df.assign(predicted=None), {})}, str, "figures")
    assert "no calibration" in section.lower() or "holds no calibration" in section


def test_the_report_says_when_results_carry_no_predictions(built):
    out, _ = built
    text = (out / "README.md").read_text()
    assert "## The time model: counts against time" in text
    assert "No timed row carries a prediction" in text


# ------------------------------------------------------ abstract rows (issue 13, study side)

@pytest.mark.parametrize("name", ["gradient_vs_n", "depth"])
def test_abstract_rows_equal_executed_rows_wherever_both_exist(quick_frames, name):
    df = quick_frames[name]
    counted = df[df.metric.isin(["ops", "calls", "work", "bytes", "tape_nodes",
                                 "tape_bytes"])]
    keys = ["function", "strategy", "n", "R", "metric", "kind"]
    counted = counted.assign(n=counted.n.fillna(-1).astype(int),
                             R=counted.R.fillna(-1).astype(int))
    abstract = counted[is_abstract(counted)].set_index(keys).value
    executed = counted[~is_abstract(counted)].set_index(keys).value
    both = abstract.index.intersection(executed.index)
    pairs = {(k[0], k[1], k[2], k[3]) for k in both}
    assert len(pairs) >= (8 if name == "gradient_vs_n" else 4), pairs
    mismatched = [k for k in both if abstract[k] != executed[k]]
    assert not mismatched, mismatched[:5]
    # and the abstract sweep reaches 10^9 (gradient_vs_n) or about 10^9 parameters (depth)
    top = df[is_abstract(df) & (df.metric == "ops")].n.max()
    assert top >= (10 ** 9 if name == "gradient_vs_n" else 10 ** 7)


def test_the_gradient_cost_table_at_a_million_and_a_billion(quick_frames):
    module = get("gradient_vs_n").module
    table = module.cost_table(quick_frames["gradient_vs_n"])
    seed = table[table.function == "seed"].set_index("strategy")
    n = 10 ** 9
    K = 3 * n - 1
    assert seed.loc["fd", "ops at 10^9"] == f"{(n + 1) * K + 3 * n:.3g}"
    assert seed.loc["reverse", "ops at 10^9"] == f"{7.5 * n - 1:.3g}"
    assert seed.loc["reverse", "predicted at 10^9"] == ""       # no calibration in the run
    assert module.tables(quick_frames["gradient_vs_n"])[0][0].startswith(
        "**What a gradient costs at n = 10^6 and 10^9**")


def test_time_calls_takes_its_samples_in_interleaved_rounds():
    from costad.study.measure import time_calls
    log = []
    timings = time_calls([lambda: log.append("a"), lambda: log.append("b")], repeats=3,
                         warmup=0, min_seconds=0.0)
    # one calibrating call each (loops = 1 when min_seconds is 0), then rounds a, b, a, b
    assert log == ["a", "b", "a", "b", "a", "b"]
    assert [len(t.samples) for t in timings] == [3, 3] and all(t.loops == 1 for t in timings)
    with pytest.raises(ValueError, match="repeats"):
        time_calls([lambda: None], repeats=0)


@pytest.mark.parametrize("enabled", [True, False])
def test_a_timing_sample_pauses_the_garbage_collector_and_restores_it(enabled):
    import gc

    from costad.study.measure import sample
    seen = []
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        sample(lambda: seen.append(gc.isenabled()), 3)
        assert seen == [False] * 3 and gc.isenabled() is enabled
        with pytest.raises(ZeroDivisionError):                  # restored on an error too
            sample(lambda: 1 / 0, 1)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
