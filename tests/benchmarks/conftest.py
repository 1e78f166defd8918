"""Shared helpers for the benchmarks: every benchmark carries its exact counts."""
import pytest

import costad


def attach_counts(benchmark, fn, *args, **info):
    """Count one call of ``fn(*args)`` and store the counts (and ``info``) in extra_info."""
    with costad.counting() as c:
        fn(*args)
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
    """``counted_benchmark(fn, *args, **info)``: attach the counts, then time ``fn(*args)``."""
    def run(fn, *args, **info):
        attach_counts(benchmark, fn, *args, **info)
        return benchmark(fn, *args)
    return run
