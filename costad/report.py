"""The report: `results/` in, `reports/` out (figures, a fits table, README.md).

Everything is computed from the results files; nothing is measured. The output is
byte-identical when rebuilt from the same results: matplotlib's default style is used
whatever the user's matplotlibrc says, SVG ids come from a fixed hash salt, files carry no
build timestamp (a date appears only when SOURCE_DATE_EPOCH is set), and the metadata of
every figure names the costad version, the commit and the sha256 of the results it shows.
`check` rebuilds into a temporary folder and lists every file that differs.
"""
from __future__ import annotations

import contextlib
import datetime
import filecmp
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.style
import pandas as pd

from . import __version__
from .figures import FIGURES, counts_frame, crossover, gradient_vs_n
from .fits import count_slope, time_slope
from .results import ResultsError, load
from .studies import STUDY_NAMES

__all__ = ["build", "check", "Outcome", "fits_table", "claims_table"]

FIGURE_DIR = "figures"


@dataclass
class Outcome:
    """What a build wrote, and what it could not build (experiment -> reason)."""

    files: list[Path] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def _style():
    """matplotlib's defaults plus fixed SVG ids, independent of the user's matplotlibrc."""
    with matplotlib.style.context("default"), matplotlib.rc_context(
            {"svg.hashsalt": "costad", "svg.fonttype": "path", "figure.dpi": 100,
             "savefig.dpi": 100}):
        yield


def _date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)


def _save(fig, stem: Path, meta: dict) -> list[Path]:
    description = (f"costad {__version__}; results {meta.get('experiment')}.csv sha256 "
                   f"{meta.get('csv_sha256')}; commit {meta.get('git_commit')}")
    date = _date()
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    fig.tight_layout()
    fig.savefig(svg, format="svg", metadata={"Creator": f"costad {__version__}",
                                             "Description": description, "Date": date})
    png_meta = {"Software": f"costad {__version__}", "Description": description}
    if date is not None:
        png_meta["Creation Time"] = date.isoformat()
    fig.savefig(png, format="png", metadata=png_meta)
    return [svg, png]


def _load_all(results_dir) -> tuple[dict, dict]:
    data, missing = {}, {}
    for name in STUDY_NAMES:
        try:
            data[name] = load(name, results_dir)
        except ResultsError as err:
            missing[name] = str(err)
    return data, missing


# ----------------------------------------------------------------------------- the fits

def fits_table(data: dict) -> pd.DataFrame:
    """One row per curve: the exact slope of counts and the slope of times with its interval."""
    rows = []
    sweeps = {"gradient_vs_n": ("n", "total"), "jacobian_shape": ("m", "total"),
              "chain": (None, "mul"), "depth": ("R", "total"), "rnn": ("T", "total")}
    for experiment, (x, kind) in sweeps.items():
        if experiment not in data:
            continue
        df = data[experiment][0]
        counts, times = counts_frame(df, kind), df[df.metric == "time"]
        for (function, strategy), c in counts.groupby(["function", "strategy"], sort=False):
            axis = x or ("n" if function == "fixed-R" else "R")
            if experiment == "chain" and function.startswith("random"):
                continue
            t = times[(times.function == function) & (times.strategy == strategy)]
            cs = count_slope(c[axis], c.value)
            ts = time_slope(t[axis], t.value.astype(float)) if len(t) else None
            rows.append({"experiment": experiment, "function": function, "strategy": strategy,
                         "x": axis, "count_slope": round(cs.value, 4),
                         "time_slope": None if ts is None else round(ts.value, 3),
                         "time_slope_low": None if ts is None else round(ts.low, 3),
                         "time_slope_high": None if ts is None else round(ts.high, 3)})
    return pd.DataFrame(rows)


def _ratios(df: pd.DataFrame) -> pd.DataFrame:
    """cost / K per (function, strategy, n) of gradient_vs_n; forward also per direction."""
    c = counts_frame(df)
    K = c[c.strategy == "eval"].set_index(["function", "n"]).value
    out = c[c.strategy != "eval"].copy()
    out["K"] = [K.get((f, n)) for f, n in zip(out.function, out.n)]
    out["ratio"] = out.value / out.K
    out["per_direction"] = out.ratio / out.n.astype(float)
    return out


