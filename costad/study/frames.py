"""Views of a results DataFrame that figures, fits and claims share."""
from __future__ import annotations

import pandas as pd

__all__ = ["counts_frame", "times_frame", "metric_frame"]


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
