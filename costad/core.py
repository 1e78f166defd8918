"""Tracing machinery: primitives, traced values and the interpreter stack.

This module knows no specific operation. A `Primitive` bundles what an operation is (its
NumPy implementation, its cost, its JVP and VJP rules); `bind` applies one. When no
argument is a traced value, `bind` evaluates the primitive and charges its cost to the
active counter. Otherwise the innermost interpretation (`Trace`) among the arguments
handles it: forward mode computes a tangent, reverse mode records a tape node, and
either then binds the primitive again on the values one level down. Counting therefore
sits underneath every interpretation, and the derivative rules, written with primitives,
are counted by the same counter as the function (the design of JAX's Autodidax).

The interpreter stack is per thread, so two threads can trace and count at once.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Mapping

import numpy as _np

from . import cost as _cost
from .errors import (AbstractValueError, EscapedTracerError, ShapeError,
                     UnsupportedOperationError)

__all__ = ["Primitive", "Joint", "Tracer", "Trace", "ShapeDtype", "bind", "apply", "evaluate",
           "new_level", "on_first_and_last_level", "ENDED", "shape_of", "size_of", "dtype_of",
           "is_traced", "primal_value", "nbytes_of", "operand_traffic", "no_traffic",
           "is_abstract", "unboxed", "is_differentiated", "capturing", "handler", "charge"]


class ShapeDtype:
    """An abstract array: a shape and a dtype, and no data.

    Evaluating a primitive on abstract arguments applies its ``abstract`` rule instead of
    its implementation: the output's shape and dtype, computed from the arguments' alone, so
    that counts at any size cost no memory (costad.count(f, ShapeDtype((10**9,)))).
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype="float64"):
        if isinstance(shape, (int, _np.integer)) and not isinstance(shape, bool):
            shape = (shape,)
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__") or any(
                isinstance(n, bool) or not isinstance(n, (int, _np.integer)) for n in shape):
            raise ShapeError(f"costad: a ShapeDtype's shape must be a tuple of integers, "
                             f"got {shape!r}")
        shape = tuple(int(n) for n in shape)
        if any(n < 0 for n in shape):
            raise ShapeError(f"costad: a ShapeDtype's shape cannot be negative: {shape}")
        self.shape = shape
        self.dtype = _np.dtype(dtype)
        global abstract_seen
        abstract_seen = True

    def _message(self, operation: str) -> str:
        return (f"costad: {operation} needs the value of an array computed from an abstract "
                f"input (ShapeDtype{self.shape}); abstract counting knows shapes and dtypes "
                "only. Count on a concrete input instead, or keep control flow independent "
                "of values.")

    def _needs_a_value(self, operation: str):
        raise AbstractValueError(self._message(operation))

    def __bool__(self):
        self._needs_a_value("a Python condition (if/while/and/or/bool())")

    def __float__(self):
        self._needs_a_value("float()")

    def __int__(self):
        self._needs_a_value("int()")

    def __index__(self):
        self._needs_a_value("using it as an index")

    def __array__(self, *args, **kwargs):
        self._needs_a_value("conversion to a NumPy array")

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of an abstract scalar")
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        size = 1
        for n in self.shape:
            size *= n
        return size

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __eq__(self, other) -> bool:
        return (isinstance(other, ShapeDtype) and self.shape == other.shape
                and self.dtype == other.dtype)

    __hash__ = None

    def __repr__(self) -> str:
        return f"ShapeDtype(shape={self.shape}, dtype={self.dtype.name})"


class Joint:
    """A VJP rule giving every argument's cotangent at once, for rules that share work
    between arguments (the factor ct / b of a division, the comparison of a maximum).

    ``rule(ct, out, *args, needs, **params) -> tuple``, one cotangent per argument (None
    where ``needs[i]`` is false or the contribution is zero); ``needs`` is positional,
    right after the arguments.
    """

    __slots__ = ("rule",)

    def __init__(self, rule: Callable):
        self.rule = rule


