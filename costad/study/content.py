"""Compare report files by what a reader sees, within stated tolerances (`costad report
--check`).

Rebuilt on the machine that built them, report files are identical byte for byte. Across
machines, floating point differs in the last digits (other CPUs take other SIMD paths in
NumPy and BLAS), so a coordinate in an SVG path can differ in its last printed digit and a
PNG in a few antialiased pixels. The check therefore compares:

- Markdown and other text: exactly;
- ``fits.csv``: the same header and rows, text cells exactly, each number within one unit
  of the finest digit printed in its column (a rounding that flipped: each column is
  rounded to a fixed number of decimals, and trailing zeros are not printed);
- SVG: the same text and structure once the numbers are taken out, and every number within
  `SVG_RTOL` relative to the larger of its two values and 1 (so absolutely below 1); the
  ids matplotlib derives from hashes are compared by their order of appearance;
- PNG: a valid PNG with the same pixel size (pixels and bytes are not compared).
"""
from __future__ import annotations

import csv
import io
import math
import re
import struct
from pathlib import Path

__all__ = ["SVG_RTOL", "compare", "svg_difference", "png_size", "fits_difference"]

SVG_RTOL = 1e-6

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(\bid="|#)([^"\s)]+)')
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _canonical_ids(text: str) -> str:
    """Rename every id (and each reference to it) by its order of first definition."""
    names = {}
    for match in _ID.finditer(text):
        names.setdefault(match.group(1), f"id{len(names)}")
    return _REF.sub(lambda m: m.group(1) + names.get(m.group(2), m.group(2)), text)


def svg_difference(fresh: str, committed: str, rtol: float = SVG_RTOL) -> str | None:
    """None if the two SVG texts show the same thing (see the module docstring), else the
    first difference, described."""
    a, b = _canonical_ids(fresh), _canonical_ids(committed)
    text_a, text_b = _NUMBER.split(a), _NUMBER.split(b)
    if len(text_a) != len(text_b):
        return (f"different structure ({len(text_a) - 1} numbers in the rebuild, "
                f"{len(text_b) - 1} in the committed file)")
    for i, (x, y) in enumerate(zip(text_a, text_b)):
        if x != y:
            return f"different text near {y.strip()[:60]!r} (rebuild: {x.strip()[:60]!r})"
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
        u, v = float(x), float(y)
        # (1 + 1e-9): a printed difference of exactly rtol is not lost to binary rounding
        if abs(u - v) > rtol * max(abs(u), abs(v), 1.0) * (1 + 1e-9):
            return f"a number differs beyond {rtol:g} relative: {y} committed, {x} rebuilt"
    return None


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, or None if the bytes are not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _unit(text: str) -> float:
    """One unit of the last digit printed in the number ``text`` ("1.25": 0.01, "3e-05":
    1e-05, "1.5e+20": 1e+19)."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** ((int(exponent) if exponent else 0) - decimals)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _column_units(*tables: list[list[str]]) -> dict[int, float]:
    """Per column, one unit of the finest digit printed in it in any of ``tables``."""
    units: dict[int, float] = {}
    for rows in tables:
        for row in rows[1:]:
            for column, cell in enumerate(row):
                value = _number(cell)
                if value is not None and math.isfinite(value):
                    units[column] = min(units.get(column, math.inf), _unit(cell))
    return units


def fits_difference(fresh: str, committed: str) -> str | None:
    """None if two fits tables agree to their printed precision (see the module docstring).

    The unit is the finest digit printed in the column, not in the cell: the table prints
    a slope rounded to 1.0000 as "1.0", and that cell's own last digit would let "1.0"
    stand for 1.1, or "1" for 1.9978.
    """
    rows_a = list(csv.reader(io.StringIO(fresh)))
    rows_b = list(csv.reader(io.StringIO(committed)))
    if len(rows_a) != len(rows_b):
        return f"{len(rows_a)} lines in the rebuild, {len(rows_b)} committed"
    units = _column_units(rows_a, rows_b)
    for line, (ra, rb) in enumerate(zip(rows_a, rows_b), start=1):
        if len(ra) != len(rb):
            return f"line {line}: {len(ra)} cells in the rebuild, {len(rb)} committed"
        for column, (x, y) in enumerate(zip(ra, rb)):
            u, v = _number(x), _number(y)
            if u is None or v is None or line == 1 or x == y:
                if x != y:
                    return f"line {line}: {y!r} committed, {x!r} rebuilt"
                continue
            unit = units.get(column, _unit(y))
            if not abs(u - v) <= unit * (1 + 1e-9):
                return (f"line {line}: {y} committed, {x} rebuilt (more than one unit of the "
                        "finest digit printed in the column)")
    return None


def compare(fresh: Path, committed: Path) -> str | None:
    """None if ``committed`` shows what the rebuilt ``fresh`` shows, else why not."""
    suffix = committed.suffix.lower()
    a, b = fresh.read_bytes(), committed.read_bytes()
    if a == b:
        return None
    if suffix == ".png":
        size_a, size_b = png_size(a), png_size(b)
        if size_b is None:
            return "not a PNG"
        if size_a != size_b:
            return f"{size_b[0]}x{size_b[1]} pixels, the rebuild {size_a[0]}x{size_a[1]}"
        return None
    try:
        text_a, text_b = a.decode("utf-8"), b.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if suffix == ".svg":
        return svg_difference(text_a, text_b)
    if suffix == ".csv":
        return fits_difference(text_a, text_b)
    return "differs from the rebuild"
