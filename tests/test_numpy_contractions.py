"""Contractions (issue 11 Part B): dot, inner, vdot, tensordot, einsum, einsum_path, kron,
cross and batched matmul. Values equal NumPy's, gradients agree in every mode, counts equal
their closed forms exactly, and einsum's ``optimize`` changes the count as the chain
association formulas predict."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costad
from costad import chain
from costad.primitives import PRIMITIVES

MODES = costad.MODES
RNG = np.random.default_rng(11)
OPTIMIZE = [False, True, "greedy", "optimal"]


def rand(*shape):
    return RNG.uniform(-1.5, 1.5, shape)


def by_op(f, xs):
    return dict(costad.count(f, xs).by_op)


def nonzero(**counts):
    return {k: v for k, v in counts.items() if v}


# ------------------------------------------------- values and gradients in every mode

def _cases():
    """(id, f of a list of arrays, shapes): f is plain NumPy code."""
    c = []

    def add(name, f, *shapes):
        c.append(pytest.param(f, shapes, id=name))

    # np.dot, every dimension combination, and the method
    add("dot-0d-2d", lambda x: np.dot(x[0], x[1]), (), (3, 2))
    add("dot-1d-1d", lambda x: np.dot(x[0], x[1]), (4,), (4,))
    add("dot-2d-1d", lambda x: np.dot(x[0], x[1]), (3, 4), (4,))
    add("dot-1d-2d", lambda x: np.dot(x[0], x[1]), (4,), (4, 2))
    add("dot-2d-2d", lambda x: np.dot(x[0], x[1]), (3, 4), (4, 2))
    add("dot-3d-2d", lambda x: np.dot(x[0], x[1]), (2, 3, 4), (4, 5))
    add("dot-3d-1d", lambda x: np.dot(x[0], x[1]), (2, 3, 4), (4,))
    add("dot-1d-3d", lambda x: np.dot(x[0], x[1]), (3,), (2, 3, 4))
    add("dot-3d-4d", lambda x: np.dot(x[0], x[1]), (2, 3, 4), (2, 1, 4, 3))
    add("dot-2d-3d", lambda x: np.dot(x[0], x[1]), (3, 4), (2, 4, 2))
    add("dot-method", lambda x: x[0].dot(x[1]), (2, 3, 4), (4, 2))
    # np.inner, np.vdot
    add("inner-1d", lambda x: np.inner(x[0], x[1]), (4,), (4,))
    add("inner-2d-3d", lambda x: np.inner(x[0], x[1]), (2, 4), (3, 2, 4))
    add("inner-0d", lambda x: np.inner(x[0], x[1]), (), (2, 3))
    add("vdot-1d", lambda x: np.vdot(x[0], x[1]), (5,), (5,))
    add("vdot-shapes", lambda x: np.vdot(x[0], x[1]), (2, 3), (3, 2))
    add("vdot-0d", lambda x: np.vdot(x[0], x[1]), (), (1,))
    # np.tensordot, every form of axes
    add("tensordot-default", lambda x: np.tensordot(x[0], x[1]), (2, 3, 4), (3, 4, 2))
    add("tensordot-0", lambda x: np.tensordot(x[0], x[1], 0), (2, 3), (4,))
    add("tensordot-1", lambda x: np.tensordot(x[0], x[1], 1), (2, 3), (3, 4))
    add("tensordot-int-pair", lambda x: np.tensordot(x[0], x[1], (0, 1)), (3, 2), (4, 3))
    add("tensordot-seq-pair", lambda x: np.tensordot(x[0], x[1], ([1, 0], [0, 2])),
        (3, 2, 5), (2, 4, 3))
    add("tensordot-negative", lambda x: np.tensordot(x[0], x[1], ([-1], [-2])),
        (2, 3), (4, 3, 2))
    add("tensordot-array-axes", lambda x: np.tensordot(x[0], x[1], np.array([[1], [0]])),
        (2, 3), (3, 2))
    add("tensordot-0d", lambda x: np.tensordot(x[0], x[1], 0), (), (2, 2))
    # np.kron
    add("kron-1d", lambda x: np.kron(x[0], x[1]), (3,), (2,))
    add("kron-2d", lambda x: np.kron(x[0], x[1]), (2, 3), (3, 2))
    add("kron-1d-2d", lambda x: np.kron(x[0], x[1]), (3,), (2, 2))
    add("kron-3d-2d", lambda x: np.kron(x[0], x[1]), (2, 1, 2), (2, 3))
    add("kron-0d", lambda x: np.kron(x[0], x[1]), (), (2, 3))
    # np.cross
    add("cross-3", lambda x: np.cross(x[0], x[1]), (3,), (3,))
    add("cross-3-batched", lambda x: np.cross(x[0], x[1]), (4, 3), (3,))
    add("cross-3-broadcast", lambda x: np.cross(x[0], x[1]), (2, 1, 3), (4, 3))
    add("cross-axes", lambda x: np.cross(x[0], x[1], axisa=0, axisb=1, axisc=0),
        (3, 4), (4, 3))
    add("cross-axis", lambda x: np.cross(x[0], x[1], axis=0), (3, 2), (3, 2))
    add("cross-axisc-middle", lambda x: np.cross(x[0], x[1], axisc=1), (2, 4, 3), (4, 3))
    # np.matmul with batch dimensions, the 1-D promotions, the operator and the ufunc
    add("matmul-batch-broadcast", lambda x: x[0] @ x[1], (2, 1, 3, 4), (5, 4, 2))
    add("matmul-1d-batch", lambda x: x[0] @ x[1], (4,), (2, 4, 3))
    add("matmul-batch-1d", lambda x: np.matmul(x[0], x[1]), (2, 3, 4), (4,))
    add("matmul-vector-vector", lambda x: np.matmul(x[0], x[1]), (4,), (4,))
    add("matmul-constant-left", lambda x: np.ones((2, 3)) @ x[0], (4, 3, 2))
    # np.einsum: implicit and explicit outputs, ellipsis, diagonals, traces, scalars
    for subs, shapes in [("ij,jk->ik", [(3, 4), (4, 2)]), ("ij,jk", [(3, 4), (4, 2)]),
                         ("ii->", [(3, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
                         ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]),
                         ("ij", [(2, 3)]), ("ji", [(2, 3)]), ("i,i->", [(4,), (4,)]),
                         ("i,j->ij", [(3,), (2,)]), ("ij,ij->ij", [(2, 3), (2, 3)]),
                         ("ii,i->", [(3, 3), (3,)]), ("iij,jk->ik", [(2, 2, 3), (3, 4)]),
                         ("iii->i", [(3, 3, 3)]), ("ijij->ij", [(2, 3, 2, 3)]),
                         ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
                         ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
                         ("...i,...i", [(2, 3), (3,)]), ("i...->...", [(2, 3, 4)]),
                         ("...", [(2, 3)]), ("ij...,jk->ik...", [(2, 3, 4), (3, 2)]),
                         ("ijk,ikl,lm->jm", [(2, 3, 4), (2, 4, 3), (3, 2)]),
                         ("ij,jk,kl,lm->im", [(2, 3), (3, 4), (4, 5), (5, 2)]),
                         (",i->i", [(), (3,)]), ("Ba,aC", [(2, 3), (3, 4)]),
                         ("aB", [(2, 3)]), ("ab,a,b", [(2, 3), (2,), (3,)]),
                         ("i,i,i->", [(3,), (3,), (3,)]), ("ij,kl->", [(2, 3), (2, 2)]),
                         (" ij , jk -> ki ", [(3, 4), (4, 2)]),
                         # labels of size 1 broadcast, on either side of a contraction
                         ("i,i->", [(3,), (1,)]), ("i,i->", [(1,), (3,)]),
                         ("ij,jk->ik", [(2, 1), (3, 4)]), ("ij,j->", [(2, 1), (3,)]),
                         ("...i,...i->...", [(1, 3), (2, 1)])]:
        for opt in OPTIMIZE:
            add(f"einsum[{subs}]-{opt}",
                lambda x, s=subs, o=opt: np.einsum(s, *x, optimize=o), *shapes)
    add("einsum-interleaved", lambda x: np.einsum(x[0], [0, 1], x[1], [1, 2], [0, 2]),
        (3, 4), (4, 2))
    add("einsum-interleaved-ellipsis",
        lambda x: np.einsum(x[0], [Ellipsis, 0], x[1], [0, 1]), (2, 3, 4), (4, 2))
    add("einsum-explicit-path",
        lambda x: np.einsum("ij,jk,kl->il", *x, optimize=["einsum_path", (0, 2), (0, 1)]),
        (2, 3), (3, 4), (4, 2))
    add("einsum-memory-limit",
        lambda x: np.einsum("ij,jk,kl->il", *x, optimize=("greedy", 4)),
        (2, 3), (3, 4), (4, 2))
    add("einsum-path-from-einsum_path",
        lambda x: np.einsum("ij,jk,kl->il", *x,
                            optimize=np.einsum_path("ij,jk,kl->il", *x)[0]),
        (2, 3), (3, 4), (4, 2))
    return c


CASES = _cases()


def _loss(f, weights):
    """A scalar loss of f's output with a non-trivial gradient (sin keeps it nonlinear)."""
    return lambda xs: np.sum(np.sin(f(xs)) * weights)


