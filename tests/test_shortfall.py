"""Implementation shortfall and summarize: hand-worked orders, exact decomposition, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab as ex

from _four_bars import TZ, make_bars, market, ts  # tests/ is on sys.path under pytest


@pytest.fixture
def bars() -> ex.Market:
    return market()


@pytest.fixture
def orders() -> pd.DataFrame:
    # 1: buy 100, decided 15:56:00, arrives 15:56:30; fully filled.
    # 2: sell 200, decided 15:57:00, arrives 15:57:45; 50 filled, 150 left at the close.
    # 3: buy 100 decided and arrived at 15:59:00; nothing filled.
    return pd.DataFrame(
        {
            "order_id": [1, 2, 3],
            "ticker": "XYZ",
            "side": ["BUY", "SELL", "BUY"],
            "quantity": [100, 200, 100],
            "decision_time": [ts("15:56:00"), ts("15:57:00"), ts("15:59:00")],
            "arrival_time": [ts("15:56:30"), ts("15:57:45"), ts("15:59:00")],
            "algorithm": ["twap", "twap", "vwap"],
        }
    )


@pytest.fixture
def fills() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [1, 1, 2],
            "time": [ts("15:56:30"), ts("15:57"), ts("15:58")],
            "shares": [60, 40, 50],
            "price": [100.05, 100.30, 100.20],
            "fee": [0.5, 0.5, 0.0],
        }
    )


def test_hand_worked_prices(orders, fills, bars):
    t = ex.shortfall(orders, fills, bars)
    # Decision at a bar start is that bar's mid_open; arrival half-way through bar 0 is
    # 99.90 + 0.5 * (100.10 - 99.90) = 100.00; 45 s into bar 1: 100.10 + 0.75 * 0.20 = 100.25.
    np.testing.assert_allclose(t["decision_price"], [99.90, 100.10, 100.50], atol=1e-12, rtol=0)
    np.testing.assert_allclose(t["arrival_price"], [100.00, 100.25, 100.50], atol=1e-12, rtol=0)
    # Unexecuted shares are marked at the close mid, the last bar's mid_close.
    np.testing.assert_allclose(t["end_price"], [100.70, 100.70, 100.70], atol=1e-12, rtol=0)
    # avg: (60 * 100.05 + 40 * 100.30) / 100 = 100.15; 100.20; none.
    np.testing.assert_allclose(t["avg_price"], [100.15, 100.20, np.nan], atol=1e-12, rtol=0)
    assert t["executed"].tolist() == [100, 50, 0]
    assert t["unexecuted"].tolist() == [0, 150, 100]
    np.testing.assert_allclose(t["fill_rate"], [1.0, 0.25, 0.0])
    assert t.index.name == "order_id" and t.index.tolist() == [1, 2, 3]
    assert t["algorithm"].tolist() == ["twap", "twap", "vwap"]


def test_hand_worked_decomposition(orders, fills, bars):
    t = ex.shortfall(orders, fills, bars)
    # Order 1 (buy): delay 100 * (100.00 - 99.90) = 10; execution 10015 - 100 * 100.00 = 15;
    #   fees 1; total 10015 - 100 * 99.90 + 1 = 26.
    # Order 2 (sell): delay -200 * (100.25 - 100.10) = -30 (the price rose: a gain for a seller);
    #   execution -(50 * 100.20 - 50 * 100.25) = 2.5; opportunity -150 * (100.70 - 100.25) = -67.5;
    #   total -(5010 - 50 * 100.10) - 150 * (100.70 - 100.10) = -95.
    # Order 3 (buy, nothing done): opportunity 100 * (100.70 - 100.50) = 20 = total.
    np.testing.assert_allclose(t["delay_cost"], [10.0, -30.0, 0.0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(t["execution_cost"], [15.0, 2.5, 0.0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(t["opportunity_cost"], [0.0, -67.5, 20.0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(t["fees"], [1.0, 0.0, 0.0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(t["is_total"], [26.0, -95.0, 20.0], atol=1e-9, rtol=0)
    # bps of the paper notional: 9990, 20020, 10050 dollars.
    np.testing.assert_allclose(t["paper_notional"], [9990.0, 20020.0, 10050.0])
    np.testing.assert_allclose(t["is_bps"], [26 / 9990 * 1e4, -95 / 20020 * 1e4, 20 / 10050 * 1e4], rtol=1e-12)
    np.testing.assert_allclose(t["delay_cost_bps"], [10 / 9990 * 1e4, -30 / 20020 * 1e4, 0.0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(t["execution_cost_bps"], [15 / 9990 * 1e4, 2.5 / 20020 * 1e4, 0.0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(t["opportunity_cost_bps"], [0.0, -67.5 / 20020 * 1e4, 20 / 10050 * 1e4], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(t["fees_bps"], [1 / 9990 * 1e4, 0.0, 0.0], rtol=1e-12, atol=1e-12)


def test_hand_worked_slippage(orders, fills, bars):
    t = ex.shortfall(orders, fills, bars)
    # Order 1 traded over bars 0-1: VWAP (1000 * 100.10 + 500 * 100.20) / 1500 = 100.1333...,
    #   TWAP of mids (100.00 + 100.20) / 2 = 100.10; close (last trade) 100.80.
    # Order 2 over bars 1-2: VWAP 100.20 (bar 2 traded nothing), TWAP (100.20 + 100.40) / 2 = 100.30.
    vwap1 = 150200 / 1500
    np.testing.assert_allclose(t["interval_vwap"], [vwap1, 100.20, np.nan], rtol=1e-12)
    np.testing.assert_allclose(t["interval_twap"], [100.10, 100.30, np.nan], rtol=1e-12)
    np.testing.assert_allclose(t["close_price"], [100.80] * 3)
    np.testing.assert_allclose(
        t["slippage_arrival_bps"], [0.15 / 100.00 * 1e4, 0.05 / 100.25 * 1e4, np.nan], rtol=1e-9
    )
    np.testing.assert_allclose(t["slippage_vwap_bps"], [(100.15 - vwap1) / vwap1 * 1e4, 0.0, np.nan], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(t["slippage_twap_bps"], [0.05 / 100.10 * 1e4, 0.10 / 100.30 * 1e4, np.nan], rtol=1e-9)
    # Buying below the close is a gain (negative); selling 0.60 below it is a cost (positive).
    np.testing.assert_allclose(t["slippage_close_bps"], [-0.65 / 100.80 * 1e4, 0.60 / 100.80 * 1e4, np.nan], rtol=1e-9)


def test_end_time_marks_the_opportunity(orders, fills, bars):
    # Horizon of order 2 ends at 15:59:00: mark at mid_open of bar 3 = 100.50.
    o = orders.assign(end_time=[ts("15:57"), ts("15:59:00"), ts("16:00")])
    t = ex.shortfall(o, fills, bars)
    assert t.loc[2, "end_price"] == pytest.approx(100.50, abs=1e-12)
    assert t.loc[2, "opportunity_cost"] == pytest.approx(-150 * (100.50 - 100.25), abs=1e-9)
    # 16:00 is the close: the last mid_close.
    assert t.loc[3, "end_price"] == pytest.approx(100.70, abs=1e-12)


def test_no_arrival_column_means_arrival_at_decision(orders, fills, bars):
    t = ex.shortfall(orders.drop(columns="arrival_time"), fills, bars)
    np.testing.assert_allclose(t["arrival_price"], t["decision_price"])
    np.testing.assert_allclose(t["delay_cost"], 0.0)


def test_simulated_orders_round_trip(bars):
    # SimulationResult.orders and .fills feed shortfall directly; fees carry over.
    orders = pd.DataFrame({"order_id": ["a", "b"], "ticker": "XYZ", "side": ["BUY", "SELL"], "quantity": [150, 100],
                           "decision_time": [ts("15:56:00")] * 2, "algorithm": "twap"})
    res = ex.simulate(orders, ex.twap([150, 100], 3), bars, fee_per_share=0.01, delay="10s")
    t = ex.shortfall(res.orders, res.fills, bars)
    assert t["executed"].tolist() == res.orders["filled"].tolist()
    np.testing.assert_allclose(t["avg_price"], res.orders["avg_price"])
    np.testing.assert_allclose(t["fees"], [1.50, 1.00])
    assert t["status"].tolist() == res.orders["status"].tolist()


# ---------------------------------------------------------------------------
# Property: Perold's parts add up to the total exactly, for any orders and fills
# ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.sampled_from(["BUY", "SELL"]),
            st.integers(0, 10_000),  # quantity
            st.floats(0.0, 1.0),  # fraction executed
            st.integers(0, 239),  # decision second
            st.integers(0, 120),  # delay seconds
            st.floats(1.0, 5000.0),  # price level
            st.floats(-0.2, 0.2),  # execution price offset, fraction
            st.floats(-5.0, 5.0),  # fee
        ),
        min_size=1,
        max_size=8,
    ),
    scale=st.floats(0.01, 100.0),
)
def test_parts_add_up_exactly(data, scale):
    bars = make_bars()
    for c in ("vwap", "mid", "mid_open", "mid_close", "close"):
        bars[c] = bars[c] * scale
    rows, fills = [], []
    for i, (side, q, frac, dsec, dly, level, off, fee) in enumerate(data):
        dec = ts("15:56:00") + pd.Timedelta(seconds=dsec)
        rows.append({"order_id": i, "ticker": "XYZ", "side": side, "quantity": q, "decision_time": dec,
                     "arrival_time": dec + pd.Timedelta(seconds=dly)})
        arrival = dec + pd.Timedelta(seconds=dly)
        x = int(q * frac) if arrival < ts("16:00:00") else 0  # nothing can fill after the close
        if x > 0:
            k = min(x, 3)
            parts = np.full(k, x // k)
            parts[-1] += x - parts.sum()
            for j, p in enumerate(parts):
                fills.append({"order_id": i, "time": max(ts("15:59"), arrival), "shares": int(p),
                              "price": level * scale * (1 + off) * (1 + 0.001 * j), "fee": fee / k})
    fills = pd.DataFrame(fills, columns=["order_id", "time", "shares", "price", "fee"])
    t = ex.shortfall(pd.DataFrame(rows), fills, market(bars))
    parts = t[["delay_cost", "execution_cost", "opportunity_cost", "fees"]]
    size = parts.abs().sum(axis=1) + t["is_total"].abs()
    assert (np.abs(parts.sum(axis=1) - t["is_total"]) <= 1e-9 * size + 1e-12).all()
    parts_bps = t[["delay_cost_bps", "execution_cost_bps", "opportunity_cost_bps", "fees_bps"]]
    size_bps = parts_bps.abs().sum(axis=1) + t["is_bps"].abs()
    assert (np.abs(parts_bps.sum(axis=1) - t["is_bps"]) <= 1e-9 * size_bps + 1e-12).all()
    assert (t["executed"] + t["unexecuted"] == t["quantity"]).all()


@settings(max_examples=25, deadline=None)
@given(shift=st.floats(0.5, 2.0), q=st.integers(1, 1000), frac=st.floats(0.0, 1.0))
def test_bps_invariant_to_price_scale(shift, q, frac):
    # Multiplying every price by a constant leaves all bps figures unchanged.
    orders = pd.DataFrame({"order_id": [1, 2], "ticker": "XYZ", "side": ["BUY", "SELL"], "quantity": [q, q],
                           "decision_time": [ts("15:56:10")] * 2, "arrival_time": [ts("15:57:20")] * 2})
    x = int(q * frac)
    fills = pd.DataFrame({"order_id": [1, 2], "time": [ts("15:58")] * 2, "shares": [x, x], "price": [100.3, 100.1]})
    base = ex.shortfall(orders, fills, market())
    bars = make_bars()
    for c in ("vwap", "mid", "mid_open", "mid_close", "close"):
        bars[c] = bars[c] * shift
    scaled = ex.shortfall(orders, fills.assign(price=fills["price"] * shift), market(bars))
    cols = [c for c in base.columns if c.endswith("_bps")]
    np.testing.assert_allclose(scaled[cols].to_numpy(float), base[cols].to_numpy(float), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
def test_bad_fills(orders, fills, bars):
    with pytest.raises(ValueError, match=r"fills column 'order_id' has 9 at row 2, which is not an order_id of orders"):
        ex.shortfall(orders, fills.assign(order_id=[1, 1, 9]), bars)
    with pytest.raises(ValueError, match=r"fills for order_id 1 total 160 shares, more than its quantity 100"):
        ex.shortfall(orders, fills.assign(shares=[60, 100, 50]), bars)
    with pytest.raises(ValueError, match=r"fills column 'price' has -100.3 at row 1; must be finite and > 0"):
        ex.shortfall(orders, fills.assign(price=[100.05, -100.3, 100.2]), bars)
    with pytest.raises(ValueError, match=r"fills column 'price' has nan at row 0"):
        ex.shortfall(orders, fills.assign(price=[np.nan, 100.3, 100.2]), bars)
    with pytest.raises(ValueError, match=r"fills column 'shares' has -5.0 at row 2; must be a whole number of shares >= 0"):
        ex.shortfall(orders, fills.assign(shares=[60, 40, -5]), bars)
    with pytest.raises(ValueError, match=r"fills column 'fee' has inf at row 0"):
        ex.shortfall(orders, fills.assign(fee=[np.inf, 0, 0]), bars)
    with pytest.raises(ValueError, match=r"fills column 'time' has NaT at row 1"):
        ex.shortfall(orders, fills.assign(time=[ts("15:56"), pd.NaT, ts("15:58")]), bars)
    with pytest.raises(ValueError, match=r"fills column 'time' has 2012-06-21 15:56:00-04:00 at row 2, before the arrival_time "
                                         r"2012-06-21 15:57:45-04:00 of order_id 2; a fill cannot precede its order"):
        ex.shortfall(orders, fills.assign(time=[ts("15:56:30"), ts("15:57"), ts("15:56")]), bars)
    with pytest.raises(ValueError, match=r"fills column 'time' has 2012-06-21 16:00:00-04:00 at row 2, after the close of its "
                                         r"session, for order_id 2"):
        ex.shortfall(orders, fills.assign(time=[ts("15:56:30"), ts("15:57"), ts("16:00")]), bars)
    with pytest.raises(ValueError, match=r"fills column 'time' has 2012-06-21 15:57:00-04:00 at row 1, after the end_time "
                                         r"2012-06-21 15:56:50-04:00 of order_id 1"):
        ex.shortfall(orders.assign(end_time=[ts("15:56:50"), ts("16:00"), ts("16:00")]), fills, bars)
    with pytest.raises(ValueError, match=r"fills column 'ticker' has 'ABC' at row 1, but order_id 1 trades 'XYZ'"):
        ex.shortfall(orders, fills.assign(ticker=["XYZ", "ABC", "XYZ"]), bars)
    with pytest.raises(ValueError, match=r"fills is missing column\(s\) \['price'\]"):
        ex.shortfall(orders, fills.drop(columns="price"), bars)


def test_bad_orders_and_bars(orders, fills, bars):
    with pytest.raises(ValueError, match=r"orders column 'side' has 'buy' at row 0; must be one of \['BUY', 'SELL'\]"):
        ex.shortfall(orders.assign(side=["buy", "SELL", "BUY"]), fills, bars)
    with pytest.raises(ValueError, match=r"orders column 'quantity' has nan at row 2"):
        ex.shortfall(orders.assign(quantity=[100, 200, np.nan]), fills, bars)
    with pytest.raises(ValueError, match=r"orders column 'ticker' has 'ABC' at row 2, which the market does not hold; it holds \['XYZ'\]"):
        ex.shortfall(orders.assign(ticker=["XYZ", "XYZ", "ABC"]), fills, bars)
    df = make_bars()
    with pytest.raises(ValueError, match=r"bars column 'close' has -1.0 for 'XYZ' at row 3"):
        ex.shortfall(orders, fills, market(df.assign(close=[100.1, 100.25, 100.25, -1.0])))
    with pytest.raises(ValueError, match=r"bars column 'mid_open' has nan for 'XYZ' at row 0"):
        ex.shortfall(orders, fills, market(df.assign(mid_open=[np.nan, 100.1, 100.3, 100.5])))
    # A bars DataFrame is accepted and converted once; these bars do not cover 09:30-16:00.
    with pytest.raises(ValueError, match=r"bars for ticker 'XYZ' have a gap: no bar at 2012-06-21 09:30:00-04:00"):
        ex.shortfall(orders, fills, df)
    with pytest.raises(ValueError, match=r"orders column 'end_time' has 2012-06-21 15:56:00-04:00 at row 0, before its arrival_time"):
        ex.shortfall(orders.assign(end_time=[ts("15:56"), ts("16:00"), ts("16:00")]), fills, bars)
    with pytest.raises(TypeError, match=r"orders must be a pandas DataFrame, got dict"):
        ex.shortfall(orders.to_dict(), fills, bars)


# ---------------------------------------------------------------------------
# summarize
# ---------------------------------------------------------------------------
def test_summarize_hand_worked(orders, fills, bars):
    t = ex.shortfall(orders, fills, bars)
    s = ex.summarize(t, by="algorithm", rng=0, n_boot=200)
    # twap: orders 1 and 2.  is_bps 26.0260..., -47.4525...
    a, b = 26 / 9990 * 1e4, -95 / 20020 * 1e4
    r = s.loc[("twap", "is_bps")]
    assert r["count"] == 2
    assert r["mean"] == pytest.approx((a + b) / 2)
    assert r["median"] == pytest.approx((a + b) / 2)
    # Dollar-weighted: total shortfall over total paper notional.
    assert r["vw_mean"] == pytest.approx((26 - 95) / (9990 + 20020) * 1e4)
    assert r["fill_rate"] == pytest.approx(150 / 300)
    assert b - 1e-9 <= r["ci_lower"] <= r["mean"] <= r["ci_upper"] <= a + 1e-9
    # Slippage is undefined for order 3 (nothing executed): count 0, NaN statistics.
    v = s.loc[("vwap", "slippage_arrival_bps")]
    assert v["count"] == 0 and np.isnan(v["mean"]) and np.isnan(v["ci_lower"])
    fr = s.loc[("vwap", "fill_rate")]
    assert fr["mean"] == 0.0 and fr["fill_rate"] == 0.0
    # Slippage vw_mean weights by executed dollars: 10015 and 5010.
    sl = s.loc[("twap", "slippage_arrival_bps")]
    assert sl["vw_mean"] == pytest.approx((15.0 * 10015 + (0.05 / 100.25 * 1e4) * 5010) / 15025)
    assert list(s.index.names) == ["algorithm", "metric"]


def test_summarize_bootstrap_matches_a_loop():
    rng = np.random.default_rng(7)
    v = rng.normal(5.0, 2.0, 40)
    t = pd.DataFrame({"g": "x", "is_bps": v, "quantity": 1, "executed": 1, "paper_notional": 1.0})
    s = ex.summarize(t, by="g", rng=np.random.default_rng(3), n_boot=500, level=0.9, metrics=["is_bps"])
    draws = np.random.default_rng(3).integers(0, 40, size=(500, 40))
    means = v[draws].mean(axis=1)
    assert s.loc[("x", "is_bps"), "ci_lower"] == pytest.approx(np.quantile(means, 0.05), rel=1e-12)
    assert s.loc[("x", "is_bps"), "ci_upper"] == pytest.approx(np.quantile(means, 0.95), rel=1e-12)
    # Same seed, same interval; a constant metric has a zero-width interval.
    again = ex.summarize(t, by="g", rng=3, n_boot=500, level=0.9, metrics=["is_bps"])
    assert again.loc[("x", "is_bps"), "ci_lower"] == s.loc[("x", "is_bps"), "ci_lower"]
    const = ex.summarize(t.assign(is_bps=2.5), by=None, rng=1, n_boot=50, metrics=["is_bps"])
    assert const.loc[("all", "is_bps"), ["ci_lower", "ci_upper"]].tolist() == [2.5, 2.5]


def test_summarize_bad_input(orders, fills, bars):
    t = ex.shortfall(orders, fills, bars)
    with pytest.raises(ValueError, match=r"by == 'desk': column\(s\) \['desk'\] not in table"):
        ex.summarize(t, by="desk", rng=0)
    with pytest.raises(ValueError, match=r"metrics \['sharpe'\] are not columns of table"):
        ex.summarize(t, rng=0, metrics=["sharpe"])
    with pytest.raises(ValueError, match=r"level == 1.5, must be < 1.0"):
        ex.summarize(t, rng=0, level=1.5)
    with pytest.raises(ValueError, match=r"n_boot == 5, must be >= 10"):
        ex.summarize(t, rng=0, n_boot=5)
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator, an int seed or None, got str"):
        ex.summarize(t, rng="seed")
    with pytest.raises(ValueError, match=r"table column 'is_bps' has inf at row 3"):
        ex.summarize(t.assign(is_bps=[1.0, 2.0, np.inf]), rng=0)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------
def test_figures_return_axes(orders, fills, bars):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = ex.shortfall(orders, fills, bars)
    ax = ex.plot_shortfall_waterfall(t, 2)
    # Four floating parts and the total; the total bar ends at -95 $ in bps of 20,020 $.
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 5 and heights[-1] == pytest.approx(-95 / 20020 * 1e4)
    with pytest.raises(ValueError, match=r"order_id == 99 is not in the table's index"):
        ex.plot_shortfall_waterfall(t, 99)
    with pytest.raises(ValueError, match=r"unit == 'pct', must be one of \['bps', '\$'\]"):
        ex.plot_shortfall_waterfall(t, 2, unit="pct")
    ax = ex.plot_cost_distribution(t, "is_bps", by="algorithm")
    assert [x.get_text() for x in ax.get_xticklabels()] == ["twap", "vwap"]
    sim_orders = orders.drop(columns="arrival_time")
    res = ex.simulate(sim_orders, ex.twap(sim_orders["quantity"], 2), bars)
    ax = ex.plot_execution_trajectory(res, 1)
    assert ax.get_ylabel() == "cumulative shares"
    plt.close("all")


# ---------------------------------------------------------------------------
# Edge cases found in review
# ---------------------------------------------------------------------------
def test_executed_shares_are_whole(orders, fills, bars):
    t = ex.shortfall(orders, fills, bars)
    assert t["executed"].dtype == np.int64 and t["unexecuted"].dtype == np.int64
    with pytest.raises(ValueError, match=r"fills column 'shares' has 40.5 at row 1; must be a whole number of shares >= 0"):
        ex.shortfall(orders, fills.assign(shares=[60, 40.5, 50]), bars)


def test_summarize_hand_worked_median_std_and_single_order_groups():
    # Group a: 1, 2, 9 bps on notionals 1, 1, 2 ($): mean 4, median 2, sample std
    # sqrt(((1-4)^2 + (2-4)^2 + (9-4)^2) / 2) = sqrt(19), vw_mean (1 + 2 + 18) / 4 = 5.25.
    # Group b: one order.  Its std and bootstrap interval are undefined (NaN), not 0 and [v, v].
    t = pd.DataFrame({"algorithm": ["a", "a", "a", "b"], "is_bps": [1.0, 2.0, 9.0, 4.0],
                      "quantity": [10, 10, 20, 10], "executed": [10, 5, 20, 10],
                      "paper_notional": [1.0, 1.0, 2.0, 1.0], "fill_rate": [1.0, 0.5, 1.0, 1.0]})
    s = ex.summarize(t, rng=0, n_boot=200, metrics=["is_bps", "fill_rate"])
    a = s.loc[("a", "is_bps")]
    assert a["count"] == 3 and a["mean"] == pytest.approx(4.0) and a["median"] == 2.0
    assert a["std"] == pytest.approx(np.sqrt(19.0)) and a["vw_mean"] == pytest.approx(5.25)
    assert 1.0 <= a["ci_lower"] < 4.0 < a["ci_upper"] <= 9.0
    # Fill rate: executed / ordered shares of the group, 35 / 40; the per-order mean is 2.5 / 3.
    assert a["fill_rate"] == pytest.approx(35 / 40)
    assert s.loc[("a", "fill_rate"), "mean"] == pytest.approx(2.5 / 3)
    assert s.loc[("a", "fill_rate"), "vw_mean"] == pytest.approx(35 / 40)
    b = s.loc[("b", "is_bps")]
    assert b["count"] == 1 and b["mean"] == 4.0 and b["median"] == 4.0
    assert np.isnan(b["std"]) and np.isnan(b["ci_lower"]) and np.isnan(b["ci_upper"])


def test_summarize_names_bad_columns():
    t = pd.DataFrame({"algorithm": ["a", "a"], "is_bps": [1.0, 2.0], "quantity": [10, 10], "executed": [10, 5]})
    with pytest.raises(TypeError, match=r"table column 'is_bps' must be numeric"):
        ex.summarize(t.assign(is_bps=["x", 1.0]), rng=0, metrics=["is_bps"])
    # A missing executed count would silently make the group's fill rate NaN.
    with pytest.raises(ValueError, match=r"table column 'executed' has nan at row 0; must be finite and >= 0"):
        ex.summarize(t.assign(executed=[np.nan, 5.0]), rng=0, metrics=["is_bps"])
    with pytest.raises(ValueError, match=r"table column 'quantity' has -10.0 at row 1; must be finite and >= 0"):
        ex.summarize(t.assign(quantity=[10, -10]), rng=0, metrics=["is_bps"])
