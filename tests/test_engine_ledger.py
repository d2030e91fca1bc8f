"""Ledger: average cost, flips, conservation, persistence, atomic updates."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execlab.engine import Ledger

T0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")


def fills(rows):
    return pd.DataFrame({"time": [T0 + pd.Timedelta(minutes=r[0]) for r in rows], "ticker": [r[1] for r in rows],
                         "shares": [r[2] for r in rows], "price": [r[3] for r in rows],
                         "fee": [r[4] if len(r) > 4 else 0.0 for r in rows]})


def test_hand_worked_average_cost_and_flip():
    L = Ledger(10_000.0)
    # buy 10 @ 100, buy 10 @ 110 -> 20 @ 105; sell 5 @ 120 realizes 75; sell 25 @ 90 closes 15 (-225), opens -10 @ 90
    L.apply_fills(fills([(0, "X", 10, 100.0, 1.0), (1, "X", 10, 110.0), (2, "X", -5, 120.0), (3, "X", -25, 90.0, 2.0)]))
    p = L.positions.loc["X"]
    assert p["shares"] == -10 and p["avg_cost"] == 90.0
    assert p["realized_pnl"] == pytest.approx(75 - 225)
    assert L.fees == 3.0
    assert L.cash == pytest.approx(10_000 - 1000 - 1100 + 600 + 2250 - 3)
    # cover the short at 80: +100 realized
    L.apply_fills(fills([(4, "X", 10, 80.0)]))
    assert L.position("X") == 0 and L.positions.loc["X", "avg_cost"] == 0.0
    assert L.realized_pnl == pytest.approx(-50.0)
    assert L.conserved() == pytest.approx(L.initial_value())


def test_fills_apply_in_time_order_not_input_order():
    a, b = Ledger(0.0), Ledger(0.0)
    rows = [(0, "X", 10, 100.0), (1, "X", -10, 110.0), (2, "X", 10, 120.0)]
    a.apply_fills(fills(rows))
    b.apply_fills(fills(rows[::-1]))
    pd.testing.assert_frame_equal(a.positions, b.positions)
    assert a.realized_pnl == 100.0


def naive(cash, rows):
    P, A, R = {}, {}, 0.0
    for _, t, d, p, *fee in sorted(rows, key=lambda r: r[0]):
        p0, a0 = P.get(t, 0), A.get(t, 0.0)
        if p0 == 0 or np.sign(p0) == np.sign(d):
            A[t] = (abs(p0) * a0 + abs(d) * p) / abs(p0 + d)
        else:
            R += min(abs(d), abs(p0)) * (p - a0) * np.sign(p0)
            if p0 + d == 0:
                A[t] = 0.0
            elif np.sign(p0 + d) != np.sign(p0):
                A[t] = p
        P[t] = p0 + d
        cash -= d * p + (fee[0] if fee else 0.0)
    return cash, P, A, R


fill_rows = st.lists(
    st.tuples(st.integers(0, 50), st.sampled_from(["X", "Y"]), st.integers(-300, 300).filter(lambda x: x != 0),
              st.floats(1.0, 1000.0).map(lambda x: round(x, 2)), st.floats(0.0, 5.0)),
    min_size=1, max_size=60)


@settings(max_examples=80, deadline=None)
@given(fill_rows, st.integers(0, 60), st.floats(-1e5, 1e6))
def test_conservation_and_agreement_with_a_loop(rows, split, cash0):
    rows = sorted(rows, key=lambda r: r[0])  # batches come in time order
    L = Ledger(cash0, {"Y": (50, 20.0)})
    start = L.conserved()
    for part in (rows[:split], rows[split:]):
        if part:
            L.apply_fills(fills(part))
            # cash + positions at cost - realized + fees is conserved through every batch
            assert L.conserved() == pytest.approx(start, rel=1e-9, abs=1e-6)
    c, P, A, R = naive(cash0 - 0.0, [(0, "Y", 50, 20.0)] + rows)
    assert L.cash == pytest.approx(c + 50 * 20.0, rel=1e-9, abs=1e-6)
    for t in P:
        assert L.position(t) == P[t]
        assert L.positions.loc[t, "avg_cost"] == pytest.approx(A[t], rel=1e-9, abs=1e-9)
    assert L.realized_pnl == pytest.approx(R, rel=1e-9, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(rows=fill_rows)
def test_json_round_trip_is_exact(rows, tmp_path_factory):
    L = Ledger(12_345.678, {"Z": (7, 3.3)})
    L.apply_fills(fills(sorted(rows)).assign(order_id=range(len(rows))))
    path = L.save(tmp_path_factory.mktemp("l") / "ledger.json")
    M = Ledger.load(path)
    assert M.equals(L)
    pd.testing.assert_frame_equal(M.positions, L.positions)
    pd.testing.assert_frame_equal(M.fills, L.fills)
    assert M.cash == L.cash and M.conserved() == L.conserved()


def test_bad_fills_leave_the_ledger_unchanged():
    L = Ledger(1_000.0)
    L.apply_fills(fills([(0, "X", 5, 10.0)]))
    before = L.to_dict()
    bad = fills([(1, "X", 5, 10.0), (2, "X", 3, -1.0)])
    with pytest.raises(ValueError, match=r"fills column 'price' has -1.0 at row 1; must be > 0"):
        L.apply_fills(bad)
    with pytest.raises(ValueError, match=r"fills column 'shares' has 2.5 at row 0"):
        L.apply_fills(fills([(1, "X", 2.5, 10.0)]))
    with pytest.raises(ValueError, match="timezone-aware"):
        L.apply_fills(fills([(1, "X", 1, 10.0)]).assign(time=pd.Timestamp("2012-06-21 10:00")))
    assert L.to_dict() == before
    with pytest.raises(ValueError, match="use a .json path"):
        L.save("ledger.parquet")


def test_state_at_and_marking():
    L = Ledger(1_000.0)
    L.apply_fills(fills([(0, "X", 10, 10.0), (5, "X", -4, 12.0)]))
    cash, pos = L.state_at(pd.DatetimeIndex([T0, T0 + pd.Timedelta("1min"), T0 + pd.Timedelta("6min")]), ["X"])
    assert pos[:, 0].tolist() == [0, 10, 6]
    assert cash.tolist() == [1_000.0, 900.0, 948.0]
    m = L.mark({"X": 11.0})
    assert m.loc["X", "unrealized_pnl"] == pytest.approx(6.0) and L.equity({"X": 11.0}) == pytest.approx(1_014.0)
    with pytest.raises(ValueError, match="no price for held ticker 'X'"):
        L.mark({"Y": 1.0})


def test_late_fills_replay_so_batching_does_not_matter():
    rows = [(0, "X", 10, 100.0), (1, "X", -10, 110.0), (2, "X", 10, 120.0), (3, "X", 5, 90.0, 1.0)]
    a = Ledger(0.0)
    a.apply_fills(fills(rows))
    b = Ledger(0.0)
    b.apply_fills(fills([rows[0], rows[2]]))
    b.apply_fills(fills([rows[1], rows[3]]))  # the sell at minute 1 comes in late
    pd.testing.assert_frame_equal(a.positions, b.positions)
    assert b.realized_pnl == 100.0 and b.cash == a.cash
