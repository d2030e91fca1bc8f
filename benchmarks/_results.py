"""Shared helpers for the benchmark scripts: interleaved timing, peak memory, the machine, results.

Every ``bench_*.py`` times execlab and its baselines *interleaved* (one call of each
per round, in rotating order, many rounds) and reports medians, because the
development machine is shared and its load varies within a run.  Each result
row is appended as one JSON line to ``benchmarks/results.jsonl``;
``benchmarks/write_results.py`` renders ``benchmarks/RESULTS.md`` and the
README's speed table from that file.  A ratio always reads "execlab is N x
faster than the baseline" (below 1 means slower).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

RESULTS = Path(__file__).with_name("results.jsonl")


def machine() -> dict:
    """CPU model, cores, RAM and the versions that matter for the timings."""
    import numpy as np
    import pandas as pd

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "os": f"{platform.system()} {platform.release()}",
    }


def print_machine() -> None:
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; "
          f"Python {m['python']}, numpy {m['numpy']}, pandas {m['pandas']}")


def interleaved(fns: dict, rounds: int = 15, min_time: float = 0.0) -> dict[str, float]:
    """Median wall time (s) of each callable, timed one call of each per round.

    The order within a round rotates, so none of them always runs first (warm
    caches) or last.  ``min_time`` stops early once every function has had at
    least 3 rounds and the total has passed it (for slow baselines).
    """
    names = list(fns)
    times: dict[str, list[float]] = {k: [] for k in names}
    t_start = time.perf_counter()
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for k in order:
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
        if min_time and r >= 2 and time.perf_counter() - t_start > min_time:
            break
    return {k: statistics.median(v) for k, v in times.items()}


def peak_bytes(fn) -> tuple[int, object]:
    """Peak memory traced (tracemalloc; numpy and pandas buffers included) during one call."""
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, out


def fit_exponent(sizes, times) -> float:
    """Slope of log(time) against log(size), least squares."""
    import numpy as np

    return float(np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(times, float)), 1)[0])


def record(bench: str, case: str, **fields) -> None:
    """Append one result row (a JSON line) to ``benchmarks/results.jsonl``.

    Conventional fields: ``execlab_s``, ``baseline``, ``baseline_s``, ``ratio``
    (baseline / execlab: how many times faster execlab is), ``target`` (text),
    ``met`` (bool or None when the row is informational), ``note``.
    """
    row = {"bench": bench, "case": case, "script": Path(sys.argv[0]).name,
           "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **fields}
    with RESULTS.open("a") as f:
        f.write(json.dumps(row, default=float) + "\n")
