"""Time costad and the peers the issues quote on one workload, in one process, interleaved.

The workload is scalar code: the seed example summed over P pairs in a Python loop
(`costad.functions.seed_pairs_loop`), value and gradient by reverse mode. Speeds of scalar
code are quoted per elementary operation, and two denominators are in use, so both are
reported, each an exact count made by costad for the same computation:

- ``K``: the operations of f itself (``costad.count``; 6 P - 1 here);
- ``W``: the operations of value and gradient together (``costad.counting`` around
  costad's reverse ``value_and_grad``; 15 P - 1 here, about 2.5 K).

Peers are optional (``pip install 'costad[peers]'``) and run through the study's adapters
(`costad.study.peers.adapters`), on the same definition of the loop over their namespaces:
PyTorch eager on a tensor input and on a list of 0-d tensors, JAX compiled (compilation
excluded) and eager, and HIPS autograd on an ndarray input. Each variant's value and
gradient must equal costad's to 1e-10 before it is timed (a variant that disagrees is a
``failed`` row with the reason). JAX is timed only up to its adapter's loop budget (it
unrolls the loop: a dispatch per scalar operation eager, a compile time growing faster than
n compiled); beyond it, a ``skipped`` row says so. A peer that is not installed is reported
as such. Every library computes on one thread (`costad.study.peers.adapters` says why).
Rounds are interleaved (every library once, then again) and the minimum is kept, so that a
drift of the machine's speed hits every library alike.

HIPS autograd is timed twice, with Python's cyclic garbage collector as it is and paused
during the call (`gc_paused`). Its time per operation grows with P on this loop, and the
cause is the collector, not its indexing: autograd's VJP of ``x[i]`` returns a sparse object
that is added into the gradient in place (O(1) per read), but every operation allocates
container objects, so the collector runs again and again, and each full collection walks the
whole live graph, which grows with P. With the collector paused the time per operation is
almost flat in P. (costad's reverse mode pauses the collector while it records and sweeps a
tape, for the same reason.)

Measurement only: `scalar_loop_rows` returns rows, the CLI (``costad peers``) prints them.
"""
from __future__ import annotations

import contextlib
import gc
import time
from functools import partial
from typing import Callable

import numpy as np

from costad import count, counting
from costad.functions import seed_pairs_loop

from .adapters import Adapter, CostadAdapter, Prepared, blas_one_thread, check_agreement
from .hips_autograd import AutogradAdapter
from .jax_numpy import JaxEagerAdapter, JaxJitAdapter
from .pytorch import TorchAdapter, scalar_inputs_call

__all__ = ["PEERS", "available_peers", "gc_paused", "scalar_loop_rows", "ROW_FIELDS"]

# Each peer: what the rows call it, and its adapters (the first names the module it needs).
PEERS = {
    "torch": "PyTorch eager",
    "jax": "JAX",
    "autograd": "HIPS autograd",
}
_ADAPTERS = {"torch": (TorchAdapter,), "jax": (JaxJitAdapter, JaxEagerAdapter),
             "autograd": (AutogradAdapter,)}

ROW_FIELDS = ["library", "variant", "pairs", "K", "W", "time_min_s", "us_per_f_op",
              "us_per_counted_op", "note"]


def available_peers() -> dict[str, bool]:
    """Which peers can be imported here."""
    return {name: _ADAPTERS[name][0]().missing() is None for name in PEERS}


def gc_paused(run: Callable[[], object]) -> Callable[[], object]:
    """``run`` with Python's cyclic garbage collector paused during the call (and left as
    it was found afterwards, even if ``run`` raises)."""
    def paused():
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return run()
        finally:
            if was_enabled:
                gc.enable()
    return paused


def _loop(tool: Adapter, threads: contextlib.ExitStack) -> Callable:
    """The seed loop over ``tool``'s namespace (one definition: `seed_pairs_loop`), the
    tool held to one thread until ``threads`` closes."""
    loop = partial(seed_pairs_loop, xp=tool.namespace())
    threads.enter_context(tool.one_thread())
    return loop


def _sequence_to_numpy(to_numpy):
    def convert(value):
        if isinstance(value, (list, tuple)):
            return np.array([np.asarray(to_numpy(v), dtype=float) for v in value])
        return to_numpy(value)
    return convert


def _peer_variants(name: str, x: np.ndarray, threads: contextlib.ExitStack
                   ) -> dict[str, tuple[Adapter, Prepared | None]]:
    """Each variant of peer ``name`` on the loop at ``x``: (its adapter, its calls, or None
    beyond its loop budget)."""
    variants = {}
    if name == "torch":
        tool = TorchAdapter()
        loop = _loop(tool, threads)
        prepared = tool.prepare(loop, x)
        variants["tensor input"] = (tool, prepared)
        variants["0-d tensor inputs"] = (tool, Prepared(
            prepared.f, scalar_inputs_call(loop, x), _sequence_to_numpy(prepared.to_numpy)))
    elif name == "jax":
        for cls, variant in ((JaxJitAdapter, "jit, compilation excluded"),
                             (JaxEagerAdapter, "eager")):
            tool = cls()
            if len(x) <= tool.loop_budget:
                variants[variant] = (tool, tool.prepare(_loop(tool, threads), x))
            else:
                variants[variant] = (tool, None)
    elif name == "autograd":
        tool = AutogradAdapter()
        prepared = tool.prepare(_loop(tool, threads), x)
        # Both, labelled: the collector, not autograd's indexing, makes its time grow with P.
        variants["ndarray input, GC as is"] = (tool, prepared)
        variants["ndarray input, GC paused"] = (tool, Prepared(
            prepared.f, gc_paused(prepared.fg), prepared.to_numpy))
    return variants


