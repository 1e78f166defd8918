"""Function families used by the tests, the experiments and the benchmarks.

Each family builds a scalar function of n inputs written in plain NumPy, with a starting
point, and states K(n), the exact count of one evaluation under the cost model, where a
closed form exists. The tests check every stated K against the counter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["seed_example", "seed_pairs_loop", "Family", "FAMILIES", "family",
           "mlp_init", "mlp_loss", "mlp_backprop", "logistic_loss", "rnn_init", "rnn_loss"]


def seed_example(t):
    """The lecture's l(t1, t2) = t2 e^t1 sqrt(t1 + t2 e^t1), one node per line."""
    t1, t2 = t
    t3 = np.exp(t1)
    t4 = t2 * t3
    t5 = t1 + t4
    t6 = np.sqrt(t5)
    return t4 * t6


def seed_pairs_loop(x):
    """Scalar code: the seed example summed over the pairs (x[2i], x[2i+1]) in a Python loop.

    K = 5 per pair plus one add per pair after the first: 3n - 1 for n = len(x) inputs.
    """
    total = None
    for i in range(0, len(x), 2):
        value = seed_example((x[i], x[i + 1]))
        total = value if total is None else total + value
    return total


def _seed_vectorized(x):
    """The seed example on the two halves of x, summed (array code, same K as the loop)."""
    half = x.shape[0] // 2
    t1, t2 = x[:half], x[half:]
    t3 = np.exp(t1)
    t4 = t2 * t3
    return np.sum(t4 * np.sqrt(t1 + t4))


def _rosenbrock(x):
    """sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2."""
    head, tail = x[:-1], x[1:]
    return np.sum(100.0 * (tail - head ** 2) ** 2 + (1.0 - head) ** 2)


def _rational(x):
    """A rational function (only +, -, *, /), for the Baur-Strassen bound:
    sum_i (x_i x_{i+1} - 1) / (x_i^2 + 2 x_{i+1} + 1), times x_0 / (x_{n-1} + 3)."""
    a, b = x[:-1], x[1:]
    return np.sum((a * b - 1.0) / (a * a + b * 2.0 + 1.0)) * x[0] / (x[-1] + 3.0)


def logistic_loss(z, y_onehot):
    """Mean over rows of log sum_i exp(z_i) - <z, y> (the lecture's logistic loss),
    stabilised by subtracting the row maximum."""
    m = np.max(z, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)) + m
    return np.mean(lse[..., 0] - np.sum(z * y_onehot, axis=-1))


