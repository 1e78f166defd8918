"""C1: a program is a DAG is a linear ordering of nodes (the lecture's example)."""
from __future__ import annotations

from ..api import trace
from ..functions import seed_example
from ..measure import row
from . import Settings, Task

NAME = "graph"
DESCRIPTION = "the lecture's example l(t1, t2) traced: its listing, DAG and K = 5 (C1)"
POINT = [1.0, 2.0]
PREDICTED = {"total": 5, "exp": 1, "mul": 2, "add": 1, "sqrt": 1}


def grid(settings: Settings) -> dict:
    return {"function": "seed", "point": POINT}


def _run() -> list[dict]:
    graph = trace(seed_example, POINT)
    base = dict(experiment=NAME, function="seed", strategy="trace", n=len(POINT))
    by_op = dict(graph.cost.by_op, total=graph.cost.total)
    rows = [row(base, "ops", by_op.get(kind, 0), "ops", kind=kind, predicted=predicted)
            for kind, predicted in PREDICTED.items()]
    depths = graph.depths()
    # The DAG itself, so that the report draws it from results alone: one row per node
    # (value = its depth, note = its listing line) and one per edge.
    for node, depth in zip(graph.nodes, depths):
        rows.append(row(base, "node", depth, "count", kind=node.name, note=str(node)))
    for node in graph.nodes:
        for parent in node.parents:
            if parent >= 0:
                rows.append(row(base, "edge", 1, "count",
                                kind=f"{graph.nodes[parent].name}->{node.name}"))
    rows.append(row(base, "output", 1, "count", kind=graph.output or "", note="return"))
    return rows


def tasks(settings: Settings) -> list[Task]:
    return [Task("trace the seed example", _run)]