@pytest.mark.parametrize("f,shapes", CASES)
def test_value_equals_numpy_and_gradients_agree_in_every_mode(f, shapes):
    xs = [rand(*s) for s in shapes]
    expected = f([x.copy() for x in xs])
    traced_value, _ = costad.vjp(f, xs)
    np.testing.assert_allclose(traced_value, expected, rtol=1e-12, atol=1e-12)
    assert np.shape(traced_value) == np.shape(expected)
    weights = RNG.standard_normal(np.shape(expected))
    loss = _loss(f, weights)
    g = {mode: costad.grad(loss, mode=mode)(xs) for mode in MODES}
    for mode in MODES:
        tol = {"reverse": 0, "forward": 1e-10, "fd-central": 1e-6, "fd": 2e-5}[mode]
        for got, want, x in zip(g[mode], g["reverse"], xs):
            assert np.shape(got) == np.shape(x)
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=mode)


# ------------------------------------------------------------------------ exact counts

# (subscripts, shapes, optimize, expected counts); closed forms: a step of k operands over
# index space I with output O and summed S costs (k-1)|I| mul and |O|(|S|-1) add.
EINSUM_COUNTS = [
    ("ij,jk->ik", [(3, 4), (4, 5)], opt, nonzero(mul=3 * 4 * 5, add=3 * 3 * 5))
    for opt in OPTIMIZE] + [
    ("ii->", [(5, 5)], opt, {"add": 4}) for opt in OPTIMIZE] + [
    ("ii->i", [(5, 5)], False, {}),
    ("ij->ji", [(2, 3)], False, {}),
    ("ij->", [(2, 3)], "greedy", {"add": 5}),
    ("ij->j", [(2, 3)], False, {"add": 3}),
    ("i,i->", [(6,), (6,)], False, {"mul": 6, "add": 5}),
    ("i,j->ij", [(3,), (4,)], True, {"mul": 12}),
    ("ij,ij->ij", [(3, 4), (3, 4)], False, {"mul": 12}),
    ("ii,i->", [(4, 4), (4,)], False, {"mul": 4, "add": 3}),
    ("iij,jk->ik", [(2, 2, 3), (3, 4)], "optimal", {"mul": 24, "add": 16}),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], False, {"mul": 120, "add": 90}),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 6)], False,
     {"mul": 2 * 5 * 3 * 4 * 6, "add": 2 * 5 * 3 * 3 * 6}),
    # three operands in NumPy's single loop: 2 products per point
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)], False,
     {"mul": 2 * 2 * 3 * 4 * 5, "add": 2 * 5 * (3 * 4 - 1)}),
    ("i,i,i->", [(7,), (7,), (7,)], False, {"mul": 14, "add": 6}),
    # no summed index: einsum_path keeps a single step whatever optimize says
    ("i,j,k->ijk", [(2,), (3,), (4,)], "optimal", {"mul": 2 * 24}),
    # a scalar operand is a factor of every product
    (",ij->ij", [(), (2, 3)], False, {"mul": 6}),
    # empty arrays: no products, no additions
    ("ij,jk->ik", [(3, 0), (0, 2)], False, {}),
    ("ij,jk->ik", [(0, 3), (3, 2)], "greedy", {}),
]


