"""The Executor's controls and views: kill switch, one decision at a time, P&L and portfolio now."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .pnl import marks
from .report import ExecutionReport

__all__ = ["_Controls"]


class _Controls:
    """Methods of :class:`~execlab.engine.executor.Executor` that steer or look at it between runs.

    They use the executor's ``market``, ``ledger``, ``risk``, locks and
    ``run``; see :class:`~execlab.engine.executor.Executor`.
    """

    # ------------------------------------------------------------------ conveniences
    def activate_kill_switch(self, reason: str, time: object = None) -> None:
        """Stop trading: block new orders and cancel working risk-adding orders from ``time`` on.

        Parameters
        ----------
        reason : str
            Why; shown in every blocked or cancelled order's reason.
        time : Timestamp or str, optional
            The kill time (naive times are in the market's zone).  Default:
            every decision processed from now on is blocked, whatever its
            time; orders already booked are left as they are.

        Raises
        ------
        ValueError
            ``time`` is before a fill already booked for a risk-adding order
            of this executor: those fills are in the ledger, and a kill
            switch cannot recall them.  Nothing is changed.

        Notes
        -----
        With a kill time :math:`T`, in every later :meth:`run`:

        * decisions timed at or after :math:`T` are blocked (rule
          ``kill_switch``), risk-reducing or not;
        * decisions before :math:`T` are accepted as usual, but the children
          of a risk-adding order (one that increases the absolute projected
          position of its ticker) released at or after :math:`T` are
          CANCELLED at :math:`T` with the reason and never sent; shares left
          over from earlier children (participation cap) do not fill at or
          after :math:`T` either; the parent is CANCELLED at :math:`T` with
          its unfilled shares, its shortfall marks them at the mid at
          :math:`T`, and only its filled shares count toward today's
          projected position;
        * risk-reducing orders work on to their end.

        A child's release time, like a fill's time, is never before its
        order's arrival (decision time plus ``delay``).  So no fill of a
        risk-adding order is timed at or after :math:`T`, and a batch whose
        decisions span :math:`T` gives what the decisions sent one at a time
        around the switch would.  The engine simulates an order's whole life
        when it runs the decision, so set the kill time before running
        decisions whose orders would still be working at it.
        """
        with self._lock, self.ledger._lock:
            t = None
            if time is not None:
                t = self._timestamp(time, "time")
                f = self.ledger.fills
                if len(f):
                    oid = pd.to_numeric(f["order_id"], errors="coerce").to_numpy(np.float64)
                    known = np.isfinite(oid) & (oid >= 0) & (oid < len(self._adds_risk))
                    adds = np.zeros(len(f), dtype=bool)
                    adds[known] = self._adds_risk[oid[known].astype(np.int64)]
                    late = adds & (pd.DatetimeIndex(f["time"]).as_unit("ns").asi8 >= t.value)
                    if late.any():
                        j = int(np.flatnonzero(late)[-1])
                        raise ValueError(
                            f"time == {t} is before fills already booked for risk-adding order {int(oid[j])} "
                            f"({f['ticker'].iat[j]}, {int(late.sum())} fill(s) at or after it, the last at "
                            f"{pd.Timestamp(f['time'].iat[j]).tz_convert(self.market.tz)}); a kill switch cannot recall "
                            "booked fills. Activate it before running the decisions it should stop.")
            self.risk.activate_kill_switch(reason, time=t)

    def deactivate_kill_switch(self) -> None:
        """Let orders through again."""
        with self._lock:
            self.risk.deactivate_kill_switch()

    def _timestamp(self, time: object, name: str) -> pd.Timestamp:
        try:
            ts = pd.Timestamp(time)
        except (TypeError, ValueError):
            raise ValueError(f"{name} == {time!r}, must be a timestamp.") from None
        if pd.isna(ts):
            raise ValueError(f"{name} == {time!r}, must be a timestamp.")
        return (ts.tz_localize(self.market.tz) if ts.tz is None else ts.tz_convert(self.market.tz)).as_unit("ns")

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
        with self._lock, self.ledger._lock:
            if self.risk.day is None:
                return np.zeros(len(t))
            return self._day_pnl(t.as_unit("ns").asi8)

    def portfolio(self, time: object = None) -> pd.DataFrame:
        """Positions marked to the quote mid at ``time`` (default: the last close in the bars)."""
        m = self.market
        if time is None:
            t_ns = np.full(len(m.tickers), m.end_ns[m.day_last[-1]])
        else:
            ts = pd.Timestamp(time)
            ts = ts.tz_localize(m.tz) if ts.tz is None else ts
            t_ns = np.full(len(m.tickers), ts.as_unit("ns").value)
        day = m.session_of(t_ns[:1], "portfolio", "time")
        mids = pd.Series(m.mid_at(np.arange(len(m.tickers)), t_ns, np.repeat(day, len(t_ns))), index=m.index)
        with self._lock, self.ledger._lock:
            return self.ledger.mark(marks(self.ledger, mids))

    # ------------------------------------------------------------------ the batch
