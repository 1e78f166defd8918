"""costad beside PyTorch, JAX and HIPS autograd: f+grad time over f time against n, per tool
(the central plot of ADBench), with costad's counted ratio as the reference.

Every tool runs the same function families, each defined once over an array namespace
(`costad.functions`; the adapters are in `costad.study.peers`): the seed example vectorized
and as a Python loop over scalars, Rosenbrock, logistic regression, the MLP and the RNN.
Beside them, where a family has one, its gradient written by hand in plain NumPy (tool
"hand": the lecture's backpropagation for the MLPs), the floor reverse mode over NumPy is
measured against.

For each (family, n):

1. costad counts f (K) and its reverse-mode value and gradient (W): W/K is the reference
   ratio, exact;
2. every tool is checked before anything is timed: its value and gradient must equal
   costad's to 1e-10 relative to max(1, |reference|). A tool that is not installed is a
   ``skipped`` row, one whose loop budget the size exceeds too, and one that disagrees or
   raises is a ``failed`` row; each gives its reason;
3. the tools that passed are timed in interleaved rounds in this process (every tool's f
   and f+grad once, then again), every sample kept; each sample repeats the call until it
   lasts 5 ms. There are at least ``repeats`` rounds, and more, up to ``ROUNDS_FACTOR``
   times as many, while they fit in ``ROUNDS_SECONDS`` (`rounds_for`): on a shared machine
   a minimum over five samples of a 15 ms call still missed the quiet time by 30%. The
   ratio is min(f+grad) / min(f). Every tool computes on one thread
   (`costad.study.peers.adapters` says why and how).

Rows (strategy = the tool and variant: costad, hand, torch, jax-jit, jax-eager, autograd):
``ops`` (kind f: K with its closed form, kind f+grad: W) and ``counted_ratio`` for costad;
``rel_error`` (kind value, gradient) and ``agrees``; ``first_call`` (kind f, f+grad: the
untimed first call, which for jax-jit includes compilation); ``time`` (kind f, f+grad, one
row per round); ``ratio``; ``skipped`` and ``failed`` with the reason in the note.
"""
from __future__ import annotations

import contextlib
import time
from functools import partial

import numpy as np
import pandas as pd

from costad import count, counting, value_and_grad
from costad.functions import family

from .. import Settings, Task
from ..claims import claim
from ..fits import count_slope, time_slope
from ..measure import autorange, row, sample
from ..peers import FAMILY_NAMES, TOLERANCE, Adapter, all_adapters, check_agreement
from ..plotting import figure, finish
from ..recipes import skipped

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "grid", "tasks", "measure",
           "figures", "claims", "summary", "ratios", "TOOL_COLORS"]

NAME = "peers"
ORDER = 90
DESCRIPTION = ("costad beside PyTorch, JAX and HIPS autograd: f+grad time / f time against n, "
               "per tool (ADBench)")
TITLE = "costad beside PyTorch, JAX and HIPS autograd"
SENTENCE = ("The same functions in every installed tool, each tool's gradient checked equal to "
            "costad's (1e-10) before it is timed, the tools timed in interleaved rounds in one "
            "process, every tool on one thread (several thread pools in one process contend "
            "on a machine with few cores). The figure puts the time of value and gradient over the time of the value "
            "against n, one line per tool (ADBench's plot), beside costad's counted ratio W/K "
            "(exact, in operations). JAX's jit is timed after compilation (a warm-up call; "
            "outputs blocked on); f is each tool's plain evaluation (no graph recorded), and for "
            "costad plain NumPy. Tools that are not installed are named, not drawn.")

# Sizes: array families up to 10^6 inputs; the scalar loop (one Python-level operation per
# scalar operation in every tool) to 10^4, and each tool no further than its loop budget.
_N = {False: [10, 100, 1000, 10_000, 100_000, 1_000_000], True: [10, 1000]}
_LOOP_N = {False: [10, 100, 1000, 10_000], True: [10]}

