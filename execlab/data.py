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

from ._validation import (
    check_choice,
    check_frame,
    check_label_column,
    check_numeric_column,
    check_scalar,
    row_label,
    check_sorted_unique,
    check_time_column,
    check_timedelta,
)

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
# LOBSTER's own names for the message columns, used in error messages.
_MESSAGE_NAMES = dict(zip(_MESSAGE_COLUMNS, ["Time", "Type", "OrderID", "Size", "Price", "Direction"]))
# Largest real price in dollars; LOBSTER's empty-side dummies are +/-999999.9999 after scaling.
_MAX_PRICE = 999_999.0
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


def _has_header(path: Path, what: str) -> bool:
    with open(path) as fh:
        line = fh.readline().strip()
    if not line:
        raise ValueError(f"{what} file {path.name} is empty.")
    first = line.split(",")[0]
    try:
        float(first)
    except ValueError:
        return True
    return False


def _read_numeric_csv(path: Path, names: list[str] | None, what: str) -> pd.DataFrame:
    header = 0 if _has_header(path, what) else None
    try:
        df = pd.read_csv(path, header=header, dtype=np.float64, engine="c")
    except ValueError as exc:  # a non-numeric cell below the header
        raise ValueError(f"{what} file {path.name} holds a value that is not a number: {exc}") from None
    if names is not None:
        if df.shape[1] != len(names):
            raise ValueError(f"{what} file {path.name} has {df.shape[1]} columns, expected {len(names)}.")
        df.columns = names
    if len(df) == 0:
        raise ValueError(f"{what} file {path.name} is empty.")
    return df


