"""C2-C3: the cost of a gradient against n, per strategy, over several function families."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from costad import ShapeDtype, value_and_grad
from costad.functions import FAMILIES

from .. import Settings, Task
from ..abstract import strategy_cost
from ..claims import claim, exact_counts
from ..fits import Sweep, count_slope, loglog_slope, time_slope
from ..frames import counts_frame, is_abstract, times_frame
from ..plotting import (COUNT_LABEL, MARKERS, STRATEGY_COLORS, TIME_LABEL, figure, finish,
                        plot_abstract, plot_counts, plot_times, shade_regimes, theory)
from ..measure import count_rows, row
from ..model import configurations, human_seconds, model_rows, predict
from ..recipes import Point, measure_sweep, skipped

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "FITS", "grid", "tasks",
           "figures", "claims", "tables", "predicted", "family_figure", "ratio_figure",
           "ratios", "abstract_function", "cost_table", "large_n_slopes", "time_ratios",
           "GRIEWANK_WALTHER", "LARGE_N"]

NAME = "gradient_vs_n"
ORDER = 20
DESCRIPTION = ("gradient cost against n: fd (n+1)K + 3n, fd-central 2nK + 4n, forward ~nK, "
               "reverse ~K")
TITLE = "C2, C3: the cost of a gradient against n"
SENTENCE = ("Finite differences cost (n+1)K, forward mode about nK, reverse mode a constant "
            "times K: on log-log axes fd and forward have slope one more than K, reverse the "
            "slope of K.")
FITS = Sweep(kind="total", axis="n")
STRATEGIES = ("fd", "fd-central", "forward", "reverse")
# Strategies whose counted cost (n+1)K would exceed this many operations are skipped (reverse
# mode runs at every n up to GRADIENT_MAX_N, the evaluation itself at every n).
BUDGET_OPS = {False: 50_000_000, True: 2_000_000}
# Gradients run up to this n; beyond it f alone is timed (reverse mode's tape at 3 10^7
# would take gigabytes), so that eval has points past the last cache's transition.
GRADIENT_MAX_N = 10 ** 7
# Counted without running, on abstract inputs (costad.ShapeDtype), every strategy at every n.
ABSTRACT_N = {False: [10 ** k for k in range(1, 10)], True: [10, 100, 10 ** 6, 10 ** 9]}
ABSTRACT = "abstract"             # the note marking rows counted on abstract inputs


def grid(settings: Settings) -> dict:
    n = ([10, 30, 100] if settings.quick else
         [10, 30, 100, 300, 1000, 3000, 10 ** 4, 3 * 10 ** 4, 10 ** 5, 3 * 10 ** 5, 10 ** 6,
          3 * 10 ** 6, 10 ** 7, 3 * 10 ** 7])
    return {"n": n, "families": list(FAMILIES), "strategies": list(STRATEGIES),
            "budget_ops": BUDGET_OPS[settings.quick], "abstract_n": ABSTRACT_N[settings.quick]}


def predicted(strategy: str, n: int, K: int) -> int | None:
    """Closed forms of value_and_grad's counted cost."""
    if strategy == "fd":
        return (n + 1) * K + 3 * n
    if strategy == "fd-central":
        return 2 * n * K + 4 * n + K          # the value costs one more evaluation
    return None


def _point(family_name: str, n: int, settings: Settings) -> tuple[Point, list[dict]]:
    """The family at n and the strategies to measure there, with the rows of those the
    budgets leave out."""
    family = FAMILIES[family_name]
    f, x = family.build(n, settings.seed)
    K = family.K(n)
    base = dict(experiment=NAME, function=family_name, n=n)
    budget = BUDGET_OPS[settings.quick]
    rows, chosen = [], []
    for strategy in STRATEGIES:
        # valid_n rounds a family's n (the mlp's to whole layers): compare like with like
        if n > family.valid_n(GRADIENT_MAX_N):
            rows += skipped(base, strategy, f"gradients run up to n = {GRADIENT_MAX_N:.0e}; "
                                            f"beyond, f alone is timed")
        elif strategy != "reverse" and (n + 1) * K > budget:
            rows += skipped(base, strategy, f"(n+1)K = {(n + 1) * K} ops exceeds the budget "
                                            f"of {budget} ops")
        else:
            chosen.append(strategy)
    reference = value_and_grad(f)(x)[1] if chosen else None
    return Point(base, f, x, tuple(chosen), reference,
                 lambda s: K if s == "eval" else predicted(s, n, K)), rows


