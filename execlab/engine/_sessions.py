"""The Executor's session handling: opening a session and the daily loss limit that sees a batch's own fills."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .pnl import batch_pnl, day_pnl

__all__ = ["_Sessions"]


class _Sessions:
    """Methods of :class:`~execlab.engine.executor.Executor` run once per session of a batch."""

    # ------------------------------------------------------------------ one trading day
    def _start_day_if_needed(self, d: int) -> None:
        m = self.market
        date = m.dates[d]
        if self.risk.day is not None and self.risk.day.date == date:
            return
        prices = pd.Series(m["mid_open"][:, d, 0], index=m.index)
        pos = self.ledger.positions
        mark = prices.reindex(pos.index).to_numpy(np.float64)
        mark = np.where(np.isfinite(mark), mark, pos["avg_cost"].to_numpy(np.float64))
        value = self.ledger.cash + float((pos["shares"].to_numpy(np.float64) * mark).sum())
        # held tickers without bars are valued at average cost
        prices = pd.concat([prices, pd.Series(mark, index=pos.index)[~pos.index.isin(prices.index)]])
        self.risk.start_day(date, value, pos["shares"], prices)

    def _day_pnl(self, t_ns: np.ndarray) -> np.ndarray:
        """The day's P&L at each time as the loss limit sees it (:func:`~execlab.engine.pnl.day_pnl`)."""
        if self.risk.limits.daily_loss_limit is None or len(t_ns) == 0:
            return np.zeros(len(t_ns))
        return day_pnl(self.ledger, self.market, self.risk.day.value, t_ns)

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
            snap = (self.book.snapshot(), self.ledger.copy(), self.risk.snapshot(), self._adds_risk)
            out = self._run_day(dec, k, bar, t_ns, reason.copy(), rejected, d, pnl)
            if out.get("orders") is None:
                return out
            new = base + self._batch_pnl(out, t_ns)
            cand = np.flatnonzero(out["acc"] | out["blocked"])
            first = [int(np.argmax(x[cand] <= -lim)) if (x[cand] <= -lim).any() else len(cand) for x in (pnl, new)]
            if first[0] == first[1]:
                return out
            self.book.restore(snap[0])
            self.ledger._restore(snap[1])
            self.risk.restore(snap[2])
            self._adds_risk = snap[3]
            pnl = new
        return out

    def _batch_pnl(self, out: dict, t_ns: np.ndarray) -> np.ndarray:
        """P&L ($) the batch's own fills add at each decision time (see :meth:`_run_day_checked`)."""
        f = out["fills"]
        ai = np.flatnonzero(out["acc"])
        src = ai[pd.Index(out["pid"][ai]).get_indexer(f["order_id"].to_numpy())]
        return batch_pnl(self.market, f.assign(sign=out["fill_sign"]), src, t_ns)
