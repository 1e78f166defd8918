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


def _short(value) -> str:
    """A constant as it reads in a listing: scalars by value, arrays by shape."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"<{value.dtype} {'x'.join(map(str, value.shape))}>"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


class Graph:
    """The traced program of ``costad.trace(f, x)``.

    nodes:  `GraphNode` list in evaluation order (inputs first).
    output: the name of the output node (None if the output is a constant).
    cost:   the `Cost` of one evaluation (K = ``cost.total``).
    """

    def __init__(self, tape, input_nodes: list[int], output: int | None, paths: list[str],
                 cost: Cost):
        names = [f"t{i + 1}" for i in range(len(tape))]
        path_of = dict(zip(input_nodes, paths))
        nodes = []
        for i, (prim, params, args, parents, out) in enumerate(tape):
            if prim is None:
                nodes.append(GraphNode(names[i], "input", (), (), {}, shape_of(out), {},
                                       path_of.get(i, "")))
                continue
            arg_names = tuple(names[p] if p >= 0 else _short(a) for p, a in zip(parents, args))
            nodes.append(GraphNode(names[i], prim.name, arg_names, parents, dict(params),
                                   shape_of(out), prim.cost(out, *args, **params)))
        self.nodes: list[GraphNode] = nodes
        self.output: str | None = None if output is None else names[output]
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
        lines.append(f"return {self.output if self.output else '<constant>'}")
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
                label = f"{node.name}\\ninput {node.path}"
                lines.append(f'  {node.name} [label="{label}", shape=box];')
            else:
                lines.append(f'  {node.name} [label="{node.name} = {node.op}", shape=ellipse];')
        for node in self.nodes:
            for p in node.parents:
                if p >= 0:
                    lines.append(f"  {self.nodes[p].name} -> {node.name};")
        lines.append("}")
        return "\n".join(lines) + "\n"
