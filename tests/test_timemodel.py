"""The time model (issue 12): a prediction is a pure function of counts and calibration."""
import math

import numpy as np
import pytest

import costad
from costad.timemodel import Calibration, predict_time

CAL = Calibration(overhead_s={"eval": 1e-6, "forward": 4e-6, "reverse": 5e-6},
                  element_s={"exp": 4e-9, "matmul": 1e-10},
                  default_element_s=1e-9, bandwidth_bytes_per_s=1e10)


def test_prediction_is_overhead_plus_the_larger_of_compute_and_memory():
    cost = costad.Cost({"exp": 1000, "add": 999}, calls={"exp": 1, "sum": 1},
                       work={"exp": 1000, "sum": 999}, bytes=16_008)
    p = predict_time(cost, CAL, "eval")
    assert p.overhead == pytest.approx(2e-6)
    assert p.compute == pytest.approx(1000 * 4e-9 + 999 * 1e-9)
    assert p.memory == pytest.approx(16_008 / 1e10)
    assert p.seconds == pytest.approx(p.overhead + max(p.compute, p.memory))
    assert p.dominant == "compute"
    assert predict_time(cost, CAL, "reverse").overhead == pytest.approx(1e-5)
    assert predict_time(cost, CAL, "fd").overhead == p.overhead       # fd calls NumPy


@pytest.mark.parametrize("n,regime", [(10, "overhead"), (10 ** 7, "compute")])
def test_regimes_of_a_counted_function(n, regime):
    cost = costad.count(lambda x: np.sum(np.exp(x)), costad.ShapeDtype((n,)))
    assert predict_time(cost, CAL, "eval").dominant == regime
    memory_bound = Calibration({"eval": 1e-6}, {"add": 1e-12}, 1e-12, 1e9)
    add = costad.count(lambda x: x + x, costad.ShapeDtype((10 ** 7,)))
    assert predict_time(add, memory_bound).dominant == "memory"


def test_matmul_work_uses_its_own_rate():
    A = costad.ShapeDtype((100, 100))
    cost = costad.count(lambda a: a @ a, A)
    assert cost.work == {"matmul": 100 ** 3 + 100 * 99 * 100}
    assert predict_time(cost, CAL).compute == pytest.approx(cost.work["matmul"] * 1e-10)


def test_calibration_round_trips_and_refuses_nonsense():
    assert Calibration.from_dict(CAL.to_dict()) == CAL
    for bad in (0.0, -1.0, math.nan, math.inf, "1e-6", True):
        with pytest.raises(ValueError, match="positive"):
            Calibration({"eval": bad}, {}, 1e-9, 1e10)
    with pytest.raises(ValueError, match="not a calibration"):
        Calibration.from_dict({"overhead_s": {}})
    with pytest.raises(ValueError, match="overhead for 'forward'"):
        predict_time(costad.Cost(calls={"add": 1}), Calibration({"eval": 1e-6}, {}, 1e-9, 1e9),
                     "forward")


def test_work_and_calls_add_up_with_the_counts():
    from costad.functions import FAMILIES
    f, x = FAMILIES["rosenbrock"].build(20, 0)
    with costad.counting() as c:
        costad.grad(f)(x)
    assert sum(c.work.values()) == c.total
    assert set(c.work) <= set(c.calls)


def test_calibration_accepts_numpy_integers_and_predict_time_checks_its_arguments():
    # np.int64(10**10) as a bandwidth was refused as "not a positive finite number"
    cal = Calibration({"eval": 1e-6}, {}, 1e-9, np.int64(10 ** 10))
    assert cal.bandwidth_bytes_per_s == 1e10
    with pytest.raises(ValueError, match="positive"):
        Calibration({"eval": np.int64(0)}, {}, 1e-9, 1e10)
    with pytest.raises(ValueError, match="positive"):
        Calibration({"eval": np.bool_(True)}, {}, 1e-9, 1e10)
    # a dict or None in place of a Calibration or a Cost was an AttributeError
    cost = costad.Cost(calls={"add": 1})
    with pytest.raises(TypeError, match="costad.Calibration"):
        predict_time(cost, CAL.to_dict())
    with pytest.raises(TypeError, match="costad.Cost"):
        predict_time(None, CAL)
    with pytest.raises(ValueError, match="^costad: not a calibration: calibration"):
        Calibration.from_dict({**CAL.to_dict(), "default_element_s": "nan"})


def test_a_cost_refuses_counts_that_are_not_non_negative_integers():
    # Cost(calls={"add": -1}) predicted -1 us, and 1.5 calls were silently 1
    for bad in ({"calls": {"add": -1}}, {"calls": {"add": 1.5}}, {"work": {"add": -5}},
                {"bytes": -8}, {"by_op": {"mul": 0.5}}, {"peak_bytes": True}):
        with pytest.raises(ValueError, match="non-negative integers"):
            costad.Cost(**bad)
    with pytest.raises(ValueError, match="non-negative integers"):
        costad.Cost({"mul": 2}) * -1
    assert costad.Cost(calls={"add": np.int64(3), "mul": 2.0}).calls == {"add": 3, "mul": 2}
