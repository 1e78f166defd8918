"""Matrix-chain association: left, right and optimal, counted exactly.

Convention (CLRS, ``numpy.linalg.multi_dot``): a chain is M_1 @ M_2 @ ... @ M_k with M_i of
shape (p_{i-1}, p_i), described by ``dims = [p_0, ..., p_k]``. The unit of cost is one scalar
multiplication: an (m, k) @ (k, p) product costs m·k·p (and m·(k-1)·p additions, which
`multiply` also counts). Tools that count FLOPs report 2·m·k·p.

The lecture writes the derivative of x -> g_R(... g_0(x)) as the product of Jacobians
A_R × ... × A_0 with A_r = ∂g_r(x_r) of shape (n_{r+1}, n_r), and a scalar output,
n_{R+1} = 1. Read from the output side, that product is the chain

    M_1 = A_R (1 × n_R), M_2 = A_{R-1}, ..., M_{R+1} = A_0,  dims = [1, n_R, ..., n_1, n_0],

and read from the input side its transpose, the chain

    M_1 = A_0^T (n_0 × n_1), ..., M_R = A_{R-1}^T, M_{R+1} = A_R^T (n_R × 1),
    dims = [n_0, n_1, ..., n_R, 1].

With every n_r = n and ``dims = [n]*(R+1) + [1]``, left association (((M_1 M_2) M_3) ...)
multiplies n×n matrices first: forward mode, (R-1)n^3 + n^2 multiplications. Right
association M_1 (M_2 (... (M_R M_{R+1}))) only ever multiplies a matrix by a vector: reverse
mode (backpropagation), R n^2. `jacobians` and `forward_accumulation` / `reverse_accumulation`
show this on real Jacobians.
"""
from __future__ import annotations

import itertools
import numbers
from functools import lru_cache
from typing import Callable, Sequence, Union

import numpy as np

from .api import jacobian
from .errors import ShapeError
from .primitives import matmul

__all__ = ["ORDERS", "Tree", "cost", "optimal", "parenthesize", "tree_cost", "left_tree",
           "right_tree", "brute_force_optimal", "multiply", "jacobians",
           "forward_accumulation", "reverse_accumulation", "left_cost_formula",
           "right_cost_formula"]

ORDERS = ("left", "right", "optimal")

# A parenthesization: a factor index (0-based) or a pair of sub-trees.
Tree = Union[int, tuple]


def _check_dims(dims: Sequence[int]) -> list[int]:
    dims = list(dims)
    if len(dims) < 2:
        raise ValueError(f"costad.chain: dims must list at least 2 sizes (one factor), "
                         f"got {dims!r}")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise ValueError(f"costad.chain: dims must be integers, got {d!r} in {dims!r}")
        if d <= 0:
            raise ValueError(f"costad.chain: dims must be positive, got {d} in {dims!r}")
    return [int(d) for d in dims]


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"costad.chain: unknown order {order!r}; choose one of "
                         f"{', '.join(ORDERS)}")


def left_tree(k: int) -> Tree:
    """(((0 1) 2) ... k-1): associate from the first factor (forward accumulation)."""
    tree: Tree = 0
    for i in range(1, k):
        tree = (tree, i)
    return tree


def right_tree(k: int) -> Tree:
    """0 (1 (2 (... k-1))): associate from the last factor (reverse accumulation)."""
    tree: Tree = k - 1
    for i in range(k - 2, -1, -1):
        tree = (i, tree)
    return tree


def tree_cost(dims: Sequence[int], tree: Tree) -> int:
    """Scalar multiplications of the product of the chain ``dims`` parenthesized by ``tree``."""
    dims = _check_dims(dims)

    k = len(dims) - 1

    def walk(t) -> tuple[int, int, int]:          # (first factor, last factor, cost)
        # A leaf is a factor index (a NumPy integer too, not a bool); a node is a pair.
        # Anything else is refused here: indexing into it would fail as an IndexError,
        # or recurse without end (a string's characters are strings).
        if isinstance(t, numbers.Integral) and not isinstance(t, bool):
            if not 0 <= t < k:
                raise ValueError(f"costad.chain: {tree!r} names factor {t}; the chain has "
                                 f"factors 0..{k - 1}")
            return int(t), int(t), 0
        if not isinstance(t, (tuple, list)) or len(t) != 2:
            raise ValueError(f"costad.chain: {tree!r} is not a parenthesization: {t!r} is "
                             f"neither a factor index nor a pair of sub-trees")
        (i, m, c1), (m2, j, c2) = walk(t[0]), walk(t[1])
        if m2 != m + 1:
            raise ValueError(f"costad.chain: {tree!r} is not a parenthesization of a chain")
        return i, j, c1 + c2 + dims[i] * dims[m + 1] * dims[j + 1]

    first, last, total = walk(tree)
    if first != 0 or last != len(dims) - 2:
        raise ValueError(f"costad.chain: {tree!r} does not cover the {len(dims) - 1} factors")
    return total


@lru_cache(maxsize=256)
def _optimal(dims: tuple[int, ...]) -> tuple[int, Tree]:
    k = len(dims) - 1
    best = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(2, k + 1):
        for i in range(k - length + 1):
            j = i + length - 1
            best[i][j] = None
            for m in range(i, j):                    # lowest cost; ties: the smallest split
                c = best[i][m] + best[m + 1][j] + dims[i] * dims[m + 1] * dims[j + 1]
                if best[i][j] is None or c < best[i][j]:
                    best[i][j], split[i][j] = c, m

    def build(i, j) -> Tree:
        if i == j:
            return i
        m = split[i][j]
        return (build(i, m), build(m + 1, j))

    return best[0][k - 1], build(0, k - 1)


