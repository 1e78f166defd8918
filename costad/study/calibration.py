"""This machine's time model parameters, measured on microbenchmarks apart from any study.

`costad.predict_time` turns counts into seconds with four kinds of parameter
(`costad.Calibration`); each is measured here on programs written for the purpose, never on
the study's own timings:

- **per-call overhead** of one primitive application, per interpretation: a chain of L
  primitives on a 4-element array (tanh, multiply by a constant, add the input, subtract a
  constant, then a sum) is timed at several lengths L under each interpretation, its
  primitive applications counted, and ``time = a + b * calls`` fitted; ``b`` is the
  overhead per call and ``a`` the fixed cost of one invocation (recorded as ``fixed_s``;
  the engine's model has no such term, see `PARAMETERS`). The interpretations: ``eval``
  (plain NumPy, what f pays), ``counted`` (`costad.counted(f)` outside a counting block:
  plain NumPy after flattening the input, what hand-written backprop pays), ``chain``
  (`costad.chain.multiply`
  on 2 x 2 matrices: costad's matmul called outside any trace, and the ordering),
  ``count`` (boxed counting),
  ``forward`` (one JVP pass), ``reverse_record`` (recording the tape),
  ``reverse_sweep`` (the backward sweep of a recorded tape), ``reverse`` (a whole
  `value_and_grad`, recording and sweep: the per-call overhead reverse-mode rows use,
  measured directly rather than mixed from the two parts, whose shares depend on the
  program) and ``fd`` (forward differences, whose per-call overhead includes each pass's
  perturbation);
- **seconds per operation of each primitive**, in cache: ``time = a + b * ops`` fitted over
  several sizes whose operands fit in the L2 cache (``b``: ``element_s``); and out of cache
  at one large size (``element_out_s``, reported, not used: the model's memory term
  stands for it);
- **matmul throughput**: seconds per counted operation (m k p mul and m (k-1) p add) of a
  square product at the largest size (``element_s["matmul"]``), and at every size
  (``matmul_curve``, against the operations of one product: BLAS reaches its full rate
  only on large enough blocks);
- **memory bandwidth**: bytes read and written by a large elementwise operation (add, sub,
  mul with a fresh result, as NumPy code allocates them) over its time, the median of the
  three (``bandwidth_bytes_per_s``); and add's bandwidth against the bytes one call
  moves, showing the caches, with a fresh result (``bandwidth_curve``) and into a reused
  output (``bandwidth_reused_curve``): where they part, a fresh result costs more than its
  bytes (glibc maps large arrays afresh and every page is faulted in).

Every fit uses the fastest of each measurement's samples: other work on the machine only
ever slows a run down, so the fastest sample is the best estimate of the work itself (the
rule of `timeit`); at least `MIN_REPEATS` samples are taken. The study's measured times are
the medians of their samples (what its figures show).

Measuring returns rows of the results schema (`costad.study.measure.row`); the parameters
are rows of their own (function ``parameter``), from which `from_frame` builds the
`costad.Calibration` and `load` reads it back from ``results/calibrate.csv``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

import costad
from costad import Calibration

from .errors import StudyError
from .measure import count_call, row, time_calls
from .results import ResultsError

__all__ = ["NAME", "PARAMETERS", "OVERHEADS", "ELEMENTWISE", "CalibrationError", "sizes",
           "measure_overheads", "measure_leaves", "measure_calls", "numpy_call_time",
           "measure_elements", "measure_out_of_cache", "measure_matmul",
           "measure_bandwidth", "from_frame", "load", "load_for_run", "machine_mismatch",
           "describe", "chain_program", "matrix_chain", "fit_line"]

NAME = "calibrate"            # results/calibrate.csv and .json
MIN_REPEATS = 7               # samples per measurement, at least

# The parameter rows (function "parameter"): metric -> what its kinds are.
PARAMETERS = {
    "overhead_s": "seconds per primitive application, per interpretation",
    "call_s": "seconds per NumPy call of a primitive on 4-element operands",
    "default_call_s": "seconds per NumPy call of a primitive not measured",
    "interp_s": "seconds an interpretation adds to each call, beyond NumPy's",
    "fixed_s": "seconds per invocation, per interpretation (not in the engine's model)",
    "pass_s": "seconds per pass of f beyond the first, per interpretation (not in the "
              "engine's model)",
    "leaf_s": "seconds per further input array and pass, per interpretation (not in the "
              "engine's model)",
    "bandwidth_curve": "bandwidth (B/s) of add with a fresh result against bytes moved per "
                       "call (column n)",
    "bandwidth_reused_curve": "bandwidth (B/s) of add into a reused output against bytes "
                              "moved per call (column n)",
    "matmul_curve": "seconds per operation of a square product against its operations "
                    "(column n)",
    "element_s": "seconds per operation in cache, per primitive",
    "element_out_s": "seconds per operation out of cache, per primitive (reported)",
    "default_element_s": "seconds per operation of a primitive not calibrated",
    "bandwidth_bytes_per_s": "memory bandwidth out of cache",
}

# The parameters that are curves (several rows, column n the size): what their values are.
CURVES = {"bandwidth_curve": ("bandwidths", "B/s"),
          "bandwidth_reused_curve": ("bandwidths", "B/s"),
          "matmul_curve": ("seconds per operation", "s")}

OVERHEADS = ("eval", "counted", "chain", "count", "forward", "reverse_record",
             "reverse_sweep", "reverse", "fd")

_P = costad.PRIMITIVES
_ARG = 0.75                # every input value lies in [0.5, 1.5]: log, sqrt, div are safe

# Primitive name -> (NumPy call on operands of n elements, arity). pow is measured as
# x ** 2, the exponent the function families use (NumPy computes it as a square; other
# exponents call pow() and cost several times more).
ELEMENTWISE: dict[str, tuple[Callable, int]] = {
    "add": (np.add, 2), "sub": (np.subtract, 2), "mul": (np.multiply, 2),
    "div": (np.divide, 2), "maximum": (np.maximum, 2), "minimum": (np.minimum, 2),
    "equal": (np.equal, 2), "greater": (np.greater, 2),
    "pow": (lambda x: np.power(x, 2.0), 1),
    "neg": (np.negative, 1), "abs": (np.abs, 1), "sign": (np.sign, 1),
    "exp": (np.exp, 1), "log": (np.log, 1), "sqrt": (np.sqrt, 1), "tanh": (np.tanh, 1),
    "sin": (np.sin, 1), "cos": (np.cos, 1), "expm1": (np.expm1, 1),
    "log1p": (np.log1p, 1),
    # Reductions: n - 1 operations on n elements.
    "sum": (np.sum, -1), "max": (np.max, -1), "min": (np.min, -1),
    # An adjoint's accumulation: buffer += contribution, in place (costad.adjoints).
    "accumulate": (lambda buf, c: np.add(buf, c, out=buf), 2),
}
# Plain bandwidth-bound operations, whose bytes / time is the memory bandwidth.
BANDWIDTH_OPS = ("add", "sub", "mul")


def _perturbed(x):
    y = x.copy()                  # setitem: finite differences' perturbed copy of x
    y[1] = 0.5
    return y


# The cost of one NumPy call of each primitive, on 4-element operands (call_s): what a
# primitive application costs beyond its arithmetic. Free primitives move or view data.
def _call_of(fn: Callable, arity: int) -> Callable:
    return (lambda x, y: fn(x, y)) if arity == 2 else (lambda x, y: fn(x))


def _reduction_call(fn: Callable) -> Callable:
    """A reduction called as code calls it: over everything, then along the last axis of a
    2 x 2 view keeping the dimension (as in a softmax); one call of each, so its time is
    two calls' (halved where it is used)."""
    return lambda x, y: (fn(x), fn(x.reshape(2, 2), axis=-1, keepdims=True))


