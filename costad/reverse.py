"""Reverse mode: record a tape, then sweep it backwards applying VJP rules.

The tape is the lecture's linear ordering of the computational graph: one node (a tuple,
see `Node`) per primitive application, in evaluation order, the inputs first. The backward
sweep is an explicit loop over the tape (no recursion, so long chains have no depth limit).

Adjoint bookkeeping follows the cost model: the seed and zero initialisation are free, the
first contribution to an adjoint element is an assignment (free), every further contribution
costs one add per element. Cotangents of indexing arrive as `IndexedCotangent` and are
scattered into a dense buffer in place, so reading scalars out of an n-vector costs O(1) per
read in the backward pass. When adjoints are themselves traced (forward over reverse), the
accumulation is done with the ``add`` and ``scatter`` primitives so that it is differentiated
too; there an indexed contribution is charged as a dense add of the same size.
"""
from __future__ import annotations

import contextlib
import gc

import numpy as np

from . import cost as _cost
from .core import Trace, Tracer, apply, evaluate, new_level, shape_of
from .errors import ShapeError
from .primitives import IndexedCotangent, add, scatter

__all__ = ["ReverseTrace", "ReverseTracer", "record", "backward", "tape_storage"]


# A tape node is a plain tuple (prim, params, args, parents, out): creating a tuple is several
# times cheaper than an object, and recording is the hot path of scalar code.
#   prim:    the primitive, None for an input
#   params:  its constant keyword parameters
#   args:    argument values one level down (constants included)
#   parents: tape index of each argument, -1 for a constant
#   out:     the output value one level down
Node = tuple


class ReverseTracer(Tracer):
    """A value recorded on a tape, with the index of the node that produced it."""

    __slots__ = ("value", "node")

    def __init__(self, trace: "ReverseTrace", value, node: int):
        self._trace = trace
        self.value = value
        self.node = node

    @property
    def primal(self):
        return self.value

    def __repr__(self) -> str:
        return f"ReverseTracer(t{self.node + 1}, value={self.value!r})"


class ReverseTrace(Trace):
    """The recording interpretation: evaluates one level down and appends to the tape."""

    __slots__ = ("tape",)

    def __init__(self, level: int):
        super().__init__(level)
        self.tape: list[Node] = []

    def new_input(self, value) -> ReverseTracer:
        self.tape.append((None, {}, (), (), value))
        return ReverseTracer(self, value, len(self.tape) - 1)

    def process(self, prim, args, params):
        # Unpacking one or two arguments by hand is twice as fast as the general loop, and
        # recording is the hot path of scalar code.
        if len(args) == 2:
            a, b = args
            if a.__class__ is ReverseTracer and a._trace is self:
                a, pa = a.value, a.node
            else:
                pa = -1
            if b.__class__ is ReverseTracer and b._trace is self:
                b, pb = b.value, b.node
            else:
                pb = -1
            values, parents = (a, b), (pa, pb)
        elif len(args) == 1:
            a = args[0]
            if a.__class__ is ReverseTracer and a._trace is self:
                values, parents = (a.value,), (a.node,)
            else:
                values, parents = args, (-1,)
        else:
            values = tuple(a.value if a.__class__ is ReverseTracer and a._trace is self else a
                           for a in args)
            parents = tuple(a.node if a.__class__ is ReverseTracer and a._trace is self else -1
                            for a in args)
        # At the bottom of the interpreter stack no value can be traced: evaluate directly.
        out = evaluate(prim, values, params) if self.level == 0 else apply(prim, values, params)
        if not prim.differentiable:
            return out
        tape = self.tape
        tape.append((prim, params, values, parents, out))
        return ReverseTracer(self, out, len(tape) - 1)


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while a tape is recorded or swept.

    A tape holds no reference cycles (nodes point to values, never back), so reference
    counting frees it; the cyclic collector would only rescan the growing tape again and
    again, which made long scalar loops about 15% slower per operation as they grew. Cyclic
    garbage made by ``f`` itself is collected as usual once the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def record(f, leaves: list, rebuild):
    """Run ``f(rebuild(leaves))`` on a fresh tape.

    Returns ``(tape, input_nodes, output)`` where ``output`` is the output's tape index,
    or None if the output does not depend on the inputs, and the output value.
    """
    with _cyclic_gc_paused(), new_level(ReverseTrace) as trace:
        boxed = [trace.new_input(leaf) for leaf in leaves]
        out = f(rebuild(boxed))
    inputs = [b.node for b in boxed]
    if isinstance(out, ReverseTracer) and out._trace is trace:
        return trace.tape, inputs, out.node, out.value
    return trace.tape, inputs, None, out


