"""The completeness test's sample table: one sample call per differentiable primitive.

One module per family file of ``costad/primitives/`` (same name), each defining ``SAMPLES``:
``{primitive name: (args, params)}``. ``args`` are the positional arguments; the arrays
among them are differentiated, and a constant positional argument (the condition of a
``where``) is wrapped in `Const`. ``params`` are the constant keyword parameters. A
differentiable primitive missing from every table fails
``test_every_differentiable_primitive_has_a_sample``.
"""
import importlib
import pkgutil

import numpy as np

RNG = np.random.default_rng(1234)


class Const:
    """A positional argument that is a constant of the sample, not differentiated."""

    def __init__(self, value):
        self.value = value


def pos(*shape):
    """Uniform in [0.5, 2): inputs for log, sqrt, division."""
    return RNG.uniform(0.5, 2.0, shape)


def any_(*shape):
    """Uniform in [-2, 2)."""
    return RNG.uniform(-2.0, 2.0, shape)


def unit(*shape):
    """Uniform in [-0.9, 0.9): inputs for arcsin, arctanh."""
    return RNG.uniform(-0.9, 0.9, shape)


def collect() -> dict:
    """Every family's SAMPLES, merged (a name in two tables is an error)."""
    samples: dict = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, sample in module.SAMPLES.items():
            if name in samples:
                raise ValueError(f"sample {name!r} defined twice")
            samples[name] = sample
    return samples
