"""`costad report`: figures, fits and reports/README.md from results (or --check them)."""
from __future__ import annotations

import sys
from pathlib import Path

NAME = "report"
HELP = "figures, fits and reports/README.md from results"


def add_arguments(parser) -> None:
    parser.add_argument("--results", default="results",
                        help="results folder (default: results)")
    parser.add_argument("--out", default="reports", help="report folder (default: reports)")
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and fail if anything differs")


def run(args) -> int:
    from .. import report                  # matplotlib is imported only when reporting
    if args.check:
        problems = report.check(args.results, args.out)
        if problems:
            print("costad report --check: the report does not match a rebuild:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"costad report --check: {args.out} matches a rebuild from {args.results}")
        return 0
    outcome = report.build(args.results, args.out)
    out = Path(args.out)
    print(f"written: {len(outcome.files)} files in {out} (figures in "
          f"{out / report.FIGURE_DIR}, report {out / 'README.md'})")
    if outcome.missing:
        print("costad report: built what it could; missing results:", file=sys.stderr)
        for name, reason in outcome.missing.items():
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0