def optimal(dims: Sequence[int]) -> tuple[int, Tree]:
    """The minimal number of scalar multiplications and its parenthesization.

    The O(k^3) dynamic program of CLRS 15.2. Ties are broken deterministically: the split
    point with the smallest index wins. The tree holds 0-based factor indices.
    """
    return _optimal(tuple(_check_dims(dims)))


def parenthesize(dims: Sequence[int], order: str) -> Tree:
    """The parenthesization of ``order`` ("left", "right" or "optimal")."""
    _check_order(order)
    dims = _check_dims(dims)
    k = len(dims) - 1
    if order == "left":
        return left_tree(k)
    if order == "right":
        return right_tree(k)
    return optimal(dims)[1]


def cost(dims: Sequence[int], order: str) -> int:
    """Exact scalar multiplications of the chain ``dims`` multiplied in ``order``.

    A Python int: no overflow, however large the dims.
    """
    _check_order(order)
    dims = _check_dims(dims)          # read once: an iterator would be empty the second time
    if order == "optimal":
        return optimal(dims)[0]
    return tree_cost(dims, parenthesize(dims, order))


def _check_formula_args(n, R) -> None:
    for name, value, low in (("n", n, 1), ("R", R, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"costad.chain: {name} must be an integer >= {low}, got "
                             f"{value!r}")


def left_cost_formula(n: int, R: int) -> int:
    """The lecture's forward (left) cost for dims [n]*(R+1) + [1]: (R-1) n^3 + n^2 for
    R >= 1, and 0 for R = 0 (one factor, nothing to multiply; the formula alone would
    give n^2 - n^3, a negative count)."""
    _check_formula_args(n, R)
    return (R - 1) * n ** 3 + n ** 2 if R else 0


def right_cost_formula(n: int, R: int) -> int:
    """The lecture's backward (right) cost for dims [n]*(R+1) + [1]: R n^2."""
    _check_formula_args(n, R)
    return R * n ** 2


def brute_force_optimal(dims: Sequence[int]) -> int:
    """Minimal cost by enumerating every parenthesization (Catalan many; small chains only)."""
    dims = _check_dims(dims)

    def trees(i, j):
        if i == j:
            yield i
            return
        for m in range(i, j):
            for a, b in itertools.product(list(trees(i, m)), list(trees(m + 1, j))):
                yield (a, b)

    return min(tree_cost(dims, t) for t in trees(0, len(dims) - 2))


def _dims_of(matrices: Sequence) -> list[int]:
    if len(matrices) == 0:
        raise ValueError("costad.chain: multiply needs at least one matrix")
    shapes = [np.shape(m) for m in matrices]
    for i, s in enumerate(shapes):
        if len(s) != 2:
            raise ShapeError(f"costad.chain: factor {i} has shape {s}; every factor must be "
                             "a 2-D matrix")
    for i in range(len(shapes) - 1):
        if shapes[i][1] != shapes[i + 1][0]:
            raise ShapeError(f"costad.chain: factors {i} and {i + 1} do not fit: "
                             f"{shapes[i]} @ {shapes[i + 1]}")
    return [shapes[0][0]] + [s[1] for s in shapes]


def multiply(matrices: Sequence, order: str = "optimal"):
    """The product M_1 @ ... @ M_k computed in ``order`` with costad's counted matmul.

    Under `costad.counting()` the counted multiplications equal ``cost(dims, order)`` and
    the additions sum m·(k-1)·p over the products performed.
    """
    _check_order(order)
    dims = _dims_of(matrices)
    tree = parenthesize(dims, order)

    def evaluate(t):
        if isinstance(t, int):
            return matrices[t]
        return matmul(evaluate(t[0]), evaluate(t[1]))

    return evaluate(tree)


def jacobians(layers: Sequence[Callable], x) -> tuple[list[np.ndarray], np.ndarray]:
    """Per-layer Jacobians of x_{r+1} = g_r(x_r), evaluated along the forward pass.

    Returns ``([A_0, ..., A_R], x_{R+1})`` with ``A_r = ∂g_r(x_r)`` of shape
    (size of x_{r+1}, size of x_r), computed by costad's reverse-mode `jacobian`.
    """
    x = np.asarray(x, dtype=float)
    mats = []
    for r, g in enumerate(layers):
        J = np.asarray(jacobian(g, mode="reverse")(x))
        out = np.asarray(g(x), dtype=float)
        mats.append(J.reshape(out.size, x.size))
        x = out
    return mats, x


def forward_accumulation(mats: Sequence[np.ndarray]):
    """∂g = A_R ... A_0 accumulated from the input side: the transposed chain
    A_0^T, ..., A_R^T multiplied left to right (forward mode). Returns the gradient row."""
    return multiply([np.asarray(A).T for A in mats], "left").T


def reverse_accumulation(mats: Sequence[np.ndarray]):
    """∂g = A_R ... A_0 accumulated from the output side: the chain A_R, ..., A_0
    multiplied left to right, i.e. a row vector times a matrix at every step (reverse mode,
    backpropagation). It is the right association of the transposed chain."""
    return multiply(list(reversed(mats)), "left")
