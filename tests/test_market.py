"""The market model: the bundled day, Market.from_bars, half-days, locate/mid_at, LOBSTER end to end.

Hand-made bars: two tickers (AAA, BBB) x three sessions x four 30-minute bins of a
09:30-11:30 session.  Ticker k, session d, bin b holds

    volume = 1000 k + 100 d + 10 b        (so AAA's first bin of the first session is 0)
    close  = 10 (k + 1) + d + 0.25 b

so every value says where it came from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab as ex
from execlab._market import BAR_COLUMNS, Market, _as_market

TZ = "America/New_York"
DATES = ("2024-01-02", "2024-01-03", "2024-01-04")
TICKERS = ("AAA", "BBB")
HOURS = dict(open="09:30", close="11:30")
ROWS_PER_TICKER = 3 * 4


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def ns(text: str) -> np.ndarray:
    return np.array([ts(text).value], dtype=np.int64)


def hand_bars(dates=DATES, tickers=TICKERS, n_bins: int = 4) -> pd.DataFrame:
    rows = []
    for k, tk in enumerate(tickers):
        for d, day in enumerate(dates):
            for b in range(n_bins):
                rows.append({
                    "ticker": tk,
                    "time": ts(f"{day} 09:30") + b * pd.Timedelta("30min"),
                    "close": 10.0 * (k + 1) + d + 0.25 * b,
                    "volume": 1000 * k + 100 * d + 10 * b,
                })
    return pd.DataFrame(rows)


def hand_market(**kw) -> Market:
    return ex.market_from_bars(hand_bars(), **HOURS, **kw)


# ---------------------------------------------------------------------------
# The bundled real day
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundled() -> Market:
    return ex.load_market("1min")


def test_bundled_market_shape_and_manifest_volumes(bundled):
    assert bundled.tickers == ["AAPL", "AMZN", "GOOG"]
    assert bundled["volume"].shape == (3, 1, 390)
    assert bundled.n_bins == 390 and bundled.n_sessions == 1
    assert bundled.freq == pd.Timedelta("1min")
    assert list(bundled.dates) == [pd.Timestamp("2012-06-21")]
    # data/README.md MANIFEST: shares traded
    assert bundled["volume"].sum(axis=(1, 2)).tolist() == [2_850_140, 810_755, 706_125]
    # and its one-minute bins without a trade: 0, 3, 5
    assert (bundled["n_trades"] == 0).sum(axis=(1, 2)).tolist() == [0, 3, 5]
    assert bundled.source == "bundled LOBSTER sample (real, NASDAQ)"
    assert bundled.valid.all()


def test_bundled_market_round_trips_the_bars(bundled):
    pd.testing.assert_frame_equal(bundled.to_bars(), ex.load_bars("1min"))
    pd.testing.assert_frame_equal(bundled.to_bars("GOOG"), ex.load_bars("1min", "GOOG"))


def test_bundled_daily_equals_daily_stats(bundled):
    got = bundled.daily().set_index("ticker")
    want = ex.daily_stats(ex.load_bars("1min"))
    cols = ["daily_volume", "sigma", "open_mid", "close_mid", "mean_spread"]
    np.testing.assert_allclose(got[cols].to_numpy(), want.loc[got.index, cols].to_numpy(), rtol=1e-12)
    assert got["daily_volume"].tolist() == [2_850_140, 810_755, 706_125]
    arrays = bundled.daily_arrays()
    assert arrays["daily_volume"].shape == (3, 1)
    np.testing.assert_array_equal(arrays["sigma"][:, 0], got["sigma"].to_numpy())


def test_bundled_30min_repr():
    m = ex.load_market("30min", ["AMZN", "GOOG"])
    assert repr(m) == ("Market(2 tickers x 1 session x 13 bins of 30min, 2012-06-21..2012-06-21, "
                       "bundled LOBSTER sample (real, NASDAQ))")
    assert m["volume"].sum(axis=(1, 2)).tolist() == [810_755, 706_125]


# ---------------------------------------------------------------------------
# market_from_bars on hand-made bars
# ---------------------------------------------------------------------------
def test_from_bars_infers_freq_and_places_every_value():
    bars = hand_bars().sample(frac=1.0, random_state=3)  # row order must not matter
    m = ex.market_from_bars(bars, **HOURS)
    assert m.freq == pd.Timedelta("30min")
    assert m.tickers == ["AAA", "BBB"] and m.n_sessions == 3 and m.n_bins == 4
    assert m["volume"].shape == (2, 3, 4)
    k, d, b = np.meshgrid(np.arange(2), np.arange(3), np.arange(4), indexing="ij")
    np.testing.assert_array_equal(m["volume"], 1000 * k + 100 * d + 10 * b)
    np.testing.assert_array_equal(m["close"], 10.0 * (k + 1) + d + 0.25 * b)
    assert m["volume"][1, 2, 3] == 1230 and m["close"][1, 2, 3] == 22.75
    assert repr(m) == "Market(2 tickers x 3 sessions x 4 bins of 30min, 2024-01-02..2024-01-04, bars: 24 rows)"


def test_from_bars_flat_time_axis():
    m = hand_market()
    assert m.flat("volume").shape == (2, 12)
    np.testing.assert_array_equal(m.flat("volume")[1], m["volume"][1].ravel())
    assert m.start_ns[0] == ts("2024-01-02 09:30").value
    assert m.start_ns[5] == ts("2024-01-03 10:00").value
    np.testing.assert_array_equal(m.end_ns - m.start_ns, pd.Timedelta("30min").value)
    assert m.day.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert m.day_first.tolist() == [0, 4, 8]
    assert m.day_last.tolist() == [3, 7, 11]
    assert np.flatnonzero(m.is_day_last).tolist() == [3, 7, 11]
    assert m.close_ns(np.array([0, 2])).tolist() == [ts("2024-01-02 11:30").value, ts("2024-01-04 11:30").value]
    assert m.times[5] == ts("2024-01-03 10:00")


def test_from_bars_defaults_for_optional_columns():
    bars = hand_bars()
    bars["open"] = bars["close"] - 0.5
    m = ex.market_from_bars(bars, **HOURS)
    close, open_ = m["close"], m["open"]
    np.testing.assert_array_equal(open_, close - 0.5)
    for c in ("high", "low", "vwap"):  # default: close
        np.testing.assert_array_equal(m[c], close, err_msg=c)
    np.testing.assert_array_equal(m["n_trades"], (m["volume"] > 0).astype(float))  # 1 with volume, else 0
    assert m["n_trades"][0, 0, 0] == 0 and m["volume"][0, 0, 0] == 0
    np.testing.assert_array_equal(m["signed_volume"], 0.0)  # unknown
    np.testing.assert_array_equal(m["mid_open"], open_)  # default: open
    np.testing.assert_array_equal(m["mid_close"], close)  # default: close
    np.testing.assert_array_equal(m["mid"], close - 0.25)  # mean of mid_open and mid_close
    assert np.isnan(m["spread"]).all()  # unknown: NaN
    # with no open column, open (and so mid_open and mid) default to close
    plain = hand_market()
    for c in ("open", "high", "low", "vwap", "mid_open", "mid_close", "mid"):
        np.testing.assert_array_equal(plain[c], plain["close"], err_msg=c)


def test_from_bars_keeps_given_optional_columns():
    bars = hand_bars()
    bars["high"] = bars["close"] + 1.0
    bars["low"] = bars["close"] - 1.0
    bars["vwap"] = bars["close"] + 0.125
    bars["n_trades"] = 7
    bars["signed_volume"] = -(bars["volume"] // 2)
    bars["mid_open"] = bars["close"] - 0.05
    bars["mid_close"] = bars["close"] + 0.05
    bars["mid"] = bars["close"] + 0.01
    bars["spread"] = 0.02
    m = ex.market_from_bars(bars, **HOURS)
    c = m["close"]
    np.testing.assert_allclose(m["high"] - c, 1.0)
    np.testing.assert_allclose(m["low"] - c, -1.0)
    np.testing.assert_allclose(m["vwap"] - c, 0.125)
    np.testing.assert_array_equal(m["n_trades"], 7.0)
    np.testing.assert_array_equal(m["signed_volume"], -(m["volume"] // 2))
    np.testing.assert_allclose(m["mid"] - c, 0.01)
    np.testing.assert_array_equal(m["spread"], 0.02)


def test_from_bars_explicit_freq_naive_times_with_tz_and_source():
    bars = hand_bars()
    bars["time"] = bars["time"].dt.tz_localize(None)
    m = ex.market_from_bars(bars, "30min", tz=TZ, source="my vendor", **HOURS)
    assert m.tz == TZ and m.source == "my vendor"
    assert m.start_ns[0] == ts("2024-01-02 09:30").value
    np.testing.assert_array_equal(m["volume"], hand_market()["volume"])


def test_from_bars_utc_times_are_read_in_new_york():
    bars = hand_bars()
    bars["time"] = bars["time"].dt.tz_convert("UTC")
    m = ex.market_from_bars(bars, **HOURS)
    assert m.tz == TZ
    np.testing.assert_array_equal(m["volume"], hand_market()["volume"])


def test_market_arrays_are_read_only_and_columns_named():
    m = hand_market()
    with pytest.raises(ValueError, match="read-only"):
        m["volume"][0, 0, 0] = 1.0
    with pytest.raises(KeyError, match=r"market has no column 'volum'; it holds \['open'"):
        m["volum"]


def test_code_subset_and_as_market():
    m = hand_market()
    assert m.code(["BBB", "AAA", "BBB"]).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match=r"orders column 'ticker' has 'ZZZ' at row 'o2', which the market does not hold; "
                                         r"it holds \['AAA', 'BBB'\]"):
        m.code(["AAA", "ZZZ"], index=pd.Index(["o1", "o2"]))
    sub = m.subset("BBB")
    assert sub.tickers == ["BBB"]
    np.testing.assert_array_equal(sub["volume"][0], m["volume"][1])
    assert _as_market(m) is m
    assert _as_market(hand_bars(n_bins=13))["volume"].shape == (2, 3, 13)  # a frame: regular 09:30-16:00 hours
    with pytest.raises(TypeError, match="market must be an execlab Market or a bars DataFrame, got list"):
        _as_market([1, 2])


def test_to_bars_columns_and_carried():
    m = hand_market()
    out = m.to_bars()
    # hand_bars() has no spread column, so to_bars() leaves it out too (a market with spreads has it)
    assert out.columns.tolist() == ["ticker", "time", "open", "high", "low", "close", "volume", "vwap", "n_trades",
                                    "signed_volume", "mid", "mid_open", "mid_close", "carried"]
    assert "spread" in ex.load_market("30min").to_bars().columns
    assert len(out) == 24
    assert out["volume"].dtype == np.int64 and out["n_trades"].dtype == np.int64
    assert out["carried"].tolist()[:2] == [True, False]  # AAA's first bin has no volume
    first = hand_bars().sort_values(["ticker", "time"], kind="stable").reset_index(drop=True)
    pd.testing.assert_series_equal(out["time"], first["time"].astype(out["time"].dtype), check_names=False)
    assert out["volume"].tolist() == first["volume"].tolist()


def test_csv_round_trip_across_dst(tmp_path):
    # Friday 2024-03-08 is EST (-05:00); Monday 2024-03-11 is EDT (-04:00).
    bars = hand_bars(dates=("2024-03-08", "2024-03-11"))
    bars["spread"] = 0.01 * (1 + np.arange(len(bars)) % 3)
    m = ex.market_from_bars(bars, **HOURS)
    path = tmp_path / "bars.csv"
    m.to_bars().to_csv(path, index=False)
    text = path.read_text()
    assert "2024-03-08 09:30:00-05:00" in text and "2024-03-11 09:30:00-04:00" in text
    back = ex.market_from_bars(path, **HOURS)
    assert back.freq == m.freq and back.tz == TZ
    assert back.source == "bars file bars.csv"
    for c in BAR_COLUMNS:
        np.testing.assert_array_equal(back[c], m[c], err_msg=c)
    np.testing.assert_array_equal(back.start_ns, m.start_ns)
    assert back.start_ns[4] - back.start_ns[0] == (pd.Timedelta("3D") - pd.Timedelta("1h")).value
    pd.testing.assert_frame_equal(back.to_bars(), m.to_bars())


def test_to_bars_of_a_market_without_spread_round_trips():
    m = hand_market()
    back = ex.market_from_bars(m.to_bars(), **HOURS)
    for c in BAR_COLUMNS:
        np.testing.assert_array_equal(back[c], m[c], err_msg=c)


def test_csv_with_naive_local_times_needs_tz(tmp_path):
    bars = hand_bars()
    bars["time"] = bars["time"].dt.strftime("%Y-%m-%d %H:%M:%S")
    path = tmp_path / "naive.csv"
    bars.to_csv(path, index=False)
    with pytest.raises(ValueError, match="column 'time' is timezone-naive; localize it"):
        ex.market_from_bars(path, **HOURS)
    m = ex.market_from_bars(path, tz=TZ, **HOURS)
    np.testing.assert_array_equal(m["volume"], hand_market()["volume"])


def test_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    bars = hand_bars()
    bars["spread"] = 0.01
    m = ex.market_from_bars(bars, **HOURS)
    path = tmp_path / "bars.parquet"
    m.to_bars().to_parquet(path)
    back = ex.market_from_bars(path, **HOURS)
    for c in BAR_COLUMNS:
        np.testing.assert_array_equal(back[c], m[c], err_msg=c)


def test_bad_source_types_and_paths(tmp_path):
    with pytest.raises(TypeError, match="bars must be a DataFrame or a path to a .csv or .parquet file, got list"):
        ex.market_from_bars([1, 2])
    with pytest.raises(FileNotFoundError, match=r"bars file '.*nothing\.csv' does not exist"):
        ex.market_from_bars(tmp_path / "nothing.csv")
    other = tmp_path / "bars.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match="bars file 'bars.txt' is neither .csv nor .parquet"):
        ex.market_from_bars(other)


# ---------------------------------------------------------------------------
# Bad bars: each a clear error naming the ticker, the time and the row
# ---------------------------------------------------------------------------
def bad(row: int, column: str, value: object) -> pd.DataFrame:
    """hand_bars with one cell changed."""
    b = hand_bars()
    b.loc[row, column] = value
    return b


def test_gap_names_ticker_and_missing_bin():
    with pytest.raises(ValueError, match=r"bars for ticker 'AAA' have a gap: no bar at 2024-01-02 10:30:00-05:00; "
                                         r"every bin of the session must be present \(a bin without trades has volume 0\)\.$"):
        ex.market_from_bars(hand_bars().drop(index=[2]), **HOURS)
    # a gap in the second ticker, mid-session
    with pytest.raises(ValueError, match=r"ticker 'BBB' have a gap: no bar at 2024-01-03 10:00:00-05:00"):
        ex.market_from_bars(hand_bars().drop(index=[ROWS_PER_TICKER + 5]), **HOURS)


def test_duplicate_bar_names_ticker_time_and_row():
    b = pd.concat([hand_bars(), hand_bars().iloc[[5]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"bars has a duplicate bar: ticker 'AAA' at 2024-01-03 10:00:00-05:00 appears "
                                         r"more than once \(row 24\)"):
        ex.market_from_bars(b, **HOURS)


def test_session_missing_for_one_ticker():
    b = hand_bars().drop(index=range(ROWS_PER_TICKER + 4, ROWS_PER_TICKER + 8))  # BBB on 2024-01-03
    with pytest.raises(ValueError, match=r"bars have no rows for ticker 'BBB' on 2024-01-03, a session the other tickers "
                                         r"have; every ticker needs every session\."):
        ex.market_from_bars(b, **HOURS)


def test_off_grid_time_with_explicit_freq():
    b = hand_bars()
    b.loc[1, "time"] = ts("2024-01-02 10:17")
    with pytest.raises(ValueError, match=r"bars column 'time' has 2024-01-02 10:17:00-05:00 for 'AAA' at row 1, which is "
                                         r"not the start of a 0 days 00:30:00 bin; bars must lie on one grid from the open"):
        ex.market_from_bars(b, "30min", **HOURS)


def test_off_grid_time_with_inferred_freq_names_the_row():
    b = hand_bars()
    b.loc[1, "time"] = ts("2024-01-02 10:17")
    with pytest.raises(ValueError, match=r"10:17:00-05:00 for 'AAA' at row 1"):
        ex.market_from_bars(b, **HOURS)


def test_freq_that_does_not_divide_the_session():
    with pytest.raises(ValueError, match=r"freq == 0 days 00:45:00 does not divide the 0 days 02:00:00 session"):
        ex.market_from_bars(hand_bars(), "45min", **HOURS)
    with pytest.raises(ValueError, match=r"freq == 'soon', must be a time span such as '1min'"):
        ex.market_from_bars(hand_bars(), "soon", **HOURS)


@pytest.mark.parametrize("when, row", [("2024-01-02 09:00", 0), ("2024-01-02 11:30", 3), ("2024-01-02 13:00", 3)])
def test_time_outside_the_session(when, row):
    b = hand_bars()
    b.loc[row, "time"] = ts(when)
    with pytest.raises(ValueError, match=rf"bars column 'time' has {when}:00-05:00 for 'AAA' at row {row}, outside the "
                                         r"09:30-11:30 session\."):
        ex.market_from_bars(b, "30min", **HOURS)


def test_naive_times_without_tz():
    b = hand_bars()
    b["time"] = b["time"].dt.tz_localize(None)
    with pytest.raises(ValueError, match=r"bars column 'time' is timezone-naive; localize it \(e\.g\. "
                                         r"\.dt\.tz_localize\('America/New_York'\)\) or pass tz="):
        ex.market_from_bars(b, **HOURS)


def test_time_not_datetimes_and_nat():
    b = hand_bars()
    b["time"] = b["time"].astype(str)
    with pytest.raises(TypeError, match=r"bars column 'time' must hold datetimes, got dtype \w+ such as "
                                        r"'2024-01-02 09:30:00-05:00'; convert it with pd.to_datetime"):
        ex.market_from_bars(b, **HOURS)
    with pytest.raises(ValueError, match=r"bars column 'time' has NaT at row 7; every bar needs a time"):
        ex.market_from_bars(bad(7, "time", pd.NaT), **HOURS)


@pytest.mark.parametrize("value, shown", [(np.nan, "nan"), (0.0, "0.0"), (-1.0, "-1.0"), (np.inf, "inf")])
def test_bad_close_price(value, shown):
    with pytest.raises(ValueError, match=rf"bars column 'close' has {shown} for 'BBB' at row 17; must be finite and > 0\."):
        ex.market_from_bars(bad(17, "close", value), **HOURS)


def test_bad_optional_price_and_spread():
    b = hand_bars()
    b["open"] = b["close"]
    b.loc[4, "open"] = np.nan
    with pytest.raises(ValueError, match=r"bars column 'open' has nan for 'AAA' at row 4; must be finite and > 0\."):
        ex.market_from_bars(b, **HOURS)
    b = hand_bars()
    b["spread"] = 0.01
    b.loc[20, "spread"] = -0.01
    with pytest.raises(ValueError, match=r"bars column 'spread' has -0.01 for 'BBB' at row 20; must be finite and >= 0\."):
        ex.market_from_bars(b, **HOURS)


def test_negative_volume():
    with pytest.raises(ValueError, match=r"bars column 'volume' has -5.0 for 'AAA' at row 6; must be finite and >= 0\."):
        ex.market_from_bars(bad(6, "volume", -5), **HOURS)


def test_text_in_a_numeric_column():
    b = hand_bars()
    b["volume"] = b["volume"].astype(str)
    with pytest.raises(TypeError, match=r"bars column 'volume' must be numeric, got dtype"):
        ex.market_from_bars(b, **HOURS)
    b = hand_bars()
    b["close"] = b["close"].astype(object)
    b.loc[2, "close"] = "ten"
    with pytest.raises(TypeError, match=r"bars column 'close' must be numeric, got dtype object"):
        ex.market_from_bars(b, **HOURS)


def test_signed_volume_beyond_volume():
    b = hand_bars()
    b["signed_volume"] = 0
    b.loc[5, "signed_volume"] = -111  # volume there is 110
    with pytest.raises(ValueError, match=r"bars column 'signed_volume' has .*-111.* for 'AAA' at row 5; must be a number "
                                         r"between -volume and \+volume\."):
        ex.market_from_bars(b, **HOURS)
    b.loc[5, "signed_volume"] = -110  # exactly -volume is allowed
    assert ex.market_from_bars(b, **HOURS)["signed_volume"][0, 1, 1] == -110


def test_text_in_signed_volume_is_a_type_error():
    b = hand_bars()
    b["signed_volume"] = "abc"
    with pytest.raises(TypeError, match="signed_volume"):
        ex.market_from_bars(b, **HOURS)


def test_signed_volume_message_shows_a_plain_value():
    b = hand_bars()
    b["signed_volume"] = 0
    b.loc[5, "signed_volume"] = -111
    with pytest.raises(ValueError, match=r"'signed_volume' has -111 for 'AAA'"):
        ex.market_from_bars(b, **HOURS)


def test_empty_frame_and_missing_column():
    with pytest.raises(ValueError, match=r"bars is empty \(0 rows\)\."):
        ex.market_from_bars(hand_bars().iloc[:0], **HOURS)
    with pytest.raises(ValueError, match=r"bars is missing column\(s\) \['volume'\]; it has \['ticker', 'time', 'close'\]"):
        ex.market_from_bars(hand_bars().drop(columns="volume"), **HOURS)
    with pytest.raises(ValueError, match=r"bars column 'ticker' has nan at row 3; labels must not be missing"):
        ex.market_from_bars(bad(3, "ticker", None), **HOURS)


# ---------------------------------------------------------------------------
# Half-days
# ---------------------------------------------------------------------------
def half_day_bars() -> pd.DataFrame:
    """hand_bars without the 10:30 and 11:00 bins of 2024-01-03 (closed early at 10:30)."""
    b = hand_bars()
    cut = (b["time"] >= ts("2024-01-03 10:30")) & (b["time"] < ts("2024-01-04"))
    return b[~cut]


def test_half_day_has_fewer_bins():
    m = ex.market_from_bars(half_day_bars(), early_closes={"2024-01-03": "10:30"}, **HOURS)
    assert m.n_bins == 4
    assert m.calendar.n_bins(m.freq).tolist() == [4, 2, 4]
    assert m.valid.tolist() == [[True] * 4, [True, True, False, False], [True] * 4]
    assert m.day_last.tolist() == [3, 5, 11]
    assert m.close_ns(np.array([1])).tolist() == [ts("2024-01-03 10:30").value]
    # after the close: no volume, no trades, prices held at the last open bin
    np.testing.assert_array_equal(m["volume"][:, 1, 2:], 0.0)
    np.testing.assert_array_equal(m["n_trades"][:, 1, 2:], 0.0)
    for c in ("close", "open", "mid_close", "mid_open", "mid"):
        np.testing.assert_array_equal(m[c][:, 1, 2:], m["close"][:, 1, 1:2].repeat(2, axis=1), err_msg=c)
    daily = m.daily()
    # AAA: 0+10+20+30, then the half-day 100+110, then 200+210+220+230; BBB adds 1000 per bin
    assert daily["daily_volume"].tolist() == [60, 210, 860, 4060, 2210, 4860]
    assert daily["close_mid"].tolist()[1] == 11.25  # the half-day's last open bar
    assert np.isnan(daily["sigma"].iat[1])  # two bars: too few for a volatility
    assert len(m.to_bars()) == 20
    assert "1 half-day(s)" in repr(m.calendar)


def test_daily_counts_only_open_bins():
    m = ex.market_from_bars(half_day_bars(), early_closes={"2024-01-03": "10:30"}, **HOURS)
    values = {c: np.array(m[c]) for c in BAR_COLUMNS}
    values["volume"][:, 1, 2:] = 1e6  # junk after the early close
    values["spread"] = np.full_like(values["volume"], 0.02)
    values["spread"][:, 1, 2:] = 99.0
    junk = Market(m.tickers, m.calendar, m.freq, values)
    daily = junk.daily()
    assert daily["daily_volume"].tolist() == [60, 210, 860, 4060, 2210, 4860]
    np.testing.assert_allclose(daily["mean_spread"], 0.02)


def test_missing_bins_after_an_early_close_hint_at_early_closes():
    with pytest.raises(ValueError, match=r"bars for ticker 'AAA' have a gap: no bar at 2024-01-03 10:30:00-05:00; .* "
                                         r"If that session closed early, pass early_closes=\{'2024-01-03': 'HH:MM'\}\."):
        ex.market_from_bars(half_day_bars(), **HOURS)


def test_bars_after_a_declared_early_close_are_rejected():
    with pytest.raises(ValueError, match=r"bars column 'time' has 2024-01-03 10:30:00-05:00 for 'AAA' at row 6, outside"):
        ex.market_from_bars(hand_bars(), early_closes={"2024-01-03": "10:30"}, **HOURS)


def test_bars_after_a_declared_early_close_name_the_early_close():
    with pytest.raises(ValueError, match=r"outside the 09:30-10:30 session"):
        ex.market_from_bars(hand_bars(), early_closes={"2024-01-03": "10:30"}, **HOURS)


def test_early_closes_must_be_a_session_inside_the_hours():
    with pytest.raises(ValueError, match=r"early_closes has 2024-01-09, which is not one of the calendar's dates\."):
        ex.market_from_bars(hand_bars(), early_closes={"2024-01-09": "10:30"}, **HOURS)
    with pytest.raises(ValueError, match=r"early_closes\['2024-01-03'\] == '12:00', must be after the open 0 days "
                                         r"09:30:00 and at most the close 0 days 11:30:00\."):
        ex.market_from_bars(hand_bars(), early_closes={"2024-01-03": "12:00"}, **HOURS)
    with pytest.raises(ValueError, match=r"freq == 0 days 00:30:00 does not divide the half-day session of 2024-01-03"):
        ex.market_from_bars(half_day_bars(), early_closes={"2024-01-03": "10:45"}, **HOURS)


# ---------------------------------------------------------------------------
# locate, mid_at, session_of
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quoted() -> Market:
    """hand_bars with quotes: mid_open = close - 0.10, mid_close = close + 0.20."""
    b = hand_bars()
    b["mid_open"] = b["close"] - 0.10
    b["mid_close"] = b["close"] + 0.20
    b["spread"] = 0.02
    return ex.market_from_bars(b, **HOURS)


def test_locate_before_inside_and_after(quoted):
    day = np.array([1, 1, 1, 1, 1, 1])
    t = np.concatenate([ns(x) for x in ("2024-01-03 09:00", "2024-01-03 09:30", "2024-01-03 10:40",
                                        "2024-01-03 11:29:59", "2024-01-03 11:30", "2024-01-03 15:00")])
    bar, where = quoted.locate(t, day)
    assert bar.tolist() == [4, 4, 6, 7, 7, 7]
    assert where.tolist() == [-1, 0, 0, 0, 1, 1]


def test_mid_at_interpolates_within_the_bar(quoted):
    # AAA, 2024-01-03, bar 10:30-11:00: close 11.50, so mid_open 11.40 and mid_close 11.70.
    # At 10:40 (a third of the bar): 11.40 + (11.70 - 11.40) / 3 = 11.50.
    k = np.zeros(5, dtype=np.int64)
    day = np.ones(5, dtype=np.int64)
    t = np.concatenate([ns(x) for x in ("2024-01-03 10:40", "2024-01-03 10:30", "2024-01-03 08:00",
                                        "2024-01-03 11:30", "2024-01-03 17:00")])
    got = quoted.mid_at(k, t, day)
    # 10:30 is the bar's start (its mid_open); before the open the first mid_open (11 - 0.10);
    # at and after the close the last mid_close (11.75 + 0.20)
    np.testing.assert_allclose(got, [11.50, 11.40, 10.90, 11.95, 11.95], rtol=0, atol=1e-12)
    # BBB, 2024-01-04 09:45, halfway through the first bar: close 22.00 -> (21.90 + 22.20) / 2
    np.testing.assert_allclose(quoted.mid_at(np.array([1]), ns("2024-01-04 09:45"), np.array([2])), [22.05], atol=1e-12)


def test_session_of_and_a_date_that_is_not_a_session(quoted):
    t = np.concatenate([ns("2024-01-02 08:00"), ns("2024-01-04 23:59"), ns("2024-01-03 12:00")])
    assert quoted.session_of(t).tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match=r"orders column 'arrival_time' has 2024-01-05 10:00:00-05:00 at row 'b' \(BBB\), on a "
                                         r"date that is not one of the market's sessions \(3 from 2024-01-02 to 2024-01-04\)\."):
        quoted.session_of(np.concatenate([ns("2024-01-02 10:00"), ns("2024-01-05 10:00")]), column="arrival_time",
                          index=pd.Index(["a", "b"]), tickers=np.array(["AAA", "BBB"]))
    # the local date decides: 2024-01-05 01:00 UTC is still the evening of 2024-01-04 in New York
    assert quoted.session_of(np.array([pd.Timestamp("2024-01-05 01:00", tz="UTC").value])).tolist() == [2]


# ---------------------------------------------------------------------------
# Property: Market.from_bars(b).to_bars() gives back the columns given
# ---------------------------------------------------------------------------
@st.composite
def valid_bars(draw):
    freq = draw(st.sampled_from(["15min", "30min", "40min", "60min", "120min"]))
    n_bins = int(pd.Timedelta("120min") / pd.Timedelta(freq))
    tickers = draw(st.lists(st.sampled_from(["A", "BB", "C.D", "E-F"]), min_size=1, max_size=3, unique=True))
    n_sessions = draw(st.integers(1, 3))
    dates = pd.bdate_range("2024-03-07", periods=n_sessions)  # spans the DST change of 2024-03-10
    n = len(tickers) * n_sessions * n_bins
    price = st.floats(0.01, 1e4, allow_nan=False, allow_infinity=False)
    volume = draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n))
    frac = draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n))
    cols = {c: draw(st.lists(price, min_size=n, max_size=n))
            for c in ("open", "high", "low", "close", "vwap", "mid", "mid_open", "mid_close")}
    spread = draw(st.lists(st.floats(0, 10, allow_nan=False), min_size=n, max_size=n))
    n_trades = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    times = [ts(f"{d.date()} 09:30") + b * pd.Timedelta(freq) for d in dates for b in range(n_bins)]
    bars = pd.DataFrame({
        "ticker": np.repeat(sorted(tickers), n_sessions * n_bins),
        "time": pd.DatetimeIndex(times * len(tickers)),
        **cols,
        "volume": np.array(volume, dtype=np.int64),
        "n_trades": np.array(n_trades, dtype=np.int64),
        "signed_volume": np.trunc(np.array(frac) * np.array(volume)).astype(np.int64),
        "spread": spread,
    })
    return bars, freq


@settings(deadline=None, max_examples=20)
@given(valid_bars())
def test_from_bars_to_bars_round_trips_the_given_columns(case):
    bars, freq = case
    m = Market.from_bars(bars, **HOURS)
    assert m.freq == pd.Timedelta(freq)
    out = m.to_bars()
    pd.testing.assert_frame_equal(out[bars.columns], bars, check_dtype=False)
    assert out["volume"].dtype == np.int64
    assert (out["carried"] == (bars["n_trades"] == 0)).all()


# ---------------------------------------------------------------------------
# End to end: synthetic LOBSTER files of many tickers and sessions
# ---------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(ex.data, "scan_lobster"), reason="execlab.data.scan_lobster is not there yet")
def test_from_lobster_end_to_end(tmp_path):
    syn = ex.synthetic.lobster_market(tmp_path, tickers=("SYNA", "SYNB"), sessions=4, seed=1,
                                      half_days={"2024-01-04": "13:00"}, events_per_session=1500)
    m = ex.Market.from_lobster(tmp_path, "5min")
    assert m.tickers == ["SYNA", "SYNB"]
    assert [str(d.date()) for d in m.dates] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert m["volume"].shape == (2, 4, 78)
    assert m.valid.sum(axis=1).tolist() == [78, 78, 42, 78]  # 09:30-13:00 is 42 five-minute bins
    assert m.day_last.tolist() == [77, 78 + 77, 2 * 78 + 41, 3 * 78 + 77]
    assert m.calendar.early_closes == {pd.Timestamp("2024-01-04"): pd.Timedelta("13:00:00")}
    assert m.source == "SYNTHETIC LOBSTER files: 8 ticker-sessions (execlab.synthetic, not real data)"
    files = syn.files.set_index(["ticker", "date"])["volume"]
    want = np.array([[files[(tk, str(d.date()))] for d in m.dates] for tk in m.tickers])
    np.testing.assert_array_equal(m["volume"].sum(axis=2), want)
    np.testing.assert_array_equal(m.daily_arrays()["daily_volume"], want)
    np.testing.assert_array_equal(m["volume"][:, 2, 42:], 0.0)
    assert (m["spread"][m.valid[None].repeat(2, axis=0)] > 0).all()


@pytest.mark.skipif(not hasattr(ex.data, "scan_lobster"), reason="execlab.data.scan_lobster is not there yet")
def test_from_lobster_session_missing_for_one_ticker(tmp_path):
    syn = ex.synthetic.lobster_market(tmp_path, tickers=("SYNA", "SYNB"), sessions=2, seed=2, events_per_session=200)
    row = syn.files.iloc[-1]  # SYNB's second session
    for f in (row["message_file"], row["orderbook_file"]):
        Path(f).unlink()
    with pytest.raises(ValueError, match=r"have no file for ticker 'SYNB' on 2024-01-03, a session the other tickers have"):
        ex.Market.from_lobster(tmp_path, "5min")
