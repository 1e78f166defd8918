"""`costad peers --mlp`: the speed case of array code, as a user writes it.

The case is the MLP loss `costad.functions.mlp_loss(params, X, Y)` with widths 512 x 5
(depth 4), a batch of 256 and 512 classes, over a list of parameter arrays
[A_0, b_0, ..., A_3, b_3] (the data of the peers experiment's ``mlp-512`` family, which takes
the same parameters as one flat vector instead). Its target is costad's reverse
``value_and_grad`` over the plain NumPy loss at most 2.8 times the loss alone, measured beside
PyTorch's own ratio in the same run.

Timed, in interleaved rounds in one process, every tool on one thread, Python's cyclic
garbage collector paused during each call (as `timeit` does):

- ``costad``: f is the plain NumPy loss, f+grad ``costad.value_and_grad`` (reverse mode);
- ``hand``: f the same plain NumPy loss, f+grad the lecture's backpropagation written by hand
  (`costad.functions.mlp_backprop`): the floor of reverse mode over NumPy without fused
  kernels;
- each installed peer (PyTorch eager, JAX compiled and eager, HIPS autograd) on the same
  definition of the loss over its namespace, through the peers experiment's adapters.

Every tool's value and gradient must equal costad's to 1e-10 (`check_agreement`) before it is
timed. Each tool's ratio is given of its minima (the machine's best) and of its medians (a
typical call); the counted ratio W/K of costad's reverse mode is given beside them.

Measurement only: `mlp_list_rows` returns rows; the CLI prints them.
"""
from __future__ import annotations

import contextlib
import statistics
from typing import Callable

import numpy as np

from costad import count, counting
from costad.functions import mlp_backprop, mlp_classifier_problem, mlp_loss

from ..measure import sample
from .adapters import Adapter, CostadAdapter, Prepared, blas_one_thread, check_agreement
from .hand import HandAdapter
from .hips_autograd import AutogradAdapter
from .jax_numpy import JaxEagerAdapter, JaxJitAdapter
from .pytorch import TorchAdapter

__all__ = ["MLP_TARGET", "MLP_FIELDS", "MLP_PEERS", "DEFAULT_MLP_ROUNDS", "mlp_list_rows"]

# The target for this case: costad's f+grad / f.
MLP_TARGET = 2.8

# One call of f+grad takes about 40 ms here: 40 rounds of every tool take about 10 s.
DEFAULT_MLP_ROUNDS = 40

MLP_FIELDS = ["tool", "version", "f_min_s", "fg_min_s", "ratio_min", "f_median_s",
              "fg_median_s", "ratio_median", "rounds", "note"]

# The peers `--peer` names, and their adapters.
MLP_PEERS = {"torch": (TorchAdapter,), "jax": (JaxJitAdapter, JaxEagerAdapter),
             "autograd": (AutogradAdapter,)}


def _flat(to_numpy: Callable) -> Callable:
    """A list gradient read back as one flat NumPy vector (for the agreement gate)."""
    def convert(value):
        if isinstance(value, (list, tuple)):
            return np.concatenate([np.ravel(np.asarray(to_numpy(v), dtype=float))
                                   for v in value])
        return to_numpy(value)
    return convert


def _row(tool: str, version: str, f=None, fg=None, note: str = "") -> dict:
    row = dict.fromkeys(MLP_FIELDS)
    row.update(tool=tool, version=version, note=note)
    if f and fg:
        f_min, fg_min = min(f), min(fg)
        f_med, fg_med = statistics.median(f), statistics.median(fg)
        row.update(f_min_s=f_min, fg_min_s=fg_min, ratio_min=fg_min / f_min,
                   f_median_s=f_med, fg_median_s=fg_med, ratio_median=fg_med / f_med,
                   rounds=len(fg))
    return row


