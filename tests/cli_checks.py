"""What the command-line tests share: the check that a `costad` command failed with one
clear error line, and a quick run of the graph experiment to play with."""
import pytest

from costad.study.commands import main


def one_line_failure(capsys, argv, *fragments):
    """Run ``costad argv``; check it failed (exit 1) with exactly one error line, no
    traceback, no internal error and no doubled "costad: error: costad" prefix, naming
    every one of ``fragments``; return the line."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 1, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("costad: error: ") and "costad: error: costad" not in lines[0]
    assert "Traceback" not in err and "internal error" not in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def graph_results(tmp_path_factory):
    """A results folder holding one quick run of the graph experiment (per test module)."""
    directory = tmp_path_factory.mktemp("results")
    assert main(["run", "graph", "--quick", "--results", str(directory)]) == 0
    return directory
