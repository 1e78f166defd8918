"""`costad peers`: the scalar-loop workload timed for costad and whichever peers are installed."""
import numpy as np
import pytest

from costad.study import peers
from costad.study.commands import main
from costad.functions import seed_pairs_loop


def test_the_peer_loop_is_the_seed_loop():
    x = np.random.default_rng(1).uniform(0.1, 1.0, 10)
    assert peers.seed_loop(np.exp, np.sqrt)(x) == seed_pairs_loop(x)


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
