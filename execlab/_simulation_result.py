"""The result of :func:`execlab.simulate`: fills, per-order outcome, releases and the market used."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

__all__ = ["SimulationResult", "STATUSES"]

STATUSES = ("FILLED", "PARTIALLY_FILLED", "UNFILLED")


@dataclass(frozen=True)
class SimulationResult:
    """Fills and per-order outcome of :func:`simulate`.

    Attributes
    ----------
    fills : DataFrame
        One row per executed piece of a child order: ``order_id``, ``child``
        (schedule bin index the shares were released in), ``time`` (start of
        the bar in which they filled, or the order's arrival if later: a fill
        never precedes its order), ``shares`` (int64), ``price`` ($ per
        share), ``fee`` ($).  Sorted by order (input order), then time, then
        child.  Carried-over shares keep the child they were released in
        (first released, first filled), so one child can fill over several
        bars and one bar can fill several children, at the same bar price.
    orders : DataFrame
        One row per parent order, in input order: ``order_id, ticker, side,
        quantity, filled, unfilled, fill_rate, status, avg_price,
        decision_time, arrival_time, end_time``, then the other input columns
        (``algorithm``, ``urgency``...).  ``status`` is ``"FILLED"``,
        ``"PARTIALLY_FILLED"`` or ``"UNFILLED"``; ``avg_price`` is NaN for an
        unfilled order (no execution to average); ``end_time`` is the end of
        the bar of the last fill for a filled order, the session close
        otherwise (or the arrival time, for an order that arrives after the
        close), so it is never before ``arrival_time``.
    releases : DataFrame
        Shares the schedule released to the market: ``order_id, child, time``
        (start of the bar of release), ``shares``; built on first access.
        Bins released after the session close are not listed (they count as
        unfilled).
    market : DataFrame
        ``ticker, time, volume, cap`` of the bars used: market volume and the
        participation cap (shares) shared by the orders of that ticker.
    params : dict
        The simulation settings.

    Examples
    --------
    Two orders at 10:00 on the real AMZN day, each a TWAP over five one-minute
    bars; the 10% participation cap (shared pro rata by the orders of a
    ticker) holds them back, and what a bar cannot take carries over:

    >>> import execlab as ex, pandas as pd
    >>> mkt = ex.load_market("1min", "AMZN")
    >>> t0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> orders = pd.DataFrame({"order_id": ["a", "b"], "ticker": "AMZN", "side": ["BUY", "SELL"],
    ...                        "quantity": [1_000, 30_000], "decision_time": t0})
    >>> res = ex.simulate(orders, ex.twap(orders["quantity"], 5), mkt)
    >>> res
    SimulationResult(orders=2, fills=298, filled=31000/31000)
    >>> print(res.orders[["order_id", "filled", "status"]].to_string(index=False))
    order_id  filled status
           a    1000 FILLED
           b   30000 FILLED
    >>> tr = res.trajectory("a")          # per bar: released vs filled shares, market volume, cap
    >>> tr.loc["2012-06-21 10:00":"2012-06-21 10:02", ["released", "filled", "market_volume"]].to_numpy().tolist()
    [[200, 16, 5045], [200, 5, 1435], [200, 2, 611]]
    """

    fills: pd.DataFrame
    orders: pd.DataFrame
    market: pd.DataFrame
    params: dict = field(default_factory=dict)
    _release_parts: tuple = field(default=(), repr=False)

    @cached_property
    def releases(self) -> pd.DataFrame:
        order_id, child, time, shares = self._release_parts
        return pd.DataFrame({"order_id": order_id, "child": child, "time": time, "shares": shares})

    def trajectory(self, order_id: object) -> pd.DataFrame:
        """Per bar of one order's session: released vs filled shares and market volume.

        Returns
        -------
        DataFrame
            Indexed by bar ``time``: ``released``, ``filled``, ``cum_released``,
            ``cum_filled``, ``market_volume``, ``participation`` (filled /
            market volume, 0 where the market traded nothing) and ``cap``.
        """
        row = self.orders.loc[self.orders["order_id"] == order_id]
        if len(row) != 1:
            raise ValueError(f"order_id == {order_id!r} is not in this simulation.")
        ticker = row["ticker"].iat[0]
        mkt = self.market[self.market["ticker"] == ticker]
        day = pd.Timestamp(row["arrival_time"].iat[0]).tz_convert(mkt["time"].dt.tz).normalize()
        mkt = mkt[mkt["time"].dt.normalize() == day].set_index("time")
        rel = self.releases[self.releases["order_id"] == order_id].groupby("time")["shares"].sum()
        f = self.fills[self.fills["order_id"] == order_id]
        # A fill is stamped at max(bar start, arrival): count it in the bar it happened in.
        bar_of = mkt.index[np.searchsorted(mkt.index.as_unit("ns").asi8, pd.DatetimeIndex(f["time"]).as_unit("ns").asi8, side="right") - 1]
        fil = f.groupby(bar_of)["shares"].sum()
        out = pd.DataFrame(index=mkt.index)
        out["released"] = rel.reindex(out.index, fill_value=0).astype(np.int64)
        out["filled"] = fil.reindex(out.index, fill_value=0).astype(np.int64)
        out["cum_released"] = out["released"].cumsum()
        out["cum_filled"] = out["filled"].cumsum()
        out["market_volume"] = mkt["volume"].astype(np.int64)
        vol = out["market_volume"].to_numpy(np.float64)
        out["participation"] = np.divide(out["filled"].to_numpy(np.float64), vol, out=np.zeros(len(out)), where=vol > 0)
        out["cap"] = mkt["cap"]
        return out

    def summary(self) -> str:
        """Text report: settings, fill status counts and execution cost against the bar mid."""
        o = self.orders
        p = self.params
        q = int(o["quantity"].sum())
        filled = int(o["filled"].sum())
        counts = o["status"].value_counts().reindex(list(STATUSES), fill_value=0)
        f = self.fills
        notional = float((f["shares"] * f["price"]).sum())
        fees = float(f["fee"].sum())
        lines = [
            "Fill simulation",
            "=" * 60,
            f"Algorithm:           {p.get('algorithm')}",
            f"Impact model:        {p.get('impact')}",
            f"Max participation:   {p.get('max_participation')}",
            f"Impact inputs:       {p.get('forecast') or 'none (no impact model)'}",
            f"Fees:                ${p.get('fee_per_share')}/share + ${p.get('fee_per_order')}/child order",
            f"Orders:              {len(o)}  (" + ", ".join(f"{k} {int(v)}" for k, v in counts.items()) + ")",
            f"Shares:              {q:,} ordered, {filled:,} filled ({filled / q:.2%})" if q else f"Shares:              {q} ordered",
            f"Fills (rows):        {len(f):,}",
            f"Notional:            ${notional:,.2f}; fees ${fees:,.2f}",
        ]
        if "cost_vs_mid_bps" in p:
            lines.append(f"Cost vs bar mid:     {p['cost_vs_mid_bps']:.3f} bps (notional-weighted; half-spread + impact)")
        lines.append("-" * 60)
        if filled:
            by = o.groupby("ticker").agg(orders=("order_id", "size"), quantity=("quantity", "sum"), filled=("filled", "sum"))
            by["fill_rate"] = by["filled"] / by["quantity"].where(by["quantity"] > 0)
            lines.append(by.to_string(float_format=lambda x: f"{x:.4f}"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"SimulationResult(orders={len(self.orders)}, fills={len(self.fills)}, "
            f"filled={int(self.orders['filled'].sum())}/{int(self.orders['quantity'].sum())})"
        )
