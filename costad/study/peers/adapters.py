"""What every tool timed beside costad provides, costad's own adapter, and the gradient gate.

An adapter runs a function family (`costad.functions`, written once over an array namespace)
in one tool. It gives:

- ``strategy``: the tool and variant as the results name it ("torch", "jax-jit", ...);
- ``requires``: the modules it imports; `Adapter.missing` says why it cannot run when one is
  not installed (checked with `importlib.util.find_spec`, nothing imported);
- ``namespace()``: the array namespace the families are built over (imports the tool);
- ``prepare(f, x0)`` (x0 one array, or a list of arrays for `costad peers --mlp`): a
  `Prepared` pair of calls of no arguments, ``f()`` the value and
  ``fg()`` value and gradient, both finished when they return (asynchronous tools block on
  their outputs), and ``to_numpy`` to read a result back; ``prepare_family(family_name, n,
  seed, f, x0)`` is what the experiment calls (by default ``prepare(f, x0)``), for a tool
  whose gradient belongs to the family rather than to f (the hand-written one);
- ``applies_to(family_name)``: whether the tool runs that family at all (every tool but the
  hand-written gradient, which exists for some families only);
- ``loop_budget``: the largest n of the scalar loop (the seed-loop family) the tool is timed
  on: a Python loop over scalars is one tool operation per scalar operation, and some tools
  (JAX) pay far more than others per operation or to compile the unrolled loop;
- ``one_thread()``: a context in which the tool computes on one thread (entered after
  ``namespace()``, left when the measurement ends), and ``threads_note()`` saying how.

Every tool is timed on one thread. Several thread pools in one process (NumPy's BLAS,
PyTorch's OpenMP, XLA's) on a machine with few cores contend with each other: threads that
spin waiting for work take the cores another tool's threads need, and on a shared 2-core
machine the median of a 2-thread timing was measured 10 to 20 times its minimum, against
about 1.1 times with one thread. One thread per tool also makes f+grad / f a property of
the tool's differentiation, not of how well it parallelises.

`check_agreement` is the gate every adapter passes before it is timed: its value and
gradient equal costad's reverse mode to ``TOLERANCE`` relative to max(1, |reference|)
(`costad.study.measure.relative_error`), or the tool is a failed row with the reason.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from typing import Callable

import numpy as np

from costad import value_and_grad

from ..measure import relative_error

__all__ = ["TOLERANCE", "Prepared", "Adapter", "CostadAdapter", "check_agreement",
           "installed_version", "blas_one_thread"]

# Agreement with costad's gradient before anything is timed: the same function at the same
# point, in float64, differs only by rounding.
TOLERANCE = 1e-10


@dataclass(frozen=True)
class Prepared:
    """The calls one tool times: ``f()`` the value, ``fg()`` (value, gradient); both return
    only once the result is computed. ``to_numpy`` turns a result into a NumPy array."""

    f: Callable[[], object]
    fg: Callable[[], tuple]
    to_numpy: Callable[[object], np.ndarray] = np.asarray


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution, or None (read from its metadata, no import)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


class Adapter:
    """One tool and variant timed by the peers experiment (see the module docstring)."""

    strategy: str = ""
    label: str = ""
    requires: tuple[str, ...] = ()
    distribution: str = ""             # whose version the results record
    loop_budget: int = 10_000
    loop_reason: str = ""              # why the budget is what it is
    timing_note: str = ""              # what the timed calls include or exclude

    def missing(self) -> str | None:
        """Why this tool cannot run here (a module not installed), or None."""
        absent = [name for name in self.requires if _find_spec(name) is None]
        if absent:
            return (f"not installed: no module named {absent[0]!r} "
                    "(pip install 'costad[peers]')")
        return None

    def version(self) -> str:
        """The tool's version as installed, or why it cannot run."""
        reason = self.missing()
        if reason:
            return reason
        return installed_version(self.distribution) or "version unknown"

    def namespace(self):
        raise NotImplementedError

    def prepare(self, f: Callable, x0: np.ndarray) -> Prepared:
        raise NotImplementedError

    def prepare_family(self, family_name: str, n: int, seed: int, f: Callable,
                       x0: np.ndarray) -> Prepared:
        """The calls timed for family ``family_name`` at n (built from ``seed`` as f and
        x0): by default ``prepare(f, x0)``."""
        return self.prepare(f, x0)

    def applies_to(self, family_name: str) -> bool:
        """Whether this tool runs family ``family_name`` (a tool that does not gets no rows
        for it; every tool does, by default)."""
        return True

    def one_thread(self) -> contextlib.AbstractContextManager:
        """A context in which this tool computes on one thread (the default: BLAS and
        OpenMP pools loaded in the process, as `blas_one_thread`)."""
        return blas_one_thread()

    def threads_note(self) -> str:
        """How this tool is held to one thread."""
        return "BLAS and OpenMP pools limited to 1 thread (threadpoolctl)"


def blas_one_thread() -> contextlib.AbstractContextManager:
    """The BLAS and OpenMP thread pools loaded in the process limited to one thread, and
    restored on exit (threadpoolctl; pools loaded later are not affected)."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1)


def _find_spec(name: str):
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):              # a broken or half-installed package
        return None


class CostadAdapter(Adapter):
    """costad's reverse mode on the plain NumPy function; the value alone is plain NumPy."""

    strategy = "costad"
    label = "costad reverse mode (f: plain NumPy)"
    distribution = "costad"
    timing_note = "f: the plain NumPy function; f+grad: costad.value_and_grad, reverse mode"

    def missing(self) -> str | None:
        return None

    def namespace(self):
        return np

    def prepare(self, f: Callable, x0: np.ndarray) -> Prepared:
        vg = value_and_grad(f)
        return Prepared(f=lambda: f(x0), fg=lambda: vg(x0))


def check_agreement(prepared: Prepared, reference_value, reference_grad,
                    tolerance: float = TOLERANCE) -> tuple[float, float, str | None]:
    """Call ``prepared.fg()`` once and compare with costad's value and gradient.

    Returns (value error, gradient error, reason): each error is max |a - b| / max(1, |b|)
    over the elements; the reason is None when both are within ``tolerance``, else a
    sentence saying what disagrees (a non-finite result counts as disagreeing).
    """
    value, grad = prepared.fg()
    value = np.asarray(prepared.to_numpy(value), dtype=float)
    grad = np.asarray(prepared.to_numpy(grad), dtype=float)
    reference_grad = np.asarray(reference_grad, dtype=float)
    if grad.shape != reference_grad.shape:
        return (float("inf"), float("inf"),
                f"gradient of shape {grad.shape}, costad's is {reference_grad.shape}")
    value_error = relative_error(value, np.asarray(reference_value, dtype=float))
    grad_error = relative_error(grad, reference_grad)
    problems = [f"{what} differs from costad's by {error:.3g} (relative to max(1, |ref|); "
                f"tolerance {tolerance:g})"
                for what, error in (("value", value_error), ("gradient", grad_error))
                if not error <= tolerance]            # NaN fails too
    return value_error, grad_error, ("; ".join(problems) or None)
