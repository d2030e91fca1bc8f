"""One ticker-day of LOBSTER events and the book after each, as the arrays the replay walks.

:class:`EventBook` reads a message file and its orderbook file at any depth N
through the same parser and checks as :func:`execlab.read_lobster` (so it
accepts and rejects the same files with the same messages), and adds what a
queue model needs and a bar builder does not: the order id of every event,
the row at which each order id arrived (its type-1 message, when the file
shows it), and the book's N levels as int64 arrays in LOBSTER's own units
(dollars x 10,000).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._calendar import TIMEZONE
from .._lobster_read import EMPTY_ASK, EMPTY_BID, MESSAGE_LABELS, read_all, to_numpy
from ..data._files import bundled_files, scan_lobster

__all__ = ["EventBook"]

_TYPES = (1, 2, 3, 4, 5, 7)


class EventBook:
    """The events of one ticker-day and the visible book after each, for event-level replay.

    Build it with :meth:`from_lobster` (a user's files) or :meth:`bundled`
    (the sample day).  Rows are LOBSTER's events in file order.

    Attributes
    ----------
    ticker, date : str
        Ticker and trading date (``YYYY-MM-DD``).
    levels : int
        Book depth N used (at most the file's).
    tick : int
        Tick size in LOBSTER's units (dollars x 10,000); 100 is one cent.
    time : numpy.ndarray
        Event times, int64 nanoseconds since the epoch (UTC).
    type, order_id, size, price, direction : numpy.ndarray
        LOBSTER's message columns as int64 (price in dollars x 10,000).
    ask_price, ask_size, bid_price, bid_size : numpy.ndarray
        ``(events, levels)`` int64: the book after each event.  An empty
        level keeps LOBSTER's dummy price (+/-9999999999) with size 0.
    arrival_row : numpy.ndarray
        For each event, the row of its order's type-1 message, or -1 when the
        order arrived outside the file's view (before the open, or beyond
        the N visible levels).
    next_id : numpy.ndarray
        The order id of the first type-1 message at or after each row: NASDAQ
        numbers orders in arrival order, so an order never seen arriving is
        taken to be ahead of one of ours entering at that row when its id is
        smaller.
    source : str
        Where the events came from (file names, or SYNTHETIC for a generated book).
    """

    def __init__(self, *, ticker: str, date: str, levels: int, tick: int, time: np.ndarray, etype: np.ndarray,
                 order_id: np.ndarray, size: np.ndarray, price: np.ndarray, direction: np.ndarray,
                 ask_price: np.ndarray, ask_size: np.ndarray, bid_price: np.ndarray, bid_size: np.ndarray,
                 source: str = "") -> None:
        self.ticker = ticker
        self.date = date
        self.levels = int(levels)
        self.tick = int(tick)
        self.time = np.ascontiguousarray(time, dtype=np.int64)
        self.type = np.ascontiguousarray(etype, dtype=np.int64)
        self.order_id = np.ascontiguousarray(order_id, dtype=np.int64)
        self.size = np.ascontiguousarray(size, dtype=np.int64)
        self.price = np.ascontiguousarray(price, dtype=np.int64)
        self.direction = np.ascontiguousarray(direction, dtype=np.int64)
        self.ask_price = np.ascontiguousarray(ask_price, dtype=np.int64)
        self.ask_size = np.ascontiguousarray(ask_size, dtype=np.int64)
        self.bid_price = np.ascontiguousarray(bid_price, dtype=np.int64)
        self.bid_size = np.ascontiguousarray(bid_size, dtype=np.int64)
        self.source = source
        n = len(self.time)
        if n == 0:
            raise ValueError(f"the {ticker} {date} book has no events.")
        for name in ("type", "order_id", "size", "price", "direction"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"message column {name!r} has {len(getattr(self, name))} rows but 'time' has {n}.")
        for name in ("ask_price", "ask_size", "bid_price", "bid_size"):
            a = getattr(self, name)
            if a.shape != (n, self.levels):
                raise ValueError(f"book array {name!r} has shape {a.shape}; expected ({n}, {self.levels}): "
                                 "one row per message and one column per level.")
        if np.any(np.diff(self.time) < 0):
            r = int(np.flatnonzero(np.diff(self.time) < 0)[0]) + 1
            raise ValueError(f"event times decrease at row {r}; a message file is in time order.")
        unknown = ~np.isin(self.type, _TYPES)
        if unknown.any():
            r = int(np.flatnonzero(unknown)[0])
            raise ValueError(f"message column 'Type' has {int(self.type[r])} at row {r}; LOBSTER's event types "
                             f"are {list(_TYPES)} (1 new, 2 partial cancel, 3 delete, 4 visible execution, "
                             "5 hidden execution, 7 halt).")
        if self.tick <= 0:
            raise ValueError(f"tick must be a positive number of price units, got {tick}.")
        self.arrival_row = _arrival_rows(self.type, self.order_id)
        # The id of the first type-1 message at or after each row (int64 max after the last one).
        new = np.flatnonzero(self.type == 1)
        nxt = np.searchsorted(new, np.arange(n))
        ids = np.append(self.order_id[new], np.iinfo(np.int64).max)
        self.next_id = ids[nxt]

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_lobster(cls, message_file: str | os.PathLike, orderbook_file: str | os.PathLike,
                     *, depth: int | None = None, tick_size: float = 0.01, header: bool | None = None,
                     crossed: str = "raise") -> "EventBook":
        """Read one LOBSTER ticker-day at depth N.

        Parameters
        ----------
        message_file, orderbook_file : str or path-like
            LOBSTER's pair, named ``TICKER_DATE_START_END_message_N.csv`` and
            ``..._orderbook_N.csv`` (``.csv.gz`` too); ticker, date and depth
            come from the names.
        depth : int, optional
            Use only the best ``depth`` levels (at most the file's N); by
            default all of them.
        tick_size : float, default 0.01
            Price increment in dollars; orders priced off it are refused.
        header, crossed
            As :func:`execlab.read_lobster`.

        Raises
        ------
        ValueError
            If the files break LOBSTER's format (the reader's checks, with
            file, row and column), the two files differ in length, an event
            type is unknown, or ``depth`` exceeds the file's levels.
        """
        files = scan_lobster([message_file, orderbook_file])
        return cls._from_files(files, depth=depth, tick_size=tick_size, header=header, crossed=crossed)

    @classmethod
    def bundled(cls, ticker: str, level: int = 1, *, depth: int | None = None,
                data_dir: str | os.PathLike | None = None) -> "EventBook":
        """The real sample day of ``ticker`` (2012-06-21) at ``level`` (1, 5 for AMZN, 10 for GOOG).

        Examples
        --------
        >>> book = EventBook.bundled("AAPL")
        >>> book
        EventBook(AAPL 2012-06-21, 118,497 events, 1 level, tick 0.01)
        """
        files = bundled_files(level, data_dir, tickers=ticker)
        return cls._from_files(files, depth=depth, tick_size=0.01)

    @classmethod
    def _from_files(cls, files: pd.DataFrame, *, depth: int | None, tick_size: float, header: bool | None = None,
                    crossed: str = "raise") -> "EventBook":
        if len(files) != 1:
            raise ValueError(f"an EventBook holds one ticker-day; got {len(files)}.")
        row = files.iloc[0]
        levels = int(row["level"])
        if depth is None:
            depth = levels
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
            raise ValueError(f"depth must be a whole number of levels >= 1, got {depth!r}.")
        if depth > levels:
            raise ValueError(f"depth {depth} is deeper than the file, which has {levels} level(s): "
                             f"{Path(row['orderbook_file']).name}.")
        tick = _tick_units(tick_size)
        cols = read_all(files, header=header, crossed=crossed, bars=False)
        secs, etype, size, price, direction = cols.message
        book = {0: cols.book[0], 2: cols.book[1]}
        for j, c in cols.book_rest[0]:
            book[j] = to_numpy(c)
        day = pd.Timestamp(row["date"]).tz_localize(TIMEZONE)
        time = cols.clock + day.value  # ns after local midnight -> ns since the epoch
        take = lambda k: np.stack([np.asarray(book[4 * j + k]) for j in range(depth)], axis=1)  # noqa: E731
        return cls(ticker=str(row["ticker"]), date=pd.Timestamp(row["date"]).strftime("%Y-%m-%d"), levels=depth,
                   tick=tick, time=time, etype=np.asarray(etype), order_id=to_numpy(cols.order_ids[0]),
                   size=np.asarray(size), price=np.asarray(price), direction=np.asarray(direction),
                   ask_price=take(0), ask_size=take(1), bid_price=take(2), bid_size=take(3),
                   source=_source(Path(row["message_file"]), Path(row["orderbook_file"])))

    # -- views ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.time)

    def __repr__(self) -> str:
        lv = "level" if self.levels == 1 else "levels"
        label = " SYNTHETIC" if "SYNTHETIC" in self.source else ""
        return (f"EventBook({self.ticker} {self.date}{label}, {len(self):,} events, {self.levels} {lv}, "
                f"tick {self.tick / 10_000:g})")

    @property
    def timestamps(self) -> pd.DatetimeIndex:
        """Event times as a tz-aware index (America/New_York)."""
        return pd.DatetimeIndex(self.time.view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE)

    def mid(self) -> np.ndarray:
        """Mid quote after each event, dollars (NaN while a side is empty)."""
        a, b = self.ask_price[:, 0].astype(float), self.bid_price[:, 0].astype(float)
        ok = (self.ask_size[:, 0] > 0) & (self.bid_size[:, 0] > 0)
        return np.where(ok, (a + b) / 2 / 10_000, np.nan)

    def mid_at(self, times_ns: np.ndarray) -> np.ndarray:
        """Mid quote in force at each time (after every event at or before it), dollars."""
        r = np.searchsorted(self.time, np.asarray(times_ns, dtype=np.int64), side="right") - 1
        out = np.full(len(r), np.nan)
        ok = r >= 0
        out[ok] = self.mid()[r[ok]]
        return out

    def messages(self) -> pd.DataFrame:
        """The message file as a DataFrame (LOBSTER's columns, prices in dollars, tz-aware times)."""
        return pd.DataFrame({"time": self.timestamps, "type": self.type, "order_id": self.order_id,
                             "size": self.size, "price": self.price / 10_000, "direction": self.direction})


def _source(message_file: Path, orderbook_file: Path) -> str:
    """The files' names, marked SYNTHETIC when execlab.synthetic wrote them (its marker file is beside them)."""
    text = f"{message_file.name} + {orderbook_file.name}"
    if (message_file.parent / "SYNTHETIC.txt").is_file():
        text = "SYNTHETIC (execlab.synthetic, not real data): " + text
    return text


def _tick_units(tick_size: float) -> int:
    """A tick in dollars as whole LOBSTER price units (dollars x 10,000)."""
    if isinstance(tick_size, bool) or not isinstance(tick_size, (int, float, np.integer, np.floating)):
        raise TypeError(f"tick_size must be a number of dollars, got {tick_size!r}.")
    units = float(tick_size) * 10_000
    if not np.isfinite(units) or units < 1 or abs(units - round(units)) > 1e-6:
        raise ValueError(f"tick_size {tick_size!r} must be a positive multiple of $0.0001 (LOBSTER's price unit).")
    return int(round(units))


def _arrival_rows(etype: np.ndarray, order_id: np.ndarray) -> np.ndarray:
    """Row of each event's type-1 message (same order id), or -1 where the file never shows it arriving."""
    new = np.flatnonzero(etype == 1)
    ids = order_id[new]
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pos = np.searchsorted(sorted_ids, order_id)
    pos_c = np.minimum(pos, len(sorted_ids) - 1) if len(sorted_ids) else pos
    found = (pos < len(sorted_ids)) & (sorted_ids[pos_c] == order_id) if len(sorted_ids) else np.zeros(len(order_id), bool)
    out = np.full(len(order_id), -1, dtype=np.int64)
    out[found] = new[order[pos_c[found]]]
    # A type-1 message later than the event (an id reused after the order left) is not its arrival.
    out[out > np.arange(len(order_id))] = -1
    return out