CALLS: dict[str, Callable] = {
    **{name: _call_of(fn, arity) for name, (fn, arity) in ELEMENTWISE.items()
       if arity != -1},
    **{name: _reduction_call(fn) for name, (fn, arity) in ELEMENTWISE.items() if arity == -1},
    "getitem": lambda x, y: x[1:], "reshape": lambda x, y: x.reshape(2, 2),
    "broadcast_to": lambda x, y: np.broadcast_to(x, (2, 4)), "transpose": lambda x, y: x.T,
    "setitem": lambda x, y: _perturbed(x), "where": lambda x, y: np.where(x > 1.0, x, y),
    "concatenate": lambda x, y: np.concatenate([x, y]),
    "matmul": lambda x, y: x.reshape(2, 2) @ y.reshape(2, 2),
}


class CalibrationError(StudyError):
    """No calibration where one was asked for, or one that is malformed."""


def sizes(quick: bool) -> dict:
    """The microbenchmarks' sizes (recorded in the provenance as the grid)."""
    if quick:
        return {"chain_lengths": [4, 32], "chain_inputs": [2, 8], "leaves": [1, 16],
                "in_cache": [4096, 32768], "out_of_cache": 1 << 22,
                "matmul": [64, 128, 256], "bandwidth": [1 << e for e in range(10, 23, 3)]}
    return {"chain_lengths": [4, 16, 64], "chain_inputs": [2, 8, 32], "leaves": [1, 8, 32],
            "in_cache": [4096, 8192, 16384, 32768], "out_of_cache": 1 << 23,
            "matmul": [64, 128, 256, 512, 1024, 2048],
            # every 4x through the caches, every 2x where the last level ends, and to
            # 400 MB per call, well past it (where working sets of 10^7 elements are)
            "bandwidth": [1 << e for e in (*range(10, 20, 2), 20, 21, 22, 23, 24)]}