class Primitive:
    """One record of the primitive table.

    name:  the primitive's name, as printed in graph listings; also its cost kind.
    impl:  ``impl(*args, **params)`` on plain NumPy values.
    cost:  ``cost(out, *args, **params) -> {kind: count}`` (docs/design.md, section 2);
           ``{}`` for structural operations.
    jvp:   ``jvp(tangents, out, *args, **params) -> tangent``, or None for a zero tangent;
           ``tangents[i]`` is None where argument i has a zero tangent. The forward trace
           broadcasts the result to the output's shape. Omitted for a ``linear`` primitive:
           its JVP is the primitive itself, applied to the tangent.
    vjp:   per argument, ``rule(ct, out, *args, **params) -> cotangent`` (None for a zero
           contribution), or None for an argument that never takes a cotangent (the
           condition of a ``where``); or a `Joint` rule for rules that share work. The
           reverse sweep sums a cotangent over the axes its argument was broadcast along.
    linear: True for a unary primitive linear in its argument (reshape, sum, getitem, ...).
    traffic: ``traffic(out, *args, **params) -> bytes`` read and written; by default every
           operand's and the result's size (`operand_traffic`), `no_traffic` for views.
    abstract: ``abstract(*args, **params) -> ShapeDtype``, the output's shape and dtype
           from the arguments' shapes and dtypes alone (some arguments may be `ShapeDtype`);
           what evaluation on abstract inputs uses instead of ``impl``.
    differentiable: False for primitives with a piecewise-constant output (comparisons,
           sign): their results are never traced.
    fwd:   for the loop primitives only (`costad.loops`): ``fwd(args, params, needs) ->
           (out, residuals)``, what reverse mode runs instead of ``impl`` when it records
           the primitive (``needs[i]``: argument i is traced); ``residuals`` reach the VJP
           rule as the keyword ``residuals``.
    vjp_reads_args, vjp_reads_out: False where no VJP rule reads the arguments' values
           (their shapes and dtypes only) or the primitive's own output: an uncounted
           gradient's tape then keeps no such array (`costad.reverse`'s lean recording), so
           that it is freed as soon as f lets go of it. Declare False only what the rules
           truly leave unread: a rule that read a dropped value fails loudly.
    """

    __slots__ = ("name", "impl", "cost", "jvp", "vjp", "abstract", "traffic", "linear",
                 "differentiable", "fwd", "vjp_reads_args", "vjp_reads_out", "doc")

    def __init__(self, name: str, impl: Callable, cost: Callable, jvp: Callable | None = None,
                 vjp: tuple | Joint | None = None, *, abstract: Callable | None = None,
                 traffic: Callable | None = None, linear: bool = False,
                 differentiable: bool = True, fwd: Callable | None = None,
                 vjp_reads_args: bool = True, vjp_reads_out: bool = True, doc: str = ""):
        self.name = name
        self.vjp_reads_args = vjp_reads_args
        self.vjp_reads_out = vjp_reads_out
        self.fwd = fwd
        self.impl = impl
        self.cost = cost
        self.abstract = abstract
        self.traffic = operand_traffic if traffic is None else traffic
        self.linear = linear
        if linear:
            if jvp is not None:
                raise ValueError(f"primitive {name}: a linear primitive's JVP is itself")
            jvp = self._linear_jvp
        self.jvp = jvp
        self.vjp = vjp
        self.differentiable = differentiable
        self.doc = doc

    def _linear_jvp(self, tangents, out, *args, **params):
        return self(tangents[0], **params)

    def __call__(self, *args, **params):
        if _open_levels:
            if _interpreters.stack:
                return apply(self, args, params)
            # Some thread traces, this one does not (the interpretations are per thread): a
            # traced value here came from that thread (f started this one, say). Evaluated,
            # it would come back here through NumPy without end.
            for a in args:
                if isinstance(a, Tracer):
                    raise EscapedTracerError(
                        f"costad: {self.name} got a traced value in a thread that is not "
                        "tracing it (f started this thread, or handed the value to one); "
                        "costad traces in the thread that calls it: compute there")
        # Nothing is being traced (a VJP rule inside a plain reverse sweep, say): evaluate.
        return evaluate(self, args, params)

    def __repr__(self) -> str:
        return f"<costad primitive {self.name}>"


class Trace:
    """An interpretation of primitives: subclasses implement `process`."""

    __slots__ = ("level",)

    def __init__(self, level: int):
        self.level = level

    def process(self, prim: Primitive, args: tuple, params: Mapping[str, Any]):
        raise NotImplementedError


