"""Fixtures shared by the study's tests: one quick run of every experiment, and one report
built from it, made once per session (both take tens of seconds)."""
import pytest

from costad.study import Settings, names, report, results, run_study
from costad.study.provenance import provenance


@pytest.fixture(scope="session")
def quick_frames():
    """Every bundled experiment's results in quick mode (two timing samples per point, so
    that time slopes have an interval)."""
    settings = Settings.make(quick=True, repeats=2)
    return {name: run_study(name, settings) for name in names()}


@pytest.fixture(scope="session")
def quick_dir(quick_frames, tmp_path_factory):
    """A results folder holding `quick_frames`."""
    directory = tmp_path_factory.mktemp("results")
    for name, df in quick_frames.items():
        results.write(df, name, directory, provenance(["test"]))
    return directory


@pytest.fixture(scope="session")
def built(quick_dir, tmp_path_factory):
    """The report built from `quick_dir`: (folder, outcome)."""
    out = tmp_path_factory.mktemp("reports")
    return out, report.build(quick_dir, out)
