"""Benchmark: VWAP and TWAP schedules for 10,000 parent orders x 390 one-minute bins.

Everything is timed in this one run (best of several repeats, ``time.perf_counter``) against

(a) a per-order Python loop with numpy inside it, doing the same rounding (checked identical);
(b) a pure-Python loop (lists and ``math.floor``), timed on a subset of orders and scaled
    linearly to the full batch, since it takes tens of seconds at full size;
(c) numpy filling an int64 array of the same shape (``np.full``): the memory-bandwidth floor,
    the least any function returning that array can cost.

Target: execlab at least 20x faster than (a) and within 5x of (c).

Run:  .venv/bin/python benchmarks/bench_schedules.py
"""

from __future__ import annotations

import math
import time

import numpy as np

import execlab as ex

N_ORDERS = 10_000
N_PURE_PYTHON = 500  # orders timed for (b); scaled by N_ORDERS / N_PURE_PYTHON
REPEATS = 15


def best_of(fn, repeats: int = REPEATS) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# (a) one order at a time, numpy inside the loop: the same cumulative rounding as execlab
def loop_numpy(quantity: np.ndarray, cum_fraction: np.ndarray) -> np.ndarray:
    out = np.empty((quantity.size, cum_fraction.size), dtype=np.int64)
    for i in range(quantity.size):
        cum = np.rint(quantity[i] * cum_fraction).astype(np.int64)  # nearest, ties to even, as execlab
        cum[-1] = quantity[i]
        out[i, 0] = cum[0]
        out[i, 1:] = np.diff(cum)
    return out


# (b) pure Python
def loop_python(quantity: list[int], cum_fraction: list[float]) -> list[list[int]]:
    rows = []
    last = len(cum_fraction) - 1
    for q in quantity:
        row, prev = [], 0
        for j, c in enumerate(cum_fraction):
            cum = q if j == last else round(q * c)
            row.append(cum - prev)
            prev = cum
        rows.append(row)
    return rows


def main() -> int:
    bars = ex.load_bars("1min")
    profile = ex.volume_profile(bars, "1min").to_numpy()
    n_bins = profile.size
    assert n_bins == 390
    rng = np.random.default_rng(20120621)
    # parent orders of 100 shares to ~1% of AAPL's day, log-uniform
    quantity = np.round(10 ** rng.uniform(2, 4.5, N_ORDERS)).astype(np.int64)

    # the cumulative fractions execlab rounds (vwap normalises its profile the same way)
    vwap_cum = np.cumsum(profile / profile.sum())
    vwap_cum = vwap_cum / vwap_cum[-1]
    twap_cum = np.arange(1, n_bins + 1, dtype=np.float64) / n_bins

    cases = {
        "VWAP": (lambda: ex.vwap(quantity, profile), vwap_cum),
        "TWAP": (lambda: ex.twap(quantity, n_bins), twap_cum),
    }
    floor_time = best_of(lambda: np.full((N_ORDERS, n_bins), 7, dtype=np.int64))
    q_list = quantity[:N_PURE_PYTHON].tolist()

    print(f"{N_ORDERS:,} orders x {n_bins} one-minute bins (profile: execlab.volume_profile of the real bars, 1min)")
    print(f"best of {REPEATS} repeats, time.perf_counter; (b) timed on {N_PURE_PYTHON} orders and scaled x{N_ORDERS // N_PURE_PYTHON}")
    print(f"(c) np.full int64 ({N_ORDERS}x{n_bins}): {floor_time * 1e3:8.2f} ms\n")
    header = f"{'schedule':8} {'execlab ms':>11} {'(a) loop+numpy ms':>18} {'(b) pure Python ms':>19} {'(a)/execlab':>12} {'(b)/execlab':>12} {'execlab/(c)':>12}"
    print(header)
    print("-" * len(header))
    ok = True
    for name, (fn, cum) in cases.items():
        got = fn().shares
        ref = loop_numpy(quantity, cum)
        if not np.array_equal(got, ref):
            raise SystemExit(f"{name}: execlab and the per-order loop disagree in {(got != ref).sum()} cells")
        py = np.array(loop_python(q_list, cum.tolist()), dtype=np.int64)
        if not np.array_equal(py, got[:N_PURE_PYTHON]):
            raise SystemExit(f"{name}: execlab and the pure-Python loop disagree")
        t_ex = best_of(fn)
        t_a = best_of(lambda: loop_numpy(quantity, cum), repeats=3)
        t_b = best_of(lambda: loop_python(q_list, cum.tolist()), repeats=3) * (N_ORDERS / N_PURE_PYTHON)
        r_a, r_b, r_c = t_a / t_ex, t_b / t_ex, t_ex / floor_time
        print(f"{name:8} {t_ex * 1e3:11.2f} {t_a * 1e3:18.1f} {t_b * 1e3:19.0f} {r_a:11.1f}x {r_b:11.0f}x {r_c:11.2f}x")
        ok &= r_a >= 20 and r_c <= 5
    print("\n(a)/execlab, (b)/execlab: how many times faster execlab is; execlab/(c): how far above the memory-bandwidth floor.")
    print(f"target: (a)/execlab >= 20 and execlab/(c) <= 5 -> {'MET' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
