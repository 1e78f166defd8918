"""The report: `results/` in, `reports/` out (figures, a fits table, README.md).

Everything is computed from the results files; nothing is measured. The report loops over
the registered experiments: each contributes its section (title, sentence), its figures, its
curves of the fits table and its rows of the claims table.

The output is byte-identical when rebuilt from the same results on the same machine:
matplotlib's default style is used whatever the user's matplotlibrc says, SVG ids come from a
fixed hash salt, files carry no build timestamp (a date appears only when SOURCE_DATE_EPOCH
is set), and the metadata of every figure names the costad version, the commit and the
sha256 of the results it shows. Across machines floating point differs in the last digits,
so `check` rebuilds into a temporary folder and compares by content within stated
tolerances (`costad.study.content`), never bytes.
"""
from __future__ import annotations

import contextlib
import datetime
import io
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.style
import pandas as pd

from costad import __version__

from . import content, modelreport
from .claims import COLUMNS as CLAIM_COLUMNS
from .fits import fits_table
from .frames import markdown_table, number
from .registry import all_experiments
from .errors import ReportError
from .results import ResultsError, load

__all__ = ["build", "check", "compare_folders", "Outcome", "claims_table", "source_date",
           "FIGURE_DIR"]

FIGURE_DIR = "figures"


@dataclass
class Outcome:
    """What a build wrote, and what it could not build (experiment -> reason)."""

    files: list[Path] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def style():
    """matplotlib's defaults plus fixed SVG ids, independent of the user's matplotlibrc."""
    with matplotlib.style.context("default"), matplotlib.rc_context(
            {"svg.hashsalt": "costad", "svg.fonttype": "path", "figure.dpi": 100,
             "savefig.dpi": 100}):
        yield


def source_date() -> datetime.datetime | None:
    """The build date SOURCE_DATE_EPOCH asks for (reproducible-builds.org), or None."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ReportError(f"costad: SOURCE_DATE_EPOCH must be a whole number of seconds since "
                          f"1970 (reproducible-builds.org), got {epoch!r}") from None


def _prepare(out_dir: Path) -> None:
    """Create the report folder and check it takes files, before anything is built."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"costad: the report folder {out_dir} is a file, not a folder")
    try:
        (out_dir / FIGURE_DIR).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir / FIGURE_DIR):
            pass
    except OSError as err:
        raise ReportError(f"costad: cannot write the report into {out_dir}: "
                          f"{err.strerror or err}") from None


