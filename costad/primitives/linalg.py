"""Linear algebra: solve, inv, det, slogdet, cholesky, eigh, eigvalsh, svd, svdvals, pinv.

Each primitive runs NumPy's LAPACK-backed routine, so its values are NumPy's, and counts
the textbook algorithm it stands for, per kind, as exact integers for a single n x n
matrix (``m x n`` for svd and pinv); a stack of matrices (batch dimensions, broadcast as
NumPy does) costs that per matrix of the broadcast stack.

Exact counts (docs/design.md, section 2):

- LU factorisation with partial pivoting (Doolittle, the pivot search and row swaps not
  counted): sum_{k=1}^{n-1} (n-k)^2 = (n-1)n(2n-1)/6 mul and as many sub (the updates),
  sum_{k=1}^{n-1} (n-k) = n(n-1)/2 div (the multipliers).
- Substitutions for one right-hand side: forward with the unit lower factor,
  sum_{k=1}^{n} (k-1) = n(n-1)/2 mul and as many sub; back with the upper factor,
  sum_{k=1}^{n} (n-k) = n(n-1)/2 mul and as many sub, plus n div. Together n(n-1) mul,
  n(n-1) sub, n div.
- ``solve(a, b)``: one LU, then both substitutions per column of b (one for a vector b).
- ``inv(a)``: one LU, then both substitutions for each of the n columns of the identity
  (LAPACK's gesv on the identity, which is what NumPy calls; the zeros of the unit
  vectors are not exploited): (n-1)n(2n-1)/6 + n^2(n-1) mul and sub, n(n-1)/2 + n^2 div.
- ``det(a)``: one LU and the product of the n pivots, n-1 mul (the sign of the
  permutation is free).
- ``slogdet(a)``: one LU, n log of the pivots' magnitudes and n-1 add to sum them; the
  magnitudes and the sign (sign bits and the permutation's parity) are free.
- ``cholesky(a)`` (Cholesky-Banachiewicz): n sqrt, sum_{j=1}^{n} (n-j) = n(n-1)/2 div,
  sum_{j=1}^{n} (j-1)(n-j+1) = (n^3-n)/6 mul and as many sub.
- ``triangular_solve`` (internal, for the derivatives of cholesky): one substitution per
  right-hand side, n(n-1)/2 mul and sub and n div.

Model counts. The work of eigh and svd depends on how fast their iterations converge, so
they count the standard dense estimate of Golub and Van Loan ("Matrix Computations", 4th
ed., sections 8.3 and 8.6; one flop = one elementary operation), in a kind of its own named
after the primitive, so that a model never mixes with the exact counts of the other kinds
(and the totals stay integers):

- ``eigh`` (symmetric QR algorithm, eigenvalues and eigenvectors): 9 n^3, kind ``eigh``;
- ``eigvalsh`` (eigenvalues only): floor(4 n^3 / 3), kind ``eigvalsh``;
- ``svd`` (Golub-Reinsch, p = max(m, n) >= q = min(m, n)): thin (U1, S, V)
  14 p q^2 + 8 q^3, full (U, S, V) 4 p^2 q + 8 p q^2 + 9 q^3, kind ``svd``;
- ``svdvals`` (singular values only): floor((12 p q^2 - 4 q^3) / 3), kind ``svdvals``;
- ``pinv``: NumPy's algorithm, a thin svd (kind ``svd``) then exact counts: q-1 max and one
  mul for the cutoff, q greater to compare with it, q div for the reciprocals, q·m mul to
  scale the rows of U^T, and the (n, q) @ (q, m) product, n·q·m mul and n·(q-1)·m add.

Derivatives are written with costad's primitives, so their work is counted:

- solve: x = a^-1 b; ct_b = solve(a^T, ct), ct_a = -ct_b x^T; tangent solve(a, db - da x);
- inv: ct_a = -inv^T ct inv^T; tangent -inv da inv;
- det: ct_a = ct det inv(a)^T; tangent det tr(solve(a, da));
- slogdet: ct_a = ct_logabsdet inv(a)^T; tangent tr(solve(a, da)); the sign is a constant;
- cholesky (Murray 2016, as in JAX): dL = L phi(L^-1 dS L^-T), phi taking the lower triangle
  with the diagonal halved, by two triangular solves; its transpose for the VJP;
- eigh (w, V): dw = diag(V^T dS V), dV = V (F o (V^T dS V)) with F_ij = 1/(w_j - w_i) off
  the diagonal; eigvalsh: dw alone (it recomputes V with an eigh, which is counted);
- svd (U, s, Vh), as in JAX and Townsend 2016, with F_ij = 1/(s_j^2 - s_i^2); svdvals:
  ds = diag(U^T da V) (it recomputes U and V with a thin svd, which is counted);
- pinv: Golub and Pereyra's formula (1973), exact where the rank is locally constant.

eigh, eigvalsh and cholesky read one triangle of their input, as NumPy does (the lower one
unless ``UPLO='U'``/``upper=True``), so their derivatives with respect to the other triangle
are zero, and those with respect to the read triangle take both symmetric entries.

Points where a derivative does not exist raise `NonDifferentiableError`, never a wrong
number: eigenvectors where eigenvalues (nearly) coincide, singular vectors where singular
values (nearly) coincide or vanish (eigenvalues and singular values alone stay
differentiable: use eigvalsh or svdvals, or use only those outputs in reverse mode, where a
zero cotangent of the vectors is detected). "Nearly" means closer than 10·k·eps·max|value|
(k values, eps of their dtype). det and slogdet at a singular matrix raise, since their
derivatives use inv(a). A LAPACK failure (singular matrix, not positive definite, no
convergence) raises `costad.errors.LinAlgError`, a subclass of numpy.linalg.LinAlgError.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..boxing import BoxTracer
from ..core import Joint, Primitive, ShapeDtype, Tracer, dtype_of, primal_value, shape_of
from ..errors import LinAlgError, NonDifferentiableError, ShapeError, UnsupportedOperationError
from ..numpy_dispatch import implements, unsupported
from ._base import register, result_dtype
from .elementwise import add, div, equal, mul, neg, sub, where
from .contractions import matmul
from .reductions import sum_
from .structural import concatenate, getitem, reshape, scatter, stop_gradient, swap_last

__all__ = ["solve", "inv", "det", "slogdet", "cholesky", "triangular_solve", "eigh",
           "eigvalsh", "svd", "svdvals", "pinv", "lu_counts", "substitution_counts",
           "cholesky_counts", "eigh_model", "eigvalsh_model", "svd_model", "svdvals_model"]

_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


# ------------------------------------------------------------------------- the counts

def _prod(shape) -> int:
    out = 1
    for n in shape:
        out *= int(n)
    return out


def _times(counts: dict, factor: int) -> dict:
    return {kind: int(v) * int(factor) for kind, v in counts.items() if v and factor}


def _merge(*parts: dict) -> dict:
    out: dict = {}
    for part in parts:
        for kind, v in part.items():
            if v:
                out[kind] = out.get(kind, 0) + int(v)
    return out


def lu_counts(n: int) -> dict:
    """LU with partial pivoting of an n x n matrix: sum_{k=1}^{n-1} (n-k)^2 mul and sub,
    sum_{k=1}^{n-1} (n-k) div (closed forms, so that abstract counts at any n are O(1))."""
    updates = (n - 1) * n * (2 * n - 1) // 6 if n > 1 else 0
    return {"mul": updates, "sub": updates, "div": n * (n - 1) // 2}


def substitution_counts(n: int, unit: bool) -> dict:
    """One triangular substitution for one right-hand side: n(n-1)/2 mul and sub, plus n
    div unless the diagonal is unit."""
    pairs = n * (n - 1) // 2
    return {"mul": pairs, "sub": pairs, "div": 0 if unit else n}


def _lu_solve_counts(n: int) -> dict:
    """Forward (unit lower) then back (upper) substitution, for one right-hand side."""
    return _merge(substitution_counts(n, unit=True), substitution_counts(n, unit=False))


def cholesky_counts(n: int) -> dict:
    """Cholesky-Banachiewicz: n sqrt, n(n-1)/2 div, (n^3-n)/6 mul and sub."""
    inner = (n ** 3 - n) // 6
    return {"sqrt": n, "div": n * (n - 1) // 2, "mul": inner, "sub": inner}


def eigh_model(n: int) -> dict:
    """Symmetric QR with eigenvectors, Golub-Van Loan's estimate: 9 n^3 (a model)."""
    return {"eigh": 9 * n ** 3}