def _check_peers(peers: list[str] | None) -> list[str]:
    # Each peer once, in the order asked (--peer torch torch times it once).
    names = list(PEERS) if peers is None else list(dict.fromkeys(peers))
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        raise ValueError(f"costad: unknown peer {unknown[0]!r}; known: {', '.join(PEERS)}")
    return names


def _row(library: str, variant: str, pairs=None, K=None, W=None, seconds=None,
         note: str = "") -> dict:
    row = dict.fromkeys(ROW_FIELDS)
    row.update(library=library, variant=variant, pairs=pairs, K=K, W=W, note=note)
    if seconds is not None:
        row.update(time_min_s=seconds, us_per_f_op=seconds / K * 1e6,
                   us_per_counted_op=seconds / W * 1e6)
    return row


def scalar_loop_rows(pairs: list[int], repeats: int = 5, peers: list[str] | None = None,
                     seed: int = 0) -> list[dict]:
    """Time every runner at every number of pairs; one row per (library, variant, pairs).

    Row fields (`ROW_FIELDS`): library, variant, pairs, K, W, time_min_s, us_per_f_op
    (time / K), us_per_counted_op (time / W) and note. A peer that is not installed gets a
    row with ``variant="not installed"`` and no times; a variant beyond its loop budget or
    whose value or gradient disagrees with costad's gets a row without times whose note
    says ``skipped: ...`` or ``failed: ...``.
    """
    if not pairs:
        raise ValueError("costad: no numbers of pairs to time (the sweep is empty)")
    if repeats < 1:
        raise ValueError(f"costad: repeats must be at least 1, got {repeats}")
    # Check the whole request before timing anything.
    for p in pairs:
        if p < 1:
            raise ValueError(f"costad: the number of pairs must be positive, got {p}")
    names = _check_peers(peers)
    installed = available_peers()
    rows = []
    for p in dict.fromkeys(pairs):                 # each size once (--pairs 5 5)
        with contextlib.ExitStack() as threads:     # every library on one thread
            threads.enter_context(blas_one_thread())
            rows += _time_pairs(p, repeats, names, installed, seed, threads)
    rows += [_row(PEERS[name], "not installed", note=_ADAPTERS[name][0]().missing())
             for name in names if not installed[name]]
    return rows


def _time_pairs(p: int, repeats: int, names: list[str], installed: dict, seed: int,
                threads: contextlib.ExitStack) -> list[dict]:
    """The rows of one number of pairs."""
    x = np.random.default_rng([seed, p]).uniform(0.1, 1.0, 2 * p)
    K = count(seed_pairs_loop, x).total
    with counting() as work:
        costad = CostadAdapter().prepare(seed_pairs_loop, x)
        reference_value, reference_grad = costad.fg()
    runners = {("costad", "reverse value_and_grad"): costad.fg,
               ("numpy", "value only (no gradient)"): costad.f}
    left_out = []
    for name in names:
        if not installed[name]:
            continue
        try:
            variants = _peer_variants(name, x, threads)
        except Exception as err:                   # installed but broken: say so, go on
            left_out.append(_row(PEERS[name], "could not run", p, K, work.total,
                                 note=f"failed: raised {type(err).__name__}: {err}"))
            continue
        for variant, (tool, prepared) in variants.items():
            key = (PEERS[name], variant)
            if prepared is None:
                left_out.append(_row(*key, p, K, work.total, note=(
                    f"skipped: n = {2 * p} above the budget of {tool.loop_budget} "
                    f"({tool.loop_reason})")))
                continue
            reason = _disagreement(prepared, reference_value, reference_grad)
            if reason:
                left_out.append(_row(*key, p, K, work.total, note=f"failed: {reason}"))
            else:
                runners[key] = prepared.fg
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(repeats):
        for key, run in runners.items():
            start = time.perf_counter()
            run()
            best[key] = min(best[key], time.perf_counter() - start)
    rows = [_row(library, variant, p, K, work.total, seconds)
            for (library, variant), seconds in best.items()]
    return rows + left_out


def _disagreement(prepared: Prepared, value, grad) -> str | None:
    """Why a variant may not be timed (its value or gradient is not costad's), or None."""
    try:
        return check_agreement(prepared, value, grad)[2]
    except Exception as err:                       # a tool's own error: reported, not raised
        return f"raised {type(err).__name__}: {err}"
