"""The gradient strategies: finite differences (forward and central), forward mode, reverse mode.

All their arithmetic goes through primitives, so inside a `counting()` block their exact
cost is:

- ``fd``:         (n+1) K + 3n  (one add to perturb, one sub and one div per coordinate)
- ``fd-central``: 2n K + 4n     (an add and a sub to perturb, a sub and a div); it never
                  needs f(x), so `value_and_grad` pays one more K for the value
- ``forward``:    n passes of f with a tangent, each a bounded multiple of K
- ``reverse``:    one recorded pass of f plus one backward sweep, a bounded multiple of K

The finite-difference step is absolute (not scaled by |x_i|), so that the counts above are
exact: by default sqrt(eps) for ``fd`` and eps^(1/3) for ``fd-central``, eps the machine
epsilon of each input's own dtype (so a float32 input gets a float32-sized step), the steps
that balance truncation and rounding error for inputs of order one. A step that vanishes in
rounding (x + h == x) is refused rather than giving a zero gradient. f always receives
copies, never the caller's arrays, so an f that updates its argument in place is safe.

Every strategy nests in every other (grad of grad, in any modes): a traced input is
perturbed with the free ``setitem`` primitive, and derivatives are assembled with free
structural primitives. Finite differences nested in finite differences lose all accuracy
with default steps (the error grows like eps / h^2), so that combination needs explicit
steps on both.
"""
from __future__ import annotations

import math
import numbers
import threading
from typing import Callable

import numpy as np

import contextlib

from . import boxing
from . import cost as _cost
from .core import (ShapeDtype, Tracer, dtype_of, is_abstract, is_differentiated, primal_value,
                   shape_of, unboxed)
from .errors import NonScalarOutputError, OutputTypeError, UnsupportedOperationError
from .pipelines import as_leaf_gradient, make_jvp, make_vjp, one_like
from .primitives import add, concatenate, div, getitem, reshape, setitem, sub
from .tree import flatten_inputs, leaf_size

__all__ = ["MODES", "grad", "value_and_grad", "default_step", "check_scalar_output",
           "as_leaf_gradient", "unit_tangent", "assemble"]

MODES = ("fd", "fd-central", "forward", "reverse")


def default_step(mode: str, dtype=np.float64) -> float:
    """The default finite-difference step for inputs of ``dtype``: eps^(1/2) for fd,
    eps^(1/3) for fd-central, eps the machine epsilon of ``dtype``."""
    eps = float(np.finfo(dtype).eps)
    return eps ** 0.5 if mode == "fd" else eps ** (1.0 / 3.0)


def check_step(step) -> float | None:
    """A finite-difference step must be a finite positive real number (or None)."""
    if step is None:
        return None
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Real):
        raise TypeError(f"costad: the finite-difference step must be a positive number, "
                        f"got {step!r}")
    value = float(step)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"costad: the finite-difference step must be finite and positive, "
                         f"got {step!r}")
    return value


def check_scalar_output(out, what: str = "grad") -> None:
    """Refuse outputs that have no gradient: non-scalars, booleans, complex, non-numbers."""
    if out is None or isinstance(out, (str, bytes, list, tuple, dict)):
        raise NonScalarOutputError(
            f"costad: {what} needs f to return a scalar float; f returned "
            f"{type(out).__name__}")
    if is_abstract(out):
        kind = primal_value(out).dtype.kind
        if kind == "b" or kind == "c":
            raise OutputTypeError(f"costad: {what} needs f to return a real number; f "
                                  f"returned an abstract {primal_value(out).dtype} value")
    elif not isinstance(out, Tracer):
        if isinstance(out, (bool, np.bool_)) or getattr(out, "dtype", None) == np.bool_:
            raise OutputTypeError(f"costad: {what} needs f to return a real number; f "
                                  "returned a boolean, which has no derivative")
        try:
            kind = np.result_type(out).kind
        except TypeError:
            kind = None
        if kind == "c":
            raise OutputTypeError(f"costad: {what} needs f to return a real number; f "
                                  "returned a complex number")
        if kind not in ("f", "i", "u"):
            raise NonScalarOutputError(f"costad: {what} needs f to return a scalar float; "
                                       f"f returned {type(out).__name__}")
    shape = shape_of(out)
    if shape != ():
        raise NonScalarOutputError(
            f"costad: {what} needs f to return a scalar; f returned an array of shape {shape}. "
            "Use costad.jacobian or costad.vjp for vector outputs, or reduce it (e.g. .sum()).")