@pytest.mark.parametrize("subs,shapes,optimize,expected", EINSUM_COUNTS)
def test_einsum_counts_follow_the_closed_form(subs, shapes, optimize, expected):
    xs = [rand(*s) for s in shapes]
    assert by_op(lambda v: np.einsum(subs, *v, optimize=optimize), xs) == expected


CHAIN_DIMS = [[2, 30, 3, 40], [40, 3, 30, 2], [5, 5, 5, 5], [1, 8, 2, 7], [9, 2, 9, 2]]


@pytest.mark.parametrize("dims", CHAIN_DIMS)
def test_optimize_changes_a_three_matrix_chain_count_as_the_association_formulas(dims):
    p0, p1, p2, p3 = dims
    mats = [rand(a, b) for a, b in zip(dims[:-1], dims[1:])]

    def count(optimize):
        return by_op(lambda v: np.einsum("ij,jk,kl->il", *v, optimize=optimize), mats)

    def pairwise(order):
        # (AB)C: p0 p1 p2 + p0 p2 p3 mul; A(BC): p1 p2 p3 + p0 p1 p3 (costad.chain.cost),
        # and each (m,k)@(k,p) adds m(k-1)p
        if order == "left":
            add = p0 * (p1 - 1) * p2 + p0 * (p2 - 1) * p3
        else:
            add = p1 * (p2 - 1) * p3 + p0 * (p1 - 1) * p3
        return nonzero(mul=chain.cost(dims, order), add=add)

    naive = nonzero(mul=2 * p0 * p1 * p2 * p3, add=p0 * p3 * (p1 * p2 - 1))
    assert count(False) == naive
    assert count(["einsum_path", (0, 1), (0, 1)]) == pairwise("left")
    assert count(["einsum_path", (1, 2), (0, 1)]) == pairwise("right")
    best = min(("left", "right"), key=lambda o: chain.cost(dims, o))
    assert count("optimal")["mul"] == chain.cost(dims, "optimal") == chain.cost(dims, best)
    assert count("optimal") == pairwise(best)
    # greedy and True follow NumPy's greedy path, whatever it picks: one of the two
    assert count("greedy") == count(True) in (pairwise("left"), pairwise("right"))
    # the count follows the path einsum_path reports
    path = np.einsum_path("ij,jk,kl->il", *mats, optimize="greedy")[0]
    assert count("greedy") == pairwise("left" if path[1] == (0, 1) else "right")


