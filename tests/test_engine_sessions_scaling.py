"""Reads that a run makes once over the whole book or ledger give what the full reads give.

A run's report reads only its own orders' transitions, and the ledger's state
in time reads its fills batch by batch; both must match filtering or
recomputing from the full frames, row for row and type for type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab import RiskLimits
from execlab.engine.orderbook import OrderBook

TZ = "America/New_York"


def _sessions(n: int) -> ex.Market:
    """The real day's one-minute bars repeated on ``n`` business days, prices drifting a little each day."""
    base = ex.load_bars("1min")
    frames = []
    for i, d in enumerate(pd.bdate_range("2012-06-18", periods=n)):
        b = base.copy()
        b["time"] = b["time"] + pd.Timedelta(days=(d - pd.Timestamp("2012-06-21")).days)
        for c in ("open", "high", "low", "close", "vwap", "mid", "mid_open", "mid_close"):
            b[c] = b[c] * (1 + 0.01 * i)
        frames.append(b)
    return ex.Market.from_bars(pd.concat(frames, ignore_index=True), "1min")


@pytest.fixture(scope="module")
def market() -> ex.Market:
    return _sessions(4)


def _decisions(market: ex.Market, days, per_day: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    m = len(days) * per_day
    t = (pd.DatetimeIndex(np.repeat(market.dates[days], per_day)).tz_localize(TZ) + pd.Timedelta("09:35:00")
         + pd.to_timedelta(rng.integers(0, 370 * 60, m), "s"))
    return pd.DataFrame({"decision_id": [f"{prefix}{i}" for i in range(m)], "ticker": rng.choice(["AAPL", "AMZN", "GOOG"], m),
                         "action": rng.choice(["BUY", "SELL", "HOLD"], m, p=[0.5, 0.4, 0.1]),
                         "position_size": rng.uniform(0.5, 3.0, m).round(2),
                         "urgency": rng.choice(["CRITICAL", "HIGH", "MEDIUM", "LOW"], m), "time": t})


def _filtered(history: pd.DataFrame, first_id: int) -> pd.DataFrame:
    return history[history["order_id"] >= first_id].reset_index(drop=True)


def test_each_runs_history_is_the_books_history_of_its_orders(market):
    exe = ex.Executor(market, forecast=market.forecast(window=1, min_sessions=1), cash=5_000_000,
                      risk=RiskLimits(max_position_pct=30, daily_loss_limit=5_000), fee_per_share=0.0035)
    starts, reports = [], []
    for k, days in enumerate(([1, 2], [3], [3])):
        starts.append(len(exe.book))
        reports.append(exe.run(_decisions(market, days, 40, seed=k, prefix=f"r{k}_")))
    full = exe.book.history
    assert len(full) and sum(len(r.history) for r in reports) == len(full)
    for first, end, rep in zip(starts, starts[1:] + [len(exe.book)], reports):
        mine = full[(full["order_id"] >= first) & (full["order_id"] < end)].reset_index(drop=True)
        pd.testing.assert_frame_equal(rep.history, mine, check_exact=True)
        assert list(rep.history.dtypes) == list(full.dtypes)
    # a run that places nothing has an empty history with the same column types
    rep = exe.run(_decisions(market, [3], 5, seed=9, prefix="h").assign(action="HOLD"))
    assert len(rep.history) == 0 and list(rep.history.dtypes) == list(full.dtypes)


def test_history_since_matches_filtering_and_keeps_time_order():
    book = OrderBook()
    t0 = pd.Timestamp("2012-06-21 10:00", tz=TZ)
    parents = pd.DataFrame({"decision_id": ["a", "b", "c"], "ticker": ["AAPL"] * 3, "side": ["BUY"] * 3,
                            "quantity": [100, 50, 10], "algorithm": ["twap"] * 3, "urgency": ["HIGH"] * 3})
    ids = book.add_parents(parents, [t0 + pd.Timedelta(minutes=m) for m in (5, 0, 5)])
    # transitions recorded out of time order, with ties: the read sorts by time, stably
    book.apply_fills(ids[[0, 1]], [40, 50], [t0 + pd.Timedelta(minutes=9), t0 + pd.Timedelta(minutes=1)])
    book.transition(ids[[2, 0]], "CANCELLED", t0 + pd.Timedelta(minutes=9), ["late", "rest"])
    full = book.history
    assert full["time"].is_monotonic_increasing
    assert full["from_status"].isna().sum() == 3 and str(full["time"].dtype) == f"datetime64[ns, {TZ}]"
    for first in (0, 1, 2, 3, 10):
        pd.testing.assert_frame_equal(book._history_since(first), _filtered(full, first), check_exact=True)


def test_state_at_reads_every_booked_fill():
    ledger = ex.engine.ledger.Ledger(10_000.0, {"AAPL": (5, 500.0)})
    t = pd.Timestamp("2012-06-21 10:00", tz=TZ)
    for k in range(3):  # three batches, the last one earlier than the others
        at = t + pd.Timedelta(minutes=10 * (2 - k) if k == 2 else 10 * k)
        ledger.apply_fills(pd.DataFrame({"time": [at, at + pd.Timedelta(minutes=1)], "ticker": ["AAPL", "GOOG"],
                                         "shares": [3 + k, -(2 + k)], "price": [580.0 + k, 570.0], "fee": [0.5, 0.25]}))
    times = t + pd.to_timedelta([-1, 0, 1, 5, 11, 15, 30], "min")
    cash, pos = ledger.state_at(times, ["GOOG", "MSFT", "AAPL"])
    f = ledger.fills
    ft = pd.DatetimeIndex(f["time"])
    for i, when in enumerate(times):
        before = f[ft < when]
        assert cash[i] == pytest.approx(10_000.0 - float((before["shares"] * before["price"] + before["fee"]).sum()), abs=1e-9)
        held = before.groupby("ticker")["shares"].sum()
        assert pos[i].tolist() == [int(held.get("GOOG", 0)), 0, 5 + int(held.get("AAPL", 0))]


def test_a_book_read_from_another_thread_while_orders_are_added_loses_nothing():
    """history/parents read in one thread while another adds and moves orders: every transition is kept."""
    import threading

    import pandas as pd

    from execlab.engine.orderbook import OrderBook

    book = OrderBook()
    t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    frame = pd.DataFrame({"decision_id": ["d"] * 5, "ticker": "AAPL", "side": "BUY", "quantity": [100] * 5,
                          "algorithm": "twap", "urgency": "HIGH"})
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                book.history
                book.parents
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(200):
        ids = book.add_parents(frame, t)
        book.transition(ids, "CANCELLED", t, "done")
    stop.set()
    reader.join()
    assert not errors
    h = book.history
    assert len(h) == 200 * 5 * 2 and (h["to_status"] == "CANCELLED").sum() == 1000


def test_the_book_refuses_an_unknown_side_a_negative_quantity_and_an_unknown_urgency():
    import pandas as pd
    import pytest

    from execlab.engine.orderbook import OrderBook

    t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    good = {"decision_id": ["d"], "ticker": ["AAPL"], "side": ["BUY"], "quantity": [100], "algorithm": ["twap"],
            "urgency": ["HIGH"]}
    for column, value, message in (("side", "SIDEWAYS", "side"), ("quantity", -5, "quantity' has -5 at row 0"),
                                   ("urgency", "WHENEVER", "urgency' has 'WHENEVER' at row 0")):
        book = OrderBook()
        with pytest.raises(ValueError, match=message):
            book.add_parents(pd.DataFrame({**good, column: [value]}), t)
        assert len(book) == 0   # nothing half-added: a good frame after it is the book's only order
        book.add_parents(pd.DataFrame(good), t)
        assert len(book.parents) == 1 and book.parents["quantity"].tolist() == [100]
        assert book.parents["urgency"].tolist() == ["HIGH"] and book.parents["side"].tolist() == ["BUY"]
    # a parent's missing urgency (it picks the algorithm) is refused by name, in any pandas string column, and
    # never as pandas' "boolean value of NA is ambiguous"
    for dtype in ("string[pyarrow]", "string[python]", object):
        frame = pd.DataFrame({**good, "urgency": pd.array([pd.NA], dtype=dtype)})
        with pytest.raises(ValueError, match="urgency' has <NA> at row 0; must be one of"):
            OrderBook().add_parents(frame, t)
        with pytest.raises(ValueError, match="urgency' has 'SOON' at row 0"):
            OrderBook().add_parents(pd.DataFrame({**good, "urgency": pd.array(["SOON"], dtype=dtype)}), t)
