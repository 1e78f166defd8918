"""The gradient strategies: finite differences (forward and central), forward mode, reverse mode.

Each strategy takes the flattened input (leaves and a rebuild function) and returns the value
and one gradient per leaf. All their arithmetic goes through primitives, so inside a
`counting()` block their exact cost is:

- ``fd``:         (n+1) K + 3n  (one add to perturb, one sub and one div per coordinate)
- ``fd-central``: 2n K + 4n     (an add and a sub to perturb, a sub and a div); it never
                  needs f(x), so `value_and_grad` pays one more K for the value
- ``forward``:    n passes of f with a tangent, each a bounded multiple of K
- ``reverse``:    one recorded pass of f plus one backward sweep, a bounded multiple of K

The finite-difference step is absolute (not scaled by |x_i|), so that the counts above are
exact: by default sqrt(machine epsilon) for ``fd`` and its cube root for ``fd-central``, the
steps that balance truncation and rounding error for inputs of order one.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import boxing
from . import cost as _cost
from .core import Tracer, shape_of
from .errors import NonScalarOutputError
from .forward import jvp_call
from .primitives import add, div, sub
from .pytree import flatten
from .reverse import backward, record, tape_storage

__all__ = ["MODES", "grad", "value_and_grad", "default_step", "check_scalar_output",
           "unit_tangent", "leaf_gradients"]

MODES = ("fd", "fd-central", "forward", "reverse")

_EPS = float(np.finfo(float).eps)


def default_step(mode: str) -> float:
    """The default finite-difference step: eps^(1/2) for fd, eps^(1/3) for fd-central."""
    return _EPS ** 0.5 if mode == "fd" else _EPS ** (1.0 / 3.0)


def check_scalar_output(out, what: str = "grad") -> None:
    """Refuse outputs that have no gradient: non-scalars and non-numbers."""
    if out is None or isinstance(out, (str, bytes, list, tuple, dict)):
        raise NonScalarOutputError(
            f"costad: {what} needs f to return a scalar float; f returned "
            f"{type(out).__name__}")
    shape = shape_of(out)
    if shape != ():
        raise NonScalarOutputError(
            f"costad: {what} needs f to return a scalar; f returned an array of shape {shape}. "
            "Use costad.jacobian or costad.vjp for vector outputs, or reduce it (e.g. .sum()).")


def _zeros_like(leaf):
    if isinstance(leaf, Tracer):
        return np.zeros(leaf.shape)
    return 0.0 if np.ndim(leaf) == 0 and not isinstance(leaf, np.ndarray) else np.zeros_like(
        leaf, dtype=float)


def _as_plain(g, leaf):
    """Give a gradient the type of its leaf; copy read-only broadcast views into arrays."""
    if isinstance(g, Tracer):
        return g
    if isinstance(leaf, np.ndarray):
        return np.array(np.broadcast_to(g, leaf.shape), dtype=float)
    return g


def unit_tangent(leaves: list, j: int, k: int) -> list:
    """Tangents for the direction e_k of leaf j (zero elsewhere). Seeds are free."""
    tangents = [None] * len(leaves)
    leaf = leaves[j]
    if isinstance(leaf, np.ndarray):
        e = np.zeros(leaf.shape, dtype=float)
        e.flat[k] = 1.0
        tangents[j] = e
    else:
        tangents[j] = 1.0
    return tangents


def _coordinates(leaves: list):
    """(leaf index, flat index) of every scalar input, in order."""
    for j, leaf in enumerate(leaves):
        for k in range(int(np.size(leaf)) if not isinstance(leaf, Tracer) else leaf.size):
            yield j, k


def _replace(leaves: list, j: int, k: int, value) -> list:
    """Leaves with scalar k of leaf j set to ``value`` (a copy is free)."""
    new = list(leaves)
    if isinstance(leaves[j], np.ndarray):
        perturbed = np.array(leaves[j], dtype=float, copy=True)
        perturbed.flat[k] = value
        new[j] = perturbed
    else:
        new[j] = value
    return new


def _scalar_at(leaf, k: int):
    return leaf.flat[k] if isinstance(leaf, np.ndarray) else leaf


def _fd(f, leaves, rebuild, step, want_value):
    h = default_step("fd") if step is None else float(step)
    f0 = boxing.call(f, leaves, rebuild)
    check_scalar_output(f0)
    grads = [_zeros_like(leaf) for leaf in leaves]
    for j, k in _coordinates(leaves):
        x_k = _scalar_at(leaves[j], k)
        f1 = boxing.call(f, _replace(leaves, j, k, add(x_k, h)), rebuild)
        _store(grads, j, k, div(sub(f1, f0), h))
    return f0, grads


def _fd_central(f, leaves, rebuild, step, want_value):
    h = default_step("fd-central") if step is None else float(step)
    two_h = 2.0 * h                      # a constant of the method, not an operation on data
    grads = [_zeros_like(leaf) for leaf in leaves]
    f_plus = None
    for j, k in _coordinates(leaves):
        x_k = _scalar_at(leaves[j], k)
        f_plus = boxing.call(f, _replace(leaves, j, k, add(x_k, h)), rebuild)
        f_minus = boxing.call(f, _replace(leaves, j, k, sub(x_k, h)), rebuild)
        check_scalar_output(f_plus)
        _store(grads, j, k, div(sub(f_plus, f_minus), two_h))
    f0 = None
    if want_value or f_plus is None:
        # Central differences never need f(x): `grad` skips it, `value_and_grad` pays K.
        f0 = boxing.call(f, leaves, rebuild)
        check_scalar_output(f0)
    return f0, grads


def _store(grads: list, j: int, k: int, g) -> None:
    if isinstance(grads[j], np.ndarray):
        grads[j].flat[k] = g
    else:
        grads[j] = g


def _forward(f, leaves, rebuild, step, want_value):
    value = None
    grads = [_zeros_like(leaf) for leaf in leaves]
    for j, k in _coordinates(leaves):
        value, tangent = jvp_call(f, leaves, unit_tangent(leaves, j, k), rebuild)
        check_scalar_output(value)
        if tangent is not None:
            _store(grads, j, k, tangent)
    if value is None:                    # no inputs at all: the value alone
        value = boxing.call(f, leaves, rebuild)
        check_scalar_output(value)
    return value, grads


def _reverse(f, leaves, rebuild, step, want_value):
    tape, inputs, output, value = record(f, leaves, rebuild)
    check_scalar_output(value)
    if _cost.is_counting():
        _cost.charge_storage(*tape_storage(tape))
    if output is None:                   # the output does not depend on the input
        return value, [_zeros_like(leaf) for leaf in leaves]
    adjoints = backward(tape, output, 1.0)              # the seed is free
    return value, leaf_gradients(adjoints, inputs, leaves)


def leaf_gradients(adjoints: list, inputs: list[int], leaves: list) -> list:
    """The adjoints of the input nodes, as gradients shaped like the leaves."""
    return [_zeros_like(leaf) if adjoints[i] is None else _as_plain(adjoints[i], leaf)
            for i, leaf in zip(inputs, leaves)]


_STRATEGIES: dict[str, Callable] = {
    "fd": _fd, "fd-central": _fd_central, "forward": _forward, "reverse": _reverse,
}


def _check_mode(mode: str) -> None:
    if mode not in _STRATEGIES:
        raise ValueError(f"costad: unknown mode {mode!r}; choose one of {', '.join(MODES)}")


def _run(strategy, f, x, step, want_value):
    leaves, rebuild, _ = flatten(x)
    value, grads = strategy(f, leaves, rebuild, step, want_value)
    return value, rebuild(grads)


def value_and_grad(f: Callable, mode: str = "reverse", step: float | None = None) -> Callable:
    """Return a function ``x -> (f(x), grad f(x))`` computed by the strategy ``mode``.

    ``x`` may be a float, a float ndarray of any shape, or a list/tuple/dict of them; the
    gradient has the same structure. ``f`` must return a scalar. ``mode`` is one of
    ``"fd"``, ``"fd-central"``, ``"forward"``, ``"reverse"`` (the default); ``step`` is the
    finite-difference step (see `default_step`). A function whose output does not depend
    on x has a zero gradient. NaN and inf in x are computed through, never hidden.
    """
    _check_mode(mode)
    strategy = _STRATEGIES[mode]

    def value_and_gradient(x):
        return _run(strategy, f, x, step, want_value=True)

    value_and_gradient.__name__ = f"value_and_grad_{mode.replace('-', '_')}"
    value_and_gradient.__doc__ = f"(f(x), grad f(x)) by {mode} of {getattr(f, '__name__', f)}"
    return value_and_gradient


def grad(f: Callable, mode: str = "reverse", step: float | None = None) -> Callable:
    """Return a function ``x -> grad f(x)``; see `value_and_grad` for the arguments."""
    _check_mode(mode)
    strategy = _STRATEGIES[mode]

    def gradient(x):
        return _run(strategy, f, x, step, want_value=False)[1]

    gradient.__name__ = f"grad_{mode.replace('-', '_')}"
    gradient.__doc__ = f"grad f(x) by {mode} of {getattr(f, '__name__', f)}"
    return gradient
