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
5. simulate the fills against the bars (:func:`execlab.simulate`), one call
   for the batch, so orders of one ticker share the participation cap;
6. measure implementation shortfall (:func:`execlab.shortfall`);
7. book fills in the :class:`~execlab.engine.orderbook.OrderBook` and the
   :class:`~execlab.engine.ledger.Ledger`.

Steps 1-6 touch no state; step 7 runs under a snapshot and is rolled back if
anything fails, so the ledger is never half updated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validation import check_choice, check_frame, check_scalar
from ..data import daily_stats, load_bars, volume_profile
from ..impact import SquareRootImpact
from ..shortfall import shortfall as _shortfall
from ..simulate import simulate as _simulate
from ..schedules import Schedule
from .decisions import normalize_decisions, size_orders
from .ledger import Ledger
from .orderbook import OrderBook
from .policy import UrgencyPolicy
from .risk import RiskLimits, RiskManager

__all__ = ["Executor", "ExecutionReport", "DEFAULT_IMPACT"]

#: Pre-trade and simulation impact when none is given: the square-root law with
#: prefactor Y = 1, the order of magnitude reported across markets (Toth et al.
#: 2011, Phys. Rev. X 1, 021006; Bouchaud, Bonart, Donier & Gould 2018, ch. 12).
DEFAULT_IMPACT = SquareRootImpact(1.0)


