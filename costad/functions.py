"""Function families used by the tests, the experiments and the benchmarks.

Each family builds a scalar function of n inputs, with a starting point, and states K(n),
the exact count of one evaluation under the cost model, where a closed form exists. The
tests check every stated K against the counter.

Every family is written once, over an array namespace ``xp``: a module or object giving
``exp``, ``log``, ``sqrt``, ``tanh``, ``sum(x, axis=None, keepdims=False)``,
``max(x, axis=None, keepdims=False)``, ``mean``, ``zeros(d)`` (float64) and ``asarray``
(float64) in NumPy's spelling (`NAMESPACE` lists them), with the Python operators (``+``,
``*``, ``**``, ``@``, unary ``-``), indexing and slicing, ``len`` and ``.reshape`` on its
arrays. The default is the ``numpy`` module itself, so that costad traces exactly the
operations written here; the study's peers experiment passes PyTorch's, JAX's and HIPS
autograd's namespaces (`costad.study.peers`) to run the same definitions in those tools.
Data a family holds (a design matrix, labels, inputs) is converted once, when the family is
built, with ``xp.asarray``: for NumPy that returns the array itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

__all__ = ["NAMESPACE", "seed_example", "seed_pairs_loop", "seed_vectorized", "rosenbrock",
           "Family", "FAMILIES", "EXTRA_FAMILIES", "family", "mlp_init", "mlp_loss", "mlp_K",
           "mlp_backprop", "mlp_classifier_problem", "logistic_loss", "rnn_init", "rnn_loss"]

# What a family asks of its array namespace ``xp`` (besides operators, indexing, ``len`` and
# ``.reshape`` on arrays), in NumPy's spelling.
NAMESPACE = ("exp", "log", "sqrt", "tanh", "sum", "max", "mean", "zeros", "asarray")


def seed_example(t, *, xp=np):
    """The lecture's l(t1, t2) = t2 e^t1 sqrt(t1 + t2 e^t1), one node per line."""
    t1, t2 = t
    t3 = xp.exp(t1)
    t4 = t2 * t3
    t5 = t1 + t4
    t6 = xp.sqrt(t5)
    return t4 * t6


def seed_pairs_loop(x, *, xp=np):
    """Scalar code: the seed example summed over the pairs (x[2i], x[2i+1]) in a Python loop.

    K = 5 per pair plus one add per pair after the first: 3n - 1 for n = len(x) inputs.
    """
    total = None
    for i in range(0, len(x), 2):
        value = seed_example((x[i], x[i + 1]), xp=xp)
        total = value if total is None else total + value
    return total


def seed_vectorized(x, *, xp=np):
    """The seed example on the two halves of x, summed (array code, same K as the loop)."""
    half = x.shape[0] // 2
    t1, t2 = x[:half], x[half:]
    t3 = xp.exp(t1)
    t4 = t2 * t3
    return xp.sum(t4 * xp.sqrt(t1 + t4))


def rosenbrock(x, *, xp=np):
    """sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2."""
    head, tail = x[:-1], x[1:]
    return xp.sum(100.0 * (tail - head ** 2) ** 2 + (1.0 - head) ** 2)


def _rational(x, *, xp=np):
    """A rational function (only +, -, *, /), for the Baur-Strassen bound:
    sum_i (x_i x_{i+1} - 1) / (x_i^2 + 2 x_{i+1} + 1), times x_0 / (x_{n-1} + 3)."""
    a, b = x[:-1], x[1:]
    return xp.sum((a * b - 1.0) / (a * a + b * 2.0 + 1.0)) * x[0] / (x[-1] + 3.0)


def logistic_loss(z, y_onehot, *, xp=np):
    """Mean over rows of log sum_i exp(z_i) - <z, y> (the lecture's logistic loss),
    stabilised by subtracting the row maximum."""
    m = xp.max(z, axis=-1, keepdims=True)
    lse = xp.log(xp.sum(xp.exp(z - m), axis=-1, keepdims=True)) + m
    return xp.mean(lse[..., 0] - xp.sum(z * y_onehot, axis=-1))


