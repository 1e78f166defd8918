"""Exact operation counts: the `Cost` record and the `counting()` context.

The cost model (DESIGN.md section 2) counts elementary scalar operations per kind
(``"mul"``, ``"add"``, ``"exp"``, ...). Primitives report their counts to the innermost
active counter; when a `counting()` block ends its counts are added to the enclosing one,
so nested blocks see the same totals as a single outer block.

Counting is off unless a `counting()` block is active: outside one, evaluating a primitive
pays nothing for the bookkeeping (this is what lets timings exclude counting overhead).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Mapping

__all__ = ["Cost", "counting", "charge", "is_counting"]


class Cost:
    """Counted elementary operations, per kind, and what a reverse sweep stored.

    ``by_op`` maps an operation kind to an exact integer count; ``total`` is their sum
    (unit cost). ``stored_nodes`` and ``stored_bytes`` are the tape nodes and the bytes of
    the distinct arrays the reverse-mode tape kept alive (zero for other strategies).
    Costs add: ``Cost + Cost`` sums every field.
    """

    __slots__ = ("by_op", "stored_nodes", "stored_bytes")

    def __init__(self, by_op: Mapping[str, int] | None = None, stored_nodes: int = 0,
                 stored_bytes: int = 0):
        self.by_op: dict[str, int] = {k: int(v) for k, v in (by_op or {}).items() if v}
        self.stored_nodes = int(stored_nodes)
        self.stored_bytes = int(stored_bytes)

    @property
    def total(self) -> int:
        """Number of elementary operations, each counted once (unit cost)."""
        return sum(self.by_op.values())

    def weighted(self, weights: Mapping[str, float], default: float = 1.0) -> float:
        """Total cost with a weight per kind, e.g. ``{"exp": 10}`` for costly transcendentals."""
        return sum(count * weights.get(kind, default) for kind, count in self.by_op.items())

    def count(self, *kinds: str) -> int:
        """Sum of the counts of the given kinds, e.g. ``cost.count("mul", "div")``."""
        return sum(self.by_op.get(kind, 0) for kind in kinds)

    def _add_counts(self, counts: Mapping[str, int]) -> None:
        by_op = self.by_op
        for kind, n in counts.items():
            if n:
                by_op[kind] = by_op.get(kind, 0) + n

    def __add__(self, other: "Cost") -> "Cost":
        if not isinstance(other, Cost):
            return NotImplemented
        result = Cost(self.by_op, self.stored_nodes + other.stored_nodes,
                      self.stored_bytes + other.stored_bytes)
        result._add_counts(other.by_op)
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cost):
            return NotImplemented
        return (self.by_op == other.by_op and self.stored_nodes == other.stored_nodes
                and self.stored_bytes == other.stored_bytes)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.by_op.items()))
        stored = ""
        if self.stored_nodes:
            stored = f"; stored {self.stored_nodes} nodes, {self.stored_bytes} bytes"
        return f"Cost(total={self.total}: {kinds or 'nothing'}{stored})"


# The stack of active counters; primitives report to the innermost one.
_counters: list[Cost] = []


def is_counting() -> bool:
    """True inside a `counting()` block."""
    return bool(_counters)


def charge(counts: Mapping[str, int]) -> None:
    """Add ``counts`` to the innermost active counter (no-op when not counting)."""
    if _counters:
        _counters[-1]._add_counts(counts)


def charge_storage(nodes: int, nbytes: int) -> None:
    """Record what a reverse-mode tape stored (no-op when not counting)."""
    if _counters:
        _counters[-1].stored_nodes += nodes
        _counters[-1].stored_bytes += nbytes


@contextlib.contextmanager
def counting() -> Iterator[Cost]:
    """Count every elementary operation costad performs inside the block.

    >>> with counting() as c:
    ...     grad(f, mode="forward")(x)
    >>> c.total, c.by_op

    The yielded `Cost` fills in while the block runs. On exit its counts are also added to
    any enclosing `counting()` block.
    """
    cost = Cost()
    _counters.append(cost)
    try:
        yield cost
    finally:
        _counters.pop()
        if _counters:
            outer = _counters[-1]
            outer._add_counts(cost.by_op)
            outer.stored_nodes += cost.stored_nodes
            outer.stored_bytes += cost.stored_bytes