TOOL_COLORS = {"costad": "tab:red", "hand": "tab:gray", "torch": "tab:orange",
               "jax-jit": "tab:blue", "jax-eager": "tab:cyan", "autograd": "tab:green"}
_OTHER_COLORS = ("tab:purple", "tab:brown", "tab:pink", "tab:olive")

# Timed rounds per (family, n): at least ``repeats``; more, up to ROUNDS_FACTOR times as many,
# while the rounds fit in ROUNDS_SECONDS (see `rounds_for`).
ROUNDS_FACTOR = 4
ROUNDS_SECONDS = 10.0

# The speed target of array code: reverse mode over the plain NumPy MLP of width 512, depth
# 4, batch 256 (family mlp-512) at most this many times f, measured beside PyTorch (P2).
MLP_TARGET = ("mlp-512", 2.8)

# costad's reverse mode against the gradient written by hand in the same NumPy (P3): its
# f+grad time at most this many times the hand-written one's, on every family with one.
# Measured on mlp-512 in a quiet run, costad took 39.1 ms against 35.5 ms. The composed graph
# makes about 8 more passes over the (256, 512) activations than the hand-written gradient,
# whose algebra folds them: the max's VJP, the loss's three contributions to z summed. The
# tape and dispatch cost about 1 ms, and the bias adds that NumPy elides in plain code
# allocate through the boxes. Counted, the two differ by 0.04%: these are memory passes.
HAND_OVERHEAD = 1.15


def _sizes(family_name: str, quick: bool) -> list[int]:
    return (_LOOP_N if family_name == "seed-loop" else _N)[quick]


def grid(settings: Settings) -> dict:
    tools = all_adapters()
    return {"n": _N[settings.quick], "loop_n": _LOOP_N[settings.quick],
            "families": list(FAMILY_NAMES), "rounds": settings.repeats,
            "tolerance": TOLERANCE,
            "tools": {tool.strategy: tool.version() for tool in tools},
            "timing": {tool.strategy: tool.timing_note for tool in tools},
            "threads": {tool.strategy: tool.threads_note() for tool in tools
                        if tool.missing() is None}}


def tasks(settings: Settings) -> list[Task]:
    out = []
    for family_name in FAMILY_NAMES:
        fam = family(family_name)
        for n in dict.fromkeys(fam.valid_n(n) for n in _sizes(family_name, settings.quick)):
            out.append(Task(f"{family_name} n={n}",
                            partial(measure, family_name, n, settings)))
    return out


def measure(family_name: str, n: int, settings: Settings,
            tools: list[Adapter] | None = None) -> list[dict]:
    """Every row of one (family, n): costad's counts, each tool's check, its timings."""
    tools = all_adapters() if tools is None else tools
    fam = family(family_name)
    f, x0 = fam.build(n, settings.seed)
    base = dict(experiment=NAME, function=family_name, n=n)
    K = count(f, x0).total
    with counting() as W:
        reference_value, reference_grad = value_and_grad(f)(x0)
    own = dict(base, strategy="costad")
    rows = [row(own, "ops", K, "ops", kind="f", predicted=fam.K(n) if fam.K else None),
            row(own, "ops", W.total, "ops", kind="f+grad"),
            row(own, "counted_ratio", W.total / K, "1", kind="f+grad/f",
                note="W/K: value and gradient over f, reverse mode, counted")]
    timed = []
    # Every tool on one thread (see costad.study.peers.adapters), until the timing ends.
    with contextlib.ExitStack() as threads:
        for tool in tools:
            result = _check(tool, family_name, n, settings.seed, x0, base, reference_value,
                            reference_grad, threads)
            rows += result[0]
            if result[1] is not None:
                timed.append((tool, result[1]))
        rows += _time_rounds(timed, base, settings.repeats)
    return rows


