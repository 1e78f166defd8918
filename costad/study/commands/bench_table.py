"""`costad bench-table`: a pytest-benchmark JSON as a tidy table (CSV, or results files)."""
from __future__ import annotations

import sys

from ..provenance import provenance
from ..registry import names
from ..results import ResultsError, write
from . import fail, results_name

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "bench-table"
HELP = "a pytest-benchmark JSON as a tidy table (CSV, or results files)"


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE.json")
    parser.add_argument("--results", default=None,
                        help="write NAME.csv and NAME.json there instead of printing CSV")
    parser.add_argument("--name", default="benchmarks", type=results_name,
                        help="the results' name, a plain file name without extension "
                             "(default: benchmarks)")


def run(args) -> int:
    from .. import bench
    try:
        data = bench.load_json(args.file)
    except bench.BenchmarkFileError as err:
        return fail(str(err))
    df = bench.to_tidy(data)
    if args.results is None:
        sys.stdout.write(df.to_csv(index=False, lineterminator="\n"))
        return 0
    taken = {n.casefold(): n for n in names()}
    if args.name.casefold() in taken:
        # The experiment's own results would be replaced by a benchmark table (lost, and
        # its report section then built from rows it does not know); on a case-insensitive
        # file system (macOS, Windows) "Graph.csv" is "graph.csv".
        experiment = taken[args.name.casefold()]
        return fail(f"--name {args.name!r} names the results of the experiment "
                    f"{experiment!r} ({experiment}.csv and .json), which it would replace; "
                    "choose another name")
    meta = provenance(args.argv, source=str(args.file),
                      machine_info=data.get("machine_info"),
                      commit_info=data.get("commit_info"),
                      description=f"pytest-benchmark run {args.file}")
    try:
        csv_file, json_file = write(df, args.name, args.results, meta)
    except ResultsError as err:
        return fail(str(err))
    print(f"written: {csv_file} ({len(df)} rows) and {json_file}")
    return 0
