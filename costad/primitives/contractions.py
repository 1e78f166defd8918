"""Contractions: matmul, the general contraction ``contract``, and what is written with them
(np.dot, inner, vdot, tensordot, einsum, einsum_path, kron, cross, outer).

Cost (docs/design.md, section 2): an (m, k) @ (k, p) product costs m·k·p mul and m·(k-1)·p
add (the classical convention; FLOP-counting tools report 2·m·k·p), batched products that
per batch element. A contraction of k operands over the index set I, with output indices O
and summed indices S = I - O, costs what NumPy's einsum loop does: (k-1)·|I| mul (one
product of k factors per point of the index space) and |O|·(|S| - 1) add. For a pairwise
contraction that is |I| mul and |O|·(|S| - 1) add, matmul's counts.

einsum lowers to NumPy's own contraction path (``np.einsum_path`` for the ``optimize``
given) and applies one ``contract`` per step, so ``optimize`` changes the count exactly as
it changes the work: optimize=False (np.einsum's default) is one step over every operand.
A step with one operand (a trace, a sum over an index, a transpose) is a free transpose and
a counted ``sum``; a diagonal (an index repeated within one operand) is a free view.
tensordot, dot, inner and vdot are transposes and reshapes (free) around one matmul, as
NumPy computes them; kron and outer are one multiplication per output element; cross is
written with elementwise products and differences of the components.
"""
from __future__ import annotations

import functools
import numbers
import operator as _op
import warnings

import numpy as np

from ..core import Joint, Primitive, ShapeDtype, Tracer, dtype_of, shape_of, size_of
from ..errors import ShapeError
from ..numpy_dispatch import implements, operator, ufunc, unsupported
from ._base import register, result_dtype, tangent_sum
from .elementwise import mul, neg, sub
from .reductions import sum_
from .building import stack
from .structural import broadcast_to, getitem, reshape, swap_last, transpose

__all__ = ["matmul", "contract", "dot", "outer", "inner", "vdot", "tensordot", "einsum",
           "einsum_path", "kron", "cross"]


# ------------------------------------------------------------------------------- matmul

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
    abstract=_matmul_abstract, vjp_reads_out=False,
    doc="a @ b; (m,k)@(k,p) costs m*k*p mul and m*(k-1)*p add"))


# ------------------------------------------------------------- contract: one einsum step

@functools.lru_cache(maxsize=1024)
def _split_spec(spec: str) -> tuple[tuple[str, ...], str]:
    """'ij,jk->ik' -> (('ij', 'jk'), 'ik'). A spec is explicit, without ellipsis, and no
    label repeats within a term (einsum takes diagonals before it contracts)."""
    inputs, arrow, output = spec.partition("->")
    terms = tuple(inputs.split(","))
    if not arrow or any(len(set(t)) != len(t) for t in terms + (output,)):
        raise ValueError(f"contract: {spec!r} is not an explicit spec with distinct labels "
                         "per term")
    if not set(output) <= set("".join(terms)):
        raise ValueError(f"contract: an output label of {spec!r} is in no operand")
    return terms, output


def _label_dims(terms, shapes) -> dict[str, int]:
    """Each label's size; a size of 1 broadcasts against any other (as in np.einsum)."""
    if len(terms) != len(shapes):
        raise ValueError(f"contract: {len(terms)} terms for {len(shapes)} operands")
    dims: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        if len(term) != len(shape):
            raise ValueError(f"contract: the term {term!r} labels {len(term)} axes of an "
                             f"operand of shape {tuple(shape)}")
        for label, n in zip(term, shape):
            seen = dims.get(label)
            if seen is None or seen == 1:
                dims[label] = int(n)
            elif n not in (1, seen):
                raise ValueError(f"contract: label {label!r} has sizes {seen} and {n}")
    return dims


def _prod(values) -> int:
    p = 1
    for v in values:
        p *= v
    return p


def _contract_cost(out, *ops, spec):
    terms, output = _split_spec(spec)
    dims = _label_dims(terms, [shape_of(o) for o in ops])
    summed = set(dims) - set(output)
    points = _prod(dims.values())
    return {"mul": (len(ops) - 1) * points,
            "add": _prod(dims[l] for l in output) * max(_prod(dims[l] for l in summed) - 1, 0)}


