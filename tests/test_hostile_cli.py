"""Hostile use of the `costad` command and the study's files: results that were edited,
copied or renamed, benchmark files with odd sizes, malformed provenance, and interrupted
report builds. Each case once gave a wrong result without an error, lost results, or ended
in an internal error where a one-line error belongs."""
import hashlib
import json
import math
import shutil
from pathlib import Path

import matplotlib.figure
import pytest

from costad.study.commands import main

from cli_checks import graph_results, one_line_failure  # noqa: F401  (a fixture)


def _copy(graph_results, tmp_path, as_name="graph") -> Path:
    target = tmp_path / "results"
    target.mkdir(exist_ok=True)
    for suffix in (".csv", ".json"):
        shutil.copy(graph_results / f"graph{suffix}", target / f"{as_name}{suffix}")
    return target


def _report_sets_aside(capsys, directory: Path, tmp_path: Path, name: str, reason: str) -> Path:
    """Build the report of ``directory``; check that it lists experiment ``name`` as
    unusable for ``reason`` (exit 1, no internal error) and still builds the graph section.
    Returns the report folder."""
    out = tmp_path / "report"
    code = main(["report", "--results", str(directory), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "internal error" not in captured.err, captured.err
    assert f"{name}: " in captured.out and reason in captured.out, captured.out
    assert (out / "figures" / "dag.svg").is_file()
    return out


def _edit_cell(directory: Path, column: str, text: str, name: str = "graph") -> None:
    """Set ``column`` of the first data row of NAME.csv to ``text``, and record the new
    sha256 in NAME.json (an edit the hash check cannot see)."""
    csv_file = directory / f"{name}.csv"
    lines = csv_file.read_text().split("\n")
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index(column)] = text
    lines[1] = ",".join(cells)
    data = "\n".join(lines).encode()
    csv_file.write_bytes(data)
    meta_file = directory / f"{name}.json"
    meta = json.loads(meta_file.read_text())
    meta["csv_sha256"] = hashlib.sha256(data).hexdigest()
    meta_file.write_text(json.dumps(meta))


def _bench_file(path: Path, **extra_info) -> Path:
    entry = {"name": "t", "fullname": "tests/test_x.py::t", "group": None,
             "stats": {"min": 1e-3, "median": 2e-3, "iqr": 1e-4},
             "extra_info": {"count_total": 10, "strategy": "reverse", **extra_info}}
    path.write_text(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": [entry]}))
    return path


# ---------------------------------------------------------------- results files

def test_a_grid_value_beyond_int64_is_a_one_line_error(capsys, graph_results, tmp_path):
    # Was: "internal error (OverflowError: Python int too large to convert to C long)".
    directory = _copy(graph_results, tmp_path)
    _edit_cell(directory, "n", str(2 ** 70))
    one_line_failure(capsys, ["show", "graph", "--results", str(directory)],
                      "graph.csv line 2", "too large")


@pytest.mark.parametrize("column, text", [("n", "2_0"), ("value", "1_0"), ("n", "\u0663"),
                                          ("value", " 5"), ("param", "1_0.5")])
def test_a_number_the_writer_cannot_have_written_is_refused_not_misread(
        capsys, graph_results, tmp_path, column, text):
    # Was: "2_0" shown as n = 20 and the Arabic-Indic digit three as n = 3 (Python's int()
    # reads both), a number that looks measured.
    directory = _copy(graph_results, tmp_path)
    _edit_cell(directory, column, text)
    one_line_failure(capsys, ["show", "graph", "--results", str(directory)],
                      "graph.csv line 2", column)


def test_results_copied_under_another_experiments_name_are_refused(capsys, graph_results,
                                                                   tmp_path):
    # Was: `costad show descent` printed the graph experiment's rows as descent's, and the
    # report applied descent's figures to them: "internal error (...)".
    directory = _copy(graph_results, tmp_path, as_name="descent")
    _copy(graph_results, tmp_path)
    one_line_failure(capsys, ["show", "descent", "--results", str(directory)],
                      "descent.json", "'graph'", "renamed or copied")
    _report_sets_aside(capsys, directory, tmp_path, "descent", "renamed or copied")


# ------------------------------------------------------------------ benchmarks

@pytest.mark.parametrize("info", [{"n": -5}, {"R": -1}, {"n": 2 ** 70}])
def test_bench_table_never_writes_results_that_do_not_load(capsys, tmp_path, info):
    # Was: a negative size written, then refused by every reader ("n '-5' is negative"); a
    # size beyond int64 an internal error.
    bench = _bench_file(tmp_path / "b.json", **info)
    key = next(iter(info))
    one_line_failure(capsys, ["bench-table", str(bench), "--results", str(tmp_path / "r")],
                      "b.json", f"'{key}'")
    assert not (tmp_path / "r" / "benchmarks.csv").exists()


def test_bench_table_does_not_take_a_bool_for_a_size(capsys, tmp_path):
    bench = _bench_file(tmp_path / "b.json", n=True, K=True)
    assert main(["bench-table", str(bench)]) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()
    column = header.split(",").index("n")
    assert all(row.split(",")[column] == "" for row in rows), out
    assert "time_per_f_op" not in out


def test_bench_table_refuses_to_replace_an_experiments_results(capsys, graph_results,
                                                               tmp_path):
    # Was: `--name graph` silently replaced results/graph.csv with a benchmark table (the
    # experiment's results lost), and the report then ended in an internal error.
    directory = _copy(graph_results, tmp_path)
    before = (directory / "graph.csv").read_bytes()
    bench = _bench_file(tmp_path / "b.json", n=4)
    for name in ("graph", "Graph"):           # one file on macOS's and Windows' disks
        one_line_failure(capsys, ["bench-table", str(bench), "--results", str(directory),
                                   "--name", name], f"{name!r}", "experiment 'graph'")
    assert (directory / "graph.csv").read_bytes() == before
    assert {p.name for p in directory.iterdir()} <= {".costad.lock", "graph.csv", "graph.json"}
    assert main(["bench-table", str(bench), "--results", str(directory),
                 "--name", "graph-bench"]) == 0


# ------------------------------------------------------------------ provenance

@pytest.mark.parametrize("key, value", [("thread_pools", {"blas": 1}), ("thread_pools", [1]),
                                        ("threads", [4]), ("argv", [1, None]),
                                        ("argv", "costad run graph")])
def test_show_markdown_survives_provenance_of_the_wrong_types(capsys, graph_results, tmp_path,
                                                              key, value):
    # Was: "internal error (AttributeError: 'str' object has no attribute 'get')".
    directory = _copy(graph_results, tmp_path)
    meta_file = directory / "graph.json"
    meta = json.loads(meta_file.read_text())
    meta[key] = value
    meta_file.write_text(json.dumps(meta))
    assert main(["show", "graph", "--markdown", "--results", str(directory)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Measured on ") and "| seed |" in out
    if isinstance(value, str):                   # was spelled out one letter at a time
        assert f"`{value}`" in out


# ---------------------------------------------------------------------- costad count

def test_count_of_a_file_python_refuses_whole_names_no_line_none(capsys, tmp_path):
    source = tmp_path / "nul.py"
    source.write_bytes(b"def f(x):\x00 return x\n")
    line = one_line_failure(capsys, ["count", f"{source}:f", "--shape", "3"], "SyntaxError")
    assert "line None" not in line


# ---------------------------------------------------------------------- the report

def test_an_interrupted_report_build_leaves_every_previous_file_whole(
        capsys, graph_results, tmp_path, monkeypatch):
    # Was: Ctrl-C (or a kill) while a figure was being written left it truncated in place
    # of the previous one; two builds at once could interleave it.
    directory = _copy(graph_results, tmp_path)
    out = tmp_path / "report"
    main(["report", "--results", str(directory), "--out", str(out)])
    capsys.readouterr()
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert out / "figures" / "dag.svg" in before

    def cut_short(self, fname, **kwargs):
        Path(fname).write_bytes(b"<svg")                     # part written, then the cut
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", cut_short)
    assert main(["report", "--results", str(directory), "--out", str(out)]) == 130
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_a_first_write_cut_between_its_two_renames_loads(tmp_path, monkeypatch):
    # The results' documented promise: "the folder always holds a pair that loads". Was:
    # with no previous pair, the new CSV beside its pending JSON gave "x.json is missing"
    # (to `load`, `costad show` and the report) until some later write completed it.
    import os

    from costad.study import results
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.path.basename(os.fspath(dst)) == "x.json":
            raise KeyboardInterrupt                     # the run dies right here
        return real(src, dst, *args, **kwargs)

    frame = results.to_frame([{"experiment": "x", "function": "new", "metric": "ops",
                               "kind": "total", "value": 7, "unit": "ops"}])
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        results.write(frame, "x", tmp_path, {"tag": "new"})
    monkeypatch.undo()
    assert not (tmp_path / "x.json").exists()
    df, meta = results.load("x", tmp_path)
    assert meta["tag"] == "new" and list(df.value) == [7]
    results.write(frame, "y", tmp_path, {"tag": "y"})      # any later write completes it
    assert results.load("x", tmp_path)[1]["tag"] == "new"
    assert (tmp_path / "x.json").exists()


# ------------------------------------------------------------ costad report --check

FITS_HEADER = "experiment,function,strategy,x,count_slope\n"


@pytest.mark.parametrize("rebuilt, committed", [
    ("2.0", "1"),              # an fd slope of 2 passed as 1: "1" has its last digit in units
    ("1.0", "1.1"),            # "1.0" is 1.0000 rounded to 4 decimals, printed short
    ("3e-05", "9e-05"),        # an exponent: the mantissa's decimals are not the digit
])
def test_check_refuses_a_fits_number_changed_beyond_the_columns_precision(rebuilt, committed):
    from costad.study.content import fits_difference
    other = "gradient_vs_n,seed,reverse,n,1.9978\n"
    fresh = FITS_HEADER + f"gradient_vs_n,seed,fd,n,{rebuilt}\n" + other
    tampered = FITS_HEADER + f"gradient_vs_n,seed,fd,n,{committed}\n" + other
    assert fits_difference(fresh, tampered) is not None


@pytest.mark.parametrize("rebuilt, committed", [("1.0", "1.0001"), ("1.9978", "1.9977"),
                                                ("nan", "nan"), ("inf", "inf")])
def test_check_still_accepts_a_rounding_that_flipped(rebuilt, committed):
    from costad.study.content import fits_difference
    other = "gradient_vs_n,seed,fd,n,1.9978\n"
    fresh = FITS_HEADER + other + f"gradient_vs_n,seed,reverse,n,{rebuilt}\n"
    tampered = FITS_HEADER + other + f"gradient_vs_n,seed,reverse,n,{committed}\n"
    assert fits_difference(fresh, tampered) is None


def test_bench_compare_fails_on_a_baseline_without_counts(capsys, tmp_path):
    # Was: "costad bench-compare: counts equal" and exit 0 for a plain pytest-benchmark
    # baseline (no counted_benchmark), whatever the new run's counts.
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": [
        {"name": "t", "fullname": "tests/test_x.py::t", "group": None,
         "stats": {"min": 1e-3, "median": 2e-3, "iqr": 1e-4}, "extra_info": {}}]}))
    new = _bench_file(tmp_path / "new.json", count_total=10 ** 6)
    one_line_failure(capsys, ["bench-compare", str(base), str(new)], "base.json", "no counts")
    assert main(["bench-compare", str(new), str(new)]) == 0