# ------------------------------------------------------------------ coordinates and seeds

def _passes(leaves: list):
    """(leaf index, flat index, repeats) of every pass of finite differences or forward
    mode: one per scalar input, in order; an abstract leaf runs one pass standing for all of
    its scalars, exactly, because every one of them has the same shape-only trace."""
    for j, leaf in enumerate(leaves):
        size = leaf_size(leaf)
        if size and is_abstract(leaf):
            if is_differentiated(leaf):
                raise nested_abstract_passes()
            yield j, 0, size
        else:
            for k in range(size):
                yield j, k, 1


def nested_abstract_passes(what: str = "forward-mode or finite-difference derivative"
                           ) -> UnsupportedOperationError:
    """The refusal of a pass that stands for several (abstract counting) while an enclosing
    derivative differentiates it."""
    return UnsupportedOperationError(
        f"costad: an inner {what} of an abstract input, inside another derivative, cannot "
        "be counted: the outer derivative differentiates each of the n passes that "
        "abstract counting runs once. Count it on a concrete input"
        + ("" if what.startswith("reverse") else ", or make the inner derivative reverse "
           "mode"))


def check_repeated_pass(repeats: int, results,
                        what: str = "forward-mode or finite-difference derivative") -> None:
    """A pass run once and charged ``repeats`` times is exact only if no enclosing
    derivative differentiates it. `_passes` refuses an input that an enclosing derivative
    traces; a value f closes over (the weights W of ``grad(lambda W: ...)``) is found here,
    in the pass's results, which then carry the enclosing derivative: its tape (or its
    tangents) would hold one pass where there are ``repeats``, a count silently too low."""
    if repeats > 1 and any(is_differentiated(r) for r in results if r is not None):
        raise nested_abstract_passes(what)


def _counted_as(repeats: int):
    return contextlib.nullcontext() if repeats == 1 else _cost.repeated(repeats)


def _index(leaf, k: int):
    """The index of scalar k of a leaf (a tuple for arrays, None for scalars)."""
    shape = shape_of(leaf)
    return tuple(int(i) for i in np.unravel_index(k, shape)) if shape else None


def unit_tangent(leaves: list, j: int, k: int) -> list:
    """Tangents for the direction e_k of leaf j (None, a zero tangent, elsewhere). Free."""
    tangents: list = [None] * len(leaves)
    leaf = leaves[j]
    shape = shape_of(leaf)
    if shape and is_abstract(leaf):
        tangents[j] = ShapeDtype(shape, dtype_of(leaf))      # a dense tangent, abstractly
    elif shape:
        e = np.zeros(shape, dtype=dtype_of(leaf))
        e[_index(leaf, k)] = 1
        tangents[j] = e
    else:
        tangents[j] = 1.0 if leaf.__class__ is float else dtype_of(leaf).type(1)
    return tangents


def assemble(column: list, leaf):
    """One leaf's gradient from its scalar derivatives, in flat order (None: zero).

    Plain values fill an array; traced values (nested derivatives) are joined with the free
    ``concatenate`` and ``reshape`` primitives so that the outer derivative sees them.
    """
    shape = shape_of(leaf)
    if not shape:
        return as_leaf_gradient(column[0] if column else None, leaf)
    if is_abstract(leaf):
        return ShapeDtype(shape, dtype_of(leaf))
    if not any(is_differentiated(v) for v in column):
        dtype = dtype_of(leaf)
        flat = np.array([0 if v is None else primal_value(v) for v in column], dtype=dtype)
        return as_leaf_gradient(flat.reshape(shape), unboxed(leaf))
    parts = [np.zeros(1, dtype_of(leaf)) if v is None else reshape(v, shape=(1,))
             for v in column]
    return as_leaf_gradient(reshape(concatenate(*parts, axis=0), shape=shape), leaf)


# ---------------------------------------------------------------------- finite differences

class _Nesting(threading.local):
    def __init__(self):
        self.active: list[tuple[str, bool]] = []


_fd_nesting = _Nesting()


class _finite_differences:
    """Marks a finite-difference strategy as running (per thread), refusing FD in FD with a
    default step, where the nested error ~ eps / h^2 leaves no correct digit."""

    def __init__(self, mode: str, step):
        self.entry = (mode, step is not None)

    def __enter__(self):
        active = _fd_nesting.active
        if active and not (self.entry[1] and all(explicit for _, explicit in active)):
            raise ValueError(
                f"costad: finite differences nested in finite differences ({self.entry[0]} "
                f"inside {active[-1][0]}) with a default step lose every digit (the error "
                "grows like eps / h^2); pass an explicit step= to both (e.g. 1e-4), or use "
                "forward or reverse mode for one of them")
        active.append(self.entry)

    def __exit__(self, *exc):
        _fd_nesting.active.pop()