def test_optimize_changes_the_reverse_mode_count_too():
    dims = [2, 30, 3, 40]
    mats = [rand(a, b) for a, b in zip(dims[:-1], dims[1:])]

    def reverse(optimize=None):
        if optimize is None:
            f = lambda v: np.sum((v[0] @ v[1]) @ v[2])                      # noqa: E731
        else:
            f = lambda v: np.sum(np.einsum("ij,jk,kl->il", *v,              # noqa: E731
                                           optimize=optimize))
        with costad.counting() as c:
            costad.value_and_grad(f)(mats)
        return c.by_op

    # pairwise steps and their VJPs count exactly as the same products written with @
    assert reverse("optimal") == reverse()
    # the single naive step: the forward loop and one three-operand loop per operand's
    # cotangent, each (3-1) products per point of its index space
    p0, p1, p2, p3 = dims
    P = p0 * p1 * p2 * p3
    expected_mul = 2 * P * 4
    expected_add = (p0 * p3 * (p1 * p2 - 1)          # forward
                    + p0 * p3 - 1                     # the sum
                    + p0 * p1 * (p2 * p3 - 1)         # cotangent of A: 'il,jk,kl->ij'
                    + p1 * p2 * (p0 * p3 - 1)         # of B: 'il,ij,kl->jk'
                    + p2 * p3 * (p0 * p1 - 1))        # of C: 'il,ij,jk->kl'
    assert reverse(False) == {"mul": expected_mul, "add": expected_add}


@pytest.mark.parametrize("m,k,p", [(3, 4, 5), (1, 1, 1), (2, 7, 1)])
def test_einsum_pairwise_counts_like_matmul_in_every_mode(m, k, p):
    a, b = rand(m, k), rand(k, p)
    for mode in ("forward", "reverse"):
        def cost(f):
            with costad.counting() as c:
                costad.value_and_grad(lambda v: np.sum(np.tanh(f(v[0], v[1]))), mode=mode)(
                    [a, b])
            return c.by_op
        assert cost(lambda x, y: np.einsum("ij,jk->ik", x, y)) == cost(lambda x, y: x @ y)
        assert cost(lambda x, y: np.tensordot(x, y, 1)) == cost(lambda x, y: x @ y)


def test_two_dimensional_dot_and_matmul_count_as_before():
    a, b = rand(3, 4), rand(4, 5)
    for f in (lambda v: np.dot(v[0], v[1]), lambda v: v[0] @ v[1], lambda v: v[0].dot(v[1]),
              lambda v: np.matmul(v[0], v[1])):
        assert by_op(f, [a, b]) == {"mul": 60, "add": 45}
        assert [n.op for n in costad.trace(f, [a, b]).operations] == ["matmul"]


@pytest.mark.parametrize("f,shapes,expected", [
    # tensordot and N-D dot: M*K*P mul and M*(K-1)*P add
    (lambda v: np.tensordot(v[0], v[1]), [(2, 3, 4), (3, 4, 5)], {"mul": 120, "add": 110}),
    (lambda v: np.tensordot(v[0], v[1], 0), [(2, 3), (4,)], {"mul": 24}),
    (lambda v: np.tensordot(v[0], v[1], ([1, 0], [0, 2])), [(3, 2, 5), (2, 4, 3)],
     {"mul": 5 * 6 * 4, "add": 5 * 5 * 4}),
    (lambda v: np.dot(v[0], v[1]), [(2, 3, 4), (5, 4, 6)], {"mul": 720, "add": 540}),
    (lambda v: np.dot(v[0], v[1]), [(2, 3, 4), (4,)], {"mul": 24, "add": 18}),
    (lambda v: np.dot(v[0], v[1]), [(), (2, 3)], {"mul": 6}),
    (lambda v: np.inner(v[0], v[1]), [(2, 4), (3, 4)], {"mul": 24, "add": 18}),
    (lambda v: np.inner(v[0], v[1]), [(5,), (5,)], {"mul": 5, "add": 4}),
    (lambda v: np.vdot(v[0], v[1]), [(2, 3), (3, 2)], {"mul": 6, "add": 5}),
    # kron and outer: one product per output element
    (lambda v: np.kron(v[0], v[1]), [(2, 3), (4, 5)], {"mul": 120}),
    (lambda v: np.kron(v[0], v[1]), [(3,), (2, 2)], {"mul": 12}),
    (lambda v: np.outer(v[0], v[1]), [(3,), (4,)], {"mul": 12}),
    # cross: per product 6 mul 3 sub (3-vectors), 2 mul 1 sub (2-vectors), 4 mul 1 sub
    # 1 neg (one of each), times the broadcast batch
    (lambda v: np.cross(v[0], v[1]), [(4, 3), (3,)], {"mul": 24, "sub": 12}),
    (lambda v: np.cross(v[0], v[1]), [(2, 1, 3), (5, 3)], {"mul": 60, "sub": 30}),
    (lambda v: np.cross(v[0], v[1]), [(4, 2), (4, 2)], {"mul": 8, "sub": 4}),
    (lambda v: np.cross(v[0], v[1]), [(4, 2), (4, 3)], {"mul": 16, "sub": 4, "neg": 4}),
    (lambda v: np.cross(v[0], v[1]), [(3,), (2,)], {"mul": 4, "sub": 1, "neg": 1}),
    # matmul per batch element m*k*p mul and m*(k-1)*p add, broadcast batches included
    (lambda v: v[0] @ v[1], [(2, 1, 3, 4), (5, 4, 6)], {"mul": 720, "add": 540}),
    (lambda v: v[0] @ v[1], [(4,), (2, 4, 3)], {"mul": 24, "add": 18}),
    (lambda v: v[0] @ v[1], [(2, 3, 4), (4,)], {"mul": 24, "add": 18}),
])
def test_counts_follow_the_closed_forms(f, shapes, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)       # 2-vectors in np.cross
        assert by_op(f, [rand(*s) for s in shapes]) == expected