def fit_line(x, y) -> tuple[float, float]:
    """Least-squares ``y = a + b x``; returns ``(a, b)``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(np.unique(x)) < 2 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"costad: cannot fit a line through x = {x.tolist()}, "
                         f"y = {y.tolist()}")
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def _base(function: str, strategy: str, **keys) -> dict:
    return dict(experiment=NAME, function=function, strategy=strategy, **keys)


# Parameters the model divides or multiplies by must be positive; an intercept need not be.
_POSITIVE = ("overhead_s", "element_s", "element_out_s", "default_element_s",
             "bandwidth_bytes_per_s")
_FLOOR = 1e-12
_MIN_BANDWIDTH = 1.0          # B/s: the least bandwidth curve value a calibration may hold


def _parameter(metric: str, kind: str, value: float, note: str) -> dict:
    """A parameter row. A fitted rate that noise pushed to zero or below is recorded as
    1e-12 (no time at all, to the model), and its note says so."""
    value = float(value)
    if metric in _POSITIVE and not value > 0:
        note += f"; the fit gave {value:.3g} (timing noise), recorded as {_FLOOR:g}"
        value = _FLOOR
    return row(_base("parameter", ""), metric, value,
               "B/s" if metric.startswith("bandwidth") else "s", kind=kind, note=note)


# ------------------------------------------------------------------------------ overheads

def chain_program(length: int) -> Callable:
    """The overhead microbenchmark: ``length`` primitives in a chain, then a sum, in the
    mix of ordinary NumPy code: a tanh, a product with a constant, a sum with a slice of
    the input (an indexed read, whose adjoint reverse mode accumulates), a difference with
    a constant. The values stay in [-2, 2] (a tanh every fourth step), so no operation
    overflows whatever the length."""
    def f(x):
        y = x
        for i in range(length):
            step = i % 4
            if step == 0:
                y = np.tanh(y)
            elif step == 1:
                y = y * 1.5
            elif step == 2:
                y = y + x[:]
            else:
                y = y - 0.25
        return np.sum(y)
    f.__name__ = f"chain{length}"
    return f


def matrix_chain(length: int) -> Callable[[], object]:
    """The matrix-chain microbenchmark: ``costad.chain.multiply`` of ``length + 1`` 2 x 2
    matrices in the optimal order (``length`` counted products)."""
    mats = [np.full((2, 2), 0.5) for _ in range(length + 1)]
    return lambda: costad.chain.multiply(mats, "optimal")


def _interpretation(key: str, f: Callable, x: np.ndarray) -> Callable[[], object]:
    """A call of no arguments running ``f`` at ``x`` under the interpretation ``key``."""
    if key == "eval":
        return lambda: f(x)
    if key == "counted":
        g = costad.counted(f)
        return lambda: g(x)
    if key == "count":
        return lambda: costad.count(f, x)
    if key == "reverse_record":
        return lambda: costad.vjp(f, x)
    if key == "reverse_sweep":
        _, pullback = costad.vjp(f, x)
        return lambda: pullback(1.0)
    if key in ("reverse", "forward", "fd"):
        vg = costad.value_and_grad(f, mode=key)
        return lambda: vg(x)
    raise ValueError(f"costad: unknown interpretation {key!r}; the interpretations are "
                     f"{', '.join(OVERHEADS)}")


def fit_overhead(calls, passes, times) -> tuple[float, float, float]:
    """Least squares ``time = a + b * calls + c * (passes - 1)``; returns ``(a, b, c)``
    (c = 0 when every run made one pass)."""
    calls, passes, times = (np.asarray(v, float) for v in (calls, passes, times))
    if np.all(passes == passes[0]):
        a, b = fit_line(calls, times)
        return a, b, 0.0
    design = np.column_stack([np.ones_like(calls), calls, passes - 1])
    (a, b, c), *_ = np.linalg.lstsq(design, times, rcond=None)
    return float(a), float(b), float(c)


def _time_rows(base: dict, timing) -> list[dict]:
    return [row(base, "time", t, "s", replicate=i, note=f"loops={timing.loops}")
            for i, t in enumerate(timing.samples)]


def measure_calls(repeats: int) -> tuple[list[dict], dict[str, float]]:
    """The fastest time of one NumPy call of each primitive of `CALLS` on 4-element
    operands (timed in interleaved rounds): parameter rows ``call_s``, and the table."""
    # Fresh operands for each: accumulate adds into its first one in place.
    operands = {name: (np.linspace(0.5, 1.5, 4), np.full(4, 1e-9)) for name in CALLS}
    timings = time_calls([lambda fn=fn, xy=operands[name]: fn(*xy)
                          for name, fn in CALLS.items()], repeats)
    rows, table = [], {}
    for name, timing in zip(CALLS, timings):
        reduction = ELEMENTWISE.get(name, (None, 0))[1] == -1
        table[name] = timing.best / 2 if reduction else timing.best
        rows += _time_rows(_base(name, "call", n=4), timing)
        rows.append(_parameter("call_s", name, table[name],
                               "fastest time of one NumPy call on 4-element operands"
                               + ("; a reduction: half of a full and an axis call" if reduction
                                  else "")))
    return rows, table


def numpy_call_time(cost, call_s: dict[str, float], default: float) -> float:
    """Seconds the primitive applications of ``cost`` spend in their NumPy calls: each
    primitive's ``call_s`` times its calls (``default`` for one not measured)."""
    return sum(n * call_s.get(name, default) for name, n in cost.calls.items())


