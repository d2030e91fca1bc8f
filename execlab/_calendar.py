"""The exchange session calendar: regular hours, time zone, half-days.

This module holds the one definition of the US equity session that every
other module reads (``SESSION_OPEN``, ``SESSION_CLOSE``, ``SESSION_LENGTH``,
``TIMEZONE``), and :class:`SessionCalendar`, the list of sessions a
:class:`~execlab.Market` is built on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["TIMEZONE", "SESSION_OPEN", "SESSION_CLOSE", "SESSION_LENGTH", "SessionCalendar", "session_bins"]

#: Exchange time zone of the regular US equity session.
TIMEZONE = "America/New_York"
#: Regular session open and close, as offsets from local midnight.
SESSION_OPEN = pd.Timedelta(hours=9, minutes=30)
SESSION_CLOSE = pd.Timedelta(hours=16)
#: Length of a regular session (6.5 hours): the one session-length constant.
SESSION_LENGTH = SESSION_CLOSE - SESSION_OPEN


def _offset(x: object, name: str) -> pd.Timedelta:
    """A time of day ('13:00', Timedelta, datetime.time) as an offset from midnight."""
    if hasattr(x, "hour") and hasattr(x, "minute") and not isinstance(x, pd.Timestamp):
        return pd.Timedelta(hours=x.hour, minutes=x.minute, seconds=getattr(x, "second", 0))
    try:
        td = pd.Timedelta(x if not isinstance(x, str) or x.count(":") != 1 else x + ":00")
    except (TypeError, ValueError):
        raise ValueError(f"{name} == {x!r}, must be a time of day such as '13:00'.") from None
    if pd.isna(td) or td < pd.Timedelta(0) or td >= pd.Timedelta(days=1):
        raise ValueError(f"{name} == {x!r}, must be a time of day between 00:00 and 24:00.")
    return td


def session_bins(freq: pd.Timedelta, length: pd.Timedelta = SESSION_LENGTH) -> int:
    """Number of bins of length ``freq`` in a session of ``length``; ``freq`` must divide it.

    Examples
    --------
    >>> session_bins(pd.Timedelta("5min"))
    78
    """
    if freq <= pd.Timedelta(0):
        raise ValueError(f"freq == {freq}, must be positive.")
    n, rem = divmod(length.value, freq.value)
    if rem or n == 0:
        raise ValueError(f"freq == {freq} does not divide the {length} session; use e.g. '1min', '5min' or '30min'.")
    return int(n)


@dataclass(frozen=True)
class SessionCalendar:
    """Trading sessions: dates, time zone, regular hours and early closes.

    Parameters
    ----------
    dates : iterable of date-like
        Session dates (``YYYY-MM-DD``), strictly increasing once sorted; a
        duplicate is an error.
    tz : str, default "America/New_York"
        Exchange time zone; open and close are local times there.
    open, close : Timedelta or str, default 09:30 and 16:00
        Regular open and close (offset from local midnight).
    early_closes : mapping of date-like to time of day, optional
        Half-days: the session of that date closes early, e.g.
        ``{"2024-11-29": "13:00"}``.  Every key must be one of ``dates``.

    Attributes
    ----------
    dates : DatetimeIndex
        Session dates (naive, midnight), sorted.
    open_ns, close_ns : ndarray of int64
        Each session's open and close, nanoseconds since the epoch (UTC).

    Examples
    --------
    >>> cal = SessionCalendar(["2024-11-27", "2024-11-29"], early_closes={"2024-11-29": "13:00"})
    >>> cal.n_bins(pd.Timedelta("30min")).tolist()
    [13, 7]
    >>> cal.session_of(pd.DatetimeIndex(["2024-11-29 12:59"]).tz_localize(cal.tz).as_unit("ns").asi8).tolist()
    [1]
    """

    dates: pd.DatetimeIndex
    tz: str = TIMEZONE
    open: pd.Timedelta = SESSION_OPEN
    close: pd.Timedelta = SESSION_CLOSE
    early_closes: Mapping = field(default_factory=dict)

    def __init__(
        self,
        dates: Iterable,
        tz: str = TIMEZONE,
        open: object = SESSION_OPEN,  # noqa: A002 - the field's name in the field
        close: object = SESSION_CLOSE,
        early_closes: Mapping | None = None,
    ) -> None:
        try:
            d = pd.DatetimeIndex(pd.to_datetime(list(dates) if not isinstance(dates, pd.DatetimeIndex) else dates))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"dates must be dates such as '2024-01-02': {exc}") from None
        if len(d) == 0:
            raise ValueError("dates is empty; a calendar needs at least one session.")
        if d.tz is not None:
            d = d.tz_localize(None)
        if d.isna().any():
            raise ValueError("dates has a missing value (NaT); every session needs a date.")
        if (d != d.normalize()).any():
            pos = int(np.flatnonzero(d != d.normalize())[0])
            raise ValueError(f"dates has {d[pos]}, which is not a date (it has a time of day).")
        d = d.sort_values()
        dup = d.duplicated()
        if dup.any():
            raise ValueError(f"dates has {d[dup][0].date()} more than once; each session appears once.")
        try:
            pd.Timestamp("2000-01-03").tz_localize(tz)
        except Exception:
            raise ValueError(f"tz == {tz!r} is not a time zone such as 'America/New_York'.") from None
        o = _offset(open, "open")
        c = _offset(close, "close")
        if c <= o:
            raise ValueError(f"close == {c} must be after open == {o}.")
        early: dict[pd.Timestamp, pd.Timedelta] = {}
        for k, v in (early_closes or {}).items():
            day = pd.Timestamp(k).normalize()
            if day not in d:
                raise ValueError(f"early_closes has {day.date()}, which is not one of the calendar's dates.")
            t = _offset(v, f"early_closes[{str(day.date())!r}]")
            if not o < t <= c:
                raise ValueError(f"early_closes[{str(day.date())!r}] == {v!r}, must be after the open {o} and at most the close {c}.")
            early[day] = t
        object.__setattr__(self, "dates", d)
        object.__setattr__(self, "tz", tz)
        object.__setattr__(self, "open", o)
        object.__setattr__(self, "close", c)
        object.__setattr__(self, "early_closes", early)

    # ------------------------------------------------------------------ derived
    @property
    def n_sessions(self) -> int:
        return len(self.dates)

    @property
    def length(self) -> pd.Timedelta:
        """Regular session length (a half-day is shorter)."""
        return self.close - self.open

    def _local(self, offset: np.ndarray) -> np.ndarray:
        local = self.dates + pd.to_timedelta(offset)
        return pd.DatetimeIndex(local).tz_localize(self.tz).as_unit("ns").asi8

    @property
    def open_ns(self) -> np.ndarray:
        return self._local(np.full(self.n_sessions, self.open.value))

    @property
    def close_ns(self) -> np.ndarray:
        closes = np.array([self.early_closes.get(d, self.close).value for d in self.dates], dtype=np.int64)
        return self._local(closes)

    def n_bins(self, freq: pd.Timedelta) -> np.ndarray:
        """Bins of ``freq`` in each session (fewer on a half-day); ``freq`` divides every session."""
        session_bins(freq, self.length)
        lengths = (self.close_ns - self.open_ns)
        n, rem = np.divmod(lengths, freq.value)
        if rem.any():
            pos = int(np.flatnonzero(rem)[0])
            raise ValueError(f"freq == {freq} does not divide the half-day session of {self.dates[pos].date()}.")
        return n.astype(np.int64)

    def session_of(self, t_ns: np.ndarray) -> np.ndarray:
        """Index of the session whose *date* (local) each time falls on; -1 for none.

        A binary search against each session date's local midnights (no
        per-time time-zone conversion: this runs on millions of fill times).
        """
        t = np.asarray(t_ns, dtype=np.int64)
        start, stop = self._midnights
        k = np.searchsorted(start, t, side="right") - 1
        kk = np.maximum(k, 0)
        ok = (k >= 0) & (t < stop[kk])
        return np.where(ok, k, -1).astype(np.int64)

    @property
    def _midnights(self) -> tuple[np.ndarray, np.ndarray]:
        """Local midnight at the start and at the end of each session date, ns UTC (DST-aware)."""
        cache = self.__dict__.get("_midnight_cache")
        if cache is None:
            start = pd.DatetimeIndex(self.dates).tz_localize(self.tz).as_unit("ns").asi8
            stop = pd.DatetimeIndex(self.dates + pd.Timedelta(days=1)).tz_localize(self.tz).as_unit("ns").asi8
            cache = (start, stop)
            object.__setattr__(self, "_midnight_cache", cache)
        return cache

    def __repr__(self) -> str:
        first, last = self.dates[0].date(), self.dates[-1].date()
        half = f", {len(self.early_closes)} half-day(s)" if self.early_closes else ""
        return (f"SessionCalendar({self.n_sessions} sessions {first}..{last}, {self.tz}, "
                f"{str(self.open)[-8:-3]}-{str(self.close)[-8:-3]}{half})")