def _check_finite(df: pd.DataFrame, path: Path, what: str, labels: dict[str, str] | None = None) -> None:
    """Every cell of a LOBSTER file is a number; a blank or NaN is a damaged file."""
    vals = df.to_numpy()
    bad = ~np.isfinite(vals)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        name = df.columns[col]
        name = (labels or {}).get(name, name)
        raise ValueError(f"{what} file {path.name} column {name!r} has {vals[row, col]} at row {row}; LOBSTER files hold only numbers.")


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
        levels, with or without a header row.  LOBSTER names them
        ``TICKER_DATE_START_END_message_LEVELS.csv`` and
        ``..._orderbook_LEVELS.csv``.  Prices are dollars x 10,000, sizes in
        shares, times in seconds after midnight.
    date : str, optional
        Trading date ``YYYY-MM-DD``; read from the file name when omitted.
    ticker : str, optional
        Ticker symbol; read from the file name when omitted.

    Returns
    -------
    LobsterDay
        Events, trades, quotes and halts; times tz-aware (America/New_York,
        nanoseconds), prices in dollars, sizes in shares.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a file is empty or holds a blank/non-numeric cell, the files differ
        in length, the date or ticker cannot be found, the timestamps decrease
        or lie outside the day, an event type or direction is unknown, or a
        price or size is negative where it must not be.

    Notes
    -----
    Message ``Time`` is seconds after midnight (exchange time, New York).
    Executions of visible (type 4) and hidden (type 5) limit orders become
    trades with ``sign = -direction``: the resting order was on the other
    side, so executing a sell limit order (direction -1) is a buyer-initiated
    trade.  During a halt (type 7 with price -1 until the resume message with
    price 1) quotes are dropped.

    References
    ----------
    Huang, R. and Polak, T. (2011). LOBSTER: Limit order book reconstruction
    system. SSRN working paper 1977207; file formats at
    https://lobsterdata.com/info/DataStructure.php.

    Examples
    --------
    >>> stem = DATA_DIR / "AMZN_2012-06-21_34200000_57600000"
    >>> day = read_lobster(f"{stem}_message_1.csv", f"{stem}_orderbook_1.csv")
    >>> day.ticker, day.date, day.levels, len(day.events), len(day.trades)
    ('AMZN', '2012-06-21', 1, 57515, 11419)
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
    if not isinstance(ticker, str) or not ticker:
        raise ValueError(f"ticker == {ticker!r}, must be a non-empty string.")
    # Strings must be ISO dates: pandas would read 'June 32nd' as 2032-06-01.
    bad_text = isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) is None
    try:
        day = pd.Timestamp(date)
    except (TypeError, ValueError):
        bad_text = True
    if bad_text:
        raise ValueError(f"date == {date!r}, must be a calendar date such as '2012-06-21'.")
    if day is pd.NaT or day.tz is not None or day != day.normalize():
        raise ValueError(f"date == {date!r}, must be a calendar date such as '2012-06-21' (no time, no time zone).")

    msg = _read_numeric_csv(message_file, _MESSAGE_COLUMNS, "message")
    book = _read_numeric_csv(orderbook_file, None, "orderbook")
    if book.shape[1] % 4:
        raise ValueError(f"orderbook file {orderbook_file.name} has {book.shape[1]} columns, not a multiple of 4.")
    levels = book.shape[1] // 4
    if len(book) != len(msg):
        raise ValueError(
            f"message file has {len(msg)} rows but orderbook file has {len(book)}; they must match."
        )
    _check_finite(msg, message_file, "message", _MESSAGE_NAMES)
    secs = msg["seconds"].to_numpy()
    outside = (secs < 0) | (secs >= 86_400)
    if outside.any():
        pos = int(np.flatnonzero(outside)[0])
        raise ValueError(f"message column 'Time' has {secs[pos]} at row {pos}; must be seconds after midnight in [0, 86400).")
    if (np.diff(secs) < 0).any():
        pos = int(np.flatnonzero(np.diff(secs) < 0)[0]) + 1
        raise ValueError(f"message column 'Time' decreases at row {pos}: {secs[pos - 1]} then {secs[pos]}.")
    book_cols = []
    for k in range(1, levels + 1):
        book_cols += [f"ask_price_{k}", f"ask_size_{k}", f"bid_price_{k}", f"bid_size_{k}"]
    book.columns = book_cols
    _check_finite(book, orderbook_file, "orderbook")
    direction = msg["direction"].to_numpy()
    bad_dir = (direction != 1) & (direction != -1)
    if bad_dir.any():
        pos = int(np.flatnonzero(bad_dir)[0])
        raise ValueError(f"message column 'Direction' has {direction[pos]} at row {pos}; must be 1 (buy) or -1 (sell).")
    neg = msg["size"].to_numpy() < 0
    if neg.any():
        pos = int(np.flatnonzero(neg)[0])
        raise ValueError(f"message column 'Size' has {msg['size'].iat[pos]} at row {pos}; must be >= 0.")
    for k in range(1, levels + 1):
        for side, dummy in (("ask", _EMPTY_ASK), ("bid", _EMPTY_BID)):
            px = book[f"{side}_price_{k}"].to_numpy()
            sz = book[f"{side}_size_{k}"].to_numpy()
            bad_px = (px != dummy) & ((px <= 0) | (np.abs(px) >= _MAX_PRICE * _PRICE_SCALE))
            if bad_px.any():
                pos = int(np.flatnonzero(bad_px)[0])
                raise ValueError(
                    f"orderbook column '{side}_price_{k}' has {px[pos]} at row {pos}; must be > 0 "
                    f"(dollars x 10,000) or LOBSTER's empty-side value {dummy}."
                )
            if (sz < 0).any():
                pos = int(np.flatnonzero(sz < 0)[0])
                raise ValueError(f"orderbook column '{side}_size_{k}' has {sz[pos]} at row {pos}; must be >= 0.")

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
        The files are parsed once and cached; every call returns a fresh copy,
        so mutating it cannot change what the next call returns.

    Examples
    --------
    >>> t = load_trades("AMZN")
    >>> len(t), int(t["size"].sum())
    (11419, 810755)
    """
    frames = [_bundled(t).trades for t in _check_tickers(tickers)]
    # A deep copy: the parsed day is cached, and pandas' copy-on-write does not stop writes through
    # numpy views (np.asarray(df["size"].array)), which would otherwise corrupt the cache.
    return pd.concat(frames, ignore_index=True).copy(deep=True)


def load_quotes(tickers: str | list[str] | None = None) -> pd.DataFrame:
    """Best bid and ask after every event of the bundled sample.

    Parameters
    ----------
    tickers : str or list of str, optional
        Any of ``"AAPL"``, ``"AMZN"``, ``"GOOG"``; ``None`` means all.

    Returns
    -------
    pandas.DataFrame
        ``ticker, time, bid, bid_size, ask, ask_size``; prices in dollars,
        sizes in shares.  Several rows may share a timestamp (events in the
        same nanosecond); the last one is the book after them all.  A fresh
        copy on every call: mutating it cannot change what the next call
        returns.

    Examples
    --------
    >>> q = load_quotes("GOOG")
    >>> len(q), round(float((q["ask"] - q["bid"]).median()), 2)
    (49482, 0.29)
    """
    frames = [_bundled(t).quotes for t in _check_tickers(tickers)]
    return pd.concat(frames, ignore_index=True).copy(deep=True)


def _session_bins(day: pd.Timestamp, freq: pd.Timedelta) -> pd.DatetimeIndex:
    length = SESSION_CLOSE - SESSION_OPEN
    if length % freq != pd.Timedelta(0):
        shown = f"{int(freq.total_seconds() // 60)}min" if freq.total_seconds() % 60 == 0 else str(freq)
        raise ValueError(f"freq == '{shown}', must divide the 6.5-hour session (390 minutes) evenly.")
    start = day.tz_localize(TIMEZONE) + SESSION_OPEN
    return pd.date_range(start, periods=int(length // freq), freq=freq).as_unit("ns")


def _show_span(td: pd.Timedelta) -> str:
    """'30min' rather than '0 days 00:30:00'."""
    secs = td.total_seconds()
    return f"{int(secs // 60)}min" if secs % 60 == 0 else f"{secs:g}s"


def _parse_freq(freq: str | pd.Timedelta) -> pd.Timedelta:
    """Bar or bin length as a positive Timedelta."""
    return check_timedelta(freq, "freq", example="'1min' or '5min'")


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
    r"""Build regular session bars from trades and quotes.

    Parameters
    ----------
    trades : DataFrame
        ``ticker, time, price, size, sign`` as from :func:`load_trades`:
        ``time`` tz-aware, ``price`` in dollars, ``size`` in shares, ``sign``
        +1 buyer-initiated, -1 seller-initiated, 0 unknown.  Sorted by time
        within each ticker (ties allowed).
    quotes : DataFrame
        ``ticker, time, bid, ask`` as from :func:`load_quotes`; dollars, NaN
        for an empty side.  Sorted by time within each ticker (ties allowed).
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
    TypeError
        If a numeric column holds text or ``time`` does not hold datetimes.
    ValueError
        If a frame is empty or lacks a column, a ticker or time is missing,
        times are timezone-naive or unsorted within a ticker, prices are not
        positive (or are LOBSTER's empty-side dummies), sizes are not
        positive, a sign is not -1, 0 or +1, a quote is crossed (bid > ask),
        a ticker has trades but no quotes, or a day has no two-sided quote.

    Notes
    -----
    Times are converted to America/New_York; the session is 09:30-16:00
    there.  Trades outside the session are left out of the bars (quotes
    before the open still set the opening mid).  A ticker with quotes but no
    trades gets every bin, with zero volume and prices from the mid.

    With trades :math:`(p_k, s_k, \epsilon_k)` in bin :math:`b`:
    ``volume`` :math:`= \sum s_k`, ``vwap`` :math:`= \sum p_k s_k / \sum s_k`,
    ``signed_volume`` :math:`= \sum \epsilon_k s_k`; ``mid`` is
    :math:`\frac{1}{\Delta}\int_b m(t)\,dt` for the mid :math:`m(t)` after
    the last event at or before :math:`t`.

    Examples
    --------
    >>> bars = make_bars(load_trades("AMZN"), load_quotes("AMZN"), "30min")
    >>> len(bars), int(bars["volume"].sum()), bars["time"].iloc[0].isoformat()
    (13, 810755, '2012-06-21T09:30:00-04:00')
    """
    td = _parse_freq(freq)
    check_frame(trades, "trades", ["ticker", "time", "price", "size", "sign"])
    check_frame(quotes, "quotes", ["ticker", "time", "bid", "ask"])
    tr_ticker = check_label_column(trades, "ticker", "trades")
    qu_ticker = check_label_column(quotes, "ticker", "quotes")
    tr_time = check_time_column(trades, "time", "trades", TIMEZONE)
    qu_time = check_time_column(quotes, "time", "quotes", TIMEZONE)
    price = check_numeric_column(trades, "price", "trades")
    size = check_numeric_column(trades, "size", "trades")
    sign = check_numeric_column(trades, "sign", "trades")
    bid = check_numeric_column(quotes, "bid", "quotes", allow_nan=True)
    ask = check_numeric_column(quotes, "ask", "quotes", allow_nan=True)

    def fail(frame: pd.DataFrame, name: str, column: str, values: np.ndarray, bad: np.ndarray, rule: str) -> None:
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} column {column!r} has {values[pos]} for {frame['ticker'].iat[pos]} "
                f"at row {row_label(frame.index, pos)!r}; must be {rule}."
            )

    fail(trades, "trades", "price", price, (price <= 0) | (price >= _MAX_PRICE), "> 0")
    fail(trades, "trades", "size", size, size <= 0, "> 0")
    fail(trades, "trades", "sign", sign, ~np.isin(sign, (-1.0, 0.0, 1.0)), "+1 (buyer-initiated), -1 (seller-initiated) or 0 (unknown)")
    for col, px in (("bid", bid), ("ask", ask)):
        # NaN is an empty side; LOBSTER's +/-999999.9999 dummies must not arrive as prices.
        fail(quotes, "quotes", col, px, (px <= 0) | (px >= _MAX_PRICE), "> 0 and below 999999 dollars (NaN for an empty side)")
    crossed = bid > ask  # NaN compares False: one-sided books pass
    if crossed.any():
        pos = int(np.flatnonzero(crossed)[0])
        raise ValueError(
            f"quotes are crossed for {quotes['ticker'].iat[pos]} at row {row_label(quotes.index, pos)!r}: "
            f"bid {bid[pos]} > ask {ask[pos]}."
        )

    trade_tickers = set(pd.unique(tr_ticker).tolist())
    quote_tickers = set(pd.unique(qu_ticker).tolist())
    missing = sorted(map(str, trade_tickers - quote_tickers))
    if missing:
        raise ValueError(f"quotes have no rows for ticker {missing[0]!r}, which has trades.")
    out = []
    # Tickers with quotes but no trades still get every bin: zero volume, prices from the mid.
    for ticker in sorted(trade_tickers | quote_tickers, key=str):
        in_tr = tr_ticker == ticker
        in_qu = qu_ticker == ticker
        t_ns = tr_time[in_tr]
        q_time = qu_time[in_qu]
        check_sorted_unique(t_ns, f"trades time for {ticker}", strict=False)
        check_sorted_unique(q_time, f"quotes time for {ticker}", strict=False)
        p_all, s_all, sg_all = price[in_tr], size[in_tr], sign[in_tr]
        b_all, a_all = bid[in_qu], ask[in_qu]
        t_day = t_ns.normalize()
        q_day = q_time.normalize()
        days = t_day.unique().union(q_day.unique())
        for day in days:
            bins = _session_bins(pd.Timestamp(day.date()), td)
            edges = np.append(bins.asi8, bins.asi8[-1] + td.value)
            in_day = np.asarray(t_day == day)
            ti = t_ns.asi8[in_day]
            p, s, sg = p_all[in_day], s_all[in_day], sg_all[in_day]
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

            in_qday = np.asarray(q_day == day)
            q_ns = q_time.asi8[in_qday]
            b_d, a_d = b_all[in_qday], a_all[in_qday]
            two_sided = np.isfinite(b_d) & np.isfinite(a_d)
            if not two_sided.any():
                raise ValueError(f"quotes for {ticker} on {day.date()} have no two-sided quote.")
            # One-sided books have no mid: carry the last two-sided quote.
            mid_raw = pd.Series(np.where(two_sided, (b_d + a_d) / 2, np.nan)).ffill().bfill().to_numpy()
            spr_raw = pd.Series(np.where(two_sided, a_d - b_d, np.nan)).ffill().bfill().to_numpy()
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
        See :func:`make_bars` for the columns.  Built once per ticker and
        frequency and cached; every call returns a fresh copy.

    Examples
    --------
    >>> bars = load_bars("1min", "GOOG")
    >>> len(bars), int((bars["volume"] == 0).sum())
    (390, 5)
    """
    td = _parse_freq(freq)
    frames = [_bundled_bars(t, td) for t in _check_tickers(tickers)]
    return pd.concat(frames, ignore_index=True).copy(deep=True)  # never a view of the cache


def _check_bars(
    bars: pd.DataFrame, name: str = "bars", *, sorted_times: bool = False, columns: tuple[str, ...] = ()
) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """Validate ``ticker, time, volume`` bars; return (ticker, time in New York, volume).

    Each (ticker, time) must appear once; with ``sorted_times`` times must
    also increase within each ticker (their order is used, e.g. for returns).
    """
    check_frame(bars, name, ["ticker", "time", "volume", *columns])
    ticker = check_label_column(bars, "ticker", name)
    time = check_time_column(bars, "time", name, TIMEZONE)
    vol = check_numeric_column(bars, "volume", name, allow_nan=True)
    bad = ~np.isfinite(vol) | (vol < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} column 'volume' has {vol[pos]} at row {row_label(bars.index, pos)!r}; must be finite and >= 0.")
    codes = pd.factorize(ticker)[0]
    order = np.lexsort((time.asi8, codes))  # by ticker, then time; stable
    same = codes[order][1:] == codes[order][:-1]
    dup = same & (np.diff(time.asi8[order]) == 0)
    if dup.any():
        pos = int(order[np.flatnonzero(dup)[0] + 1])
        raise ValueError(
            f"{name} has a duplicate bar: ticker {ticker[pos]!r} at {time[pos]} appears more than once "
            f"(row {row_label(bars.index, pos)!r})."
        )
    if sorted_times:
        seq = np.argsort(codes, kind="stable")  # rows of each ticker, in the order given
        same = codes[seq][1:] == codes[seq][:-1]
        back = same & (np.diff(time.asi8[seq]) < 0)
        if back.any():
            k = int(np.flatnonzero(back)[0])
            pos = int(seq[k + 1])
            raise ValueError(
                f"{name} column 'time' is unsorted for ticker {ticker[pos]!r}: {time[int(seq[k])]} then "
                f"{time[pos]} at row {row_label(bars.index, pos)!r}; sort the bars by ticker and time."
            )
    return ticker, time, vol


def _profile_matrix(bars: pd.DataFrame, freq: str | pd.Timedelta) -> tuple[pd.DataFrame, pd.Index]:
    """(ticker-day x bin) fractions of each ticker-day's volume."""
    td = _parse_freq(freq)
    ticker, t, vol = _check_bars(bars)
    offset = t - t.normalize()
    if ((offset < SESSION_OPEN) | (offset >= SESSION_CLOSE)).any():
        pos = int(np.flatnonzero((offset < SESSION_OPEN) | (offset >= SESSION_CLOSE))[0])
        raise ValueError(f"bars column 'time' has {t[pos]} outside the 09:30-16:00 session.")
    _session_bins(pd.Timestamp("2000-01-03"), td)  # checks that freq divides the session
    session = (SESSION_CLOSE - SESSION_OPEN).value
    since_open = (offset - SESSION_OPEN).as_unit("ns").asi8  # ns after 09:30
    # Bars on a complete grid coarser than (or not dividing) freq cannot be split into profile bins:
    # 30-minute bars put into 5-minute bins would fill every sixth bin and leave the rest empty.
    spacing = int(np.gcd.reduce(since_open)) if since_open.size else 0
    if spacing and td.value % spacing and session % spacing == 0 and np.unique(since_open).size == session // spacing:
        raise ValueError(
            f"freq == {str(freq)!r} is not a multiple of the bars' length ({_show_span(pd.Timedelta(spacing))}); "
            "a volume profile cannot split a bar's volume. Use a freq that the bar length divides."
        )
    bin_no = since_open // td.value
    n_bins = int((SESSION_CLOSE - SESSION_OPEN) // td)
    key = pd.DataFrame({"ticker": ticker, "day": t.normalize().date, "bin": bin_no, "volume": vol})
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
    r"""Fraction of the session's volume traded in each intraday bin.

    Parameters
    ----------
    bars : DataFrame
        ``ticker, time, volume`` bars (time tz-aware, volume in shares) of
        any length that divides ``freq`` (e.g. one-minute bars for a
        five-minute profile), one row per ticker and bar; bins missing from
        the frame count as zero volume.
    freq : str or Timedelta, default "5min"
        Profile bin length; must divide the 09:30-16:00 session and be a
        multiple of the bar length.
    smooth : int, optional
        Width (in profile bins) of a centered moving average applied after
        averaging; a few stock-days are noisy, and smoothing trades a little
        bias for less variance.

    Returns
    -------
    Series
        Indexed by bin start time of day (``bin_start``, New York time),
        non-negative, sums to 1 (a fraction of the session's volume).

    Raises
    ------
    TypeError
        If ``bars`` is not a DataFrame, ``volume`` holds text or ``time``
        does not hold datetimes.
    ValueError
        If the frame is empty or lacks a column, a ticker or time is missing,
        times are timezone-naive, outside the session or duplicated for a
        ticker, volume is negative or NaN, there is no volume at all, ``freq``
        does not divide the session or is finer than the bars, or
        ``smooth < 1``.

    Notes
    -----
    Each ticker-day is first normalised to its own total volume, so that
    a heavily traded stock does not dominate; the profile is their mean

    .. math:: p_b = \frac{1}{D} \sum_{d=1}^{D} \frac{v_{d,b}}{\sum_{b'} v_{d,b'}} .

    Empty bins count as zero volume; ticker-days with no volume are skipped.
    The smoothed profile is :math:`\tilde p_b \propto \frac{1}{|W_b|}
    \sum_{b' \in W_b} p_{b'}` over the window :math:`W_b` of ``smooth``
    bins centred on :math:`b` (cut at the session's edges), renormalised to
    sum to 1.

    References
    ----------
    Bialkowski, J., Darolles, S. and Le Fol, G. (2008). Improving VWAP
    strategies: A dynamic volume approach. *Journal of Banking & Finance*,
    32(9), 1709-1722.

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
    r"""Forecast each ticker's profile from the other tickers, and score it.

    For each ticker, the forecast is :func:`volume_profile` of the bars of
    all *other* tickers; it is compared with the ticker's realized profile
    and with the flat (TWAP) profile as a baseline.

    Parameters
    ----------
    bars : DataFrame
        ``ticker, time, volume`` bars, as for :func:`volume_profile`.
    freq : str or Timedelta, default "5min"
        Profile bin length.
    smooth : int, optional
        Moving-average width (profile bins) applied to the forecast only; the
        realized profile it is scored against is never smoothed.

    Returns
    -------
    ProfileForecast
        ``.profiles`` (long form, one row per ticker and bin), ``.scores``
        (one row per ticker) and ``.summary()``.

    Raises
    ------
    ValueError
        If the bars hold fewer than two tickers with volume, or for any
        reason :func:`volume_profile` would.

    Notes
    -----
    With realized profile :math:`p_b` of the held-out ticker and forecast
    :math:`\hat p_b` over :math:`B` bins,

    .. math::
        \mathrm{l1} = \tfrac12 \sum_b |\hat p_b - p_b|, \qquad
        \mathrm{rmse} = \sqrt{\tfrac1B \sum_b (\hat p_b - p_b)^2};

    ``l1`` is the fraction of the day's volume a VWAP schedule built on the
    forecast puts in the wrong bins.

    Examples
    --------
    >>> fc = profile_forecast(load_bars("1min"), "30min")
    >>> (fc.scores["l1"] < fc.scores["l1_uniform"]).all()
    np.True_
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
    r"""Per ticker-day statistics that impact models and simulators need.

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

    Raises
    ------
    TypeError
        If a numeric column holds text or ``time`` does not hold datetimes.
    ValueError
        If the frame is empty or lacks a column, a ticker or time is missing,
        times are timezone-naive, duplicated or unsorted within a ticker,
        volume is negative or NaN, a mid is not positive, or a spread is
        negative.

    Notes
    -----
    With :math:`M` bars in the day and bar-end mids :math:`m_1, \dots, m_M`,

    .. math::
        \sigma = \sqrt{M}\, \mathrm{sd}\left(\log \frac{m_{i}}{m_{i-1}}\right),
        \quad i = 2, \dots, M,

    the realized volatility of that day scaled to the session, not a
    forecast; one day of intraday returns gives a noisy estimate, and a day
    with fewer than three bars gives NaN.

    References
    ----------
    Andersen, T. G., Bollerslev, T., Diebold, F. X. and Labys, P. (2003).
    Modeling and forecasting realized volatility. *Econometrica*, 71(2),
    579-625.

    Examples
    --------
    >>> st = daily_stats(load_bars("1min"))
    >>> st["daily_volume"].astype(int).to_dict()
    {'AAPL': 2850140, 'AMZN': 810755, 'GOOG': 706125}
    >>> st["sigma"].round(4).to_dict()
    {'AAPL': 0.0095, 'AMZN': 0.0144, 'GOOG': 0.0096}
    """
    ticker, t, vol = _check_bars(bars, sorted_times=True, columns=("mid",))
    t = pd.DatetimeIndex(bars["time"]).as_unit("ns")  # the date is taken in the bars' own time zone

    def price(column: str) -> np.ndarray:
        return check_numeric_column(bars, column, "bars", min_val=0.0, include_min=False)

    mid = price("mid")
    spread = check_numeric_column(bars, "spread", "bars", min_val=0.0) if "spread" in bars else np.full(len(bars), np.nan)
    df = pd.DataFrame(
        {
            "ticker": ticker,
            "date": t.normalize().date,
            "volume": vol,
            "mid": mid,
            "mid_open": price("mid_open") if "mid_open" in bars else mid,
            "mid_close": price("mid_close") if "mid_close" in bars else mid,
            "spread": spread,
        }
    )
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
