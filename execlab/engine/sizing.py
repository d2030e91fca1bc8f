"""Sizing helpers of the engine: the sellable-position cap and the pre-trade impact estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._market import Market
from .ledger import Ledger
from .risk import RiskManager

__all__ = ["cap_sells", "bought_today", "pretrade_impact_bps"]


def pretrade_impact_bps(impact: object, shares: np.ndarray, fvol: np.ndarray, adv: np.ndarray, sig: np.ndarray) -> np.ndarray:
    """Expected impact (bps of the order's value) of each order's schedule on forecast bin volumes.

    ``shares`` and ``fvol`` are (orders, bins); ``adv`` and ``sig`` the
    forecast daily volume and volatility of each order's session.
    """
    if impact is None:
        return np.zeros(len(shares))
    fn = getattr(impact, "schedule_cost_bps", None)
    if callable(fn):
        return np.asarray(fn(shares, fvol, adv, sig), dtype=np.float64)
    # Any protocol object: children pay their temporary impact plus the order's earlier permanent impact.
    s = shares.astype(np.float64)
    temp = np.asarray(impact.temporary_impact(s, fvol, adv[:, None], sig[:, None]), dtype=np.float64)
    perm = np.asarray(impact.permanent_impact(s, adv[:, None], sig[:, None]), dtype=np.float64)
    earlier = np.cumsum(perm, axis=1) - perm
    q = s.sum(axis=1)
    return np.divide(1e4 * (s * (temp + earlier)).sum(axis=1), q, out=np.zeros(len(q)), where=q > 0)

def cap_sells(risk: RiskManager, ticker: np.ndarray, qty: np.ndarray, sell: np.ndarray, price: np.ndarray,
              bought: pd.Series | None = None) -> np.ndarray:
    """Cap sells at the sellable position, in decision order, exactly as one at a time would.

    Cumulative capped sells per ticker are ``min(C, A)`` (C = cumulative
    requested sells, A = sellable shares), so capped quantities are
    differences of a clipped cumulative sum.  A sell that the risk
    manager will block (kill switch, order notional) does not use up
    sellable shares; blocking only ever raises later capped quantities, so
    iterating block -> recompute reaches the one-at-a-time answer.

    ``bought``: shares bought today by fills already booked, sellable too
    when same-day selling is allowed (None: only start-of-day shares).
    """
    tick = ticker.astype(str)
    names = list(pd.unique(pd.Series(tick[sell], dtype=object)))
    _, committed_sells, sod = risk._base(names)
    extra = bought.reindex(names, fill_value=0).to_numpy(np.int64) if bought is not None else 0
    avail = np.maximum(sod + extra - committed_sells, 0)
    code = pd.Index(names).get_indexer(tick)
    idx = np.flatnonzero(sell)
    c = code[idx]
    q = qty[idx]
    A = avail[c]
    perm = np.argsort(c, kind="stable")
    starts = np.r_[True, c[perm][1:] != c[perm][:-1]]
    lim = risk.limits.max_order_notional
    dead = np.zeros(len(idx), dtype=bool)
    if risk.kill_switch_active:
        dead[:] = True
    while True:
        used = np.where(dead, 0, q)
        vs = used[perm]
        cs = np.cumsum(vs) - vs
        base = cs[np.maximum.accumulate(np.where(starts, np.arange(len(vs)), 0))]
        excl = np.empty_like(cs)
        excl[perm] = cs - base
        capped = np.minimum(excl + q, A) - np.minimum(excl, A)
        if lim is None or risk.kill_switch_active:
            break
        new = ~dead & (capped * price[idx] > lim)
        if not new.any():
            break
        dead |= new
    out = qty.copy()
    out[idx] = capped
    return out

def bought_today(ledger: Ledger, market: Market, d: int) -> pd.Series:
    """Shares of each ticker bought in session ``d`` by fills already booked in the ledger."""
    f = ledger.fills
    if d < 0 or f.empty:
        return pd.Series(dtype=np.int64)
    t = pd.DatetimeIndex(f["time"]).as_unit("ns").asi8
    today = (t >= market.start_ns[market.day_first[d]]) & (f["shares"].to_numpy(np.int64) > 0)
    return f.loc[today].groupby("ticker")["shares"].sum().astype(np.int64)