def measure_overheads(keys, lengths, inputs, repeats: int) -> list[dict]:
    """Per-call costs of NumPy (`measure_calls`), then for each interpretation of ``keys``
    the chain of each length on each input size: its time, calls and passes.

    Two fits per interpretation: ``time = a + b * calls + c * (passes - 1)`` gives the
    engine's per-call overhead (``overhead_s``, b: the average cost of a call of the chain,
    NumPy's included); and, with each call's NumPy time taken off first,
    ``time - sum(calls x call_s) = a' + b' * calls + c' * (passes - 1)`` gives what the
    interpretation adds per call (``interp_s``, b'), per invocation (``fixed_s``, a') and
    per further pass of f (``pass_s``, c': finite differences make n + 1 passes, forward
    mode n, the others one)."""
    from .model import passes as passes_of
    rows, call_s = measure_calls(repeats)
    default = float(np.median(list(call_s.values())))
    rows.append(_parameter("default_call_s", "", default,
                           f"median call_s of {len(call_s)} primitives"))
    # Every interpretation's chains are timed together, in interleaved rounds.
    runs = []
    for key in keys:
        strategy = {"fd": "fd", "forward": "forward"}.get(key, "eval")
        for n in inputs:
            x = np.linspace(0.5, 1.5, n)
            for length in lengths:
                f = chain_program(length)
                run = matrix_chain(length) if key == "chain" else _interpretation(key, f, x)
                # The work counted is the work timed. Plain NumPy is counted by boxing it
                # (costad.count); counting's own calls are those of the evaluation it boxes.
                cost = costad.count(f, x) if key in ("eval", "count") else count_call(run)[0]
                runs.append((key, n, length, passes_of(strategy, n), cost, run))
    timings = time_calls([run[-1] for run in runs], repeats)
    span = (f"over chains of {min(lengths)}..{max(lengths)} primitives on "
            f"{min(inputs)}..{max(inputs)} elements")
    for key in keys:
        calls, numpy_time, passes, best = [], [], [], []
        for (k, n, length, n_passes, cost, _), timing in zip(runs, timings):
            if k != key:
                continue
            base = _base("chain", key, n=n, R=length)
            rows.append(row(base, "calls", cost.total_calls, "count", kind="total"))
            rows += [row(base, "calls", c, "count", kind=name)
                     for name, c in sorted(cost.calls.items())]
            rows.append(row(base, "passes", n_passes, "count"))
            rows += _time_rows(base, timing)
            calls.append(cost.total_calls)
            numpy_time.append(numpy_call_time(cost, call_s, default))
            passes.append(n_passes)
            best.append(timing.best)
        a, b, c = fit_overhead(calls, passes, best)
        rows.append(_parameter("overhead_s", key, b,
                               f"b of time = a + b calls + c (passes - 1) {span}"))
        a, b, c = fit_overhead(calls, passes, np.subtract(best, numpy_time))
        fit = "time - sum(calls x call_s) = a + b calls + c (passes - 1)"
        rows.append(_parameter("interp_s", key, b, f"b of {fit} {span}"))
        rows.append(_parameter("fixed_s", key, a, f"a of {fit} {span}"))
        rows.append(_parameter("pass_s", key, c, f"c of {fit} {span}"))
    return rows


