"""C1: a program is a DAG is a linear ordering of nodes (the lecture's example)."""
from __future__ import annotations

import pandas as pd

from costad import trace
from costad.functions import seed_example

from .. import Settings, Task
from ..claims import claim
from ..frames import counts_frame
from ..measure import row
from ..plotting import figure

__all__ = ["NAME", "ORDER", "DESCRIPTION", "TITLE", "SENTENCE", "grid", "tasks", "figures",
           "claims", "dag"]

NAME = "graph"
ORDER = 10
DESCRIPTION = "the lecture's example l(t1, t2) traced: its listing, DAG and K = 5 (C1)"
TITLE = "C1: a program is a DAG"
SENTENCE = ("The lecture's example traced by costad: its nodes in their linear order and the "
            "DAG they form.")
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


# ------------------------------------------------------------------------------ report

def dag(df: pd.DataFrame):
    """The seed example's DAG, nodes labelled as in the lecture's listing."""
    nodes = df[df.metric == "node"]
    edges = df[df.metric == "edge"]
    depth = {row.kind: int(row.value) for row in nodes.itertuples()}
    label = {row.kind: row.note for row in nodes.itertuples()}
    position, per_depth = {}, {}
    for name in nodes.kind:                       # rows are in the listing's order
        d = depth[name]
        position[name] = (d, -per_depth.get(d, 0))
        per_depth[d] = per_depth.get(d, 0) + 1
    fig = figure((9, 3.2))
    ax = fig.subplots()
    for edge in edges.kind:
        a, b = edge.split("->")
        # An edge that skips levels would pass behind the boxes in between: bend it.
        bend = 0.35 if position[b][0] - position[a][0] > 1 else 0.0
        ax.annotate("", xy=position[b], xytext=position[a],
                    arrowprops=dict(arrowstyle="->", color="gray", shrinkA=22, shrinkB=22,
                                    connectionstyle=f"arc3,rad={bend}"))
    for name, (x, y) in position.items():
        text = label[name].replace(" = ", " =\n", 1)
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", facecolor="lightyellow" if "input" in text
                          else "white", edgecolor="gray"))
    K = int(counts_frame(df).query("strategy == 'trace'").value.iloc[0])
    ax.set_title(f"l(t1, t2) = t2 e^t1 sqrt(t1 + t2 e^t1): the program as a DAG, K = {K} "
                 "elementary operations", fontsize=10)
    ax.set_xlim(-0.6, max(depth.values()) + 0.6)
    ax.set_ylim(-max(per_depth.values()) + 0.4, 1.0)
    ax.set_xlabel("depth (longest path from an input, in nodes)")
    ax.set_yticks([])
    ax.set_xticks(range(max(depth.values()) + 1))
    return fig


def figures(df: pd.DataFrame) -> dict:
    return {"dag": lambda: dag(df)}


def claims(df: pd.DataFrame, fits: pd.DataFrame) -> list[dict]:
    K = int(df[(df.metric == "ops") & (df.kind == "total")].value.iloc[0])
    return [claim("C1", "the example is a DAG of K elementary operations", "K = 5",
                  f"K = {K}", K == 5)]
