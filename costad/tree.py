"""Nested inputs and outputs (pytrees), flattened once into leaves plus a structure record.

A pytree is a leaf or a container of pytrees: a list, a tuple, a namedtuple or a dict. Dict
entries are ordered by sorted key (as in JAX), so two dicts with the same keys in another
insertion order have the same structure and their leaves line up by key, not by position.
`tree_flatten` returns the leaves and a `TreeDef`, the structure record: container types,
sorted dict keys, and each leaf's shape and dtype. Wherever two trees must match (a tangent
and its input, a cotangent and its output), `TreeDef.check_matches` compares the records
and names the first place they differ.

Other list, tuple or dict subclasses are refused with a clear error rather than rebuilt as
something else. Inputs (what gets differentiated) are checked further by `flatten_inputs`:
real floating-point scalars and plain ndarrays only.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .core import ShapeDtype, Tracer, dtype_of, shape_of
from .errors import InputTypeError, ShapeError

__all__ = ["TreeDef", "tree_flatten", "tree_unflatten", "tree_leaves", "flatten_inputs",
           "check_input_leaf", "leaf_size"]


class TreeDef:
    """The structure of a pytree.

    node:     None for a leaf, else the container type (list, tuple, dict, a namedtuple).
    keys:     a dict's keys in sorted order; None for other nodes.
    children: the children's TreeDefs, in flattening order.
    shape, dtype: for a leaf, its shape and dtype (None for containers).
    """

    __slots__ = ("node", "keys", "children", "shape", "dtype")

    def __init__(self, node, keys, children, shape=None, dtype=None):
        self.node = node
        self.keys = keys
        self.children = children
        self.shape = shape
        self.dtype = dtype

    @property
    def num_leaves(self) -> int:
        if self.node is None:
            return 1
        return sum(c.num_leaves for c in self.children)

    def unflatten(self, leaves) -> Any:
        """Rebuild the structure from an iterable of leaves (one per leaf, in order)."""
        it = iter(leaves)
        try:
            tree = _build(self, it)
        except StopIteration:
            raise ValueError(f"costad: {self.describe()} has {self.num_leaves} leaves; fewer "
                             "were given") from None
        if next(it, _END) is not _END:
            raise ValueError(f"costad: {self.describe()} has {self.num_leaves} leaves; more "
                             "were given")
        return tree

    def paths(self, name: str = "x") -> list[str]:
        """A readable path per leaf (``x['a'][0]``), for listings and error messages."""
        out: list[str] = []
        _paths(self, name, out)
        return out

    def same_structure(self, other: "TreeDef") -> bool:
        """Equal container types and dict keys (leaf shapes not compared)."""
        return _mismatch(self, other, "", shapes=False) is None

    def check_matches(self, other: "TreeDef", what: str, against: str = "x",
                      name: str = "v", shapes: bool = True) -> None:
        """Raise `ShapeError` naming the first difference between ``other`` (called
        ``name``, e.g. a tangent) and this structure (called ``against``)."""
        problem = _mismatch(self, other, name, shapes)
        if problem is not None:
            raise ShapeError(f"costad: {what} must have the structure of {against}; "
                             f"{problem}")

    def describe(self) -> str:
        """A short description: 'dict with keys [...]', 'list of 3', 'array of shape (2,)'."""
        if self.node is None:
            return "a scalar" if self.shape == () else f"an array of shape {self.shape}"
        if self.node is dict:
            return f"a dict with keys {list(self.keys)}"
        return f"a {self.node.__name__} of {len(self.children)}"

    def __eq__(self, other) -> bool:
        return isinstance(other, TreeDef) and _mismatch(self, other, "", True) is None \
            and _dtypes(self) == _dtypes(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"TreeDef({self.describe()}, {self.num_leaves} leaves)"


_END = object()


def _dtypes(tree: TreeDef) -> list:
    if tree.node is None:
        return [tree.dtype]
    return [d for c in tree.children for d in _dtypes(c)]


def _mismatch(a: TreeDef, b: TreeDef, path: str, shapes: bool) -> str | None:
    if a.node is None and b.node is None:
        if shapes and tuple(a.shape) != tuple(b.shape):
            return f"{path or 'it'} has shape {b.shape} where {a.shape} is expected"
        return None
    if a.node is not b.node or a.keys != b.keys or len(a.children) != len(b.children):
        return f"{path or 'it'} is {b.describe()} where {a.describe()} is expected"
    labels = a.keys if a.node is dict else range(len(a.children))
    for label, ca, cb in zip(labels, a.children, b.children):
        problem = _mismatch(ca, cb, f"{path}[{label!r}]", shapes)
        if problem is not None:
            return problem
    return None


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:                                  # keys of mixed types
        return tuple(sorted(d, key=lambda k: (type(k).__name__, repr(k))))


def _is_namedtuple(node) -> bool:
    return isinstance(node, tuple) and hasattr(type(node), "_fields")


def _container_kind(node, path: str):
    """The container type of ``node``, None for a leaf; refuses unknown subclasses."""
    cls = type(node)
    if cls is list or cls is tuple or cls is dict or _is_namedtuple(node):
        return cls
    if isinstance(node, (list, tuple, dict)):
        raise InputTypeError(
            f"costad: {path} is a {cls.__name__}, a subclass of {cls.__mro__[1].__name__} "
            "that costad cannot rebuild; use a list, tuple, dict or namedtuple")
    return None


def tree_flatten(x: Any, check_leaf: Callable | None = None,
                 name: str = "x") -> tuple[list, TreeDef]:
    """Split ``x`` into its leaves and a `TreeDef`. ``check_leaf(leaf, path)`` may validate
    (and return) each leaf."""
    leaves: list = []
    tree = _walk(x, name, check_leaf, leaves)
    return leaves, tree


def _walk(node, path: str, check_leaf, leaves: list) -> TreeDef:
    # A module-level function, not a recursive closure: a closure that refers to itself is a
    # reference cycle, left for the cyclic collector, which reverse mode pauses.
    kind = _container_kind(node, path)
    if kind is None:
        leaf = node if check_leaf is None else check_leaf(node, path)
        leaves.append(leaf)
        return TreeDef(None, None, (), tuple(shape_of(leaf)), _leaf_dtype(leaf))
    if kind is dict:
        keys = _sorted_keys(node)
        return TreeDef(dict, keys, tuple(_walk(node[k], f"{path}[{k!r}]", check_leaf, leaves)
                                         for k in keys))
    return TreeDef(kind, None, tuple(_walk(v, f"{path}[{i}]", check_leaf, leaves)
                                     for i, v in enumerate(node)))


def _leaf_dtype(leaf):
    try:
        return dtype_of(leaf)
    except (TypeError, ValueError):
        return None


def tree_unflatten(tree: TreeDef, leaves) -> Any:
    """Rebuild the structure ``tree`` from its leaves."""
    if not isinstance(tree, TreeDef):
        # The leaves first (JAX's order is the same as ours, but a slip is easy) would
        # end in an AttributeError about ``unflatten``.
        raise TypeError(f"costad: tree_unflatten(tree, leaves) takes the TreeDef that "
                        f"tree_flatten returned first, got a {type(tree).__name__}")
    return tree.unflatten(leaves)


def tree_leaves(x: Any) -> list:
    """The leaves of a nested structure, in flattening order, unchecked."""
    return tree_flatten(x)[0]


def _build(tree: TreeDef, leaves):
    if tree.node is None:
        return next(leaves)
    parts = [_build(c, leaves) for c in tree.children]
    if tree.node is dict:
        return dict(zip(tree.keys, parts))
    if tree.node is list or tree.node is tuple:
        return tree.node(parts)
    return tree.node(*parts)                                   # a namedtuple


def _paths(tree: TreeDef, path: str, out: list) -> None:
    if tree.node is None:
        out.append(path)
        return
    labels = tree.keys if tree.node is dict else range(len(tree.children))
    for label, child in zip(labels, tree.children):
        _paths(child, f"{path}[{label!r}]", out)


def check_input_leaf(leaf, path: str):
    """Accept a differentiable input: a real float scalar, a plain float ndarray, or an
    abstract float array (`ShapeDtype`)."""
    if isinstance(leaf, Tracer):
        return leaf                                     # nested differentiation
    cls = leaf.__class__
    if cls is ShapeDtype:
        if leaf.dtype.kind != "f":
            raise InputTypeError(f"costad: input {path} is an abstract array of dtype "
                                 f"{leaf.dtype}; derivatives need a float dtype")
        return leaf
    if cls is float or isinstance(leaf, np.floating):
        return leaf
    if isinstance(leaf, (bool, np.bool_)):
        raise InputTypeError(f"costad: input {path} is boolean; differentiate float inputs")
    if isinstance(leaf, (int, np.integer)):
        raise InputTypeError(
            f"costad: input {path} is an integer ({leaf!r}); derivatives need float inputs, "
            f"e.g. float({leaf!r})")
    if isinstance(leaf, (complex, np.complexfloating)):
        raise InputTypeError(f"costad: input {path} is complex; costad differentiates real "
                             "inputs only")
    if isinstance(leaf, float):                          # a float subclass: keep its value
        return float(leaf)
    if isinstance(leaf, np.ndarray):
        if cls is not np.ndarray:
            raise InputTypeError(
                f"costad: input {path} is a {cls.__module__}.{cls.__name__}, an ndarray "
                "subclass; costad takes plain ndarrays only (a masked array's mask or a "
                "matrix's * would silently change the meaning). Pass np.asarray(x) or "
                "x.view(np.ndarray) if the plain values are what you mean.")
        if np.issubdtype(leaf.dtype, np.floating):
            return leaf
        kind = {"i": "integer", "u": "unsigned integer", "b": "boolean",
                "c": "complex"}.get(leaf.dtype.kind, str(leaf.dtype))
        if kind == "complex":
            raise InputTypeError(f"costad: input {path} is a complex array; costad "
                                 "differentiates real inputs only")
        raise InputTypeError(
            f"costad: input {path} is a {kind} array (dtype {leaf.dtype}); derivatives need "
            "a float array, e.g. x.astype(float)")
    raise InputTypeError(f"costad: input {path} has unsupported type {type(leaf).__name__}; "
                         "use a float, a float ndarray, or a list/tuple/dict of them")


def flatten_inputs(x: Any, name: str = "x") -> tuple[list, TreeDef]:
    """`tree_flatten` for inputs to differentiate: every leaf checked."""
    return tree_flatten(x, check_input_leaf, name)


def leaf_size(leaf) -> int:
    """Number of scalars in one leaf."""
    return int(np.size(leaf)) if not isinstance(leaf, Tracer) else leaf.size
