"""The study as a package: a light `import costad`, experiments found by the registry, and
an experiment added by one module alone (listed, run, reported) without editing any other
file."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import costad.study.experiments as bundled
from costad.study import registry
from costad.study.commands import main
from costad.study.errors import ExperimentDefinitionError, UnknownExperimentError

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ("calibrate", "graph", "gradient_vs_n", "jacobian_shape", "chain", "depth", "rnn",
           "checkpointing", "fd_accuracy", "descent", "peers")

TOY = '''
"""A toy experiment, defined outside costad: sum of squares, K = 2n - 1."""
from functools import partial

import numpy as np

from costad import count
from costad.study import Settings, Task
from costad.study.claims import claim
from costad.study.fits import Sweep
from costad.study.frames import counts_frame
from costad.study.measure import count_rows
from costad.study.plotting import COUNT_LABEL, figure, finish, plot_counts

NAME = "{name}"
ORDER = 1000
DESCRIPTION = "toy: the sum of squares costs 2n - 1 operations"
TITLE = "Toy: sum of squares"
SENTENCE = "A sum of n squares costs n mul and n - 1 add."
FITS = Sweep(kind="total", axis="n")


def grid(settings: Settings) -> dict:
    return {{"n": [4, 8] if settings.quick else [4, 8, 16]}}


def _run(n):
    base = dict(experiment=NAME, function="sumsq", strategy="eval", n=n)
    return count_rows(base, count(lambda v: np.sum(v * v), np.ones(n)), 2 * n - 1)


def tasks(settings):
    return [Task(f"n={{n}}", partial(_run, n)) for n in grid(settings)["n"]]


def _plot(df):
    fig = figure((4, 3))
    ax = fig.subplots()
    plot_counts(ax, counts_frame(df), "n", ["eval"])
    finish(ax, "n (inputs)", COUNT_LABEL, "toy")
    return fig


def figures(df):
    return {{"{name}_counts": partial(_plot, df)}}


def claims(df, fits):
    slope = float(fits.count_slope.iloc[0])
    return [claim("T1", "the toy costs 2n - 1", "count slope 1", f"count slope {{slope:.2f}}",
                  abs(slope - 1) < 0.2)]
'''


def _imported_after(statement: str) -> set[str]:
    code = (f"import sys; {statement}; "
            "print(' '.join(m for m in ('pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.split())


def test_import_costad_imports_neither_pandas_nor_matplotlib():
    assert _imported_after("import costad") == set()


def test_the_pytest_plugin_and_the_study_package_import_light():
    # pytest loads the plugin in every session of a project that installs costad
    assert _imported_after("import costad.study.pytest_plugin") == set()
    assert _imported_after("import costad.study") == set()


def test_the_registry_finds_every_bundled_experiment_in_order():
    assert registry.names()[:len(BUNDLED)] == BUNDLED
    orders = [e.order for e in registry.all_experiments()]
    assert orders == sorted(orders)


def test_every_bundled_experiment_has_its_script_and_every_script_its_experiment():
    scripts = {p.stem for p in (ROOT / "experiments").glob("*.py")}
    assert scripts == set(BUNDLED)
    for name in BUNDLED:
        text = (ROOT / "experiments" / f"{name}.py").read_text()
        assert "costad.study.commands.run import run_script" in text


def _check_toy_end_to_end(name, tmp_path, capsys):
    assert main(["list"]) == 0
    assert name in capsys.readouterr().out
    results_dir, out = tmp_path / "results", tmp_path / "reports"
    assert main(["run", name, "--quick", "--results", str(results_dir)]) == 0
    assert main(["show", name, "--results", str(results_dir)]) == 0
    assert "sumsq" in capsys.readouterr().out
    # Only the toy has results: the report builds its part and names the others as missing.
    assert main(["report", "--results", str(results_dir), "--out", str(out)]) == 1
    readme = (out / "README.md").read_text()
    assert "## Toy: sum of squares" in readme and "A sum of n squares" in readme
    assert f"![{name}_counts](figures/{name}_counts.png)" in readme
    # quick grid n = 4, 8: K = 7, 15, so the count slope is log(15/7) / log 2 = 1.10
    assert "| T1 | the toy costs 2n - 1 | count slope 1 | count slope 1.10 | yes |" in readme
    assert (out / "figures" / f"{name}_counts.svg").stat().st_size > 0
    fits = pd.read_csv(out / "fits.csv")
    assert list(fits.experiment) == [name] and list(fits.strategy) == ["eval"]


def test_an_experiment_registered_through_the_public_hook_is_listed_run_and_reported(
        tmp_path, capsys, monkeypatch):
    name = "toy_registered"
    module_file = tmp_path / "toy_registered_module.py"
    module_file.write_text(TOY.format(name=name))
    monkeypatch.syspath_prepend(str(tmp_path))
    import toy_registered_module
    registry.register(toy_registered_module)
    try:
        _check_toy_end_to_end(name, tmp_path, capsys)
        with pytest.raises(ExperimentDefinitionError, match="already registered"):
            registry.register(toy_registered_module)
    finally:
        registry.unregister(name)
    with pytest.raises(UnknownExperimentError):
        registry.get(name)


def test_a_module_dropped_into_the_experiments_package_is_discovered(tmp_path, capsys,
                                                                     monkeypatch):
    # A second folder on the package's path stands for a file added to costad/study/experiments
    # (nothing else is edited); discovery runs again from scratch.
    name = "toy_discovered"
    extra = tmp_path / "more_experiments"
    extra.mkdir()
    (extra / f"{name}.py").write_text(TOY.format(name=name))
    monkeypatch.setattr(bundled, "__path__", [*bundled.__path__, str(extra)])
    monkeypatch.setattr(registry, "_discovered", None)
    try:
        assert registry.names()[-1] == name
        _check_toy_end_to_end(name, tmp_path, capsys)
    finally:
        monkeypatch.undo()
        registry._discovered = None
        sys.modules.pop(f"{bundled.__name__}.{name}", None)
    assert name not in registry.names()


def test_an_incomplete_experiment_module_is_refused_clearly(tmp_path, monkeypatch):
    (tmp_path / "half_done.py").write_text(textwrap.dedent('''
        NAME = "half_done"
        DESCRIPTION = "no grid, no tasks"
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    import half_done
    with pytest.raises(ExperimentDefinitionError, match="lacks ORDER, TITLE, SENTENCE, grid, "
                                                        "tasks"):
        registry.register(half_done)
    half_done.ORDER, half_done.TITLE, half_done.SENTENCE = 1, "t", "s"
    half_done.grid = half_done.tasks = lambda settings: []
    half_done.NAME = "../escape"
    with pytest.raises(ExperimentDefinitionError, match="NAME"):
        registry.register(half_done)


# The engine's modules are edited elsewhere; their citations are updated there.
ENGINE_FILES = {"__init__.py", "core.py", "cost.py", "errors.py", "primitives.py",
                "numpy_dispatch.py", "forward.py", "reverse.py", "boxing.py", "gradients.py",
                "api.py", "pytree.py", "graph.py", "functions.py", "chain.py"}


def test_the_design_notes_are_in_the_repository_and_citations_point_at_them():
    import re
    design = ROOT / "docs" / "design.md"
    assert design.is_file()
    sections = set(re.findall(r"^## (\d+)\.", design.read_text(), re.M))
    assert {"1", "2", "3", "4", "5", "6"} <= sections
    outside = "DESIGN" + ".md"                        # the notes' old, outside name
    files = [*ROOT.joinpath("costad").rglob("*.py"), ROOT / "README.md",
             *ROOT.joinpath("experiments").glob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]
    cited = 0
    for path in files:
        if path.parent.name == "costad" and path.name in ENGINE_FILES:
            continue
        text = path.read_text()
        assert outside not in text, path
        for number in re.findall(r"docs/design\.md section (\d+)", text):
            assert number in sections, (path, number)
            cited += 1
    assert cited >= 2
