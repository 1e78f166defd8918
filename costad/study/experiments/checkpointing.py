"""Memory against recomputation: a recurrent net's loop of T steps reversed by plain reverse
mode, by revolve's binomial checkpointing with s snapshots, and by sqrt segments (issue 14).

The loop is the lecture's recurrent net, h_t = tanh(W h_{t-1} + U x_t + b), its parameters
shared by every step, written with `costad.scan`; the loss is <v, h_T>. For each loop length T
and each strategy (``plain``: ``checkpoints=None``; ``revolve``: ``checkpoints=s``, the
snapshots s in ``param``; ``sqrt``: ``checkpoints="sqrt"``) a point records:

- ``calls`` (kind ``scan_step``): the counted step evaluations, ``Cost.calls["scan_step"]``,
  against the closed form (``predicted``): T + T(T, s) for revolve, T + k(ceil(T/k) - 1)
  with k = ceil(sqrt(T)) for sqrt, T for plain;
- the counted operations (their total predicted for revolve and sqrt as the plain loop's
  total plus one step's forward operations per extra evaluation, exactly), ``tape_bytes``
  (``Cost.stored_bytes``) and ``sweep_peak_bytes`` (``Cost.peak_bytes``);
- ``peak_snapshots``, ``peak_tapes`` and ``peak_states``: what the schedule holds at once
  (`costad.checkpointing.Executor` run on the same schedule, no values);
- on executed points: ``rel_error`` and ``agrees`` against the plain gradient, the time of
  ``value_and_grad`` (``time``, one row per sample) and the measured peak memory
  (``peak_bytes``, tracemalloc).

Loops up to the measured sizes run on concrete inputs; longer ones are counted on abstract
inputs (`costad.ShapeDtype` parameters: no arithmetic runs, but every step evaluation of the
schedule does, so a point costs about as many step evaluations as it counts). Points whose
step evaluations would exceed a stated budget are recorded as ``skipped`` rows with the
reason: kind ``measure`` (counted, not timed) or kind ``count`` (not run at all).
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

import costad
from costad import checkpointing as cp
from costad.loops import STEP

from .. import Settings, Task
from ..claims import claim
from ..fits import count_slope, time_slope
from ..frames import metric_frame, times_frame
from ..measure import (count_call, count_rows, peak_bytes, relative_error, row, time_call,
                       time_rows)
from ..plotting import BYTES_LABEL, TIME_LABEL, figure, finish, theory
from ..recipes import TOLERANCE

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "grid", "tasks", "figures",
           "claims", "snapshot_values", "step_ops", "evaluations", "rnn_problem", "rnn_loss",
           "frontier_figure", "memory_figure", "plain_memory", "STRATEGIES", "STATE", "INPUTS",
           "BYTES_PER_STEP"]

NAME = "checkpointing"
ORDER = 65
DESCRIPTION = ("RNN loop of T steps reversed with s snapshots: step evaluations T + T(T, s) "
               "(revolve) against memory; sqrt segments; plain")
TITLE = "Memory: checkpointing against revolve's optimum"
SENTENCE = (
    "Plain reverse mode stores every step of the loop, so its memory grows linearly with T. "
    "Revolve's binomial schedule keeps s snapshots and reverses the loop in T + T(T, s) step "
    "evaluations, the fewest possible with s snapshots and one step's tape; the sqrt rule "
    "keeps about sqrt(T) snapshots but also a whole segment of tapes, which is why it is "
    "compared with revolve in bytes, not in snapshots. Hollow markers are counted on "
    "abstract inputs; measured memory (tracemalloc) includes Python's objects and garbage "
    "not yet collected.")
STRATEGIES = ("plain", "revolve", "sqrt")
STATE, INPUTS = 32, 4          # hidden state h (the carry) and input x_t sizes


def grid(settings: Settings) -> dict:
    """Loop lengths (``measured_T`` run, ``counted_T`` counted on abstract inputs), the
    snapshots swept (every s up to ``every_s_up_to``, else ``snapshots`` below T, and s = T)
    and the budgets in step evaluations per point."""
    if settings.quick:
        return {"state": STATE, "inputs": INPUTS, "measured_T": [4, 12],
                "counted_T": [100, 1000], "every_s_up_to": 12,
                "snapshots": [1, 2, 3, 10, 100], "measure_budget": 300,
                "count_budget": 1000}
    return {"state": STATE, "inputs": INPUTS, "measured_T": [10, 30, 100, 1000],
            "counted_T": [10000], "every_s_up_to": 30,
            "snapshots": [1, 2, 3, 5, 10, 30, 100, 1000],
            "measure_budget": 3000, "count_budget": 30000}


def snapshot_values(T: int, g: dict) -> list[int]:
    """The snapshots s swept at loop length T: always 1 and T, every s for short loops."""
    if T <= g["every_s_up_to"]:
        return list(range(1, T + 1))
    return sorted({s for s in g["snapshots"] if s < T} | {1, T})


def step_ops(state: int = STATE, inputs: int = INPUTS) -> int:
    """Counted operations of one step's evaluation, tanh(W h + U x + b): W h costs H^2 mul
    and H(H-1) add, U x H D mul and H(D-1) add, the two sums 2H add, tanh H."""
    H, D = state, inputs
    return 2 * H * H + 2 * H * D + H


def evaluations(strategy: str, T: int, s: int | None = None) -> int:
    """Step evaluations of value_and_grad through the loop, in closed form."""
    if strategy == "plain":
        return T
    if strategy == "sqrt":
        return T + cp.sqrt_advances(T)
    return T + cp.revolve_advances(T, s)


def _schedule(strategy: str, T: int, s: int | None):
    if strategy == "plain":
        return cp.store_all_schedule(T)
    if strategy == "sqrt":
        return cp.sqrt_schedule(T)
    return cp.binomial_schedule(T, s)


def rnn_problem(T: int, seed: int):
    """Parameters [W, U, b, v] and inputs xs (T rows) of the recurrent net."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((STATE, STATE)) / np.sqrt(STATE),
              rng.standard_normal((STATE, INPUTS)) / np.sqrt(INPUTS),
              0.1 * rng.standard_normal(STATE), rng.standard_normal(STATE) / np.sqrt(STATE)]
    xs = np.random.default_rng(seed + T).standard_normal((T, INPUTS))
    return params, xs


