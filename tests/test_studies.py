"""The experiments in quick mode: counts equal their closed forms, the claims hold, and
results are written atomically with provenance and read back checked."""
import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from costad.study import Settings, names, results, run_study
from costad.study.commands import main
from costad.study.provenance import provenance

STUDY_NAMES = names()

QUICK = Settings.make(quick=True, repeats=1)


@pytest.fixture(scope="module")
def quick_results(quick_frames):
    return quick_frames


@pytest.mark.parametrize("name", STUDY_NAMES)
def test_counted_values_equal_predicted_closed_forms(quick_results, name):
    df = quick_results[name]
    assert list(df.columns) == results.COLUMNS
    assert len(df) > 0
    counts = df[df.unit == "ops"]
    assert all(isinstance(v, int) for v in counts.value)
    stated = counts[counts.predicted.notna()]
    mismatched = stated[stated.value != stated.predicted]
    assert mismatched.empty, mismatched[["function", "strategy", "n", "kind", "value",
                                         "predicted"]].to_string()


def test_every_study_states_closed_forms_where_the_lecture_gives_them(quick_results):
    for name in ("graph", "gradient_vs_n", "jacobian_shape", "chain"):
        counts = quick_results[name]
        assert counts[(counts.unit == "ops") & counts.predicted.notna()].shape[0] >= 5, name


@pytest.mark.parametrize("name", ["gradient_vs_n", "depth", "rnn", "checkpointing"])
def test_every_strategy_agrees_with_the_reference_gradient(quick_results, name):
    agrees = quick_results[name].query("metric == 'agrees'")
    assert len(agrees) > 0 and agrees.value.eq(1).all()


def test_budget_cuts_are_recorded_not_dropped(quick_results):
    skipped = quick_results["depth"].query("metric == 'skipped'")
    assert set(skipped.strategy) == {"fd", "forward"}
    assert skipped.note.str.contains("budget").all()


def test_fd_accuracy_minima_near_theory(quick_results):
    eps = np.finfo(float).eps
    optimal = quick_results["fd_accuracy"].query("metric == 'optimal_step'").set_index("strategy")
    for strategy, theory in (("fd", eps ** 0.5), ("fd-central", eps ** (1 / 3))):
        h = optimal.loc[strategy, "value"]
        assert theory / 100 <= h <= theory * 100, (strategy, h, theory)


def test_descent_optimal_beats_small_and_large_diverges(quick_results):
    gaps = quick_results["descent"].query("metric == 'gap'")
    last = gaps[gaps.iteration == gaps.iteration.max()].set_index("strategy")["value"]
    first = gaps[gaps.iteration == 0].set_index("strategy")["value"]
    assert last["optimal 2/(L+mu)"] < last["small 0.1/L"]
    assert last["too large 2.05/L"] > first["too large 2.05/L"]       # diverges
    np.testing.assert_allclose(gaps.value.astype(float), gaps.predicted.astype(float),
                               rtol=1e-9, atol=1e-12)


def test_jacobian_crossover(quick_results):
    ops = quick_results["jacobian_shape"].query("metric == 'ops' and kind == 'total'")
    by = ops.pivot_table(index="m", columns="strategy", values="value", aggfunc="first")
    assert by.loc[by.index.min(), "reverse"] < by.loc[by.index.min(), "forward"]
    assert by.loc[by.index.max(), "reverse"] > by.loc[by.index.max(), "forward"]


def test_same_seed_reproduces_every_count():
    a = run_study("gradient_vs_n", QUICK)
    b = run_study("gradient_vs_n", QUICK)
    ca, cb = a[a.unit == "ops"], b[b.unit == "ops"]
    pd.testing.assert_frame_equal(ca.reset_index(drop=True), cb.reset_index(drop=True))


def test_results_round_trip_and_hash_check(tmp_path, quick_results):
    df = quick_results["chain"]
    results.write(df, "chain", tmp_path, provenance(["test"], seed=0))
    loaded, meta = results.load("chain", tmp_path)
    assert meta["schema"] == results.SCHEMA and meta["rows"] == len(df)
    for key in ("git_commit", "python", "numpy", "blas", "cpu", "os", "timer", "date", "argv"):
        assert key in meta
    assert list(loaded.value) == list(df.value)
    huge = results.to_frame([{"experiment": "x", "metric": "ops", "value": 3 ** 60,
                              "unit": "ops"}])
    results.write(huge, "huge", tmp_path, {})
    assert results.load("huge", tmp_path)[0].value[0] == 3 ** 60     # exact beyond 2^53
    csv = tmp_path / "chain.csv"
    csv.write_text(csv.read_text().replace("left", "LEFT", 1))
    with pytest.raises(results.ResultsError, match="sha256"):
        results.load("chain", tmp_path)


