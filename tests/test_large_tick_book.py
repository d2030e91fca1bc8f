"""The SYNTHETIC large-tick book: LOBSTER's level-1 files, a book that adds up row by row, queues that matter."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execlab.data import read_lobster
from execlab.replay import EventBook, replay
from execlab.synthetic import LargeTickBook, large_tick_book

OPEN_S, CLOSE_S = 34_200, 57_600
TICK = 100  # one cent in LOBSTER's units (dollars x 10,000)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> LargeTickBook:
    """A full default day: 200,000 events."""
    return large_tick_book(tmp_path_factory.mktemp("large_tick"), seed=7)


@pytest.fixture(scope="module")
def files(day) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _read(day)


@pytest.fixture(scope="module")
def book(day) -> EventBook:
    return EventBook.from_lobster(day.message_file, day.orderbook_file, tick_size=0.01)


def _read(res: LargeTickBook) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (seconds), the other message columns (int64) and the book (int64), straight from the text."""
    msg = pd.read_csv(res.message_file, header=None)
    ob = pd.read_csv(res.orderbook_file, header=None)
    return msg[0].to_numpy(), msg.iloc[:, 1:].to_numpy(np.int64), ob.to_numpy(np.int64)


def _accounting_faults(msg: np.ndarray, ob: np.ndarray, tick: int) -> dict[str, int]:
    """Rows breaking LOBSTER's level-1 bookkeeping, by rule (all 0 = consistent)."""
    typ, size, price, d = msg[:, 0], msg[:, 2], msg[:, 3], msg[:, 4]
    ask, ask_size, bid, bid_size = ob.T
    t, px, sz, dd = typ[1:], price[1:], size[1:], d[1:]
    buy = dd == 1
    p_before, p_after = np.where(buy, bid[:-1], ask[:-1]), np.where(buy, bid[1:], ask[1:])
    q_before, q_after = np.where(buy, bid_size[:-1], ask_size[:-1]), np.where(buy, bid_size[1:], ask_size[1:])
    o_before, o_after = np.where(buy, ask[:-1], bid[:-1]), np.where(buy, ask[1:], bid[1:])
    oq_before, oq_after = np.where(buy, ask_size[:-1], bid_size[:-1]), np.where(buy, ask_size[1:], bid_size[1:])
    add, remove, hidden = t == 1, np.isin(t, (2, 3, 4)), t == 5
    stays = p_after == px
    one_worse = np.where(buy, p_after == px - tick, p_after == px + tick)
    return {
        # type 1 joins the best, which grows by exactly its size (from 0 when the quote moved to its price)
        "add_not_at_best": int((add & ~stays).sum()),
        "add_size": int((add & stays & (q_after - np.where(p_before == px, q_before, 0) != sz)).sum()),
        # types 2-4 act on the best: it shrinks by exactly the size, or the message empties it
        "remove_not_at_best": int((remove & (p_before != px)).sum()),
        "remove_size": int((remove & stays & (q_before - q_after != sz)).sum()),
        # ... and then the level one tick worse shows (a market order may go on eating it)
        "emptied_wrongly": int((remove & ~stays & ((q_before != sz) | ~one_worse)).sum()),
        # every message leaves the other side alone; a hidden execution touches nothing
        "other_side": int(((add | remove) & ((o_after != o_before) | (oq_after != oq_before))).sum()),
        "hidden_changes_book": int((hidden[:, None] & (ob[1:] != ob[:-1])).any(axis=1).sum()),
        "hidden_not_at_best": int((hidden & (p_before != px)).sum()),
        "hidden_id_not_0": int((hidden & (msg[1:, 1] != 0)).sum()),
        "empty_side": int(((ask_size <= 0) | (bid_size <= 0)).sum()),
        "price_off_tick": int(((price % tick != 0) | (ask % tick != 0) | (bid % tick != 0)).sum()),
    }


