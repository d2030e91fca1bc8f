"""Pre-trade risk: position, notional, exposure and daily-loss limits, and a kill switch.

Checks run on a whole batch of proposed orders at once, in decision order.
Limits on cumulative quantities (a ticker's position, gross exposure) depend
on which earlier orders of the batch passed.  The manager accepts orders
greedily, exactly as if they arrived one at a time: projected positions are
a cumulative sum per ticker of the accepted orders (no Python loop), and when
an order breaches a limit the first breach of each ticker, with the run of
breaches behind it, is blocked and the sums are recomputed from there.  A few
such whole-array passes settle a batch whose limits rarely bind.  Where they
bind often, whether an order passes depends on which of the orders just before
it passed (a position or a gross exposure held at its limit takes an order
only after a risk-reducing one), a chain no fixed number of array passes
resolves: after ``_VECTOR_PASSES`` passes the rest of the batch is decided in
one ordered scan, O(1) per order.  Block reasons are then written column-wise.

Conventions (documented so a batch and the same decisions one at a time
agree):

* **Working orders count in full.**  A position limit looks at the
  *projected* position: start-of-day shares plus every order accepted today
  at its full quantity, whether or not it has filled yet.
* **Limits in start-of-day terms.**  Percent limits are of the start-of-day
  portfolio value, and positions are valued at each ticker's start-of-day
  price (the first mid of the session) for exposure limits.
* **Risk-adding orders.**  Position and exposure limits and the daily loss
  limit block only orders that increase the absolute projected position of
  their ticker; orders that reduce risk always pass (except under the kill
  switch, which blocks everything).
* **Kill switch in time.**  ``activate_kill_switch(reason)`` blocks every
  decision checked from then on, whatever its time.  With ``time=T`` it
  blocks decisions timed at or after ``T`` (earlier decisions of the same
  batch pass); the executor also cancels, at ``T``, the children of working
  risk-adding orders that would be released at or after ``T`` (see
  :meth:`execlab.engine.Executor.activate_kill_switch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from ._int64 import check_grouped_sums

__all__ = ["RiskLimits", "RiskManager", "RISK_RULES"]

RISK_RULES = ("kill_switch", "daily_loss_limit", "max_order_notional", "max_position_shares",
              "max_position_pct", "max_gross_exposure")


@dataclass(frozen=True)
class RiskLimits:
    """Risk limits; ``None`` switches a limit off.

    Parameters
    ----------
    max_position_pct : float, optional
        Largest absolute projected position of one ticker, percent of the
        start-of-day portfolio value (valued at the start-of-day price).
    max_position_shares : int, optional
        Largest absolute projected position of one ticker, shares.
    max_order_notional : float, optional
        Largest order, $ (shares x price at decision time).
    max_gross_exposure : float, optional
        Largest sum over tickers of |projected position| x start-of-day
        price, $.
    daily_loss_limit : float, optional
        Largest loss for the day, $ (a positive number): once the day's P&L
        (realized plus marked, net of fees, against the start-of-day
        portfolio value) reaches ``-daily_loss_limit``, orders that add risk
        are blocked for the rest of the day.

    Examples
    --------
    >>> lim = RiskLimits(max_position_pct=10, daily_loss_limit=2_500)
    >>> lim.to_frame().dropna()["limit"].to_dict()
    {'max_position_pct': 10.0, 'daily_loss_limit': 2500.0}
    >>> RiskLimits(max_order_notional=-5)
    Traceback (most recent call last):
    ...
    ValueError: max_order_notional == -5, must be a positive number or None.
    """

    max_position_pct: float | None = None
    max_position_shares: int | None = None
    max_order_notional: float | None = None
    max_gross_exposure: float | None = None
    daily_loss_limit: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) or v <= 0:
                raise ValueError(f"{f.name} == {v!r}, must be a positive number or None.")
        if self.max_position_pct is not None and self.max_position_pct > 100 * 100:
            raise ValueError(f"max_position_pct == {self.max_position_pct!r}, must be a percent (e.g. 20 for 20%).")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"limit": [getattr(self, f.name) for f in fields(self)]},
                            index=pd.Index([f.name for f in fields(self)], name="rule"))


@dataclass
class _DayState:
    date: object
    value: float  # start-of-day portfolio value
    positions: pd.Series  # start-of-day shares by ticker
    prices: pd.Series  # start-of-day price by ticker
    committed: pd.Series = field(default_factory=lambda: pd.Series(dtype=np.int64))  # accepted signed shares today
    committed_sells: pd.Series = field(default_factory=lambda: pd.Series(dtype=np.int64))
    loss_hit: pd.Timestamp | None = None
    loss_pnl: float = float("nan")


def _group_exclusive(values: np.ndarray, perm: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum of earlier values within each group; rows grouped by ``perm`` (stable), group starts flagged."""
    v = values[perm]
    c = np.cumsum(v) - v
    base = c[np.maximum.accumulate(np.where(starts, np.arange(len(v)), 0))]
    out = np.empty_like(c)
    out[perm] = c - base
    return out


