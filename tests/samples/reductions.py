"""Samples of costad/primitives/reductions.py."""
from . import any_

SAMPLES = {
    "sum": ([any_(3, 4)], {"axis": (0,), "keepdims": False}),
    "max": ([any_(3, 4)], {"axis": (1,), "keepdims": False}),
    "min": ([any_(3, 4)], {"axis": None, "keepdims": False}),
    "prod": ([any_(2, 3, 4)], {"axis": (0, 2), "keepdims": False}),
    "cumsum": ([any_(3, 4)], {"axis": 1}),
    "cumprod": ([any_(4, 3)], {"axis": 0}),
    "linear_recurrence": ([any_(3, 4), any_(3, 5)], {"axis": 1}),
}
