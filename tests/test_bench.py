"""Benchmarks as data: a real pytest-benchmark JSON converted to the tidy schema and back,
and the comparison gate on counts."""
import copy
import json
import subprocess
import sys

import pytest

from costad.study import bench, results
from costad.study.commands import main

BENCH_FILE = '''
import numpy as np
import costad

def test_reverse(counted_benchmark):
    x = np.linspace(0.1, 1.0, 8)
    counted_benchmark(costad.grad(lambda v: np.sum(np.exp(v) * v)), x, strategy="reverse", n=8,
                      K=23)

def test_chain(counted_benchmark):
    from costad import chain
    mats = [np.ones((4, 4)), np.ones((4, 4)), np.ones((4, 1))]
    counted_benchmark(chain.multiply, mats, "right", strategy="right", n=4, R=2)
'''


@pytest.fixture(scope="module")
def real_json(tmp_path_factory):
    """A pytest-benchmark JSON produced here, through costad's pytest plugin."""
    folder = tmp_path_factory.mktemp("bench")
    (folder / "test_tiny_bench.py").write_text(BENCH_FILE)
    out = folder / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(folder / "test_tiny_bench.py"), "--benchmark-min-rounds=3",
                           "--benchmark-max-time=0.01", f"--benchmark-json={out}"],
                          capture_output=True, text=True, cwd=folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_plugin_attaches_exact_counts(real_json):
    data = bench.load_json(real_json)
    by_name = {b["name"]: b for b in data["benchmarks"]}
    info = by_name["test_reverse"]["extra_info"]
    assert info["strategy"] == "reverse" and info["n"] == 8
    # f: 8 exp, 8 mul, 7 add; reverse: 16 mul (product rule) + 8 mul (exp's VJP) + 8 adds
    assert info["count_exp"] == 8 and info["count_mul"] == 32 and info["count_add"] == 15
    assert by_name["test_chain"]["extra_info"]["count_mul"] == 2 * 16


def test_converter_round_trips_a_real_json(real_json, tmp_path):
    data = bench.load_json(real_json)
    assert main(["bench-table", str(real_json), "--results", str(tmp_path), "--name", "b"]) == 0
    df, meta = results.load("b", tmp_path)
    assert meta["machine_info"] == data["machine_info"]
    for b in data["benchmarks"]:
        rows = df[df.note == b["fullname"]]
        times = rows.set_index("metric").value
        assert times["time_min"] == b["stats"]["min"]
        assert times["time_median"] == b["stats"]["median"]
        assert times["time_iqr"] == b["stats"]["iqr"]
        ops = rows[rows.metric == "ops"].set_index("kind").value.to_dict()
        assert ops == {k[len("count_"):]: v for k, v in b["extra_info"].items()
                       if k.startswith("count_")}
        assert times["time_per_op"] == b["stats"]["min"] / b["extra_info"]["count_total"]
        if "K" in b["extra_info"]:                    # ops of f: 8 exp, 8 mul, 7 add
            assert times["time_per_f_op"] == b["stats"]["min"] / 23
        else:
            assert "time_per_f_op" not in times
    chain_rows = df[df.note.str.contains("test_chain")]
    assert set(chain_rows.strategy) == {"right"} and set(chain_rows.R.dropna()) == {2}


def test_compare_fails_on_a_changed_count_and_passes_on_time_noise(real_json, tmp_path, capsys):
    data = bench.load_json(real_json)
    slower = copy.deepcopy(data)
    for b in slower["benchmarks"]:
        b["stats"]["median"] *= 1.3
    (tmp_path / "slower.json").write_text(json.dumps(slower))
    assert main(["bench-compare", str(real_json), str(tmp_path / "slower.json")]) == 0
    assert main(["bench-compare", str(real_json), str(tmp_path / "slower.json"),
                 "--time-threshold", "1.5"]) == 0
    assert main(["bench-compare", str(real_json), str(tmp_path / "slower.json"),
                 "--time-threshold", "1.2"]) == 1
    changed = copy.deepcopy(data)
    changed["benchmarks"][0]["extra_info"]["count_mul"] += 1
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    capsys.readouterr()
    assert main(["bench-compare", str(real_json), str(tmp_path / "changed.json")]) == 1
    out = capsys.readouterr()
    assert "COUNTS CHANGED" in out.out and "count_mul" in out.out


def test_compare_reports_missing_and_bad_files(real_json, tmp_path, capsys):
    data = bench.load_json(real_json)
    fewer = copy.deepcopy(data)
    fewer["benchmarks"] = fewer["benchmarks"][:1]
    (tmp_path / "fewer.json").write_text(json.dumps(fewer))
    assert main(["bench-compare", str(real_json), str(tmp_path / "fewer.json")]) == 1
    assert "MISSING" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("{}")
    assert main(["bench-compare", str(real_json), str(tmp_path / "bad.json")]) == 1
    assert "not a pytest-benchmark JSON" in capsys.readouterr().err
    assert main(["bench-table", str(tmp_path / "nope.json")]) == 1


def test_compare_itself_refuses_a_meaningless_threshold_and_an_empty_baseline(real_json):
    data = bench.load_json(real_json)
    for threshold in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="threshold"):
            bench.compare(data, data, threshold)
    assert bench.compare({"benchmarks": []}, data).failed
    assert not bench.compare(data, data, 1.5).failed
