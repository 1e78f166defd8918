"""Tidy results with provenance: `results/NAME.csv` beside `results/NAME.json`
(docs/design.md section 5).

The CSV has one row per observation in the columns of `COLUMNS`; counts are exact integers
(written and read back as integers, whatever their size). The JSON carries the provenance
(`costad.study.provenance`: costad version, git commit and dirty flag, Python, NumPy, BLAS,
threads, CPU, OS, argv, grid, seed, repeats, timer, date) and the sha256 of the CSV, which
`load` checks.

The CSV and the JSON are one unit, under a kill and under concurrent runs:

- every write holds an exclusive lock on the folder (``.costad.lock``, `fcntl.flock`; the
  kernel releases it when a process dies), so two runs never interleave their files;
- the new pair is first written in full beside the old one, as ``.NAME.pending.csv`` and
  ``.NAME.pending.json`` (each a temporary file renamed into place, fsynced); then the CSV is
  renamed over ``NAME.csv`` (the commit point) and the JSON over ``NAME.json``;
- a write cut before the commit point leaves the previous pair in place (its pending files
  are discarded by the next write); a write cut between the two renames leaves the new CSV
  beside its complete pending JSON: `load` reads that pair, and the next write in the folder
  renames the JSON into place (roll forward);
- `load` takes the lock shared when the folder has one, so it never reads half a write.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ResultsError

try:                                              # POSIX; elsewhere writes are not locked
    import fcntl
except ImportError:                               # pragma: no cover
    fcntl = None

__all__ = ["SCHEMA", "COLUMNS", "INTEGER_UNITS", "ResultsError", "to_frame", "write", "load",
           "csv_path", "json_path"]

SCHEMA = "costad.results/1"

COLUMNS = ["experiment", "function", "strategy", "n", "R", "T", "m", "param", "iteration",
           "replicate", "metric", "kind", "value", "unit", "predicted", "note"]
GRID_COLUMNS = ["n", "R", "T", "m", "iteration", "replicate"]

# Values in these units are exact integers.
INTEGER_UNITS = {"ops", "nodes", "bytes", "count", "bool"}


LOCK_NAME = ".costad.lock"


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


def _pending(directory: Path, name: str, suffix: str) -> Path:
    return directory / f".{name}.pending{suffix}"


def _fsync_folder(directory: Path) -> None:
    """Make the renames in ``directory`` durable (a crash of the machine keeps them)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:                                 # pragma: no cover - not on every OS
        return
    try:
        os.fsync(fd)
    except OSError:                                 # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(directory: Path, exclusive: bool):
    """Hold the folder's lock: exclusive to write, shared to read; yields whether it holds it.

    A reader takes it only if the lock file exists and can be opened (a folder of committed
    results never written here has none, and a read-only folder takes no new file).
    """
    if fcntl is None:                               # pragma: no cover
        yield False
        return
    path = directory / LOCK_NAME
    try:
        fd = (os.open(path, os.O_RDWR | os.O_CREAT, 0o666) if exclusive
              else os.open(path, os.O_RDONLY))
    except OSError:
        if exclusive:
            raise
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield True
    finally:
        os.close(fd)                                # closing releases the lock


_PENDING = re.compile(r"\.(?P<name>.+)\.pending\.json\Z")
_PENDING_CSV = re.compile(r"\..+\.pending\.csv\Z")
_TEMPORARY = re.compile(r"\..+\.(csv|json)\.[0-9a-f]{12}\.tmp\Z")


def _recover(directory: Path) -> None:
    """Finish or discard the writes that were cut short in ``directory`` (under the lock)."""
    for entry in list(directory.iterdir()):
        if _TEMPORARY.match(entry.name):
            entry.unlink(missing_ok=True)
            continue
        match = _PENDING.match(entry.name)
        if not match:
            continue
        name = match["name"]
        pending_csv = _pending(directory, name, ".csv")
        try:
            digest = hashlib.sha256(csv_path(directory, name).read_bytes()).hexdigest()
        except OSError:
            digest = None
        if digest and _pending_meta_matches(entry, digest):
            os.replace(entry, json_path(directory, name))      # cut after the commit point
        else:
            entry.unlink(missing_ok=True)                      # cut before it: discard
        pending_csv.unlink(missing_ok=True)
    # A pending CSV without its JSON: the write was cut before its JSON was complete.
    for entry in list(directory.iterdir()):
        if _PENDING_CSV.match(entry.name):
            entry.unlink(missing_ok=True)
    _fsync_folder(directory)


