"""Samples of costad/primitives/indexing.py."""
import numpy as np

from . import any_

SAMPLES = {
    "permute_along": ([any_(3, 4)], {"order": np.argsort(np.arange(12).reshape(3, 4) % 5, axis=1),
                                     "axis": 1}),
}
