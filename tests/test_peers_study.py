"""The peers experiment: families written once over an array namespace, adapters per tool,
the gradient gate, missing tools, interleaved rounds, the ADBench figure and the table.

Runs without any peer installed: missing tools are simulated, disagreeing tools are fakes,
and PyTorch's namespace is exercised over a stand-in module made of NumPy functions."""
import re
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import costad
from costad.functions import EXTRA_FAMILIES, FAMILIES, NAMESPACE, family
from costad.study import Settings, report, results, run_study
from costad.study.commands import main
from costad.study.experiments import peers as experiment
from costad.study.measure import row
from costad.study.peers import (FAMILY_NAMES, CostadAdapter, HandAdapter, Prepared, adapter,
                                adapters, all_adapters)
from costad.study.peers.pytorch import TorchNamespace
from costad.study.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(quick=True, repeats=2)
ALL_FAMILIES = {**FAMILIES, **EXTRA_FAMILIES}


# ------------------------------------------------------------- one definition per family

def _forwarding_namespace():
    """A namespace that is not the numpy module (so the families take their ``xp`` path)
    but whose functions are NumPy's: costad traces them as it traces NumPy."""
    return types.SimpleNamespace(**{name: getattr(np, name) for name in NAMESPACE})


def _torch_over_numpy():
    """PyTorch's spelling (dim, keepdim, amax, as_tensor) on NumPy functions: what
    `TorchNamespace` translates, checked without PyTorch."""
    return types.SimpleNamespace(
        exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh, float64=np.float64,
        sum=lambda x, dim=None, keepdim=False: np.sum(x, axis=dim, keepdims=keepdim),
        amax=lambda x, dim=None, keepdim=False: np.max(x, axis=dim, keepdims=keepdim),
        mean=lambda x, dim=None, keepdim=False: np.mean(x, axis=dim, keepdims=keepdim),
        zeros=lambda shape, dtype: np.zeros(shape, dtype=dtype),
        as_tensor=lambda a: a)


NAMESPACES = {"numpy": lambda: np, "forwarding": _forwarding_namespace,
              "torch spelling": lambda: TorchNamespace(_torch_over_numpy())}


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
@pytest.mark.parametrize("name", sorted(ALL_FAMILIES))
def test_namespace_families_count_exactly_what_costad_counts(name, namespace):
    fam = ALL_FAMILIES[name]
    xp = NAMESPACES[namespace]()
    for n in (2, 7, 30):
        n = fam.valid_n(n)
        f_numpy, x_numpy = fam.build(n, 3)
        f, x = fam.build(n, 3, xp)
        assert np.array_equal(x, x_numpy)
        cost = costad.count(f, x)
        assert cost.total == fam.K(n)
        assert cost.by_op == costad.count(f_numpy, x_numpy).by_op
        assert f(x) == f_numpy(x_numpy)
        with costad.counting() as w:
            _, g = costad.value_and_grad(f)(x)
        with costad.counting() as w_numpy:
            _, g_numpy = costad.value_and_grad(f_numpy)(x_numpy)
        assert w.by_op == w_numpy.by_op and np.array_equal(g, g_numpy)


def test_every_peer_family_exists_and_is_a_namespace_family():
    for name in FAMILY_NAMES:
        fam = family(name)
        assert fam.K is not None
    assert set(FAMILY_NAMES) >= {"seed", "seed-loop", "rosenbrock", "logreg", "mlp", "rnn"}
    with pytest.raises(KeyError, match="unknown function family"):
        family("nope")


@pytest.mark.parametrize("n", [1, 2, 3, 4, 11, 12, 13, 100, 113, 10_000])
def test_the_rnn_family_takes_the_nearest_parameter_count(n):
    fam = EXTRA_FAMILIES["rnn"]
    m = fam.valid_n(n)
    d = round((np.sqrt(1 + 2 * m) - 1) / 2)
    assert m == 2 * d * d + 2 * d and fam.valid_n(m) == m
    for other in (d - 1, d + 1):                       # no other state size is closer
        if other >= 1:
            assert abs(2 * other * other + 2 * other - n) >= abs(m - n)
    f, x = fam.build(m, 0)
    assert x.shape == (m,) and costad.count(f, x).total == fam.K(m)


