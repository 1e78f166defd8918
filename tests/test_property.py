"""Random programs (hypothesis): forward and reverse agree, both agree with central
differences, and reverse-mode cost stays within the bound derived from the table."""
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import costad

UNARY = {
    "exp": lambda a: np.exp(np.tanh(a)),          # keep values moderate
    "log": lambda a: np.log(a * a + 1.0),
    "sqrt": lambda a: np.sqrt(a * a + 0.5),
    "tanh": np.tanh, "sin": np.sin, "cos": np.cos, "neg": lambda a: -a,
    "square": lambda a: a ** 2,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
}

step = st.one_of(
    st.tuples(st.just("u"), st.sampled_from(sorted(UNARY)), st.integers(0, 99)),
    st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)), st.integers(0, 99),
              st.integers(0, 99)),
    st.tuples(st.just("sum"), st.just(""), st.integers(0, 99)),
    st.tuples(st.just("idx"), st.just(""), st.integers(0, 99), st.integers(0, 99)),
)


def build(program, n):
    """A program as a list of steps over a growing list of values (arrays of size n or
    scalars); the output is the sum of the last value."""
    def f(x):
        values = [x]
        for kind, name, *refs in program:
            a = values[refs[0] % len(values)]
            if kind == "u":
                values.append(UNARY[name](a))
            elif kind == "b":
                values.append(BINARY[name](a, values[refs[1] % len(values)]))
            elif kind == "sum":
                values.append(np.sum(a))
            else:
                values.append(a[refs[1] % n] if np.ndim(a) == 1 else a)
        return np.sum(values[-1])
    return f


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RANDOM_PROGRAMS = given(program=st.lists(step, min_size=1, max_size=12),
                        x=st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=5))


@SETTINGS
@RANDOM_PROGRAMS
def test_random_programs_agree_across_modes(program, x):
    x = np.array(x)
    f = build(program, x.size)
    g_rev = costad.grad(f)(x)
    g_fwd = costad.grad(f, mode="forward")(x)
    scale = 1.0 + np.abs(g_rev).max()
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-9, atol=1e-10 * scale)
    g_fd = costad.grad(f, mode="fd-central")(x)
    np.testing.assert_allclose(g_fd, g_rev, rtol=1e-4, atol=1e-5 * scale)


# Worst case over these primitives of (forward + VJP + accumulation) / forward: tanh costs
# 1 + 3 (its VJP: out*out, 1 - that, times ct) + 1 accumulation add = 5 per operation; a
# division 1 + 3 + 2, with a shared factor. Sums and structural reads only add
# accumulation. So value and gradient cost at most 6 K, plus one add per scalar read.
RATIO_BOUND = 6


@SETTINGS
@RANDOM_PROGRAMS
def test_random_programs_reverse_cost_within_bound(program, x):
    x = np.array(x)
    f = build(program, x.size)
    graph = costad.trace(f, x)
    K = graph.cost.total
    reads = sum(1 for node in graph.operations if node.op == "getitem")
    with costad.counting() as c:
        costad.value_and_grad(f)(x)
    assert c.total <= RATIO_BOUND * K + reads


# ------------------------------------------------ random programs over every family

def _spread(v):
    """Equal entries made distinct (sort has no derivative at a tie, where differences
    average the two orders)."""
    return v + 0.37 * np.arange(v.shape[0])


def _vector(a):
    """Any value as a 1-D array of at least 2 elements (broadcasting a scalar)."""
    return a if np.ndim(a) == 1 else np.stack([a, a * 0.5])


FAMILY_UNARY = {
    "tan": lambda a: np.tan(0.5 * np.tanh(a)),
    "arctan": np.arctan, "sinh": lambda a: np.sinh(np.tanh(a)), "log1p": lambda a: np.log1p(
        a * a), "expm1": lambda a: np.expm1(np.tanh(a)), "hypot": lambda a: np.hypot(a, 0.5),
    "cumsum": lambda a: np.cumsum(_vector(a)), "cumprod": lambda a: np.cumprod(
        np.tanh(_vector(a))), "prod": lambda a: np.prod(np.tanh(_vector(a))),
    "var": lambda a: np.var(_vector(a)), "norm": lambda a: np.linalg.norm(_vector(a) + 1.0),
    "flip": lambda a: np.flip(_vector(a)), "roll": lambda a: np.roll(_vector(a), 1),
    "tile": lambda a: np.tile(_vector(a), 2)[1:], "sort": lambda a: np.sort(_spread(_vector(a))),
    "outer": lambda a: np.einsum("i,j->ij", _vector(a), _vector(a)).ravel(),
    "dot": lambda a: np.dot(_vector(a), _vector(a)[::-1]),
    "stack": lambda a: np.array([np.sum(a), np.mean(a * a)]),
}

family_step = st.one_of(
    st.tuples(st.just("f"), st.sampled_from(sorted(FAMILY_UNARY)), st.integers(0, 99)),
    st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)), st.integers(0, 99),
              st.integers(0, 99)),
)


def build_family(program):
    def f(x):
        values = [x]
        for kind, name, *refs in program:
            a = values[refs[0] % len(values)]
            if kind == "f":
                values.append(FAMILY_UNARY[name](a))
            else:
                b = values[refs[1] % len(values)]
                if np.shape(a) != np.shape(b):
                    b = np.sum(b)
                values.append(BINARY[name](a, b))
        return np.sum(values[-1])
    return f


@SETTINGS
@given(program=st.lists(family_step, min_size=1, max_size=8),
       x=st.lists(st.floats(-1.2, 1.2), min_size=2, max_size=4))
def test_random_programs_over_every_family_agree_and_count_abstractly(program, x):
    assume(len(set(x)) == len(x))            # ties are where sort is not differentiable
    x = np.array(x)
    f = build_family(program)
    g_rev = costad.grad(f)(x)
    g_fwd = costad.grad(f, mode="forward")(x)
    scale = 1.0 + np.abs(g_rev).max()
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-9, atol=1e-10 * scale)
    g_fd = costad.grad(f, mode="fd-central")(x)
    np.testing.assert_allclose(g_fd, g_rev, rtol=1e-4, atol=1e-5 * scale)
    spec = costad.ShapeDtype(x.shape)
    for mode in ("reverse", "forward"):
        assert (costad.count(costad.value_and_grad(f, mode=mode), spec)
                == costad.count(costad.value_and_grad(f, mode=mode), x))
