"""Post-trade TCA: hand-worked benchmarks on four bars, rejection reasons, schema errors, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab as ex
from execlab._tca import REASONS, check_executions, read_executions, tca

from _four_bars import TZ, make_bars, market, ts

# The four bars (tests/_four_bars.py), session 15:56-16:00:
# bar  time   volume  vwap    mid     spread  mid_open  mid_close  close
# 0    15:56  1000    100.10  100.00  0.02    99.90     100.10     100.10
# 1    15:57   500    100.20  100.20  0.04    100.10    100.30     100.25
# 2    15:58     0    100.25  100.40  0.02    100.30    100.50     100.25
# 3    15:59  2000    100.60  100.60  0.02    100.50    100.70     100.80


def _orders() -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [1, 2],
        "ticker": "XYZ",
        "side": ["BUY", "SELL"],
        "quantity": [600, 1000],
        "decision_time": [ts("15:56"), ts("15:57")],
        "arrival_time": [ts("15:56"), ts("15:57:30")],
        "end_time": [pd.NaT, ts("15:59")],
        "broker": ["A", "B"],
    }).astype({"end_time": f"datetime64[ns, {TZ}]"})


def _fills() -> pd.DataFrame:
    return pd.DataFrame({
        "fill_id": ["a", "b", "c"],
        "order_id": [1, 1, 2],
        "time": [ts("15:56:30"), ts("15:57"), ts("15:58:10")],
        "shares": [200, 400, 200],
        "price": [100.02, 100.25, 100.35],
        "fee": [1.0, 2.0, 0.5],
        "venue": ["X", "Y", "X"],
    })


@pytest.fixture(scope="module")
def res():
    return tca(_orders(), _fills(), market(), pwp_rates=(0.1, 0.25, 0.5), markout_horizons=("1min", "2min", "5min", "close"))


# ---------------------------------------------------------------------------
# Hand-worked benchmarks, order 1: BUY 600, arrival 15:56 (mid 99.90),
# 200 @ 100.02 at 15:56:30 (bar 0) and 400 @ 100.25 at 15:57 (bar 1).
# ---------------------------------------------------------------------------
AVG1 = (200 * 100.02 + 400 * 100.25) / 600  # 100.17333...


def test_arrival_interval_and_day_vwap_twap_close(res):
    o = res.orders.loc[1]
    assert o["arrival_price"] == pytest.approx(99.90)
    assert o["avg_price"] == pytest.approx(100.173333333, abs=1e-9)
    assert o["slippage_arrival_bps"] == pytest.approx(1e4 * (AVG1 - 99.90) / 99.90)       # 27.3607 bps
    assert o["slippage_arrival_bps"] == pytest.approx(27.3607, abs=1e-4)
    # interval VWAP over bars 0-1: (1000 x 100.10 + 500 x 100.20) / 1500
    assert o["interval_vwap"] == pytest.approx(150_200 / 1500)
    assert o["slippage_vwap_bps"] == pytest.approx(1e4 * (AVG1 - 100.133333333) / 100.133333333, abs=1e-6)
    # full-session VWAP: (100,100 + 50,100 + 0 + 201,200) / 3500 = 100.40
    assert o["day_vwap"] == pytest.approx(100.40)
    assert o["slippage_day_vwap_bps"] == pytest.approx(1e4 * (AVG1 - 100.40) / 100.40)     # -22.5764 bps
    assert o["slippage_day_vwap_bps"] == pytest.approx(-22.5764, abs=1e-4)
    # TWAP: mean bar mid over bars 0-1 = 100.10; close = last trade 100.80
    assert o["slippage_twap_bps"] == pytest.approx(1e4 * (AVG1 - 100.10) / 100.10)
    assert o["slippage_close_bps"] == pytest.approx(1e4 * (AVG1 - 100.80) / 100.80)
    assert o["participation"] == pytest.approx(600 / 1500)
    assert o["n_fills"] == 2 and o["broker"] == "A"


def test_pwp_by_hand(res):
    o = res.orders.loc[1]
    # rho = 50 %: first 1200 market shares from bar 0: 1000 @ 100.10 and 200 of bar 1 @ 100.20
    assert o["pwp_50"] == pytest.approx((1000 * 100.10 + 200 * 100.20) / 1200)  # 100.116667
    assert o["pwp_50_complete"]
    # rho = 25 %: 2400 shares: 1000 @ 100.10, 500 @ 100.20, 0 @ 100.25, 900 of bar 3 @ 100.60
    assert o["pwp_25"] == pytest.approx((100_100 + 50_100 + 900 * 100.60) / 2400)  # 100.308333
    assert o["slippage_pwp_25_bps"] == pytest.approx(1e4 * (AVG1 - 100.308333333) / 100.308333333, abs=1e-6)
    # rho = 10 %: 6000 shares > the 3500 the session traded: VWAP to the close, flagged incomplete
    assert o["pwp_10"] == pytest.approx(100.40)
    assert not o["pwp_10_complete"]


def test_rpm_by_hand(res):
    # bars 0-1: 1000 traded at 100.10 < avg (unfavourable for our buy), 500 at 100.20 > avg (favourable)
    assert res.orders.loc[1, "rpm"] == pytest.approx(0.5 * (1500 + 500 - 1000) / 1500)  # 1/3
    # the sell: one fill in bar 2, which traded nothing: no volume to rank against
    assert np.isnan(res.orders.loc[2, "rpm"])


def test_price_improvement_spread_and_markouts_per_fill(res):
    f = res.fills.set_index("fill_id")
    a, b, c = f.loc["a"], f.loc["b"], f.loc["c"]
    # fill a: bar 0 mid 100.00, spread 0.02 (ask 100.01, bid 99.99), buy @ 100.02
    assert a["vs_mid_bps"] == pytest.approx(2.0)
    assert a["vs_far_touch_bps"] == pytest.approx(1.0)          # paid 1 bp beyond the ask: no improvement
    assert a["spread_paid"] == pytest.approx(1.5)               # (100.02 - 99.99) / 0.02
    # fill b: bar 1 mid 100.20, spread 0.04, buy @ 100.25
    assert b["vs_mid_bps"] == pytest.approx(1e4 * 0.05 / 100.20)        # 4.99002
    assert b["vs_far_touch_bps"] == pytest.approx(1e4 * 0.03 / 100.20)  # 2.99401
    assert b["spread_paid"] == pytest.approx(0.07 / 0.04)               # 1.75
    # fill c: SELL @ 100.35 in bar 2, mid 100.40, spread 0.02 (bid 100.39): 1 cent inside... below the bid
    assert c["vs_mid_bps"] == pytest.approx(1e4 * 0.05 / 100.40)        # 4.98008
    assert c["vs_far_touch_bps"] == pytest.approx(1e4 * 0.04 / 100.40)  # 3.98406
    assert c["spread_paid"] == pytest.approx(0.06 / 0.02)               # 3.0
    # markouts: a at 15:56:30 + 1 min = 15:57:30, mid halfway through bar 1 = 100.20
    assert a["markout_1min_bps"] == pytest.approx(1e4 * (100.02 - 100.20) / 100.00)   # -18
    assert a["reversion_1min_bps"] == pytest.approx(1e4 * (100.00 - 100.20) / 100.00)  # -20: the mid kept rising
    # + 2 min = 15:58:30, halfway through bar 2: 100.40
    assert a["markout_2min_bps"] == pytest.approx(1e4 * (100.02 - 100.40) / 100.00)   # -38
    # + 5 min is past the close: read at the close, mid 100.70
    assert a["markout_5min_bps"] == pytest.approx(-68.0) == a["markout_close_bps"]
    # b at 15:57 + 1 min = 15:58, bar 2 opens at 100.30
    assert b["markout_1min_bps"] == pytest.approx(1e4 * (100.25 - 100.30) / 100.20)   # -4.99002
    assert b["reversion_close_bps"] == pytest.approx(1e4 * (100.20 - 100.70) / 100.20)  # -49.9002
    # c (a sell) at 15:58:10 + 1 min = 15:59:10, bar 3 one sixth in: 100.50 + 0.2 / 6
    m = 100.50 + 0.20 / 6
    assert c["markout_1min_bps"] == pytest.approx(-1e4 * (100.35 - m) / 100.40)          # +18.26: sold below a later mid
    assert c["reversion_1min_bps"] == pytest.approx(-1e4 * (100.40 - m) / 100.40)       # -13.28: the mid kept rising
    assert a["venue"] == "X" and c["fee"] == 0.5


def test_order_level_fill_metrics_are_share_weighted(res):
    o = res.orders.loc[1]
    assert o["vs_mid_bps"] == pytest.approx((200 * 2.0 + 400 * 1e4 * 0.05 / 100.20) / 600)
    assert o["markout_close_bps"] == pytest.approx((200 * -68.0 + 400 * 1e4 * (100.25 - 100.70) / 100.20) / 600)


def test_perold_parts_and_end_time(res):
    o = res.orders.loc[2]  # SELL 1000, decision 15:57 (mid 100.10), arrival 15:57:30 (100.20), end 15:59 (100.50)
    assert o["delay_cost"] == pytest.approx(-1000 * (100.20 - 100.10))
    assert o["execution_cost"] == pytest.approx(-200 * (100.35 - 100.20))
    assert o["opportunity_cost"] == pytest.approx(-800 * (100.50 - 100.20))
    assert o["fees"] == pytest.approx(0.5)
    parts = o[["delay_cost_bps", "execution_cost_bps", "opportunity_cost_bps", "fees_bps"]].sum()
    assert parts == pytest.approx(o["is_bps"])


# ---------------------------------------------------------------------------
# Rejection: every reason, never counted silently
# ---------------------------------------------------------------------------
def test_every_fill_reason():
    o = _orders()
    bad = pd.DataFrame({
        "fill_id": ["ok", "early", "late_end", "dup", "ok2", "shares0", "px", "tick", "unk", "overfill", "fee", "after"],
        "order_id": [1, 1, 2, 1, 2, 1, 1, 1, 99, 1, 1, 1],
        "ticker": ["XYZ"] * 7 + ["ABC"] + ["XYZ"] * 4,
        "time": [ts("15:56:10"), ts("15:55:59"), ts("15:59:30"), ts("15:56:20"), ts("15:58"), ts("15:57"), ts("15:57"),
                 ts("15:57"), ts("15:57"), ts("15:59:59"), ts("15:57"), ts("16:00:01")],
        "shares": [500, 10, 10, 10, 10, 0, 10, 10, 10, 200, 10, 10],
        "price": [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, -1.0, 100.0, 100.0, 100.0, 100.0, 100.0],
        "fee": [0.0] * 10 + [np.inf, 0.0],
    })
    bad.loc[3, "fill_id"] = "ok"  # same id, same session as row 0: a duplicate report
    r = tca(o, bad, market())
    got = dict(zip(r.rejected["row"], r.rejected["reason"]))
    assert got == {1: "before arrival", 2: "after the order's end", 3: "duplicate fill_id", 5: "shares not a whole number > 0",
                   6: "price not > 0", 7: "ticker differs from the order's", 8: "unknown order_id", 9: "overfill",
                   10: "fee not finite", 11: "after the close"}
    assert set(got.values()) <= set(REASONS["fills"])
    assert r.fills["fill_id"].tolist() == ["ok", "ok2"]
    assert len(r.fills) + len(r.rejected) == len(bad)  # nothing dropped silently


def test_duplicate_fill_id_same_session_only():
    # the same execution id on two sessions is two executions (FIX ExecIDs are unique per day)
    bars = make_bars()
    two = pd.concat([bars.assign(time=bars["time"] - pd.Timedelta("1D")), bars], ignore_index=True)
    m = ex.Market.from_bars(two, open="15:56")
    o = pd.DataFrame({"order_id": [1, 2], "ticker": "XYZ", "side": "BUY", "quantity": 100,
                      "decision_time": [ts("15:56") - pd.Timedelta("1D"), ts("15:56")]})
    f = pd.DataFrame({"fill_id": [7, 7, 7], "order_id": [1, 2, 2], "time": [ts("15:57") - pd.Timedelta("1D"), ts("15:57"),
                                                                          ts("15:58")],
                      "shares": 10, "price": 100.0})
    r = tca(o, f, m)
    assert r.rejected["reason"].tolist() == ["duplicate fill_id"] and r.rejected["row"].tolist() == [2]


def test_order_reasons_reject_their_fills():
    o = pd.DataFrame({
        "order_id": [1, 2, 3, 3, 5, 6, 7],
        "ticker": ["XYZ", "ABC", "XYZ", "XYZ", "XYZ", "XYZ", "XYZ"],
        "side": ["BUY", "BUY", "BUY", "SELL", "HOLD", "BUY", "BUY"],
        "quantity": [100, 100, 100, 100, 100, 1.5, 100],
        "decision_time": [ts("15:56")] * 6 + [ts("15:58")],
        "arrival_time": [ts("15:56")] * 6 + [ts("15:57")],
    })
    f = pd.DataFrame({"order_id": [1, 2, 3, 5, 6, 7], "time": ts("15:58"), "shares": 10, "price": 100.0})
    r = tca(o, f, market())
    rej = r.rejected.set_index(["table", "row"])["reason"]
    assert rej[("orders", 1)] == "ticker not in market"
    assert rej[("orders", 2)] == rej[("orders", 3)] == "duplicate order_id"
    assert rej[("orders", 4)] == "side not BUY/SELL"
    assert rej[("orders", 5)] == "quantity not a whole number > 0"
    assert rej[("orders", 6)] == "arrival before decision"
    assert (r.rejected.query("table == 'fills'")["reason"] == "order rejected").sum() == 5
    assert r.orders.index.tolist() == [1] and len(r.fills) == 1


def test_a_fill_without_order_id_is_unknown_even_beside_an_order_without_one():
    """An order with a missing id is rejected; a fill with a missing id is still an unknown order's, not that one's."""
    o = pd.DataFrame({"order_id": [1.0, np.nan], "ticker": "XYZ", "side": "BUY", "quantity": 100,
                      "decision_time": ts("15:56")})
    f = pd.DataFrame({"order_id": [1.0, np.nan], "time": ts("15:57"), "shares": 10, "price": 100.0})
    r = tca(o, f, market())
    assert r.rejected[["table", "row", "reason"]].values.tolist() == [["orders", 1, "missing order_id"],
                                                                      ["fills", 1, "unknown order_id"]]


def test_time_zone_rows_rejected():
    f = _fills()
    utc = f["time"].dt.tz_convert("UTC").astype(object)
    f["time"] = [f["time"][0], utc[1], f["time"][2].tz_convert("US/Eastern")]  # mixed zones in one object column
    r = tca(_orders(), f, market())
    assert r.rejected["reason"].tolist() == ["time in another time zone"] and r.rejected["row"].tolist() == [1]
    # the same from CSV text: an offset that is not New York's at that instant
    g = _fills().assign(time=["2012-06-21T15:56:30-04:00", "2012-06-21T19:57:00+00:00", "2012-06-21T15:58:10-04:00"])
    r2 = tca(_orders(), g, market())
    assert r2.rejected["reason"].tolist() == ["time in another time zone"]
    assert r2.orders.loc[2, "avg_price"] == pytest.approx(100.35)


def test_schema_errors_name_the_column():
    with pytest.raises(ValueError, match=r"fills is missing required column\(s\) \['price'\]"):
        tca(_orders(), _fills().drop(columns="price"), market())
    with pytest.raises(ValueError, match=r"orders is missing required column\(s\) \['side'\]"):
        tca(_orders().drop(columns="side"), _fills(), market())
    with pytest.raises(TypeError, match="fills column 'price' must be numeric, got dtype"):
        tca(_orders(), _fills().assign(price=["a", "b", "c"]), market())
    with pytest.raises(TypeError, match="orders column 'decision_time' must hold tz-aware timestamps"):
        tca(_orders().assign(decision_time=[1, 2]), _fills(), market())
    with pytest.raises(ValueError, match="fills column 'time' is timezone-naive"):
        tca(_orders(), _fills().assign(time=_fills()["time"].dt.tz_localize(None)), market())
    with pytest.raises(TypeError, match="fills column 'order_id' has dtype .* but orders column 'order_id' has dtype int64"):
        tca(_orders(), _fills().assign(order_id=["1", "1", "2"]), market())
    with pytest.raises(ValueError, match=r"pwp_rates == 1.5, must be <= 1.0"):
        tca(_orders(), _fills(), market(), pwp_rates=(1.5,))
    with pytest.raises(ValueError, match="markout_horizons has 'soon'"):
        tca(_orders(), _fills(), market(), markout_horizons=("soon",))


def test_read_executions_csv_and_parquet_round_trip(tmp_path):
    o, f = _orders(), _fills()
    o.to_parquet(tmp_path / "o.parquet")
    f.assign(time=f["time"].map(lambda t: t.isoformat())).to_csv(tmp_path / "f.csv", index=False)
    ro, rf = read_executions(tmp_path / "o.parquet", tmp_path / "f.csv")
    a = tca(ro, rf, market())
    b = tca(o, f, market())
    num = a.orders.select_dtypes("number").columns
    pd.testing.assert_frame_equal(a.orders[num], b.orders[num])
    a.to_parquet(tmp_path / "out")
    back = pd.read_parquet(tmp_path / "out" / "orders.parquet")
    assert np.allclose(back["is_bps"], b.orders["is_bps"])
    with pytest.raises(ValueError, match="engine == 'spark'"):
        read_executions(o, f, engine="spark")


# ---------------------------------------------------------------------------
# ADV from earlier sessions, size buckets, aggregation
# ---------------------------------------------------------------------------
def test_size_bucket_uses_earlier_sessions_only():
    bars = make_bars()
    day1 = bars.assign(time=bars["time"] - pd.Timedelta("1D"), volume=bars["volume"] * 2)  # 7000 shares
    m = ex.Market.from_bars(pd.concat([day1, bars], ignore_index=True), open="15:56")
    o = pd.DataFrame({"order_id": [1, 2], "ticker": "XYZ", "side": "BUY", "quantity": [105, 105],
                      "decision_time": [ts("15:56") - pd.Timedelta("1D"), ts("15:56")]})
    f = pd.DataFrame({"order_id": [1, 2], "time": [ts("15:57") - pd.Timedelta("1D"), ts("15:57")], "shares": 100,
                      "price": 100.2})
    r = tca(o, f, m)
    # day 2's ADV is day 1's 7000 shares (not its own 3500): 105 / 7000 = 1.5 %
    assert r.orders.loc[2, "adv"] == 7000 and r.orders.loc[2, "size_pct_adv"] == pytest.approx(1.5)
    assert r.orders["size_bucket"].astype(str).tolist() == ["no ADV", "1-2%"]
    assert r.orders.loc[2, "adv_sessions"] == 1


def test_by_tag_uses_summarize_with_explicit_rng(res):
    a = res.by("broker", rng=np.random.default_rng(3), metrics=["slippage_arrival_bps", "rpm"])
    b = res.by("broker", rng=np.random.default_rng(3), metrics=["slippage_arrival_bps", "rpm"])
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[("A", "slippage_arrival_bps"), "mean"] == pytest.approx(1e4 * (AVG1 - 99.90) / 99.90)
    assert a.loc[("A", "rpm"), "count"] == 1 and a.loc[("B", "rpm"), "count"] == 0
    s = res.summary(rng=0)
    assert s.loc["fill_rate", "fill_rate"] == pytest.approx(800 / 1600)
    with pytest.raises(ValueError, match=r"tags \['desk'\] are not columns"):
        res.by("desk")


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@settings(max_examples=40)
@given(
    st.lists(st.tuples(st.integers(0, 239), st.integers(1, 300), st.integers(-30, 30)), min_size=1, max_size=8),
    st.sampled_from(["BUY", "SELL"]),
)
def test_identities_and_row_order_invariance(rows, side):
    """markout - vs_mid = reversion; vs_far = vs_mid - half spread; shuffling fills changes no order metric."""
    t0 = ts("15:56")
    s = 1 if side == "BUY" else -1
    fills = pd.DataFrame({
        "order_id": 1,
        "time": [t0 + pd.Timedelta(seconds=r[0]) for r in rows],
        "shares": [r[1] for r in rows],
        "price": [100.3 + s * r[2] / 100 for r in rows],
    })
    orders = pd.DataFrame({"order_id": [1], "ticker": "XYZ", "side": side, "quantity": [2400],
                           "decision_time": [t0]})
    m = market()
    r = tca(orders, fills, m)
    f = r.fills
    for h in r.params.horizons:
        assert np.allclose(f[f"markout_{h}_bps"] - f["vs_mid_bps"], f[f"reversion_{h}_bps"], atol=1e-9)
    assert np.allclose(f["vs_mid_bps"] - f["vs_far_touch_bps"], 1e4 * f["spread"] / 2 / f["mid"], atol=1e-9)
    assert np.allclose(f["spread_paid"], 0.5 + f["vs_mid_bps"] * f["mid"] / 1e4 / f["spread"], atol=1e-9)
    rpm = r.orders.loc[1, "rpm"]
    assert 0.0 <= rpm <= 1.0 or (np.isnan(rpm) and set(f["time"].dt.minute) == {58})  # bar 2 traded nothing
    shuffled = tca(orders, fills.iloc[::-1].reset_index(drop=True), m)
    num = r.orders.select_dtypes("number").columns
    assert np.allclose(r.orders[num].to_numpy(np.float64), shuffled.orders[num].to_numpy(np.float64), equal_nan=True,
                       rtol=0, atol=1e-9)


def test_check_executions_accounts_for_every_row():
    o, f = _orders(), _fills()
    f = pd.concat([f, f.assign(order_id=[9, 9, 9])], ignore_index=True)
    ok_o, ok_f, rej = check_executions(o, f, market())
    assert len(ok_o) == 2 and len(ok_f) + len(rej) == len(f)
    assert rej["reason"].tolist() == ["unknown order_id"] * 3


def test_own_quotes_replace_the_bars():
    # a quote at 15:56:20: bid 100.00, ask 100.04 (mid 100.02); at 15:57:20: 100.40 / 100.42 (mid 100.41)
    q = pd.DataFrame({"ticker": "XYZ", "time": [ts("15:56:20"), ts("15:57:20")], "bid": [100.00, 100.40],
                      "ask": [100.04, 100.42]})
    r = tca(_orders(), _fills(), market(), quotes=q, markout_horizons=("1min",))
    f = r.fills.set_index("fill_id")
    assert f.loc["a", "mid"] == pytest.approx(100.02) and f.loc["a", "vs_mid_bps"] == pytest.approx(0.0, abs=1e-9)
    assert f.loc["a", "spread_paid"] == pytest.approx(0.5)
    # a at 15:56:30 + 1 min reads the 15:57:20 quote
    assert f.loc["a", "markout_1min_bps"] == pytest.approx(1e4 * (100.02 - 100.41) / 100.02)
    with pytest.raises(ValueError, match="quotes need a time in the market's zone and 0 < bid <= ask"):
        tca(_orders(), _fills(), market(), quotes=q.assign(ask=[99.0, 100.42]))


# ---------------------------------------------------------------------------
# The kernel's paths give the same numbers
# ---------------------------------------------------------------------------
def _two_orders_interleaved() -> tuple[pd.DataFrame, pd.DataFrame]:
    o = pd.DataFrame({"order_id": [1, 2], "ticker": "XYZ", "side": ["BUY", "SELL"], "quantity": [900, 900],
                      "decision_time": [ts("15:56")] * 2})
    times = [ts("15:56:10"), ts("15:56:40"), ts("15:57:05"), ts("15:57:50"), ts("15:58:30"), ts("15:59:15")]
    f = pd.DataFrame({"fill_id": list("abcdef"), "order_id": [1, 2, 1, 2, 1, 2], "time": times,
                      "shares": [100, 200, 300, 100, 200, 300], "price": [100.0, 100.2, 100.3, 100.1, 100.6, 100.5]})
    return o, f


def _same_orders(a: pd.DataFrame, b: pd.DataFrame) -> None:
    num = a.select_dtypes("number").columns
    np.testing.assert_allclose(a[num].to_numpy(np.float64), b[num].to_numpy(np.float64), rtol=0, atol=1e-9)
    other = [c for c in a.columns if c not in num]
    pd.testing.assert_frame_equal(a[other], b[other])


@pytest.mark.parametrize("chunk", [None, 2, 3])
def test_fills_grouped_by_order_or_interleaved_give_the_same_orders(monkeypatch, chunk):
    import execlab._tca._metrics as metrics

    o, f = _two_orders_interleaved()
    whole = tca(o, f, market())
    if chunk:  # an order's fills across several chunks
        monkeypatch.setattr(metrics, "_CHUNK", chunk)
    interleaved = tca(o, f, market())                       # sums by scatter
    grouped = tca(o, f.sort_values("order_id", kind="stable"), market())  # sums over each order's runs
    _same_orders(interleaved.orders, grouped.orders)
    _same_orders(whole.orders, grouped.orders)
    pd.testing.assert_frame_equal(whole.fills, interleaved.fills)
    assert interleaved.orders.loc[1, "n_fills"] == 3
    assert interleaved.orders.loc[2, "last_fill_time"] == ts("15:59:15")


def test_sparse_order_bar_keys_give_the_same_orders(monkeypatch):
    import execlab._tca._metrics as metrics

    o, f = _two_orders_interleaved()
    dense = tca(o, f, market())
    monkeypatch.setattr(metrics, "_GRID_CELLS", -10**9)     # too many (order, bar) cells: sort the keys instead
    _same_orders(dense.orders, tca(o, f, market()).orders)
    assert dense.orders.loc[1, "max_bar_participation"] == pytest.approx(300 / 500)  # bar 1: 300 of 500 shares


def test_per_order_results_only():
    o, f = _two_orders_interleaved()
    full = tca(o, f, market())
    lean = tca(o, f, market(), keep_fills=False)
    assert lean.fills is None and "no fills" in repr(lean)
    _same_orders(full.orders, lean.orders)
    with pytest.raises(ValueError, match="fills_out was given with keep_fills=False"):
        tca(o, f, market(), keep_fills=False, fills_out="somewhere")


def test_fill_table_columns_and_types(res):
    f = res.fills
    assert f.columns[:9].tolist() == ["fill_id", "order_id", "ticker", "side", "session", "time", "shares", "price",
                                      "fee"]
    assert f.columns[9] == "venue" and f.columns[-1] == "reversion_close_bps"
    assert isinstance(f["side"].dtype, pd.CategoricalDtype) and f["side"].tolist() == ["BUY", "BUY", "SELL"]
    assert f["ticker"].tolist() == ["XYZ"] * 3 and f["shares"].dtype == np.int64
    assert str(f["time"].dt.tz) == TZ


def test_the_fill_table_is_the_user_s_to_edit():
    # built without copying every column, but no column is a view of the input: editing one leaves the input as it was
    o, f = _two_orders_interleaved()
    f = f.assign(fee=0.1, venue=list("XYXYXY"))
    before = f.copy()
    r = tca(o, f, market())
    for c in r.fills.columns:
        r.fills.loc[0, c] = r.fills[c].iloc[1]
    pd.testing.assert_frame_equal(f, before)
    assert r.fills.loc[0, "fill_id"] == "b" and r.fills.loc[0, "price"] == 100.2


@pytest.mark.parametrize("chunk", [None, 2])
def test_order_means_leave_out_fills_without_a_quote(monkeypatch, chunk):
    # the first quote is at 15:56:20: fill "a" at 15:56:10 has no touch, so no vs_mid; the order's mean is b and c's
    import execlab._tca._metrics as metrics

    if chunk:  # fills in chunks of 2: an order's fills split across chunks
        monkeypatch.setattr(metrics, "_CHUNK", chunk)
    o = pd.DataFrame({"order_id": [1], "ticker": "XYZ", "side": "BUY", "quantity": [900], "decision_time": [ts("15:56")]})
    f = pd.DataFrame({"fill_id": list("abc"), "order_id": 1, "time": [ts("15:56:10"), ts("15:56:30"), ts("15:57:30")],
                      "shares": [100, 200, 300], "price": [100.1, 100.05, 100.5]})
    q = pd.DataFrame({"ticker": "XYZ", "time": [ts("15:56:20"), ts("15:57:20")], "bid": [100.00, 100.40],
                      "ask": [100.04, 100.42]})
    for keep in (True, False):
        r = tca(o, f, market(), quotes=q, markout_horizons=("1min",), keep_fills=keep)
        b, c = 1e4 * (100.05 - 100.02) / 100.02, 1e4 * (100.5 - 100.41) / 100.41
        assert r.orders.loc[1, "vs_mid_bps"] == pytest.approx((200 * b + 300 * c) / 500)
        assert r.orders.loc[1, "n_fills"] == 3


def test_no_accepted_order_is_an_error_that_points_at_the_rejected_rows():
    o, f = _two_orders_interleaved()
    with pytest.raises(ValueError, match=r"no order passed the checks; see the rejected rows: "
                                         r"execlab\._tca\.check_executions\(orders, fills, market\)\[2\]\."):
        tca(o.assign(side="HOLD"), f, market())


def test_a_fill_at_the_close_is_after_it_for_tca_and_shortfall():
    """Sessions are [open, close): TCA rejects a fill stamped at the close itself, shortfall refuses it, alike."""
    orders = pd.DataFrame({"order_id": [1, 2], "ticker": "XYZ", "side": "BUY", "quantity": [500, 500],
                           "decision_time": [ts("15:56")] * 2, "end_time": [ts("16:00"), ts("15:59")]})
    fills = pd.DataFrame({"order_id": [1, 1, 2], "time": [ts("15:57"), ts("16:00"), ts("15:59")],
                          "shares": [100, 100, 100], "price": [100.2, 100.7, 100.6]})
    res = tca(orders, fills, market())
    assert res.rejected[["order_id", "reason"]].values.tolist() == [[1, "after the close"]]
    assert res.orders["executed"].tolist() == [100, 100]   # a fill at an end_time before the close is inside it
    with pytest.raises(ValueError, match="after the close of its session"):
        ex.shortfall(orders, fills, market())
    kept = fills.drop(index=1)
    assert res.orders["is_bps"].to_numpy() == pytest.approx(ex.shortfall(orders, kept, market())["is_bps"].to_numpy())


def test_session_edges_and_dates_are_reasons_not_errors():
    """A decision on a day without a session, an arrival at the close, a fill before the open: rejected, with reasons."""
    orders = pd.DataFrame({"order_id": [1, 2, 3, 4], "ticker": "XYZ", "side": "BUY", "quantity": [500] * 4,
                           "decision_time": [ts("15:56") - pd.Timedelta("1D"), ts("16:00"), ts("15:50"), ts("15:56")],
                           "arrival_time": [ts("15:56"), ts("16:00"), ts("15:50"), ts("15:56")]})
    fills = pd.DataFrame({"order_id": [1, 2, 3, 3, 4], "time": [ts("15:57"), ts("16:00"), ts("15:55"), ts("15:57"),
                                                                 ts("15:58")],
                          "shares": [100] * 5, "price": [100.2, 100.7, 100.0, 100.2, 100.4]})
    res = tca(orders, fills, market())
    got = res.rejected[["table", "order_id", "reason"]].values.tolist()
    assert ["orders", 1, "decision on a date that is not a session"] in got
    assert ["orders", 2, "arrival after the close"] in got
    assert ["fills", 3, "before the open"] in got
    assert res.orders.index.tolist() == [3, 4] and res.orders["executed"].tolist() == [100, 100]
    # shortfall, which raises instead of rejecting, refuses the fill before the open by name
    with pytest.raises(ValueError, match=r"before the open of its session .* for order_id 3"):
        ex.shortfall(orders.iloc[2:], fills.iloc[2:], market())


def test_shares_above_two_to_the_53_are_rejected_not_rounded():
    """An int64 of 2**53 + 1 becomes 2**53 in float64; it must be refused, not counted as 2**53."""
    from execlab._orders import whole_shares

    with pytest.raises(ValueError, match="shares"):
        whole_shares(pd.DataFrame({"shares": np.array([2**53 + 1], dtype=np.int64)}), "fills", "shares")
    assert whole_shares(pd.DataFrame({"shares": np.array([2**53 - 1], dtype=np.int64)}), "fills", "shares")[0] == 2**53 - 1