def _check(tool: Adapter, family_name: str, n: int, seed: int, x0, base: dict,
           reference_value, reference_grad, threads: contextlib.ExitStack):
    """(rows, prepared calls or None): the gate of one tool at one (family, n). The tool's
    one-thread context enters ``threads`` once the tool is imported."""
    own = dict(base, strategy=tool.strategy)
    if not tool.applies_to(family_name):
        return [], None
    reason = tool.missing()
    if reason:
        return skipped(base, tool.strategy, reason), None
    if family_name == "seed-loop" and n > tool.loop_budget:
        return skipped(base, tool.strategy,
                       f"scalar loop at n = {n} above this tool's budget of n = "
                       f"{tool.loop_budget} ({tool.loop_reason or 'time'})"), None
    try:
        f, x = family(family_name).build(n, seed, tool.namespace())
        threads.enter_context(tool.one_thread())
        if not np.array_equal(x, x0):
            return _failed(own, "the family built another starting point for this tool"), None
        prepared = tool.prepare_family(family_name, n, seed, f, x)
        start = time.perf_counter()
        value_error, grad_error, reason = check_agreement(prepared, reference_value,
                                                          reference_grad)
        first_fg = time.perf_counter() - start
        start = time.perf_counter()
        prepared.f()
        first_f = time.perf_counter() - start
    except Exception as err:                  # the tool's own error: a failed row, not a crash
        return _failed(own, _raised(err)), None
    rows = [row(own, "rel_error", value_error, "1", kind="value"),
            row(own, "rel_error", grad_error, "1", kind="gradient"),
            row(own, "agrees", int(reason is None), "bool", note=f"tolerance {TOLERANCE:g}")]
    if reason:
        return rows + _failed(own, reason), None
    first_note = ("includes compilation and the agreement check" if tool.strategy == "jax-jit"
                  else "includes the agreement check")
    rows += [row(own, "first_call", first_fg, "s", kind="f+grad", note=first_note),
             row(own, "first_call", first_f, "s", kind="f")]
    return rows, prepared


def _raised(err: Exception, when: str = "") -> str:
    """A tool's exception as a reason: its type and its message on one line (shortened)."""
    message = " ".join(str(err).split())
    return f"raised {type(err).__name__}{' ' + when if when else ''}: {message[:300]}"


def _failed(own: dict, reason: str) -> list[dict]:
    return [row(own, "failed", 1, "bool", note=reason)]


