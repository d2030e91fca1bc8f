"""Benchmark: VWAP and TWAP schedules for 10,000 parent orders x 390 one-minute bins.

execlab is timed on its default path: the cumulative rounding runs as a compiled
one-pass loop, from numba (the optional ``fast`` extra; ``make bench`` installs the
``dev`` extra, which includes it), or as the numpy path without numba or with
``EXECLAB_NO_NUMBA=1``.  The first line of output says which.

Timed interleaved in one run (medians of ``ROUNDS`` rounds, one call of each per round)
against

(a) the broadcast a competent numpy user writes -- round the cumulative target, then
    difference: ``c = rint(q[:, None] * cum); c[:, -1] = q; diff(c, prepend=0)``
    (checked identical, cell for cell) -- the target baseline;
(b) a per-order Python loop with numpy inside (checked identical), an extra row;
(c) writing the output once: ``np.cumsum`` of an int64 (orders, bins) array into a
    preallocated int64 array of the same shape -- the floor any function returning
    that array pays;
(d) execlab's numpy path, ``_round_cumulative_numpy`` called directly on the same
    cumulative fractions (the rounding alone, no input checks; checked identical) --
    for the record, an extra row with no target.

Targets: execlab at least 4x faster than (a), and within 2x of (c).

Run:  .venv/bin/python benchmarks/bench_schedules.py
"""

from __future__ import annotations

import numpy as np

import execlab as ex
from _results import interleaved, print_machine, record
from execlab._compiled import have_numba
from execlab._kernels import _round_cumulative_numpy

N_ORDERS = 10_000
ROUNDS = 25


def broadcast(quantity: np.ndarray, cum_fraction: np.ndarray) -> np.ndarray:
    """(a) Round the cumulative target once for all orders, then difference."""
    cum = np.rint(quantity[:, None] * cum_fraction).astype(np.int64)
    cum[:, -1] = quantity
    return np.diff(cum, axis=1, prepend=0)


def loop_numpy(quantity: np.ndarray, cum_fraction: np.ndarray) -> np.ndarray:
    """(b) One order at a time, numpy inside the loop, the same rounding."""
    out = np.empty((quantity.size, cum_fraction.size), dtype=np.int64)
    for i in range(quantity.size):
        cum = np.rint(quantity[i] * cum_fraction).astype(np.int64)
        cum[-1] = quantity[i]
        out[i, 0] = cum[0]
        out[i, 1:] = np.diff(cum)
    return out


def main() -> int:
    print_machine()
    bars = ex.load_bars("1min")
    profile = ex.volume_profile(bars, "1min").to_numpy()
    n_bins = profile.size
    rng = np.random.default_rng(20120621)
    # parent orders of 100 shares to ~1% of AAPL's day, log-uniform
    quantity = np.round(10 ** rng.uniform(2, 4.5, N_ORDERS)).astype(np.int64)
    # the cumulative fractions execlab rounds (vwap normalises its profile the same way)
    vwap_cum = np.cumsum(profile / profile.sum())
    vwap_cum = vwap_cum / vwap_cum[-1]
    twap_cum = np.arange(1, n_bins + 1, dtype=np.float64) / n_bins
    src = np.ones((N_ORDERS, n_bins), dtype=np.int64)
    dst = np.empty_like(src)

    if have_numba():
        import numba

        path = f"compiled loop (numba {numba.__version__})"
    else:
        path = "numpy path (numba not installed, or EXECLAB_NO_NUMBA set)"
    print(f"{N_ORDERS:,} orders x {n_bins} one-minute bins; medians of {ROUNDS} interleaved rounds; "
          f"execlab's rounding: {path}")
    ok = True
    for name, fn, cum in (("VWAP", lambda: ex.vwap(quantity, profile), vwap_cum),
                          ("TWAP", lambda: ex.twap(quantity, n_bins), twap_cum)):
        got = fn().shares
        for label, ref in (("broadcast", broadcast(quantity, cum)), ("loop", loop_numpy(quantity, cum)),
                           ("numpy path", _round_cumulative_numpy(quantity, cum, 1))):
            if not np.array_equal(got, ref):
                raise SystemExit(f"{name}: execlab and the {label} baseline disagree in {(got != ref).sum()} cells")
        t = interleaved({"execlab": fn, "broadcast": lambda: broadcast(quantity, cum),
                         "write_once": lambda: np.cumsum(src, axis=1, out=dst),
                         "numpy_path": lambda: _round_cumulative_numpy(quantity, cum, 1)}, rounds=ROUNDS)
        t_loop = interleaved({"loop": lambda: loop_numpy(quantity, cum)}, rounds=3)["loop"]
        r_a, r_c, r_b = t["broadcast"] / t["execlab"], t["execlab"] / t["write_once"], t_loop / t["execlab"]
        met_a, met_c = r_a >= 4, r_c <= 2
        ok &= met_a and met_c
        print(f"{name}: execlab {t['execlab'] * 1e3:.2f} ms | (a) broadcast {t['broadcast'] * 1e3:.2f} ms -> "
              f"execlab {r_a:.1f}x faster (target >= 4x: {'met' if met_a else 'MISSED'}) | "
              f"(c) write once {t['write_once'] * 1e3:.2f} ms -> execlab at {r_c:.2f}x of it "
              f"(target <= 2x: {'met' if met_c else 'MISSED'}) | (b) loop {t_loop * 1e3:.0f} ms -> {r_b:.0f}x | "
              f"(d) numpy path {t['numpy_path'] * 1e3:.2f} ms -> execlab {t['numpy_path'] / t['execlab']:.1f}x faster "
              f"(for the record: {t['broadcast'] / t['numpy_path']:.1f}x faster than (a), "
              f"{t['numpy_path'] / t['write_once']:.2f}x of (c))")
        size = f"{N_ORDERS:,} orders x {n_bins} bins"
        record("schedules", f"{name} {size}", execlab_s=t["execlab"], baseline="numpy broadcast: rint(q*cum), diff",
               baseline_s=t["broadcast"], ratio=r_a, target="execlab >= 4x faster", met=met_a, note=path)
        record("schedules", f"{name} {size}", execlab_s=t["execlab"], baseline="write the output once (np.cumsum into int64)",
               baseline_s=t["write_once"], ratio=t["write_once"] / t["execlab"], target="execlab within 2x of it", met=met_c,
               note=path)
        record("schedules", f"{name} {size}", execlab_s=t["execlab"],
               baseline="execlab's numpy path without numba (the rounding kernel alone, extra row)",
               baseline_s=t["numpy_path"], ratio=t["numpy_path"] / t["execlab"], target="", met=None, note=path)
        record("schedules", f"{name} {size}", execlab_s=t["execlab"], baseline="per-order numpy loop (weak, extra row)",
               baseline_s=t_loop, ratio=r_b, target="", met=None)
    print(f"targets: {'MET' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