def rnn_loss(params, xs, checkpoints):
    """<v, h_T> with h_t = tanh(W h_{t-1} + U x_t + b), h_0 = 0, as a `costad.scan`."""
    W, U, b, v = params

    def step(h, x):                                # closes over the shared parameters
        return np.tanh(W @ h + U @ x + b), None

    h, _ = costad.scan(step, np.zeros(W.shape[0]), xs, checkpoints=checkpoints)
    return v @ h


def _checkpoints(strategy: str, s: int | None):
    return {"plain": None, "sqrt": "sqrt"}.get(strategy, s)


# The plain loop's (cost, gradient) per (T, seed, abstract): the reference of every strategy
# at that T. Each point of the sweep is its own task, and the plain point runs first and
# leaves its result here, so that no plain loop is run twice (at l = 10^4 one costs seconds).
_REFERENCES: dict = {}


def _reference(T: int, seed: int, abstract: bool, result=None):
    """The plain loop's counted cost and gradient (None when abstract): ``result`` when
    given (the plain point's own), else the one kept, else computed now."""
    key = (T, seed, abstract)
    if result is None:
        kept = _REFERENCES.get(key)
        if kept is not None:
            return kept
        params, xs = rnn_problem(T, seed)
        inputs = [costad.ShapeDtype(p.shape) for p in params] if abstract else params
        vg = costad.value_and_grad(lambda p: rnn_loss(p, xs, None))
        cost, (_, gradient) = count_call(lambda: vg(inputs))
        result = cost, gradient
    value = (result[0], None if abstract else result[1])
    if len(_REFERENCES) >= 4:                      # a sweep needs one length at a time
        _REFERENCES.clear()
    _REFERENCES[key] = value
    return value


def _with_note(rows: list[dict], note: str) -> list[dict]:
    for r in rows:
        r["note"] = r["note"] or note
    return rows


