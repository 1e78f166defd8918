"""numpy.linalg on traced values: solve, inv, det, slogdet, cholesky, eigh, eigvalsh, svd,
svdvals, pinv. Values equal NumPy's; gradients agree in the four modes and nest; counts equal
the textbook formulas (exact) or the stated model (eigh, svd); edge cases give named errors.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costad
from costad import primitives as P
from costad.core import Tracer
from costad.errors import LinAlgError, NonDifferentiableError

RNG = np.random.default_rng(20240611)
MODES = costad.MODES


# --------------------------------------------------------------- independent formulas
# Written as the sums of the textbook algorithms, apart from the closed forms of the module.

def lu(n):
    return {"mul": sum((n - k) ** 2 for k in range(1, n)),
            "sub": sum((n - k) ** 2 for k in range(1, n)),
            "div": sum(n - k for k in range(1, n))}


def substitutions(n):
    """Forward (unit lower) then back (upper) substitution, one right-hand side."""
    forward = sum(k - 1 for k in range(1, n + 1))
    back = sum(n - k for k in range(1, n + 1))
    return {"mul": forward + back, "sub": forward + back, "div": n}


def cholesky_formula(n):
    return {"sqrt": n, "div": sum(n - j for j in range(1, n + 1)),
            "mul": sum((j - 1) * (n - j + 1) for j in range(1, n + 1)),
            "sub": sum((j - 1) * (n - j + 1) for j in range(1, n + 1))}


def total(*parts, times=1):
    out = {}
    for part in parts:
        for kind, v in part.items():
            out[kind] = out.get(kind, 0) + v * times
    return {k: v for k, v in out.items() if v}


def scaled(part, factor):
    return {k: v * factor for k, v in part.items() if v * factor}


def counts(f, x):
    return costad.count(f, x).by_op


# ------------------------------------------------------------------------------ inputs

def well_conditioned(n, *batch):
    return RNG.uniform(-1, 1, batch + (n, n)) + 3.0 * np.eye(n)


def spd(n):
    a = RNG.uniform(-1, 1, (n, n))
    return a @ a.T + n * np.eye(n)


def rand(*shape):
    return RNG.uniform(-1, 1, shape)


C4, C3 = rand(4, 4), rand(3, 3)
WEIGHTS4 = np.arange(1.0, 5.0)


def eigh_loss(uplo):
    """Eigenvalues and a sign-invariant use of the eigenvectors: sum_i i v_i^T C v_i."""
    def f(s):
        w, v = np.linalg.eigh(s, UPLO=uplo)
        return np.sum(w ** 3) + np.sum(v * (C4 @ v) * WEIGHTS4)
    return f


def svd_loss(x):
    """Singular values and sign-invariant uses of both singular vector sets."""
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    m, n = x.shape
    cu = C4[:m, :m] if m <= 4 else None
    cv = C3 if n == 3 else C4
    return (np.sum(u * (cu @ u) * s) + np.sum(vh * (vh @ cv) * (s ** 2)[:, None])
            + np.sum(s ** 3))


B4, B42 = rand(4), rand(4, 2)
A4 = well_conditioned(4)

CASES = {
    "solve_vector": (lambda a: np.sum(np.linalg.solve(a, B4) ** 2), well_conditioned(4)),
    "solve_matrix": (lambda a: np.sum(np.linalg.solve(a, B42) ** 2), well_conditioned(4)),
    "solve_rhs": (lambda b: np.sum(np.linalg.solve(A4, b) ** 3), rand(4, 2)),
    "solve_batched": (lambda a: np.sum(np.linalg.solve(a, B4) ** 2), well_conditioned(4, 2)),
    "solve_broadcast_rhs": (lambda a: np.sum(np.linalg.solve(a, np.stack([B42, 2 * B42])) ** 2),
                            well_conditioned(4)),
    "inv": (lambda a: np.sum(np.linalg.inv(a) ** 2), well_conditioned(3)),
    "det": (lambda a: np.linalg.det(a) ** 2, well_conditioned(3)),
    "det_batched": (lambda a: np.sum(np.linalg.det(a)), well_conditioned(3, 2)),
    "slogdet": (lambda a: np.linalg.slogdet(a)[0] * np.linalg.slogdet(a)[1] ** 2,
                well_conditioned(3)),
    "cholesky": (lambda s: np.sum(np.linalg.cholesky(s) ** 3), spd(3)),
    "cholesky_upper": (lambda s: np.sum(np.linalg.cholesky(s, upper=True) ** 3), spd(3)),
    "eigh": (eigh_loss("L"), rand(4, 4)),
    "eigh_upper": (eigh_loss("U"), rand(4, 4)),
    "eigvalsh": (lambda s: np.sum(np.linalg.eigvalsh(s) ** 3), rand(4, 4)),
    "svd_tall": (svd_loss, rand(4, 3)),
    "svd_wide": (svd_loss, rand(3, 4)),
    "svd_square": (svd_loss, rand(4, 4)),
    "svd_values": (lambda x: np.sum(np.linalg.svd(x, compute_uv=False) ** 3), rand(4, 3)),
    "svdvals": (lambda x: np.sum(np.linalg.svdvals(x) ** 3), rand(3, 4)),
    "pinv_tall": (lambda x: np.sum(np.linalg.pinv(x) ** 3), rand(4, 3)),
    "pinv_wide": (lambda x: np.sum(np.linalg.pinv(x) ** 3), rand(3, 4)),
}


def _relative_error(g, ref):
    return float(np.max(np.abs(np.asarray(g) - ref)) / max(np.max(np.abs(ref)), 1e-300))


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_agree_in_every_mode(name):
    f, x = CASES[name]
    g = {mode: costad.grad(f, mode=mode)(x) for mode in MODES}
    assert _relative_error(g["forward"], g["reverse"]) < 1e-12
    assert _relative_error(g["fd-central"], g["reverse"]) < 1e-6
    assert _relative_error(g["fd"], g["reverse"]) < 1e-4
    assert all(gm.dtype == x.dtype and gm.shape == x.shape for gm in g.values())


@pytest.mark.parametrize("name", ["solve_vector", "inv", "det", "slogdet", "cholesky",
                                  "eigh", "eigvalsh", "svd_tall", "svd_wide", "svd_values",
                                  "pinv_wide"])
@pytest.mark.parametrize("outer,inner", [("forward", "reverse"), ("reverse", "forward"),
                                         ("reverse", "reverse")])
def test_nested_derivatives_match_differences_of_the_gradient(name, outer, inner):
    f, x = CASES[name]
    v = RNG.standard_normal(x.shape)
    grad = costad.grad(f)
    h = 1e-5
    expected = (grad(x + h * v) - grad(x - h * v)) / (2 * h)        # H v
    hv = costad.grad(lambda y: np.sum(costad.grad(f, mode=inner)(y) * v), mode=outer)(x)
    assert _relative_error(hv, expected) < 1e-6


def test_hessian_vector_product_of_a_log_determinant():
    # d^2 log det(A)[V, .] = -tr(A^-1 V A^-1 .): H v = -(A^-1 V A^-1)^T
    a, v = well_conditioned(3), rand(3, 3)
    hv = costad.hvp(lambda m: np.linalg.slogdet(m)[1], a, v)
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(hv, -(ai @ v @ ai).T, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------- values

def _traced_value(f, x):
    return costad.vjp(f, x)[0]


VALUE_CASES = {
    "solve": (lambda a: np.linalg.solve(a, B42), well_conditioned(4)),
    "solve_vector": (lambda a: np.linalg.solve(a, B4), well_conditioned(4, 3)),
    "inv": (np.linalg.inv, well_conditioned(3, 2)),
    "det": (np.linalg.det, well_conditioned(3, 2)),
    "slogdet": (np.linalg.slogdet, -well_conditioned(3)),
    "cholesky": (np.linalg.cholesky, spd(4)),
    "cholesky_upper": (lambda s: np.linalg.cholesky(s, upper=True), spd(4) + np.triu(rand(4, 4), 1)),
    "eigh": (np.linalg.eigh, rand(2, 4, 4)),
    "eigh_U": (lambda s: np.linalg.eigh(s, UPLO="U"), rand(4, 4)),
    "eigvalsh": (np.linalg.eigvalsh, rand(4, 4)),
    "svd": (np.linalg.svd, rand(2, 4, 3)),
    "svd_thin": (lambda x: np.linalg.svd(x, full_matrices=False), rand(3, 5)),
    "svd_values": (lambda x: np.linalg.svd(x, compute_uv=False), rand(3, 5)),
    "svdvals": (np.linalg.svdvals, rand(5, 3)),
    "pinv": (np.linalg.pinv, rand(5, 3)),
    "pinv_rtol": (lambda x: np.linalg.pinv(x, rtol=None), rand(3, 5)),
    "pinv_rank_deficient": (np.linalg.pinv, np.outer(rand(4), rand(3))),
}


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_equal_numpy(name, dtype):
    f, x = VALUE_CASES[name]
    x = x.astype(dtype)
    expected, got = f(x), _traced_value(f, x)
    assert type(got) is type(expected)          # NumPy's named result tuples too
    parts = zip(expected, got) if isinstance(expected, tuple) else [(expected, got)]
    for e, g in parts:
        np.testing.assert_allclose(g, e, rtol=1e-6 if dtype == np.float32 else 1e-13,
                                   atol=1e-6 if dtype == np.float32 else 1e-13)
        assert np.asarray(g).dtype == np.asarray(e).dtype


def test_named_results_have_numpys_fields():
    def f(a):
        r = np.linalg.eigh(a)
        s = np.linalg.svd(a)
        d = np.linalg.slogdet(a + 3 * np.eye(3))
        return (np.sum(r.eigenvalues) + np.sum(r.eigenvectors ** 2) + np.sum(s.S)
                + np.sum(s.U * s.U) + np.sum(s.Vh * s.Vh) + d.logabsdet * d.sign)
    x = rand(3, 3)
    assert costad.grad(f)(x) == pytest.approx(costad.grad(f, mode="fd-central")(x),
                                              rel=1e-6, abs=1e-8)


def test_the_sign_of_slogdet_is_a_constant():
    seen = []

    def f(a):
        sign, logdet = np.linalg.slogdet(a)
        seen.append((isinstance(sign, Tracer), isinstance(logdet, Tracer)))
        return sign * logdet
    a = -well_conditioned(3)
    g = costad.grad(f)(a)
    assert seen == [(False, True)]
    np.testing.assert_allclose(g, np.linalg.slogdet(a)[0] * np.linalg.inv(a).T, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["solve_vector", "inv", "det", "slogdet", "cholesky", "eigh",
                                  "eigvalsh", "svd_tall", "svdvals", "pinv_tall"])
def test_float32_inputs_give_float32_gradients(name, mode):
    f, x = CASES[name]
    g32 = costad.grad(f, mode=mode)(x.astype(np.float32))
    assert g32.dtype == np.float32
    g64 = costad.grad(f)(x)
    assert _relative_error(g32, g64) < (3e-2 if mode.startswith("fd") else 1e-4)


def test_every_function_is_listed_as_supported():
    names = {f"numpy.linalg.{n}" for n in ("solve", "inv", "det", "slogdet", "cholesky",
                                           "eigh", "eigvalsh", "svd", "svdvals", "pinv")}
    assert names <= set(costad.supported_numpy())


# ------------------------------------------------------------------------------- counts

@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_lu_based_counts_equal_the_textbook_formulas(n):
    a = well_conditioned(n)
    assert counts(np.linalg.det, a) == total(lu(n), {"mul": n - 1})
    assert counts(lambda m: np.linalg.slogdet(m)[1], a) == total(lu(n), {"log": n,
                                                                      "add": n - 1})
    assert counts(np.linalg.inv, a) == total(lu(n), scaled(substitutions(n), n))
    assert counts(lambda m: np.linalg.solve(m, rand(n)), a) == total(lu(n), substitutions(n))
    assert counts(lambda m: np.linalg.solve(m, rand(n, 5)), a) == total(
        lu(n), scaled(substitutions(n), 5))


def test_closed_forms_match_the_sums_far_beyond_the_tests():
    for n in [0, 1, 2, 7, 50, 101]:
        assert {k: v for k, v in P.linalg.lu_counts(n).items() if v} == total(lu(n))
        assert {k: v for k, v in P.linalg.cholesky_counts(n).items() if v} == total(
            cholesky_formula(n))
    # O(1) in n: an abstract count at n = 10^9 is immediate and exact.
    n = 10 ** 9
    assert P.linalg.lu_counts(n)["mul"] == (n - 1) * n * (2 * n - 1) // 6


def test_batches_and_broadcast_stacks_count_per_matrix():
    n = 3
    a = well_conditioned(n, 4)
    assert counts(np.linalg.det, a) == total(lu(n), {"mul": n - 1}, times=4)
    assert counts(lambda m: np.linalg.solve(m, rand(n)), a) == total(lu(n), substitutions(n),
                                                                    times=4)
    # One matrix against a stack of 5 right-hand sides: NumPy factors it 5 times.
    assert counts(lambda m: np.linalg.solve(m, rand(5, n, 2)), well_conditioned(n)) == total(
        scaled(lu(n), 5), scaled(substitutions(n), 10))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_cholesky_count_equals_the_banachiewicz_formula(n):
    assert counts(np.linalg.cholesky, spd(n)) == total(cholesky_formula(n))
    assert counts(lambda s: np.linalg.cholesky(s, upper=True), spd(n)) == total(
        cholesky_formula(n))


@pytest.mark.parametrize("n,k", [(1, 1), (4, 1), (4, 3)])
def test_triangular_solve_counts_one_substitution_per_column(n, k):
    t = np.tril(rand(n, n)) + 2 * np.eye(n)
    with costad.counting() as c:
        x = P.triangular_solve(t, rand(n, k), lower=True)
    per = sum(j - 1 for j in range(1, n + 1))
    assert c.by_op == total({"mul": per, "sub": per, "div": n}, times=k)
    assert x.shape == (n, k)


@pytest.mark.parametrize("lower", [True, False])
def test_triangular_solve_reads_one_triangle(lower):
    t = rand(4, 4) + 3 * np.eye(4)
    b = rand(4, 2)
    tri = np.tril(t) if lower else np.triu(t)
    np.testing.assert_allclose(P.triangular_solve(t, b, lower=lower), np.linalg.solve(tri, b),
                               rtol=1e-12)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 4)])
def test_eigh_and_svd_count_the_golub_van_loan_model(shape):
    batch = int(np.prod(shape[:-2]))
    m, n = shape[-2:]
    p, q = max(m, n), min(m, n)
    x = rand(*shape)
    assert counts(np.linalg.svd, x) == {"svd": batch * (
        14 * p * q * q + 8 * q ** 3 if m == n else 4 * p * p * q + 8 * p * q * q + 9 * q ** 3)}
    assert counts(lambda y: np.linalg.svd(y, full_matrices=False), x) == {
        "svd": batch * (14 * p * q * q + 8 * q ** 3)}
    assert counts(lambda y: np.linalg.svd(y, compute_uv=False), x) == {
        "svdvals": batch * ((12 * p * q * q - 4 * q ** 3) // 3)}
    if m == n:
        assert counts(np.linalg.eigh, x) == {"eigh": batch * 9 * n ** 3}
        assert counts(np.linalg.eigvalsh, x) == {"eigvalsh": batch * ((4 * n ** 3) // 3)}


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_pinv_counts_a_thin_svd_then_numpys_products(shape):
    m, n = shape
    p, q = max(m, n), min(m, n)
    assert counts(np.linalg.pinv, rand(m, n)) == {
        "svd": 14 * p * q * q + 8 * q ** 3, "max": q - 1, "mul": 1 + q * m + n * q * m,
        "greater": q, "div": q, "add": n * (q - 1) * m}


def test_reverse_gradient_counts_of_det_and_solve_equal_their_rules():
    n = 4
    a, b = well_conditioned(n), rand(n)
    with costad.counting() as c:
        costad.value_and_grad(np.linalg.det)(a)
    # det; then ct * det (1 mul), inv(a), and its n^2 entries scaled (n^2 mul)
    assert c.by_op == total(lu(n), {"mul": n - 1}, {"mul": 1}, lu(n),
                            scaled(substitutions(n), n), {"mul": n * n})
    with costad.counting() as c:
        costad.value_and_grad(lambda m: np.sum(np.linalg.solve(m, b)))(a)
    # solve and sum; then a^-T ct (a solve), -w (n neg) and -w x^T (n^2 mul)
    assert c.by_op == total(lu(n), substitutions(n), {"add": n - 1}, lu(n), substitutions(n),
                            {"neg": n, "mul": n * n})


def test_eigenvalue_gradients_through_eigh_count_the_whole_rule_whatever_the_values():
    # Counts depend on shapes only: eigh's rule runs its eigenvector term even when the
    # eigenvectors' cotangent is zero (eigvalsh is the cheap way to the values alone).
    n = 4
    x = rand(n, n)
    with costad.counting() as c:
        costad.grad(lambda s: np.sum(np.linalg.eigh(s)[0]))(x)
    # eigh, the sum (n-1 add); V^T ct_V: n^3 mul, n^2(n-1) add; the gaps: n^2 sub, n^2
    # equal (the zero guard), n^2 div; V M V^T: 2 n^3 mul, 2 n^2(n-1) add; folding onto the
    # lower triangle: n(n-1)/2 add.
    assert c.by_op == {"eigh": 9 * n ** 3, "mul": 3 * n ** 3, "sub": n * n, "equal": n * n,
                       "div": n * n,
                       "add": (n - 1) + 3 * n * n * (n - 1) + n * (n - 1) // 2}
    with costad.counting() as values_only:
        costad.grad(lambda s: np.sum(np.linalg.eigvalsh(s)))(x)
    assert values_only.total < c.total
    with costad.counting() as abstract:
        costad.grad(lambda s: np.sum(np.linalg.eigh(s)[0]))(costad.ShapeDtype((n, n)))
    assert abstract == c


def test_abstract_rules_and_costs_need_no_data():
    from samples import collect
    for name, (args, params) in collect().items():
        if name not in ("solve", "inv", "det", "slogdet", "cholesky", "triangular_solve",
                        "eigh", "eigvalsh", "svd", "svdvals", "pinv"):
            continue
        prim = P.PRIMITIVES[name]
        real = prim(*args, **params)
        with costad.counting() as c:
            prim(*args, **params)
        shapes = [costad.ShapeDtype(np.shape(a)) for a in args]
        abstract = prim.abstract(*shapes, **params)
        assert {k: v for k, v in prim.cost(abstract, *shapes, **params).items() if v} == \
            c.by_op, name
        assert abstract.shape == np.shape(real)
    huge = costad.ShapeDtype((10 ** 6, 10 ** 6))
    assert P.PRIMITIVES["eigh"].cost(P.PRIMITIVES["eigh"].abstract(huge), huge) == {
        "eigh": 9 * 10 ** 18}


# ------------------------------------------------------------------ property (hypothesis)

FUNCTIONS = {
    "solve": (lambda a, c: np.sum(np.linalg.solve(a, c[0]) * c[1]),
              lambda n: total(lu(n), substitutions(n), {"mul": n, "add": n - 1})),
    "inv": (lambda a, c: np.sum(np.linalg.inv(a) * np.outer(c[0], c[1])),
            lambda n: total(lu(n), scaled(substitutions(n), n), {"mul": n * n},
                            {"add": n * n - 1})),
    "det": (lambda a, c: np.linalg.det(a), lambda n: total(lu(n), {"mul": n - 1})),
    "slogdet": (lambda a, c: np.linalg.slogdet(a)[1],
                lambda n: total(lu(n), {"log": n, "add": n - 1})),
}


@st.composite
def well_conditioned_matrices(draw):
    n = draw(st.integers(1, 4))
    entries = draw(st.lists(st.floats(-1, 1), min_size=n * n, max_size=n * n))
    sign = draw(st.sampled_from([-1.0, 1.0]))
    # Diagonal dominance keeps the condition number below 2n + 1.
    a = np.array(entries).reshape(n, n) + sign * (n + 1.0) * np.eye(n)
    cs = draw(st.lists(st.floats(-1, 1), min_size=2 * n, max_size=2 * n))
    return a, np.array(cs).reshape(2, n)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(FUNCTIONS)), data=well_conditioned_matrices())
def test_random_well_conditioned_matrices(name, data):
    a, c = data
    n = a.shape[0]
    fun, formula = FUNCTIONS[name]
    f = lambda m: fun(m, c)                                                 # noqa: E731
    g_rev = costad.grad(f)(a)
    g_fwd = costad.grad(f, mode="forward")(a)
    g_fd = costad.grad(f, mode="fd-central")(a)
    scale = max(float(np.max(np.abs(g_rev))), 1.0)
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(g_fd, g_rev, rtol=1e-5, atol=1e-6 * scale)
    assert counts(f, a) == formula(n)


# ------------------------------------------------------------- where derivatives stop

def repeated_eigenvalues():
    q = np.linalg.qr(rand(3, 3))[0]
    return q @ np.diag([1.0, 1.0, 2.0]) @ q.T


@pytest.mark.parametrize("mode", MODES)
def test_eigenvalues_alone_are_differentiable_at_repeated_eigenvalues(mode):
    s = repeated_eigenvalues()
    f = lambda m: np.sum(np.linalg.eigvalsh(m) ** 2)                     # noqa: E731
    # sum w^2 = ||S||_F^2, whose gradient through the lower triangle is 2S (x2 off-diagonal)
    expected = np.tril(2 * s) + np.tril(2 * s, -1)
    np.testing.assert_allclose(costad.grad(f, mode=mode)(s), expected, rtol=1e-5, atol=1e-6)
    if mode == "reverse":
        g = costad.grad(lambda m: np.sum(np.linalg.eigh(m)[0] ** 2))(s)
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_eigenvectors_at_repeated_eigenvalues_are_a_clear_error(mode):
    f = lambda m: np.sum(np.linalg.eigh(m)[1][:, 2] ** 3)                 # noqa: E731
    with pytest.raises(NonDifferentiableError, match="eigenvalues coincide"):
        costad.grad(f, mode=mode)(repeated_eigenvalues())


def test_where_eigenvalues_repeat_forward_mode_and_second_derivatives_need_eigenvectors():
    # Forward mode cannot tell that eigh's eigenvectors go unused: it names eigvalsh.
    with pytest.raises(NonDifferentiableError, match="eigvalsh"):
        costad.grad(lambda m: np.sum(np.linalg.eigh(m)[0]), mode="forward")(np.eye(3))
    with pytest.raises(NonDifferentiableError, match="second derivatives"):
        costad.hvp(lambda m: np.sum(np.linalg.eigvalsh(m) ** 3), np.eye(3), rand(3, 3))


@pytest.mark.parametrize("x,word", [(np.eye(3), "coincide"),
                                    (np.array([[1.0, 2.0], [2.0, 4.0]]), "zero"),
                                    (rand(4, 2) @ rand(2, 3), "zero")])
def test_singular_vectors_at_repeated_or_zero_singular_values_are_a_clear_error(x, word):
    f = lambda m: np.sum(np.linalg.svd(m, full_matrices=False)[0][:, 0] * 2.0)  # noqa: E731
    for mode in ("forward", "reverse"):
        with pytest.raises(NonDifferentiableError, match=word):
            costad.grad(f, mode=mode)(x)
    # The singular values alone stay differentiable (nuclear norm at an orthogonal matrix).
    if word == "coincide":
        g = costad.grad(lambda m: np.sum(np.linalg.svd(m, compute_uv=False)),
                        mode="forward")(x)
        np.testing.assert_allclose(g, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(costad.grad(lambda m: np.sum(np.linalg.svd(m)[1]))(x),
                                   np.eye(3), atol=1e-12)


def test_full_matrices_svd_derivative_needs_the_thin_part_only():
    x = rand(4, 2)
    # S from the default (full) svd: fine in reverse mode; U's extra columns: refused.
    g = costad.grad(lambda m: np.sum(np.linalg.svd(m)[1] ** 2))(x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-12)
    g = costad.grad(lambda m: np.sum(np.linalg.svd(m)[0][:, :2] * np.linalg.svd(m)[0][:, :2]
                                     * np.arange(1.0, 3.0)))(x)
    assert np.all(np.isfinite(g))
    with pytest.raises(costad.UnsupportedOperationError, match="full_matrices=True"):
        costad.grad(lambda m: np.sum(np.linalg.svd(m)[0] ** 3))(x)
    with pytest.raises(costad.UnsupportedOperationError, match="full_matrices=False"):
        costad.grad(lambda m: np.sum(np.linalg.svd(m)[1]), mode="forward")(x)


@pytest.mark.parametrize("mode", MODES)
def test_pinv_is_differentiable_at_repeated_singular_values_and_at_constant_rank(mode):
    q = np.linalg.qr(rand(4, 3))[0]                       # every singular value 1
    f = lambda m: np.sum(np.linalg.pinv(m) ** 3)                           # noqa: E731
    assert _relative_error(costad.grad(f, mode=mode)(q),
                           costad.grad(f, mode="fd-central")(q)) < 1e-4
    if mode.startswith("fd"):
        return
    # Rank 1 of 2, the other singular value exactly zero: NumPy's pinv is smooth for
    # perturbations under its cutoff (a finite-difference step jumps across it), and
    # Golub-Pereyra gives that derivative exactly.
    d = np.diag([1.0, 0.0])
    np.testing.assert_allclose(costad.grad(lambda m: np.sum(np.linalg.pinv(m) ** 2),
                                           mode=mode)(d), [[-2.0, 0.0], [0.0, 0.0]],
                               atol=1e-12)


def test_pinv_with_a_cutoff_discarding_real_singular_values_is_refused_for_derivatives():
    d = np.diag([1.0, 0.3])
    f = lambda m: np.sum(np.linalg.pinv(m, rcond=0.5))                    # noqa: E731
    np.testing.assert_allclose(costad.vjp(f, d)[0], 1.0)                  # the value works
    with pytest.raises(costad.UnsupportedOperationError, match="cutoff"):
        costad.grad(f)(d)
    g = costad.grad(lambda m: np.sum(np.linalg.pinv(m, rcond=0.1)))(d)    # nothing cut
    inverse = 1 / np.diag(d)
    np.testing.assert_allclose(g, -np.outer(inverse, inverse), rtol=1e-12)   # -A^-T 1 A^-T


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("f,word", [
    (lambda m: np.linalg.det(m), "det uses inv|det solves"),
    (lambda m: np.linalg.slogdet(m)[1], "slogdet"),
])
def test_derivatives_at_singular_matrices_are_a_linalg_error(f, word, mode):
    z = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError, match=word):
        costad.grad(f, mode=mode)(z)
    assert costad.vjp(f, z)[0] == f(z)                       # the value itself works


@pytest.mark.parametrize("f,word", [
    (lambda m: np.linalg.solve(m, np.ones(2)), "solve: Singular"),
    (lambda m: np.linalg.inv(m), "inv: Singular"),
    (lambda m: np.linalg.cholesky(m - 5 * np.eye(2)), "not positive definite"),
])
def test_lapack_failures_are_numpys_linalg_error(f, word):
    z = np.array([[1.0, 2.0], [2.0, 4.0]])
    for mode in ("fd", "forward", "reverse"):     # fd-central never evaluates f at z
        # Finite differences call NumPy itself (nothing traced): NumPy's own error.
        error = np.linalg.LinAlgError if mode.startswith("fd") else LinAlgError
        with pytest.raises(error, match=word.split(": ")[-1]):
            costad.grad(lambda m: np.sum(f(m)), mode=mode)(z)
    with pytest.raises(LinAlgError, match=word) as info:
        costad.count(f, z)                                # traced: costad's, named
    assert isinstance(info.value, np.linalg.LinAlgError)


@pytest.mark.parametrize("f,error,word", [
    (lambda m: np.linalg.inv(m[0]), costad.ShapeError, "at least two dimensions"),
    (lambda m: np.linalg.inv(m[:, :2]), costad.ShapeError, "square"),
    (lambda m: np.linalg.det(m[0, 0]), costad.ShapeError, "at least two dimensions"),
    (lambda m: np.linalg.solve(m, np.ones(4)), costad.ShapeError, "b of shape"),
    (lambda m: np.linalg.solve(m, 1.0), costad.ShapeError, "b of shape"),
    (lambda m: np.linalg.solve(m, np.ones((2, 3))), costad.ShapeError, "rows"),
    (lambda m: np.linalg.eigh(m, UPLO="X")[0], ValueError, "UPLO"),
    (lambda m: np.linalg.eigvalsh(m, UPLO=None), ValueError, "UPLO"),
    (lambda m: np.linalg.svd(m, hermitian=True)[1], costad.UnsupportedOperationError,
     "hermitian"),
    (lambda m: np.linalg.pinv(m, hermitian=True), costad.UnsupportedOperationError,
     "hermitian"),
    (lambda m: np.linalg.pinv(m, rcond=0.1, rtol=0.1), ValueError, "both"),
    (lambda m: np.linalg.pinv(m, rcond=np.array([0.1])), costad.UnsupportedOperationError,
     "real number"),
    (lambda m: np.linalg.solve(m, np.ones(3) * 1j), costad.UnsupportedOperationError,
     "complex"),
])
def test_bad_arguments_give_named_errors(f, error, word):
    for mode in ("reverse", "forward"):
        with pytest.raises(error, match=word):
            costad.grad(lambda m: np.sum(f(m)), mode=mode)(well_conditioned(3))


def test_float16_is_refused_by_name():
    with pytest.raises(costad.UnsupportedOperationError, match="float16"):
        costad.count(np.linalg.inv, np.eye(2, dtype=np.float16))


@pytest.mark.parametrize("f,x", [
    (lambda m: np.sum(np.linalg.inv(m)), np.zeros((0, 0))),
    (lambda m: np.linalg.det(m), np.zeros((0, 0))),
    (lambda m: np.sum(np.linalg.det(m)), np.zeros((0, 2, 2))),
    (lambda m: np.sum(np.linalg.eigh(m)[1]), np.zeros((0, 0))),
    (lambda m: np.sum(np.linalg.cholesky(m)), np.zeros((0, 0))),
    (lambda m: np.sum(np.linalg.svd(m)[1]), np.zeros((3, 0))),
    (lambda m: np.sum(np.linalg.pinv(m)), np.zeros((3, 0))),
])
def test_empty_matrices_give_numpys_values_and_zero_gradients(f, x):
    for mode in MODES:
        value, g = costad.value_and_grad(f, mode=mode)(x)
        assert value == f(x) and g.shape == x.shape
    assert costad.count(f, x).total == 0


def test_nan_is_computed_through():
    x = np.array([[np.nan, 0.0], [0.0, 1.0]])
    g = costad.grad(lambda m: np.sum(np.linalg.solve(m, np.ones(2))))(x)
    assert np.isnan(g).any()


def test_constant_operands_may_be_lists_and_integers():
    g = costad.grad(lambda b: np.sum(np.linalg.solve(np.array([[2, 0], [0, 4]]), b)))(np.ones(2))
    np.testing.assert_allclose(g, [0.5, 0.25])
    g = costad.grad(lambda a: np.sum(np.linalg.solve(a, [1.0, 2.0])))(2 * np.eye(2))
    np.testing.assert_allclose(g, [[-0.25, -0.5], [-0.25, -0.5]])


@pytest.mark.parametrize("fn", [np.linalg.eigh, np.linalg.eigvalsh, np.linalg.cholesky])
def test_one_triangle_is_read_so_the_other_has_zero_gradient(fn):
    x = spd(3) + np.triu(rand(3, 3), 1)                 # upper noise never read
    f = lambda m: np.sum((fn(m)[0] if fn is np.linalg.eigh else fn(m)) ** 3)  # noqa: E731
    for mode in MODES:
        g = costad.grad(f, mode=mode)(x)
        assert np.all(np.triu(g, 1) == 0), mode
        assert np.all(np.abs(g[np.tril_indices(3)]) > 0), mode
