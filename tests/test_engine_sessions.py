"""The engine across sessions: ledger carried over, loss limit reset, P&L per session, forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab import RiskLimits

TZ = "America/New_York"


def _sessions(n: int, seed: int = 0) -> ex.Market:
    """The real day's bars repeated on ``n`` business days, volume and prices perturbed per day (a test market)."""
    rng = np.random.default_rng(seed)
    base = ex.load_bars("5min")
    days = pd.bdate_range("2012-06-18", periods=n)
    frames = []
    for i, d in enumerate(days):
        b = base.copy()
        b["time"] = b["time"] + pd.Timedelta(days=(d - pd.Timestamp("2012-06-21")).days)
        f = rng.uniform(0.5, 1.5)
        b["volume"] = (b["volume"] * f).round().astype(np.int64)
        b["signed_volume"] = (b["signed_volume"] * f).round().astype(np.int64).clip(-b["volume"], b["volume"])
        drift = 1 + 0.01 * i
        for c in ("open", "high", "low", "close", "vwap", "mid", "mid_open", "mid_close"):
            b[c] = b[c] * drift
        frames.append(b)
    return ex.Market.from_bars(pd.concat(frames, ignore_index=True), "5min")


@pytest.fixture(scope="module")
def market() -> ex.Market:
    return _sessions(4)


def t(day: str, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hhmm}", tz=TZ)


def test_decisions_over_sessions_carry_the_ledger_and_report_pnl_per_session(market):
    exe = ex.Executor(market, forecast=market.forecast(window=2), cash=1_000_000)
    days = [str(d.date()) for d in market.dates]
    rep = exe.run([
        {"decision_id": "b", "time": t(days[2], "10:00"), "ticker": "AAPL", "action": "BUY", "position_size": 5, "urgency": "CRITICAL"},
        {"decision_id": "s", "time": t(days[3], "10:00"), "ticker": "AAPL", "action": "SELL", "position_size": 5, "urgency": "CRITICAL"},
    ])
    o = rep.orders.set_index("decision_id")
    assert o.loc["b", "status"] == "FILLED"
    bought = int(o.loc["b", "filled"])
    # Bought on day 3, sellable at day 4's open: the sell is capped at the position carried over.
    assert int(o.loc["s", "quantity"]) <= bought and int(o.loc["s", "filled"]) > 0
    assert exe.ledger.position("AAPL") == bought - int(o.loc["s", "filled"])
    s = rep.sessions
    assert list(s.index) == [market.dates[2], market.dates[3]]
    assert s["open_equity"].iat[0] == pytest.approx(1_000_000)  # all cash at the first open
    assert s["close_equity"].iat[-1] == pytest.approx(rep.account["equity"])  # marked at the last close
    np.testing.assert_allclose(s["pnl"], s["close_equity"] - s["open_equity"])
    # Overnight, only the mark of the position carried moves equity.
    a = market.daily().set_index(["ticker", "date"])
    gap = bought * (a.loc[("AAPL", market.dates[3]), "open_mid"] - a.loc[("AAPL", market.dates[2]), "close_mid"])
    assert s["open_equity"].iat[1] - s["close_equity"].iat[0] == pytest.approx(gap, abs=1e-6)
    assert "trailing 2 sessions" in rep.account["inputs"] and "P&L by session" in rep.summary()


def test_forecast_from_earlier_sessions_only(market):
    exe = ex.Executor(market, forecast=market.forecast(window=2), cash=1_000_000)
    day0 = str(market.dates[0].date())
    with pytest.raises(ValueError, match=rf"no forecast for AAPL on {day0} \(the decisions' sizing, schedules and pre-trade cost\): "
                                         r"it has 0 earlier session\(s\) with volume and the forecast needs 2"):
        exe.process_ticker("AAPL", "BUY", 5, "LOW", time=t(day0, "10:00"))
    assert exe.ledger.fills.empty  # nothing booked
    with pytest.raises(ValueError, match=r"window == 20 \(min_sessions == 20\) is longer than the history: the market holds 4 sessions"):
        ex.Executor(market, cash=1_000_000)


def test_daily_loss_limit_resets_each_session(market):
    days = [str(d.date()) for d in market.dates]
    exe = ex.Executor(market, forecast=market.forecast(window=1), cash=1_000_000, risk=RiskLimits(daily_loss_limit=200.0),
                      fee_per_order=500.0)
    rep = exe.run([
        {"decision_id": 1, "time": t(days[1], "10:00"), "ticker": "GOOG", "action": "BUY", "position_size": 2, "urgency": "CRITICAL"},
        {"decision_id": 2, "time": t(days[1], "11:00"), "ticker": "GOOG", "action": "BUY", "position_size": 2, "urgency": "CRITICAL"},
        {"decision_id": 3, "time": t(days[2], "09:30"), "ticker": "AMZN", "action": "BUY", "position_size": 2, "urgency": "CRITICAL"},
    ])
    d = rep.decisions.set_index("decision_id")
    # The first fill's $500 fee puts day 2 below -$200: the second buy is blocked ...
    assert d.loc[2, "outcome"] == "BLOCKED" and d.loc[2, "reason"].startswith("daily loss limit")
    # ... and the next session starts afresh: at its open the day's P&L is 0 by definition.
    assert d.loc[3, "outcome"] == "FILLED"


def test_selling_shares_bought_the_same_day_is_an_option(market):
    day = str(market.dates[1].date())
    buy = {"ticker": "AMZN", "action": "BUY", "position_size": 5, "urgency": "CRITICAL", "time": t(day, "10:00")}
    sell = {"ticker": "AMZN", "action": "SELL", "position_size": 10, "urgency": "CRITICAL", "time": t(day, "11:00")}
    off = ex.Executor(market, forecast=market.forecast(window=1), cash=1_000_000)
    off.run([buy])
    r = off.run([sell])
    assert r.skipped["reason"].iat[0].startswith("nothing to sell")
    on = ex.Executor(market, forecast=market.forecast(window=1), cash=1_000_000, allow_same_day_sell=True)
    held = int(on.run([buy]).orders["filled"].iat[0])
    r = on.run([sell])
    assert int(r.orders["quantity"].iat[0]) == held  # 10% of value asks for more; capped at what was bought
    assert on.ledger.position("AMZN") == held - int(r.orders["filled"].iat[0]) >= 0


def test_decisions_outside_the_sessions(market):
    exe = ex.Executor(market, forecast=market.forecast(window=1), cash=1_000_000)
    with pytest.raises(ValueError, match=r"decisions column 'time' has 2012-07-02 10:00:00-04:00 at row 0 \(AAPL\), on a date "
                                         r"that is not one of the market's sessions \(4 from 2012-06-18 to 2012-06-21\)"):
        exe.process_ticker("AAPL", "BUY", 5, "LOW", time="2012-07-02 10:00")
    rep = exe.run([{"ticker": "AAPL", "action": "BUY", "position_size": 5, "urgency": "LOW", "time": "2012-07-02 10:00"}],
                  errors="reject")
    assert rep.decisions["outcome"].tolist() == ["REJECTED"]