class Tracer:
    """A traced value: stands in for an array while a function is interpreted.

    Python operators, NumPy ufuncs (NEP 13) and NumPy functions (NEP 18) on a tracer are
    routed to costad's primitives by `costad.numpy_dispatch`, which installs those methods.
    Subclasses set ``_trace`` and provide ``primal`` (the value one level down).
    """

    __slots__ = ("_trace",)
    # Make NumPy defer to us in mixed expressions such as ``ndarray * tracer``.
    __array_priority__ = 1000

    @property
    def primal(self):
        raise NotImplementedError

    @property
    def shape(self) -> tuple:
        return shape_of(self.primal)

    @shape.setter
    def shape(self, value):
        # NumPy reshapes an array in place when its shape is assigned; a traced value is
        # never changed in place.
        raise TypeError("costad cannot reshape a traced array in place (x.shape = ...); use "
                        "x = x.reshape(...)")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return size_of(self.primal)

    @property
    def dtype(self):
        return dtype_of(self.primal)

    @property
    def nbytes(self) -> int:
        return nbytes_of(self.primal)

    # True for interpretations whose values carry derivatives (forward, reverse); False for
    # values boxed only to be counted, which adjoint arithmetic treats as plain values.
    differentiating = True

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a traced scalar")
        return shape[0]

    def __bool__(self) -> bool:
        # Data-dependent control flow is allowed: the branch taken is the one recorded.
        return bool(self.primal)

    def __array__(self, *args, **kwargs):
        if self._trace.level == ENDED:
            raise EscapedTracerError()
        if primal_value(self).__class__ is ShapeDtype:
            primal_value(self)._needs_a_value("conversion to a NumPy array")
        raise TypeError(
            "costad cannot turn a traced value into a plain NumPy array: that would silently "
            "drop its derivative. This happens when a traced value is stored into a plain "
            "NumPy array (y[i] = x), with NumPy functions outside costad's table "
            "(costad.supported_numpy()), and with converters other than np.array and "
            "np.asarray called as module attributes (np.asanyarray, or `array` imported "
            "from numpy by name before costad traced): build arrays with np.array(...), "
            "np.stack or np.concatenate.")

    def __float__(self):
        # NumPy calls this when a traced value is stored into a plain array (y[i] = x), then
        # replaces the error with its own ("setting an array element with a sequence");
        # `new_level` recognises that error by this mark and restores the explanation.
        if primal_value(self).__class__ is ShapeDtype:
            error = AbstractValueError(primal_value(self)._message(
                "float(), int() or storing into a NumPy array"))
        else:
            error = TypeError(_CONVERSION_REFUSED)
        _interpreters.refused_conversion = error
        raise error

    __int__ = __float__
    __complex__ = __float__
    __index__ = __float__

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        # A traced value is never changed in place, so a copy is the value itself. Copying
        # its slots instead would copy its interpretation too (the trace and its tape): the
        # copy's operations would go to a trace no one reads, and its derivative would be
        # silently zero (copy.deepcopy(params) inside f).
        return self

    def __reduce_ex__(self, protocol):
        raise TypeError(
            "costad cannot pickle a traced value: the copy would lose its derivative; pickle "
            "costad.stop_gradient(x) if the value alone is meant")

    def __format__(self, format_spec: str) -> str:
        if not format_spec:
            return str(self)
        raise TypeError(
            f"costad cannot format a traced value with the format {format_spec!r} (its "
            "derivative would be lost in the text); format costad.stop_gradient(x) to print "
            "the value")

    def __setitem__(self, index, value):
        raise TypeError(
            "costad cannot assign into a traced array (x[i] = v changes it in place); build "
            "a new array instead, e.g. with np.where, np.concatenate or np.stack")

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: an ndarray attribute costad does not trace.
        if not name.startswith("__") and hasattr(_np.ndarray, name):
            raise UnsupportedOperationError(
                f"costad cannot trace the array attribute or method ndarray.{name}; see "
                "costad.supported_numpy() for what is supported")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_CONVERSION_REFUSED = (
    "costad cannot convert a traced value to a Python number: its derivative would be lost. "
    "This happens with float(x) or int(x), and when a traced value is stored into a plain "
    "NumPy array (y[i] = x): build arrays with np.stack or np.concatenate instead, or use "
    "costad.stop_gradient(x) for a constant.")