# ------------------------------------------------------------------------- the adapters

def test_the_adapters_are_costad_the_hand_written_gradient_torch_jax_and_autograd():
    assert [a.strategy for a in all_adapters()] == [
        "costad", "hand", "torch", "jax-jit", "jax-eager", "autograd"]
    for tool in all_adapters()[2:]:
        assert tool.requires and tool.distribution and tool.timing_note
    assert "compilation excluded" in adapter("jax-jit").timing_note
    with pytest.raises(ValueError, match="unknown tool 'jaxx'"):
        adapter("jaxx")


def test_a_missing_module_is_named_in_the_reason(monkeypatch):
    monkeypatch.setattr(adapters, "_find_spec", lambda name: None)
    for tool in all_adapters()[2:]:
        reason = tool.missing()
        assert reason.startswith("not installed") and repr(tool.requires[0]) in reason
        assert tool.version() == reason
    assert CostadAdapter().missing() is None and HandAdapter().missing() is None


def _strategies(rows, metric):
    return [r["strategy"] for r in rows if r["metric"] == metric]


def test_missing_tools_become_skipped_rows_with_their_reason(monkeypatch):
    monkeypatch.setattr(adapters, "_find_spec", lambda name: None)
    rows = experiment.measure("rosenbrock", 20, SETTINGS)
    skipped = {r["strategy"]: r["note"] for r in rows if r["metric"] == "skipped"}
    assert list(skipped) == ["torch", "jax-jit", "jax-eager", "autograd"]
    assert "'torch'" in skipped["torch"] and "'jax'" in skipped["jax-eager"]
    assert all(note.startswith("not installed") for note in skipped.values())
    assert _strategies(rows, "ratio") == ["costad"]                 # only costad is timed
    assert set(_strategies(rows, "time")) == {"costad"}
    grid = experiment.grid(SETTINGS)
    assert grid["tools"]["torch"].startswith("not installed")


def test_costad_rows_carry_its_exact_counts_and_all_samples(monkeypatch):
    monkeypatch.setattr(experiment, "ROUNDS_SECONDS", 0.0)     # exactly `repeats` rounds
    rows = experiment.measure("seed", 40, SETTINGS, tools=[CostadAdapter()])
    ops = {r["kind"]: r for r in rows if r["metric"] == "ops"}
    assert ops["f"]["value"] == ops["f"]["predicted"] == 3 * 40 - 1
    with costad.counting() as w:
        costad.value_and_grad(family("seed").build(40, 0)[0])(family("seed").build(40, 0)[1])
    assert ops["f+grad"]["value"] == w.total
    counted = [r for r in rows if r["metric"] == "counted_ratio"]
    assert counted[0]["value"] == w.total / (3 * 40 - 1)
    times = [r for r in rows if r["metric"] == "time"]
    assert sorted((r["kind"], r["replicate"]) for r in times) == [
        ("f", 0), ("f", 1), ("f+grad", 0), ("f+grad", 1)]
    ratio = [r for r in rows if r["metric"] == "ratio"][0]["value"]
    f_min = min(r["value"] for r in times if r["kind"] == "f")
    fg_min = min(r["value"] for r in times if r["kind"] == "f+grad")
    assert ratio == fg_min / f_min


class _Fake(CostadAdapter):
    """costad's adapter with its gradient (or value) altered, or raising."""

    def __init__(self, strategy, grad_change=None, value_change=None, raises=None,
                 loop_budget=10_000):
        self.strategy = strategy
        self.grad_change, self.value_change, self.raises = grad_change, value_change, raises
        self.loop_budget = loop_budget

    def prepare(self, f, x0):
        if self.raises:
            raise self.raises
        good = super().prepare(f, x0)

        def fg():
            value, grad = good.fg()
            if self.value_change:
                value = self.value_change(value)
            return value, (self.grad_change(grad) if self.grad_change else grad)
        return Prepared(good.f, fg)