class _IndexAccumulator:
    """A dense adjoint buffer that indexed cotangents are scattered into, in place.

    ``touched`` marks the elements that have received a contribution (None: all of them),
    so that only repeated contributions are charged as adds.
    """

    __slots__ = ("buffer", "touched")

    def __init__(self, buffer: np.ndarray, touched):
        self.buffer = buffer
        self.touched = touched

    @classmethod
    def from_indexed(cls, c: IndexedCotangent) -> "_IndexAccumulator":
        buffer = np.zeros(c.shape, dtype=np.result_type(c.value, float))   # free: zero init
        acc = cls(buffer, np.zeros(c.shape, dtype=bool))
        acc.add_indexed(c)
        return acc

    @classmethod
    def from_dense(cls, value) -> "_IndexAccumulator":
        # A copy, because the dense cotangent may be shared with another adjoint.
        return cls(np.array(value, dtype=np.result_type(value, float), copy=True), None)

    def add_indexed(self, c: IndexedCotangent) -> None:
        index, value = c.index, c.value
        if type(index) is int and self.buffer.ndim == 1:   # one scalar: scalar code's path
            touched = self.touched
            if touched is None or touched[index]:
                _cost.charge({"add": 1})
            else:
                touched[index] = True
            self.buffer[index] += value
            return
        basic = _is_basic_index(index)
        if self.touched is None:
            repeated = int(np.size(value))
        elif basic:
            prior = self.touched[index]
            repeated = int(np.count_nonzero(prior))
            self.touched[index] = True
        else:
            # Advanced indices may repeat positions: count the newly touched ones.
            before = int(np.count_nonzero(self.touched))
            self.touched[index] = True
            repeated = int(np.size(value)) - (int(np.count_nonzero(self.touched)) - before)
        if basic:
            self.buffer[index] += value
        else:
            np.add.at(self.buffer, index, value)
        if repeated:
            _cost.charge({"add": repeated})

    def add_dense(self, value) -> None:
        repeated = self.buffer.size if self.touched is None else int(
            np.count_nonzero(self.touched))
        self.buffer += value
        self.touched = None
        if repeated:
            _cost.charge({"add": repeated})


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def _densify(adjoint):
    if isinstance(adjoint, _IndexAccumulator):
        return adjoint.buffer
    return adjoint


def _accumulate(current, contribution):
    """Add a contribution to an adjoint, following the cost model's bookkeeping."""
    if isinstance(contribution, IndexedCotangent):
        traced = isinstance(contribution.value, Tracer) or isinstance(current, Tracer)
        if traced:
            dense = scatter(contribution.value, shape=contribution.shape,
                            index=contribution.index)
            return dense if current is None else add(_densify(current), dense)
        if current is None:
            return _IndexAccumulator.from_indexed(contribution)
        if not isinstance(current, _IndexAccumulator):
            current = _IndexAccumulator.from_dense(current)
        current.add_indexed(contribution)
        return current
    if current is None:
        return contribution
    if isinstance(current, _IndexAccumulator):
        if isinstance(contribution, Tracer):
            return add(current.buffer, contribution)
        current.add_dense(contribution)
        return current
    return add(current, contribution)


def backward(tape: list, output: int, seed) -> list:
    """Sweep the tape from ``output`` back to the inputs; return the adjoint of every node.

    Only input nodes keep their adjoint (others are released as the sweep passes them).
    """
    if shape_of(seed) != shape_of(tape[output][4]):
        raise ShapeError(f"costad: the cotangent has shape {shape_of(seed)} but the output "
                         f"has shape {shape_of(tape[output][4])}")
    with _cyclic_gc_paused():
        return _sweep(tape, output, seed)


def _sweep(tape: list, output: int, seed) -> list:
    adjoints: list = [None] * len(tape)
    adjoints[output] = seed
    for i in range(output, -1, -1):
        ct = adjoints[i]
        if ct is None:
            continue
        prim, params, args, parents, out = tape[i]
        if prim is None:
            continue
        adjoints[i] = None
        if ct.__class__ is _IndexAccumulator:
            ct = ct.buffer
        # Positional calls for one or two arguments: a call with *args costs three times
        # as much, and this loop runs once per node.
        if len(parents) == 2:
            pa, pb = parents
            needs = (pa >= 0, pb >= 0)
            if params:
                cts = prim.vjp(ct, out, args[0], args[1], needs, **params)
            else:
                cts = prim.vjp(ct, out, args[0], args[1], needs)
        elif len(parents) == 1:
            needs = (parents[0] >= 0,)
            if params:
                cts = prim.vjp(ct, out, args[0], needs, **params)
            else:
                cts = prim.vjp(ct, out, args[0], needs)
        else:
            cts = prim.vjp(ct, out, *args, tuple(p >= 0 for p in parents), **params)
        for parent, c in zip(parents, cts):
            if parent >= 0 and c is not None:
                adjoints[parent] = _accumulate(adjoints[parent], c)
    return [_densify(a) for a in adjoints]


def tape_storage(tape: list[Node]) -> tuple[int, int]:
    """Nodes on the tape and bytes of the distinct values it keeps alive.

    Views (broadcasts, reshapes, slices) share their base's memory and are not counted again.
    """
    seen: set[int] = set()
    nbytes = 0
    for _, _, args, _, out in tape:
        for value in (out,) + args:
            key = id(value)
            if key in seen:
                continue
            seen.add(key)
            if isinstance(value, np.ndarray):
                if value.base is None:
                    nbytes += value.nbytes
            elif isinstance(value, (float, int, np.generic)):
                nbytes += 8
    return len(tape), nbytes
