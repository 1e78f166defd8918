"""Time predicted from counts: the interpreter's overhead plus the roofline.

A `Cost` holds, besides operations, the primitive applications (``calls``), the operations
each primitive did (``work``) and the bytes primitives read and wrote (``bytes``). With a
`Calibration` of the machine, measured apart from any study (``costad calibrate``),

    overhead = calls x (seconds per primitive application, for the strategy that ran)
    compute  = sum over primitives of work x (seconds per operation of that primitive)
    memory   = bytes / (memory bandwidth)
    time     = overhead + max(compute, memory)

Compute and memory overlap, a kernel waiting for the slower of the two (the roofline model
of Williams, Waterman and Patterson, 2009); the interpreter's per-call overhead does not
overlap with either. The largest of the three terms names the regime: overhead (small
arrays, scalar code), compute or memory. Per-operation times are measured per primitive
because a kernel's speed, not the operation's kind, sets them: a matmul's multiply is far
cheaper than an elementwise one. A primitive without its own calibration takes the
calibration's default.

This is a model, fitted on microbenchmarks and never on the study's own timings; where it
misses (caches between the calibrated sizes, BLAS threading, NumPy temporaries) the report
says so.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .cost import Cost

__all__ = ["Calibration", "Prediction", "predict_time", "REGIMES", "STRATEGY_OVERHEADS"]

REGIMES = ("overhead", "compute", "memory")

# Which measured per-call overhead applies to the calls of each strategy: finite
# differences and a plain evaluation call NumPy directly, forward and reverse mode go
# through costad's interpretations.
STRATEGY_OVERHEADS = {"eval": "eval", "fd": "eval", "fd-central": "eval", "forward": "forward",
                      "reverse": "reverse", "hand": "eval"}


@dataclass(frozen=True)
class Calibration:
    """This machine's time model parameters, from ``costad calibrate``.

    overhead_s:  seconds per primitive application, per strategy (``eval``, ``forward``,
                 ``reverse``; see `STRATEGY_OVERHEADS`).
    element_s:   seconds per operation, per primitive name (in cache).
    default_element_s: seconds per operation of a primitive not in ``element_s``.
    bandwidth_bytes_per_s: memory bandwidth out of cache.
    """

    overhead_s: Mapping[str, float]
    element_s: Mapping[str, float]
    default_element_s: float
    bandwidth_bytes_per_s: float
    source: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self):
        # Validated copies: a caller changing its own dicts later cannot change the model.
        for name in ("overhead_s", "element_s"):
            table = getattr(self, name)
            if not isinstance(table, Mapping):
                raise ValueError(f"costad: calibration {name} must be a mapping of names to "
                                 f"seconds, got {type(table).__name__}")
            object.__setattr__(self, name, MappingProxyType(
                {str(key): _positive(f"{name}[{key!r}]", value) for key, value in table.items()}))
        for name in ("default_element_s", "bandwidth_bytes_per_s"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
        if not isinstance(self.source, Mapping):
            raise ValueError("costad: calibration source must be a mapping")
        object.__setattr__(self, "source", MappingProxyType(dict(self.source)))

    def overhead_for(self, strategy: str) -> float:
        """Seconds per primitive application for ``strategy``."""
        key = STRATEGY_OVERHEADS.get(strategy, strategy)
        try:
            return self.overhead_s[key]
        except KeyError:
            raise ValueError(f"costad: the calibration has no per-call overhead for "
                             f"{strategy!r}; it has {sorted(self.overhead_s)}") from None

    def __eq__(self, other) -> bool:
        return isinstance(other, Calibration) and self.to_dict() == other.to_dict()

    __hash__ = None

    def to_dict(self) -> dict:
        return {"overhead_s": dict(self.overhead_s), "element_s": dict(self.element_s),
                "default_element_s": self.default_element_s,
                "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s,
                "source": dict(self.source)}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Calibration":
        try:
            return cls(dict(data["overhead_s"]), dict(data["element_s"]),
                       float(data["default_element_s"]), float(data["bandwidth_bytes_per_s"]),
                       dict(data.get("source", {})))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"costad: not a calibration: "
                             f"{str(err).removeprefix('costad: ')}") from None


def _positive(name: str, value) -> float:
    try:
        # Any real number, NumPy's integers and floats included (a bandwidth read from a
        # table is often an np.int64); booleans and strings are not seconds.
        number = float(value) if isinstance(value, numbers.Real) and not \
            isinstance(value, (bool, np.bool_)) else math.nan
    except OverflowError:
        number = math.inf
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"costad: calibration {name} must be a positive finite number, "
                         f"got {value!r}")
    return number


@dataclass(frozen=True)
class Prediction:
    """A predicted time and its terms (seconds)."""

    seconds: float
    overhead: float
    compute: float
    memory: float

    @property
    def dominant(self) -> str:
        """The regime: the largest of overhead, compute and memory."""
        terms = {"overhead": self.overhead, "compute": self.compute, "memory": self.memory}
        return max(REGIMES, key=lambda r: terms[r])


def predict_time(cost: Cost, calibration: Calibration, strategy: str = "eval") -> Prediction:
    """The time the counted work should take on the calibrated machine (a pure function of
    the counts and the calibration)."""
    # Checked here: the wrong object would otherwise fail deep inside as an AttributeError.
    if not isinstance(cost, Cost):
        raise TypeError(f"costad: predict_time needs a costad.Cost (from costad.count or "
                        f"costad.counting), got {type(cost).__name__}")
    if not isinstance(calibration, Calibration):
        raise TypeError(f"costad: predict_time needs a costad.Calibration (Calibration(...) "
                        f"or Calibration.from_dict), got {type(calibration).__name__}")
    overhead = cost.total_calls * calibration.overhead_for(strategy)
    compute = sum(ops * calibration.element_s.get(name, calibration.default_element_s)
                  for name, ops in cost.work.items())
    memory = cost.bytes / calibration.bandwidth_bytes_per_s
    return Prediction(overhead + max(compute, memory), overhead, compute, memory)