@pytest.mark.parametrize("fake, reason", [
    (_Fake("wrong", grad_change=lambda g: g * (1 + 1e-8)), "gradient differs"),
    (_Fake("wrong", grad_change=lambda g: g + np.where(np.arange(g.size) == 3, 1e-9, 0.0)),
     "gradient differs"),
    (_Fake("wrong", grad_change=lambda g: g * np.nan), "gradient differs"),
    (_Fake("wrong", value_change=lambda v: v + 1e-6), "value differs"),
    (_Fake("wrong", grad_change=lambda g: g[:-1]), "gradient of shape"),
    (_Fake("wrong", raises=RuntimeError("no float64 here")), "raised RuntimeError: no float64"),
])
def test_the_gate_refuses_a_disagreeing_tool_and_never_times_it(fake, reason):
    rows = experiment.measure("logreg", 30, SETTINGS, tools=[CostadAdapter(), fake])
    failed = [r for r in rows if r["metric"] == "failed"]
    assert [r["strategy"] for r in failed] == ["wrong"] and reason in failed[0]["note"]
    assert "wrong" not in _strategies(rows, "time") + _strategies(rows, "ratio")
    assert _strategies(rows, "ratio") == ["costad"]


def test_the_gate_passes_rounding_differences_within_its_tolerance():
    close = _Fake("close", grad_change=lambda g: g * (1 + 1e-13))
    rows = experiment.measure("logreg", 30, SETTINGS, tools=[CostadAdapter(), close])
    assert not _strategies(rows, "failed")
    assert _strategies(rows, "ratio") == ["costad", "close"]
    agrees = {r["strategy"]: r["value"] for r in rows if r["metric"] == "agrees"}
    assert agrees == {"costad": 1, "close": 1}


def test_the_scalar_loop_stops_at_each_tool_s_budget():
    small = _Fake("small-budget", loop_budget=4)
    rows = experiment.measure("seed-loop", 10, SETTINGS, tools=[CostadAdapter(), small])
    skipped = [r for r in rows if r["metric"] == "skipped"]
    assert [r["strategy"] for r in skipped] == ["small-budget"]
    assert "budget of n = 4" in skipped[0]["note"]
    # array families are not limited by the loop budget
    rows = experiment.measure("seed", 10, SETTINGS, tools=[CostadAdapter(), small])
    assert _strategies(rows, "ratio") == ["costad", "small-budget"]


class _Logged(CostadAdapter):
    def __init__(self, strategy, log):
        self.strategy, self.log = strategy, log

    def prepare(self, f, x0):
        good = super().prepare(f, x0)

        def f_call():
            self.log.append((self.strategy, "f"))
            return good.f()

        def fg_call():
            self.log.append((self.strategy, "f+grad"))
            return good.fg()
        return Prepared(f_call, fg_call)


def test_an_installed_but_broken_tool_is_a_failed_row(monkeypatch):
    monkeypatch.setattr(adapters, "_find_spec", lambda name: object())
    monkeypatch.setitem(sys.modules, "torch", None)          # import torch raises
    rows = experiment.measure("seed", 10, SETTINGS, tools=[CostadAdapter(), adapter("torch")])
    failed = [r for r in rows if r["metric"] == "failed"]
    assert [r["strategy"] for r in failed] == ["torch"]
    assert failed[0]["note"].startswith("raised ModuleNotFoundError")
    assert _strategies(rows, "ratio") == ["costad"]


def test_rounds_interleave_the_tools(monkeypatch):
    monkeypatch.setattr(experiment, "ROUNDS_SECONDS", 0.0)     # exactly `repeats` rounds
    log = []
    tools = [_Logged("a", log), _Logged("b", log)]
    rounds = 3
    rows = experiment.measure("seed", 10, Settings(quick=True, repeats=rounds), tools=tools)
    # The timed rounds come last; a sample repeats a call `loops` times in a row.
    blocks = [key for i, key in enumerate(log) if i == 0 or log[i - 1] != key]
    assert blocks[-4 * rounds:] == [("a", "f"), ("a", "f+grad"), ("b", "f"),
                                    ("b", "f+grad")] * rounds
    assert sum(r["metric"] == "time" for r in rows) == 2 * 2 * rounds
    assert {r["note"] for r in rows if r["metric"] == "ratio"} == {
        "minimum over 3 interleaved rounds"}


