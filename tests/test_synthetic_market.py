"""The synthetic LOBSTER market: files LOBSTER's readers accept, a book that adds up, known truth."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from execlab.data import make_bars, read_lobster
from execlab.synthetic import SyntheticMarket, lobster_market

OPEN_S, CLOSE_S = 34_200, 57_600


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> SyntheticMarket:
    d = tmp_path_factory.mktemp("synthetic")
    return lobster_market(
        d, tickers=("SYNA", "SYNB"), sessions=5, seed=11, half_days={"2024-01-04": "13:00"}, events_per_session=3000
    )


def _raw(row: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    msg = pd.read_csv(row["message_file"], header=None).to_numpy()
    book = pd.read_csv(row["orderbook_file"], header=None).to_numpy()
    return msg, book


def _book_violations(msg: np.ndarray, book: np.ndarray) -> dict[str, int]:
    """Count rows breaking LOBSTER's level-1 bookkeeping (0 everywhere = consistent)."""
    typ, oid, size, price, d = msg[:, 1], msg[:, 2], msg[:, 3], msg[:, 4], msg[:, 5]
    ask, ask_size, bid, bid_size = book.T
    # The side the message acts on: bids for direction 1, asks for direction -1.
    p_after = np.where(d == 1, bid, ask)[1:]
    q_after = np.where(d == 1, bid_size, ask_size)[1:]
    p_before = np.where(d[1:] == 1, bid[:-1], ask[:-1])
    q_before = np.where(d[1:] == 1, bid_size[:-1], ask_size[:-1])
    o_after = np.where(d == 1, ask, bid)[1:]
    o_before = np.where(d[1:] == 1, ask[:-1], bid[:-1])
    oq_after = np.where(d == 1, ask_size, bid_size)[1:]
    oq_before = np.where(d[1:] == 1, ask_size[:-1], bid_size[:-1])
    t, px, sz = typ[1:], price[1:], size[1:]
    worse = np.where(d[1:] == 1, p_after < px, p_after > px)
    add = t == 1
    remove = np.isin(t, (2, 3, 4))
    hidden = t == 5
    out = {
        # type 1: the new order sits at the best, which grew by exactly its size
        "add_not_at_best": int((add & (p_after != px)).sum()),
        "add_size": int((add & (p_after == px) & (q_after - np.where(p_before == px, q_before, 0) != sz)).sum()),
        # types 2-4 act on the best level: it shrinks by the size, or empties and the next (worse) level shows
        "remove_not_at_best": int((remove & (p_before != px)).sum()),
        "remove_size_stays": int((remove & (p_after == px) & (q_before - q_after != sz)).sum()),
        "remove_size_empties": int((remove & (p_after != px) & ((q_before != sz) | ~worse)).sum()),
        # types 1-4 never touch the other side; type 5 touches nothing
        "other_side": int(((add | remove) & ((o_after != o_before) | (oq_after != oq_before))).sum()),
        "hidden_changes_book": int((hidden[:, None] & (book[1:] != book[:-1])).any(axis=1).sum()),
        "crossed": int((bid >= ask).sum()),
        "nonpositive_size": int(((ask_size <= 0) | (bid_size <= 0) | (size <= 0)).sum()),
    }
    # type 5 executions trade inside the spread (or at the touch)
    h = np.flatnonzero(typ == 5)
    h = h[h > 0]
    out["hidden_outside_spread"] = int(((price[h] < bid[h - 1]) | (price[h] > ask[h - 1])).sum())
    # type 4 executions happen at the best price on the resting side
    e = np.flatnonzero(typ == 4)
    e = e[e > 0]
    resting = np.where(d[e] == 1, bid[e - 1], ask[e - 1])
    out["execution_not_at_best"] = int((price[e] != resting).sum())
    # order ids: new ids are unique; a removal refers to an order added earlier or placed before the file
    new_ids = oid[typ == 1]
    out["duplicate_new_id"] = len(new_ids) - len(np.unique(new_ids))
    first_add = dict(zip(oid[typ == 1][::-1].tolist(), np.flatnonzero(typ == 1)[::-1].tolist()))
    rem = np.flatnonzero(remove)
    rem += 1
    bad_ref = [i for i in rem.tolist() if oid[i] in first_add and first_add[oid[i]] > i]
    out["removal_before_add"] = len(bad_ref)
    # no order loses more shares than it had, and nothing touches an order after its delete
    added = pd.Series(size[typ == 1], index=oid[typ == 1])
    removed = pd.Series(size[np.isin(typ, (2, 3, 4))]).groupby(oid[np.isin(typ, (2, 3, 4))]).sum()
    both = removed.index.intersection(added.index)
    out["over_removed"] = int((removed[both] > added[both]).sum())
    deleted = np.flatnonzero(typ == 3)
    last_touch = pd.Series(np.arange(len(typ))[np.isin(typ, (2, 3, 4))]).groupby(oid[np.isin(typ, (2, 3, 4))]).max()
    out["touched_after_delete"] = int((last_touch[oid[deleted]].to_numpy() != deleted).sum())
    return out


