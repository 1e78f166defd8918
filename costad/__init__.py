"""costad: exact operation counts and timings for finite differences, forward and reverse mode.

Trace a plain NumPy function, count its elementary operations K per kind, and compute its
gradient by four strategies, every one of them counted by the same counter:

>>> import numpy as np, costad
>>> f = lambda x: np.sum(np.exp(x) * x)
>>> costad.count(f, np.ones(3)).total                   # K
>>> with costad.counting() as c:
...     costad.grad(f, mode="reverse")(np.ones(3))
>>> c.by_op

This package is the engine and imports NumPy only; the study harness (experiments,
results, figures, the command line) is `costad.study`.
"""
from . import numpy_dispatch as _numpy_dispatch  # noqa: F401  (installs the NumPy protocols)
from . import primitives as _primitives  # noqa: F401  (registers every family)
from . import chain
from .api import count, counted, hvp, jacobian, jvp, trace, vjp
from .cost import Cost, counting
from .errors import (AbstractValueError, CostadError, EscapedTracerError, FrozenConstantError,
                     LinAlgError, NonDifferentiableError, InputTypeError, NonScalarOutputError,
                     OutputTypeError, ShapeError, UnsupportedOperationError)
from .gradients import MODES, default_step, grad, value_and_grad
from .graph import Graph, GraphNode
from .numpy_dispatch import supported_numpy
from .loops import checkpoint, scan
from .timemodel import Calibration, Prediction, predict_time
from .pipelines import make_jvp, make_vjp
from .primitives import PRIMITIVES, stop_gradient
from .core import ShapeDtype
from .tree import TreeDef, tree_flatten, tree_leaves, tree_unflatten

__version__ = "0.1.0"

__all__ = [
    "trace", "count", "counted", "counting", "Cost", "Graph", "GraphNode",
    "grad", "value_and_grad", "jvp", "vjp", "jacobian", "hvp", "make_vjp", "make_jvp",
    "MODES", "default_step", "stop_gradient", "supported_numpy", "PRIMITIVES", "scan",
    "checkpoint", "Calibration", "Prediction", "predict_time",
    "TreeDef", "tree_flatten", "tree_unflatten", "tree_leaves", "ShapeDtype",
    "CostadError", "UnsupportedOperationError", "ShapeError", "InputTypeError",
    "OutputTypeError", "NonScalarOutputError", "EscapedTracerError", "AbstractValueError", "LinAlgError", "NonDifferentiableError",
    "FrozenConstantError",
    "chain", "__version__",
]
