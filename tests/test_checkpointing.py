"""Checkpointing schedules: revolve's closed form, its recursion and the binomial schedule agree
exactly; the sqrt and store-all schedules match their closed forms; the interpreter drives a
hand-written adjoint to the store-all gradient; bad schedules and arguments raise clear errors."""
import json
import math
import random
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costad import checkpointing as cp
from costad.checkpointing import ScheduleError, Stats


def run(schedule, l):
    return cp.Executor(l).run(schedule).finish()


def replay_peak_snapshots(schedule):
    """Most snapshots alive, recounted from the actions alone (independent of the Executor)."""
    alive, peak = set(), 0
    for name, *index in schedule:
        if name == "snapshot":
            alive.add(index[0])
        elif name == "drop":
            alive.remove(index[0])
        peak = max(peak, len(alive))
    return peak


# ----------------------------------------------------------------------------- revolve

@pytest.mark.parametrize("l, s, published", [(10, 1, 45), (10, 3, 15), (100, 5, 316),
                                              (1000, 10, 3636)])
def test_published_examples(l, s, published):
    assert cp.revolve_advances(l, s) == published
    assert cp.revolve_advances_recursive(l, s) == published
    assert cp.simulate(cp.binomial_schedule(l, s), l) == (published, s)


@pytest.mark.parametrize("s", range(1, 11))
def test_closed_form_recursion_and_schedule_agree_up_to_200_steps(s):
    for l in range(1, 201):
        closed = cp.revolve_advances(l, s)
        assert cp.revolve_advances_recursive(l, s) == closed, (l, s)
        schedule = cp.binomial_schedule(l, s)
        stats = run(schedule, l)
        assert stats.advances == closed, (l, s)
        assert stats.records == l
        assert stats.peak_snapshots <= s
        # x_{l-1} is recorded from the register, never stored: s snapshots serve l = s+1 steps
        assert stats.peak_snapshots == min(s, l - 1) == replay_peak_snapshots(schedule)
        assert stats.peak_tapes == 1          # every record is reversed at once


def test_base_cases_and_enough_snapshots():
    for l in range(1, 60):
        assert cp.revolve_advances(l, 1) == l * (l - 1) // 2
        for s in (l - 1, l, l + 1, 10 * l):
            if s >= 1:
                assert cp.revolve_advances(l, s) == l - 1
                assert cp.revolve_advances_recursive(l, s) == l - 1
    for s in range(1, 12):
        assert cp.revolve_advances(1, s) == 0


def test_more_snapshots_never_cost_more_advances():
    for l in range(1, 120):
        row = [cp.revolve_advances(l, s) for s in range(1, l + 2)]
        assert all(a >= b for a, b in zip(row, row[1:])), l


def test_split_interval_is_exactly_the_recursions_argmin():
    for s in range(2, 9):
        for l in range(2, 121):
            best = cp.revolve_advances_recursive(l, s)
            argmin = [i for i in range(1, l) if i + cp.revolve_advances_recursive(i, s)
                      + cp.revolve_advances_recursive(l - i, s - 1) == best]
            low, high = cp._split_interval(l, s)
            assert argmin == list(range(low, high + 1)), (l, s)


def test_beta_is_the_binomial_coefficient_and_brackets_l():
    assert [cp.beta(2, r) for r in range(5)] == [1, 3, 6, 10, 15]
    assert cp.beta(0, 7) == 1 and cp.beta(7, 0) == 1
    # r(l, s) by the closed form's own definition, at sizes where a linear search would hang
    for l in (2, 3, 10 ** 4, 10 ** 12, 10 ** 15 + 7):
        for s in (2, 3, 10, 1000):
            r = cp._repetitions(l, s)
            assert cp.beta(s, r - 1) < l <= cp.beta(s, r), (l, s)


@pytest.mark.parametrize("s", [1, 2, 3, 10, 100, 9999, 10 ** 4, 10 ** 6])
def test_ten_thousand_steps(s):
    l = 10 ** 4
    schedule = cp.binomial_schedule(l, s)
    stats = run(schedule, l)
    assert stats.advances == cp.revolve_advances(l, s)
    assert stats.records == l
    assert stats.peak_snapshots == min(s, l - 1) == replay_peak_snapshots(schedule)
    assert cp.revolve_advances(l, 1) == l * (l - 1) // 2
    assert cp.revolve_advances(l, l) == l - 1


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 80))
def test_random_sizes(l, s):
    stats = run(cp.binomial_schedule(l, s), l)
    assert stats.advances == cp.revolve_advances(l, s)
    assert stats.peak_snapshots == min(s, l - 1)
    assert stats.evaluations == l + cp.revolve_advances(l, s)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 150), st.integers(1, 150))