def test_batched_matmul_gradient_counts_the_broadcast_batch_sums():
    a, b = rand(2, 1, 3, 4), rand(5, 4, 6)
    with costad.counting() as c:
        _, (ga, gb) = costad.value_and_grad(lambda v: np.sum(v[0] @ v[1]))([a, b])
    # forward 720 mul 540 add, the sum 179 add; VJP of a: (2,5,3,6)@(5,6,4) 720 mul 600 add,
    # summed over the broadcast batch axis of 5: 96 add; VJP of b: (2,1,4,3)@(2,5,3,6)
    # 720 mul 480 add, summed over the batch axis of 2: 120 add
    assert c.by_op == {"mul": 3 * 720, "add": 540 + 179 + 600 + 96 + 480 + 120}
    np.testing.assert_allclose(ga, np.broadcast_to(b.sum(axis=(0, 2)), (2, 1, 3, 4)))
    np.testing.assert_allclose(gb, np.broadcast_to(a.sum(axis=(0, 1, 2))[:, None],
                                                   (5, 4, 6)))


def test_each_einsum_step_is_one_contract_node_along_numpys_path():
    mats = [rand(2, 3), rand(3, 4), rand(4, 5), rand(5, 2)]
    subs = "ij,jk,kl,lm->im"
    for optimize, steps in [(False, 1), ("greedy", 3), ("optimal", 3)]:
        graph = costad.trace(lambda v: np.einsum(subs, *v, optimize=optimize), mats)
        assert [n.op for n in graph.operations] == ["contract"] * steps
    # a trace: a free diagonal view and a counted sum, no contraction
    graph = costad.trace(lambda v: np.einsum("ii", v), rand(4, 4))
    assert [n.op for n in graph.operations] == ["reshape", "getitem", "sum"]
    assert graph.cost.by_op == {"add": 3}


# ------------------------------------------------------------------------ float32

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f,shapes", [
    (lambda v: np.einsum("ij,jk,kl->il", *v, optimize="greedy"), [(2, 3), (3, 4), (4, 2)]),
    (lambda v: np.einsum("ii,ij->j", *v), [(3, 3), (3, 2)]),
    (lambda v: np.tensordot(v[0], v[1], ([0], [1])), [(3, 2), (2, 3)]),
    (lambda v: np.dot(v[0], v[1]), [(2, 3, 4), (4, 2)]),
    (lambda v: np.inner(v[0], v[1]), [(2, 3), (3,)]),
    (lambda v: np.vdot(v[0], v[1]), [(2, 3), (6,)]),
    (lambda v: np.kron(v[0], v[1]), [(2,), (2, 2)]),
    (lambda v: np.cross(v[0], v[1]), [(2, 3), (3,)]),
    (lambda v: v[0] @ v[1], [(2, 2, 3), (3, 2)]),
])
def test_float32_stays_float32(f, shapes, mode):
    xs = [rand(*s).astype(np.float32) for s in shapes]
    value, _ = costad.vjp(f, xs)
    assert np.asarray(value).dtype == np.float32
    g = costad.grad(lambda v: np.sum(f(v)), mode=mode)(xs)
    assert all(gi.dtype == np.float32 for gi in g)
    g64 = costad.grad(lambda v: np.sum(f(v)), mode="reverse")([x.astype(float) for x in xs])
    for a, b in zip(g, g64):
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-2)


# ------------------------------------------------------------------- hostile inputs

@pytest.mark.parametrize("f,shapes", [
    (lambda v: np.einsum("ij,jk->ik", *v), [(3, 0), (0, 2)]),
    (lambda v: np.einsum("ij,jk->ik", *v, optimize="greedy"), [(0, 3), (3, 2)]),
    (lambda v: np.einsum("ii->", v[0]), [(0, 0)]),
    (lambda v: np.tensordot(v[0], v[1], 1), [(2, 0), (0, 3)]),
    (lambda v: np.dot(v[0], v[1]), [(2, 0, 3), (3, 4)]),
    (lambda v: np.kron(v[0], v[1]), [(0,), (3,)]),
    (lambda v: np.cross(v[0], v[1]), [(0, 3), (3,)]),
    (lambda v: np.vdot(v[0], v[1]), [(0,), (0,)]),
])
@pytest.mark.parametrize("mode", MODES)
def test_empty_arrays_give_numpys_value_and_zero_gradients(f, shapes, mode):
    xs = [rand(*s) for s in shapes]
    value, _ = costad.vjp(f, xs)
    expected = f(xs)
    assert np.shape(value) == np.shape(expected)
    np.testing.assert_array_equal(value, expected)
    g = costad.grad(lambda v: np.sum(f(v)) + np.sum(v[0]) * 0.0, mode=mode)(xs)
    for gi, x in zip(g, xs):
        assert gi.shape == x.shape and not np.any(gi)


