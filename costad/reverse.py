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
import linecache
import threading
import weakref

import numpy as np

from .adjoints import (AbstractAccumulator, IndexAccumulator, TupleAdjoint, accumulate,
                       add_in_place, densify)
from .core import (ShapeDtype, Trace, Tracer, apply, evaluate, nbytes_of, new_level,
                   primal_value, shape_of)
from .errors import FrozenConstantError, ShapeError
from .primitives import IndexedCotangent, TupleCotangent, unbroadcast
from .tree import TreeDef, tree_flatten

__all__ = ["ReverseTrace", "ReverseTracer", "record", "backward", "thaw", "tape_storage",
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
        # recording is the hot path of scalar code. A constant argument that is an ndarray
        # is held read-only if the rules read it (`_hold`): one class test per constant
        # argument (a Python float fails it), none for a traced one.
        if len(args) == 2:
            a, b = args
            if a.__class__ is ReverseTracer and a._trace is self:
                a, pa = a.value, a.node
            else:
                pa = -1
                if a.__class__ is np.ndarray and prim.vjp_reads_args and prim.differentiable:
                    self._hold(prim, a)
            if b.__class__ is ReverseTracer and b._trace is self:
                b, pb = b.value, b.node
            else:
                pb = -1
                if b.__class__ is np.ndarray and prim.vjp_reads_args and prim.differentiable:
                    self._hold(prim, b)
            values, parents = (a, b), (pa, pb)
        elif len(args) == 1:
            a = args[0]
            if a.__class__ is ReverseTracer and a._trace is self:
                values, parents = (a.value,), (a.node,)
            else:
                values, parents = args, (-1,)
                if a.__class__ is np.ndarray and prim.vjp_reads_args and prim.differentiable:
                    self._hold(prim, a)
        else:
            values = tuple(a.value if a.__class__ is ReverseTracer and a._trace is self else a
                           for a in args)
            parents = tuple(a.node if a.__class__ is ReverseTracer and a._trace is self else -1
                            for a in args)
            if prim.vjp_reads_args and prim.differentiable:
                for value, parent in zip(values, parents):
                    if parent < 0 and value.__class__ is np.ndarray:
                        self._hold(prim, value)
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

    def _hold(self, prim, array: np.ndarray) -> None:
        """Make ``array``, a constant argument of ``prim`` whose VJP rules read it, read-only
        for as long as this tape lives (`_HeldTape`).

        The tape keeps constants by reference, not copied (a copy per call of every data
        batch would cost memory and time), and the rules read them only when the sweep
        comes back to this node, at the end. An ``f`` that wrote into such an array after
        using it (a work buffer refilled in a loop), or a caller changing it before calling
        a pullback, would otherwise get the gradient of the new contents, silently. Read-only,
        the write is an error instead (`FrozenConstantError` inside ``f``, NumPy's own
        outside it). Each array is counted once per tape, in `_FROZEN`, across threads.
        Called before ``prim`` is evaluated: if that fails, `record` gives the array back.
        """
        tape = self.tape
        if tape.__class__ is not _HeldTape:
            # The first constant array of this recording: from now on the tape is the one
            # that gives its arrays back when it is freed (scalar code never gets here).
            tape = self.tape = _HeldTape(tape)
            tape.held = {}
        held = tape.held
        if id(array) not in held:
            # The entry keeps the array, so its id is not reused while the tape lives.
            held[id(array)] = (array, prim.name, _FROZEN.hold(array, prim.name))


class _Freezer:
    """The constant arrays that tapes hold read-only, each with the number of tapes holding
    it, across threads: an array is made read-only by the first tape that holds it and
    writeable again when the last one lets go. Keyed by identity; an entry keeps its array
    alive, so that its id cannot be reused meanwhile. An array that was read-only already
    (its owner's choice, or a view of a read-only base) is not held, and stays as it was.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[int, list] = {}         # id -> [array, tapes holding it, prim name]
        # Weak references to arrays let go of whose flag NumPy refused to set back (a view
        # whose base another tape holds read-only): tried again whenever arrays are let go.
        self._refused: list = []

    def hold(self, array: np.ndarray, name: str) -> bool:
        """Hold ``array`` read-only for one more tape; False if it was read-only already
        and not held by costad (then nothing is done, nor undone later)."""
        key = id(array)
        with self._lock:
            entry = self._held.get(key)
            if entry is not None:
                entry[1] += 1
                return True
            # `_writeable_no_warn`: the flag of a np.broadcast_arrays result, without the
            # FutureWarning that reading `writeable` gives for one.
            if not array.flags._writeable_no_warn:
                return False
            array.setflags(write=False)           # (cheaper than setting flags.writeable)
            self._held[key] = [array, 1, name]
            return True

    def release(self, entries) -> None:
        """Let go of the arrays of ``entries`` (``(array, name, held)`` as `_HeldTape`
        keeps them), the last held first, so that a view frozen before its base is given
        back after it."""
        with self._lock:
            for array, _, held in reversed(entries):
                if not held:
                    continue
                key = id(array)
                entry = self._held[key]
                entry[1] -= 1
                if entry[1] == 0:
                    del self._held[key]
                    try:
                        array.setflags(write=True)
                    except ValueError:
                        # A view whose base has been made read-only since (by another tape,
                        # or by its owner): NumPy refuses. It is made writeable once its
                        # base is, if that is by a tape; it never raises here.
                        self._refused.append(weakref.ref(array))
            if self._refused:
                self._refused = [ref for ref in self._refused if not _writeable_again(ref)]

    def snapshot(self) -> list:
        """``(array, name)`` of every array held now, for an error message."""
        with self._lock:
            return [(entry[0], entry[2]) for entry in self._held.values()]

    def __bool__(self) -> bool:
        return bool(self._held)


def _writeable_again(ref) -> bool:
    """Try to make the array behind ``ref`` writeable; True if done (or it is gone)."""
    array = ref()
    if array is None:
        return True
    try:
        array.setflags(write=True)
    except ValueError:
        return False
    return True


_FROZEN = _Freezer()


class _HeldTape(list):
    """A tape that holds constant arrays read-only (`ReverseTrace._hold`).

    They are given back (`thaw`) when it is freed, that is when nothing can sweep it any
    more: ``grad`` and ``value_and_grad`` sweep once and thaw at once; a pullback returned
    to the caller holds its tape, and so the arrays, until it is dropped. Only a tape that
    met a constant array is one: a plain list indexes faster in the sweep's loop.
    """

    # held: id -> (array, primitive name, held by costad), set by `ReverseTrace._hold`
    __slots__ = ("held",)

    def thaw(self) -> None:
        """Give the arrays back, once (the tape may be read still, not written into)."""
        held, self.held = self.held, {}
        if held:
            _FROZEN.release(list(held.values()))

    def __del__(self):
        try:
            self.thaw()
        except Exception:                         # interpreter shutdown: nothing to restore
            pass


def thaw(tape: list) -> None:
    """Make writeable again the constant arrays ``tape`` holds read-only, now rather than
    when it is freed: for a caller that will never sweep it (again)."""
    if tape.__class__ is _HeldTape:
        tape.thaw()


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
        try:
            out = f(in_tree.unflatten(boxed))
        except BaseException as err:
            # No one will sweep this tape: its constants are writeable again now, not when
            # the traceback lets go of it. A write into one of them is the problem itself.
            tape, trace.tape = trace.tape, []
            written = (_frozen_constant_error(err) if err.__class__ is ValueError
                       and "read-only" in str(err) and _FROZEN else None)
            thaw(tape)
            if written is not None:
                raise written from err
            raise
        # The tape leaves the trace: a traced value kept by f (escaped) would otherwise keep
        # it, and the constant arrays it holds read-only, alive.
        tape, trace.tape = trace.tape, []
    out_leaves, out_tree = tree_flatten(out, name="f(x)")
    values, nodes = [], []
    for o in out_leaves:
        if o.__class__ is ReverseTracer and o._trace is trace:
            values.append(o.value)
            nodes.append(o.node)
        else:
            values.append(o)
            nodes.append(None)
    return tape, [b.node for b in boxed], values, nodes, out_tree


def _frozen_constant_error(err: ValueError) -> FrozenConstantError:
    """The `FrozenConstantError` for NumPy's refusal ``err`` to write into a read-only
    array while ``f`` was recorded and tapes hold constant arrays read-only.

    The array written is named where it can be: the innermost frame of the traceback made
    the write (``f``'s own, or a function it called), and a variable there (a local, an
    attribute of one, a global) that is one of the arrays held, preferably one its source
    line mentions, is the one. Otherwise the message lists the arrays held: the one written
    may also be one its owner made read-only, which NumPy's error, chained, then explains.
    """
    held = _FROZEN.snapshot()
    found, where, source = [], "", ""
    try:
        tb = err.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        frame, line = tb.tb_frame, tb.tb_lineno
        filename = frame.f_code.co_filename
        where = f"{filename.replace(chr(92), '/').rsplit('/', 1)[-1]}:{line}"
        source = linecache.getline(filename, line).split("#", 1)[0].strip()
        source = source if len(source) <= 80 else source[:77] + "..."
        variables = list(frame.f_locals.items())
        for name, value in list(variables):
            attributes = getattr(value, "__dict__", None)
            if isinstance(attributes, dict):
                variables += [(f"{name}.{k}", v) for k, v in attributes.items()]
        variables += list(frame.f_globals.items())
        found = [(name, array, prim) for name, value in variables
                 for array, prim in held if value is array]
    except Exception:                             # no frame to look at: list, not name
        pass
    mentioned = [entry for entry in found if entry[0].rsplit(".", 1)[-1] in source]
    found = mentioned or found
    at = f" at {where}" + (f" (`{source}`)" if source else "") if where else ""
    if found:
        name, array, prim = found[0]
        problem = (f"costad: f wrote into `{name}` ({array.dtype} array of shape "
                   f"{array.shape}){at} after passing it as a constant to {prim}, so "
                   "reverse mode holds it read-only")
    else:
        listed = ", ".join(f"{prim} ({array.dtype} array of shape {array.shape})"
                           for array, prim in held[:3])
        more = f" and {len(held) - 3} more" if len(held) > 3 else ""
        problem = (f"costad: f wrote into a read-only array{at}; reverse mode holds "
                   f"read-only the constant arrays f passed to {listed}{more}")
    return FrozenConstantError(
        f"{problem}: reverse mode reads this constant array when it sweeps back; write into "
        "a copy, or a fresh array per use")


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