def _scalar_at(leaf, k: int):
    """Scalar k of a leaf, read with the free ``getitem`` primitive."""
    index = _index(leaf, k)
    return leaf if index is None else getitem(leaf, index=index)


def _with_coordinate(leaves: list, j: int, k: int, value) -> list:
    """Leaves with scalar k of leaf j set to ``value`` by the free ``setitem`` primitive (a
    copy, so the caller's array is untouched); the others unchanged."""
    new = list(leaves)
    index = _index(leaves[j], k)
    new[j] = value if index is None else setitem(leaves[j], value, index=index)
    return new


def _evaluate(f, leaves: list, in_tree, originals: list):
    """f on the leaves, counted; the caller's own arrays are copied first (free), so that
    an f updating its argument in place changes neither them nor later evaluations."""
    fresh = [np.array(leaf, copy=True) if isinstance(leaf, np.ndarray) and any(
        leaf is o for o in originals) else leaf for leaf in leaves]
    return boxing.call(f, fresh, in_tree)


def _step_for(mode: str, step, leaf) -> float:
    return default_step(mode, dtype_of(leaf)) if step is None else step


def _step_taken(shifted, x_k, h: float, leaf, k: int) -> float:
    """The step the perturbation actually took, (x + h) - x in the input's dtype, which
    rounding may have changed (at |x| = 1.5e8 a step of 2^-26 becomes 2^-25). Dividing by it,
    not by h, keeps the quotient right; it is bookkeeping of the method, like the step, and
    not counted. A step lost altogether (x + h == x would give a zero derivative) is
    refused. Abstract inputs have no values: the nominal step stands."""
    base = primal_value(x_k)
    if base.__class__ is ShapeDtype:
        return h
    taken = abs(float(primal_value(shifted)) - float(base))
    if np.isfinite(base) and taken == 0.0:
        raise ValueError(
            f"costad: the finite-difference step {h:g} is lost to rounding at input "
            f"coordinate {k} = {base!r} ({dtype_of(leaf)}); use a larger step= or the "
            "default step for this dtype")
    return taken if np.isfinite(taken) else h


def _check_output_precision(value, leaves: list, step, mode: str) -> None:
    """A default step fits the inputs' dtype; if f computes in a coarser one (returns float32
    for a float64 input), that step vanishes inside f and the difference would come out 0:
    refuse, and say which step to pass."""
    if step is not None:
        return
    out = primal_value(value)
    out_dtype = out.dtype if out.__class__ is ShapeDtype else np.result_type(out)
    if out_dtype.kind != "f":
        return
    coarse = np.finfo(out_dtype).eps
    for leaf in leaves:
        dtype = dtype_of(leaf)
        if dtype.kind == "f" and np.finfo(dtype).eps < coarse:
            raise ValueError(
                f"costad: f returns {out_dtype} for a {dtype} input, so it computes in "
                f"{out_dtype}: the default {mode} step for {dtype} would vanish inside f. "
                f"Pass step= suited to {out_dtype} (its default is "
                f"{default_step(mode, out_dtype):.3g}), or give f {out_dtype} inputs")


def _fd(f, x, step, want_value):
    leaves, in_tree = flatten_inputs(x)
    with _finite_differences("fd", step):
        f0 = _evaluate(f, leaves, in_tree, leaves)
        check_scalar_output(f0)
        _check_output_precision(f0, leaves, step, "fd")
        columns: list[list] = [[] for _ in leaves]
        for j, k, repeats in _passes(leaves):
            h = _step_for("fd", step, leaves[j])
            with _counted_as(repeats):
                x_k = _scalar_at(leaves[j], k)
                x_plus = add(x_k, h)
                taken = _step_taken(x_plus, x_k, h, leaves[j], k)
                f1 = _evaluate(f, _with_coordinate(leaves, j, k, x_plus), in_tree, leaves)
                columns[j].append(div(sub(f1, f0), taken))
                check_repeated_pass(repeats, (f1, columns[j][-1]))   # f0 reaches it too
    return f0, in_tree.unflatten(assemble(c, leaf) for c, leaf in zip(columns, leaves))


