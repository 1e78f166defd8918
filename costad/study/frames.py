"""Views of a results DataFrame that figures, fits and claims share."""
from __future__ import annotations

import pandas as pd

__all__ = ["counts_frame", "times_frame", "metric_frame", "markdown_table", "number"]


def counts_frame(df: pd.DataFrame, kind: str = "total") -> pd.DataFrame:
    """The count rows of one kind ('total' by default), values as floats for plotting."""
    out = df[(df.metric == "ops") & (df.kind == kind)].copy()
    out["value"] = out["value"].astype(float)
    return out


def times_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The timing rows (one per sample, seconds per call), values as floats."""
    out = df[df.metric == "time"].copy()
    out["value"] = out["value"].astype(float)
    return out


def metric_frame(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of one metric (for example ``tape_bytes``), values as floats."""
    out = df[df.metric == metric].copy()
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
