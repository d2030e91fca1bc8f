"""Fill simulator: hand-worked fills on four bars, properties, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import execlab as ex
from execlab.schedules import Schedule

from _four_bars import TZ, make_bars, market, ts  # tests/ is on sys.path under pytest


class LinearImpact:
    """Test double: temporary k * shares / bin volume, permanent g * shares / daily volume."""

    def __init__(self, k: float = 0.01, g: float = 0.35) -> None:
        self.k, self.g = k, g

    def temporary_impact(self, shares, bin_volume, daily_volume, sigma):
        return self.k * np.asarray(shares) / np.asarray(bin_volume)

    def permanent_impact(self, shares, daily_volume, sigma):
        return self.g * np.asarray(shares) / np.asarray(daily_volume)


def orders_frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


@pytest.fixture
def bars() -> ex.Market:
    return market()


@pytest.fixture
def two_orders() -> pd.DataFrame:
    # A buys 150 as TWAP over three bars, B sells 100 at once; both decided at 15:56:00.
    return orders_frame(
        order_id=["A", "B"], ticker="XYZ", side=["BUY", "SELL"], quantity=[150, 100],
        decision_time=[ts("15:56:00")] * 2, algorithm=["twap", "market"],
    )


def two_schedule() -> Schedule:
    shares = np.array([[50, 50, 50], [100, 0, 0]])
    return Schedule(shares, np.array([150, 100]), "mixed")


# ---------------------------------------------------------------------------
# Hand-worked: pro-rata cap, carry-over, a zero-volume bar, FIFO children, fees
# ---------------------------------------------------------------------------
def test_hand_worked_pro_rata_and_carry_over(bars, two_orders):
    # Caps at 10%: 100, 50, 0, 200 shares.
    # bar 0: demand A 50 + B 100 = 150 > 100. Cumulative rounding: A 50*100/150 = 33.3 -> 33, B 67.
    # bar 1: A 17 + 50 = 67, B 33; demand 100 > 50: A round(67*50/100 = 33.5) = 34, B 16.
    # bar 2: no volume, A releases 50 more (83 waiting), nothing fills.
    # bar 3: A 83 + B 17 = 100 <= 200: all fill.
    res = ex.simulate(two_orders, two_schedule(), bars, fee_per_share=0.01, fee_per_order=1.0)
    f = res.fills
    a = f[f["order_id"] == "A"]
    b = f[f["order_id"] == "B"]
    assert a["child"].tolist() == [0, 0, 1, 1, 2]
    assert a["shares"].tolist() == [33, 17, 17, 33, 50]
    assert a["time"].tolist() == [ts("15:56"), ts("15:57"), ts("15:57"), ts("15:59"), ts("15:59")]
    assert b["child"].tolist() == [0, 0, 0]
    assert b["shares"].tolist() == [67, 16, 17]
    # Buys pay mid + half spread, sells receive mid - half spread (no impact model).
    np.testing.assert_allclose(a["price"], [100.01, 100.22, 100.22, 100.61, 100.61], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b["price"], [99.99, 100.18, 100.59], rtol=0, atol=1e-12)
    # Fees: 1 cent a share plus $1 on each child's first fill.
    np.testing.assert_allclose(a["fee"], [1.33, 0.17, 1.17, 0.33, 1.50], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b["fee"], [1.67, 0.16, 0.17], rtol=0, atol=1e-12)
    o = res.orders.set_index("order_id")
    assert o.loc["A", "status"] == "FILLED" and o.loc["B", "status"] == "FILLED"
    assert o.loc["A", "filled"] == 150 and o.loc["A", "unfilled"] == 0
    assert o.loc["A", "avg_price"] == pytest.approx((33 * 100.01 + 34 * 100.22 + 83 * 100.61) / 150, abs=1e-12)
    assert o.loc["B", "avg_price"] == pytest.approx((67 * 99.99 + 16 * 100.18 + 17 * 100.59) / 100, abs=1e-12)
    assert o.loc["A", "end_time"] == ts("16:00") and o.loc["A", "algorithm"] == "twap"
    # Market participation never exceeds the cap.
    per_bar = f.groupby("time")["shares"].sum()
    assert per_bar.tolist() == [100, 50, 100]


def test_impact_hand_worked(bars):
    # 200 shares as two slices of 100, no cap.  Daily volume 3500.
    # bar 0: temp 0.01 * 100/1000 = 0.001, no earlier permanent impact:
    #        100.00 * (1 + 0.01/100.00 + 0.001) = 100.11
    # bar 1: temp 0.01 * 100/500 = 0.002, earlier permanent 0.35 * 100/3500 = 0.01:
    #        buy 100.20 + 0.02 + 100.20 * 0.012 = 101.4224; sell 100.20 - 0.02 - 1.2024 = 98.9776
    orders = orders_frame(order_id=[1, 2], ticker="XYZ", side=["BUY", "SELL"], quantity=[200, 200],
                          decision_time=[ts("15:56:00")] * 2)
    sched = ex.twap(orders["quantity"], 2)
    one = ex.simulate(orders.iloc[:1], ex.twap([200], 2), bars, LinearImpact(), forecast="same_session", max_participation=None)
    np.testing.assert_allclose(one.fills["price"], [100.11, 101.4224], rtol=0, atol=1e-10)
    sell = ex.simulate(orders.iloc[1:], ex.twap([200], 2), bars, LinearImpact(), forecast="same_session", max_participation=None)
    np.testing.assert_allclose(sell.fills["price"], [100.00 - 0.01 - 0.1, 98.9776], rtol=0, atol=1e-10)
    # Each order pays only for its own permanent impact, not for the other's.
    both = ex.simulate(orders, sched, bars, LinearImpact(), forecast="same_session", max_participation=None)
    np.testing.assert_allclose(both.fills["price"], [100.11, 101.4224, 99.89, 98.9776], rtol=0, atol=1e-10)


def test_partial_fill_and_orders_spanning_the_close(bars):
    # C arrives 15:58:30 and releases 500 in bar 2 (no volume) and 500 in bar 3 (cap 200): 200 fill.
    # D arrives 15:59:30 with three one-bar bins: bins 1 and 2 fall after the close.
    # E arrives after the close: nothing fills.
    # In bar 3, C (1000 waiting) and D (10) share the cap of 200 pro rata:
    # C 1000 * 200 / 1010 = 198.02 -> 198, D gets the other 2 (1.98).
    orders = orders_frame(
        order_id=[10, 11, 12], ticker="XYZ", side=["BUY", "SELL", "BUY"], quantity=[1000, 30, 5],
        decision_time=[ts("15:58:00"), ts("15:59:30"), ts("16:05:00")],
        arrival_time=[ts("15:58:30"), ts("15:59:30"), ts("16:05:00")],
    )
    sched = Schedule(np.array([[500, 500, 0], [10, 10, 10], [5, 0, 0]]), np.array([1000, 30, 5]), "twap")
    res = ex.simulate(orders, sched, bars)
    o = res.orders.set_index("order_id")
    assert o["filled"].tolist() == [198, 2, 0]
    assert o["unfilled"].tolist() == [802, 28, 5]
    assert o["status"].tolist() == ["PARTIALLY_FILLED", "PARTIALLY_FILLED", "UNFILLED"]
    np.testing.assert_allclose(o["fill_rate"], [0.198, 2 / 30, 0.0])
    # E arrived at 16:05, after the close: its horizon ends where it starts.
    assert o["end_time"].tolist() == [ts("16:00"), ts("16:00"), ts("16:05")]
    assert np.isnan(o.loc[12, "avg_price"])
    f = res.fills
    # C's first child is first in line in bar 3 (first released, first filled).
    assert f[f["order_id"] == 10][["child", "shares"]].values.tolist() == [[0, 198]]
    # Released after the close is never released.
    assert res.releases[res.releases["order_id"] == 11]["shares"].tolist() == [10]
    assert res.releases[res.releases["order_id"] == 12].empty


def test_bin_duration_releases_by_clock_and_delay(bars):
    # Two-minute bins from 15:56:20 (15:56:00 + 20 s delay): bins at 15:56:20, 15:58:20, 16:00:20.
    orders = orders_frame(order_id=[1], ticker="XYZ", side=["BUY"], quantity=[30], decision_time=[ts("15:56:00")])
    sched = ex.twap([30], 3, bin_duration="2min")
    res = ex.simulate(orders, sched, bars, delay="20s", max_participation=None)
    assert res.releases["time"].tolist() == [ts("15:56"), ts("15:58")]
    # Bar 2 has no volume, so the second child waits for bar 3; the third is after the close.
    assert res.fills[["child", "shares"]].values.tolist() == [[0, 10], [1, 10]]
    # Stamped at the bar's start, or at the arrival when the order arrived inside the bar.
    assert res.fills["time"].tolist() == [ts("15:56:20"), ts("15:59")]
    assert res.orders["arrival_time"].iat[0] == ts("15:56:20")
    assert res.orders["status"].iat[0] == "PARTIALLY_FILLED"


def test_tickers_do_not_share_the_cap():
    bars = make_bars(("AAA", "BBB"))
    orders = orders_frame(order_id=[1, 2], ticker=["AAA", "BBB"], side="BUY", quantity=[100, 100],
                          decision_time=[ts("15:56:00")] * 2)
    res = ex.simulate(orders, ex.market([100, 100]), market(bars))
    assert res.orders["filled"].tolist() == [100, 100]
    assert res.fills["time"].tolist() == [ts("15:56")] * 2


def test_zero_quantity_and_summary(bars, two_orders):
    orders = orders_frame(order_id=[1, 2], ticker="XYZ", side=["BUY", "SELL"], quantity=[0, 10],
                          decision_time=[ts("15:56:00")] * 2)
    res = ex.simulate(orders, ex.twap([0, 10], 2), bars)
    assert res.orders["status"].tolist() == ["FILLED", "FILLED"]
    assert res.orders["fill_rate"].tolist() == [1.0, 1.0]
    text = ex.simulate(two_orders, two_schedule(), bars).summary()
    assert "FILLED 2" in text and "250 filled (100.00%)" in text
    tr = ex.simulate(two_orders, two_schedule(), bars).trajectory("A")
    assert tr["cum_released"].tolist() == [50, 100, 150, 150]
    assert tr["cum_filled"].tolist() == [33, 67, 67, 150]
    assert tr["market_volume"].tolist() == [1000, 500, 0, 2000]


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    rho=st.sampled_from([0.05, 0.1, 0.5, 1.0]),
    bin_duration=st.sampled_from([None, "20s", "1min", "90s"]),
)
def test_conservation_and_cap(n, seed, rho, bin_duration):
    rng = np.random.default_rng(seed)
    bars = make_bars(("AAA", "BBB"))
    bars["volume"] = rng.integers(0, 800, len(bars))
    qty = rng.integers(0, 400, n)
    start = rng.integers(-90, 270, n)  # some before the first bar, some after the close
    orders = orders_frame(
        order_id=np.arange(n), ticker=rng.choice(["AAA", "BBB"], n), side=rng.choice(["BUY", "SELL"], n),
        quantity=qty, decision_time=[ts("15:56:00") + pd.Timedelta(seconds=int(s)) for s in start],
    )
    sched = ex.twap(qty, int(rng.integers(1, 5)), bin_duration=bin_duration)
    res = ex.simulate(orders, sched, market(bars), LinearImpact(), max_participation=rho, forecast="same_session")
    o, f = res.orders, res.fills
    assert (o["filled"] + o["unfilled"] == o["quantity"]).all()
    assert (o["end_time"] >= o["arrival_time"]).all()
    # The simulator's output always feeds shortfall, and its parts add up.
    t = ex.shortfall(o, f, market(bars))
    parts = t[["delay_cost", "execution_cost", "opportunity_cost", "fees"]].sum(axis=1)
    assert np.allclose(parts, t["is_total"], rtol=1e-12, atol=1e-9)
    per_order = f.groupby("order_id")["shares"].sum().reindex(o["order_id"], fill_value=0)
    assert (per_order.to_numpy() == o["filled"].to_numpy()).all()
    # Participation cap per ticker and bar, shared by all orders of the ticker.
    tick = o.set_index("order_id")["ticker"]
    f = f.assign(bar=f["time"].dt.floor("1min"))
    assert (f["time"] >= f["order_id"].map(o.set_index("order_id")["arrival_time"])).all()  # never before arrival
    used = f.assign(ticker=f["order_id"].map(tick)).groupby(["ticker", "bar"])["shares"].sum()
    cap = res.market.set_index(["ticker", "time"])["cap"]
    assert (used <= cap.reindex(used.index)).all()
    # Never fill before release: cumulative fills <= cumulative releases, order by order.
    for oid in o["order_id"]:
        tr = res.trajectory(oid)
        assert (tr["cum_filled"] <= tr["cum_released"]).all()
    # Buys never pay less than the mid, sells never get more.
    g = f.assign(ticker=f["order_id"].map(tick), side=f["order_id"].map(o.set_index("order_id")["side"]))
    g = g.merge(bars[["ticker", "time", "mid", "spread"]].rename(columns={"time": "bar"}), on=["ticker", "bar"])
    s = np.where(g["side"] == "BUY", 1.0, -1.0)
    assert (s * (g["price"] - g["mid"]) >= g["spread"] / 2 - 1e-9).all()
    assert set(o["status"]) <= {"FILLED", "PARTIALLY_FILLED", "UNFILLED"}


@settings(max_examples=30, deadline=None)
@given(d=st.lists(st.integers(1, 500), min_size=2, max_size=6), cap=st.integers(1, 400))
def test_pro_rata_is_fair_to_one_share(d, cap):
    # All orders release in bar 0 of a bar whose cap is `cap`; each gets floor or ceil of d_i*C/D.
    n = len(d)
    bars = make_bars()
    bars.loc[0, "volume"] = cap
    orders = orders_frame(order_id=np.arange(n), ticker="XYZ", side="BUY", quantity=d,
                          decision_time=[ts("15:56:00")] * n)
    res = ex.simulate(orders, ex.market(d), market(bars), max_participation=1.0)
    first = res.fills[res.fills["time"] == ts("15:56")].groupby("order_id")["shares"].sum().reindex(range(n), fill_value=0)
    D = sum(d)
    share = np.array(d) * min(cap, D) / D
    assert first.sum() == min(cap, D)
    assert (np.abs(first.to_numpy() - share) < 1 + 1e-9).all()
    assert (first.to_numpy() <= np.array(d)).all()


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
def _ok_orders():
    return orders_frame(order_id=[1, 2], ticker="XYZ", side=["BUY", "SELL"], quantity=[10, 20],
                        decision_time=[ts("15:56:00")] * 2)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda o: o.assign(side=["BUY", "HOLD"]), r"orders column 'side' has 'HOLD' at row 1; must be one of \['BUY', 'SELL'\]"),
        (lambda o: o.assign(quantity=[10.0, np.nan]), r"orders column 'quantity' has nan at row 1"),
        (lambda o: o.assign(quantity=[10, -5]), r"orders column 'quantity' has -5.0 at row 1"),
        (lambda o: o.assign(quantity=[10.5, 20]), r"orders column 'quantity' has 10.5 at row 0; must be a whole number"),
        (lambda o: o.assign(order_id=[1, 1]), r"orders column 'order_id' has duplicate value 1"),
        (lambda o: o.assign(ticker=["XYZ", "MSFT"]), r"orders column 'ticker' has 'MSFT' at row 1, which the market does not hold"),
        (lambda o: o.assign(decision_time=[ts("15:56"), pd.NaT]), r"orders column 'decision_time' has NaT at row 1"),
        (lambda o: o.assign(decision_time=pd.Timestamp("2012-06-21 15:56")), r"'decision_time' is timezone-naive"),
        (lambda o: o.assign(arrival_time=[ts("15:55"), ts("15:57")]), r"'arrival_time' has .* at row 0, before its decision_time"),
        (lambda o: o.assign(decision_time=pd.Timestamp("2012-06-22 10:00", tz=TZ)), r"orders column 'arrival_time' has 2012-06-22 10:00:00-04:00 at row 0 \(XYZ\), on a date that is not one of the market's sessions"),
    ],
)
def test_bad_orders(bars, change, match):
    orders = change(_ok_orders())
    q = pd.to_numeric(orders["quantity"], errors="coerce").fillna(0).clip(lower=0).round()
    sched = ex.twap(q.to_numpy(), 2)
    with pytest.raises(ValueError, match=match):
        ex.simulate(orders, sched, bars)


def test_bad_bars_and_arguments(bars):
    orders = _ok_orders()
    sched = ex.twap([10, 20], 2)
    df = make_bars()
    # Bars are sorted on entry; a duplicate bar is an error.
    dup = pd.concat([df, df.iloc[[1]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"bars has a duplicate bar: ticker 'XYZ' at 2012-06-21 15:57:00-04:00 appears more than once \(row 4\)"):
        market(dup)
    with pytest.raises(ValueError, match=r"bars column 'mid' has -1.0 for 'XYZ' at row 2; must be finite and > 0"):
        market(df.assign(mid=[100.0, 100.0, -1.0, 100.0]))
    with pytest.raises(ValueError, match=r"bars column 'spread' has nan for 'XYZ' at row 1"):
        market(df.assign(spread=[0.1, np.nan, 0.1, 0.1]))
    with pytest.raises(ValueError, match=r"bars column 'volume' has -3.0"):
        market(df.assign(volume=[1, -3, 1, 1]))
    with pytest.raises(ValueError, match=r"the market has no spread for XYZ at 2012-06-21 15:56:00-04:00"):
        ex.simulate(orders, sched, market(df.drop(columns="spread")))
    two = make_bars(("XYZ", "ABC")).drop(index=6)
    with pytest.raises(ValueError, match=r"bars for ticker 'ABC' have a gap: no bar at 2012-06-21 15:58:00-04:00"):
        market(two)
    with pytest.raises(TypeError, match=r"market must be an execlab Market or a bars DataFrame, got list"):
        ex.simulate(orders, sched, [1, 2])
    with pytest.raises(ValueError, match=r"no forecast for XYZ on 2012-06-21 \(impact inputs of the orders' sessions\)"):
        ex.simulate(orders, sched, ex.Market.from_bars(pd.concat([df, df.assign(time=df["time"] + pd.Timedelta("1D"))]),
                                                       open="15:56").subset(["XYZ"]), impact=LinearImpact(), forecast=ex.Market.from_bars(
            pd.concat([df, df.assign(time=df["time"] + pd.Timedelta("1D"))]), open="15:56").forecast(window=1))
    with pytest.raises(ValueError, match=r"schedule.quantity\[1\] == 30 but orders column 'quantity' has 20 at row 1"):
        ex.simulate(orders, ex.twap([10, 30], 2), bars)
    with pytest.raises(ValueError, match=r"schedule has shape \(1, 2\) but orders has 2 rows"):
        ex.simulate(orders, ex.twap([10], 2), bars)
    with pytest.raises(TypeError, match=r"schedule must be an execlab Schedule, got ndarray"):
        ex.simulate(orders, np.ones((2, 2)), bars)
    with pytest.raises(ValueError, match=r"max_participation == 1.5, must be <= 1.0"):
        ex.simulate(orders, sched, bars, max_participation=1.5)
    with pytest.raises(ValueError, match=r"fee_per_share == -0.01, must be >= 0.0"):
        ex.simulate(orders, sched, bars, fee_per_share=-0.01)
    with pytest.raises(ValueError, match=r"delay == '-5s', must be >= 0"):
        ex.simulate(orders, sched, bars, delay="-5s")
    with pytest.raises(ValueError, match=r"delay == '5s' was given but orders has an 'arrival_time' column"):
        ex.simulate(orders.assign(arrival_time=orders["decision_time"]), sched, bars, delay="5s")
    with pytest.raises(TypeError, match=r"impact must have temporary_impact\(...\) and permanent_impact\(...\) methods; object lacks"):
        ex.simulate(orders, sched, bars, impact=object())

    class Negative(LinearImpact):
        def temporary_impact(self, shares, bin_volume, daily_volume, sigma):
            return -np.ones_like(np.asarray(shares, dtype=float))

    with pytest.raises(ValueError, match=r"impact.temporary_impact\(...\) of Negative returned -1.0 for fill 0"):
        ex.simulate(orders, sched, bars, impact=Negative(), forecast="same_session")


def test_real_bars_smoke():
    bars = ex.load_bars("1min")
    t0 = pd.Timestamp("2012-06-21 10:00", tz=TZ)
    orders = orders_frame(order_id=[1, 2, 3], ticker=["AAPL", "AMZN", "GOOG"], side=["BUY", "SELL", "BUY"],
                          quantity=[20_000, 5_000, 3_000], decision_time=[t0] * 3)
    res = ex.simulate(orders, ex.twap(orders["quantity"], 30), bars, LinearImpact(k=1e-3, g=0.1), delay="5s",
                      forecast="same_session")
    assert (res.orders["filled"] == res.orders["quantity"]).all()
    assert res.fills["time"].min() >= t0
    assert list(res.fills.columns) == ["order_id", "child", "time", "shares", "price", "fee"]
    assert res.fills["shares"].dtype == np.int64


# ---------------------------------------------------------------------------
# Edge cases that used to crash or mislead
# ---------------------------------------------------------------------------
def test_order_arriving_after_the_close_feeds_shortfall(bars):
    # Decided 15:59:50 with a 30 s delay: arrives 16:00:20, after the 16:00 close.  Nothing can
    # trade; its horizon ends where it starts (not at the close, which is before its arrival),
    # so shortfall() of the simulator's own output works: unfilled, priced at the close mid 100.70.
    orders = orders_frame(order_id=[1, 2], ticker="XYZ", side=["BUY", "SELL"], quantity=[100, 40],
                          decision_time=[ts("15:59:50"), ts("15:56:00")])
    res = ex.simulate(orders, ex.twap([100, 40], 2), bars, delay="30s")
    o = res.orders.set_index("order_id")
    assert o.loc[1, "status"] == "UNFILLED" and o.loc[1, "filled"] == 0
    assert o.loc[1, "arrival_time"] == ts("16:00:20")
    assert o.loc[1, "end_time"] == ts("16:00:20")
    assert (res.orders["end_time"] >= res.orders["arrival_time"]).all()
    t = ex.shortfall(res.orders, res.fills, bars)
    # Decision 50 s into bar 3: 100.50 + 50/60 * 0.20; arrival after the close: 100.70.
    assert t.loc[1, "decision_price"] == pytest.approx(100.50 + 0.2 * 50 / 60, abs=1e-12)
    assert t.loc[1, "arrival_price"] == pytest.approx(100.70, abs=1e-12)
    assert t.loc[1, "opportunity_cost"] == 0.0
    assert t.loc[1, "is_total"] == pytest.approx(100 * (100.70 - 100.50 - 0.2 * 50 / 60), abs=1e-9)


def test_clock_bins_of_a_pre_open_order_start_at_the_open(bars):
    # Decided at 15:54:30, before the first bar (15:56), with one-minute clock bins: the
    # schedule's clock starts at the open, one slice per bar (15:56, 15:57, 15:58), not three
    # slices dumped into the first bar.  Same as bin_duration=None.
    orders = orders_frame(order_id=[1], ticker="XYZ", side=["BUY"], quantity=[30], decision_time=[ts("15:54:30")])
    clock = ex.simulate(orders, ex.twap([30], 3, bin_duration="1min"), bars, max_participation=None)
    bars_ = ex.simulate(orders, ex.twap([30], 3), bars, max_participation=None)
    expected = [ts("15:56"), ts("15:57"), ts("15:58")]
    assert clock.releases["time"].tolist() == expected
    assert bars_.releases["time"].tolist() == expected
    assert clock.orders["arrival_time"].iat[0] == ts("15:54:30")


def test_impact_that_drives_a_sell_price_below_zero_raises(bars):
    # Permanent impact 50 * 100 / 3500 = 1.43 of the price after the first slice: a sell's second
    # slice would print at 100.20 * (1 - 0.04/2/100.20 - 0.01*100/500 - 1.43) < 0.
    orders = orders_frame(order_id=["s"], ticker="XYZ", side=["SELL"], quantity=[200], decision_time=[ts("15:56:00")])
    with pytest.raises(ValueError, match=r"impact drives the fill price of order_id 's' \(SELL\) to -4[0-9.]+ \$ in the bar "
                                         r"at 2012-06-21 15:57:00-04:00"):
        ex.simulate(orders, ex.twap([200], 2), bars, LinearImpact(g=50.0), forecast="same_session", max_participation=None)


def test_a_coarse_profile_keeps_its_bin_length_on_finer_bars():
    # A 5-minute VWAP profile on 1-minute bars releases every 5 minutes, over the whole session
    # (not 78 one-minute bins ending at 10:48).
    mkt = ex.load_market("1min", "AMZN")
    prof = ex.volume_profile(mkt.to_bars(), "5min")
    t0 = pd.Timestamp("2012-06-21 09:30", tz=TZ)
    o = orders_frame(order_id=[1], ticker="AMZN", side=["BUY"], quantity=[7_800], decision_time=[t0])
    res = ex.simulate(o, ex.vwap([7_800], prof), mkt, max_participation=None)
    assert res.fills["time"].max() >= pd.Timestamp("2012-06-21 15:55", tz=TZ)