def measure_leaves(keys, counts, repeats: int) -> list[dict]:
    """The cost of each further input array (pytree leaf), per interpretation of ``keys``:
    a chain of 4 primitives on the first of k inputs, the others empty arrays (so that
    finite differences and forward mode make the same passes whatever k), timed for each
    k of ``counts`` in interleaved rounds; ``time = a + leaf_s * (k - 1) * passes`` gives
    ``leaf_s`` (flattening, checking and unflattening an input, and copying it for f,
    happen once per pass)."""
    from .model import passes as passes_of
    f = chain_program(4)

    def first(ps):
        return f(ps[0])
    runs = []
    for key in keys:
        for k in counts:
            ps = [np.linspace(0.5, 1.5, 2)] + [np.zeros(0) for _ in range(k - 1)]
            n_passes = passes_of({"fd": "fd", "forward": "forward"}.get(key, "eval"), 2)
            runs.append((key, k, n_passes, _interpretation(key, first, ps)))
    timings = time_calls([run[-1] for run in runs], repeats)
    rows = []
    for key in keys:
        x, t = [], []
        for (k_key, k, n_passes, _), timing in zip(runs, timings):
            if k_key != key:
                continue
            base = _base("leaves", key, n=k)
            rows.append(row(base, "passes", n_passes, "count"))
            rows += _time_rows(base, timing)
            x.append((k - 1) * n_passes)
            t.append(timing.best)
        a, b = fit_line(x, t)
        rows.append(_parameter("leaf_s", key, b, f"b of time = a + b (k - 1) passes over "
                                                 f"k = {min(counts)}..{max(counts)} inputs"))
    return rows


# ------------------------------------------------------------------------------ elements

def _operands(name: str, n: int, rng: np.random.Generator) -> tuple:
    arity = ELEMENTWISE[name][1]
    count = 2 if arity == 2 else 1
    return tuple(rng.uniform(0.5, 1.5, n) for _ in range(count))


def _ops(name: str, n: int) -> int:
    return n - 1 if ELEMENTWISE[name][1] == -1 else n


def _bytes(name: str, n: int) -> int:
    """Bytes an elementwise call reads and writes: operands and result (a scalar for a
    reduction), 8 per float64 (a comparison writes one byte per element)."""
    arity = ELEMENTWISE[name][1]
    read = 8 * n * (2 if arity == 2 else 1)
    if arity == -1:
        return read + 8
    return read + (n if name in ("equal", "greater") else 8 * n)


def measure_elements(names, ns, repeats: int, seed: int = 0) -> list[dict]:
    """Time each primitive of ``names`` at the in-cache sizes ``ns`` (all in interleaved
    rounds) and fit ``time = a + b * ops``: rows of samples and work, and the parameters
    ``element_s`` (b) per primitive and ``default_element_s`` (their median)."""
    rng = np.random.default_rng(seed)
    cases = [(name, n, _operands(name, n, rng)) for name in names for n in ns]
    timings = time_calls([lambda fn=ELEMENTWISE[name][0], args=args: fn(*args)
                          for name, n, args in cases], repeats)
    rows, slopes = [], []
    span = f"n = {min(ns)}..{max(ns)} elements (in cache)"
    for name in names:
        ops, best = [], []
        for (case, n, _), timing in zip(cases, timings):
            if case != name:
                continue
            base = _base(name, "in-cache", n=n)
            rows.append(row(base, "work", _ops(name, n), "ops", kind=name))
            rows.append(row(base, "bytes", _bytes(name, n), "bytes", kind="total"))
            rows += _time_rows(base, timing)
            ops.append(_ops(name, n))
            best.append(timing.best)
        a, b = fit_line(ops, best)
        rows.append(_parameter("element_s", name, b, f"slope of time = a + b ops over {span}"))
        slopes.append(rows[-1]["value"])
    rows.append(_parameter("default_element_s", "", float(np.median(slopes)),
                           f"median element_s of {len(slopes)} primitives"))
    return rows


