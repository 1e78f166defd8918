"""The floor beside the tools: a family's gradient written by hand in plain NumPy.

For the MLP families this is the lecture's backpropagation (`costad.functions.mlp_backprop`,
claim C6) over the same flat parameter vector: the same NumPy calls, the same BLAS, with no
tape and no dispatch. Its f+grad / f is what reverse mode over NumPy can reach without
fusing operations; costad's ratio beside it shows costad's own overhead, the tools' ratios
beside it show what their kernels and allocators add or save. Families without a
hand-written gradient (`Family.hand` is None) get no rows from it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from costad.functions import family

from .adapters import Adapter, Prepared

__all__ = ["HandAdapter"]


class HandAdapter(Adapter):
    """``Family.hand``: the family's value and gradient written by hand in plain NumPy."""

    strategy = "hand"
    label = "NumPy, gradient written by hand"
    distribution = "numpy"
    timing_note = ("f: the plain NumPy function; f+grad: the family's gradient written by hand "
                   "in plain NumPy (the MLP families: the lecture's backpropagation, C6)")

    def missing(self) -> str | None:
        return None

    def version(self) -> str:
        """NumPy's version, named as such ("hand 2.4.6" in a table would read as the tool's)."""
        return f"NumPy {np.__version__}"

    def namespace(self):
        return np

    def applies_to(self, family_name: str) -> bool:
        return family(family_name).hand is not None

    def prepare(self, f: Callable, x0: np.ndarray) -> Prepared:
        raise TypeError("costad: a hand-written gradient belongs to a family, not to f: "
                        "use prepare_family(family_name, n, seed, f, x0)")

    def prepare_family(self, family_name: str, n: int, seed: int, f: Callable,
                       x0: np.ndarray) -> Prepared:
        hand = family(family_name).hand
        if hand is None:
            raise ValueError(f"costad: family {family_name!r} has no hand-written gradient")
        value_and_grad = hand(n, seed)
        return Prepared(f=lambda: f(x0), fg=lambda: value_and_grad(x0))