def _column(spec: str, values: np.ndarray) -> np.ndarray:
    """``spec.format(x)`` for every element of ``values``, as an object array of str.

    Each distinct value is formatted once (a limit, a ticker: one string for the
    whole column) and the strings are taken back by code.  Floats are told apart
    by their bits, so -0.0 and 0.0 keep their own text.  ``map`` applies the bound
    format method in C over the distinct values; ``tolist`` hands it Python ints
    and floats, which format exactly as numpy scalars do in an f-string.
    """
    values = np.asarray(values)
    is_float = values.dtype == np.float64
    codes, distinct = pd.factorize(values.view(np.int64) if is_float else values)
    distinct = np.asarray(distinct)
    if is_float:
        distinct = distinct.view(np.float64)
    return np.array(list(map(spec.format, distinct.tolist())), dtype=object)[codes]


# Vectorised passes over the whole batch before the rest is decided in one ordered scan.
_VECTOR_PASSES = 8


class RiskManager:
    """Pre-trade limits and a kill switch.

    Parameters
    ----------
    limits : RiskLimits, optional
        ``None`` means no limits (the kill switch still works).

    Examples
    --------
    >>> rm = RiskManager(RiskLimits(max_order_notional=50_000))
    >>> rm.activate_kill_switch("desk halt")
    >>> rm.kill_switch_active, rm.kill_switch_reason
    (True, 'desk halt')
    >>> rm.deactivate_kill_switch(); rm.kill_switch_active
    False
    """

    def __init__(self, limits: RiskLimits | None = None) -> None:
        if limits is not None and not isinstance(limits, RiskLimits):
            raise TypeError(f"limits must be a RiskLimits, got {type(limits).__name__}.")
        self.limits = limits or RiskLimits()
        self.kill_switch_active = False
        self.kill_switch_reason: str | None = None
        self.kill_switch_time: pd.Timestamp | None = None
        self._events: list[dict] = []
        self.day: _DayState | None = None

    # ------------------------------------------------------------------ kill switch
    def activate_kill_switch(self, reason: str, time: object = None) -> None:
        """Block new orders until :meth:`deactivate_kill_switch`.

        Parameters
        ----------
        reason : str
            Why (shown in every blocked order's reason).
        time : Timestamp, optional
            The moment the switch takes effect (tz-aware): orders decided at
            or after it are blocked, earlier ones pass.  Default: every order
            checked from now on, whatever its decision time.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"reason == {reason!r}, must be a non-empty string saying why.")
        if time is not None:
            time = pd.Timestamp(time)
            if time.tz is None or pd.isna(time):
                raise ValueError(f"time == {time!r}, must be a timezone-aware timestamp.")
        self.kill_switch_active = True
        self.kill_switch_reason = reason
        self.kill_switch_time = time
        self._events.append({"time": time if time is not None else pd.Timestamp.now(tz="UTC"), "event": "kill_switch_on", "detail": reason})

    @property
    def kill_from_ns(self) -> int | None:
        """Epoch ns from which the kill switch blocks (the int64 minimum: always); ``None`` when off."""
        if not self.kill_switch_active:
            return None
        return int(np.iinfo(np.int64).min) if self.kill_switch_time is None else int(self.kill_switch_time.value)

    def deactivate_kill_switch(self, time: object = None) -> None:
        """Let orders through again."""
        self._events.append({"time": time if time is not None else pd.Timestamp.now(tz="UTC"), "event": "kill_switch_off",
                             "detail": self.kill_switch_reason})
        self.kill_switch_active = False
        self.kill_switch_reason = None
        self.kill_switch_time = None

    @property
    def events(self) -> pd.DataFrame:
        """Kill-switch and loss-limit events: ``time, event, detail``."""
        return pd.DataFrame(self._events, columns=["time", "event", "detail"])

    @property
    def loss_limit_hit(self) -> bool:
        """Whether today's loss limit has been reached (risk-adding orders blocked)."""
        return self.day is not None and self.day.loss_hit is not None

    # ------------------------------------------------------------------ day state
    def start_day(self, date: object, value: float, positions: pd.Series, prices: pd.Series) -> None:
        """Open a trading day: snapshot portfolio value, positions and prices; clear today's tallies."""
        self.day = _DayState(date, float(value), positions.astype(np.int64), prices.astype(float))

    def snapshot(self) -> tuple:
        import copy

        return (copy.deepcopy(self.day), len(self._events), self.kill_switch_active, self.kill_switch_reason,
                self.kill_switch_time)

    def restore(self, snap: tuple) -> None:
        self.day, n_ev, self.kill_switch_active, self.kill_switch_reason, self.kill_switch_time = snap
        del self._events[n_ev:]

    def commit(self, ticker: np.ndarray, signed_shares: np.ndarray) -> None:
        """Add accepted orders to today's tallies (projected positions, shares committed to sell)."""
        d = self.day
        names = list(pd.unique(pd.Series(ticker, dtype=object)))
        code = pd.Index(names).get_indexer(ticker)
        base, _, _ = self._base(names)
        check_grouped_sums(base, np.asarray(signed_shares, np.int64), code, "the projected position",
                           labels=np.asarray(names, dtype=object))
        add = pd.Series(signed_shares, index=ticker).groupby(level=0).sum()
        sells = pd.Series(np.maximum(-signed_shares, 0), index=ticker).groupby(level=0).sum()
        d.committed = d.committed.add(add, fill_value=0).astype(np.int64)
        d.committed_sells = d.committed_sells.add(sells, fill_value=0).astype(np.int64)

    def note_loss(self, time: pd.Timestamp, pnl: float) -> None:
        """Latch the daily loss limit if ``pnl`` breaches it."""
        lim = self.limits.daily_loss_limit
        if lim is None or self.day is None or self.day.loss_hit is not None:
            return
        if pnl <= -lim:
            self.day.loss_hit, self.day.loss_pnl = time, float(pnl)
            self._events.append({"time": time, "event": "daily_loss_limit",
                                 "detail": f"day P&L ${pnl:,.2f} <= -${lim:,.2f}"})

    def _base(self, tickers: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = self.day
        idx = pd.Index(tickers)
        pos = d.positions.reindex(idx, fill_value=0).to_numpy(np.int64) + d.committed.reindex(idx, fill_value=0).to_numpy(np.int64)
        sells = d.committed_sells.reindex(idx, fill_value=0).to_numpy(np.int64)
        sod = d.positions.reindex(idx, fill_value=0).to_numpy(np.int64)
        return pos, sells, sod

    def gross_exposure(self) -> float:
        """Projected gross exposure now, $ at start-of-day prices."""
        d = self.day
        if d is None:
            return 0.0
        proj = d.positions.add(d.committed, fill_value=0)
        return float((proj.abs() * d.prices.reindex(proj.index).fillna(0.0)).sum())

    # ------------------------------------------------------------------ the check
    def check(
        self,
        ticker: np.ndarray,
        signed_shares: np.ndarray,
        price: np.ndarray,
        time: pd.DatetimeIndex,
        day_pnl: np.ndarray,
    ) -> pd.DataFrame:
        """Check proposed orders (in decision order) against every rule.

        Parameters
        ----------
        ticker : ndarray of str, shape (n,)
        signed_shares : ndarray of int64, shape (n,)
            + buy, - sell.
        price : ndarray, shape (n,)
            $ per share at decision time (for order notional).
        time : DatetimeIndex, shape (n,)
            Decision times (non-decreasing).
        day_pnl : ndarray, shape (n,)
            The day's P&L at each decision time, $ (from the ledger).

        Returns
        -------
        DataFrame
            One row per order: ``blocked`` (bool), ``rule``, ``value``,
            ``limit``, ``reason`` (empty for passed orders),
            ``position_before``, ``position_after`` (projected, shares).
        """
        L = self.limits
        d = self.day
        n = len(ticker)
        self._batch_loss = None
        tickers = list(pd.unique(pd.Series(ticker, dtype=object)))
        code = pd.Index(tickers).get_indexer(ticker)
        base, _, _ = self._base(tickers)
        # Positions are valued at start-of-day prices; a ticker without one (no bar at the
        # open) is valued at its first decision price in the batch.
        sod = d.prices.reindex(pd.Index(tickers)).to_numpy(np.float64)
        first_price = np.full(len(tickers), np.nan)
        first_price[code[::-1]] = price[::-1]
        mark = np.where(np.isfinite(sod), sod, first_price)
        nav = d.value
        d_sh = np.asarray(signed_shares, dtype=np.int64)
        # projected positions are running int64 sums of the batch: check the range first
        check_grouped_sums(base, d_sh, code, "the projected position", labels=np.asarray(tickers, dtype=object))
        notional = np.abs(d_sh) * price

        rule = np.full(n, "", dtype=object)
        value = np.full(n, np.nan)
        limit = np.full(n, np.nan)
        blocked = np.zeros(n, dtype=bool)

        def block(mask: np.ndarray, name: str, val: np.ndarray, lim: float) -> None:
            new = mask & ~blocked
            rule[new], value[new], limit[new] = name, val[new] if np.ndim(val) else val, lim
            blocked[new] = True

        if self.kill_switch_active:
            killed = np.asarray(time.as_unit("ns").asi8 >= self.kill_from_ns) if n else np.zeros(0, bool)
            block(killed, "kill_switch", np.full(n, np.nan), np.nan)
        if L.max_order_notional is not None:
            block(notional > L.max_order_notional, "max_order_notional", notional, L.max_order_notional)
        loss_flag = np.zeros(n, dtype=bool)
        if L.daily_loss_limit is not None:
            hit = day_pnl <= -L.daily_loss_limit
            loss_flag = np.maximum.accumulate(hit) if n else hit
            if d.loss_hit is not None:
                loss_flag[:] = True
            elif loss_flag.any():
                k = int(np.flatnonzero(loss_flag)[0])
                self._batch_loss = (time[k], float(day_pnl[k]))

        perm = np.argsort(code, kind="stable")
        starts = np.r_[True, code[perm][1:] != code[perm][:-1]] if n else np.zeros(0, bool)
        inf = np.inf
        lim_sh = L.max_position_shares if L.max_position_shares is not None else inf
        lim_pct = L.max_position_pct if L.max_position_pct is not None else inf
        lim_gross = L.max_gross_exposure if L.max_gross_exposure is not None else inf
        names = ["", "daily_loss_limit", "max_position_shares", "max_position_pct", "max_gross_exposure"]
        limits = [np.nan, -(L.daily_loss_limit or 0), lim_sh, lim_pct, lim_gross]

        def ticker_rules(before: np.ndarray, after: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """Per-ticker rule broken by each row (0 none, 1 loss, 2 shares, 3 pct) and its value."""
            adds = np.abs(after) > np.abs(before)
            pct = np.abs(after) * mark[code[rows]] / nav * 100 if nav > 0 else np.full(len(rows), inf)
            r = np.where(adds & loss_flag[rows], 1, np.where(adds & (np.abs(after) > lim_sh), 2,
                         np.where(adds & (pct > lim_pct), 3, 0)))
            val = np.where(r == 1, day_pnl[rows], np.where(r == 2, np.abs(after).astype(float), pct))
            return r.astype(np.int8), val

        idx = np.arange(n)
        gross0 = self.gross_exposure()
        passes = 0
        while True:
            passes += 1
            acc = ~blocked
            dd = np.where(acc, d_sh, 0)
            before = base[code] + _group_exclusive(dd, perm, starts)
            after = before + d_sh
            viol, val = ticker_rules(before, after, idx)
            dgross = (np.abs(after) - np.abs(before)) * mark[code]
            gross_before = gross0 + np.cumsum(np.where(acc, dgross, 0.0)) - np.where(acc, dgross, 0.0)
            gross_after = gross_before + dgross
            viol = np.where((viol == 0) & (dgross > 0) & (gross_after > lim_gross), 4, viol)
            val = np.where(viol == 4, gross_after, val)
            viol = np.where(acc, viol, 0)
            if not viol.any():
                break
            v_idx = np.flatnonzero(viol)
            if passes > _VECTOR_PASSES:
                # Limits that bind often (a gross-exposure limit blocks one order per pass)
                # would make this loop quadratic: everything before the first violation is
                # final, so finish the rest in one ordered scan, linear in the orders left.
                k = int(v_idx[0])
                pos_k = base.copy()
                np.add.at(pos_k, code[:k], dd[:k])
                self._scan(k, code, d_sh, mark, nav, pos_k, float(gross_before[k]), loss_flag, day_pnl,
                           (lim_sh, lim_pct, lim_gross), blocked, rule, value, limit, names, limits)
                break
            # The first violation in decision order is final whatever its rule.  So is each
            # ticker's first per-ticker violation j if no gross breach precedes it (blocking a
            # risk-adding order only lowers other tickers' later gross exposure, never their
            # positions); and while the ticker's state stays that before j, every later order
            # of it that breaks a per-ticker rule against that state is blocked too, up to the
            # first one that passes -- one pass blocks a whole run.
            g = v_idx[viol[v_idx] == 4]
            g0 = g[0] if len(g) else n
            per = v_idx[(viol[v_idx] != 4) & (v_idx < g0)]
            if len(per):
                firsts = per[np.unique(code[per], return_index=True)[1]]
                j_of = np.full(len(tickers), n)
                j_of[code[firsts]] = firsts
                b_of = np.zeros(len(tickers), dtype=np.int64)
                b_of[code[firsts]] = before[firsts]
                cand = acc & (idx >= j_of[code])
                rows = np.flatnonzero(cand)
                r2, v2 = ticker_rules(b_of[code[rows]], b_of[code[rows]] + d_sh[rows], rows)
                k_of = np.full(len(tickers), n)
                ok_rows = rows[r2 == 0]
                np.minimum.at(k_of, code[ok_rows], ok_rows)
                run = r2 > 0
                run &= rows < k_of[code[rows]]
                for rc in (1, 2, 3):
                    msk = np.zeros(n, bool)
                    msk[rows[run & (r2 == rc)]] = True
                    if msk.any():
                        vv = np.zeros(n)
                        vv[rows] = v2
                        block(msk, names[rc], vv, limits[rc])
            if not blocked[v_idx[0]]:
                msk = np.zeros(n, bool)
                msk[v_idx[0]] = True
                block(msk, names[viol[v_idx[0]]], val, limits[viol[v_idx[0]]])

        acc = ~blocked
        dd = np.where(acc, d_sh, 0)
        before = base[code] + _group_exclusive(dd, perm, starts)
        reason = self._reasons(rule, value, limit, np.asarray(ticker), d_sh, before)
        return pd.DataFrame({"blocked": blocked, "rule": rule.astype(str), "value": value, "limit": limit,
                             "reason": reason.astype(str), "position_before": before, "position_after": before + d_sh})

    @staticmethod
    def _scan(start, code, d_sh, mark, nav, pos, gross, loss_flag, day_pnl, lims, blocked, rule, value, limit,
              names, limits) -> None:
        """Apply the per-ticker and gross rules to rows ``start:`` one after another, in place.

        The same rules, in the same order, as the vectorised passes of :meth:`check`
        (loss, shares, percent of portfolio, then gross exposure), for a stretch where
        blocks are frequent; ``pos`` (shares per ticker) and ``gross`` ($) are the state
        just before row ``start``.  One pass over the rows: each is decided in O(1).
        Sequential on purpose: each decision needs the state the previous ones left,
        and array passes that guess that state (sweeps over windows of rows, each
        final up to its first wrong guess) need about one pass per switch between
        accepting and blocking, which here is every few orders.
        """
        lim_sh, lim_pct, lim_gross = lims
        pos = [int(p) for p in pos]
        mk = mark.tolist()
        rows = range(start, len(code))
        for i, c, d, pre, lf in zip(rows, code[start:].tolist(), d_sh[start:].tolist(),
                                    blocked[start:].tolist(), loss_flag[start:].tolist()):
            if pre:
                continue
            before = pos[c]
            after = before + d
            a_after, a_before = abs(after), abs(before)
            r = 0
            if a_after > a_before:
                pct = a_after * mk[c] / nav * 100 if nav > 0 else np.inf
                if lf:
                    r, v = 1, float(day_pnl[i])
                elif a_after > lim_sh:
                    r, v = 2, float(a_after)
                elif pct > lim_pct:
                    r, v = 3, pct
                else:
                    dg = (a_after - a_before) * mk[c]
                    if gross + dg > lim_gross:
                        r, v = 4, gross + dg
            if r:
                blocked[i], rule[i], value[i], limit[i] = True, names[r], v, limits[r]
            else:
                pos[c] = after
                gross += (a_after - a_before) * mk[c]

    def _reasons(self, rule: np.ndarray, value: np.ndarray, limit: np.ndarray, ticker: np.ndarray, d_sh: np.ndarray,
                 before: np.ndarray) -> np.ndarray:
        """Why each blocked order was blocked ('' for passed orders), built column-wise per rule.

        One set of array operations per rule that blocked something (at most six),
        never a Python loop over orders: numbers are formatted by mapping one
        format string over a column, and the pieces are joined as object arrays.
        """
        reason = np.full(len(rule), "", dtype=object)
        for name in pd.unique(rule[rule != ""]):
            rows = np.flatnonzero(rule == name)
            v, lim, d, pre = value[rows], limit[rows], d_sh[rows], before[rows]
            if name == "kill_switch":
                since = "" if self.kill_switch_time is None else f" since {self.kill_switch_time}"
                text = np.full(len(rows), f"kill switch active{since}: {self.kill_switch_reason}", dtype=object)
            elif name == "daily_loss_limit":
                when = self.day.loss_hit if self.day.loss_hit is not None else (self._batch_loss or (None,))[0]
                at = f" at {when:%H:%M}" if when is not None else ""
                text = ("daily loss limit: day P&L $" + _column("{:,.2f}", v) + " (limit -$" + _column("{:,.2f}", -lim)
                        + ") reached" + at + "; " + np.where(d > 0, "BUY", "SELL").astype(object) + " "
                        + _column("{}", np.abs(d)) + " " + _column("{}", ticker[rows]) + " adds risk")
            elif name == "max_order_notional":
                text = "order notional $" + _column("{:,.2f}", v) + " > max $" + _column("{:,.2f}", lim)
            elif name == "max_position_shares":
                text = (_column("{}", ticker[rows]) + " position " + _column("{:+d}", pre) + " -> "
                        + _column("{:+d}", pre + d) + " shares; |" + _column("{}", pre + d) + "| > max "
                        + _column("{:,.0f}", lim))
            elif name == "max_position_pct":
                text = (_column("{}", ticker[rows]) + " position " + _column("{:+d}", pre + d) + " shares = "
                        + _column("{:.2f}", v) + "% of portfolio > max " + _column("{:.2f}", lim) + "%")
            elif name == "max_gross_exposure":
                text = "gross exposure $" + _column("{:,.2f}", v) + " > max $" + _column("{:,.2f}", lim)
            else:
                text = np.full(len(rows), name, dtype=object)
            reason[rows] = text
        return reason

    def __repr__(self) -> str:
        on = [f"{f.name}={getattr(self.limits, f.name)}" for f in fields(self.limits) if getattr(self.limits, f.name) is not None]
        ks = f", KILL SWITCH ON ({self.kill_switch_reason})" if self.kill_switch_active else ""
        return f"RiskManager({', '.join(on) or 'no limits'}{ks})"
