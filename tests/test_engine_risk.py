"""Risk manager: limits, kill switch, loss latch, and batch == one at a time."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execlab.engine import RiskLimits, RiskManager

T0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
POS0 = pd.Series({"A": 40, "B": 0, "C": -20})
PX = pd.Series({"A": 100.0, "B": 50.0, "C": 200.0})


def manager(limits):
    rm = RiskManager(limits)
    rm.start_day(T0.normalize(), 100_000.0, POS0, PX)
    return rm


def times(n):
    return pd.DatetimeIndex([T0 + pd.Timedelta(seconds=i) for i in range(n)])


def test_each_rule_blocks_with_numbers():
    rm = manager(RiskLimits(max_order_notional=7_000, max_position_shares=100, max_position_pct=12))
    out = rm.check(np.array(["A", "A", "B", "A"]), np.array([60, 80, 20, -30]), np.array([100.0] * 4), times(4), np.zeros(4))
    assert out["blocked"].tolist() == [False, True, False, False]
    assert out["rule"].tolist()[1] == "max_order_notional"
    assert out["reason"].iat[1] == "order notional $8,000.00 > max $7,000.00"
    # A: 40 + 60 = 100 shares = 10% -> passes; a further 20 would be 120 shares: blocked by shares first
    out = manager(RiskLimits(max_position_shares=100)).check(np.array(["A", "A", "A"]), np.array([60, 20, -50]),
                                                            np.full(3, 100.0), times(3), np.zeros(3))
    assert out["blocked"].tolist() == [False, True, False]
    assert out["value"].iat[1] == 120 and out["limit"].iat[1] == 100
    assert "A position +100 -> +120 shares" in out["reason"].iat[1]
    assert out["position_after"].tolist() == [100, 120, 50]


def test_risk_reducing_orders_pass_position_limits():
    rm = manager(RiskLimits(max_position_shares=10))  # A already holds 40 > 10
    out = rm.check(np.array(["A", "A", "C"]), np.array([-10, 5, 10]), np.full(3, 100.0), times(3), np.zeros(3))
    assert out["blocked"].tolist() == [False, True, False]


def test_gross_exposure_counts_every_ticker():
    # start: |40| x 100 + |-20| x 200 = 8,000
    rm = manager(RiskLimits(max_gross_exposure=10_000))
    assert rm.gross_exposure() == 8_000
    out = rm.check(np.array(["B", "B", "C"]), np.array([30, 20, 5]), np.full(3, 50.0), times(3), np.zeros(3))
    assert out["blocked"].tolist() == [False, True, False]  # 9,500 ok; 10,500 no; C short covers
    assert out["value"].iat[1] == 10_500


def test_kill_switch_blocks_everything_then_releases():
    rm = manager(None)
    rm.activate_kill_switch("fat finger review")
    out = rm.check(np.array(["A", "A"]), np.array([1, -1]), np.full(2, 100.0), times(2), np.zeros(2))
    assert out["blocked"].all() and (out["rule"] == "kill_switch").all()
    assert out["reason"].iat[0] == "kill switch active: fat finger review"
    rm.deactivate_kill_switch()
    assert not rm.check(np.array(["A"]), np.array([1]), np.array([100.0]), times(1), np.zeros(1))["blocked"].any()
    assert rm.events["event"].tolist() == ["kill_switch_on", "kill_switch_off"]
    with pytest.raises(ValueError, match="non-empty string"):
        rm.activate_kill_switch("")


def test_daily_loss_limit_latches_for_risk_adding_orders():
    rm = manager(RiskLimits(daily_loss_limit=1_000))
    pnl = np.array([-200.0, -1_100.0, 500.0, 500.0])  # breach at the second decision, recovery after
    out = rm.check(np.array(["A", "A", "A", "A"]), np.array([5, 5, 5, -50]), np.full(4, 100.0), times(4), pnl)
    assert out["blocked"].tolist() == [False, True, True, False]  # the sell reduces risk
    assert (out["rule"].iloc[1:3] == "daily_loss_limit").all()
    rm.note_loss(*rm._batch_loss)
    assert rm.loss_limit_hit
    out = rm.check(np.array(["B"]), np.array([1]), np.array([50.0]), times(1), np.array([0.0]))
    assert out["blocked"].tolist() == [True]


def test_limits_validate():
    with pytest.raises(ValueError, match=r"max_order_notional == -5, must be a positive number or None"):
        RiskLimits(max_order_notional=-5)
    with pytest.raises(TypeError, match="RiskLimits"):
        RiskManager({"max_order_notional": 5})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(-80, 80).filter(lambda x: x != 0),
                       st.floats(-60, 40)), min_size=1, max_size=40),
    st.sampled_from([None, 60, 150]), st.sampled_from([None, 8.0, 20.0]), st.sampled_from([None, 15_000.0, 30_000.0]),
    st.sampled_from([None, 6_000.0]), st.sampled_from([None, 300.0]),
)
def test_batch_equals_one_at_a_time(orders, sh, pct, gross, notional, loss):
    lim = RiskLimits(max_position_shares=sh, max_position_pct=pct, max_gross_exposure=gross,
                     max_order_notional=notional, daily_loss_limit=loss)
    tick = np.array([o[0] for o in orders])
    d = np.array([o[1] for o in orders], dtype=np.int64)
    price = PX.reindex(tick).to_numpy()
    pnl = np.cumsum([o[2] for o in orders])
    t = times(len(orders))
    batch = manager(lim).check(tick, d, price, t, pnl)
    rm = manager(lim)
    seq = []
    for i in range(len(orders)):
        c = rm.check(tick[i:i + 1], d[i:i + 1], price[i:i + 1], t[i:i + 1], pnl[i:i + 1])
        if rm._batch_loss is not None:
            rm.note_loss(*rm._batch_loss)
        seq.append((bool(c["blocked"].iat[0]), c["rule"].iat[0]))
        if not c["blocked"].iat[0]:
            rm.commit(tick[i:i + 1], d[i:i + 1])
    assert list(zip(batch["blocked"].tolist(), batch["rule"].tolist())) == seq
