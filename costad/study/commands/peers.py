"""`costad peers`: time costad and the installed peers on the scalar-code loop."""
from __future__ import annotations

import pandas as pd

from . import fail, positive_int

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "peers"
HELP = "time costad and the installed peers (PyTorch, JAX, HIPS autograd) on the scalar-code loop"


def add_arguments(parser) -> None:
    parser.add_argument("--pairs", type=positive_int, nargs="+", default=[250, 1000, 4000], metavar="P",
                        help="numbers of pairs (default: 250 1000 4000)")
    parser.add_argument("--repeats", type=positive_int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--peer", nargs="+", default=None, metavar="NAME",
                        help="peers to time (default: every one installed of torch, jax, "
                             "autograd)")


def run(args) -> int:
    from .. import peers
    try:
        rows = peers.scalar_loop_rows(args.pairs, args.repeats, args.peer)
    except ValueError as err:
        return fail(str(err))
    frame = pd.DataFrame(rows, columns=peers.scalar.ROW_FIELDS)
    frame = frame.astype({"pairs": "Int64", "K": "Int64", "W": "Int64"})   # exact, NA-safe
    with pd.option_context("display.width", 250, "display.max_rows", 500,
                           "display.max_colwidth", 200):
        print(frame.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3g}"))
    print("Seed example over P pairs in a Python loop, value and gradient. K: operations of f; "
          "W: operations of value and gradient, both counted by costad. Times: minimum over "
          f"{args.repeats} interleaved rounds (perf_counter, seconds), every library on one "
          "thread, after each peer's value "
          "and gradient were checked against costad's (1e-10). JAX's compiled variant is "
          "timed after its compilation. HIPS autograd is timed with Python's cyclic garbage "
          "collector as is and paused: its growth with P comes from the collector, not from "
          "its indexing.")
    return 0
