"""The LOBSTER reader and the loaders of LOBSTER's sample (trades and quotes).

:func:`read_lobster` parses any LOBSTER message/orderbook pair, plain or
gzip-compressed; :func:`load_trades` and :func:`load_quotes` read the sample
files found by :func:`~execlab.data.find_data_dir`.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._calendar import TIMEZONE
from .._lobster_read import EMPTY_ASK as _EMPTY_ASK
from .._lobster_read import EMPTY_BID as _EMPTY_BID
from .._lobster_read import MAX_PRICE as _MAX_PRICE  # noqa: F401 - make_bars' price bound
from .._lobster_read import HALT_CODES, PRICE_SCALE as _PRICE_SCALE
from .._lobster_read import check_crossed, check_header, read_all, to_numpy
from .._validation import check_choice
from ._files import TICKERS, bundled_pair, find_data_dir

__all__ = ["LobsterDay", "read_lobster", "load_trades", "load_quotes"]

_FILE_RE = re.compile(r"(?P<ticker>[A-Za-z0-9.\-]+)_(?P<date>\d{4}-\d{2}-\d{2})_\d+_\d+_(message|orderbook)_(?P<level>\d+)")


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


def read_lobster(
    message_file: str | Path,
    orderbook_file: str | Path,
    date: str | None = None,
    ticker: str | None = None,
    *,
    header: bool | None = None,
    crossed: str = "raise",
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
    header : bool, optional
        Whether each file's first line is a header row.  By default (None) it
        is one only if it spells LOBSTER's column names
        (``Time,Type,OrderID,Size,Price,Direction`` and
        ``Ask Price 1,Ask Size 1,Bid Price 1,Bid Size 1,...``; case, spaces
        and underscores are free, the names are not); any other first line is
        data, so a corrupt first cell is an error at row 0 rather than a
        silently lost event.  ``True`` skips a first line of other names
        (and refuses one of numbers); ``False`` reads the first line as data.
        A UTF-8 byte-order mark is dropped in every case.
    crossed : {"raise", "drop"}, default "raise"
        A crossed or locked best quote (best bid >= best ask, both sides
        present) outside a trading halt is an error; ``"drop"`` keeps the
        row in ``events`` but leaves it out of ``quotes``, as the rows of a
        halt are.

    Returns
    -------
    LobsterDay
        Events, trades, quotes and halts; times tz-aware (America/New_York,
        nanoseconds), prices in dollars, sizes in shares.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    IsADirectoryError
        If a file is a directory.
    TypeError
        If ``header`` is not True, False or None.
    ValueError
        If the date or ticker cannot be found, ``crossed`` is not an option,
        or a file breaks a rule of the LOBSTER format; the message names the
        file, the row (counted from 0 below any header), the column and the
        value.  The rules: a file is text (not binary, not compressed data
        under a ``.csv`` name) and not empty, both files have as many rows,
        every cell is a finite number; ``Time`` lies in ``[0, 86400)`` and
        never decreases; ``Direction`` is 1 or -1; sizes are whole shares in
        ``[0, 10^12)`` and order ids whole numbers below :math:`2^{53}`
        (checked before any cast to int64, so ``1e19`` cannot wrap); a book
        price is positive and below $999,999 or LOBSTER's empty-level value
        (+/-9999999999), with size 0 beside it (a size there is reported,
        not zeroed); ``Type`` is 1 to 7; a halt (type 7) has ``Price`` -1, 0
        or 1; an execution has a positive price and size; the book is not
        crossed or locked outside a halt (see ``crossed``).

    Notes
    -----
    Message ``Time`` is seconds after midnight (exchange time, New York).
    Executions of visible (type 4) and hidden (type 5) limit orders become
    trades with ``sign = -direction``: the resting order was on the other
    side, so executing a sell limit order (direction -1) is a buyer-initiated
    trade.  During a halt (type 7 with price -1 until the resume message with
    price 1) quotes are dropped.

    The files are parsed and checked by the code that
    :func:`execlab.market_from_lobster` runs over many files
    (``execlab/_lobster_read.py``, ``execlab/_lobster_checks.py``), so the
    two readers accept and reject the same files with the same messages;
    only the check that message times lie inside the window of the file's
    name is the market builder's alone.  Parsing uses pyarrow's CSV reader
    when installed, else pandas' C parser.

    References
    ----------
    Huang, R. and Polak, T. (2011). LOBSTER: Limit order book reconstruction
    system. SSRN working paper 1977207; file formats at
    https://lobsterdata.com/info/DataStructure.php.

    Examples
    --------
    Any pair of files; here the sample's, from the directory execlab finds
    (``data_dir=``, ``$EXECLAB_DATA``, ``data/lobster``, ``../shared/data/lobster``):

    >>> from execlab.data import bundled_files, find_data_dir
    >>> d = find_data_dir()
    >>> day = read_lobster(d / "AMZN_2012-06-21_34200000_57600000_message_1.csv",
    ...                    d / "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv")
    >>> day
    LobsterDay(ticker='AMZN', date='2012-06-21', levels=1, events=57,515, trades=11,419, halts=0)
    >>> f10 = bundled_files(level=10).iloc[0]
    >>> read_lobster(f10["message_file"], f10["orderbook_file"]).levels
    10
    """
    message_file, orderbook_file = Path(message_file), Path(orderbook_file)
    header, crossed = check_header(header), check_crossed(crossed)
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

    files = pd.DataFrame({"message_file": [message_file], "orderbook_file": [orderbook_file],
                          "start_ms": [0], "end_ms": [86_400_000]})
    cols = read_all(files, header=header, crossed=crossed, bars=False)  # every rule checked; see _lobster_checks
    secs, etype, size, price, direction = (to_numpy(c) for c in cols.message)
    book = [to_numpy(c).astype(np.float64) for c in _book_columns(cols)]
    levels = len(book) // 4

    # Nanosecond timestamps from seconds-after-midnight, built on the date in New York.
    midnight = day.tz_localize(TIMEZONE)
    time = pd.DatetimeIndex(midnight + pd.to_timedelta(cols.clock, unit="ns")).as_unit("ns")
    # Whole numbers in range (checked), so these casts are exact.
    etype = etype.astype(np.int64)
    events = pd.DataFrame(
        {
            "time": time,
            "type": etype,
            "order_id": to_numpy(cols.order_ids[0]).astype(np.int64),
            "size": size.astype(np.float64),
            "price": price / _PRICE_SCALE,
            "direction": direction.astype(np.int64),
        }
    )
    for k in range(levels):
        ap, asz, bp, bsz = book[4 * k: 4 * k + 4]
        # An empty level is NaN (its size is 0, checked), never a +/-999999.9999 price.
        events[f"ask_price_{k + 1}"] = np.where(ap == _EMPTY_ASK, np.nan, ap / _PRICE_SCALE)
        events[f"ask_size_{k + 1}"] = asz
        events[f"bid_price_{k + 1}"] = np.where(bp == _EMPTY_BID, np.nan, bp / _PRICE_SCALE)
        events[f"bid_size_{k + 1}"] = bsz

    # Halts: type 7 messages carry price -1 (halt), 0 (quoting), 1 (resume), checked.
    is_halt = etype == 7
    halts = pd.DataFrame(
        {
            "time": time[is_halt],
            "state": pd.Series(price[is_halt]).map({float(c): s for c, s in HALT_CODES.items()}).to_numpy(dtype=object),
        }
    )
    ex = cols.executions
    trades = pd.DataFrame(
        {
            "ticker": ticker,
            "time": time[ex],
            "price": cols.execution_price / _PRICE_SCALE,
            "size": cols.execution_size.astype(np.int64),
            "sign": -events["direction"].to_numpy()[ex],
            "hidden": etype[ex] == 5,
        }
    )
    # Inside a halt (after a -1, before the next 1), and with crossed="drop" on a crossed book, no quote.
    keep = slice(None) if cols.quoted is None else cols.quoted
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


def _book_columns(cols) -> list:
    """Every orderbook column of a one-file read, in file order."""
    by_number = dict(cols.book_rest[0])
    by_number[0], by_number[2] = cols.book
    return [by_number[j] for j in range(len(by_number))]


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
