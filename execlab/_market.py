r"""The market model: tickers x sessions x bins arrays, built once and read by every stage.

A :class:`Market` holds regular bars of any number of tickers and sessions on
one :class:`~execlab.SessionCalendar`.  The simulator, the shortfall
analytics, the engine and the figures all read it; none of them rebuilds the
bar grid.  Build it from LOBSTER files (:meth:`Market.from_lobster`), from
your own bars (:meth:`Market.from_bars`, a DataFrame, CSV or parquet) or from
trades and quotes (:meth:`Market.from_trades_quotes`);
:func:`load_market` gives the bundled real day.

Forecasts for session :math:`d` -- volume profile, ADV, volatility, spread --
come from the sessions before :math:`d` only (:meth:`Market.forecast`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._calendar import SESSION_CLOSE, TIMEZONE, SessionCalendar
from ._orders import from_ns, show
from ._validation import check_frame, check_label_column, check_scalar, check_timedelta, row_label

__all__ = ["Market", "load_market", "BAR_COLUMNS"]

#: Columns of a market, one (tickers, sessions, bins) float64 array each.
BAR_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "n_trades", "signed_volume",
               "mid", "spread", "mid_open", "mid_close")
_PRICE_COLUMNS = ("open", "high", "low", "close", "vwap", "mid", "mid_open", "mid_close")
_COUNT_COLUMNS = ("volume", "n_trades")


def _read_table(source: object, name: str) -> pd.DataFrame:
    """A DataFrame as given, or one read from a CSV or parquet path."""
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{name} file {str(path)!r} does not exist.")
        suffixes = "".join(path.suffixes).lower()
        if suffixes.endswith(".parquet") or suffixes.endswith(".pq"):
            return pd.read_parquet(path)
        if ".csv" in suffixes:
            df = pd.read_csv(path)
            if "time" in df.columns:
                df["time"] = pd.to_datetime(df["time"], utc=True, format="ISO8601") if df["time"].astype(str).str.contains(r"[+-]\d\d:\d\d$|Z$").all() else pd.to_datetime(df["time"])
            return df
        raise ValueError(f"{name} file {path.name!r} is neither .csv nor .parquet.")
    raise TypeError(f"{name} must be a DataFrame or a path to a .csv or .parquet file, got {type(source).__name__}.")


class Market:
    r"""Regular bars of many tickers and sessions as (tickers, sessions, bins) arrays.

    Build with :meth:`from_bars`, :meth:`from_lobster`,
    :meth:`from_trades_quotes` or :func:`load_market`; the constructor takes
    finished arrays.

    Attributes
    ----------
    tickers : list of str
        Sorted ticker symbols.
    calendar : SessionCalendar
        The sessions (dates, time zone, hours, half-days).
    freq : Timedelta
        Bin length.
    n_bins : int
        Bins in a regular session; a half-day has ``valid[d].sum()`` of them.
    valid : ndarray of bool, shape (sessions, bins)
        False for the bins after a half-day's early close.
    source : str
        Where the bars came from (e.g. ``"LOBSTER files: 3 ticker-sessions"``).

    Notes
    -----
    Columns (``market["volume"]`` etc., float64 arrays of shape
    (tickers, sessions, bins)): ``open, high, low, close`` (trade prices, $),
    ``volume`` (shares), ``vwap``, ``n_trades``, ``signed_volume``
    (buyer- minus seller-initiated shares), ``mid`` and ``spread``
    (time-weighted over the bin, $), ``mid_open`` and ``mid_close`` (quote mid
    at the bin's start and end).  Bins past a half-day's close hold zero
    volume and the last mid.

    Every stage also reads a flat time axis of ``sessions x bins`` bars:
    ``start_ns``/``end_ns`` (bar start and end, int64 ns UTC), ``day`` (the
    session of each bar) and ``day_first``/``day_last`` (first and last open
    bar of each session).

    Examples
    --------
    >>> m = load_market("30min")
    >>> m
    Market(3 tickers x 1 session x 13 bins of 30min, 2012-06-21..2012-06-21, bundled LOBSTER sample (real, NASDAQ))
    >>> m["volume"].shape, int(m["volume"].sum())
    ((3, 1, 13), 4367020)
    """

    def __init__(self, tickers: list[str], calendar: SessionCalendar, freq: pd.Timedelta,
                 values: dict[str, np.ndarray], source: str = "arrays") -> None:
        self.tickers = [str(t) for t in tickers]
        self.index = pd.Index(self.tickers)
        self.calendar = calendar
        self.freq = pd.Timedelta(freq)
        self.tz = calendar.tz
        nb = calendar.n_bins(self.freq)
        self.n_bins = int(nb.max())
        self.n_sessions = calendar.n_sessions
        self.valid = np.arange(self.n_bins)[None, :] < nb[:, None]
        shape = (len(self.tickers), self.n_sessions, self.n_bins)
        for c in BAR_COLUMNS:
            if c not in values:
                raise ValueError(f"market arrays lack column {c!r}.")
            if values[c].shape != shape:
                raise ValueError(f"market column {c!r} has shape {values[c].shape}, expected {shape}.")
        self._values = {c: np.ascontiguousarray(values[c], dtype=np.float64) for c in BAR_COLUMNS}
        self.source = source
        # Flat time axis: bar t = d * n_bins + b.
        b = np.arange(self.n_bins, dtype=np.int64)
        self.start_ns = (calendar.open_ns[:, None] + b[None, :] * self.freq.value).ravel()
        self.end_ns = self.start_ns + self.freq.value
        self.day = np.repeat(np.arange(self.n_sessions), self.n_bins)
        self.day_first = np.arange(self.n_sessions) * self.n_bins
        self.day_last = self.day_first + nb - 1
        self.is_day_last = np.zeros(self.n_sessions * self.n_bins, dtype=bool)
        self.is_day_last[self.day_last] = True
        self.times = from_ns(self.start_ns, self.tz)
        self._daily: pd.DataFrame | None = None

    # ------------------------------------------------------------------ access
    def __getitem__(self, column: str) -> np.ndarray:
        """A column as a read-only (tickers, sessions, bins) array."""
        if column not in self._values:
            raise KeyError(f"market has no column {column!r}; it holds {list(BAR_COLUMNS)}.")
        v = self._values[column].view()
        v.flags.writeable = False
        return v

    def flat(self, column: str) -> np.ndarray:
        """A column on the flat time axis, shape (tickers, sessions x bins) (a view)."""
        return self[column].reshape(len(self.tickers), -1)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.calendar.dates

    def __repr__(self) -> str:
        d = self.calendar.dates
        s = "session" if self.n_sessions == 1 else "sessions"
        span = f"{int(self.freq / pd.Timedelta('1min'))}min" if self.freq % pd.Timedelta("1min") == pd.Timedelta(0) else str(self.freq)
        return (f"Market({len(self.tickers)} tickers x {self.n_sessions} {s} x {self.n_bins} bins of {span}, "
                f"{d[0].date()}..{d[-1].date()}, {self.source})")

    def code(self, tickers: Any, name: str = "orders", column: str = "ticker", index: pd.Index | None = None) -> np.ndarray:
        """Row of each ticker in the market's arrays; an unknown ticker raises, naming it."""
        arr = pd.Series(np.asarray(tickers, dtype=object)).astype(str).to_numpy(dtype=object)
        k = self.index.get_indexer(arr)
        bad = k < 0
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            where = f" at row {show(index[pos])}" if index is not None else ""
            raise ValueError(f"{name} column {column!r} has {arr[pos]!r}{where}, which the market does not hold; "
                             f"it holds {self.tickers}.")
        return k.astype(np.int64)

    def session_of(self, t_ns: np.ndarray, name: str = "orders", column: str = "time",
                   index: pd.Index | None = None, tickers: np.ndarray | None = None) -> np.ndarray:
        """Session of each time (by its local date); a date that is not a session raises."""
        d = self.calendar.session_of(t_ns)
        bad = d < 0
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            when = from_ns(np.asarray(t_ns)[pos:pos + 1], self.tz)[0]
            who = f" ({tickers[pos]})" if tickers is not None else ""
            where = f" at row {show(index[pos])}" if index is not None else ""
            dates = self.calendar.dates
            raise ValueError(f"{name} column {column!r} has {when}{where}{who}, on a date that is not one of the market's "
                             f"sessions ({self.n_sessions} from {dates[0].date()} to {dates[-1].date()}).")
        return d

    def locate(self, t_ns: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bar containing each time, clamped to its session.

        Returns ``(bar, where)`` on the flat axis, ``where`` -1 before the
        session's first bar (``bar`` is then that bar), 0 inside, +1 at or
        after the close (``bar`` is then the session's last bar).
        """
        first, last = self.day_first[day], self.day_last[day]
        bar = first + (np.asarray(t_ns) - self.start_ns[first]) // self.freq.value
        before = t_ns < self.start_ns[first]
        after = t_ns >= self.end_ns[last]
        bar = np.where(before, first, np.where(after, last, np.clip(bar, first, last)))
        where = np.where(before, -1, np.where(after, 1, 0))
        return bar, where

    def mid_at(self, k: np.ndarray, t_ns: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Quote mid at each time: linear in time between its bar's ``mid_open`` and ``mid_close``.

        Before the open, the session's first ``mid_open``; at or after the
        close, its last ``mid_close``.
        """
        bar, where = self.locate(t_ns, day)
        mo = self.flat("mid_open")[k, bar]
        mc = self.flat("mid_close")[k, bar]
        frac = (np.asarray(t_ns) - self.start_ns[bar]) / self.freq.value
        frac = np.where(where < 0, 0.0, np.where(where > 0, 1.0, np.clip(frac, 0.0, 1.0)))
        return mo + (mc - mo) * frac

    def close_ns(self, day: np.ndarray) -> np.ndarray:
        """Close of each session (the end of its last bar)."""
        return self.end_ns[self.day_last[day]]

    def subset(self, tickers: Any) -> "Market":
        """The same market restricted to some tickers (arrays are copied)."""
        k = self.code(list(tickers) if not isinstance(tickers, str) else [tickers], "tickers", "ticker")
        return Market([self.tickers[i] for i in k], self.calendar, self.freq,
                      {c: v[k] for c, v in self._values.items()}, self.source)

    # ------------------------------------------------------------------ per session
    def daily(self) -> pd.DataFrame:
        r"""Per ticker and session: ``daily_volume``, ``sigma``, ``open_mid``, ``close_mid``, ``mean_spread``.

        ``sigma`` is that session's realized volatility as a fraction of
        price, :math:`\sqrt{M}\,\mathrm{sd}(\log m_i/m_{i-1})` over its
        :math:`M` bar-end mids (NaN with fewer than 3 bars).  Realized, so
        known only after the close: forecasts use earlier sessions
        (:meth:`forecast`).
        """
        if self._daily is None:
            self._daily = _daily_frame(self)
        return self._daily.copy()

    def daily_arrays(self) -> dict[str, np.ndarray]:
        """:meth:`daily` as (tickers, sessions) arrays."""
        if self._daily is None:
            self._daily = _daily_frame(self)
        K, D = len(self.tickers), self.n_sessions
        return {c: self._daily[c].to_numpy(np.float64).reshape(K, D) for c in
                ("daily_volume", "sigma", "open_mid", "close_mid", "mean_spread")}

    def forecast(self, window: int = 20, *, min_sessions: int | None = None, fallback: str | None = None,
                 smooth: int | None = None) -> "Forecast":
        """Volume profile, ADV, volatility and spread for each session from the sessions before it.

        See :func:`execlab.forecast_market` for the parameters.
        """
        from ._forecast import forecast_market

        return forecast_market(self, window, min_sessions=min_sessions, fallback=fallback, smooth=smooth)

    # ------------------------------------------------------------------ long form
    def to_bars(self, tickers: Any = None) -> pd.DataFrame:
        """Long bars frame (one row per ticker and open bin), the columns of :func:`execlab.make_bars`."""
        k = np.arange(len(self.tickers)) if tickers is None else self.code(
            [tickers] if isinstance(tickers, str) else list(tickers), "tickers", "ticker")
        flat_valid = self.valid.ravel()
        t_idx = np.flatnonzero(flat_valid)
        n_t = len(t_idx)
        data: dict[str, Any] = {
            "ticker": np.repeat(np.array(self.tickers, dtype=object)[k], n_t).astype(str),
            "time": self.times[np.tile(t_idx, len(k))],
        }
        for c in ("open", "high", "low", "close"):
            data[c] = self.flat(c)[k][:, t_idx].ravel()
        data["volume"] = self.flat("volume")[k][:, t_idx].ravel().astype(np.int64)
        data["vwap"] = self.flat("vwap")[k][:, t_idx].ravel()
        data["n_trades"] = self.flat("n_trades")[k][:, t_idx].ravel().astype(np.int64)
        data["signed_volume"] = self.flat("signed_volume")[k][:, t_idx].ravel().astype(np.int64)
        for c in ("mid", "spread", "mid_open", "mid_close"):
            data[c] = self.flat(c)[k][:, t_idx].ravel()
        if np.isnan(data["spread"]).all():  # bars built without a spread column: leave it out, as they came in
            del data["spread"]
        data["carried"] = data["n_trades"] == 0
        return pd.DataFrame(data)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_bars(cls, bars: object, freq: object = None, **kwargs: Any) -> "Market":
        """Build a market from your own bars (DataFrame, CSV or parquet); see :func:`execlab.market_from_bars`."""
        from ._market_build import market_from_bars

        return market_from_bars(bars, freq, **kwargs)

    @classmethod
    def from_trades_quotes(cls, trades: pd.DataFrame, quotes: pd.DataFrame, freq: object = "1min", *,
                           early_closes: dict | None = None) -> "Market":
        """Build a market from trades and quotes (:func:`execlab.make_bars`, then :meth:`from_bars`)."""
        from .data import make_bars

        bars = make_bars(trades, quotes, freq)
        return cls.from_bars(bars, freq, early_closes=early_closes, source="trades and quotes")

    @classmethod
    def from_lobster(cls, source: object, freq: object = "1min", *, level: int | None = None,
                     early_closes: dict | None = None) -> "Market":
        """Build a market from LOBSTER files; see :func:`execlab.market_from_lobster`."""
        from ._market_lobster import market_from_lobster

        return market_from_lobster(source, freq, level=level, early_closes=early_closes)


def _daily_frame(m: Market) -> pd.DataFrame:
    K, D, B = len(m.tickers), m.n_sessions, m.n_bins
    valid = np.broadcast_to(m.valid[None], (K, D, B))
    vol = np.where(valid, m["volume"], 0.0).sum(axis=2)
    mc = m["mid_close"]
    logret = np.diff(np.log(mc), axis=2)
    ok = valid[:, :, 1:]
    n_ret = ok.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, logret, 0.0).sum(axis=2) / n_ret
        var = np.where(ok, (logret - mean[:, :, None]) ** 2, 0.0).sum(axis=2) / (n_ret - 1)
        n_bars = valid.sum(axis=2)
        sigma = np.where(n_bars >= 3, np.sqrt(var) * np.sqrt(n_bars), np.nan)
        spread = np.where(valid, m["spread"], 0.0).sum(axis=2) / n_bars
    last = m.day_last - m.day_first
    close_mid = mc[:, np.arange(D), last]
    return pd.DataFrame({
        "ticker": np.repeat(np.array(m.tickers, dtype=object), D).astype(str),
        "date": np.tile(m.calendar.dates, K),
        "daily_volume": vol.ravel(),
        "sigma": sigma.ravel(),
        "open_mid": m["mid_open"][:, :, 0].ravel(),
        "close_mid": close_mid.ravel(),
        "mean_spread": spread.ravel(),
    })


def load_market(freq: object = "1min", tickers: Any = None, *, data_dir: object = None) -> Market:
    """The bundled real day (LOBSTER's AAPL, AMZN and GOOG, 2012-06-21) as a one-session market.

    Parameters
    ----------
    freq : str or Timedelta, default "1min"
        Bin length; must divide the 09:30-16:00 session.
    tickers : str or list of str, optional
        Default all three.
    data_dir : str or Path, optional
        Where the LOBSTER files are (see :func:`execlab.data.find_data_dir`).

    Examples
    --------
    >>> m = load_market("1min", "GOOG")
    >>> m.tickers, m["volume"].shape, int((m["volume"] == 0).sum())
    (['GOOG'], (1, 1, 390), 5)
    """
    from .data import load_bars

    kw = {"data_dir": data_dir} if data_dir is not None else {}
    bars = load_bars(freq, tickers, **kw)
    return Market.from_bars(bars, freq, source="bundled LOBSTER sample (real, NASDAQ)")


def _as_market(market: object, name: str = "market") -> Market:
    """A Market as given; a bars DataFrame is converted once, here at the public edge."""
    if isinstance(market, Market):
        return market
    if isinstance(market, pd.DataFrame):
        return Market.from_bars(market, name="bars")
    raise TypeError(f"{name} must be an execlab Market or a bars DataFrame, got {type(market).__name__}.")
