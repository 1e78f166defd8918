"""costad: exact operation counts and timings for finite differences, forward and reverse mode.

Trace a plain NumPy function, count its elementary operations K per kind, and compute its
gradient by four strategies, every one of them counted by the same counter:

>>> import numpy as np, costad
>>> f = lambda x: np.sum(np.exp(x) * x)
>>> costad.count(f, np.ones(3)).total                   # K
>>> with costad.counting() as c:
...     costad.grad(f, mode="reverse")(np.ones(3))
>>> c.by_op
"""
from . import numpy_dispatch as _numpy_dispatch  # noqa: F401  (installs the NumPy protocols)
from . import chain
from .api import count, counted, hvp, jacobian, jvp, trace, vjp
from .cost import Cost, counting
from .errors import (CostadError, EscapedTracerError, InputTypeError, NonScalarOutputError,
                     ShapeError, UnsupportedOperationError)
from .gradients import MODES, default_step, grad, value_and_grad
from .graph import Graph, GraphNode
from .numpy_dispatch import supported_numpy
from .primitives import PRIMITIVES, stop_gradient
from .pytree import tree_leaves

__version__ = "0.1.0"

__all__ = [
    "trace", "count", "counted", "counting", "tree_leaves", "Cost", "Graph", "GraphNode",
    "grad", "value_and_grad", "jvp", "vjp", "jacobian", "hvp", "MODES", "default_step",
    "stop_gradient", "supported_numpy", "PRIMITIVES",
    "CostadError", "UnsupportedOperationError", "ShapeError", "InputTypeError",
    "NonScalarOutputError", "EscapedTracerError", "chain", "__version__",
]