def measure_out_of_cache(names, n: int, repeats: int, seed: int = 0) -> list[dict]:
    """Time each primitive of ``names`` at a size ``n`` far beyond the caches (in
    interleaved rounds, on two shared operands): rows of samples, work and bytes; the
    parameters ``element_out_s`` (fastest time / ops) and ``bandwidth_bytes_per_s`` (the
    median bytes / time of `BANDWIDTH_OPS`)."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, n)
    buffer = x.copy()                           # accumulate adds into it, in place

    def call(name):
        fn, arity = ELEMENTWISE[name]
        if name == "accumulate":
            return lambda: fn(buffer, y)
        return (lambda: fn(x, y)) if arity == 2 else (lambda: fn(x))
    timings = time_calls([call(name) for name in names], repeats)
    rows, bandwidths = [], []
    for name, timing in zip(names, timings):
        base = _base(name, "out-of-cache", n=n)
        rows += [row(base, "work", _ops(name, n), "ops", kind=name),
                 row(base, "bytes", _bytes(name, n), "bytes", kind="total")]
        rows += _time_rows(base, timing)
        rows.append(_parameter("element_out_s", name, timing.best / _ops(name, n),
                               f"fastest time / ops at n = {n} (out of cache)"))
        if name in BANDWIDTH_OPS:
            bandwidths.append(_bytes(name, n) / timing.best)
            rows.append(row(base, "bandwidth", bandwidths[-1], "B/s",
                            note="bytes read and written / fastest time"))
    if bandwidths:
        rows.append(_parameter("bandwidth_bytes_per_s", "", float(np.median(bandwidths)),
                               f"median bytes / time of {', '.join(BANDWIDTH_OPS)} at n = {n}, "
                               "a fresh result each call"))
    return rows


def measure_bandwidth(ns, repeats: int, seed: int = 0) -> list[dict]:
    """Bandwidth of add (two operands read, the result written) against the bytes one call
    moves, twice: with a fresh result, as NumPy code allocates it, and into an output
    array reused from call to call (``out=``). Every size and both ways are timed in the
    same interleaved rounds. The fastest one-element add of each way (the call alone) is
    taken off each time first, so that small sizes measure their data's speed, not the
    call's. Parameter rows ``bandwidth_curve`` (fresh) and ``bandwidth_reused_curve``
    (column n: bytes per call).

    The two curves differ where a fresh result costs more than its bytes: glibc maps
    arrays above its mmap threshold (32 MiB) afresh at every allocation, so each call
    faults in every page of its result (`costad.study.model.fresh_page_seconds`)."""
    rng = np.random.default_rng(seed)
    operands = [(rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, n), np.empty(n))
                for n in [1] + list(ns)]
    ways = {"bandwidth": (lambda a, b, out: np.add(a, b)),
            "bandwidth-reused": (lambda a, b, out: np.add(a, b, out=out))}
    calls = [(strategy, k) for k in range(len(operands)) for strategy in ways]
    timings = dict(zip(calls, time_calls(
        [lambda fn=ways[strategy], args=operands[k]: fn(*args) for strategy, k in calls],
        repeats)))
    rows = []
    for strategy, metric in (("bandwidth", "bandwidth_curve"),
                             ("bandwidth-reused", "bandwidth_reused_curve")):
        call = timings[strategy, 0].best
        what = "a fresh result" if strategy == "bandwidth" else "out= a reused array"
        for k, n in enumerate(ns, start=1):
            timing = timings[strategy, k]
            base = _base("add", strategy, n=n)
            rows.append(row(base, "bytes", 24 * n, "bytes", kind="total"))
            rows += _time_rows(base, timing)
            data_time = timing.best - call
            if data_time <= 0:
                continue                 # the call's own noise exceeds the data's time
            rows.append(row(_base("parameter", "", n=24 * n), metric, 24 * n / data_time,
                            "B/s", note=f"add of {n} elements, {what}: bytes / (fastest "
                                        f"time - {call:.3g} s for a one-element add)"))
    return rows


def measure_matmul(ns, repeats: int, seed: int = 0) -> list[dict]:
    """Square products n x n @ n x n (and matrix-vector products, reported), every size in
    interleaved rounds: the parameter ``element_s["matmul"]`` is the largest product's
    fastest time per counted operation, and ``matmul_curve`` (column n: the operations of
    one product) every size's."""
    rng = np.random.default_rng(seed)
    cases = []
    for n in ns:
        A, B, v = rng.standard_normal((n, n)), rng.standard_normal((n, n)), rng.standard_normal(n)
        cases.append((n, "gemm", lambda A=A, B=B: A @ B, n * n * n + n * (n - 1) * n))
        cases.append((n, "gemv", lambda A=A, v=v: A @ v, n * n + n * (n - 1)))
    timings = time_calls([case[2] for case in cases], repeats)
    rows, per_op = [], None
    for (n, strategy, _, ops), timing in zip(cases, timings):
        base = _base("matmul", strategy, n=n)
        rows.append(row(base, "work", ops, "ops", kind="matmul"))
        rows += _time_rows(base, timing)
        if strategy == "gemm":
            rows.append(row(_base("parameter", "", n=ops), "matmul_curve", timing.best / ops,
                            "s", note=f"fastest time / ops of a square product at n = {n}"))
            if n == max(ns):
                per_op = timing.best / ops
    rows.append(_parameter("element_s", "matmul", per_op,
                           f"fastest time / ops of a square product at n = {max(ns)}"))
    return rows


