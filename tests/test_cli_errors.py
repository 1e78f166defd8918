"""Every failure of the `costad` command is one line on stderr and exit code 1: no traceback,
no doubled "costad: error: costad:" prefix, whatever the user typed or the files hold."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from costad.study.commands import main

from cli_checks import graph_results, one_line_failure  # noqa: F401  (a fixture)


def _copy_graph(graph_results, tmp_path) -> Path:
    target = tmp_path / "results"
    target.mkdir()
    for suffix in (".csv", ".json"):
        (target / f"graph{suffix}").write_bytes((graph_results / f"graph{suffix}").read_bytes())
    return target


def _rehash(directory: Path, name: str = "graph") -> None:
    """Make NAME.json name the sha256 (and row count) of NAME.csv as it now is."""
    meta_file = directory / f"{name}.json"
    meta = json.loads(meta_file.read_text())
    data = (directory / f"{name}.csv").read_bytes()
    meta["csv_sha256"] = hashlib.sha256(data).hexdigest()
    meta["rows"] = max(0, data.count(b"\n") - 1)
    meta_file.write_text(json.dumps(meta))


# ------------------------------------------------------------------------- costad run

@pytest.mark.parametrize("argv, fragment", [
    (["--repeats", "0"], "--repeats"), (["--repeats", "-1"], "--repeats"),
    (["--seed", "-1"], "--seed"), (["--repeats", "two"], "--repeats"),
    (["--seed", "1.5"], "--seed")])
def test_run_refuses_bad_settings_while_parsing(capsys, tmp_path, argv, fragment):
    folder = tmp_path / "never"
    one_line_failure(capsys, ["run", "graph", "--results", str(folder), *argv], fragment)
    assert not folder.exists()                    # refused before any work


def test_run_errors_are_one_line(capsys, tmp_path):
    one_line_failure(capsys, ["run", "nonsense", "--results", str(tmp_path)],
                      "unknown experiment 'nonsense'")
    one_line_failure(capsys, ["run", "--results", str(tmp_path)], "--all")
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_line_failure(capsys, ["run", "graph", "--quick", "--results", str(blocker / "sub")],
                      "results folder")
    one_line_failure(capsys, ["run", "graph", "--bogus"], "--bogus")
    one_line_failure(capsys, ["nosuchcommand"], "nosuchcommand")
    one_line_failure(capsys, [], "COMMAND")


# ---------------------------------------------------------------------- costad report

def test_report_out_naming_a_file_is_refused(capsys, graph_results, tmp_path):
    a_file = tmp_path / "report.txt"
    a_file.write_text("keep me")
    one_line_failure(capsys, ["report", "--results", str(graph_results), "--out", str(a_file)],
                      str(a_file))
    assert a_file.read_text() == "keep me"


def test_report_out_in_a_read_only_folder_is_refused(capsys, graph_results):
    # sysfs refuses new files and folders even to root, so this holds for every user.
    one_line_failure(capsys, ["report", "--results", str(graph_results), "--out", "/sys"],
                      "/sys")


def test_report_refuses_a_malformed_source_date_epoch(capsys, graph_results, tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "abc")
    out = tmp_path / "out"
    one_line_failure(capsys, ["report", "--results", str(graph_results), "--out", str(out)],
                      "SOURCE_DATE_EPOCH")
    assert not out.exists()


def test_report_partial_and_check_failures_end_in_one_error_line(capsys, graph_results,
                                                                 tmp_path):
    out = tmp_path / "out"
    one_line_failure(capsys, ["report", "--results", str(graph_results), "--out", str(out)],
                      "missing")
    (out / "README.md").write_text("edited\n")
    one_line_failure(capsys, ["report", "--check", "--results", str(graph_results),
                               "--out", str(out)], "does not match a rebuild")


# ------------------------------------------------------------------------ costad show

@pytest.mark.parametrize("content", [b"", b"[]", b"null", b'{"schema": "costad.res',
                                     b"\xff\xfe\x00{}", b'"text"', b"42"])
def test_show_refuses_a_malformed_json(capsys, graph_results, tmp_path, content):
    directory = _copy_graph(graph_results, tmp_path)
    (directory / "graph.json").write_bytes(content)
    one_line_failure(capsys, ["show", "graph", "--results", str(directory)], "graph.json")


def test_show_refuses_an_unreadable_file(capsys, graph_results, tmp_path):
    directory = _copy_graph(graph_results, tmp_path)
    # Reading /proc/self/mem at offset 0 fails (EIO) for every user, root included.
    for suffix in (".json", ".csv"):
        target = directory / f"graph{suffix}"
        saved = target.read_bytes()
        target.unlink()
        target.symlink_to("/proc/self/mem")
        one_line_failure(capsys, ["show", "graph", "--results", str(directory)],
                          f"graph{suffix}")
        target.unlink()
        target.write_bytes(saved)


def test_show_refuses_folders_where_files_belong(capsys, graph_results, tmp_path):
    directory = _copy_graph(graph_results, tmp_path)
    (directory / "graph.csv").unlink()
    (directory / "graph.csv").mkdir()
    one_line_failure(capsys, ["show", "graph", "--results", str(directory)], "graph.csv")
    a_file = tmp_path / "plain"
    a_file.write_text("")
    one_line_failure(capsys, ["show", "graph", "--results", str(a_file)], "plain")


def test_show_refuses_a_header_only_csv(capsys, graph_results, tmp_path):
    directory = _copy_graph(graph_results, tmp_path)
    csv = directory / "graph.csv"
    csv.write_text(csv.read_text().splitlines()[0] + "\n")
    _rehash(directory)
    one_line_failure(capsys, ["show", "graph", "--results", str(directory)], "no observations")


@pytest.mark.parametrize("bad", ["1.5", "abc", "1e3x"])
def test_show_refuses_a_non_integer_count(capsys, graph_results, tmp_path, bad):
    directory = _copy_graph(graph_results, tmp_path)
    csv = directory / "graph.csv"
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    value, unit = header.index("value"), header.index("unit")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        if cells[unit] == "ops":
            cells[value] = bad
            lines[i] = ",".join(cells)
            break
    csv.write_text("\n".join(lines) + "\n")
    _rehash(directory)
    one_line_failure(capsys, ["show", "graph", "--results", str(directory)], "graph.csv",
                      repr(bad))


@pytest.mark.parametrize("column, old, new", [("value", "5", "-5"), ("n", "2", "-2")])
def test_show_refuses_a_negative_count(capsys, graph_results, tmp_path, column, old, new):
    # a count of -5 operations (or n = -2) loaded and printed as if measured
    directory = _copy_graph(graph_results, tmp_path)
    csv_file = directory / "graph.csv"
    lines = csv_file.read_text().splitlines()
    header = lines[0].split(",")
    at = header.index(column)
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        if cells[at] == old and (column != "value" or cells[header.index("unit")] == "ops"):
            cells[at] = new
            lines[i] = ",".join(cells)
            break
    else:
        raise AssertionError("no row to edit")
    csv_file.write_text("\n".join(lines) + "\n")
    _rehash(directory)
    one_line_failure(capsys, ["show", "graph", "--results", str(directory)], "graph.csv",
                      "is negative")


def test_show_refuses_bad_names(capsys, graph_results):
    one_line_failure(capsys, ["show", "../graph", "--results", str(graph_results)], "name")
    one_line_failure(capsys, ["show", "", "--results", str(graph_results)], "name")


# ------------------------------------------------------- costad bench-compare / bench-table

def _benchmark(name="test_a", **changes):
    entry = {"name": name, "fullname": f"tests/test_x.py::{name}", "group": None,
             "stats": {"min": 1e-3, "max": 3e-3, "mean": 2e-3, "median": 2e-3, "iqr": 1e-4,
                       "rounds": 3},
             "extra_info": {"count_total": 10, "count_mul": 4, "strategy": "reverse", "n": 4}}
    entry.update(changes)
    return entry


def _bench_file(tmp_path, name, benchmarks, raw: bytes | None = None) -> Path:
    path = tmp_path / name
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(json.dumps({"machine_info": {}, "commit_info": {},
                                    "benchmarks": benchmarks}))
    return path


def _without(key):
    entry = _benchmark()
    del entry[key]
    return entry


BAD_BENCHMARKS = {
    "missing fullname": ([_without("fullname")], "fullname"),
    "missing stats": ([_without("stats")], "stats"),
    "extra_info null": ([_benchmark(extra_info=None)], "extra_info"),
    "zero median": ([_benchmark(stats={"min": 1e-3, "median": 0.0, "iqr": 0.0})], "median"),
    "zero min": ([_benchmark(stats={"min": 0.0, "median": 1e-3, "iqr": 0.0})], "min"),
    "stats not numbers": ([_benchmark(stats={"min": "a", "median": 1.0, "iqr": 0.0})], "min"),
    "non-integer count": ([_benchmark(extra_info={"count_total": 1.5})], "count_total"),
    "count as text": ([_benchmark(extra_info={"count_total": "10"})], "count_total"),
    "entry not an object": (["oops"], "benchmark"),
}


@pytest.mark.parametrize("case", sorted(BAD_BENCHMARKS))
def test_bench_commands_refuse_malformed_entries(capsys, tmp_path, case):
    benchmarks, fragment = BAD_BENCHMARKS[case]
    good = _bench_file(tmp_path, "good.json", [_benchmark()])
    bad = _bench_file(tmp_path, "bad.json", benchmarks)
    one_line_failure(capsys, ["bench-compare", str(good), str(bad)], "bad.json", fragment)
    one_line_failure(capsys, ["bench-compare", str(bad), str(good)], "bad.json", fragment)
    one_line_failure(capsys, ["bench-table", str(bad)], "bad.json", fragment)


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b"", b"[]", b"{", b'{"benchmarks": 3}'])
def test_bench_commands_refuse_malformed_files(capsys, tmp_path, raw):
    good = _bench_file(tmp_path, "good.json", [_benchmark()])
    bad = _bench_file(tmp_path, "bad.json", None, raw=raw)
    one_line_failure(capsys, ["bench-compare", str(good), str(bad)], "bad.json")
    one_line_failure(capsys, ["bench-table", str(bad)], "bad.json")
    one_line_failure(capsys, ["bench-table", str(tmp_path / "nope.json")], "nope.json")
    one_line_failure(capsys, ["bench-table", str(tmp_path)], str(tmp_path))


def test_a_well_formed_pair_still_compares(capsys, tmp_path):
    a = _bench_file(tmp_path, "a.json", [_benchmark()])
    assert main(["bench-compare", str(a), str(a)]) == 0
    assert "counts equal" in capsys.readouterr().out


# ------------------------------------------------------------------ the real process

def test_the_installed_command_fails_in_one_line_with_exit_code_1(tmp_path):
    env = dict(os.environ, SOURCE_DATE_EPOCH="abc")
    for argv in (["run", "graph", "--repeats", "0"], ["report", "--results", str(tmp_path)],
                 ["show", "graph", "--results", str(tmp_path)], ["--no-such-flag"]):
        proc = subprocess.run([sys.executable, "-m", "costad", *argv], capture_output=True,
                              text=True, env=env, cwd=tmp_path)
        assert proc.returncode == 1, (argv, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith("costad: error: ")


# ------------------------------------------------------------ bench gate arguments (19)

@pytest.mark.parametrize("threshold", ["0", "-1", "-0.5", "nan", "NaN", "inf", "-inf", "x"])
def test_bench_compare_refuses_a_meaningless_time_threshold(capsys, tmp_path, threshold):
    a = _bench_file(tmp_path, "a.json", [_benchmark()])
    one_line_failure(capsys, ["bench-compare", str(a), str(a), "--time-threshold", threshold],
                      "--time-threshold")


def test_bench_compare_fails_on_an_empty_baseline(capsys, tmp_path):
    empty = _bench_file(tmp_path, "empty.json", [])
    new = _bench_file(tmp_path, "new.json", [_benchmark()])
    one_line_failure(capsys, ["bench-compare", str(empty), str(new)], "empty.json",
                      "no benchmarks")
    one_line_failure(capsys, ["bench-compare", str(empty), str(empty)], "no benchmarks")


@pytest.mark.parametrize("name", ["../x", "", "a/b", "/abs", ".hidden", "a\\b", "..", "-x"])
def test_bench_table_refuses_names_that_are_not_plain_file_names(capsys, tmp_path, name):
    a = _bench_file(tmp_path, "a.json", [_benchmark()])
    out = tmp_path / "out"
    one_line_failure(capsys, ["bench-table", str(a), "--results", str(out), f"--name={name}"],
                      "--name")
    assert not out.exists() and not (tmp_path / "x.csv").exists()


# ------------------------------------------------------------------- one CPU per run

needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"),
                                    reason="the platform has no CPU affinity to set")


@needs_affinity
def test_one_cpu_holds_the_run_to_the_lowest_cpu_and_gives_the_others_back():
    from costad.study.commands.run import one_cpu
    allowed = os.sched_getaffinity(0)
    with one_cpu() as cpu:
        assert cpu == min(allowed) and os.sched_getaffinity(0) == {cpu}
    assert os.sched_getaffinity(0) == allowed
    with pytest.raises(RuntimeError):                   # given back on an error too
        with one_cpu(max(allowed)):
            assert os.sched_getaffinity(0) == {max(allowed)}
            raise RuntimeError
    assert os.sched_getaffinity(0) == allowed
    with one_cpu(pin=False) as cpu:
        assert cpu is None and os.sched_getaffinity(0) == allowed


@needs_affinity
def test_run_records_its_cpu_and_refuses_one_it_may_not_use(capsys, tmp_path):
    from costad.study import results
    assert main(["run", "graph", "--results", str(tmp_path)]) == 0
    assert results.load("graph", tmp_path)[1]["cpu_pinned"] == min(os.sched_getaffinity(0))
    assert main(["run", "graph", "--results", str(tmp_path), "--no-pin"]) == 0
    assert results.load("graph", tmp_path)[1]["cpu_pinned"] is None
    capsys.readouterr()
    unusable = max(os.sched_getaffinity(0)) + 1
    assert main(["run", "graph", "--results", str(tmp_path), "--cpu", str(unusable)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"CPU {unusable} is not available" in err


@pytest.mark.parametrize("command", ["run", "calibrate"])
def test_cpu_and_no_pin_together_are_refused(capsys, tmp_path, command):
    # --no-pin used to win silently: the run was not held to the CPU asked for
    one_line_failure(capsys, [command, "--results", str(tmp_path), "--cpu", "0", "--no-pin"]
                      + (["graph"] if command == "run" else []), "--no-pin", "--cpu")
    assert not list(tmp_path.iterdir())


def test_a_missing_results_file_names_the_folder_to_run_into(capsys, tmp_path):
    # the hint said `costad run graph`, which writes into results/, not the folder asked for
    one_line_failure(capsys, ["show", "graph", "--results", str(tmp_path)],
                      f"run `costad run graph --results {tmp_path}`")