def rounds_for(repeats: int, first_round_seconds: float) -> int:
    """How many timed rounds: ``repeats`` at least; as many as fit in ROUNDS_SECONDS at the
    first round's pace, up to ROUNDS_FACTOR * ``repeats``."""
    if first_round_seconds <= 0:
        return ROUNDS_FACTOR * repeats
    fit = int(ROUNDS_SECONDS // first_round_seconds)
    return max(repeats, min(ROUNDS_FACTOR * repeats, fit))


def _time_rounds(timed: list, base: dict, repeats: int) -> list[dict]:
    """Interleaved rounds (`rounds_for` says how many): every tool's f and f+grad once,
    then again; all samples kept."""
    calls, failed = {}, {}
    for tool, prepared in timed:
        try:                                  # each sample repeats a call until it lasts 5 ms
            for kind, fn in (("f", prepared.f), ("f+grad", prepared.fg)):
                calls[tool.strategy, kind] = (fn, autorange(fn)[0])
        except Exception as err:              # a tool breaking mid-way: reported, not raised
            failed[tool.strategy] = _raised(err, "while timed")
    samples = {key: [] for key in calls}
    rounds, done, start = repeats, 0, time.perf_counter()
    while done < rounds:
        for key, (fn, loops) in calls.items():
            if key[0] in failed:
                continue
            try:
                samples[key].append(sample(fn, loops))
            except Exception as err:
                failed[key[0]] = _raised(err, "while timed")
        done += 1
        if done == 1:
            rounds = rounds_for(repeats, time.perf_counter() - start)
    rows = []
    for tool, _ in timed:
        own = dict(base, strategy=tool.strategy)
        if tool.strategy in failed:
            rows += _failed(own, failed[tool.strategy])
            continue
        for kind in ("f", "f+grad"):
            loops = calls[tool.strategy, kind][1]
            rows += [row(own, "time", t, "s", kind=kind, replicate=i, note=f"loops={loops}")
                     for i, t in enumerate(samples[tool.strategy, kind])]
        ratio = min(samples[tool.strategy, "f+grad"]) / min(samples[tool.strategy, "f"])
        rows.append(row(own, "ratio", ratio, "1", kind="f+grad/f",
                        note=f"minimum over {done} interleaved rounds"))
    return rows


# ------------------------------------------------------------------------------ report

def _families(df: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(df.function))
    return [f for f in FAMILY_NAMES if f in present] + [f for f in present
                                                        if f not in FAMILY_NAMES]


def _tools(df: pd.DataFrame) -> list[str]:
    from ..peers import ADAPTERS
    known = [cls.strategy for cls in ADAPTERS]
    present = list(dict.fromkeys(df.strategy))
    return [t for t in known if t in present] + [t for t in present if t not in known]


def _color(tool: str, tools: list[str]):
    if tool in TOOL_COLORS:
        return TOOL_COLORS[tool]
    others = [t for t in tools if t not in TOOL_COLORS]
    return _OTHER_COLORS[others.index(tool) % len(_OTHER_COLORS)]


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Measured ratios (one row per family, tool and n) and costad's counted ratio (tool
    "costad (counted)"): columns function, tool, n, ratio."""
    measured = df[df.metric == "ratio"]
    counted = df[df.metric == "counted_ratio"]
    out = pd.concat([
        pd.DataFrame({"function": measured.function, "tool": measured.strategy,
                      "n": measured.n, "ratio": measured.value.astype(float)}),
        pd.DataFrame({"function": counted.function, "tool": "costad (counted)",
                      "n": counted.n, "ratio": counted.value.astype(float)})])
    return out.sort_values(["function", "tool", "n"]).reset_index(drop=True)


def _left_out(df: pd.DataFrame) -> dict[str, str]:
    """Tools never timed anywhere in ``df``, with the first reason given."""
    timed = set(df[df.metric == "ratio"].strategy)
    out = {}
    for _, r in df[df.metric.isin(["skipped", "failed"])].iterrows():
        if r.strategy not in timed and r.strategy not in out:
            out[r.strategy] = r.note
    return out


def _panels(n_families: int):
    fig = figure((13, 7.5))
    cols = 3
    rows_ = max(1, -(-n_families // cols))
    axes = np.atleast_1d(fig.subplots(rows_, cols)).ravel()
    for ax in axes[n_families:]:
        ax.set_visible(False)
    return fig, axes


def _footer(fig, df: pd.DataFrame) -> None:
    left_out = _left_out(df)
    if left_out:
        text = "; ".join(f"{tool}: {reason}" for tool, reason in left_out.items())
        fig.text(0.01, 0.005, "Not drawn: " + text, fontsize=7, ha="left", va="bottom",
                 wrap=True)


def _with_slope(label: str, slope) -> str:
    """A legend entry with the fitted exponent, when there are two sizes to fit."""
    return f"{label} ({slope.label()})" if slope.points >= 2 else label


def ratio_figure(df: pd.DataFrame):
    """ADBench's plot: min time(f + grad) / min time(f) against n, one line per tool, per
    family, with costad's counted W/K dashed as the reference."""
    families, tools = _families(df), _tools(df)
    r = ratios(df)
    fig, axes = _panels(len(families))
    for ax, fam in zip(axes, families):
        d = r[r.function == fam]
        for tool in tools:
            t = d[d.tool == tool].sort_values("n")
            if t.empty:
                continue
            ax.loglog(t.n.astype(float), t.ratio, marker="o", markersize=4,
                      color=_color(tool, tools),
                      label=_with_slope(tool, count_slope(t.n, t.ratio)))
        c = d[d.tool == "costad (counted)"].sort_values("n")
        if len(c):
            ax.loglog(c.n.astype(float), c.ratio, linestyle="--", marker="x", color="black",
                      linewidth=1, label=_with_slope("costad counted W/K (ops)",
                                                     count_slope(c.n, c.ratio)))
        finish(ax, "n (number of inputs)", "time of f+grad / time of f (ratio)", fam)
    fig.suptitle("f+grad time over f time, per tool (minimum over interleaved rounds); "
                 "dashed: costad's counted ratio", fontsize=11)
    _footer(fig, df)
    return fig


