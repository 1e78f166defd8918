"""The report's time-model parts: how well counts predict time, from results alone.

For every experiment whose results carry predicted times (`costad.study.model`): a figure
of predicted against measured time, its line of the accuracy table, and the largest misses.
Across experiments: the claims rows T3 (the median and 90th percentile of
|predicted / measured - 1|) and T4 (time slopes against count slopes where the model
predicts time proportional to the counts), and the section of the README that explains
them.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from .claims import claim
from .fits import STEADY_OVERHEAD_SHARE, STEADY_SLOPE_TOLERANCE
from .model import accuracy, configurations
from .plotting import model_figure

__all__ = ["TARGET_MEDIAN", "TARGET_P90", "SLOPE_TOLERANCE", "figures", "accuracy_table",
           "misses", "claims", "section", "all_configurations"]

TARGET_MEDIAN, TARGET_P90 = 0.25, 1.00     # |predicted / measured - 1| (issue 12's targets)
SLOPE_TOLERANCE = 0.15                     # time slope against count slope


def all_configurations(data: dict) -> pd.DataFrame:
    """Every timed configuration with a prediction, across experiments."""
    frames = [configurations(df) for df, _ in data.values()]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def figures(name: str, df: pd.DataFrame) -> dict:
    """``{stem: builder}``: the predicted-against-measured figure of one experiment (none
    when its results carry no predictions)."""
    configs = configurations(df)
    if configs.empty:
        return {}
    return {f"model_{name}": partial(model_figure, configs,
                                     f"{name}: predicted against measured time")}


def accuracy_table(data: dict) -> pd.DataFrame:
    """Per experiment with predictions: timed points, the median and 90th percentile of
    |predicted / measured - 1|, the share within 25%, and the points per regime."""
    rows = []
    for name, (df, _) in data.items():
        configs = configurations(df)
        if configs.empty:
            continue
        stats = accuracy(configs)
        miss = (configs.ratio - 1).abs()
        regimes = configs.regime.value_counts()
        rows.append({"experiment": name, "points": stats["count"],
                     "median |pred/meas - 1|": f"{stats['median']:.0%}",
                     "90th percentile": f"{stats['p90']:.0%}",
                     "within 25%": f"{(miss <= 0.25).mean():.0%}",
                     "overhead / compute / memory points": " / ".join(
                         str(int(regimes.get(r, 0))) for r in ("overhead", "compute",
                                                               "memory"))})
    return pd.DataFrame(rows)


def misses(data: dict, factor: float = 2.0, limit: int = 12) -> pd.DataFrame:
    """The configurations the model misses by more than ``factor`` either way, largest
    misses first (at most ``limit``)."""
    configs = all_configurations(data)
    if configs.empty:
        return configs
    configs = configs[(configs.ratio > factor) | (configs.ratio < 1 / factor)].copy()
    configs["miss"] = np.abs(np.log(configs.ratio.astype(float)))
    configs = configs.sort_values("miss", ascending=False).head(limit)
    keys = [k for k in ("experiment", "function", "strategy", "n", "R", "T", "m")
            if k in configs.columns and configs[k].notna().any()]
    out = configs[keys].copy()
    out["measured (s)"] = configs.measured.map(lambda v: f"{v:.3g}")
    out["predicted (s)"] = configs.predicted.map(lambda v: f"{v:.3g}")
    out["predicted / measured"] = configs.ratio.map(lambda v: f"{v:.2f}")
    out["regime"] = configs.regime
    return out.astype(object).where(out.notna(), "")


def claims(data: dict, fits: pd.DataFrame) -> list[dict]:
    """T3 (accuracy over every timed point) and T4 (slopes where the model predicts time
    proportional to the counts); none when no results carry predictions."""
    configs = all_configurations(data)
    if configs.empty:
        return []
    stats = accuracy(configs)
    rows = [claim(
        "T3", "counts predict time: overhead x calls + max(work x time per op, bytes / "
        "bandwidth), from a calibration measured apart from the study",
        f"median |predicted/measured - 1| <= {TARGET_MEDIAN:.0%}, 90th percentile <= "
        f"{TARGET_P90:.0%}",
        f"median {stats['median']:.1%}, 90th percentile {stats['p90']:.0%} over "
        f"{stats['count']} timed points",
        stats["median"] <= TARGET_MEDIAN and stats["p90"] <= TARGET_P90)]
    rows += _steady_claim(fits)
    return rows


def _steady_claim(fits: pd.DataFrame) -> list[dict]:
    """T4: over the part of each curve where the model predicts time proportional to the
    counts (`costad.study.fits.steady_start`), the time slope against the count slope.
    Curves that leave the overhead regime but have no such part in their sweep are named:
    they are not judged, and not hidden."""
    if not len(fits) or "steady_time_slope" not in fits:
        return []
    judged = fits.dropna(subset=["steady_time_slope", "steady_count_slope"])
    unjudged = fits[fits.compute_from.notna() & fits.steady_time_slope.isna()]
    statement = ("where the model predicts time proportional to the counts (compute- or "
                 "memory-bound at a constant calibrated rate: no cache boundary crossed, the "
                 "overhead small or growing like the counts), time grows like the counts")
    target = f"every time slope within {SLOPE_TOLERANCE} of its count slope"
    if judged.empty:
        return [] if unjudged.empty else [claim(
            "T4", statement, target, "no curve has such a part in its sweep: "
            + ", ".join(_curve(r) for _, r in unjudged.iterrows()), False)]
    gap = (judged.steady_time_slope.astype(float)
           - judged.steady_count_slope.astype(float)).abs()
    worst = judged.loc[gap.idxmax()]
    measured = (f"{int((gap <= SLOPE_TOLERANCE).sum())}/{len(judged)} curves within; largest "
                f"gap {gap.max():.2f} ({_curve(worst)}: time {worst.steady_time_slope:.2f}, "
                f"count {worst.steady_count_slope:.2f}, from {worst.x} = "
                f"{worst.steady_from:.3g})")
    if len(unjudged):
        measured += ("; no such part in the sweep (not judged): "
                     + ", ".join(_curve(r) for _, r in unjudged.iterrows()))
    return [claim("T4", statement, target, measured, bool((gap <= SLOPE_TOLERANCE).all()))]


def _curve(r) -> str:
    return f"{r.experiment} {r.function} {r.strategy}"


def section(data: dict, markdown_table, figure_dir: str) -> str:
    """The README's section on the time model."""
    out = ["## The time model: counts against time\n"]
    configs = all_configurations(data)
    if configs.empty:
        out.append("No timed row carries a prediction: the results hold no calibration of the "
                   "machine that ran them (`costad calibrate`, or `costad run --all`, which "
                   "runs it first), so measured times are shown without a model.\n")
        return "\n".join(out) + "\n"
    out.append(
        "Every timed row's prediction comes from its own counts (primitive calls, operations "
        "per primitive, bytes moved) and the calibration of the `calibrate` experiment, "
        "measured apart from the study and never fitted to its timings: time = per-call "
        "overhead x calls + max(sum of operations x seconds per operation, bytes / "
        "bandwidth at the working set + the cost of fresh pages, for forward and reverse "
        "mode, whose results are all fresh arrays: glibc maps every array above 32 MiB "
        "afresh and faults its pages in, the calibration's add with a fresh result against "
        "the same add into a reused output). The largest term names the regime (overhead, "
        "compute, memory); time "
        "panels carry a strip per strategy coloured by it, and their legends give the time "
        "slope fitted where the model predicts compute- or memory-bound work. Measured "
        "means the fastest of a configuration's samples, as in the calibration: other work "
        "on the machine only ever slows a sample down.\n")
    out.append(
        "Time grows like the counts only where the time per operation is constant. A sweep "
        "whose working set crosses a cache size (this machine's caches are in the "
        "calibration's bandwidth curve), or whose matrix products grow into BLAS's full "
        "rate, changes it, and the model predicts that change (claim T1 gives its "
        "predicted slopes beside the measured ones). Claim T4 therefore fits each curve's "
        "time slope over the part of the sweep where the model predicts time proportional "
        "to the counts (`steady_*` in the fits tables): compute- or memory-bound, the "
        f"predicted slope within {STEADY_SLOPE_TOLERANCE} of the count slope, the overhead "
        f"under {STEADY_OVERHEAD_SHARE:.0%} of the time or itself growing like the "
        "counts; there the time is each point's fastest sample, as for the accuracy above "
        "(other work and the allocator's state only ever add time).\n")
    out.append(markdown_table(accuracy_table(data)) + "\n")
    worst = misses(data)
    if len(worst):
        out.append("Where the model misses by more than a factor of 2 (largest first):\n")
        out.append(markdown_table(worst) + "\n")
        out.append(
            "What the model leaves out, and so where it misses: fresh pages below glibc's "
            "mmap threshold (the allocator can hand freed memory back to the system and "
            "fault it in again on the next call, depending on its state, not on the counts) "
            "and in plain NumPy code (whose temporaries NumPy reuses in place where nothing "
            "else holds them); the adjoint buffers of indexed reads (zeroed and accumulated into, "
            "or written slice by slice: charged as additions but not as bytes); the working "
            "set, which the model "
            "reads from the counts as bytes per call or a sweep's peak, between the "
            "calibrated sizes; Python code between primitives (a family's slicing loop); "
            "matrix-vector products, whose rate is far below the calibrated square "
            "product's; and other work on a shared machine, which only ever adds time.\n")
    else:
        out.append("The model is within a factor of 2 of every timed point.\n")
    return "\n".join(out) + "\n"
