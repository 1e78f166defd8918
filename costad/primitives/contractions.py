"""Contractions: matmul, and what is written with it (dot, outer).

Cost: an (m, k) @ (k, p) product costs m·k·p mul and m·(k-1)·p add (the classical
convention; FLOP-counting tools report 2·m·k·p), batched products that per batch element.
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapeDtype, shape_of, size_of
from ..numpy_dispatch import implements, operator, ufunc, unsupported
from ._base import register, result_dtype, tangent_sum
from .elementwise import mul
from .structural import reshape, swap_last

__all__ = ["matmul", "dot", "outer"]


def _matmul_cost(out, a, b):
    k = shape_of(a)[-1]
    s = size_of(out)
    return {"mul": s * k, "add": s * max(k - 1, 0)}


def _as_matrices(a, b):
    """Promote 1-D operands as matmul does: (k,) -> (1, k) on the left, (k, 1) on the right."""
    a2 = reshape(a, shape=(1,) + shape_of(a)) if len(shape_of(a)) == 1 else a
    b2 = reshape(b, shape=shape_of(b) + (1,)) if len(shape_of(b)) == 1 else b
    return a2, b2


def _matrix_cotangent(ct, a2, b2):
    """The output cotangent with matmul's 1-D promotions undone (free)."""
    shape = np.broadcast_shapes(shape_of(a2)[:-2], shape_of(b2)[:-2]) + (
        shape_of(a2)[-2], shape_of(b2)[-1])
    return reshape(ct, shape=shape) if shape_of(ct) != shape else ct


def _matmul_vjp_a(ct, out, a, b):
    a2, b2 = _as_matrices(a, b)
    g = matmul(_matrix_cotangent(ct, a2, b2), swap_last(b2))
    if len(shape_of(a)) == 1:                    # drop the promoted row: batch + (k,)
        g = reshape(g, shape=shape_of(g)[:-2] + shape_of(g)[-1:])
    return g                                     # the sweep sums the batch axes


def _matmul_vjp_b(ct, out, a, b):
    a2, b2 = _as_matrices(a, b)
    g = matmul(swap_last(a2), _matrix_cotangent(ct, a2, b2))
    if len(shape_of(b)) == 1:                    # drop the promoted column: batch + (k,)
        g = reshape(g, shape=shape_of(g)[:-1])
    return g


def _matmul_jvp(tangents, out, a, b):
    ta, tb = tangents
    return tangent_sum(None if ta is None else matmul(ta, b),
                       None if tb is None else matmul(a, tb))


def _matmul_impl(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise ValueError("matmul does not take scalars (use *)")
    return np.matmul(a, b)


def _matmul_abstract(a, b):
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    if not sa or not sb:
        raise ValueError("matmul does not take scalars (use *)")
    a2 = (1,) + sa if len(sa) == 1 else sa
    b2 = sb + (1,) if len(sb) == 1 else sb
    if a2[-1] != b2[-2]:
        raise ValueError(f"matmul: inner dimensions {a2[-1]} and {b2[-2]} differ")
    shape = np.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if len(sa) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(sb) == 1:
        shape = shape[:-1]
    return ShapeDtype(shape, result_dtype(a, b))


matmul = register(Primitive(
    "matmul", _matmul_impl, _matmul_cost, _matmul_jvp, (_matmul_vjp_a, _matmul_vjp_b),
    abstract=_matmul_abstract,
    doc="a @ b; (m,k)@(k,p) costs m*k*p mul and m*(k-1)*p add"))


@implements(np.dot, methods=("dot",))
def dot(a, b):
    """np.dot for scalars (a product) and for 1-D and 2-D arrays (a matmul)."""
    if len(shape_of(a)) == 0 or len(shape_of(b)) == 0:
        return mul(a, b)
    if len(shape_of(a)) > 2 or len(shape_of(b)) > 2:
        raise unsupported("numpy.dot on arrays of more than 2 dimensions (use np.matmul)")
    return matmul(a, b)


@implements(np.outer)
def outer(a, b):
    """Outer product of two vectors: one multiplication per output element."""
    return mul(reshape(a, shape=(size_of(a), 1)), reshape(b, shape=(1, size_of(b))))


ufunc(np.matmul, matmul)
operator("__matmul__", matmul, "__rmatmul__")