_float_dtype = _np.dtype(float)
_float64 = _np.float64


class _Interpreters(threading.local):
    """The stack of active interpretations of the current thread; a trace's level is its
    index in it."""

    def __init__(self):
        self.stack: list[Trace] = []
        self.captures: list[Trace] = []
        # While an interpretation runs a derivative rule on the values below it, the level
        # that captures must stay under (see `apply` and `rule_below`).
        self.ceiling: int | None = None
        self.refused_conversion: Exception | None = None


_interpreters = _Interpreters()

# Interpretations open in any thread. While it is zero, a primitive called outside any
# trace (every VJP rule of a plain reverse sweep) skips the per-thread lookup.
_open_levels = 0
_levels_lock = threading.Lock()


# Callbacks run when the first interpretation opens in the process and when the last one
# closes (see `on_first_and_last_level`).
_first_level_hooks: list[Callable[[], None]] = []
_last_level_hooks: list[Callable[[], None]] = []


def on_first_and_last_level(opened: Callable[[], None], closed: Callable[[], None]) -> None:
    """Run ``opened()`` whenever the number of open interpretations in the process goes from
    zero to one, and ``closed()`` whenever it goes back to zero.

    Both run under the lock that guards the count, so they never interleave with each other
    or with a level opening in another thread; they must be quick and must not raise. If
    levels are open when the hooks are registered, ``opened()`` runs now. This is how
    something that must exist only while costad traces (a wrapper around a NumPy function,
    say) is installed and removed.
    """
    with _levels_lock:
        _first_level_hooks.append(opened)
        _last_level_hooks.append(closed)
        if _open_levels:
            opened()


def _opened(delta: int) -> None:
    global _open_levels
    with _levels_lock:
        before = _open_levels
        _open_levels += delta
        if before == 0 and _open_levels:
            for hook in _first_level_hooks:
                hook()
        elif before and _open_levels == 0:
            for hook in _last_level_hooks:
                hook()


# The level of a trace that has left the stack.
ENDED = -1


def shape_of(x) -> tuple:
    """Shape of a plain value or a tracer (a Python float has shape ())."""
    if x.__class__ is float:
        return ()
    shape = getattr(x, "shape", None)
    if shape is None:
        return _np.shape(x)
    return shape


def size_of(x) -> int:
    """Number of scalars in a plain value or a tracer."""
    if x.__class__ is float:
        return 1
    size = getattr(x, "size", None)
    if size is None:
        return int(_np.size(x))
    return size


def dtype_of(x) -> _np.dtype:
    """NumPy dtype of a plain value or a tracer (a Python float is float64)."""
    if x.__class__ is float:
        return _float_dtype
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return _np.result_type(x)
    return dtype


def is_traced(x) -> bool:
    """True if ``x`` is a traced value of any active interpretation."""
    return isinstance(x, Tracer)


def primal_value(x):
    """The plain value under any number of interpretations."""
    while isinstance(x, Tracer):
        x = x.primal
    return x


def zeros_of(x):
    """A zero of x's shape and dtype (free): abstract for an abstract x, so that nothing of
    its size is allocated."""
    if is_abstract(x):
        return ShapeDtype(shape_of(x), dtype_of(x))
    return _np.zeros(shape_of(x), dtype_of(x))


def unboxed(x):
    """``x`` without the boxes that only count it (`costad.boxing`)."""
    while isinstance(x, Tracer) and not x.differentiating:
        x = x.primal
    return x


def is_differentiated(x) -> bool:
    """True if ``x`` carries a derivative of an active forward or reverse interpretation."""
    return isinstance(unboxed(x), Tracer)


def is_abstract(x) -> bool:
    """True for an abstract array (`ShapeDtype`), traced or not."""
    return primal_value(x).__class__ is ShapeDtype


def trace_depth() -> int:
    """Number of active interpretations in this thread."""
    return len(_interpreters.stack)


