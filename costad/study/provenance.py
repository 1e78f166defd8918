"""Where and how results were produced: the JSON written beside each results CSV.

BLAS and threads come from `threadpoolctl`, which inspects the libraries loaded in this
process: the BLAS actually in use, its version, its SIMD kernel ("architecture", the reason
floating point can differ in the last digits between machines) and the number of threads it
runs. `numpy.show_config` only reports what NumPy was built against, recorded beside it.
Paths of this machine (library file names) are left out.
"""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["provenance", "blas_build", "thread_pools"]

# The keys of threadpoolctl's report worth keeping (not "filepath" or "prefix": paths).
_POOL_KEYS = ("user_api", "internal_api", "version", "num_threads", "threading_layer",
              "architecture")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def blas_build() -> dict:
    """The BLAS NumPy was built against (name and version), from `numpy.show_config`."""
    try:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return {"name": blas.get("name"), "version": blas.get("version")}
    except Exception:                               # older NumPy: no dict mode
        return {}


def thread_pools() -> list[dict]:
    """The native thread pools loaded in this process (BLAS, OpenMP), as in use now."""
    from threadpoolctl import threadpool_info
    return [{k: pool.get(k) for k in _POOL_KEYS} for pool in threadpool_info()]


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(argv: list[str] | None = None, **extra) -> dict:
    """Where and how results were produced (the JSON beside each CSV)."""
    import pandas as pd

    from costad import __version__
    commit = _git("rev-parse", "HEAD")
    # Results and reports are outputs, not inputs: writing them does not make a run dirty.
    dirty = _git("status", "--porcelain", "--", ":/", ":(top,exclude)results",
                 ":(top,exclude)reports")
    clock = time.get_clock_info("perf_counter")
    pools = thread_pools()
    info = {
        "costad_version": __version__,
        "git_commit": commit,
        "git_dirty": None if dirty is None else bool(dirty),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "blas": blas_build(),
        "thread_pools": pools,
        "threads": {"cpu_count": os.cpu_count(),
                    "blas": [p["num_threads"] for p in pools if p["user_api"] == "blas"],
                    **{k: os.environ[k] for k in _THREAD_VARIABLES if k in os.environ}},
        "cpu": _cpu(),
        "os": platform.platform(),
        "argv": list(sys.argv if argv is None else argv),
        "timer": {"name": "time.perf_counter", "resolution_s": clock.resolution},
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
    }
    info.update(extra)
    return info