# ---------------------------------------------------------------- the repository

def test_git_never_converts_the_line_endings_of_results_or_reports():
    # Was: no .gitattributes; a checkout with core.autocrlf (Windows) rewrote the committed
    # results' CSVs with CRLF, and every one failed its recorded sha256 ("the file was
    # changed or partly written"), and the report its exact comparison.
    import subprocess
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "check-attr", "text", "--", "results/graph.csv",
                          "reports/README.md", "reports/fits.csv"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    assert out.count(": text: unset") == 3, out


@pytest.mark.parametrize("text", ["-1e-05", "0", "0.0", "nan", "inf", "-inf"])
def test_a_time_sample_that_cannot_be_measured_is_refused(capsys, tmp_path, text):
    # Was: loaded and shown ("-1e-05" as a median time; log-scale figures dropped it and
    # fits took NaN) without a word.
    from costad.study import results
    rows = [{"experiment": "x", "function": "seed", "strategy": "reverse", "n": 10,
             "replicate": i, "metric": "time", "value": 1e-5 * (i + 1), "unit": "s"}
            for i in range(3)]
    results.write(results.to_frame(rows), "x", tmp_path, {})
    _edit_cell(tmp_path, "value", text, name="x")
    one_line_failure(capsys, ["show", "x", "--results", str(tmp_path)], "x.csv line 2",
                      "time")


