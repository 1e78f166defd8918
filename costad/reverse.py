"""Reverse mode: record a tape, then sweep it backwards applying VJP rules.

The tape is the lecture's linear ordering of the computational graph: one node (a tuple,
see `Node`) per primitive application, in evaluation order, the inputs first. The backward
sweep is an explicit loop over the tape (no recursion, so long chains have no depth limit).
It calls each primitive's VJP rules, sums a contribution back over the axes its argument
was broadcast along (the only place this happens), and hands it to `costad.adjoints`,
which adds it into the argument's adjoint following the cost model.
"""
from __future__ import annotations

import contextlib
import gc
import threading

import numpy as np

from .adjoints import (AbstractAccumulator, IndexAccumulator, TupleAdjoint, accumulate,
                       add_in_place, densify)
from .core import (ShapeDtype, Trace, Tracer, apply, evaluate, nbytes_of, new_level,
                   primal_value, shape_of)
from .errors import ShapeError
from .primitives import IndexedCotangent, TupleCotangent, unbroadcast
from .tree import TreeDef, tree_flatten

__all__ = ["ReverseTrace", "ReverseTracer", "record", "backward", "tape_storage",
           "adjoint_peak"]


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
    """The recording interpretation: evaluates one level down and appends to the tape.

    A ``lean`` trace keeps off the tape the arrays no VJP rule will read (`_Dropped`).
    """

    __slots__ = ("tape", "lean")

    def __init__(self, level: int, lean: bool = False):
        super().__init__(level)
        self.tape: list[Node] = []
        self.lean = lean

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
        if prim.fwd is None:
            # At the bottom of the interpreter stack no value can be traced: evaluate directly.
            out = (evaluate(prim, values, params) if self.level == 0
                   else apply(prim, values, params, self.level))
        else:                                     # a loop primitive keeps residuals
            out, residuals = prim.fwd(values, params, tuple(p >= 0 for p in parents))
            params = dict(params, residuals=residuals)
        if not prim.differentiable:
            return out
        tape = self.tape
        # A lean tape leaves off what no rule reads (`Primitive.vjp_reads_args` and
        # ``vjp_reads_out``; the sweep itself reads only shapes, to sum a cotangent back
        # over broadcast axes).
        if self.lean and out.__class__ is np.ndarray and not prim.vjp_reads_args:
            values = _drop_unread(tape, values, parents)
        tape.append((prim, params, values, parents, out))
        return ReverseTracer(self, out, len(tape) - 1)


class _Dropped:
    """What a lean tape keeps of an array that no VJP rule reads: its shape and dtype.

    It stands both for the value of the node that made it (whose rules never read their
    output) and for the argument of a node whose rules read only its arguments' shapes, so
    that the array itself is freed as soon as ``f`` lets go of it, not at the end of the
    sweep. It is no array: NumPy refuses it in arithmetic, so a rule that did read it would
    fail loudly, never compute with it.
    """

    __slots__ = ("shape", "dtype")
    __array_ufunc__ = None

    def __init__(self, value: np.ndarray):
        self.shape = value.shape
        self.dtype = value.dtype

    def __array__(self, *args, **kwargs):
        raise AssertionError("costad internal error: a VJP rule read a value that the tape "
                             "dropped as unread")

    def __repr__(self) -> str:
        return f"<dropped array {self.shape} {self.dtype}>"


def _drop_unread(tape: list, values: tuple, parents: tuple) -> tuple:
    """``values`` with each array argument replaced by its `_Dropped` stand-in where the
    node that made it never reads its own output (it is then replaced there too); the
    caller's node reads only its arguments' shapes. An argument another node reads keeps
    its own reference there, so nothing read is ever lost."""
    kept = list(values)
    for k, parent in enumerate(parents):
        value = values[k]
        if parent < 0 or value.__class__ is not np.ndarray:
            continue
        node = tape[parent]
        if node[0] is None or node[0].vjp_reads_out:
            continue
        held = node[4]
        if held is value:
            held = _Dropped(value)
            tape[parent] = node[:4] + (held,)
        elif held.__class__ is not _Dropped:
            continue
        kept[k] = held
    return tuple(kept)


