"""Building a :class:`~execlab.Market` from LOBSTER files of many tickers and days."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._calendar import SESSION_CLOSE, SESSION_OPEN
from ._market import Market
from ._market_build import market_from_bars
from ._validation import check_timedelta

__all__ = ["market_from_lobster"]

_REGULAR_END_MS = int(SESSION_CLOSE / pd.Timedelta("1ms"))
_REGULAR_START_MS = int(SESSION_OPEN / pd.Timedelta("1ms"))


def market_from_lobster(source: object, freq: object = "1min", *, level: int | None = None,
                        early_closes: dict | None = None) -> Market:
    """Build a :class:`Market` from LOBSTER message/orderbook files of many tickers and days.

    Parameters
    ----------
    source : str, Path or list
        A directory, a glob pattern (``"/data/*_message_10.csv*"``) or a list
        of files; names follow LOBSTER's
        ``TICKER_YYYY-MM-DD_STARTMS_ENDMS_{message,orderbook}_LEVEL.csv[.gz]``,
        which carries the ticker, the date and the session window.
    freq : str or Timedelta, default "1min"
        Bin length; must divide the session.
    level : int, optional
        Book depth to read when a directory holds several.
    early_closes : dict, optional
        Half-days; by default taken from the file names (a file whose window
        ends before 16:00 is a half-day, and every ticker's file must agree).

    Returns
    -------
    Market
        Bars from each file's trades and quotes (:func:`execlab.make_bars`).

    Raises
    ------
    FileNotFoundError
        If nothing matches ``source``.
    ValueError
        Mixed levels without ``level``, two files for one ticker and day, a
        session missing for one ticker, tickers disagreeing on a half-day,
        a window that does not start at 09:30, or anything
        :func:`execlab.read_lobster` rejects (the message names the file).
    """
    from .data import make_bars, read_lobster, scan_lobster

    td = check_timedelta(freq, "freq")
    files = scan_lobster(source, level=level)
    starts = files["start_ms"].to_numpy()
    if (starts != _REGULAR_START_MS).any():
        pos = int(np.flatnonzero(starts != _REGULAR_START_MS)[0])
        raise ValueError(f"LOBSTER file {Path(files['message_file'].iat[pos]).name} starts at {starts[pos]} ms after midnight; "
                         f"execlab reads whole sessions from the 09:30 open ({_REGULAR_START_MS} ms).")
    # Every ticker must have every session.
    tickers = sorted(files["ticker"].unique())
    dates = sorted(files["date"].unique())
    have = set(zip(files["ticker"], files["date"]))
    for dd in dates:
        for tk in tickers:
            if (tk, dd) not in have:
                raise ValueError(f"LOBSTER files in {str(source)!r} have no file for ticker {tk!r} on "
                                 f"{pd.Timestamp(dd).date()}, a session the other tickers have; every ticker needs every session.")
    if early_closes is None:
        early: dict = {}
        ends = files.groupby("date")["end_ms"].agg(["min", "max"])
        for dd, row in ends.iterrows():
            if row["min"] != row["max"]:
                raise ValueError(f"LOBSTER files for {pd.Timestamp(dd).date()} disagree on the session's end "
                                 f"({int(row['min'])} and {int(row['max'])} ms after midnight); one session, one close.")
            if row["max"] < _REGULAR_END_MS:
                early[pd.Timestamp(dd)] = pd.Timedelta(int(row["max"]), "ms")
        early_closes = early
    bars = []
    for r in files.itertuples(index=False):
        day = read_lobster(r.message_file, r.orderbook_file, date=str(pd.Timestamp(r.date).date()), ticker=r.ticker)
        bars.append(_day_bars(make_bars, day, td, r.end_ms))
    all_bars = pd.concat(bars, ignore_index=True)
    n_days = len(files)
    return market_from_bars(all_bars, td, early_closes=early_closes,
                            source=f"LOBSTER files: {n_days} ticker-session{'s' if n_days != 1 else ''}")


def _day_bars(make_bars, day, td: pd.Timedelta, end_ms: int) -> pd.DataFrame:
    bars = make_bars(day.trades, day.quotes, td)
    if end_ms < _REGULAR_END_MS:  # a half-day: drop the bins after its close
        local = pd.DatetimeIndex(bars["time"]).tz_localize(None)
        keep = (local - local.normalize()) < pd.Timedelta(int(end_ms), "ms")
        bars = bars[np.asarray(keep)]
    return bars
