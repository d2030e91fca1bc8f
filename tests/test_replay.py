"""Event-level replay (execlab.replay): queue models worked by hand, laws of any replay, and bad input.

The hand-built books are a few LOBSTER events with the book after each
rebuilt here from the messages (``make_book``), so every expected fill below
can be checked on paper.  Orders resting before the file starts are given as
``initial``: they are in the book but have no type-1 message, as in a real
LOBSTER file that starts after the open.  Prices in the tests are dollars;
the book stores LOBSTER's units (dollars x 10,000), tick 100 = one cent.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from execlab.replay import QUEUE_MODELS, EventBook, Latency, replay
from execlab.replay import _kernel as kernel_module

TZ = "America/New_York"
T0 = pd.Timestamp("2012-06-21 10:00", tz=TZ)
EMPTY_ASK, EMPTY_BID = 9_999_999_999, -9_999_999_999
LEVEL_MODELS = ("risk_averse", "probabilistic", "l3_fifo")  # the models that keep a queue ahead
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- hand-built books ---------------------------------------------------------------------------------
def units(dollars: float) -> int:
    return int(round(dollars * 10_000))


def at(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds, "s")


def make_book(events, *, initial=(), levels=1):
    """An EventBook from messages, the N-level book after each event rebuilt from them.

    ``events``: ``(seconds after 10:00, type, order_id, size, price $, direction)``;
    ``initial``: ``(order_id, size, price $, direction)`` resting before the first event.
    """
    resting = {oid: [d, units(price), size] for oid, size, price, d in initial}
    rows, asks, bids = [], [], []
    for sec, etype, oid, size, price, d in events:
        p = units(price)
        if etype == 1:
            resting[oid] = [d, p, size]
        elif etype in (2, 3, 4):
            o = resting[oid]
            assert o[0] == d and o[1] == p and o[2] >= size, f"bad test book: event on order {oid} {o}"
            o[2] -= size
            assert etype != 3 or o[2] == 0, "a type-3 message deletes the whole order"
            if o[2] == 0:
                del resting[oid]
        rows.append((T0.value + int(round(sec * 1e9)), etype, oid, size, p, d))
        for side, out, dummy in ((-1, asks, EMPTY_ASK), (1, bids, EMPTY_BID)):
            depth: dict[int, int] = {}
            for sd, pr, sz in resting.values():
                if sd == side:
                    depth[pr] = depth.get(pr, 0) + sz
            prices = sorted(depth, reverse=side > 0)[:levels]
            out.append([(q, depth[q]) for q in prices] + [(dummy, 0)] * (levels - len(prices)))
    a = np.array(rows, dtype=np.int64)
    asks, bids = np.array(asks, dtype=np.int64), np.array(bids, dtype=np.int64)
    return EventBook(ticker="TEST", date="2012-06-21", levels=levels, tick=100, time=a[:, 0], etype=a[:, 1],
                     order_id=a[:, 2], size=a[:, 3], price=a[:, 4], direction=a[:, 5],
                     ask_price=asks[:, :, 0], ask_size=asks[:, :, 1], bid_price=bids[:, :, 0],
                     bid_size=bids[:, :, 1], source="SYNTHETIC hand-built")


def one(**cols) -> pd.DataFrame:
    """A one-row orders frame."""
    return pd.DataFrame({k: [v] for k, v in cols.items()})


def filled_rows(res) -> list[tuple[int, int]]:
    return list(zip(res.fills["row"].tolist(), res.fills["shares"].tolist()))


# Bid 100.00: orders 1 (100) and 2 (200) ahead of us; ask 100.02.  We join the bid at 10:00:01.
QUEUE_INITIAL = [(1, 100, 100.00, 1), (2, 200, 100.00, 1), (5, 300, 100.02, -1)]
QUEUE_EVENTS = [
    (0, 1, 6, 100, 100.03, -1),  # row 0: elsewhere in the book
    (2, 1, 10, 100, 100.00, 1),  # row 1: order 10 joins behind us
    (3, 3, 1, 100, 100.00, 1),   # row 2: order 1, ahead of us, is cancelled
    (4, 4, 2, 200, 100.00, 1),   # row 3: order 2, ahead of us, trades
    (5, 4, 10, 100, 100.00, 1),  # row 4: order 10, behind us, trades
]


@pytest.fixture(scope="module")
def queue_book():
    return make_book(QUEUE_EVENTS, initial=QUEUE_INITIAL)


# -- 1. queue models by hand --------------------------------------------------------------------------
@pytest.mark.parametrize("queue", LEVEL_MODELS)
def test_queue_ahead_at_entry_is_the_displayed_size_at_our_price(queue):
    book = make_book([(0, 1, 6, 50, 100.05, -1), (5, 1, 7, 10, 99.90, 1)], levels=2,
                     initial=[(1, 100, 100.00, 1), (2, 200, 100.00, 1), (3, 70, 99.99, 1),
                              (4, 40, 100.02, -1), (5, 25, 100.03, -1)])
    orders = pd.DataFrame({"side": ["BUY", "BUY", "SELL", "BUY"], "shares": 10, "submit_time": at(1),
                           "offset_ticks": [0, -1, np.nan, np.nan], "price": [np.nan, np.nan, 100.03, 100.01]})
    res = replay(book, orders, queue=queue)
    # touch bid 100.00 (300), one tick behind 99.99 (70), ask level 2 100.03 (25), inside the spread (0)
    assert res.orders["queue_ahead"].tolist() == [300.0, 70.0, 25.0, 0.0]
    assert res.orders["price"].tolist() == [100.00, 99.99, 100.03, 100.01]
    assert not res.orders["censored"].any()
    assert (res.orders["status"] == "open at end").all()


def test_touch_model_keeps_no_queue():
    book = make_book([(0, 1, 6, 50, 100.05, -1), (2, 1, 7, 10, 99.90, 1)],
                     initial=[(1, 300, 100.00, 1), (4, 40, 100.02, -1)])
    res = replay(book, one(side="BUY", shares=10, submit_time=at(1)), queue="touch")
    assert res.orders[["queue_ahead", "price", "status"]].values.tolist() == [[0.0, 100.00, "open at end"]]


def test_risk_averse_fills_only_once_visible_trades_at_our_price_exceed_the_queue_ahead():
    book = make_book([
        (0, 1, 6, 100, 100.03, -1),
        (2, 1, 10, 100, 100.00, 1),  # row 1: behind us
        (3, 4, 1, 200, 100.00, 1),   # row 2: 300 ahead -> 100
        (4, 4, 2, 100, 100.00, 1),   # row 3: 100 -> 0, still no fill (trades must exceed the queue)
        (5, 4, 10, 60, 100.00, 1),   # row 4: fills 60
        (6, 4, 10, 40, 100.00, 1),   # row 5: fills 40
    ], initial=[(1, 200, 100.00, 1), (2, 100, 100.00, 1), (5, 300, 100.02, -1)])
    res = replay(book, one(side="BUY", shares=100, submit_time=at(1)), queue="risk_averse")
    assert res.orders["queue_ahead"].item() == 300.0
    assert filled_rows(res) == [(4, 60), (5, 40)]
    assert res.fills["queue_ahead"].tolist() == [300.0, 300.0]  # the queue ahead when the leg entered
    assert set(res.fills["reason"]) == {"trade at price"}
    assert set(res.fills["liquidity"]) == {"MAKER"}
    assert res.fills["price"].tolist() == [100.00, 100.00]
    assert res.orders[["filled", "status"]].values.tolist() == [[100, "filled"]]
    assert res.orders["end_time"].item() == at(6)
    assert res.orders["first_fill_time"].item() == at(5)


def test_cancels_ahead_advance_l3_fifo_but_not_risk_averse(queue_book):
    got = {q: replay(queue_book, one(side="BUY", shares=100, submit_time=at(1)), queue=q) for q in QUEUE_MODELS}
    # risk_averse: the cancel of order 1 leaves 300 displayed (order 10 joined behind), so the cap does not
    # bite: 300 ahead -> 100 after order 2's trade -> 0 after order 10's; never a fill.
    assert got["risk_averse"].orders["filled"].item() == 0
    assert got["risk_averse"].orders["status"].item() == "open at end"
    # l3_fifo: 300 -> 200 (cancel ahead) -> 0 (trade ahead); order 10 arrived after us, so its trade fills us.
    assert filled_rows(got["l3_fifo"]) == [(4, 100)]
    assert got["l3_fifo"].fills["reason"].tolist() == ["order behind executed"]
    # probabilistic, power 3: the cancel is behind us with p = 100^3 / (100^3 + 300^3) = 1/28, so
    # 300 - 27/28 * 100 = 203.57 ahead; 3.57 after order 2's trade; order 10's 100 fills floor(96.43) = 96.
    assert filled_rows(got["probabilistic"]) == [(4, 96)]
    # touch: the first trade at our price fills us, whoever was ahead.
    assert filled_rows(got["touch"]) == [(3, 100)]
    for q in QUEUE_MODELS:
        assert got[q].orders["queue_ahead"].item() == (0.0 if q == "touch" else 300.0)


def test_probabilistic_log_function_by_hand(queue_book):
    # f = log(1 + x): p_behind = log(101) / (log(101) + log(301)); the cancel removes (1 - p) * 100 ahead.
    res = replay(queue_book, one(side="BUY", shares=100, submit_time=at(1)), queue="probabilistic",
                 probability=("log",))
    p = np.log(101) / (np.log(101) + np.log(301))
    ahead_after_trade = 300 - (1 - p) * 100 - 200
    assert filled_rows(res) == [(4, int(np.floor(100 - ahead_after_trade)))]


def test_displayed_size_caps_the_risk_averse_queue():
    book = make_book([
        (0, 1, 6, 100, 100.03, -1),
        (2, 3, 1, 100, 100.00, 1),   # row 1: 200 displayed -> 200 ahead (the cap)
        (3, 4, 2, 200, 100.00, 1),   # row 2: -> 0
        (4, 1, 10, 100, 100.00, 1),  # row 3: behind us
        (5, 4, 10, 100, 100.00, 1),  # row 4: fills us (without the cap 100 would still be ahead)
    ], initial=[(1, 100, 100.00, 1), (2, 200, 100.00, 1), (5, 300, 100.02, -1)])
    res = replay(book, one(side="BUY", shares=100, submit_time=at(1)), queue="risk_averse")
    assert filled_rows(res) == [(4, 100)]


def test_hidden_executions_fill_touch_but_do_not_shorten_the_queue():
    book = make_book([
        (0, 1, 6, 100, 100.03, -1),
        (2, 5, 0, 150, 100.00, 1),   # row 1: hidden buy order executed at our price
        (3, 4, 1, 200, 100.00, 1),   # row 2: the 200 displayed ahead of us trade
        (4, 1, 10, 100, 100.00, 1),  # row 3: behind us
        (5, 4, 10, 50, 100.00, 1),   # row 4
    ], initial=[(1, 200, 100.00, 1), (5, 300, 100.02, -1)])
    order = one(side="BUY", shares=100, submit_time=at(1))
    touch = replay(book, order, queue="touch")
    assert filled_rows(touch) == [(1, 100)]
    assert touch.fills["reason"].tolist() == ["trade at price"]
    for q in LEVEL_MODELS:
        # Had the hidden 150 counted, only 50 would be ahead and row 2 would fill us.
        assert filled_rows(replay(book, order, queue=q)) == [(4, 50)], q


@pytest.mark.parametrize("queue", QUEUE_MODELS)
def test_a_trade_through_our_price_fills_every_model(queue):
    book = make_book([(0, 1, 6, 100, 100.03, -1), (2, 4, 1, 150, 100.00, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 300, 100.02, -1)])
    res = replay(book, one(side="BUY", shares=100, price=100.01, submit_time=at(1)), queue=queue)
    assert filled_rows(res) == [(1, 100)]
    assert res.fills[["reason", "liquidity", "price"]].values.tolist() == [["trade through", "MAKER", 100.01]]
    # a sell resting above the best bid is traded through by a sell-side trade at a higher price
    book = make_book([(0, 1, 6, 100, 99.97, 1), (2, 4, 5, 70, 100.03, -1)],
                     initial=[(1, 300, 100.00, 1), (5, 300, 100.03, -1)])
    res = replay(book, one(side="SELL", shares=100, price=100.02, submit_time=at(1)), queue=queue)
    assert filled_rows(res) == [(1, 70)]
    assert res.fills["reason"].tolist() == ["trade through"]


@pytest.mark.parametrize("queue", QUEUE_MODELS)
def test_a_new_opposite_order_reaching_our_price_fills_us(queue):
    book = make_book([
        (0, 1, 6, 100, 100.04, -1),
        (2, 1, 7, 80, 100.02, -1),  # row 1: a sell above our price: no fill
        (3, 1, 8, 60, 100.01, -1),  # row 2: a sell at our price: fills 60
        (4, 1, 9, 10, 99.99, 1),    # row 3: a buy (our side): nothing
    ], initial=[(1, 300, 100.00, 1), (5, 300, 100.03, -1)])
    res = replay(book, one(side="BUY", shares=100, price=100.01, submit_time=at(1)), queue=queue)
    assert filled_rows(res) == [(2, 60)]
    assert res.fills[["reason", "liquidity"]].values.tolist() == [["crossed by new order", "MAKER"]]
    assert res.orders[["filled", "status"]].values.tolist() == [[60, "open at end"]]


def test_only_l3_fifo_is_filled_by_the_execution_of_an_order_that_arrived_after_ours():
    # Order 10 arrives after us and trades before order 1 (ahead of us): time priority broken in the file.
    book = make_book([(0, 1, 6, 100, 100.03, -1), (2, 1, 10, 100, 100.00, 1), (3, 4, 10, 100, 100.00, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 300, 100.02, -1)])
    order = one(side="BUY", shares=100, submit_time=at(1))
    fifo = replay(book, order, queue="l3_fifo")
    assert filled_rows(fifo) == [(2, 100)]
    assert fifo.fills["reason"].tolist() == ["order behind executed"]
    assert replay(book, order, queue="risk_averse").orders["filled"].item() == 0
    # An order never seen arriving with a smaller id than the next new order is ahead of us.
    book = make_book([(0, 1, 6, 100, 100.03, -1), (2, 1, 10, 100, 100.00, 1), (3, 4, 1, 100, 100.00, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 300, 100.02, -1)])
    assert replay(book, order, queue="l3_fifo").orders["filled"].item() == 0


@pytest.fixture(scope="module")
def deep_book():
    # asks 100.01 x 100, 100.02 x 150, 100.03 x 200 (450 visible at 3 levels); later events only on the bid.
    return make_book([(0, 1, 6, 50, 99.98, 1), (2, 1, 7, 40, 99.97, 1), (3, 2, 7, 10, 99.97, 1)], levels=3,
                     initial=[(1, 300, 100.00, 1), (2, 100, 100.01, -1), (3, 150, 100.02, -1),
                              (4, 200, 100.03, -1)])


def test_market_order_walks_the_visible_levels(deep_book):
    res = replay(deep_book, one(side="BUY", shares=300, order_type="market", submit_time=at(1)),
                 fees={"MAKER": -0.002, "TAKER": 0.003})
    f = res.fills
    assert f[["price", "shares"]].values.tolist() == [[100.01, 100], [100.02, 150], [100.03, 50]]
    assert set(f["liquidity"]) == {"TAKER"} and set(f["reason"]) == {"market"}
    assert f["row"].tolist() == [0, 0, 0]  # the book after row 0 is the one the order meets
    assert (f["exchange_time"] == at(1)).all()
    np.testing.assert_allclose(f["fee"], [0.3, 0.45, 0.15])
    assert res.orders[["filled", "status", "queue_ahead"]].values.tolist() == [[300, "filled", 0.0]]


def test_market_order_beyond_the_book_is_exhausted_without_taking_a_share_twice(deep_book):
    res = replay(deep_book, one(side="BUY", shares=1000, order_type="market", submit_time=at(1)))
    # No ask arrives after row 0: the 450 visible shares are all there is.
    assert res.orders["filled"].item() == 450
    assert res.orders["status"].item() == "book exhausted"
    assert res.fills.groupby("price")["shares"].sum().to_dict() == {100.01: 100, 100.02: 150, 100.03: 200}


def test_market_order_beyond_the_book_takes_only_new_liquidity_as_it_arrives():
    book = make_book([(0, 1, 6, 50, 99.98, 1), (2, 1, 7, 80, 100.01, -1), (3, 1, 8, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (2, 100, 100.01, -1)])
    res = replay(book, one(side="BUY", shares=250, order_type="market", submit_time=at(1)))
    # 100 visible at entry, then the 80 that order 7 adds at row 1; nothing else ever arrives on the ask.
    assert filled_rows(res) == [(0, 100), (1, 80)]
    assert res.orders["status"].item() == "book exhausted"


def test_buy_limit_above_the_best_ask_takes_liquidity_then_rests():
    book = make_book([(0, 1, 6, 50, 99.98, 1), (2, 1, 7, 40, 99.97, 1), (3, 1, 8, 30, 100.02, -1)], levels=3,
                     initial=[(1, 300, 100.00, 1), (2, 100, 100.01, -1), (3, 150, 100.02, -1),
                              (4, 200, 100.03, -1)])
    res = replay(book, one(side="BUY", shares=400, price=100.02, submit_time=at(1)), queue="risk_averse")
    f = res.fills
    assert f[["price", "shares", "liquidity", "reason"]].values.tolist() == [
        [100.01, 100, "TAKER", "crossing limit"], [100.02, 150, "TAKER", "crossing limit"],
        [100.02, 30, "MAKER", "crossed by new order"]]  # the rest of 150 rests at 100.02; a new sell reaches it
    assert f["row"].tolist() == [0, 0, 2]
    o = res.orders
    assert o[["filled", "status", "price", "queue_ahead"]].values.tolist() == [[280, "open at end", 100.02, 0.0]]
    # never a fill at a price worse than the limit
    assert (f["price"] <= 100.02).all()


@pytest.mark.parametrize("offset,buy,sell", [(1, 100.01, 100.02), (2, 100.02, 100.01), (5, 100.02, 100.01),
                                             (0, 100.00, 100.03), (-2, 99.98, 100.05)])
def test_k_ticks_inside_never_reaches_the_far_touch(offset, buy, sell):
    book = make_book([(0, 1, 6, 50, 99.98, 1), (2, 1, 7, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (2, 100, 100.03, -1)])
    orders = pd.DataFrame({"side": ["BUY", "SELL"], "shares": 100, "submit_time": at(1), "offset_ticks": offset})
    res = replay(book, orders, queue="l3_fifo")
    assert res.orders["price"].tolist() == [buy, sell]
    assert len(res.fills) == 0


def test_k_ticks_inside_a_one_tick_spread_stays_at_the_touch():
    book = make_book([(0, 1, 6, 50, 99.98, 1), (2, 1, 7, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (2, 100, 100.01, -1)])
    orders = pd.DataFrame({"side": ["BUY", "SELL"], "shares": 100, "submit_time": at(1), "offset_ticks": 3})
    res = replay(book, orders)
    assert res.orders["price"].tolist() == [100.00, 100.01]
    assert res.orders["queue_ahead"].tolist() == [300.0, 100.0]
    assert len(res.fills) == 0


@pytest.fixture(scope="module")
def peg_book():
    return make_book([
        (0, 1, 6, 50, 100.05, -1),
        (2, 1, 10, 300, 100.01, 1),  # row 1: the bid moves up to 100.01
        (3, 1, 11, 50, 100.04, -1),  # row 2: (with no latency the replace arrives here, 300 ahead)
        (4, 4, 10, 250, 100.01, 1),  # row 3: 50 ahead
        (5, 1, 12, 100, 100.01, 1),  # row 4: behind a replace that arrived before 10:00:05
        (6, 4, 10, 50, 100.01, 1),   # row 5: 0 ahead
        (7, 4, 12, 60, 100.01, 1),   # row 6: fills a leg that was ahead of order 12
    ], initial=[(1, 100, 100.00, 1), (5, 100, 100.03, -1)])


def test_peg_follows_the_touch_with_a_new_leg_at_the_back_of_the_queue(peg_book):
    order = one(side="BUY", shares=60, submit_time=at(1), peg=True)
    res = replay(peg_book, order, queue="risk_averse")
    assert res.orders[["legs", "filled", "status", "price", "queue_ahead"]].values.tolist() == [
        [2, 60, "filled", 100.00, 100.0]]
    assert res.fills[["leg", "row", "price", "shares", "queue_ahead"]].values.tolist() == [[1, 6, 100.01, 60, 300.0]]
    # Not pegged, the order stays at 100.00 and never fills.
    still = replay(peg_book, one(side="BUY", shares=60, submit_time=at(1)), queue="risk_averse")
    assert still.orders[["legs", "filled", "status"]].values.tolist() == [[1, 0, "open at end"]]


def test_peg_replace_waits_for_feed_and_entry_latency(peg_book):
    # Sent at 1.0, the order reaches the exchange at 3.1 (row 3 is the first event after it) at the 100.00
    # it saw at 0.5.  After row 3 the peg sees the bid of 100.01; its replace arrives at 4 + 0.5 + 2.1 = 6.6,
    # after order 12 joined (row 4) and order 10 left (row 5): 100 ahead, and row 6's 60 leave 40 ahead.
    order = one(side="BUY", shares=60, submit_time=at(1), peg=True)
    res = replay(peg_book, order, queue="risk_averse", latency=Latency(feed="500ms", entry="2100ms"))
    assert res.orders[["legs", "filled", "status", "price"]].values.tolist() == [[2, 0, "open at end", 100.00]]
    # With the feed latency alone the order arrives at 1.0 and its replace at 2 + 0.5 = 2.5 (row 2), as with none.
    fast = replay(peg_book, order, queue="risk_averse", latency=Latency(feed="500ms"))
    assert fast.fills[["leg", "row", "queue_ahead"]].values.tolist() == [[1, 6, 300.0]]


@pytest.mark.parametrize("cancel,filled,status,end", [("0ns", 0, "cancelled", 2.0), ("200ms", 0, "cancelled", 2.2),
                                                       ("1s", 100, "filled", 2.5)])
def test_cancel_latency_lets_a_fill_race_the_cancel(cancel, filled, status, end):
    book = make_book([(0, 1, 6, 50, 100.05, -1), (2.5, 1, 7, 100, 100.01, -1), (4, 1, 8, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 100, 100.02, -1)])
    order = one(side="BUY", shares=100, price=100.01, submit_time=at(1), cancel_time=at(2))
    res = replay(book, order, latency=Latency(cancel=cancel))
    assert res.orders[["filled", "status"]].values.tolist() == [[filled, status]]
    assert res.orders["end_time"].item() == at(end)


def test_entry_latency_delays_the_entry_row():
    book = make_book([(0, 1, 6, 50, 100.05, -1), (1, 1, 7, 100, 100.01, -1), (2, 1, 8, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 100, 100.02, -1)])
    order = one(side="BUY", shares=100, price=100.01, submit_time=at(0.5))
    fast = replay(book, order)
    # At the exchange before order 7: 7 reaches our resting price and fills us as maker.
    assert fast.fills[["row", "liquidity", "reason"]].values.tolist() == [[1, "MAKER", "crossed by new order"]]
    assert fast.orders["entry_time"].item() == at(0.5)
    slow = replay(book, order, latency=Latency(entry="1s"))
    # After order 7: we meet its 100 shares in the book and take them.
    assert slow.fills[["row", "liquidity", "reason"]].values.tolist() == [[1, "TAKER", "crossing limit"]]
    assert slow.orders["entry_time"].item() == at(1.5)
    assert slow.fills["exchange_time"].item() == at(1.5)


def test_feed_latency_sets_the_touch_we_join():
    book = make_book([(0, 1, 6, 50, 100.05, -1), (1, 1, 10, 100, 100.01, 1), (3, 1, 8, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 100, 100.03, -1)], levels=2)
    order = one(side="BUY", shares=100, submit_time=at(1.5))
    assert replay(book, order).orders["price"].item() == 100.01
    late = replay(book, order, latency=Latency(feed="1s"))  # we still see the book of 10:00:00
    assert late.orders["price"].item() == 100.00
    assert late.orders["queue_ahead"].item() == 300.0  # but the queue is the exchange's at arrival


def test_response_latency_stamps_local_time(queue_book):
    order = one(side="BUY", shares=100, submit_time=at(1))
    res = replay(queue_book, order, queue="l3_fifo", latency=Latency(response="250us"))
    f = res.fills
    assert len(f) == 1
    assert f["exchange_time"].item() == at(5)
    assert (f["local_time"] - f["exchange_time"]).tolist() == [pd.Timedelta("250us")]


def test_drawn_latency_is_per_order_and_reproducible():
    orders = pd.DataFrame({"side": "BUY", "shares": [10, 10, 10], "price": [100.01, 100.01, 100.01],
                           "submit_time": [at(1.0), at(1.1), at(1.2)], "order_id": [7, 8, 9]})
    book = make_book([(0, 1, 6, 50, 100.05, -1), (3, 1, 7, 100, 100.01, -1)],
                     initial=[(1, 300, 100.00, 1), (5, 100, 100.02, -1)])
    lat = Latency(response=("lognormal", "1ms", 0.5), entry=("exponential", "10us"))
    a = replay(book, orders, latency=lat, rng=np.random.default_rng(3))
    b = replay(book, orders, latency=lat, rng=np.random.default_rng(3))
    pd.testing.assert_frame_equal(a.fills, b.fills)
    delay = (a.fills["local_time"] - a.fills["exchange_time"]).dt.total_seconds()
    assert len(delay) == 3 and delay.nunique() == 3 and (delay > 0).all()
    assert (a.orders["entry_time"] > orders["submit_time"]).all()


def test_fills_feed_tca_and_the_summary_names_the_model(queue_book):
    res = replay(queue_book, one(side="BUY", shares=100, submit_time=at(1)), queue="l3_fifo",
                 fees={"MAKER": -0.002})
    tf = res.to_fills()
    assert tf.columns.tolist() == ["order_id", "time", "shares", "price", "fee", "liquidity"]
    assert tf[["shares", "price", "fee", "liquidity"]].values.tolist() == [[100, 100.0, -0.2, "MAKER"]]
    text = res.summary()
    assert "l3_fifo" in text and "100 shares (100.0%)" in text


# -- bugs found while writing these tests ------------------------------------------------------------
def test_order_arriving_before_the_first_event_never_fills_a_share_twice():
    book = make_book([(1, 1, 6, 100, 100.01, -1), (2, 1, 7, 100, 100.04, -1)],
                     initial=[(1, 100, 100.00, 1), (5, 300, 100.05, -1)])
    order = one(side="BUY", shares=300, price=100.01, submit_time=at(0))
    try:
        res = replay(book, order)
    except ValueError as exc:  # refusing an order before the file's first event is a fine answer too
        assert "submit_time" in str(exc) or "first event" in str(exc)
        return
    # Order 6 (100 shares) is the only ask at or below 100.01 that ever exists.
    assert res.orders["filled"].item() <= 100


def test_first_fill_time_is_the_first_fill_exchange_time(deep_book):
    orders = pd.DataFrame({"side": "BUY", "shares": [100, 100], "order_type": ["market", "limit"],
                           "price": [np.nan, 100.01], "submit_time": [at(1), at(2.5)]})
    res = replay(deep_book, orders)
    first = res.fills.groupby("order_id")["exchange_time"].min()
    got = res.orders.set_index("order_id")["first_fill_time"]
    assert len(first) >= 1
    assert got.loc[first.index].tolist() == first.tolist()
    assert got.drop(first.index).isna().all()  # an order without fills has no first fill time
    filled = res.orders["first_fill_time"].notna()
    assert (res.orders.loc[filled, "first_fill_time"] >= res.orders.loc[filled, "entry_time"]).all()


def test_liquidity_given_to_one_of_our_orders_is_not_taken_again_by_another():
    book = make_book([(0, 1, 6, 50, 99.98, 1), (2, 1, 7, 60, 100.01, -1), (3, 1, 8, 10, 99.97, 1)], levels=2,
                     initial=[(1, 300, 100.00, 1), (5, 100, 100.03, -1)])
    orders = pd.DataFrame({"side": "BUY", "shares": [60, 60], "order_type": ["limit", "market"],
                           "price": [100.01, np.nan], "submit_time": [at(1), at(2.5)]})
    res = replay(book, orders)
    # Order 7's 60 shares fill the resting buy; the market buy must go to 100.03.
    assert res.fills.groupby("price")["shares"].sum().to_dict() == {100.01: 60, 100.03: 60}


def test_no_fill_after_an_order_ends():
    book = make_book([(0, 1, 6, 50, 100.05, -1), (2, 1, 7, 100, 100.01, -1), (4, 1, 8, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 100, 100.02, -1)])
    # sent at 1.0 and cancelled at 1.1; the order needs 1.5 s to reach the exchange, the cancel none
    order = one(side="BUY", shares=300, price=100.02, submit_time=at(1), cancel_time=at(1.1))
    res = replay(book, order, latency=Latency(entry="1500ms"))
    o = res.orders.iloc[0]
    assert o["end_time"] >= o["entry_time"]
    assert (res.fills["exchange_time"] <= o["end_time"]).all()


# -- 2. properties ------------------------------------------------------------------------------------
@st.composite
def random_books(draw):
    """A valid book: messages from a random order flow, the first few hidden before the file starts."""
    levels = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, 8))
    n_events = draw(st.integers(2, 30))
    resting: dict[int, list] = {}
    next_id, t = 1, 0.0
    hidden, events = [], []

    def best(side):
        prices = [o[1] for o in resting.values() if o[0] == side]
        if not prices:
            return None
        return max(prices) if side > 0 else min(prices)

    for j in range(n_hidden + n_events):
        t += draw(st.sampled_from([0.0, 0.001, 0.25, 1.0]))
        kind = draw(st.sampled_from(["new", "new", "new", "cancel", "partial", "execute", "execute", "hidden"]))
        side = draw(st.sampled_from([1, -1]))
        own = [oid for oid, o in resting.items() if o[0] == side]
        if kind != "new" and not own:
            kind = "new"
        if kind == "new":
            bb, ba = best(1), best(-1)
            if side > 0:
                top = (ba - 1) if ba is not None else 10_002
                price = top - draw(st.integers(0, 3))
            else:
                low = (bb + 1) if bb is not None else 9_998
                price = low + draw(st.integers(0, 3))
            size = draw(st.integers(1, 300))
            msg = (t, 1, next_id, size, price, side)
            resting[next_id] = [side, price, size]
            next_id += 1
        elif kind == "hidden":
            msg = (t, 5, 0, draw(st.integers(1, 200)), best(side), side)
        else:
            if kind == "execute":  # any order at the best price: time priority may be broken, as in real files
                own = [oid for oid in own if resting[oid][1] == best(side)]
            oid = draw(st.sampled_from(sorted(own)))
            o = resting[oid]
            if kind == "cancel":
                size, etype = o[2], 3
            elif kind == "partial" and o[2] > 1:
                size, etype = draw(st.integers(1, o[2] - 1)), 2
            else:
                size, etype = draw(st.integers(1, o[2])), 4
            msg = (t, etype, oid, size, o[1], side)
            o[2] -= size
            if o[2] == 0:
                del resting[oid]
        if j < n_hidden:
            hidden.append(msg)
        else:
            events.append(msg)
    # The file starts after the hidden messages: what they left resting is the initial book.
    replayed: dict[int, list] = {}
    for _, etype, oid, size, price, side in hidden:
        if etype == 1:
            replayed[oid] = [side, price, size]
        elif etype in (2, 3, 4):
            replayed[oid][2] -= size
            if replayed[oid][2] == 0:
                del replayed[oid]
    initial = [(oid, o[2], o[1] / 100, o[0]) for oid, o in replayed.items()]
    events = [(tt, e, oid, size, price / 100, side) for tt, e, oid, size, price, side in events]
    return make_book(events, initial=initial, levels=levels)


@st.composite
def random_orders(draw, book, distinct_times=False, n_max=5):
    """Child orders of every kind, sent while the file runs (or just after)."""
    m = draw(st.integers(1, n_max))
    span = (book.time[-1] - book.time[0]) / 1e9 + 0.5
    if distinct_times:
        offsets = draw(st.lists(st.integers(0, int(span * 1000)), min_size=m, max_size=m, unique=True))
    else:
        offsets = draw(st.lists(st.integers(0, int(span * 1000)), min_size=m, max_size=m))
    rows = []
    start = pd.Timestamp(book.time[0], tz="UTC").tz_convert(TZ)
    for j in range(m):
        submit = start + pd.Timedelta(offsets[j], "ms")
        kind = draw(st.sampled_from(["market", "touch", "touch", "price", "peg"]))
        row = {"order_id": 100 + j, "side": draw(st.sampled_from(["BUY", "SELL"])),
               "shares": draw(st.integers(1, 400)), "submit_time": submit, "order_type": "limit",
               "price": np.nan, "offset_ticks": np.nan, "peg": False, "cancel_time": pd.NaT}
        if kind == "market":
            row["order_type"] = "market"
        elif kind == "price":
            row["price"] = round(100 + draw(st.integers(-4, 4)) / 100, 2)
        else:
            row["offset_ticks"] = draw(st.integers(-1, 2))
            row["peg"] = kind == "peg"
        if draw(st.booleans()):
            row["cancel_time"] = submit + pd.Timedelta(draw(st.integers(0, 5000)), "ms")
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["cancel_time"] = pd.Series(frame["cancel_time"].tolist(), dtype=f"datetime64[ns, {TZ}]")
    return frame


latencies = st.builds(Latency, feed=st.sampled_from(["0ns", "300ms"]), entry=st.sampled_from(["0ns", "1ms", "1s"]),
                      response=st.sampled_from(["0ns", "5ms"]), cancel=st.sampled_from(["0ns", "400ms"]))


def check_laws(book: EventBook, orders: pd.DataFrame, res) -> None:
    f, o = res.fills, res.orders
    # fills are whole positive shares, never more than ordered, and add up to 'filled'
    assert f["shares"].dtype.kind == "i" and (f["shares"] > 0).all()
    per_order = f.groupby("order_id")["shares"].sum().reindex(o["order_id"], fill_value=0).to_numpy()
    assert (per_order == o["filled"].to_numpy()).all()
    assert (o["filled"] <= o["shares"]).all()
    assert ((o["filled"] == o["shares"]) == (o["status"] == "filled")).all()
    # liquidity is never used twice: maker fills at an event <= the event's size
    maker = f[f["liquidity"] == "MAKER"].groupby("row")["shares"].sum()
    assert (maker.to_numpy() <= book.size[maker.index.to_numpy()]).all()
    # taker fills at a (row, price) <= the shares displayed there on the far side
    side = o.set_index("order_id").loc[f["order_id"], "side"].to_numpy()
    taker = f.assign(side=side)[f["liquidity"] == "TAKER"]
    for (row, price, s), shares in taker.groupby(["row", "price", "side"])["shares"].sum().items():
        p_lv, s_lv = (book.ask_price, book.ask_size) if s == "BUY" else (book.bid_price, book.bid_size)
        displayed = s_lv[row][p_lv[row] == units(price)].sum()
        assert shares <= displayed, (row, price, s, shares, displayed)
    # a buy never pays more than its limit price, a sell never receives less
    limit = orders.set_index("order_id").loc[f["order_id"], "price"].to_numpy(dtype=float)
    sign = np.where(side == "BUY", 1.0, -1.0)
    priced = np.isfinite(limit)
    assert (sign[priced] * (f["price"].to_numpy()[priced] - limit[priced]) <= 1e-9).all()
    # no fill before the order reaches the exchange; local time is exchange time plus response latency
    entry = o.set_index("order_id").loc[f["order_id"], "entry_time"].to_numpy()
    assert (f["exchange_time"].to_numpy() >= entry).all()
    assert (f["local_time"] >= f["exchange_time"]).all()


@PROPERTY
@given(data=st.data(), queue=st.sampled_from(QUEUE_MODELS), latency=latencies)
def test_laws_of_any_replay_on_random_books(data, queue, latency):
    book = data.draw(random_books())
    orders = data.draw(random_orders(book))
    res = replay(book, orders, queue=queue, latency=latency)
    check_laws(book, orders, res)
    resp = pd.Timedelta(latency.response)
    assert ((res.fills["local_time"] - res.fills["exchange_time"]) == resp).all()


@pytest.fixture(scope="module")
def aapl_slice():
    full = EventBook.bundled("AAPL")
    a, b = 40_000, 42_000  # two thousand real events around 11:00
    return EventBook(ticker="AAPL", date=full.date, levels=1, tick=full.tick, time=full.time[a:b],
                     etype=full.type[a:b], order_id=full.order_id[a:b], size=full.size[a:b], price=full.price[a:b],
                     direction=full.direction[a:b], ask_price=full.ask_price[a:b], ask_size=full.ask_size[a:b],
                     bid_price=full.bid_price[a:b], bid_size=full.bid_size[a:b], source=full.source)


@st.composite
def real_orders(draw, book, n_max=12):
    m = draw(st.integers(1, n_max))
    start = pd.Timestamp(book.time[0], tz="UTC").tz_convert(TZ)
    span_ms = int((book.time[-1] - book.time[0]) / 1e6)
    mid = book.bid_price[0, 0] / 10_000 + 0.05
    rows = []
    for j in range(m):
        kind = draw(st.sampled_from(["market", "touch", "price", "peg"]))
        row = {"order_id": j, "side": draw(st.sampled_from(["BUY", "SELL"])), "shares": draw(st.integers(1, 1000)),
               "submit_time": start + pd.Timedelta(draw(st.integers(0, span_ms)), "ms"),
               "order_type": "market" if kind == "market" else "limit", "price": np.nan,
               "offset_ticks": np.nan, "peg": kind == "peg"}
        if kind == "price":
            row["price"] = round(mid + draw(st.integers(-20, 20)) / 100, 2)
        elif kind != "market":
            row["offset_ticks"] = draw(st.integers(-2, 3))
        rows.append(row)
    return pd.DataFrame(rows)


@settings(max_examples=15, deadline=None)
@given(data=st.data(), queue=st.sampled_from(QUEUE_MODELS))
def test_laws_on_a_slice_of_the_real_aapl_book(aapl_slice, data, queue):
    orders = data.draw(real_orders(aapl_slice))
    check_laws(aapl_slice, orders, replay(aapl_slice, orders, queue=queue))


def _plain_python():
    """The same loop as plain Python (numba keeps it as ``py_func``)."""
    compiled = kernel_module.kernel()
    if not hasattr(compiled, "py_func"):
        pytest.skip("numba is not installed: the loop already runs as plain Python")
    plain = compiled.py_func
    return mock.patch.object(kernel_module, "kernel", lambda: plain)


@PROPERTY
@given(data=st.data(), queue=st.sampled_from(QUEUE_MODELS), latency=latencies)
def test_compiled_loop_equals_the_plain_python_loop(data, queue, latency):
    book = data.draw(random_books())
    orders = data.draw(random_orders(book))
    compiled = replay(book, orders, queue=queue, latency=latency)
    with _plain_python():
        plain = replay(book, orders, queue=queue, latency=latency)
    pd.testing.assert_frame_equal(compiled.fills, plain.fills)
    pd.testing.assert_frame_equal(compiled.orders, plain.orders)


def test_compiled_loop_equals_the_plain_python_loop_on_real_events(aapl_slice):
    rng = np.random.default_rng(7)
    start = pd.Timestamp(aapl_slice.time[0], tz="UTC").tz_convert(TZ)
    m = 12
    orders = pd.DataFrame({"side": rng.choice(["BUY", "SELL"], m), "shares": rng.integers(1, 800, m),
                           "submit_time": start + pd.to_timedelta(np.sort(rng.integers(0, 60_000, m)), "ms"),
                           "offset_ticks": rng.integers(-1, 3, m), "peg": rng.random(m) < 0.3})
    for queue in QUEUE_MODELS:
        compiled = replay(aapl_slice, orders, queue=queue, latency=Latency(feed="1ms", entry="2ms"))
        with _plain_python():
            plain = replay(aapl_slice, orders, queue=queue, latency=Latency(feed="1ms", entry="2ms"))
        pd.testing.assert_frame_equal(compiled.fills, plain.fills)
        pd.testing.assert_frame_equal(compiled.orders, plain.orders)
        assert len(compiled.fills) > 0


def _by_order(res) -> dict:
    cols = ["leg", "row", "exchange_time", "price", "shares", "liquidity", "reason", "queue_ahead"]
    return {oid: g.sort_values(["row", "leg", "price", "liquidity"])[cols].values.tolist()
            for oid, g in res.fills.groupby("order_id")}


@PROPERTY
@given(data=st.data(), queue=st.sampled_from(QUEUE_MODELS))
def test_row_order_of_the_input_does_not_matter_when_arrivals_differ(data, queue):
    book = data.draw(random_books())
    orders = data.draw(random_orders(book, distinct_times=True))
    perm = data.draw(st.permutations(range(len(orders))))
    a = replay(book, orders, queue=queue)
    b = replay(book, orders.iloc[list(perm)].reset_index(drop=True), queue=queue)
    assert _by_order(a) == _by_order(b)
    pd.testing.assert_frame_equal(a.orders.set_index("order_id").sort_index(),
                                  b.orders.set_index("order_id").sort_index())


def test_priority_among_our_orders_is_arrival_then_input_row(queue_book):
    # Two of ours at the same price and time: the first row is ahead and takes order 10's trade.
    orders = pd.DataFrame({"order_id": ["a", "b"], "side": "BUY", "shares": [60, 60], "submit_time": at(1)})
    res = replay(queue_book, orders, queue="l3_fifo")
    assert res.fills[["order_id", "shares"]].values.tolist() == [["a", 60], ["b", 40]]
    res = replay(queue_book, orders.iloc[::-1], queue="l3_fifo")
    assert res.fills[["order_id", "shares"]].values.tolist() == [["b", 60], ["a", 40]]
    # a later arrival is behind, whatever its row
    orders["submit_time"] = [at(1.5), at(1)]
    res = replay(queue_book, orders, queue="l3_fifo")
    assert dict(res.fills[["order_id", "shares"]].values.tolist()) == {"b": 60, "a": 40}


# -- 3. bad input -------------------------------------------------------------------------------------
def _arrays(n=3, levels=1):
    z = np.zeros(n, dtype=np.int64)
    return dict(ticker="TEST", date="2012-06-21", levels=levels, tick=100, time=T0.value + np.arange(n) * 10**9,
                etype=np.ones(n, dtype=np.int64), order_id=np.arange(1, n + 1), size=z + 100, price=z + 1_000_000,
                direction=z + 1, ask_price=np.full((n, levels), 1_000_100), ask_size=np.full((n, levels), 100),
                bid_price=np.full((n, levels), 1_000_000), bid_size=np.full((n, levels), 100))


def test_constructor_accepts_the_reference_arrays():
    book = EventBook(**_arrays())
    assert len(book) == 3 and book.arrival_row.tolist() == [0, 1, 2]


def test_unknown_event_type_is_refused_by_the_constructor():
    a = _arrays()
    a["etype"] = np.array([1, 6, 1])
    with pytest.raises(ValueError, match=r"message column 'Type' has 6 at row 1"):
        EventBook(**a)


def test_book_shape_mismatch_is_refused_by_the_constructor():
    a = _arrays()
    a["ask_size"] = np.full((2, 1), 100)
    with pytest.raises(ValueError, match=r"book array 'ask_size' has shape \(2, 1\); expected \(3, 1\)"):
        EventBook(**a)
    a = _arrays()
    a["size"] = np.full(4, 100)
    with pytest.raises(ValueError, match=r"message column 'size' has 4 rows but 'time' has 3"):
        EventBook(**a)


def _write_lobster(tmp_path, message_rows, book_rows):
    m = tmp_path / "TEST_2012-06-21_34200000_57600000_message_1.csv"
    b = tmp_path / "TEST_2012-06-21_34200000_57600000_orderbook_1.csv"
    m.write_text("".join(r + "\n" for r in message_rows))
    b.write_text("".join(r + "\n" for r in book_rows))
    return m, b


MESSAGES = ["34200.1,1,11,100,1000000,1", "34200.2,1,12,100,1000100,-1", "34200.3,3,11,100,1000000,1"]
BOOKS = ["1000200,100,1000000,300", "1000100,100,1000000,300", "1000100,100,1000000,200"]


def test_from_lobster_reads_a_well_formed_pair(tmp_path):
    book = EventBook.from_lobster(*_write_lobster(tmp_path, MESSAGES, BOOKS))
    assert (book.ticker, book.date, book.levels, len(book)) == ("TEST", "2012-06-21", 1, 3)
    assert book.order_id.tolist() == [11, 12, 11] and book.arrival_row.tolist() == [0, 1, 0]
    assert book.bid_size[:, 0].tolist() == [300, 300, 200]


def test_message_and_book_files_of_different_lengths_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"message file TEST_\S+message_1.csv has 3 rows but orderbook file "
                                         r"TEST_\S+orderbook_1.csv has 2"):
        EventBook.from_lobster(*_write_lobster(tmp_path, MESSAGES, BOOKS[:2]))


def test_depth_deeper_than_the_file_is_refused():
    with pytest.raises(ValueError, match=r"depth 2 is deeper than the file, which has 1 level\(s\): "
                                         r"AAPL_2012-06-21_34200000_57600000_orderbook_1.csv"):
        EventBook.bundled("AAPL", depth=2)


@pytest.fixture(scope="module")
def small_book():
    return make_book([(0, 1, 6, 50, 100.05, -1), (5, 1, 7, 10, 99.97, 1)],
                     initial=[(1, 300, 100.00, 1), (5, 100, 100.02, -1)])


def _orders(**change):
    row = {"side": "BUY", "shares": 100, "submit_time": at(1)}
    row.update(change)
    return pd.DataFrame({k: [v] for k, v in row.items()})


@pytest.mark.parametrize("change,error,match", [
    ({"price": 100.005}, ValueError, r"orders column 'price' has .*100.005.* at row 0, which is off the tick "
                                     r"of \$0.01"),
    ({"order_type": "stop"}, ValueError, r"orders column 'order_type' has 'stop' at row 0; must be one of "
                                         r"\['market', 'limit'\]"),
    ({"order_type": "market", "price": 100.0}, ValueError, r"orders row 0 is a market order with price 100.0"),
    ({"peg": True, "price": 100.0}, ValueError, r"orders row 0 is pegged but has an absolute price"),
    ({"peg": True, "order_type": "market"}, ValueError, r"orders row 0 is pegged but .* or is a market order"),
    ({"submit_time": pd.Timestamp("2012-06-21 10:00:01")}, ValueError,
     r"orders column 'submit_time' is timezone-naive"),
    ({"cancel_time": at(0.5)}, ValueError, r"orders row 0 has cancel_time before submit_time"),
    ({"shares": 0}, ValueError, r"orders column 'shares' has 0 at row 0; must be a whole number of shares > 0"),
    ({"shares": 10.5}, ValueError, r"orders column 'shares' has 10.5 at row 0; must be a whole number"),
    ({"shares": np.nan}, ValueError, r"orders column 'shares' has nan at row 0; must be a whole number"),
    ({"shares": -5}, ValueError, r"orders column 'shares' has -5 at row 0"),
    ({"price": -1.0}, ValueError, r"orders column 'price' has -1.0 at row 0; a limit price is a positive"),
    ({"price": 100.0, "offset_ticks": 1}, ValueError, r"orders row 0 has both price and offset_ticks"),
    ({"offset_ticks": 0.5}, ValueError, r"orders column 'offset_ticks' has 0.5 at row 0"),
    ({"side": "HOLD"}, ValueError, r"'side'.*'HOLD'"),
])
def test_bad_orders_are_refused_naming_the_column_and_value(small_book, change, error, match):
    with pytest.raises(error, match=match):
        replay(small_book, _orders(**change))


def test_off_tick_message_shows_the_plain_price(small_book):
    with pytest.raises(ValueError, match=r"orders column 'price' has 100.005 at row 0"):
        replay(small_book, _orders(price=100.005))


def test_a_cancel_time_column_of_nat_means_no_cancel(small_book):
    plain = replay(small_book, _orders())
    res = replay(small_book, _orders(cancel_time=pd.NaT))
    pd.testing.assert_frame_equal(res.orders, plain.orders)


def test_duplicate_order_ids_and_empty_orders_are_refused(small_book):
    orders = pd.concat([_orders(), _orders()], ignore_index=True).assign(order_id=[7, 7])
    with pytest.raises(ValueError, match=r"orders column 'order_id' has 7 twice"):
        replay(small_book, orders)
    with pytest.raises(ValueError, match=r"orders is empty"):
        replay(small_book, _orders().iloc[:0])
    with pytest.raises(ValueError, match=r"orders is missing column\(s\) \['submit_time'\]"):
        replay(small_book, _orders().drop(columns="submit_time"))
    with pytest.raises(TypeError, match=r"orders must be a pandas DataFrame, got dict"):
        replay(small_book, {"side": ["BUY"]})


def test_bad_queue_model_and_arguments_are_refused(small_book):
    with pytest.raises(ValueError, match=r"queue must be one of \['touch', 'risk_averse', 'probabilistic', "
                                         r"'l3_fifo'\], got 'fifo'"):
        replay(small_book, _orders(), queue="fifo")
    with pytest.raises(ValueError, match=r"probability power must be > 0, got -1"):
        replay(small_book, _orders(), queue="probabilistic", probability=("power", -1))
    with pytest.raises(ValueError, match=r"fees must be a dict with keys 'MAKER' and/or 'TAKER'"):
        replay(small_book, _orders(), fees={"maker": 0.1})
    with pytest.raises(TypeError, match=r"book must be an EventBook"):
        replay(pd.DataFrame(), _orders())
    with pytest.raises(TypeError, match=r"latency must be a Latency, got str"):
        replay(small_book, _orders(), latency="1us")


@pytest.mark.parametrize("kwargs,error,match", [
    ({"entry": "-1us"}, ValueError, r"latency 'entry' is .*; a latency cannot be below zero"),
    ({"feed": 5}, TypeError, r"latency 'feed' must be a time span such as '150us'.*got 5; a bare number has no unit"),
    ({"cancel": 1.5}, TypeError, r"latency 'cancel' .* bare number has no unit"),
    ({"response": "soon"}, TypeError, r"latency 'response' must be a time span such as '150us', got 'soon'"),
    ({"entry": ("gamma", "1us")}, ValueError, r"latency 'entry' distribution must be \('lognormal', median, sigma\)"),
    ({"entry": ("lognormal", "1us", -0.5)}, ValueError, r"latency 'entry' lognormal sigma must be >= 0"),
    ({"entry": ("exponential", "-1us")}, ValueError, r"latency 'entry' is .*below zero"),
])
def test_bad_latencies_are_refused_naming_the_leg(kwargs, error, match):
    with pytest.raises(error, match=match):
        Latency(**kwargs)


def test_drawn_latency_without_rng_is_refused(small_book):
    with pytest.raises(TypeError, match=r"latency 'entry' is drawn \(exponential\); pass rng=np.random.default_rng"):
        replay(small_book, _orders(), latency=Latency(entry=("exponential", "100us")))


def test_latency_describe_names_every_leg():
    assert Latency(feed="20us", entry=("lognormal", "100us", 0.5)).describe() == (
        "feed 20us, entry lognormal(median 100us, sigma 0.5), response 0ns, cancel 0ns")


# -- review mends: values that could be silently wrong ----------------------------------------------
def test_a_drawn_latency_beyond_int64_nanoseconds_is_an_error_not_a_wrapped_value():
    lat = Latency(entry=("lognormal", "1s", 50.0))
    with pytest.raises(ValueError, match="latency 'entry' drew .* beyond int64"):
        lat.draw(1000, np.random.default_rng(0))


def test_a_limit_price_beyond_lobsters_range_is_refused_before_the_int64_cast():
    book = make_book([(0, 1, 6, 50, 100.05, -1)], initial=[(1, 300, 100.00, 1), (5, 100, 100.02, -1)])
    with pytest.raises(ValueError, match="orders column 'price' has 1e\\+20 at row 0"):
        replay(book, one(side="BUY", shares=100, price=1e20, submit_time=at(1)))


def test_passive_twap_names_a_bad_parent_cell():
    from execlab.replay import passive_twap

    book = make_book([(0, 1, 6, 50, 100.05, -1)], initial=[(1, 300, 100.00, 1), (5, 100, 100.02, -1)])
    good = pd.DataFrame({"side": ["BUY"], "shares": [100], "start_time": [at(0)], "end_time": [at(2)]})
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="parents column 'shares' has -5 at row 0"):
        passive_twap(book, good.assign(shares=-5), rng=rng)
    with pytest.raises(ValueError, match="timezone-naive"):
        passive_twap(book, good.assign(start_time=at(0).tz_localize(None)), rng=rng)