class new_level:
    """Context manager that pushes a trace of class ``trace_cls`` on this thread's stack."""

    def __init__(self, trace_cls: type, *args):
        self.trace_cls = trace_cls
        self.args = args

    def __enter__(self) -> Trace:
        _interpreters.refused_conversion = None
        stack = _interpreters.stack
        trace = self.trace_cls(len(stack), *self.args)
        stack.append(trace)
        _opened(1)
        self.trace = trace
        return trace

    def __exit__(self, exc_type, exc, tb) -> None:
        popped = _interpreters.stack.pop()
        _opened(-1)
        assert popped is self.trace, "interpreter stack out of order"
        popped.level = ENDED          # its tracers, if any escaped, now refuse to work
        refused = _interpreters.refused_conversion
        if exc_type is ValueError and refused is not None and "sequence" in str(exc):
            _interpreters.refused_conversion = None
            raise refused from exc


def bind(prim: Primitive, *args, **params):
    """Apply ``prim`` to ``args``: by the innermost trace among them, or evaluate it."""
    return apply(prim, args, params)


def apply(prim: Primitive, args: tuple, params: Mapping[str, Any], below: int | None = None):
    """`bind` with the arguments packed in a tuple. A trace going one level down passes its
    own level as ``below``: only traces below it may then handle the application.

    The innermost interpretation among the arguments handles it, except that an open
    capturing trace (`capturing`) below ``below`` handles every application whose traced
    arguments all sit below it: that is how a loop's body, run again during a backward
    sweep, sees the values its closure refers to replaced (`costad.closure`).
    """
    top = None
    for a in args:
        if isinstance(a, Tracer):
            trace = a._trace
            if top is None or trace.level > top.level:
                top = trace
    if top is None:
        return evaluate(prim, args, params)
    if _open_captures:
        capture = _capture_below(_interpreters.ceiling if below is None else below)
        if capture is not None and top.level < capture.level:
            top = capture
    if top.level == ENDED:
        raise EscapedTracerError()
    return top.process(prim, args, params)


def rule_below(level: int, rule: Callable, *args, **params):
    """Run a derivative rule that an interpretation at ``level`` applies to the values below
    it: a capturing trace above ``level`` must not take its primitives."""
    if not _open_captures:
        return rule(*args, **params)
    saved = _interpreters.ceiling
    _interpreters.ceiling = level
    try:
        return rule(*args, **params)
    finally:
        _interpreters.ceiling = saved


def handler(args) -> Trace | None:
    """The interpretation `apply` would hand ``args`` to (None: plain evaluation)."""
    top = None
    for a in args:
        if isinstance(a, Tracer) and (top is None or a._trace.level > top.level):
            top = a._trace
    if top is not None and _open_captures:
        capture = _capture_below(None)
        if capture is not None and top.level < capture.level:
            top = capture
    return top


# Capturing traces open in any thread; while zero, `apply` never looks for one.
_open_captures = 0


def _capture_below(below: int | None):
    for capture in reversed(_interpreters.captures):
        if below is None or capture.level < below:
            return capture
    return None


class capturing(new_level):
    """Push a capturing trace: besides its own values, it handles every primitive applied
    in its extent whose traced arguments all belong to lower (or ended) interpretations."""

    def __enter__(self) -> Trace:
        global _open_captures
        trace = super().__enter__()
        _interpreters.captures.append(trace)
        with _levels_lock:
            _open_captures += 1
        return trace

    def __exit__(self, exc_type, exc, tb) -> None:
        global _open_captures
        popped = _interpreters.captures.pop()
        assert popped is self.trace, "capture stack out of order"
        with _levels_lock:
            _open_captures -= 1
        super().__exit__(exc_type, exc, tb)


# Counting on abstract inputs allocates nothing of their size, except arrays of at most this
# many elements (128 MB of float64), which it may materialize where that keeps NumPy's
# behaviour: an exact mask of the elements an index touched, a writable constant shaped
# like an input (`np.zeros_like`).
MATERIALIZE_LIMIT = 1 << 24

# Set once a ShapeDtype exists in the process: until then `evaluate` never looks for one,
# so code that never counts abstractly pays nothing for the possibility.
abstract_seen = False


