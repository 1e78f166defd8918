"""The report: figures from results only, units on every axis, exact count slopes,
byte-identical rebuilds, --check, and partial results."""
import shutil
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from costad.functions import FAMILIES
from costad.study import Settings, get, names, report, results, run_study
from costad.study.commands import main
from costad.study.provenance import provenance

STUDY_NAMES = names()


@pytest.fixture(scope="module")
def quick_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("results")
    settings = Settings.make(quick=True, repeats=2)
    for name in STUDY_NAMES:
        results.write(run_study(name, settings), name, directory, provenance(["test"]))
    return directory


@pytest.fixture(scope="module")
def built(quick_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    outcome = report.build(quick_dir, out)
    return out, outcome


EXPECTED_FIGURES = {"dag", "gradient_ratio", "jacobian_shape", "chain", "depth", "rnn",
                    "fd_accuracy", "descent"} | {f"gradient_vs_n_{f}" for f in FAMILIES}


def test_every_figure_is_built_with_svg_and_png(built):
    out, outcome = built
    assert not outcome.missing
    for stem in EXPECTED_FIGURES:
        assert (out / "figures" / f"{stem}.svg").stat().st_size > 0
        assert (out / "figures" / f"{stem}.png").stat().st_size > 0
    text = (out / "README.md").read_text()
    for claim in ("C1", "C2", "C3", "C3b", "C4", "C5", "C6", "C7", "C8"):
        assert f"| {claim} |" in text
    assert "| NO |" not in text


@pytest.mark.parametrize("experiment", STUDY_NAMES)
def test_axes_carry_units(quick_dir, experiment):
    df, _ = results.load(experiment, quick_dir)
    built = get(experiment).figures(df)
    assert built, f"{experiment} draws no figure"
    for name, builder in built.items():
        with report.style():
            fig = builder()
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            assert ax.get_xlabel(), f"{name}: an x axis without a label"
            if name != "dag":
                assert "(" in ax.get_ylabel() and ")" in ax.get_ylabel(), f"{name}: no unit"


def test_figures_do_not_touch_global_matplotlib_state(quick_dir):
    before = dict(matplotlib.rcParams)
    df, _ = results.load("chain", quick_dir)
    with report.style():
        get("chain").figures(df)["chain"]()
    assert dict(matplotlib.rcParams) == before


def test_count_slopes_equal_theory(built):
    out, _ = built
    fits = pd.read_csv(out / "fits.csv")
    seed = fits[(fits.experiment == "gradient_vs_n") & (fits.function == "seed")].set_index(
        "strategy").count_slope
    assert abs(seed["fd"] - 2) <= 0.05 and abs(seed["fd-central"] - 2) <= 0.05
    assert abs(seed["reverse"] - 1) <= 0.05
    chain = fits[(fits.experiment == "chain") & (fits.function == "fixed-R")].set_index(
        "strategy").count_slope
    assert abs(chain["left"] - 3) <= 0.05 and abs(chain["right"] - 2) <= 0.05


def test_rebuild_is_byte_identical_and_check_detects_changes(quick_dir, built, tmp_path, capsys):
    out, _ = built
    assert report.check(quick_dir, out) == []
    assert main(["report", "--check", "--results", str(quick_dir), "--out", str(out)]) == 0
    # alter a results file: its hash no longer matches, so the check fails
    altered = tmp_path / "results"
    shutil.copytree(quick_dir, altered)
    csv = altered / "descent.csv"
    csv.write_text(csv.read_text().replace("quadratic", "quadratix", 1))
    assert main(["report", "--check", "--results", str(altered), "--out", str(out)]) == 1
    assert "descent" in capsys.readouterr().err


def test_committed_report_matches_a_rebuild_from_committed_results():
    root = Path(__file__).resolve().parent.parent
    assert report.check(root / "results", root / "reports") == []


def test_partial_results_name_what_is_missing_and_build_the_rest(quick_dir, tmp_path, capsys):
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("graph", "chain"):
        for suffix in (".csv", ".json"):
            shutil.copy(quick_dir / f"{name}{suffix}", partial / f"{name}{suffix}")
    out = tmp_path / "out"
    assert main(["report", "--results", str(partial), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "rnn" in err and "missing" in err
    assert (out / "figures" / "dag.svg").exists() and (out / "figures" / "chain.svg").exists()
    assert not (out / "figures" / "rnn.svg").exists()
    assert "Not built: results for `rnn` are missing" in (out / "README.md").read_text()


def test_a_mistyped_results_folder_does_not_wipe_the_report(quick_dir, tmp_path, capsys):
    out = tmp_path / "reports"
    assert main(["report", "--results", str(quick_dir), "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    empty = tmp_path / "empty"
    empty.mkdir()
    for wrong in (tmp_path / "reslts", empty):
        capsys.readouterr()
        assert main(["report", "--results", str(wrong), "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "no results" in err and str(wrong) in err
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "never").exists()
    assert main(["report", "--results", str(empty), "--out", str(tmp_path / "never")]) == 1
    assert not (tmp_path / "never").exists()          # refused before creating anything


def test_an_unreadable_results_file_is_listed_and_the_rest_is_built(quick_dir, tmp_path,
                                                                    capsys):
    partial = tmp_path / "partial"
    shutil.copytree(quick_dir, partial)
    (partial / "graph.json").write_text('{"schema": "costad.res')      # truncated
    out = tmp_path / "out"
    assert main(["report", "--results", str(partial), "--out", str(out)]) == 1
    readme = (out / "README.md").read_text()
    assert "`graph`" in readme and "not valid JSON" in readme
    assert "Not built: results for `graph` are missing or unreadable" in readme
    assert (out / "figures" / "chain.svg").exists() and "| C5 |" in readme
    assert "graph" in capsys.readouterr().err
