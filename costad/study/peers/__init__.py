"""costad beside PyTorch, JAX and HIPS autograd: adapters that run costad's function families
in each tool, and the scalar-code workload of `costad peers`.

The peers are optional (``pip install 'costad[peers]'``); nothing here imports them until an
adapter is used, and a tool that is not installed is reported as such, never an error.

- `adapters`: what an adapter gives, costad's own, and the gradient gate (`check_agreement`);
- `pytorch`, `jax_numpy`, `hips_autograd`: one module per tool;
- `hand`: the floor beside them, a family's gradient written by hand in plain NumPy;
- `scalar`: `costad peers`, the seed example over P pairs in a Python loop;
- `mlp_list`: `costad peers --mlp`, the speed case of array code (the MLP of widths 512
  over a list of parameter arrays, as a user writes it).

Every family is defined once, over an array namespace (`costad.functions`): each adapter
gives its tool's namespace and the same definition runs in every tool.
"""
from __future__ import annotations

from costad.functions import family

from .adapters import TOLERANCE, Adapter, CostadAdapter, Prepared, check_agreement
from .hand import HandAdapter
from .hips_autograd import AutogradAdapter
from .jax_numpy import JaxEagerAdapter, JaxJitAdapter
from .pytorch import TorchAdapter
from .scalar import PEERS, available_peers, gc_paused, scalar_loop_rows

__all__ = ["FAMILY_NAMES", "ADAPTERS", "all_adapters", "adapter", "build", "TOLERANCE",
           "Adapter", "CostadAdapter", "HandAdapter", "Prepared", "check_agreement", "PEERS",
           "available_peers", "gc_paused", "scalar_loop_rows"]

# The families timed in every tool: array code of four kinds, scalar code, a loop over steps.
FAMILY_NAMES = ("seed", "seed-loop", "rosenbrock", "logreg", "mlp", "mlp-512", "rnn")

# Every tool and variant, costad first (its gradient is the reference), then the hand-written
# NumPy gradient where a family has one (the floor costad is measured against).
ADAPTERS = (CostadAdapter, HandAdapter, TorchAdapter, JaxJitAdapter, JaxEagerAdapter,
            AutogradAdapter)


def all_adapters() -> list[Adapter]:
    """A fresh instance of every adapter, costad first."""
    return [cls() for cls in ADAPTERS]


def adapter(strategy: str) -> Adapter:
    """The adapter whose results strategy is ``strategy``."""
    for cls in ADAPTERS:
        if cls.strategy == strategy:
            return cls()
    raise ValueError(f"costad: unknown tool {strategy!r}; the tools are "
                     f"{', '.join(cls.strategy for cls in ADAPTERS)}")


def build(family_name: str, n: int, seed: int, tool: Adapter):
    """Family ``family_name`` at n inputs over ``tool``'s namespace: (f, x0).

    ``x0`` is the same NumPy array whatever the tool (the family draws it from ``seed``).
    """
    return family(family_name).build(n, seed, tool.namespace())