def _prepare(tool: Adapter, params: list, X: np.ndarray, Y: np.ndarray) -> Prepared:
    """The tool's f and f+grad on the case (the loss defined once, over its namespace)."""
    if isinstance(tool, HandAdapter):
        return Prepared(f=lambda: mlp_loss(params, X, Y), fg=lambda: mlp_backprop(params, X, Y))
    xp = tool.namespace()                 # costad's is NumPy: f is the plain NumPy loss
    data = xp.asarray(X), xp.asarray(Y)

    def loss(p):
        return mlp_loss(p, *data, xp=xp)
    return tool.prepare(loss, params)


def mlp_list_rows(repeats: int = DEFAULT_MLP_ROUNDS, peers: list[str] | None = None,
                  seed: int = 0, problem=None) -> list[dict]:
    """Time every tool on the case in ``repeats`` interleaved rounds; one row per tool.

    Row fields (`MLP_FIELDS`): tool, version, f_min_s, fg_min_s, ratio_min (of the minima),
    f_median_s, fg_median_s, ratio_median (of the medians), rounds, note. The first row,
    ``costad, counted``, gives the counted ratio W/K as ``ratio_min`` and ``ratio_median``.
    A peer not installed, failing, or disagreeing with costad's gradient is a row without
    times whose note says why. ``problem`` (params, X, Y) replaces the case (a
    smaller one of the same form: `costad.functions.mlp_classifier_problem`).
    """
    if repeats < 1:
        raise ValueError(f"costad: repeats must be at least 1, got {repeats}")
    names = list(MLP_PEERS) if peers is None else list(dict.fromkeys(peers))  # each once
    unknown = [name for name in names if name not in MLP_PEERS]
    if unknown:
        raise ValueError(f"costad: unknown peer {unknown[0]!r}; known: {', '.join(MLP_PEERS)}")
    params, X, Y = mlp_classifier_problem(seed) if problem is None else problem
    K = count(lambda p: mlp_loss(p, X, Y), params).total
    costad_tool = CostadAdapter()
    with counting() as work:
        reference_value, reference_grad = _prepare(costad_tool, params, X, Y).fg()
    rows = [dict(_row("costad, counted", "-",
                      note=f"W/K in operations, exact (K = {K}, W = {work.total})"),
                 ratio_min=work.total / K, ratio_median=work.total / K)]
    reference_grad = _flat(np.asarray)(reference_grad)
    tools = [costad_tool, HandAdapter()] + [cls() for name in names for cls in MLP_PEERS[name]]
    timed, left_out = [], []
    with contextlib.ExitStack() as threads:
        threads.enter_context(blas_one_thread())
        for tool in tools:
            reason = tool.missing()
            if reason:
                left_out.append(_row(tool.strategy, "-", note=reason))
                continue
            try:
                prepared = _prepare(tool, params, X, Y)
                threads.enter_context(tool.one_thread())
                prepared = Prepared(prepared.f, prepared.fg, _flat(prepared.to_numpy))
                *_, reason = check_agreement(prepared, reference_value, reference_grad)
                prepared.f()
            except Exception as err:          # the tool's own error: a failed row, not a crash
                left_out.append(_row(tool.strategy, tool.version(),
                                     note=f"failed: raised {type(err).__name__}: {err}"[:300]))
                continue
            if reason:
                left_out.append(_row(tool.strategy, tool.version(), note=f"failed: {reason}"))
                continue
            timed.append((tool, prepared))
        samples = {tool.strategy: ([], []) for tool, _ in timed}
        for _ in range(repeats):
            for tool, prepared in timed:
                f_samples, fg_samples = samples[tool.strategy]
                f_samples.append(sample(prepared.f, 1))
                fg_samples.append(sample(prepared.fg, 1))
    rows += [_row(tool.strategy, tool.version(), *samples[tool.strategy],
                  note=("compilation excluded" if tool.strategy == "jax-jit" else ""))
             for tool, _ in timed]
    return rows + left_out
