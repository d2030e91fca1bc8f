"""The Executor: trading decisions in; orders, fills, a portfolio and a report out.

One :meth:`Executor.run` processes a whole batch with array operations:

1. validate decisions (:func:`~execlab.engine.decisions.normalize_decisions`)
   and price them at the quote mid at decision time;
2. size them: shares = floor(start-of-day portfolio value x size% / price),
   sells capped at the sellable position unless short selling is allowed;
3. check risk (:class:`~execlab.engine.risk.RiskManager`);
4. slice accepted orders by urgency (:class:`~execlab.engine.policy.UrgencyPolicy`,
   one schedule call per urgency) and price them pre-trade with the impact
   model;
5. simulate the fills against the market (:func:`execlab.simulate`), one
   call per session, so orders of one ticker share the participation cap;
6. measure implementation shortfall (:func:`execlab.shortfall`);
7. book fills in the :class:`~execlab.engine.orderbook.OrderBook` and the
   :class:`~execlab.engine.ledger.Ledger`.

Steps 1-6 touch no state; step 7 runs under a snapshot and is rolled back if
anything fails, so the ledger is never half updated.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from .._forecast import Forecast, resolve_forecast
from .._market import Market, _as_market, load_market
from .._orders import from_ns, sign_to_side
from .._validation import check_choice, check_scalar
from ..impact import SquareRootImpact
from ..schedules import Schedule
from .._shortfall import shortfall as _shortfall
from .._simulate import simulate as _simulate
from ._controls import _Controls
from ._sessions import _Sessions
from .decisions import normalize_decisions, price_decisions, size_orders
from .ledger import Ledger
from .orderbook import OrderBook, book_fills, fills_with_children, stamp_fills
from .policy import UrgencyPolicy
from .report import ExecutionReport, assemble_report, order_table
from .sizing import bought_today, cap_sells, plan_orders
from .risk import RiskLimits, RiskManager

__all__ = ["Executor", "ExecutionReport", "DEFAULT_IMPACT"]

#: Pre-trade and simulation impact when none is given: the square-root law with
#: prefactor Y = 1, the order of magnitude reported across markets (Toth et al.
#: 2011, Phys. Rev. X 1, 021006; Bouchaud, Bonart, Donier & Gould 2018, ch. 12).
DEFAULT_IMPACT = SquareRootImpact(1.0)


class Executor(_Controls, _Sessions):
    r"""Run trading decisions through sizing, risk, scheduling, simulation and booking.

    Parameters
    ----------
    market : Market or DataFrame, optional
        The market model (:func:`execlab.load_market`,
        :meth:`Market.from_lobster`, ...), any number of sessions; a bars
        DataFrame is converted once.  Default the bundled one-minute day.
    forecast : Forecast or "same_session", optional
        Where sizing's risk inputs, the VWAP profile, the pre-trade cost and
        the simulator's impact inputs come from.  Default
        ``market.forecast(smooth=profile_smooth)``: the 20 sessions before
        each decision's session.  ``"same_session"`` asks for each session's
        own realized values where there is no history (a look-ahead: the
        bundled single day has none).  The report's
        ``account["inputs"]`` says which were used.
    portfolio_value : float, optional
        Opening cash ($) when neither ``cash`` nor ``ledger`` is given;
        default 100,000.
    cash : float, optional
        Opening cash ($); an alias of ``portfolio_value``.
    positions : dict or DataFrame, optional
        Opening positions (see :class:`~execlab.engine.ledger.Ledger`).
    ledger : Ledger, optional
        Continue from an existing ledger (e.g. one loaded from JSON).
    policy : UrgencyPolicy, DataFrame or dict, optional
        Urgency -> algorithm table; default :meth:`UrgencyPolicy.default`.
    risk : RiskManager or RiskLimits, optional
        Pre-trade limits; default none (the kill switch still works).
    impact : object or None, default :data:`DEFAULT_IMPACT`
        Impact model for the pre-trade estimate and the simulator (the
        protocol of :mod:`execlab.impact`, e.g. ``fit_impact(...).model``);
        ``None`` for spread-only fills.
    max_participation : float or None, default 0.1
        Participation cap of the simulator (fraction of bar volume).
    fee_per_share, fee_per_order : float, default 0
        Fees ($ per filled share, $ per child order that fills).
    delay : str or Timedelta, default "0s"
        Decision-to-arrival latency.
    allow_short : bool, default False
        Let a SELL exceed the sellable position.
    allow_same_day_sell : bool, default False
        Let shares bought today (filled in earlier runs) be sold today, as
        US equities allow; by default only start-of-day shares are
        sellable.
    profile_smooth : int or None, default 15
        Smoothing window (bars) of the VWAP volume profile.
    errors : {"raise", "reject"}, default "raise"
        What to do with a decision for a ticker that is not in the market, or
        with no quote at its decision time (outside the session): raise a
        ``ValueError`` naming it, or reject that decision (status REJECTED,
        with the reason) and go on with the rest.

    Notes
    -----
    **Sizing.**  :math:`q = \lfloor V_0\, s / 100 / P \rfloor`, with the
    start-of-day portfolio value :math:`V_0` (cash plus positions at the
    day's first mid), position size :math:`s` (%) and the quote mid at
    decision time :math:`P`.  Sizing against the start-of-day value (not the
    value after each fill) makes a batch and the same decisions sent one at a
    time size identically.

    **Selling.**  Without ``allow_short`` a SELL is capped at the sellable
    position: start-of-day shares less shares already committed to sell
    today (earlier in the batch or in earlier runs).  Shares bought today
    become sellable the next day (or, with ``allow_same_day_sell``, once a
    fill of an earlier run has delivered them); so a partially filled buy
    can never turn a sell into a short.  A sell capped to zero is skipped.

    **Forecasts.**  ADV, volatility, spread and the VWAP profile of a
    session come from the sessions before it (``forecast``); a same-session
    fallback is used only when asked for by name.

    **Sessions.**  Decisions may span many sessions in one run; they are
    processed session by session.  The ledger carries cash, positions and
    realized P&L across sessions; the daily loss limit resets at each
    session's open; ``report.sessions`` gives the P&L of each session.

    **Daily loss limit.**  Checked at each decision's time: cash and
    positions from every fill strictly before that time -- earlier runs' and
    this batch's fills of earlier decisions, as if the decisions had come one
    at a time -- marked to the quote mid then, less the start-of-day value.
    Once hit it latches for the day: risk-adding orders are blocked,
    risk-reducing ones pass.

    **Horizons past the close.**  A TWAP or Almgren-Chriss whose horizon runs
    past the close is scheduled over the slices that start before it
    (``orders["horizon_clipped"]``); nothing is carried to the next session.

    Examples
    --------
    >>> import execlab as ex
    >>> exe = ex.Executor(portfolio_value=100_000, forecast="same_session")
    >>> rep = exe.process_ticker("AAPL", "BUY", 5, "HIGH", time="2012-06-21 10:00")
    >>> int(rep.orders["quantity"].iloc[0]), rep.orders["algorithm"].iloc[0]
    (8, 'twap')
    """

    def __init__(
        self,
        market: Market | pd.DataFrame | None = None,
        *,
        forecast: Forecast | str | None = None,
        portfolio_value: float | None = None,
        cash: float | None = None,
        positions: object = None,
        ledger: Ledger | None = None,
        policy: UrgencyPolicy | pd.DataFrame | dict | None = None,
        risk: RiskManager | RiskLimits | None = None,
        impact: object = DEFAULT_IMPACT,
        max_participation: float | None = 0.1,
        fee_per_share: float = 0.0,
        fee_per_order: float = 0.0,
        delay: str | pd.Timedelta = "0s",
        allow_short: bool = False,
        allow_same_day_sell: bool = False,
        profile_smooth: int | None = 15,
        errors: str = "raise",
    ) -> None:
        self.market = load_market("1min") if market is None else _as_market(market)
        if profile_smooth is not None:
            profile_smooth = int(check_scalar(profile_smooth, "profile_smooth", min_val=1, integer=True))
        if forecast is None:
            self.forecast = self.market.forecast(smooth=profile_smooth)
        elif isinstance(forecast, str):
            if forecast != "same_session":
                raise ValueError(f"forecast == {forecast!r}, must be a Forecast, None (trailing sessions) or 'same_session'.")
            self.forecast = self.market.forecast(fallback="same_session", smooth=profile_smooth)
        else:
            self.forecast = resolve_forecast(forecast, self.market)
        if ledger is not None:
            if not isinstance(ledger, Ledger):
                raise TypeError(f"ledger must be a Ledger, got {type(ledger).__name__}.")
            if cash is not None or portfolio_value is not None or positions is not None:
                raise ValueError("pass either ledger or cash/portfolio_value/positions, not both.")
            self.ledger = ledger
        else:
            if cash is not None and portfolio_value is not None and float(cash) != float(portfolio_value):
                raise ValueError(f"cash == {cash!r} and portfolio_value == {portfolio_value!r} disagree; pass one.")
            value = cash if cash is not None else (portfolio_value if portfolio_value is not None else 100_000.0)
            value = check_scalar(value, "portfolio_value", min_val=0.0)
            self.ledger = Ledger(value, positions)
        if policy is None:
            self.policy = UrgencyPolicy()
        elif isinstance(policy, UrgencyPolicy):
            self.policy = policy
        else:
            self.policy = UrgencyPolicy(policy)
        if risk is None:
            self.risk = RiskManager()
        elif isinstance(risk, RiskLimits):
            self.risk = RiskManager(risk)
        elif isinstance(risk, RiskManager):
            self.risk = risk
        else:
            raise TypeError(f"risk must be a RiskManager or RiskLimits, got {type(risk).__name__}.")
        if impact is not None:
            missing = [m for m in ("temporary_impact", "permanent_impact") if not callable(getattr(impact, m, None))]
            if missing:
                raise TypeError(f"impact must follow the impact protocol; {type(impact).__name__} lacks {missing}.")
        self.impact = impact
        self.max_participation = max_participation
        self.fee_per_share = check_scalar(fee_per_share, "fee_per_share", min_val=0.0)
        self.fee_per_order = check_scalar(fee_per_order, "fee_per_order", min_val=0.0)
        try:
            self.delay = pd.Timedelta(delay)
        except (TypeError, ValueError):
            raise ValueError(f"delay == {delay!r}, must be a time span such as '2s'.") from None
        if self.delay < pd.Timedelta(0):
            raise ValueError(f"delay == {delay!r}, must be >= 0.")
        self.allow_short = bool(allow_short)
        self.allow_same_day_sell = bool(allow_same_day_sell)
        self.errors = check_choice(errors, "errors", ["raise", "reject"])
        self.book = OrderBook()
        self._lock = threading.RLock()
        self._adds_risk = np.zeros(0, dtype=bool)  # by book id: parent accepted as a risk-adding order
        self._decision_ids: set = set()
        self._n_decisions = 0
        self._decisions: list[pd.DataFrame] = []

    def run(self, decisions: object, *, errors: str | None = None) -> ExecutionReport:
        """Process a batch of decisions at once.

        Parameters
        ----------
        decisions : DataFrame or list of dicts
            See :func:`~execlab.engine.decisions.normalize_decisions`.
            Processed in decision-time order (input order among equal times).
        errors : {"raise", "reject"}, optional
            Override the executor's ``errors`` for this batch.

        Returns
        -------
        ExecutionReport

        Raises
        ------
        ValueError
            Bad decisions (see ``normalize_decisions``), a decision id this
            executor has already seen, a decision before the ledger's
            ``start_time``, a decision to trade when the start-of-day
            portfolio value is negative, or (``errors="raise"``) an unknown
            ticker or a decision time without a quote.  Nothing is changed.

        Notes
        -----
        **Threads.**  An executor may be shared by threads: runs are
        serialized (one lock for the executor, and its ledger's lock held
        for the whole run, so another executor or thread booking into the
        same ledger waits too).  Each run sees the state the previous one
        left, exactly as if the runs had been made one after the other in
        the order the threads got the lock.
        """
        with self._lock, self.ledger._lock:
            return self._run(decisions, errors)

    def _run(self, decisions: object, errors: str | None) -> ExecutionReport:
        errors = self.errors if errors is None else check_choice(errors, "errors", ["raise", "reject"])
        m = self.market
        dec = normalize_decisions(decisions, tz=m.tz, default_time=m.times[0], id_start=self._n_decisions)
        seen = dec["decision_id"].isin(list(self._decision_ids)).to_numpy() if self._decision_ids else np.zeros(len(dec), bool)
        if seen.any():
            pos = int(np.flatnonzero(seen)[0])
            raise ValueError(f"decisions column 'decision_id' has {dec['decision_id'].iat[pos]!r} at row {pos}, "
                             "which this executor has already processed; ids must be unique.")
        n = len(dec)
        dec["input_row"] = np.arange(n)
        t_ns = pd.DatetimeIndex(dec["time"]).as_unit("ns").asi8
        order = np.lexsort((np.arange(n), t_ns))
        dec = dec.iloc[order].reset_index(drop=True)
        t_ns = t_ns[order]
        start = self.ledger.start_time
        if start is not None and t_ns[0] < pd.Timestamp(start).value:
            raise ValueError(f"decisions column 'time' has {dec['time'].iat[0]} at row {dec['input_row'].iat[0]}, "
                             f"before the ledger's start {start}; its fills could not be booked.")

        # --- price every decision at the quote mid at its time (validity first) ---
        k, bar, day, ok, reason, rejected = price_decisions(m, dec, t_ns, errors)

        # --- everything below mutates state: snapshot, and roll back on any failure ---
        snap = (self.book.snapshot(), self.ledger.copy(), self.risk.snapshot(), set(self._decision_ids), self._n_decisions,
                len(self._decisions), self._adds_risk)
        n_book = len(self.book)
        try:
            pieces = []
            day_of = np.where(ok, day, -1)
            # rejected rows ride with the first day of the batch (they touch no state)
            days = np.unique(day_of[ok]) if ok.any() else np.array([-1])
            first_day = days[0]
            for dd in days:
                rows = np.flatnonzero((day_of == dd) | ((day_of == -1) & (dd == first_day)))
                pieces.append(self._run_day_checked(dec.iloc[rows].reset_index(drop=True), k[rows], bar[rows], t_ns[rows],
                                            reason[rows], rejected[rows], int(dd)))
            report = assemble_report(self, pieces, n_book)
            self._decision_ids.update(dec["decision_id"].tolist())
            self._n_decisions += n
            self._decisions.append(report.decisions)
        except BaseException:
            self.book.restore(snap[0])
            self.ledger._restore(snap[1])
            self.risk.restore(snap[2])
            self._decision_ids, self._n_decisions = snap[3], snap[4]
            del self._decisions[snap[5]:]
            self._adds_risk = snap[6]
            raise
        return report

    def _run_day(self, dec, k, bar, t_ns, reason, rejected, d, pnl=None):
        m = self.market
        n = len(dec)
        action = dec["action"].to_numpy(object)
        trade = (action != "HOLD") & ~rejected
        sign = np.where(action == "BUY", 1, np.where(action == "SELL", -1, 0)).astype(np.int64)
        price = dec["price"].to_numpy(np.float64)
        if d >= 0:
            self._start_day_if_needed(d)
            nav = self.risk.day.value
            if trade.any() and not (np.isfinite(nav) and nav >= 0):
                i = int(np.flatnonzero(trade)[0])
                raise ValueError(
                    f"decision {dec['decision_id'].iat[i]!r} (row {dec['input_row'].iat[i]}: {action[i]} "
                    f"{dec['position_size'].iat[i]:g}% of {dec['ticker'].iat[i]} at {dec['time'].iat[i]}): the portfolio "
                    f"value at the start of {m.dates[d].date()} is ${nav:,.2f} (cash ${self.ledger.cash:,.2f} plus positions "
                    "at the opening mid); a percent of a negative portfolio value is no order size. Add cash or close "
                    "positions before sizing orders as a percent of the portfolio.")
        else:
            nav = np.nan
        requested = np.zeros(n, dtype=np.int64)
        if trade.any():
            requested[trade] = size_orders(nav, dec["position_size"].to_numpy(np.float64)[trade], price[trade])
        qty = requested.copy()
        sell = trade & (sign < 0)
        if sell.any() and not self.allow_short:
            bought = bought_today(self.ledger, self.market, d) if self.allow_same_day_sell else None
            qty = cap_sells(self.risk, dec["ticker"].to_numpy(object), qty, sell, price, bought, t_ns)

        skipped = np.zeros(n, dtype=bool)
        hold = (action == "HOLD") & ~rejected
        skipped[hold] = True
        reason[hold] = "HOLD: no order"
        zero = trade & (requested == 0)
        if zero.any() and nav == 0:
            reason[zero] = "zero shares: the start-of-day portfolio value is $0.00"
        elif zero.any():  # message text for these rows only, built column-wise
            reason[zero] = ("zero shares: " + dec["position_size"][zero].map("{:g}".format) + f"% of ${nav:,.2f} at $"
                            + pd.Series(price[zero]).map("{:,.2f}".format).to_numpy(object) + " is less than one share").to_numpy(object)
        capped0 = trade & (requested > 0) & (qty == 0)
        if capped0.any():
            reason[capped0] = ("nothing to sell: no sellable " + dec["ticker"][capped0].astype(str)
                               + " position (short selling is off)").to_numpy(object)
        skipped |= zero | capped0
        cand = trade & ~skipped

        # --- risk ---
        ci = np.flatnonzero(cand)
        blocked = np.zeros(n, dtype=bool)
        adds = np.zeros(n, dtype=bool)  # increases |projected position|: what a kill switch cancels
        rules = pd.DataFrame(index=range(n), columns=["rule", "value", "limit", "reason"], dtype=object)
        if len(ci):
            chk = self.risk.check(dec["ticker"].to_numpy(object)[ci].astype(str), sign[ci] * qty[ci], price[ci],
                                  pd.DatetimeIndex(dec["time"]).take(ci), pnl[ci] if pnl is not None else self._day_pnl(t_ns[ci]))
            b = chk["blocked"].to_numpy()
            blocked[ci[b]] = True
            adds[ci] = np.abs(chk["position_after"].to_numpy(np.int64)) > np.abs(chk["position_before"].to_numpy(np.int64))
            rules.loc[ci[b], ["rule", "value", "limit", "reason"]] = chk.loc[b, ["rule", "value", "limit", "reason"]].to_numpy()
            reason[ci[b]] = chk["reason"].to_numpy(object)[b]
            if getattr(self.risk, "_batch_loss", None) is not None:  # latch, even if every order was blocked
                self.risk.note_loss(*self.risk._batch_loss)
        acc = cand & ~blocked
        ai = np.flatnonzero(acc)

        # --- book: parents for orders and blocked/rejected decisions ---
        in_book = cand | (rejected & (action != "HOLD"))
        bi = np.flatnonzero(in_book)
        parent_frame = pd.DataFrame({
            "decision_id": dec["decision_id"].to_numpy(object)[bi],
            "ticker": dec["ticker"].to_numpy(object)[bi],
            "side": sign_to_side(sign[bi]),
            "quantity": np.where(rejected[bi], 0, qty[bi]).astype(np.int64),
            "urgency": dec["urgency"].to_numpy(object)[bi],
            "algorithm": self.policy.table["algorithm"].reindex(dec["urgency"].to_numpy(object)[bi]).to_numpy(object),
        })
        dec_times = pd.DatetimeIndex(dec["time"])
        pid = np.full(n, -1, dtype=np.int64)
        if len(bi):
            pid[bi] = self.book.add_parents(parent_frame, dec_times.take(bi))
            grown = np.zeros(len(self.book), dtype=bool)
            grown[:len(self._adds_risk)] = self._adds_risk[:len(self.book)]
            grown[pid[acc & adds]] = True
            self._adds_risk = grown
            bb = np.flatnonzero(blocked)
            self.book.transition(pid[bb], "BLOCKED", dec_times.take(bb), reason[bb].astype(str))
            rr = np.flatnonzero(rejected & (action != "HOLD"))
            self.book.transition(pid[rr], "REJECTED", dec_times.take(rr), reason[rr].astype(str))

        out = {"dec": dec, "reason": reason, "rejected": rejected, "skipped": skipped, "blocked": blocked,
               "acc": acc, "pid": pid, "qty": qty, "requested": requested, "rules": rules, "day": d}
        if len(ai) == 0:
            return out | {"orders": None}

        # --- schedules (one policy call for the batch) and their pre-trade cost, on the forecast ---
        ka = k[ai]
        dd = np.full(len(ai), d)
        fc = self.forecast
        pre = plan_orders(self.policy, m, fc, self.impact, ka, dd, t_ns[ai] + self.delay.value, price[ai], qty[ai],
                          dec["urgency"].to_numpy(object)[ai].astype(str))
        plan, abar, bins_left, last = pre.plan, pre.arrival_bar, pre.bins_left, pre.last_bar
        pa, spread_bps, impact_bps = price[ai], pre.spread_bps, pre.impact_bps
        W = plan.shares.shape[1]
        arrival = t_ns[ai] + self.delay.value
        # A child is released at the start of its bar, but never before its order arrives.
        grid = np.arange(W)[None, :]
        live = grid < bins_left[:, None]
        release = np.where(live, np.maximum(m.start_ns[np.clip(abar[:, None] + grid, 0, len(m.start_ns) - 1)],
                                            arrival[:, None]), np.iinfo(np.int64).min)
        # --- kill switch with a time: risk-adding orders send nothing from then on ---
        kill = self.risk.kill_from_ns
        shares = plan.shares
        killed = np.zeros(shares.shape, dtype=bool)
        if kill is not None:
            killed = adds[ai][:, None] & (shares > 0) & live & (release >= kill)
            shares = np.where(killed, 0, shares)
        # --- children in the book ---
        ri, rj = np.nonzero(plan.shares)
        child_frame = pd.DataFrame({
            "parent_id": pid[ai][ri],
            "decision_id": dec["decision_id"].to_numpy(object)[ai][ri],
            "ticker": dec["ticker"].to_numpy(object)[ai][ri],
            "side": sign_to_side(sign[ai][ri]),
            "quantity": plan.shares[ri, rj],
            "algorithm": plan.algorithm[ri],
            "urgency": dec["urgency"].to_numpy(object)[ai][ri],
            "slice": rj // plan.stride[ri],
            "release_time": from_ns(release[ri, rj], m.tz),
        })
        cid = self.book.add_children(child_frame, dec_times.take(ai)[ri]) if len(ri) else np.zeros(0, np.int64)

        # --- simulate the batch and measure shortfall ---
        orders_in = pd.DataFrame({
            "order_id": pid[ai],
            "ticker": dec["ticker"].to_numpy(object)[ai].astype(str),
            "side": sign_to_side(sign[ai]),
            "quantity": qty[ai],
            "decision_time": dec_times.take(ai),
            "algorithm": plan.algorithm,
            "urgency": dec["urgency"].to_numpy(object)[ai].astype(str),
            "decision_id": dec["decision_id"].to_numpy(object)[ai],
        })
        # The policy lays every schedule on the market's bars (a slice of k bars in the first of
        # them), so the bins are one bar long: said outright, simulate need not guess the grid.
        sim = _simulate(orders_in, Schedule(shares, qty[ai], "policy", m.freq, (plan.shares - shares).sum(axis=1)), m,
                        self.impact, forecast=fc, max_participation=self.max_participation,
                        fee_per_share=self.fee_per_share, fee_per_order=self.fee_per_order, delay=self.delay)
        sim_fills, sim_orders, cut = stamp_fills(sim.fills, sim.orders, arrival, kill, adds[ai], killed.any(axis=1),
                                                 m.end_ns[last])
        sf = _shortfall(sim_orders, sim_fills, m)

        fills, row = fills_with_children(sim_fills, orders_in, ri, rj, cid, W)

        # --- book the fills: order book, then ledger, then risk tallies ---
        close = pd.Timestamp(m.end_ns[last[0]], tz="UTC").tz_convert(m.tz)
        open_ids = np.concatenate([pid[ai], cid])
        owner = np.concatenate([np.arange(len(ai)), ri])
        stop = cut[owner]
        book_fills(self.book, self.ledger, fills, sign[ai][row], open_ids, close,
                   cancel_at=np.where(stop, kill if kill is not None else 0, close.value),
                   cancel_why=np.where(stop, f"kill switch at {self.risk.kill_switch_time}: {self.risk.kill_switch_reason}; "
                                             "unfilled: ", "unfilled at the close: "))
        # working orders count in full, except shares a kill switch cancelled: they will never trade
        working = np.where(cut, sim_orders["filled"].to_numpy(np.int64), qty[ai])
        self.risk.commit(orders_in["ticker"].to_numpy(object).astype(str), sign[ai] * working)

        # --- per-order report ---
        o = order_table(orders_in, pid[ai], requested[ai], qty[ai], dec_times.take(ai), pa, spread_bps, impact_bps,
                        plan.clipped, sim_orders, sf, self.book.status(pid[ai]))
        children = self.book.children_of(cid)
        return out | {"orders": o, "fills": fills, "fill_sign": sign[ai][row], "shortfall": sf, "children": children,
                      "inputs": f"{m.dates[d].date()}: {fc.used(ka, dd)}"}
