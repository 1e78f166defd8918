"""Loops and recomputation: `scan` with checkpointing, and `checkpoint`.

Reverse mode is cheap in operations because it stores the forward computation: its memory
grows with K. Checkpointing trades recomputation for memory, and both are counted here:

- ``scan(step, carry, xs, checkpoints=s)`` reverses a loop of l steps holding at most s
  snapshots of the carry, following Griewank and Walther's binomial schedule (revolve), which
  needs the fewest step evaluations possible: l + T(l, s) (`costad.checkpointing`).
  ``checkpoints="sqrt"`` follows Chen et al.'s sqrt(l) segments (PyTorch's
  ``checkpoint_sequential``); ``checkpoints=None`` stores everything (a plain Python loop).
- ``checkpoint(f)`` returns f whose interior reverse mode does not store: it is recomputed
  during the backward sweep, and the recomputation is counted.

Every evaluation of a loop's step is counted in ``Cost.calls["scan_step"]``. Recording
happens only under reverse mode: forward mode and finite differences run the loop plainly,
and so does a checkpointed loop nested inside a forward-mode derivative. Counted storage:
the loop's tape node keeps its inputs and outputs; its working set during the reversal (the
snapshots alive and the recorded steps not yet reversed) is reported as ``Cost.peak_bytes``.

A step (or f) may refer to traced values through its closure, for example the parameters of
a recurrent network: costad finds them by running the body once, uncounted (`costad.closure`).
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

from . import cost as _cost
from .adjoints import accumulate, densify
from .checkpointing import Executor, binomial_schedule, sqrt_schedule, split_at_turn
from .closure import call, discover
import numpy as np

from .core import (Joint, Primitive, ShapeDtype, apply, dtype_of, handler, is_abstract,
                   is_differentiated, nbytes_of, primal_value, shape_of)
from .errors import ShapeError
from .primitives import TupleCotangent, getitem, stack
from .reverse import ReverseTrace, backward, record, tape_storage
from .tree import TreeDef, tree_flatten

__all__ = ["scan", "checkpoint", "STEP"]

# The `calls` entry counting a loop's step evaluations.
STEP = "scan_step"


def _project(out, index):
    return out[index]


project = Primitive(
    "project", _project, lambda out, t, index, **params: {},
    vjp=(lambda ct, out, t, index: TupleCotangent(index, ct, len(t)),),
    abstract=lambda t, index: t[index], traffic=lambda *args, **params: 0, linear=True,
    doc="component ``index`` of a loop primitive's several outputs (free)")


def _outputs(packed, tree: TreeDef):
    """A loop primitive's tuple of outputs as the structure ``tree`` (free projections)."""
    return tree.unflatten(apply(project, (packed,), {"index": k})
                          for k in range(tree.num_leaves))


def _body_tree(n_args: int) -> TreeDef:
    return tree_flatten(tuple(range(n_args)))[1]


def _record_call(f, leaves: list, in_tree: TreeDef, consts: list, values: list, needs: list):
    """Record ``f`` on a fresh tape, the inputs and the closure's values that need a
    cotangent (``needs``, one flag per input then per closure value) as tape inputs and the
    rest as constants, as an unrolled loop would have them. Storage is not charged here
    (the caller reports its working set). Returns the recording and the tape inputs'
    positions."""
    n = len(leaves)
    everything = list(leaves) + list(values)
    wanted = [i for i, need in enumerate(needs) if need]

    def body(flat):                               # `record` passes the inputs as one tuple
        full = list(everything)
        for i, v in zip(wanted, flat):
            full[i] = v
        out_leaves, _ = call(f, full[:n], in_tree, consts, full[n:])
        return tuple(out_leaves)

    tape, inputs, outs, nodes, _ = record(body, [everything[i] for i in wanted],
                                          _body_tree(len(wanted)))
    return (tape, inputs, outs, nodes), wanted


def _pull(recorded, cts: list, size: int) -> list:
    """One backward sweep of a recorded call: the cotangent of each of its ``size`` inputs
    and closure values (None where there is none)."""
    (tape, inputs, _, nodes), wanted = recorded
    seeds = [(node, ct) for node, ct in zip(nodes, cts) if node is not None and ct is not None]
    grads = [None] * size
    for i, g in zip(wanted, backward(tape, seeds, inputs)):
        grads[i] = g
    return grads


# ---------------------------------------------------------------------------------- scan

