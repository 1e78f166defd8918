"""The zeroed-buffer reference of indexed accumulation, shared by the tests of
`costad.adjoints.IndexAccumulator` (its box mode must equal it bit for bit and add for add).

A contribution is ``(index, value, read)``: ``index`` None for a dense contribution, and
``read`` True where the buffer is read (densified) after it.
"""
from __future__ import annotations

import numpy as np

import costad
from costad import adjoints
from costad.adjoints import accumulate, densify
from costad.primitives import IndexedCotangent

__all__ = ["same_bits", "garbage", "reference", "accumulated", "check"]


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def garbage():
    """Leave freed memory full of non-zero bytes, where the next empty buffer may land."""
    for size in (3, 10, 100, 1000, 100_000):
        junk = np.full(size, 7.25)
        del junk
        junk = np.full(size, np.nan, dtype=np.longdouble)
        del junk


def reference(shape, contributions):
    """The accumulator before box mode: (buffer, adds, buffers read between steps)."""
    adds, reads = 0, []
    buffer = touched = None
    for index, value, read in contributions:
        if index is None:
            if buffer is None:
                buffer = np.array(value, dtype=adjoints._float_dtype(value), copy=True)
                touched = np.ones(shape, dtype=bool)
            else:
                adds += int(np.count_nonzero(touched))
                buffer += value
                touched[...] = True
        else:
            if buffer is None:
                buffer = np.zeros(shape, dtype=adjoints._float_dtype(value))
                touched = np.zeros(shape, dtype=bool)
            if adjoints._is_basic_index(index):
                adds += int(np.count_nonzero(touched[index]))
                touched[index] = True
                buffer[index] += value
            else:
                before = int(np.count_nonzero(touched))
                touched[index] = True
                adds += int(np.size(value)) - (int(np.count_nonzero(touched)) - before)
                np.add.at(buffer, index, value)
        if read:
            reads.append(buffer.copy())
    return buffer, adds, reads


def accumulated(shape, contributions):
    """(buffer, adds, buffers read between steps) through `accumulate`, as the sweep calls
    it, with ``densify`` where a step says the buffer is read."""
    garbage()
    reads = []
    with costad.counting() as counted:
        current = None
        for index, value, read in contributions:
            c = value if index is None else IndexedCotangent(shape, index, value)
            current = accumulate(current, c)
            if read:
                reads.append(np.array(densify(current), copy=True))
        buffer = densify(current)
    return buffer, counted.by_op.get("add", 0), reads


def check(shape, contributions):
    got, adds, reads = accumulated(shape, contributions)
    want, want_adds, want_reads = reference(shape, contributions)
    assert same_bits(got, want)
    assert adds == want_adds
    assert len(reads) == len(want_reads)
    for a, b in zip(reads, want_reads):
        assert same_bits(a, b)