def claims_table(data: dict, fits: pd.DataFrame) -> list[dict]:
    """Per claim C1-C8: what the lecture predicts, what was measured, and whether it holds."""
    claims = []

    def add(claim, statement, predicted, measured, holds):
        claims.append({"claim": claim, "statement": statement, "predicted": predicted,
                       "measured": measured, "holds": "yes" if holds else "NO"})

    def exact(df):
        stated = df[(df.unit == "ops") & df.predicted.notna()]
        return len(stated), int((stated.value == stated.predicted).sum())

    if "graph" in data:
        df = data["graph"][0]
        K = int(df[(df.metric == "ops") & (df.kind == "total")].value.iloc[0])
        add("C1", "the example is a DAG of K elementary operations", "K = 5",
            f"K = {K}", K == 5)
    if "gradient_vs_n" in data:
        df = data["gradient_vs_n"][0]
        fd = df[df.strategy.isin(["fd", "fd-central"])]
        total, ok = exact(fd)
        slopes = fits[(fits.experiment == "gradient_vs_n") & (fits.strategy == "fd")]
        add("C2", "finite differences cost (n+1)K + 3n (central 2nK + 4n)",
            "counts equal the closed forms",
            f"{ok}/{total} counts equal; fd count slopes "
            f"{', '.join(f'{s:.2f}' for s in slopes.count_slope)} (theory 2 when K ~ n)",
            ok == total and total > 0)
        r = _ratios(df)
        rev = r[r.strategy == "reverse"]
        worst = rev.groupby("function").ratio.max()
        add("C3", "reverse mode gives the gradient in O(K): cost(f, grad f)/K bounded",
            "a constant, 3 to 4 (Griewank-Walther)",
            "max ratio " + ", ".join(f"{f} {v:.2f}" for f, v in worst.items()),
            bool((worst <= 4.0).all()))
        if "rational" in set(df.function):
            kinds = df[(df.metric == "ops") & df.kind.isin(["mul", "div"])
                       & (df.function == "rational")]
            muldiv = kinds.groupby(["strategy", "n"]).value.sum()
            bs = (muldiv["reverse"] / muldiv["eval"]).max()
            add("C3b", "Baur-Strassen: for a rational f, f and grad f take at most 3x the "
                "multiplications and divisions of f", "mul+div ratio <= 3",
                f"max ratio {bs:.2f} (rational family, reverse mode)", bs <= 3)
        fwd = r[r.strategy == "forward"]
        per_dir = fwd.groupby("function").per_direction.max()
        add("C4a", "forward mode: n passes, each a bounded multiple of K",
            "cost per direction / K bounded",
            "max " + ", ".join(f"{f} {v:.2f}" for f, v in per_dir.items()),
            bool((per_dir <= 4.0).all()))
    if "jacobian_shape" in data:
        df = data["jacobian_shape"][0]
        c = counts_frame(df)
        by = c.pivot_table(index="m", columns="strategy", values="value", aggfunc="first")
        m_star = crossover(by.index, by["forward"], by["reverse"])
        n = int(df.n.dropna().iloc[0])
        total, ok = exact(df)
        # From the exact counts of jacobian_shape: n (4mn + 2m) = 2mn + m (3m + 2mn - n).
        m_theory = (4 * n * n + n) / (2 * n + 3)
        add("C4", "forward costs ~ #inputs (n JVPs), reverse ~ #outputs (m VJPs)",
            f"passes equal at m = n = {n}; counted costs cross at m = (4n^2+n)/(2n+3) = "
            f"{m_theory:.1f}, since each forward pass also re-evaluates f",
            f"counted crossover at m = {m_star:.0f}; {ok}/{total} counts equal the exact "
            "prediction" if m_star else f"no crossover in the sweep; {ok}/{total} exact",
            m_star is not None and n / 4 <= m_star <= 4 * n and ok == total)
    if "chain" in data:
        df = data["chain"][0]
        total, ok = exact(df)
        f = fits[fits.experiment == "chain"]
        left = f[(f.function == "fixed-R") & (f.strategy == "left")].count_slope
        right = f[(f.function == "fixed-R") & (f.strategy == "right")].count_slope
        mul = counts_frame(df, "mul")
        random = mul[mul.function.str.startswith("random")].pivot_table(
            index="function", columns="strategy", values="value", aggfunc="first")
        beats = bool((random["optimal"] <= random[["left", "right"]].min(axis=1)).all())
        add("C5", "left association (R-1)n^3 + n^2, right R n^2; optimal by DP",
            "exact counts; slopes 3 and 2 in n",
            f"{ok}/{total} counts equal; slopes left {left.iloc[0]:.2f}, right "
            f"{right.iloc[0]:.2f}; optimal <= left, right on {len(random)} random chains",
            ok == total and beats)
    if "depth" in data:
        df = data["depth"][0]
        agree = df[(df.metric == "agrees") & (df.strategy == "hand")]
        c = counts_frame(df).pivot_table(index="R", columns="strategy", values="value",
                                         aggfunc="first")
        ratio = (c["hand"] / c["reverse"]).max()
        add("C6", "backprop M_r = rho'(A_r x_r + b_r) grad x_{r+1}, grad A_r = M_r x_r^T, ...",
            "hand backprop = reverse mode to rounding",
            f"agrees at {int(agree.value.sum())}/{len(agree)} depths; hand / reverse cost "
            f"<= {ratio:.2f}", len(agree) > 0 and agree.value.eq(1).all())
    if "rnn" in data:
        df = data["rnn"][0]
        f = fits[(fits.experiment == "rnn") & (fits.strategy == "reverse")]
        agree = df[df.metric == "agrees"]
        slope = float(f.count_slope.iloc[0])
        add("C7", "shared parameters: contributions add up over the T steps",
            "gradient matches FD; reverse cost linear in T",
            f"all strategies agree: {bool(agree.value.eq(1).all())}; reverse count slope "
            f"{slope:.2f}", agree.value.eq(1).all() and abs(slope - 1) <= 0.05)
    if "descent" in data:
        df = data["descent"][0]
        g = df[df.metric == "gap"]
        last = g[g.iteration == g.iteration.max()].set_index("strategy").value.astype(float)
        first = g[g.iteration == 0].set_index("strategy").value.astype(float)
        optimal = [s for s in last.index if s.startswith("optimal")][0]
        small = [s for s in last.index if s.startswith("small")][0]
        large = [s for s in last.index if s.startswith("too large")][0]
        add("C8", "small tau is slow, large tau diverges, an optimal tau exists",
            "tau* = 2/(L+mu) fastest; tau > 2/L diverges",
            f"final gap (absolute): optimal {abs(last[optimal]):.1e} (rounding), small "
            f"{last[small]:.1e}, too large {last[large]:.1e}",
            last[optimal] < last[small] and last[large] > first[large])
    if "fd_accuracy" in data:
        df = data["fd_accuracy"][0]
        o = df[df.metric == "optimal_step"].set_index("strategy")
        within = all(o.loc[s, "predicted"] / 100 <= o.loc[s, "value"] <= o.loc[s, "predicted"]
                     * 100 for s in o.index)
        add("FD", "finite-difference error is V-shaped in the step",
            "minima near sqrt(eps) = 1.5e-08 (fd) and eps^(1/3) = 6.1e-06 (central)",
            ", ".join(f"{s} {float(o.loc[s, 'value']):.1e}" for s in o.index), within)
    return claims