class _ScanSpec:
    """What a scan's primitive needs: the step, the structures and the schedule."""

    def __init__(self, step, carry_tree, xs_tree, n_xs, consts, out_tree, length, checkpoints):
        self.step = step
        self.carry_tree = carry_tree
        self.n_carry = carry_tree.num_leaves
        self.xs_tree = xs_tree
        self.n_xs = n_xs
        self.consts = consts
        self.out_tree = out_tree                  # (carry, y) of one step
        self.y_none = None                        # the first step's y is None
        self.n_y = 0 if out_tree is None else out_tree.children[1].num_leaves
        self.length = length
        self.checkpoints = checkpoints

    def schedule(self):
        if self.checkpoints == "sqrt":
            return sqrt_schedule(self.length)
        return binomial_schedule(self.length, self.checkpoints)

    def __repr__(self) -> str:                    # how the graph listing shows the node
        return f"scan(length={self.length}, checkpoints={self.checkpoints!r})"


def _step_fn(spec: _ScanSpec):
    """The step as a function of (carry leaves, x leaves) returning (carry, y) leaves.

    The first run (`discover`'s) notes whether y is None; once the first step's structure
    is known (``spec.out_tree``), every later step is checked against it: the loop's
    outputs are read leaf by leaf in that structure, so a step returning another (a second
    y, a y None at some steps only, a carry of another shape) would otherwise be cut to it
    or stacked as it came, silently."""
    def body(carry_and_x):
        carry = spec.carry_tree.unflatten(carry_and_x[:spec.n_carry])
        x = spec.xs_tree.unflatten(carry_and_x[spec.n_carry:]) if spec.xs_tree else None
        result = _pair(spec.step(carry, x))
        if spec.out_tree is None:
            spec.y_none = result[1] is None
        else:
            if (result[1] is None) != spec.y_none:
                first = "None" if spec.y_none else "not None"
                raise ShapeError(f"costad: scan's step returned y None at some steps only "
                                 f"(at step 1 it is {first}); y must have one structure at "
                                 f"every step")
            spec.out_tree.check_matches(tree_flatten(result, name="(carry, y)")[1],
                                        "scan's step's (carry, y) at every step",
                                        "the first step's", "(carry, y)")
        return result
    return body


def _pair(result):
    if not isinstance(result, tuple) or len(result) != 2:
        raise ShapeError("costad: scan's step must return a pair (carry, y); y may be None")
    return result


def _floating(value) -> bool:
    """A value that can carry a derivative (float, or traced)."""
    dtype = getattr(value, "dtype", None)
    return value.__class__ is float or (dtype is not None and dtype.kind == "f")


def _x_at(xs: list, i: int) -> list:
    """The leaves of x_i, the input of step i (1-based), read with the free getitem."""
    return [getitem(leaf, index=i - 1) for leaf in xs]