class _GCPause:
    """Pause Python's cyclic garbage collector while tapes are recorded or swept.

    A tape holds no reference cycles (nodes point to values, never back), so reference
    counting frees it; the cyclic collector would only rescan the growing tape again and
    again, which made long scalar loops about 15% slower per operation as they grew. Cyclic
    garbage made by ``f`` itself is collected as usual once the block ends. The pause is
    counted across threads: the collector comes back as it was when the last block ends.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self):
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._was_enabled:
                    gc.enable()


cyclic_gc_paused = _GCPause()


def record(f, leaves: list, in_tree: TreeDef, lean: bool = False):
    """Run ``f`` on the inputs ``in_tree.unflatten(leaves)`` on a fresh tape.

    With ``lean`` the tape keeps no array that no VJP rule reads (`_Dropped`): the
    recording's peak memory is then that of the values the sweep needs, not of every value
    ``f`` made. Only the sweep may read a lean tape (`tape_storage` and `adjoint_peak` need
    every value).

    Returns ``(tape, input_nodes, values, output_nodes, out_tree)``: the output's leaves one
    level down, the tape index of each (None where it does not depend on the inputs), and
    the output's structure.
    """
    with cyclic_gc_paused(), new_level(ReverseTrace, lean) as trace:
        boxed = [trace.new_input(leaf) for leaf in leaves]
        out = f(in_tree.unflatten(boxed))
    out_leaves, out_tree = tree_flatten(out, name="f(x)")
    values, nodes = [], []
    for o in out_leaves:
        if o.__class__ is ReverseTracer and o._trace is trace:
            values.append(o.value)
            nodes.append(o.node)
        else:
            values.append(o)
            nodes.append(None)
    return trace.tape, [b.node for b in boxed], values, nodes, out_tree


def backward(tape: list, seeds: list[tuple[int, object]], inputs: list[int],
             consume: bool = False) -> list:
    """Sweep the tape back from the seeded nodes; return the adjoint of each input node.

    ``seeds`` pairs a node with its cotangent (the seed is free). Nodes' adjoints are
    released as the sweep passes them; None means a zero adjoint. With ``consume`` the
    tape is swept only this once: each node is dropped from it as soon as the sweep has
    passed it (no node below needs its value), so that the recorded values are freed while
    the adjoints grow, and the sweep's peak memory stays near the recording's.
    """
    adjoints: list = [None] * len(tape)
    for node, ct in seeds:
        out = tape[node][4]
        if shape_of(ct) != shape_of(out):
            raise ShapeError(f"costad: the cotangent has shape {shape_of(ct)} but the output "
                             f"has shape {shape_of(out)}")
        adjoints[node] = accumulate(adjoints[node], ct)
    if seeds:
        with cyclic_gc_paused():
            _sweep(tape, max(node for node, _ in seeds), adjoints, consume)
    return [densify(adjoints[i]) for i in inputs]


_ACCUMULATORS = (IndexAccumulator, AbstractAccumulator, TupleAdjoint)

# The types of scalar code's values (x[i] of an array is a NumPy float64): a contribution
# from one to another needs no unbroadcasting.
_SCALARS = frozenset((float, np.float64))


def _hand(adjoints: list, parent: int, c, arg, owned: dict) -> None:
    """Give the contribution ``c`` to argument ``arg`` (tape node ``parent``): summed back
    over the axes ``arg`` was broadcast along, then accumulated.

    ``owned[parent]`` is the adjoint array of node ``parent`` when the sweep made it itself,
    as the sum of two contributions: then nothing else holds it (it is in no other adjoint,
    not on the tape, not the caller's), and further contributions are added into it in
    place. A contribution itself is never written into: a rule may return its output
    cotangent, a view, or a value of the tape.
    """
    if c.__class__ is IndexedCotangent or c.__class__ is TupleCotangent:
        adjoints[parent] = accumulate(adjoints[parent], c)
        return
    shape = shape_of(arg)
    if shape_of(c) != shape:
        c = unbroadcast(c, shape)
    current = adjoints[parent]
    if current is None:
        adjoints[parent] = c
    elif not (owned.get(parent) is current and add_in_place(current, c)):
        total = accumulate(current, c)
        adjoints[parent] = total
        if (total.__class__ is np.ndarray and current.__class__ is np.ndarray
                and c.__class__ is np.ndarray):
            owned[parent] = total                 # a fresh array: add(current, c)


def _sweep(tape: list, start: int, adjoints: list, consume: bool = False) -> None:
    # The hot loop of reverse mode: one pass per node. Scalar code (Python floats, one or
    # two arguments) takes the inlined paths; calls with *args or **params cost several
    # times a positional call, so they are avoided where the arity is known.
    owned: dict = {}                  # node -> its adjoint array, where the sweep owns it
    for i in range(start, -1, -1):
        ct = adjoints[i]
        if ct is None:
            if consume:
                tape[i] = None
            continue
        prim, params, args, parents, out = tape[i]
        if consume:
            # Node i's value is an argument of later nodes only, all swept already.
            tape[i] = None
        if owned:
            owned.pop(i, None)        # ct now goes to the rules, which may pass it on
        if prim is None:
            continue
        adjoints[i] = None
        if ct.__class__ in _ACCUMULATORS:
            ct = densify(ct)
        vjp = prim.vjp
        if vjp.__class__ is not tuple:                      # a Joint rule
            needs = tuple(p >= 0 for p in parents)
            for parent, c, arg in zip(parents, vjp.rule(ct, out, *args, needs, **params), args):
                if parent >= 0 and c is not None:
                    _hand(adjoints, parent, c, arg, owned)
            continue
        if len(args) == 1:
            parent = parents[0]
            c = vjp[0](ct, out, args[0], **params) if params else vjp[0](ct, out, args[0])
            if c is None:
                continue
            if c.__class__ in _SCALARS and args[0].__class__ in _SCALARS:
                current = adjoints[parent]
                adjoints[parent] = c if current is None else accumulate(current, c)
            else:
                _hand(adjoints, parent, c, args[0], owned)
        elif len(args) == 2:
            a, b = args
            pa, pb = parents
            if pa >= 0 and vjp[0] is not None:
                c = vjp[0](ct, out, a, b, **params) if params else vjp[0](ct, out, a, b)
                if c is not None:
                    if c.__class__ in _SCALARS and a.__class__ in _SCALARS:
                        current = adjoints[pa]
                        adjoints[pa] = c if current is None else accumulate(current, c)
                    else:
                        _hand(adjoints, pa, c, a, owned)
            if pb >= 0 and vjp[1] is not None:
                c = vjp[1](ct, out, a, b, **params) if params else vjp[1](ct, out, a, b)
                if c is not None:
                    if c.__class__ in _SCALARS and b.__class__ in _SCALARS:
                        current = adjoints[pb]
                        adjoints[pb] = c if current is None else accumulate(current, c)
                    else:
                        _hand(adjoints, pb, c, b, owned)
        else:
            for k, parent in enumerate(parents):
                if parent >= 0 and vjp[k] is not None:
                    c = vjp[k](ct, out, *args, **params)
                    if c is not None:
                        _hand(adjoints, parent, c, args[k], owned)


def _bool_scalar(value) -> bool:
    # A comparison's scalar result is not counted: NumPy's True and False are shared
    # singletons, so identity cannot tell one stored boolean from another.
    return value.shape == () and value.dtype == np.bool_


def tape_storage(tape: list[Node]) -> tuple[int, int]:
    """Nodes on the tape and bytes of the distinct values it keeps alive.

    A node's value is counted unless its primitive made a view (reshape, transpose,
    broadcasting, basic indexing: primitives that move no bytes), whatever NumPy's own
    memory layout, so that concrete and abstract inputs store alike. Constants are counted
    unless they are views of the caller's arrays. Scalar booleans (a byte each) are not.
    """
    seen: set[int] = set()
    nbytes = 0
    for prim, params, args, _, out in tape:
        # Values boxed for counting (or traced by an outer level) hold their data below.
        out, args = primal_value(out), tuple(primal_value(a) for a in args)
        # A loop primitive's several outputs are stored once, here (its projections share them).
        outs = tuple(primal_value(o) for o in out) if isinstance(out, tuple) else (out,)
        view = (prim is not None and not isinstance(out, tuple)
                and prim.traffic(out, *args, **params) == 0)
        for position, value in enumerate(outs + args):
            key = id(value)
            if key in seen:
                continue
            seen.add(key)
            if position < len(outs):
                if not view:
                    nbytes += _stored_bytes(value)
            elif not (isinstance(value, np.ndarray) and value.base is not None):
                nbytes += _stored_bytes(value)
    return len(tape), nbytes


def _stored_bytes(value) -> int:
    if isinstance(value, (np.ndarray, np.generic)) or value.__class__ is ShapeDtype:
        return 0 if _bool_scalar(value) else value.nbytes
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return 8
    return 0


def _value_bytes(value) -> int:
    value = primal_value(value)
    if isinstance(value, tuple):
        return sum(_value_bytes(v) for v in value)
    return nbytes_of(value)


def adjoint_peak(tape: list[Node], outputs: list[int], inputs: list[int]) -> int:
    """The most bytes of adjoints alive at once during a backward sweep from ``outputs``.

    Computed from the tape's structure, the sweep's own bookkeeping: node i's adjoint
    appears with the first contribution to it (from its last consumer, or the seed) and is
    released once node i is processed; the inputs' adjoints are kept (they are the result).
    Every recorded dependency is assumed to carry a contribution; an adjoint has the size of
    its node's value (an indexed read's adjoint is a buffer of the whole array).
    """
    if not outputs:
        return 0
    start = max(outputs)
    birth = [-1] * len(tape)
    for node in outputs:
        birth[node] = start
    for i in range(start, -1, -1):
        prim, _, _, parents, _ = tape[i]
        if birth[i] < 0 or prim is None:
            continue
        vjp = prim.vjp
        for k, parent in enumerate(parents):
            if parent >= 0 and birth[parent] < 0 and (vjp.__class__ is not tuple
                                                      or vjp[k] is not None):
                birth[parent] = i
    change = [0] * (start + 1)
    kept = set(inputs)
    for i, t in enumerate(birth):
        if t < 0:
            continue
        size = _value_bytes(tape[i][4])
        change[t] += size
        if i not in kept and i >= 1:
            change[i - 1] -= size                 # released once node i is processed
    live = peak = 0
    for t in range(start, -1, -1):
        live += change[t]
        peak = max(peak, live)
    return peak
