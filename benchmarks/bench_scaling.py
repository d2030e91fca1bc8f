"""Scaling: time and peak memory of simulate and shortfall at three sizes, with fitted exponents.

* ``execlab.simulate``: 1,000 / 10,000 / 100,000 parent orders, TWAP over 390
  one-minute bins of the real session (participation cap off, square-root impact).
* ``execlab.shortfall``: 100,000 / 1,000,000 / 10,000,000 synthetic fills of
  10,000 / 10,000 / 100,000 orders on the real bars.

The third row of the README's scaling table (``Executor.run`` at 1,000 / 10,000 /
100,000 decisions) is written by ``bench_engine.py``.  Time is one call after a
warm-up (wall clock); peak memory is traced by tracemalloc in a second call.
The exponent is the slope of log(time) (or log(peak)) against log(size).

Run:  .venv/bin/python benchmarks/bench_scaling.py
"""

from __future__ import annotations

import time

import numpy as np

import execlab as ex
from _results import fit_exponent, peak_bytes, print_machine, record
from bench_shortfall import simulate_case, synthetic_batch


def measure(run) -> tuple[float, float]:
    t0 = time.perf_counter()
    run()
    dt = time.perf_counter() - t0
    peak, _ = peak_bytes(run)
    return dt, peak


def report(case: str, sizes, times, peaks) -> None:
    te, me = fit_exponent(sizes, times), fit_exponent(sizes, peaks)
    for n, t, p in zip(sizes, times, peaks):
        print(f"  {n:>12,}: {t:8.3f} s, peak {p / 2**20:8.1f} MiB")
    print(f"  time ~ n^{te:.2f}, peak memory ~ n^{me:.2f}")
    record("scaling", case, sizes=list(sizes), times=list(times), peaks_mib=[p / 2**20 for p in peaks],
           time_exponent=te, memory_exponent=me, met=None)


def main() -> int:
    print_machine()
    bars = ex.load_bars("1min")
    mkt = ex.load_market("1min")

    print("simulate, TWAP over 390 one-minute bins:")
    sizes, times, peaks = (1_000, 10_000, 100_000), [], []
    for n in sizes:
        run, _ = simulate_case(mkt, n)
        run() if n == sizes[0] else None  # warm-up
        t, p = measure(run)
        times.append(t)
        peaks.append(p)
        del run
    report("simulate (orders x 390 bins)", sizes, times, peaks)

    print("shortfall:")
    sizes, times, peaks = (100_000, 1_000_000, 10_000_000), [], []
    for n in sizes:
        orders, fills = synthetic_batch(bars, np.random.default_rng(5), max(10_000, n // 100), n)
        if n == sizes[0]:
            ex.shortfall(orders, fills, mkt)  # warm-up
        t, p = measure(lambda: ex.shortfall(orders, fills, mkt))
        times.append(t)
        peaks.append(p)
    report("shortfall (fills)", sizes, times, peaks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
