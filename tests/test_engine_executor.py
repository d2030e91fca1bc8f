"""Executor: the whole workflow on the bundled real data."""

import numpy as np
import pandas as pd
import pytest

import execlab as ex
import execlab.engine.executor as executor_mod
from execlab.engine import Ledger, RiskLimits

TZ = "America/New_York"


@pytest.fixture(scope="module")
def bars():
    return ex.load_market("1min")


def d(ticker, action, size, urgency, time, **kw):
    return {"ticker": ticker, "action": action, "position_size": size, "urgency": urgency,
            "time": pd.Timestamp(time, tz=TZ), **kw}


def test_sizing_uses_mid_at_decision_time(bars):
    exe = ex.Executor(bars, forecast="same_session", portfolio_value=100_000)
    rep = exe.process_ticker("AMZN", "BUY", 5, "CRITICAL", time="2012-06-21 10:00")
    b = bars.to_bars("AMZN")
    mid = b[b.time == pd.Timestamp("2012-06-21 10:00", tz=TZ)]["mid_open"].iat[0]
    assert rep.decisions["price"].iat[0] == pytest.approx(mid)
    assert rep.orders["quantity"].iat[0] == int(np.floor(5_000 / mid))  # 22 shares at ~$223
    assert rep.orders["decision_price"].iat[0] == pytest.approx(rep.shortfall["decision_price"].iat[0])


def test_every_urgency_its_algorithm_and_fills_reach_the_ledger(bars):
    exe = ex.Executor(bars, forecast="same_session", portfolio_value=1_000_000, fee_per_share=0.01)
    rep = exe.run([d("AAPL", "BUY", 2, u, f"2012-06-21 1{i}:00") for i, u in enumerate(["CRITICAL", "HIGH", "MEDIUM", "LOW"])])
    o = rep.orders
    assert o["algorithm"].tolist() == ["market", "twap", "twap", "vwap"]
    assert (o["status"] == "FILLED").all()
    # children: 1 market, 5 HIGH slices one minute apart, 10 MEDIUM slices three minutes apart
    ch = rep.children.groupby("parent_id").size()
    assert ch.loc[o.index[:3]].tolist() == [1, 5, 10]
    med = rep.children[rep.children["parent_id"] == o.index[2]]["release_time"]
    assert (med.diff().dropna() == pd.Timedelta("3min")).all()
    assert (rep.fills.groupby("order_id")["shares"].sum() == o["quantity"]).all()
    assert exe.ledger.position("AAPL") == o["quantity"].sum()
    assert exe.ledger.fees == pytest.approx(0.01 * o["quantity"].sum())
    assert exe.ledger.conserved() == pytest.approx(exe.ledger.initial_value())
    assert (o["expected_cost_bps"] > 0).all()
    s = rep.stats
    assert s["executions"] == 4 and s["successful"] == 4 and s["fill_rate"] == 1.0
    assert s["total_volume"] == o["quantity"].sum()
    text = rep.summary()
    for word in ("Executions:", "Fill rate:", "Total volume:", "Total fees:", "Avg slippage:", "By algorithm:"):
        assert word in text
    assert set(rep.by_algorithm.index) == {"market", "twap", "vwap"}


def test_hold_zero_shares_and_sell_cap(bars):
    exe = ex.Executor(bars, forecast="same_session", cash=100_000, positions={"GOOG": (10, 570.0)})
    rep = exe.run([
        d("AAPL", "HOLD", None, "LOW", "2012-06-21 10:00", decision_id="h"),
        d("AAPL", "BUY", 0.1, "HIGH", "2012-06-21 10:00", decision_id="z"),  # $106 < one share
        d("GOOG", "SELL", 20, "HIGH", "2012-06-21 10:00", decision_id="s1"),  # wants 37, holds 10
        d("GOOG", "SELL", 5, "HIGH", "2012-06-21 10:01", decision_id="s2"),  # nothing left to sell
    ])
    sk = rep.skipped.set_index("decision_id")["reason"]
    assert sk["h"] == "HOLD: no order"
    assert sk["z"].startswith("zero shares: 0.1% of $") and "less than one share" in sk["z"]
    assert "nothing to sell" in sk["s2"]
    o = rep.orders.set_index("decision_id")
    assert o.loc["s1", "requested"] > 10 and o.loc["s1", "quantity"] == 10
    assert exe.ledger.position("GOOG") == 0
    assert rep.decisions.set_index("decision_id")["outcome"].to_dict() == {
        "h": "SKIPPED", "z": "SKIPPED", "s1": "FILLED", "s2": "SKIPPED"}