def test_cheap_rounds_are_repeated_up_to_the_factor_and_the_ratio_says_how_many():
    tools = [CostadAdapter()]
    rows = experiment.measure("seed", 10, Settings(quick=True, repeats=2), tools=tools)
    rounds = experiment.ROUNDS_FACTOR * 2              # a round of n = 10 takes microseconds
    assert sum(r["metric"] == "time" for r in rows) == 2 * rounds
    assert {r["replicate"] for r in rows if r["metric"] == "time"} == set(range(rounds))
    assert [r["note"] for r in rows if r["metric"] == "ratio"] == [
        f"minimum over {rounds} interleaved rounds"]


@pytest.mark.parametrize("repeats, first, expected", [
    (5, 0.5, 20),          # 10 s / 0.5 s = 20 rounds, the cap 4 x 5
    (5, 1.0, 10),          # 10 rounds fit
    (5, 3.0, 5),           # only 3 fit: never fewer than `repeats`
    (5, 100.0, 5),
    (2, 0.0, 8),           # a round too fast to time: the cap
    (1, 1e-9, 4)])
def test_the_number_of_rounds_follows_the_budget(repeats, first, expected):
    assert experiment.ROUNDS_SECONDS == 10.0 and experiment.ROUNDS_FACTOR == 4
    assert experiment.rounds_for(repeats, first) == expected


def test_a_tool_failing_while_timed_is_a_failed_row(monkeypatch):
    class Breaks(CostadAdapter):
        strategy = "breaks"

        def prepare(self, f, x0):
            good = super().prepare(f, x0)
            calls = []

            def fg():
                calls.append(1)
                if len(calls) > 1:                    # passes the gate, then breaks
                    raise MemoryError("out of memory")
                return good.fg()
            return Prepared(good.f, fg)
    rows = experiment.measure("seed", 10, SETTINGS, tools=[CostadAdapter(), Breaks()])
    failed = [r for r in rows if r["metric"] == "failed"]
    assert [r["strategy"] for r in failed] == ["breaks"] and "MemoryError" in failed[0]["note"]
    assert _strategies(rows, "ratio") == ["costad"]


def test_the_quick_study_times_every_installed_tool_and_names_the_others(quick_frames):
    df = quick_frames["peers"]
    assert set(df.function) == set(FAMILY_NAMES)
    for tool in all_adapters():
        rows = df[df.strategy == tool.strategy]
        reason = tool.missing()
        if reason:
            assert set(rows.metric) == {"skipped"} and set(rows.note) == {reason}
        else:
            assert (rows.metric == "ratio").any() and not (rows.metric == "failed").any()
    # The hand-written gradient runs the families that have one, and no other.
    hand = df[df.strategy == "hand"]
    assert set(hand.function) == {"mlp", "mlp-512"}
    assert set(hand[hand.metric == "agrees"].value) == {1}


# ------------------------------------------------------- figure and table from results

def _synthetic(tools=("costad", "torch", "jax-jit", "autograd", "mytool"),
               missing=("jax-eager",), ns=(10, 100, 1000), families=("seed", "mlp")):
    """Results as the experiment writes them, for several tools, without running any."""
    rows = []
    for fi, fam in enumerate(families):
        for n in ns:
            base = dict(experiment="peers", function=fam, n=n)
            own = dict(base, strategy="costad")
            rows += [row(own, "ops", 3 * n, "ops", kind="f"),
                     row(own, "ops", 8 * n, "ops", kind="f+grad"),
                     row(own, "counted_ratio", 8 / 3, "1", kind="f+grad/f")]
            for ti, tool in enumerate(tools):
                b = dict(base, strategy=tool)
                for rep in range(2):
                    f_time = 1e-6 * n * (ti + 1) * (1 + 0.1 * rep)
                    rows += [row(b, "time", f_time, "s", kind="f", replicate=rep),
                             row(b, "time", f_time * (2 + ti + fi), "s", kind="f+grad",
                                 replicate=rep)]
                rows.append(row(b, "ratio", 2.0 + ti + fi, "1", kind="f+grad/f"))
                rows.append(row(b, "first_call", 0.5, "s", kind="f+grad"))
            for tool in missing:
                rows.append(row(dict(base, strategy=tool), "skipped", 1, "bool",
                                note=f"not installed: no module named {tool!r}"))
    return results.to_frame(rows)