def eigvalsh_model(n: int) -> dict:
    """Symmetric QR, eigenvalues only: floor(4 n^3 / 3) (a model)."""
    return {"eigvalsh": 4 * n ** 3 // 3}


def svd_model(m: int, n: int, full_matrices: bool = False) -> dict:
    """Golub-Reinsch SVD with vectors, Golub-Van Loan's estimate (a model): thin
    14 p q^2 + 8 q^3, full 4 p^2 q + 8 p q^2 + 9 q^3, p = max(m, n), q = min(m, n)."""
    p, q = max(m, n), min(m, n)
    if q == 0:
        return {}
    if full_matrices:
        return {"svd": 4 * p * p * q + 8 * p * q * q + 9 * q ** 3}
    return {"svd": 14 * p * q * q + 8 * q ** 3}


def svdvals_model(m: int, n: int) -> dict:
    """Golub-Reinsch, singular values only: floor((12 p q^2 - 4 q^3) / 3) (a model)."""
    p, q = max(m, n), min(m, n)
    return {"svdvals": (12 * p * q * q - 4 * q ** 3) // 3}


# ------------------------------------------------------------------ checks and helpers

def _name(fn: str) -> str:
    return f"numpy.linalg.{fn}"


def _check_matrix(a, fn: str, square: bool = True) -> tuple:
    shape = tuple(shape_of(a))
    if len(shape) < 2:
        raise ShapeError(f"costad: {_name(fn)} needs an array of at least two dimensions "
                         f"(..., {'n, n' if square else 'm, n'}); got shape {shape}")
    if square and shape[-1] != shape[-2]:
        raise ShapeError(f"costad: {_name(fn)} needs square matrices (..., n, n); got "
                         f"shape {shape}")
    return shape


def _check_dtype(fn: str, *xs) -> None:
    for x in xs:
        dtype = np.dtype(dtype_of(x))
        if dtype.kind == "c":
            raise unsupported(f"{_name(fn)} on complex arrays (costad differentiates "
                              "real-valued programs)")
        if dtype.kind == "f" and dtype not in (np.float32, np.float64):
            raise unsupported(f"{_name(fn)} on {dtype} arrays (NumPy's linalg works in "
                              "float32 and float64)")
        if dtype.kind not in "fiub":
            raise unsupported(f"{_name(fn)} on arrays of dtype {dtype}")


def _operand(x):
    """A constant operand as an array (lists allowed); traced values unchanged."""
    return x if isinstance(x, Tracer) else np.asarray(x)


def _guarded(what: str, prim: Primitive, *args, **params):
    """``prim(*args, **params)``, turning a LAPACK failure (which the engine reports as a
    ShapeError caused by numpy.linalg.LinAlgError) into `LinAlgError` naming ``what``."""
    try:
        return prim(*args, **params)
    except ShapeError as err:
        cause = err.__cause__
        if isinstance(cause, np.linalg.LinAlgError):
            raise LinAlgError(f"costad: {what}: {cause}") from None
        raise


def _eye(n: int) -> np.ndarray:
    return np.eye(n, dtype=bool)


def _triangle(n: int, lower: bool, strict: bool = False) -> np.ndarray:
    ones = np.ones((n, n), dtype=bool)
    k = 1 if strict else 0
    return np.tril(ones, -k) if lower else np.triu(ones, k)


def _diagonal(x):
    """x[..., i, i] (free)."""
    n = shape_of(x)[-1]
    ar = np.arange(n)
    return getitem(x, index=(Ellipsis, ar, ar))


def _trace(x):
    """Sum of the diagonal: n - 1 adds per matrix."""
    return sum_(_diagonal(x), axis=(len(shape_of(x)) - 2,), keepdims=False)


def _row(v):
    """(..., n) -> (..., 1, n) (free)."""
    s = shape_of(v)
    return reshape(v, shape=s[:-1] + (1, s[-1]))


def _col(v):
    """(..., n) -> (..., n, 1) (free)."""
    return reshape(v, shape=tuple(shape_of(v)) + (1,))


def _per_matrix(c):
    """A value per matrix of a stack, (...), shaped to scale (..., n, n) (free)."""
    return reshape(c, shape=tuple(shape_of(c)) + (1, 1))


def _symmetric_from(t, lower: bool):
    """The symmetric matrix NumPy reads from one triangle of ``t`` (a free selection)."""
    n = shape_of(t)[-1]
    return where(_triangle(n, lower), t, swap_last(t))


def _fold_to_triangle(g, lower: bool):
    """The cotangent of a matrix read through one triangle: with S = sym(t), dL/dt_ij =
    g_ij + g_ji off the diagonal of the read triangle, g_ii on it, 0 elsewhere (g the
    cotangent of S). n(n-1)/2 adds per matrix: only the read entries are summed."""
    n = shape_of(g)[-1]
    rows, cols = np.tril_indices(n, -1) if lower else np.triu_indices(n, 1)
    off = add(getitem(g, index=(Ellipsis, rows, cols)), getitem(g, index=(Ellipsis, cols, rows)))
    folded = scatter(off, shape=tuple(shape_of(g)), index=(Ellipsis, rows, cols))
    return where(_eye(n), g, folded)


def _reciprocal_gaps(values, squared: bool = False):
    """D with D_ij = v_j - v_i (or v_j^2 - v_i^2), and 1 on the diagonal, so that X / D is
    X o F with F the matrix of reciprocal gaps (its diagonal then masked)."""
    v = mul(values, values) if squared else values
    gaps = sub(_row(v), _col(v))
    return where(_eye(shape_of(values)[-1]), 1.0, gaps)


def _nonzero(d):
    """A denominator with its zeros replaced by 1 (one comparison per element): used where
    the numerator is zero there, or the derivative was refused (`_check_separated`)."""
    return where(equal(d, 0.0), 1.0, d)


def _off_diagonal_div(x, gaps):
    """F o x: x / gaps off the diagonal, 0 on it."""
    return where(_eye(shape_of(x)[-1]), 0.0, div(x, gaps))


def _check_separated(values, what: str, names: str, hint: str, zero: bool = False) -> None:
    """Refuse a derivative that does not exist: ``values`` (nearly) coinciding, or (with
    ``zero``) vanishing. A check of the data, not arithmetic of the derivative: not counted.
    """
    v = primal_value(values)
    if not isinstance(v, (np.ndarray, np.generic)):        # abstract (ShapeDtype) values
        return
    v = np.asarray(v)
    k = v.shape[-1] if v.ndim else 0
    if k == 0 or v.size == 0:
        return
    eps = np.finfo(v.dtype).eps if v.dtype.kind == "f" else np.finfo(float).eps
    scale = np.max(np.abs(v), axis=-1, keepdims=True)
    tol = 10.0 * k * eps * scale
    ordered = np.sort(v, axis=-1)
    close = np.diff(ordered, axis=-1) <= tol
    if np.any(close):
        where_ = np.argwhere(close)[0]
        pair = ordered[tuple(where_[:-1]) + (slice(where_[-1], where_[-1] + 2),)]
        raise NonDifferentiableError(
            f"costad: the derivative of {what} does not exist where {names} coincide (here "
            f"{pair[0]:.17g} and {pair[1]:.17g}, closer than 10·k·eps·max|value|); {hint}")
    if zero and np.any(np.abs(v) <= tol):
        raise NonDifferentiableError(
            f"costad: the derivative of {what} does not exist where a {names[:-1]} is zero "
            f"(here {np.min(np.abs(v)):.3g}, under 10·k·eps·max|value|: a rank-deficient "
            "matrix)")


def _is_plain_zero(x, index=Ellipsis) -> bool:
    """True for a cotangent block ``x[index]`` that is exactly zero and carries no
    derivative: the output it belongs to was not used, so its term can be skipped. A block
    traced by an interpretation that differentiates is never assumed zero (its derivative
    may not be); counted evaluation (BoxTracer) carries none."""
    while isinstance(x, BoxTracer):
        x = x.value
    if isinstance(x, (Tracer, ShapeDtype)):
        return False
    return not np.any(np.asarray(x)[index])


# ---------------------------------------------------------------------- packed outputs
#
# A primitive has one output. eigh, svd and slogdet compute several arrays in one LAPACK
# call (counted once), so their primitives return them packed along a last axis, each
# flattened, and the NumPy entry points unpack them with free indexing and reshapes.

def _pack_numpy(batch: tuple, *parts) -> np.ndarray:
    return np.concatenate([np.reshape(p, batch + (-1,)) for p in parts], axis=-1)


def _pack(batch: tuple, *parts):
    return concatenate(*[reshape(p, shape=batch + (_prod(shape_of(p)[len(batch):]),))
                         for p in parts], axis=len(batch))


def _unpack(packed, shapes: list[tuple]) -> list:
    batch = tuple(shape_of(packed))[:-1]
    out, start = [], 0
    for shape in shapes:
        size = _prod(shape)
        part = getitem(packed, index=(Ellipsis, slice(start, start + size)))
        out.append(reshape(part, shape=batch + shape))
        start += size
    return out


# -------------------------------------------------------------------------------- solve

def _is_vector_rhs(a_shape: tuple, b_shape: tuple) -> bool:
    """NumPy's rule for b: a vector if 1-D (NumPy 2), or if b.ndim == a.ndim - 1 (NumPy 1)."""
    if _NUMPY2:
        return len(b_shape) == 1
    return len(b_shape) == len(a_shape) - 1


def _solve_shape(a_shape: tuple, b_shape: tuple) -> tuple:
    n = a_shape[-1]
    if _is_vector_rhs(a_shape, b_shape):
        if b_shape[-1] != n:
            raise ValueError(f"b has {b_shape[-1]} rows, a has {n}")
        return np.broadcast_shapes(a_shape[:-2], b_shape[:-1]) + (n,)
    if len(b_shape) < 2 or b_shape[-2] != n:
        raise ValueError(f"b of shape {b_shape} does not have the {n} rows of a")
    return np.broadcast_shapes(a_shape[:-2], b_shape[:-2]) + (n, b_shape[-1])


def _solve_cost(out, a, b):
    n = shape_of(a)[-1]
    shape = tuple(shape_of(out))
    if _is_vector_rhs(tuple(shape_of(a)), tuple(shape_of(b))):
        matrices, rhs = _prod(shape[:-1]), 1
    else:
        matrices, rhs = _prod(shape[:-2]), shape[-1]
    return _merge(_times(lu_counts(n), matrices), _times(_lu_solve_counts(n), matrices * rhs))


def _as_columns(a, b, *values):
    """``values`` (b-shaped or x-shaped) as stacks of columns, and a function giving a
    result back in b's layout: a vector b is one column (free reshapes)."""
    if _is_vector_rhs(tuple(shape_of(a)), tuple(shape_of(b))):
        return [_col(v) for v in values], lambda y: reshape(y, shape=tuple(shape_of(y))[:-1])
    return list(values), lambda y: y


def _solve_jvp(tangents, out, a, b):
    # dx = a^-1 (db - da x)
    ta, tb = tangents
    (x_c,), back = _as_columns(a, b, out)
    rhs = None if ta is None else matmul(ta, x_c)
    if tb is None:
        return back(neg(solve(a, rhs)))
    (tb_c,), _ = _as_columns(a, b, tb)
    return back(solve(a, tb_c if rhs is None else sub(tb_c, rhs)))


def _solve_vjp(ct, out, a, b, needs):
    (ct_c, x_c), back = _as_columns(a, b, ct, out)
    w = solve(swap_last(a), ct_c)                   # a^-T ct, shared by both cotangents
    ct_a = matmul(neg(w), swap_last(x_c)) if needs[0] else None      # -ct_b x^T
    return ct_a, back(w) if needs[1] else None


def _solve_abstract(a, b):
    return ShapeDtype(_solve_shape(tuple(shape_of(a)), tuple(shape_of(b))), result_dtype(a, b))


solve = register(Primitive(
    "solve", np.linalg.solve, _solve_cost, _solve_jvp, Joint(_solve_vjp),
    abstract=_solve_abstract,
    doc="x = a^-1 b by LU with partial pivoting: (n-1)n(2n-1)/6 mul and sub, n(n-1)/2 div, "
        "then per right-hand side n(n-1) mul and sub and n div"))


# ---------------------------------------------------------------------------------- inv

def _inv_cost(out, a):
    n = shape_of(a)[-1]
    matrices = _prod(tuple(shape_of(out))[:-2])
    return _merge(_times(lu_counts(n), matrices), _times(_lu_solve_counts(n), matrices * n))


inv = register(Primitive(
    "inv", np.linalg.inv, _inv_cost,
    lambda tangents, out, a: neg(matmul(matmul(out, tangents[0]), out)),
    (lambda ct, out, a: neg(matmul(matmul(swap_last(out), ct), swap_last(out))),),
    abstract=lambda a: ShapeDtype(tuple(shape_of(a)), result_dtype(a)),
    doc="a^-1: LU, then both substitutions for the n columns of the identity"))


# ---------------------------------------------------------------------- det and slogdet

def _inverse_for(what: str, a):
    return _guarded(f"the derivative of {_name(what)} uses inv(a), and a is singular",
                    inv, a)


def _log_det_tangent(a, ta, what: str):
    """tr(a^-1 da), by a solve with the n columns of da, then n-1 adds."""
    return _trace(_guarded(f"the derivative of {_name(what)} solves with a, and a is "
                           "singular", solve, a, ta))


def _det_cost(out, a):
    n = shape_of(a)[-1]
    matrices = _prod(tuple(shape_of(a))[:-2])
    return _times(_merge(lu_counts(n), {"mul": max(n - 1, 0)}), matrices)


det = register(Primitive(
    "det", np.linalg.det, _det_cost,
    lambda tangents, out, a: mul(out, _log_det_tangent(a, tangents[0], "det")),
    (lambda ct, out, a: mul(_per_matrix(mul(ct, out)), swap_last(_inverse_for("det", a))),),
    abstract=lambda a: ShapeDtype(tuple(shape_of(a))[:-2], result_dtype(a)),
    doc="det(a): LU, then the product of the n pivots (n - 1 mul)"))


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return np.stack([sign, logabsdet], axis=-1)


def _slogdet_cost(out, a):
    n = shape_of(a)[-1]
    matrices = _prod(tuple(shape_of(a))[:-2])
    return _times(_merge(lu_counts(n), {"log": n, "add": max(n - 1, 0)}), matrices)


def _slogdet_jvp(tangents, out, a):
    t = _log_det_tangent(a, tangents[0], "slogdet")
    zero = np.zeros(tuple(shape_of(t)) + (1,), dtype=dtype_of(out))
    return concatenate(zero, reshape(t, shape=tuple(shape_of(t)) + (1,)), axis=-1)


def _slogdet_vjp(ct, out, a):
    c = getitem(ct, index=(Ellipsis, 1))          # the sign's cotangent is not used
    return mul(_per_matrix(c), swap_last(_inverse_for("slogdet", a)))


slogdet = register(Primitive(
    "slogdet", _slogdet_impl, _slogdet_cost, _slogdet_jvp, (_slogdet_vjp,),
    abstract=lambda a: ShapeDtype(tuple(shape_of(a))[:-2] + (2,), result_dtype(a)),
    doc="(sign, log|det a|) packed on a last axis of 2: LU, n log, n - 1 add; the sign is "
        "a constant"))


# ------------------------------------------------------------------ triangular solves

def _triangular_solve_impl(t, b, lower=True):
    """Forward (lower) or back (upper) substitution, reading one triangle of t."""
    t, b = np.asarray(t), np.asarray(b)
    if t.ndim < 2 or t.shape[-1] != t.shape[-2] or b.ndim < 2 or b.shape[-2] != t.shape[-1]:
        raise ValueError(f"triangular_solve needs (..., n, n) and (..., n, k), got "
                         f"{t.shape} and {b.shape}")
    n = t.shape[-1]
    batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    dtype = np.result_type(t, b, 0.0)
    t = np.broadcast_to(t, batch + (n, n))
    b = np.broadcast_to(b, batch + b.shape[-2:])
    x = np.zeros(batch + b.shape[-2:], dtype=dtype)
    order = range(n) if lower else range(n - 1, -1, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in order:
            known = slice(0, i) if lower else slice(i + 1, n)
            partial = np.matmul(t[..., i:i + 1, known], x[..., known, :])[..., 0, :]
            x[..., i, :] = (b[..., i, :] - partial) / t[..., i, i][..., None]
    return x


def _triangular_solve_cost(out, t, b, lower=True):
    n = shape_of(t)[-1]
    shape = tuple(shape_of(out))
    return _times(substitution_counts(n, unit=False), _prod(shape[:-2]) * shape[-1])


def _triangular_solve_jvp(tangents, out, t, b, lower=True):
    tt, tb = tangents
    n = shape_of(t)[-1]
    rhs = None if tt is None else matmul(where(_triangle(n, lower), tt, 0.0), out)
    if tb is None:
        return neg(triangular_solve(t, rhs, lower=lower))
    return triangular_solve(t, tb if rhs is None else sub(tb, rhs), lower=lower)


def _triangular_solve_vjp(ct, out, t, b, needs, lower=True):
    w = triangular_solve(swap_last(t), ct, lower=not lower)     # shared
    ct_t = None
    if needs[0]:
        n = shape_of(t)[-1]
        ct_t = where(_triangle(n, lower), matmul(neg(w), swap_last(out)), 0.0)
    return ct_t, w if needs[1] else None


triangular_solve = register(Primitive(
    "triangular_solve", _triangular_solve_impl, _triangular_solve_cost,
    _triangular_solve_jvp, Joint(_triangular_solve_vjp),
    abstract=lambda t, b, lower=True: ShapeDtype(
        _solve_shape(tuple(shape_of(t)), tuple(shape_of(b))), result_dtype(t, b)),
    doc="x = t^-1 b for t triangular (only its lower or upper triangle is read), by "
        "substitution: n(n-1)/2 mul and sub and n div per right-hand side"))


# ---------------------------------------------------------------------------- cholesky

def _cholesky_cost(out, a):
    n = shape_of(a)[-1]
    return _times(cholesky_counts(n), _prod(tuple(shape_of(a))[:-2]))


def _phi(x):
    """The lower triangle of x with its diagonal halved (n mul per matrix)."""
    n = shape_of(x)[-1]
    half = mul(_diagonal(x), 0.5)
    return where(_eye(n), _row(half), where(_triangle(n, True, strict=True), x, 0.0))


def _cholesky_jvp(tangents, out, a):
    # dL = L phi(L^-1 dS L^-T), dS the symmetric tangent read from the lower triangle.
    ds = _symmetric_from(tangents[0], lower=True)
    y = triangular_solve(out, ds, lower=True)                 # L^-1 dS
    z = triangular_solve(out, swap_last(y), lower=True)       # L^-1 dS L^-T (symmetric)
    return matmul(out, _phi(z))


def _cholesky_vjp(ct, out, a):
    # Transpose of the JVP: G = L^-T phi(L^T ct) L^-1, folded onto the lower triangle.
    p = _phi(matmul(swap_last(out), ct))
    y = triangular_solve(swap_last(out), p, lower=False)      # L^-T P
    g = swap_last(triangular_solve(swap_last(out), swap_last(y), lower=False))   # y L^-1
    return _fold_to_triangle(g, lower=True)


cholesky = register(Primitive(
    "cholesky", np.linalg.cholesky, _cholesky_cost, _cholesky_jvp,
    (_cholesky_vjp,),
    abstract=lambda a: ShapeDtype(tuple(shape_of(a)), result_dtype(a)),
    doc="lower Cholesky factor L of the matrix read from a's lower triangle "
        "(Cholesky-Banachiewicz: n sqrt, n(n-1)/2 div, (n^3-n)/6 mul and sub)"))


# ------------------------------------------------------------------------ eigh, eigvalsh

_EIGH_HINT = ("the eigenvalues alone have a first derivative there: use "
              "numpy.linalg.eigvalsh, or only eigh's eigenvalues in reverse mode (their "
              "second derivatives need the eigenvectors')")


def _eigh_impl(a, UPLO="L"):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return _pack_numpy(np.shape(w)[:-1], w, v)


def _eigh_split(packed, n: int):
    return _unpack(packed, [(n,), (n, n)])


def _eigh_cost(out, a, UPLO="L"):
    return _times(eigh_model(shape_of(a)[-1]), _prod(tuple(shape_of(a))[:-2]))


def _eigh_jvp(tangents, out, a, UPLO="L"):
    n = shape_of(a)[-1]
    w, v = _eigh_split(out, n)
    _check_separated(w, "numpy.linalg.eigh's eigenvectors", "eigenvalues", _EIGH_HINT)
    ds = _symmetric_from(tangents[0], lower=UPLO == "L")
    x = matmul(matmul(swap_last(v), ds), v)                   # V^T dS V
    dv = matmul(v, _off_diagonal_div(x, _reciprocal_gaps(w)))
    return _pack(tuple(shape_of(out))[:-1], _diagonal(x), dv)


def _eigh_vjp(ct, out, a, UPLO="L"):
    n = shape_of(a)[-1]
    w, v = _eigh_split(out, n)
    ct_w, ct_v = _eigh_split(ct, n)
    # The whole rule runs whatever the cotangent's values, so that counts depend on shapes
    # only; where eigenvalues coincide the eigenvectors have no derivative: refused if
    # their cotangent is not zero, and the zero gaps are made harmless otherwise.
    if not _is_plain_zero(ct_v):
        _check_separated(w, "numpy.linalg.eigh's eigenvectors", "eigenvalues", _EIGH_HINT)
    x = _off_diagonal_div(matmul(swap_last(v), ct_v), _nonzero(_reciprocal_gaps(w)))
    m = where(_eye(n), _row(ct_w), x)                           # diag(ct_w) + F o V^T ct_V
    g = matmul(matmul(v, m), swap_last(v))
    return _fold_to_triangle(g, lower=UPLO == "L")


def _eigh_abstract(a, UPLO="L"):
    shape = tuple(shape_of(a))
    n = shape[-1]
    return ShapeDtype(shape[:-2] + (n + n * n,), result_dtype(a))


eigh = register(Primitive(
    "eigh", _eigh_impl, _eigh_cost, _eigh_jvp, (_eigh_vjp,),
    abstract=_eigh_abstract,
    doc="eigenvalues w and eigenvectors V of the symmetric matrix read from one triangle, "
        "packed as (..., n + n*n); model count 9 n^3 (kind eigh)"))


def _eigvalsh_cost(out, a, UPLO="L"):
    return _times(eigvalsh_model(shape_of(a)[-1]), _prod(tuple(shape_of(a))[:-2]))


def _eigenvectors(a, UPLO):
    n = shape_of(a)[-1]
    return _eigh_split(_guarded(_name("eigvalsh"), eigh, a, UPLO=UPLO), n)[1]


def _eigvalsh_jvp(tangents, out, a, UPLO="L"):
    v = _eigenvectors(a, UPLO)
    ds = _symmetric_from(tangents[0], lower=UPLO == "L")
    # dw_i = v_i^T dS v_i: one product, then the columns' dot products.
    return sum_(mul(v, matmul(ds, v)), axis=(len(shape_of(v)) - 2,), keepdims=False)


def _eigvalsh_vjp(ct, out, a, UPLO="L"):
    v = _eigenvectors(a, UPLO)
    return _fold_to_triangle(matmul(mul(v, _row(ct)), swap_last(v)), lower=UPLO == "L")


eigvalsh = register(Primitive(
    "eigvalsh", lambda a, UPLO="L": np.linalg.eigvalsh(a, UPLO=UPLO),
    _eigvalsh_cost, _eigvalsh_jvp, (_eigvalsh_vjp,),
    abstract=lambda a, UPLO="L": ShapeDtype(tuple(shape_of(a))[:-1], result_dtype(a)),
    doc="eigenvalues of the symmetric matrix read from one triangle; model count "
        "floor(4 n^3 / 3) (kind eigvalsh); derivatives recompute V with eigh"))


# --------------------------------------------------------------------- svd, svdvals

_SVD_HINT = ("the singular values alone have a first derivative there: use "
             "numpy.linalg.svd(a, compute_uv=False), or only S in reverse mode (their second "
             "derivatives need the singular vectors')")


def _svd_shapes(m: int, n: int, full_matrices: bool) -> list[tuple]:
    k = min(m, n)
    if full_matrices:
        return [(m, m), (k,), (n, n)]
    return [(m, k), (k,), (k, n)]


def _svd_impl(a, full_matrices=False):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return _pack_numpy(np.shape(s)[:-1], u, s, vh)


def _svd_cost(out, a, full_matrices=False):
    m, n = tuple(shape_of(a))[-2:]
    return _times(svd_model(m, n, full_matrices), _prod(tuple(shape_of(a))[:-2]))


def _svd_abstract(a, full_matrices=False):
    shape = tuple(shape_of(a))
    m, n = shape[-2:]
    size = sum(_prod(s) for s in _svd_shapes(m, n, full_matrices))
    return ShapeDtype(shape[:-2] + (size,), result_dtype(a))


def _full_refused():
    return UnsupportedOperationError(
        "costad: the derivative of numpy.linalg.svd with full_matrices=True on a non-square "
        "matrix is not supported (the extra columns of U or rows of Vh are any orthonormal "
        "basis of a complement, so they have no derivative); use full_matrices=False")


def _svd_jvp(tangents, out, a, full_matrices=False):
    if full_matrices:
        raise _full_refused()
    m, n = tuple(shape_of(a))[-2:]
    k = min(m, n)
    u, s, vh = _unpack(out, _svd_shapes(m, n, False))
    _check_separated(s, "numpy.linalg.svd's singular vectors", "singular values", _SVD_HINT,
                     zero=True)
    da = tangents[0]
    v = swap_last(vh)
    if m >= n:
        dav = matmul(da, v)                                   # (m, k), reused below
        ds_mat = matmul(swap_last(u), dav)                    # U^T dA V
    else:
        utda = matmul(swap_last(u), da)                       # (k, n), reused below
        ds_mat = matmul(utda, v)
    gaps = _reciprocal_gaps(s, squared=True)                  # s_j^2 - s_i^2
    dss = mul(ds_mat, _row(s))                                # dS S
    sds = mul(_col(s), ds_mat)                                # S dS
    du = matmul(u, _off_diagonal_div(add(dss, swap_last(dss)), gaps))
    dv = matmul(v, _off_diagonal_div(add(sds, swap_last(sds)), gaps))
    if m > k:
        du = add(du, div(sub(dav, matmul(u, matmul(swap_last(u), dav))), _row(s)))
    if n > k:
        datu = swap_last(utda)                                # dA^T U, (n, k)
        dv = add(dv, div(sub(datu, matmul(v, matmul(vh, datu))), _row(s)))
    return _pack(tuple(shape_of(out))[:-1], du, _diagonal(ds_mat), swap_last(dv))


def _svd_vjp(ct, out, a, full_matrices=False):
    m, n = tuple(shape_of(a))[-2:]
    k = min(m, n)
    u, s, vh = _unpack(out, _svd_shapes(m, n, full_matrices))
    ct_u, ct_s, ct_vh = _unpack(ct, _svd_shapes(m, n, full_matrices))
    if full_matrices:
        # Only the thin part has a derivative: the extra columns must not be used.
        if not (_is_plain_zero(ct_u, (Ellipsis, slice(None), slice(k, None)))
                and _is_plain_zero(ct_vh, (Ellipsis, slice(k, None), slice(None)))):
            raise _full_refused()
        u, ct_u = (getitem(x, index=(Ellipsis, slice(None), slice(0, k))) for x in (u, ct_u))
        vh, ct_vh = (getitem(x, index=(Ellipsis, slice(0, k), slice(None)))
                     for x in (vh, ct_vh))
    # The whole rule runs whatever the cotangent's values (counts depend on shapes only);
    # repeated or zero singular values are refused if the vectors' cotangents are not zero,
    # and the vanishing denominators made harmless otherwise.
    if not (_is_plain_zero(ct_u) and _is_plain_zero(ct_vh)):
        _check_separated(s, "numpy.linalg.svd's singular vectors", "singular values",
                         _SVD_HINT, zero=True)
    v, ct_v = swap_last(vh), swap_last(ct_vh)
    gaps = _nonzero(_reciprocal_gaps(s, squared=True))
    utcu = matmul(swap_last(u), ct_u)                         # U^T ct_U, (k, k)
    vtcv = matmul(vh, ct_v)                                   # V^T ct_V, (k, k)
    j = _off_diagonal_div(utcu, gaps)
    kk = _off_diagonal_div(vtcv, gaps)
    inner = add(mul(add(j, swap_last(j)), _row(s)), mul(_col(s), add(kk, swap_last(kk))))
    core = where(_eye(k), _row(ct_s), inner)        # diag(ct_s) + (J+J^T) S + S (K+K^T)
    if m > k:                                       # + (I - U U^T) ct_U S^-1 V^T
        left = add(matmul(u, core), div(sub(ct_u, matmul(u, utcu)), _row(_nonzero(s))))
        return matmul(left, vh)
    if n > k:                                       # + U S^-1 ((I - V V^T) ct_V)^T
        right = add(matmul(core, vh), div(swap_last(sub(ct_v, matmul(v, vtcv))),
                                          _col(_nonzero(s))))
        return matmul(u, right)
    return matmul(matmul(u, core), vh)


svd = register(Primitive(
    "svd", _svd_impl, _svd_cost, _svd_jvp, (_svd_vjp,),
    abstract=_svd_abstract,
    doc="U, s, Vh packed on a last axis; model count (Golub-Reinsch) thin 14 p q^2 + 8 q^3, "
        "full 4 p^2 q + 8 p q^2 + 9 q^3 (kind svd)"))


def _svdvals_cost(out, a):
    m, n = tuple(shape_of(a))[-2:]
    return _times(svdvals_model(m, n), _prod(tuple(shape_of(a))[:-2]))


def _singular_vectors(a):
    m, n = tuple(shape_of(a))[-2:]
    u, _, vh = _unpack(_guarded(_name("svd"), svd, a, full_matrices=False),
                       _svd_shapes(m, n, False))
    return u, vh


def _svdvals_jvp(tangents, out, a):
    u, vh = _singular_vectors(a)
    m, n = tuple(shape_of(a))[-2:]
    axis = (len(shape_of(u)) - 2,)
    if m >= n:       # ds_i = u_i^T dA v_i: (m, n) @ (n, k) then the columns' dot products
        return sum_(mul(u, matmul(tangents[0], swap_last(vh))), axis=axis, keepdims=False)
    return sum_(mul(swap_last(vh), matmul(swap_last(tangents[0]), u)), axis=axis,
                keepdims=False)


def _svdvals_vjp(ct, out, a):
    u, vh = _singular_vectors(a)
    return matmul(mul(u, _row(ct)), vh)                       # U diag(ct) Vh


svdvals = register(Primitive(
    "svdvals", lambda a: np.linalg.svd(a, compute_uv=False), _svdvals_cost, _svdvals_jvp,
    (_svdvals_vjp,),
    abstract=lambda a: ShapeDtype(tuple(shape_of(a))[:-2] + (min(tuple(shape_of(a))[-2:]),),
                                  result_dtype(a)),
    doc="singular values; model count floor((12 p q^2 - 4 q^3) / 3) (kind svdvals); "
        "derivatives recompute U and V with a thin svd"))


# ------------------------------------------------------------------------------- pinv

_DEFAULT_RCOND = 1e-15          # NumPy's pinv cutoff when neither rcond nor rtol is given


def _pinv_impl(a, rcond=_DEFAULT_RCOND):
    if _NUMPY2:
        return np.linalg.pinv(a, rtol=rcond)
    return np.linalg.pinv(a, rcond=rcond)


def _pinv_cost(out, a, rcond=_DEFAULT_RCOND):
    m, n = tuple(shape_of(a))[-2:]
    q = min(m, n)
    if q == 0:
        return {}
    after_svd = {"max": q - 1, "mul": 1 + q * m + n * q * m, "greater": q, "div": q,
                 "add": n * (q - 1) * m}
    return _times(_merge(svd_model(m, n, False), after_svd), _prod(tuple(shape_of(a))[:-2]))


def _check_pinv_cutoff(a, rcond: float) -> None:
    """Golub-Pereyra's formula is the derivative at constant rank: exact when the singular
    values under the cutoff are zero or rounding noise. A cutoff above rounding level that
    discards larger singular values is refused (a check of the data, not counted)."""
    value = primal_value(a)
    if not isinstance(value, np.ndarray) or value.size == 0:
        return
    m, n = value.shape[-2:]
    dtype = value.dtype if value.dtype.kind == "f" else np.dtype(float)
    level = max(_DEFAULT_RCOND, max(m, n) * float(np.finfo(dtype).eps))
    if rcond <= level:
        return
    s = np.linalg.svd(value, compute_uv=False)
    top = np.max(s, axis=-1, keepdims=True)
    discarded = (s <= rcond * top) & (s > level * top)
    if np.any(discarded):
        raise UnsupportedOperationError(
            f"costad: the derivative of numpy.linalg.pinv with a cutoff (rcond/rtol = "
            f"{rcond:g}) that discards singular values above rounding level (here "
            f"{float(np.max(np.where(discarded, s, 0.0))):.3g}) is not supported; costad "
            "differentiates pinv at constant rank (Golub-Pereyra)")


def _golub_pereyra_jvp(a, p, da):
    """dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, for a (m, n), m >= n."""
    pt, dat = swap_last(p), swap_last(da)
    s = matmul(matmul(p, pt), dat)                             # P P^T dA^T
    t = matmul(matmul(dat, pt), p)                             # dA^T P^T P
    first = sub(s, matmul(matmul(s, a), p))
    second = sub(t, matmul(matmul(p, a), t))
    return sub(add(first, second), matmul(matmul(p, da), p))


def _golub_pereyra_vjp(a, p, c):
    """The transpose: -P^T C P^T + (I - A P) C^T P P^T + P^T P C^T (I - P A), m >= n."""
    pt, c_t = swap_last(p), swap_last(c)
    w = matmul(c_t, matmul(p, pt))                             # C^T P P^T, (m, n)
    v = matmul(p, c_t)                                         # P C^T, (n, n)
    inner = sub(sub(v, matmul(v, matmul(p, a))), matmul(c, pt))
    return add(sub(w, matmul(a, matmul(p, w))), matmul(pt, inner))


def _pinv_jvp(tangents, out, a, rcond=_DEFAULT_RCOND):
    _check_pinv_cutoff(a, rcond)
    m, n = tuple(shape_of(a))[-2:]
    if m >= n:
        return _golub_pereyra_jvp(a, out, tangents[0])
    # pinv(a)^T = pinv(a^T): differentiate the tall orientation.
    return swap_last(_golub_pereyra_jvp(swap_last(a), swap_last(out), swap_last(tangents[0])))


def _pinv_vjp(ct, out, a, rcond=_DEFAULT_RCOND):
    _check_pinv_cutoff(a, rcond)
    m, n = tuple(shape_of(a))[-2:]
    if m >= n:
        return _golub_pereyra_vjp(a, out, ct)
    return swap_last(_golub_pereyra_vjp(swap_last(a), swap_last(out), swap_last(ct)))


def _pinv_abstract(a, rcond=_DEFAULT_RCOND):
    shape = tuple(shape_of(a))
    return ShapeDtype(shape[:-2] + (shape[-1], shape[-2]), result_dtype(a))


pinv = register(Primitive(
    "pinv", _pinv_impl, _pinv_cost, _pinv_jvp, (_pinv_vjp,), abstract=_pinv_abstract,
    doc="Moore-Penrose pseudo-inverse as NumPy computes it: a thin svd (model count, kind "
        "svd), then q-1 max, 1 + q m + n q m mul, q greater, q div, n (q-1) m add"))


# ------------------------------------------------------------------- NumPy entry points

def _result_type(example):
    """NumPy's named result tuple (SlogdetResult, ...), or tuple on NumPy 1."""
    cls = type(example)
    return cls if hasattr(cls, "_fields") else None


_SLOGDET_RESULT = _result_type(np.linalg.slogdet(np.eye(1)))
_EIGH_RESULT = _result_type(np.linalg.eigh(np.eye(1)))
_SVD_RESULT = _result_type(np.linalg.svd(np.eye(1)))


def _named(cls, *parts):
    return tuple(parts) if cls is None else cls(*parts)


def _square_operand(a, fn: str):
    a = _operand(a)
    _check_dtype(fn, a)
    _check_matrix(a, fn)
    return a


def _uplo(UPLO, fn: str) -> str:
    value = UPLO.upper() if isinstance(UPLO, str) else UPLO
    if value not in ("L", "U"):
        raise ValueError(f"costad: {_name(fn)}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return value


@implements(np.linalg.solve)
def _np_solve(a, b):
    """np.linalg.solve: b a vector (NumPy's rule) or a stack of matrices; batches broadcast."""
    a, b = _square_operand(a, "solve"), _operand(b)
    _check_dtype("solve", b)
    try:
        _solve_shape(tuple(shape_of(a)), tuple(shape_of(b)))
    except (ValueError, IndexError) as err:
        raise ShapeError(f"costad: numpy.linalg.solve cannot solve a of shape "
                         f"{tuple(shape_of(a))} with b of shape {tuple(shape_of(b))}: "
                         f"{err}") from None
    return _guarded(_name("solve"), solve, a, b)


@implements(np.linalg.inv)
def _np_inv(a):
    return _guarded(_name("inv"), inv, _square_operand(a, "inv"))


@implements(np.linalg.det)
def _np_det(a):
    return _guarded(_name("det"), det, _square_operand(a, "det"))


@implements(np.linalg.slogdet)
def _np_slogdet(a):
    """(sign, logabsdet); the sign is a constant (zero derivative, never traced)."""
    packed = _guarded(_name("slogdet"), slogdet, _square_operand(a, "slogdet"))
    sign = stop_gradient(getitem(packed, index=(Ellipsis, 0)))
    return _named(_SLOGDET_RESULT, sign, getitem(packed, index=(Ellipsis, 1)))


@implements(np.linalg.cholesky)
def _np_cholesky(a, upper=False):
    """The lower factor; ``upper=True`` reads the upper triangle and returns L^T."""
    a = _square_operand(a, "cholesky")
    if upper:
        return swap_last(_guarded(_name("cholesky"), cholesky, swap_last(a)))
    return _guarded(_name("cholesky"), cholesky, a)


@implements(np.linalg.eigh)
def _np_eigh(a, UPLO="L"):
    a = _square_operand(a, "eigh")
    packed = _guarded(_name("eigh"), eigh, a, UPLO=_uplo(UPLO, "eigh"))
    w, v = _eigh_split(packed, shape_of(a)[-1])
    return _named(_EIGH_RESULT, w, v)


@implements(np.linalg.eigvalsh)
def _np_eigvalsh(a, UPLO="L"):
    a = _square_operand(a, "eigvalsh")
    return _guarded(_name("eigvalsh"), eigvalsh, a, UPLO=_uplo(UPLO, "eigvalsh"))


def _matrix_operand(a, fn: str):
    a = _operand(a)
    _check_dtype(fn, a)
    _check_matrix(a, fn, square=False)
    return a


@implements(np.linalg.svd)
def _np_svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """(U, S, Vh), or S alone with ``compute_uv=False``. full_matrices=True on a
    non-square matrix computes, but its derivative is refused unless the extra columns
    are unused (reverse mode)."""
    a = _matrix_operand(a, "svd")
    if hermitian:
        raise unsupported("numpy.linalg.svd with hermitian=True")
    if not compute_uv:
        return _guarded(_name("svd"), svdvals, a)
    m, n = tuple(shape_of(a))[-2:]
    full = bool(full_matrices) and m != n                 # square: full is thin
    packed = _guarded(_name("svd"), svd, a, full_matrices=full)
    return _named(_SVD_RESULT, *_unpack(packed, _svd_shapes(m, n, full)))


@implements(getattr(np.linalg, "svdvals", None))
def _np_svdvals(x):
    return _guarded(_name("svdvals"), svdvals, _matrix_operand(x, "svdvals"))


_NOT_GIVEN = object()


@implements(np.linalg.pinv)
def _np_pinv(a, rcond=None, hermitian=False, *, rtol=_NOT_GIVEN):
    """NumPy's cutoff rules: rcond, or rtol (None: max(m, n) eps), default 1e-15."""
    a = _matrix_operand(a, "pinv")
    if hermitian:
        raise unsupported("numpy.linalg.pinv with hermitian=True")
    if rcond is not None and rtol is not _NOT_GIVEN:
        raise ValueError("costad: numpy.linalg.pinv: rtol and rcond can't be both set")
    if rcond is None:
        if rtol is _NOT_GIVEN:
            rcond = _DEFAULT_RCOND
        elif rtol is None:
            dtype = np.dtype(dtype_of(a))
            eps = np.finfo(dtype if dtype.kind == "f" else float).eps
            rcond = max(tuple(shape_of(a))[-2:]) * float(eps)
        else:
            rcond = rtol
    if isinstance(rcond, Tracer) or np.ndim(rcond) != 0 or not isinstance(
            rcond if not isinstance(rcond, np.ndarray) else rcond.item(), numbers.Real):
        raise unsupported("numpy.linalg.pinv with a cutoff (rcond/rtol) that is not a "
                          "real number")
    return _guarded(_name("pinv"), pinv, a, rcond=float(rcond))