def mlp_init(widths: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Parameters [A_0, b_0, A_1, b_1, ...] of an MLP with layer widths d_0, ..., d_{R+1}."""
    params = []
    for d_in, d_out in zip(widths[:-1], widths[1:]):
        params.append(rng.standard_normal((d_in, d_out)) / np.sqrt(d_in))
        params.append(0.1 * rng.standard_normal(d_out))
    return params


def mlp_loss(params, X, Y, *, xp=np):
    """x_{r+1} = tanh(x_r A_r + b_r) for the hidden layers, a linear last layer, and the
    logistic loss against one-hot labels Y. X has one example per row."""
    h = X
    n_layers = len(params) // 2
    for r in range(n_layers):
        A, b = params[2 * r], params[2 * r + 1]
        z = h @ A + b
        h = xp.tanh(z) if r < n_layers - 1 else z
    return logistic_loss(h, Y, xp=xp)


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


def rnn_loss(params, xs, *, xp=np):
    """h_{t+1} = tanh(W h_t + U x_t + b), the same parameters at every step (claim C7);
    the loss is <v, h_T>. ``xs`` has one input per row, T rows."""
    W, U, b, v = params
    h = xp.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        h = xp.tanh(W @ h + U @ xs[t] + b)
    return v @ h


@dataclass(frozen=True)
class Family:
    """A scalar function of n inputs: ``build(n, seed, xp=numpy) -> (f, x0)`` and its exact
    K(n).

    ``f`` is written over the array namespace ``xp`` (see the module docstring); ``x0`` is a
    NumPy float64 array of n inputs, the same for every namespace, so that every tool
    differentiates the same function at the same point.
    """

    name: str
    description: str
    build: Callable[..., tuple[Callable, object]]
    K: Callable[[int], int] | None
    valid_n: Callable[[int], int]          # the nearest admissible n (e.g. even)
    # ``hand(n, seed) -> value_and_grad``: the gradient written by hand in plain NumPy (the
    # lecture's backpropagation), for the same f at the same x0; None where there is none.
    hand: Callable[[int, int], Callable] | None = None


def _over(function: Callable, xp) -> Callable:
    """``function`` over ``xp``; NumPy's is the function itself (what costad traces)."""
    return function if xp is np else partial(function, xp=xp)


def _build_seed(n, seed, xp=np):
    rng = np.random.default_rng(seed)
    return _over(seed_vectorized, xp), rng.uniform(0.1, 1.0, n)


def _build_seed_loop(n, seed, xp=np):
    rng = np.random.default_rng(seed)
    return _over(seed_pairs_loop, xp), rng.uniform(0.1, 1.0, n)


def _build_rosenbrock(n, seed, xp=np):
    rng = np.random.default_rng(seed)
    return _over(rosenbrock, xp), rng.uniform(-1.0, 1.0, n)


_LOGREG_SAMPLES = 16


def _build_rational(n, seed, xp=np):
    rng = np.random.default_rng(seed)
    return _over(_rational, xp), rng.uniform(0.5, 1.5, n)


def _build_logreg(n, seed, xp=np):
    """Binary logistic regression: mean log(1 + exp(-y <x_i, w>)) over 16 samples."""
    rng = np.random.default_rng(seed)
    X = xp.asarray(rng.standard_normal((_LOGREG_SAMPLES, n)) / np.sqrt(n))
    y = xp.asarray(np.where(rng.random(_LOGREG_SAMPLES) < 0.5, -1.0, 1.0))

    def logreg(w):
        return xp.mean(xp.log(1.0 + xp.exp(-(y * (X @ w)))))
    return logreg, rng.standard_normal(n)


_MLP_BATCH, _MLP_CLASSES, _MLP_IN = 8, 4, 4


def _mlp_width(n):
    """The hidden width h whose parameter count is closest to n (at least 1)."""
    # n = (IN h + h) + (h C + C) = h (IN + 1 + C) + C
    return max(1, round((n - _MLP_CLASSES) / (_MLP_IN + 1 + _MLP_CLASSES)))


def _mlp_n(n):
    h = _mlp_width(n)
    return h * (_MLP_IN + 1 + _MLP_CLASSES) + _MLP_CLASSES


def _unflatten(theta, shapes):
    """Consecutive slices of the flat ``theta``, reshaped (indexing: free, no copy counted)."""
    parts, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        parts.append(theta[start:start + size].reshape(shape))
        start += size
    return parts


def _mlp_problem(n, seed):
    """The mlp family's data at n: (parameters [A_0, b_0, A_1, b_1], X, Y)."""
    rng = np.random.default_rng(seed)
    h = _mlp_width(n)
    widths = [_MLP_IN, h, _MLP_CLASSES]
    X = rng.standard_normal((_MLP_BATCH, _MLP_IN))
    Y = np.eye(_MLP_CLASSES)[rng.integers(0, _MLP_CLASSES, _MLP_BATCH)]
    return mlp_init(widths, rng), X, Y


def _mlp_over_flat(problem, xp):
    """(f, x0): `mlp_loss` of the flat parameter vector theta over ``xp``, and the
    parameters of ``problem = (params, X, Y)`` flattened."""
    params, X, Y = problem
    shapes = [p.shape for p in params]
    X, Y = xp.asarray(X), xp.asarray(Y)

    def mlp(theta):
        return mlp_loss(_unflatten(theta, shapes), X, Y, xp=xp)
    return mlp, np.concatenate([p.ravel() for p in params])


def _mlp_hand_over_flat(problem):
    """The hand-written value and gradient (`mlp_backprop`) of `_mlp_over_flat`'s f, in
    plain NumPy: theta -> (loss, flat gradient)."""
    params, X, Y = problem
    shapes = [p.shape for p in params]

    def value_and_grad(theta):
        loss, grads = mlp_backprop(_unflatten(theta, shapes), X, Y)
        return loss, np.concatenate([g.ravel() for g in grads])
    return value_and_grad


def _build_mlp(n, seed, xp=np):
    return _mlp_over_flat(_mlp_problem(n, seed), xp)


# The MLP of array code at the scale of a small network (the speed case of the README): four
# layers of width 512, a batch of 256 and 512 classes; one size only, n = 4 (512^2 + 512).
_WIDE_WIDTHS, _WIDE_BATCH = (512,) * 5, 256
_WIDE_N = sum(a * b + b for a, b in zip(_WIDE_WIDTHS[:-1], _WIDE_WIDTHS[1:]))


def mlp_classifier_problem(seed: int, widths: tuple[int, ...] = _WIDE_WIDTHS,
                           batch: int = _WIDE_BATCH):
    """(params, X, Y) for `mlp_loss`: the parameter list of `mlp_init`, a batch of
    standard normal rows and one-hot labels drawn at random, all from ``seed``. The
    defaults are the mlp-512 family's data (and `costad peers --mlp`'s case)."""
    rng = np.random.default_rng(seed)
    params = mlp_init(list(widths), rng)
    X = rng.standard_normal((batch, widths[0]))
    Y = np.eye(widths[-1])[rng.integers(0, widths[-1], batch)]
    return params, X, Y


def _build_mlp_wide(n, seed, xp=np):
    """`mlp_loss` with widths 512 x 5 on a (256, 512) batch, parameters flattened (n is
    always `_WIDE_N`)."""
    return _mlp_over_flat(mlp_classifier_problem(seed), xp)


def mlp_K(widths, batch: int) -> int:
    """Count of `mlp_loss` with layer widths d_0, ..., d_{R+1} on a batch: per layer a
    (batch, d_r) x (d_r, d_{r+1}) product (d_r mul and d_r - 1 add per entry), the bias, a
    tanh on every hidden layer; then `logistic_loss` on (batch, d_{R+1})."""
    layers = list(zip(widths[:-1], widths[1:]))
    total = 0
    for r, (d_in, d_out) in enumerate(layers):
        total += batch * d_out * (d_in + (d_in - 1) + 1)
        if r < len(layers) - 1:
            total += batch * d_out                                  # tanh
    return total + logistic_loss_K(batch, widths[-1])


_RNN_STEPS = 10


def _rnn_state(n):
    """The state size d whose parameter count 2 d^2 + 2 d is closest to n (at least 1)."""
    d = max(1, round((math.sqrt(1 + 2 * n) - 1) / 2))
    return min((c for c in (d - 1, d, d + 1) if c >= 1),
               key=lambda c: (abs(2 * c * c + 2 * c - n), c))


def _rnn_n(n):
    d = _rnn_state(n)
    return 2 * d * d + 2 * d


def _build_rnn(n, seed, xp=np):
    """`rnn_loss` over T = 10 steps with state and input size d, its parameters flattened."""
    rng = np.random.default_rng(seed)
    d = _rnn_state(n)
    params = rnn_init(d, rng)
    xs = xp.asarray(rng.standard_normal((_RNN_STEPS, d)))
    shapes = [p.shape for p in params]

    def rnn(theta):
        return rnn_loss(_unflatten(theta, shapes), xs, xp=xp)
    return rnn, np.concatenate([p.ravel() for p in params])


def _rnn_K(n):
    """T steps of two (d, d) @ (d,) products, two adds and a tanh, then <v, h_T>."""
    d = _rnn_state(n)
    return _RNN_STEPS * (2 * (d * d + d * (d - 1)) + 2 * d + d) + d + (d - 1)


def _mlp_K(n):
    return mlp_K((_MLP_IN, _mlp_width(n), _MLP_CLASSES), _MLP_BATCH)


def logistic_loss_K(B: int, C: int) -> int:
    """Count of `logistic_loss` on a (B, C) input: max, sub, exp, sum, log, add m,
    z*y, row sums, sub, mean."""
    return (B * (C - 1) + B * C + B * C + B * (C - 1) + B + B
            + B * C + B * (C - 1) + B + (B - 1) + 1)


# The five families of the gradient_vs_n experiment (every strategy, finite differences
# included).
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
           _build_mlp, _mlp_K, _mlp_n,
           hand=lambda n, seed: _mlp_hand_over_flat(_mlp_problem(n, seed))),
]}


