"""The `costad` command: one module per subcommand (list, run, calibrate, count, show,
report, bench-table, bench-compare, peers).

    costad list
    costad run NAME... | --all [--quick] [--results DIR] [--seed S] [--repeats N]
    costad calibrate [--quick] [--results DIR] [--seed S] [--repeats N]
    costad count PATH.py:FUNC --shape N[,N...] [--shape ...] [--dtype D] [--mode M] [--json]
    costad show NAME [--results DIR]
    costad report [--results DIR] [--out DIR] [--check]
    costad bench-table FILE.json [--results DIR --name NAME]
    costad bench-compare BASE.json NEW.json [--time-threshold RATIO]
    costad peers [--pairs P ...] [--repeats N] [--peer NAME ...]

Each command module declares ``NAME`` (the subcommand), ``HELP``, ``add_arguments(parser)``
and ``run(args) -> exit code``; `build_parser` binds ``run`` with ``set_defaults(func=...)``.

Exit codes: 0 success; 1 any failure, usage errors included (a wrong option is a failure
like any other, and scripts need one code to test); 130 interrupted. A failure is one line on
stderr, ``costad: error: ...``, never a traceback (``COSTAD_DEBUG=1`` shows the traceback of
an unexpected error).
"""
from __future__ import annotations

import argparse
import importlib
import math
import os
import sys

from ..errors import StudyError

__all__ = ["main", "build_parser", "fail", "COMMANDS", "UsageError", "positive_int",
           "nonnegative_int", "positive_ratio", "results_name"]

# The command modules, in the order of `costad --help` (`listing` is `costad list`: a
# module called `list` would shadow the builtin in this package).
COMMANDS = ("listing", "run", "calibrate", "count", "show", "report", "bench_table",
            "bench_compare", "peers")


class UsageError(Exception):
    """A command line argparse refused (unknown option, bad value, missing argument)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors raised (and printed by `main` in one line, exit code 1)
    instead of a usage block and exit code 2."""

    def error(self, message):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def fail(message: str, code: int = 1) -> int:
    """Print one error line on stderr and return the exit code."""
    # Library messages carry their own "costad: " prefix; the line carries it once.
    text = " ".join(str(message).split())
    while text.startswith("costad: "):
        text = text[len("costad: "):]
    print(f"costad: error: {text}", file=sys.stderr)
    return code


# ---------------------------------------------------------------- argument types

def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def positive_ratio(text: str) -> float:
    """argparse type: a finite number > 0 (NaN, inf, 0 and negatives refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
    return value


def results_name(text: str) -> str:
    """argparse type: a name for results files (no separators, no leading dot, not empty)."""
    from ..registry import valid_name
    if not valid_name(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid name: use letters, digits, '_', '.' and '-', starting "
            "with a letter or digit (it names the files NAME.csv and NAME.json)")
    return text


# ------------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="costad", description=__doc__.split("\n\n")[0])
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
    except KeyboardInterrupt:
        print("\ncostad: interrupted", file=sys.stderr)
        return 130
    except (UsageError, StudyError) as err:
        return fail(str(err))
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        return fail(f"cannot access{where}: {err.strerror or err}")
    except Exception as err:                          # a bug: still one line, but say so
        if os.environ.get("COSTAD_DEBUG"):
            raise
        return fail(f"internal error ({type(err).__name__}: {err}); please report it "
                    "(COSTAD_DEBUG=1 shows the traceback)")