# --------------------------------------------------------------------------- the report

SECTIONS = [
    ("C1: a program is a DAG", "graph", ["dag"],
     "The lecture's example traced by costad: its nodes in their linear order and the DAG "
     "they form."),
    ("C2, C3: the cost of a gradient against n", "gradient_vs_n", ["gradient_vs_n_*",
                                                                   "gradient_ratio"],
     "Finite differences cost (n+1)K, forward mode about nK, reverse mode a constant times "
     "K: on log-log axes fd and forward have slope one more than K, reverse the slope of K."),
    ("C4: Jacobians, forward against reverse", "jacobian_shape", ["jacobian_shape"],
     "n JVPs against m VJPs for f: R^n -> R^m: reverse wins for few outputs, forward for "
     "many."),
    ("C5: association of the chain rule", "chain", ["chain"],
     "Multiplying the Jacobians from the input side costs (R-1)n^3 + n^2 multiplications, "
     "from the output side R n^2."),
    ("C6: backpropagation in an MLP", "depth", ["depth"],
     "Hand-written backprop and reverse mode agree and both grow linearly with the depth R; "
     "finite differences and forward mode grow like R^2."),
    ("C7: shared parameters (RNN)", "rnn", ["rnn"],
     "The gradient with respect to parameters shared by T steps adds T contributions: "
     "linear in T for reverse mode."),
    ("Finite-difference accuracy", "fd_accuracy", ["fd_accuracy"],
     "Truncation error falls with the step, rounding error rises: the minimum sits near "
     "sqrt(eps) for forward and eps^(1/3) for central differences."),
    ("C8: gradient descent step sizes", "descent", ["descent"],
     "Too small a step is slow, a step above 2/L diverges, and 2/(L+mu) is the best fixed "
     "step on a quadratic."),
]


