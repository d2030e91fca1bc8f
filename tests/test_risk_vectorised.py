"""Risk check: the column-wise block reasons equal the per-order loop they replaced.

``_reason_one`` and ``_reasons_loop`` below are the message code ``RiskManager.check``
ran once per blocked order before the text was built column-wise; they stay here as
the reference.  Every reason ``check`` returns must equal, character for character,
what the loop gives for the same blocked rows, on hypothesis batches (many tickers or
one, limits on or off, kill switch and loss latch) and on an edge set: orders exactly
at each limit and one share over, limits so small that everything adding risk is
blocked, and thousands of orders of one ticker with limits binding all day.  The
decisions themselves must not depend on where the vectorised passes hand over to the
ordered scan.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execlab.engine import RiskLimits, RiskManager
from execlab.engine import risk as risk_module

T0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")


def _reason_one(rm, rule, value, limit, ticker, d, before):
    """One blocked order's reason, as the per-order loop wrote it (reference)."""
    side = "BUY" if d > 0 else "SELL"
    if rule == "kill_switch":
        since = "" if rm.kill_switch_time is None else f" since {rm.kill_switch_time}"
        return f"kill switch active{since}: {rm.kill_switch_reason}"
    if rule == "daily_loss_limit":
        when = rm.day.loss_hit if rm.day.loss_hit is not None else (rm._batch_loss or (None,))[0]
        return (f"daily loss limit: day P&L ${value:,.2f} (limit -${-limit:,.2f}) reached"
                + (f" at {when:%H:%M}" if when is not None else "") + f"; {side} {abs(d)} {ticker} adds risk")
    if rule == "max_order_notional":
        return f"order notional ${value:,.2f} > max ${limit:,.2f}"
    if rule == "max_position_shares":
        return f"{ticker} position {before:+d} -> {before + d:+d} shares; |{before + d}| > max {limit:,.0f}"
    if rule == "max_position_pct":
        return f"{ticker} position {before + d:+d} shares = {value:.2f}% of portfolio > max {limit:.2f}%"
    if rule == "max_gross_exposure":
        return f"gross exposure ${value:,.2f} > max ${limit:,.2f}"
    return rule


def _reasons_loop(rm, blocked, rule, value, limit, ticker, d_sh, before):
    """The loop ``check`` ended with: message text for blocked rows only (reference)."""
    reason = np.full(len(rule), "", dtype=object)
    for i in np.flatnonzero(blocked):
        reason[i] = _reason_one(rm, rule[i], value[i], limit[i], ticker[i], d_sh[i], before[i])
    return reason


def manager(limits, value=100_000.0, positions=None, prices=None):
    rm = RiskManager(limits)
    positions = pd.Series({"A": 40, "B": 0, "C": -20}) if positions is None else positions
    prices = pd.Series({"A": 100.0, "B": 50.0, "C": 200.0}) if prices is None else prices
    rm.start_day(T0.normalize(), value, positions, prices)
    return rm


def times(n):
    return T0 + pd.to_timedelta(np.arange(n), "s")


def check_against_loop(rm, ticker, d, price, pnl):
    """Run ``check`` and compare its reasons with the reference loop on the same blocked rows."""
    ticker = np.asarray(ticker)
    d = np.asarray(d, dtype=np.int64)
    out = rm.check(ticker, d, np.asarray(price, dtype=float), times(len(d)), np.asarray(pnl, dtype=float))
    blocked = out["blocked"].to_numpy()
    ref = _reasons_loop(rm, blocked, out["rule"].to_numpy(object), out["value"].to_numpy(), out["limit"].to_numpy(),
                        ticker, d, out["position_before"].to_numpy())
    assert out["reason"].tolist() == ref.tolist()
    assert ((out["reason"] != "") == out["blocked"]).all()
    assert (out["position_after"] - out["position_before"]).tolist() == d.tolist()
    return out


def decisions_three_ways(monkeypatch, make, ticker, d, price, pnl):
    """The same batch decided by vectorised passes only, the ordered scan only, and the default mix."""
    outs = []
    for passes in (10**9, 0, risk_module._VECTOR_PASSES):
        with monkeypatch.context() as m:
            m.setattr(risk_module, "_VECTOR_PASSES", passes)
            outs.append(check_against_loop(make(), ticker, d, price, pnl))
    for other in outs[1:]:
        pd.testing.assert_frame_equal(outs[0], other)
    return outs[-1]


# ---------------------------------------------------------------- reasons on raw columns

_finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(["", *risk_module.RISK_RULES, "some_future_rule"]), _finite_or_not,
                          st.floats(min_value=1e-3, max_value=1e15), st.text(min_size=1, max_size=6),
                          st.integers(-2**40, 2**40).filter(bool), st.integers(-2**40, 2**40)), max_size=60),
       st.sampled_from([None, "09:45"]), st.booleans())
def test_reasons_equal_the_loop_on_any_column_values(rows, kill_at, latched):
    rm = manager(None)
    rm.activate_kill_switch("desk halt", time=None if kill_at is None else pd.Timestamp(f"2012-06-21 {kill_at}", tz=T0.tz))
    rm._batch_loss = (T0 + pd.Timedelta("7min"), -1.0)
    if latched:
        rm.day.loss_hit = T0 + pd.Timedelta("3min")
    rule = np.array([r[0] for r in rows], dtype=object)
    value = np.array([r[1] for r in rows], dtype=float)
    limit = np.array([-r[2] if r[0] == "daily_loss_limit" else r[2] for r in rows], dtype=float)
    ticker = np.array([r[3] for r in rows], dtype=str)
    d = np.array([r[4] for r in rows], dtype=np.int64)
    before = np.array([r[5] for r in rows], dtype=np.int64)
    got = rm._reasons(rule, value, limit, ticker, d, before)
    ref = _reasons_loop(rm, rule != "", rule, value, limit, ticker, d, before)
    assert got.tolist() == ref.tolist()


def test_reasons_keep_the_text_of_signed_zeros_and_rounding_ties():
    rm = manager(None)
    value = np.array([0.0, -0.0, 0.125, 0.375, 1.005, 2.675, -0.005, 1e21, np.nan, np.inf])
    rule = np.full(len(value), "max_gross_exposure", dtype=object)
    limit = value[::-1].copy()
    ticker = np.full(len(value), "A")
    zero = np.zeros(len(value), dtype=np.int64)
    got = rm._reasons(rule, value, limit, ticker, zero + 1, zero)
    assert got.tolist() == _reasons_loop(rm, rule != "", rule, value, limit, ticker, zero + 1, zero).tolist()
    # 0.0 and -0.0 compare equal but keep their own text, as in an f-string
    assert got[0].startswith("gross exposure $0.00 >") and got[1].startswith("gross exposure $-0.00 >")
    assert rm._reasons(rule[:0], value[:0], limit[:0], ticker[:0], zero[:0], zero[:0]).shape == (0,)


# ---------------------------------------------------------------- check() on hypothesis batches

_limits = st.builds(
    RiskLimits,
    max_position_pct=st.none() | st.sampled_from([0.01, 1.0, 8.0, 20.0]),
    max_position_shares=st.none() | st.sampled_from([1, 60, 150, 10_000]),
    max_order_notional=st.none() | st.sampled_from([0.01, 6_000.0, 1e7]),
    max_gross_exposure=st.none() | st.sampled_from([0.01, 15_000.0, 30_000.0, 1e8]),
    daily_loss_limit=st.none() | st.sampled_from([300.0, 1e6]),
)


@settings(max_examples=150)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "NEW"]), st.integers(-500, 500).filter(bool),
                          st.integers(1, 10**7).map(lambda c: c / 100), st.floats(-2_000, 1_000)),
                min_size=1, max_size=60),
       _limits, st.sampled_from(["off", "always", "timed"]), st.booleans())
def test_check_reasons_equal_the_loop(orders, limits, kill, latched):
    rm = manager(limits, value=1_234_567.89, prices=pd.Series({"A": 101.37, "B": 49.99, "C": 203.05}))
    if kill == "always":
        rm.activate_kill_switch("fat finger review")
    elif kill == "timed":
        rm.activate_kill_switch("venue outage", time=T0 + pd.Timedelta(seconds=len(orders) // 2))
    if latched and limits.daily_loss_limit is not None:
        rm.note_loss(T0 - pd.Timedelta("5min"), -2 * limits.daily_loss_limit)
    check_against_loop(rm, [o[0] for o in orders], [o[1] for o in orders], [o[2] for o in orders],
                       np.cumsum([o[3] for o in orders]))


@settings(max_examples=60)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(-80, 80).filter(bool), st.floats(-60, 40)),
                min_size=1, max_size=60),
       _limits)
def test_passes_and_scan_decide_alike(orders, limits):
    # Prices on an exact binary grid: the passes and the scan add gross exposure in a different
    # order, which could differ in the last bit at a tie; here every sum is exact.
    px = pd.Series({"A": 100.0, "B": 50.0, "C": 200.0})
    tick = np.array([o[0] for o in orders])
    with pytest.MonkeyPatch.context() as mp:
        decisions_three_ways(mp, lambda: manager(limits), tick, [o[1] for o in orders], px.reindex(tick).to_numpy(),
                             np.cumsum([o[2] for o in orders]))


