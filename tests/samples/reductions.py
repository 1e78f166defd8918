"""Samples of costad/primitives/reductions.py."""
from . import any_

SAMPLES = {
    "sum": ([any_(3, 4)], {"axis": (0,), "keepdims": False}),
    "max": ([any_(3, 4)], {"axis": (1,), "keepdims": False}),
    "min": ([any_(3, 4)], {"axis": None, "keepdims": False}),
}