def test_nan_propagates_as_in_numpy():
    a, b = rand(2, 3), rand(3, 2)
    a[0, 1] = np.nan
    f = lambda v: np.einsum("ij,jk->ik", *v)                                # noqa: E731
    value, _ = costad.vjp(f, [a, b])
    expected = np.einsum("ij,jk->ik", a, b)
    np.testing.assert_array_equal(np.isnan(value), np.isnan(expected))      # NaN row 0
    np.testing.assert_allclose(value, expected, rtol=1e-14, equal_nan=True)
    g = costad.grad(lambda v: np.sum(f(v)))([a, b])
    assert np.isnan(g[1][1]).all() and not np.isnan(g[1][0]).any()          # row 1 of b
    assert not np.isnan(g[0]).any()                           # a's cotangent uses b only


def test_repeated_operands_add_their_contributions():
    # d/dx sum_i x_i^3 = 3 x^2; d2 = 6 x; the same array three times in one step
    x = np.array([0.5, -1.0, 2.0])
    for optimize in OPTIMIZE:
        f = lambda t: np.einsum("i,i,i->", t, t, t, optimize=optimize)      # noqa: E731
        for mode in ("forward", "reverse"):
            np.testing.assert_allclose(costad.grad(f, mode=mode)(x), 3 * x ** 2, rtol=1e-14)
        hv = costad.hvp(f, x, np.ones(3))
        np.testing.assert_allclose(hv, 6 * x, rtol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_cross_of_parallel_vectors_is_zero_with_the_right_gradient(mode):
    a = np.array([1.0, 2.0, 3.0])
    w = np.array([0.3, -0.2, 0.5])
    f = lambda v: np.sum(np.cross(v, 2.0 * a) * w)                          # noqa: E731
    assert costad.vjp(lambda v: np.cross(v, 2.0 * a), a)[0].tolist() == [0.0, 0.0, 0.0]
    # d/dv <v x c, w> = c x w
    np.testing.assert_allclose(costad.grad(f, mode=mode)(a), np.cross(2.0 * a, w),
                               rtol=1e-6, atol=1e-8)


def test_two_vector_cross_warns_as_numpy_does():
    a, b = rand(2), rand(2)
    numpy_warns = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, _ = costad.vjp(lambda v: np.cross(v[0], v[1]), [a, b])
    assert value == pytest.approx(a[0] * b[1] - a[1] * b[0])
    assert any(issubclass(w.category, DeprecationWarning) for w in caught) == numpy_warns


def test_einsum_path_on_traced_operands_is_numpys_answer():
    mats = [rand(2, 30), rand(30, 3), rand(3, 40)]
    seen = []

    def f(v):
        path, text = np.einsum_path("ij,jk,kl->il", *v, optimize="optimal")
        seen.append((path, text))
        return np.einsum("ij,jk,kl->il", *v, optimize=path)

    costad.grad(lambda v: np.sum(f(v)))(mats)
    assert seen[0] == np.einsum_path("ij,jk,kl->il", *mats, optimize="optimal")
    with pytest.raises(costad.UnsupportedOperationError, match="einsum_call"):
        costad.grad(lambda v: np.sum(np.einsum_path("ij,jk", *v, einsum_call=True)[0]))(
            mats[:2])


# ------------------------------------------------------------------------ clear errors

@pytest.mark.parametrize("f,shapes,error,word", [
    (lambda v: np.einsum("ij,jk->ik", *v), [(2, 3), (4, 2)], costad.ShapeError, "einsum"),
    (lambda v: np.einsum("ij,jk->ik", v[0]), [(2, 3)], costad.ShapeError, "operands"),
    (lambda v: np.einsum("ijk", v[0]), [(2, 3)], costad.ShapeError, "'ijk' of operand 0"),
    (lambda v: np.einsum("i,i", v[0], 3.0), [(2,)], costad.ShapeError, "'i' of operand 1"),
    (lambda v: np.einsum("ij...k", v[0]), [(2, 3)], costad.ShapeError, "name 3 axes"),
    (lambda v: np.einsum("ij->ii", v[0]), [(2, 3)], costad.ShapeError, "more than once"),
    (lambda v: np.einsum("ij->k", v[0]), [(2, 3)], costad.ShapeError, "did not appear"),
    (lambda v: np.einsum("i$", v[0]), [(2, 3)], costad.ShapeError, "symbol"),
    (lambda v: np.einsum("ii->i", v[0]), [(2, 3)], costad.ShapeError, "einsum"),
    (lambda v: np.einsum("ii->i", v[0]), [(1, 3)], costad.ShapeError, "different sizes"),
    (lambda v: np.einsum("ij,jk,kl", *v, optimize="fast"), [(2, 2)] * 3,
     costad.UnsupportedOperationError, "optimize='fast'"),
    (lambda v: np.einsum("ij,jk", *v, optimize=2), [(2, 2)] * 2,
     costad.UnsupportedOperationError, "optimize=2"),
    (lambda v: np.einsum("ij,jk,kl", *v, optimize=["einsum_path", (0, 5)]), [(2, 2)] * 3,
     costad.ShapeError, "einsum"),
    (lambda v: np.einsum("ij,jk,kl", *v, optimize=["einsum_path", (0, 1)]), [(2, 2)] * 3,
     costad.ShapeError, "einsum"),
    (lambda v: np.einsum("ij,jk", *v, out=np.empty((2, 2))), [(2, 2)] * 2,
     costad.UnsupportedOperationError, "out="),
    (lambda v: np.einsum("ij,jk", *v, dtype=np.float32), [(2, 2)] * 2,
     costad.UnsupportedOperationError, "dtype="),
    (lambda v: np.einsum(v[0], [0, 99]), [(2, 2)], costad.ShapeError, "range"),
    (lambda v: np.einsum(v[0], [0, "a"]), [(2, 2)], costad.ShapeError, "subscript"),
    (lambda v: np.tensordot(*v, axes=([0, 1], [0])), [(2, 2)] * 2, costad.ShapeError,
     "mismatch"),
    (lambda v: np.tensordot(*v, axes=([0], [0])), [(2, 3), (3, 2)], costad.ShapeError,
     "aligned"),
    (lambda v: np.tensordot(*v, axes=([2], [0])), [(2, 2)] * 2, costad.ShapeError, "bounds"),
    (lambda v: np.tensordot(*v, axes=3), [(2, 2)] * 2, costad.ShapeError, "bounds"),
    (lambda v: np.tensordot(*v, axes=([0, 0], [0, 1])), [(2, 2)] * 2, costad.ShapeError,
     "repeated"),
    (lambda v: np.tensordot(*v, axes=(0, 1, 2)), [(2, 2)] * 2, costad.ShapeError, "pair"),
    (lambda v: np.tensordot(*v, axes=1.5), [(2, 2)] * 2, costad.UnsupportedOperationError,
     "axes=1.5"),
    (lambda v: np.tensordot(*v, axes=([0.5], [0])), [(2, 2)] * 2,
     costad.UnsupportedOperationError, "axis"),
    (lambda v: np.dot(*v), [(2, 3), (2, 3)], costad.ShapeError, "aligned"),
    (lambda v: np.dot(*v), [(2, 3, 4), (3, 2)], costad.ShapeError, "aligned"),
    (lambda v: np.inner(*v), [(2, 3), (2,)], costad.ShapeError, "aligned"),
    (lambda v: np.vdot(*v), [(2, 3), (5,)], costad.ShapeError, "elements"),
    (lambda v: np.cross(*v), [(4,), (3,)], costad.ShapeError, "dimension must be 2 or 3"),
    (lambda v: np.cross(*v), [(3,), (3,)], None, None),
    (lambda v: np.cross(*v, axisa=1), [(3,), (3,)], costad.ShapeError, "axisa"),
    (lambda v: np.cross(*v, axisc=2), [(2, 3), (3,)], costad.ShapeError, "axisc"),
    (lambda v: np.cross(*v), [(2, 3), (4, 3)], costad.ShapeError, "cross"),
    (lambda v: np.cross(v[0], 1.0), [(3,)], costad.ShapeError, "scalars"),
    (lambda v: v[0] @ v[1], [(2, 3), (2, 3)], costad.ShapeError, "matmul"),
    (lambda v: v[0] @ 2.0, [(2, 3)], costad.ShapeError, "scalars"),
    (lambda v: np.matmul(*v, axes=[(0, 1), (0, 1), (0, 1)]), [(2, 2)] * 2,
     costad.UnsupportedOperationError, "matmul"),
])
def test_bad_arguments_give_a_named_error(f, shapes, error, word):
    xs = [rand(*s) for s in shapes]
    for mode in ("reverse", "forward"):
        if error is None:
            costad.grad(lambda v: np.sum(f(v)), mode=mode)(xs)
            continue
        with pytest.raises(error, match=word):
            costad.grad(lambda v: np.sum(f(v)), mode=mode)(xs)


# ------------------------------------------------------------------------------ nesting

NESTED = [
    (lambda x: np.einsum("ij,jk,kl->", x, x, x, optimize="greedy"), (3, 3)),
    (lambda x: np.einsum("ij,jk,kl->", x, x, x), (3, 3)),
    (lambda x: np.einsum("ii,ij,j->", x, x, x[0]), (3, 3)),
    (lambda x: np.sum(np.tensordot(x, x, ([0], [1])) ** 2), (2, 2)),
    (lambda x: np.sum(np.dot(x.reshape(2, 2, 2), x) * x[0]), (2, 4)),
    (lambda x: np.sum(np.cross(x[:, :3], x[:, 1:]) ** 2), (2, 4)),
    (lambda x: np.sum(np.kron(x, x) ** 2), (2, 2)),
    (lambda x: np.inner(x, x).sum() * np.vdot(x, x), (2, 3)),
    (lambda x: np.sum((x.reshape(1, 2, 3) @ x.T) ** 2), (2, 3)),
]


@pytest.mark.parametrize("f,shape", NESTED)
def test_second_derivatives_agree_across_nested_modes(f, shape):
    x = rand(*shape)
    ref = costad.jacobian(costad.grad(f, mode="reverse"), mode="forward")(x)
    n = x.size
    assert ref.shape == shape + shape
    np.testing.assert_allclose(ref.reshape(n, n), ref.reshape(n, n).T, rtol=1e-10,
                               atol=1e-10)
    for outer, inner in [("reverse", "forward"), ("reverse", "reverse"),
                         ("forward", "forward")]:
        got = costad.jacobian(costad.grad(f, mode=inner), mode=outer)(x)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10, err_msg=outer + inner)
    # grad of grad with finite differences outside reverse mode
    g0 = costad.grad(lambda t: costad.grad(f)(t)[0, 0], mode="fd-central")(x)
    np.testing.assert_allclose(g0, ref[0, 0], rtol=1e-5, atol=1e-6)


