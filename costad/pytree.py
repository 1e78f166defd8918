"""Inputs as nested structures: a float, an array, or a list/tuple/dict of them.

`flatten` returns the leaves (the differentiable scalars and arrays), a function that
rebuilds the same structure from new leaves, and a readable path per leaf (for graph
listings and error messages). Integer, boolean and complex leaves are refused: costad
differentiates real floating-point inputs only.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .core import Tracer
from .errors import InputTypeError

__all__ = ["flatten", "leaf_size", "tree_leaves"]


def _check_leaf(leaf, path: str):
    if isinstance(leaf, Tracer):
        return leaf                                     # nested differentiation
    if isinstance(leaf, (bool, np.bool_)):
        raise InputTypeError(f"costad: input {path} is boolean; differentiate float inputs")
    if isinstance(leaf, float):
        return leaf
    if isinstance(leaf, (int, np.integer)):
        raise InputTypeError(
            f"costad: input {path} is an integer ({leaf!r}); derivatives need float inputs, "
            f"e.g. float({leaf!r})")
    if isinstance(leaf, (complex, np.complexfloating)):
        raise InputTypeError(f"costad: input {path} is complex; costad differentiates real "
                             "inputs only")
    if isinstance(leaf, np.floating):
        return leaf
    if isinstance(leaf, np.ndarray):
        if np.issubdtype(leaf.dtype, np.floating):
            return leaf
        kind = {"i": "integer", "u": "unsigned integer", "b": "boolean",
                "c": "complex"}.get(leaf.dtype.kind, str(leaf.dtype))
        raise InputTypeError(
            f"costad: input {path} is a {kind} array (dtype {leaf.dtype}); derivatives need "
            f"a float array, e.g. x.astype(float)" if kind != "complex" else
            f"costad: input {path} is a complex array; costad differentiates real inputs only")
    raise InputTypeError(f"costad: input {path} has unsupported type {type(leaf).__name__}; "
                         "use a float, a float ndarray, or a list/tuple/dict of them")


def flatten(x: Any, name: str = "x") -> tuple[list, Callable[[list], Any], list[str]]:
    """Split ``x`` into leaves; return ``(leaves, rebuild, paths)``."""
    leaves: list = []
    paths: list[str] = []

    def walk(node, path):
        if isinstance(node, dict):
            keys = list(node)
            parts = [walk(node[k], f"{path}[{k!r}]") for k in keys]
            return lambda it: {k: p(it) for k, p in zip(keys, parts)}
        if isinstance(node, (list, tuple)):
            parts = [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
            kind = type(node)
            if kind not in (list, tuple):               # a namedtuple keeps its type
                return lambda it: kind(*[p(it) for p in parts])
            return lambda it: kind(p(it) for p in parts)
        leaves.append(_check_leaf(node, path))
        paths.append(path)
        return lambda it: next(it)

    build = walk(x, name)

    def rebuild(new_leaves: list):
        return build(iter(new_leaves))

    return leaves, rebuild, paths


def leaf_size(leaf) -> int:
    """Number of scalars in one leaf."""
    return int(np.size(leaf)) if not isinstance(leaf, Tracer) else leaf.size


def tree_leaves(x: Any) -> list:
    """The leaves of a nested structure (floats, arrays, ...), in order, unchecked."""
    if isinstance(x, dict):
        return [leaf for k in x for leaf in tree_leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in tree_leaves(v)]
    return [x]
