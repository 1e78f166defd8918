"""One benchmark per gradient strategy over a small grid of n, counts attached (issue 6)."""
import pytest

import costad
from costad.functions import FAMILIES


@pytest.mark.benchmark(group="gradient-seed")
@pytest.mark.parametrize("mode", costad.MODES)
@pytest.mark.parametrize("n", [16, 64, 256])
def test_gradient_strategy(counted_benchmark, mode, n):
    family = FAMILIES["seed"]
    f, x = family.build(n, 0)
    counted_benchmark(costad.value_and_grad(f, mode=mode), x, strategy=mode, n=n,
                      function="seed", K=family.K(n))