def _run(family_name: str, ns, settings: Settings) -> list[dict]:
    """Measure the family at every n of ``ns``, all timed in the same interleaved rounds."""
    return measure_sweep(partial(_point, family_name, settings=settings), ns, settings)


def abstract_function(family_name: str, n: int, seed: int = 0):
    """``(f, spec)``: the family's function and an abstract input of n scalars, with any
    constant of size n abstract too, so that counting at n = 10^9 allocates nothing of that
    size. Counts equal the executed family's exactly (a test checks it wherever both run):
    logreg's data matrix and mlp's parameter shapes are the only constants of size n."""
    family = FAMILIES[family_name]
    if family_name == "logreg":
        samples = 16
        X = ShapeDtype((samples, n))
        y = np.where(np.random.default_rng(seed).random(samples) < 0.5, -1.0, 1.0)

        def logreg(w):
            return np.mean(np.log(1.0 + np.exp(-(y * (X @ w)))))
        return logreg, ShapeDtype((n,))
    if family_name == "mlp":
        from costad.functions import mlp_loss
        batch, classes, inputs = 8, 4, 4
        h = max(1, round((n - classes) / (inputs + 1 + classes)))
        shapes = [(inputs, h), (h,), (h, classes), (classes,)]
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((batch, inputs))
        Y = np.eye(classes)[rng.integers(0, classes, batch)]

        def mlp(theta):
            parts, start = [], 0
            for shape in shapes:
                size = int(np.prod(shape))
                parts.append(theta[start:start + size].reshape(shape))
                start += size
            return mlp_loss(parts, X, Y)
        return mlp, ShapeDtype((sum(int(np.prod(s)) for s in shapes),))
    f, _ = family.build(family.valid_n(2), seed)   # the function does not depend on n
    return f, ShapeDtype((n,))


def _abstract(family_name: str, ns, settings: Settings) -> list[dict]:
    """Counts of every strategy on abstract inputs (note "abstract"), with predictions."""
    family = FAMILIES[family_name]
    rows = []
    for n in ns:
        n = family.valid_n(n)
        f, spec = abstract_function(family_name, n, settings.seed)
        base = dict(experiment=NAME, function=family_name, n=n)
        K = family.K(n)
        for strategy in ("eval",) + STRATEGIES:
            b = dict(base, strategy=strategy)
            cost = strategy_cost(f, spec, strategy)
            rows += count_rows(b, cost, K if strategy == "eval" else predicted(strategy, n, K),
                               note=ABSTRACT)
            if strategy == "reverse":
                rows.append(row(b, "peak_bytes", cost.peak_bytes, "bytes", note=ABSTRACT))
            if settings.calibration is not None:
                rows += [dict(r, note=f"{ABSTRACT}; {r['note']}" if r["note"] else ABSTRACT)
                         for r in model_rows(b, predict(cost, settings.calibration, strategy))]
    return rows


def tasks(settings: Settings) -> list[Task]:
    out = []
    g = grid(settings)
    for family_name, family in FAMILIES.items():
        # One task per n: timing a family's sizes in one set of interleaved rounds, as the
        # depth and RNN sweeps are, would hand each large call an allocator left by another
        # size (fresh pages to fault in at every call: reverse mode at n = 10^7 measured up
        # to 1.8 times slower), which is not the time of repeated calls the model predicts.
        for n in g["n"]:
            n = family.valid_n(n)
            out.append(Task(f"{family_name} n={n}", partial(_run, family_name, [n], settings)))
    for family_name in FAMILIES:
        out.append(Task(f"{family_name} abstract n <= {max(g['abstract_n']):.0e}",
                        partial(_abstract, family_name, g["abstract_n"], settings)))
    return out