def test_allow_short(bars):
    exe = ex.Executor(bars, forecast="same_session", cash=100_000, allow_short=True)
    rep = exe.process_ticker("AMZN", "SELL", 10, "CRITICAL", time="2012-06-21 11:00")
    assert exe.ledger.position("AMZN") == -rep.orders["quantity"].iat[0] < 0


def test_blocked_orders_never_reach_simulator_or_ledger(bars, monkeypatch):
    seen = []
    real = executor_mod._simulate

    def spy(orders, *a, **k):
        seen.extend(orders["decision_id"].tolist())
        return real(orders, *a, **k)

    monkeypatch.setattr(executor_mod, "_simulate", spy)
    exe = ex.Executor(bars, forecast="same_session", cash=100_000, risk=RiskLimits(max_position_pct=10))
    rep = exe.run([d("AAPL", "BUY", 8, "HIGH", "2012-06-21 10:00", decision_id="a"),
                   d("AAPL", "BUY", 4, "HIGH", "2012-06-21 10:10", decision_id="b"),
                   d("GOOG", "BUY", 4, "HIGH", "2012-06-21 10:10", decision_id="c")])
    assert seen == ["a", "c"]
    b = rep.blocked.set_index("decision_id")
    assert b.loc["b", "rule"] == "max_position_pct" and b.loc["b", "limit"] == 10
    assert b.loc["b", "value"] > 10 and "% of portfolio > max 10.00%" in b.loc["b", "reason"]
    assert "b" not in set(exe.ledger.fills.merge(rep.fills, on="order_id")["decision_id"])
    assert exe.book.parents.loc[b.loc["b", "order_id"], "status"] == "BLOCKED"
    assert exe.ledger.position("AAPL") == rep.orders.set_index("decision_id").loc["a", "quantity"]


def test_kill_switch_and_daily_loss_limit(bars):
    exe = ex.Executor(bars, forecast="same_session", cash=100_000, positions={"AAPL": (20, 585.0)}, risk=RiskLimits(daily_loss_limit=50))
    exe.activate_kill_switch("manual halt")
    rep = exe.process_ticker("AAPL", "BUY", 50, "CRITICAL", time="2012-06-21 09:35")
    assert rep.blocked["rule"].tolist() == ["kill_switch"] and len(exe.ledger.fills) == 0
    assert rep.blocked["reason"].iat[0] == "kill switch active: manual halt"
    exe.deactivate_kill_switch()
    # AAPL falls from ~585 to ~578 over the day: a long of ~60% of the book loses well over $50
    # by the afternoon; the 20 shares held at the open are sellable, today's purchases are not
    exe.process_ticker("AAPL", "BUY", 50, "CRITICAL", time="2012-06-21 09:36")
    rep = exe.run([d("AAPL", "BUY", 5, "HIGH", "2012-06-21 15:00", decision_id="add"),
                   d("AAPL", "SELL", 5, "HIGH", "2012-06-21 15:01", decision_id="reduce")])
    assert rep.blocked["decision_id"].tolist() == ["add"]
    assert rep.blocked["rule"].iat[0] == "daily_loss_limit" and rep.blocked["value"].iat[0] < -50
    assert rep.orders["decision_id"].tolist() == ["reduce"]
    assert exe.risk.loss_limit_hit
    # latched for the day: later risk-adding orders stay blocked
    rep = exe.process_ticker("GOOG", "BUY", 1, "HIGH", time="2012-06-21 15:30")
    assert rep.blocked["rule"].tolist() == ["daily_loss_limit"]