def evaluate(prim: Primitive, args: tuple, params: Mapping[str, Any]):
    """Run the NumPy implementation and charge its cost to the active counter."""
    if abstract_seen and any(a.__class__ is ShapeDtype for a in args):
        out = _evaluate_abstract(prim, args, params)
        if _cost.open_blocks:
            _charge(prim, out, args, params)
        return out
    try:
        out = prim.impl(*args, **params) if params else prim.impl(*args)
    except (ValueError, IndexError) as err:
        shapes = ", ".join(str(shape_of(a)) for a in args)
        raise ShapeError(f"costad: {prim.name} cannot be applied to inputs of shapes "
                         f"{shapes}: {err}") from err
    if out.__class__ is not float and out.__class__ is not _float64:
        _check_output(prim, out)
    if _cost.open_blocks:
        _charge(prim, out, args, params)
    return out


def charge(prim: Primitive, out, args: tuple, params: Mapping[str, Any]) -> None:
    """Charge ``prim`` applied to ``args`` with result ``out`` as `evaluate` would, for a
    caller that computed the result itself (into a buffer it owns)."""
    if _cost.open_blocks:
        _charge(prim, out, args, params)


def _charge(prim: Primitive, out, args: tuple, params: Mapping[str, Any]) -> None:
    """Charge one application of ``prim`` to this thread's innermost counter, if any."""
    counters = _cost._counters.stack
    if counters:
        c = counters[-1]
        counts = prim.cost(out, *args, **params)
        c._add_counts(counts)
        name = prim.name
        c.calls[name] = c.calls.get(name, 0) + 1
        ops = sum(counts.values())
        if ops:
            c.work[name] = c.work.get(name, 0) + ops
        c.bytes += prim.traffic(out, *args, **params)


def nbytes_of(x) -> int:
    """Bytes of a value: an array's or ShapeDtype's nbytes, 8 for a Python number."""
    if isinstance(x, Tracer):
        x = primal_value(x)
    nbytes = getattr(x, "nbytes", None)
    if nbytes is not None:
        return nbytes
    if isinstance(x, bool):                 # as NumPy stores it: one byte
        return 1
    if isinstance(x, (float, int, complex)):
        return 8
    return 0


def operand_traffic(out, *args, **params) -> int:
    """Bytes moved by a computing primitive: every operand read once, the result written."""
    return nbytes_of(out) + sum(nbytes_of(a) for a in args)


def no_traffic(out, *args, **params) -> int:
    """A view (reshape, transpose, broadcasting, basic indexing) moves no bytes."""
    return 0


def _evaluate_abstract(prim: Primitive, args: tuple, params: Mapping[str, Any]) -> ShapeDtype:
    if prim.abstract is None:
        raise UnsupportedOperationError(
            f"costad: {prim.name} has no abstract rule, so it cannot run on ShapeDtype "
            "inputs; count it on a concrete input")
    try:
        out = prim.abstract(*args, **params)
    except (ValueError, IndexError) as err:
        shapes = ", ".join(str(shape_of(a)) for a in args)
        raise ShapeError(f"costad: {prim.name} cannot be applied to inputs of shapes "
                         f"{shapes}: {err}") from err
    if out.dtype.kind == "c":
        _check_output(prim, out)
    return out


def _check_output(prim: Primitive, out) -> None:
    """costad differentiates real programs on plain arrays: a complex value, or an ndarray
    subclass (a masked array's mask, a matrix's *), anywhere is an error, never a derivative
    that quietly drops the imaginary part or ignores the mask."""
    dtype = getattr(out, "dtype", None)
    if (dtype is not None and dtype.kind == "c") or out.__class__ is complex:
        raise UnsupportedOperationError(
            f"costad: {prim.name} gave a complex result (a complex input or constant reached "
            "it); costad differentiates real-valued programs only")
    if isinstance(out, _np.ndarray) and out.__class__ is not _np.ndarray:
        raise UnsupportedOperationError(
            f"costad: {prim.name} gave a {out.__class__.__module__}.{out.__class__.__name__} "
            "(an ndarray subclass such as a masked array or a matrix reached it as a "
            "constant); its mask or operators would change what is computed, and costad "
            "traces plain ndarrays only: pass np.asarray(c) if the plain values are meant")