# ------------------------------------------------------------------------------ report

PLOTTED = ("eval", "fd", "fd-central", "forward", "reverse")


def family_figure(df: pd.DataFrame, family: str):
    """Cost of value and gradient against n for one function family: counts (executed, then
    dotted on abstract inputs up to 10^9) and time (shaded by the predicted regime)."""
    d = df[df.function == family]
    counts, times = counts_frame(d), times_frame(d)
    configs = configurations(d)
    fig = figure((11, 4.4))
    ax_c, ax_t = fig.subplots(1, 2)
    plot_counts(ax_c, counts, "n", PLOTTED)
    plot_abstract(ax_c, counts_frame(d, abstract=True), counts, "n", PLOTTED)
    K = counts_frame(d, abstract=None)
    K = K[K.strategy == "eval"].drop_duplicates("n").sort_values("n")
    n = K.n.astype(float).to_numpy()
    theory(ax_c, n, (n + 1) * K.value, "theory (n+1)K", STRATEGY_COLORS["fd"])
    theory(ax_c, n, 2 * n * K.value, "theory 2nK", STRATEGY_COLORS["fd-central"])
    theory(ax_c, n, K.value, "theory ~K", STRATEGY_COLORS["reverse"])
    finish(ax_c, "n (number of inputs)", COUNT_LABEL, f"{family}: counted cost of f and grad f")
    plot_times(ax_t, times, "n", PLOTTED, configs)
    finish(ax_t, "n (number of inputs)", TIME_LABEL, f"{family}: measured time (median, min-max)")
    shade_regimes(ax_t, configs, "n", PLOTTED)
    return fig


