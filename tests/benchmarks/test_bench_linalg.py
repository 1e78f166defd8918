"""Linear algebra timed: a Gaussian negative log-likelihood written with numpy.linalg.solve
and numpy.linalg.slogdet, alone and with its reverse-mode gradient, exact counts attached.

The loss of a covariance K = A A^T + I (A of shape (n, n)) and data y:
0.5 y^T K^-1 y + 0.5 log det K. Its counts are exact (LU-based primitives, no model
count), so the count gate checks the linalg family's formulas and derivative rules.
"""
import numpy as np
import pytest

import costad


def gaussian_nll(y):
    def loss(a):
        k = a @ a.T + np.eye(a.shape[0])
        return 0.5 * (y @ np.linalg.solve(k, y)) + 0.5 * np.linalg.slogdet(k)[1]
    return loss


def _problem(n):
    rng = np.random.default_rng(n)
    return rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)


@pytest.mark.benchmark(group="linalg-gaussian-nll")
@pytest.mark.parametrize("n", [32, 128])
def test_gaussian_nll(counted_benchmark, n):
    a, y = _problem(n)
    counted_benchmark(costad.counted(gaussian_nll(y)), a, strategy="f", n=n,
                      function="gaussian_nll")


@pytest.mark.benchmark(group="linalg-gaussian-nll")
@pytest.mark.parametrize("n", [32, 128])
def test_gaussian_nll_reverse_gradient(counted_benchmark, n):
    a, y = _problem(n)
    counted_benchmark(costad.value_and_grad(gaussian_nll(y)), a, strategy="reverse", n=n,
                      function="gaussian_nll")