def test_other_schema_version_is_refused(tmp_path, quick_results):
    results.write(quick_results["graph"], "graph", tmp_path, {})
    meta_file = tmp_path / "graph.json"
    meta = json.loads(meta_file.read_text())
    meta["schema"] = "costad.results/0"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(results.ResultsError, match="schema"):
        results.load("graph", tmp_path)
    assert main(["show", "graph", "--results", str(tmp_path)]) == 1


def test_interrupted_run_leaves_previous_results_intact(tmp_path, monkeypatch):
    assert main(["run", "graph", "--quick", "--results", str(tmp_path)]) == 0
    before = (tmp_path / "graph.csv").read_bytes(), (tmp_path / "graph.json").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("costad.study.experiments.graph._run", interrupted)
    assert main(["run", "graph", "--quick", "--results", str(tmp_path)]) == 130
    # an interruption in the middle of writing: the temporary file never replaces the old
    monkeypatch.undo()
    monkeypatch.setattr("os.replace", interrupted)
    assert main(["run", "graph", "--quick", "--results", str(tmp_path)]) == 130
    monkeypatch.undo()
    assert ((tmp_path / "graph.csv").read_bytes(), (tmp_path / "graph.json").read_bytes()) == before
    assert not list(tmp_path.glob(".*.tmp"))
    results.load("graph", tmp_path)


def test_cli_errors(tmp_path, capsys):
    assert main(["run", "nonsense", "--results", str(tmp_path)]) == 1
    assert "unknown experiment 'nonsense'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", "graph", "--quick", "--results", str(blocker / "sub")]) == 1
    assert "results folder" in capsys.readouterr().err
    assert main(["show", "graph", "--results", str(tmp_path)]) == 1
    assert "missing" in capsys.readouterr().err
    assert main(["run", "--results", str(tmp_path)]) == 1


def test_cli_list_run_show(tmp_path, capsys):
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in STUDY_NAMES)
    assert main(["run", "chain", "jacobian_shape", "--quick", "--repeats", "1",
                 "--results", str(tmp_path)]) == 0
    assert "chain.csv" in capsys.readouterr().out
    assert main(["show", "chain", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "left" in out and "predicted" in out


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_results_files_get_the_mode_the_umask_gives(tmp_path, quick_results, umask, mode):
    old = os.umask(umask)
    try:
        results.write(quick_results["graph"], "graph", tmp_path, {})
    finally:
        os.umask(old)
    for suffix in (".csv", ".json"):
        assert stat.S_IMODE((tmp_path / f"graph{suffix}").stat().st_mode) == mode


def test_beyond_the_gradients_largest_n_f_alone_is_timed_and_the_rest_named(monkeypatch):
    from costad.study.experiments import gradient_vs_n
    monkeypatch.setattr(gradient_vs_n, "GRADIENT_MAX_N", 20)
    rows = pd.DataFrame(gradient_vs_n._run("seed", [30], QUICK))
    times = rows[rows.metric == "time"]
    assert set(times.strategy) == {"eval"} and len(times) == QUICK.repeats
    skipped = rows[rows.metric == "skipped"].set_index("strategy").note
    assert set(skipped.index) == set(gradient_vs_n.STRATEGIES)
    assert all("gradients run up to n = 2e+01" in note for note in skipped)
    # at or below it, every strategy runs as before; the mlp's n, rounded to whole layers
    # (10^7 becomes 10000003), is compared with the limit rounded alike
    ran = pd.DataFrame(gradient_vs_n._run("seed", [20], QUICK))
    assert set(ran[ran.metric == "time"].strategy) == {"eval", *gradient_vs_n.STRATEGIES}
    mlp = gradient_vs_n.FAMILIES["mlp"]
    monkeypatch.setattr(gradient_vs_n, "GRADIENT_MAX_N", 57)
    assert mlp.valid_n(57) == 58
    ran = pd.DataFrame(gradient_vs_n._run("mlp", [58], QUICK))
    assert "reverse" in set(ran[ran.metric == "time"].strategy)


def test_the_points_of_a_sweep_given_together_are_timed_in_one_set_of_rounds(monkeypatch):
    from costad.study.experiments import depth, gradient_vs_n, rnn
    from costad.study import recipes
    full = Settings.make(quick=False)
    assert sum(t.label.startswith("wide R=") for t in depth.tasks(full)) == 1
    assert sum(t.label.startswith("wide T=") for t in rnn.tasks(full)) == 1
    # every point's calls go to one time_calls: the rounds interleave the sizes
    batches = []
    real = recipes.time_calls
    monkeypatch.setattr(recipes, "time_calls",
                        lambda fns, repeats: batches.append(len(fns)) or real(fns, repeats))
    rows = pd.DataFrame(gradient_vs_n._run("seed", [20, 40], QUICK))
    assert batches == [2 * (1 + len(gradient_vs_n.STRATEGIES))]
    times = rows[rows.metric == "time"]
    assert set(times.n) == {20, 40} and len(times) == 2 * 5 * QUICK.repeats
