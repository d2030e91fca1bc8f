r"""The result of :func:`execlab.synthetic.lobster_market`: files written and the true parameters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

__all__ = ["SyntheticMarket"]


@dataclass(frozen=True)
class SyntheticMarket:
    """A SYNTHETIC market written as LOBSTER level-1 files, with the parameters that made it.

    Returned by :func:`~execlab.synthetic.lobster_market`.  Nothing here is real market data: the
    tickers, prices, orders and trades are simulated.

    Attributes
    ----------
    directory : pathlib.Path
        Where the files were written.
    files : DataFrame
        One row per ticker and session: ``ticker, date`` (``YYYY-MM-DD``),
        ``message_file, orderbook_file`` (paths), ``close`` (session end,
        ``HH:MM``), ``events`` (rows in each file), ``trades`` (executions,
        types 4 and 5) and ``volume`` (shares executed), as
        :func:`execlab.data.read_lobster` will find them.
    sessions : DataFrame
        The true parameters of each ticker-session: ``ticker, date, close,
        daily_volume`` (expected shares traded), ``volatility`` (daily standard
        deviation of the mid's log return from its diffusion part, a fraction),
        ``half_spread_ticks`` (the typical quoted half-spread aimed at, ticks),
        ``open_price`` and ``close_price`` (the efficient price in dollars at the
        open and the close).
    volume_profile : DataFrame
        The true intraday volume profile: index ``(ticker, date)``, one column
        per five-minute bin (``bin_start``, 09:30 to 15:55); each row is the
        expected fraction of the session's volume in each bin and sums to 1
        (bins after an early close are 0).
    base_profile : DataFrame
        Each ticker's U-shaped profile before the day-to-day noise (index
        ``ticker``, same columns); the best any forecast from past sessions
        can do.
    tick_size : float
        Dollars per tick (0.01).
    impact : float
        Permanent impact: the mid's log return, in bps, per unit of signed
        volume as a fraction of the session's expected volume (the
        :math:`\\lambda` of :func:`execlab.impact.fit_trade_flow`).
    seed : int or None
        The integer seed, when one was given.
    """

    directory: Path
    files: pd.DataFrame
    sessions: pd.DataFrame
    volume_profile: pd.DataFrame
    base_profile: pd.DataFrame
    tick_size: float
    impact: float
    seed: int | None

    #: Always True: a reminder, for code that receives one of these, that it is not real data.
    synthetic: ClassVar[bool] = True

    def __repr__(self) -> str:
        dates = self.files["date"]
        tickers = list(pd.unique(self.files["ticker"]))
        return (
            f"SyntheticMarket(SYNTHETIC data, not real: {len(tickers)} tickers {tickers} x "
            f"{dates.nunique()} sessions {dates.min()}..{dates.max()}, {len(self.files)} LOBSTER "
            f"level-1 file pairs in {str(self.directory)!r})"
        )

    def summary(self) -> pd.DataFrame:
        """Per ticker: sessions, mean rows, trades and volume per session, and the true means.

        Returns
        -------
        DataFrame
            Indexed by ticker: ``sessions, events, trades, volume`` (means
            over sessions of what the files hold), ``true_daily_volume`` and
            ``true_volatility`` (means of the generating parameters).
        """
        f = self.files.groupby("ticker", sort=False)
        s = self.sessions.groupby("ticker", sort=False)
        out = pd.DataFrame(
            {
                "sessions": f.size(),
                "events": f["events"].mean(),
                "trades": f["trades"].mean(),
                "volume": f["volume"].mean(),
                "true_daily_volume": s["daily_volume"].mean(),
                "true_volatility": s["volatility"].mean(),
            }
        )
        out.attrs["note"] = "SYNTHETIC data"
        return out