class _ScanRun:
    """One scan's reversal in progress: the schedule's executor and what it produced."""

    def __init__(self, spec: _ScanSpec, values: tuple, needs: tuple):
        self.spec = spec
        n, m = spec.n_carry, spec.n_xs
        self.carry0 = list(values[:n])
        self.xs = list(values[n:n + m])
        self.const_values = list(values[n + m:])
        # As in the unrolled loop: step 1's carry needs a cotangent where the loop's own
        # argument is traced; later carries where anything traced could have reached them.
        # An x or a closure value needs one where the loop's argument is traced.
        later = any(needs)
        rest = list(needs[n:n + m]) + list(needs[n + m:])
        self.first_needs = list(needs[:n]) + rest
        self.needs = [later and _floating(v) for v in self.carry0] + rest
        self.body = _step_fn(spec)
        self.tapes: dict[int, Any] = {}
        self.ys: list = [None] * spec.length
        self.forward = True
        self.tape_bytes = 0
        self.ct_carry: list | None = None
        self.ct_xs: list = [[None] * spec.length for _ in range(m)]
        self.ct_consts: list = [None] * len(spec.consts)
        self.ct_ys: list = []
        self.swept = False                        # the reverse sweep has started
        # On abstract values every step has the same shape-only trace: each kind of step
        # evaluation is run once and its cost charged again for the others (exact, as for
        # the passes of finite differences). Not when an enclosing derivative traces them.
        self.memo: dict | None = {} if (any(is_abstract(v) for v in values) and not any(
            is_differentiated(v) for v in values)) else None

    def _flat_body(self, *flat):
        return self.body(list(flat))

    def _once(self, key, run):
        """``run()``, or, on abstract values, its first result with its cost charged again."""
        if self.memo is None:
            return run()
        if key not in self.memo:
            with _cost.counting() as cost:
                result = run()
            self.memo[key] = (result, cost)
            return result
        result, cost = self.memo[key]
        _cost.charge_cost(cost)
        return result

    def advance(self, state: list, i: int) -> list:
        _cost.charge_call(STEP)

        def run():
            leaves = list(state) + _x_at(self.xs, i)
            return call(self._flat_body, leaves, _body_tree(len(leaves)), self.spec.consts,
                        self.const_values)[0]
        out = self._once(("advance",), run)
        if self.forward:
            self.ys[i - 1] = out[self.spec.n_carry:]
        return out[:self.spec.n_carry]

    def record(self, state: list, i: int) -> list:
        _cost.charge_call(STEP)
        n = self.spec.n_carry
        needs = self.first_needs if i == 1 else self.needs

        def run():
            leaves = list(state) + _x_at(self.xs, i)
            return _record_call(self._flat_body, leaves, _body_tree(len(leaves)),
                                self.spec.consts, self.const_values, needs)
        recorded = self._once(("record", tuple(needs)), run)
        self.tapes[i] = recorded
        if not self.tape_bytes and _cost.is_counting():
            self.tape_bytes = tape_storage(recorded[0][0])[1]
        outs = recorded[0][2]
        if self.forward:
            self.ys[i - 1] = outs[n:]
        return outs[:n]

    def reverse(self, i: int) -> None:
        spec = self.spec
        recorded = self.tapes.pop(i)
        cts = list(self.ct_carry) + [ys[i - 1] for ys in self.ct_ys]
        grads = self._once(("reverse", id(recorded), tuple(c is None for c in cts)),
                           lambda: _pull(recorded, cts, len(self.needs)))
        n, m = spec.n_carry, spec.n_xs
        self.ct_carry = grads[:n]
        for k in range(m):
            self.ct_xs[k][i - 1] = grads[n + k]
        for k, g in enumerate(grads[n + m:]):
            if g is not None:
                self.ct_consts[k] = accumulate(self.ct_consts[k], g)


def _scan_fwd(values: tuple, params: dict, needs: tuple):
    spec: _ScanSpec = params["spec"]
    run = _ScanRun(spec, values, needs)
    forward, backward_actions = split_at_turn(spec.schedule())
    executor = Executor(spec.length, run.carry0, run.advance, run.record, run.reverse)
    executor.run(forward)
    run.forward = False
    final = executor.final
    ys = [stack([run.ys[t][k] for t in range(spec.length)], axis=0) for k in range(spec.n_y)]
    return tuple(final) + tuple(ys), (run, executor, backward_actions)


def _zeros_like(value):
    """A zero cotangent of ``value``'s shape and dtype (free)."""
    if is_abstract(value):
        return ShapeDtype(shape_of(value), dtype_of(value))
    shape = shape_of(value)
    return np.zeros(shape, dtype_of(value)) if shape else 0.0


def _scan_vjp(ct, out, *args_and_needs, spec: _ScanSpec, residuals):
    run, executor, backward_actions = residuals
    if run.swept:
        # A pullback may be swept again (`costad.vjp`, a reverse Jacobian's m rows), but
        # the schedule's reverse sweep consumes the snapshots and tapes its forward sweep
        # left: run the forward sweep again from the loop's inputs (counted, as every
        # recomputation is), then reverse that.
        *values, needs = args_and_needs
        _, (run, executor, backward_actions) = _scan_fwd(tuple(values), {"spec": spec},
                                                         needs)
    run.swept = True
    n = spec.n_carry
    ct = tuple(ct) if isinstance(ct, tuple) else (None,) * len(out)
    run.ct_carry = list(ct[:n])               # None: the final carry has no cotangent
    run.ct_ys = []
    for k in range(spec.n_y):
        c = ct[n + k]
        run.ct_ys.append([None] * spec.length if c is None
                         else [getitem(c, index=t) for t in range(spec.length)])
    executor.run(backward_actions)
    stats = executor.finish()
    carry_bytes = sum(nbytes_of(v) for v in run.carry0)
    # The loop's working set sits on top of the enclosing tape, alive during its sweep.
    _cost.charge_peak(_cost.sweep_base() + stats.peak_snapshots * carry_bytes
                      + stats.peak_tapes * run.tape_bytes)
    ct_xs = []
    for k, leaf in enumerate(run.xs):
        parts = [_zeros_like(getitem(leaf, index=t)) if c is None else c
                 for t, c in enumerate(run.ct_xs[k])]
        ct_xs.append(stack(parts, axis=0))
    return (tuple(run.ct_carry) + tuple(ct_xs)
            + tuple(None if c is None else densify(c) for c in run.ct_consts))