def _spread_faults(secs: np.ndarray, msg: np.ndarray, ob: np.ndarray, tick: int) -> dict[str, int]:
    """The spread is one tick at every instant: wider only on a row whose message emptied a queue, for zero time."""
    spread = ob[:, 0] - ob[:, 2]
    wide = np.flatnonzero(spread != tick)
    last = len(spread) - 1
    typ, price, d = msg[:, 0], msg[:, 3], msg[:, 4]
    best_after = np.where(d == 1, ob[:, 2], ob[:, 0])
    emptied = np.isin(typ, (2, 3, 4)) & (best_after != price)
    # a wide row either empties a queue or continues the same market order's walk
    cause = np.zeros(len(wide), dtype=bool)
    for j, r in enumerate(wide.tolist()):
        k = r
        while k > 0 and not emptied[k] and typ[k] == 4 and secs[k - 1] == secs[k]:
            k -= 1
        cause[j] = bool(emptied[k])
    return {
        "spread_below_one_tick": int((spread < tick).sum()),
        "wide_without_cause": int((~cause).sum()),
        "wide_at_the_end": int((wide == last).sum()),
        "wide_for_some_time": int((secs[np.minimum(wide + 1, last)] != secs[wide]).sum()),
    }


def _reference_faults(msg: np.ndarray, ob: np.ndarray) -> dict[str, int]:
    """Orders as the file shows them: every cancel and execution names an order resting there, in FIFO.

    An order the file shows arriving (type 1) is followed by side, price and
    shares; an order it never shows arriving (at the open, or revealed behind
    a quote that moved) must carry an id below every type-1 id and sit at that
    side's best.  Orders on a level that left the best are forgotten, as a
    level-1 file forgets them.
    """
    typ, oid, size, price, d = (msg[:, j].tolist() for j in range(5))
    best = [ob[:, 2].tolist(), ob[:, 0].tolist()]  # after each row: bid, ask
    new_ids = msg[msg[:, 0] == 1, 1]
    first_new = int(new_ids.min()) if len(new_ids) else np.iinfo(np.int64).max
    live: list[dict[int, list[int]]] = [{}, {}]  # per side: id -> [price, shares left]
    gone: set[int] = set()
    faults = dict.fromkeys(("type1_id_reused", "unknown_order", "wrong_side_or_price", "too_many_shares",
                            "delete_not_whole", "not_fifo", "unseen_id_not_older", "touched_after_gone"), 0)
    prev = [best[0][0], best[1][0]]
    for i in range(len(typ)):
        t, o, s, p = typ[i], oid[i], size[i], price[i]
        k = 0 if d[i] == 1 else 1
        if t == 1:
            if o in live[0] or o in live[1] or o in gone:
                faults["type1_id_reused"] += 1
            live[k][o] = [p, s]
        elif t in (2, 3, 4):
            if o in gone:
                faults["touched_after_gone"] += 1
            entry = live[k].get(o)
            if entry is None:
                if o in live[1 - k]:
                    faults["wrong_side_or_price"] += 1
                if o >= first_new:
                    faults["unseen_id_not_older"] += 1
                if i > 0 and p != (best[k][i - 1]):
                    faults["unknown_order"] += 1
            else:
                if entry[0] != p:
                    faults["wrong_side_or_price"] += 1
                if s > entry[1]:
                    faults["too_many_shares"] += 1
                if t == 3 and s != entry[1]:
                    faults["delete_not_whole"] += 1
                if t == 4 and any(x < o for x, e in live[k].items() if e[0] == p):
                    faults["not_fifo"] += 1  # an older order at this price should have traded first
                entry[1] -= s
                if t == 3 or entry[1] <= 0:
                    del live[k][o]
                    gone.add(o)
            if t == 3 and entry is None:
                gone.add(o)
        for side in (0, 1):  # a level that left the best is out of the file's sight
            if best[side][i] != prev[side]:
                prev[side] = best[side][i]
                live[side] = {x: e for x, e in live[side].items() if e[0] == prev[side]}
    return faults


def _all_faults(res: LargeTickBook) -> dict[str, int]:
    secs, msg, ob = _read(res)
    tick = int(round(res.tick_size * 10_000))
    out = _accounting_faults(msg, ob, tick) | _spread_faults(secs, msg, ob, tick) | _reference_faults(msg, ob)
    new_ids = msg[msg[:, 0] == 1, 1]
    out["type1_ids_not_increasing"] = int((np.diff(new_ids) <= 0).sum())
    out["times_decrease"] = int((np.diff(secs) < 0).sum())
    out["outside_session"] = int(((secs < OPEN_S) | (secs >= CLOSE_S)).sum())
    return out


