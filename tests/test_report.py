"""The report: figures from results only, units on every axis, exact count slopes, partial
results, byte-identical rebuilds on one machine and a content check across machines."""
import re
import shutil
import struct
import zlib
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from costad.functions import FAMILIES
from costad.study import get, names, report, results
from costad.study.commands import main

STUDY_NAMES = names()
EXPECTED_FIGURES = {"dag", "gradient_ratio", "jacobian_shape", "chain", "depth", "rnn",
                    "fd_accuracy", "descent", "depth_memory", "rnn_memory",
                    "checkpointing_frontier", "checkpointing_memory", "peers_ratio",
                    "peers_times"} | {
                        f"gradient_vs_n_{f}" for f in FAMILIES}


def _small_results(quick_dir, folder, names_=("graph", "chain")):
    """A results folder with only a few experiments (a report of them builds fast)."""
    folder.mkdir()
    for name in names_:
        for suffix in (".csv", ".json"):
            shutil.copy(quick_dir / f"{name}{suffix}", folder / f"{name}{suffix}")
    return folder


def test_every_figure_is_built_with_svg_and_png(built):
    out, outcome = built
    assert not outcome.missing
    for stem in EXPECTED_FIGURES:
        assert (out / "figures" / f"{stem}.svg").stat().st_size > 0
        assert (out / "figures" / f"{stem}.png").stat().st_size > 0
    text = (out / "README.md").read_text()
    for claim in ("C1", "C2", "C3", "C3b", "C4", "C5", "C6", "C7", "C8", "M1", "M2", "M3",
                  "P1", "P2", "P3"):
        assert f"| {claim} |" in text
    # Every claim holds, except perhaps P2 and P3: speed targets measured in wall time, which
    # a quick run on a loaded machine may miss (they are judged, not asserted, here).
    missed = [line for line in text.splitlines() if line.endswith("| NO |")]
    assert all(line.startswith(("| P2 |", "| P3 |")) for line in missed), missed


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


def test_check_passes_on_a_rebuild_and_fails_on_changed_results(quick_dir, tmp_path, capsys):
    small = _small_results(quick_dir, tmp_path / "results", ("graph", "descent"))
    out = tmp_path / "out"
    assert main(["report", "--results", str(small), "--out", str(out)]) == 1   # partial
    assert report.check(small, out) == [f"results for {n} are missing"
                                        for n in STUDY_NAMES if n not in ("graph", "descent")]
    # alter a results file: its hash no longer matches, so the check fails on it
    csv = small / "descent.csv"
    csv.write_text(csv.read_text().replace("quadratic", "quadratix", 1))
    capsys.readouterr()
    assert main(["report", "--check", "--results", str(small), "--out", str(out)]) == 1
    assert "results for descent are missing" in capsys.readouterr().out


def test_committed_report_matches_a_rebuild_from_committed_results():
    root = Path(__file__).resolve().parent.parent
    assert report.check(root / "results", root / "reports") == []