# ---------------------------------------------------------------- edge set

@pytest.mark.parametrize("limits, tick, d, pnl, blocked, reason", [
    # A holds 40 shares at $100 of a $100,000 book; B 0 at $50; C -20 at $200: gross $8,000.
    (RiskLimits(max_position_shares=100), "AA", [60, 1], [0, 0], [False, True],
     "A position +100 -> +101 shares; |101| > max 100"),
    (RiskLimits(max_position_pct=10), "AA", [60, 1], [0, 0], [False, True],
     "A position +101 shares = 10.10% of portfolio > max 10.00%"),
    (RiskLimits(max_gross_exposure=10_000), "BBCB", [40, 1, 20, 1], [0, 0, 0, 0], [False, True, False, False],
     "gross exposure $10,050.00 > max $10,000.00"),
    (RiskLimits(max_order_notional=6_000), "AA", [60, -61], [0, 0], [False, True],
     "order notional $6,100.00 > max $6,000.00"),
    (RiskLimits(daily_loss_limit=1_000), "AAA", [1, 1, -1], [-999.99, -1_000, -5_000], [False, True, False],
     "daily loss limit: day P&L $-1,000.00 (limit -$1,000.00) reached at 10:00; BUY 1 A adds risk"),
], ids=["shares", "pct", "gross", "notional", "loss"])
def test_ties_pass_and_one_share_over_blocks(monkeypatch, limits, tick, d, pnl, blocked, reason):
    tick = np.array(list(tick))
    px = pd.Series({"A": 100.0, "B": 50.0, "C": 200.0}).reindex(tick).to_numpy()
    out = decisions_three_ways(monkeypatch, lambda: manager(limits), tick, d, px, pnl)
    assert out["blocked"].tolist() == blocked
    assert out.loc[out["blocked"], "reason"].tolist() == [reason]


def test_limits_too_small_for_any_order(monkeypatch):
    with pytest.raises(ValueError, match="max_position_shares == 0, must be a positive number or None"):
        RiskLimits(max_position_shares=0)
    lim = RiskLimits(max_position_shares=1, max_position_pct=0.01, max_order_notional=0.01, max_gross_exposure=0.01,
                     daily_loss_limit=0.01)
    tick = np.array(["A", "B", "C", "B", "A"])
    d = np.array([-40, 1, 5, -1, 1])
    pnl = np.array([0.0, -0.0, -0.01, 5.0, -7.5])
    out = decisions_three_ways(monkeypatch, lambda: manager(lim), tick, d, np.array([100.0, 50.0, 200.0, 50.0, 100.0]), pnl)
    assert out["blocked"].all()  # every order is over $0.01 of notional
    rm = manager(RiskLimits(max_position_shares=1, daily_loss_limit=0.01))
    out = check_against_loop(rm, tick, d, np.array([100.0, 50.0, 200.0, 50.0, 100.0]), pnl)
    # A -40 closes A (reduces risk); B +1 is within 1 share; C +5 covers the short; the loss hit at
    # the third decision blocks the next order that adds risk (B from +1 to 0 does not; A 0 -> 1 does)
    assert out["blocked"].tolist() == [False, False, False, False, True]
    assert out["reason"].iat[4] == "daily loss limit: day P&L $-7.50 (limit -$0.01) reached at 10:00; BUY 1 A adds risk"


def test_many_orders_of_one_ticker_with_limits_binding_all_day(monkeypatch):
    rng = np.random.default_rng(20120621)
    n = 3_000
    tick = np.full(n, "A")
    d = rng.choice([-60, 60, 90], n) * rng.integers(1, 4, n)
    px = np.full(n, 100.0)
    # binding from the inside out: gross above |A| = 210, percent above 250, shares above 300
    lim = RiskLimits(max_position_shares=300, max_position_pct=25, max_gross_exposure=25_000, max_order_notional=20_000)
    out = decisions_three_ways(monkeypatch, lambda: manager(lim), tick, d, px, np.zeros(n))
    blocked_by = out.loc[out["blocked"], "rule"].value_counts()
    assert {"max_position_shares", "max_position_pct", "max_gross_exposure", "max_order_notional"} <= set(blocked_by.index)
    assert out["blocked"].sum() > n // 4
    # a reason for every block, naming A and the rule's numbers
    assert out.loc[out["rule"] == "max_position_shares", "reason"].str.match(r"A position [+-]\d+ -> [+-]\d+ shares").all()
