"""Portfolio P&L helpers of the engine: marks, the daily loss limit's P&L, P&L per session.

All of them read the shared :class:`~execlab.Market` and the
:class:`~execlab.engine.ledger.Ledger`; none changes either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._market import Market
from .._orders import from_ns
from .ledger import Ledger

__all__ = ["marks", "mark_prices", "day_pnl", "batch_pnl", "session_pnl"]


def marks(ledger: Ledger, mids: pd.Series) -> pd.Series:
    """Mids for the ledger's tickers; tickers the market does not hold at their average cost."""
    pos = ledger.positions
    return mids.reindex(pos.index).fillna(pos["avg_cost"]) if len(pos) else mids


def mark_prices(market: Market, tickers: list[str], t_ns: np.ndarray, ledger: Ledger) -> np.ndarray:
    """(times, tickers) quote mids at each time, average cost for tickers without bars."""
    m = market
    kk = m.index.get_indexer(tickers)
    day = m.calendar.session_of(t_ns)
    ok_day = day >= 0
    d = np.where(ok_day, day, 0)
    px = m.mid_at(np.maximum(kk, 0)[None, :], t_ns[:, None], d[:, None])
    cost = ledger.positions["avg_cost"].reindex(tickers).to_numpy(np.float64)
    return np.where((kk[None, :] >= 0) & ok_day[:, None], px, cost[None, :])


def day_pnl(ledger: Ledger, market: Market, start_value: float, t_ns: np.ndarray) -> np.ndarray:
    """P&L of the day at each time: equity from fills before it, marked to the mid then, less ``start_value``."""
    if len(t_ns) == 0:
        return np.zeros(0)
    tickers = list(dict.fromkeys(ledger.tickers))
    if not tickers:
        return np.full(len(t_ns), ledger.cash - start_value)
    cash, pos = ledger.state_at(from_ns(t_ns, market.tz), tickers)
    return cash + (pos * mark_prices(market, tickers, t_ns, ledger)).sum(axis=1) - start_value


def batch_pnl(market: Market, fills: pd.DataFrame, source_row: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
    """P&L ($) a batch's own fills add at each decision time.

    A fill of decision ``j`` is known at decision ``k`` when ``j < k`` and the
    fill is timed at or before ``k``'s decision time -- what ``k`` would see
    if the decisions were sent one at a time.
    """
    n = len(t_ns)
    if len(fills) == 0:
        return np.zeros(n)
    ft = pd.DatetimeIndex(fills["time"]).as_unit("ns").asi8
    known = np.maximum(source_row + 1, np.searchsorted(t_ns, ft, side="right"))
    keep = known < n
    signed = fills["sign"].to_numpy(np.int64) * fills["shares"].to_numpy(np.int64)
    flow = -(signed * fills["price"].to_numpy(np.float64) + fills["fee"].to_numpy(np.float64))
    names, code = np.unique(fills["ticker"].to_numpy(object).astype(str), return_inverse=True)
    T = len(names)
    cash = np.cumsum(np.bincount(known[keep], weights=flow[keep], minlength=n))
    pos = np.cumsum(np.bincount(known[keep] * T + code[keep], weights=signed[keep], minlength=n * T).reshape(n, T), axis=0)
    kk = market.index.get_indexer(names)
    day = market.calendar.session_of(t_ns)
    px = market.mid_at(kk[None, :], t_ns[:, None], np.maximum(day, 0)[:, None])
    return cash + (pos * px).sum(axis=1)


def session_pnl(ledger: Ledger, market: Market, sessions: np.ndarray) -> pd.DataFrame:
    r"""Equity at the open and the close of each session, and the session's P&L.

    Equity at a time is cash plus the positions held then (fills before it),
    marked to the quote mid: :math:`E_t = C_t + \sum_k q_{k,t}\, m_{k,t}`.
    The session's P&L is :math:`E_{close} - E_{open}`, realized and
    unrealized together, net of fees.
    """
    m = market
    d = np.asarray(sessions, dtype=np.int64)
    open_ns = m.start_ns[m.day_first[d]]
    close_ns = m.end_ns[m.day_last[d]]
    t = np.concatenate([open_ns, close_ns])
    tickers = list(dict.fromkeys(ledger.tickers))
    if tickers:
        # state_at counts fills strictly before a time: every fill of the session is before its close.
        cash, pos = ledger.state_at(from_ns(t, m.tz), tickers)
        eq = cash + (pos * mark_prices(m, tickers, t, ledger)).sum(axis=1)
    else:
        eq = np.full(len(t), ledger.cash)
    n = len(d)
    out = pd.DataFrame({
        "date": m.dates[d],
        "open_equity": eq[:n],
        "close_equity": eq[n:],
    })
    out["pnl"] = out["close_equity"] - out["open_equity"]
    return out.set_index("date")
