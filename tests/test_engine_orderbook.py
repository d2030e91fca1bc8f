"""Order book: states, legal transitions, history, bulk updates."""

import numpy as np
import pandas as pd
import pytest

from execlab.engine import LEGAL_TRANSITIONS, ORDER_STATES, IllegalTransition, OrderBook

T0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")


def book_with(n=3, qty=100):
    b = OrderBook()
    ids = b.add_parents(pd.DataFrame({"decision_id": [f"d{i}" for i in range(n)], "ticker": "AAPL", "side": "BUY",
                                      "quantity": qty, "algorithm": "twap", "urgency": "HIGH"}), T0)
    return b, ids


def test_every_pair_of_states_is_legal_or_raises():
    for a in ORDER_STATES:
        for to in ORDER_STATES:
            b, ids = book_with(1)
            # walk the order into state a
            path = {"NEW": [], "PARTIALLY_FILLED": ["PARTIALLY_FILLED"], "FILLED": ["FILLED"],
                    "CANCELLED": ["CANCELLED"], "REJECTED": ["REJECTED"], "BLOCKED": ["BLOCKED"]}[a]
            for s in path:
                b.transition(ids, s, T0)
            if to in LEGAL_TRANSITIONS[a]:
                b.transition(ids, to, T0, "ok")
                assert b.status(ids).tolist() == [to]
            else:
                with pytest.raises(IllegalTransition, match=f"{a} -> {to} is not a legal transition"):
                    b.transition(ids, to, T0, "bad")
                assert b.status(ids).tolist() == [a]


def test_bulk_transition_is_all_or_nothing():
    b, ids = book_with(3)
    b.transition(ids[:1], "FILLED", T0)
    n_hist = len(b.history)
    with pytest.raises(IllegalTransition, match="order 0: FILLED -> CANCELLED"):
        b.transition(ids, "CANCELLED", T0, "cancel all")
    assert b.status(ids).tolist() == ["FILLED", "NEW", "NEW"]
    assert len(b.history) == n_hist
    b.transition(ids[1:], "CANCELLED", T0 + pd.Timedelta("1min"), "cancel rest")
    assert b.status(ids).tolist() == ["FILLED", "CANCELLED", "CANCELLED"]


def test_fills_walk_states_and_history_records_each():
    b, ids = book_with(2, qty=100)
    t = pd.DatetimeIndex([T0 + pd.Timedelta(minutes=m) for m in (1, 2, 3, 1)])
    b.apply_fills(np.array([0, 0, 0, 1]), np.array([30, 30, 40, 10]), t)
    assert b.status(ids).tolist() == ["FILLED", "PARTIALLY_FILLED"]
    p = b.parents
    assert p["filled"].tolist() == [100, 10] and p["remaining"].tolist() == [0, 90]
    h = b.history
    h0 = h[h["order_id"] == 0]
    assert h0["to_status"].tolist() == ["NEW", "PARTIALLY_FILLED", "PARTIALLY_FILLED", "FILLED"]
    assert h0["filled"].tolist() == [0, 30, 60, 100]
    assert h0["from_status"].tolist()[1:] == ["NEW", "PARTIALLY_FILLED", "PARTIALLY_FILLED"]
    assert h["time"].is_monotonic_increasing
    with pytest.raises(ValueError, match="more than its quantity 100"):
        b.apply_fills(np.array([1]), np.array([91]), pd.DatetimeIndex([T0]))


def test_children_and_snapshot_restore():
    b, ids = book_with(1)
    snap = b.snapshot()
    c = b.add_children(pd.DataFrame({"parent_id": [0, 0], "slice": [0, 1], "quantity": [50, 50]}), T0)
    assert b.children.loc[c, "parent_id"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="parent_id 9"):
        b.add_children(pd.DataFrame({"parent_id": [9], "quantity": [1]}), T0)
    b.restore(snap)
    assert len(b) == 1 and len(b.children) == 0 and len(b.history) == 1


def test_book_and_ledger_pickle_with_a_lock_of_their_own():
    """Shared between threads, each holds a lock; a pickled copy keeps the state and gets its own working lock."""
    import pickle

    from execlab.engine import Ledger

    b, ids = book_with(2)
    b.transition(ids[:1], "FILLED", T0, "done")
    c = pickle.loads(pickle.dumps(b))
    assert c._lock is not b._lock
    pd.testing.assert_frame_equal(c.history, b.history)
    assert c.status(ids).tolist() == b.status(ids).tolist() == ["FILLED", "NEW"]
    c.transition(ids[1:], "CANCELLED", T0, "copy only")    # the copy works and leaves the original alone
    assert b.status(ids).tolist() == ["FILLED", "NEW"]
    led = Ledger(1_000.0, {"AAPL": (5, 580.0)})
    copy = pickle.loads(pickle.dumps(led))
    assert copy._lock is not led._lock and copy.position("AAPL") == 5 and copy.cash == led.cash