# ----------------------------------------------------------------------------------- reading


def test_every_file_parses_and_counts_match(small):
    assert len(small.files) == 10
    for _, row in small.files.iterrows():
        day = read_lobster(row["message_file"], row["orderbook_file"])
        assert day.ticker == row["ticker"] and day.date == row["date"] and day.levels == 1
        assert len(day.events) == row["events"]
        assert len(day.trades) == row["trades"] > 0
        assert int(day.trades["size"].sum()) == row["volume"]
        assert day.halts.empty


def test_file_names_and_format_are_lobsters(small):
    row = small.files.iloc[0]
    name = Path(row["message_file"]).name
    assert name == "SYNA_2024-01-02_34200000_57600000_message_1.csv"
    assert Path(row["orderbook_file"]).name == "SYNA_2024-01-02_34200000_57600000_orderbook_1.csv"
    first = Path(row["message_file"]).read_text().splitlines()[:3]
    for line in first:
        cells = line.split(",")
        assert len(cells) == 6
        seconds, rest = cells[0], cells[1:]
        whole, _, frac = seconds.partition(".")
        assert OPEN_S <= int(whole) < CLOSE_S and len(frac) <= 9
        assert all(c.lstrip("-").isdigit() for c in rest)
    for line in Path(row["orderbook_file"]).read_text().splitlines()[:3]:
        assert len(line.split(",")) == 4 and all(c.isdigit() for c in line.split(","))


def test_book_is_consistent_on_every_row(small):
    for _, row in small.files.iterrows():
        msg, book = _raw(row)
        assert _book_violations(msg, book) == dict.fromkeys(_book_violations(msg, book), 0), row["message_file"]
        types = set(np.unique(msg[:, 1]).astype(int).tolist())
        assert {1, 3, 4, 5} <= types <= {1, 2, 3, 4, 5}


def test_checker_catches_a_broken_book(small):
    msg, book = _raw(small.files.iloc[0])
    i = int(np.flatnonzero(msg[:, 1] == 1)[5])
    bad = book.copy()
    col = 3 if msg[i, 5] == 1 else 1
    bad[i:, col] += 1  # one share too many at the touch from row i on
    assert sum(_book_violations(msg, bad).values()) > 0
    crossed = book.copy()
    crossed[i, 2] = crossed[i, 0]
    assert _book_violations(msg, crossed)["crossed"] == 1


def test_times_sorted_and_inside_the_session(small):
    for _, row in small.files.iterrows():
        secs = pd.read_csv(row["message_file"], header=None, usecols=[0]).to_numpy().ravel()
        close = CLOSE_S if row["close"] == "16:00" else 13 * 3600
        assert (np.diff(secs) >= 0).all()
        assert secs[0] >= OPEN_S and secs[-1] <= close


def test_prices_are_plausible_and_on_the_tick_grid(small):
    for _, row in small.files.iterrows():
        msg, book = _raw(row)
        assert (book[:, [0, 2]] % 100 == 0).all() and (msg[:, 4] % 100 == 0).all()
        mid = (book[:, 0] + book[:, 2]) / 2e4
        assert 10 < mid.min() and mid.max() < 400
        spread = (book[:, 0] - book[:, 2]) / 100
        assert spread.min() >= 1 and 1 <= np.median(spread) <= 8
        assert len(np.unique(spread)) >= 3  # the spread varies


def test_bars_are_sensible_for_every_session(small):
    for _, row in small.files.iterrows():
        day = read_lobster(row["message_file"], row["orderbook_file"])
        bars = make_bars(day.trades, day.quotes, "1min")
        assert len(bars) == 390
        assert int(bars["volume"].sum()) == row["volume"]
        open_minutes = 390 if row["close"] == "16:00" else 210
        traded = (bars["volume"].to_numpy()[:open_minutes] > 0).mean()
        assert traded > 0.5, (row["message_file"], traded)  # trades in most minutes
        assert (bars["volume"].to_numpy()[open_minutes:] == 0).all()
        assert bars[["open", "high", "low", "close", "mid", "spread"]].notna().all().all()
        assert (bars["spread"] > 0).all()