# ---------------------------------------------------------------------------------- the files


def test_files_are_lobsters_level_1(day, files, book):
    assert day.message_file.name == "SYNQ_2024-01-02_34200000_57600000_message_1.csv"
    assert day.orderbook_file.name == "SYNQ_2024-01-02_34200000_57600000_orderbook_1.csv"
    assert (day.directory / "SYNTHETIC.txt").is_file()
    lines = day.message_file.read_text().splitlines()
    assert len(lines) == day.stats["rows"] == len(book) > day.params["events"]
    # no header; seconds after midnight with at most 9 decimals and no trailing zero, then 5 integers
    line = re.compile(r"\d{5}(\.\d{0,8}[1-9])?,[1-5],\d+,\d+,\d+,-?1")
    assert all(line.fullmatch(x) for x in lines[:2000] + lines[-2000:])
    assert all(re.fullmatch(r"\d+,\d+,\d+,\d+", x) for x in day.orderbook_file.read_text().splitlines()[:2000])
    secs, msg, ob = files
    assert {1, 2, 3, 4, 5} == set(np.unique(msg[:, 0]).tolist())
    # the replay's reader holds the same numbers
    np.testing.assert_array_equal(book.type, msg[:, 0])
    np.testing.assert_array_equal(book.order_id, msg[:, 1])
    np.testing.assert_array_equal(book.bid_size[:, 0], ob[:, 3])
    assert book.ticker == "SYNQ" and book.date == "2024-01-02" and book.tick == TICK
    # and so does the bar reader, with every execution
    d = read_lobster(day.message_file, day.orderbook_file)
    assert len(d.trades) == day.stats["executions"] + day.stats["hidden_executions"]
    assert int(d.trades["size"].sum()) == day.stats["volume"]


def test_repr_and_summary_say_synthetic(day):
    assert "SYNTHETIC" in repr(day) and day.synthetic
    s = day.summary()
    assert s.attrs["note"] == "SYNTHETIC data"
    for q in ("add share", "cancel share", "trade share"):
        assert s.loc[q, "value"] == pytest.approx(s.loc[q, "true"], abs=0.005)
    assert s.loc["mean new queue (shares)", "value"] == pytest.approx(5000, rel=0.05)
    assert day.params["add_fraction"] == pytest.approx(1 - 0.14 - 0.40)


def test_the_book_adds_up_on_every_row(day):
    faults = _all_faults(day)
    assert faults == dict.fromkeys(faults, 0)


def test_checks_catch_a_broken_book(files):
    secs, msg, ob = files
    i = int(np.flatnonzero(msg[:, 0] == 1)[10])
    bad = ob.copy()
    bad[i, 3 if msg[i, 4] == 1 else 1] += 100  # a hundred shares too many at the touch on row i
    assert _accounting_faults(msg, bad, TICK)["add_size"] == 1
    wide = ob.copy()
    wide[i, 0] += TICK
    assert _spread_faults(secs, msg, wide, TICK)["wide_without_cause"] == 1
    # An execution of an order nobody placed, or of a newer order while an older one rests: caught.
    seen = set(msg[msg[:, 0] == 1, 1].tolist())
    j = next(r for r in np.flatnonzero(msg[:, 0] == 4).tolist() if msg[r, 1] in seen and r > 1000)
    head_msg, head_ob = msg[:j + 1].copy(), ob[:j + 1]
    head_msg[j, 1] = msg[j, 1] + 10**9
    assert _reference_faults(head_msg, head_ob)["unseen_id_not_older"] == 1
    same = (msg[:j, 0] == 1) & (msg[:j, 3] == msg[j, 3]) & (msg[:j, 4] == msg[j, 4]) & (msg[:j, 1] > msg[j, 1])
    newer = int(msg[np.flatnonzero(same)[-1], 1])  # a later order at the same price, resting behind it
    assert not np.isin(msg[:j, 0], (2, 3, 4))[msg[:j, 1] == newer].any()
    head_msg[j, 1] = newer
    assert _reference_faults(head_msg, head_ob)["not_fifo"] == 1


