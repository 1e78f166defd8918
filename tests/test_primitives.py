"""The primitive table: every record complete, every rule agrees with central differences,
and every cost function follows the cost model."""
import numpy as np
import pytest

import costad
from costad import primitives as P
from costad.core import Joint, Primitive

from samples import Const, any_, collect, pos

RNG = np.random.default_rng(4321)
_pos, _any = pos, any_

# One sample call per differentiable primitive, by family (tests/samples/).
SAMPLES = collect()


def _split(args):
    """The differentiated arguments of a sample, and a function placing them back."""
    positions = [i for i, a in enumerate(args) if not isinstance(a, Const)]

    def place(xs):
        full = [a.value if isinstance(a, Const) else None for a in args]
        for i, x in zip(positions, xs):
            full[i] = x
        return full
    return [args[i] for i in positions], place


def _apply(name, args, params):
    return P.PRIMITIVES[name](*args, **params)


def test_every_record_is_complete():
    for name, prim in P.PRIMITIVES.items():
        assert isinstance(prim, Primitive) and prim.name == name
        assert callable(prim.impl) and callable(prim.cost), name
        assert prim.doc, f"{name} has no doc"
        if prim.differentiable:
            assert callable(prim.jvp), f"{name} lacks a JVP rule"
            if isinstance(prim.vjp, Joint):
                assert callable(prim.vjp.rule), name
            else:
                assert isinstance(prim.vjp, tuple) and prim.vjp, f"{name} lacks a VJP rule"
                assert any(callable(r) for r in prim.vjp), name
                assert all(r is None or callable(r) for r in prim.vjp), name
        else:
            assert prim.jvp is None and prim.vjp is None


def test_every_differentiable_primitive_has_a_sample():
    differentiable = {n for n, p in P.PRIMITIVES.items() if p.differentiable}
    differentiable.discard("stop_gradient")
    assert differentiable == set(SAMPLES)


def _central_jv(fun, xs, vs, h=1e-6):
    plus = fun(*[x + h * v for x, v in zip(xs, vs)])
    minus = fun(*[x - h * v for x, v in zip(xs, vs)])
    return (np.asarray(plus) - np.asarray(minus)) / (2 * h)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_jvp_and_vjp_agree_with_central_differences(name):
    all_args, params = SAMPLES[name]
    args, place = _split(all_args)
    vs = [RNG.standard_normal(np.shape(a)) for a in args]

    def fun(*xs):
        return _apply(name, place(xs), params)

    expected = _central_jv(fun, args, vs)
    _, tangent = costad.jvp(lambda xs: fun(*xs), list(args), vs)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-7)

    # Dot-product test: <ct, J v> = <J^T ct, v>.
    value, pullback = costad.vjp(lambda xs: fun(*xs), list(args))
    ct = RNG.standard_normal(np.shape(value))
    cts = pullback(ct)
    lhs = float(np.sum(ct * expected))
    rhs = sum(float(np.sum(c * v)) for c, v in zip(cts, vs))
    assert lhs == pytest.approx(rhs, rel=1e-6, abs=1e-7)


def _cost_of(fun):
    with costad.counting() as c:
        fun()
    return c.by_op


@pytest.mark.parametrize("m,k,p", [(1, 1, 1), (3, 4, 5), (7, 1, 2), (2, 9, 1)])
def test_matmul_costs_mkp_mul_and_m_k_minus_1_p_add(m, k, p):
    a, b = _any(m, k), _any(k, p)
    expected = {"mul": m * k * p, "add": m * (k - 1) * p}
    assert _cost_of(lambda: P.matmul(a, b)) == {kind: v for kind, v in expected.items() if v}


def test_matmul_of_vectors_and_batches():
    assert _cost_of(lambda: P.matmul(_any(5), _any(5))) == {"mul": 5, "add": 4}
    assert _cost_of(lambda: P.matmul(_any(3, 5), _any(5))) == {"mul": 15, "add": 12}
    assert _cost_of(lambda: P.matmul(_any(2, 3, 4), _any(4, 6))) == {"mul": 144, "add": 108}


@pytest.mark.parametrize("shape,axis,adds", [((7,), None, 6), ((3, 4), 0, 8), ((3, 4), 1, 9),
                                             ((2, 3, 4), (0, 2), 21), ((1,), None, 0)])
def test_sum_over_s_elements_costs_s_minus_1_adds(shape, axis, adds):
    assert _cost_of(lambda: P.sum_(_any(*shape), axis=axis)) == ({"add": adds} if adds else {})


def test_elementwise_costs_one_per_output_element_with_broadcasting():
    assert _cost_of(lambda: P.add(_any(3, 4), _any(4))) == {"add": 12}
    assert _cost_of(lambda: P.mul(2.0, _any(5))) == {"mul": 5}
    for name in ["exp", "tanh", "sin", "cos", "neg", "abs"]:
        assert _cost_of(lambda: P.PRIMITIVES[name](_any(2, 3))) == {name: 6}
    assert _cost_of(lambda: P.log(_pos(4))) == {"log": 4}
    assert _cost_of(lambda: P.pow(_pos(4), 3)) == {"pow": 4}


def test_structural_operations_are_free():
    x = _any(3, 4)
    for fun in [lambda: P.reshape(x, shape=(4, 3)), lambda: P.transpose(x),
                lambda: P.getitem(x, index=(1, 2)), lambda: P.broadcast_to(x, shape=(2, 3, 4)),
                lambda: P.concatenate(x, x, axis=1), lambda: P.where(x > 0, x, 0.0)]:
        by_op = _cost_of(fun)
        by_op.pop("greater", None)           # the comparison inside the where() example
        assert by_op == {}


def test_numpy_functions_dispatch_to_primitives():
    f = lambda x: np.sum(np.exp(x) @ np.ones((3, 2)), axis=0).mean()   # noqa: E731
    cost = costad.count(f, _any(4, 3))
    # exp 12; matmul (4,3)@(3,2): 24 mul, 16 add; sum axis 0 over 4 rows: 6 adds;
    # mean of 2: 1 add, 1 div
    assert cost.by_op == {"exp": 12, "mul": 24, "add": 16 + 6 + 1, "div": 1}


def _abstract_of(a):
    return costad.ShapeDtype(np.shape(a), np.asarray(a).dtype) if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_abstract_rule_gives_the_real_shape_and_dtype(name, dtype):
    all_args, params = SAMPLES[name]
    args, place = _split(all_args)
    args = [a.astype(dtype) for a in args]
    prim = P.PRIMITIVES[name]
    real = _apply(name, place(args), params)
    abstract = prim.abstract(*place([_abstract_of(a) for a in args]), **params)
    assert abstract == costad.ShapeDtype(np.shape(real), np.asarray(real).dtype)


def test_every_primitive_has_an_abstract_rule():
    assert [n for n, p in P.PRIMITIVES.items() if not callable(p.abstract)] == []


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_abstract_inputs_count_every_field_as_concrete_ones(name, mode):
    all_args, params = SAMPLES[name]
    args, place = _split(all_args)

    def f(xs):
        out = _apply(name, place(list(xs)), params)
        return costad.primitives.sum_(out * out)

    with costad.counting() as concrete:
        costad.value_and_grad(f, mode=mode)(list(args))
    with costad.counting() as abstract:
        costad.value_and_grad(f, mode=mode)([_abstract_of(a) for a in args])
    assert abstract == concrete