def _legend_labels(fig):
    return [t.get_text() for ax in fig.axes if ax.get_legend()
            for t in ax.get_legend().get_texts()]


def test_the_adbench_figure_draws_one_line_per_tool_and_the_counted_reference():
    df = _synthetic()
    with report.style():
        fig = experiment.ratio_figure(df)
    labels = _legend_labels(fig)
    for tool in ("costad", "torch", "jax-jit", "autograd", "mytool"):
        assert sum(label.startswith(f"{tool} (slope") for label in labels) == 2
    assert sum(label.startswith("costad counted W/K") for label in labels) == 2
    assert not any(label.startswith("jax-eager") for label in labels)
    footer = " ".join(t.get_text() for t in fig.texts)
    assert "jax-eager: not installed" in footer
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "ratio" in ax.get_ylabel()
    # the plotted ratios are the recorded ones
    torch_line = [line for line in ax.get_lines() if line.get_label().startswith("torch")][0]
    assert list(torch_line.get_ydata()) == [3.0, 3.0, 3.0]
    with report.style():
        fig = experiment.time_figure(df)
    assert sum("f+grad (slope" in label for label in _legend_labels(fig)) == 2 * 5


def test_the_table_at_the_largest_n_gives_times_ratios_and_reasons():
    df = _synthetic()
    meta = {"grid": {"tools": {"torch": "2.13.0+cpu", "jax-eager": "not installed: x"}}}
    table = experiment.summary(df, meta)
    assert list(table.columns) == experiment.SUMMARY_COLUMNS
    assert set(table.n.dropna()) == {1000}
    seed = table[table.family == "seed"].set_index("tool")
    assert list(seed.index) == ["costad, counted", "costad", "torch 2.13.0+cpu", "jax-jit",
                                "autograd", "mytool"]
    assert seed.loc["costad, counted", "f+grad / f"] == pytest.approx(8 / 3)
    assert seed.loc["torch 2.13.0+cpu", "f (s)"] == pytest.approx(2e-6 * 1000)
    assert seed.loc["torch 2.13.0+cpu", "f+grad / f"] == 3.0
    assert "compilation excluded" in seed.loc["jax-jit", "note"]
    last = table.iloc[-1]
    assert (last.family, last.tool) == ("every family", "jax-eager")
    assert last.note.startswith("not installed")


# ------------------------------------------------------- the hand-written gradient (floor)

@pytest.mark.parametrize("name, n", [("mlp", 30), ("mlp", 1000), ("mlp-512", 1)])
def test_the_hand_written_gradient_is_costads_at_the_same_point(name, n):
    fam = family(name)
    n = fam.valid_n(n)
    f, x0 = fam.build(n, 4)
    value, grad = costad.value_and_grad(f)(x0)
    hand_value, hand_grad = fam.hand(n, 4)(x0)
    assert hand_grad.shape == grad.shape == x0.shape
    assert abs(hand_value - value) <= 1e-12 * max(1.0, abs(value))
    assert np.max(np.abs(hand_grad - grad)) <= 1e-12 * max(1.0, np.max(np.abs(grad)))


def test_the_hand_written_gradient_names_numpy_as_its_version():
    assert HandAdapter().version() == f"NumPy {np.__version__}"


def test_only_the_mlp_families_have_a_hand_written_gradient():
    assert [name for name in FAMILY_NAMES if family(name).hand] == ["mlp", "mlp-512"]
    assert [name for name in FAMILY_NAMES if HandAdapter().applies_to(name)] == [
        "mlp", "mlp-512"]