def _recorded_only(*args, spec):
    raise AssertionError(f"costad internal error: {spec!r} runs only under reverse mode")


_scan = Primitive(
    "scan", _recorded_only, lambda out, *args, **params: {}, vjp=Joint(_scan_vjp),
    fwd=_scan_fwd,
    traffic=lambda *args, **params: 0,
    doc="a loop reversed by a checkpointing schedule (its steps are counted as they run)")


def _check_checkpoints(checkpoints):
    if checkpoints is None or checkpoints == "sqrt":
        return checkpoints
    if isinstance(checkpoints, numbers.Integral) and not isinstance(checkpoints, bool) \
            and checkpoints >= 1:
        return int(checkpoints)
    raise ValueError(f"costad: scan's checkpoints must be None, 'sqrt' or a number of "
                     f"snapshots >= 1, got {checkpoints!r}")


def _length(xs_leaves: list, length) -> int:
    lengths = {shape_of(leaf)[0] for leaf in xs_leaves if shape_of(leaf)}
    if any(not shape_of(leaf) for leaf in xs_leaves):
        raise ShapeError("costad: scan's xs must have a leading axis (the steps)")
    if length is not None:
        if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
            raise ValueError(f"costad: scan's length must be a non-negative integer, got "
                             f"{length!r}")
        lengths.add(int(length))
    if len(lengths) > 1:
        raise ShapeError(f"costad: scan's xs disagree on the number of steps: {sorted(lengths)}")
    if not lengths:
        raise ValueError("costad: scan needs xs or length")
    (l,) = lengths
    if l < 1:
        raise ValueError("costad: scan needs at least one step")
    return l


def scan(step: Callable, carry, xs=None, length: int | None = None, checkpoints=None):
    """Run ``carry, y = step(carry, x)`` over the leading axis of ``xs`` (or ``length``
    times, with x None); return ``(carry, ys)``, the ys stacked along a new first axis
    (None if step's y is None).

    ``checkpoints``: None stores every step for reverse mode (a plain loop); an integer s
    keeps at most s snapshots of the carry and recomputes steps by the binomial schedule,
    l + T(l, s) step evaluations in all, the fewest possible; ``"sqrt"`` uses sqrt(l)
    segments (Chen et al. 2016). The gradient is the same in every case, to rounding.
    """
    checkpoints = _check_checkpoints(checkpoints)
    xs_leaves, xs_tree = tree_flatten(xs, name="xs") if xs is not None else ([], None)
    l = _length(xs_leaves, length)
    carry_leaves, carry_tree = tree_flatten(carry, name="carry")
    if checkpoints is not None:
        with _cost.uncounted():
            body_leaves = carry_leaves + [getitem(primal_value(leaf), index=0)
                                          for leaf in xs_leaves]
        spec = _ScanSpec(step, carry_tree, xs_tree, len(xs_leaves), [], None, l, checkpoints)
        consts, out_tree = discover(lambda *flat: _step_fn(spec)(list(flat)), body_leaves,
                                    _body_tree(len(body_leaves)))
        _check_pair(out_tree)
        carry_tree.check_matches(out_tree.children[0], "scan's step's new carry",
                                 "the carry", "carry")
        if isinstance(handler(carry_leaves + xs_leaves + consts), ReverseTrace):
            spec.consts, spec.out_tree = consts, out_tree
            spec.n_y = out_tree.children[1].num_leaves
            packed = apply(_scan, tuple(carry_leaves + xs_leaves + consts), {"spec": spec})
            outs = _outputs(packed, _body_tree(spec.n_carry + spec.n_y))
            new_carry = carry_tree.unflatten(outs[:spec.n_carry])
            # A y of None is projected and stacked as before (the tape and its counts stay
            # as they were), but the loop returns None, as the plain loop does.
            ys = (out_tree.children[1].unflatten(outs[spec.n_carry:])
                  if spec.n_y and not spec.y_none else None)
            return new_carry, ys
    return _plain_scan(step, carry, xs_leaves, xs_tree, l)


