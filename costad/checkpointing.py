"""Checkpointing schedules for reversing a loop: revolve's optimum, sqrt segments, store-all.

Convention. A loop of l steps x_i = F_i(x_{i-1}), i = 1..l, starts from the stored initial state
x_0. Reversing it (the reverse sweep of reverse mode) means reversing step l, then l-1, ..., then
1; reversing step i needs the step recorded (taped) from its input x_{i-1}.

- A *snapshot* is a stored state. ``s`` counts every snapshot alive at once, x_0's included.
- An *advance* is one step evaluation without recording; a *record* is one evaluation with
  recording. Each step is recorded exactly once, so a schedule makes l records, and the final
  state x_l comes from the record of step l (never from an advance).
- The total number of step evaluations is therefore l + advances. Revolve (Griewank and Walther,
  ACM TOMS 26(1), 2000) reverses l steps with s snapshots in the minimal T(l, s) advances, with
  each record reversed at once; with s >= l - 1 that is T = l - 1 (every state stored once).

Schedules are plain data: a list of actions, each a tuple whose first item names it. A machine
holding one working state (the *register*, which is not a snapshot) runs them:

=============================  ==================================================================
``("advance", i, j)``          the register holds x_i; evaluate steps i+1..j without recording,
                               leaving x_j (counts j - i advances; 0 <= i < j <= l)
``("snapshot", i)``            store the register, which holds x_i, as snapshot i
``("restore", i)``             load snapshot i into the register (the snapshot stays)
``("drop", i)``                free snapshot i
``("record", i)``              the register holds x_{i-1}; evaluate step i with recording and keep
                               its tape, leaving x_i (counts one record)
``("reverse", i)``             reverse the recorded step i and free its tape; steps are reversed
                               in the order l, l-1, ..., 1
=============================  ==================================================================

Restore and drop cost no step evaluation. Recording and reversing are separate actions so that
one vocabulary states all three strategies faithfully: revolve reverses each record at once (one
tape alive), store-all records the whole loop before reversing (l tapes, no advance), and sqrt
segments record one segment at a time, as PyTorch's ``checkpoint_sequential`` does. Memory is
reported three ways: snapshots, tapes, and *states* (distinct states held at once, by a snapshot
or as the input of a live tape; a tape shares the state it was recorded from).

Revolve's optimum holds in its own model, where one tape is alive at a time. A tape is larger
than a state (it holds the step's intermediates too), so the sqrt rule, which keeps a segment's
tapes, is compared with revolve in bytes, not in states: counted in states alone it can need
fewer evaluations than T(l, s) allows (l = 100: 90 advances holding 19 states, while revolve
with 18 snapshots and its one tape needs T(100, 18) = 180).

In the schedules built here everything before the first ``reverse`` action is the forward sweep
(ending with the record of step l, which yields x_l) and the rest is the reverse sweep.
:func:`split_at_turn` cuts a schedule there, and an :class:`Executor` runs the two parts at
different times (a loop primitive's forward pass and its backward pass).
"""
from __future__ import annotations

import math
import operator
import threading
from dataclasses import dataclass

__all__ = [
    "ACTIONS", "ScheduleError", "Stats",
    "beta", "revolve_advances", "revolve_advances_recursive",
    "binomial_schedule", "sqrt_segment_size", "sqrt_schedule", "sqrt_advances",
    "sqrt_peak_states", "store_all_schedule",
    "split_at_turn", "Executor", "execute", "simulate",
]

# name -> number of step indices the action carries
ACTIONS = {"advance": 2, "snapshot": 1, "restore": 1, "drop": 1, "record": 1, "reverse": 1}


class ScheduleError(ValueError):
    """A schedule that does not reverse the loop correctly, or a bad argument."""


def _is_bool(value) -> bool:
    # bool is an int subclass and NumPy's bool scalar (numpy.bool_, numpy.bool in NumPy 2) may
    # be indexable: a flag passed where a count belongs is a mistake, never 0 or 1 steps.
    return isinstance(value, bool) or type(value).__name__ in ("bool", "bool_")