def time_figure(df: pd.DataFrame):
    """Absolute times against n per family: f+grad solid (median, min-max band; the slope
    with its bootstrap interval in the legend), f dotted."""
    families, tools = _families(df), _tools(df)
    times = df[df.metric == "time"].copy()
    times["value"] = times["value"].astype(float)
    fig, axes = _panels(len(families))
    for ax, fam in zip(axes, families):
        d = times[times.function == fam]
        for tool in tools:
            color = _color(tool, tools)
            for kind, style in (("f+grad", "-"), ("f", ":")):
                t = d[(d.strategy == tool) & (d.kind == kind)]
                if t.empty:
                    continue
                stats = t.groupby("n")["value"].agg(["median", "min", "max"]).sort_index()
                xs = stats.index.astype(float)
                label = None
                if kind == "f+grad":
                    label = _with_slope(f"{tool} f+grad", time_slope(t.n, t.value))
                ax.loglog(xs, stats["median"], linestyle=style, marker="o", markersize=3,
                          color=color, label=label)
                if kind == "f+grad":
                    ax.fill_between(xs, stats["min"], stats["max"], color=color, alpha=0.15,
                                    linewidth=0)
        finish(ax, "n (number of inputs)", "time per call (s)", f"{fam} (dotted: f alone)")
    fig.suptitle("time of value and gradient (solid) and of the value (dotted), per tool",
                 fontsize=11)
    _footer(fig, df)
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"peers_ratio": partial(ratio_figure, df), "peers_times": partial(time_figure, df)}


SUMMARY_COLUMNS = ["family", "n", "tool", "f (s)", "f+grad (s)", "f+grad / f", "note"]


def summary(df: pd.DataFrame, meta: dict | None = None) -> pd.DataFrame:
    """At each family's largest n: costad's counted ratio, then each tool's minimum times
    and their ratio, or why it was not timed (the README's table)."""
    versions = ((meta or {}).get("grid") or {}).get("tools") or {}
    absent = _not_installed(df)
    tools = [t for t in _tools(df) if t not in absent]
    out = []
    for fam in _families(df):
        d = df[df.function == fam]
        n = int(d.n.max())
        d = d[d.n == n]
        counted = d[d.metric == "counted_ratio"]
        if len(counted):
            out.append([fam, n, "costad, counted", None, None, float(counted.value.iloc[0]),
                        "W/K in operations, exact"])
        for tool in tools:
            t = d[d.strategy == tool]
            if t.empty or set(t.metric) <= {"ops", "counted_ratio"}:
                continue
            name = _versioned(tool, versions.get(tool))
            ratio = t[t.metric == "ratio"]
            if len(ratio):
                f_min, fg_min = _min_time(t, tool, "f"), _min_time(t, tool, "f+grad")
                out.append([fam, n, name, f_min, fg_min, float(ratio.value.iloc[0]),
                            _timed_note(t)])
                continue
            reasons = t[t.metric.isin(["failed", "skipped"])]
            note = (f"{reasons.metric.iloc[0]}: {reasons.note.iloc[0]}" if len(reasons)
                    else "not timed")
            out.append([fam, n, name, None, None, None, note])
    out += [["every family", None, tool, None, None, None, reason]
            for tool, reason in absent.items()]
    table = pd.DataFrame(out, columns=SUMMARY_COLUMNS)
    table["n"] = table["n"].astype("Int64")
    return table


def _not_installed(df: pd.DataFrame) -> dict[str, str]:
    """Tools skipped everywhere because they are not installed, with the reason."""
    out = {}
    for tool, reason in _left_out(df).items():
        rows = df[df.strategy == tool]
        if (rows.metric == "skipped").all() and rows.note.str.startswith("not installed").all():
            out[tool] = reason
    return out


