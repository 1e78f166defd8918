"""Time costad and the peers the issues quote on one workload, in one process, interleaved.

The workload is scalar code: the seed example summed over P pairs in a Python loop
(`costad.functions.seed_pairs_loop`), value and gradient by reverse mode. Speeds of scalar
code are quoted per elementary operation, and two denominators are in use, so both are
reported, each an exact count made by costad for the same computation:

- ``K``: the operations of f itself (``costad.count``; 6 P - 1 here);
- ``W``: the operations of value and gradient together (``costad.counting`` around
  costad's reverse ``value_and_grad``; 15 P - 1 here, about 2.5 K).

Peers are optional (``pip install 'costad[peers]'``): PyTorch eager on a tensor input and on a
list of 0-d tensors, and HIPS autograd on an ndarray input. A peer that is not installed is
reported as such. Rounds are interleaved (every library once, then again) and the minimum
is kept, so that a drift of the machine's speed hits every library alike.

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

import gc
import importlib.util
import time
from typing import Callable

import numpy as np

from costad import count, counting, value_and_grad
from costad.functions import seed_pairs_loop

__all__ = ["PEERS", "available_peers", "seed_loop", "gc_paused", "scalar_loop_runners",
           "scalar_loop_rows"]

# Each peer: the module that must be importable, and what the row calls it.
PEERS = {
    "torch": "PyTorch eager",
    "autograd": "HIPS autograd",
}


def available_peers() -> dict[str, bool]:
    """Which peers can be imported here."""
    return {name: importlib.util.find_spec(name) is not None for name in PEERS}


def seed_loop(exp: Callable, sqrt: Callable) -> Callable:
    """`seed_pairs_loop` written with the given exp and sqrt (a peer's own functions).

    The operations and their order are those of `costad.functions.seed_pairs_loop`.
    """
    def loop(x):
        total = None
        for i in range(0, len(x), 2):
            t1, t2 = x[i], x[i + 1]
            t3 = exp(t1)
            t4 = t2 * t3
            t6 = sqrt(t1 + t4)
            value = t4 * t6
            total = value if total is None else total + value
        return total
    return loop


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


def _costad_runner(x: np.ndarray) -> Callable:
    vg = value_and_grad(seed_pairs_loop)
    return lambda: vg(x)


def _plain_runner(x: np.ndarray) -> Callable:
    return lambda: seed_pairs_loop(x)


def _torch_runners(x: np.ndarray) -> dict[str, Callable]:
    import torch
    torch.set_num_threads(1)        # scalar work: threads only add synchronisation
    loop = seed_loop(torch.exp, torch.sqrt)

    # Inputs are made once, outside the timed call, as costad's input array is;
    # torch.autograd.grad returns the gradient without accumulating it into .grad.
    vector = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    scalars = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in x]

    def tensor_input():
        value = loop(vector)
        return value.item(), torch.autograd.grad(value, vector)[0]

    def scalar_inputs():
        value = loop(scalars)
        return value.item(), torch.autograd.grad(value, scalars)

    return {"tensor input": tensor_input, "0-d tensor inputs": scalar_inputs}


def _autograd_runners(x: np.ndarray) -> dict[str, Callable]:
    import autograd
    import autograd.numpy as anp
    vg = autograd.value_and_grad(seed_loop(anp.exp, anp.sqrt))

    def run():
        return vg(x)
    # Both, labelled: the collector, not autograd's indexing, makes its time grow with P.
    return {"ndarray input, GC as is": run, "ndarray input, GC paused": gc_paused(run)}


_PEER_RUNNERS = {"torch": _torch_runners, "autograd": _autograd_runners}


def scalar_loop_runners(x: np.ndarray, peers: list[str] | None = None
                        ) -> dict[tuple[str, str], Callable]:
    """Zero-argument callables computing value and gradient of the loop at ``x``, keyed by
    (library, variant): costad, plain NumPy (the value alone) and each installed peer."""
    runners = {("costad", "reverse value_and_grad"): _costad_runner(x),
               ("numpy", "value only (no gradient)"): _plain_runner(x)}
    installed = available_peers()
    for name in peers if peers is not None else list(PEERS):
        if name not in PEERS:
            raise ValueError(f"costad: unknown peer {name!r}; known: {', '.join(PEERS)}")
        if installed[name]:
            for variant, run in _PEER_RUNNERS[name](x).items():
                runners[(PEERS[name], variant)] = run
    return runners


def scalar_loop_rows(pairs: list[int], repeats: int = 5, peers: list[str] | None = None,
                     seed: int = 0) -> list[dict]:
    """Time every runner at every number of pairs; one row per (library, variant, pairs).

    Row fields: library, variant, pairs, K, W, time_min_s, us_per_f_op (time / K) and
    us_per_counted_op (time / W). A peer that is not installed gets a row with
    ``variant="not installed"`` and no times.
    """
    if not pairs:
        raise ValueError("costad: no numbers of pairs to time (the sweep is empty)")
    if repeats < 1:
        raise ValueError(f"costad: repeats must be at least 1, got {repeats}")
    # Check the whole request before timing anything.
    for p in pairs:
        if p < 1:
            raise ValueError(f"costad: the number of pairs must be positive, got {p}")
    names = list(PEERS) if peers is None else list(peers)
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        raise ValueError(f"costad: unknown peer {unknown[0]!r}; known: {', '.join(PEERS)}")
    rows = []
    for p in pairs:
        x = np.random.default_rng([seed, p]).uniform(0.1, 1.0, 2 * p)
        K = count(seed_pairs_loop, x).total
        with counting() as work:
            value_and_grad(seed_pairs_loop)(x)
        runners = scalar_loop_runners(x, names)
        best = dict.fromkeys(runners, float("inf"))
        for _ in range(repeats):
            for key, run in runners.items():
                start = time.perf_counter()
                run()
                best[key] = min(best[key], time.perf_counter() - start)
        for (library, variant), seconds in best.items():
            rows.append({"library": library, "variant": variant, "pairs": p, "K": K,
                         "W": work.total, "time_min_s": seconds,
                         "us_per_f_op": seconds / K * 1e6,
                         "us_per_counted_op": seconds / work.total * 1e6})
    installed = available_peers()
    rows += [{"library": PEERS[name], "variant": "not installed"}
             for name in names if not installed[name]]
    return rows