# ------------------------------------------------------------------------- the parameters

def _parameters(df: pd.DataFrame) -> pd.DataFrame:
    return df[df.function == "parameter"]


def from_frame(df: pd.DataFrame, source: dict | None = None) -> Calibration:
    """The `costad.Calibration` in a calibration results frame (its parameter rows).

    Raises `CalibrationError` when a parameter is missing or not a positive number.
    """
    p = _parameters(df)

    def table(metric):
        t = p[p.metric == metric]
        kinds = [str(k) for k in t.kind]
        if metric not in CURVES and len(set(kinds)) < len(kinds):
            # Two values of one parameter (files joined or edited): taking either would be
            # a time that looks right.
            twice = sorted({k for k in kinds if kinds.count(k) > 1})
            raise CalibrationError(f"costad: the calibration is malformed: {metric} is given "
                                   f"more than once for {', '.join(map(repr, twice))}")
        return dict(zip(kinds, t.value))

    overhead, element = table("overhead_s"), table("element_s")
    missing = [k for k in ("eval", "forward", "reverse") if k not in overhead]
    missing += [m for m in ("default_element_s", "bandwidth_bytes_per_s") if not table(m)]
    if not element:
        missing.append("element_s")
    if missing:
        raise CalibrationError(f"costad: the calibration lacks {', '.join(missing)}; re-run "
                               "`costad calibrate`")
    try:
        extra = {name: {k: float(v) for k, v in table(name).items()}
                 for name in ("call_s", "interp_s", "fixed_s", "pass_s", "leaf_s")}
        extra["default_call_s"] = float(table("default_call_s").get("", 0.0))
        for name in CURVES:
            curve = p[p.metric == name].sort_values("n")
            extra[name] = [[int(n), float(v)] for n, v in zip(curve.n, curve.value)]
    except (TypeError, ValueError) as err:    # an empty value or size reads as missing
        raise CalibrationError(f"costad: the calibration is malformed: a parameter is not a "
                               f"number ({err})") from None
    bad = _bad_extras(extra)
    if bad:
        raise CalibrationError(f"costad: the calibration is malformed: {bad}")
    try:
        return Calibration(overhead, element, table("default_element_s")[""],
                           table("bandwidth_bytes_per_s")[""], {**(source or {}), **extra})
    except (ValueError, KeyError) as err:
        raise CalibrationError(f"costad: the calibration is malformed: "
                               f"{str(err).removeprefix('costad: ')}") from None