def _integer(value, name: str, minimum: int) -> int:
    """`value` as an int >= minimum, or a ValueError naming the argument (bools refused)."""
    if _is_bool(value):
        raise ScheduleError(f"{name} must be an integer >= {minimum}, got the boolean {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ScheduleError(f"{name} must be an integer >= {minimum}, got {value!r} "
                            f"({type(value).__name__})") from None
    if number < minimum:
        raise ScheduleError(f"{name} must be an integer >= {minimum}, got {number}")
    return number


# ----------------------------------------------------------------------------- closed forms

def _beta(s: int, r: int) -> int:
    # C(s + r, s), with the convention beta(s, r) = 0 for r < 0 that the closed form needs at
    # r = 0 and r = 1 (it makes T(1, s) = 0 and the split interval's bounds uniform).
    return 0 if r < 0 else math.comb(s + r, s)


def beta(s: int, r: int) -> int:
    """beta(s, r) = C(s + r, s): the most steps s snapshots reverse with at most r advances
    of any step (revolve's repetition number r)."""
    return _beta(_integer(s, "s", 0), _integer(r, "r", 0))


def _repetitions(l: int, s: int) -> int:
    """The r with beta(s, r-1) < l <= beta(s, r): 0 for l = 1.

    Found by doubling then bisection on exact binomials, so it costs O(log r) math.comb calls
    and stays fast for any l (r is l - 1 at s = 1 and about sqrt(2 l) at s = 2).
    """
    if l == 1:
        return 0
    if s == 1:
        return l - 1
    low, high = 0, 1                      # beta(s, 0) = 1 < l
    while _beta(s, high) < l:
        low, high = high, 2 * high
    while high - low > 1:                 # beta(s, low) < l <= beta(s, high)
        middle = (low + high) // 2
        if _beta(s, middle) < l:
            low = middle
        else:
            high = middle
    return high


def revolve_advances(l: int, s: int) -> int:
    """T(l, s): the fewest advances that reverse l steps with s snapshots (closed form).

    T(l, s) = r*l - beta(s+1, r-1), r the unique integer with beta(s, r-1) < l <= beta(s, r)
    (Griewank and Walther 2000). T(1, s) = 0, T(l, 1) = l(l-1)/2, T(l, s) = l-1 for s >= l-1.
    """
    l, s = _integer(l, "l", 1), _integer(s, "s", 1)
    r = _repetitions(l, s)
    return r * l - _beta(s + 1, r - 1)


# Rows of the recursion's table, row t holding T(m, t) at index m (index 0 unused). Filled
# under a lock: two threads extending the same row at once would misplace entries.
_ROWS: dict[int, list] = {}
_ROWS_LOCK = threading.Lock()


