"""The checkpointing experiment (issue 14) and the memory panels of rnn and depth: exact step
evaluations against revolve's closed form for every (l, s) of the quick sweep, gradients equal
to plain reverse mode's, memory rows present and linear in T and R, the report's figures built
from synthetic results, and the claims rows holding on the quick study (and failing when the
results say otherwise)."""
import numpy as np
import pandas as pd
import pytest

import costad
from costad import checkpointing as cp
from costad.loops import STEP
from costad.study import Settings, report
from costad.study.experiments import checkpointing as ck
from costad.study.experiments import depth, rnn
from costad.study.fits import count_slope
from costad.study.measure import count_rows
from costad.study.results import to_frame

QUICK = Settings.make(quick=True)


@pytest.fixture(scope="module")
def df(quick_frames):
    return quick_frames["checkpointing"]


def _calls(df):
    return df[(df.metric == "calls") & (df.kind == STEP)]


def _points_of_the_grid(settings):
    g = ck.grid(settings)
    for T in g["measured_T"] + g["counted_T"]:
        yield T, "plain", None
        for s in ck.snapshot_values(T, g):
            yield T, "revolve", s
        yield T, "sqrt", None


# ------------------------------------------------------------------------------ the sweep

def test_snapshots_always_include_one_small_values_and_T():
    g = ck.grid(Settings())
    assert ck.snapshot_values(10, g) == list(range(1, 11))
    assert ck.snapshot_values(1000, g) == [1, 2, 3, 5, 10, 30, 100, 1000]
    values = ck.snapshot_values(10000, g)
    assert values[:3] == [1, 2, 3] and values[-1] == 10000
    assert max(g["measured_T"]) == 1000 and max(g["counted_T"]) == 10000


def test_every_point_of_the_sweep_is_counted_or_skipped_with_its_reason(df):
    g = ck.grid(QUICK)
    calls, skipped = _calls(df), df[df.metric == "skipped"]
    for T, strategy, s in _points_of_the_grid(QUICK):
        at = lambda frame: frame[(frame.strategy == strategy) & (frame["T"] == T) & (  # noqa: E731
            frame.param.isna() if s is None else frame.param == s)]
        counted, cut = at(calls), at(skipped[skipped.kind == "count"])
        expected = ck.evaluations(strategy, T, s)
        if expected > g["count_budget"]:
            assert counted.empty and len(cut) == 1, (T, strategy, s)
            assert f"{expected} step evaluations" in cut.note.iloc[0]
        else:
            assert len(counted) == 1 and cut.empty, (T, strategy, s)


def test_step_evaluations_equal_l_plus_revolves_T_exactly(df):
    calls = _calls(df)
    revolve = calls[calls.strategy == "revolve"]
    assert len(revolve) >= 20
    for _, r in revolve.iterrows():
        l, s = int(r["T"]), int(r.param)
        assert r.value == r.predicted == l + cp.revolve_advances(l, s)
        assert r.value == l + cp.revolve_advances_recursive(l, s)
    for _, r in calls[calls.strategy == "sqrt"].iterrows():
        assert r.value == r.predicted == r["T"] + cp.sqrt_advances(int(r["T"]))
    plain = calls[calls.strategy == "plain"]
    assert list(plain.value) == list(plain["T"])
    # both kinds of point are in the quick sweep: executed and counted on abstract inputs
    assert set(revolve.note) == {"", "abstract"}


def test_recomputation_costs_exactly_one_steps_operations_per_extra_evaluation(df):
    totals = df[(df.metric == "ops") & (df.kind == "total")]
    plain = totals[totals.strategy == "plain"].set_index("T").value
    checked = totals[totals.strategy != "plain"]
    calls = _calls(df)
    assert len(checked) > 0
    for _, r in checked.iterrows():
        extra = calls[(calls.strategy == r.strategy) & (calls["T"] == r["T"])
                      & ((calls.param == r.param) | (calls.param.isna() & pd.isna(r.param)))]
        assert r.value == r.predicted
        assert r.value - plain[r["T"]] == (int(extra.value.iloc[0]) - r["T"]) * ck.step_ops()


