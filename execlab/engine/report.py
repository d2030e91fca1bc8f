"""The execution report: what one :meth:`Executor.run` did, as tables and text."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .pnl import marks, session_pnl

__all__ = ["ExecutionReport", "assemble_report", "order_table"]


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
    account : dict
        Cash, equity, P&L lines and ``inputs`` (where the forecasts behind
        sizing, pre-trade cost and impact came from).
    sessions : DataFrame
        Per session the run traded in: ``open_equity``, ``close_equity`` and
        ``pnl`` (close less open, realized and unrealized, net of fees).

    Examples
    --------
    >>> import execlab as ex
    >>> exe = ex.Executor(portfolio_value=100_000, forecast="same_session")
    >>> rep = exe.run([{"ticker": "AAPL", "action": "BUY", "position_size": 5, "urgency": "HIGH",
    ...                 "time": "2012-06-21 10:00", "decision_id": "a"},
    ...                {"ticker": "GOOG", "action": "HOLD", "position_size": None, "urgency": "LOW",
    ...                 "time": "2012-06-21 10:00", "decision_id": "h"}])
    >>> rep.decisions[["decision_id", "outcome"]].values.tolist()
    [['a', 'FILLED'], ['h', 'SKIPPED']]
    >>> int(rep.stats["total_volume"]), rep.skipped["reason"].iat[0]
    (8, 'HOLD: no order')
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
    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)

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
            if a.get("inputs"):
                lines.append(f"Forecast inputs:      {a['inputs']}")
        if len(self.sessions) > 1:
            lines.append("P&L by session:")
            lines.append(self.sessions.to_string(float_format=lambda x: f"{x:,.2f}"))
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


def assemble_report(exe, pieces: list[dict], n_book: int) -> ExecutionReport:
    """Put the pieces of one run (one per session) together into an :class:`ExecutionReport`."""
    m = exe.market
    dec_rows, orders, fills, sfs, children = [], [], [], [], []
    blocked_rows, skipped_rows, rejected_rows = [], [], []
    last_day = -1
    for p in pieces:
        dec = p["dec"].copy()
        # Only rows that own an order read the book: a HOLD or a skipped row has pid -1, and
        # the book may be empty (a fresh executor whose first batch placed nothing).
        has = p["pid"] >= 0
        status = np.full(len(p["pid"]), "", dtype=object)
        status[has] = exe.book.status(p["pid"][has])
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
    # this run's orders only, read without building the rest of the book's history
    hist = exe.book._history_since(n_book)
    # portfolio marked to the close of the last day processed
    d = last_day if last_day >= 0 else m.n_sessions - 1
    close_mid = pd.Series(m["mid_close"][:, d, m.day_last[d] - m.day_first[d]], index=m.index)
    port = exe.ledger.mark(marks(exe.ledger, close_mid))
    equity = exe.ledger.cash + float(port["market_value"].sum())
    account = {
        "cash": exe.ledger.cash,
        "equity": equity,
        "day_pnl": equity - exe.risk.day.value if exe.risk.day is not None else np.nan,
        "start_value": exe.risk.day.value if exe.risk.day is not None else np.nan,
        "pnl_since_cost": equity - exe.ledger.initial_value(),
        "realized_pnl": exe.ledger.realized_pnl,
        "unrealized_pnl": float(port["unrealized_pnl"].sum()),
        "fees": exe.ledger.fees,
        "marked_at": pd.Timestamp(m.end_ns[m.day_last[d]], tz="UTC").tz_convert(m.tz),
        "inputs": "; ".join(p["inputs"] for p in pieces if p.get("inputs")),
    }
    touched = sorted({p["day"] for p in pieces if p["day"] >= 0})
    sessions = session_pnl(exe.ledger, m, np.array(touched, dtype=np.int64)) if touched else session_pnl(exe.ledger, m, np.zeros(0, np.int64))
    return ExecutionReport(
        decisions=decisions,
        orders=cat(orders, o_empty),
        children=cat(children, exe.book.children_of([])),
        fills=cat(fills, f_empty).reset_index(drop=True),
        shortfall=cat(sfs, pd.DataFrame()),
        portfolio=port,
        blocked=rows(blocked_rows, ["decision_id", "order_id", "ticker", "action", "quantity", "rule", "value",
                                    "limit", "reason"]),
        skipped=rows(skipped_rows, ["decision_id", "ticker", "action", "time", "reason"]),
        rejected=rows(rejected_rows, ["decision_id", "ticker", "action", "time", "reason"]),
        history=hist,
        account=account,
        sessions=sessions,
    )


def order_table(orders_in: pd.DataFrame, order_id: np.ndarray, requested: np.ndarray, quantity: np.ndarray,
                decision_time: pd.DatetimeIndex, decision_price: np.ndarray, spread_bps: np.ndarray,
                impact_bps: np.ndarray, clipped: np.ndarray, sim_orders: pd.DataFrame, sf: pd.DataFrame,
                status: np.ndarray) -> pd.DataFrame:
    """The report's per-order rows: sizing, pre-trade cost, fills and shortfall, indexed by ``order_id``."""
    so = sim_orders.set_index("order_id")
    o = pd.DataFrame(index=pd.Index(order_id, name="order_id"))
    o["decision_id"] = orders_in["decision_id"].to_numpy(object)
    for c in ("ticker", "side", "urgency", "algorithm"):
        o[c] = orders_in[c].to_numpy(object)
    o["requested"] = requested
    o["quantity"] = quantity
    o["decision_time"] = decision_time
    o["decision_price"] = decision_price
    o["expected_spread_bps"] = spread_bps
    o["expected_impact_bps"] = impact_bps
    o["expected_cost_bps"] = spread_bps + impact_bps
    o["horizon_clipped"] = clipped
    o["filled"] = so["filled"].to_numpy(np.int64)
    o["fill_rate"] = so["fill_rate"].to_numpy(np.float64)
    o["status"] = status
    o["avg_price"] = so["avg_price"].to_numpy(np.float64)
    o["end_time"] = so["end_time"].to_numpy()
    for c in ("paper_notional", "is_total", "is_bps", "delay_cost_bps", "execution_cost_bps", "opportunity_cost_bps",
              "fees", "slippage_arrival_bps", "slippage_vwap_bps"):
        o[c] = sf[c].to_numpy(np.float64)
    return o