def _run(T: int, strategy: str, s: int | None, abstract: bool, settings: Settings) -> list[dict]:
    g = grid(settings)
    params, xs = rnn_problem(T, settings.seed)
    n = sum(p.size for p in params)
    base = dict(experiment=NAME, function="rnn", strategy=strategy, n=n, T=T,
                param=float(s) if s is not None else None)
    expected = evaluations(strategy, T, s)
    if expected > g["count_budget"]:
        return [row(base, "skipped", 1, "bool", kind="count",
                    note=f"T + advances = {expected} step evaluations exceed the counting "
                         f"budget of {g['count_budget']}")]
    inputs = [costad.ShapeDtype(p.shape) for p in params] if abstract else params
    vg = costad.value_and_grad(lambda p: rnn_loss(p, xs, _checkpoints(strategy, s)))
    cost, (_, gradient) = count_call(lambda: vg(inputs))
    plain_cost, reference = _reference(T, settings.seed, abstract,
                                       (cost, gradient) if strategy == "plain" else None)
    predicted_total = (None if strategy == "plain"
                       else plain_cost.total + (expected - T) * step_ops())
    rows = count_rows(base, cost, predicted_total)
    # The step's evaluations are its calls, already among count_rows' calls per primitive:
    # that row carries revolve's prediction (one row per metric and kind, never two).
    step_rows = [r for r in rows if r["metric"] == "calls" and r["kind"] == STEP]
    if not step_rows:
        step_rows = [row(base, "calls", 0, "count", kind=STEP)]
        rows += step_rows
    step_rows[0]["predicted"] = expected
    stats = cp.Executor(T).run(_schedule(strategy, T, s)).finish()
    for metric in ("peak_snapshots", "peak_tapes", "peak_states"):
        rows.append(row(base, metric, getattr(stats, metric), "count", note="schedule"))
    if abstract:
        _with_note(rows, "abstract")
        return rows + [row(base, "skipped", 1, "bool", kind="measure",
                           note="counted on abstract inputs (costad.ShapeDtype), not run")]
    if strategy != "plain":                       # plain is the reference itself
        error = relative_error(gradient, reference)
        rows.append(row(base, "rel_error", error, "1", note="against plain reverse mode"))
        rows.append(row(base, "agrees", int(error <= TOLERANCE["reverse"]), "bool",
                        note=f"tolerance {TOLERANCE['reverse']:g}"))
    if expected > g["measure_budget"]:
        return rows + [row(base, "skipped", 1, "bool", kind="measure",
                           note=f"time and memory not measured: {expected} step evaluations "
                                f"exceed the measuring budget of {g['measure_budget']}")]
    call = partial(vg, params)
    # The counted run above has just run the same code: it is the warm-up.
    rows += time_rows(base, time_call(call, settings.repeats, warmup=0))
    rows.append(row(base, "peak_bytes", peak_bytes(call), "bytes", note="tracemalloc"))
    return rows


def tasks(settings: Settings) -> list[Task]:
    g = grid(settings)
    out = []
    for abstract, lengths in ((False, g["measured_T"]), (True, g["counted_T"])):
        for T in lengths:
            points = [("plain", None)] + [("revolve", s) for s in snapshot_values(T, g)]
            points.append(("sqrt", None))
            for strategy, s in points:
                label = f"T={T} {strategy}" + (f" s={s}" if s is not None else "")
                out.append(Task(label, partial(_run, T, strategy, s, abstract, settings)))
    return out


# ------------------------------------------------------------------------------ report

def _points(df: pd.DataFrame, metric: str, kind: str = "") -> pd.DataFrame:
    """One metric's rows as (strategy, T, s, value, abstract), values as floats; revolve
    with s = T is also the curve ``revolve s = l`` (``curve`` column)."""
    frame = metric_frame(df, metric, abstract=None)
    if kind:
        frame = frame[frame.kind == kind]
    out = pd.DataFrame({"strategy": frame.strategy.to_numpy(),
                        "T": frame["T"].astype(float).to_numpy(),
                        "s": frame["param"].astype(float).to_numpy(),
                        "value": frame.value.to_numpy(),
                        "abstract": (frame.note == "abstract").to_numpy()})
    out["curve"] = out.strategy.where((out.strategy != "revolve") | (out.s != out["T"]),
                                      "revolve s = l")
    return out.sort_values(["strategy", "T", "s"]).reset_index(drop=True)


def _colors(lengths) -> dict:
    """One colour per loop length (viridis, fixed order)."""
    from matplotlib import colormaps
    cmap = colormaps["viridis"]
    lengths = sorted(lengths)
    span = max(len(lengths) - 1, 1)
    return {T: cmap(0.85 * i / span) for i, T in enumerate(lengths)}


