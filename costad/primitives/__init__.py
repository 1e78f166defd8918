"""The primitive table: every operation costad knows, one record each, by family.

Each record (`costad.core.Primitive`) keeps in one place the NumPy implementation, the cost
as a function of shapes (docs/design.md, section 2), the JVP rule and the VJP rule. The rules
are written with the primitives of this table, never with raw NumPy arithmetic, so the work
of differentiating is counted by the same counter as the function. Each family file also
registers the NumPy functions, methods and operators it implements:

- `elementwise`: arithmetic, exp, log, sqrt, tanh, sin, cos, comparisons, selection,
  fmax and fmin, rounding and remainders, nan_to_num;
- `transcendental`: the other elementary functions (tan, arcsin, sinh, log1p, expm1,
  logaddexp, hypot, sinc, cbrt, ...), and the angle conversions;
- `reductions`: sum, max, min over axes, and mean;
- `contractions`: matmul and what is written with it (dot, outer);
- `structural`: reshape, transpose, broadcasting, indexing, joining, axes (all free);
- `building`: numpy.array of traced values, stacking, repeat, tile, pad, linspace;
- `indexing`: split, flips, roll, take, diag, diagonal, tril, triu, sort, select (free);
- `linalg`: numpy.linalg's solve, inv, det, slogdet, cholesky, eigh, eigvalsh, svd, svdvals
  and pinv (LAPACK-backed: the textbook algorithm's exact counts, or for eigh and svd the
  standard dense model count, in a kind of its own).

Adding a primitive means one record in one family file, plus its entry in the sample table
of ``tests/test_primitives.py``.
"""
from ._base import PRIMITIVES, IndexedCotangent, TupleCotangent
from .elementwise import (abs_, add, ceil, clip, cos, div, equal, exp, floor, floor_divide,
                          fmax, fmin, fmod, greater, greater_equal, isfinite, isinf, isnan,
                          less, less_equal, log, maximum, minimum, mod, mul, nan_to_num, neg,
                          not_equal, pow, power, rint, round_, sign, sin, sqrt, sub, tanh,
                          trunc, where)
from .transcendental import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cbrt,
                             cosh, deg2rad, exp2, expm1, hypot, log1p, log2, log10, logaddexp,
                             logaddexp2, rad2deg, sinc, sinh, tan)
from .structural import (astype, broadcast_to, concatenate, getitem, reshape, scatter,
                         setitem, stop_gradient, transpose)
from .reductions import max_, mean, min_, sum_, unbroadcast
from .contractions import dot, matmul, outer
from .building import stack
from . import indexing  # noqa: F401  (registers its NumPy functions)
from .linalg import (cholesky, det, eigh, eigvalsh, inv, pinv, slogdet, solve, svd, svdvals,
                     triangular_solve)
from ..core import ShapeDtype as _ShapeDtype
from ..numpy_dispatch import install_array_api as _install_array_api

# Abstract values answer NumPy as traced values do (an abstract mask's .sum(), &, ~), but
# keep their own shape, dtype, equality (a ShapeDtype compares as a spec) and refusals of
# conversions.
_install_array_api(_ShapeDtype, keep=("__eq__", "__ne__", "__hash__", "__bool__", "__float__",
                                      "__int__", "__index__", "__array__", "__len__"))

__all__ = [
    "PRIMITIVES", "IndexedCotangent", "TupleCotangent",
    "add", "sub", "mul", "div", "neg", "pow", "power", "exp", "log", "sqrt", "tanh", "sin",
    "cos", "abs_", "maximum", "minimum", "sign", "greater", "greater_equal", "less",
    "less_equal", "equal", "not_equal", "where", "clip",
    "fmax", "fmin", "floor", "ceil", "trunc", "rint", "round_", "floor_divide", "isfinite",
    "isnan", "isinf", "mod", "fmod", "nan_to_num",
    "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "arcsinh", "arccosh",
    "arctanh", "log1p", "expm1", "log2", "log10", "exp2", "logaddexp", "logaddexp2", "hypot",
    "sinc", "cbrt", "deg2rad", "rad2deg",
    "sum_", "max_", "min_", "mean", "unbroadcast", "matmul", "dot", "outer",
    "reshape", "transpose", "broadcast_to", "getitem", "scatter", "setitem", "concatenate",
    "stack", "stop_gradient", "astype",
    "solve", "inv", "det", "slogdet", "cholesky", "triangular_solve", "eigh", "eigvalsh",
    "svd", "svdvals", "pinv",
]
