"""`costad peers`: time costad and the installed peers on the scalar-code loop, or (``--mlp``)
on the speed case of array code."""
from __future__ import annotations

import pandas as pd

from . import fail, positive_int
from .run import add_cpu_arguments, one_cpu

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "peers"
HELP = ("time costad and the installed peers (PyTorch, JAX, HIPS autograd) on the scalar-code "
        "loop, or with --mlp on the MLP of array code")

_DEFAULT_PAIRS = [250, 1000, 4000]
_DEFAULT_LOOP_ROUNDS = 5


def add_arguments(parser) -> None:
    parser.add_argument("--mlp", action="store_true",
                        help="time the speed case of array code instead: the MLP loss over a "
                             "list of parameters, widths 512 x 5, batch 256 (f+grad / f, "
                             "target 2.8)")
    parser.add_argument("--pairs", type=positive_int, nargs="+", default=None, metavar="P",
                        help="numbers of pairs of the scalar loop (default: 250 1000 4000)")
    parser.add_argument("--repeats", type=positive_int, default=None,
                        help=f"timed rounds (default {_DEFAULT_LOOP_ROUNDS}; with --mlp 40)")
    parser.add_argument("--peer", nargs="+", default=None, metavar="NAME",
                        help="peers to time (default: every one installed of torch, jax, "
                             "autograd)")
    add_cpu_arguments(parser)


def run(args) -> int:
    if args.mlp and args.pairs is not None:
        return fail("--pairs sets the scalar loop's sizes; --mlp times one case, of one size")
    # Every library on the same core: on a shared machine cores differ in speed (`one_cpu`).
    try:
        with one_cpu(args.cpu, not args.no_pin) as cpu:
            return _run_mlp(args, cpu) if args.mlp else _run_loop(args, cpu)
    except ValueError as err:
        return fail(str(err))


def _on(cpu) -> str:
    return f"on CPU {cpu}" if cpu is not None else "not pinned to a CPU"


def _run_loop(args, cpu) -> int:
    from .. import peers
    repeats = args.repeats or _DEFAULT_LOOP_ROUNDS
    rows = peers.scalar_loop_rows(args.pairs or _DEFAULT_PAIRS, repeats, args.peer)
    frame = pd.DataFrame(rows, columns=peers.scalar.ROW_FIELDS)
    frame = frame.astype({"pairs": "Int64", "K": "Int64", "W": "Int64"})   # exact, NA-safe
    _print(frame)
    print("Seed example over P pairs in a Python loop, value and gradient. K: operations of f; "
          "W: operations of value and gradient, both counted by costad. Times: minimum over "
          f"{repeats} interleaved rounds (perf_counter, seconds), every library on one "
          f"thread ({_on(cpu)}), after each peer's value "
          "and gradient were checked against costad's (1e-10). JAX's compiled variant is "
          "timed after its compilation. HIPS autograd is timed with Python's cyclic garbage "
          "collector as is and paused: its growth with P comes from the collector, not from "
          "its indexing.")
    return 0


def _run_mlp(args, cpu) -> int:
    from ..peers import mlp_list
    repeats = args.repeats or mlp_list.DEFAULT_MLP_ROUNDS
    rows = mlp_list.mlp_list_rows(repeats, args.peer)
    _print(pd.DataFrame(rows, columns=mlp_list.MLP_FIELDS).astype({"rounds": "Int64"}))
    costad = next((r for r in rows if r["tool"] == "costad" and r["ratio_min"] is not None),
                  None)
    if costad is not None:
        verdict = ("met" if max(costad["ratio_min"], costad["ratio_median"])
                   <= mlp_list.MLP_TARGET else "not met")
        print(f"Target f+grad / f <= {mlp_list.MLP_TARGET:g} for costad: {verdict} "
              f"(ratio of minima {costad['ratio_min']:.2f}, of medians "
              f"{costad['ratio_median']:.2f}).")
    print("MLP loss over a list of parameter arrays (widths 512 x 5, batch 256, 512 classes), "
          "value and gradient. Times in seconds, minimum and median over "
          f"{repeats} interleaved rounds (perf_counter, garbage collector paused during each "
          f"call), every library on one thread ({_on(cpu)}), after each tool's value and "
          "gradient were "
          "checked against costad's (1e-10). f is each tool's own loss alone (plain NumPy for "
          "costad and hand); hand is the backpropagation written by hand in NumPy, the floor "
          "without fused kernels.")
    return 0


def _print(frame: pd.DataFrame) -> None:
    with pd.option_context("display.width", 250, "display.max_rows", 500,
                           "display.max_colwidth", 200):
        print(frame.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3g}"))