# ---------------------------------------------------------------------------
# Bars as arrays
# ---------------------------------------------------------------------------
class _Market:
    """Bars on one time grid as (tickers, bars) arrays, with per-day statistics."""

    def __init__(self, bars: pd.DataFrame, smooth: int | None = 15) -> None:
        check_frame(bars, "bars", ["ticker", "time", "volume", "mid", "mid_open", "mid_close", "spread"])
        t = pd.DatetimeIndex(bars["time"])
        if t.tz is None:
            raise ValueError("bars column 'time' is timezone-naive; bars must carry their exchange time zone.")
        self.tz = t.tz
        self.bars = bars
        self.tickers = sorted(str(x) for x in pd.unique(bars["ticker"]))
        self.index = pd.Index(self.tickers)
        wide = {}
        for c in ("mid_open", "mid_close", "volume", "spread", "mid"):
            w = bars.pivot_table(index="time", columns="ticker", values=c, aggfunc="first", dropna=False)
            w = w.reindex(columns=self.tickers)
            if w.isna().any().any():
                tick = w.columns[w.isna().any()][0]
                raise ValueError(f"bars column {c!r} is missing or NaN for ticker {tick!r} at "
                                 f"{w.index[w[tick].isna()][0]}; all tickers must share one bar grid.")
            wide[c] = w
        times = pd.DatetimeIndex(wide["mid_open"].index).tz_convert(self.tz)
        self.start = times.as_unit("ns").asi8
        self.times = times
        self.values = {c: w.to_numpy(np.float64).T for c, w in wide.items()}
        dayv = times.normalize()
        self.days = pd.DatetimeIndex(pd.unique(dayv))
        self.day = self.days.get_indexer(dayv)
        n_days = len(self.days)
        self.day_first = np.searchsorted(self.day, np.arange(n_days), side="left")
        self.day_last = np.searchsorted(self.day, np.arange(n_days), side="right") - 1
        gaps = np.diff(self.start)
        same = self.day[1:] == self.day[:-1]
        self.freq = pd.Timedelta(int(np.median(gaps[same])) if same.any() else pd.Timedelta("1min").value)
        end = np.empty_like(self.start)
        end[:-1] = np.where(same, self.start[1:], self.start[:-1] + self.freq.value)
        end[-1] = self.start[-1] + self.freq.value
        self.end = end
        stats = daily_stats(bars).reset_index()
        stats["day"] = self.days.get_indexer(pd.DatetimeIndex(pd.to_datetime(stats["date"].astype(str))).tz_localize(self.tz))
        k = self.index.get_indexer(stats["ticker"].astype(str))
        shape = (len(self.tickers), n_days)
        self.adv, self.sigma, self.spread = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
        self.adv[k, stats["day"]] = stats["daily_volume"].to_numpy(np.float64)
        self.sigma[k, stats["day"]] = stats["sigma"].to_numpy(np.float64)
        self.spread[k, stats["day"]] = stats["mean_spread"].to_numpy(np.float64)
        self.sod_price = self.values["mid_open"][:, self.day_first]  # (tickers, days)
        self.close_price = self.values["mid_close"][:, self.day_last]
        prof = volume_profile(bars, self.freq, smooth=smooth)
        tod = pd.Index([x.time() for x in times])
        self.profile = prof.reindex(tod).fillna(0.0).to_numpy(np.float64)  # per bar of the grid

    def locate(self, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bar, day and whether each time falls inside a session bar."""
        bar = np.clip(np.searchsorted(self.start, t_ns, side="right") - 1, 0, len(self.start) - 1)
        inside = (t_ns >= self.start[bar]) & (t_ns < self.end[bar])
        return bar, self.day[bar], inside

    def mid_at(self, k: np.ndarray, bar: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
        """Quote mid: linear in time between the bar's mid_open and mid_close (as in simulate/shortfall)."""
        mo, mc = self.values["mid_open"][k, bar], self.values["mid_close"][k, bar]
        frac = np.clip((t_ns - self.start[bar]) / (self.end[bar] - self.start[bar]), 0.0, 1.0)
        return mo + (mc - mo) * frac


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
@dataclass
class ExecutionReport:
    """What one :meth:`Executor.run` did.

    Attributes
    ----------
    decisions : DataFrame
        Every input decision, validated, with its ``outcome`` (the order's
        status, or SKIPPED / BLOCKED / REJECTED), ``order_id``, ``price`` (mid
        at decision time), ``quantity`` (shares) and ``reason``.
    orders : DataFrame
        Parent orders sent to the market, indexed by ``order_id``: sizing,
        algorithm, pre-trade ``expected_cost_bps``, fills, status and
        shortfall figures.
    children : DataFrame
        Child orders (one per schedule slice) and their states.
    fills : DataFrame
        ``order_id, child_id, decision_id, ticker, side, time, shares, price, fee``.
    shortfall : DataFrame
        :func:`execlab.shortfall` of the orders sent.
    portfolio : DataFrame
        Positions after the run, marked to the last session close of the batch.
    blocked : DataFrame
        Decisions stopped by risk: ``decision_id, ticker, action, quantity,
        rule, value, limit, reason``.
    skipped : DataFrame
        HOLDs and zero-share decisions: ``decision_id, ticker, action, reason``.
    rejected : DataFrame
        Decisions that could not be priced (unknown ticker, no quote at
        decision time) when ``errors="reject"``.
    history : DataFrame
        Order-book transitions made by this run.
    """

    decisions: pd.DataFrame
    orders: pd.DataFrame
    children: pd.DataFrame
    fills: pd.DataFrame
    shortfall: pd.DataFrame
    portfolio: pd.DataFrame
    blocked: pd.DataFrame
    skipped: pd.DataFrame
    rejected: pd.DataFrame
    history: pd.DataFrame
    account: dict = field(default_factory=dict)

    @property
    def stats(self) -> pd.Series:
        """Headline numbers: executions, successful, average slippage, volume, fees, fill rate."""
        o = self.orders
        q = float(o["quantity"].sum()) if len(o) else 0.0
        filled = float(o["filled"].sum()) if len(o) else 0.0
        w = (o["filled"] * o["avg_price"].fillna(0.0)).to_numpy(np.float64) if len(o) else np.zeros(0)
        slip = o["slippage_arrival_bps"].to_numpy(np.float64) if len(o) else np.zeros(0)
        ok = np.isfinite(slip) & (w > 0)
        return pd.Series(dtype=object, data=
            {
                "decisions": len(self.decisions),
                "executions": len(o),
                "successful": int((o["status"] == "FILLED").sum()) if len(o) else 0,
                "partially_filled": int(((o["filled"] > 0) & (o["filled"] < o["quantity"])).sum()) if len(o) else 0,
                "blocked": len(self.blocked),
                "skipped": len(self.skipped),
                "rejected": len(self.rejected),
                "avg_slippage_bps": float(np.mean(slip[np.isfinite(slip)])) if np.isfinite(slip).any() else np.nan,
                "vw_slippage_bps": float((slip[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else np.nan,
                "vw_is_bps": float((o["is_total"].sum() / o["paper_notional"].sum()) * 1e4) if len(o) and o["paper_notional"].sum() > 0 else np.nan,
                "expected_cost_bps": float((o["expected_cost_bps"] * o["paper_notional"]).sum() / o["paper_notional"].sum()) if len(o) and o["paper_notional"].sum() > 0 else np.nan,
                "total_volume": int(filled),
                "total_notional": float((self.fills["shares"] * self.fills["price"]).sum()) if len(self.fills) else 0.0,
                "total_fees": float(self.fills["fee"].sum()) if len(self.fills) else 0.0,
                "fill_rate": filled / q if q > 0 else np.nan,
            }
        )

    @property
    def by_algorithm(self) -> pd.DataFrame:
        """Per algorithm: orders, filled orders, shares, fill rate, slippage, shortfall, expected cost, fees."""
        o = self.orders
        cols = ["orders", "successful", "quantity", "filled", "fill_rate", "avg_slippage_bps", "vw_is_bps",
                "expected_cost_bps", "fees"]
        if not len(o):
            return pd.DataFrame(columns=cols, index=pd.Index([], name="algorithm"))
        g = o.assign(
            ok=(o["status"] == "FILLED").astype(int),
            w_exp=o["expected_cost_bps"] * o["paper_notional"],
        ).groupby("algorithm", sort=True)
        out = pd.DataFrame(
            {
                "orders": g.size(),
                "successful": g["ok"].sum(),
                "quantity": g["quantity"].sum(),
                "filled": g["filled"].sum(),
                "avg_slippage_bps": g["slippage_arrival_bps"].mean(),
                "vw_is_bps": g["is_total"].sum() / g["paper_notional"].sum() * 1e4,
                "expected_cost_bps": g["w_exp"].sum() / g["paper_notional"].sum(),
                "fees": g["fees"].sum(),
            }
        )
        out["fill_rate"] = out["filled"] / out["quantity"]
        return out[cols]

    def summary(self) -> str:
        """The execution report as text."""
        s = self.stats
        a = self.account
        lines = [
            "Execution report",
            "=" * 78,
            f"Decisions:            {s['decisions']}  (orders {s['executions']}, blocked {s['blocked']}, "
            f"skipped {s['skipped']}, rejected {s['rejected']})",
            f"Executions:           {s['executions']}  (fully filled {s['successful']}, partially {s['partially_filled']})",
            f"Fill rate:            {s['fill_rate']:.2%}" if np.isfinite(s["fill_rate"]) else "Fill rate:            n/a",
            f"Total volume:         {s['total_volume']:,} shares, ${s['total_notional']:,.2f}",
            f"Total fees:           ${s['total_fees']:,.2f}",
            f"Avg slippage:         {s['avg_slippage_bps']:.2f} bps vs arrival, positive = cost (mean of orders); "
            f"{s['vw_slippage_bps']:.2f} bps value-weighted",
            f"Shortfall:            {s['vw_is_bps']:.2f} bps realized vs {s['expected_cost_bps']:.2f} bps expected pre-trade",
        ]
        if a:
            lines.append(
                f"Portfolio:            equity ${a['equity']:,.2f} at the {a['marked_at']:%H:%M} close "
                f"(cash ${a['cash']:,.2f}, positions ${a['equity'] - a['cash']:,.2f})"
            )
            if np.isfinite(a["day_pnl"]):
                lines.append(
                    f"Day P&L:              ${a['day_pnl']:,.2f} against the start-of-day value ${a['start_value']:,.2f} "
                    "(cash + opening positions at the opening mid)"
                )
            lines.append(
                f"P&L since cost:       ${a['pnl_since_cost']:,.2f} = realized ${a['realized_pnl']:,.2f} "
                f"+ unrealized ${a['unrealized_pnl']:,.2f} - fees ${a['fees']:,.2f} (opening positions at their average cost)"
            )
        lines.append("-" * 78)
        if len(self.orders):
            lines.append("By algorithm:")
            lines.append(self.by_algorithm.to_string(float_format=lambda x: f"{x:,.2f}"))
            lines.append("-" * 78)
            cols = ["decision_id", "ticker", "side", "urgency", "algorithm", "quantity", "filled", "status",
                    "avg_price", "expected_cost_bps", "is_bps", "slippage_arrival_bps"]
            lines.append("Orders:")
            lines.append(self.orders[cols].to_string(float_format=lambda x: f"{x:,.2f}"))
            cut = self.orders[self.orders["horizon_clipped"].astype(bool)]
            if len(cut):
                lines.append("Horizon cut at the close (scheduled over the slices left in the session): "
                             + ", ".join(f"{r.decision_id} ({r.urgency} {r.algorithm})" for r in cut.itertuples()))
        if len(self.blocked):
            lines.append("-" * 78)
            lines.append("Blocked:")
            lines.extend(f"  {r.decision_id}: {r.action} {r.quantity} {r.ticker} -- {r.rule}: {r.reason}"
                         for r in self.blocked.itertuples())
        if len(self.skipped):
            lines.append("Skipped:")
            lines.extend(f"  {r.decision_id}: {r.action} {r.ticker} -- {r.reason}" for r in self.skipped.itertuples())
        if len(self.rejected):
            lines.append("Rejected:")
            lines.extend(f"  {r.decision_id}: {r.action} {r.ticker} -- {r.reason}" for r in self.rejected.itertuples())
        return "\n".join(lines)

    def __repr__(self) -> str:
        s = self.stats
        return (f"ExecutionReport(decisions={s['decisions']}, executions={s['executions']}, blocked={s['blocked']}, "
                f"skipped={s['skipped']}, rejected={s['rejected']}, fill_rate={s['fill_rate']:.4f})")


# ---------------------------------------------------------------------------
# Executor
# ---------------------------------------------------------------------------
class Executor:
    r"""Run trading decisions through sizing, risk, scheduling, simulation and booking.

    Parameters
    ----------
    bars : DataFrame, optional
        Regular bars (:func:`execlab.load_bars`); default the bundled
        one-minute bars.
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
    profile_smooth : int or None, default 15
        Smoothing window (bars) of the VWAP volume profile.
    errors : {"raise", "reject"}, default "raise"
        What to do with a decision for a ticker that is not in the bars, or
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
    become sellable the next day; so a partially filled buy can never turn a
    sell into a short.  A sell capped to zero is skipped.

    **Look-ahead.**  ADV, volatility, spread and the VWAP profile are the
    day's own realized values (one day of data has nothing else); the
    simulator makes the same simplification.

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
    >>> exe = ex.Executor(portfolio_value=100_000)
    >>> rep = exe.process_ticker("AAPL", "BUY", 5, "HIGH", time="2012-06-21 10:00")
    >>> int(rep.orders["quantity"].iloc[0]), rep.orders["algorithm"].iloc[0]
    (8, 'twap')
    """

    def __init__(
        self,
        bars: pd.DataFrame | None = None,
        *,
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
        profile_smooth: int | None = 15,
        errors: str = "raise",
    ) -> None:
        self.bars = load_bars("1min") if bars is None else bars
        self.market = _Market(self.bars, smooth=profile_smooth)
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
        self.errors = check_choice(errors, "errors", ["raise", "reject"])
        self.book = OrderBook()
        self._decision_ids: set = set()
        self._n_decisions = 0
        self._decisions: list[pd.DataFrame] = []

    # ------------------------------------------------------------------ conveniences
    def activate_kill_switch(self, reason: str) -> None:
        """Block every new order (see :meth:`RiskManager.activate_kill_switch`)."""
        self.risk.activate_kill_switch(reason)

    def deactivate_kill_switch(self) -> None:
        """Let orders through again."""
        self.risk.deactivate_kill_switch()

    def process_ticker(
        self,
        ticker: str,
        action: str,
        position_size: float | None = None,
        urgency: str = "MEDIUM",
        *,
        time: object = None,
        confidence: float | None = None,
        decision_id: object = None,
        errors: str | None = None,
    ) -> ExecutionReport:
        """Run one decision (a batch of one); see :meth:`run`."""
        d = {"ticker": ticker, "action": action, "position_size": position_size, "urgency": urgency}
        if time is not None:
            d["time"] = time
        if confidence is not None:
            d["confidence"] = confidence
        if decision_id is not None:
            d["decision_id"] = decision_id
        return self.run([d], errors=errors)

    def day_pnl(self, times: object) -> np.ndarray:
        """The day's P&L ($) at each time, as the daily loss limit sees it.

        Cash and positions from the fills booked before each time, positions
        marked to the quote mid then, less the start-of-day portfolio value.
        Zero if no daily loss limit is set or the day has not started.
        """
        t = pd.DatetimeIndex([times] if isinstance(times, (str, pd.Timestamp)) else times)
        t = t.tz_localize(self.market.tz) if t.tz is None else t
        if self.risk.day is None:
            return np.zeros(len(t))
        return self._day_pnl(t.as_unit("ns").asi8)

    def portfolio(self, time: object = None) -> pd.DataFrame:
        """Positions marked to the quote mid at ``time`` (default: the last close in the bars)."""
        m = self.market
        if time is None:
            k_bar = np.full(len(m.tickers), len(m.start) - 1)
            t_ns = np.full(len(m.tickers), m.end[-1])
        else:
            ts = pd.Timestamp(time)
            ts = ts.tz_localize(m.tz) if ts.tz is None else ts
            t_ns = np.full(len(m.tickers), ts.as_unit("ns").value)
            k_bar = m.locate(t_ns)[0]
        mids = pd.Series(m.mid_at(np.arange(len(m.tickers)), k_bar, t_ns), index=m.index)
        return self.ledger.mark(self._marks(mids))

    def _marks(self, mids: pd.Series) -> pd.Series:
        """Mids for the ledger's tickers; tickers without bars at their average cost."""
        pos = self.ledger.positions
        return mids.reindex(pos.index).fillna(pos["avg_cost"]) if len(pos) else mids

    # ------------------------------------------------------------------ the batch
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
            executor has already seen, or (``errors="raise"``) an unknown
            ticker or a decision time without a quote.  Nothing is changed.
        """
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

        # --- price every decision at the quote mid at its time (validity first) ---
        k = m.index.get_indexer(dec["ticker"].to_numpy(object))
        bar, day, inside = m.locate(t_ns)
        price = np.full(n, np.nan)
        ok = (k >= 0) & inside
        price[ok] = m.mid_at(k[ok], bar[ok], t_ns[ok])
        reason = np.full(n, "", dtype=object)
        unknown = k < 0
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            msg = (f"decisions column 'ticker' has {dec['ticker'].iat[i]!r} at row {dec['input_row'].iat[i]}; "
                   f"it is not in the bars, which hold {m.tickers}.")
            if errors == "raise":
                raise ValueError(msg)
            reason[unknown] = [f"unknown ticker {t!r} (bars hold {m.tickers})" for t in dec["ticker"].to_numpy(object)[unknown]]
        noquote = (k >= 0) & ~inside
        if noquote.any():
            i = int(np.flatnonzero(noquote)[0])
            d0 = m.day[bar[i]]
            msg = (f"decisions column 'time' has {dec['time'].iat[i]} at row {dec['input_row'].iat[i]} "
                   f"({dec['ticker'].iat[i]}); there is no quote then: the bars cover "
                   f"{m.times[m.day_first[d0]]} to {pd.Timestamp(m.end[m.day_last[d0]], tz='UTC').tz_convert(m.tz)} on that day.")
            if errors == "raise":
                raise ValueError(msg)
            reason[noquote] = [f"no quote at decision time {t} (outside the session in the bars)"
                               for t in dec["time"].to_numpy()[noquote]]
        dec["price"] = price
        rejected = unknown | noquote

        # --- everything below mutates state: snapshot, and roll back on any failure ---
        snap = (self.book.snapshot(), self.ledger.copy(), self.risk.snapshot(), set(self._decision_ids), self._n_decisions,
                len(self._decisions))
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
            report = self._assemble(pieces, n_book, dec)
            self._decision_ids.update(dec["decision_id"].tolist())
            self._n_decisions += n
            self._decisions.append(report.decisions)
        except BaseException:
            self.book.restore(snap[0])
            self.ledger._restore(snap[1])
            self.risk.restore(snap[2])
            self._decision_ids, self._n_decisions = snap[3], snap[4]
            del self._decisions[snap[5]:]
            raise
        return report

    # ------------------------------------------------------------------ one trading day
    def _start_day_if_needed(self, d: int) -> None:
        m = self.market
        date = m.days[d]
        if self.risk.day is not None and self.risk.day.date == date:
            return
        prices = pd.Series(m.sod_price[:, d], index=m.index)
        pos = self.ledger.positions
        mark = prices.reindex(pos.index).to_numpy(np.float64)
        mark = np.where(np.isfinite(mark), mark, pos["avg_cost"].to_numpy(np.float64))
        value = self.ledger.cash + float((pos["shares"].to_numpy(np.float64) * mark).sum())
        # held tickers without bars are valued at average cost
        prices = pd.concat([prices, pd.Series(mark, index=pos.index)[~pos.index.isin(prices.index)]])
        self.risk.start_day(date, value, pos["shares"], prices)

    def _day_pnl(self, t_ns: np.ndarray) -> np.ndarray:
        """P&L of the day at each time: equity from fills before it, marked to the mid then, less start-of-day value."""
        m = self.market
        if self.risk.limits.daily_loss_limit is None or len(t_ns) == 0:
            return np.zeros(len(t_ns))
        tickers = list(dict.fromkeys(self.ledger.tickers))
        if not tickers:
            return np.full(len(t_ns), self.ledger.cash - self.risk.day.value)
        cash, pos = self.ledger.state_at(pd.DatetimeIndex(pd.to_datetime(t_ns, utc=True)), tickers)
        kk = m.index.get_indexer(tickers)
        bar, _, _ = m.locate(t_ns)
        cost = self.ledger.positions["avg_cost"].reindex(tickers).to_numpy(np.float64)
        marks = m.mid_at(np.maximum(kk, 0)[None, :], bar[:, None], t_ns[:, None])  # (times, tickers)
        marks = np.where(kk[None, :] >= 0, marks, cost[None, :])  # tickers without bars: at average cost
        return cash + (pos * marks).sum(axis=1) - self.risk.day.value

    def _run_day_checked(self, dec, k, bar, t_ns, reason, rejected, d):
        """One day's decisions, with the daily loss limit seeing this batch's own fills.

        The loss limit at decision k counts every fill known by then: fills
        booked before the batch and the batch's fills of earlier decisions
        (j < k) timed before k's decision time -- what k would see if the
        decisions were sent one at a time.  Those fills are only known after
        simulating, so the day is run, the P&L recomputed with its fills, and
        run again (after rolling back) if that moves the first breach.  Fills
        before the first breach do not depend on orders after it, so this
        settles in two passes; the cap guards pathological cases.
        """
        lim = self.risk.limits.daily_loss_limit
        if d < 0 or lim is None:
            return self._run_day(dec, k, bar, t_ns, reason.copy(), rejected, d)
        self._start_day_if_needed(d)
        base = self._day_pnl(t_ns)
        pnl = base
        out = None
        for _ in range(6):
            if self.risk.day.loss_hit is not None:  # latched earlier: this batch's fills change nothing
                return self._run_day(dec, k, bar, t_ns, reason.copy(), rejected, d, pnl)
            snap = (self.book.snapshot(), self.ledger.copy(), self.risk.snapshot())
            out = self._run_day(dec, k, bar, t_ns, reason.copy(), rejected, d, pnl)
            if out.get("orders") is None:
                return out
            new = base + self._batch_pnl(out, k, bar, t_ns)
            cand = np.flatnonzero(out["acc"] | out["blocked"])
            first = [int(np.argmax(x[cand] <= -lim)) if (x[cand] <= -lim).any() else len(cand) for x in (pnl, new)]
            if first[0] == first[1]:
                return out
            self.book.restore(snap[0])
            self.ledger._restore(snap[1])
            self.risk.restore(snap[2])
            pnl = new
        return out

    def _batch_pnl(self, out: dict, k: np.ndarray, bar: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
        """P&L ($) that the batch's own fills add at each decision time (see :meth:`_run_day_checked`)."""
        m = self.market
        n = len(t_ns)
        f = out["fills"]
        if len(f) == 0:
            return np.zeros(n)
        ai = np.flatnonzero(out["acc"])
        src = ai[pd.Index(out["pid"][ai]).get_indexer(f["order_id"].to_numpy())]
        ft = pd.DatetimeIndex(f["time"]).as_unit("ns").asi8
        known = np.maximum(src + 1, np.searchsorted(t_ns, ft, side="right"))  # first decision that sees the fill
        keep = known < n
        signed = np.where(f["side"].to_numpy(object) == "BUY", 1, -1) * f["shares"].to_numpy(np.int64)
        flow = -(signed * f["price"].to_numpy(np.float64) + f["fee"].to_numpy(np.float64))
        names, code = np.unique(f["ticker"].to_numpy(object).astype(str), return_inverse=True)
        T = len(names)
        cash = np.cumsum(np.bincount(known[keep], weights=flow[keep], minlength=n))
        pos = np.cumsum(np.bincount(known[keep] * T + code[keep], weights=signed[keep], minlength=n * T).reshape(n, T), axis=0)
        kk = m.index.get_indexer(names)
        marks = m.mid_at(kk[None, :], bar[:, None], t_ns[:, None])  # (decisions, tickers)
        return cash + (pos * marks).sum(axis=1)

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
        else:
            nav = np.nan
        requested = np.zeros(n, dtype=np.int64)
        if trade.any():
            requested[trade] = size_orders(nav, dec["position_size"].to_numpy(np.float64)[trade], price[trade])
        qty = requested.copy()
        sell = trade & (sign < 0)
        if sell.any() and not self.allow_short:
            qty = self._cap_sells(dec["ticker"].to_numpy(object), qty, sell, price)

        skipped = np.zeros(n, dtype=bool)
        hold = (action == "HOLD") & ~rejected
        skipped[hold] = True
        reason[hold] = "HOLD: no order"
        zero = trade & (requested == 0)
        if zero.any():  # message text for these rows only, built column-wise
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
        rules = pd.DataFrame(index=range(n), columns=["rule", "value", "limit", "reason"], dtype=object)
        if len(ci):
            chk = self.risk.check(dec["ticker"].to_numpy(object)[ci].astype(str), sign[ci] * qty[ci], price[ci],
                                  pd.DatetimeIndex(dec["time"]).take(ci), pnl[ci] if pnl is not None else self._day_pnl(t_ns[ci]))
            b = chk["blocked"].to_numpy()
            blocked[ci[b]] = True
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
            "side": np.where(sign[bi] > 0, "BUY", "SELL"),
            "quantity": np.where(rejected[bi], 0, qty[bi]).astype(np.int64),
            "urgency": dec["urgency"].to_numpy(object)[bi],
            "algorithm": self.policy.table["algorithm"].reindex(dec["urgency"].to_numpy(object)[bi]).to_numpy(object),
        })
        dec_times = pd.DatetimeIndex(dec["time"])
        pid = np.full(n, -1, dtype=np.int64)
        if len(bi):
            pid[bi] = self.book.add_parents(parent_frame, dec_times.take(bi))
            bb = np.flatnonzero(blocked)
            self.book.transition(pid[bb], "BLOCKED", dec_times.take(bb), reason[bb].astype(str))
            rr = np.flatnonzero(rejected & (action != "HOLD"))
            self.book.transition(pid[rr], "REJECTED", dec_times.take(rr), reason[rr].astype(str))

        out = {"dec": dec, "reason": reason, "rejected": rejected, "skipped": skipped, "blocked": blocked,
               "acc": acc, "pid": pid, "qty": qty, "requested": requested, "rules": rules, "day": d}
        if len(ai) == 0:
            return out | {"orders": None}

        # --- schedules, one policy call for the batch (one schedule call per urgency) ---
        arr_ns = t_ns[ai] + self.delay.value
        abar, aday, ainside = m.locate(arr_ns)
        last = m.day_last[m.day[bar[ai]]]
        after_close = arr_ns >= m.end[last]
        bins_left = np.where(after_close, 0, last - abar + 1)
        ka = k[ai]
        dd = np.full(len(ai), d)
        adv, sig, spr = m.adv[ka, dd], m.sigma[ka, dd], m.spread[ka, dd]
        pa = price[ai]
        ac = {"sigma": sig * pa, "eta": spr / (0.01 * adv), "gamma": spr / (0.1 * adv), "epsilon": spr / 2}
        plan = self.policy.plan(qty[ai], dec["urgency"].to_numpy(object)[ai].astype(str), abar, bins_left, m.freq,
                                m.profile, ac)
        W = plan.shares.shape[1]

        # --- pre-trade cost: impact on forecast bin volumes (profile x ADV) plus half the spread ---
        j = np.arange(W)
        gb = abar[:, None] + j[None, :]
        live = j[None, :] < bins_left[:, None]
        fvol = np.where(live, adv[:, None] * m.profile[np.clip(gb, 0, len(m.profile) - 1)], 0.0)
        sh = np.where(live & (fvol > 0), plan.shares, 0)
        fvol = np.where(sh > 0, fvol, 1.0)
        spread_bps = 1e4 * spr / 2 / pa
        impact_bps = self._pretrade_impact(sh, fvol, adv, sig)
        # --- children in the book ---
        ri, rj = np.nonzero(plan.shares)
        child_frame = pd.DataFrame({
            "parent_id": pid[ai][ri],
            "decision_id": dec["decision_id"].to_numpy(object)[ai][ri],
            "ticker": dec["ticker"].to_numpy(object)[ai][ri],
            "side": np.where(sign[ai][ri] > 0, "BUY", "SELL"),
            "quantity": plan.shares[ri, rj],
            "algorithm": plan.algorithm[ri],
            "urgency": dec["urgency"].to_numpy(object)[ai][ri],
            "slice": rj // plan.stride[ri],
            "release_time": pd.DatetimeIndex(pd.to_datetime(np.where(
                rj < bins_left[ri], m.start[np.clip(abar[ri] + rj, 0, len(m.start) - 1)], np.iinfo(np.int64).min),
                utc=True)).tz_convert(m.tz),
        })
        cid = self.book.add_children(child_frame, dec_times.take(ai)[ri]) if len(ri) else np.zeros(0, np.int64)

        # --- simulate the batch and measure shortfall ---
        orders_in = pd.DataFrame({
            "order_id": pid[ai],
            "ticker": dec["ticker"].to_numpy(object)[ai].astype(str),
            "side": np.where(sign[ai] > 0, "BUY", "SELL"),
            "quantity": qty[ai],
            "decision_time": dec_times.take(ai),
            "algorithm": plan.algorithm,
            "urgency": dec["urgency"].to_numpy(object)[ai].astype(str),
            "decision_id": dec["decision_id"].to_numpy(object)[ai],
        })
        traded = sorted(set(orders_in["ticker"]))
        bars = self.bars[self.bars["ticker"].isin(traded)] if len(traded) < len(m.tickers) else self.bars
        sim = _simulate(orders_in, Schedule(plan.shares, qty[ai], "policy", None), bars, self.impact,
                        max_participation=self.max_participation, fee_per_share=self.fee_per_share,
                        fee_per_order=self.fee_per_order, delay=self.delay)
        sf = _shortfall(sim.orders, sim.fills, bars)

        f = sim.fills
        row = pd.Index(pid[ai]).get_indexer(f["order_id"].to_numpy())
        key = row.astype(np.int64) * W + f["child"].to_numpy(np.int64)
        ckeys = ri.astype(np.int64) * W + rj
        fchild = cid[np.searchsorted(ckeys, key)]
        fills = pd.DataFrame({
            "order_id": f["order_id"].to_numpy(np.int64),
            "child_id": fchild,
            "decision_id": orders_in["decision_id"].to_numpy(object)[row],
            "ticker": orders_in["ticker"].to_numpy(object)[row],
            "side": orders_in["side"].to_numpy(object)[row],
            "time": f["time"],
            "shares": f["shares"].to_numpy(np.int64),
            "price": f["price"].to_numpy(np.float64),
            "fee": f["fee"].to_numpy(np.float64),
        })

        # --- book the fills: order book, then ledger, then risk tallies ---
        ftimes = pd.DatetimeIndex(fills["time"])
        why = ("fill " + fills["shares"].astype(str) + " @ " + fills["price"].round(4).astype(str)).to_numpy(object)
        self.book.apply_fills(fills["child_id"].to_numpy(), fills["shares"].to_numpy(), ftimes, why)
        self.book.apply_fills(fills["order_id"].to_numpy(), fills["shares"].to_numpy(), ftimes, why)
        close = pd.Timestamp(m.end[last[0]], tz="UTC").tz_convert(m.tz)
        open_ids = np.concatenate([pid[ai], cid])
        still = np.isin(self.book.status(open_ids), ["NEW", "PARTIALLY_FILLED"])
        oid = open_ids[still]
        if len(oid):
            rem = self.book.quantity[oid] - self.book._filled[oid]
            self.book.transition(oid, "CANCELLED", close, ("unfilled at the close: " + pd.Series(rem).astype(str) + " shares").to_numpy(object))
        self.ledger.apply_fills(pd.DataFrame({
            "time": ftimes, "ticker": fills["ticker"].to_numpy(object),
            "shares": np.where(fills["side"].to_numpy(object) == "BUY", 1, -1) * fills["shares"].to_numpy(np.int64),
            "price": fills["price"].to_numpy(np.float64), "fee": fills["fee"].to_numpy(np.float64),
            "order_id": fills["order_id"].to_numpy(),
        }))
        self.risk.commit(orders_in["ticker"].to_numpy(object).astype(str), sign[ai] * qty[ai])

        # --- per-order report ---
        so = sim.orders.set_index("order_id")
        o = pd.DataFrame(index=pd.Index(pid[ai], name="order_id"))
        o["decision_id"] = orders_in["decision_id"].to_numpy(object)
        for c in ("ticker", "side", "urgency", "algorithm"):
            o[c] = orders_in[c].to_numpy(object)
        o["requested"] = requested[ai]
        o["quantity"] = qty[ai]
        o["decision_time"] = dec_times.take(ai)
        o["decision_price"] = pa
        o["expected_spread_bps"] = spread_bps
        o["expected_impact_bps"] = impact_bps
        o["expected_cost_bps"] = spread_bps + impact_bps
        o["horizon_clipped"] = plan.clipped
        o["filled"] = so["filled"].to_numpy(np.int64)
        o["fill_rate"] = so["fill_rate"].to_numpy(np.float64)
        o["status"] = self.book.status(pid[ai])
        o["avg_price"] = so["avg_price"].to_numpy(np.float64)
        o["end_time"] = so["end_time"].to_numpy()
        for c in ("paper_notional", "is_total", "is_bps", "delay_cost_bps", "execution_cost_bps", "opportunity_cost_bps",
                  "fees", "slippage_arrival_bps", "slippage_vwap_bps"):
            o[c] = sf[c].to_numpy(np.float64)
        children = self.book.children.loc[cid] if len(cid) else self.book.children.iloc[:0]
        return out | {"orders": o, "fills": fills, "shortfall": sf, "children": children}

    def _pretrade_impact(self, shares: np.ndarray, fvol: np.ndarray, adv: np.ndarray, sig: np.ndarray) -> np.ndarray:
        if self.impact is None:
            return np.zeros(len(shares))
        fn = getattr(self.impact, "schedule_cost_bps", None)
        if callable(fn):
            return np.asarray(fn(shares, fvol, adv, sig), dtype=np.float64)
        # Any protocol object: children pay their temporary impact plus the order's earlier permanent impact.
        s = shares.astype(np.float64)
        temp = np.asarray(self.impact.temporary_impact(s, fvol, adv[:, None], sig[:, None]), dtype=np.float64)
        perm = np.asarray(self.impact.permanent_impact(s, adv[:, None], sig[:, None]), dtype=np.float64)
        earlier = np.cumsum(perm, axis=1) - perm
        q = s.sum(axis=1)
        return np.divide(1e4 * (s * (temp + earlier)).sum(axis=1), q, out=np.zeros(len(q)), where=q > 0)

    def _cap_sells(self, ticker: np.ndarray, qty: np.ndarray, sell: np.ndarray, price: np.ndarray) -> np.ndarray:
        """Cap sells at the sellable position, in decision order, exactly as one at a time would.

        Cumulative capped sells per ticker are ``min(C, A)`` (C = cumulative
        requested sells, A = sellable shares), so capped quantities are
        differences of a clipped cumulative sum.  A sell that the risk
        manager will block (kill switch, order notional) does not use up
        sellable shares; blocking only ever raises later capped quantities, so
        iterating block -> recompute reaches the one-at-a-time answer.
        """
        tick = ticker.astype(str)
        names = list(pd.unique(pd.Series(tick[sell], dtype=object)))
        _, committed_sells, sod = self.risk._base(names)
        avail = np.maximum(sod - committed_sells, 0)
        code = pd.Index(names).get_indexer(tick)
        idx = np.flatnonzero(sell)
        c = code[idx]
        q = qty[idx]
        A = avail[c]
        perm = np.argsort(c, kind="stable")
        starts = np.r_[True, c[perm][1:] != c[perm][:-1]]
        lim = self.risk.limits.max_order_notional
        dead = np.zeros(len(idx), dtype=bool)
        if self.risk.kill_switch_active:
            dead[:] = True
        while True:
            used = np.where(dead, 0, q)
            vs = used[perm]
            cs = np.cumsum(vs) - vs
            base = cs[np.maximum.accumulate(np.where(starts, np.arange(len(vs)), 0))]
            excl = np.empty_like(cs)
            excl[perm] = cs - base
            capped = np.minimum(excl + q, A) - np.minimum(excl, A)
            if lim is None or self.risk.kill_switch_active:
                break
            new = ~dead & (capped * price[idx] > lim)
            if not new.any():
                break
            dead |= new
        out = qty.copy()
        out[idx] = capped
        return out

    # ------------------------------------------------------------------ assembling the report
    def _assemble(self, pieces: list[dict], n_book: int, dec_all: pd.DataFrame) -> ExecutionReport:
        m = self.market
        dec_rows, orders, fills, sfs, children = [], [], [], [], []
        blocked_rows, skipped_rows, rejected_rows = [], [], []
        last_day = -1
        for p in pieces:
            dec = p["dec"].copy()
            status = self.book.status(np.maximum(p["pid"], 0)) if len(p["pid"]) else np.zeros(0, dtype=str)
            outcome = np.where(p["acc"], status, np.where(p["blocked"], "BLOCKED",
                               np.where(p["rejected"], "REJECTED", np.where(p["skipped"], "SKIPPED", ""))))
            dec["outcome"] = outcome
            dec["order_id"] = pd.array(np.where(p["pid"] >= 0, p["pid"], 0), dtype="Int64")
            dec.loc[p["pid"] < 0, "order_id"] = pd.NA
            dec["quantity"] = p["qty"]
            dec["reason"] = p["reason"].astype(str)
            dec_rows.append(dec)
            b = p["blocked"]
            if b.any():
                r = p["rules"].loc[np.flatnonzero(b)]
                blocked_rows.append(pd.DataFrame({
                    "input_row": dec["input_row"].to_numpy()[b],
                    "decision_id": dec["decision_id"].to_numpy(object)[b], "order_id": p["pid"][b],
                    "ticker": dec["ticker"].to_numpy(object)[b], "action": dec["action"].to_numpy(object)[b],
                    "quantity": p["qty"][b], "rule": r["rule"].to_numpy(object),
                    "value": r["value"].to_numpy(np.float64), "limit": r["limit"].to_numpy(np.float64),
                    "reason": p["reason"][b].astype(str)}))
            for mask, bucket in ((p["skipped"], skipped_rows), (p["rejected"], rejected_rows)):
                if mask.any():
                    bucket.append(pd.DataFrame({"input_row": dec["input_row"].to_numpy()[mask],
                                                "decision_id": dec["decision_id"].to_numpy(object)[mask],
                                                "ticker": dec["ticker"].to_numpy(object)[mask],
                                                "action": dec["action"].to_numpy(object)[mask],
                                                "time": pd.DatetimeIndex(dec["time"])[mask],
                                                "reason": p["reason"][mask].astype(str)}))
            if p.get("orders") is not None:
                orders.append(p["orders"])
                fills.append(p["fills"])
                sfs.append(p["shortfall"])
                children.append(p["children"])
            last_day = max(last_day, p["day"])

        def cat(frames, empty):
            return pd.concat(frames) if frames else empty

        def rows(frames, columns):
            """Per-decision tables in input order."""
            if not frames:
                return pd.DataFrame(columns=columns)
            return pd.concat(frames).sort_values("input_row", kind="stable").drop(columns="input_row").reset_index(drop=True)

        o_empty = pd.DataFrame(columns=["decision_id", "ticker", "side", "urgency", "algorithm", "requested", "quantity",
                                        "decision_time", "decision_price", "expected_spread_bps", "expected_impact_bps",
                                        "expected_cost_bps", "horizon_clipped", "filled", "fill_rate", "status", "avg_price", "end_time",
                                        "paper_notional", "is_total", "is_bps", "delay_cost_bps", "execution_cost_bps",
                                        "opportunity_cost_bps", "fees", "slippage_arrival_bps", "slippage_vwap_bps"],
                               index=pd.Index([], name="order_id"))
        f_empty = pd.DataFrame({"order_id": pd.Series([], dtype=np.int64), "child_id": pd.Series([], dtype=np.int64),
                                "decision_id": pd.Series([], dtype=object), "ticker": pd.Series([], dtype=object),
                                "side": pd.Series([], dtype=object), "time": pd.Series([], dtype=f"datetime64[ns, {m.tz}]"),
                                "shares": pd.Series([], dtype=np.int64), "price": pd.Series([], dtype=float),
                                "fee": pd.Series([], dtype=float)})
        decisions = pd.concat(dec_rows).sort_values("input_row", kind="stable").drop(columns="input_row").reset_index(drop=True)
        hist = self.book.history
        hist = hist[hist["order_id"] >= n_book].reset_index(drop=True)
        # portfolio marked to the close of the last day processed
        d = last_day if last_day >= 0 else len(m.days) - 1
        close_mid = pd.Series(m.close_price[:, d], index=m.index)
        port = self.ledger.mark(self._marks(close_mid))
        equity = self.ledger.cash + float(port["market_value"].sum())
        account = {
            "cash": self.ledger.cash,
            "equity": equity,
            "day_pnl": equity - self.risk.day.value if self.risk.day is not None else np.nan,
            "start_value": self.risk.day.value if self.risk.day is not None else np.nan,
            "pnl_since_cost": equity - self.ledger.initial_value(),
            "realized_pnl": self.ledger.realized_pnl,
            "unrealized_pnl": float(port["unrealized_pnl"].sum()),
            "fees": self.ledger.fees,
            "marked_at": pd.Timestamp(m.end[m.day_last[d]], tz="UTC").tz_convert(m.tz),
        }
        return ExecutionReport(
            decisions=decisions,
            orders=cat(orders, o_empty),
            children=cat(children, self.book.children.iloc[:0]),
            fills=cat(fills, f_empty).reset_index(drop=True),
            shortfall=cat(sfs, pd.DataFrame()),
            portfolio=port,
            blocked=rows(blocked_rows, ["decision_id", "order_id", "ticker", "action", "quantity", "rule", "value",
                                        "limit", "reason"]),
            skipped=rows(skipped_rows, ["decision_id", "ticker", "action", "time", "reason"]),
            rejected=rows(rejected_rows, ["decision_id", "ticker", "action", "time", "reason"]),
            history=hist,
            account=account,
        )
