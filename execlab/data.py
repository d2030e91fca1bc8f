"""Real market data: the LOBSTER reader, trades, quotes, bars and volume profiles.

The bundled sample is LOBSTER's NASDAQ book for AAPL, AMZN and GOOG on
2012-06-21 (see ``data/README.md``).  :func:`read_lobster` parses any LOBSTER
message/orderbook pair, so users load their own files with the same code.

Conventions
-----------
* ``time`` is timezone-aware, America/New_York.
* Prices are in dollars (LOBSTER stores dollars x 10,000).
* A trade's ``sign`` is +1 when buyer-initiated and -1 when seller-initiated:
  the execution of a *sell* limit order (LOBSTER direction -1) is a buy trade.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import check_choice, check_frame, check_scalar, check_sorted_unique

__all__ = [
    "LobsterDay",
    "read_lobster",
    "load_trades",
    "load_quotes",
    "load_bars",
    "make_bars",
    "volume_profile",
    "daily_stats",
    "profile_forecast",
    "ProfileForecast",
    "TICKERS",
    "DATA_DIR",
    "TIMEZONE",
    "SESSION_OPEN",
    "SESSION_CLOSE",
]

TIMEZONE = "America/New_York"
SESSION_OPEN = pd.Timedelta(hours=9, minutes=30)
SESSION_CLOSE = pd.Timedelta(hours=16)
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "lobster"
TICKERS = ("AAPL", "AMZN", "GOOG")
BUNDLED_DATE = "2012-06-21"

# LOBSTER writes these for an empty side of the book (dollars x 10,000).
_EMPTY_ASK = 9999999999
_EMPTY_BID = -9999999999
_PRICE_SCALE = 10_000.0
_MESSAGE_COLUMNS = ["seconds", "type", "order_id", "size", "price", "direction"]
_FILE_RE = re.compile(r"(?P<ticker>[A-Za-z0-9.\-]+)_(?P<date>\d{4}-\d{2}-\d{2})_\d+_\d+_(message|orderbook)_(?P<level>\d+)")


@dataclass(frozen=True)
class LobsterDay:
    """One ticker-day of LOBSTER data, parsed.

    Attributes
    ----------
    ticker, date : str
        Ticker symbol and trading date (``YYYY-MM-DD``).
    levels : int
        Book levels in the orderbook file.
    events : pandas.DataFrame
        Every message with the book after it: ``time, type, order_id, size,
        price, direction`` then ``ask_price_k, ask_size_k, bid_price_k,
        bid_size_k`` for k = 1..levels.  Prices in dollars; an empty side is
        NaN (LOBSTER's +/-9999999999 dummies never pass through as prices).
    trades : pandas.DataFrame
        Executions (types 4 and 5): ``ticker, time, price, size, sign, hidden``.
    quotes : pandas.DataFrame
        Best bid and ask after each event: ``ticker, time, bid, bid_size, ask,
        ask_size``; halted periods are removed.
    halts : pandas.DataFrame
        Trading-halt messages (type 7): ``time, state`` with state ``halt``
        (price -1), ``quote`` (price 0, quoting resumed) or ``resume`` (price 1).
    """

    ticker: str
    date: str
    levels: int
    events: pd.DataFrame
    trades: pd.DataFrame
    quotes: pd.DataFrame
    halts: pd.DataFrame


def _has_header(path: Path) -> bool:
    with open(path) as fh:
        first = fh.readline().strip().split(",")[0]
    try:
        float(first)
    except ValueError:
        return True
    return False


def _read_numeric_csv(path: Path, names: list[str] | None, what: str) -> pd.DataFrame:
    header = 0 if _has_header(path) else None
    df = pd.read_csv(path, header=header, dtype=np.float64, engine="c")
    if names is not None:
        if df.shape[1] != len(names):
            raise ValueError(f"{what} file {path.name} has {df.shape[1]} columns, expected {len(names)}.")
        df.columns = names
    return df


def read_lobster(
    message_file: str | Path,
    orderbook_file: str | Path,
    date: str | None = None,
    ticker: str | None = None,
) -> LobsterDay:
    """Parse a LOBSTER message file and its orderbook file.

    Parameters
    ----------
    message_file, orderbook_file : str or Path
        The pair of files LOBSTER writes for one ticker-day, with any number of
        levels, with or without a header row.
    date : str, optional
        Trading date ``YYYY-MM-DD``; read from the file name when omitted.
    ticker : str, optional
        Ticker symbol; read from the file name when omitted.

    Returns
    -------
    LobsterDay

    Raises
    ------
    ValueError
        If the files differ in length, the date or ticker cannot be found, the
        timestamps decrease, or a price or size is negative where it must not be.

    Notes
    -----
    Message ``Time`` is seconds after midnight (exchange time, New York).
    Executions of visible (type 4) and hidden (type 5) limit orders become
    trades with ``sign = -direction``.  During a halt (type 7 with price -1
    until the resume message with price 1) quotes are dropped.
    """
    message_file, orderbook_file = Path(message_file), Path(orderbook_file)
    for p in (message_file, orderbook_file):
        if not p.exists():
            raise FileNotFoundError(f"LOBSTER file not found: {p}")
    m = _FILE_RE.search(message_file.name)
    if date is None:
        if m is None:
            raise ValueError(f"date not given and not found in file name {message_file.name!r}.")
        date = m.group("date")
    if ticker is None:
        if m is None:
            raise ValueError(f"ticker not given and not found in file name {message_file.name!r}.")
        ticker = m.group("ticker")
    day = pd.Timestamp(date)

    msg = _read_numeric_csv(message_file, _MESSAGE_COLUMNS, "message")
    book = _read_numeric_csv(orderbook_file, None, "orderbook")
    if book.shape[1] % 4:
        raise ValueError(f"orderbook file {orderbook_file.name} has {book.shape[1]} columns, not a multiple of 4.")
    levels = book.shape[1] // 4
    if len(book) != len(msg):
        raise ValueError(
            f"message file has {len(msg)} rows but orderbook file has {len(book)}; they must match."
        )
    if len(msg) == 0:
        raise ValueError(f"message file {message_file.name} is empty.")
    secs = msg["seconds"].to_numpy()
    if np.isnan(secs).any():
        raise ValueError(f"message column 'Time' has NaN at row {int(np.flatnonzero(np.isnan(secs))[0])}.")
    if (np.diff(secs) < 0).any():
        pos = int(np.flatnonzero(np.diff(secs) < 0)[0]) + 1
        raise ValueError(f"message column 'Time' decreases at row {pos}: {secs[pos - 1]} then {secs[pos]}.")
    book_cols = []
    for k in range(1, levels + 1):
        book_cols += [f"ask_price_{k}", f"ask_size_{k}", f"bid_price_{k}", f"bid_size_{k}"]
    book.columns = book_cols

    # Nanosecond timestamps from seconds-after-midnight, built on the date in New York.
    ns = np.round(secs * 1e9).astype(np.int64)
    midnight = day.tz_localize(TIMEZONE)
    time = pd.DatetimeIndex(midnight + pd.to_timedelta(ns, unit="ns")).as_unit("ns")

    events = pd.DataFrame(
        {
            "time": time,
            "type": msg["type"].astype(np.int64).to_numpy(),
            "order_id": msg["order_id"].astype(np.int64).to_numpy(),
            "size": msg["size"].to_numpy(),
            "price": msg["price"].to_numpy() / _PRICE_SCALE,
            "direction": msg["direction"].astype(np.int64).to_numpy(),
        }
    )
    for k in range(1, levels + 1):
        ap = book[f"ask_price_{k}"].to_numpy()
        bp = book[f"bid_price_{k}"].to_numpy()
        empty_ask = ap >= _EMPTY_ASK
        empty_bid = bp <= _EMPTY_BID
        events[f"ask_price_{k}"] = np.where(empty_ask, np.nan, ap / _PRICE_SCALE)
        events[f"ask_size_{k}"] = np.where(empty_ask, 0.0, book[f"ask_size_{k}"].to_numpy())
        events[f"bid_price_{k}"] = np.where(empty_bid, np.nan, bp / _PRICE_SCALE)
        events[f"bid_size_{k}"] = np.where(empty_bid, 0.0, book[f"bid_size_{k}"].to_numpy())

    etype = events["type"].to_numpy()
    unknown = ~np.isin(etype, [1, 2, 3, 4, 5, 6, 7])
    if unknown.any():
        pos = int(np.flatnonzero(unknown)[0])
        raise ValueError(f"message column 'Type' has unknown event type {etype[pos]} at row {pos}.")

    # Halts: type 7 messages carry price -1 (halt), 0 (quoting), 1 (resume) in the raw file.
    is_halt = etype == 7
    halt_code = msg["price"].to_numpy()[is_halt]
    halts = pd.DataFrame(
        {
            "time": time[is_halt],
            "state": pd.Series(halt_code).map({-1.0: "halt", 0.0: "quote", 1.0: "resume"}).fillna("unknown").to_numpy(),
        }
    )
    # Inside a halt (after a -1, before the next 1) nothing is a tradable quote.
    halt_flag = np.zeros(len(events), dtype=np.int8)
    halt_flag[np.flatnonzero(is_halt)] = np.where(halt_code == -1, 1, np.where(halt_code == 1, -1, 0))
    state = np.cumsum(halt_flag)
    halted = (state > 0) | is_halt

    ex = np.isin(etype, [4, 5])
    trade_price = events["price"].to_numpy()[ex]
    trade_size = events["size"].to_numpy()[ex]
    if ex.any() and ((trade_price <= 0) | (trade_size <= 0)).any():
        bad = np.flatnonzero(ex)[(trade_price <= 0) | (trade_size <= 0)][0]
        raise ValueError(
            f"execution at row {bad} has price {events['price'].iat[bad]} and size {events['size'].iat[bad]}; both must be > 0."
        )
    trades = pd.DataFrame(
        {
            "ticker": ticker,
            "time": time[ex],
            "price": trade_price,
            "size": trade_size.astype(np.int64),
            "sign": -events["direction"].to_numpy()[ex],
            "hidden": etype[ex] == 5,
        }
    )
    keep = ~halted
    quotes = pd.DataFrame(
        {
            "ticker": ticker,
            "time": time[keep],
            "bid": events["bid_price_1"].to_numpy()[keep],
            "bid_size": events["bid_size_1"].to_numpy()[keep].astype(np.int64),
            "ask": events["ask_price_1"].to_numpy()[keep],
            "ask_size": events["ask_size_1"].to_numpy()[keep].astype(np.int64),
        }
    )
    return LobsterDay(
        ticker=ticker,
        date=str(day.date()),
        levels=levels,
        events=events,
        trades=trades.reset_index(drop=True),
        quotes=quotes.reset_index(drop=True),
        halts=halts,
    )


def _check_tickers(tickers: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if tickers is None:
        return list(TICKERS)
    if isinstance(tickers, str):
        tickers = [tickers]
    out = []
    for t in tickers:
        check_choice(t, "ticker", TICKERS)
        out.append(t)
    if not out:
        raise ValueError("tickers is empty; pass None for all bundled tickers.")
    return out


@functools.lru_cache(maxsize=None)
def _bundled(ticker: str) -> LobsterDay:
    stem = f"{ticker}_{BUNDLED_DATE}_34200000_57600000"
    return read_lobster(DATA_DIR / f"{stem}_message_1.csv", DATA_DIR / f"{stem}_orderbook_1.csv")


def load_trades(tickers: str | list[str] | None = None) -> pd.DataFrame:
    """Every execution in the bundled LOBSTER sample.

    Parameters
    ----------
    tickers : str or list of str, optional
        Any of ``"AAPL"``, ``"AMZN"``, ``"GOOG"``; ``None`` means all.

    Returns
    -------
    pandas.DataFrame
        ``ticker, time, price, size, sign`` (and ``hidden``), one row per
        execution message, sorted by ticker then time.  ``price`` in dollars,
        ``size`` in shares, ``sign`` +1 buyer-initiated / -1 seller-initiated.

    Examples
    --------
    >>> t = load_trades("AMZN")
    >>> len(t), int(t["size"].sum())
    (11419, 810755)
    """
    frames = [_bundled(t).trades for t in _check_tickers(tickers)]
    return pd.concat(frames, ignore_index=True)


def load_quotes(tickers: str | list[str] | None = None) -> pd.DataFrame:
    """Best bid and ask after every event of the bundled sample.

    Returns
    -------
    pandas.DataFrame
        ``ticker, time, bid, bid_size, ask, ask_size``; prices in dollars,
        sizes in shares.  Several rows may share a timestamp (events in the
        same nanosecond); the last one is the book after them all.
    """
    frames = [_bundled(t).quotes for t in _check_tickers(tickers)]
    return pd.concat(frames, ignore_index=True)


def _session_bins(day: pd.Timestamp, freq: pd.Timedelta) -> pd.DatetimeIndex:
    length = SESSION_CLOSE - SESSION_OPEN
    if length % freq != pd.Timedelta(0):
        shown = f"{int(freq.total_seconds() // 60)}min" if freq.total_seconds() % 60 == 0 else str(freq)
        raise ValueError(f"freq == '{shown}', must divide the 6.5-hour session (390 minutes) evenly.")
    start = day.tz_localize(TIMEZONE) + SESSION_OPEN
    return pd.date_range(start, periods=int(length // freq), freq=freq).as_unit("ns")


def _parse_freq(freq: str | pd.Timedelta) -> pd.Timedelta:
    """Bar or bin length as a positive Timedelta."""
    try:
        td = pd.Timedelta(freq)
    except (TypeError, ValueError):
        raise ValueError(f"freq == {freq!r}, must be a time span such as '1min' or '5min'.") from None
    if td <= pd.Timedelta(0):
        raise ValueError(f"freq == {freq!r}, must be positive.")
    return td


def _time_average(q_ns: np.ndarray, values: np.ndarray, edges_ns: np.ndarray) -> np.ndarray:
    """Time-weighted mean of a step function over consecutive intervals.

    ``values[k]`` holds from ``q_ns[k]`` until the next event.  Before the
    first event the first value is used (the book as first seen).
    """
    dt = np.diff(q_ns).astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(values[:-1] * dt)])

    def integral(t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(q_ns, t, side="right") - 1
        before = k < 0
        k = np.clip(k, 0, len(q_ns) - 1)
        out = cum[k] + values[k] * (t - q_ns[k]).astype(np.float64)
        # Before the first quote: extend the first value backwards.
        return np.where(before, values[0] * (t - q_ns[0]).astype(np.float64), out)

    f = integral(edges_ns)
    width = np.diff(edges_ns).astype(np.float64)
    return np.diff(f) / width


def make_bars(
    trades: pd.DataFrame,
    quotes: pd.DataFrame,
    freq: str | pd.Timedelta = "1min",
) -> pd.DataFrame:
    """Build regular session bars from trades and quotes.

    Parameters
    ----------
    trades : DataFrame
        ``ticker, time, price, size, sign`` as from :func:`load_trades`.
    quotes : DataFrame
        ``ticker, time, bid, ask`` as from :func:`load_quotes`.
    freq : str or Timedelta
        Bar length; must divide the 09:30-16:00 session.

    Returns
    -------
    DataFrame
        One row per ticker, day and bin, every bin of the session present:
        ``ticker, time`` (bin start), ``open, high, low, close`` (trade prices,
        dollars), ``volume`` (shares), ``vwap``, ``n_trades``,
        ``signed_volume`` (buyer- minus seller-initiated shares), ``mid`` and
        ``spread`` (time-weighted averages of the best bid/ask mid and spread
        over the bin, dollars), ``mid_open`` and ``mid_close`` (mid at the start
        and at the end of the bin; the first bin's ``mid_open`` is the first
        quote of the day) and
        ``carried`` (True where the bin had no trade and its prices are the
        previous close carried forward; before the first trade, the mid).

    Raises
    ------
    ValueError
        If a frame is empty or lacks a column, prices are not positive, times
        are unsorted within a ticker, or a ticker has trades but no quotes.
    """
    td = _parse_freq(freq)
    check_frame(trades, "trades", ["ticker", "time", "price", "size", "sign"])
    check_frame(quotes, "quotes", ["ticker", "time", "bid", "ask"])
    out = []
    for ticker, tr in trades.groupby("ticker", sort=True):
        qu = quotes[quotes["ticker"] == ticker]
        if len(qu) == 0:
            raise ValueError(f"quotes have no rows for ticker {ticker!r}, which has trades.")
        check_sorted_unique(tr["time"], f"trades time for {ticker}", strict=False)
        check_sorted_unique(qu["time"], f"quotes time for {ticker}", strict=False)
        price = tr["price"].to_numpy(np.float64)
        size = tr["size"].to_numpy(np.float64)
        if (~np.isfinite(price) | (price <= 0)).any():
            pos = int(np.flatnonzero(~np.isfinite(price) | (price <= 0))[0])
            raise ValueError(f"trades column 'price' has {price[pos]} for {ticker} at row {tr.index[pos]!r}; must be > 0.")
        if (~np.isfinite(size) | (size <= 0)).any():
            pos = int(np.flatnonzero(~np.isfinite(size) | (size <= 0))[0])
            raise ValueError(f"trades column 'size' has {size[pos]} for {ticker} at row {tr.index[pos]!r}; must be > 0.")
        t_ns = pd.DatetimeIndex(tr["time"]).as_unit("ns")
        days = t_ns.normalize().unique()
        for day in days:
            bins = _session_bins(pd.Timestamp(day.date()), td)
            edges = np.append(bins.asi8, bins.asi8[-1] + td.value)
            in_day = t_ns.normalize() == day
            ti = t_ns.asi8[in_day]
            p, s, sg = price[in_day], size[in_day], tr["sign"].to_numpy(np.float64)[in_day]
            idx = np.searchsorted(edges, ti, side="right") - 1
            # An event stamped exactly at the close belongs to the last bin.
            idx = np.where(ti == edges[-1], len(bins) - 1, idx)
            inside = (idx >= 0) & (idx < len(bins))
            idx, p, s, sg = idx[inside], p[inside], s[inside], sg[inside]
            n = len(bins)
            volume = np.bincount(idx, weights=s, minlength=n)
            notional = np.bincount(idx, weights=p * s, minlength=n)
            n_trades = np.bincount(idx, minlength=n)
            signed = np.bincount(idx, weights=s * sg, minlength=n)
            high = np.full(n, -np.inf)
            np.maximum.at(high, idx, p)
            low = np.full(n, np.inf)
            np.minimum.at(low, idx, p)
            has = n_trades > 0
            first = np.full(n, -1)
            last = np.full(n, -1)
            order = np.arange(len(idx))
            # Trades are time-sorted: first/last trade of each bin by position.
            first_pos = np.searchsorted(idx, np.arange(n), side="left")
            last_pos = np.searchsorted(idx, np.arange(n), side="right") - 1
            first[has] = order[first_pos[has]]
            last[has] = order[last_pos[has]]
            open_ = np.where(has, p[np.maximum(first, 0)] if len(p) else np.nan, np.nan)
            close = np.where(has, p[np.maximum(last, 0)] if len(p) else np.nan, np.nan)

            qd = qu[pd.DatetimeIndex(qu["time"]).as_unit("ns").normalize() == day]
            q_ns = pd.DatetimeIndex(qd["time"]).as_unit("ns").asi8
            bid = qd["bid"].to_numpy(np.float64)
            ask = qd["ask"].to_numpy(np.float64)
            two_sided = np.isfinite(bid) & np.isfinite(ask)
            # One-sided books have no mid: carry the last two-sided quote.
            mid_raw = pd.Series(np.where(two_sided, (bid + ask) / 2, np.nan)).ffill().bfill().to_numpy()
            spr_raw = pd.Series(np.where(two_sided, ask - bid, np.nan)).ffill().bfill().to_numpy()
            if np.isnan(mid_raw).any():
                raise ValueError(f"quotes for {ticker} on {day.date()} have no two-sided quote.")
            # Keep the last state for each timestamp (events in one nanosecond).
            last_of_ts = np.append(q_ns[1:] != q_ns[:-1], True)
            q_ns_u, mid_u, spr_u = q_ns[last_of_ts], mid_raw[last_of_ts], spr_raw[last_of_ts]
            mid = _time_average(q_ns_u, mid_u, edges)
            spread = _time_average(q_ns_u, spr_u, edges)
            k_end = np.clip(np.searchsorted(q_ns_u, edges[1:], side="left") - 1, 0, None)
            mid_close = mid_u[k_end]
            k_start = np.clip(np.searchsorted(q_ns_u, edges[:-1], side="right") - 1, 0, None)
            mid_open = mid_u[k_start]

            # Carry prices forward through bins without trades; before the first trade use the mid.
            close_ff = pd.Series(close).ffill().to_numpy()
            close_ff = np.where(np.isnan(close_ff), mid_close, close_ff)
            carried = ~has
            prev_close = np.concatenate([[close_ff[0]], close_ff[:-1]])
            fill_price = np.where(np.isnan(prev_close), mid_close, prev_close)
            open_ = np.where(has, open_, fill_price)
            close = np.where(has, close, fill_price)
            high = np.where(has, high, fill_price)
            low = np.where(has, low, fill_price)
            vwap = np.where(has, notional / np.where(has, volume, 1.0), fill_price)
            out.append(
                pd.DataFrame(
                    {
                        "ticker": ticker,
                        "time": bins,
                        "open": open_,
                        "high": high,
                        "low": low,
                        "close": close,
                        "volume": volume.astype(np.int64),
                        "vwap": vwap,
                        "n_trades": n_trades.astype(np.int64),
                        "signed_volume": signed.astype(np.int64),
                        "mid": mid,
                        "spread": spread,
                        "mid_open": mid_open,
                        "mid_close": mid_close,
                        "carried": carried,
                    }
                )
            )
    bars = pd.concat(out, ignore_index=True)
    bars["ticker"] = bars["ticker"].astype(str)
    return bars


@functools.lru_cache(maxsize=None)
def _bundled_bars(ticker: str, freq: pd.Timedelta) -> pd.DataFrame:
    day = _bundled(ticker)
    return make_bars(day.trades, day.quotes, freq)


def load_bars(freq: str | pd.Timedelta = "1min", tickers: str | list[str] | None = None) -> pd.DataFrame:
    """Session bars of the bundled sample, every bin present for every ticker.

    Parameters
    ----------
    freq : str or Timedelta, default "1min"
        Bar length; must divide the 6.5-hour session.
    tickers : str or list of str, optional
        ``None`` means all bundled tickers.

    Returns
    -------
    DataFrame
        See :func:`make_bars` for the columns.

    Examples
    --------
    >>> bars = load_bars("1min", "GOOG")
    >>> len(bars), int((bars["volume"] == 0).sum())
    (390, 5)
    """
    td = _parse_freq(freq)
    frames = [_bundled_bars(t, td) for t in _check_tickers(tickers)]
    return pd.concat(frames, ignore_index=True)


def _check_bars(bars: pd.DataFrame, name: str = "bars") -> pd.DataFrame:
    check_frame(bars, name, ["ticker", "time", "volume"])
    vol = bars["volume"].to_numpy(np.float64)
    bad = ~np.isfinite(vol) | (vol < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} column 'volume' has {vol[pos]} at row {bars.index[pos]!r}; must be finite and >= 0.")
    return bars


def _profile_matrix(bars: pd.DataFrame, freq: str | pd.Timedelta) -> tuple[pd.DataFrame, pd.Index]:
    """(ticker-day x bin) fractions of each ticker-day's volume."""
    td = _parse_freq(freq)
    _check_bars(bars)
    t = pd.DatetimeIndex(bars["time"])
    if t.tz is None:
        t = t.tz_localize(TIMEZONE)
    else:
        t = t.tz_convert(TIMEZONE)
    offset = t - t.normalize()
    if ((offset < SESSION_OPEN) | (offset >= SESSION_CLOSE)).any():
        pos = int(np.flatnonzero((offset < SESSION_OPEN) | (offset >= SESSION_CLOSE))[0])
        raise ValueError(f"bars column 'time' has {t[pos]} outside the 09:30-16:00 session.")
    _session_bins(pd.Timestamp("2000-01-03"), td)  # checks that freq divides the session
    bin_no = ((offset - SESSION_OPEN) // td).astype(np.int64)
    n_bins = int((SESSION_CLOSE - SESSION_OPEN) // td)
    key = pd.DataFrame(
        {"ticker": bars["ticker"].to_numpy(), "day": t.normalize().date, "bin": bin_no, "volume": bars["volume"].to_numpy(np.float64)}
    )
    mat = key.pivot_table(index=["ticker", "day"], columns="bin", values="volume", aggfunc="sum", fill_value=0.0)
    mat = mat.reindex(columns=range(n_bins), fill_value=0.0)
    total = mat.sum(axis=1)
    mat = mat[total > 0]
    if mat.empty:
        raise ValueError("bars hold no volume at all; a volume profile needs some.")
    frac = mat.div(mat.sum(axis=1), axis=0)
    labels = pd.Index(
        [(pd.Timestamp("2000-01-01") + SESSION_OPEN + i * td).time() for i in range(n_bins)], name="bin_start"
    )
    return frac, labels


def _smooth(p: np.ndarray, window: int | None) -> np.ndarray:
    if window is None or window <= 1:
        return p
    # Centered moving average, shrinking at the edges, then renormalised.
    kernel = np.ones(window)
    n = p.shape[-1]
    lo = (window - 1) // 2  # np.convolve(mode="same") returns max(n, window) values; slice instead
    num = np.apply_along_axis(lambda r: np.convolve(r, kernel)[lo : lo + n], -1, np.atleast_2d(p))
    den = np.convolve(np.ones(n), kernel)[lo : lo + n]
    s = num / den
    s = s / s.sum(axis=-1, keepdims=True)
    return s.reshape(p.shape)


def volume_profile(
    bars: pd.DataFrame,
    freq: str | pd.Timedelta = "5min",
    smooth: int | None = None,
) -> pd.Series:
    """Fraction of the session's volume traded in each intraday bin.

    Parameters
    ----------
    bars : DataFrame
        ``ticker, time, volume`` bars of any length that divides ``freq``
        (e.g. one-minute bars for a five-minute profile).
    freq : str or Timedelta, default "5min"
        Profile bin length.
    smooth : int, optional
        Width (in profile bins) of a centered moving average applied after
        averaging; a few stock-days are noisy, and smoothing trades a little
        bias for less variance.

    Returns
    -------
    Series
        Indexed by bin start time of day (``bin_start``), non-negative, sums to 1.

    Notes
    -----
    Each ticker-day is first normalised to its own total volume, so that
    a heavily traded stock does not dominate; the profile is their mean

    .. math:: p_b = \\frac{1}{D} \\sum_{d=1}^{D} \\frac{v_{d,b}}{\\sum_{b'} v_{d,b'}} .

    Empty bins count as zero volume; ticker-days with no volume are skipped.

    Examples
    --------
    >>> p = volume_profile(load_bars("1min"), "30min")
    >>> len(p), round(float(p.sum()), 12)
    (13, 1.0)
    """
    if smooth is not None:
        smooth = int(check_scalar(smooth, "smooth", min_val=1, integer=True))
    frac, labels = _profile_matrix(bars, freq)
    p = _smooth(frac.to_numpy().mean(axis=0), smooth)
    return pd.Series(p, index=labels, name="volume_fraction")


@dataclass(frozen=True)
class ProfileForecast:
    """Leave-one-out volume-profile forecasts, one per ticker.

    Attributes
    ----------
    profiles : DataFrame
        Long form: ``ticker, bin_start, realized, forecast, uniform``.
    scores : DataFrame
        Per ticker: ``l1`` (half the L1 distance between forecast and
        realized profile, i.e. the fraction of volume a VWAP schedule would
        place in the wrong bins), ``rmse``, and the same two for the uniform
        (TWAP) profile, ``l1_uniform`` and ``rmse_uniform``.
    """

    profiles: pd.DataFrame
    scores: pd.DataFrame

    def summary(self) -> str:
        s = self.scores.copy()
        return "Leave-one-out volume-profile forecast\n" + s.to_string(float_format=lambda x: f"{x:.4f}")


def profile_forecast(
    bars: pd.DataFrame,
    freq: str | pd.Timedelta = "5min",
    smooth: int | None = None,
) -> ProfileForecast:
    """Forecast each ticker's profile from the other tickers, and score it.

    For each ticker, the forecast is :func:`volume_profile` of the bars of
    all *other* tickers; it is compared with the ticker's realized profile
    and with the flat (TWAP) profile as a baseline.

    Raises
    ------
    ValueError
        If the bars hold fewer than two tickers.
    """
    if smooth is not None:
        smooth = int(check_scalar(smooth, "smooth", min_val=1, integer=True))
    frac, labels = _profile_matrix(bars, freq)
    tickers = frac.index.get_level_values("ticker").unique()
    if len(tickers) < 2:
        raise ValueError(f"profile_forecast needs at least two tickers, got {list(tickers)}.")
    n = len(labels)
    rows, scores = [], []
    for t in tickers:
        own = frac.xs(t, level="ticker").to_numpy().mean(axis=0)
        others = frac[frac.index.get_level_values("ticker") != t].to_numpy().mean(axis=0)
        fc = _smooth(others, smooth)
        uni = np.full(n, 1.0 / n)
        rows.append(pd.DataFrame({"ticker": t, "bin_start": labels, "realized": own, "forecast": fc, "uniform": uni}))
        scores.append(
            {
                "ticker": t,
                "l1": 0.5 * np.abs(fc - own).sum(),
                "rmse": float(np.sqrt(np.mean((fc - own) ** 2))),
                "l1_uniform": 0.5 * np.abs(uni - own).sum(),
                "rmse_uniform": float(np.sqrt(np.mean((uni - own) ** 2))),
            }
        )
    return ProfileForecast(pd.concat(rows, ignore_index=True), pd.DataFrame(scores).set_index("ticker"))


def daily_stats(bars: pd.DataFrame) -> pd.DataFrame:
    """Per ticker-day statistics that impact models and simulators need.

    Parameters
    ----------
    bars : DataFrame
        Regular bars with ``ticker, time, volume, mid`` (and ``mid_open``,
        ``mid_close``, ``spread`` when present), as from :func:`load_bars`.

    Returns
    -------
    DataFrame
        Indexed by ``ticker`` (and one row per ticker-day; ``date`` column):
        ``daily_volume`` (shares), ``sigma`` (daily volatility as a fraction
        of price: the standard deviation of bar-to-bar log mid changes scaled
        by sqrt(bars per session)), ``open_mid``, ``close_mid`` (dollars) and
        ``mean_spread`` (dollars, time-weighted average of the bars).

    Notes
    -----
    One day of intraday returns gives a noisy daily volatility; it is the
    realized volatility of that day, not a forecast.
    """
    check_frame(bars, "bars", ["ticker", "time", "volume", "mid"])
    _check_bars(bars)
    t = pd.DatetimeIndex(bars["time"])
    df = pd.DataFrame(
        {
            "ticker": bars["ticker"].to_numpy(),
            "date": t.normalize().date,
            "volume": bars["volume"].to_numpy(np.float64),
            "mid": bars["mid"].to_numpy(np.float64),
            "mid_open": bars["mid_open"].to_numpy(np.float64) if "mid_open" in bars else bars["mid"].to_numpy(np.float64),
            "mid_close": bars["mid_close"].to_numpy(np.float64) if "mid_close" in bars else bars["mid"].to_numpy(np.float64),
            "spread": bars["spread"].to_numpy(np.float64) if "spread" in bars else np.nan,
        }
    )
    bad = ~np.isfinite(df["mid_close"].to_numpy()) | (df["mid_close"].to_numpy() <= 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"bars column 'mid_close' has {df['mid_close'].iat[pos]} at row {bars.index[pos]!r}; must be > 0.")
    g = df.groupby(["ticker", "date"], sort=True)
    logret = np.log(df["mid_close"]).groupby([df["ticker"], df["date"]]).diff()
    n_bars = g.size()
    out = pd.DataFrame(
        {
            "daily_volume": g["volume"].sum(),
            "sigma": logret.groupby([df["ticker"], df["date"]]).std(ddof=1) * np.sqrt(n_bars),
            "open_mid": g["mid_open"].first(),
            "close_mid": g["mid_close"].last(),
            "mean_spread": g["spread"].mean(),
        }
    )
    out = out.reset_index().set_index("ticker")
    return out