# ----------------------------------------------------------------------------- determinism


def _digest(market: SyntheticMarket) -> list[str]:
    out = []
    for _, row in market.files.iterrows():
        for col in ("message_file", "orderbook_file"):
            out.append(hashlib.sha256(Path(row[col]).read_bytes()).hexdigest())
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    kw = dict(tickers=("SYNA",), sessions=2, events_per_session=500)
    a = lobster_market(tmp_path / "a", seed=3, **kw)
    b = lobster_market(tmp_path / "b", seed=np.random.default_rng(3), **kw)
    c = lobster_market(tmp_path / "c", seed=4, **kw)
    assert _digest(a) == _digest(b)
    assert not set(_digest(a)) & set(_digest(c))
    pd.testing.assert_frame_equal(a.volume_profile, b.volume_profile)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)


# ------------------------------------------------------------------------- the known truth


def test_volume_is_u_shaped_and_varies_from_day_to_day(small):
    for ticker in ("SYNA", "SYNB"):
        rows = small.files[(small.files["ticker"] == ticker) & (small.files["close"] == "16:00")]
        vols = []
        for _, row in rows.iterrows():
            day = read_lobster(row["message_file"], row["orderbook_file"])
            vols.append(make_bars(day.trades, day.quotes, "1min")["volume"].to_numpy())
        v = np.mean(vols, axis=0)
        edges = np.r_[v[:30], v[-30:]].mean()
        assert edges > 1.5 * v[120:270].mean()
        assert rows["volume"].nunique() == len(rows)
        assert rows["volume"].std() / rows["volume"].mean() > 0.05


def test_true_profile_and_parameters(small):
    prof = small.volume_profile
    assert prof.shape == (10, 78) and list(prof.index.names) == ["ticker", "date"]
    np.testing.assert_allclose(prof.sum(axis=1), 1.0)
    assert prof.columns[0] == "09:30" and prof.columns[-1] == "15:55"
    half = prof.loc[("SYNA", "2024-01-04")]
    assert (half.iloc[42:] == 0).all() and (half.iloc[:42] > 0).all()  # 13:00 is bin 42
    full = prof.xs("SYNA").drop("2024-01-04")
    assert full.iloc[:, [0, -1]].min().min() > full.iloc[:, 30:50].max().max() * 0.8
    s = small.sessions
    assert list(s.columns[:5]) == ["ticker", "date", "close", "daily_volume", "volatility"]
    assert ((s["volatility"] > 0.005) & (s["volatility"] < 0.06)).all()
    assert ((s["open_price"] > 15) & (s["open_price"] < 300)).all()
    assert small.tick_size == 0.01 and small.impact == 3000.0
    # the realized volume scatters around the true expected volume
    ratio = small.files["volume"].to_numpy() / s["daily_volume"].to_numpy()
    assert 0.7 < np.median(ratio) < 1.3


def test_trailing_profile_beats_flat_but_is_not_perfect(tmp_path):
    mkt = lobster_market(tmp_path, tickers=("SYNA",), sessions=12, seed=5, events_per_session=3000)
    realized = []
    for _, row in mkt.files.iterrows():
        day = read_lobster(row["message_file"], row["orderbook_file"])
        v = make_bars(day.trades, day.quotes, "5min")["volume"].to_numpy(dtype=float)
        realized.append(v / v.sum())
    realized = np.array(realized)
    flat = np.full(78, 1 / 78)
    err_trailing, err_flat = [], []
    for d in range(5, len(realized)):
        forecast = realized[d - 5 : d].mean(axis=0)
        err_trailing.append(0.5 * np.abs(forecast - realized[d]).sum())
        err_flat.append(0.5 * np.abs(flat - realized[d]).sum())
    assert np.mean(err_trailing) < 0.85 * np.mean(err_flat)
    assert np.mean(err_trailing) > 0.05


def test_mid_moves_with_signed_order_flow(small):
    x, y = [], []
    for _, row in small.files.iterrows():
        day = read_lobster(row["message_file"], row["orderbook_file"])
        bars = make_bars(day.trades, day.quotes, "5min")
        bars = bars[bars["volume"] > 0]
        true_v = small.sessions.set_index(["ticker", "date"]).loc[(row["ticker"], row["date"]), "daily_volume"]
        x.append(bars["signed_volume"].to_numpy() / true_v)
        y.append(1e4 * np.log(bars["mid_close"].to_numpy() / bars["mid_open"].to_numpy()))
    x, y = np.concatenate(x), np.concatenate(y)
    slope = np.polyfit(x, y, 1)[0]
    assert 0.5 * small.impact < slope < 1.5 * small.impact