def _bad_extras(extra: dict) -> str | None:
    """What is wrong with the study's own parameters (those `costad.Calibration` keeps in
    its source and does not check), or None. The study's model adds them into every
    prediction: a NaN or a negative call cost there would be a NaN or negative time."""
    # Fitted intercepts and slopes (interp_s, fixed_s, pass_s, leaf_s) may fall below 0 by
    # timing noise, and the model clamps them; measured call costs and bandwidths may not.
    for name in ("call_s", "interp_s", "fixed_s", "pass_s", "leaf_s"):
        for kind, value in extra[name].items():
            if not np.isfinite(value) or (name == "call_s" and value <= 0):
                return f"{name}[{kind!r}] must be a {'positive ' * (name == 'call_s')}" \
                       f"finite number, got {value!r}"
    default = extra["default_call_s"]         # 0.0: not recorded (the model takes a median)
    if not np.isfinite(default) or default < 0:
        return f"default_call_s must be a positive finite number, got {default!r}"
    for name, (what, unit) in CURVES.items():
        for size, value in extra[name]:
            if size <= 0 or not (np.isfinite(value) and value > 0):
                return (f"{name} must hold positive sizes and finite positive {what}, got "
                        f"{value!r} {unit} at {size}")
            # A bandwidth is divided into bytes, and its reciprocal is a time per byte: one
            # below a byte a second (1e-320 passes "positive") made the model's memory term
            # infinite and its bandwidth 0, an internal error in `costad run`. Measuring
            # gives gigabytes a second; nothing it writes comes near this bound.
            if unit == "B/s" and value < _MIN_BANDWIDTH:
                return (f"{name} must hold bandwidths of at least {_MIN_BANDWIDTH:g} B/s, got "
                        f"{value!r} B/s at {size}")
        sizes = [size for size, _ in extra[name]]
        twice = sorted({size for size in sizes if sizes.count(size) > 1})
        if twice:
            # Two values at one size (files joined or edited): the interpolation would take
            # either, a time that looks right.
            return f"{name} is given more than once at {', '.join(map(str, twice))}"
    if extra["bandwidth_reused_curve"] and not extra["bandwidth_curve"]:
        # Every calibration has the fresh-result curve (one from before the reused curve
        # has it alone); without it the fresh pages' time would silently be left out.
        return "it has bandwidth_reused_curve but no bandwidth_curve"
    return None


def _cpu() -> str:
    from .provenance import _cpu as cpu
    return cpu()


def load(directory="results") -> Calibration:
    """The calibration in ``directory`` (``calibrate.csv`` and ``.json``), checked like any
    results file; `CalibrationError` (one line) when it is missing or malformed."""
    from .results import csv_path, json_path, load as load_results
    path = Path(directory)
    if not (csv_path(path, NAME).exists() or json_path(path, NAME).exists()):
        raise CalibrationError(f"costad: no calibration in {path} ({NAME}.csv and .json); "
                               f"run `costad calibrate --results {path}`")
    try:
        df, meta = load_results(NAME, path)
    except ResultsError as err:
        text = str(err).removeprefix("costad: ").split("; run `")[0]
        raise CalibrationError(f"costad: the calibration in {path} cannot be used ({text}); "
                               f"run `costad calibrate --results {path}`") from None
    source = {k: meta.get(k) for k in ("csv_sha256", "date", "cpu", "git_commit", "os",
                                        "threads", "quick")}
    return from_frame(df, source)


def machine_mismatch(calibration: Calibration) -> str | None:
    """Why ``calibration`` cannot predict times on this machine (measured on another CPU),
    or None. A calibration describes one machine: predicting another's times with it would
    be a wrong number that looks right."""
    cpu = calibration.source.get("cpu")
    here = _cpu()
    if cpu and cpu != here:
        return f"it was measured on {cpu!r}, and this machine is {here!r}"
    return None


def load_for_run(directory) -> tuple[Calibration | None, str]:
    """The calibration a run on this machine may use, or None; and a sentence saying which
    (or why none), for the provenance and the user."""
    try:
        calibration = load(directory)
    except CalibrationError as err:
        return None, str(err).removeprefix("costad: ")
    mismatch = machine_mismatch(calibration)
    if not calibration.source.get("cpu"):
        # Its provenance was edited or lost: which machine it describes cannot be checked.
        mismatch = "its provenance does not record the CPU it was measured on"
    if mismatch:
        return None, (f"the calibration in {directory} is not used: {mismatch}; run "
                      f"`costad calibrate --results {directory}`")
    return calibration, (f"predicted with the calibration in {directory} (sha256 "
                         f"{str(calibration.source.get('csv_sha256'))[:16]}, "
                         f"{calibration.source.get('date')})")


def describe(calibration: Calibration) -> str:
    """The calibration in a few lines (for `costad calibrate` and `costad count`)."""
    over = ", ".join(f"{k} {v * 1e6:.2f} us" for k, v in sorted(calibration.overhead_s.items()))
    elements = ", ".join(f"{k} {v * 1e9:.3f}" for k, v in sorted(calibration.element_s.items()))
    return (f"per-call overhead: {over}\n"
            f"ns per operation (in cache): {elements}; default "
            f"{calibration.default_element_s * 1e9:.3f}\n"
            f"memory bandwidth: {calibration.bandwidth_bytes_per_s / 1e9:.2f} GB/s")
