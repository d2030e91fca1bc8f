"""The LOBSTER reader and the loaders of LOBSTER's sample (trades and quotes).

:func:`read_lobster` parses any LOBSTER message/orderbook pair, plain or
gzip-compressed; :func:`load_trades` and :func:`load_quotes` read the sample
files found by :func:`~execlab.data.find_data_dir`.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import lzma
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._calendar import TIMEZONE
from .._validation import check_choice
from ._files import TICKERS, bundled_pair, find_data_dir

__all__ = ["LobsterDay", "read_lobster", "load_trades", "load_quotes"]

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
# pandas infers these compressions from the extension; the header sniff must open them the same way.
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


@dataclass(frozen=True, repr=False)
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

    def __repr__(self) -> str:
        return (
            f"LobsterDay(ticker={self.ticker!r}, date={self.date!r}, levels={self.levels}, "
            f"events={len(self.events):,}, trades={len(self.trades):,}, halts={len(self.halts):,})"
        )


def _has_header(path: Path, what: str) -> bool:
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rt") as fh:
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
        levels, with or without a header row, plain or compressed (``.gz``,
        ``.bz2``, ``.xz``, by extension).  LOBSTER names them
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

    Both files are parsed by pandas' C parser into float64 in one pass
    (about 0.1 s for the 118,497 events of the AAPL sample); a
    ``.csv.gz`` costs the decompression on top.

    Examples
    --------
    >>> from execlab.data import bundled_files
    >>> f = bundled_files(level=1).set_index("ticker")
    >>> day = read_lobster(f.loc["AMZN", "message_file"], f.loc["AMZN", "orderbook_file"])
    >>> day
    LobsterDay(ticker='AMZN', date='2012-06-21', levels=1, events=57,515, trades=11,419, halts=0)
    >>> f10 = bundled_files(level=10).iloc[0]
    >>> read_lobster(f10["message_file"], f10["orderbook_file"]).levels
    10
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


def bundled_day(ticker: str, data_dir: str | os.PathLike | None = None, verify: bool = True) -> LobsterDay:
    """The parsed level-1 sample of one ticker (shared, cached: never hand it out unchanged)."""
    msg, book = bundled_pair(ticker, 1, find_data_dir(data_dir), verify)
    return _read_cached(msg.absolute(), book.absolute())


@functools.lru_cache(maxsize=None)
def _read_cached(message_file: Path, orderbook_file: Path) -> LobsterDay:
    return read_lobster(message_file, orderbook_file)


def load_trades(
    tickers: str | list[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    *,
    verify: bool = True,
) -> pd.DataFrame:
    """Every execution in LOBSTER's level-1 sample (2012-06-21).

    Parameters
    ----------
    tickers : str or list of str, optional
        Any of ``"AAPL"``, ``"AMZN"``, ``"GOOG"``; ``None`` means all.
    data_dir : str or path-like, optional
        Directory of the sample files; by default the one
        :func:`~execlab.data.find_data_dir` finds.
    verify : bool, default True
        Check each file's sha256 on its first load in the process (2-5 ms
        per level-1 file; see :func:`~execlab.data.bundled_files`).

    Returns
    -------
    pandas.DataFrame
        ``ticker, time, price, size, sign`` (and ``hidden``), one row per
        execution message, sorted by ticker then time.  ``price`` in dollars,
        ``size`` in shares, ``sign`` +1 buyer-initiated / -1 seller-initiated.
        The files are parsed once and cached; every call returns a fresh copy,
        so mutating it cannot change what the next call returns.

    Raises
    ------
    FileNotFoundError
        If the sample files are not found (the message says where to get them).
    ValueError
        If a ticker is not in the sample or a file fails its checksum.

    Examples
    --------
    >>> t = load_trades("AMZN")
    >>> len(t), int(t["size"].sum())
    (11419, 810755)
    """
    frames = [bundled_day(t, data_dir, verify).trades for t in _check_tickers(tickers)]
    # A deep copy: the parsed day is cached, and pandas' copy-on-write does not stop writes through
    # numpy views (np.asarray(df["size"].array)), which would otherwise corrupt the cache.
    return pd.concat(frames, ignore_index=True).copy(deep=True)


def load_quotes(
    tickers: str | list[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    *,
    verify: bool = True,
) -> pd.DataFrame:
    """Best bid and ask after every event of LOBSTER's level-1 sample.

    Parameters
    ----------
    tickers : str or list of str, optional
        Any of ``"AAPL"``, ``"AMZN"``, ``"GOOG"``; ``None`` means all.
    data_dir : str or path-like, optional
        Directory of the sample files; by default the one
        :func:`~execlab.data.find_data_dir` finds.
    verify : bool, default True
        Check each file's sha256 on its first load in the process.

    Returns
    -------
    pandas.DataFrame
        ``ticker, time, bid, bid_size, ask, ask_size``; prices in dollars,
        sizes in shares.  Several rows may share a timestamp (events in the
        same nanosecond); the last one is the book after them all.  A fresh
        copy on every call: mutating it cannot change what the next call
        returns.

    Raises
    ------
    FileNotFoundError
        If the sample files are not found (the message says where to get them).
    ValueError
        If a ticker is not in the sample or a file fails its checksum.

    Examples
    --------
    >>> q = load_quotes("GOOG")
    >>> len(q), round(float((q["ask"] - q["bid"]).median()), 2)
    (49482, 0.29)
    """
    frames = [bundled_day(t, data_dir, verify).quotes for t in _check_tickers(tickers)]
    return pd.concat(frames, ignore_index=True).copy(deep=True)
