"""Tidy results with provenance: `results/NAME.csv` beside `results/NAME.json`.

The CSV has one row per observation in the columns of `COLUMNS`; counts are exact integers
(written and read back as integers, whatever their size). The JSON carries the provenance
(`costad.study.provenance`: costad version, git commit and dirty flag, Python, NumPy, BLAS,
threads, CPU, OS, argv, grid, seed, repeats, timer, date) and the sha256 of the CSV, which
`load` checks.

Writes are atomic: each file is written to a temporary file in the same folder and renamed
over the old one, and the JSON (which names the CSV's hash) is renamed last, so an
interrupted run leaves the previous results readable and consistent.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ResultsError

__all__ = ["SCHEMA", "COLUMNS", "INTEGER_UNITS", "ResultsError", "to_frame", "write", "load",
           "csv_path", "json_path"]

SCHEMA = "costad.results/1"

COLUMNS = ["experiment", "function", "strategy", "n", "R", "T", "m", "param", "iteration",
           "replicate", "metric", "kind", "value", "unit", "predicted", "note"]
GRID_COLUMNS = ["n", "R", "T", "m", "iteration", "replicate"]

# Values in these units are exact integers.
INTEGER_UNITS = {"ops", "nodes", "bytes", "count", "bool"}


def csv_path(directory, name: str) -> Path:
    return Path(directory) / f"{name}.csv"


def json_path(directory, name: str) -> Path:
    return Path(directory) / f"{name}.json"


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts) to a DataFrame in the schema's column order; grid keys as nullable ints."""
    unknown = set().union(*(r.keys() for r in rows)) - set(COLUMNS) if rows else set()
    if unknown:
        raise ValueError(f"costad: unknown result columns {sorted(unknown)}")
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in GRID_COLUMNS:
        df[col] = df[col].astype("Int64")
    df["param"] = df["param"].astype(float)
    for col in ("experiment", "function", "strategy", "metric", "kind", "unit", "note"):
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    # Object columns, so that counts stay Python ints (exact at any size) beside float times.
    df["value"] = pd.Series([_exact(v, u) for v, u in zip(df["value"], df["unit"])],
                            dtype=object, index=df.index)
    df["predicted"] = pd.Series([_exact(p, u) for p, u in zip(df["predicted"], df["unit"])],
                                dtype=object, index=df.index)
    return df


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _exact(v, unit: str):
    if _missing(v):
        return None
    if unit in INTEGER_UNITS:
        as_int = int(v)
        if as_int != v:
            raise ValueError(f"costad: a value in unit {unit!r} must be an integer, got {v!r}")
        return as_int
    return float(v)