def test_one_timing_sample_per_point_gives_no_interval_not_an_exact_one():
    # Was: `costad run ... --repeats 1` gave fits.csv time slopes with the interval
    # [0.507, 0.507] and figure legends "slope 0.51", as if the slope were exact.
    from costad.study.fits import time_slope
    slope = time_slope([10, 100, 1000], [1e-5, 4e-5, 3e-4], whole=True)
    assert slope.value > 0
    assert math.isnan(slope.low) and math.isnan(slope.high), slope      # no interval
    assert "[" not in slope.label() and "no interval" in slope.label()
    two = time_slope([10, 10, 100, 100], [1e-5, 1.2e-5, 4e-5, 5e-5], whole=True)
    assert two.low < two.high                         # two samples: an interval again


def test_an_experiment_whose_rows_lack_what_its_report_reads_is_listed_not_fatal(
        capsys, graph_results, tmp_path):
    # Was: every reverse row of an experiment removed (and the hash re-recorded) ended the
    # whole report in "internal error (KeyError: 'reverse')".
    directory = _copy(graph_results, tmp_path)
    assert main(["run", "jacobian_shape", "--quick", "--results", str(directory)]) == 0
    capsys.readouterr()
    csv_file = directory / "jacobian_shape.csv"
    lines = csv_file.read_text().split("\n")
    column = lines[0].split(",").index("strategy")
    kept = [lines[0]] + [line for line in lines[1:]
                         if line and line.split(",")[column] != "reverse"]
    data = ("\n".join(kept) + "\n").encode()
    csv_file.write_bytes(data)
    meta_file = directory / "jacobian_shape.json"
    meta = json.loads(meta_file.read_text())
    meta["csv_sha256"] = hashlib.sha256(data).hexdigest()
    meta_file.write_text(json.dumps(meta))
    out = _report_sets_aside(capsys, directory, tmp_path, "jacobian_shape",
                             "lack rows its report reads")
    readme = (out / "README.md").read_text()
    assert "Not built: results for `jacobian_shape` are missing or unreadable." in readme


def test_an_experiment_script_runs_its_experiment_only(capsys, tmp_path):
    # Was: `python experiments/chain.py graph` ran chain, and graph too.
    from costad.study.commands.run import run_script
    directory = tmp_path / "results"
    assert run_script("graph", ["chain", "--quick", "--results", str(directory)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: chain" in err, err
    assert not directory.exists()
    assert run_script("graph", ["--quick", "--results", str(directory)]) == 0
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith(".")) == [
        "graph.csv", "graph.json"]


def test_showing_results_by_a_file_name_or_an_unknown_name_says_what_to_do(capsys, tmp_path):
    # Was: `costad show graph.csv` said to run `costad run graph.csv`.
    one_line_failure(capsys, ["show", "graph.csv", "--results", str(tmp_path)],
                     "name the results, not a file: graph")
    one_line_failure(capsys, ["show", "nothere", "--results", str(tmp_path)],
                     "no experiment is named 'nothere'")
    one_line_failure(capsys, ["show", "graph", "--results", str(tmp_path)],
                     f"run `costad run graph --results {tmp_path}`")
