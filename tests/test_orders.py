"""Orders and fills in the one internal format: sides, nanosecond times, check_orders, check_fills."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execlab._orders import SIDES, check_fills, check_orders, from_ns, show, side_to_sign, sign_to_side, to_ns

TZ = "America/New_York"
T = pd.Timestamp("2012-06-21 10:00", tz=TZ)
SEC = 1_000_000_000


def orders_frame(**changes) -> pd.DataFrame:
    cols = {"order_id": [7, 8], "ticker": ["AAPL", "GOOG"], "side": ["BUY", "SELL"], "quantity": [100, 250],
            "decision_time": [T, T + pd.Timedelta("1min")]}
    cols.update(changes)
    return pd.DataFrame(cols)


# ---------------------------------------------------------------------------
# Sides
# ---------------------------------------------------------------------------
def test_side_to_sign_accepts_names_and_signs():
    assert side_to_sign(["BUY", "SELL", 1, -1, np.int64(1), np.int64(-1)]).tolist() == [1, -1, 1, -1, 1, -1]
    out = side_to_sign(pd.Series(["SELL", "BUY"]))
    assert out.dtype == np.int64 and out.tolist() == [-1, 1]
    assert side_to_sign(np.array([1, -1])).tolist() == [1, -1]
    assert side_to_sign([]).tolist() == []
    assert SIDES == ("BUY", "SELL")


def test_sign_to_side_and_round_trip():
    sides = sign_to_side(np.array([1, -1, -1, 1]))
    assert sides.dtype == object and sides.tolist() == ["BUY", "SELL", "SELL", "BUY"]
    assert side_to_sign(sign_to_side(np.array([-1, 1]))).tolist() == [-1, 1]


@pytest.mark.parametrize("values", [[True], [False], pd.Series([True, False]), np.array([True])])
def test_side_rejects_bools(values):
    with pytest.raises(ValueError, match=r"orders column 'side' has (True|False) at row 0; must be one of \['BUY', 'SELL'\] "
                                         r"\(or \+1/-1\)\."):
        side_to_sign(values)


@pytest.mark.parametrize("value, shown", [("buy", "'buy'"), ("B", "'B'"), (2, "2"), (0, "0"), (np.nan, "nan"),
                                          (None, "None"), ("+1", "'\\+1'")])
def test_side_unknown_value_message(value, shown):
    with pytest.raises(ValueError, match=rf"orders column 'side' has {shown} at row 1; must be one of \['BUY', 'SELL'\]"):
        side_to_sign(["SELL", value])


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "string[python]", object])
def test_side_missing_in_pandas_strings_is_a_named_value_error(dtype):
    """pd.NA compares to NA, not False: a missing side in a pandas string column is named like any other bad value."""
    with pytest.raises(ValueError, match=r"orders column 'side' has <NA> at row 1; must be one of \['BUY', 'SELL'\]"):
        side_to_sign(pd.Series(["BUY", pd.NA, "SELL"], dtype=dtype))
    assert side_to_sign(pd.Series(["BUY", "SELL"], dtype=dtype)).tolist() == [1, -1]


def test_side_message_names_frame_column_and_row_label():
    with pytest.raises(ValueError, match=r"decisions column 'action' has 'HOLD' at row 'd2'"):
        side_to_sign(pd.Series(["BUY", "HOLD"], index=["d1", "d2"]), "decisions", "action")
    with pytest.raises(ValueError, match=r"orders column 'side' has 3 at row 5; must be one of"):
        side_to_sign(np.array([1, 3]), index=pd.Index([4, 5]))


def test_show_gives_plain_values():
    assert show(np.int64(3)) == "3" and show(np.float64(1.5)) == "1.5" and show("x") == "'x'"


# ---------------------------------------------------------------------------
# Times: int64 ns UTC and back, across daylight-saving changes
# ---------------------------------------------------------------------------
def test_to_ns_from_ns_round_trip_across_dst():
    # 2024-03-10 02:00 EST -> 03:00 EDT; 2024-11-03 02:00 EDT -> 01:00 EST
    t = pd.DatetimeIndex([pd.Timestamp("2024-03-09 09:30", tz=TZ), pd.Timestamp("2024-03-11 09:30", tz=TZ),
                          pd.Timestamp("2024-03-10 01:59:59.999999999", tz=TZ), pd.Timestamp("2024-03-10 03:00", tz=TZ),
                          pd.Timestamp("2024-11-02 16:00", tz=TZ), pd.Timestamp("2024-11-04 16:00", tz=TZ)])
    ns = to_ns(t, "orders", "decision_time", pd.RangeIndex(len(t)))
    assert ns.dtype == np.int64
    assert ns[0] == pd.Timestamp("2024-03-09 14:30", tz="UTC").value  # EST, UTC-5
    assert ns[1] == pd.Timestamp("2024-03-11 13:30", tz="UTC").value  # EDT, UTC-4
    assert ns[1] - ns[0] == 47 * 3600 * SEC  # two calendar days, one hour short
    assert ns[3] - ns[2] == 1  # the clock jumps an hour in one nanosecond
    assert ns[5] - ns[4] == 49 * 3600 * SEC  # two calendar days, one hour long
    back = from_ns(ns, TZ)
    assert back.equals(t.as_unit("ns"))
    assert str(back.tz) == TZ
    assert [str(x)[-6:] for x in back[[0, 1, 4, 5]]] == ["-05:00", "-04:00", "-04:00", "-05:00"]


def test_to_ns_accepts_any_zone_and_series():
    utc = pd.Series([pd.Timestamp("2024-07-01 13:30", tz="UTC"), pd.Timestamp("2024-07-01 13:31", tz="UTC")])
    ny = utc.dt.tz_convert(TZ)
    ns = to_ns(utc, "fills", "time", utc.index)
    np.testing.assert_array_equal(to_ns(ny, "fills", "time", ny.index), ns)  # the instant, not the wall clock
    assert (ns[1] - ns[0]) == 60 * SEC
    assert from_ns(ns, "Europe/London")[0] == pd.Timestamp("2024-07-01 14:30", tz="Europe/London")
    assert from_ns(ns, TZ)[0] == pd.Timestamp("2024-07-01 09:30", tz=TZ)


@settings(deadline=None, max_examples=40)
@given(st.integers(pd.Timestamp("2000-01-01", tz="UTC").value, pd.Timestamp("2040-01-01", tz="UTC").value),
       st.sampled_from([TZ, "UTC", "Europe/London", "Asia/Tokyo"]))
def test_from_ns_to_ns_round_trip(value, tz):
    ns = np.array([value, value + 1], dtype=np.int64)
    t = from_ns(ns, tz)
    np.testing.assert_array_equal(to_ns(t, "orders", "time", pd.RangeIndex(2)), ns)


def test_to_ns_errors():
    with pytest.raises(ValueError, match=r"orders column 'decision_time' is timezone-naive; localize it \(e\.g\. "
                                         r"tz_localize\('America/New_York'\)\) so it can be compared with the market\."):
        to_ns(pd.DatetimeIndex(["2024-01-02 10:00"]), "orders", "decision_time", pd.RangeIndex(1))
    with pytest.raises(ValueError, match=r"fills column 'time' has NaT at row 'b'; every row needs a time\."):
        to_ns(pd.DatetimeIndex([T, pd.NaT]), "fills", "time", pd.Index(["a", "b"]))
    with pytest.raises(TypeError, match=r"orders column 'decision_time' must hold timestamps: "):
        to_ns(["soon"], "orders", "decision_time", pd.RangeIndex(1))


# ---------------------------------------------------------------------------
# check_orders
# ---------------------------------------------------------------------------
def test_check_orders_arrays():
    o = check_orders(orders_frame(extra=["a", "b"]))
    assert len(o) == 2
    assert o.order_id.tolist() == [7, 8]
    assert o.ticker.tolist() == ["AAPL", "GOOG"] and o.ticker.dtype == object
    assert o.sign.tolist() == [1, -1] and o.sign.dtype == np.int64
    assert o.quantity.tolist() == [100, 250] and o.quantity.dtype == np.int64
    assert o.decision_ns.tolist() == [T.value, T.value + 60 * SEC]
    np.testing.assert_array_equal(o.arrival_ns, o.decision_ns)  # no delay
    assert o.end_ns is None
    assert str(o.tz) == TZ
    assert "extra" in o.frame.columns


def test_check_orders_delay_builds_arrival_time():
    o = check_orders(orders_frame(), delay="5s")
    assert (o.arrival_ns - o.decision_ns).tolist() == [5 * SEC, 5 * SEC]
    o = check_orders(orders_frame(), delay=pd.Timedelta("250ms"))
    assert (o.arrival_ns - o.decision_ns).tolist() == [SEC // 4] * 2
    # a zero delay is allowed next to an arrival_time column
    o = check_orders(orders_frame(arrival_time=[T + pd.Timedelta("2s"), T + pd.Timedelta("61s")]), delay="0s")
    assert (o.arrival_ns - o.decision_ns).tolist() == [2 * SEC, SEC]


def test_check_orders_delay_and_arrival_time_together():
    with pytest.raises(ValueError, match=r"delay == '5s' was given but orders has an 'arrival_time' column; pass one or the "
                                         r"other \(delay only builds a missing arrival_time\)\."):
        check_orders(orders_frame(arrival_time=[T, T + pd.Timedelta("1min")]), delay="5s")


def test_check_orders_unreadable_delay_names_delay():
    with pytest.raises(ValueError, match=r"delay == 'soon'"):
        check_orders(orders_frame(), delay="soon")


def test_check_orders_negative_delay_names_delay():
    with pytest.raises(ValueError, match=r"delay == '-5s'"):
        check_orders(orders_frame(), delay="-5s")


def test_arrival_before_decision():
    with pytest.raises(ValueError, match=r"orders column 'arrival_time' has 2012-06-21 10:00:59-04:00 at row 1, before its "
                                         r"decision_time 2012-06-21 10:01:00-04:00; an order cannot arrive before it is "
                                         r"decided\."):
        check_orders(orders_frame(arrival_time=[T, T + pd.Timedelta("59s")]))


def test_end_before_arrival():
    o = check_orders(orders_frame(end_time=[T + pd.Timedelta("1h"), T + pd.Timedelta("1min")]))  # end == arrival is fine
    assert (o.end_ns - o.arrival_ns).tolist() == [3600 * SEC, 0]
    with pytest.raises(ValueError, match=r"orders column 'end_time' has 2012-06-21 10:00:01-04:00 at row 0, before its "
                                         r"arrival_time; the horizon must end after it starts\."):
        check_orders(orders_frame(end_time=[T + pd.Timedelta("1s"), T + pd.Timedelta("1h")]), delay="2s")


def test_duplicate_and_missing_order_ids():
    with pytest.raises(ValueError, match=r"orders column 'order_id' has duplicate value 7 at row 1; order ids must be "
                                         r"unique\."):
        check_orders(orders_frame(order_id=[7, 7]))
    with pytest.raises(ValueError, match=r"orders column 'order_id' has nan at row 0; order ids must not be missing\."):
        check_orders(orders_frame(order_id=[np.nan, 8]))


@pytest.mark.parametrize("q, shown", [(1.5, "1.5"), (-2, "-2.0"), (np.nan, "nan"), (np.inf, "inf"), (2.0**60, "1.15")])
def test_bad_quantity(q, shown):
    with pytest.raises(ValueError, match=rf"orders column 'quantity' has {shown}.* at row 1; must be a whole number of "
                                         r"shares >= 0 and below 2\*\*53\."):
        check_orders(orders_frame(quantity=[100, q]))


def test_quantity_zero_and_whole_floats_are_fine():
    assert check_orders(orders_frame(quantity=[0, 300.0])).quantity.tolist() == [0, 300]


def test_quantity_text():
    with pytest.raises(TypeError, match=r"orders column 'quantity' must be numeric: "):
        check_orders(orders_frame(quantity=["100", "lots"]))


def test_quantity_rejects_bools():
    with pytest.raises(TypeError, match="quantity"):
        check_orders(orders_frame(quantity=[True, False]))


def test_nat_and_naive_decision_time():
    with pytest.raises(ValueError, match=r"orders column 'decision_time' has NaT at row 1; every row needs a time\."):
        check_orders(orders_frame(decision_time=[T, pd.NaT]))
    with pytest.raises(ValueError, match=r"orders column 'decision_time' is timezone-naive"):
        check_orders(orders_frame(decision_time=[T.tz_localize(None)] * 2))
    with pytest.raises(ValueError, match=r"orders column 'arrival_time' has NaT at row 0"):
        check_orders(orders_frame(arrival_time=[pd.NaT, T + pd.Timedelta("1min")]))


def test_bad_side_ticker_and_frame():
    with pytest.raises(ValueError, match=r"orders column 'side' has 'HOLD' at row 1"):
        check_orders(orders_frame(side=["BUY", "HOLD"]))
    with pytest.raises(ValueError, match=r"orders column 'ticker' has nan at row 1; must be a ticker symbol\."):
        check_orders(orders_frame(ticker=["AAPL", None]))
    with pytest.raises(ValueError, match=r"orders is missing column\(s\) \['quantity'\]; it has \['order_id', 'ticker', "
                                         r"'side', 'decision_time'\]\."):
        check_orders(orders_frame().drop(columns="quantity"))
    with pytest.raises(ValueError, match=r"orders is empty \(0 rows\)\."):
        check_orders(orders_frame().iloc[:0])
    with pytest.raises(TypeError, match=r"orders must be a pandas DataFrame, got dict\."):
        check_orders({"order_id": [1]})


def test_messages_use_the_frame_name_and_row_labels():
    df = orders_frame(quantity=[100, -1]).set_axis(["first", "second"])
    with pytest.raises(ValueError, match=r"parents column 'quantity' has -1.0 at row 'second'"):
        check_orders(df, name="parents")


# ---------------------------------------------------------------------------
# check_fills
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def orders():
    return check_orders(orders_frame())


def fills_frame(**changes) -> pd.DataFrame:
    # Order 8 arrives at T + 1min: its fills are at or after that.
    cols = {"order_id": [8, 7, 8], "time": [T + pd.Timedelta("1min"), T, T + pd.Timedelta("2min")], "shares": [50, 100, 200],
            "price": [565.5, 580.25, 565.0]}
    cols.update(changes)
    return pd.DataFrame(cols)


def test_check_fills_arrays(orders):
    f = check_fills(fills_frame(fee=[0.5, -0.1, 0.0]), orders)
    assert len(f) == 3
    assert f.row.tolist() == [1, 0, 1] and f.row.dtype == np.int64
    assert f.shares.tolist() == [50.0, 100.0, 200.0] and f.shares.dtype == np.float64
    assert f.price.tolist() == [565.5, 580.25, 565.0]
    assert f.fee.tolist() == [0.5, -0.1, 0.0]  # a rebate may be negative
    assert f.time_ns.tolist() == [T.value + 60 * SEC, T.value, T.value + 120 * SEC]
    assert check_fills(fills_frame(), orders).fee.tolist() == [0.0, 0.0, 0.0]  # no fee column: none paid


def test_fills_of_an_unknown_order(orders):
    with pytest.raises(ValueError, match=r"fills column 'order_id' has 9 at row 2, which is not an order_id of orders\."):
        check_fills(fills_frame(order_id=[8, 7, 9]), orders)


def test_overfill(orders):
    # order 8 is for 250 shares: 50 + 201 = 251
    with pytest.raises(ValueError, match=r"fills for order_id 8 total 251 shares, more than its quantity 250\."):
        check_fills(fills_frame(shares=[50, 100, 201]), orders)
    assert check_fills(fills_frame(shares=[50, 100, 200]), orders).shares.sum() == 350  # exactly filled is fine


@pytest.mark.parametrize("price, shown", [(0.0, "0.0"), (-1.0, "-1.0"), (np.nan, "nan"), (np.inf, "inf")])
def test_non_positive_price(orders, price, shown):
    with pytest.raises(ValueError, match=rf"fills column 'price' has {shown} at row 1; must be finite and > 0\."):
        check_fills(fills_frame(price=[565.5, price, 565.0]), orders)


def test_price_and_fee_text(orders):
    with pytest.raises(TypeError, match=r"fills column 'price' must be numeric: "):
        check_fills(fills_frame(price=["565.5", "cheap", "1"]), orders)
    with pytest.raises(TypeError, match=r"fills column 'fee' must be numeric: "):
        check_fills(fills_frame(fee=["free", 0.0, 0.0]), orders)


@pytest.mark.parametrize("fee, shown", [(np.nan, "nan"), (np.inf, "inf")])
def test_nan_fee(orders, fee, shown):
    with pytest.raises(ValueError, match=rf"fills column 'fee' has {shown} at row 2; must be finite \(rebates may be "
                                         r"negative\)\."):
        check_fills(fills_frame(fee=[0.0, 0.0, fee]), orders)


def test_bad_fill_shares_and_times(orders):
    with pytest.raises(ValueError, match=r"fills column 'shares' has 0.5 at row 0; must be a whole number of shares >= 0 and below 2\*\*53\."):
        check_fills(fills_frame(shares=[0.5, 100, 200]), orders)
    with pytest.raises(ValueError, match=r"fills column 'time' is timezone-naive"):
        check_fills(fills_frame(time=[T.tz_localize(None)] * 3), orders)
    with pytest.raises(ValueError, match=r"fills column 'time' has NaT at row 1"):
        check_fills(fills_frame(time=[T, pd.NaT, T]), orders)
    with pytest.raises(ValueError, match=r"fills is missing column\(s\) \['price'\]"):
        check_fills(fills_frame().drop(columns="price"), orders)


def test_empty_fills_are_allowed(orders):
    f = check_fills(fills_frame().iloc[:0], orders)
    assert len(f) == 0 and f.time_ns.dtype == np.int64 and f.fee.tolist() == []
    f = check_fills(pd.DataFrame(columns=["order_id", "time", "shares", "price"]), orders)
    assert len(f) == 0 and f.row.tolist() == []


def test_fills_never_precede_their_order_nor_outlive_it(orders):
    with pytest.raises(ValueError, match=r"fills column 'time' has 2012-06-21 10:00:00-04:00 at row 0, before the arrival_time "
                                         r"2012-06-21 10:01:00-04:00 of order_id 8; a fill cannot precede its order\."):
        check_fills(fills_frame(time=[T, T, T + pd.Timedelta("2min")]), orders)
    ends = check_orders(orders_frame(end_time=[T + pd.Timedelta("5min"), T + pd.Timedelta("1min")]))
    with pytest.raises(ValueError, match=r"fills column 'time' has 2012-06-21 10:02:00-04:00 at row 2, after the end_time "
                                         r"2012-06-21 10:01:00-04:00 of order_id 8\."):
        check_fills(fills_frame(), ends)
    with pytest.raises(ValueError, match=r"fills column 'ticker' has 'AAPL' at row 0, but order_id 8 trades 'GOOG'\."):
        check_fills(fills_frame(ticker=["AAPL", "AAPL", "GOOG"]), orders)


# ---------------------------------------------------------------------------
# One set of rules, two modes: raise (simulate, shortfall) and reject (tca)
# ---------------------------------------------------------------------------
import execlab as ex  # noqa: E402
from execlab._orders import FILL_REASONS, ORDER_REASONS  # noqa: E402


@pytest.fixture(scope="module")
def mkt():
    bars = pd.DataFrame({"ticker": np.repeat(["AAPL", "GOOG"], 4),
                         "time": list(pd.date_range(pd.Timestamp("2012-06-21 15:56", tz=TZ), periods=4, freq="1min")) * 2,
                         "volume": 100.0, "vwap": 100.0, "mid": 100.0, "spread": 0.02, "mid_open": 100.0,
                         "mid_close": 100.0, "close": 100.0})
    return ex.Market.from_bars(bars, open="15:56")


C = pd.Timestamp("2012-06-21 15:56", tz=TZ)  # the open of the four-bar session; the close is at 16:00


def late_orders(**changes) -> pd.DataFrame:
    cols = {"order_id": [7, 8], "ticker": ["AAPL", "GOOG"], "side": ["BUY", "SELL"], "quantity": [100, 250],
            "decision_time": [C, C + pd.Timedelta("1min")]}
    cols.update(changes)
    return pd.DataFrame(cols)


def late_fills(**changes) -> pd.DataFrame:
    cols = {"order_id": [8, 7, 8], "time": [C + pd.Timedelta("1min"), C, C + pd.Timedelta("2min")],
            "shares": [50, 100, 200], "price": [99.9, 100.1, 99.95]}
    cols.update(changes)
    return pd.DataFrame(cols)


def reasons(checked) -> list:
    return checked.rejected["reason"].tolist()


def test_the_reasons_are_tca_s():
    from execlab._tca import REASONS

    assert REASONS == {"orders": ORDER_REASONS, "fills": FILL_REASONS}


def test_both_modes_accept_clean_rows_alike(mkt):
    a, b = check_orders(late_orders()), check_orders(late_orders(), market=mkt, errors="reject")
    for name in ("sign", "quantity", "decision_ns", "arrival_ns"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist()
    assert a.end_ns is None and b.end_ns.tolist() == [(C + pd.Timedelta("4min")).value] * 2  # reject: the close
    assert b.code.tolist() == [0, 1] and b.day.tolist() == [0, 0] and reasons(b) == []
    fa, fb = check_fills(late_fills(), a), check_fills(late_fills(), b, market=mkt, errors="reject")
    for name in ("row", "time_ns", "shares", "price", "fee"):
        assert getattr(fa, name).tolist() == getattr(fb, name).tolist()
    assert reasons(fb) == [] and fb.fill_id.tolist() == [0, 1, 2]  # no fill_id column: the row labels


def test_zero_shares_and_zero_quantity(mkt):
    # raise mode: a 0-share order costs 0 bps and a 0-share fill changes nothing; post-trade both are bad rows
    assert check_orders(late_orders(quantity=[0, 250])).quantity.tolist() == [0, 250]
    assert reasons(check_orders(late_orders(quantity=[0, 250]), market=mkt, errors="reject")) == [
        "quantity not a whole number > 0"]
    o = check_orders(late_orders())
    assert check_fills(late_fills(shares=[50, 0, 200]), o).shares.tolist() == [50, 0, 200]
    ro = check_orders(late_orders(), market=mkt, errors="reject")
    f = check_fills(late_fills(shares=[50, 0, 200]), ro, market=mkt, errors="reject")
    assert reasons(f) == ["shares not a whole number > 0"] and f.row.tolist() == [1, 1]


def test_a_fill_after_the_decision_but_before_arrival(mkt):
    # order 8: decided at 15:57, arrived at 15:57:30; a fill at 15:57:10 is after the decision, before the arrival
    orders = late_orders(arrival_time=[C, C + pd.Timedelta("90s")])
    fills = late_fills(time=[C + pd.Timedelta("70s"), C, C + pd.Timedelta("2min")])
    with pytest.raises(ValueError, match=r"fills column 'time' has 2012-06-21 15:57:10-04:00 at row 0, before the "
                                         r"arrival_time 2012-06-21 15:57:30-04:00 of order_id 8; a fill cannot precede "
                                         r"its order\."):
        check_fills(fills, check_orders(orders))
    ro = check_orders(orders, market=mkt, errors="reject")
    assert reasons(check_fills(fills, ro, market=mkt, errors="reject")) == ["before arrival"]


def test_duplicate_order_ids_and_missing_end_times(mkt):
    twice = late_orders(order_id=[7, 7])
    with pytest.raises(ValueError, match=r"duplicate value 7 at row 1;"):  # raise: names the second copy
        check_orders(twice)
    assert reasons(check_orders(twice, market=mkt, errors="reject")) == ["duplicate order_id"] * 2  # reject: both
    no_end = late_orders(end_time=[pd.NaT, C + pd.Timedelta("3min")]).astype({"end_time": f"datetime64[ns, {TZ}]"})
    with pytest.raises(ValueError, match=r"orders column 'end_time' has NaT at row 0; every row needs a time\."):
        check_orders(no_end)
    ro = check_orders(no_end, market=mkt, errors="reject")  # post-trade: no end is the close
    assert (ro.end_ns - ro.decision_ns).tolist() == [240 * SEC, 120 * SEC] and reasons(ro) == []


def test_market_rules_and_the_first_reason_wins(mkt):
    o = late_orders(ticker=["AAPL", "MSFT"], side=["BUY", "HOLD"])  # row 1 breaks two rules: the first is kept
    assert reasons(check_orders(o, market=mkt, errors="reject")) == ["ticker not in market"]
    o = late_orders(decision_time=[C - pd.Timedelta("1D"), C + pd.Timedelta("5min")])
    assert reasons(check_orders(o, market=mkt, errors="reject")) == ["arrival on a date that is not a session",
                                                                     "arrival after the close"]
    ro = check_orders(late_orders(end_time=[C + pd.Timedelta("2min"), C + pd.Timedelta("9min")]), market=mkt,
                      errors="reject")
    assert ro.end_ns.tolist() == [(C + pd.Timedelta("2min")).value, (C + pd.Timedelta("4min")).value]  # capped
    f = late_fills(time=[C + pd.Timedelta("5min"), C + pd.Timedelta("3min"), C + pd.Timedelta("2min")])
    assert reasons(check_fills(f, ro, market=mkt, errors="reject")) == ["after the close", "after the order's end"]


def test_time_zone_rules_by_offset(mkt):
    ro = check_orders(late_orders(), market=mkt, errors="reject")
    utc = late_fills(time=late_fills()["time"].dt.tz_convert("UTC"))
    assert reasons(check_fills(utc, ro, market=mkt, errors="reject")) == ["time in another time zone"] * 3
    same_instants = pd.DatetimeIndex(late_fills()["time"]).as_unit("ns").asi8.tolist()
    assert check_fills(utc, check_orders(late_orders())).time_ns.tolist() == same_instants  # raise mode: instants
    eastern = late_fills(time=late_fills()["time"].dt.tz_convert("US/Eastern"))  # same offsets: the market's zone
    assert reasons(check_fills(eastern, ro, market=mkt, errors="reject")) == []


def test_modes_and_their_arguments(mkt):
    with pytest.raises(ValueError, match=r"errors == 'drop', must be one of \['raise', 'reject'\]\."):
        check_orders(late_orders(), errors="drop")
    with pytest.raises(ValueError, match=r"errors == 'reject' needs the market"):
        check_orders(late_orders(), errors="reject")
    ro = check_orders(late_orders(), market=mkt, errors="reject")
    sub = ro.take(np.array([1]))
    assert sub.order_id.tolist() == [8] and sub.code.tolist() == [1] and sub.rejected is None
    assert len(check_fills(late_fills().iloc[:0], ro, market=mkt, errors="reject")) == 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["ok", "zero", "half", "early", "late", "unknown", "price", "fee", "nat"]),
                min_size=1, max_size=6))
def test_the_modes_judge_rows_alike_but_for_zero_shares_and_the_close(kinds):
    """Reject mode leaves out exactly the bad rows; raise mode raises on any of them but a 0-share fill and a fill
    after the close (it has no market, so no close)."""
    m = ex.Market.from_bars(pd.DataFrame({"ticker": "AAPL", "time": pd.date_range(C, periods=4, freq="1min"),
                                          "volume": 100.0, "vwap": 100.0, "mid": 100.0, "spread": 0.02,
                                          "mid_open": 100.0, "mid_close": 100.0, "close": 100.0}), open="15:56")
    orders = pd.DataFrame({"order_id": [1], "ticker": "AAPL", "side": "BUY", "quantity": [10_000],
                           "decision_time": [C]})
    value = {"ok": (1, C, 10, 100.0, 0.0), "zero": (1, C, 0, 100.0, 0.0), "half": (1, C, 1.5, 100.0, 0.0),
             "early": (1, C - pd.Timedelta("1s"), 10, 100.0, 0.0), "late": (1, C + pd.Timedelta("5min"), 10, 100.0, 0.0),
             "unknown": (2, C, 10, 100.0, 0.0), "price": (1, C, 10, -1.0, 0.0), "fee": (1, C, 10, 100.0, np.nan),
             "nat": (1, pd.NaT, 10, 100.0, 0.0)}
    fills = pd.DataFrame([value[k] for k in kinds], columns=["order_id", "time", "shares", "price", "fee"])
    fills["time"] = pd.DatetimeIndex(list(fills["time"]), dtype=f"datetime64[ns, {TZ}]")
    ro = check_orders(orders, market=m, errors="reject")
    rejected = reasons(check_fills(fills, ro, market=m, errors="reject"))
    assert len(rejected) == sum(k != "ok" for k in kinds)
    try:
        check_fills(fills, check_orders(orders))
        raised = False
    except ValueError:
        raised = True
    assert raised == bool(set(kinds) - {"ok", "zero", "late"})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1.0, 2.0, 3.0, 7.0, np.nan]), st.integers(1, 12)), min_size=0, max_size=30),
       st.booleans())
def test_order_rows_by_runs_equal_a_lookup_per_fill(runs, as_int):
    """Order ids looked up once per run of equal ids give each fill the same row as one lookup per fill."""
    from execlab._orders import _order_rows

    ids = [x for x, k in runs for _ in range(k)]
    if as_int:
        ids = [int(x) if x == x else 5 for x in ids]   # no NaN in an int column
    fills = pd.Index(np.array(ids, dtype=np.int64 if as_int else np.float64))
    orders = pd.Index(np.array([3, 1, 2], dtype=np.int64 if as_int else np.float64))
    assert _order_rows(orders, fills).tolist() == orders.get_indexer(fills).tolist()
