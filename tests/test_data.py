"""Real data: MANIFEST counts, the LOBSTER reader, bars, volume profiles.

Where the files are found and their checksums: tests/test_data_files.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab import data as exdata
from execlab.data import _lobster

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
LOBSTER = exdata.find_data_dir()  # the sample files, wherever the search finds them
TICKERS = ["AAPL", "AMZN", "GOOG"]

# The MANIFEST table (data/README.md): events, visible + hidden executions, shares traded, trade-price
# range, median quoted spread, one-minute bins without a trade.
MANIFEST = {
    "AAPL": dict(events=118_497, visible=23_658, hidden=11_332, shares=2_850_140, low=577.45, high=588.21, spread=0.15, empty=0),
    "AMZN": dict(events=57_515, visible=8_974, hidden=2_445, shares=810_755, low=220.51, high=226.03, spread=0.13, empty=3),
    "GOOG": dict(events=49_482, visible=7_765, hidden=3_913, shares=706_125, low=563.73, high=579.73, spread=0.29, empty=5),
}


def _readme_table() -> dict[str, list[str]]:
    """Level-1 rows of the README table, without the level column."""
    rows = {}
    for line in (DATA / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in TICKERS and cells[1] == "1":
            rows[cells[0]] = [cells[0]] + cells[2:]
    return rows


# ---------------------------------------------------------------------------
# the sample's counts
# ---------------------------------------------------------------------------


def test_manifest_table_in_readme_matches_constants():
    # the constants above are the README table, not numbers of our own
    table = _readme_table()
    assert sorted(table) == TICKERS
    for t, m in MANIFEST.items():
        cells = table[t]
        assert cells[1] == f"{m['events']:,}"
        assert cells[2] == f"{m['visible'] + m['hidden']:,} ({m['visible']:,} + {m['hidden']:,})"
        assert cells[3] == f"{m['shares']:,}"
        assert cells[4] == f"{m['low']:.2f}–{m['high']:.2f}"
        assert cells[5] == f"{m['spread']:.2f}"
        assert cells[6] == f"{m['empty']} of 390"


@pytest.mark.parametrize("ticker", TICKERS)
def test_trades_match_manifest(ticker):
    m = MANIFEST[ticker]
    tr = ex.load_trades(ticker)
    assert list(tr.columns) == ["ticker", "time", "price", "size", "sign", "hidden"]
    assert len(tr) == m["visible"] + m["hidden"]
    assert int((~tr["hidden"]).sum()) == m["visible"]
    assert int(tr["hidden"].sum()) == m["hidden"]
    assert int(tr["size"].sum()) == m["shares"]
    assert tr["size"].dtype == np.int64 and (tr["size"] > 0).all()
    assert round(tr["price"].min(), 2) == m["low"] and round(tr["price"].max(), 2) == m["high"]
    assert set(tr["sign"].unique()) == {-1, 1}
    assert (tr["ticker"] == ticker).all()


@pytest.mark.parametrize("ticker", TICKERS)
def test_quotes_match_manifest(ticker):
    m = MANIFEST[ticker]
    qu = ex.load_quotes(ticker)
    assert list(qu.columns) == ["ticker", "time", "bid", "bid_size", "ask", "ask_size"]
    assert len(qu) == m["events"]  # no halts in these files: one quote row per event
    spread = qu["ask"] - qu["bid"]
    assert round(float(spread.median()), 2) == m["spread"]
    assert (spread > 0).all()  # never crossed or locked, never a dummy price
    assert qu[["bid", "ask"]].notna().all().all()
    assert qu["bid"].between(100, 1000).all() and qu["ask"].between(100, 1000).all()
    assert qu["time"].is_monotonic_increasing


@pytest.mark.parametrize("ticker", TICKERS)
def test_trade_sign_from_raw_file(ticker):
    # independent read of the raw message file: an execution of a sell limit order (direction -1)
    # is a buyer-initiated trade (+1)
    raw = pd.read_csv(
        exdata.bundled_files(tickers=ticker)["message_file"].iloc[0],
        header=None, names=["time", "type", "id", "size", "price", "direction"],
    )
    ex_raw = raw[raw["type"].isin([4, 5])].reset_index(drop=True)
    tr = ex.load_trades(ticker)
    np.testing.assert_array_equal(tr["sign"].to_numpy(), -ex_raw["direction"].to_numpy())
    np.testing.assert_allclose(tr["price"].to_numpy(), ex_raw["price"].to_numpy() / 10_000)
    assert (raw["type"] != 7).all()


def test_load_all_tickers_is_the_concatenation():
    tr = ex.load_trades()
    assert list(tr["ticker"].unique()) == TICKERS
    assert len(tr) == sum(m["visible"] + m["hidden"] for m in MANIFEST.values())
    assert len(ex.load_quotes()) == sum(m["events"] for m in MANIFEST.values())
    assert str(tr["time"].dt.tz) == "America/New_York"


# ---------------------------------------------------------------------------
# bars from the real data
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("freq, n", [("1min", 390), ("5min", 78), ("30min", 13)])
def test_load_bars_every_bin(freq, n):
    bars = ex.load_bars(freq)
    assert bars.groupby("ticker").size().to_dict() == {t: n for t in TICKERS}
    assert str(bars["time"].dt.tz) == "America/New_York"
    for t, g in bars.groupby("ticker"):
        times = pd.DatetimeIndex(g["time"])
        assert times.is_monotonic_increasing and times.is_unique
        assert times[0] == pd.Timestamp("2012-06-21 09:30", tz="America/New_York")
        expected = pd.date_range(times[0], periods=n, freq=freq)
        assert (times == expected).all()
    cols = ["ticker", "time", "open", "high", "low", "close", "volume", "vwap", "n_trades", "mid", "spread", "carried"]
    assert set(cols) <= set(bars.columns)
    assert bars["volume"].dtype == np.int64


@pytest.mark.parametrize("ticker", TICKERS)
def test_bars_match_manifest(ticker):
    m = MANIFEST[ticker]
    bars = ex.load_bars("1min", ticker)
    assert int(bars["volume"].sum()) == m["shares"]
    assert int(bars["n_trades"].sum()) == m["visible"] + m["hidden"]
    empty = bars["volume"] == 0
    assert int(empty.sum()) == m["empty"]
    # zero-volume bins are kept and flagged, with prices carried from the previous close
    np.testing.assert_array_equal(bars["carried"].to_numpy(), empty.to_numpy())
    close = bars["close"].to_numpy()
    for i in np.flatnonzero(empty.to_numpy()):
        assert i > 0
        row = bars.iloc[i]
        assert row["open"] == row["high"] == row["low"] == row["close"] == row["vwap"] == close[i - 1]
        assert row["n_trades"] == 0 and row["signed_volume"] == 0
    tr = ex.load_trades(ticker)
    assert int(bars["signed_volume"].sum()) == int((tr["sign"] * tr["size"]).sum())
    for c in ["open", "high", "low", "close", "vwap", "mid", "spread", "mid_open", "mid_close"]:
        assert bars[c].notna().all(), c
    assert (bars["low"] <= bars["vwap"] + 1e-9).all() and (bars["vwap"] <= bars["high"] + 1e-9).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["spread"] > 0).all()
    assert bars["low"].min().round(2) == m["low"] and bars["high"].max().round(2) == m["high"]


def test_bars_5min_aggregate_the_1min_bars():
    one, five = ex.load_bars("1min"), ex.load_bars("5min")
    agg = one.groupby(["ticker", one["time"].dt.floor("5min")])["volume"].sum().to_numpy()
    np.testing.assert_array_equal(agg, five["volume"].to_numpy())


def test_daily_stats_real():
    st = ex.daily_stats(ex.load_bars("1min"))
    assert list(st.index) == TICKERS
    assert st["daily_volume"].to_dict() == {t: m["shares"] for t, m in MANIFEST.items()}
    assert ((st["sigma"] > 0.002) & (st["sigma"] < 0.05)).all()  # a plausible daily volatility fraction


# ---------------------------------------------------------------------------
# volume profiles
# ---------------------------------------------------------------------------


# A smoothing window wider than the profile once failed in np.convolve(mode="same").
SMOOTH_WIDER_THAN_PROFILE: tuple = ()


@pytest.mark.parametrize(
    "freq, n, smooth",
    [
        (f, n, s)
        for f, n in [("1min", 390), ("5min", 78), ("30min", 13)]
        for s in [None, 1, 3, 13]
    ]
    + [pytest.param("30min", 13, 15, marks=SMOOTH_WIDER_THAN_PROFILE)],
)
def test_volume_profile_sums_to_one(freq, n, smooth):
    p = ex.volume_profile(ex.load_bars("1min"), freq, smooth=smooth)
    assert len(p) == n
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (p >= 0).all()
    assert p.index[0].isoformat() == "09:30:00" and p.index.name == "bin_start"


def test_volume_profile_smooth_one_is_no_smoothing():
    bars = ex.load_bars("1min")
    pd.testing.assert_series_equal(ex.volume_profile(bars, "5min", smooth=1), ex.volume_profile(bars, "5min"))


def test_volume_profile_smoothing_reduces_roughness():
    bars = ex.load_bars("1min")
    raw, smooth = ex.volume_profile(bars, "1min"), ex.volume_profile(bars, "1min", smooth=15)
    assert np.abs(np.diff(smooth)).sum() < 0.5 * np.abs(np.diff(raw)).sum()


def test_volume_profile_1min_sums_to_5min():
    bars = ex.load_bars("1min")
    p1, p5 = ex.volume_profile(bars, "1min"), ex.volume_profile(bars, "5min")
    np.testing.assert_allclose(p1.to_numpy().reshape(78, 5).sum(axis=1), p5.to_numpy(), atol=1e-14)


def _toy_bars(volumes: dict[str, list[float]], freq="30min") -> pd.DataFrame:
    frames = []
    for t, v in volumes.items():
        times = pd.date_range("2012-06-21 09:30", periods=len(v), freq=freq, tz="America/New_York")
        frames.append(pd.DataFrame({"ticker": t, "time": times, "volume": np.asarray(v, dtype=np.int64)}))
    return pd.concat(frames, ignore_index=True)


def test_volume_profile_weights_each_ticker_day_equally_and_handles_empty_bins():
    a = [10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10]  # half at the open, half at the close
    b = [0] * 6 + [1000] + [0] * 6  # all at midday, 100x the volume
    p = ex.volume_profile(_toy_bars({"A": a, "B": b}), "30min")
    expected = np.zeros(13)
    expected[[0, 12]] = 0.25
    expected[6] = 0.5
    np.testing.assert_allclose(p.to_numpy(), expected)
    # a ticker-day without volume is skipped, not a division by zero
    p2 = ex.volume_profile(_toy_bars({"A": a, "B": b, "C": [0] * 13}), "30min")
    np.testing.assert_allclose(p2.to_numpy(), expected)
    # bins missing from the frame count as zero volume
    p3 = ex.volume_profile(_toy_bars({"A": a}).query("volume > 0"), "30min")
    np.testing.assert_allclose(p3.to_numpy()[[0, 12]], 0.5)
    assert p3.sum() == pytest.approx(1.0)


def test_volume_profile_smoothing_keeps_sum_one_with_empty_bins():
    a = [10] + [0] * 11 + [10]
    p = ex.volume_profile(_toy_bars({"A": a}), "30min", smooth=3)
    assert p.sum() == pytest.approx(1.0, abs=1e-12) and (p >= 0).all()
    # a centred 3-bin average, shrinking at the edges, renormalised
    raw = np.array(a, float) / 20
    s = np.convolve(raw, np.ones(3), "same") / np.convolve(np.ones(13), np.ones(3), "same")
    np.testing.assert_allclose(p.to_numpy(), s / s.sum())


def test_profile_forecast_beats_uniform_for_every_ticker():
    bars = ex.load_bars("1min")
    for freq, smooth in [("5min", None), ("5min", 3), ("1min", 15)]:
        fc = ex.profile_forecast(bars, freq, smooth)
        assert list(fc.scores.index) == TICKERS
        assert (fc.scores["l1"] < fc.scores["l1_uniform"]).all(), (freq, smooth)
        assert (fc.scores["rmse"] < fc.scores["rmse_uniform"]).all(), (freq, smooth)
        assert "Leave-one-out" in fc.summary()


def test_profile_forecast_is_leave_one_out():
    bars = ex.load_bars("1min")
    fc = ex.profile_forecast(bars, "5min")
    for t in TICKERS:
        got = fc.profiles[fc.profiles["ticker"] == t]
        others = ex.volume_profile(bars[bars["ticker"] != t], "5min")
        own = ex.volume_profile(bars[bars["ticker"] == t], "5min")
        np.testing.assert_allclose(got["forecast"].to_numpy(), others.to_numpy(), atol=1e-15)
        np.testing.assert_allclose(got["realized"].to_numpy(), own.to_numpy(), atol=1e-15)
        l1 = 0.5 * np.abs(others.to_numpy() - own.to_numpy()).sum()
        assert fc.scores.loc[t, "l1"] == pytest.approx(l1)
        assert fc.scores.loc[t, "l1_uniform"] == pytest.approx(0.5 * np.abs(1 / 78 - own.to_numpy()).sum())


# ---------------------------------------------------------------------------
# read_lobster on synthetic files
# ---------------------------------------------------------------------------
# Two levels.  Book columns per level: ask price, ask size, bid price, bid size (dollars x 10,000).
EMPTY_ASK, EMPTY_BID = 9999999999, -9999999999
MESSAGES = [
    # time, type, order id, size, price, direction
    (34200.000000001, 1, 11, 100, 1000000, 1),  # buy limit at $100.00; ask side still empty
    (34200.5, 1, 12, 200, 1001000, -1),  # sell limit at $100.10
    (34260.25, 4, 12, 50, 1001000, -1),  # execution of the sell limit order: a BUY trade
    (34261.0, 5, 99, 30, 1000500, 1),  # hidden buy order executed: a SELL trade
    (34300.0, 7, -1, 1, -1, -1),  # trading halt
    (34310.0, 1, 13, 100, 1000200, 1),  # order entered during the halt
    (34320.0, 7, -1, 1, 0, -1),  # quoting resumes, still no trading
    (34330.0, 7, -1, 1, 1, -1),  # trading resumes
    (34400.0, 3, 13, 100, 1000200, 1),  # delete
    (34500.0, 4, 11, 100, 1000000, 1),  # execution of the buy limit order: a SELL trade; bid side empties
]
BOOK = [
    # ask1, ask1 size, bid1, bid1 size, ask2, ask2 size, bid2, bid2 size
    (EMPTY_ASK, 0, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 200, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 150, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 150, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 150, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 150, 1000200, 100, EMPTY_ASK, 0, 1000000, 100),
    (1001000, 150, 1000200, 100, EMPTY_ASK, 0, 1000000, 100),
    (1001000, 150, 1000200, 100, EMPTY_ASK, 0, 1000000, 100),
    (1001000, 150, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 150, EMPTY_BID, 0, EMPTY_ASK, 0, EMPTY_BID, 0),
]
MSG_HEADER = "Time,Type,OrderID,Size,Price,Direction"
BOOK_HEADER = "AskPrice1,AskSize1,BidPrice1,BidSize1,AskPrice2,AskSize2,BidPrice2,BidSize2"


def _write(path: Path, rows, header: str | None = None) -> Path:
    lines = [header] if header else []
    lines += [",".join(repr(v) if isinstance(v, float) else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _pair(tmp_path: Path, header: bool = False, stem: str = "XYZ_2020-01-02_34200000_57600000", levels: int = 2):
    m = _write(tmp_path / f"{stem}_message_{levels}.csv", MESSAGES, MSG_HEADER if header else None)
    b = _write(tmp_path / f"{stem}_orderbook_{levels}.csv", BOOK, BOOK_HEADER if header else None)
    return m, b


@pytest.mark.parametrize("header", [False, True])
def test_read_lobster_synthetic(tmp_path, header):
    day = ex.read_lobster(*_pair(tmp_path, header=header))
    assert (day.ticker, day.date, day.levels) == ("XYZ", "2020-01-02", 2)
    assert len(day.events) == len(MESSAGES)
    # time from seconds after midnight, New York, to the nanosecond
    t0 = day.events["time"].iloc[0]
    assert t0 == pd.Timestamp("2020-01-02 09:30:00.000000001", tz="America/New_York")
    assert str(day.events["time"].dt.tz) == "America/New_York"

    tr = day.trades
    assert list(tr.columns) == ["ticker", "time", "price", "size", "sign", "hidden"]
    np.testing.assert_array_equal(tr["sign"], [1, -1, -1])  # sell limit executed -> +1
    np.testing.assert_allclose(tr["price"], [100.10, 100.05, 100.00])
    np.testing.assert_array_equal(tr["size"], [50, 30, 100])
    np.testing.assert_array_equal(tr["hidden"], [False, True, False])
    assert (tr["ticker"] == "XYZ").all()

    # quotes: the halt (from the -1 message through the resume message) is dropped
    qu = day.quotes
    kept = [0, 1, 2, 3, 8, 9]
    np.testing.assert_array_equal(qu["time"].to_numpy(), day.events["time"].to_numpy()[kept])
    assert (qu["time"] < pd.Timestamp("2020-01-02 09:31:40", tz="America/New_York")).sum() == 4
    # empty sides are NaN with size 0, never a +/-999999.9999 price
    assert np.isnan(qu["ask"].iloc[0]) and qu["ask_size"].iloc[0] == 0
    assert np.isnan(qu["bid"].iloc[-1]) and qu["bid_size"].iloc[-1] == 0
    np.testing.assert_allclose(qu["bid"].iloc[:5], [100.0] * 5)
    np.testing.assert_allclose(qu["ask"].iloc[1:], [100.10] * 5)
    for c in [c for c in day.events.columns if "price_" in c]:
        px = day.events[c].to_numpy()
        assert not (np.abs(px[np.isfinite(px)]) > 1e5).any(), c
    assert np.isnan(day.events["ask_price_2"]).all()
    np.testing.assert_allclose(day.events["bid_price_2"].iloc[5:8], 100.0)
    assert day.events.loc[9, "bid_size_1"] == 0

    assert list(day.halts["state"]) == ["halt", "quote", "resume"]
    assert list(day.halts["time"]) == list(day.events["time"].iloc[[4, 6, 7]])


def test_read_lobster_header_and_no_header_agree(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    d1 = ex.read_lobster(*_pair(tmp_path / "a", header=False))
    d2 = ex.read_lobster(*_pair(tmp_path / "b", header=True))
    pd.testing.assert_frame_equal(d1.events, d2.events)
    pd.testing.assert_frame_equal(d1.trades, d2.trades)
    pd.testing.assert_frame_equal(d1.quotes, d2.quotes)


@pytest.mark.parametrize("header", [False, True])
def test_read_lobster_gzip_equals_plain(tmp_path, header):
    import gzip

    m, b = _pair(tmp_path, header=header)
    gz = []
    for p in (m, b):
        out = p.with_name(p.name + ".gz")
        out.write_bytes(gzip.compress(p.read_bytes()))
        gz.append(out)
    plain, packed = ex.read_lobster(m, b), ex.read_lobster(*gz)
    assert (packed.ticker, packed.date, packed.levels) == ("XYZ", "2020-01-02", 2)
    for f in ("events", "trades", "quotes", "halts"):
        pd.testing.assert_frame_equal(getattr(packed, f), getattr(plain, f))
    assert repr(packed) == "LobsterDay(ticker='XYZ', date='2020-01-02', levels=2, events=10, trades=3, halts=3)"


def test_read_lobster_ticker_and_date_given(tmp_path):
    m = _write(tmp_path / "messages.csv", MESSAGES)
    b = _write(tmp_path / "book.csv", BOOK)
    day = ex.read_lobster(m, b, date="2019-03-04", ticker="ABC")
    assert (day.ticker, day.date) == ("ABC", "2019-03-04")
    assert day.trades["time"].iloc[0] == pd.Timestamp("2019-03-04 09:31:00.25", tz="America/New_York")
    assert (day.trades["ticker"] == "ABC").all()
    # explicit arguments win over the file name
    day2 = ex.read_lobster(*_pair(tmp_path), date="2021-05-06", ticker="QQQ")
    assert (day2.ticker, day2.date) == ("QQQ", "2021-05-06")
    # a date in the winter is EST (-05:00), in the summer EDT (-04:00)
    assert day.trades["time"].iloc[0].utcoffset() == pd.Timedelta(hours=-5)
    assert day2.trades["time"].iloc[0].utcoffset() == pd.Timedelta(hours=-4)


def test_read_lobster_one_level_and_bundled_file(tmp_path):
    m = _write(tmp_path / "ONE_2020-01-02_0_0_message_1.csv", MESSAGES)
    b = _write(tmp_path / "ONE_2020-01-02_0_0_orderbook_1.csv", [r[:4] for r in BOOK])
    day = ex.read_lobster(m, b)
    assert day.levels == 1 and day.ticker == "ONE"
    stem = LOBSTER / "GOOG_2012-06-21_34200000_57600000"
    goog = ex.read_lobster(f"{stem}_message_1.csv", f"{stem}_orderbook_1.csv")
    assert (goog.ticker, goog.date, goog.levels) == ("GOOG", "2012-06-21", 1)
    assert len(goog.events) == MANIFEST["GOOG"]["events"] and goog.halts.empty


def test_read_lobster_bad_input(tmp_path):
    m, b = _pair(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"^LOBSTER file not found: .*nope\.csv$"):
        ex.read_lobster(tmp_path / "nope.csv", b)
    plain_m = _write(tmp_path / "m.csv", MESSAGES)
    plain_b = _write(tmp_path / "b.csv", BOOK)
    with pytest.raises(ValueError, match=r"^date not given and not found in file name 'm\.csv'\.$"):
        ex.read_lobster(plain_m, plain_b, ticker="ABC")
    with pytest.raises(ValueError, match=r"^ticker not given and not found in file name 'm\.csv'\.$"):
        ex.read_lobster(plain_m, plain_b, date="2020-01-02")
    short_b = _write(tmp_path / "short.csv", BOOK[:-1])
    with pytest.raises(ValueError, match=r"^message file XYZ_2020-01-02_34200000_57600000_message_2\.csv has 10 rows but orderbook file short\.csv has 9; they must match\.$"):
        ex.read_lobster(m, short_b)
    odd_b = _write(tmp_path / "odd.csv", [r[:6] for r in BOOK])
    with pytest.raises(ValueError, match=r"^orderbook file odd\.csv has 6 columns, not a multiple of 4\.$"):
        ex.read_lobster(m, odd_b)
    bad_cols = _write(tmp_path / "X_2020-01-02_0_0_message_2.csv", [r[:5] for r in MESSAGES])
    with pytest.raises(ValueError, match=r"^message file X_2020-01-02_0_0_message_2\.csv has 5 columns, expected 6\.$"):
        ex.read_lobster(bad_cols, b)
    unsorted = list(MESSAGES)
    unsorted[3] = (34000.0,) + unsorted[3][1:]
    with pytest.raises(ValueError, match=r"^message file XYZ_2020-01-02_0_0_message_2\.csv column 'Time' decreases at row 3: 34260\.25 then 34000\.0\.$"):
        ex.read_lobster(_write(tmp_path / "XYZ_2020-01-02_0_0_message_2.csv", unsorted), b)
    unknown = list(MESSAGES)
    unknown[2] = (34260.25, 9) + unknown[2][2:]
    with pytest.raises(ValueError, match=r"^message file XYZ_2020-01-02_0_0_message_2\.csv column 'Type' has unknown event type 9\.0 at row 2; LOBSTER's types are 1 to 7\.$"):
        ex.read_lobster(_write(tmp_path / "XYZ_2020-01-02_0_0_message_2.csv", unknown), b)
    free = list(MESSAGES)
    free[2] = (34260.25, 4, 12, 50, 0, -1)
    with pytest.raises(ValueError, match=r"^message file XYZ_2020-01-02_0_0_message_2\.csv has an execution at row 2 with 'Price' 0\.0 and 'Size' 50\.0; both must be > 0\.$"):
        ex.read_lobster(_write(tmp_path / "XYZ_2020-01-02_0_0_message_2.csv", free), b)


def test_make_bars_hand_worked():
    tz = "America/New_York"
    ts = lambda s: pd.Timestamp(f"2020-01-02 {s}", tz=tz)  # noqa: E731
    trades = pd.DataFrame({
        "ticker": "XYZ",
        "time": [ts("09:30:10"), ts("09:30:50"), ts("09:32:20")],
        "price": [10.10, 10.15, 10.30],
        "size": [100, 50, 10],
        "sign": [1, -1, 1],
    })
    quotes = pd.DataFrame({
        "ticker": "XYZ",
        "time": [ts("09:30:00"), ts("09:31:30")],
        "bid": [10.0, 10.2],
        "ask": [10.2, 10.4],
    })
    bars = ex.make_bars(trades, quotes, "1min")
    assert len(bars) == 390 and str(bars["time"].dt.tz) == tz
    b0, b1, b2, b3 = (bars.iloc[i] for i in range(4))
    assert (b0["open"], b0["high"], b0["low"], b0["close"]) == (10.10, 10.15, 10.10, 10.15)
    assert b0["volume"] == 150 and b0["n_trades"] == 2 and b0["signed_volume"] == 50
    assert b0["vwap"] == pytest.approx((10.10 * 100 + 10.15 * 50) / 150)
    assert b0["mid"] == pytest.approx(10.1) and b0["spread"] == pytest.approx(0.2)
    # no trade in 09:31: kept, flagged, prices carried; the mid changes half-way through the bin
    assert b1["carried"] and b1["volume"] == 0
    assert b1["open"] == b1["close"] == b1["vwap"] == 10.15
    assert b1["mid"] == pytest.approx(10.2) and b1["mid_open"] == pytest.approx(10.1)
    assert b1["mid_close"] == pytest.approx(10.3)
    assert not b2["carried"] and b2["close"] == 10.30
    assert b3["carried"] and b3["close"] == 10.30
    assert int(bars["carried"].sum()) == 388
    assert bars["volume"].sum() == 160


def test_make_bars_bad_input():
    tr, qu = ex.load_trades("AMZN"), ex.load_quotes("AMZN")
    with pytest.raises(ValueError, match=r"^trades is missing column\(s\) \['sign'\]; it has "):
        ex.make_bars(tr.drop(columns="sign"), qu)
    with pytest.raises(ValueError, match=r"^quotes is missing column\(s\) \['ask'\]; it has "):
        ex.make_bars(tr, qu.drop(columns="ask"))
    bad = tr.copy()
    bad.loc[5, "time"] = bad.loc[100, "time"]
    with pytest.raises(ValueError, match=r"^trades time for AMZN has unsorted timestamps: .* at position 6\.$"):
        ex.make_bars(bad, qu)
    with pytest.raises(ValueError, match=r"^quotes time for AMZN has unsorted timestamps"):
        ex.make_bars(tr, qu.iloc[::-1])
    with pytest.raises(ValueError, match=r"^freq == '7min', must divide the 6\.5-hour session \(390 minutes\) evenly\.$"):
        ex.make_bars(tr, qu, "7min")
    neg = tr.copy()
    neg.loc[3, "price"] = -1.0
    with pytest.raises(ValueError, match=r"^trades column 'price' has -1\.0 for AMZN at row 3; must be > 0\.$"):
        ex.make_bars(neg, qu)
    with pytest.raises(ValueError, match=r"^quotes have no rows for ticker 'ZZZ', which has trades\.$"):
        ex.make_bars(tr.assign(ticker="ZZZ"), qu)
    with pytest.raises(ValueError, match=r"^trades is empty \(0 rows\)\.$"):
        ex.make_bars(tr.iloc[:0], qu)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: ex.load_bars("1min", "MSFT"), ValueError, r"^ticker == 'MSFT', must be one of \['AAPL', 'AMZN', 'GOOG'\]\.$"),
        (lambda: ex.load_trades(["AAPL", "msft"]), ValueError, r"^ticker == 'msft', must be one of"),
        (lambda: ex.load_quotes([]), ValueError, r"^tickers is empty; pass None for all bundled tickers\.$"),
        (lambda: ex.load_bars("7min"), ValueError, r"^freq == '7min', must divide the 6\.5-hour session \(390 minutes\) evenly\.$"),
        (lambda: ex.load_bars("45min"), ValueError, r"^freq == '45min', must divide the 6\.5-hour session"),
        (lambda: ex.load_bars("0min"), ValueError, r"^freq == '0min', must be positive\.$"),
        (lambda: ex.load_bars("soon"), ValueError, r"^freq == 'soon', must be a time span such as '1min' or '5min'\.$"),
        (lambda: ex.volume_profile(ex.load_bars(), "7min"), ValueError, r"^freq == '7min', must divide"),
        (lambda: ex.volume_profile(ex.load_bars().drop(columns="volume")), ValueError, r"^bars is missing column\(s\) \['volume'\]"),
        (lambda: ex.volume_profile(ex.load_bars().iloc[:0]), ValueError, r"^bars is empty \(0 rows\)\.$"),
        (lambda: ex.volume_profile(ex.load_bars().assign(volume=0)), ValueError, r"^bars hold no volume at all; a volume profile needs some\.$"),
        (lambda: ex.volume_profile("bars"), TypeError, r"^bars must be a pandas DataFrame, got str\.$"),
        (lambda: ex.volume_profile(ex.load_bars(), smooth=0), ValueError, r"^smooth == 0, must be >= 1\.$"),
        (lambda: ex.profile_forecast(ex.load_bars("1min", "AAPL")), ValueError, r"^profile_forecast needs at least two tickers, got \['AAPL'\]\.$"),
        (lambda: ex.daily_stats(ex.load_bars().drop(columns="mid")), ValueError, r"^bars is missing column\(s\) \['mid'\]"),
    ],
)
def test_data_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_volume_profile_bad_volume_and_times():
    bars = ex.load_bars().copy()
    bars.loc[3, "volume"] = -1
    with pytest.raises(ValueError, match=r"^bars column 'volume' has -1\.0 at row 3; must be finite and >= 0\.$"):
        ex.volume_profile(bars)
    late = _toy_bars({"A": [1] * 14}, "30min")  # the 14th bin starts at 16:00
    with pytest.raises(ValueError, match=r"^bars column 'time' has 2012-06-21 16:00:00-04:00 outside the 09:30-16:00 session\.$"):
        ex.volume_profile(late, "30min")


def test_loaders_are_cached_and_not_shared_mutably():
    a = ex.load_bars("1min", "AAPL")
    a.loc[0, "volume"] = -999
    assert ex.load_bars("1min", "AAPL").loc[0, "volume"] != -999
    t = ex.load_trades("AAPL")
    t.loc[0, "size"] = -1
    assert ex.load_trades("AAPL").loc[0, "size"] > 0


def test_module_constants():
    assert exdata.TICKERS == tuple(TICKERS) and exdata.TIMEZONE == "America/New_York"


# ---------------------------------------------------------------------------
# review: the cache cannot be corrupted through a returned frame
# ---------------------------------------------------------------------------


def test_loaders_return_copies_even_through_numpy_views():
    # pandas' copy-on-write guards df.loc writes, but not a numpy view of the extension array
    b = ex.load_bars("1min", "GOOG")
    first = int(b["volume"].iat[0])
    np.asarray(b["volume"].array)[0] = -1
    t = ex.load_trades("GOOG")
    np.asarray(t["size"].array)[0] = -1
    q = ex.load_quotes("GOOG")
    np.asarray(q["bid"].array)[0] = -1.0
    # nor by re-enabling writes on a read-only view
    arr = ex.load_trades("GOOG")["price"].to_numpy()
    arr.flags.writeable = True
    arr[0] = -1.0
    assert int(ex.load_bars("1min", "GOOG")["volume"].iat[0]) == first > 0
    assert (ex.load_trades("GOOG")["size"] > 0).all() and (ex.load_trades("GOOG")["price"] > 0).all()
    assert (ex.load_quotes("GOOG")["bid"] > 0).all()
    # still cached: the parsed day is the same object each time
    assert _lobster.bundled_day("GOOG") is _lobster.bundled_day("GOOG")


# ---------------------------------------------------------------------------
# review: bad input to make_bars, volume_profile and daily_stats
# ---------------------------------------------------------------------------


def _small_trades_quotes():
    tz = "America/New_York"
    trades = pd.DataFrame({
        "ticker": "XYZ",
        "time": pd.to_datetime(["2020-01-02 09:30:10", "2020-01-02 09:30:50", "2020-01-02 09:32:20"]).tz_localize(tz),
        "price": [10.10, 10.15, 10.30],
        "size": [100, 50, 10],
        "sign": [1, -1, 1],
    })
    quotes = pd.DataFrame({
        "ticker": "XYZ",
        "time": pd.to_datetime(["2020-01-02 09:30:00", "2020-01-02 09:31:30"]).tz_localize(tz),
        "bid": [10.0, 10.2],
        "ask": [10.2, 10.4],
    })
    return trades, quotes


def _with(df, column, pos, value):
    out = df.copy()
    col = out[column].astype(object)
    col.iloc[pos] = value
    out[column] = col if isinstance(value, str) or value is None else pd.Series(list(col), index=out.index)
    return out


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda t, q: (t.assign(time=t["time"].dt.tz_localize(None)), q), ValueError,
         r"^trades column 'time' is timezone-naive; localize it \(e\.g\. \.dt\.tz_localize\('America/New_York'\)\)\.$"),
        (lambda t, q: (t, q.assign(time=q["time"].dt.tz_localize(None))), ValueError, r"^quotes column 'time' is timezone-naive"),
        (lambda t, q: (t.assign(time=t["time"].astype(str)), q), TypeError,
         r"^trades column 'time' must hold datetimes, got dtype (str|object) such as '2020-01-02 09:30:10-05:00'; convert it with pd\.to_datetime\.$"),
        (lambda t, q: (t.assign(time=t["time"].where(t.index != 1)), q), ValueError, r"^trades column 'time' has NaT at row 1; every row needs a time\.$"),
        (lambda t, q: (t.assign(ticker=["XYZ", None, "XYZ"]), q), ValueError, r"^trades column 'ticker' has (None|nan) at row 1; labels must not be missing\.$"),
        (lambda t, q: (t.assign(sign=[1.0, np.nan, 1.0]), q), ValueError, r"^trades column 'sign' has nan at row 1; values must be finite\.$"),
        (lambda t, q: (t.assign(sign=[1, 2, 1]), q), ValueError,
         r"^trades column 'sign' has 2\.0 for XYZ at row 1; must be \+1 \(buyer-initiated\), -1 \(seller-initiated\) or 0 \(unknown\)\.$"),
        (lambda t, q: (t.assign(price=t["price"].astype(str)), q), TypeError,
         r"^trades column 'price' must be numeric, got text \(dtype str\) such as '10\.1'\.$"),
        (lambda t, q: (t.assign(size=[100, 0, 10]), q), ValueError, r"^trades column 'size' has 0\.0 for XYZ at row 1; must be > 0\.$"),
        (lambda t, q: (t, q.assign(bid=[10.0, -10.2])), ValueError,
         r"^quotes column 'bid' has -10\.2 for XYZ at row 1; must be > 0 and below 999999 dollars \(NaN for an empty side\)\.$"),
        (lambda t, q: (t, q.assign(ask=[999999.9999, 10.4])), ValueError, r"^quotes column 'ask' has 999999\.9999 for XYZ at row 0; must be > 0"),
        (lambda t, q: (t, q.assign(bid=[10.0, 10.5])), ValueError, r"^quotes are crossed for XYZ at row 1: bid 10\.5 > ask 10\.4\.$"),
        (lambda t, q: (t, q.assign(bid=np.nan)), ValueError, r"^quotes for XYZ on 2020-01-02 have no two-sided quote\.$"),
        (lambda t, q: (t, q.assign(time=q["time"] + pd.Timedelta(days=1))), ValueError, r"^quotes for XYZ on 2020-01-02 have no two-sided quote\.$"),
    ],
)
def test_make_bars_rejects_bad_input(make, exc, match):
    trades, quotes = make(*_small_trades_quotes())
    with pytest.raises(exc, match=match):
        ex.make_bars(trades, quotes)


def test_make_bars_quote_only_ticker_and_time_zone():
    trades, quotes = _small_trades_quotes()
    both = pd.concat([quotes, quotes.assign(ticker="QQQ")], ignore_index=True)
    bars = ex.make_bars(trades, both)
    # a ticker with quotes but no trades still gets every bin: zero volume, prices from the mid
    q = bars[bars["ticker"] == "QQQ"]
    assert len(q) == 390 and q["volume"].sum() == 0 and q["carried"].all()
    np.testing.assert_allclose(q["mid"], bars.loc[bars["ticker"] == "XYZ", "mid"])
    assert q["close"].notna().all()
    # trades stamped in UTC land in the same New York bins
    utc = ex.make_bars(trades.assign(time=trades["time"].dt.tz_convert("UTC")), quotes)
    pd.testing.assert_frame_equal(utc, ex.make_bars(trades, quotes))
    assert str(utc["time"].dt.tz) == "America/New_York"


@pytest.mark.parametrize(
    "fn", [lambda b: ex.volume_profile(b, "30min"), ex.daily_stats], ids=["volume_profile", "daily_stats"]
)
@pytest.mark.parametrize(
    "change, exc, match",
    [
        (lambda b: b.assign(time=b["time"].dt.tz_localize(None)), ValueError, r"^bars column 'time' is timezone-naive"),
        (lambda b: b.assign(time=b["time"].astype(str)), TypeError, r"^bars column 'time' must hold datetimes, got dtype"),
        (lambda b: b.assign(time=b["time"].where(b.index != 2)), ValueError, r"^bars column 'time' has NaT at row 2; every row needs a time\.$"),
        (lambda b: b.assign(ticker=np.where(b.index == 4, None, b["ticker"])), ValueError, r"^bars column 'ticker' has (None|nan) at row 4; labels must not be missing\.$"),
        (lambda b: b.assign(volume=b["volume"].astype(str)), TypeError, r"^bars column 'volume' must be numeric, got text \(dtype str\) such as '10'\.$"),
        (lambda b: pd.concat([b, b.iloc[[3]]]), ValueError,
         r"^bars has a duplicate bar: ticker 'A' at 2012-06-21 11:00:00-04:00 appears more than once \(row 3\)\.$"),
    ],
)
def test_profile_and_daily_stats_reject_bad_bars(fn, change, exc, match):
    bars = _toy_bars({"A": [10, 5, 0, 3, 1, 0, 0, 2, 4, 6, 8, 9, 20]}).assign(
        mid=100.0, mid_open=100.0, mid_close=np.linspace(100, 101, 13), spread=0.01
    )
    fn(bars)  # the clean frame passes
    with pytest.raises(exc, match=match):
        fn(change(bars))


def test_volume_profile_refuses_bars_coarser_than_freq():
    b30 = ex.load_bars("30min")
    with pytest.raises(ValueError, match=r"^freq == '5min' is not a multiple of the bars' length \(30min\); a volume profile cannot split"):
        ex.volume_profile(b30, "5min")
    with pytest.raises(ValueError, match=r"^freq == '10min' is not a multiple of the bars' length \(30min\)"):
        ex.profile_forecast(b30, "10min")
    # coarser profiles of finer bars are fine, and sparse bars (empty bins dropped) are not flagged
    ex.volume_profile(b30, "30min")
    assert ex.volume_profile(b30, "390min").tolist() == [1.0]
    ex.volume_profile(_toy_bars({"A": [10] + [0] * 11 + [10]}).query("volume > 0"), "30min")


def test_daily_stats_needs_sorted_bars_and_sane_prices():
    bars = ex.load_bars("1min", ["AMZN", "GOOG"])
    shuffled = bars.iloc[::-1]
    with pytest.raises(ValueError, match=r"^bars column 'time' is unsorted for ticker 'GOOG': 2012-06-21 15:59:00-04:00 then "
                                         r"2012-06-21 15:58:00-04:00 at row 778; sort the bars by ticker and time\.$"):
        ex.daily_stats(shuffled)
    # tickers interleaved but each in time order is fine (sigma uses each ticker's own order)
    inter = bars.sort_values(["time", "ticker"])
    pd.testing.assert_frame_equal(ex.daily_stats(inter), ex.daily_stats(bars))
    with pytest.raises(ValueError, match=r"^bars column 'mid_open' has nan at row 0; values must be finite and > 0\.0\.$"):
        ex.daily_stats(bars.assign(mid_open=np.where(bars.index == 0, np.nan, bars["mid_open"])))
    with pytest.raises(ValueError, match=r"^bars column 'spread' has -0\.01 at row 5; values must be finite and >= 0\.0\.$"):
        ex.daily_stats(bars.assign(spread=np.where(bars.index == 5, -0.01, bars["spread"])))
    with pytest.raises(ValueError, match=r"^bars column 'mid' has 0\.0 at row 7; values must be finite and > 0\.0\.$"):
        ex.daily_stats(bars.assign(mid=np.where(bars.index == 7, 0.0, bars["mid"])))


def test_daily_stats_hand_worked():
    # three bars, mid_close 100 -> 101 -> 100: returns log(1.01), log(100/101)
    bars = _toy_bars({"A": [1, 2, 3]}).assign(mid=100.0, mid_open=[99.5, 100.0, 101.0], mid_close=[100.0, 101.0, 100.0], spread=[0.02, 0.04, 0.06])
    st = ex.daily_stats(bars)
    r = np.log([101 / 100, 100 / 101])
    assert st.loc["A", "sigma"] == pytest.approx(np.std(r, ddof=1) * np.sqrt(3))
    assert st.loc["A", "daily_volume"] == 6 and st.loc["A", "open_mid"] == 99.5 and st.loc["A", "close_mid"] == 100.0
    assert st.loc["A", "mean_spread"] == pytest.approx(0.04)


# ---------------------------------------------------------------------------
# review: read_lobster on damaged files
# ---------------------------------------------------------------------------


def _damaged(tmp_path, messages=MESSAGES, book=BOOK, header=False):
    m = _write(tmp_path / "XYZ_2020-01-02_34200000_57600000_message_2.csv", messages, MSG_HEADER if header else None)
    b = _write(tmp_path / "XYZ_2020-01-02_34200000_57600000_orderbook_2.csv", book, BOOK_HEADER if header else None)
    return m, b


def _set(rows, i, j, value):
    rows = [list(r) for r in rows]
    rows[i][j] = value
    return rows


@pytest.mark.parametrize(
    "messages, book, match",
    [
        (_set(MESSAGES, 3, 3, float("nan")), BOOK, r"^message file \S+ column 'Size' has nan at row 3; LOBSTER files hold only numbers\.$"),
        (_set(MESSAGES, 2, 5, 0), BOOK, r"^message file \S+ column 'Direction' has 0\.0 at row 2; must be 1 \(buy\) or -1 \(sell\)\.$"),
        (_set(MESSAGES, 1, 3, -200), BOOK, r"^message file \S+ column 'Size' has -200\.0 at row 1; must be >= 0\.$"),
        (_set(MESSAGES, 0, 0, 90000.0), BOOK, r"^message file \S+ column 'Time' has 90000\.0 at row 0; must be seconds after midnight in \[0, 86400\)\.$"),
        (MESSAGES, _set(BOOK, 4, 2, -1000000), r"^orderbook file \S+ column 'bid_price_1' has -1000000\.0 at row 4; must be > 0 \(dollars x 10,000\) "
                                               r"or LOBSTER's empty-side value -9999999999\.$"),
        (MESSAGES, _set(BOOK, 4, 1, -5), r"^orderbook file \S+ column 'ask_size_1' has -5\.0 at row 4; must be >= 0\.$"),
        (MESSAGES, _set(BOOK, 6, 5, float("nan")), r"^orderbook file \S+ column 'ask_size_2' has nan at row 6; LOBSTER files hold only numbers\.$"),
        (MESSAGES, _set(BOOK, 6, 5, "x"), r"^orderbook file \S+ column 'ask_size_2' has 'x' at row 6; LOBSTER files hold only numbers\.$"),
    ],
)
def test_read_lobster_rejects_damaged_files(tmp_path, messages, book, match):
    with pytest.raises(ValueError, match=match):
        ex.read_lobster(*_damaged(tmp_path, messages, book))


def test_read_lobster_rejects_empty_files_and_bad_dates(tmp_path):
    m, b = _damaged(tmp_path)
    empty = tmp_path / "XYZ_2020-01-02_0_0_message_2.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"^message file XYZ_2020-01-02_0_0_message_2\.csv is empty\.$"):
        ex.read_lobster(empty, b)
    header_only = tmp_path / "XYZ_2020-01-02_1_1_message_2.csv"
    header_only.write_text(MSG_HEADER + "\n")
    with pytest.raises(ValueError, match=r"^message file XYZ_2020-01-02_1_1_message_2\.csv is empty\.$"):
        ex.read_lobster(header_only, b)
    for bad in ["not a date", "June 32nd", "2020-01-02 10:00", "01/02/2020"]:  # pandas reads 'June 32nd' as 2032-06-01
        with pytest.raises(ValueError, match=rf"^date == '{re.escape(bad)}', must be a calendar date such as '2012-06-21'\.$"):
            ex.read_lobster(m, b, date=bad)
    with pytest.raises(ValueError, match=r"^date == Timestamp\('2020-01-02 10:00:00'\), must be a calendar date such as '2012-06-21' \(no time, no time zone\)\.$"):
        ex.read_lobster(m, b, date=pd.Timestamp("2020-01-02 10:00"))
    assert ex.read_lobster(m, b, date=pd.Timestamp("2021-03-04").date()).date == "2021-03-04"


def test_read_lobster_several_levels_with_header(tmp_path):
    # five levels, header row: the extra levels are carried and empty ones are NaN with size 0
    levels = 5
    book = [r + (EMPTY_ASK, 0, EMPTY_BID, 0) * 3 for r in BOOK]
    header = ",".join(f"{s}{k}" for k in range(1, levels + 1) for s in ("AskPrice", "AskSize", "BidPrice", "BidSize"))
    m = _write(tmp_path / f"XYZ_2020-01-02_0_0_message_{levels}.csv", MESSAGES, MSG_HEADER)
    b = _write(tmp_path / f"XYZ_2020-01-02_0_0_orderbook_{levels}.csv", book, header)
    day = ex.read_lobster(m, b)
    assert day.levels == 5
    assert [c for c in day.events.columns if c.endswith("_5")] == ["ask_price_5", "ask_size_5", "bid_price_5", "bid_size_5"]
    assert day.events["ask_price_5"].isna().all() and (day.events["bid_size_5"] == 0).all()
    two = ex.read_lobster(*_pair(tmp_path))
    pd.testing.assert_frame_equal(day.trades, two.trades)
    pd.testing.assert_frame_equal(day.quotes, two.quotes)


# ---------------------------------------------------------------------------
# review: docstring examples are tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["execlab.data", "execlab.schedules"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    import pkgutil

    mod = importlib.import_module(module)
    mods = [mod]
    if hasattr(mod, "__path__"):  # a package: its code lives in the submodules
        mods += [importlib.import_module(f"{module}.{m.name}") for m in pkgutil.iter_modules(mod.__path__)]
    attempted = 0
    for m in mods:
        result = doctest.testmod(m, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, m.__name__
        attempted += result.attempted
    assert attempted > 0


# ---------------------------------------------------------------------------
# Defaults agree: a profile has the bars' own length unless told otherwise
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("freq, n_bins", [("1min", 390), ("5min", 78), ("30min", 13)])
def test_volume_profile_defaults_to_the_bar_length(freq, n_bins):
    bars = ex.load_bars(freq)
    p = ex.volume_profile(bars)
    assert len(p) == n_bins and p.attrs["bin_duration"] == pd.Timedelta(freq)
    pd.testing.assert_series_equal(p, ex.volume_profile(bars, freq))
    fc = ex.profile_forecast(bars)
    assert fc.profiles.groupby("ticker").size().tolist() == [n_bins] * 3


def test_volume_profile_bar_length_ignores_missing_bars():
    # Zero-volume bars left out of the frame do not change the bar length read off the times.
    bars = ex.load_bars("5min")
    p = ex.volume_profile(bars[bars["volume"] > 0].iloc[1:])
    assert len(p) == 78 and p.attrs["bin_duration"] == pd.Timedelta("5min")


def test_volume_profile_needs_whole_seconds_to_read_the_bar_length():
    bars = ex.load_bars("30min", "AAPL")
    bars.loc[1, "time"] += pd.Timedelta("1ms")
    with pytest.raises(ValueError, match=r"^bars column 'time' is not on a grid of whole seconds from 09:30 .*pass freq="):
        ex.volume_profile(bars)


def test_load_bars_messages_echo_what_was_typed():
    with pytest.raises(ValueError, match=r"^freq == '1D', must divide the 6\.5-hour session \(390 minutes\) evenly; "
                                         r"for one bar per session use '390min'\.$"):
        ex.load_bars("1D")
    with pytest.raises(ValueError, match=r"^freq == 'AAPL', must be a bar length such as '1min' or '5min'; the tickers "
                                         r"come second, as in load_bars\('1min', 'AAPL'\)\.$"):
        ex.load_bars("AAPL")
    with pytest.raises(ValueError, match=r"^freq == 'goog', .* as in load_bars\('1min', 'GOOG'\)\.$"):
        ex.load_bars("goog")
    with pytest.raises(ValueError, match=r"^freq == '1D', must divide"):
        ex.volume_profile(ex.load_bars("30min"), "1D")