def _curve(ax, xs, ys, abstract, color, marker="o", linestyle="-", label=None,
           markersize=6) -> None:
    """Points joined by a line: filled markers and a solid line where executed; hollow
    markers and a dotted line where counted on abstract inputs (docs/design.md section 4)."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    abstract = np.asarray(abstract, bool)
    if not len(xs):
        return
    run = ~abstract
    if run.any():
        ax.plot(xs[run], ys[run], linestyle=linestyle, marker=marker, color=color,
                markersize=markersize, label=label)
        label = None
    if abstract.any():
        # the dotted part starts at the last executed point, so the curve stays joined
        start = np.flatnonzero(run)[-1:] if run.any() else np.array([], int)
        part = np.concatenate([start, np.flatnonzero(abstract)])
        ax.plot(xs[part], ys[part], linestyle=":" if linestyle != "none" else "none",
                color=color, label=label)
        ax.plot(xs[abstract], ys[abstract], linestyle="none", marker=marker, color=color,
                markersize=markersize, markerfacecolor="none")


def _legend(ax, entries) -> None:
    """A legend of proxy entries: (label, dict of Line2D keywords)."""
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], **{"color": "gray", **style}) for _, style in entries]
    ax.legend(handles, [label for label, _ in entries], fontsize=7, loc="best")


def _frontier_lengths(evals: pd.DataFrame, most: int = 4) -> list[int]:
    """The loop lengths drawn on the frontier: those with two or more counted revolve
    points, the longest ``most`` of them."""
    counts = evals[evals.strategy == "revolve"].groupby("T").size()
    return [int(T) for T in sorted(counts[counts >= 2].index)][-most:]


def _revolve_line(T: int) -> tuple[np.ndarray, np.ndarray]:
    """Revolve's T(l, s) at l = T, for every s up to 50, then on a log grid up to T."""
    s = np.unique(np.concatenate([np.arange(1, min(T, 50) + 1),
                                  np.round(np.logspace(0, np.log10(T), 120)).astype(int)]))
    return s.astype(float), np.array([cp.revolve_advances(T, int(v)) for v in s], float)


def _loglog(*axes) -> None:
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")


def _label(ax, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)


def frontier_figure(df: pd.DataFrame):
    """The time-memory frontier at a few loop lengths l: extra step evaluations against
    snapshots s (revolve's T(l, s) dashed, the sqrt rule marked at its snapshots and at the
    states it holds), the same against counted peak bytes, and measured memory and time
    against s."""
    evals = _points(df, "calls", STEP)
    evals["extra"] = evals.value - evals["T"]
    snaps, states = _points(df, "peak_snapshots"), _points(df, "peak_states")
    peak = _points(df, "sweep_peak_bytes")
    fig = figure((12, 9.5))
    (ax_s, ax_b), (ax_m, ax_t) = fig.subplots(2, 2)
    lengths = _frontier_lengths(evals)
    colors = _colors(set(evals["T"].astype(int)))       # one colour per l in every panel
    for T in lengths:
        color, at = colors[T], (lambda frame, strategy: frame[(frame.strategy == strategy)
                                                              & (frame["T"] == T)])
        rev = at(evals, "revolve")
        _curve(ax_s, rev.s, rev.extra, rev.abstract, color, linestyle="none")
        ax_s.plot(*_revolve_line(T), linestyle="--", color=color, linewidth=1)
        sq, sq_snap, sq_state = at(evals, "sqrt"), at(snaps, "sqrt"), at(states, "sqrt")
        if len(sq) and len(sq_snap) and len(sq_state):
            # no snapshot at all (l <= 2) is drawn at s = 1 on the log axis
            xs = [max(float(sq_snap.value.iloc[0]), 1.0), float(sq_state.value.iloc[0])]
            extra = float(sq.extra.iloc[0])
            fill = "none" if bool(sq.abstract.iloc[0]) else color
            ax_s.plot(xs, [extra, extra], color=color, linestyle=":", linewidth=1)
            ax_s.plot(xs[:1], [extra], marker="*", markersize=12, color=color,
                      markerfacecolor=fill, linestyle="none")
            ax_s.plot(xs[1:], [extra], marker="X", markersize=8, color=color,
                      markerfacecolor=fill, linestyle="none")
        for strategy, marker, line, size in (("revolve", "o", "-", 6), ("sqrt", "*", "none", 12),
                                             ("plain", "s", "none", 7)):
            both = at(evals, strategy).merge(at(peak, strategy), on=["T", "s", "abstract"],
                                             suffixes=("", "_bytes"))
            both = both.sort_values("value_bytes")
            _curve(ax_b, both.value_bytes, both.value / T, both.abstract, color, marker, line,
                   markersize=size)
    _loglog(ax_s, ax_b)
    by_length = [(f"l = {T}", {"color": colors[T], "marker": "o", "linestyle": "none"})
                 for T in lengths]
    hollow = ("counted on abstract inputs", {"marker": "o", "markerfacecolor": "none",
                                             "linestyle": "none"})
    _legend(ax_s, by_length + [
        ("revolve's optimum T(l, s) = r l - β(s+1, r-1)", {"linestyle": "--"}),
        ("sqrt rule, at its snapshots", {"marker": "*", "markersize": 10, "linestyle": "none"}),
        ("sqrt rule, at the states it holds (+ a segment's tapes)",
         {"marker": "X", "linestyle": "none"}), hollow])
    _label(ax_s, "snapshots s (stored states)", "extra step evaluations (count)",
           "recomputation against snapshots (counted: markers)")
    _legend(ax_b, by_length + [
        ("revolve, s = 1 ... l", {"marker": "o"}),
        ("sqrt rule", {"marker": "*", "markersize": 10, "linestyle": "none"}),
        ("plain (stores every step)", {"marker": "s", "linestyle": "none"}), hollow])
    _label(ax_b, f"counted peak memory, Cost.peak_bytes ({BYTES_LABEL})",
           "step evaluations per step (evaluations / l)",
           "the same in bytes (floor: the sweep outside the loop)")
    _measured_against_s(df, ax_m, ax_t, colors)
    fig.suptitle(f"checkpointing an RNN loop of l steps (state {STATE}, input {INPUTS})",
                 fontsize=11)
    return fig


