"""Samples of costad/primitives/contractions.py."""
from . import any_

SAMPLES = {
    "matmul": ([any_(3, 4), any_(4, 2)], {}),
    # Three operands in one step; m is carried by the first operand only (its cotangent is
    # broadcast along m), j is summed, and the 1-D operand is broadcast (size 1) along c.
    "contract": ([any_(2, 3, 2), any_(3, 4), any_(1)], {"spec": "abm,bc,c->ac"}),
}