# Three more: scalar code (a Python loop over scalars), a loop over steps with shared
# parameters, and an MLP at the scale of a small network (one size). The study's peers
# experiment times them in every tool; they are not swept by gradient_vs_n, where finite
# differences and forward mode on them would take minutes.
EXTRA_FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("seed-loop", "the lecture's example summed over n/2 pairs in a Python loop "
           "(scalar code)", _build_seed_loop, lambda n: 3 * n - 1, lambda n: max(2, n - n % 2)),
    Family("rnn", f"tanh RNN, {_RNN_STEPS} steps, state and input size d, n = 2d^2 + 2d "
           "shared parameters", _build_rnn, _rnn_K, _rnn_n),
    Family("mlp-512", f"tanh MLP, widths 512 x 5, batch {_WIDE_BATCH}, 512 classes: one size, "
           f"n = {_WIDE_N} parameters", _build_mlp_wide,
           lambda n: mlp_K(_WIDE_WIDTHS, _WIDE_BATCH), lambda n: _WIDE_N,
           hand=lambda n, seed: _mlp_hand_over_flat(mlp_classifier_problem(seed))),
]}


def family(name: str) -> Family:
    """The family called ``name`` (see FAMILIES and EXTRA_FAMILIES)."""
    found = FAMILIES.get(name) or EXTRA_FAMILIES.get(name)
    if found is None:
        raise KeyError(f"unknown function family {name!r}; choose one of "
                       f"{', '.join([*FAMILIES, *EXTRA_FAMILIES])}")
    return found