def _measured_against_s(df: pd.DataFrame, ax_m, ax_t, colors: dict) -> None:
    """Measured peak memory (tracemalloc) and time against s at the executed lengths, the
    plain loop and the sqrt rule as horizontal lines; time's theory: the plain loop's time
    per step x (l + T(l, s)), over the measured s."""
    measured, times = _points(df, "peak_bytes"), times_frame(df)
    lengths = sorted(set(measured["T"].astype(int)) & set(colors))
    for T in lengths:
        color, m = colors[T], measured[measured["T"] == T]
        rev = m[m.strategy == "revolve"]
        ax_m.plot(rev.s, rev.value, marker="o", color=color)
        for strategy, style in (("plain", "--"), ("sqrt", ":")):
            v = m[m.strategy == strategy]
            if len(v):
                ax_m.axhline(float(v.value.iloc[0]), color=color, linestyle=style, linewidth=1)
        t = times[times["T"] == T]
        rt = t[t.strategy == "revolve"]
        if len(rt):
            stats = rt.groupby("param")["value"].agg(["median", "min", "max"]).sort_index()
            ax_t.plot(stats.index, stats["median"], marker="o", color=color)
            ax_t.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.15,
                              linewidth=0)
            plain_t = t[t.strategy == "plain"]
            if len(plain_t):
                s_line, advances = _revolve_line(T)
                shown = (s_line >= stats.index.min()) & (s_line <= stats.index.max())
                per_step = float(np.median(plain_t.value)) / T
                ax_t.plot(s_line[shown], per_step * (T + advances[shown]), linestyle="--",
                          color=color, linewidth=1)
    _loglog(ax_m, ax_t)
    by_length = [(f"l = {T}", {"color": colors[T], "marker": "o"}) for T in lengths]
    _legend(ax_m, by_length + [("plain", {"linestyle": "--"}), ("sqrt rule", {"linestyle": ":"})])
    _label(ax_m, "snapshots s (stored states)",
           f"measured peak memory, tracemalloc ({BYTES_LABEL})",
           "measured memory of value_and_grad (revolve: markers)")
    _legend(ax_t, by_length + [("theory: plain's time per step x (l + T(l, s))",
                                {"linestyle": "--"})])
    _label(ax_t, "snapshots s (stored states)", TIME_LABEL,
           "measured time of value_and_grad (median, min-max)")


# the curves drawn against l: (curve, colour)
CURVES = {"plain": "tab:red", "sqrt": "tab:orange", "revolve s = l": "tab:blue"}


