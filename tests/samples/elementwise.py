"""Samples of costad/primitives/elementwise.py."""
import numpy as np

from . import Const, any_, pos

_COND = np.array([True, False, True, False])

SAMPLES = {
    "add": ([any_(3, 4), any_(4)], {}),
    "sub": ([any_(3, 4), any_(3, 1)], {}),
    "mul": ([any_(3, 4), any_(4)], {}),
    "div": ([any_(2, 3), pos(2, 3)], {}),
    "neg": ([any_(5)], {}),
    "pow": ([pos(4), any_(4)], {}),
    "exp": ([any_(2, 2)], {}),
    "log": ([pos(3)], {}),
    "sqrt": ([pos(3)], {}),
    "tanh": ([any_(4)], {}),
    "sin": ([any_(4)], {}),
    "cos": ([any_(4)], {}),
    "abs": ([any_(6) + 0.1], {}),
    "maximum": ([any_(5), any_(5)], {}),
    "minimum": ([any_(5), any_(1)], {}),
    "where": ([Const(_COND), any_(4), any_(4)], {}),
    "fmax": ([any_(5), any_(5)], {}),
    "fmin": ([any_(2, 5), any_(5)], {}),
    "mod": ([3.0 * any_(5), pos(5)], {}),
    "fmod": ([3.0 * any_(2, 3), -pos(3)], {}),
    "nan_to_num": ([np.array([1.5, np.nan, -0.3, np.inf, -np.inf])],
                   {"nan": 1.0, "posinf": 7.0, "neginf": None}),
}
SAMPLES["tanh_grad"] = ([any_(3, 4), any_(4)], {})