def test_spread_is_one_tick_at_every_instant(files):
    secs, msg, ob = files
    spread = ob[:, 0] - ob[:, 2]
    held = np.diff(secs, append=float(CLOSE_S))
    assert held[spread != TICK].sum() == 0.0  # time-weighted, the spread is exactly one tick
    assert (spread == TICK).mean() > 0.99


def test_queues_are_long_and_the_price_moves(day, files):
    secs, msg, ob = files
    sizes = np.concatenate([ob[:, 1], ob[:, 3]])
    assert 0.8 * 5000 <= np.median(sizes) <= 1.25 * 5000
    assert day.stats["median_queue"] == np.median(sizes)
    assert 10 <= day.stats["mean_orders"] <= 40  # tens of orders in each queue
    assert 200 <= day.stats["price_moves"] <= 1000
    assert abs(ob[-1, 2] - 200_000) < 200 * TICK  # the bid opened at $20 and wandered, a few dollars at most


# --------------------------------------------------------------------------------- determinism


def _digest(res: LargeTickBook) -> tuple[str, str]:
    return (hashlib.sha256(res.message_file.read_bytes()).hexdigest(),
            hashlib.sha256(res.orderbook_file.read_bytes()).hexdigest())


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = large_tick_book(tmp_path / "a", events=5000, seed=3)
    b = large_tick_book(tmp_path / "b", events=5000, seed=np.random.default_rng(3))
    c = large_tick_book(tmp_path / "c", events=5000, seed=4)
    assert _digest(a) == _digest(b)
    assert not set(_digest(a)) & set(_digest(c))
    assert a.stats == b.stats and a.seed == 3 and b.seed is None


# ------------------------------------------------------------------------- any parameters


sizes = st.tuples(st.integers(1, 5), st.integers(0, 5)).map(lambda t: (100 * t[0], 100 * (t[0] + t[1])))


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    events=st.integers(100, 3000),
    order_size=sizes,
    trade_size=sizes,
    queue_orders=st.floats(1.0, 40.0),
    trade_fraction=st.floats(0.01, 0.6),
    cancel_share=st.floats(0.0, 0.95),
    partial=st.floats(0.0, 1.0),
    hidden=st.floats(0.0, 0.9),
)
def test_the_book_adds_up_for_any_parameters(seed, events, order_size, trade_size, queue_orders, trade_fraction,
                                             cancel_share, partial, hidden):
    mean_queue = queue_orders * (order_size[0] + order_size[1]) / 2
    with tempfile.TemporaryDirectory() as d:
        res = large_tick_book(d, events=events, seed=seed, order_size=order_size, trade_size=trade_size,
                              mean_queue=mean_queue, trade_fraction=trade_fraction,
                              cancel_fraction=cancel_share * (1 - trade_fraction), partial_cancel_fraction=partial,
                              hidden_fraction=hidden)
        faults = _all_faults(res)
        assert faults == dict.fromkeys(faults, 0)
        book = EventBook.from_lobster(res.message_file, res.orderbook_file, tick_size=0.01)
        assert len(book) == res.stats["rows"]
        assert (book.arrival_row[book.type == 1] == np.flatnonzero(book.type == 1)).all()


@pytest.mark.parametrize("tick_size, price", [(0.05, 20.0), (0.0001, 1.5)])
def test_other_ticks(tmp_path, tick_size, price):
    res = large_tick_book(tmp_path, events=3000, seed=1, tick_size=tick_size, price=price, ticker="SYN.Q")
    faults = _all_faults(res)
    assert faults == dict.fromkeys(faults, 0)
    book = EventBook.from_lobster(res.message_file, res.orderbook_file, tick_size=tick_size)
    assert book.bid_price[0, 0] == round(price * 10_000)


# ------------------------------------------------------------------- queue position matters