def test_bad_input_raises_or_rejects_and_changes_nothing(bars):
    exe = ex.Executor(bars, forecast="same_session", cash=100_000)
    exe.process_ticker("AAPL", "BUY", 1, "HIGH", time="2012-06-21 10:00", decision_id="x")
    state = exe.ledger.to_dict()
    n_book = len(exe.book)
    with pytest.raises(ValueError, match=r"column 'ticker' has 'MSFT' at row 1; it is not in the market"):
        exe.run([d("AAPL", "BUY", 1, "HIGH", "2012-06-21 11:00"), d("MSFT", "BUY", 1, "HIGH", "2012-06-21 11:00")])
    with pytest.raises(ValueError, match=r"column 'time' has 2012-06-21 17:00:00-04:00 at row 0 \(AAPL\); there is no quote"):
        exe.process_ticker("AAPL", "BUY", 1, "HIGH", time="2012-06-21 17:00")
    with pytest.raises(ValueError, match=r"'decision_id' has 'x' at row 0, which this executor has already processed"):
        exe.process_ticker("AAPL", "BUY", 1, "HIGH", time="2012-06-21 11:00", decision_id="x")
    with pytest.raises(ValueError, match=r"column 'urgency' has 'NOW'"):
        exe.process_ticker("AAPL", "BUY", 1, "NOW", time="2012-06-21 11:00")
    assert exe.ledger.to_dict() == state and len(exe.book) == n_book
    rep = exe.run([d("AAPL", "BUY", 1, "HIGH", "2012-06-21 11:00"), d("MSFT", "BUY", 1, "HIGH", "2012-06-21 11:00"),
                   d("GOOG", "BUY", 1, "HIGH", "2012-06-21 08:00")], errors="reject")
    assert rep.rejected["ticker"].tolist() == ["MSFT", "GOOG"]
    assert "unknown ticker 'MSFT'" in rep.rejected["reason"].iat[0]
    assert "no quote at decision time" in rep.rejected["reason"].iat[1]
    assert len(rep.orders) == 1
    assert (exe.book.parents["status"] == "REJECTED").sum() == 2


def test_failure_while_booking_rolls_back(bars, monkeypatch):
    exe = ex.Executor(bars, forecast="same_session", cash=100_000)
    exe.process_ticker("AAPL", "BUY", 1, "HIGH", time="2012-06-21 10:00")
    before, n_book, n_hist = exe.ledger.to_dict(), len(exe.book), len(exe.book.history)
    day = exe.risk.snapshot()[0]

    def boom(self, fills):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Ledger, "apply_fills", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        exe.process_ticker("GOOG", "BUY", 5, "HIGH", time="2012-06-21 11:00", decision_id="g")
    assert exe.ledger.to_dict() == before
    assert len(exe.book) == n_book and len(exe.book.history) == n_hist
    assert exe.risk.day.committed.equals(day.committed)
    monkeypatch.undo()
    exe.process_ticker("GOOG", "BUY", 5, "HIGH", time="2012-06-21 11:00", decision_id="g")  # id is free again
    assert exe.ledger.position("GOOG") > 0


def test_daily_loss_limit_sees_the_batch_own_fills(bars):
    """A loss made by an earlier decision of the same batch blocks later risk-adding orders,
    exactly as when the decisions are sent one at a time; and the latch is set even when
    every order of the batch is blocked."""
    dec = [d("AAPL", "BUY", 50, "CRITICAL", "2012-06-21 09:36", decision_id="big"),
           d("AAPL", "BUY", 5, "HIGH", "2012-06-21 15:00", decision_id="add")]
    a = ex.Executor(bars, forecast="same_session", cash=100_000, risk=RiskLimits(daily_loss_limit=50))
    rep = a.run(dec)
    assert rep.blocked["decision_id"].tolist() == ["add"] and rep.blocked["rule"].iat[0] == "daily_loss_limit"
    assert a.risk.loss_limit_hit
    assert rep.blocked["value"].iat[0] == pytest.approx(a.day_pnl("2012-06-21 15:00")[0])
    b = ex.Executor(bars, forecast="same_session", cash=100_000, risk=RiskLimits(daily_loss_limit=50))
    b.run(dec[:1])
    last = b.run(dec[1:])  # every order of this batch is blocked: the latch must still be set
    assert last.blocked["decision_id"].tolist() == ["add"] and len(last.orders) == 0
    assert b.risk.loss_limit_hit and b.risk.events["event"].tolist() == ["daily_loss_limit"]
    assert a.ledger.equals(b.ledger)