def test_random_sizes_against_the_recursion(l, s):
    assert cp.revolve_advances(l, s) == cp.revolve_advances_recursive(l, s)


def test_recursion_memo_is_safe_from_two_threads(monkeypatch):
    monkeypatch.setattr(cp, "_ROWS", {})
    results, errors = {}, []

    def work(pairs):
        try:
            for l, s in pairs:
                results[l, s] = cp.revolve_advances_recursive(l, s)
        except Exception as error:       # pragma: no cover - reported below
            errors.append(error)

    first = [(l, s) for l in range(1, 90, 7) for s in range(1, 6)]
    second = [(l, s) for l in range(90, 1, -5) for s in range(5, 0, -1)]
    threads = [threading.Thread(target=work, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(value == cp.revolve_advances(*key) for key, value in results.items())


# ----------------------------------------------------------------------------- sqrt, store-all

def test_sqrt_closed_forms_equal_the_simulated_counts():
    for l in range(1, 501):
        k = cp.sqrt_segment_size(l)
        assert (k - 1) ** 2 < l <= k * k
        segments = -(-l // k)
        stats = run(cp.sqrt_schedule(l), l)
        assert stats.advances == cp.sqrt_advances(l), l
        assert stats.peak_states == cp.sqrt_peak_states(l), l
        assert stats.records == l
        assert stats.peak_snapshots == segments - 1
        assert stats.peak_tapes == (k if segments > 1 else l)
        # every step outside the last segment is evaluated twice, the others once
        assert stats.evaluations == l + (l - (l - k * (segments - 1)))


def test_sqrt_segment_size_is_exact_for_huge_l():
    for l in (10 ** 30, 10 ** 30 + 1, (10 ** 15 + 3) ** 2, (10 ** 15 + 3) ** 2 + 1):
        k = cp.sqrt_segment_size(l)
        assert (k - 1) ** 2 < l <= k * k


def test_sqrt_tapes_against_revolve_in_states_as_the_module_states():
    # the module docstring's example: in states alone (tapes counted as their input state)
    # the sqrt rule needs fewer advances than revolve's one-tape optimum
    sqrt = run(cp.sqrt_schedule(100), 100)
    revolve = run(cp.binomial_schedule(100, 18), 100)
    assert (sqrt.advances, sqrt.peak_states) == (90, 19)
    assert (revolve.advances, revolve.peak_states) == (cp.revolve_advances(100, 18), 19)
    assert revolve.advances == 180


def test_store_all():
    for l in range(1, 60):
        assert run(cp.store_all_schedule(l), l) == Stats(advances=0, records=l,
                                                         peak_snapshots=0, peak_tapes=l,
                                                         peak_states=l)


def test_schedules_are_plain_data():
    for schedule, l in [(cp.binomial_schedule(37, 4), 37), (cp.sqrt_schedule(37), 37),
                        (cp.store_all_schedule(5), 5)]:
        assert all(isinstance(a, tuple) and a[0] in cp.ACTIONS for a in schedule)
        assert run(json.loads(json.dumps(schedule)), l) == run(schedule, l)


# ----------------------------------------------------------------------------- execute

class Recurrence:
    """x_i = sin(x_{i-1}) + a_i, loss x_l^2 / 2, with a hand-written adjoint.

    Counts its own calls and checks that every step is recorded from the very state the plain
    loop computes (recomputation calls the same math.sin on the same double, so it is exact).
    """

    def __init__(self, a, x0):
        self.a, self.x0 = a, x0
        self.xs = [x0]
        for a_i in a:
            self.xs.append(math.sin(self.xs[-1]) + a_i)
        self.advances = self.records = 0
        self.reversed, self.tapes = [], {}
        self.x_bar = None
        self.a_bar = [0.0] * len(a)

    def advance(self, x, i):
        self.advances += 1
        return math.sin(x) + self.a[i - 1]

    def record(self, x, i):
        assert x == self.xs[i - 1]
        self.records += 1
        self.tapes[i] = math.cos(x)            # what reversing step i needs
        return math.sin(x) + self.a[i - 1]

    def reverse(self, i):
        if self.x_bar is None:                 # seed: d(x_l^2 / 2) / dx_l
            self.x_bar = self.xs[-1]
        self.reversed.append(i)
        self.a_bar[i - 1] = self.x_bar
        self.x_bar = self.x_bar * self.tapes.pop(i)

    def loss(self, x0, a):
        x = x0
        for a_i in a:
            x = math.sin(x) + a_i
        return x * x / 2


def make_problem(l, seed=0):
    rng = random.Random(seed)
    return Recurrence([rng.uniform(-1, 1) for _ in range(l)], rng.uniform(-1, 1))


def gradient(schedule, l):
    problem = make_problem(l)
    final, stats = cp.execute(schedule, l, problem.advance, problem.record, problem.reverse,
                              problem.x0)
    assert final == problem.xs[-1]
    assert problem.reversed == list(range(l, 0, -1))
    assert (problem.advances, problem.records) == (stats.advances, stats.records)
    assert not problem.tapes
    return problem, (problem.x_bar, problem.a_bar), stats


@pytest.mark.parametrize("l", [1, 2, 7, 40])
def test_execute_gives_the_store_all_gradient(l):
    problem, reference, _ = gradient(cp.store_all_schedule(l), l)
    # the hand-written adjoint itself, against central differences (error ~ h^2 ~ 1e-10)
    h = 1e-5
    fd_x0 = (problem.loss(problem.x0 + h, problem.a)
             - problem.loss(problem.x0 - h, problem.a)) / (2 * h)
    assert reference[0] == pytest.approx(fd_x0, rel=1e-6, abs=1e-8)
    for s in sorted({1, 2, 3, 5, l}):
        schedule = cp.binomial_schedule(l, s)
        _, grads, stats = gradient(schedule, l)
        assert grads == reference        # same operations on the same doubles: bit for bit
        assert stats.advances == cp.revolve_advances(l, s)
        assert stats.evaluations == l + cp.revolve_advances(l, s)
        assert stats.peak_snapshots == replay_peak_snapshots(schedule) <= s
    _, grads, stats = gradient(cp.sqrt_schedule(l), l)
    assert grads == reference
    assert stats.advances == cp.sqrt_advances(l)


def test_forward_and_reverse_sweeps_run_separately():
    l, s = 30, 4
    forward, backward = cp.split_at_turn(cp.binomial_schedule(l, s))
    assert forward[-1] == ("record", l) and backward[0] == ("reverse", l)
    _, reference, whole = gradient(cp.binomial_schedule(l, s), l)
    problem = make_problem(l)
    executor = cp.Executor(l, problem.x0, problem.advance, problem.record, problem.reverse)
    executor.run(forward)
    assert executor.final == problem.xs[-1]          # the loop's output, before any reversal
    assert problem.advances == l - 1 and problem.reversed == []
    with pytest.raises(ScheduleError, match="ended before reversing step 30"):
        executor.finish()
    assert executor.run(backward).finish() == whole
    assert (problem.x_bar, problem.a_bar) == reference


def test_final_state_is_unknown_before_step_l_is_recorded():
    executor = cp.Executor(3, 0.0, lambda x, i: x + 1, lambda x, i: x + 1, lambda i: None)
    with pytest.raises(ScheduleError, match="step l has not been recorded"):
        executor.final
    with pytest.raises(ScheduleError, match="abstract run"):
        cp.Executor(3).final


def test_callbacks_returning_none_are_an_error():
    def forgetful(x, i):
        x + 1                                      # forgot to return

    with pytest.raises(ScheduleError, match="advance returned None for step 1"):
        cp.execute(cp.binomial_schedule(3, 1), 3, forgetful, lambda x, i: x, lambda i: None, 0)
    with pytest.raises(ScheduleError, match="record returned None for step 1"):
        cp.execute(cp.store_all_schedule(3), 3, lambda x, i: x, forgetful, lambda i: None, 0)


def test_callbacks_all_or_none():
    with pytest.raises(ScheduleError, match="all three callbacks"):
        cp.Executor(3, 0.0, advance=lambda x, i: x)
    with pytest.raises(ScheduleError, match="record must be callable"):
        cp.Executor(3, 0.0, lambda x, i: x, 5, lambda i: None)
    with pytest.raises(ScheduleError, match="three callbacks"):
        cp.execute(cp.store_all_schedule(3), 3, None, None, None, 0.0)


# ----------------------------------------------------------------------------- errors

GOOD = [("snapshot", 0), ("advance", 0, 1), ("record", 2), ("reverse", 2), ("restore", 0),
        ("record", 1), ("reverse", 1), ("drop", 0)]


def test_the_good_schedule_the_bad_ones_spoil():
    assert GOOD == cp.binomial_schedule(2, 2)
    assert cp.simulate(GOOD, 2) == (1, 1)


@pytest.mark.parametrize("schedule, message", [
    ([("record", 2)], r"action 0 \('record', 2\): needs x_1 in the register, which holds x_0"),
    ([("record", 1), ("record", 2), ("reverse", 1)], "step 2 is next"),
    ([("record", 1), ("reverse", 2)], "step 2 is not recorded"),
    ([("restore", 1)], "x_1 is not stored"),
    ([("drop", 0)], "x_0 is not stored"),
    ([("snapshot", 0), ("snapshot", 0)], "x_0 is already stored"),
    ([("snapshot", 1)], "needs x_1 in the register"),
    ([("advance", 0, 0)], "advances must go forward"),
    ([("advance", 1, 2)], "needs x_1 in the register"),
    ([("advance", 0, 3)], "step index 3 is outside 0..2"),
    ([("record", 0)], "steps are numbered 1..l"),
    ([("record", 1), ("record", 2), ("reverse", 2), ("restore", 0)], "x_0 is not stored"),
    (GOOD + [("reverse", 1)], "every step is already reversed"),
    ([("advance", 0, 1), ("record", 2), ("reverse", 2), ("record", 2)], "already reversed"),
    ([("snapshot", 0), ("record", 1), ("restore", 0), ("record", 1)], "already recorded"),
    ([("jump", 1)], r"not an action; an action is a tuple \(name, indices...\) with name one"),
    (["advance"], "not an action"),
    ([()], "not an action"),
    ([("advance", 0)], "'advance' takes 2 step index"),
    ([("record", True)], "integers, not booleans"),
    ([("record", 1.0)], "step index 1.0 is not an integer"),
    ([("record", "1")], "is not an integer"),
    (GOOD[:-2], "ended before reversing step 1"),
    ([], "ended before reversing step 2"),
])
def test_bad_schedules_are_refused(schedule, message):
    with pytest.raises(ScheduleError, match=message):
        cp.simulate(schedule, 2)


def test_a_schedule_for_another_length_is_refused():
    with pytest.raises(ScheduleError, match="step 12 is next"):
        cp.simulate(cp.binomial_schedule(10, 3), 12)
    with pytest.raises(ScheduleError, match="outside 0..8"):
        cp.simulate(cp.binomial_schedule(10, 3), 8)


def test_split_at_turn_needs_a_reversal():
    with pytest.raises(ScheduleError, match="no turn"):
        cp.split_at_turn([("record", 1)])


@pytest.mark.parametrize("call, name", [
    (lambda v: cp.revolve_advances(v, 3), "l"),
    (lambda v: cp.revolve_advances(10, v), "s"),
    (lambda v: cp.revolve_advances_recursive(v, 3), "l"),
    (lambda v: cp.revolve_advances_recursive(10, v), "s"),
    (lambda v: cp.binomial_schedule(v, 3), "l"),
    (lambda v: cp.binomial_schedule(10, v), "s"),
    (lambda v: cp.sqrt_schedule(v), "l"),
    (lambda v: cp.sqrt_advances(v), "l"),
    (lambda v: cp.sqrt_peak_states(v), "l"),
    (lambda v: cp.store_all_schedule(v), "l"),
    (lambda v: cp.simulate([], v), "l"),
])
@pytest.mark.parametrize("value", [0, -3, True, 2.5, "3", None])
def test_bad_arguments_name_the_argument(call, name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be an integer >= 1, got"):
        call(value)


def test_numpy_integers_are_accepted_and_numpy_bools_refused():
    assert cp.revolve_advances(np.int64(10), np.int32(3)) == 15
    assert cp.simulate(cp.binomial_schedule(np.int16(10), np.int8(3)), 10) == (15, 3)
    with pytest.raises(ValueError, match="boolean"):
        cp.binomial_schedule(np.bool_(True), 2)
    with pytest.raises(ValueError, match=r"^r must be an integer >= 0"):
        cp.beta(2, -1)
