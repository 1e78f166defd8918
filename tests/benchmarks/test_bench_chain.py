"""Chain association timed: left, right and optimal (claim C5), with exact counts attached."""
import numpy as np
import pytest

from costad import chain


@pytest.mark.benchmark(group="chain")
@pytest.mark.parametrize("order", chain.ORDERS)
@pytest.mark.parametrize("n", [64, 256])
def test_chain_multiply(counted_benchmark, n, order):
    R = 8
    dims = [n] * (R + 1) + [1]
    rng = np.random.default_rng(n)
    mats = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(dims[:-1], dims[1:])]
    counted_benchmark(chain.multiply, mats, order, strategy=order, n=n, R=R,
                      predicted_mul=chain.cost(dims, order))
