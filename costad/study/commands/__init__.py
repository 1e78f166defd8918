"""The `costad` command: one module per subcommand (list, run, show, report, bench-table,
bench-compare, peers).

    costad list
    costad run NAME... | --all [--quick] [--results DIR] [--seed S] [--repeats N]
    costad show NAME [--results DIR]
    costad report [--results DIR] [--out DIR] [--check]
    costad bench-table FILE.json [--results DIR --name NAME]
    costad bench-compare BASE.json NEW.json [--time-threshold RATIO]
    costad peers [--pairs P ...] [--repeats N] [--peer NAME ...]

Each command module declares ``NAME`` (the subcommand), ``HELP``, ``add_arguments(parser)``
and ``run(args) -> exit code``; `build_parser` binds ``run`` with ``set_defaults(func=...)``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["main", "build_parser", "fail", "COMMANDS"]

# The command modules, in the order of `costad --help` (`listing` is `costad list`: a
# module called `list` would shadow the builtin in this package).
COMMANDS = ("listing", "run", "show", "report", "bench_table", "bench_compare", "peers")


def fail(message: str, code: int = 2) -> int:
    """Print one error line on stderr and return the exit code."""
    print(f"costad: error: {message}", file=sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="costad", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{module_name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `costad` command with ``argv`` (default: the process's arguments)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        args.argv = ["costad"] + argv          # recorded in the results' provenance
        return args.func(args)
    except BrokenPipeError:
        # The reader went away (`costad show NAME | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
