"""JAX beside costad, compiled (``jax.jit``) and eager: its adapters.

The families run on ``jax.numpy`` unchanged (it spells NumPy's functions as NumPy does).
JAX computes in float32 unless 64-bit mode is on: the namespace turns it on
(``jax_enable_x64``, for this process), since the gradient must equal costad's float64 one
to 1e-10 before anything is timed.

JAX dispatches asynchronously: every timed call blocks on its outputs
(``jax.block_until_ready``). The compiled variant is warmed up before it is timed: the
first call traces and compiles, the timed calls run the compiled program (the experiment
records that first call apart, as ``first_call``).
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable

import numpy as np

from .adapters import Adapter, Prepared

__all__ = ["jax_namespace", "JaxJitAdapter", "JaxEagerAdapter"]

# Tracing a Python loop over scalars unrolls it: one operation per scalar operation. Eager,
# each is a separate dispatch; compiled, the compile time grows faster than n (tens of
# seconds at a few hundred inputs), so the scalar loop is timed at small n only.
_LOOP_BUDGET = 100
_LOOP_REASON = ("JAX unrolls the Python loop over scalars: eager, one dispatch per scalar "
                "operation; jit, a compile time growing faster than n")


def jax_namespace():
    """``jax.numpy``, with 64-bit floats turned on for this process, its CPU backend
    started with a one-thread pool if it has not started yet (`start_on_one_thread`)."""
    import jax
    jax.config.update("jax_enable_x64", True)
    start_on_one_thread()
    import jax.numpy as jnp
    return jnp


# How JAX's pool was sized: set when costad starts the backend, else left as None.
_POOL = {"note": None}


def _started() -> bool | None:
    try:
        from jax._src import xla_bridge          # no public way to ask, as of JAX 0.10
        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):
        return None


def start_on_one_thread() -> str:
    """Start JAX's CPU backend with a one-thread compute pool; say how its pool is sized.

    JAX has no setting for it (with ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``, JAX
    0.10 still kept several threads busy on a jitted program): it sizes its pool by the process's CPU affinity when the
    backend starts. So the process is held to one CPU while the backend starts, then every
    thread's affinity is given back (the pool keeps its one thread, free to run on any
    CPU). If the backend started before, its pool stays as it was, and the note says so.
    """
    if _POOL["note"] is not None:
        return _POOL["note"]
    import jax
    started = _started()
    if started or started is None or not hasattr(os, "sched_setaffinity"):
        why = ("its backend had started before" if started else
               "costad cannot tell whether its backend has started" if started is None else
               "no CPU affinity on this system")
        _POOL["note"] = f"JAX's pool as JAX sized it ({why})"
        return _POOL["note"]
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(mask)})
    try:
        jax.devices("cpu")                              # starts the backend
    finally:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), mask)
            except OSError:                            # a thread that ended meanwhile
                pass
    _POOL["note"] = "one-thread pool (backend started on one CPU, affinity then restored)"
    return _POOL["note"]


def _inputs(x0):
    """x0 (an array, or a list of arrays) as JAX arrays, float64 checked."""
    import jax.numpy as jnp
    if isinstance(x0, list):
        return [_inputs(a) for a in x0]
    x = jnp.asarray(x0)
    if x.dtype != np.float64:                      # 64-bit mode was turned off since
        raise RuntimeError(f"JAX made a {x.dtype} array of float64 inputs "
                           "(jax_enable_x64 is off)")
    return x


class _JaxAdapter(Adapter):
    requires = ("jax",)
    distribution = "jax"
    loop_budget = _LOOP_BUDGET
    loop_reason = _LOOP_REASON

    def namespace(self):
        return jax_namespace()

    def one_thread(self):
        return contextlib.nullcontext()              # its pool is sized when it starts

    def threads_note(self) -> str:
        return _POOL["note"] or "JAX's pool is sized when its backend starts (not yet)"

    def _calls(self, f: Callable) -> tuple[Callable, Callable]:
        raise NotImplementedError

    def prepare(self, f: Callable, x0) -> Prepared:
        """f of one array, or of a list of arrays (a pytree: the gradient is a list)."""
        import jax
        x = _inputs(x0)
        value, value_and_grad = self._calls(f)
        return Prepared(f=lambda: jax.block_until_ready(value(x)),
                        fg=lambda: jax.block_until_ready(value_and_grad(x)),
                        to_numpy=np.asarray)


class JaxJitAdapter(_JaxAdapter):
    """``jax.jit(f)`` and ``jax.jit(jax.value_and_grad(f))``, compiled before timing."""

    strategy = "jax-jit"
    label = "JAX, jit"
    timing_note = ("jax.jit of f and of jax.value_and_grad(f); compilation excluded (warmed "
                   "up first), outputs blocked on")

    def _calls(self, f):
        import jax
        return jax.jit(f), jax.jit(jax.value_and_grad(f))


class JaxEagerAdapter(_JaxAdapter):
    """f and ``jax.value_and_grad(f)`` without jit: operation by operation."""

    strategy = "jax-eager"
    label = "JAX, eager"
    timing_note = "f and jax.value_and_grad(f) without jit, outputs blocked on"

    def _calls(self, f):
        import jax
        return f, jax.value_and_grad(f)