def revolve_advances_recursive(l: int, s: int) -> int:
    """T(l, s) by the recursion T(l, s) = min over 1 <= i < l of [i + T(i, s) + T(l-i, s-1)],
    with T(1, s) = 0 and T(l, 1) = l(l-1)/2; exact integers, memoised across calls.

    Advance i steps and store x_i, reverse the last l-i steps with the s-1 other snapshots,
    then the first i with all s. Costs O(l^2 s) the first time: an independent check of the
    closed form, not a way to compute it.
    """
    l, s = _integer(l, "l", 1), _integer(s, "s", 1)
    # The recursion itself gives T(m, t) = m-1 for t >= m-1: by induction every term is
    # i + T(i, t) + T(m-i, t-1) >= i + (i-1) + (m-i-1) >= m-1, and i = 1 attains m-1. So rows
    # beyond l-1 repeat row l-1, and a huge s costs no more than s = l-1.
    s = min(s, max(l - 1, 1))
    with _ROWS_LOCK:
        for t in range(1, s + 1):
            row = _ROWS.setdefault(t, [None, 0])
            below = _ROWS.get(t - 1)
            for m in range(len(row), l + 1):
                if t == 1:
                    row.append(m * (m - 1) // 2)
                else:
                    row.append(min(i + row[i] + below[m - i] for i in range(1, m)))
        return _ROWS[s][l]


def _split_interval(l: int, s: int) -> tuple[int, int]:
    """Every i in [low, high] attains the recursion's minimum for (l, s), l >= 2, s >= 2.

    With r = r(l, s): if beta(s, r-2) <= i <= beta(s, r-1), T(i, s) is linear in i with slope
    r-1, and if beta(s-1, r-1) <= l-i <= beta(s-1, r), T(l-i, s-1) is linear with slope r; then
    i + T(i, s) + T(l-i, s-1) = r*l - beta(s+1, r-2) - beta(s, r-1) = T(l, s) by Pascal's rule.
    The interval is not empty because beta(s, r-1) < l <= beta(s, r) = beta(s, r-1) + beta(s-1, r).
    """
    r = _repetitions(l, s)
    low = max(1, _beta(s, r - 2), l - _beta(s - 1, r))
    high = min(l - 1, _beta(s, r - 1), l - _beta(s - 1, r - 1))
    return low, high


# ----------------------------------------------------------------------------- schedules

def binomial_schedule(l: int, s: int) -> list:
    """Revolve's optimal schedule: reverses l steps with exactly T(l, s) advances and never more
    than s snapshots alive (min(s, l-1) at the peak: x_{l-1} is recorded from, never stored).

    The recursive split of revolve_advances_recursive, with the split point taken from the
    closed form (_split_interval) instead of a minimum over all i, and an explicit stack, so
    l = 10^4 takes a fraction of a second and no recursion limit applies. Each record is
    reversed at once.
    """
    l, s = _integer(l, "l", 1), _integer(s, "s", 1)
    actions: list = []
    held = 0                                  # the state index in the register
    # Tasks: ("reverse", a, b, t): reverse steps a+1..b, x_a stored (or in the register when
    # b = a + 1), t snapshots available counting x_a's; ("drop", i).
    tasks: list = [("reverse", 0, l, s)]
    if l >= 2:
        actions.append(("snapshot", 0))
        tasks.insert(0, ("drop", 0))
    while tasks:
        task = tasks.pop()
        if task[0] == "drop":
            actions.append(task)
            continue
        _, a, b, t = task
        if b - a == 1 or t == 1:
            # one step, or one snapshot: from x_a, advance to x_{j-1} and record step j, for
            # j = b, b-1, ..., a+1 (T(n, 1) = n(n-1)/2)
            for j in range(b, a, -1):
                if held != a:
                    actions.append(("restore", a))
                if j - 1 > a:
                    actions.append(("advance", a, j - 1))
                actions += [("record", j), ("reverse", j)]
                held = j
            continue
        # largest optimal split: the snapshot as far right as the optimum allows
        i = a + _split_interval(b - a, t)[1]
        if held != a:
            actions.append(("restore", a))
        actions.append(("advance", a, i))
        held = i
        tasks.append(("reverse", a, i, t))
        if b - i >= 2:                        # a single step is recorded from the register
            actions.append(("snapshot", i))
            tasks.append(("drop", i))
        tasks.append(("reverse", i, b, t - 1))
    return actions


def sqrt_segment_size(l: int) -> int:
    """The sqrt rule's segment length k = ceil(sqrt(l)), in exact integer arithmetic."""
    l = _integer(l, "l", 1)
    return math.isqrt(l - 1) + 1


def _segments(l: int) -> tuple[int, int, int]:
    k = sqrt_segment_size(l)
    count = -(-l // k)                        # ceil(l / k) segments, the last one shorter
    return k, count, l - k * (count - 1)


def sqrt_schedule(l: int) -> list:
    """Chen et al. (2016) sqrt segments, as PyTorch's checkpoint_sequential runs them.

    The loop is cut into segments of k = ceil(sqrt(l)) steps from the start, the last one
    holding the remainder (1..k steps); checkpoint_sequential(functions, segments) instead cuts
    len // segments steps and gives the remainder to the last segment. The forward sweep
    advances through every segment but the last, storing each segment's first state, then
    records the last segment. The reverse sweep reverses it, then for every earlier segment,
    last to first, restores its first state, re-runs it once with recording (its tapes store
    every state in it), reverses it and drops its snapshot. Advances: sqrt_advances(l); states
    held: sqrt_peak_states(l).
    """
    l = _integer(l, "l", 1)
    k, count, _ = _segments(l)
    starts = [k * m for m in range(count)]
    actions: list = []
    for start in starts[:-1]:
        actions += [("snapshot", start), ("advance", start, start + k)]
    last = starts[-1]
    actions += [("record", j) for j in range(last + 1, l + 1)]
    actions += [("reverse", j) for j in range(l, last, -1)]
    for start in reversed(starts[:-1]):
        actions.append(("restore", start))
        actions += [("record", j) for j in range(start + 1, start + k + 1)]
        actions += [("reverse", j) for j in range(start + k, start, -1)]
        actions.append(("drop", start))
    return actions


def sqrt_advances(l: int) -> int:
    """Advances of sqrt_schedule(l): k * (ceil(l/k) - 1), k = ceil(sqrt(l)).

    Every step outside the last segment is advanced once in the forward sweep; re-running a
    segment is its recording, and the last segment is recorded in the forward sweep.
    """
    k, count, _ = _segments(l)
    return k * (count - 1)


def sqrt_peak_states(l: int) -> int:
    """Most distinct states sqrt_schedule(l) holds at once (snapshots and tapes' inputs).

    With k = ceil(sqrt(l)), c = ceil(l/k) segments and a last segment of n = l - k(c-1) steps:
    max(c - 1 + n, c - 2 + k) for c >= 2 (the c-1 stored segment starts beside the last
    segment's n tapes at the end of the forward sweep, or segment c-2's k tapes beside the c-1
    starts, one shared), and l for c = 1 (l <= 2: the whole loop is one recorded segment).
    """
    k, count, last = _segments(l)
    if count == 1:
        return l
    return max(count - 1 + last, count - 2 + k)


def store_all_schedule(l: int) -> list:
    """Plain reverse mode: record the l steps in a forward sweep, then reverse them all.

    No advance and no snapshot (x_0 is the first tape's input); l tapes alive at the turn.
    """
    l = _integer(l, "l", 1)
    return ([("record", j) for j in range(1, l + 1)]
            + [("reverse", j) for j in range(l, 0, -1)])


def split_at_turn(schedule) -> tuple[list, list]:
    """(forward sweep, reverse sweep): the actions before the first ``reverse``, and the rest."""
    actions = list(schedule)
    for position, action in enumerate(actions):
        if isinstance(action, (tuple, list)) and action and action[0] == "reverse":
            return actions[:position], actions[position:]
    raise ScheduleError("the schedule reverses no step, so it has no turn")


# ----------------------------------------------------------------------------- interpreter

@dataclass(frozen=True)
class Stats:
    """What running a schedule cost: step evaluations and peak memory, in states."""

    advances: int         # step evaluations without recording
    records: int          # step evaluations with recording (l for a complete schedule)
    peak_snapshots: int   # most snapshots alive at once
    peak_tapes: int       # most recorded, not yet reversed steps at once
    peak_states: int      # most distinct states held at once, by snapshots or as tapes' inputs

    @property
    def evaluations(self) -> int:
        """Every step evaluation: advances plus records."""
        return self.advances + self.records


class Executor:
    """Runs schedule actions for a loop of l steps, checking each one, and counts their cost.

    With callbacks, it evaluates the loop: ``advance(state, i)`` returns x_i from x_{i-1}
    without recording, ``record(state, i)`` returns x_i from x_{i-1} and keeps what reversing
    step i needs, ``reverse(i)`` reverses the recorded step i. States are values held by
    reference: callbacks must return new states and never modify their argument in place (a
    snapshot may be that very object). Without callbacks it runs abstractly (see simulate).

    ``run`` may be called several times (the forward sweep, later the reverse sweep);
    ``finish`` checks that every step was reversed and returns the Stats.
    """

    def __init__(self, l: int, x0=None, advance=None, record=None, reverse=None):
        self.l = _integer(l, "l", 1)
        callbacks = (advance, record, reverse)
        if any(c is None for c in callbacks) and any(c is not None for c in callbacks):
            raise ScheduleError("give all three callbacks (advance, record, reverse) or none")
        for name, callback in zip(("advance", "record", "reverse"), callbacks):
            if callback is not None and not callable(callback):
                raise ScheduleError(f"{name} must be callable, got {callback!r}")
        self._advance, self._record, self._reverse = callbacks
        self._concrete = advance is not None
        self._index = 0                       # the register holds x_index
        self._value = x0
        self._snapshots: dict[int, object] = {}
        self._tapes: set[int] = set()
        self._holders: dict[int, int] = {}    # state index -> snapshots and tapes holding it
        self._next_reversal = self.l
        self._final, self._final_known = None, False
        self._position = 0
        self._advances = self._records = 0
        self._peak_snapshots = self._peak_tapes = self._peak_states = 0

    # -- bookkeeping
    def _hold(self, index: int, change: int) -> None:
        count = self._holders.get(index, 0) + change
        if count:
            self._holders[index] = count
        else:
            del self._holders[index]
        self._peak_snapshots = max(self._peak_snapshots, len(self._snapshots))
        self._peak_tapes = max(self._peak_tapes, len(self._tapes))
        self._peak_states = max(self._peak_states, len(self._holders))

    def _fail(self, action, message: str):
        raise ScheduleError(f"schedule action {self._position} {tuple(action)!r}: {message}")

    def _require_register(self, action, index: int) -> None:
        if self._index != index:
            self._fail(action, f"needs x_{index} in the register, which holds x_{self._index}")

    def _parse(self, action) -> tuple:
        if not isinstance(action, (tuple, list)) or not action or action[0] not in ACTIONS:
            raise ScheduleError(
                f"schedule action {self._position}: {action!r} is not an action; an action is "
                f"a tuple (name, indices...) with name one of {sorted(ACTIONS)}")
        name = action[0]
        if len(action) != 1 + ACTIONS[name]:
            self._fail(action, f"{name!r} takes {ACTIONS[name]} step index(es), got "
                               f"{len(action) - 1}")
        indices = []
        for value in action[1:]:
            if _is_bool(value):
                self._fail(action, "step indices are integers, not booleans")
            try:
                indices.append(operator.index(value))
            except TypeError:
                self._fail(action, f"step index {value!r} is not an integer")
            if not 0 <= indices[-1] <= self.l:
                self._fail(action, f"step index {indices[-1]} is outside 0..{self.l}")
        return (name, *indices)

    # -- the machine
    def run(self, actions) -> "Executor":
        """Run actions, in order, after those of earlier calls."""
        for action in actions:
            name, *index = self._parse(action)
            getattr(self, "_do_" + name)(action, *index)
            self._position += 1
        return self

    def _do_advance(self, action, start: int, stop: int) -> None:
        self._require_register(action, start)
        if stop <= start:
            self._fail(action, "advances must go forward (start < stop)")
        if self._concrete:
            value = self._value
            for step in range(start + 1, stop + 1):
                value = self._advance(value, step)
                if value is None:
                    self._fail(action, f"advance returned None for step {step}; it must "
                                       f"return the next state")
            self._value = value
        self._index = stop
        self._advances += stop - start

    def _do_snapshot(self, action, index: int) -> None:
        self._require_register(action, index)
        if index in self._snapshots:
            self._fail(action, f"x_{index} is already stored")
        self._snapshots[index] = self._value
        self._hold(index, +1)

    def _do_restore(self, action, index: int) -> None:
        if index not in self._snapshots:
            self._fail(action, f"x_{index} is not stored")
        self._index, self._value = index, self._snapshots[index]

    def _do_drop(self, action, index: int) -> None:
        if index not in self._snapshots:
            self._fail(action, f"x_{index} is not stored")
        del self._snapshots[index]
        self._hold(index, -1)

    def _do_record(self, action, step: int) -> None:
        if step == 0:
            self._fail(action, "steps are numbered 1..l")
        if step > self._next_reversal:
            self._fail(action, f"step {step} was already reversed")
        if step in self._tapes:
            self._fail(action, f"step {step} is already recorded")
        self._require_register(action, step - 1)
        if self._concrete:
            value = self._record(self._value, step)
            if value is None:
                self._fail(action, f"record returned None for step {step}; it must return "
                                   f"the next state")
            self._value = value
            if step == self.l:
                self._final, self._final_known = value, True
        self._index = step
        self._tapes.add(step)
        self._records += 1
        self._hold(step - 1, +1)

    def _do_reverse(self, action, step: int) -> None:
        if step != self._next_reversal:
            expected = (f"step {self._next_reversal} is next" if self._next_reversal
                        else "every step is already reversed")
            self._fail(action, f"steps are reversed in the order l, ..., 1 and {expected}")
        if step not in self._tapes:
            self._fail(action, f"step {step} is not recorded")
        if self._concrete:
            self._reverse(step)
        self._tapes.remove(step)
        self._next_reversal -= 1
        self._hold(step - 1, -1)

    # -- results
    @property
    def final(self):
        """x_l, from the record of step l."""
        if not self._concrete:
            raise ScheduleError("an abstract run (no callbacks) holds no states")
        if not self._final_known:
            raise ScheduleError("x_l is not known yet: step l has not been recorded")
        return self._final

    @property
    def stats(self) -> Stats:
        """The cost so far."""
        return Stats(self._advances, self._records, self._peak_snapshots, self._peak_tapes,
                     self._peak_states)

    def finish(self) -> Stats:
        """Check that every step was reversed and return the Stats."""
        if self._next_reversal:
            raise ScheduleError(f"the schedule ended before reversing step "
                                f"{self._next_reversal} (steps are reversed l, ..., 1 with "
                                f"l = {self.l})")
        return self.stats


def execute(schedule, l: int, advance, record, reverse, x0):
    """Run a schedule on a loop of l steps with the given callbacks; return (x_l, Stats).

    ``advance(state, i) -> x_i`` evaluates step i without recording; ``record(state, i) -> x_i``
    evaluates it with recording and keeps what ``reverse(i) -> None`` needs to reverse it.
    Callbacks must not modify their state argument in place (snapshots hold references).
    Every action is checked before it runs: a schedule that would reverse a step from the wrong
    state, or leave a step unreversed, raises ScheduleError instead of giving a wrong gradient.
    """
    if advance is None or record is None or reverse is None:
        raise ScheduleError("execute needs the three callbacks advance, record and reverse")
    executor = Executor(l, x0, advance, record, reverse).run(schedule)
    stats = executor.finish()
    return executor.final, stats


def simulate(schedule, l: int) -> tuple[int, int]:
    """Check a schedule abstractly and return (advances, peak snapshots).

    Checks that every step is reversed exactly once, in the order l, l-1, ..., 1, each from a
    record made from the correct state x_{i-1}. For the full Stats use
    ``Executor(l).run(schedule).finish()``.
    """
    stats = Executor(l).run(schedule).finish()
    return stats.advances, stats.peak_snapshots