def test_partial_results_name_what_is_missing_and_build_the_rest(quick_dir, tmp_path, capsys):
    partial = _small_results(quick_dir, tmp_path / "partial")
    out = tmp_path / "out"
    assert main(["report", "--results", str(partial), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "rnn" in captured.err and "missing" in captured.err
    assert "rnn" in captured.out
    assert (out / "figures" / "dag.svg").exists() and (out / "figures" / "chain.svg").exists()
    assert not (out / "figures" / "rnn.svg").exists()
    assert "Not built: results for `rnn` are missing" in (out / "README.md").read_text()


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# ---------------------------------------------------------- a mistyped results folder (16)

def test_a_mistyped_results_folder_does_not_wipe_the_report(built, tmp_path, capsys):
    out = tmp_path / "reports"
    shutil.copytree(built[0], out)
    before = _files(out)
    empty = tmp_path / "empty"
    empty.mkdir()
    for wrong in (tmp_path / "reslts", empty):
        capsys.readouterr()
        assert main(["report", "--results", str(wrong), "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "no results" in err and str(wrong) in err
        assert _files(out) == before
    assert main(["report", "--results", str(empty), "--out", str(tmp_path / "never")]) == 1
    assert not (tmp_path / "never").exists()          # refused before creating anything


def test_an_unreadable_results_file_is_listed_and_the_rest_is_built(quick_dir, tmp_path,
                                                                    capsys):
    partial = _small_results(quick_dir, tmp_path / "partial")
    (partial / "graph.json").write_text('{"schema": "costad.res')      # truncated
    out = tmp_path / "out"
    assert main(["report", "--results", str(partial), "--out", str(out)]) == 1
    readme = (out / "README.md").read_text()
    assert "`graph`" in readme and "not valid JSON" in readme
    assert "Not built: results for `graph` are missing or unreadable" in readme
    assert (out / "figures" / "chain.svg").exists() and "| C5 |" in readme
    assert "graph" in capsys.readouterr().err


# ------------------------------------------------------ one machine and across machines (20)

def test_two_builds_on_one_machine_are_byte_identical(quick_dir, built, tmp_path):
    out, _ = built
    report.build(quick_dir, tmp_path / "again")
    assert _files(tmp_path / "again") == _files(out)
    assert report.compare_folders(tmp_path / "again", out) == []


def _last_digit_flips(svg: str) -> str:
    """What another CPU's rounding does: numbers printed with 6 decimals move by one unit."""
    return re.sub(r"(\d+\.\d{6})\b", lambda m: f"{float(m.group(1)) + 1e-6:.6f}", svg)


def _png_with_extra_chunk(data: bytes) -> bytes:
    """The same image, other bytes (an extra tEXt chunk before IEND)."""
    body = b"tEXt" + b"Comment\x00other machine"
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    end = data.rindex(b"IEND") - 4
    return data[:end] + chunk + data[end:]


def _shift_first_fit(text: str, units: int) -> str:
    """Move the first 4-decimal number of fits.csv by ``units`` in its last printed digit."""
    return re.sub(r",(\d\.\d{4}),", lambda m: f",{float(m.group(1)) + units * 1e-4:.4f},",
                  text, count=1)


def test_check_accepts_what_another_machine_changes(built, tmp_path):
    out, _ = built
    other = tmp_path / "other"
    shutil.copytree(out, other)
    for svg in (other / "figures").glob("*.svg"):
        svg.write_text(_last_digit_flips(svg.read_text()))
    for png in (other / "figures").glob("*.png"):
        png.write_bytes(_png_with_extra_chunk(png.read_bytes()))
    fits = other / "fits.csv"
    fits.write_text(_shift_first_fit(fits.read_text(), 1))
    changed = {rel for rel, data in _files(other).items() if _files(out)[rel] != data}
    assert len(changed) == len(_files(out)) - 1           # every file but README.md
    assert report.compare_folders(out, other) == []


@pytest.mark.parametrize("change", ["svg number", "svg text", "png size", "png garbage",
                                    "readme", "fits", "missing", "stale figure"])
def test_check_refuses_what_a_reader_would_see(built, tmp_path, change):
    out, _ = built
    other = tmp_path / "other"
    shutil.copytree(out, other)
    figures_dir = other / "figures"
    if change == "svg number":
        target = figures_dir / "chain.svg"
        target.write_text(re.sub(r"(\d+\.\d{6})\b",
                                 lambda m: f"{float(m.group(1)) * 1.0001:.6f}",
                                 target.read_text(), count=40))
    elif change == "svg text":
        target = figures_dir / "depth.svg"
        target.write_text(target.read_text().replace("slope", "slape", 1))
    elif change == "png size":
        target = figures_dir / "dag.png"
        target.write_bytes((figures_dir / "chain.png").read_bytes())
    elif change == "png garbage":
        target = figures_dir / "dag.png"
        target.write_bytes(b"not a picture")
    elif change == "readme":
        target = other / "README.md"
        target.write_text(target.read_text().replace("| yes |", "| yes  |", 1))
    elif change == "fits":
        target = other / "fits.csv"
        target.write_text(_shift_first_fit(target.read_text(), 2))
    elif change == "missing":
        target = figures_dir / "rnn.svg"
        target.unlink()
    else:
        target = figures_dir / "old_figure.svg"
        shutil.copy(figures_dir / "rnn.svg", target)
    problems = report.compare_folders(out, other)
    assert len(problems) == 1 and str(target) in problems[0], problems
