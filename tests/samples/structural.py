"""Samples of costad/primitives/structural.py."""
import numpy as np

from . import any_

SAMPLES = {
    "reshape": ([any_(2, 3)], {"shape": (3, 2)}),
    "transpose": ([any_(2, 3, 4)], {"axes": (2, 0, 1)}),
    "broadcast_to": ([any_(1, 3)], {"shape": (4, 3)}),
    "getitem": ([any_(5, 3)], {"index": (slice(1, 4), 2)}),
    "scatter": ([any_(2)], {"shape": (5,), "index": np.array([1, 3])}),
    "setitem": ([any_(5), any_(2)], {"index": np.array([1, 3])}),
    "concatenate": ([any_(2, 3), any_(1, 3)], {"axis": 0}),
    "astype": ([any_(2, 3)], {"dtype": np.dtype(np.float64)}),
}