def _fd_central(f, x, step, want_value):
    leaves, in_tree = flatten_inputs(x)
    with _finite_differences("fd-central", step):
        columns: list[list] = [[] for _ in leaves]
        f_plus = None
        for j, k, repeats in _passes(leaves):
            h = _step_for("fd-central", step, leaves[j])
            with _counted_as(repeats):
                x_k = _scalar_at(leaves[j], k)
                x_plus, x_minus = add(x_k, h), sub(x_k, h)
                span = (_step_taken(x_plus, x_k, h, leaves[j], k)
                        + _step_taken(x_minus, x_k, h, leaves[j], k))
                f_plus = _evaluate(f, _with_coordinate(leaves, j, k, x_plus), in_tree, leaves)
                check_scalar_output(f_plus)
                _check_output_precision(f_plus, leaves, step, "fd-central")
                f_minus = _evaluate(f, _with_coordinate(leaves, j, k, x_minus), in_tree,
                                    leaves)
                check_repeated_pass(repeats, (f_plus, f_minus))
                columns[j].append(div(sub(f_plus, f_minus), span))
        f0 = None
        if want_value or f_plus is None:
            # Central differences never need f(x): `grad` skips it, `value_and_grad` pays K.
            f0 = _evaluate(f, leaves, in_tree, leaves)
            check_scalar_output(f0)
    return f0, in_tree.unflatten(assemble(c, leaf) for c, leaf in zip(columns, leaves))


# ---------------------------------------------------------------------------- AD strategies

def _forward(f, x, step, want_value):
    leaves, in_tree, push = make_jvp(f, x)
    value = None
    columns: list[list] = [[] for _ in leaves]
    for j, k, repeats in _passes(leaves):
        with _counted_as(repeats):
            values, tangents, out_tree = push(unit_tangent(leaves, j, k))
            check_repeated_pass(repeats, list(values) + list(tangents))
        value = out_tree.unflatten(values)
        check_scalar_output(value)
        columns[j].append(tangents[0])
    if value is None:                    # no input scalars at all: the value alone
        value = _evaluate(f, leaves, in_tree, leaves)
        check_scalar_output(value)
    return value, in_tree.unflatten(assemble(c, leaf) for c, leaf in zip(columns, leaves))


def _reverse(f, x, step, want_value):
    value, pullback = make_vjp(f, x, once=True)
    try:
        check_scalar_output(value)
    except BaseException:
        del pullback              # its tape holds f's constants read-only: let it go now
        raise
    return value, pullback(one_like(value))               # the seed is free


_STRATEGIES: dict[str, Callable] = {
    "fd": _fd, "fd-central": _fd_central, "forward": _forward, "reverse": _reverse,
}


def _strategy(mode: str, step):
    if not isinstance(mode, str) or mode not in _STRATEGIES:
        raise ValueError(f"costad: unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    step = check_step(step)
    if step is not None and not mode.startswith("fd"):
        raise ValueError(f"costad: step= applies to finite differences only, not to {mode} "
                         "mode")
    return _STRATEGIES[mode], step


def value_and_grad(f: Callable, mode: str = "reverse", step: float | None = None) -> Callable:
    """Return a function ``x -> (f(x), grad f(x))`` computed by the strategy ``mode``.

    ``x`` may be a float, a float ndarray of any shape, or a list/tuple/dict/namedtuple of
    them; the gradient has the same structure, and each leaf the type and dtype of its
    input. ``f`` must return a real scalar. ``mode`` is one of ``"fd"``, ``"fd-central"``,
    ``"forward"``, ``"reverse"`` (the default); ``step`` is the finite-difference step
    (see `default_step`). A function whose output does not depend on x has a zero
    gradient. NaN and inf in x are computed through, never hidden.
    """
    strategy, step = _strategy(mode, step)

    def value_and_gradient(x):
        return strategy(f, x, step, True)

    value_and_gradient.__name__ = f"value_and_grad_{mode.replace('-', '_')}"
    value_and_gradient.__doc__ = f"(f(x), grad f(x)) by {mode} of {getattr(f, '__name__', f)}"
    return value_and_gradient


def grad(f: Callable, mode: str = "reverse", step: float | None = None) -> Callable:
    """Return a function ``x -> grad f(x)``; see `value_and_grad` for the arguments."""
    strategy, step = _strategy(mode, step)

    def gradient(x):
        return strategy(f, x, step, False)[1]

    gradient.__name__ = f"grad_{mode.replace('-', '_')}"
    gradient.__doc__ = f"grad f(x) by {mode} of {getattr(f, '__name__', f)}"
    return gradient