def test_the_hand_written_gradient_is_timed_where_it_exists_and_absent_elsewhere():
    tools = [CostadAdapter(), HandAdapter()]
    rows = experiment.measure("seed", 10, SETTINGS, tools=tools)
    assert {r["strategy"] for r in rows} == {"costad"}
    rows = experiment.measure("mlp", 30, SETTINGS, tools=tools)
    hand = [r for r in rows if r["strategy"] == "hand"]
    assert [r["value"] for r in hand if r["metric"] == "agrees"] == [1]
    assert [r["kind"] for r in hand if r["metric"] == "ratio"] == ["f+grad/f"]


def test_a_wrong_hand_written_gradient_fails_the_gate(monkeypatch):
    import dataclasses
    from costad import functions
    good = functions.family("mlp")

    def wrong(n, seed):
        value_and_grad = good.hand(n, seed)
        return lambda theta: (value_and_grad(theta)[0], 1.001 * value_and_grad(theta)[1])
    monkeypatch.setitem(functions.FAMILIES, "mlp", dataclasses.replace(good, hand=wrong))
    rows = experiment.measure("mlp", 30, SETTINGS, tools=[CostadAdapter(), HandAdapter()])
    failed = [r for r in rows if r["metric"] == "failed"]
    assert [r["strategy"] for r in failed] == ["hand"]
    assert failed[0]["note"].startswith("gradient differs from costad's")
    assert _strategies(rows, "ratio") == ["costad"]


def test_the_hand_adapter_needs_the_family():
    f, x0 = family("mlp").build(31, 0)
    with pytest.raises(TypeError, match="belongs to a family"):
        HandAdapter().prepare(f, x0)
    with pytest.raises(ValueError, match="'seed' has no hand-written gradient"):
        HandAdapter().prepare_family("seed", 10, 0, f, x0)


def _mlp_target_frame(costad_ratio, tools=("costad", "hand", "torch"), function="mlp-512",
                      costad_fg=0.044, hand_fg=0.040, n=1050624):
    rows = []
    for i, tool in enumerate(tools):
        base = dict(experiment="peers", function=function, n=n, strategy=tool)
        fg = {"costad": costad_fg, "hand": hand_fg}.get(tool, 0.05)
        rows += [row(base, "agrees", 1, "bool"),
                 row(base, "time", 0.015, "s", kind="f", replicate=0),
                 row(base, "time", fg, "s", kind="f+grad", replicate=0),
                 row(base, "time", fg * 1.5, "s", kind="f+grad", replicate=1),
                 row(base, "ratio", costad_ratio if tool == "costad" else 2.5 + 0.1 * i,
                     "1", kind="f+grad/f")]
    return results.to_frame(rows)


def _claims(df):
    return {c["claim"]: c for c in experiment.claims(df, pd.DataFrame())}


@pytest.mark.parametrize("ratio, holds", [(2.79, "yes"), (2.8, "yes"), (2.81, "NO"),
                                          (float("nan"), "NO")])
def test_the_mlp_speed_target_is_a_claim_beside_the_other_tools(ratio, holds):
    found = _claims(_mlp_target_frame(ratio))
    assert list(found) == ["P1", "P2", "P3"]
    p2 = found["P2"]
    assert p2["holds"] == holds and "<= 2.8" in p2["predicted"]
    assert p2["measured"] == f"costad {ratio:.2f}; hand 2.60; torch 2.70"


def test_without_costad_on_the_wide_mlp_there_is_no_speed_target():
    assert list(_claims(_mlp_target_frame(2.7, function="mlp"))) == ["P1", "P3"]
    assert list(_claims(_mlp_target_frame(2.7, tools=("hand", "torch")))) == ["P1"]
    assert list(_claims(_mlp_target_frame(2.7, tools=("costad", "torch")))) == ["P1", "P2"]


@pytest.mark.parametrize("costad_fg, holds", [(0.046, "yes"), (0.0461, "NO"),
                                              (0.030, "yes")])
def test_costad_against_the_hand_written_gradient_is_a_claim(costad_fg, holds):
    p3 = _claims(_mlp_target_frame(2.9, costad_fg=costad_fg, hand_fg=0.040))["P3"]
    # The minimum f+grad times (replicate 1 is slower), costad's over the hand-written one's.
    assert p3["holds"] == holds and "<= 1.15" in p3["predicted"]
    assert p3["measured"] == f"mlp-512 (n = 1050624) {costad_fg / 0.040:.2f}"


