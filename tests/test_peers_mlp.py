"""`costad peers --mlp`: the speed case of array code (the MLP over a list of parameters),
timed for costad, the hand-written gradient and whichever peers are installed."""
import importlib.machinery
import statistics
import sys
import types

import numpy as np
import pytest

import costad
from costad.functions import family, mlp_classifier_problem, mlp_loss
from costad.study.commands import main
from costad.study.peers import mlp_list

SMALL = dict(widths=(6, 5, 5, 4), batch=7)


def small_problem(seed=0):
    return mlp_classifier_problem(seed, **SMALL)


def test_the_case_is_the_mlp_512_family_s_data_as_a_list():
    params, X, Y = mlp_classifier_problem(0)
    assert [p.shape for p in params] == [(512, 512), (512,)] * 4
    assert X.shape == (256, 512) and Y.shape == (256, 512)
    f, theta = family("mlp-512").build(family("mlp-512").valid_n(1), 0)
    assert np.array_equal(np.concatenate([p.ravel() for p in params]), theta)
    assert mlp_loss(params, X, Y) == f(theta)


def test_rows_time_costad_and_the_hand_written_gradient_with_both_ratios():
    params, X, Y = problem = small_problem()
    rows = mlp_list.mlp_list_rows(repeats=3, peers=[], problem=problem)
    assert [r["tool"] for r in rows] == ["costad, counted", "costad", "hand"]
    counted = rows[0]
    K = costad.count(lambda p: mlp_loss(p, X, Y), params).total
    with costad.counting() as work:
        costad.value_and_grad(lambda p: mlp_loss(p, X, Y))(params)
    assert counted["ratio_min"] == counted["ratio_median"] == work.total / K
    assert f"K = {K}, W = {work.total}" in counted["note"]
    for row in rows[1:]:
        assert row["rounds"] == 3
        assert row["ratio_min"] == row["fg_min_s"] / row["f_min_s"]
        assert row["ratio_median"] == row["fg_median_s"] / row["f_median_s"]
        assert 0 < row["f_min_s"] <= row["f_median_s"]
        assert 0 < row["fg_min_s"] <= row["fg_median_s"]
    assert rows[2]["version"] == f"NumPy {np.__version__}"


def test_ratios_are_of_the_minima_and_of_the_medians(monkeypatch):
    times = iter([1.0, 3.0, 2.0, 5.0, 4.0, 9.0] * 2)     # costad f, fg, then hand's, per round
    monkeypatch.setattr(mlp_list, "sample", lambda fn, loops: next(times))
    rows = mlp_list.mlp_list_rows(repeats=3, peers=[], problem=small_problem())
    costad_row = rows[1]
    # costad's samples: f 1, 4, 2 and fg 3, 9, 5 (rounds alternate with hand's)
    assert costad_row["f_min_s"] == 1.0 and costad_row["fg_min_s"] == 3.0
    assert costad_row["ratio_min"] == 3.0
    assert costad_row["ratio_median"] == statistics.median([3, 9, 5]) / statistics.median([1, 4, 2])


@pytest.fixture
def fake_autograd(monkeypatch):
    """A stand-in for HIPS autograd on the list case (NumPy as its namespace, costad's
    gradient as its own), so that the gate is tested where autograd is not installed."""
    package = types.ModuleType("autograd")
    package.__spec__ = importlib.machinery.ModuleSpec("autograd", None)
    package.numpy = np
    package.value_and_grad = costad.value_and_grad
    monkeypatch.setitem(sys.modules, "autograd", package)
    monkeypatch.setitem(sys.modules, "autograd.numpy", np)
    return package


def test_a_peer_that_agrees_on_the_list_gradient_is_timed(fake_autograd):
    rows = mlp_list.mlp_list_rows(repeats=2, peers=["autograd"], problem=small_problem())
    ours = [r for r in rows if r["tool"] == "autograd"]
    assert len(ours) == 1 and ours[0]["rounds"] == 2 and ours[0]["note"] == ""