def test_one_step_costs_its_closed_form():
    params, xs = ck.rnn_problem(1, 0)
    one = costad.count(lambda p: ck.rnn_loss(p, xs, None), params).total
    params2, xs2 = ck.rnn_problem(2, 0)
    two = costad.count(lambda p: ck.rnn_loss(p, xs2, None), params2).total
    assert two - one == ck.step_ops() == 2 * 32 * 32 + 2 * 32 * 4 + 32


def test_schedules_hold_at_most_s_snapshots(df):
    snaps = df[(df.metric == "peak_snapshots") & (df.strategy == "revolve")]
    assert len(snaps) > 0
    for _, r in snaps.iterrows():
        assert r.value == min(int(r.param), int(r["T"]) - 1) <= r.param
    tapes = df[df.metric == "peak_tapes"]
    assert set(tapes[tapes.strategy == "revolve"].value) == {1}
    plain = tapes[tapes.strategy == "plain"]
    assert list(plain.value) == list(plain["T"])


def test_gradients_of_every_strategy_agree_with_plain_reverse_mode(df):
    executed = _calls(df)
    executed = executed[(executed.note != "abstract") & (executed.strategy != "plain")]
    agrees, errors = df[df.metric == "agrees"], df[df.metric == "rel_error"]
    assert len(agrees) == len(errors) == len(executed) > 0
    assert set(agrees.strategy) == {"revolve", "sqrt"}      # plain is the reference
    assert agrees.value.eq(1).all()
    assert errors.value.astype(float).max() <= 1e-12


def test_memory_rows_are_present_and_plain_memory_is_linear_in_T(df):
    executed = _calls(df)
    executed = executed[executed.note != "abstract"]
    for metric in ("tape_bytes", "sweep_peak_bytes"):
        rows = df[df.metric == metric]
        assert len(rows) == len(_calls(df))          # every counted point, abstract included
        assert (rows.value.astype(int) > 0).all() and set(rows.unit) == {"bytes"}
        linear = ck.plain_memory(df, metric)
        assert linear["per_step"] == [ck.BYTES_PER_STEP]
        assert abs(linear["slope"] - 1) <= ck.SLOPE_TOLERANCE
    measured = df[df.metric == "peak_bytes"]
    assert len(measured) == len(executed) and (measured.value > 0).all()
    assert set(measured.note) == {"tracemalloc"}
    times = df[df.metric == "time"]
    assert len(times) == len(executed) * QUICK.repeats


def test_checkpointing_lowers_the_counted_peak(df):
    peak = df[(df.metric == "sweep_peak_bytes") & (df["T"] == 100)]
    plain = int(peak[peak.strategy == "plain"].value.iloc[0])
    revolve = peak[peak.strategy == "revolve"]
    small = revolve[revolve.param <= 10].value.astype(int)
    assert len(small) and (small < plain / 3).all()
    # more snapshots never lower the peak
    ordered = revolve.sort_values("param").value.astype(int).tolist()
    assert ordered == sorted(ordered)


def test_abstract_points_count_what_executed_ones_do():
    # the same point counted on concrete and on abstract inputs gives the same rows, also
    # when run alone (its plain reference computed on demand, not left by the plain point)
    ck._REFERENCES.clear()
    executed = ck._run(12, "revolve", 3, False, QUICK)
    abstract = ck._run(12, "revolve", 3, True, QUICK)

    def counts(rows):
        return {(r["metric"], r["kind"]): r["value"] for r in rows
                if r["unit"] in ("ops", "bytes", "count", "nodes") and r["metric"] != "peak_bytes"}
    assert counts(executed) == counts(abstract)
    total = [r for r in executed if r["metric"] == "ops" and r["kind"] == "total"][0]
    assert total["value"] == total["predicted"]
    assert all(r["note"] in ("abstract", "schedule") for r in abstract
               if r["metric"] != "skipped")


def test_count_rows_record_the_sweep_peak_for_reverse_mode_only():
    f = lambda x: np.sum(np.exp(x) * x)                  # noqa: E731
    x = np.ones(4)
    with costad.counting() as c:
        costad.value_and_grad(f)(x)
    rows = {r["metric"]: r["value"] for r in count_rows({}, c)}
    assert rows["sweep_peak_bytes"] == c.peak_bytes > 0 and rows["tape_bytes"] == c.stored_bytes
    with costad.counting() as c:
        costad.value_and_grad(f, mode="forward")(x)
    assert "sweep_peak_bytes" not in {r["metric"] for r in count_rows({}, c)}


