"""Schedules: hand-worked cases, the Almgren-Chriss (2000) sample stock, properties, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import execlab as ex
from execlab import almgren_chriss, almgren_chriss_trajectory, market, pov, twap, vwap

FAST = settings(max_examples=150, deadline=None)

# Almgren & Chriss (2000), section 1.5 / Figure 1: the sample stock.  Units: shares, days, dollars.
AC = dict(n_slices=5, horizon=5.0, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625)
X_AC = 1_000_000


# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------

quantities = hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 10**9))
small_quantities = hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 5_000))
lots = st.integers(1, 500)


@st.composite
def profile_1d(draw, max_bins=40):
    n = draw(st.integers(1, max_bins))
    p = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 1e6, allow_subnormal=False)))
    if p.sum() <= 0:
        p[draw(st.integers(0, n - 1))] = 1.0
    return p


@st.composite
def orders_and_profile_2d(draw):
    q = draw(small_quantities)
    n = draw(st.integers(1, 30))
    p = draw(hnp.arrays(np.float64, (q.size, n), elements=st.floats(0, 1e4, allow_subnormal=False)))
    empty = p.sum(axis=1) <= 0
    p[empty, 0] = 1.0
    return q, p


def ideal_from_profile(q, p):
    p = np.atleast_2d(p)
    return q[:, None] * p / p.sum(axis=1, keepdims=True)


def check_common(s, q, n_bins):
    """Shape, dtype, non-negativity and exact row sums."""
    assert s.shares.dtype == np.int64
    assert s.shares.shape == (q.size, n_bins)
    assert s.n_orders == q.size and s.n_bins == n_bins
    assert (s.shares >= 0).all()
    np.testing.assert_array_equal(s.shares.sum(axis=1), q - s.unscheduled)
    np.testing.assert_array_equal(s.quantity, q)
    # holdings never increase and end at what could not be scheduled
    rem = s.remaining
    assert (np.diff(rem, axis=1) <= 0).all()
    np.testing.assert_array_equal(rem[:, -1], s.unscheduled)


def check_lot_multiples(shares, q, lot):
    """Every bin is whole lots, except that the last bin holds the odd-lot remainder q % lot."""
    assert (shares[:, :-1] % lot == 0).all()
    np.testing.assert_array_equal(shares[:, -1] % lot, q % lot)


# ---------------------------------------------------------------------------
# hand-worked
# ---------------------------------------------------------------------------


def test_twap_1000_in_4_is_four_250s():
    s = twap([1000], 4)
    np.testing.assert_array_equal(s.shares, [[250, 250, 250, 250]])
    assert s.algorithm == "twap"


def test_twap_rounds_cumulative_half_to_even():
    # cumulative targets 2.5, 5, 7.5, 10 round (ties to even, monotone) to 2, 5, 8, 10
    np.testing.assert_array_equal(twap([10], 4).shares, [[2, 3, 3, 2]])


def test_twap_fewer_shares_than_slices():
    np.testing.assert_array_equal(twap([0, 1, 2], 4).shares, [[0, 0, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0]])


def test_twap_with_round_lots_puts_odd_lot_last():
    s = twap([1050], 4, lot=100)
    # odd-lot order: cumulative 262.5, 525, 787.5 round down to 200, 500, 700
    np.testing.assert_array_equal(s.shares, [[200, 300, 200, 350]])
    check_lot_multiples(s.shares, s.quantity, 100)


def test_market_everything_first_bin():
    s = market([100, 0, 7], n_bins=3)
    np.testing.assert_array_equal(s.shares, [[100, 0, 0], [0, 0, 0], [7, 0, 0]])
    assert market(5).shares.shape == (1, 1)


def test_vwap_hand_worked():
    np.testing.assert_array_equal(vwap([1000], [0.5, 0.2, 0.3]).shares, [[500, 200, 300]])
    # unnormalised volumes work the same
    np.testing.assert_array_equal(vwap([1000], [5000, 2000, 3000]).shares, [[500, 200, 300]])
    # a zero-volume bin gets nothing
    np.testing.assert_array_equal(vwap([10], [1, 0, 1]).shares, [[5, 0, 5]])


def test_vwap_2d_profile_one_row_per_order():
    s = vwap([100, 90], [[1, 1, 0], [0, 1, 2]])
    np.testing.assert_array_equal(s.shares, [[50, 50, 0], [0, 30, 60]])


def test_vwap_accepts_series_profile_and_quantity():
    p = pd.Series([0.2, 0.3, 0.5], index=["a", "b", "c"])
    q = pd.Series([100, 10], index=["x", "y"])
    np.testing.assert_array_equal(vwap(q, p).shares, vwap(q.to_numpy(), p.to_numpy()).shares)


def test_pov_hand_worked():
    s = pov([300], [1000, 1000, 500], rate=0.1)
    np.testing.assert_array_equal(s.shares, [[100, 100, 50]])
    np.testing.assert_array_equal(s.unscheduled, [50])
    s = pov([120, 1000], [1000, 0, 1000], rate=0.1)
    np.testing.assert_array_equal(s.shares, [[100, 0, 20], [100, 0, 100]])
    np.testing.assert_array_equal(s.unscheduled, [0, 800])


def test_pov_round_lots_and_full_participation():
    s = pov([1000], [250, 250, 250], rate=1.0, lot=100)
    np.testing.assert_array_equal(s.shares, [[200, 200, 200]])
    np.testing.assert_array_equal(s.unscheduled, [400])


def test_pov_2d_volume():
    s = pov([50, 50], [[100, 100], [1000, 0]], rate=0.2)
    np.testing.assert_array_equal(s.shares, [[20, 20], [50, 0]])
    np.testing.assert_array_equal(s.unscheduled, [10, 0])


def test_schedule_repr_and_bin_duration():
    s = twap([10, 20], 3, bin_duration="5min")
    assert s.bin_duration == pd.Timedelta("5min")
    assert twap([10], 3).bin_duration is None
    assert repr(s) == "Schedule(algorithm='twap', orders=2, bins=3, shares=30, unscheduled=0)"


def test_to_frame_long_form():
    s = vwap([10, 4], [1, 0, 1])
    df = s.to_frame()
    assert list(df.columns) == ["order", "bin", "shares"]
    assert len(df) == 6
    np.testing.assert_array_equal(df["order"], [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(df["bin"], [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(df["shares"], [5, 0, 5, 2, 0, 2])
    back = df.pivot(index="order", columns="bin", values="shares").to_numpy()
    np.testing.assert_array_equal(back, s.shares)
    dz = s.to_frame(drop_zero=True)
    assert (dz["shares"] > 0).all() and len(dz) == 4
    assert list(dz.index) == [0, 1, 2, 3]


def test_zero_orders_are_fine_everywhere():
    q = [0, 0]
    for s in (market(q, 3), twap(q, 3), vwap(q, [1, 2, 3]), pov(q, [1, 2, 3], 0.5),
              almgren_chriss(q, 3, 1.0, 0.95, 2.5e-6, 2.5e-7, 1e-6)):
        assert s.shares.shape == (2, 3) and (s.shares == 0).all()


# ---------------------------------------------------------------------------
# Almgren & Chriss (2000): the sample stock
# ---------------------------------------------------------------------------
# X = 1e6 shares, T = 5 days, N = 5 (tau = 1 day), sigma = 0.95 $/share/day^0.5 (30% a year at $50),
# eta = 2.5e-6 $/share/(share/day), gamma = 2.5e-7 $/share/share, epsilon = 1/16 $ (half the 1/8 spread).
#
# Naive straight-line strategy (lambda = 0), worked by hand: n_k = 200,000 shares a day and
#   eta_tilde = eta - gamma*tau/2 = 2.375e-6
#   E = gamma X^2 / 2 + epsilon X + eta_tilde/tau * sum n_k^2
#     = 125,000 + 62,500 + 2.375e-6 * 5 * 4e10 = 662,500 $
#   V = sigma^2 tau sum_{k=1..N} x_k^2 = 0.9025 * (0.8^2 + 0.6^2 + 0.4^2 + 0.2^2) * 1e12 = 1.083e12 $^2
# lambda = 1e-6: kappa_tilde^2 = lambda sigma^2 / eta_tilde = 0.38 per day^2, cosh(kappa tau) = 1 + 0.19,
#   kappa = arccosh(1.19) = 0.6071 per day -- the paper's "kappa ~ 0.6/day, half-life 1/kappa ~ 1.7 days".


def test_ac_sample_stock_naive_strategy_by_hand():
    tr = almgren_chriss_trajectory(X_AC, risk_aversion=0.0, **AC)
    np.testing.assert_allclose(tr.holdings, [[1e6, 8e5, 6e5, 4e5, 2e5, 0]], rtol=0, atol=1e-6)
    np.testing.assert_allclose(tr.trades, [[2e5] * 5], atol=1e-6)
    np.testing.assert_allclose(tr.expected_cost, [662_500.0], rtol=1e-12)
    np.testing.assert_allclose(tr.variance, [1.083e12], rtol=1e-12)
    assert tr.kappa[0] == 0.0
    np.testing.assert_array_equal(almgren_chriss(X_AC, risk_aversion=0.0, **AC).shares, [[200_000] * 5])


def test_ac_sample_stock_lambda_1e6_kappa_and_trajectory():
    lam = 1e-6
    tr = almgren_chriss_trajectory(X_AC, risk_aversion=lam, **AC)
    eta_tilde = 2.5e-6 - 0.5 * 2.5e-7 * 1.0
    kappa = np.arccosh(1.0 + 0.5 * lam * 0.95**2 / eta_tilde)  # tau = 1
    assert kappa == pytest.approx(0.60708, abs=1e-5)
    assert tr.kappa[0] == pytest.approx(kappa, rel=1e-12)
    assert 1.0 / tr.kappa[0] == pytest.approx(1.647, abs=1e-3)  # half-life theta = 1/kappa, days
    # holdings from the textbook sinh formula, independent of the library's overflow-safe form
    t = np.arange(6.0)
    x = X_AC * np.sinh(kappa * (5.0 - t)) / np.sinh(kappa * 5.0)
    np.testing.assert_allclose(tr.holdings[0], x, rtol=1e-12, atol=1e-6)
    # to the share: the rounded trade list of the sample stock at lambda = 1e-6
    shares = almgren_chriss(X_AC, risk_aversion=lam, **AC).shares
    np.testing.assert_array_equal(shares, [np.diff(-np.round(x)).astype(np.int64)])
    np.testing.assert_array_equal(shares, [[458_044, 252_102, 141_957, 85_755, 62_142]])
    # its cost statistics, recomputed from the trade list
    n = -np.diff(x)
    e = 0.5 * 2.5e-7 * X_AC**2 + 0.0625 * X_AC + eta_tilde * (n**2).sum()
    v = 0.95**2 * (x[1:] ** 2).sum()
    assert tr.expected_cost[0] == pytest.approx(e, rel=1e-12)
    assert tr.variance[0] == pytest.approx(v, rel=1e-12)
    assert tr.expected_cost[0] == pytest.approx(911_227, abs=1)
    assert np.sqrt(tr.variance[0]) == pytest.approx(603_430, abs=1)


# Short end of the sample-stock frontier as published by DRIP/DROP's Almgren-Chriss coverage run
# (lakshmidrip.github.io/DROP/junit/classes/org.drip.coverage.execution.AlmgrenChriss.html):
# LAMBDA there is in units of 1e-6; MEAN in $1e6, SIGMA^2 in $^2 1e12, PENALTY = E + lambda V, HALFLIFE = 1/kappa days.
DRIP_SHORT_END = [
    (0.001, 0.6625, 1.0812, 0.6636, 51.30),
    (0.002, 0.6625, 1.0794, 0.6647, 36.27),
    (0.003, 0.6625, 1.0776, 0.6657, 29.62),
    (0.004, 0.6625, 1.0758, 0.6668, 25.65),
    (0.005, 0.6625, 1.0740, 0.6679, 22.94),
    (0.006, 0.6625, 1.0722, 0.6690, 20.94),
    (0.007, 0.6625, 1.0704, 0.6700, 19.39),
    (0.008, 0.6626, 1.0687, 0.6711, 18.14),
    (0.009, 0.6626, 1.0669, 0.6722, 17.10),
]


@pytest.mark.parametrize("lam_micro, mean, var, penalty, halflife", DRIP_SHORT_END)
def test_ac_sample_stock_matches_published_frontier(lam_micro, mean, var, penalty, halflife):
    lam = lam_micro * 1e-6
    tr = almgren_chriss_trajectory(X_AC, risk_aversion=lam, **AC)
    assert round(tr.expected_cost[0] / 1e6, 4) == mean
    assert round(tr.variance[0] / 1e12, 4) == var
    assert round((tr.expected_cost[0] + lam * tr.variance[0]) / 1e6, 4) == penalty
    assert round(1.0 / tr.kappa[0], 2) == halflife


def test_ac_efficient_frontier_is_monotone():
    lam = np.geomspace(1e-9, 1e-4, 40)
    tr = almgren_chriss_trajectory(np.full(lam.size, X_AC), risk_aversion=lam, **AC)
    assert (np.diff(tr.expected_cost) > 0).all()  # more risk aversion costs more
    assert (np.diff(tr.variance) < 0).all()  # ... and buys less variance
    assert (np.diff(tr.kappa) > 0).all()
    # each frontier point minimises E + lambda V among the other frontier points
    util = tr.expected_cost[None, :] + lam[:, None] * tr.variance[None, :]
    np.testing.assert_array_equal(np.argmin(util, axis=1), np.arange(lam.size))


def test_ac_huge_risk_aversion_does_not_overflow():
    tr = almgren_chriss_trajectory(X_AC, risk_aversion=1e3, **AC)
    assert np.isfinite(tr.holdings).all() and np.isfinite(tr.expected_cost).all()
    s = almgren_chriss(X_AC, risk_aversion=1e3, **AC)
    assert s.shares[0, 0] >= 0.99 * X_AC and s.shares.sum() == X_AC


def test_ac_per_order_parameters_broadcast():
    q = np.array([1000, 1000, 1000])
    s = almgren_chriss(q, 5, 5.0, [0.5, 0.95, 2.0], 2.5e-6, 2.5e-7, 1e-6)
    for i, sig in enumerate([0.5, 0.95, 2.0]):
        np.testing.assert_array_equal(s.shares[i], almgren_chriss([1000], 5, 5.0, sig, 2.5e-6, 2.5e-7, 1e-6).shares[0])
    assert s.shares[0, 0] < s.shares[1, 0] < s.shares[2, 0]  # more volatile -> faster


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------


@FAST
@given(q=quantities, n=st.integers(1, 400))
def test_twap_properties(q, n):
    s = twap(q, n)
    check_common(s, q, n)
    # within one share of q/n, and slices differ by at most one share
    assert (np.abs(s.shares - q[:, None] / n) < 1 + 1e-9).all()
    assert (s.shares.max(axis=1) - s.shares.min(axis=1) <= 1).all()


@FAST
@given(q=quantities, n=st.integers(1, 50))
def test_twap_equal_slices_when_divisible(q, n):
    q = q - q % n
    np.testing.assert_array_equal(twap(q, n).shares, np.repeat((q // n)[:, None], n, axis=1))


@FAST
@given(q=small_quantities, p=profile_1d())
def test_vwap_1d_properties(q, p):
    s = vwap(q, p)
    check_common(s, q, p.size)
    assert (np.abs(s.shares - ideal_from_profile(q, p)) < 1 + 1e-6).all()
    assert (s.shares[:, p == 0] == 0).all()  # nothing in an empty bin


@FAST
@given(q=quantities, p=profile_1d())
def test_vwap_large_quantities(q, p):
    s = vwap(q, p)
    check_common(s, q, p.size)
    assert (np.abs(s.shares - ideal_from_profile(q, p)) <= 1 + 1e-6 * q[:, None]).all()


@FAST
@given(data=orders_and_profile_2d())
def test_vwap_2d_properties(data):
    q, p = data
    s = vwap(q, p)
    check_common(s, q, p.shape[1])
    assert (np.abs(s.shares - ideal_from_profile(q, p)) < 1 + 1e-6).all()
    # row i is the 1-D schedule of order i with its own profile
    for i in range(min(q.size, 3)):
        np.testing.assert_array_equal(s.shares[i], vwap(q[i : i + 1], p[i]).shares[0])


@FAST
@given(q=small_quantities, n=st.integers(1, 60), lot=lots)
def test_twap_lot_multiples(q, n, lot):
    s = twap(q, n, lot=lot)
    check_common(s, q, n)
    check_lot_multiples(s.shares, q, lot)


@FAST
@given(q=small_quantities, p=profile_1d(), lot=lots)
def test_vwap_lot_multiples(q, p, lot):
    s = vwap(q, p, lot=lot)
    check_common(s, q, p.size)
    # The odd-lot remainder sits in the first bin where the profile's cumulative share reaches 1,
    # and nothing trades after it (a profile ending in empty bins leaves them empty).
    cum = np.cumsum(p) / np.cumsum(p)[-1]
    k = int(np.argmax(cum >= 1.0))
    shares = s.shares
    assert (np.delete(shares, k, axis=1) % lot == 0).all()
    np.testing.assert_array_equal(shares[:, k] % lot, q % lot)
    assert (shares[:, k + 1:][(q % lot != 0)] == 0).all()


def test_vwap_odd_lot_remainder_never_lands_in_an_empty_trailing_bin():
    np.testing.assert_array_equal(vwap([1], [1, 0], lot=2).shares, [[1, 0]])
    np.testing.assert_array_equal(vwap([1050], [1, 1, 0, 0], lot=100).shares, [[500, 550, 0, 0]])


@FAST
@given(q=small_quantities, p=profile_1d(), lot=lots)
def test_vwap_within_one_lot_when_quantity_is_whole_lots(q, p, lot):
    q = q - q % lot
    s = vwap(q, p, lot=lot)
    assert (np.abs(s.shares - ideal_from_profile(q, p)) < lot + 1e-6).all()


def test_vwap_within_one_lot_with_odd_lot_remainder():
    q, p, lot = np.array([199]), np.array([0.26, 0.74, 0.0]), 100
    s = vwap(q, p, lot=lot)
    assert (np.abs(s.shares - ideal_from_profile(q, p)) < lot).all()


@FAST
@given(q=small_quantities, n=st.integers(1, 30), lot=lots, lam=st.floats(0, 1e-3))
def test_almgren_chriss_lot_multiples(q, n, lot, lam):
    s = almgren_chriss(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, lam, lot=lot)
    check_common(s, q, n)
    check_lot_multiples(s.shares, q, lot)


@FAST
@given(q=small_quantities, p=profile_1d(max_bins=30), rate=st.floats(1e-3, 1.0), lot=st.integers(1, 50))
def test_pov_properties(q, p, rate, lot):
    volume = np.round(p / p.max() * 10_000)
    s = pov(q, volume, rate, lot=lot)
    check_common(s, q, volume.size)
    assert (s.unscheduled >= 0).all()
    # per-bin participation cap
    assert (s.shares <= rate * volume[None, :] * (1 + 1e-9) + 1e-6).all()
    # whole lots except where the order completes (which carries the odd lot q % lot)
    odd = s.shares % lot != 0
    assert (odd.sum(axis=1) <= 1).all()
    rows, cols = np.nonzero(odd)
    last_nonzero = s.shares.shape[1] - 1 - np.argmax(s.shares[:, ::-1] > 0, axis=1)
    np.testing.assert_array_equal(cols, last_nonzero[rows])
    np.testing.assert_array_equal(s.shares[rows, cols] % lot, q[rows] % lot)
    assert (s.unscheduled[rows] == 0).all()
    # greedy: an order with shares left over filled every bin to its cap
    cap = np.floor(rate * volume / lot + 1e-9) * lot
    left = s.unscheduled > 0
    np.testing.assert_array_equal(s.shares[left], np.broadcast_to(cap, (left.sum(), cap.size)))


@FAST
@given(q=quantities, n=st.integers(1, 60), lam=st.floats(0, 1e-2), sig=st.floats(0.01, 5.0))
def test_almgren_chriss_properties(q, n, lam, sig):
    s = almgren_chriss(q, n, 1.0, sig, 2.5e-6, 2.5e-7, lam)
    check_common(s, q, n)
    tr = almgren_chriss_trajectory(q, n, 1.0, sig, 2.5e-6, 2.5e-7, lam)
    assert (np.diff(tr.holdings, axis=1) <= 1e-9 * np.maximum(q[:, None], 1)).all()  # never buys back
    np.testing.assert_allclose(tr.holdings[:, 0], q)
    assert (tr.holdings[:, -1] == 0).all()
    np.testing.assert_allclose(tr.trades.sum(axis=1), q, rtol=1e-12)
    assert (np.abs(s.shares - tr.trades) <= 1 + 1e-6 * q[:, None]).all()


@FAST
@given(q=small_quantities, n=st.integers(1, 100))
def test_almgren_chriss_zero_risk_aversion_is_twap(q, n):
    ac = almgren_chriss(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0).shares
    tw = twap(q, n).shares
    np.testing.assert_array_equal(ac, tw)


def test_almgren_chriss_zero_risk_aversion_is_twap_to_the_share():
    np.testing.assert_array_equal(almgren_chriss([1000], 4, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0).shares, [[250] * 4])
    np.testing.assert_array_equal(almgren_chriss([10], 4, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0).shares, twap([10], 4).shares)


def test_almgren_chriss_zero_risk_aversion_ties_match_twap():
    np.testing.assert_array_equal(almgren_chriss([303], 6, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0).shares, twap([303], 6).shares)


@FAST
@given(n=st.integers(1, 60), q=st.integers(1, 10**7))
def test_almgren_chriss_small_risk_aversion_approaches_twap(n, q):
    line = 1.0 - np.arange(n + 1) / n
    prev = np.inf
    for lam in (1e-8, 1e-10, 1e-12, 1e-14):
        tr = almgren_chriss_trajectory(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, lam)
        gap = np.abs(tr.holdings[0] / q - line).max()
        assert gap <= prev + 1e-15
        prev = gap
    assert prev < 1e-8
    s = almgren_chriss(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, 1e-14)
    assert np.abs(s.shares - twap(q, n).shares).max() <= 1


@FAST
@given(
    q=st.integers(1_000, 10**8),
    n=st.integers(2, 60),
    lam=st.floats(1e-9, 1e-3),
    factor=st.floats(1.5, 100.0),
)
def test_more_risk_aversion_trades_faster_early(q, n, lam, factor):
    lo = almgren_chriss_trajectory(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, lam)
    hi = almgren_chriss_trajectory(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, lam * factor)
    assert hi.kappa[0] > lo.kappa[0]
    assert hi.trades[0, 0] > lo.trades[0, 0]  # more traded in the first bin
    # and holdings are below the less risk-averse path at every interior time
    assert (hi.holdings[0, 1:-1] <= lo.holdings[0, 1:-1] * (1 + 1e-12)).all()
    # in whole shares: cumulative traded after bin 1 does not decrease
    s_lo = almgren_chriss(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, lam)
    s_hi = almgren_chriss(q, n, 1.0, 0.95, 2.5e-6, 2.5e-7, lam * factor)
    assert s_hi.shares[0, 0] >= s_lo.shares[0, 0]


def test_risk_aversion_grid_first_bin_increases():
    lam = np.array([0.0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4])
    s = almgren_chriss(np.full(lam.size, X_AC), risk_aversion=lam, **AC)
    assert (np.diff(s.shares[:, 0]) > 0).all()
    assert (np.diff(np.cumsum(s.shares, axis=1)[:, :-1], axis=0) >= 0).all()


@FAST
@given(q=quantities, n=st.integers(1, 20))
def test_market_properties(q, n):
    s = market(q, n)
    check_common(s, q, n)
    assert (s.shares[:, 1:] == 0).all()


# ---------------------------------------------------------------------------
# bad input: every message pinned
# ---------------------------------------------------------------------------

SCHEDULERS = {
    "market": lambda q: market(q, 3),
    "twap": lambda q: twap(q, 3),
    "vwap": lambda q: vwap(q, [1.0, 2.0, 3.0]),
    "pov": lambda q: pov(q, [10.0, 10.0, 10.0], 0.5),
    "almgren_chriss": lambda q: almgren_chriss(q, 3, 1.0, 0.95, 2.5e-6, 2.5e-7, 1e-6),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.parametrize(
    "q, exc, match",
    [
        ([100, -5], ValueError, r"^quantity\[1\] == -5\.0, must be >= 0\.$"),
        ([np.nan], ValueError, r"^quantity\[0\] == nan, must be finite \(no NaN or inf\)\.$"),
        ([1, np.inf], ValueError, r"^quantity\[1\] == inf, must be finite"),
        ([100, 2.5], ValueError, r"^quantity\[1\] == 2\.5, must be a whole number of shares\.$"),
        ([[1, 2]], ValueError, r"^quantity must have ndim in \(1,\), got shape \(1, 2\)\.$"),
        ([], ValueError, r"^quantity is empty\.$"),
        (["a"], TypeError, r"^quantity must be numeric"),
        ([2.0**60], ValueError, r"^quantity\[0\] == 1\.152921504606847e\+18, must be <= 2\*\*51\.$"),
    ],
)
def test_bad_quantity(name, q, exc, match):
    with pytest.raises(exc, match=match):
        SCHEDULERS[name](q)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: twap([5], 0), ValueError, r"^n_slices == 0, must be >= 1\.$"),
        (lambda: twap([5], -3), ValueError, r"^n_slices == -3, must be >= 1\.$"),
        (lambda: twap([5], 2.5), TypeError, r"^n_slices == 2\.5, must be an integer\.$"),
        (lambda: twap([5], True), TypeError, r"^n_slices must be an integer, got bool True\.$"),
        (lambda: twap([5], "4"), TypeError, r"^n_slices must be an integer, got str '4'\.$"),
        (lambda: market([5], 0), ValueError, r"^n_bins == 0, must be >= 1\.$"),
        (lambda: almgren_chriss([5], 0, 1.0, 0.95, 2.5e-6, 2.5e-7, 1e-6), ValueError, r"^n_slices == 0, must be >= 1\.$"),
        (lambda: twap([5], 3, lot=0), ValueError, r"^lot == 0, must be >= 1\.$"),
        (lambda: vwap([5], [1, 1], lot=2.5), TypeError, r"^lot == 2\.5, must be an integer\.$"),
        (lambda: twap([5], 3, bin_duration="soon"), ValueError, r"^bin_duration == 'soon', must be a time span"),
        (lambda: twap([5], 3, bin_duration="-1min"), ValueError, r"^bin_duration == '-1min', must be positive\.$"),
    ],
)
def test_bad_slices_lots_durations(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize(
    "q, profile, match",
    [
        ([5], [0.0, 0.0], r"^profile row 0 sums to 0\.0, must sum to a positive number\.$"),
        ([5, 6], [[1.0, 1.0], [0.0, 0.0]], r"^profile row 1 sums to 0\.0, must sum to a positive number\.$"),
        ([5], [1.0, -1.0], r"^profile\[1\] == -1\.0, must be >= 0\.$"),
        ([5], [1.0, np.nan], r"^profile\[1\] == nan, must be finite \(no NaN or inf\)\.$"),
        ([5], [1.0, np.inf], r"^profile\[1\] == inf, must be finite"),
        ([5], [], r"^profile is empty\.$"),
        ([5], [[[1.0]]], r"^profile must have ndim in \(1, 2\), got shape \(1, 1, 1\)\.$"),
        (
            [5, 6],
            [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
            r"^profile has 3 rows but there are 2 orders; pass one row per order or a 1-D profile\.$",
        ),
        ([5, 6, 7], [[1.0, 1.0]], r"^profile has 1 rows but there are 3 orders"),
    ],
)
def test_vwap_bad_profile(q, profile, match):
    with pytest.raises(ValueError, match=match):
        vwap(q, profile)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rate=0), r"^rate == 0, must be > 0\.0\.$"),
        (dict(rate=-0.1), r"^rate == -0\.1, must be > 0\.0\.$"),
        (dict(rate=1.3), r"^rate == 1\.3, must be <= 1\.0\.$"),
        (dict(rate=np.nan), r"^rate == nan, must be finite\.$"),
        (dict(volume=[10.0, -1.0]), r"^volume\[1\] == -1\.0, must be >= 0\.$"),
        (dict(volume=[10.0, np.nan]), r"^volume\[1\] == nan, must be finite"),
        (dict(q=[5, 6], volume=[[1.0, 1.0]] * 3), r"^volume has 3 rows but there are 2 orders\.$"),
    ],
)
def test_pov_bad_input(kwargs, match):
    args = dict(q=[5], volume=[10.0, 10.0], rate=0.5) | kwargs
    with pytest.raises(ValueError, match=match):
        pov(args["q"], args["volume"], args["rate"])


def test_pov_rate_must_be_a_number():
    with pytest.raises(TypeError, match=r"^rate must be a real number, got str '0\.1'\.$"):
        pov([5], [10.0], "0.1")


AC_OK = dict(quantity=[1000], n_slices=5, horizon=5.0, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, risk_aversion=1e-6)


@pytest.mark.parametrize("fn", [almgren_chriss, almgren_chriss_trajectory])
@pytest.mark.parametrize(
    "kwargs, match",
    [
        # eta_tilde = eta - gamma*tau/2 = 1e-7 - 2.5e-7/2 = -2.5e-8 <= 0
        (
            dict(eta=1e-7),
            r"^eta - gamma \* tau / 2 == -2\.5e-08 for order 0, must be > 0 \(temporary impact must exceed "
            r"half the permanent impact per slice; use more slices\)\.$",
        ),
        # exactly zero: eta = gamma*tau/2 with tau = 1
        (dict(eta=1.25e-7), r"^eta - gamma \* tau / 2 == 0\.0 for order 0, must be > 0"),
        # per-order: the second order is the offender
        (dict(quantity=[1000, 1000], eta=[2.5e-6, 1e-7]), r"^eta - gamma \* tau / 2 == -2\.5e-08 for order 1, must be > 0"),
        (dict(eta=0.0), r"^eta\[0\] == 0\.0, must be > 0\.$"),
        (dict(horizon=0.0), r"^horizon == 0\.0, must be > 0\.0\.$"),
        (dict(horizon=-1.0), r"^horizon == -1\.0, must be > 0\.0\.$"),
        (dict(sigma=-0.95), r"^sigma\[0\] == -0\.95, must be >= 0\.$"),
        (dict(sigma=np.nan), r"^sigma\[0\] == nan, must be finite"),
        (dict(gamma=-1e-7), r"^gamma\[0\] == -1e-07, must be >= 0\.$"),
        (dict(risk_aversion=-1e-6), r"^risk_aversion\[0\] == -1e-06, must be >= 0\.$"),
        (dict(risk_aversion=np.inf), r"^risk_aversion\[0\] == inf, must be finite"),
        (dict(epsilon=-0.01), r"^epsilon\[0\] == -0\.01, must be >= 0\.$"),
        (dict(quantity=[1, 2, 3], sigma=[0.9, 0.95]), r"^sigma has 2 values; pass one, or one per order \(3\)\.$"),
        (dict(quantity=[-1000]), r"^quantity\[0\] == -1000\.0, must be >= 0\.$"),
        (dict(quantity=[np.nan]), r"^quantity\[0\] == nan, must be finite"),
        (dict(n_slices=0), r"^n_slices == 0, must be >= 1\.$"),
    ],
)
def test_almgren_chriss_bad_input(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(**(AC_OK | kwargs))


def test_almgren_chriss_schedule_needs_whole_shares():
    with pytest.raises(ValueError, match=r"^quantity\[0\] == 10\.5, must be a whole number of shares\.$"):
        almgren_chriss([10.5], 5, 5.0, 0.95, 2.5e-6, 2.5e-7, 1e-6)


def test_public_names():
    for name in ("Schedule", "market", "twap", "vwap", "pov", "almgren_chriss", "almgren_chriss_trajectory"):
        assert getattr(ex, name) is getattr(ex.schedules, name)


# ---------------------------------------------------------------------------
# review: text, bool and date inputs are refused, not parsed
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.parametrize(
    "q, match",
    [
        (["100", "200"], r"^quantity must be numeric, got text \(dtype <U3\) such as '100'\.$"),
        (pd.Series(["100", "200"], dtype="str"), r"^quantity must be numeric, got text \(dtype str\) such as '100'\.$"),
        ([True, False], r"^quantity must be numeric, got bool such as True\.$"),
    ],
)
def test_quantity_as_text_or_bool_is_refused(name, q, match):
    with pytest.raises(TypeError, match=match):
        SCHEDULERS[name](q)


def test_profile_volume_and_ac_inputs_as_text_are_refused():
    with pytest.raises(TypeError, match=r"^profile must be numeric, got text \(dtype <U1\) such as '1'\.$"):
        vwap([100], ["1", "2"])
    with pytest.raises(TypeError, match=r"^profile must be numeric, got text \(dtype str\) such as 'a'\.$"):
        vwap([100], pd.Series(["a", "b"], dtype="str"))
    with pytest.raises(TypeError, match=r"^profile must be numeric, got dates or durations"):
        vwap([100], pd.Series(pd.date_range("2020-01-01", periods=2)))
    with pytest.raises(TypeError, match=r"^volume must be numeric, got text \(dtype <U4\) such as '1000'\.$"):
        pov([100], ["1000", "2000"], 0.1)
    with pytest.raises(TypeError, match=r"^quantity must be numeric, got text \(dtype <U4\) such as '1000'\.$"):
        almgren_chriss_trajectory(["1000"], **{k: v for k, v in AC_OK.items() if k != "quantity"})
    with pytest.raises(TypeError, match=r"^sigma must be numeric, got text"):
        almgren_chriss_trajectory(**(AC_OK | dict(sigma="0.95")))
    # a nullable-integer profile with a missing value names the position, as NaN would
    with pytest.raises(ValueError, match=r"^profile\[1\] == nan, must be finite \(no NaN or inf\)\.$"):
        vwap([100], pd.Series([1, None, 2], dtype="Int64"))
    np.testing.assert_array_equal(vwap([100], pd.Series([1, 1], dtype="Int64")).shares, [[50, 50]])


def test_schedule_summary_reports_unscheduled():
    s = pov([300, 100], [1000, 1000, 500], rate=0.1)
    text = s.summary()
    assert text.splitlines()[0] == "Schedule: pov"
    assert "unscheduled shares        50 (12.50%)" in text
    assert "orders not completed      1" in text
    assert "scheduled shares          350" in text
    t = twap([1000], 4, bin_duration="15min").summary()
    assert "unscheduled shares        0 (0.00%)" in t and "bin duration              0 days 00:15:00" in t
    assert "unscheduled shares        0 (0.00%)" in twap([0], 2).summary()


# ---------------------------------------------------------------------------
# Schedule built by hand: checked on construction
# ---------------------------------------------------------------------------

def test_hand_built_schedule_is_converted_and_checked():
    s = ex.Schedule([[100, 50], [0, 30]], [150, 30], "manual", bin_duration="5min")
    assert s.shares.dtype == np.int64 and s.quantity.dtype == np.int64
    assert s.bin_duration == pd.Timedelta("5min")
    np.testing.assert_array_equal(s.unscheduled, [0, 0])
    # Whole-number floats are fine; POV-style unscheduled shares are accounted for.
    s = ex.Schedule(np.array([[10.0, 20.0]]), np.array([40]), "pov", unscheduled=[10])
    assert s.shares.dtype == np.int64 and s.scheduled.tolist() == [30]


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        (([[100, 50]], [200], "m"), {}, ValueError,
         r"^Schedule row 0 sums to 150 shares, must equal quantity - unscheduled == 200 - 0 == 200\.$"),
        (([[10, 0]], [20], "m"), {"unscheduled": [5]}, ValueError,
         r"^Schedule row 0 sums to 10 shares, must equal quantity - unscheduled == 20 - 5 == 15\.$"),
        (([[10, -5]], [5], "m"), {}, ValueError, r"^Schedule shares\[0, 1\] == -5, must be >= 0\.$"),
        (([[10.5, 0]], [10], "m"), {}, ValueError, r"^Schedule shares\[0, 0\] == 10\.5, must be a whole number of shares\.$"),
        (([[np.nan, 0]], [10], "m"), {}, ValueError, r"^Schedule shares\[0, 0\] == nan, must be a whole number"),
        (([10, 0], [10], "m"), {}, ValueError,
         r"^Schedule shares has 1 dimension\(s\) \(shape \(2,\)\), must have 2: one row per order, one column per bin\.$"),
        (([["10", "0"]], [10], "m"), {}, TypeError, r"^Schedule shares has dtype <U2, must hold whole numbers of shares"),
        (([[10, 0]], [10, 5], "m"), {}, ValueError, r"^Schedule quantity has 2 values but shares has 1 rows \(orders\)\.$"),
        (([[10, 0]], [-10], "m"), {}, ValueError, r"^Schedule quantity\[0\] == -10, must be >= 0\.$"),
        (([[10, 0]], [10], "m"), {"unscheduled": [1, 2]}, ValueError, r"^Schedule unscheduled has 2 values"),
        (([[10, 0]], [10], 3), {}, TypeError, r"^Schedule algorithm == 3, must be a string\.$"),
        (([[10, 0]], [10], "m"), {"bin_duration": "soon"}, ValueError, r"^bin_duration == 'soon', must be a time span"),
        (([[10, 0]], [10], "m"), {"bin_duration": "-1min"}, ValueError, r"^bin_duration == '-1min', must be positive\.$"),
    ],
)
def test_hand_built_schedule_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ex.Schedule(*args, **kwargs)


def test_schedule_functions_still_return_checked_schedules():
    # The kernels skip the constructor's pass over the array; what they return must pass it.
    for s in (market([5, 7], 3), twap([1000, 10], 4), vwap([100], [1, 2, 3]), pov([300], [1000, 1000, 500], 0.1),
              almgren_chriss([1000], 3, 1.0, 0.95, 2.5e-6, 2.5e-7, 1e-6)):
        again = ex.Schedule(s.shares, s.quantity, s.algorithm, s.bin_duration, s.unscheduled)
        np.testing.assert_array_equal(again.shares, s.shares)


# ---------------------------------------------------------------------------
# VWAP on a profile indexed by bin start: the bin length goes with it
# ---------------------------------------------------------------------------

def test_vwap_reads_the_bin_length_of_a_profile():
    bars = ex.load_bars("1min")
    p5 = ex.volume_profile(bars, "5min")
    s = vwap([10_000], p5)
    assert s.n_bins == 78 and s.bin_duration == pd.Timedelta("5min")
    assert vwap([10_000], ex.volume_profile(bars)).bin_duration == pd.Timedelta("1min")
    # The same shares as the plain array, which keeps one bar per bin.
    plain = vwap([10_000], p5.to_numpy())
    assert plain.bin_duration is None
    np.testing.assert_array_equal(plain.shares, s.shares)
    # Without the attrs (e.g. a profile rebuilt by hand) the index of bin start times still tells.
    bare = pd.Series(p5.to_numpy(), index=p5.index)
    assert vwap([1], bare).bin_duration == pd.Timedelta("5min")
    # A slice of the day keeps its bin length; a DatetimeIndex works too.
    assert vwap([1], p5.iloc[6:18]).bin_duration == pd.Timedelta("5min")
    idx = pd.date_range("2012-06-21 09:30", periods=4, freq="30min", tz="America/New_York")
    assert vwap([1], pd.Series([1.0, 2, 3, 4], index=idx)).bin_duration == pd.Timedelta("30min")
    # Saying the same thing is fine; an integer index is a plain array.
    assert vwap([1], p5, bin_duration="5min").bin_duration == pd.Timedelta("5min")
    assert vwap([1], pd.Series([1.0, 2.0])).bin_duration is None
    # POV on forecast volume indexed by bin start, likewise.
    assert pov([100], pd.Series([1000.0, 500.0], index=idx[:2]), rate=0.1).bin_duration == pd.Timedelta("30min")


def test_vwap_refuses_a_bin_length_that_contradicts_the_profile():
    p5 = ex.volume_profile(ex.load_bars("1min"), "5min")
    with pytest.raises(ValueError, match=r"^bin_duration == '1min', but the profile's bins are 5min long"):
        vwap([100], p5, bin_duration="1min")
    idx = pd.DatetimeIndex(["2012-06-21 09:30", "2012-06-21 09:35", "2012-06-21 09:45"])
    with pytest.raises(ValueError, match=r"^the profile's bin start times are not a regular grid: .*09:35:00 then .*09:45:00"):
        vwap([100], pd.Series([1.0, 1.0, 1.0], index=idx))
    with pytest.raises(ValueError, match=r"^cannot tell the bin length from a profile with 1 bin start time\(s\); pass bin_duration="):
        vwap([100], pd.Series([1.0], index=idx[:1]))
    assert vwap([100], pd.Series([1.0], index=idx[:1]), bin_duration="390min").bin_duration == pd.Timedelta("390min")


# ---------------------------------------------------------------------------
# Rule: every float -> int64 cast is range-checked; huge inputs give right answers or named errors
# ---------------------------------------------------------------------------
def test_vwap_profile_of_huge_floats_normalises_exactly():
    # The plain sum is inf (and the old normalisation gave -4843621399236968448 shares).
    assert vwap([1000], [1e308, 1e308]).shares.tolist() == [[500, 500]]
    assert vwap([1000], [[1.7e308, 1.7e308, 0.0]]).shares.tolist() == [[500, 500, 0]]
    assert vwap([1000], [5e-324, 5e-324, 1e-323]).shares.tolist() == [[250, 250, 500]]


def test_pov_huge_volumes_do_not_wrap():
    # 6e18 + 6e18 overflows an int64 cumulative sum; 1e19 overflows the cast itself.
    assert pov([1000], [6e18, 6e18], rate=1.0).shares.tolist() == [[1000, 0]]
    assert pov([10], [1e19], rate=1.0).shares.tolist() == [[10]]
    s = pov([10], [1.7976931348623157e308] * 3, rate=1.0, lot=3)
    assert s.shares.tolist() == [[10, 0, 0]] and s.unscheduled.tolist() == [0]
    assert pov([2**51], [2.0**52] * 2, rate=0.25).shares.tolist() == [[2**50, 2**50]]


def test_lot_and_bin_counts_are_range_checked():
    with pytest.raises(ValueError, match=r"lot == 10000000000000000000, must be within int64"):
        twap([10], 3, lot=10**19)
    with pytest.raises(ValueError, match=r"lot == 4611686018427387904, must be <= 2251799813685248"):
        pov([10], [1e3], rate=1.0, lot=2**62)
    with pytest.raises(ValueError, match=r"n_bins == 1e\+300, must be within int64"):
        market([10], n_bins=1e300)


def test_hand_built_schedule_cannot_wrap_its_checks():
    # Four 2**62 children sum to 0 in int64: the old check took them for a 0-share order.
    with pytest.raises(ValueError, match=r"Schedule shares\[0, 0\] == 4611686018427387904, must be <= 2\*\*51"):
        ex.Schedule([[2**62] * 4], [0], "manual")
    with pytest.raises(ValueError, match=r"Schedule shares\[0, 0\] == 1e\+19, must be <= 2\*\*51"):
        ex.Schedule([[1e19]], [1e19], "manual")
    with pytest.raises(ValueError, match=r"Schedule row 0 sums to 4503599627370496 shares"):
        ex.Schedule([[2**51, 2**51]], [0], "manual")