def test_hessian_of_a_trace_of_a_product_is_the_closed_form():
    # f(X) = tr(X X) = sum_ij X_ij X_ji: gradient 2 X^T, Hessian maps V to 2 V^T
    x, v = rand(3, 3), rand(3, 3)
    f = lambda t: np.einsum("ij,ji->", t, t)                               # noqa: E731
    for mode in MODES:
        np.testing.assert_allclose(costad.grad(f, mode=mode)(x), 2 * x.T, rtol=1e-6,
                                   atol=1e-7)
    np.testing.assert_allclose(costad.hvp(f, x, v), 2 * v.T, rtol=1e-14)


# ------------------------------------------------------------------ the primitive record

def test_the_contract_record_refuses_malformed_specs():
    contract = PRIMITIVES["contract"]
    a = rand(2, 3)
    for spec in ("ij", "ii->i", "ij->k"):
        with pytest.raises(costad.ShapeError, match="contract"):
            contract(a, spec=spec)
        with pytest.raises(ValueError):
            contract.abstract(costad.ShapeDtype((2, 3)), spec=spec)
    with pytest.raises(ValueError, match="sizes"):
        contract.abstract(costad.ShapeDtype((2, 3)), costad.ShapeDtype((4, 2)),
                          spec="ij,jk->ik")


