"""Timings of the core (issue 2 targets; the numbers go in the notes, never asserted here).

- MLP loss, width 512, depth 4, batch 256: value_and_grad (reverse) against the plain loss.
- Scalar code: the seed example over P pairs in a Python loop, reverse value_and_grad;
  time per counted operation should stay flat as P grows (target: 3 us or less). The
  counts of the call (W) and K, the operations of f, go in extra_info, and `costad
  bench-table` divides: ``time_per_op`` = min time / W, ``time_per_f_op`` = min time / K.
- Counting overhead: the same reverse pass inside and outside a counting block.
"""
import numpy as np
import pytest

import costad
from costad.functions import mlp_init, mlp_loss, seed_pairs_loop


@pytest.fixture(scope="module")
def mlp_problem():
    rng = np.random.default_rng(0)
    params = mlp_init([512] * 5, rng)                # depth 4: four 512x512 layers
    X = rng.standard_normal((256, 512))
    Y = np.eye(512)[rng.integers(0, 512, 256)]
    return params, X, Y


@pytest.mark.benchmark(group="mlp-512x4-batch256")
def test_mlp_plain_numpy(benchmark, mlp_problem):
    params, X, Y = mlp_problem
    benchmark.extra_info.update(strategy="plain", width=512, depth=4, batch=256)
    benchmark(mlp_loss, params, X, Y)


@pytest.mark.benchmark(group="mlp-512x4-batch256")
def test_mlp_reverse_value_and_grad(counted_benchmark, mlp_problem):
    params, X, Y = mlp_problem
    vg = costad.value_and_grad(lambda p: mlp_loss(p, X, Y))
    counted_benchmark(vg, params, strategy="reverse", width=512, depth=4, batch=256)


@pytest.mark.benchmark(group="mlp-512x4-batch256")
def test_mlp_reverse_value_and_grad_counted(benchmark, mlp_problem):
    params, X, Y = mlp_problem
    vg = costad.value_and_grad(lambda p: mlp_loss(p, X, Y))

    def counted():
        with costad.counting():
            return vg(params)
    benchmark.extra_info.update(strategy="reverse+counting", width=512, depth=4, batch=256)
    benchmark(counted)


@pytest.mark.benchmark(group="scalar-seed-loop")
@pytest.mark.parametrize("pairs", [250, 1000, 4000])
def test_scalar_loop_reverse(counted_benchmark, pairs):
    x = np.random.default_rng(pairs).uniform(0.1, 1.0, 2 * pairs)
    vg = costad.value_and_grad(seed_pairs_loop)
    K = costad.count(seed_pairs_loop, x).total
    counted_benchmark(vg, x, strategy="reverse", pairs=pairs, n=2 * pairs, K=K)
