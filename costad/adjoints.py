"""Adjoint arithmetic: how a contribution is added into an adjoint, following the cost model.

The seed and zero initialisation are free; the first contribution to an adjoint element is
an assignment (free); every further contribution costs one add per element. Three kinds of
contribution arrive:

- dense values (arrays or scalars), added with the ``add`` primitive;
- `IndexedCotangent`s from indexing, scattered in place into a dense buffer (an
  `IndexAccumulator`), so that reading scalars out of an n-vector costs O(1) per read in
  the backward pass; only elements already written are charged an add;
- traced values, when the sweep is itself differentiated (forward over reverse): then the
  accumulation must be recorded, so it uses the ``add`` and ``scatter`` primitives, and an
  indexed contribution is charged as a dense add of its size.
"""
from __future__ import annotations

import numpy as np

from . import cost as _cost
from .core import Tracer
from .primitives import IndexedCotangent, add, scatter

__all__ = ["IndexAccumulator", "accumulate", "densify"]


def _float_dtype(value) -> np.dtype:
    """The dtype of a buffer holding ``value``: its own floating dtype, else float64."""
    dtype = np.result_type(value)
    return dtype if dtype.kind == "f" else np.dtype(float)


class IndexAccumulator:
    """A dense adjoint buffer that indexed cotangents are scattered into, in place.

    ``touched`` marks the elements that have received a contribution (None: all of them),
    so that only repeated contributions are charged as adds.
    """

    __slots__ = ("buffer", "touched")

    def __init__(self, buffer: np.ndarray, touched):
        self.buffer = buffer
        self.touched = touched

    @classmethod
    def from_indexed(cls, c: IndexedCotangent) -> "IndexAccumulator":
        buffer = np.zeros(c.shape, dtype=_float_dtype(c.value))        # free: zero init
        acc = cls(buffer, np.zeros(c.shape, dtype=bool))
        acc.add_indexed(c)
        return acc

    @classmethod
    def from_dense(cls, value) -> "IndexAccumulator":
        # A copy, because the dense cotangent may be shared with another adjoint.
        return cls(np.array(value, dtype=_float_dtype(value), copy=True), None)

    def add_indexed(self, c: IndexedCotangent) -> None:
        index, value = c.index, c.value
        if type(index) is int and self.buffer.ndim == 1:   # one scalar: scalar code's path
            touched = self.touched
            if touched is None or touched[index]:
                _cost.charge({"add": 1})
            else:
                touched[index] = True
            self.buffer[index] += value
            return
        basic = _is_basic_index(index)
        if self.touched is None:
            repeated = int(np.size(value))       # value has the shape of x[index]
        elif basic:
            repeated = int(np.count_nonzero(self.touched[index]))
            self.touched[index] = True
        else:
            # Advanced indices may repeat positions: count the newly touched ones.
            before = int(np.count_nonzero(self.touched))
            self.touched[index] = True
            repeated = int(np.size(value)) - (int(np.count_nonzero(self.touched)) - before)
        if basic:
            self.buffer[index] += value
        else:
            np.add.at(self.buffer, index, value)
        if repeated:
            _cost.charge({"add": repeated})

    def add_dense(self, value) -> None:
        repeated = self.buffer.size if self.touched is None else int(
            np.count_nonzero(self.touched))
        self.buffer += value
        self.touched = None
        if repeated:
            _cost.charge({"add": repeated})


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def densify(adjoint):
    """The adjoint as a plain value (the buffer of an accumulator)."""
    if adjoint.__class__ is IndexAccumulator:
        return adjoint.buffer
    return adjoint


def accumulate(current, contribution):
    """Add a contribution to an adjoint (None: no contribution yet); return the new adjoint."""
    if contribution.__class__ is IndexedCotangent:
        traced = isinstance(contribution.value, Tracer) or isinstance(current, Tracer)
        if traced:
            dense = scatter(contribution.value, shape=contribution.shape,
                            index=contribution.index)
            return dense if current is None else add(densify(current), dense)
        if current is None:
            return IndexAccumulator.from_indexed(contribution)
        if current.__class__ is not IndexAccumulator:
            current = IndexAccumulator.from_dense(current)
        current.add_indexed(contribution)
        return current
    if current is None:
        return contribution
    if current.__class__ is IndexAccumulator:
        if isinstance(contribution, Tracer):
            return add(current.buffer, contribution)
        current.add_dense(contribution)
        return current
    return add(current, contribution)