@pytest.mark.parametrize("hand_fg", [0.0, float("nan")])
def test_a_family_without_usable_hand_written_times_is_left_out_of_p3(hand_fg):
    df = pd.concat([_mlp_target_frame(2.9, function="mlp", n=1000, hand_fg=hand_fg),
                    _mlp_target_frame(2.9, costad_fg=0.042)])
    assert _claims(df)["P3"]["measured"] == "mlp-512 (n = 1050624) 1.05"
    assert "P3" not in _claims(_mlp_target_frame(2.9, hand_fg=hand_fg))


def test_every_family_with_a_hand_written_gradient_is_judged_at_its_largest_common_n():
    df = pd.concat([_mlp_target_frame(2.9, function="mlp", n=1000, costad_fg=0.05),
                    _mlp_target_frame(2.9, function="mlp", n=100, costad_fg=0.01),
                    _mlp_target_frame(2.9, tools=("hand",), function="mlp", n=10**6),
                    _mlp_target_frame(2.9, costad_fg=0.042)])
    p3 = _claims(df)["P3"]
    assert p3["measured"] == "mlp (n = 1000) 1.25; mlp-512 (n = 1050624) 1.05"
    assert p3["holds"] == "NO"


def test_the_report_and_show_build_from_results_with_or_without_peers(tmp_path, capsys):
    for label, df in (("with", _synthetic()),
                      ("without", _synthetic(tools=("costad",),
                                             missing=("torch", "jax-jit", "jax-eager",
                                                      "autograd")))):
        folder = tmp_path / label
        results.write(df, "peers", folder / "results", provenance(["test"], grid={
            "tools": {"torch": "2.13.0+cpu"}}))
        outcome = report.build(folder / "results", folder / "reports")
        assert "peers" not in outcome.missing
        readme = (folder / "reports" / "README.md").read_text()
        section = readme[readme.index("## costad beside PyTorch"):]
        assert "![peers_ratio](figures/peers_ratio.png)" in section
        assert "| family | n | tool | f (s) | f+grad (s) | f+grad / f | note |" in section
        assert main(["show", "peers", "--results", str(folder / "results"), "--markdown"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("Measured on ") and "| seed | 1000 | costad, counted |" in out
        if label == "without":
            for tool in ("torch", "jax-jit", "jax-eager", "autograd"):
                assert f"| every family |  | {tool} |" in out
        else:
            assert "| seed | 1000 | torch 2.13.0+cpu | 0.002 |" in out


def test_show_without_markdown_and_for_other_results_still_works(tmp_path, capsys):
    results.write(_synthetic(), "peers", tmp_path, provenance(["test"]))
    assert main(["show", "peers", "--results", str(tmp_path)]) == 0
    assert "costad, counted" in capsys.readouterr().out


# -------------------------------------------------------------------------- the README

def _readme_table() -> str:
    """The peers table of the README with the line naming the machine above it: from that
    line to the first line after the header that is not a row."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### costad beside PyTorch, JAX and HIPS autograd"):
                     readme.index("In another project")].splitlines()
    header = "| " + " | ".join(experiment.SUMMARY_COLUMNS) + " |"
    assert header in section, "the README's peers table lost its header"
    start = section.index(header)
    end = next((i for i in range(start, len(section)) if not section[i].startswith("|")),
               len(section))
    machine = max(i for i in range(start) if section[i].startswith("Measured on "))
    assert machine == start - 2 and section[start - 1] == ""
    return "\n".join(section[machine:end])


def test_the_readme_table_is_what_costad_show_prints_from_committed_results(capsys):
    table = _readme_table()
    assert len(table.splitlines()) > 4 and "`costad run peers" in table.splitlines()[0]
    for tool in ("costad, counted", "torch", "jax-jit", "jax-eager", "autograd"):
        assert f"| {tool}" in table
    if (ROOT / "results" / "peers.csv").exists():
        # The committed reference results: the README shows exactly their table.
        assert main(["show", "peers", "--results", str(ROOT / "results"), "--markdown"]) == 0
        assert capsys.readouterr().out.strip() == table
