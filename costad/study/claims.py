"""Rows of the report's claims table: what the lecture predicts, what was measured, and
whether it holds. Each experiment module builds its own rows with these helpers."""
from __future__ import annotations

import pandas as pd

__all__ = ["COLUMNS", "claim", "exact_counts"]

COLUMNS = ["claim", "statement", "predicted", "measured", "holds"]


def claim(label: str, statement: str, predicted: str, measured: str, holds) -> dict:
    """One row of the claims table; ``holds`` is shown as "yes" or "NO"."""
    return {"claim": label, "statement": statement, "predicted": predicted,
            "measured": measured, "holds": "yes" if holds else "NO"}


def exact_counts(df: pd.DataFrame) -> tuple[int, int]:
    """(counts with a stated prediction, how many of them equal it exactly)."""
    stated = df[(df.unit == "ops") & df.predicted.notna()]
    return len(stated), int((stated.value == stated.predicted).sum())