def _check_pair(tree: TreeDef) -> None:
    if tree.node is not tuple or len(tree.children) != 2:
        raise ShapeError("costad: scan's step must return a pair (carry, y); y may be None")


def _plain_scan(step, carry, xs_leaves: list, xs_tree, l: int):
    carry_tree = tree_flatten(carry, name="carry")[1]
    ys = []
    for i in range(1, l + 1):
        _cost.charge_call(STEP)
        x = xs_tree.unflatten(_x_at(xs_leaves, i)) if xs_tree is not None else None
        carry, y = _pair(step(carry, x))
        carry_tree.check_matches(tree_flatten(carry, name="carry")[1],
                                 "scan's step's new carry", "the carry", "carry")
        ys.append(y)
    if all(y is None for y in ys):
        return carry, None
    # The ys are stacked leaf by leaf in the first step's structure: a step whose y has
    # another (None, a second leaf, another shape) would be cut to it or stacked into an
    # array of objects, silently.
    y_leaves, y_trees = zip(*(tree_flatten(y, name="y") for y in ys))
    y_tree = y_trees[0]
    for i, (y, tree) in enumerate(zip(ys, y_trees)):
        if (y is None) != (ys[0] is None):
            raise ShapeError(f"costad: scan's step returned y None at step "
                             f"{1 if y is None else i + 1} and not at step "
                             f"{i + 1 if y is None else 1}; y must have one structure at "
                             f"every step")
        y_tree.check_matches(tree, f"scan's step's y at step {i + 1}", "the first step's y",
                             "y")
    stacked = [stack([leaves[k] for leaves in y_leaves], axis=0)
               for k in range(y_tree.num_leaves)]
    return carry, y_tree.unflatten(stacked)


# ---------------------------------------------------------------------------- checkpoint

class _RematSpec:
    def __init__(self, f, in_tree, n_args, consts, out_tree):
        self.f = f
        self.in_tree = in_tree
        self.n_args = n_args
        self.consts = consts
        self.out_tree = out_tree

    def __repr__(self) -> str:
        return f"checkpoint({getattr(self.f, '__name__', 'f')})"


def _remat_fwd(values: tuple, params: dict, needs: tuple):
    spec: _RematSpec = params["spec"]
    out, _ = call(spec.f, list(values[:spec.n_args]), spec.in_tree, spec.consts,
                  list(values[spec.n_args:]))
    return tuple(out), None


def _remat_vjp(ct, out, *args_and_needs, spec: _RematSpec, residuals):
    *args, needs = args_and_needs
    ct = tuple(ct) if isinstance(ct, tuple) else (None,) * len(out)
    recorded = _record_call(spec.f, list(args[:spec.n_args]), spec.in_tree, spec.consts,
                            list(args[spec.n_args:]), list(needs))  # the recomputation
    return tuple(_pull(recorded, list(ct), len(args)))


_remat = Primitive(
    "checkpoint", _recorded_only, lambda out, *args, **params: {}, vjp=Joint(_remat_vjp),
    fwd=_remat_fwd,
    traffic=lambda *args, **params: 0,
    doc="a call whose interior reverse mode recomputes instead of storing")


def checkpoint(f: Callable) -> Callable:
    """``f`` whose interior is not stored by reverse mode: the backward sweep runs ``f``
    again (counted) to differentiate it. Under forward mode and finite differences, and
    outside any derivative, it is ``f`` itself. Keyword arguments reach ``f`` as part of
    its closure (a traced one is found there, as any value the closure refers to)."""
    def checkpointed(*args, **kwargs):
        body = f
        if kwargs:
            def body(*positional):
                return f(*positional, **kwargs)
            body.__name__ = getattr(f, "__name__", "f")
        leaves, in_tree = tree_flatten(args, name="args")
        consts, out_tree = discover(body, leaves, in_tree)
        if not isinstance(handler(leaves + consts), ReverseTrace):
            return f(*args, **kwargs)
        spec = _RematSpec(body, in_tree, len(leaves), consts, out_tree)
        packed = apply(_remat, tuple(leaves + consts), {"spec": spec})
        return _outputs(packed, out_tree)

    checkpointed.__name__ = f"checkpoint_{getattr(f, '__name__', 'f')}"
    checkpointed.__doc__ = f.__doc__
    return checkpointed