def test_a_peer_that_disagrees_is_a_failed_row_never_timed(fake_autograd, monkeypatch):
    def wrong(f):
        def vg(params):
            value, grads = costad.value_and_grad(f)(params)
            return value, [g * (1 + 1e-6) for g in grads]
        return vg
    monkeypatch.setattr(fake_autograd, "value_and_grad", wrong)
    rows = mlp_list.mlp_list_rows(repeats=1, peers=["autograd"], problem=small_problem())
    (ours,) = [r for r in rows if r["tool"] == "autograd"]
    assert ours["rounds"] is None and ours["ratio_min"] is None
    assert ours["note"].startswith("failed: gradient differs")


def test_a_peer_that_raises_is_a_failed_row(fake_autograd, monkeypatch):
    def broken(f):
        def vg(params):
            raise RuntimeError("no")
        return vg
    monkeypatch.setattr(fake_autograd, "value_and_grad", broken)
    rows = mlp_list.mlp_list_rows(repeats=1, peers=["autograd"], problem=small_problem())
    (ours,) = [r for r in rows if r["tool"] == "autograd"]
    assert ours["note"] == "failed: raised RuntimeError: no"


@pytest.mark.parametrize("kwargs, message", [
    (dict(repeats=0), "repeats must be at least 1"),
    (dict(peers=["nope"]), "unknown peer 'nope'"),
])
def test_bad_requests_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mlp_list.mlp_list_rows(problem=small_problem(), **kwargs)


def test_cli_prints_the_table_and_judges_the_target(monkeypatch, capsys):
    monkeypatch.setattr(mlp_list, "mlp_classifier_problem", lambda seed: small_problem(seed))
    assert main(["peers", "--mlp", "--repeats", "2", "--peer", "torch", "--no-pin"]) == 0
    out = capsys.readouterr().out
    assert "costad, counted" in out and "hand" in out and "torch" in out
    assert "Target f+grad / f <= 2.8 for costad: " in out
    assert "over 2 interleaved rounds" in out


def test_cli_refuses_pairs_with_mlp_and_unknown_peers(capsys):
    assert main(["peers", "--mlp", "--pairs", "3"]) == 1
    assert "--pairs sets the scalar loop's sizes" in capsys.readouterr().err
    assert main(["peers", "--mlp", "--peer", "nope"]) == 1
    assert "unknown peer 'nope'" in capsys.readouterr().err


def test_cli_runs_on_one_cpu_and_says_which(monkeypatch, capsys):
    import os
    monkeypatch.setattr(mlp_list, "mlp_classifier_problem", lambda seed: small_problem(seed))
    seen = {}
    real = mlp_list.mlp_list_rows

    def spy(*args, **kwargs):
        seen["cpus"] = os.sched_getaffinity(0)
        return real(*args, **kwargs)
    monkeypatch.setattr(mlp_list, "mlp_list_rows", spy)
    before = os.sched_getaffinity(0)
    cpu = max(before)
    assert main(["peers", "--mlp", "--repeats", "1", "--peer", "torch", "--cpu", str(cpu)]) == 0
    assert seen["cpus"] == {cpu} and os.sched_getaffinity(0) == before
    assert f"(on CPU {cpu})" in capsys.readouterr().out
    assert main(["peers", "--mlp", "--cpu", "100000"]) == 1
    assert "CPU 100000 is not available" in capsys.readouterr().err


def test_a_peer_or_a_size_asked_twice_is_timed_once(fake_autograd):
    from costad.study import peers
    rows = mlp_list.mlp_list_rows(repeats=1, peers=["autograd", "autograd"],
                                  problem=small_problem())
    assert [r["tool"] for r in rows].count("autograd") == 1
    rows = peers.scalar_loop_rows([2, 2], repeats=1, peers=[])
    assert [(r["library"], r["pairs"]) for r in rows] == [("costad", 2), ("numpy", 2)]
