"""The computational graph of a traced function: a DAG as a linear ordering of nodes.

`Graph` is a read-only view of a reverse-mode tape: node t_k is the k-th value computed,
the inputs first, as in the lecture's listing (t3 = exp(t1), t4 = mul(t2, t3), ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .core import shape_of
from .cost import Cost

__all__ = ["Graph", "GraphNode"]


@dataclass(frozen=True)
class GraphNode:
    """One node: its name (t1, t2, ...), operation, argument names and its own cost."""

    name: str
    op: str                      # primitive name, or "input"
    args: tuple[str, ...]        # names of argument nodes, or a short repr of constants
    parents: tuple[int, ...]     # indices of argument nodes in Graph.nodes (-1: constant)
    params: dict = field(default_factory=dict)
    shape: tuple = ()
    cost: dict = field(default_factory=dict)
    path: str = ""               # for inputs: where the input sits in x

    def __str__(self) -> str:
        if self.op == "input":
            return f"{self.name} = input {self.path}"
        params = "".join(f", {k}={_short(v)}" for k, v in self.params.items())
        return f"{self.name} = {self.op}({', '.join(self.args)}{params})"


def _dot_escape(text: str) -> str:
    """Text inside a double-quoted DOT label: backslashes and quotes escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _short(value) -> str:
    """A constant as it reads in a listing: scalars by value, arrays by shape."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"<{value.dtype} {'x'.join(map(str, value.shape))}>"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


class Graph:
    """The traced program of ``costad.trace(f, x)``.

    nodes:   `GraphNode` list in evaluation order (inputs first).
    outputs: the name of the node behind each leaf of f's output (None for a constant);
    output:  the only one's name, when f returns one array or scalar.
    cost:    the `Cost` of one evaluation (K = ``cost.total``).
    """

    def __init__(self, tape, input_nodes: list[int], outputs: list[int | None],
                 paths: list[str], cost: Cost):
        names = [f"t{i + 1}" for i in range(len(tape))]
        path_of = dict(zip(input_nodes, paths))
        nodes = []
        for i, (prim, params, args, parents, out) in enumerate(tape):
            if prim is None:
                nodes.append(GraphNode(names[i], "input", (), (), {}, shape_of(out), {},
                                       path_of.get(i, "")))
                continue
            arg_names = tuple(names[p] if p >= 0 else _short(a) for p, a in zip(parents, args))
            shape = (tuple(shape_of(o) for o in out) if isinstance(out, tuple)
                     else shape_of(out))
            params = {k: v for k, v in params.items() if k != "residuals"}
            nodes.append(GraphNode(names[i], prim.name, arg_names, parents, params, shape,
                                   prim.cost(out, *args, **params)))
        self.nodes: list[GraphNode] = nodes
        self.outputs: list[str | None] = [None if o is None else names[o] for o in outputs]
        self.output: str | None = self.outputs[0] if len(self.outputs) == 1 else None
        self.cost = cost

    @property
    def inputs(self) -> list[GraphNode]:
        return [n for n in self.nodes if n.op == "input"]

    @property
    def operations(self) -> list[GraphNode]:
        return [n for n in self.nodes if n.op != "input"]

    def __len__(self) -> int:
        return len(self.nodes)

    def __str__(self) -> str:
        lines = [str(n) for n in self.nodes]
        returned = ", ".join(name or "<constant>" for name in self.outputs) or "<nothing>"
        lines.append(f"return {returned}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Graph: {len(self.inputs)} inputs, {len(self.operations)} nodes, {self.cost}>"

    def depths(self) -> list[int]:
        """Longest distance of each node from an input (a layering for drawing the DAG)."""
        depth = []
        for node in self.nodes:
            parents = [p for p in node.parents if p >= 0]
            depth.append(1 + max(depth[p] for p in parents) if parents else 0)
        return depth

    def to_dot(self) -> str:
        """The DAG as Graphviz text (``dot -Tsvg``)."""
        lines = ["digraph costad {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
        for node in self.nodes:
            if node.op == "input":
                label = f"{node.name}\\ninput {_dot_escape(node.path)}"
                lines.append(f'  {node.name} [label="{label}", shape=box];')
            else:
                lines.append(f'  {node.name} [label="{node.name} = {node.op}", shape=ellipse];')
        for node in self.nodes:
            for p in node.parents:
                if p >= 0:
                    lines.append(f"  {self.nodes[p].name} -> {node.name};")
        lines.append("}")
        return "\n".join(lines) + "\n"