def _against_l(ax, frame: pd.DataFrame, curves: dict, suffix: str = "",
               linestyle: str = "-") -> None:
    """One curve per entry of ``curves`` against l, its fitted slope (upper half of the
    sweep) in the legend."""
    for curve, color in curves.items():
        c = frame[frame.curve == curve].sort_values("T")
        if c.empty:
            continue
        slope = count_slope(c["T"], c.value)
        _curve(ax, c["T"], c.value, c.abstract, color, linestyle=linestyle,
               label=f"{curve}{suffix} ({slope.label()})")


def _dense(lengths) -> np.ndarray:
    return np.unique(np.round(np.logspace(np.log10(min(lengths)), np.log10(max(lengths)),
                                          60)).astype(int))


def _through_last(frame: pd.DataFrame, curve: str, xs: np.ndarray, power: float):
    """Theory c l^power through the largest l of ``curve``, or None."""
    c = frame[frame.curve == curve].sort_values("T")
    if c.empty:
        return None
    return float(c.value.iloc[-1]) * (xs / float(c["T"].iloc[-1])) ** power


def memory_figure(df: pd.DataFrame):
    """Against the loop length l: counted memory (plain's tape and every strategy's peak),
    step evaluations, measured peak memory and time; fitted slopes in the legends, theory
    dashed (plain ∝ l, sqrt ∝ √l, the evaluations' closed forms)."""
    stored, peak = _points(df, "tape_bytes"), _points(df, "sweep_peak_bytes")
    evals, measured = _points(df, "calls", STEP), _points(df, "peak_bytes")
    times = times_frame(df)
    fig = figure((12, 9.5))
    (ax_c, ax_e), (ax_m, ax_t) = fig.subplots(2, 2)
    lengths = sorted(set(evals["T"].astype(int)))
    _against_l(ax_c, stored, {"plain": "tab:purple"}, " stored")
    _against_l(ax_c, peak, CURVES, " peak")
    _against_l(ax_e, evals, CURVES)
    _against_l(ax_m, measured, CURVES)
    for ax, frame in ((ax_m, measured), (ax_t, times_frame(df).assign(
            curve=lambda t: t.strategy, T=lambda t: t["T"].astype(float)))):
        plain = frame[frame.curve == "plain"]
        if len(plain):
            shown = _dense(sorted(set(plain["T"].astype(int))))
            top = plain[plain["T"] == plain["T"].max()].value.astype(float).median()
            theory(ax, shown, top * shown / plain["T"].max(), "theory ∝ l (slope 1)",
                   CURVES["plain"])
    if lengths:
        dense = _dense(lengths)
        for power, curve, label in ((1, "plain", "theory ∝ l (slope 1)"),
                                    (0.5, "sqrt", "theory ∝ √l (slope 0.5)")):
            ys = _through_last(peak, curve, dense.astype(float), power)
            if ys is not None:
                theory(ax_c, dense, ys, label, CURVES[curve])
        theory(ax_e, dense, [evaluations("plain", T) for T in dense], "plain: l", "tab:red")
        theory(ax_e, dense, [evaluations("sqrt", T) for T in dense],
               "sqrt: l + k(⌈l/k⌉ - 1), k = ⌈√l⌉", "tab:orange")
        theory(ax_e, dense, [evaluations("revolve", T, T) for T in dense],
               "revolve s = l: l + T(l, l) = 2l - 1", "tab:blue")
    for curve, color in CURVES.items():
        strategy = "revolve" if curve == "revolve s = l" else curve
        t = times[times.strategy == strategy]
        if curve == "revolve s = l":
            t = t[t["param"].astype(float) == t["T"].astype(float)]
        elif strategy == "revolve":
            continue
        if t.empty:
            continue
        slope = time_slope(t["T"], t.value.astype(float))
        stats = t.groupby("T")["value"].agg(["median", "min", "max"]).sort_index()
        xs = stats.index.astype(float)
        ax_t.plot(xs, stats["median"], marker="o", color=color,
                  label=f"{curve} ({slope.label()})")
        ax_t.fill_between(xs, stats["min"], stats["max"], color=color, alpha=0.15,
                          linewidth=0)
    _loglog(ax_c, ax_e, ax_m, ax_t)
    finish(ax_c, "l (loop length, steps)", f"counted memory ({BYTES_LABEL})",
           "counted: plain's tape (stored), every strategy's peak")
    finish(ax_e, "l (loop length, steps)", "step evaluations (count)",
           "step evaluations, counted (dashed: closed forms)")
    finish(ax_m, "l (loop length, steps)", f"measured peak memory, tracemalloc ({BYTES_LABEL})",
           "measured memory of value_and_grad")
    finish(ax_t, "l (loop length, steps)", TIME_LABEL, "measured time (median, min-max)")
    fig.suptitle("memory and recomputation against the loop length l; hollow markers and "
                 "dotted lines: counted on abstract inputs", fontsize=11)
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"checkpointing_frontier": partial(frontier_figure, df),
            "checkpointing_memory": partial(memory_figure, df)}


