"""`costad report`: figures, fits and reports/README.md from results (or --check them)."""
from __future__ import annotations

from pathlib import Path

from . import fail

__all__ = ["NAME", "HELP", "add_arguments", "run"]

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
            print(f"costad report --check: {args.out} does not match a rebuild from "
                  f"{args.results}:")
            for p in problems:
                print(f"  {p}")
            shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
            return fail(f"the report in {args.out} does not match a rebuild from "
                        f"{args.results} ({len(problems)} problem(s), listed above): {shown}")
        print(f"costad report --check: {args.out} matches a rebuild from {args.results}")
        return 0
    outcome = report.build(args.results, args.out)
    out = Path(args.out)
    print(f"written: {len(outcome.files)} files in {out} (figures in "
          f"{out / report.FIGURE_DIR}, report {out / 'README.md'})")
    if outcome.missing:
        print("built what the results allow; not built:")
        for name, reason in outcome.missing.items():
            print(f"  {name}: {reason.removeprefix('costad: ')}")
        return fail(f"results missing or unusable for {', '.join(outcome.missing)} "
                    "(listed above); the rest of the report is built")
    return 0
