"""`costad count PATH.py:FUNC --shape ...` (issue 13): counts of a user's function at any
size, loaded from its path, with one-line errors for every way the call can be wrong."""
import json
import sys
import textwrap

import pytest

from costad.study import results
from costad.study.commands import main
from costad.study.provenance import provenance

USER = textwrap.dedent('''
    """A user's file: the seed example on a vector, and functions that go wrong."""
    import numpy as np

    def seed(x):
        half = x.shape[0] // 2
        t1, t2 = x[:half], x[half:]
        t3 = np.exp(t1)
        t4 = t2 * t3
        return np.sum(t4 * np.sqrt(t1 + t4))

    def layer(W, b):
        return np.sum(np.tanh(W @ b))

    def branchy(x):
        if np.sum(x) > 0:
            return np.sum(x)
        return np.sum(x * x)

    def vector(x):
        return np.exp(x)

    def broken(x):
        return undefined_name + x

    def strided(x):
        return np.sum(x[::2] * x[1::2])

    class Model:
        @staticmethod
        def loss(x):
            return np.sum(x * x)

    NOT_A_FUNCTION = 3
''')


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "user_code.py"
    path.write_text(USER)
    return path


def _run(capsys, *argv):
    code = main(["count", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_counts_every_strategy_at_a_billion_inputs(user_file, capsys, tmp_path):
    before_path = list(sys.path)
    code, out, err = _run(capsys, f"{user_file}:seed", "--shape", "1000000000",
                          "--results", str(tmp_path / "none"))
    assert code == 0, err
    assert sys.path == before_path                     # loading the file left no trace
    assert "user_code" not in sys.modules
    assert not any(name.startswith("_costad_count") for name in sys.modules)
    n = 10 ** 9
    K = 3 * n - 1
    assert f"K = {K:,}" in out
    lines = {line.split()[0]: line for line in out.splitlines()[2:7]}      # the table
    assert f"{(n + 1) * K + 3 * n:,}" in lines["fd"]              # (n+1)K + 3n
    assert f"{2 * n * K + 4 * n + K:,}" in lines["fd-central"]
    assert lines["reverse"].split()[2] == "2.5"                    # 7.5n - 1 over 3n - 1
    assert "reverse: add=1,999,999,999, div=500,000,000" in out
    assert "no predicted times" in out and "costad calibrate" in out


def test_json_output_and_several_arguments(user_file, capsys, tmp_path):
    code, out, _ = _run(capsys, f"{user_file}:layer", "--shape", "30,20", "--shape", "20",
                        "--mode", "reverse", "--json", "--results", str(tmp_path))
    assert code == 0
    data = json.loads(out)
    assert data["n"] == 620 and [i["shape"] for i in data["inputs"]] == [[30, 20], [20]]
    assert data["K"] == 30 * 20 + 30 * 19 + 30 + 29                 # matmul, tanh, sum
    assert set(data["strategies"]) == {"eval", "reverse"}
    assert data["strategies"]["reverse"]["ratio_to_K"] == pytest.approx(
        data["strategies"]["reverse"]["total"] / data["K"])
    assert data["calibration"] is None and "calibrat" in data["prediction_note"]
    # a dotted name reaches an attribute; float32 halves the bytes
    code, out, _ = _run(capsys, f"{user_file}:Model.loss", "--shape", "1000", "--json",
                        "--mode", "eval", "--results", str(tmp_path))
    code32, out32, _ = _run(capsys, f"{user_file}:Model.loss", "--shape", "1000", "--json",
                            "--mode", "eval", "--dtype", "float32", "--results", str(tmp_path))
    assert code == code32 == 0
    bytes64 = json.loads(out)["strategies"]["eval"]["bytes"]
    assert json.loads(out32)["strategies"]["eval"]["bytes"] * 2 == bytes64


def test_predicted_times_come_from_this_machines_calibration(user_file, capsys, tmp_path,
                                                             quick_frames):
    results.write(quick_frames["calibrate"], "calibrate", tmp_path, provenance(["test"]))
    code, out, _ = _run(capsys, f"{user_file}:seed", "--shape", "1000000", "--json",
                        "--results", str(tmp_path))
    assert code == 0
    data = json.loads(out)
    for strategy, entry in data["strategies"].items():
        assert entry["predicted_s"] > 0 and entry["regime"] in ("overhead", "compute",
                                                                "memory"), strategy
    fd, reverse = data["strategies"]["fd"], data["strategies"]["reverse"]
    assert fd["predicted_s"] > 1000 * reverse["predicted_s"]
    code, out, _ = _run(capsys, f"{user_file}:seed", "--shape", "1000000",
                        "--results", str(tmp_path))
    assert "predicted (this machine)" in out and "predicted with the calibration" in out
    # the calibration's rates are float64's: no guess for another dtype
    code, out, _ = _run(capsys, f"{user_file}:seed", "--shape", "1000000", "--dtype",
                        "float32", "--results", str(tmp_path))
    assert code == 0 and "predicted (this machine)" not in out
    assert "no predicted times: the calibration measures float64 operations" in out


@pytest.mark.parametrize("target,extra,message", [
    ("{path}:nope", [], "has no function 'nope' (it defines: Model, branchy, broken, layer, "
                        "seed, strided, vector)"),
    ("{path}:NOT_A_FUNCTION", [], "is a int, not a function"),
    ("{dir}/missing.py:seed", [], "does not exist"),
    ("{dir}:seed", [], "is not a file"),
    ("{path}", [], "expected PATH.py:FUNC"),
    ("{path}:layer", ["--shape", "30,20", "--shape", "30"], "rejects inputs"),
    ("{path}:branchy", ["--shape", "10"], "needs values, not only shapes"),
    ("{path}:vector", ["--shape", "10"], "rejects inputs"),
    ("{path}:broken", ["--shape", "10"], "failed on inputs"),
    ("{path}:seed", ["--shape", "ten"], "--shape expects integers"),
    ("{path}:seed", ["--shape", "-3"], "cannot be negative"),
    # typos once counted another shape than meant: "3,,4" as (3, 4), "3x" and "[3]]" as (3,)
    ("{path}:seed", ["--shape", "3,,4"], "--shape expects integers"),
    ("{path}:seed", ["--shape", "3x"], "--shape expects integers"),
    ("{path}:seed", ["--shape", "[3]]"], "--shape expects integers"),
    ("{path}:seed", ["--shape", "(3"], "--shape expects integers"),
    ("{path}:seed", ["--shape", "10", "--dtype", "int64"], "must be a floating dtype"),
    ("{path}:seed", ["--shape", "10", "--dtype", "nonsense"], "is not a NumPy dtype"),
])
def test_every_wrong_call_is_one_error_line_and_exit_1(user_file, capsys, target, extra,
                                                       message):
    argv = [target.format(path=user_file, dir=user_file.parent)]
    if "--shape" not in extra:
        argv += ["--shape", "10"]
    code, out, err = _run(capsys, *argv, *extra)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("costad: error: "), err
    assert message in err, err


def test_a_file_that_fails_to_load_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x:\n    return x\n")
    code, _, err = _run(capsys, f"{bad}:f", "--shape", "3")
    assert code == 1 and "SyntaxError at line 1" in err and err.count("\n") == 1
    raising = tmp_path / "raising.py"
    raising.write_text("raise RuntimeError('no import for you')\n")
    code, _, err = _run(capsys, f"{raising}:f", "--shape", "3")
    assert code == 1 and "it raised RuntimeError: no import for you" in err
    assert "_costad_count" not in " ".join(sys.modules)


def test_a_script_that_exits_is_one_error_line_and_sees_no_costad_arguments(tmp_path,
                                                                            capsys):
    # sys.exit in the file or the function ended costad with the script's code (0: success
    # with no output), and a script's top-level argparse was handed costad's own arguments
    exiting = tmp_path / "exiting.py"
    exiting.write_text("import sys\nsys.exit(3)\n")
    code, out, err = _run(capsys, f"{exiting}:f", "--shape", "3")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "top-level code called sys.exit(3)" in err
    quitting = tmp_path / "quitting.py"
    quitting.write_text("import sys\ndef f(x):\n    sys.exit(0)\n")
    code, out, err = _run(capsys, f"{quitting}:f", "--shape", "3")
    assert code == 1 and out == "" and "the function called sys.exit(0)" in err
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import argparse
        import numpy as np
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        args = parser.parse_args()
        def f(x):
            return np.sum(x * x)
        """))
    argv = list(sys.argv)
    code, out, err = _run(capsys, f"{script}:f", "--shape", "3")
    assert code == 0 and "K = 5 operations" in out, err
    assert sys.argv == argv


def test_a_strategy_that_cannot_count_abstractly_is_named_in_its_row(user_file, capsys,
                                                                       tmp_path):
    # reverse mode through a strided index at 10^9 is refused (nothing of that size is
    # allocated); with --mode all the other strategies are still counted, and reverse says why
    target = f"{user_file}:strided"
    code, out, err = _run(capsys, target, "--shape", "1000000000", "--results", str(tmp_path))
    assert code == 0 and err == ""
    rows = {line.split()[0]: line for line in out.splitlines() if line and line[0] != " "}
    assert "reverse" in rows and "not counted" in rows["reverse"] and "slice" in rows["reverse"]
    for mode in ("eval", "fd", "fd-central", "forward"):
        assert "not counted" not in rows[mode]
    code, out, _ = _run(capsys, target, "--shape", "1000000000", "--json",
                        "--results", str(tmp_path))
    data = json.loads(out)
    assert code == 0 and set(data["not_counted"]) == {"reverse"}
    assert set(data["strategies"]) == {"eval", "fd", "fd-central", "forward"}
    assert data["strategies"]["eval"]["total"] == 999_999_999      # 5 * 10^8 mul, sum adds
    # asked for alone, the strategy that cannot be counted is the command's error
    code, out, err = _run(capsys, target, "--shape", "1000000000", "--mode", "reverse",
                          "--results", str(tmp_path))
    assert code == 1 and out == "" and err.count("\n") == 1 and "slice" in err


def test_parse_shape_reads_the_documented_forms():
    from costad.study.commands.count import parse_shape
    assert parse_shape("1000000") == (1000000,)
    assert parse_shape("30,20") == parse_shape("30x20") == parse_shape("(30, 20)") == (30, 20)
    assert parse_shape("(3,)") == parse_shape("[3]") == (3,)
    assert parse_shape("") == parse_shape("()") == ()