def _markdown_table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        lines.append("| " + " | ".join("" if pd.isna(v) else str(v).replace("|", "\\|")
                                       for v in r) + " |")
    return "\n".join(lines)


def _readme(data: dict, missing: dict, figures: dict[str, list[str]], fits: pd.DataFrame,
            claims: list[dict]) -> str:
    out = io.StringIO()
    w = out.write
    w("# costad report\n\n")
    w("Built by `costad report` from `results/` alone; rebuild and verify with "
      "`costad report --check`. Units: ops = counted elementary operations (per the cost "
      "model of costad's README), mul = scalar multiplications, s = seconds per call.\n\n")
    w("## Claims\n\n")
    w(_markdown_table(pd.DataFrame(claims)) + "\n\n" if claims else "No results.\n\n")
    if missing:
        w("## Missing results\n\n")
        for name, reason in missing.items():
            w(f"- `{name}`: {reason}\n")
        w("\n")
    for title, experiment, patterns, sentence in SECTIONS:
        w(f"## {title}\n\n")
        if experiment not in data:
            w(f"Not built: results for `{experiment}` are missing.\n\n")
            continue
        w(sentence + "\n\n")
        for pattern in patterns:
            for stem in figures.get(pattern, []):
                w(f"![{stem}]({FIGURE_DIR}/{stem}.png)\n\n[SVG]({FIGURE_DIR}/{stem}.svg)\n\n")
        f = fits[fits.experiment == experiment] if len(fits) else fits
        if len(f):
            w(_markdown_table(f.drop(columns="experiment")) + "\n\n")
        meta = data[experiment][1]
        w(f"Provenance: costad {meta.get('costad_version')}, commit "
          f"`{str(meta.get('git_commit'))[:12]}`{' (dirty)' if meta.get('git_dirty') else ''}, "
          f"results sha256 `{meta.get('csv_sha256', '')[:16]}`, {meta.get('cpu')}, "
          f"{meta.get('os')}, Python {meta.get('python')}, NumPy {meta.get('numpy')}.\n\n")
    return out.getvalue()


def build(results_dir="results", out_dir="reports") -> Outcome:
    """Build every figure, the fits table and README.md that the results allow."""
    out_dir = Path(out_dir)
    (out_dir / FIGURE_DIR).mkdir(parents=True, exist_ok=True)
    data, missing = _load_all(results_dir)
    outcome = Outcome(missing=dict(missing))
    figures: dict[str, list[str]] = {}
    with _style():
        for name, (experiment, builder) in FIGURES.items():
            if experiment in data:
                df, meta = data[experiment]
                outcome.files += _save(builder(df), out_dir / FIGURE_DIR / name, meta)
                figures[name] = [name]
        if "gradient_vs_n" in data:
            df, meta = data["gradient_vs_n"]
            stems = []
            for family in dict.fromkeys(df.function):
                stem = f"gradient_vs_n_{family}"
                outcome.files += _save(gradient_vs_n(df, family), out_dir / FIGURE_DIR / stem,
                                       meta)
                stems.append(stem)
            figures["gradient_vs_n_*"] = stems
    fits = fits_table(data)
    claims = claims_table(data, fits)
    fits_file = out_dir / "fits.csv"
    fits.to_csv(fits_file, index=False, lineterminator="\n")
    readme = out_dir / "README.md"
    readme.write_text(_readme(data, missing, figures, fits, claims))
    outcome.files += [fits_file, readme]
    return outcome


def check(results_dir="results", out_dir="reports") -> list[str]:
    """Rebuild into a temporary folder; return the files that differ from ``out_dir``."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        outcome = build(results_dir, tmp)
        problems = []
        for fresh in outcome.files:
            rel = fresh.relative_to(tmp)
            committed = out_dir / rel
            if not committed.exists():
                problems.append(f"{committed} is missing")
            elif not filecmp.cmp(fresh, committed, shallow=False):
                problems.append(f"{committed} differs from a rebuild")
        problems += [f"results for {name} are missing" for name in outcome.missing]
    return problems

