"""Benchmark: Almgren-Chriss schedules for 10,000 parent orders, N = 10 and N = 390 slices.

Timed interleaved in one run (medians) against

(a) the PyPI package ``almgren-chriss`` 1.1.0 called once per order, its fractional
    trajectory then rounded cumulatively to whole shares.  The package pins
    ``numpy < 2`` and does not install next to numpy 2, so its
    ``trade_trajectory`` (``sinh(kappa (T - t_j)) / sinh(kappa T) * X`` with kappa
    from ``acosh``) is written here line for line; if the package is importable it
    is used instead;
(b) the numpy closed form a competent user writes: one kappa, one row of
    fractions for all orders, ``rint(q[:, None] * (1 - frac))`` and a difference.

Both are checked against execlab: rows sum exactly, and no cumulative position
differs by more than one share (the three evaluate sinh differently, so an exact
tie may round the other way); the number of differing cells is printed.

Targets: execlab faster than (a) at N = 10 and N = 390, and at least as fast as (b).

Run:  .venv/bin/python benchmarks/bench_almgren_chriss.py
"""

from __future__ import annotations

import math

import numpy as np

import execlab as ex
from _results import interleaved, print_machine, record

N_ORDERS = 10_000
ROUNDS = 15
# The paper's sample stock, per day: sigma $0.95, eta 2.5e-6, gamma 2.5e-7, lambda 1e-6; one day.
SIGMA, ETA, GAMMA, LAM, T = 0.95, 2.5e-6, 2.5e-7, 1e-6, 1.0

try:  # the real package, where it installs
    from almgren_chriss import trade_trajectory as _pkg_trajectory

    PACKAGE = "almgren-chriss 1.1.0 (installed)"
    SHORT = "almgren-chriss 1.1.0"
except ImportError:
    def _pkg_kappa(lambda_, tau, sigma, gamma, eta):
        tilde_kappa_sq = (lambda_ * sigma**2) / (eta * (1 - (gamma * tau) / (2 * eta)))
        return math.acosh((tau**2 / 2) * tilde_kappa_sq + 1) / tau

    def _pkg_trajectory(lambda_, tau, sigma, gamma, eta, X, T):
        t_j = np.arange(T / tau + 1) * tau
        kappa_ = _pkg_kappa(lambda_, tau, sigma, gamma, eta)
        return (np.sinh(kappa_ * (T - t_j)) / math.sinh(kappa_ * T)) * X

    PACKAGE = "almgren-chriss 1.1.0's trade_trajectory (written out: the package needs numpy < 2)"
    SHORT = "almgren-chriss 1.1.0's trade_trajectory (written out; the package pins numpy < 2)"


def package_loop(quantity: np.ndarray, n: int) -> np.ndarray:
    """(a) The package once per order, then cumulative rounding of its trajectory."""
    tau = T / n
    out = np.empty((quantity.size, n), dtype=np.int64)
    for i, x in enumerate(quantity.tolist()):
        hold = _pkg_trajectory(LAM, tau, SIGMA, GAMMA, ETA, x, T)
        cum = np.rint(x - hold[1:]).astype(np.int64)
        cum[-1] = x
        out[i, 0] = cum[0]
        out[i, 1:] = np.diff(cum)
    return out


def closed_form(quantity: np.ndarray, n: int) -> np.ndarray:
    """(b) One kappa for all orders, one row of fractions, a broadcast and a difference."""
    tau = T / n
    kappa = np.arccosh(0.5 * LAM * SIGMA**2 / (ETA - 0.5 * GAMMA * tau) * tau**2 + 1) / tau
    t = np.arange(1, n + 1) * tau
    cum_frac = 1.0 - np.sinh(kappa * (T - t)) / np.sinh(kappa * T)
    cum = np.rint(quantity[:, None] * cum_frac).astype(np.int64)
    cum[:, -1] = quantity
    return np.diff(cum, axis=1, prepend=0)


def compare(name: str, got: np.ndarray, ref: np.ndarray, quantity: np.ndarray) -> int:
    if not np.array_equal(ref.sum(axis=1), quantity):
        raise SystemExit(f"{name}: rows do not sum to the quantities")
    gap = np.abs(np.cumsum(got, axis=1) - np.cumsum(ref, axis=1))
    if gap.max() > 1:
        raise SystemExit(f"{name}: cumulative positions differ by up to {gap.max()} shares")
    return int((got != ref).sum())


def main() -> int:
    print_machine()
    rng = np.random.default_rng(20000101)
    quantity = np.round(10 ** rng.uniform(2, 4.5, N_ORDERS)).astype(np.int64)
    print(f"{N_ORDERS:,} orders; medians of {ROUNDS} interleaved rounds; (a) = {PACKAGE}")
    ok = True
    for n in (10, 390):
        def fn(n=n):
            return ex.almgren_chriss(quantity, n, T, SIGMA, ETA, GAMMA, LAM)
        got = fn().shares
        diff_a = compare("package loop", got, package_loop(quantity, n), quantity)
        diff_b = compare("closed form", got, closed_form(quantity, n), quantity)
        t = interleaved({"execlab": fn, "package": lambda: package_loop(quantity, n),
                         "closed_form": lambda: closed_form(quantity, n)}, rounds=ROUNDS if n > 10 else 101, min_time=20)
        r_a, r_b = t["package"] / t["execlab"], t["closed_form"] / t["execlab"]
        met_a, met_b = r_a > 1, r_b >= 1
        ok &= met_a and met_b
        print(f"N = {n:3d}: execlab {t['execlab'] * 1e3:7.2f} ms | (a) package loop {t['package'] * 1e3:8.1f} ms -> "
              f"{r_a:6.1f}x faster ({'met' if met_a else 'MISSED'}) | (b) closed form {t['closed_form'] * 1e3:6.2f} ms -> "
              f"{r_b:4.1f}x faster ({'met' if met_b else 'MISSED'}) | cells differing by one share: {diff_a}, {diff_b}")
        case = f"Almgren-Chriss {N_ORDERS:,} orders x {n} slices"
        record("almgren_chriss", case, execlab_s=t["execlab"], baseline=f"{SHORT}, once per order, + cumulative rounding",
               baseline_s=t["package"], ratio=r_a, target="execlab faster", met=met_a)
        record("almgren_chriss", case, execlab_s=t["execlab"], baseline="numpy closed form with cumulative rounding",
               baseline_s=t["closed_form"], ratio=r_b, target="execlab at least as fast", met=met_b)
    print(f"targets: {'MET' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
