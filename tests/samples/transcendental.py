"""Samples of costad/primitives/transcendental.py."""
from . import any_, pos, unit

SAMPLES = {
    "tan": ([unit(4)], {}),
    "arcsin": ([unit(4)], {}),
    "arccos": ([unit(2, 3)], {}),
    "arctan": ([any_(4)], {}),
    "arctan2": ([any_(3, 4), any_(3, 1)], {}),
    "sinh": ([any_(4)], {}),
    "cosh": ([any_(4)], {}),
    "arcsinh": ([any_(4)], {}),
    "arccosh": ([pos(4) + 1.0], {}),
    "arctanh": ([unit(4)], {}),
    "log1p": ([any_(4) * 0.4], {}),
    "expm1": ([any_(4)], {}),
    "log2": ([pos(4)], {}),
    "log10": ([pos(4)], {}),
    "exp2": ([any_(4)], {}),
    "logaddexp": ([any_(2, 3), any_(3)], {}),
    "logaddexp2": ([any_(3), any_(2, 3)], {}),
    "hypot": ([any_(3, 4), any_(4)], {}),
    "sinc": ([any_(5)], {}),
    "cbrt": ([any_(4)], {}),
}