def _touch_orders(date: str, horizon: str, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    submit = pd.Timestamp(date, tz="America/New_York") + pd.to_timedelta(
        np.sort(rng.uniform(10 * 3600, 15 * 3600 + 50 * 60, n)), unit="s")
    return pd.DataFrame({"side": "BUY", "shares": 100, "submit_time": submit, "order_type": "limit",
                         "offset_ticks": 0, "cancel_time": submit + pd.Timedelta(horizon)})


def _fill_rates(book: EventBook, orders: pd.DataFrame) -> dict[str, float]:
    out = {}
    for q in ("touch", "risk_averse", "probabilistic", "l3_fifo"):
        o = replay(book, orders, queue=q).orders
        out[q] = o["filled"].sum() / o["shares"].sum()
    return out


def test_queue_models_disagree_on_a_large_tick_book(day, book):
    # 200 buy orders of 100 shares joining the bid, cancelled after 15 s: behind ~5,000 shares.
    r = _fill_rates(book, _touch_orders(day.date, "15s"))
    assert r["touch"] > 0.95  # a trade at our price comes within seconds
    assert r["l3_fifo"] < r["touch"] - 0.3  # but most of the queue is still ahead of us
    assert r["risk_averse"] < r["probabilistic"] < r["l3_fifo"]
    assert r["l3_fifo"] - r["risk_averse"] > 0.1  # cancels ahead of us move us up
    # After a minute the queue has turned over; the models still keep their order.
    # (probabilistic and l3_fifo come close: with cancels spread evenly, the expected share of
    # them ahead of us, which the probabilistic model takes, is nearly what FIFO finds).
    r60 = _fill_rates(book, _touch_orders(day.date, "60s"))
    assert r60["risk_averse"] + 0.05 < min(r60["probabilistic"], r60["l3_fifo"])
    assert max(r60["probabilistic"], r60["l3_fifo"]) < r60["touch"]


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, match", [
    ({"events": 50}, r"events == 50, must be >= 100"),
    ({"ticker": "SY_Q"}, r"ticker == 'SY_Q', must be a name of letters"),
    ({"date": "2024-13-01"}, r"date == '2024-13-01', must be a calendar date"),
    ({"tick_size": 0.00015}, r"tick_size == 0.00015, must be a positive multiple of 0.0001"),
    ({"price": 20.005}, r"price == 20.005, must be on the tick grid"),
    ({"price": 0.5}, r"price == 0.5, must be at least 100 ticks"),
    ({"order_size": (100, 250)}, r"order_size\[1\] == 250, must be a whole number of lots"),
    ({"order_size": (500, 100)}, r"order_size\[1\] == 100, must be >= 500"),
    ({"trade_size": 300}, r"trade_size == 300, must be a pair \(low, high\)"),
    ({"mean_queue": 200}, r"mean_queue == 200, must be >= 300.0"),
    ({"trade_fraction": 0.0}, r"trade_fraction == 0.0, must be > 0.0"),
    ({"trade_fraction": 0.5, "cancel_fraction": 0.5}, r"trade_fraction \+ cancel_fraction == 1.0, must be < 1"),
    ({"hidden_fraction": 1.0}, r"hidden_fraction == 1.0, must be < 1.0"),
    ({"partial_cancel_fraction": float("nan")}, r"partial_cancel_fraction == nan, must be finite"),
])
def test_bad_input_names_the_argument(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        large_tick_book(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())  # nothing written


def test_bad_types_name_the_argument(tmp_path):
    with pytest.raises(TypeError, match=r"events == 1000.5, must be an integer"):
        large_tick_book(tmp_path, events=1000.5)
    with pytest.raises(TypeError, match=r"seed must be an int, a numpy.random.Generator or None, got str 'x'"):
        large_tick_book(tmp_path, seed="x")
    f = tmp_path / "a_file"
    f.write_text("")
    with pytest.raises(ValueError, match=r"is a file, must be a directory"):
        large_tick_book(f)


def test_a_bid_driven_to_zero_raises(tmp_path):
    # Short queues, heavy selling and a $1 stock: the quote walks down to nothing.
    with pytest.raises(ValueError, match=r"the bid was driven down to zero ticks"):
        large_tick_book(tmp_path, events=100_000, seed=0, price=1.0, mean_queue=300, trade_size=(500, 500),
                        trade_fraction=0.5, cancel_fraction=0.3, hidden_fraction=0.0)
    assert not list(Path(tmp_path).glob("*.csv"))