def _versioned(tool: str, version) -> str:
    if not version or str(version).startswith("not installed"):
        return tool
    return f"{tool} {version}"


def _timed_note(t: pd.DataFrame) -> str:
    if t.strategy.iloc[0] != "jax-jit":
        return ""
    first = t[(t.metric == "first_call") & (t.kind == "f+grad")]
    seconds = f" (first call {float(first.value.iloc[0]):.3g} s)" if len(first) else ""
    return "compilation excluded" + seconds


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    checked = df[df.metric == "agrees"]
    peers = checked[checked.strategy != "costad"]
    failed = df[df.metric == "failed"]
    left_out = _left_out(df)
    tools = sorted(set(peers.strategy))
    measured = (f"{int(peers.value.sum())}/{len(peers)} (family, n) checks agree"
                f" ({', '.join(tools)})" if tools else "no tool installed beside costad")
    if len(failed):
        measured += "; failed: " + ", ".join(sorted(set(failed.strategy)))
    if left_out:
        measured += "; not timed: " + ", ".join(left_out)
    return [claim("P1", "every tool computes the same value and gradient as costad on the "
                  "same function", f"agreement to {TOLERANCE:g} relative to max(1, |g|)",
                  measured, len(failed) == 0)] + _mlp_target(df) + _over_hand(df)


def _mlp_target(df: pd.DataFrame) -> list[dict]:
    """P2, the speed target of array code (`MLP_TARGET`): costad's measured f+grad / f on
    the wide MLP, beside the hand-written NumPy gradient's and every tool's of the same run.
    No row when the run did not time costad on that family."""
    name, target = MLP_TARGET
    measured = df[(df.function == name) & (df.metric == "ratio")]
    if not (measured.strategy == "costad").any():
        return []
    n = int(measured[measured.strategy == "costad"].n.max())   # costad's largest n
    at_n = measured[measured.n == n]
    ratio = dict(zip(at_n.strategy, at_n.value.astype(float)))
    text = "; ".join(f"{tool} {ratio[tool]:.2f}" for tool in _tools(at_n))
    return [claim("P2", f"reverse mode over plain NumPy on {name} (n = {n}) costs at most "
                  f"{target:g} times f, measured beside the other tools in one run",
                  f"costad f+grad / f <= {target:g}", text, ratio["costad"] <= target)]


def _min_time(d: pd.DataFrame, tool: str, kind: str) -> float:
    times = d[(d.strategy == tool) & (d.metric == "time") & (d.kind == kind)]
    return float(times.value.astype(float).min()) if len(times) else float("nan")


def _over_hand(df: pd.DataFrame) -> list[dict]:
    """P3: at the largest n where a family was timed both in costad and with its gradient
    written by hand, costad's minimum f+grad time over the hand-written one's (the same NumPy
    calls without a tape: what costad's tracing and rules add). No row when no family was."""
    ratio_rows = df[df.metric == "ratio"]
    parts, overs = [], []
    for fam in _families(df):
        d = ratio_rows[ratio_rows.function == fam]
        both = set(d[d.strategy == "costad"].n) & set(d[d.strategy == "hand"].n)
        if not both:
            continue
        n = max(both)
        at_n = df[(df.function == fam) & (df.n == n)]
        costad_time = _min_time(at_n, "costad", "f+grad")
        hand_time = _min_time(at_n, "hand", "f+grad")
        if not (costad_time > 0 and hand_time > 0):       # no time rows (NaN) or broken ones
            continue
        over = costad_time / hand_time
        overs.append(over)
        parts.append(f"{fam} (n = {n}) {over:.2f}")
    if not parts:
        return []
    return [claim("P3", "costad's reverse mode costs little more than the gradient written by "
                  "hand in the same NumPy (the floor without fused kernels)",
                  f"f+grad time / hand-written f+grad time <= {HAND_OVERHEAD:.2f}",
                  "; ".join(parts), all(over <= HAND_OVERHEAD for over in overs))]
