"""pytest-benchmark JSON: conversion to the tidy results schema, and a gate on counts.

Timings on shared machines are noisy; counts are exact. `compare` therefore fails on any
change of a count (``extra_info`` keys ``count_*``, ``stored_*``), reports time ratios with
their noise, and fails on time only past a threshold the caller sets (off by default).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import BenchmarkFileError
from .results import to_frame

__all__ = ["BenchmarkFileError", "load_json", "to_tidy", "counts_of", "Comparison", "compare"]

COUNT_PREFIXES = ("count_", "stored_")
GRID_KEYS = ("n", "R", "T", "m")


def load_json(path) -> dict:
    """Read a pytest-benchmark JSON (``--benchmark-json``), checking every entry the gate and
    the table use; anything else is a `BenchmarkFileError` naming the file and the entry."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BenchmarkFileError(f"costad: {path} does not exist") from None
    except OSError as err:
        raise BenchmarkFileError(f"costad: cannot read {path}: {err.strerror or err}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BenchmarkFileError(f"costad: {path} is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise BenchmarkFileError(f"costad: {path} is not JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise BenchmarkFileError(f"costad: {path} is not a pytest-benchmark JSON "
                                 "(no 'benchmarks' list)")
    seen = set()
    for i, entry in enumerate(data["benchmarks"]):
        name = _check_entry(path, i, entry)
        if name in seen:
            raise BenchmarkFileError(f"costad: {path}: benchmark {name!r} appears twice")
        seen.add(name)
    return data


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_entry(path: Path, i: int, entry) -> str:
    """Check one benchmark entry; return its fullname."""
    where = f"costad: {path}: benchmark #{i}"
    if not isinstance(entry, dict):
        raise BenchmarkFileError(f"{where} is a {type(entry).__name__}, not an object")
    name = entry.get("fullname")
    if not isinstance(name, str) or not name:
        raise BenchmarkFileError(f"{where} has no 'fullname'")
    where = f"costad: {path}: benchmark {name!r}"
    stats = entry.get("stats")
    if not isinstance(stats, dict):
        raise BenchmarkFileError(f"{where} has no 'stats' object")
    for key in ("min", "median"):
        if not _is_number(stats.get(key)) or stats[key] <= 0:
            raise BenchmarkFileError(f"{where}: stats '{key}' must be a positive time in "
                                     f"seconds, got {stats.get(key)!r}")
    if not _is_number(stats.get("iqr")) or stats["iqr"] < 0:
        raise BenchmarkFileError(f"{where}: stats 'iqr' must be a non-negative time, got "
                                 f"{stats.get('iqr')!r}")
    info = entry.get("extra_info", {})
    if not isinstance(info, dict):
        raise BenchmarkFileError(f"{where}: 'extra_info' must be an object, got "
                                 f"{json.dumps(info)}")
    for key in GRID_KEYS:
        # An integer size becomes a grid column of the tidy table (int64, never negative):
        # one outside that range would write results that `load` refuses, or end in an
        # internal error. (Other types are not sizes and are left out of the table.)
        value = info.get(key)
        if isinstance(value, int) and not isinstance(value, bool) \
                and not 0 <= value <= 2 ** 63 - 1:
            raise BenchmarkFileError(f"{where}: extra_info '{key}' must be a non-negative "
                                     f"64-bit integer size, got {value!r}")
    for key, value in info.items():
        if key.startswith(COUNT_PREFIXES) and (isinstance(value, bool)
                                               or not isinstance(value, int) or value < 0):
            raise BenchmarkFileError(f"{where}: extra_info '{key}' must be a non-negative "
                                     f"integer count, got {value!r}")
    return name


def counts_of(benchmark: dict) -> dict[str, int]:
    """The exact counts a benchmark carries in its extra_info."""
    return {k: v for k, v in benchmark.get("extra_info", {}).items()
            if k.startswith(COUNT_PREFIXES)}


def to_tidy(data: dict) -> pd.DataFrame:
    """One row per benchmark and metric: time min, median and IQR, every count, and the
    minimum time per counted operation (``time_per_op``; ``time_per_f_op`` per operation of
    f where extra_info states K)."""
    rows = []
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        base = {"experiment": "benchmark", "function": str(info.get("function", b.get("group")
                                                                  or "")),
                "strategy": str(info.get("strategy", "")),
                "note": b["fullname"]}
        for key in GRID_KEYS:
            # (A bool is an int to Python; True is not a size.)
            if isinstance(info.get(key), int) and not isinstance(info[key], bool):
                base[key] = info[key]
        stats = b["stats"]
        for metric, value in (("time_min", stats["min"]), ("time_median", stats["median"]),
                              ("time_iqr", stats["iqr"])):
            rows.append(dict(base, metric=metric, kind="", value=value, unit="s",
                             replicate=0))
        # Speed per elementary operation: per counted operation of the timed call, and per
        # operation of f when the benchmark states its K (scalar-code targets use both).
        for metric, ops in (("time_per_op", info.get("count_total")),
                            ("time_per_f_op", info.get("K"))):
            if isinstance(ops, int) and not isinstance(ops, bool) and ops > 0:
                rows.append(dict(base, metric=metric, kind="", value=stats["min"] / ops,
                                 unit="s/op", replicate=0))
        for key, value in sorted(counts_of(b).items()):
            if key.startswith("count_"):
                rows.append(dict(base, metric="ops", kind=key[len("count_"):], value=value,
                                 unit="ops", replicate=0))
            else:
                unit = "bytes" if key.endswith("bytes") else "nodes"
                rows.append(dict(base, metric=key.replace("stored_", "tape_"), kind="",
                                 value=value, unit=unit, replicate=0))
    return to_frame(rows)


@dataclass
class Comparison:
    """The outcome of `compare`: one line per benchmark, and whether the gate failed."""

    lines: list[dict] = field(default_factory=list)
    failed: bool = False

    def table(self) -> str:
        frame = pd.DataFrame(self.lines, columns=["benchmark", "counts", "base_median_s",
                                                  "new_median_s", "ratio", "noise", "status"])
        with pd.option_context("display.width", 200, "display.max_colwidth", 70,
                               "display.max_rows", 500):
            return frame.to_string(index=False)


def _noise(stats: dict) -> float:
    """Relative spread of one benchmark's samples: IQR / median."""
    return stats["iqr"] / stats["median"] if stats["median"] else math.inf


def compare(base: dict, new: dict, time_threshold: float | None = None) -> Comparison:
    """Compare two benchmark runs: any count difference fails; a time ratio (new / base
    median) fails only above ``time_threshold`` when one is given."""
    if time_threshold is not None and not (math.isfinite(time_threshold) and time_threshold > 0):
        raise ValueError(f"costad: the time threshold must be a finite ratio above 0, got "
                         f"{time_threshold!r}")
    result = Comparison()
    if not base["benchmarks"]:
        # An empty baseline would let any change through.
        result.lines.append({"benchmark": "(baseline)", "counts": "-",
                             "status": "EMPTY baseline: nothing to compare against"})
        result.failed = True
    old = {b["fullname"]: b for b in base["benchmarks"]}
    fresh = {b["fullname"]: b for b in new["benchmarks"]}
    for name in sorted(old.keys() | fresh.keys()):
        if name not in fresh:
            result.lines.append({"benchmark": name, "counts": "-", "status": "MISSING in new"})
            result.failed = True
            continue
        if name not in old:
            result.lines.append({"benchmark": name, "counts": "-", "status": "new (no baseline)",
                                 "new_median_s": fresh[name]["stats"]["median"]})
            continue
        a, b = old[name], fresh[name]
        ca, cb = counts_of(a), counts_of(b)
        diffs = [f"{k}: {ca.get(k)} -> {cb.get(k)}" for k in sorted(ca.keys() | cb.keys())
                 if ca.get(k) != cb.get(k)]
        ratio = b["stats"]["median"] / a["stats"]["median"]
        noise = math.hypot(_noise(a["stats"]), _noise(b["stats"]))
        status = "ok"
        if diffs:
            status = "COUNTS CHANGED: " + "; ".join(diffs)
            result.failed = True
        elif time_threshold is not None and ratio > time_threshold:
            status = f"SLOWER than x{time_threshold:g}"
            result.failed = True
        result.lines.append({"benchmark": name, "counts": "equal" if not diffs else "DIFFER",
                             "base_median_s": f"{a['stats']['median']:.3e}",
                             "new_median_s": f"{b['stats']['median']:.3e}",
                             "ratio": f"{ratio:.2f}", "noise": f"±{noise:.0%}",
                             "status": status})
    return result
