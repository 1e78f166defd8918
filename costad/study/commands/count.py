"""`costad count PATH.py:FUNC --shape N ...`: what a gradient of your function costs, at any
size, without running it.

The file is loaded from its path (no change to ``sys.path``), and FUNC is counted on
abstract inputs (`costad.ShapeDtype`: shapes and a dtype, no data), so n = 10^9 costs
milliseconds and no memory of that size. Each ``--shape`` is one positional argument of
FUNC (``--shape 1000000`` for f(x) with x a vector, ``--shape 30,20 --shape 20`` for
f(W, b)); the gradient is taken with respect to all of them together, and n is their total
number of scalars. ``--shape ""`` is a scalar argument.

For each strategy it prints the counted operations (total and per kind), their ratio to K
(the count of one evaluation of FUNC), the primitive calls and bytes moved, the reverse
tape's peak memory, and, when a calibration of this machine exists (``costad calibrate``),
the predicted time and its regime (float64 inputs only: the calibration measures float64
operations).
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["NAME", "HELP", "add_arguments", "run", "parse_shape", "load_function",
           "count_strategies", "STRATEGIES"]

NAME = "count"
HELP = ("count what a gradient of a function in your file costs, at any size, without "
        "running it")
STRATEGIES = ("eval", "fd", "fd-central", "forward", "reverse")


class _CountError(Exception):
    """A one-line failure of `costad count`."""


def parse_shape(text: str) -> tuple[int, ...]:
    """A shape from the command line: "1000000", "30,20", "30x20", "(30, 20)"; "" or "()"
    is a scalar."""
    refused = ValueError(f"--shape expects integers separated by commas, got {text!r}")
    cleaned = text.strip().replace(" ", "")
    # One pair of brackets, matched; not any mix of them stripped from both ends.
    if cleaned[:1] in ("(", "["):
        if cleaned[-1:] != {"(": ")", "[": "]"}[cleaned[0]]:
            raise refused
        cleaned = cleaned[1:-1]
    if cleaned == "":
        return ()
    # One trailing comma is Python's one-element tuple, "(3,)"; an empty part anywhere
    # else ("3,,4", "3x") is a typo, and dropping it would count another shape than meant.
    parts = cleaned.removesuffix(",").replace("x", ",").split(",")
    try:
        shape = tuple(int(p) for p in parts)   # int("") fails: an empty part is refused
    except ValueError:
        raise refused from None
    if any(n < 0 for n in shape):
        raise ValueError(f"--shape cannot be negative, got {text!r}")
    return shape


def add_arguments(parser) -> None:
    parser.add_argument("target", metavar="PATH.py:FUNC",
                        help="the file defining the function, and its name")
    parser.add_argument("--shape", action="append", required=True, metavar="SHAPE",
                        help="the shape of one positional argument (e.g. 1000000 or 30,20); "
                             "once per argument")
    parser.add_argument("--dtype", default="float64",
                        help="the inputs' floating dtype (default float64)")
    parser.add_argument("--mode", default="all", choices=("all",) + STRATEGIES,
                        help="which strategy to count (default all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--results", default="results",
                        help="folder holding this machine's calibration (default: results)")


def _split_target(target: str) -> tuple[Path, str]:
    path, sep, func = target.rpartition(":")
    if not sep or not path or not func:
        raise _CountError(f"expected PATH.py:FUNC (a file and the name of a function in it), "
                          f"got {target!r}")
    return Path(path), func


def load_function(path: Path, func: str):
    """The object ``func`` (a name, or a dotted attribute path) defined by the Python file
    at ``path``, loaded under a private module name; ``sys.path`` is left as it was."""
    if not path.exists():
        raise _CountError(f"{path} does not exist")
    if not path.is_file():
        raise _CountError(f"{path} is not a file")
    module_name = f"_costad_count_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise _CountError(f"{path} is not a Python file that can be loaded")
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs (dataclasses and pickling look modules up by name), then
    # removed: loading a user's file leaves no trace in the process.
    sys.modules[module_name] = module
    # The file's top-level code sees the command line it would see run with no arguments:
    # costad's own (`count PATH:FUNC --shape ...`) would only confuse a script's argparse.
    argv, sys.argv = sys.argv, [str(path)]
    try:
        spec.loader.exec_module(module)
    except SystemExit as err:
        # A script's top-level code exiting (argparse on a required argument, sys.exit)
        # would end costad with its code and no word of why.
        raise _CountError(f"cannot load {path}: its top-level code called sys.exit("
                          f"{err.code!r}); keep script code under "
                          f"`if __name__ == \"__main__\":`") from None
    except SyntaxError as err:
        # (No line for a file Python refuses whole: null bytes, say.)
        where = f" at line {err.lineno}" if err.lineno else ""
        raise _CountError(f"cannot load {path}: SyntaxError{where}: {err.msg}") from None
    except OSError as err:
        raise _CountError(f"cannot read {path}: {err.strerror or err}") from None
    except Exception as err:
        raise _CountError(f"cannot load {path}: it raised {type(err).__name__}: "
                          f"{err}") from None
    finally:
        sys.modules.pop(module_name, None)
        sys.argv = argv
    target = module
    for part in func.split("."):
        if not hasattr(target, part):
            defined = sorted(k for k, v in vars(module).items()
                             if callable(v) and not k.startswith("_")
                             and getattr(v, "__module__", None) == module_name)
            raise _CountError(f"{path} has no function {func!r} (it defines: "
                              f"{', '.join(defined) or 'no functions'})")
        target = getattr(target, part)
    if not callable(target):
        raise _CountError(f"{func!r} in {path} is a {type(target).__name__}, not a function")
    return target


def count_strategies(f, specs: list, modes) -> dict:
    """The `costad.Cost` of one evaluation (``eval``) and of `value_and_grad` by each other
    strategy of ``modes``, on the abstract inputs ``specs`` (one per positional argument of
    ``f``)."""
    from ..abstract import strategy_cost

    def packed(args):
        return f(*args)

    return {mode: strategy_cost(packed, tuple(specs), mode) for mode in modes}


def _human_bytes(n: int) -> str:
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6),
                       ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def _describe_error(err: Exception, shapes, dtype) -> str:
    import costad
    args = ", ".join(f"ShapeDtype({s}, {dtype})" for s in shapes)
    text = " ".join(str(err).split()).removeprefix("costad: ")
    if isinstance(err, costad.AbstractValueError):
        return f"the function needs values, not only shapes, on {args}: {text}"
    if isinstance(err, (costad.ShapeError, costad.NonScalarOutputError,
                        costad.OutputTypeError, costad.InputTypeError)):
        return f"the function rejects inputs {args}: {text}"
    if isinstance(err, costad.UnsupportedOperationError):
        return f"the function uses something costad cannot count: {text}"
    return f"the function failed on inputs {args}: {type(err).__name__}: {text}"


def run(args) -> int:
    from ..calibration import load_for_run
    from ..model import human_seconds, predict
    from . import fail
    import costad

    try:
        path, func = _split_target(args.target)
        try:
            shapes = [parse_shape(s) for s in args.shape]
        except ValueError as err:
            raise _CountError(str(err)) from None
        try:
            dtype = np.dtype(args.dtype)
        except TypeError:
            raise _CountError(f"--dtype {args.dtype!r} is not a NumPy dtype") from None
        if dtype.kind != "f":
            raise _CountError(f"--dtype must be a floating dtype (float16, float32, "
                              f"float64), got {dtype}")
        f = load_function(path, func)
        specs = [costad.ShapeDtype(s, dtype) for s in shapes]
        if args.mode == "all":
            modes = STRATEGIES
        else:                                     # K is always counted: ratios need it
            modes = tuple(dict.fromkeys(("eval", args.mode)))
        costs, uncounted = {}, {}
        for mode in modes:
            try:
                costs.update(count_strategies(f, specs, (mode,)))
            except SystemExit as err:             # not an Exception, and not a count
                raise _CountError(f"the function called sys.exit({err.code!r}) on inputs "
                                  f"{', '.join(f'ShapeDtype({s}, {dtype})' for s in shapes)}"
                                  ) from None
            except Exception as err:              # the user's function: any failure
                # With --mode all, a strategy that only this strategy's rules cannot count
                # on abstract inputs (reverse mode through a strided index at 10^9) is
                # named in its row; the value itself, or a single strategy asked for,
                # failing is the command's error.
                if (mode == "eval" or args.mode != "all"
                        or not isinstance(err, costad.UnsupportedOperationError)):
                    raise _CountError(_describe_error(err, shapes, dtype)) from None
                uncounted[mode] = _describe_error(err, shapes, dtype)
    except _CountError as err:
        return fail(str(err))
    calibration, how = load_for_run(args.results)
    if calibration is not None and dtype != np.float64:
        # Every rate in the calibration is float64's: another dtype's time would be a guess.
        calibration, how = None, (f"the calibration measures float64 operations, and the "
                                  f"inputs are {dtype}")
    n = sum(spec.size for spec in specs)
    K = costs["eval"].total
    table = {}
    for mode, cost in costs.items():
        entry = {"total": cost.total, "by_op": dict(sorted(cost.by_op.items())),
                 "ratio_to_K": cost.total / K if K else None,
                 "calls": cost.total_calls, "bytes": cost.bytes}
        if mode == "reverse":
            entry.update(tape_bytes=cost.stored_bytes, peak_bytes=cost.peak_bytes)
        if calibration is not None:
            p = predict(cost, calibration, mode)
            entry.update(predicted_s=p.seconds, regime=p.dominant)
        table[mode] = entry
    if args.json:
        print(json.dumps({"function": func, "file": str(path),
                          "inputs": [{"shape": list(s), "dtype": str(dtype)} for s in shapes],
                          "n": n, "K": K, "strategies": table, "not_counted": uncounted,
                          "calibration": how if calibration is not None else None,
                          "prediction_note": None if calibration is not None else how},
                         indent=2))
        return 0
    arguments = ", ".join(f"{s}" for s in shapes)
    print(f"{func} in {path}: n = {n:,} inputs ({dtype}; argument shapes {arguments}); "
          f"K = {K:,} operations per evaluation")
    header = f"{'strategy':<11} {'operations':>26} {'/ K':>10} {'calls':>14} {'bytes':>10}"
    if calibration is not None:
        header += f" {'predicted (this machine)':>26}"
    print(header)
    for mode, e in table.items():
        ratio = "" if e["ratio_to_K"] is None else f"{e['ratio_to_K']:.4g}"
        line = (f"{mode:<11} {e['total']:>26,} {ratio:>10} {e['calls']:>14,} "
                f"{_human_bytes(e['bytes']):>10}")
        if calibration is not None:
            line += f" {human_seconds(e['predicted_s']) + ' (' + e['regime'] + ')':>26}"
        print(line)
    for mode, reason in uncounted.items():
        print(f"{mode:<11} not counted: {reason}")
    for mode, e in table.items():
        kinds = ", ".join(f"{k}={v:,}" for k, v in e["by_op"].items())
        print(f"  {mode}: {kinds or 'no operations'}")
    if "reverse" in table:
        r = table["reverse"]
        print(f"reverse mode keeps a tape of {_human_bytes(r['tape_bytes'])}; its sweep "
              f"peaks at {_human_bytes(r['peak_bytes'])}")
    print(how if calibration is not None else f"no predicted times: {how}")
    return 0