def test_half_day_ends_at_the_early_close(small):
    row = small.files[(small.files["ticker"] == "SYNB") & (small.files["date"] == "2024-01-04")].iloc[0]
    assert row["close"] == "13:00"
    assert Path(row["message_file"]).name == "SYNB_2024-01-04_34200000_46800000_message_1.csv"
    assert Path(row["orderbook_file"]).name == "SYNB_2024-01-04_34200000_46800000_orderbook_1.csv"
    day = read_lobster(row["message_file"], row["orderbook_file"])
    offset = (day.events["time"] - day.events["time"].dt.normalize()).dt.total_seconds()
    assert offset.max() <= 13 * 3600 and offset.max() > 12.5 * 3600
    others = small.files[small.files["date"] != "2024-01-04"]
    assert others["message_file"].str.contains("_34200000_57600000_message_1.csv").all()


def test_sessions_are_weekdays(tmp_path):
    mkt = lobster_market(tmp_path, tickers=("SYNC",), sessions=6, start="2024-01-05", seed=0, events_per_session=200)
    assert list(mkt.files["date"]) == ["2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12"]


def test_says_it_is_synthetic(small):
    text = repr(small)
    assert "SYNTHETIC" in text and "\n" not in text
    assert small.synthetic is True
    assert "SYNTHETIC" in lobster_market.__doc__
    summary = small.summary()
    assert list(summary.index) == ["SYNA", "SYNB"] and (summary["sessions"] == 5).all()
    with pytest.raises(AttributeError):
        small.impact = 1.0  # frozen


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sessions": 0}, r"sessions == 0, must be >= 1"),
        ({"sessions": -3}, r"sessions == -3, must be >= 1"),
        ({"tickers": ()}, r"tickers == \(\), must hold at least one"),
        ({"tickers": []}, r"tickers == \[\], must hold at least one"),
        ({"tickers": ("SYN_A",)}, r"tickers has 'SYN_A'"),
        ({"tickers": ("SYNA", "SYNA")}, r"tickers has 'SYNA' more than once"),
        ({"half_days": {"2024-07-04": "13:00"}}, r"half_days has date '2024-07-04', which is not one of the 3 sessions"),
        ({"half_days": {"2024-01-06": "13:00"}}, r"half_days has date '2024-01-06'"),  # a Saturday
        ({"half_days": {"2024-01-03": "17:00"}}, r"half_days\['2024-01-03'\] == '17:00'"),
        ({"half_days": {"2024-01-03": "lunch"}}, r"half_days\['2024-01-03'\] == 'lunch'"),
        ({"half_days": {"2024-01-03": "13:02"}}, r"half_days\['2024-01-03'\] == '13:02'"),
        ({"half_days": ["2024-01-03"]}, r"half_days == \['2024-01-03'\]"),
        ({"start": "not a date"}, r"start == 'not a date'"),
        ({"events_per_session": 10}, r"events_per_session == 10, must be >= 100"),
        ({"trade_fraction": 1.5}, r"trade_fraction == 1.5, must be < 1"),
        ({"impact": -1.0}, r"impact == -1.0, must be >= 0"),
        ({"tick_size": 0.00005}, r"tick_size == 5e-05, must be a positive multiple of 0.0001"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(tmp_path, kwargs, match):
    args = {"sessions": 3, "seed": 0, "events_per_session": 200, **kwargs}
    with pytest.raises(ValueError, match=match):
        lobster_market(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_directory_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "taken.csv"
    f.write_text("x")
    with pytest.raises(ValueError, match=r"directory == '.*taken\.csv' is a file"):
        lobster_market(f, sessions=1, seed=0)


def test_bad_seed_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match=r"seed must be an int, a numpy.random.Generator or None, got str"):
        lobster_market(tmp_path, sessions=1, seed="42")


# ----------------------------------------------------------------------------- default size


def test_default_size_is_fast_and_complete(tmp_path):
    t0 = time.perf_counter()
    mkt = lobster_market(tmp_path, seed=2024)
    elapsed = time.perf_counter() - t0
    assert len(mkt.files) == 180 and mkt.volume_profile.shape == (180, 78)
    assert len(list(tmp_path.glob("*_message_1.csv"))) == 180
    assert len(list(tmp_path.glob("*_orderbook_1.csv"))) == 180
    assert (mkt.files["trades"] > 300).all()
    assert elapsed < 30  # generous: the target is a few seconds on two cores
    for _, row in mkt.files.iloc[[0, 77, 179]].iterrows():
        msg, book = _raw(row)
        assert sum(_book_violations(msg, book).values()) == 0
