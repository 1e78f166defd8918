"""Samples of costad/primitives/contractions.py."""
from . import any_

SAMPLES = {
    "matmul": ([any_(3, 4), any_(4, 2)], {}),
}