def test_twap_past_the_close_trades_in_the_time_left(bars):
    exe = ex.Executor(bars, forecast="same_session", portfolio_value=100_000, max_participation=None)
    rep = exe.process_ticker("AAPL", "buy", 5, "medium", time="2012-06-21 15:59")
    o = rep.orders.iloc[0]
    assert o["algorithm"] == "twap" and bool(o["horizon_clipped"])
    assert o["filled"] == o["quantity"] == 8 and o["status"] == "FILLED"
    assert "Horizon cut at the close" in rep.summary()
    assert not rep.orders["horizon_clipped"].any() or exe.process_ticker(
        "AAPL", "BUY", 5, "MEDIUM", time="2012-06-21 10:00").orders["horizon_clipped"].iat[0] == False  # noqa: E712


@pytest.mark.parametrize("loss", [None, 2_500.0])
def test_batch_equals_one_at_a_time(bars, loss):
    rng = np.random.default_rng(3)
    n = 40
    dec = pd.DataFrame({
        "decision_id": [f"q{i}" for i in range(n)],
        "ticker": rng.choice(["AAPL", "AMZN", "GOOG"], n),
        "action": rng.choice(["BUY", "SELL", "HOLD"], n, p=[0.5, 0.4, 0.1]),
        "position_size": rng.uniform(0.5, 4, n).round(2),
        "urgency": rng.choice(["CRITICAL", "HIGH", "MEDIUM", "LOW"], n),
        "time": pd.Timestamp("2012-06-21 09:31", tz=TZ) + pd.to_timedelta(np.sort(rng.integers(0, 380 * 60, n)), "s"),
    })
    # a shared participation cap couples orders of one ticker in a bar (the batch shares it, a
    # loop cannot), so equality is checked with the cap off
    kw = dict(cash=1_000_000, positions={"AMZN": (500, 222.0), "GOOG": (100, 570.0)}, max_participation=None,
              risk=RiskLimits(max_position_pct=8, max_order_notional=30_000, daily_loss_limit=loss), fee_per_order=0.5)
    a = ex.Executor(bars, forecast="same_session", **kw)
    rep = a.run(dec)
    b = ex.Executor(bars, forecast="same_session", **kw)
    reps = [b.process_ticker(r.ticker, r.action, r.position_size, r.urgency, time=r.time, decision_id=r.decision_id)
            for r in dec.itertuples()]
    cols = ["decision_id", "time", "shares", "price", "fee"]
    fa = rep.fills[cols].sort_values(cols).reset_index(drop=True)
    fb = pd.concat([r.fills for r in reps])[cols].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(fa, fb, check_dtype=False)
    pd.testing.assert_frame_equal(a.ledger.positions, b.ledger.positions, check_exact=False, rtol=1e-10)
    assert a.ledger.cash == pytest.approx(b.ledger.cash, rel=1e-12)
    assert a.ledger.realized_pnl == pytest.approx(b.ledger.realized_pnl, rel=1e-9, abs=1e-9)
    outcome_b = pd.concat([r.decisions for r in reps]).set_index("decision_id")["outcome"]
    assert rep.decisions.set_index("decision_id")["outcome"].equals(outcome_b.loc[rep.decisions["decision_id"]])
    assert len(rep.blocked) > 0 and len(rep.orders) > 5
    if loss is not None:  # the limit is hit inside the batch
        assert (rep.blocked["rule"] == "daily_loss_limit").any() and a.risk.loss_limit_hit


def test_demo_runs_and_shows_every_urgency_a_hold_and_a_block():
    from execlab.demo import run_demo

    exe, rep = run_demo()
    assert set(rep.orders["urgency"]) == {"CRITICAL", "HIGH", "MEDIUM", "LOW"}
    assert rep.skipped["action"].tolist() == ["HOLD"]
    assert len(rep.blocked) == 1
    assert exe.ledger.conserved() == pytest.approx(exe.ledger.initial_value())
    # the two P&L lines, and what separates them: the opening AMZN at the open mid vs at cost
    a = rep.account
    assert a["pnl_since_cost"] == pytest.approx(a["realized_pnl"] + a["unrealized_pnl"] - a["fees"])
    assert a["day_pnl"] - a["pnl_since_cost"] == pytest.approx(1_000 * (222.0 - exe.risk.day.prices["AMZN"]))
    text = rep.summary()
    assert "Day P&L:" in text and "opening positions at the opening mid" in text and "P&L since cost:" in text


@pytest.mark.parametrize("module", ["decisions", "policy", "orderbook", "risk", "ledger", "executor"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"execlab.engine.{module}"))
    assert result.failed == 0 and result.attempted > 0