@pytest.mark.parametrize("name, function, x", [("rnn", "rnn", "T"), ("depth", "mlp", "R")])
def test_rnn_and_depth_record_memory_linear_in_their_sweep(quick_frames, name, function, x):
    # the small net of each sweep, executed (the wide companions and abstract counts aside)
    frame = quick_frames[name]
    frame = frame[(frame.function == function) & (frame.note != "abstract")]
    reverse = frame[frame.strategy == "reverse"]
    for metric in ("tape_bytes", "sweep_peak_bytes", "peak_bytes"):
        rows = reverse[reverse.metric == metric].sort_values(x)
        assert len(rows) == frame[x].nunique() and (rows.value > 0).all(), metric
        if metric != "peak_bytes":                       # counted: exactly affine in x
            xs, ys = rows[x].astype(int).tolist(), rows.value.astype(int).tolist()
            steps = {(b - a) / (q - p) for p, q, a, b in zip(xs, xs[1:], ys, ys[1:])}
            assert len(steps) == 1 and steps.pop() > 0, (metric, ys)
    assert (frame[frame.metric == "peak_bytes"].note == "tracemalloc").all()


# ------------------------------------------------------------------------------ figures

def _synthetic(lengths=(10, 100, 1000), abstract_from=1000, slope_plain=1.0) -> pd.DataFrame:
    """Results of the checkpointing schema made up without running anything: plain memory
    a + b T^slope_plain, revolve s snapshots of 256 bytes, evaluations from the closed forms."""
    rows = []
    for T in lengths:
        abstract = T >= abstract_from
        points = [("plain", None), ("sqrt", None)] + [("revolve", s) for s in (1, 2, 5, T)]
        for strategy, s in points:
            base = dict(experiment="checkpointing", function="rnn", strategy=strategy, T=T,
                        param=s)
            note = "abstract" if abstract else ""
            evals = ck.evaluations(strategy, T, s)
            stats = cp.Executor(T).run(ck._schedule(strategy, T, s)).finish()
            peak = {"plain": 9000 + ck.BYTES_PER_STEP * int(T ** slope_plain),
                    "sqrt": 256 * stats.peak_snapshots + 1280 * stats.peak_tapes + 5000,
                    "revolve": 256 * (s or 0) + 6280}[strategy]
            rows += [dict(base, metric="calls", kind=STEP, value=evals, unit="count",
                          predicted=evals, note=note),
                     dict(base, metric="sweep_peak_bytes", value=peak, unit="bytes", note=note),
                     dict(base, metric="tape_bytes", value=peak - 100, unit="bytes", note=note)]
            for name in ("peak_snapshots", "peak_tapes", "peak_states"):
                rows.append(dict(base, metric=name, value=getattr(stats, name), unit="count",
                                 note="schedule"))
            if not abstract:
                rows.append(dict(base, metric="peak_bytes", value=3 * peak, unit="bytes",
                                 note="tracemalloc"))
                rows += [dict(base, metric="time", value=1e-4 * evals * (1 + 0.01 * i),
                              unit="s", replicate=i) for i in range(3)]
                rows += [dict(base, metric="agrees", value=1, unit="bool"),
                         dict(base, metric="rel_error", value=0.0, unit="1")]
    return to_frame(rows)


def _built(builder, frame):
    with report.style():
        return builder(frame)