def _contract_impl(*ops, spec):
    # A pairwise step runs as NumPy runs it under optimize (BLAS where it can); a step of
    # three or more operands runs NumPy's single loop over the whole index space, which is
    # the work counted for it.
    _split_spec(spec)
    return np.einsum(spec, *ops, optimize=len(ops) == 2)


def _contract_abstract(*ops, spec):
    terms, output = _split_spec(spec)
    dims = _label_dims(terms, [tuple(shape_of(o)) for o in ops])
    return ShapeDtype(tuple(dims[l] for l in output), result_dtype(*ops))


def _contract_jvp(tangents, out, *ops, spec):
    # Linear in each operand: the sum over operands of the contraction with that operand
    # replaced by its tangent.
    total = None
    for i, t in enumerate(tangents):
        if t is not None:
            args = list(ops)
            args[i] = t
            total = tangent_sum(total, contract(*args, spec=spec))
    return total


def _contract_vjp(ct, out, *ops_and_needs, spec):
    *ops, needs = ops_and_needs
    terms, output = _split_spec(spec)
    cts = []
    for p, need in enumerate(needs):
        if not need:
            cts.append(None)
            continue
        # Operand p's cotangent contracts ct with every other operand; a label only p
        # carries (summed over in the forward step) is absent from that contraction and
        # the result is constant along it.
        others = [ops[q] for q in range(len(ops)) if q != p]
        other_terms = [output] + [terms[q] for q in range(len(ops)) if q != p]
        available = set("".join(other_terms))
        term = terms[p]
        kept = "".join(l for l in term if l in available)
        if len(other_terms) == 1 and output == kept:
            g = ct
        else:
            g = contract(ct, *others, spec=",".join(other_terms) + "->" + kept)
        # Sizes follow broadcasting: a label of size 1 on the cotangent's side (p alone
        # has its full size) is broadcast to p's (free); a label of size 1 in p but not on
        # the other side is summed back by the sweep.
        g_dims = dict(zip(kept, shape_of(g)))
        if kept != term:
            g = reshape(g, shape=tuple(g_dims.get(l, 1) for l in term))
        target = tuple(n if g_dims.get(l, 1) == 1 else g_dims[l]
                       for l, n in zip(term, shape_of(ops[p])))
        if tuple(shape_of(g)) != target:
            g = broadcast_to(g, shape=target)
        cts.append(g)
    return tuple(cts)


contract = register(Primitive(
    "contract", _contract_impl, _contract_cost, _contract_jvp, Joint(_contract_vjp),
    abstract=_contract_abstract,
    doc="one einsum step, spec like 'ij,jk->ik' (explicit, distinct labels per term): k "
        "operands over index set I, output O, summed S cost (k-1)*|I| mul and "
        "|O|*(|S|-1) add"))


# ------------------------------------------------------------------------------ helpers

def _operand(x):
    """A traced value, abstract value or Python float as it is; any other array_like as an
    ndarray (a constant, free)."""
    if isinstance(x, (Tracer, ShapeDtype)) or x.__class__ is float:
        return x
    return np.asarray(x)


def _ndim(x) -> int:
    return len(shape_of(x))