def _csv_text(df: pd.DataFrame) -> str:
    out = io.StringIO()
    df.to_csv(out, index=False, lineterminator="\n", float_format=None)
    return out.getvalue()


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new file beside ``path``, open for writing, with the mode the umask gives.

    (`tempfile.mkstemp` would create it 0600 whatever the umask, and the results would be
    unreadable to the group and others that every other file of the folder is readable by.)
    """
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:                   # 48 random bits: practically never
            continue


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write(df: pd.DataFrame, name: str, directory, meta: dict) -> tuple[Path, Path]:
    """Write ``NAME.csv`` and ``NAME.json`` atomically; return their paths."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ResultsError(f"costad: cannot create the results folder {directory}: {err}") from err
    if not os.access(directory, os.W_OK):
        raise ResultsError(f"costad: the results folder {directory} is not writable")
    data = _csv_text(df[COLUMNS]).encode()
    meta = dict(meta, schema=SCHEMA, experiment=name, rows=len(df),
                csv_sha256=hashlib.sha256(data).hexdigest())
    _atomic_write(csv_path(directory, name), data)
    _atomic_write(json_path(directory, name),
                  (json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n").encode())
    return csv_path(directory, name), json_path(directory, name)


def _read(path: Path, name: str) -> bytes:
    """The bytes of one results file, or a ResultsError saying why not."""
    if not path.exists() and not path.is_symlink():
        raise ResultsError(f"costad: {path} is missing; run `costad run {name}`")
    if path.is_dir():
        raise ResultsError(f"costad: {path} is a folder, not a results file")
    try:
        return path.read_bytes()
    except OSError as err:
        raise ResultsError(f"costad: cannot read {path}: {err.strerror or err}") from None


def _meta(json_file: Path, text: bytes) -> dict:
    try:
        meta = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise ResultsError(f"costad: {json_file} is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ResultsError(f"costad: {json_file} is not valid JSON ({err.msg} at line "
                           f"{err.lineno}); it was truncated or edited") from None
    if not isinstance(meta, dict):
        raise ResultsError(f"costad: {json_file} holds a JSON {type(meta).__name__}, not the "
                           "object describing a results file")
    return meta


def load(name: str, directory="results") -> tuple[pd.DataFrame, dict]:
    """Read ``NAME.csv`` and ``NAME.json``, checking the schema version and the CSV's sha256.

    Every way a file can be unusable (missing, a folder, unreadable, not UTF-8, malformed
    JSON or CSV, no rows, a non-integer count) raises `ResultsError` with one clear line.
    """
    _check_name(name)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ResultsError(f"costad: the results folder {directory} is a file, not a folder")
    csv_file, json_file = csv_path(directory, name), json_path(directory, name)
    meta = _meta(json_file, _read(json_file, name))
    if meta.get("schema") != SCHEMA:
        raise ResultsError(f"costad: {json_file} has schema {meta.get('schema')!r}; this costad "
                           f"reads {SCHEMA!r}. Re-run `costad run {name}`.")
    data = _read(csv_file, name)
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta.get("csv_sha256"):
        raise ResultsError(f"costad: {csv_file} does not match the sha256 recorded in "
                           f"{json_file}; the file was changed or partly written")
    return _frame(csv_file, data), meta


def _frame(csv_file: Path, data: bytes) -> pd.DataFrame:
    """Parse a results CSV (already checked against its hash) into the schema's types."""
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                         encoding="utf-8")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ResultsError(f"costad: {csv_file} is not a readable CSV "
                           f"({' '.join(str(err).split())})") from None
    if list(df.columns) != COLUMNS:
        raise ResultsError(f"costad: {csv_file} has columns {list(df.columns)}, not {COLUMNS}")
    if df.empty:
        raise ResultsError(f"costad: {csv_file} has no observations (only its header)")
    # The line of the file each row came from (the header is line 1), for error messages.
    lines = range(2, len(df) + 2)
    for col in ("value", "predicted"):
        df[col] = pd.Series([_parse(v, u, csv_file, line, col) for v, u, line
                             in zip(df[col], df["unit"], lines)], dtype=object, index=df.index)
    for col in GRID_COLUMNS:
        df[col] = pd.array([_parse(v, "count", csv_file, line, col)
                            for v, line in zip(df[col], lines)], dtype="Int64")
    df["param"] = [float("nan") if v is None else v for v in
                   (_parse(v, "1", csv_file, line, "param") for v, line in zip(df["param"], lines))]
    return df


def _parse(text: str, unit: str, csv_file: Path, line: int, column: str):
    if text == "":
        return None
    try:
        return int(text) if unit in INTEGER_UNITS else float(text)
    except ValueError:
        kind = "an integer" if unit in INTEGER_UNITS else "a number"
        raise ResultsError(f"costad: {csv_file} line {line}: {column} {text!r} is not {kind} "
                           f"(unit {unit!r})") from None


def _check_name(name) -> None:
    from .registry import valid_name
    if not valid_name(name):
        raise ResultsError(f"costad: {name!r} is not a valid results name: use letters, digits, "
                           "'_', '.' and '-', starting with a letter or digit")
