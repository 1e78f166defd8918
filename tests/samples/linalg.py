"""Samples of costad/primitives/linalg.py: well-conditioned matrices, distinct eigen- and
singular values (the vectors' derivatives exist), symmetric positive definite where
needed. Central differences perturb every entry, so the samples also check that eigh,
eigvalsh and cholesky read one triangle only."""
import numpy as np

from . import RNG, any_


def well_conditioned(n, *batch):
    """A random matrix plus 3 I: singular values well away from zero."""
    return any_(*batch, n, n) + 3.0 * np.eye(n)


def spd(n):
    a = any_(n, n)
    return a @ a.T + n * np.eye(n)


def lower(n):
    """Lower triangular with a diagonal away from zero, and noise above it (never read)."""
    return np.tril(any_(n, n), -1) + np.diag(RNG.uniform(1.0, 2.0, n)) + np.triu(
        any_(n, n), 1)


SAMPLES = {
    "solve": ([well_conditioned(3), any_(3, 2)], {}),
    "inv": ([well_conditioned(3)], {}),
    "det": ([well_conditioned(3)], {}),
    "slogdet": ([well_conditioned(3)], {}),
    "cholesky": ([spd(3)], {}),
    "triangular_solve": ([lower(3), any_(3, 2)], {"lower": True}),
    "eigh": ([any_(4, 4)], {"UPLO": "L"}),
    "eigvalsh": ([any_(4, 4)], {"UPLO": "U"}),
    "svd": ([any_(4, 3)], {"full_matrices": False}),
    "svdvals": ([any_(3, 4)], {}),
    "pinv": ([any_(4, 3)], {"rcond": 1e-15}),
}