def _axis(axis, ndim: int, what: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise unsupported(f"{what} with a non-integer axis {axis!r}")
    if not -ndim <= axis < ndim:
        raise ShapeError(f"costad: {what}: axis {axis} is out of bounds for an array of "
                         f"dimension {ndim}")
    return int(axis) % ndim


def _permute(x, perm: tuple):
    """transpose(x, perm), skipped when perm is the identity (free either way)."""
    return x if perm == tuple(range(len(perm))) else transpose(x, axes=perm)


def _reshaped(x, shape: tuple):
    return x if tuple(shape_of(x)) == tuple(shape) else reshape(x, shape=tuple(shape))


# ---------------------------------------------------------------- dot, inner, vdot, tensordot

def _tensordot_axes(axes, nda: int, ndb: int):
    """NumPy's forms of ``axes``: an int N (the last N axes of a with the first N of b), a
    pair of ints, or a pair of sequences; returned as two lists of non-negative axes."""
    if isinstance(axes, (bool, np.bool_)):
        raise unsupported(f"numpy.tensordot with axes={axes!r}")
    try:
        iter(axes)
    except TypeError:
        if not isinstance(axes, numbers.Integral):
            raise unsupported(f"numpy.tensordot with axes={axes!r}") from None
        n = int(axes)
        # NumPy's own rule, negative N included (range(-N, 0) is then empty: an outer
        # product), so that the same code gives the same result.
        axes_a, axes_b = list(range(-n, 0)), list(range(0, n))
    else:
        axes = list(axes)
        if len(axes) != 2:
            raise ShapeError(f"costad: numpy.tensordot: axes must be an int or a pair, got "
                             f"{axes!r}")
        axes_a, axes_b = axes

    def as_list(ax):
        if isinstance(ax, numbers.Integral) and not isinstance(ax, bool):
            return [int(ax)]
        try:
            return list(ax)
        except TypeError:
            raise unsupported(f"numpy.tensordot with axes={axes!r}") from None

    axes_a, axes_b = as_list(axes_a), as_list(axes_b)
    if len(axes_a) != len(axes_b):
        raise ShapeError(f"costad: numpy.tensordot: shape-mismatch for sum ({len(axes_a)} "
                         f"axes of a, {len(axes_b)} of b)")
    axes_a = [_axis(a, nda, "numpy.tensordot") for a in axes_a]
    axes_b = [_axis(b, ndb, "numpy.tensordot") for b in axes_b]
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise ShapeError("costad: numpy.tensordot: an axis is repeated in axes")
    return axes_a, axes_b


def _tensordot(a, b, axes_a, axes_b, what: str):
    """Sum over axes_a of a paired with axes_b of b: a transpose and a reshape of each
    operand to a matrix (free), one matmul ((M,K)@(K,P): M*K*P mul, M*(K-1)*P add), and a
    reshape to a's free axes then b's (free), as NumPy computes it."""
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    for i, j in zip(axes_a, axes_b):
        if sa[i] != sb[j]:
            raise ShapeError(f"costad: {what}: shapes {sa} and {sb} are not aligned: axis {i} "
                             f"of a has {sa[i]} elements and axis {j} of b {sb[j]}")
    free_a = [i for i in range(len(sa)) if i not in axes_a]
    free_b = [j for j in range(len(sb)) if j not in axes_b]
    m = _prod(sa[i] for i in free_a)
    k = _prod(sa[i] for i in axes_a)
    p = _prod(sb[j] for j in free_b)
    a2 = _reshaped(_permute(a, tuple(free_a + axes_a)), (m, k))
    b2 = _reshaped(_permute(b, tuple(axes_b + free_b)), (k, p))
    return _reshaped(matmul(a2, b2), tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    """np.tensordot with axes an int, a pair of ints or a pair of sequences: one matmul of
    the operands reshaped to matrices, M*K*P mul and M*(K-1)*P add (K the size of the
    summed axes, M and P of a's and b's free axes)."""
    a, b = _operand(a), _operand(b)
    axes_a, axes_b = _tensordot_axes(axes, _ndim(a), _ndim(b))
    return _tensordot(a, b, axes_a, axes_b, "numpy.tensordot")


@implements(np.dot, methods=("dot",))
def dot(a, b):
    """np.dot: a product for a scalar operand; matmul for 1-D and 2-D operands (the
    counts of @); for N-D, the sum over a's last axis and b's second-to-last (its only axis
    if b is 1-D), a tensordot: one matmul's count."""
    a, b = _operand(a), _operand(b)
    nda, ndb = _ndim(a), _ndim(b)
    if nda == 0 or ndb == 0:
        return mul(a, b)
    if nda <= 2 and ndb <= 2:
        if shape_of(a)[-1] != shape_of(b)[0]:
            raise ShapeError(f"costad: numpy.dot: shapes {shape_of(a)} and {shape_of(b)} "
                             "are not aligned")
        return matmul(a, b)
    return _tensordot(a, b, [nda - 1], [max(ndb - 2, 0)], "numpy.dot")


@implements(np.inner)
def inner(a, b):
    """np.inner: the sum over the last axes (a tensordot: one matmul's count), a product
    for a scalar operand."""
    a, b = _operand(a), _operand(b)
    nda, ndb = _ndim(a), _ndim(b)
    if nda == 0 or ndb == 0:
        return mul(a, b)
    return _tensordot(a, b, [nda - 1], [ndb - 1], "numpy.inner")


@implements(np.vdot)
def vdot(a, b):
    """np.vdot on real input: both operands flattened (free), then the dot product of the
    two vectors (k mul, k-1 add)."""
    a, b = _operand(a), _operand(b)
    if size_of(a) != size_of(b):
        raise ShapeError(f"costad: numpy.vdot: the operands have {size_of(a)} and "
                         f"{size_of(b)} elements (they must have as many)")
    return matmul(_reshaped(a, (size_of(a),)), _reshaped(b, (size_of(b),)))


@implements(np.outer)
def outer(a, b):
    """Outer product of two vectors: one multiplication per output element."""
    a, b = _operand(a), _operand(b)
    return mul(reshape(a, shape=(size_of(a), 1)), reshape(b, shape=(1, size_of(b))))


@implements(np.kron)
def kron(a, b):
    """np.kron: every product a[i] * b[j] once (one multiplication per output element),
    interleaved by a free reshape; a scalar operand is a plain product."""
    a, b = _operand(a), _operand(b)
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    if not sa or not sb:
        return mul(a, b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a2 = _reshaped(a, tuple(n for d in sa for n in (d, 1)))
    b2 = _reshaped(b, tuple(n for d in sb for n in (1, d)))
    return _reshaped(mul(a2, b2), tuple(x * y for x, y in zip(sa, sb)))


# ------------------------------------------------------------------------------- cross

_CROSS_2D_DEPRECATED = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3-vectors (6 mul and 3 sub per product), 2-vectors (2 mul and 1 sub,
    a scalar per product) or one of each (4 mul, 1 sub and 1 neg, as NumPy computes it),
    along the axes given, with broadcasting over the others."""
    a, b = _operand(a), _operand(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    if _ndim(a) == 0 or _ndim(b) == 0:
        raise ShapeError("costad: numpy.cross: the operands must be arrays of vectors, "
                         "not scalars")
    ax_a = _axis(axisa, _ndim(a), "numpy.cross (axisa)")
    ax_b = _axis(axisb, _ndim(b), "numpy.cross (axisb)")
    a = _permute(a, tuple(i for i in range(_ndim(a)) if i != ax_a) + (ax_a,))
    b = _permute(b, tuple(i for i in range(_ndim(b)) if i != ax_b) + (ax_b,))
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ShapeError("costad: numpy.cross: incompatible dimensions for cross product "
                         f"(dimension must be 2 or 3, got {na} and {nb})")
    try:
        batch = np.broadcast_shapes(shape_of(a)[:-1], shape_of(b)[:-1])
    except ValueError as err:
        raise ShapeError(f"costad: numpy.cross: {err}") from None
    if (na == 2 or nb == 2) and _CROSS_2D_DEPRECATED:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=4)
    ax_c = None
    if na == 3 or nb == 3:
        ax_c = _axis(axisc, len(batch) + 1, "numpy.cross (axisc)")
    a_ = [getitem(a, index=(Ellipsis, i)) for i in range(na)]
    b_ = [getitem(b, index=(Ellipsis, i)) for i in range(nb)]
    if na == 2 and nb == 2:
        return sub(mul(a_[0], b_[1]), mul(a_[1], b_[0]))
    z = sub(mul(a_[0], b_[1]), mul(a_[1], b_[0]))
    if na == 3 and nb == 3:
        x = sub(mul(a_[1], b_[2]), mul(a_[2], b_[1]))
        y = sub(mul(a_[2], b_[0]), mul(a_[0], b_[2]))
    elif na == 2:                                        # a_2 = 0
        x = mul(a_[1], b_[2])
        y = neg(mul(a_[0], b_[2]))
    else:                                                # b_2 = 0
        x = neg(mul(a_[2], b_[1]))
        y = mul(a_[2], b_[0])
    # Every component has the broadcast batch shape; the vector axis goes where axisc says.
    return stack([x, y, z], axis=ax_c)


# ------------------------------------------------------------------------------- einsum

_SYMBOLS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _sublist_term(sublist, what: str) -> str:
    out = []
    for s in sublist:
        if s is Ellipsis:
            out.append("...")
            continue
        try:
            s = _op.index(s)
        except TypeError:
            raise ShapeError(f"costad: {what}: a subscript must be an integer or Ellipsis, "
                             f"got {s!r}") from None
        if not 0 <= s < len(_SYMBOLS):
            raise ShapeError(f"costad: {what}: subscript {s} is not within the valid range "
                             f"[0, {len(_SYMBOLS)})")
        out.append(_SYMBOLS[s])
    return "".join(out)


def _einsum_input(operands: tuple, what: str):
    """(subscripts, operands) from einsum's two calling forms: a subscripts string, or
    operands interleaved with sublists of integer labels (and an optional output sublist)."""
    if not operands:
        raise ShapeError(f"costad: {what} needs subscripts and operands")
    if isinstance(operands[0], str):
        return operands[0], [_operand(x) for x in operands[1:]]
    n = len(operands) // 2
    ops = [_operand(operands[2 * i]) for i in range(n)]
    subscripts = ",".join(_sublist_term(operands[2 * i + 1], what) for i in range(n))
    if len(operands) % 2:
        subscripts += "->" + _sublist_term(operands[-1], what)
    return subscripts, ops


def _stand_in(x):
    """An array of x's shape and dtype holding one element (zero strides): what NumPy's
    path search needs, at no memory cost whatever the shape."""
    return np.broadcast_to(np.zeros((), dtype_of(x)), tuple(shape_of(x)))


def _check_optimize(optimize, what: str):
    if optimize is None or isinstance(optimize, (bool, np.bool_)):
        return bool(optimize)
    if isinstance(optimize, str):
        if optimize in ("greedy", "optimal"):
            return optimize
    elif isinstance(optimize, (list, tuple)) and len(optimize):
        if isinstance(optimize[0], str) and optimize[0] == "einsum_path":
            return list(optimize)
        if (len(optimize) == 2 and optimize[0] in ("greedy", "optimal")
                and isinstance(optimize[1], numbers.Real)
                and not isinstance(optimize[1], bool)):
            return tuple(optimize)
    raise unsupported(f"{what} with optimize={optimize!r} (use False, True, 'greedy', "
                      "'optimal', (name, memory_limit) or a path from numpy.einsum_path)")


def _numpy_path(subscripts: str, ops: list, optimize, what: str):
    """The contraction path NumPy takes, found on stand-ins of the operands (its errors
    about subscripts and shapes become ShapeErrors naming the function)."""
    terms = subscripts.replace(" ", "").partition("->")[0].split(",")
    if len(terms) == len(ops):
        # NumPy's own message for this names the wrong subscript: say it plainly first.
        for i, (term, x) in enumerate(zip(terms, ops)):
            named, ndim = len(term.replace("...", "")), _ndim(x)
            if named > ndim or ("..." not in term and named != ndim):
                raise ShapeError(f"costad: {what}: the subscripts {term!r} of operand {i} "
                                 f"name {named} axes, but it has {ndim} (shape "
                                 f"{tuple(shape_of(x))})")
    try:
        path, _ = np.einsum_path(subscripts, *[_stand_in(x) for x in ops], optimize=optimize)
    except (ValueError, KeyError, IndexError, TypeError, RuntimeError) as err:
        raise ShapeError(f"costad: {what}: {err}") from None
    return path


def _parse(subscripts: str, shapes: list) -> tuple[list[str], str, int]:
    """Explicit labels for every axis, NumPy's way: '...' expands to unused letters aligned
    at the right (the broadcast axes); an implicit output is the ellipsis axes, then the
    labels used once, in sorted order. Also returns the number of ellipsis axes. Called
    after NumPy has validated the subscripts."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    used = set(subscripts) - set(",.->")
    unused = "".join(sorted(set(_SYMBOLS) - used))
    longest = 0
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if "..." in term:
            count = len(shape) - (len(term) - 3)
            longest = max(longest, count)
            terms[i] = term.replace("...", unused[len(unused) - count:] if count else "")
    ellipsis = unused[len(unused) - longest:] if longest else ""
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        flat = "".join(terms)
        once = sorted(l for l in set(flat) if flat.count(l) == 1 and l not in ellipsis)
        output = ellipsis + "".join(once)
    return terms, output, longest


def _diagonal(x, term: str, what: str):
    """The diagonal over labels repeated in ``term`` (a free view: the repeated axes are
    brought together, merged, and read with a stride), and the term with unique labels."""
    labels = "".join(dict.fromkeys(term))
    if labels == term:
        return x, term
    shape = shape_of(x)
    perm, merged, index = [], [], []
    for label in labels:
        axes = [i for i, l in enumerate(term) if l == label]
        sizes = {shape[i] for i in axes}
        if len(sizes) != 1:
            raise ShapeError(f"costad: {what}: the axes labelled {label!r} in {term!r} have "
                             f"different sizes {sorted(sizes)}")
        n, r = shape[axes[0]], len(axes)
        perm += axes
        merged.append(n ** r)
        # n elements of the merged axis, one every 1 + n + ... + n^(r-1)
        index.append(slice(None) if r == 1 or n < 2 else slice(None, None, (n ** r - 1) // (n - 1)))
    x = _reshaped(_permute(x, tuple(perm)), tuple(merged))
    return getitem(x, index=tuple(index)), labels


def _reduce_to(x, term: str, target: str):
    """A one-operand step: sum over the labels not in ``target`` (counted), then a free
    transpose into target's order."""
    summed = tuple(i for i, l in enumerate(term) if l not in target)
    if summed:
        x = sum_(x, axis=summed, keepdims=False)
        term = "".join(l for l in term if l in target)
    return _permute(x, tuple(term.index(l) for l in target))


def _contract_path(ops: list, terms: list[str], output: str, path, what: str):
    """Apply NumPy's path: each step takes the operands at the listed positions (of the
    current list), contracts them into one that keeps the labels still needed later, and
    appends it to the list, as np.einsum does."""
    items = list(zip(ops, terms))
    for step in path[1:]:
        try:
            positions = sorted({_op.index(i) for i in step})
            taken = [items[i] for i in positions]
        except (TypeError, IndexError):
            raise ShapeError(f"costad: {what}: invalid contraction {step!r} in the path "
                             f"{path!r} for {len(items)} remaining operands") from None
        for i in reversed(positions):
            del items[i]
        if not taken:
            raise ShapeError(f"costad: {what}: empty contraction in the path {path!r}")
        if items:
            needed = set(output).union(*(t for _, t in items))
            step_terms = "".join(t for _, t in taken)
            result = "".join(dict.fromkeys(l for l in step_terms if l in needed))
        else:
            result = output
        if len(taken) == 1:
            x, term = taken[0]
            items.append((_reduce_to(x, term, result), result))
        else:
            spec = ",".join(t for _, t in taken) + "->" + result
            items.append((contract(*[x for x, _ in taken], spec=spec), result))
    if len(items) != 1:
        raise ShapeError(f"costad: {what}: the path {path!r} leaves {len(items)} operands "
                         "uncontracted")
    x, term = items[0]
    return _reduce_to(x, term, output) if term != output else x


@implements(np.einsum)
def einsum(*operands, optimize=False):
    """np.einsum with any subscripts (explicit or implicit output, ellipsis, repeated
    labels), in either calling form, along the path NumPy takes for ``optimize``: each
    step of k operands costs (k-1)*|I| mul and |O|*(|S|-1) add (see `contract`); a
    one-operand step costs a sum's adds; diagonals and transposes are free."""
    subscripts, ops = _einsum_input(operands, "numpy.einsum")
    optimize = _check_optimize(optimize, "numpy.einsum")
    path = _numpy_path(subscripts, ops, optimize, "numpy.einsum")
    terms, output, longest = _parse(subscripts, [shape_of(x) for x in ops])
    output_given = subscripts.partition("->")[2]
    if optimize is False and longest and "->" in subscripts and "..." not in output_given:
        # NumPy's single-loop einsum refuses to sum over ellipsis axes left out of an
        # explicit output (its optimized paths allow it): the same code gives the same error.
        raise ShapeError("costad: numpy.einsum: output has more dimensions than subscripts "
                         "given in einstein sum, but no '...' ellipsis provided to broadcast "
                         "the extra dimensions.")
    unique = [_diagonal(x, t, "numpy.einsum") for x, t in zip(ops, terms)]
    return _contract_path([x for x, _ in unique], [t for _, t in unique], output, path,
                          "numpy.einsum")


@implements(np.einsum_path)
def einsum_path(*operands, optimize="greedy", einsum_call=False):
    """np.einsum_path on traced operands: the path depends on shapes only, so it is
    NumPy's own answer for stand-ins of the operands (free)."""
    if einsum_call:
        raise unsupported("numpy.einsum_path with einsum_call=True")
    subscripts, ops = _einsum_input(operands, "numpy.einsum_path")
    try:
        return np.einsum_path(subscripts, *[_stand_in(x) for x in ops], optimize=optimize)
    except (ValueError, KeyError, IndexError, TypeError, RuntimeError) as err:
        raise ShapeError(f"costad: numpy.einsum_path: {err}") from None


ufunc(np.matmul, matmul)
operator("__matmul__", matmul, "__rmatmul__")