def test_abstract_counts_need_no_memory_proportional_to_the_data():
    from costad.primitives import contractions as C
    n = 10 ** 6
    S = costad.ShapeDtype
    for f, x, expected in [
                (lambda x: C.einsum("ij,jk,kl->il", x, x, x, optimize="greedy"), S((n, n)),
                 {"mul": 2 * n ** 3, "add": 2 * n * n * (n - 1)}),
                (lambda x: C.einsum("ii->", x), S((n, n)), {"add": n - 1}),
                (lambda x: C.einsum("iij->j", x), S((n, n, 3)), {"add": 3 * (n - 1)}),
                (lambda x: C.tensordot(x, x, ([0], [1])), S((n, n)),
                 {"mul": n ** 3, "add": n * n * (n - 1)}),
                (lambda x: C.kron(x, x), S((n,)), {"mul": n * n}),
                (lambda x: C.cross(x, x), S((n, 3)), {"mul": 6 * n, "sub": 3 * n})]:
            with costad.counting() as c:
                out = f(x)
            assert isinstance(out, S)
            assert c.by_op == expected
            assert costad.count(f, x).by_op == expected


def test_supported_numpy_lists_the_contractions():
    names = set(costad.supported_numpy())
    assert {"numpy.dot", "numpy.inner", "numpy.vdot", "numpy.tensordot", "numpy.einsum",
            "numpy.einsum_path", "numpy.kron", "numpy.cross", "numpy.matmul",
            "numpy.outer"} <= names


# -------------------------------------------------------------- property: random einsums

LABELS = "abcd"


@st.composite
def einsum_programs(draw):
    sizes = {l: draw(st.integers(1, 3)) for l in LABELS}
    k = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from(LABELS), min_size=0, max_size=3)) for _ in range(k)]
    used = sorted(set("".join("".join(t) for t in terms)))
    if draw(st.booleans()):
        output = None                                         # implicit output
    else:
        output = draw(st.permutations(used))[:draw(st.integers(0, len(used)))]
    subs = ",".join("".join(t) for t in terms)
    if output is not None:
        subs += "->" + "".join(output)
    shapes = [tuple(sizes[l] for l in t) for t in terms]
    optimize = draw(st.sampled_from(OPTIMIZE))
    seed = draw(st.integers(0, 2 ** 16))
    return subs, shapes, optimize, seed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=einsum_programs())
def test_random_einsums_equal_numpy_and_agree_across_modes(program):
    subs, shapes, optimize, seed = program
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    expected = np.einsum(subs, *xs, optimize=optimize)
    f = lambda v: np.einsum(subs, *v, optimize=optimize)                   # noqa: E731
    value, _ = costad.vjp(f, xs)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(np.shape(expected))
    loss = lambda v: np.sum(np.sin(f(v)) * w)                              # noqa: E731
    g_rev = costad.grad(loss)(xs)
    g_fwd = costad.grad(loss, mode="forward")(xs)
    g_fd = costad.grad(loss, mode="fd-central")(xs)
    for r, fw, fd in zip(g_rev, g_fwd, g_fd):
        scale = 1.0 + np.abs(r).max(initial=0.0)
        np.testing.assert_allclose(fw, r, rtol=1e-10, atol=1e-12 * scale)
        np.testing.assert_allclose(fd, r, rtol=1e-5, atol=1e-6 * scale)
