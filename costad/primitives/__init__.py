"""The primitive table: every operation costad knows, one record each, by family.

Each record (`costad.core.Primitive`) keeps in one place the NumPy implementation, the cost
as a function of shapes (docs/design.md, section 2), the JVP rule and the VJP rule. The rules
are written with the primitives of this table, never with raw NumPy arithmetic, so the work
of differentiating is counted by the same counter as the function. Each family file also
registers the NumPy functions, methods and operators it implements:

- `elementwise`: arithmetic, elementary functions, comparisons, selection;
- `reductions`: sum, max, min over axes, and mean;
- `contractions`: matmul and what is written with it (dot, outer);
- `structural`: reshape, transpose, broadcasting, indexing, joining, axes (all free);
- `building`: numpy.array of traced values, stacking, repeat, tile, pad, linspace;
- `indexing`: split, flips, roll, take, diag, diagonal, tril, triu, sort, select (free).

Adding a primitive means one record in one family file, plus its entry in the sample table
of ``tests/test_primitives.py``.
"""
from ._base import PRIMITIVES, IndexedCotangent
from .elementwise import (abs_, add, clip, cos, div, equal, exp, greater, greater_equal, less,
                          less_equal, log, maximum, minimum, mul, neg, not_equal, pow, power,
                          sign, sin, sqrt, sub, tanh, where)
from .structural import (broadcast_to, concatenate, getitem, reshape, scatter, setitem,
                         stop_gradient, transpose)
from .reductions import max_, mean, min_, sum_, unbroadcast
from .contractions import dot, matmul, outer
from .building import stack
from . import indexing  # noqa: F401  (registers its NumPy functions)

__all__ = [
    "PRIMITIVES", "IndexedCotangent",
    "add", "sub", "mul", "div", "neg", "pow", "power", "exp", "log", "sqrt", "tanh", "sin",
    "cos", "abs_", "maximum", "minimum", "sign", "greater", "greater_equal", "less",
    "less_equal", "equal", "not_equal", "where", "clip",
    "sum_", "max_", "min_", "mean", "unbroadcast", "matmul", "dot", "outer",
    "reshape", "transpose", "broadcast_to", "getitem", "scatter", "setitem", "concatenate",
    "stack", "stop_gradient",
]
