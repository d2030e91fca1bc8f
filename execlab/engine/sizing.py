"""Sizing helpers of the engine: the sellable-position cap and the pre-trade impact estimate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._forecast import Forecast
from .._market import Market
from .policy import PlannedSchedules, UrgencyPolicy
from .ledger import Ledger
from .risk import RiskManager

__all__ = ["cap_sells", "bought_today", "pretrade_impact_bps", "plan_orders", "PreTrade"]


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
              bought: pd.Series | None = None, time_ns: np.ndarray | None = None) -> np.ndarray:
    """Cap sells at the sellable position, in decision order, exactly as one at a time would.

    Cumulative capped sells per ticker are ``min(C, A)`` (C = cumulative
    requested sells, A = sellable shares), so capped quantities are
    differences of a clipped cumulative sum.  A sell that the risk
    manager will block (kill switch, order notional) does not use up
    sellable shares; blocking only ever raises later capped quantities, so
    iterating block -> recompute reaches the one-at-a-time answer.

    ``bought``: shares bought today by fills already booked, sellable too
    when same-day selling is allowed (None: only start-of-day shares).
    ``time_ns``: decision times (epoch ns), for a kill switch that takes
    effect at a time (sells decided before it are not blocked by it).
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
    kill = risk.kill_from_ns
    if kill is not None:
        dead[:] = True if time_ns is None else time_ns[idx] >= kill
    while True:
        used = np.where(dead, 0, q)
        vs = used[perm]
        cs = np.cumsum(vs) - vs
        base = cs[np.maximum.accumulate(np.where(starts, np.arange(len(vs)), 0))]
        excl = np.empty_like(cs)
        excl[perm] = cs - base
        capped = np.minimum(excl + q, A) - np.minimum(excl, A)
        if lim is None:
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


@dataclass(frozen=True)
class PreTrade:
    """Schedules of a batch and what they are expected to cost, from the forecast."""

    plan: PlannedSchedules
    arrival_bar: np.ndarray  # flat bar of each order's arrival
    bins_left: np.ndarray  # bars from the arrival bar to the close (0 after the close)
    last_bar: np.ndarray  # flat bar of the session's close
    spread_bps: np.ndarray
    impact_bps: np.ndarray


def plan_orders(policy: UrgencyPolicy, m: Market, fc: Forecast, impact: object, k: np.ndarray, d: np.ndarray,
                arrival_ns: np.ndarray, price: np.ndarray, quantity: np.ndarray, urgency: np.ndarray) -> PreTrade:
    """Slice accepted orders by urgency and price them pre-trade, all from the session's forecast.

    The VWAP profile, ADV, volatility and spread of each order's session come
    from ``fc`` (earlier sessions, unless a same-session fallback was asked
    for); the pre-trade cost is half the forecast spread plus the impact of
    the schedule on forecast bin volumes (profile x ADV).
    """
    fc.require(k, d, "the decisions' sizing, schedules and pre-trade cost")
    abar, _ = m.locate(arrival_ns, d)
    last = m.day_last[d]
    bins_left = np.where(arrival_ns >= m.end_ns[last], 0, last - abar + 1)
    adv, sig, spr = fc.adv[k, d], fc.sigma[k, d], fc.spread[k, d]
    # Profiles of every ticker and session laid end to end; an order reads its own row from its arrival bar.
    profile = np.nan_to_num(fc.profile.reshape(-1), nan=0.0)
    pstart = k * (m.n_sessions * m.n_bins) + abar
    ac = {"sigma": sig * price, "eta": spr / (0.01 * adv), "gamma": spr / (0.1 * adv), "epsilon": spr / 2}
    plan = policy.plan(quantity, urgency, pstart, bins_left, m.freq, profile, ac)
    j = np.arange(plan.shares.shape[1])
    gb = pstart[:, None] + j[None, :]
    live = j[None, :] < bins_left[:, None]
    fvol = np.where(live, adv[:, None] * profile[np.clip(gb, 0, len(profile) - 1)], 0.0)
    sh = np.where(live & (fvol > 0), plan.shares, 0)
    fvol = np.where(sh > 0, fvol, 1.0)
    return PreTrade(plan, abar, bins_left, last, 1e4 * spr / 2 / price, pretrade_impact_bps(impact, sh, fvol, adv, sig))