@contextlib.contextmanager
def _replacing(path: Path):
    """Yield a temporary path beside ``path``, renamed over ``path`` when the block ends
    normally and removed otherwise.

    A build interrupted while writing a file (Ctrl-C, a kill, a full disk), or two builds
    into one folder at once, would otherwise leave a truncated or interleaved figure or
    README where the previous one was: every file of the report is the old one or the new
    one, whole.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _save(fig, stem: Path, meta: dict) -> list[Path]:
    description = (f"costad {__version__}; results {meta.get('experiment')}.csv sha256 "
                   f"{meta.get('csv_sha256')}; commit {meta.get('git_commit')}")
    date = source_date()
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    fig.tight_layout()
    with _replacing(svg) as tmp:
        fig.savefig(tmp, format="svg", metadata={"Creator": f"costad {__version__}",
                                                 "Description": description, "Date": date})
    png_meta = {"Software": f"costad {__version__}", "Description": description}
    if date is not None:
        png_meta["Creation Time"] = date.isoformat()
    with _replacing(png) as tmp:
        fig.savefig(tmp, format="png", metadata=png_meta)
    return [svg, png]


def _load_all(results_dir) -> tuple[dict, dict]:
    data, missing = {}, {}
    for experiment in all_experiments():
        try:
            data[experiment.name] = load(experiment.name, results_dir)
        except ResultsError as err:
            missing[experiment.name] = str(err)
    _set_aside_unreportable(data, missing)
    return data, missing


# What an experiment's report code raises on rows that lack what it reads (a strategy, a
# function, a grid column): such results pass `load` (their schema and hash are right) and
# still cannot be reported.
_CONTENT_ERRORS = (KeyError, IndexError, ValueError, TypeError, ZeroDivisionError)


def _set_aside_unreportable(data: dict, missing: dict) -> None:
    """Move from ``data`` to ``missing`` each experiment whose results load but lack rows its
    own report parts read: its fits, claims, tables and summary are computed here once, on
    its rows alone, before anything is written. One incomplete experiment (every reverse
    row of depth removed, say) is then listed with the reason and the rest is built, instead
    of the whole report ending in an internal error."""
    for experiment in all_experiments():
        name = experiment.name
        if name not in data:
            continue
        df, meta = data[name]
        try:
            experiment.claims(df, fits_table([experiment], {name: data[name]}))
            list(experiment.tables(df))
            if experiment.summary is not None:
                experiment.summary(df, meta)
            experiment.figures(df)
        except _CONTENT_ERRORS as err:
            del data[name]
            missing[name] = (f"costad: the results of {name} load but lack rows its report "
                             f"reads ({type(err).__name__}: {err}); re-run `costad run {name}`")


def claims_table(data: dict, fits: pd.DataFrame) -> list[dict]:
    """Every experiment's claims rows (what is predicted, what was measured, whether it
    holds), from its results and its own rows of the fits table."""
    rows = []
    for experiment in all_experiments():
        if experiment.name in data:
            own = fits[fits.experiment == experiment.name]
            rows += experiment.claims(data[experiment.name][0], own)
    return rows + modelreport.claims(data, fits)


def _readme(data: dict, missing: dict, figures: dict[str, list[str]], fits: pd.DataFrame,
            claims: list[dict]) -> str:
    out = io.StringIO()
    w = out.write
    w("# costad report\n\n")
    w("Built by `costad report` from `results/` alone; rebuild and verify with "
      "`costad report --check`. Units: ops = counted elementary operations (per the cost "
      "model of costad's README), mul = scalar multiplications, s = seconds per call.\n\n")
    w("## Claims\n\n")
    w(markdown_table(pd.DataFrame(claims, columns=CLAIM_COLUMNS)) + "\n\n" if claims
      else "No claims.\n\n")
    if missing:
        w("## Missing or unreadable results\n\n")
        for name, reason in missing.items():
            w(f"- `{name}`: {reason}\n")
        w("\n")
    w(modelreport.section(data, markdown_table, FIGURE_DIR))
    for experiment in all_experiments():
        name = experiment.name
        w(f"## {experiment.title}\n\n")
        if name not in data:
            w(f"Not built: results for `{name}` are missing or unreadable.\n\n")
            continue
        w(experiment.sentence + "\n\n")
        for stem in figures.get(name, []):
            w(f"![{stem}]({FIGURE_DIR}/{stem}.png)\n\n[SVG]({FIGURE_DIR}/{stem}.svg)\n\n")
        if experiment.summary is not None:
            w(f"Summary (`costad show {name} --markdown`):\n\n"
              + markdown_table(experiment.summary(*data[name]), number_format=number)
              + "\n\n")
        for title, table in experiment.tables(data[name][0]):
            w(f"{title}\n\n{markdown_table(table)}\n\n")
        f = fits[fits.experiment == name]
        if len(f):
            w("Fitted log-log slopes (`fits.csv`; `compute_*`: over the points predicted "
              "compute- or memory-bound, from `compute_from` on; `steady_*`: over the "
              "points where the model predicts time proportional to the counts, from "
              "`steady_from` on, with the model's own slope there):\n\n")
            w(markdown_table(f.drop(columns="experiment")) + "\n\n")
        meta = data[name][1]
        w(f"Provenance: costad {meta.get('costad_version')}, commit "
          f"`{str(meta.get('git_commit'))[:12]}`{' (dirty)' if meta.get('git_dirty') else ''}, "
          f"results sha256 `{meta.get('csv_sha256', '')[:16]}`, {meta.get('cpu')}, "
          f"{meta.get('os')}, Python {meta.get('python')}, NumPy {meta.get('numpy')}.\n\n")
    return out.getvalue()


def build(results_dir="results", out_dir="reports") -> Outcome:
    """Build every figure, the fits table and README.md that the results allow.

    Results that are missing or unreadable are listed in the report (and in
    ``Outcome.missing``) and the rest is built. Refuses (`ReportError`) before writing
    anything when no results load at all, when SOURCE_DATE_EPOCH is malformed or when the
    report folder cannot take files.
    """
    out_dir = Path(out_dir)
    source_date()
    data, missing = _load_all(results_dir)
    if not data:
        # A mistyped --results must not replace a good report with an empty one.
        first = next(iter(missing.values()), "").removeprefix("costad: ")
        raise ReportError(f"costad: no results could be read from {results_dir}, so nothing "
                          f"was written (for example: {first})")
    _prepare(out_dir)
    try:
        return _build(data, missing, out_dir)
    except OSError as err:
        where = f" {err.filename}" if err.filename else f" into {out_dir}"
        raise ReportError(f"costad: cannot write{where}: {err.strerror or err}") from None


def _build(data: dict, missing: dict, out_dir: Path) -> Outcome:
    outcome = Outcome(missing=dict(missing))
    figures: dict[str, list[str]] = {}
    with style():
        for experiment in all_experiments():
            if experiment.name not in data:
                continue
            df, meta = data[experiment.name]
            stems = figures[experiment.name] = []
            builders = {**experiment.figures(df), **modelreport.figures(experiment.name, df)}
            for stem, builder in builders.items():
                outcome.files += _save(builder(), out_dir / FIGURE_DIR / stem, meta)
                stems.append(stem)
    fits = fits_table(all_experiments(), data)
    claims = claims_table(data, fits)
    fits_file = out_dir / "fits.csv"
    with _replacing(fits_file) as tmp:
        fits.to_csv(tmp, index=False, lineterminator="\n")
    readme = out_dir / "README.md"
    text = _readme(data, missing, figures, fits, claims)
    with _replacing(readme) as tmp:
        tmp.write_text(text)
    outcome.files += [fits_file, readme]
    return outcome


def check(results_dir="results", out_dir="reports") -> list[str]:
    """Rebuild into a temporary folder and compare with ``out_dir`` by what a reader sees;
    return the problems, one line each (none: the report matches)."""
    with tempfile.TemporaryDirectory() as tmp:
        outcome = build(results_dir, tmp)
        # Missing results first: they are the cause of the differences that follow.
        return ([f"results for {name} are missing" for name in outcome.missing]
                + compare_folders(tmp, out_dir))


def compare_folders(fresh_dir, out_dir) -> list[str]:
    """Compare the report in ``out_dir`` with a fresh build in ``fresh_dir`` by content
    (`costad.study.content`: text exactly, numbers within stated tolerances, PNGs by pixel
    size), and list figures in ``out_dir`` that the build does not make."""
    fresh_dir, out_dir = Path(fresh_dir), Path(out_dir)
    problems, rebuilt = [], set()
    for fresh in sorted(p for p in fresh_dir.rglob("*") if p.is_file()):
        rel = fresh.relative_to(fresh_dir)
        rebuilt.add(rel)
        committed = out_dir / rel
        if not committed.is_file():
            problems.append(f"{committed} is missing")
            continue
        difference = content.compare(fresh, committed)
        if difference:
            problems.append(f"{committed}: {difference}")
    figures_dir = out_dir / FIGURE_DIR
    if figures_dir.is_dir():
        for stale in sorted(figures_dir.iterdir()):
            if stale.relative_to(out_dir) not in rebuilt:
                problems.append(f"{stale} is not produced by a rebuild")
    return problems
