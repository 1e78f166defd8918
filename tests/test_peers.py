"""`costad peers`: the scalar-loop workload timed for costad and whichever peers are installed."""
import gc
import importlib.machinery
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import costad
from costad.study import peers
from costad.study.commands import main
from costad.functions import seed_pairs_loop


def test_the_peer_loop_is_the_seed_loop_over_the_peer_s_namespace():
    # One definition: the peers run `seed_pairs_loop` over their own namespace.
    x = np.random.default_rng(1).uniform(0.1, 1.0, 10)
    namespace = types.SimpleNamespace(exp=np.exp, sqrt=np.sqrt)
    assert seed_pairs_loop(x, xp=namespace) == seed_pairs_loop(x)
    assert costad.count(lambda v: seed_pairs_loop(v, xp=namespace), x).total == 3 * 10 - 1


def test_rows_carry_exact_counts_and_both_denominators():
    rows = peers.scalar_loop_rows([3, 5], repeats=1, peers=[])
    assert [(r["library"], r["pairs"]) for r in rows] == [
        ("costad", 3), ("numpy", 3), ("costad", 5), ("numpy", 5)]
    for r in rows:
        p = r["pairs"]
        assert (r["K"], r["W"]) == (6 * p - 1, 15 * p - 1)     # f, and value with gradient
        assert r["time_min_s"] > 0
        assert r["us_per_f_op"] == pytest.approx(r["time_min_s"] / r["K"] * 1e6)
        assert r["us_per_counted_op"] == pytest.approx(r["time_min_s"] / r["W"] * 1e6)


def test_every_known_peer_is_timed_or_reported_missing():
    rows = peers.scalar_loop_rows([2], repeats=1)
    installed = peers.available_peers()
    for name, label in peers.PEERS.items():
        variants = [r["variant"] for r in rows if r["library"] == label]
        if installed[name]:
            assert variants and "not installed" not in variants
        else:
            assert variants == ["not installed"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(pairs=[]), "empty"), (dict(pairs=[100000, 0]), "positive"),
    (dict(pairs=[2], repeats=0), "repeats"), (dict(pairs=[100000], peers=["jaxx"]), "jaxx")])
def test_bad_sweeps_are_refused(kwargs, message):
    # Refused before anything is timed: 100000 pairs would take seconds.
    with pytest.raises(ValueError, match=message):
        peers.scalar_loop_rows(**kwargs)


def test_cli_prints_the_table(capsys):
    assert main(["peers", "--pairs", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "reverse value_and_grad" in out and "us_per_counted_op" in out
    for label in peers.PEERS.values():
        assert label in out
    assert main(["peers", "--pairs", "2", "--peer", "nope"]) == 1


def test_gc_paused_runs_with_the_collector_off_and_restores_it():
    states = []
    run = peers.gc_paused(lambda: states.append(gc.isenabled()))
    assert gc.isenabled()
    run()
    assert states == [False] and gc.isenabled()

    def boom():
        raise RuntimeError("x")
    with pytest.raises(RuntimeError):
        peers.gc_paused(boom)()
    assert gc.isenabled()
    gc.disable()
    try:
        peers.gc_paused(lambda: None)()
        assert not gc.isenabled()                   # a caller's paused GC stays paused
    finally:
        gc.enable()


@pytest.fixture
def fake_autograd(monkeypatch):
    """A stand-in for HIPS autograd (NumPy's exp and sqrt, costad's gradient), so that the
    variants and their labels are tested where autograd is not installed."""
    package = types.ModuleType("autograd")
    package.__spec__ = importlib.machinery.ModuleSpec("autograd", None)
    numpy_module = types.ModuleType("autograd.numpy")
    numpy_module.exp, numpy_module.sqrt = np.exp, np.sqrt
    package.numpy = numpy_module

    def value_and_grad(f):
        return lambda x: (f(x), costad.grad(seed_pairs_loop)(x))
    package.value_and_grad = value_and_grad
    monkeypatch.setitem(sys.modules, "autograd", package)
    monkeypatch.setitem(sys.modules, "autograd.numpy", numpy_module)


def test_a_peer_that_disagrees_with_costad_is_not_timed(fake_autograd, monkeypatch, capsys):
    import autograd

    def wrong(f):
        return lambda x: (f(x), costad.grad(seed_pairs_loop)(x) * (1 + 1e-6))
    monkeypatch.setattr(autograd, "value_and_grad", wrong)
    rows = peers.scalar_loop_rows([3], repeats=1, peers=["autograd"])
    ours = [r for r in rows if r["library"] == "HIPS autograd"]
    assert [r["variant"] for r in ours] == ["ndarray input, GC as is",
                                            "ndarray input, GC paused"]
    for r in ours:
        assert r["time_min_s"] is None and r["note"].startswith("failed: gradient differs")


def test_jax_beyond_its_loop_budget_is_a_skipped_row(monkeypatch):
    # JAX "installed" (its adapter finds a module spec); beyond the budget nothing imports it.
    from costad.study.peers import adapters
    monkeypatch.setattr(adapters, "_find_spec", lambda name: object())
    rows = peers.scalar_loop_rows([200], repeats=1, peers=["jax"])
    ours = [r for r in rows if r["library"] == "JAX"]
    assert [r["variant"] for r in ours] == ["jit, compilation excluded", "eager"]
    for r in ours:
        assert r["time_min_s"] is None
        assert r["note"].startswith("skipped: n = 400 above the budget of 100")


def test_autograd_is_timed_with_the_gc_as_is_and_paused(fake_autograd, capsys):
    rows = peers.scalar_loop_rows([3], repeats=1, peers=["autograd"])
    variants = [r["variant"] for r in rows if r["library"] == "HIPS autograd"]
    assert variants == ["ndarray input, GC as is", "ndarray input, GC paused"]
    assert main(["peers", "--pairs", "2", "--repeats", "1", "--peer", "autograd"]) == 0
    out = capsys.readouterr().out
    assert "GC as is" in out and "GC paused" in out and "garbage collector" in out


def test_the_readme_explains_autograd_s_growth_by_the_garbage_collector():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### costad beside PyTorch"):readme.index("In another project")]
    assert "O(n)" not in section and "garbage collector" in section
    assert "GC paused" in section


def test_an_installed_but_broken_peer_is_a_failed_row(monkeypatch):
    # torch "installed" (a module spec is found) but its import fails
    from costad.study.peers import adapters
    monkeypatch.setattr(adapters, "_find_spec", lambda name: object())
    monkeypatch.setitem(sys.modules, "torch", None)          # import torch raises
    rows = peers.scalar_loop_rows([2], repeats=1, peers=["torch"])
    ours = [r for r in rows if r["library"] == "PyTorch eager"]
    assert len(ours) == 1 and ours[0]["note"].startswith("failed: raised ModuleNotFoundError")