# ------------------------------------------------------------------------------ claims

# Plain reverse mode keeps five arrays of the state per step (W h, U x, their sum, + b, tanh).
BYTES_PER_STEP = 5 * 8 * STATE
# A fitted exponent this close to 1 (the intercept, parameters and their adjoints, bends the
# log-log slope of a + b T below 1 at short loops) together with exactly constant increments.
SLOPE_TOLERANCE = 0.1


def plain_memory(df: pd.DataFrame, metric: str) -> dict:
    """Plain reverse mode's memory of one metric against T: the fitted exponent (upper half
    of the sweep), the bytes added per step between consecutive lengths, the largest T."""
    p = _points(df, metric)
    p = p[p.strategy == "plain"].sort_values("T").drop_duplicates("T")
    steps = [(b.value - a.value) / (b["T"] - a["T"])
             for (_, a), (_, b) in zip(p.iterrows(), p.iloc[1:].iterrows())]
    return {"slope": count_slope(p["T"], p.value).value if len(p) else float("nan"),
            "per_step": sorted(set(steps)), "largest": int(p["T"].max()) if len(p) else 0}


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    stored, peak = plain_memory(df, "tape_bytes"), plain_memory(df, "sweep_peak_bytes")
    measured = plain_memory(df, "peak_bytes")
    linear = all(m["per_step"] == [BYTES_PER_STEP] and abs(m["slope"] - 1) <= SLOPE_TOLERANCE
                 for m in (stored, peak))
    per_step = ", ".join(f"{v:g}" for v in stored["per_step"] + peak["per_step"])
    calls = df[(df.metric == "calls") & (df.kind == STEP)]
    revolve, sqrt = calls[calls.strategy == "revolve"], calls[calls.strategy == "sqrt"]
    equal = int((revolve.value == revolve.predicted).sum())
    sqrt_equal = int((sqrt.value == sqrt.predicted).sum())
    totals = df[(df.metric == "ops") & (df.kind == "total") & df.predicted.notna()]
    ops_equal = int((totals.value == totals.predicted).sum())
    skipped = df[(df.metric == "skipped") & (df.kind == "count")]
    largest = int(revolve["T"].max()) if len(revolve) else 0
    agree = df[df.metric == "agrees"]
    errors = df[df.metric == "rel_error"].value.astype(float)
    return [
        claim("M1", "plain reverse mode's memory is linear in the loop length T",
              f"stored and peak bytes a + b T, b = {BYTES_PER_STEP} (five states per step); "
              "slope 1",
              f"bytes per step: {per_step}; fitted slope: stored {stored['slope']:.2f}, peak "
              f"{peak['slope']:.2f} (T up to {stored['largest']}); measured (tracemalloc) "
              f"slope {measured['slope']:.2f} (T up to {measured['largest']})",
              linear),
        claim("M2", "advances equal revolve's optimum for every (l, s) in the sweep",
              "step evaluations = l + T(l, s), T(l, s) = r l - β(s+1, r-1)",
              f"{equal}/{len(revolve)} (l, s) equal, l up to {largest}, s from 1 to l "
              f"({len(skipped)} points beyond the counting budget not run); sqrt rule "
              f"{sqrt_equal}/{len(sqrt)}; operations = plain's + extra evaluations x one "
              f"step's: {ops_equal}/{len(totals)}",
              len(revolve) > 0 and equal == len(revolve) and sqrt_equal == len(sqrt)
              and ops_equal == len(totals)),
        claim("M3", "checkpointed gradients equal plain reverse mode's",
              f"to rounding (relative error <= {TOLERANCE['reverse']:g})",
              f"{int(agree.value.sum())}/{len(agree)} executed points agree, max relative "
              f"error {errors.max() if len(errors) else float('nan'):.1e}",
              len(agree) > 0 and bool(agree.value.eq(1).all())),
    ]
