"""pytest plugin: the ``counted_benchmark`` fixture, for costad's benchmarks and yours.

Installed with costad (entry point ``pytest11``, module ``costad.study.pytest_plugin``), so any project can write

    def test_my_gradient(counted_benchmark):
        counted_benchmark(costad.grad(f), x, strategy="reverse", n=x.size)

and get pytest-benchmark's timing plus the exact counts of one call in ``extra_info``
(``count_total``, ``count_<kind>``, ``stored_nodes``, ``stored_bytes``) and the keyword
arguments given. ``costad bench-compare`` then gates on the counts.
"""
from __future__ import annotations

import warnings

import pytest

__all__ = ["attach_counts", "counted_benchmark", "CountedBenchmarkWarning"]


class CountedBenchmarkWarning(UserWarning):
    """A benchmark whose counted call reached no costad operation (its counts are 0)."""


def attach_counts(benchmark, fn, *args, **info):
    """Count one call of ``fn(*args)`` and store the counts (and ``info``) in extra_info."""
    from costad import counting
    with counting() as c:
        fn(*args)
    if not c.calls:
        # Plain NumPy code never reaches costad: its count would be recorded as 0, a
        # number the gate would then guard as if it were the function's.
        warnings.warn(f"counted_benchmark: {getattr(fn, '__name__', 'fn')}(...) applied "
                      "no operation costad sees, so its counts are 0; wrap plain NumPy "
                      "code in costad.counted(fn) to count it", CountedBenchmarkWarning,
                      stacklevel=3)
    benchmark.extra_info.update(info)
    benchmark.extra_info["count_total"] = c.total
    for kind, n in sorted(c.by_op.items()):
        benchmark.extra_info[f"count_{kind}"] = n
    if c.stored_nodes:
        benchmark.extra_info["stored_nodes"] = c.stored_nodes
        benchmark.extra_info["stored_bytes"] = c.stored_bytes
    return c


@pytest.fixture
def counted_benchmark(benchmark):
    """``counted_benchmark(fn, *args, **info)``: attach the counts, then time ``fn(*args)``.

    Counting runs once, outside the timed calls, so timings carry no counting overhead.
    """
    def run(fn, *args, **info):
        attach_counts(benchmark, fn, *args, **info)
        return benchmark(fn, *args)
    return run
