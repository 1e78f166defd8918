"""HIPS autograd beside costad: its adapter (the families run on ``autograd.numpy``).

Timed as users run it, with Python's cyclic garbage collector as is; `costad peers` also
times it with the collector paused (`costad.study.peers.scalar.gc_paused`), which explains
why its time per operation grows with the length of a scalar loop.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .adapters import Adapter, Prepared

__all__ = ["AutogradAdapter"]


class AutogradAdapter(Adapter):
    """``autograd.value_and_grad`` of f written with ``autograd.numpy`` on an ndarray."""

    strategy = "autograd"
    label = "HIPS autograd"
    requires = ("autograd",)
    distribution = "autograd"
    timing_note = ("f: autograd.numpy on an ndarray (NumPy through autograd's wrappers); "
                   "f+grad: autograd.value_and_grad; garbage collector as is")

    def namespace(self):
        import autograd.numpy as anp
        return anp

    def prepare(self, f: Callable, x0: np.ndarray) -> Prepared:
        import autograd
        vg = autograd.value_and_grad(f)
        return Prepared(f=lambda: f(x0), fg=lambda: vg(x0))
