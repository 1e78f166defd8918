"""PyTorch eager beside costad: its array namespace and its adapter.

PyTorch spells some of NumPy's functions differently (``dim``/``keepdim``, ``amax``) and
makes float32 by default: `TorchNamespace` gives the families NumPy's spelling on float64
tensors. ``torch`` is imported only when the namespace is made.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np

from .adapters import Adapter, Prepared, blas_one_thread

__all__ = ["TorchNamespace", "TorchAdapter", "scalar_inputs_call"]


class TorchNamespace:
    """The array namespace of `costad.functions` (NumPy's spelling) over float64 tensors."""

    def __init__(self, torch):
        self._torch = torch
        self.exp, self.log, self.sqrt, self.tanh = torch.exp, torch.log, torch.sqrt, torch.tanh

    def sum(self, x, axis=None, keepdims=False):
        if axis is None:
            return self._torch.sum(x)
        return self._torch.sum(x, dim=axis, keepdim=keepdims)

    def max(self, x, axis=None, keepdims=False):
        # amax: the maximum alone, its gradient shared equally between ties (as costad's)
        if axis is None:
            return self._torch.amax(x)
        return self._torch.amax(x, dim=axis, keepdim=keepdims)

    def mean(self, x, axis=None, keepdims=False):
        if axis is None:
            return self._torch.mean(x)
        return self._torch.mean(x, dim=axis, keepdim=keepdims)

    def zeros(self, shape):
        return self._torch.zeros(shape, dtype=self._torch.float64)

    def asarray(self, a):
        return self._torch.as_tensor(np.asarray(a, dtype=np.float64))


def _to_numpy(value) -> np.ndarray:
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


class TorchAdapter(Adapter):
    """PyTorch eager: ``torch.autograd.grad`` of f on a float64 tensor input."""

    strategy = "torch"
    label = "PyTorch eager"
    requires = ("torch",)
    distribution = "torch"
    timing_note = ("f: on a tensor without requires_grad (no graph recorded); f+grad: "
                   "torch.autograd.grad")

    @contextlib.contextmanager
    def one_thread(self):
        import torch
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with blas_one_thread():                  # the MKL and OpenMP it loaded
                yield
        finally:
            torch.set_num_threads(before)

    def threads_note(self) -> str:
        return "torch.set_num_threads(1), and its BLAS and OpenMP pools limited to 1"

    def namespace(self):
        import torch
        return TorchNamespace(torch)

    def prepare(self, f: Callable, x0) -> Prepared:
        """f of one array, or of a list of arrays (`costad peers --mlp`: the gradient is
        then a list, as ``torch.autograd.grad`` gives it)."""
        import torch

        # Inputs are made once, outside the timed calls, as costad's input array is.
        def tensors(requires_grad: bool):
            def tensor(a):
                return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)
            return [tensor(a) for a in x0] if isinstance(x0, list) else tensor(x0)
        plain, tracked = tensors(False), tensors(True)

        def fg():
            value = f(tracked)
            grads = torch.autograd.grad(value, tracked)
            return value, (list(grads) if isinstance(x0, list) else grads[0])
        return Prepared(f=lambda: f(plain), fg=fg, to_numpy=_to_numpy)


def scalar_inputs_call(f: Callable, x0: np.ndarray) -> Callable[[], tuple]:
    """Value and gradient of ``f`` taking a list of 0-d float64 tensors (one per scalar), the
    other way PyTorch users write scalar code (`costad peers` times both)."""
    import torch
    scalars = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in x0]

    def fg():
        value = f(scalars)
        return value, torch.autograd.grad(value, scalars)
    return fg
