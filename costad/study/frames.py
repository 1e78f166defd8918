"""Views of a results DataFrame that figures, fits and claims share."""
from __future__ import annotations

import pandas as pd

__all__ = ["ABSTRACT", "is_abstract", "counts_frame", "times_frame", "metric_frame",
           "markdown_table", "number"]

# The note of rows counted on abstract inputs (costad.ShapeDtype), not executed: exact
# counts at sizes too large to run.
ABSTRACT = "abstract"


def is_abstract(df: pd.DataFrame) -> pd.Series:
    """Which rows were counted on abstract inputs (their note starts with "abstract")."""
    return df.note.astype(str).str.startswith(ABSTRACT)


def counts_frame(df: pd.DataFrame, kind: str = "total", abstract: bool | None = False
                 ) -> pd.DataFrame:
    """The count rows of one kind ('total' by default), values as floats for plotting:
    executed ones (``abstract=False``, the default), abstract ones (True) or both (None)."""
    out = df[(df.metric == "ops") & (df.kind == kind)]
    if abstract is not None:
        out = out[is_abstract(out) == abstract]
    out = out.copy()
    out["value"] = out["value"].astype(float)
    return out


def times_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The timing rows (one per sample, seconds per call), values as floats."""
    out = df[df.metric == "time"].copy()
    out["value"] = out["value"].astype(float)
    return out


def metric_frame(df: pd.DataFrame, metric: str, abstract: bool | None = False
                 ) -> pd.DataFrame:
    """The rows of one metric (for example ``tape_bytes``), values as floats: executed ones
    by default, as in `counts_frame`."""
    out = df[df.metric == metric]
    if abstract is not None:
        out = out[is_abstract(out) == abstract]
    out = out.copy()
    out["value"] = out["value"].astype(float)
    return out


def markdown_table(frame: pd.DataFrame, number_format=None) -> str:
    """A DataFrame as a Markdown table: missing values empty, ``|`` escaped; floats written
    with ``number_format`` (a function) when given, else ``str``."""
    def cell(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        if number_format is not None and isinstance(v, float):
            return number_format(v)
        return str(v).replace("|", "\\|")
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        lines.append("| " + " | ".join(cell(v) for v in r) + " |")
    return "\n".join(lines)


def number(v: float) -> str:
    """A measured number for a table: three significant digits."""
    return f"{v:.3g}"