def test_frontier_figure_draws_revolves_curve_the_sqrt_rule_and_units():
    fig = _built(ck.frontier_figure, _synthetic())
    ax_s, ax_b, ax_m, ax_t = fig.axes
    dashed = [line for line in ax_s.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 3                               # one theory curve per length
    for line in dashed:
        xs, ys = line.get_xdata(), line.get_ydata()
        T = int(xs.max())
        assert list(ys) == [cp.revolve_advances(T, int(s)) for s in xs]
    stars = [line for line in ax_s.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 3
    legend = " ".join(t.get_text() for t in ax_s.get_legend().get_texts())
    assert "revolve's optimum" in legend and "sqrt rule" in legend and "abstract" in legend
    for ax in fig.axes:
        assert ax.get_xscale() == "log" and "(" in ax.get_ylabel() and ax.get_xlabel()
    assert "bytes" in ax_b.get_xlabel() and "bytes" in ax_m.get_ylabel()
    assert "(s)" in ax_t.get_ylabel()
    # abstract points are hollow
    hollow = [line for line in ax_s.get_lines() if line.get_markerfacecolor() == "none"]
    assert hollow


def test_memory_figure_carries_fitted_exponents_and_theory_lines():
    frame = _synthetic()
    fig = _built(ck.memory_figure, frame)
    ax_c, ax_e, ax_m, ax_t = fig.axes
    legend = [t.get_text() for t in ax_c.get_legend().get_texts()]
    plain = frame[(frame.metric == "sweep_peak_bytes") & (frame.strategy == "plain")]
    expected = count_slope(plain["T"].astype(float), plain.value.astype(float)).label()
    assert f"plain peak ({expected})" in legend, legend
    assert any("theory ∝ l" in t for t in legend) and any("√l" in t for t in legend)
    evals = [t.get_text() for t in ax_e.get_legend().get_texts()]
    assert any(t.startswith("plain (slope 1.00)") for t in evals)
    assert any("2l - 1" in t for t in evals)
    times = [t.get_text() for t in ax_t.get_legend().get_texts()]
    assert any(t.startswith("plain (slope") and "[" in t for t in times)
    for ax in fig.axes:
        assert "(" in ax.get_ylabel() and "(" in ax.get_xlabel()


def test_figures_build_from_results_without_abstract_or_measured_points():
    only_measured = _synthetic(lengths=(10, 30), abstract_from=10 ** 9)
    only_abstract = _synthetic(lengths=(100, 1000), abstract_from=1)
    for frame in (only_measured, only_abstract):
        for builder in ck.figures(frame).values():
            with report.style():
                assert builder().axes


@pytest.mark.parametrize("module, name", [(rnn, "rnn_memory"), (depth, "depth_memory")])
def test_rnn_and_depth_memory_figures(quick_frames, module, name):
    frame = quick_frames[module.NAME]
    fig = _built(lambda f: module.figures(f)[name](), frame)
    counted, measured = fig.axes
    labels = [t.get_text() for t in counted.get_legend().get_texts()]
    assert any(t.startswith("reverse stored (slope") for t in labels)
    assert any(t.startswith("reverse peak (slope") for t in labels)
    assert any(t.startswith("theory ∝") for t in labels)
    assert any(t.startswith("reverse measured (slope")
               for t in (t.get_text() for t in measured.get_legend().get_texts()))
    assert "bytes" in counted.get_ylabel() and "tracemalloc" in measured.get_ylabel()


# ------------------------------------------------------------------------------ claims

def test_claims_hold_on_the_quick_study(df):
    rows = {r["claim"]: r for r in ck.claims(df, pd.DataFrame())}
    assert set(rows) == {"M1", "M2", "M3"}
    assert all(r["holds"] == "yes" for r in rows.values()), rows
    assert "1280" in rows["M1"]["measured"]


def test_claims_fail_when_the_results_say_otherwise(df):
    wrong = df.copy()
    calls = wrong.index[(wrong.metric == "calls") & (wrong.kind == STEP)
                        & (wrong.strategy == "revolve")][0]
    wrong.loc[calls, "value"] = wrong.loc[calls, "value"] + 1
    rows = {r["claim"]: r for r in ck.claims(wrong, pd.DataFrame())}
    assert rows["M2"]["holds"] == "NO" and rows["M1"]["holds"] == "yes"
    assert {r["claim"]: r["holds"] for r in ck.claims(_synthetic(), pd.DataFrame())}["M1"] == "yes"
    quadratic = _synthetic(slope_plain=2.0)
    assert {r["claim"]: r["holds"] for r in ck.claims(quadratic, pd.DataFrame())}["M1"] == "NO"
    disagree = df.copy()
    disagree.loc[disagree.index[disagree.metric == "agrees"][0], "value"] = 0
    assert {r["claim"]: r["holds"] for r in ck.claims(disagree, pd.DataFrame())}["M3"] == "NO"


def test_the_report_shows_the_checkpointing_section(built):
    out, _ = built
    text = (out / "README.md").read_text()
    for claim in ("M1", "M2", "M3"):
        assert f"| {claim} |" in text
    assert "## Memory: checkpointing against revolve's optimum" in text
    for stem in ("checkpointing_frontier", "checkpointing_memory", "rnn_memory",
                 "depth_memory"):
        assert (out / "figures" / f"{stem}.svg").stat().st_size > 0