def ratio_figure(df: pd.DataFrame):
    """cost(value and gradient) / K against n: fd grows like n, reverse stays flat."""
    families = list(dict.fromkeys(df.function))
    fig = figure((11, 7.5))
    axes = np.atleast_1d(fig.subplots(2, (len(families) + 1) // 2)).ravel()
    counts = counts_frame(df)
    for ax, family in zip(axes, families):
        c = counts[counts.function == family]
        K = c[c.strategy == "eval"].set_index("n").value
        for strategy in PLOTTED[1:]:
            s = c[c.strategy == strategy].set_index("n").value
            if s.empty:
                continue
            ratio = (s / K.reindex(s.index)).sort_index()
            slope = count_slope(ratio.index, ratio.values)
            ax.loglog(ratio.index.astype(float), ratio.values, marker=MARKERS[strategy],
                      color=STRATEGY_COLORS[strategy], label=f"{strategy} ({slope.label()})")
        finish(ax, "n (number of inputs)", "cost / K (ops per op of f)", family)
    for ax in axes[len(families):]:
        ax.set_visible(False)
    fig.suptitle("cheap gradient principle: reverse mode costs a constant times K", fontsize=11)
    return fig


def figures(df: pd.DataFrame) -> dict:
    out = {f"gradient_vs_n_{family}": partial(family_figure, df, family)
           for family in dict.fromkeys(df.function)}
    out["gradient_ratio"] = partial(ratio_figure, df)
    return out


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """cost / K per (function, strategy, n); forward also per direction."""
    c = counts_frame(df)
    K = c[c.strategy == "eval"].set_index(["function", "n"]).value
    out = c[c.strategy != "eval"].copy()
    out["K"] = [K.get((f, n)) for f, n in zip(out.function, out.n)]
    out["ratio"] = out.value / out.K
    out["per_direction"] = out.ratio / out.n.astype(float)
    return out


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    rows = []
    total, ok = exact_counts(df[df.strategy.isin(["fd", "fd-central"])])
    slopes = fits[fits.strategy == "fd"]
    rows.append(claim(
        "C2", "finite differences cost (n+1)K + 3n (central 2nK + 4n)",
        "counts equal the closed forms",
        f"{ok}/{total} counts equal; fd count slopes "
        f"{', '.join(f'{s:.2f}' for s in slopes.count_slope)} (theory 2 when K ~ n)",
        ok == total and total > 0))
    r = ratios(df)
    worst = r[r.strategy == "reverse"].groupby("function").ratio.max()
    rows.append(claim(
        "C3", "reverse mode gives the gradient in O(K): cost(f, grad f)/K bounded",
        "a constant, 3 to 4 (Griewank-Walther)",
        "max ratio " + ", ".join(f"{f} {v:.2f}" for f, v in worst.items()),
        bool((worst <= 4.0).all())))
    if "rational" in set(df.function):
        kinds = df[(df.metric == "ops") & df.kind.isin(["mul", "div"])
                   & (df.function == "rational") & ~is_abstract(df)]
        muldiv = kinds.groupby(["strategy", "n"]).value.sum()
        bs = (muldiv["reverse"] / muldiv["eval"]).max()
        rows.append(claim(
            "C3b", "Baur-Strassen: for a rational f, f and grad f take at most 3x the "
            "multiplications and divisions of f", "mul+div ratio <= 3",
            f"max ratio {bs:.2f} (rational family, reverse mode)", bs <= 3))
    per_dir = r[r.strategy == "forward"].groupby("function").per_direction.max()
    rows.append(claim(
        "C4a", "forward mode: n passes, each a bounded multiple of K",
        "cost per direction / K bounded",
        "max " + ", ".join(f"{f} {v:.2f}" for f, v in per_dir.items()),
        bool((per_dir <= 4.0).all())))
    return rows + time_claims(df)


# ------------------------------------------------------------------- time at large n

LARGE_N = 10 ** 5               # where vectorized code has left the overhead regime
GRIEWANK_WALTHER = 5.0          # time(f and grad f) / time(f) <= about 5 for reverse mode
SLOPE_TOLERANCE = 0.15


def large_n_slopes(df: pd.DataFrame, start: int = LARGE_N) -> pd.DataFrame:
    """Per family and strategy timed at two or more n >= ``start``: the count slope, the
    time slope (with its bootstrap interval) and, where the results carry predictions, the
    predicted time's slope, over those n."""
    times, counts = times_frame(df), counts_frame(df)
    rows = []
    for (family, strategy), t in times[times.n >= start].groupby(["function", "strategy"],
                                                                 sort=False):
        if t.n.nunique() < 2:
            continue
        c = counts[(counts.function == family) & (counts.strategy == strategy)
                   & counts.n.isin(set(t.n))]
        ts = time_slope(t.n, t.value, whole=True)
        p = t.dropna(subset=["predicted"]).drop_duplicates("n")
        rows.append({"function": family, "strategy": strategy, "n_from": int(t.n.min()),
                     "n_to": int(t.n.max()), "count_slope": loglog_slope(c.n, c.value),
                     "time_slope": ts.value, "time_low": ts.low, "time_high": ts.high,
                     "predicted_slope": loglog_slope(p.n, p.predicted.astype(float))
                     if p.n.nunique() >= 2 else float("nan")})
    return pd.DataFrame(rows)


def time_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Per family: median time of reverse-mode value and gradient over median time of f,
    at the largest n both were timed at."""
    t = times_frame(df)
    med = t.groupby(["function", "strategy", "n"]).value.median()
    rows = []
    for family in dict.fromkeys(t.function):
        try:
            rev, ev = med[family]["reverse"], med[family]["eval"]
        except KeyError:
            continue
        common = sorted(set(rev.index) & set(ev.index))
        if common:
            n = common[-1]
            rows.append({"function": family, "n": int(n), "reverse_s": rev[n], "eval_s": ev[n],
                         "ratio": rev[n] / ev[n]})
    return pd.DataFrame(rows)


def time_claims(df: pd.DataFrame) -> list[dict]:
    """T1 (time slopes against count slopes at n >= 10^5) and T2 (reverse / eval time at the
    largest n), when the sweep reaches 10^5."""
    rows = []
    slopes = large_n_slopes(df)
    if len(slopes):
        gap = (slopes.time_slope - slopes.count_slope).abs()
        off = slopes[gap > SLOPE_TOLERANCE]
        rows.append(claim(
            "T1", f"at n >= 10^{int(np.log10(LARGE_N))} time grows like the counts: "
            "vectorized code has left the overhead regime",
            f"each time slope within {SLOPE_TOLERANCE} of its count slope",
            f"{int((gap <= SLOPE_TOLERANCE).sum())}/{len(slopes)} within"
            + ("" if off.empty else "; off: " + ", ".join(
                f"{r.function} {r.strategy} {r.time_slope:.2f} (count {r.count_slope:.2f}"
                + ("" if np.isnan(r.predicted_slope) else
                   f", predicted {r.predicted_slope:.2f}") + ")"
                for r in off.itertuples())), off.empty))
    ratios_ = time_ratios(df)
    ratios_ = ratios_[ratios_.n >= LARGE_N] if len(ratios_) else ratios_
    if len(ratios_):
        worst = ratios_.ratio.max()
        rows.append(claim(
            "T2", "reverse mode's time is a small multiple of f's (the cheap gradient "
            "principle, in seconds)",
            f"time(f, grad f) / time(f) <= about {GRIEWANK_WALTHER:g} (Griewank & Walther)",
            "at the largest n: " + ", ".join(f"{r.function} {r.ratio:.1f} (n = {r.n:.0e})"
                                             for r in ratios_.itertuples()),
            worst <= GRIEWANK_WALTHER))
    return rows


def cost_table(df: pd.DataFrame, sizes=(10 ** 6, 10 ** 9)) -> pd.DataFrame:
    """What a gradient costs at each of ``sizes``: per family and strategy, the counted
    operations (on abstract inputs) and the predicted time on the machine the results were
    calibrated on (empty when the results carry no predictions)."""
    counts = counts_frame(df, abstract=True)
    model = df[(df.metric == "model_s") & (df.kind == "total") & is_abstract(df)]
    peak = df[(df.metric == "peak_bytes") & is_abstract(df)]
    rows = []
    for family in dict.fromkeys(counts.function):
        valid = {size: FAMILIES[family].valid_n(size) if family in FAMILIES else size
                 for size in sizes}
        for strategy in PLOTTED:
            r = {"function": family, "strategy": strategy}
            for size, n in valid.items():
                label = f"10^{int(round(np.log10(size)))}"
                c = counts[(counts.function == family) & (counts.strategy == strategy)
                           & (counts.n == n)]
                m = model[(model.function == family) & (model.strategy == strategy)
                          & (model.n == n)]
                r[f"ops at {label}"] = f"{int(c.value.iloc[0]):.3g}" if len(c) else ""
                r[f"predicted at {label}"] = (
                    f"{human_seconds(float(m.value.iloc[0]))} "
                    f"({m.note.iloc[0].split('regime=')[-1]})" if len(m) else "")
            p = peak[(peak.function == family) & (peak.strategy == strategy)
                     & (peak.n == valid[sizes[-1]])]
            r[f"peak memory at 10^{int(round(np.log10(sizes[-1])))} (reverse: tape, "
              "adjoints)"] = f"{float(p.value.iloc[0]) / 1e9:.3g} GB" if len(p) else ""
            rows.append(r)
    return pd.DataFrame(rows)


def tables(df: pd.DataFrame) -> list:
    table = cost_table(df)
    if table.empty:
        return []
    has_model = (df.metric == "model_s").any()
    title = ("**What a gradient costs at n = 10^6 and 10^9** (counted on abstract inputs, "
             "not run; " + ("predicted times on the machine the results were calibrated "
                            "on, assuming the memory it would take" if has_model else
                            "no predicted times: the results hold no calibration") + ")")
    return [(title, table)]
