"""einsum timed along NumPy's contraction paths, with exact counts attached.

A chain of three n x n matrices, 'ij,jk,kl->il': optimize=False is NumPy's single loop over
the whole index space (2 n^4 mul), 'greedy' two pairwise products (2 n^3 mul), so the
counts differ by the factor n that the timings show. The gradient of an einsum-based loss
by reverse mode carries the same lesson into the backward sweep.
"""
import numpy as np
import pytest

import costad

CHAIN = "ij,jk,kl->il"


def _matrices(n, k=3):
    rng = np.random.default_rng(n)
    return [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(k)]


def _predicted_mul(n, optimize):
    """The chain's multiplications: one step of 3 operands, or two pairwise products."""
    return 2 * n ** 4 if optimize is False else 2 * n ** 3


@pytest.mark.benchmark(group="einsum-chain")
@pytest.mark.parametrize("optimize", [False, "greedy"])
@pytest.mark.parametrize("n", [64])
def test_einsum_chain(counted_benchmark, n, optimize):
    f = costad.counted(lambda ms: np.einsum(CHAIN, *ms, optimize=optimize))
    counted_benchmark(f, _matrices(n), strategy=f"optimize={optimize}", n=n,
                      predicted_mul=_predicted_mul(n, optimize))


@pytest.mark.benchmark(group="einsum-gradient")
@pytest.mark.parametrize("optimize", [False, "greedy"])
@pytest.mark.parametrize("n", [64])
def test_einsum_loss_reverse_gradient(counted_benchmark, n, optimize):
    # loss(A, B, C) = sum tanh(A B C) * W, written with einsum
    W = np.random.default_rng(0).standard_normal((n, n))

    def loss(ms):
        return np.einsum("il,il->", np.tanh(np.einsum(CHAIN, *ms, optimize=optimize)), W)

    counted_benchmark(costad.value_and_grad(loss), _matrices(n),
                      strategy=f"reverse, optimize={optimize}", n=n)