def mlp_init(widths: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Parameters [A_0, b_0, A_1, b_1, ...] of an MLP with layer widths d_0, ..., d_{R+1}."""
    params = []
    for d_in, d_out in zip(widths[:-1], widths[1:]):
        params.append(rng.standard_normal((d_in, d_out)) / np.sqrt(d_in))
        params.append(0.1 * rng.standard_normal(d_out))
    return params


def mlp_loss(params, X, Y):
    """x_{r+1} = tanh(x_r A_r + b_r) for the hidden layers, a linear last layer, and the
    logistic loss against one-hot labels Y. X has one example per row."""
    h = X
    n_layers = len(params) // 2
    for r in range(n_layers):
        A, b = params[2 * r], params[2 * r + 1]
        z = h @ A + b
        h = np.tanh(z) if r < n_layers - 1 else z
    return logistic_loss(h, Y)


def mlp_backprop(params, X, Y):
    """The lecture's hand-written backpropagation (claim C6), in plain NumPy.

    With x_{r+1} = rho(x_r A_r + b_r) (rows are examples), M_r = rho'(x_r A_r + b_r) *
    grad_{x_{r+1}} E, and grad_{A_r} = x_r^T M_r, grad_{b_r} = M_r^T 1,
    grad_{x_r} = M_r A_r^T. Returns (loss, [grad A_0, grad b_0, ...]).
    """
    n_layers = len(params) // 2
    xs, outs = [X], []
    for r in range(n_layers):
        A, b = params[2 * r], params[2 * r + 1]
        z = xs[-1] @ A + b
        out = np.tanh(z) if r < n_layers - 1 else z
        outs.append(out)
        xs.append(out)
    z = xs[-1]
    batch = z.shape[0]
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean((np.log(s) + m)[:, 0] - np.sum(z * Y, axis=1))
    g = (e / s - Y) / batch                          # grad of the loss w.r.t. x_{R+1}
    grads = [None] * len(params)
    for r in range(n_layers - 1, -1, -1):
        M = g if r == n_layers - 1 else g * (1.0 - outs[r] * outs[r])
        grads[2 * r] = xs[r].T @ M
        grads[2 * r + 1] = M.sum(axis=0)
        if r > 0:
            g = M @ params[2 * r].T
    return loss, grads


def rnn_init(d: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shared parameters [W, U, b, v] of a recurrent net with state and input size d."""
    return [rng.standard_normal((d, d)) / np.sqrt(d), rng.standard_normal((d, d)) / np.sqrt(d),
            0.1 * rng.standard_normal(d), rng.standard_normal(d) / np.sqrt(d)]


def rnn_loss(params, xs):
    """h_{t+1} = tanh(W h_t + U x_t + b), the same parameters at every step (claim C7);
    the loss is <v, h_T>. ``xs`` has one input per row, T rows."""
    W, U, b, v = params
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return v @ h


@dataclass(frozen=True)
class Family:
    """A scalar function of n inputs: ``build(n, seed) -> (f, x0)`` and its exact K(n)."""

    name: str
    description: str
    build: Callable[[int, int], tuple[Callable, object]]
    K: Callable[[int], int] | None
    valid_n: Callable[[int], int]          # the nearest admissible n (e.g. even)


def _build_seed(n, seed):
    rng = np.random.default_rng(seed)
    return _seed_vectorized, rng.uniform(0.1, 1.0, n)


def _build_rosenbrock(n, seed):
    rng = np.random.default_rng(seed)
    return _rosenbrock, rng.uniform(-1.0, 1.0, n)


_LOGREG_SAMPLES = 16


def _build_rational(n, seed):
    rng = np.random.default_rng(seed)
    return _rational, rng.uniform(0.5, 1.5, n)


def _build_logreg(n, seed):
    """Binary logistic regression: mean log(1 + exp(-y <x_i, w>)) over 16 samples."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((_LOGREG_SAMPLES, n)) / np.sqrt(n)
    y = np.where(rng.random(_LOGREG_SAMPLES) < 0.5, -1.0, 1.0)

    def logreg(w):
        return np.mean(np.log(1.0 + np.exp(-(y * (X @ w)))))
    return logreg, rng.standard_normal(n)


_MLP_BATCH, _MLP_CLASSES, _MLP_IN = 8, 4, 4


def _mlp_width(n):
    """The hidden width h whose parameter count is closest to n (at least 1)."""
    # n = (IN h + h) + (h C + C) = h (IN + 1 + C) + C
    return max(1, round((n - _MLP_CLASSES) / (_MLP_IN + 1 + _MLP_CLASSES)))


def _mlp_n(n):
    h = _mlp_width(n)
    return h * (_MLP_IN + 1 + _MLP_CLASSES) + _MLP_CLASSES


def _build_mlp(n, seed):
    rng = np.random.default_rng(seed)
    h = _mlp_width(n)
    widths = [_MLP_IN, h, _MLP_CLASSES]
    X = rng.standard_normal((_MLP_BATCH, _MLP_IN))
    Y = np.eye(_MLP_CLASSES)[rng.integers(0, _MLP_CLASSES, _MLP_BATCH)]
    params = mlp_init(widths, rng)
    sizes = [p.size for p in params]

    def mlp(theta):
        parts, start = [], 0
        for p, size in zip(params, sizes):
            parts.append(theta[start:start + size].reshape(p.shape))
            start += size
        return mlp_loss(parts, X, Y)
    return mlp, np.concatenate([p.ravel() for p in params])


def _mlp_K(n):
    h, B, C, d = _mlp_width(n), _MLP_BATCH, _MLP_CLASSES, _MLP_IN
    hidden = B * d * h + B * (d - 1) * h + B * h + B * h        # matmul, bias, tanh
    last = B * h * C + B * (h - 1) * C + B * C                    # matmul, bias
    return hidden + last + logistic_loss_K(B, C)


def logistic_loss_K(B: int, C: int) -> int:
    """Count of `logistic_loss` on a (B, C) input: max, sub, exp, sum, log, add m,
    z*y, row sums, sub, mean."""
    return (B * (C - 1) + B * C + B * C + B * (C - 1) + B + B
            + B * C + B * (C - 1) + B + (B - 1) + 1)


FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("seed", "the lecture's example on n/2 pairs, summed (vectorized)", _build_seed,
           lambda n: 3 * n - 1, lambda n: max(2, n - n % 2)),
    Family("rosenbrock", "sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2", _build_rosenbrock,
           lambda n: 8 * n - 9, lambda n: max(2, n)),
    Family("rational", "a rational function of n inputs (+, -, *, / only)", _build_rational,
           lambda n: 8 * n - 6, lambda n: max(2, n)),
    Family("logreg", "binary logistic regression, 16 samples, n weights", _build_logreg,
           lambda n: 2 * _LOGREG_SAMPLES * n + 5 * _LOGREG_SAMPLES, lambda n: max(1, n)),
    Family("mlp", "2-layer tanh MLP with logistic loss, n parameters (batch 8, 4 classes)",
           _build_mlp, _mlp_K, _mlp_n),
]}


def family(name: str) -> Family:
    """The family called ``name`` (see FAMILIES)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown function family {name!r}; choose one of "
                       f"{', '.join(FAMILIES)}") from None
