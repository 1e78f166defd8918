"""Exact operation counts: the `Cost` record and the `counting()` context.

The cost model (docs/design.md, section 2) counts elementary scalar operations per kind
(``"mul"``, ``"add"``, ``"exp"``, ...), and beside them primitive calls and bytes moved,
from which `costad.timemodel` predicts time. Primitives report their counts to the innermost
active counter of their thread; when a `counting()` block ends its counts are added to the
enclosing one, so nested blocks see the same totals as a single outer block.

Counting is off unless a `counting()` block is active: outside one, evaluating a primitive
pays nothing for the bookkeeping (this is what lets timings exclude counting overhead).
Counters are per thread: two threads counting at once each see only their own work.
"""
from __future__ import annotations

import contextlib
import operator
import threading
from typing import Iterator, Mapping

__all__ = ["Cost", "counting", "charge", "charge_accumulation", "charge_call", "charge_cost",
           "charge_storage", "charge_peak",
           "is_counting", "repeated", "uncounted", "sweeping", "sweep_base"]


def _count(name: str, value) -> int:
    """``value`` as a count: a non-negative integer. int() alone would turn 1.5 calls into 1
    and keep -1, and a time predicted from them would be a wrong number that looks right."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)                        # 2.0 calls are 2; 1.5 are not a count
    number = value if isinstance(value, float) else operator.index(value)
    if isinstance(number, float) or isinstance(value, bool) or number < 0:
        raise ValueError(f"costad: a Cost's counts are non-negative integers; {name} is "
                         f"{value!r}")
    return int(number)


class Cost:
    """What costad counted: elementary operations, primitive calls, bytes, and storage.

    - ``by_op``: elementary operations per kind (``"mul"``, ``"exp"``, ...), exact integers;
      ``total`` is their sum (unit cost). This is the cost model's count.
    - ``calls``: primitive applications per primitive name (free ones included): what the
      interpreter's per-call overhead multiplies; ``work``: the operations each primitive
      did, per primitive name (a matmul's mul and add are matmul work, where a kernel's
      speed, not the operation's kind, sets the time).
    - ``bytes``: bytes read and written by primitives, from the sizes of their operands and
      results (views such as reshape and basic indexing move none): what memory bandwidth
      divides.
    - ``stored_nodes``, ``stored_bytes``: the tape nodes and the bytes of the distinct arrays a
      reverse-mode tape kept alive; ``peak_bytes``: the most bytes (tape plus adjoints) alive at
      any moment of the reverse sweeps counted (zero for other strategies).

    Costs add: ``Cost + Cost`` sums every field (``peak_bytes`` takes the maximum: two
    sweeps one after the other need the larger of their peaks, not the sum).
    """

    __slots__ = ("by_op", "calls", "work", "bytes", "stored_nodes", "stored_bytes",
                 "peak_bytes")

    def __init__(self, by_op: Mapping[str, int] | None = None, stored_nodes: int = 0,
                 stored_bytes: int = 0, *, calls: Mapping[str, int] | None = None,
                 work: Mapping[str, int] | None = None, bytes: int = 0,  # noqa: A002
                 peak_bytes: int = 0):
        self.by_op: dict[str, int] = {k: _count(k, v) for k, v in (by_op or {}).items() if v}
        self.calls: dict[str, int] = {k: _count(k, v) for k, v in (calls or {}).items() if v}
        self.work: dict[str, int] = {k: _count(k, v) for k, v in (work or {}).items() if v}
        self.bytes = _count("bytes", bytes)
        self.stored_nodes = _count("stored_nodes", stored_nodes)
        self.stored_bytes = _count("stored_bytes", stored_bytes)
        self.peak_bytes = _count("peak_bytes", peak_bytes)

    @property
    def total(self) -> int:
        """Number of elementary operations, each counted once (unit cost)."""
        return sum(self.by_op.values())

    @property
    def total_calls(self) -> int:
        """Number of primitive applications."""
        return sum(self.calls.values())

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

    def _absorb(self, other: "Cost") -> None:
        """Add every field of ``other`` to this cost, in place."""
        self._add_counts(other.by_op)
        for mine, theirs in ((self.calls, other.calls), (self.work, other.work)):
            for name, n in theirs.items():
                mine[name] = mine.get(name, 0) + n
        self.bytes += other.bytes
        self.stored_nodes += other.stored_nodes
        self.stored_bytes += other.stored_bytes
        self.peak_bytes = max(self.peak_bytes, other.peak_bytes)

    def __add__(self, other: "Cost") -> "Cost":
        if not isinstance(other, Cost):
            return NotImplemented
        result = Cost(self.by_op, self.stored_nodes, self.stored_bytes, calls=self.calls,
                      work=self.work, bytes=self.bytes, peak_bytes=self.peak_bytes)
        result._absorb(other)
        return result

    def __radd__(self, other) -> "Cost":
        """``0 + cost``: what ``sum(costs)`` starts from (any other number is refused)."""
        if other.__class__ is int and other == 0:
            return self + Cost()
        return NotImplemented

    def __mul__(self, times: int) -> "Cost":
        """The cost of ``times`` identical repetitions (the peak is not multiplied)."""
        if not isinstance(times, int) or isinstance(times, bool):
            return NotImplemented
        return Cost({k: v * times for k, v in self.by_op.items()},
                    self.stored_nodes * times, self.stored_bytes * times,
                    calls={k: v * times for k, v in self.calls.items()},
                    work={k: v * times for k, v in self.work.items()},
                    bytes=self.bytes * times, peak_bytes=self.peak_bytes if times else 0)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cost):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in Cost.__slots__)

    __hash__ = None                                  # mutable while a block fills it

    def __repr__(self) -> str:
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.by_op.items()))
        extra = f"; {self.total_calls} calls, {self.bytes} bytes" if self.calls else ""
        if self.stored_nodes:
            extra += f"; stored {self.stored_nodes} nodes, {self.stored_bytes} bytes"
        if self.peak_bytes:
            extra += f"; peak {self.peak_bytes} bytes"
        return f"Cost(total={self.total}: {kinds or 'nothing'}{extra})"


class _Counters(threading.local):
    """The stack of active counters of the current thread; primitives report to the last;
    and the bytes of the tapes being swept (`sweeping`)."""

    def __init__(self):
        self.stack: list[Cost] = []
        self.sweeps: list[int] = []


_counters = _Counters()

# Counting blocks open in any thread. While it is zero, evaluating a primitive skips the
# per-thread lookup altogether (the hot path of timed code); changed under a lock.
open_blocks = 0
_open_lock = threading.Lock()


def _opened(delta: int) -> None:
    global open_blocks
    with _open_lock:
        open_blocks += delta


def active() -> Cost | None:
    """The innermost active counter of this thread, or None when not counting."""
    stack = _counters.stack
    return stack[-1] if stack else None


def is_counting() -> bool:
    """True inside a `counting()` block (of this thread)."""
    return bool(_counters.stack)


def charge(counts: Mapping[str, int]) -> None:
    """Add ``counts`` to the innermost active counter (no-op when not counting)."""
    stack = _counters.stack
    if stack:
        stack[-1]._add_counts(counts)


def charge_accumulation(adds: int) -> None:
    """One in-place accumulation into an adjoint buffer (`costad.adjoints`), of which
    ``adds`` elements already held a contribution (each costs an add)."""
    stack = _counters.stack
    if stack:
        c = stack[-1]
        c.calls["accumulate"] = c.calls.get("accumulate", 0) + 1
        if adds:
            c.by_op["add"] = c.by_op.get("add", 0) + adds
            c.work["accumulate"] = c.work.get("accumulate", 0) + adds


def charge_cost(cost: Cost) -> None:
    """Add every field of ``cost`` to the innermost active counter (no-op when not counting)."""
    stack = _counters.stack
    if stack:
        stack[-1]._absorb(cost)


def charge_call(name: str, times: int = 1) -> None:
    """Count ``times`` applications named ``name`` in ``calls`` (a loop's step evaluations)."""
    stack = _counters.stack
    if stack:
        calls = stack[-1].calls
        calls[name] = calls.get(name, 0) + times


def charge_storage(nodes: int, nbytes: int) -> None:
    """Record what a reverse-mode tape stored (no-op when not counting)."""
    stack = _counters.stack
    if stack:
        stack[-1].stored_nodes += nodes
        stack[-1].stored_bytes += nbytes


def charge_peak(nbytes: int) -> None:
    """Record the peak bytes alive during a reverse sweep (no-op when not counting)."""
    stack = _counters.stack
    if stack:
        stack[-1].peak_bytes = max(stack[-1].peak_bytes, int(nbytes))


@contextlib.contextmanager
def counting() -> Iterator[Cost]:
    """Count every elementary operation costad performs inside the block.

    >>> with counting() as c:
    ...     grad(f, mode="forward")(x)
    >>> c.total, c.by_op

    The yielded `Cost` fills in while the block runs. On exit its counts are also added to
    any enclosing `counting()` block of the same thread.
    """
    cost = Cost()
    stack = _counters.stack
    stack.append(cost)
    _opened(1)
    try:
        yield cost
    finally:
        _opened(-1)
        stack.pop()
        if stack:
            stack[-1]._absorb(cost)


@contextlib.contextmanager
def repeated(times: int) -> Iterator[None]:
    """Run the block once and charge it ``times`` times (``times`` >= 1).

    How finite differences and forward mode count their n passes over an abstract input:
    every pass has the same shape-only trace, so one pass times n is the exact count.
    """
    with counting() as once:
        yield
    stack = _counters.stack
    if stack and times != 1:
        stack[-1]._absorb(once * (times - 1))


@contextlib.contextmanager
def uncounted() -> Iterator[None]:
    """Run the block without charging any enclosing counter (a loop body run once only to
    find the values its closure refers to)."""
    stack = _counters.stack
    stack.append(Cost())
    try:
        yield
    finally:
        stack.pop()


@contextlib.contextmanager
def sweeping(tape_bytes: int) -> Iterator[None]:
    """Mark a backward sweep of a tape holding ``tape_bytes`` as running (this thread), so
    that a checkpointed loop reversed inside it reports its working set on top of them."""
    _counters.sweeps.append(int(tape_bytes))
    try:
        yield
    finally:
        _counters.sweeps.pop()


def sweep_base() -> int:
    """The bytes of the tapes being swept around this point (0 outside any sweep)."""
    return sum(_counters.sweeps)
