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
import tempfile
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


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def load(name: str, directory="results") -> tuple[pd.DataFrame, dict]:
    """Read ``NAME.csv`` and ``NAME.json``, checking the schema version and the CSV's sha256."""
    csv_file, json_file = csv_path(directory, name), json_path(directory, name)
    for path in (csv_file, json_file):
        if not path.exists():
            raise ResultsError(f"costad: {path} is missing; run `costad run {name}`")
    meta = json.loads(json_file.read_text())
    if meta.get("schema") != SCHEMA:
        raise ResultsError(f"costad: {json_file} has schema {meta.get('schema')!r}; this costad "
                           f"reads {SCHEMA!r}. Re-run `costad run {name}`.")
    data = csv_file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta.get("csv_sha256"):
        raise ResultsError(f"costad: {csv_file} does not match the sha256 recorded in "
                           f"{json_file}; the file was changed or partly written")
    df = pd.read_csv(io.BytesIO(data), dtype={"value": str, "predicted": str, "note": str,
                                              "kind": str, "function": str, "strategy": str},
                     keep_default_na=False,
                     na_values={"param": [""], **{c: [""] for c in GRID_COLUMNS}})
    if list(df.columns) != COLUMNS:
        raise ResultsError(f"costad: {csv_file} has columns {list(df.columns)}, not {COLUMNS}")
    df["value"] = pd.Series([_parse(v, u) for v, u in zip(df["value"], df["unit"])],
                            dtype=object, index=df.index)
    df["predicted"] = pd.Series([_parse(v, u) for v, u in zip(df["predicted"], df["unit"])],
                                dtype=object, index=df.index)
    for col in GRID_COLUMNS:
        df[col] = df[col].astype("Int64")
    return df, meta


def _parse(text: str, unit: str):
    if text == "":
        return None
    return int(text) if unit in INTEGER_UNITS else float(text)
