"""`costad bench-compare`: fail if any count differs between two benchmark runs."""
from __future__ import annotations

import sys

from . import fail, positive_ratio

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "bench-compare"
HELP = "fail if any count differs between two benchmark runs"


def add_arguments(parser) -> None:
    parser.add_argument("base", metavar="BASE.json")
    parser.add_argument("new", metavar="NEW.json")
    parser.add_argument("--time-threshold", type=positive_ratio, default=None, metavar="RATIO",
                        help="also fail when a median time grows beyond this ratio, a finite "
                             "number above 0 (off by default)")


def run(args) -> int:
    from .. import bench
    try:
        base, new = bench.load_json(args.base), bench.load_json(args.new)
    except bench.BenchmarkFileError as err:
        return fail(str(err))
    if not base["benchmarks"]:
        # Nothing to compare against would let any change through.
        return fail(f"the baseline {args.base} has no benchmarks: the gate would pass "
                    "whatever changed")
    if not any(bench.counts_of(b) for b in base["benchmarks"]):
        # A plain pytest-benchmark run (no `counted_benchmark`): "counts equal" would be
        # said of no counts at all.
        return fail(f"the baseline {args.base} carries no counts (extra_info count_* or "
                    "stored_*; record it with the counted_benchmark fixture): the gate "
                    "would pass whatever changed")
    comparison = bench.compare(base, new, args.time_threshold)
    print(comparison.table())
    print("ratio = new / base median time; noise = combined IQR / median of both runs. "
          + ("Counts fail the gate on any change; times fail above x"
             f"{args.time_threshold:g}." if args.time_threshold else
             "Counts fail the gate on any change; times are reported, not gated."))
    if comparison.failed:
        print("costad bench-compare: FAILED", file=sys.stderr)
        return 1
    print("costad bench-compare: counts equal")
    return 0