def _pending_meta_matches(pending_json: Path, digest: str) -> dict | None:
    """The pending JSON's contents if it is a results description naming the CSV sha256
    ``digest``, else None."""
    try:
        meta = json.loads(pending_json.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(meta, dict) and meta.get("schema") == SCHEMA \
            and meta.get("csv_sha256") == digest:
        return meta
    return None


def write(df: pd.DataFrame, name: str, directory, meta: dict) -> tuple[Path, Path]:
    """Write ``NAME.csv`` and ``NAME.json`` as one unit (see the module docstring); return
    their paths."""
    _check_name(name)
    if len(df) == 0:
        raise ResultsError(f"costad: no observations to write for {name!r}")
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ResultsError(f"costad: cannot create the results folder {directory}: "
                           f"{err.strerror or err}") from None
    if not os.access(directory, os.W_OK):
        raise ResultsError(f"costad: the results folder {directory} is not writable")
    data = _csv_text(df[COLUMNS]).encode()
    meta = dict(meta, schema=SCHEMA, experiment=name, rows=len(df),
                csv_sha256=hashlib.sha256(data).hexdigest())
    text = (json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n").encode()
    csv_file, json_file = csv_path(directory, name), json_path(directory, name)
    try:
        with _locked(directory, exclusive=True):
            _recover(directory)
            pending_csv = _pending(directory, name, ".csv")
            pending_json = _pending(directory, name, ".json")
            _atomic_write(pending_csv, data)
            _atomic_write(pending_json, text)
            os.replace(pending_csv, csv_file)       # the commit point
            os.replace(pending_json, json_file)
            _fsync_folder(directory)
    except OSError as err:
        raise ResultsError(f"costad: cannot write {name} results into {directory}: "
                           f"{err.strerror or err}") from None
    return csv_file, json_file


def _missing_hint(path: Path, name: str) -> str:
    """What to do about missing results NAME: run the experiment of that name, or, for a
    name given as a file's (graph.csv), give the experiment's name instead."""
    from .registry import names                    # (the registry imports this module)
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix in ("csv", "json") and stem in names():
        return f"name the results, not a file: {stem}"
    if name not in names():
        return (f"no experiment is named {name!r} (they are {', '.join(names())}); other "
                "results come from `costad bench-table --name`")
    # The hint names the folder: `costad run NAME` alone would write into results/.
    where = "" if path.parent == Path("results") else f" --results {path.parent}"
    return f"run `costad run {name}{where}`"


def _read(path: Path, name: str) -> bytes:
    """The bytes of one results file, or a ResultsError saying why not."""
    if not path.exists() and not path.is_symlink():
        raise ResultsError(f"costad: {path} is missing; {_missing_hint(path, name)}")
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
    JSON or CSV, no rows, a non-integer count, a pair written under another name) raises
    `ResultsError` with one clear line.
    """
    _check_name(name)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ResultsError(f"costad: the results folder {directory} is a file, not a folder")
    csv_file, json_file = csv_path(directory, name), json_path(directory, name)
    for _ in range(2):
        with _locked(directory, exclusive=False) as locked:
            if json_file.exists() or json_file.is_symlink():
                meta = _meta(json_file, _read(json_file, name))
                data = _read(csv_file, name)
                digest = hashlib.sha256(data).hexdigest()
            else:
                # The first write of NAME cut between its two renames: its CSV is in place
                # and its JSON, complete, still carries the pending name (there is no
                # previous JSON beside it).
                data = _read(csv_file, name)
                digest = hashlib.sha256(data).hexdigest()
                meta = _pending_meta_matches(_pending(directory, name, ".json"), digest)
                if meta is None:                        # missing (or renamed in since)
                    meta = _meta(json_file, _read(json_file, name))
            if digest != meta.get("csv_sha256"):
                # A write cut between its two renames: the new CSV is in place and its
                # JSON, complete, still carries the pending name.
                meta = _pending_meta_matches(_pending(directory, name, ".json"),
                                             digest) or meta
        if locked or digest == meta.get("csv_sha256") or not (directory / LOCK_NAME).exists():
            break
        # Read without the lock while a first writer created it: read again, locked.
    if meta.get("schema") != SCHEMA:
        raise ResultsError(f"costad: {json_file} has schema {meta.get('schema')!r}; this costad "
                           f"reads {SCHEMA!r}. Re-run `costad run {name}`.")
    if digest != meta.get("csv_sha256"):
        raise ResultsError(f"costad: {csv_file} does not match the sha256 recorded in "
                           f"{json_file}; the file was changed or partly written")
    recorded = meta.get("experiment")
    if recorded is not None and recorded != name:
        # `write` records the name; a pair copied or renamed from another experiment's
        # files would be read, shown and reported as this one's (its figures and claims
        # drawn from another experiment's rows).
        raise ResultsError(f"costad: {json_file} describes the results of {recorded!r}, not "
                           f"{name!r}; the files were renamed or copied. Re-run "
                           f"`costad run {name}`.")
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
    for value, metric, line in zip(df["value"], df["metric"], lines):
        # A timing sample is seconds per call: measured, it is finite and above 0. A
        # negative, zero, NaN or infinite one would be dropped from log-scale figures or
        # poison the medians and slopes without a word.
        if metric == "time" and value is not None and not (np.isfinite(value) and value > 0):
            raise ResultsError(f"costad: {csv_file} line {line}: the time {value!r} is not a "
                               "measured time (seconds per call, finite and above 0)")
    for col in GRID_COLUMNS:
        values = [_parse(v, "count", csv_file, line, col) for v, line in zip(df[col], lines)]
        for v, line in zip(values, lines):
            if v is not None and v > _INT64_MAX:
                # The grid columns are int64 (nullable): a larger value would end in an
                # internal OverflowError instead of naming the line.
                raise ResultsError(f"costad: {csv_file} line {line}: {col} {v} is too large "
                                   f"(at most {_INT64_MAX})")
        df[col] = pd.array(values, dtype="Int64")
    params = (_parse(v, "1", csv_file, line, "param") for v, line in zip(df["param"], lines))
    df["param"] = [float("nan") if v is None else v for v in params]
    return df


_INT64_MAX = 2 ** 63 - 1
# What `write` puts in a number cell: ASCII digits, sign, point, exponent (and NaN, inf).
# Python's int() and float() also read "2_0" as 20, " 2" as 2 and non-ASCII digits ("٣" as
# 3): an edited cell that is not a number the writer could have written would be read as
# some other number instead of refused.
_NUMBER_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z"
                          r"|[-+]?(?:nan|inf|infinity)\Z", re.IGNORECASE)


def _parse(text: str, unit: str, csv_file: Path, line: int, column: str):
    if text == "":
        return None
    try:
        if not _NUMBER_TEXT.match(text):
            raise ValueError(text)
        value = int(text) if unit in INTEGER_UNITS else float(text)
    except ValueError:
        kind = "an integer" if unit in INTEGER_UNITS else "a number"
        raise ResultsError(f"costad: {csv_file} line {line}: {column} {text!r} is not {kind} "
                           f"(unit {unit!r})") from None
    if unit in INTEGER_UNITS and value < 0:
        # Counts, bytes, sizes and indices are never negative: shown or plotted, a negative
        # one would be a wrong number that looks measured.
        raise ResultsError(f"costad: {csv_file} line {line}: {column} {text!r} is negative "
                           f"(unit {unit!r})")
    return value


def _check_name(name) -> None:
    from .registry import valid_name
    if not valid_name(name):
        raise ResultsError(f"costad: {name!r} is not a valid results name: use letters, digits, "
                           "'_', '.' and '-', starting with a letter or digit")
