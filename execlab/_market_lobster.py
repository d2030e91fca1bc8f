r"""Building a :class:`~execlab.Market` from LOBSTER files of many tickers and days.

:func:`market_from_lobster` parses every ticker-day's message and orderbook
file once, concatenates the columns the bars need, runs every check of
:func:`execlab.read_lobster` and :func:`execlab.make_bars` over all files at
once and builds the bars of all ticker-days in one numpy pass: no DataFrame
per file and no per-file call of :func:`execlab.make_bars`.  The result is the
same, bit for bit, as reading each day with :func:`execlab.read_lobster` and
binning it with :func:`execlab.make_bars`; that slow path is kept as
``_market_from_lobster_reference`` for the tests that prove it.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ._calendar import SESSION_CLOSE, SESSION_LENGTH, SESSION_OPEN, TIMEZONE, SessionCalendar
from ._market import BAR_COLUMNS, Market
from ._market_build import market_from_bars
from ._validation import check_timedelta

__all__ = ["market_from_lobster"]

_REGULAR_END_MS = int(SESSION_CLOSE / pd.Timedelta("1ms"))
_REGULAR_START_MS = int(SESSION_OPEN / pd.Timedelta("1ms"))

# The LOBSTER format (https://lobsterdata.com/info/DataStructure.php), as execlab.data reads it.
_EMPTY_ASK = 9999999999.0  # an empty side of the book, dollars x 10,000
_EMPTY_BID = -9999999999.0
_PRICE_SCALE = 10_000.0
_MAX_PRICE = 999_999.0  # largest real price in dollars
_MESSAGE_LABELS = ("Time", "Type", "OrderID", "Size", "Price", "Direction")
_TIME, _TYPE, _ORDER_ID, _SIZE, _PRICE, _DIRECTION = range(6)  # message file columns
_DAY_NS = 86_400 * 10**9
_DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}
# Set to False to read with pandas' C parser even where pyarrow is installed (tests use it).
_USE_PYARROW = True


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------
def market_from_lobster(source: object, freq: object = "1min", *, level: int | None = None,
                        early_closes: dict | None = None) -> Market:
    r"""Build a :class:`Market` from LOBSTER message/orderbook files of many tickers and days.

    Parameters
    ----------
    source : str, Path or list
        A directory, a glob pattern (``"/data/*_message_10.csv*"``) or a list
        of files; names follow LOBSTER's
        ``TICKER_YYYY-MM-DD_STARTMS_ENDMS_{message,orderbook}_LEVEL.csv[.gz]``,
        which carries the ticker, the date and the session window.  Files may
        be plain or compressed (``.gz``, ``.bz2``, ``.xz``) and may start with
        a header row.
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
        Bars from each file's trades and quotes, exactly as
        :func:`execlab.read_lobster` followed by :func:`execlab.make_bars`
        would give them.

    Raises
    ------
    FileNotFoundError
        If nothing matches ``source``.
    ValueError
        Mixed levels without ``level``, two files for one ticker and day, a
        session missing for one ticker, tickers disagreeing on a half-day, a
        window that does not start at 09:30, a file that does not end where
        its session closes, or a damaged file: empty, a cell that is not a
        finite number, a message and an orderbook file of different lengths,
        times outside ``[0, 86400)`` seconds or outside the file's window or
        decreasing, an unknown event type or direction, a negative size, a
        book price that is neither positive nor LOBSTER's empty-side value,
        an execution at a price or size that is not positive, a crossed best
        quote outside a halt, or a day without a two-sided quote.  The message
        names the file, the row (counted from 0 below any header row), the
        column and the value.

    Notes
    -----
    Executions of visible (type 4) and hidden (type 5) limit orders are the
    trades, with sign :math:`\epsilon = -\text{direction}`; with trades
    :math:`(p_k, s_k, \epsilon_k)` in bin :math:`b`, ``volume``
    :math:`= \sum s_k`, ``vwap`` :math:`= \sum p_k s_k / \sum s_k` and
    ``signed_volume`` :math:`= \sum \epsilon_k s_k`.  ``mid`` and ``spread``
    are :math:`\frac{1}{\Delta}\int_b m(t)\,dt` over the best quote after the
    last event at or before :math:`t`; a one-sided book carries the last
    two-sided quote, several events in one nanosecond keep the last state,
    and quotes inside a halt (type 7, price -1 until price 1) are dropped.
    Trades outside 09:30-16:00 are left out; one stamped exactly at 16:00
    belongs to the last bin.  A bin without trades carries the previous
    close (before the first trade, the mid).  See :func:`execlab.make_bars`.

    Each file is parsed once: by pyarrow's CSV reader when it is installed
    (message times as float64, every other cell as int64; a file with a
    fraction in an integer column is read again by pandas), else by pandas'
    C parser.  All ticker-days are then validated and binned together with
    ``bincount``, ``reduceat`` and ``searchsorted`` over the concatenated
    columns.  Only the running sum behind the time-weighted mid and spread is
    taken day by day, which keeps its rounding identical to
    :func:`execlab.make_bars`.  ``benchmarks/bench_market.py`` times the whole
    build against pyarrow's bare parse of the same files (target: at most
    twice as long).

    Every column of the orderbook file is read and checked, so a book of 10
    levels costs about ten times a level-1 book to read, though only the
    best bid and ask enter the bars.  A message stamped outside the file's
    window (from its name) is rejected, a check :func:`execlab.read_lobster`
    does not make.

    Examples
    --------
    >>> from execlab.data import find_data_dir
    >>> m = market_from_lobster(find_data_dir(), "30min", level=1)
    >>> m.tickers, m["volume"].shape, int(m["volume"].sum())
    (['AAPL', 'AMZN', 'GOOG'], (3, 1, 13), 4367020)
    """
    td, files, early_closes = _plan(source, freq, level, early_closes)
    cols = _read_all(files)
    n_bins = int(SESSION_LENGTH // td)
    bars = _bars(cols, td, n_bins)
    return _assemble(files, td, early_closes, bars, n_bins)


# ---------------------------------------------------------------------------
# checks on the file list, shared with the reference path
# ---------------------------------------------------------------------------
def _plan(source: object, freq: object, level: int | None, early_closes: dict | None
          ) -> tuple[pd.Timedelta, pd.DataFrame, dict]:
    """(bin length, files from scan_lobster, early closes) after the checks that need only names."""
    from .data import scan_lobster
    from .data._bars import _session_bins

    td = check_timedelta(freq, "freq")
    files = scan_lobster(source, level=level)
    if SESSION_LENGTH % td != pd.Timedelta(0):
        _session_bins(pd.Timestamp(files["date"].iat[0]), td)  # raises make_bars' message
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
    return td, files, early_closes


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _pyarrow_csv():
    """(pyarrow, pyarrow.csv), or None when pyarrow is not installed."""
    try:
        import pyarrow
        import pyarrow.csv
    except ImportError:
        return None
    return pyarrow, pyarrow.csv


@functools.lru_cache(maxsize=64)
def _arrow_options(n_cols: int, skip: int, what: str):
    """Read options for a file of ``n_cols`` columns: message times float64, every other cell int64."""
    pa, csv = _pyarrow_csv()
    names = [f"c{j}" for j in range(n_cols)]
    types = {c: pa.float64() if (what == "message" and j == _TIME) else pa.int64() for j, c in enumerate(names)}
    return csv.ReadOptions(column_names=names, skip_rows=skip), csv.ConvertOptions(column_types=types)


def _file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    unpack = _DECOMPRESS.get(path.suffix.lower())
    return unpack(data) if unpack is not None else data


def _first_line(data: bytes) -> str:
    end = data.find(b"\n")
    return data[: end if end >= 0 else len(data)].decode("utf-8", "replace").strip()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_numbers(path: Path, what: str) -> list:
    """The columns of one LOBSTER file: pyarrow ChunkedArrays (int64 cells, float64 message times) or numpy arrays.

    pyarrow's reader is used when installed; a file it rejects (say
    ``100.0`` in an integer column) is read again by pandas' C parser into
    float64.  A header row (a first line that does not start with a number)
    is skipped.  A cell that is not a number raises, naming the file, row and
    column; a blank cell or ``NaN`` is a null (NaN once in numpy) for the
    caller to reject.
    """
    labels = _message_label if what == "message" else _book_label
    data = _file_bytes(path)
    line = _first_line(data)
    if not line:
        raise ValueError(f"{what} file {path.name} is empty.")
    header = not _is_number(line.split(",")[0])
    n_cols = line.count(",") + 1
    if what == "message" and n_cols != len(_MESSAGE_LABELS):
        raise ValueError(f"message file {path.name} has {n_cols} columns, expected {len(_MESSAGE_LABELS)}.")
    if what == "orderbook" and n_cols % 4:
        raise ValueError(f"orderbook file {path.name} has {n_cols} columns, not a multiple of 4.")
    cols = None
    arrow = _pyarrow_csv() if _USE_PYARROW else None
    if arrow is not None:
        pa, csv = arrow
        read_options, convert_options = _arrow_options(n_cols, int(header), what)
        try:
            table = csv.read_csv(pa.BufferReader(data), read_options=read_options, convert_options=convert_options)
        except (pa.ArrowInvalid, ValueError):
            pass  # e.g. "100.0" in a column typed int64: pandas reads it as float below
        else:
            cols = list(table.columns)  # kept in arrow memory until all files are concatenated
    if cols is None:
        try:
            frame = pd.read_csv(io.BytesIO(data), header=None, skiprows=int(header), names=range(n_cols),
                                dtype=np.float64, engine="c")
        except (ValueError, pd.errors.ParserError) as exc:
            _raise_unreadable(data, header, n_cols, path, what, labels, exc)
        cols = [frame[j].to_numpy(dtype=np.float64) for j in range(n_cols)]
    if len(cols[0]) == 0:
        raise ValueError(f"{what} file {path.name} is empty.")
    return cols


def _raise_unreadable(data: bytes, header: bool, n_cols: int, path: Path, what: str,
                      labels: Callable[[int], str], exc: Exception) -> None:
    """Find the first cell (or row) that is not a number and say where it is."""
    row = -1
    for i, line in enumerate(data.decode("utf-8", "replace").splitlines()):
        if (i == 0 and header) or not line.strip():  # both parsers skip blank lines
            continue
        row += 1
        fields = line.split(",")
        if len(fields) != n_cols:
            raise ValueError(f"{what} file {path.name} has {len(fields)} fields at row {row}, expected {n_cols} "
                             f"as in its first line.")
        for j, cell in enumerate(fields):
            if not _is_number(cell):
                raise ValueError(f"{what} file {path.name} column {labels(j)!r} has {cell.strip()!r} at row {row}; "
                                 "LOBSTER files hold only numbers.")
    raise ValueError(f"{what} file {path.name} holds a value that is not a number: {exc}")


def _book_label(j: int) -> str:
    k, side = divmod(j, 4)
    return ("ask_price", "ask_size", "bid_price", "bid_size")[side] + f"_{k + 1}"


def _message_label(j: int) -> str:
    return _MESSAGE_LABELS[j]


def _numpy(col) -> np.ndarray:
    """A column as numpy (in place when it can); an arrow int64 column holding a null becomes float64 with NaN."""
    if isinstance(col, np.ndarray):
        return col
    if col.num_chunks == 1 and col.null_count == 0:
        return col.chunk(0).to_numpy()
    return col.to_numpy()


def _concatenate(pieces: list) -> np.ndarray:
    """One numpy array from the pieces of all files: arrow's concatenation when all are arrow columns of one type."""
    arrow = _pyarrow_csv()
    if arrow is not None and all(isinstance(p, arrow[0].ChunkedArray) for p in pieces) and len({p.type for p in pieces}) == 1:
        return arrow[0].chunked_array([c for p in pieces for c in p.chunks], type=pieces[0].type).to_numpy()
    return np.concatenate([_numpy(p) for p in pieces])


class _Columns:
    """The columns the bars need, concatenated over files, with each file's rows ``start[f]:stop[f]``.

    ``message`` holds Time, Type, Size, Price, Direction (in that order) and
    ``book`` the best ask and the best bid; the order ids, the sizes in the
    book and the deeper levels are kept per file (``book_rest``: column
    number and values), only to be checked.
    """

    def __init__(self, messages: list[list], books: list[list], files: pd.DataFrame) -> None:
        self.n_files = len(messages)
        counts = np.array([len(m[0]) for m in messages], dtype=np.int64)
        self.counts = counts
        self.stop = np.cumsum(counts)
        self.start = self.stop - counts
        keep = (_TIME, _TYPE, _SIZE, _PRICE, _DIRECTION)
        self.message = [_concatenate([m[j] for m in messages]) for j in keep]
        self.book = [_concatenate([b[j] for b in books]) for j in (0, 2)]
        self.order_ids = [m[_ORDER_ID] for m in messages]
        self.book_rest = [[(j, c) for j, c in enumerate(b) if j not in (0, 2)] for b in books]
        self.message_names = [Path(p).name for p in files["message_file"].iloc[: self.n_files]]
        self.book_names = [Path(p).name for p in files["orderbook_file"].iloc[: self.n_files]]
        self.start_ns = files["start_ms"].to_numpy(np.int64)[: self.n_files] * 1_000_000
        self.end_ns = files["end_ms"].to_numpy(np.int64)[: self.n_files] * 1_000_000


def _read_all(files: pd.DataFrame) -> _Columns:
    """Read and validate every file; the first fault (by file, then as read_lobster checks) raises."""
    messages: list[list] = []  # per file, its columns as _read_numbers gives them
    books: list[list] = []
    failure: ValueError | None = None
    for m_file, b_file in zip(files["message_file"], files["orderbook_file"]):
        m_file, b_file = Path(m_file), Path(b_file)
        try:
            msg = _read_numbers(m_file, "message")
            book = _read_numbers(b_file, "orderbook")
            if len(book[0]) != len(msg[0]):
                raise ValueError(f"message file {m_file.name} has {len(msg[0])} rows but orderbook file "
                                 f"{b_file.name} has {len(book[0])}; they must match.")
        except ValueError as exc:
            failure = exc  # a fault in an earlier file, found by the checks below, comes first
            break
        messages.append(msg)
        books.append(book)
    if not messages:
        raise failure
    cols = _Columns(messages, books, files)
    _validate(cols)
    if failure is not None:
        raise failure
    return cols


# ---------------------------------------------------------------------------
# validation: read_lobster's and make_bars' checks over all files at once
# ---------------------------------------------------------------------------
# The order in which read_lobster, then make_bars, checks one file.
_MESSAGE_CELLS, _TIME_RANGE, _WINDOW, _DECREASING, _BOOK_CELLS, _DIRECTION_CHECK, _SIZE_CHECK = range(7)
_BOOK_VALUES = 10  # + column number: each orderbook column's own check, level by level
_EVENT_TYPE, _EXECUTION, _EXECUTION_PRICE, _EXECUTION_SIZE, _CROSSED, _TWO_SIDED = range(10**6, 10**6 + 6)
_PRICE_LIMIT = _MAX_PRICE * _PRICE_SCALE  # a real book price is below this (dollars x 10,000)


class _Faults:
    """The first bad row of every check; raises the one read_lobster would have met first.

    read_lobster stops at the first file with a fault, and within a file at
    its first check that fails; so the fault raised is the one with the
    smallest (file, check, row, column).
    """

    def __init__(self, cols: _Columns) -> None:
        self.cols = cols
        self.found: list[tuple[tuple[int, int, int, int], Callable[[], str]]] = []

    def add(self, row: int, check: int, message: Callable[[int, int], str], column: int = 0) -> None:
        """A fault at global ``row``; ``message(file, row in file)`` says what it is."""
        f = int(np.searchsorted(self.cols.stop, row, side="right"))
        r = row - int(self.cols.start[f])
        self.found.append(((f, check, r, column), lambda: message(f, r)))

    def check(self, bad: np.ndarray | None, check: int, message: Callable[[int, int], str],
              rows: np.ndarray | int = 0, column: int = 0) -> None:
        """``bad`` marks faulty entries; entry i is global row ``rows[i]`` (or ``rows + i``)."""
        if bad is None or not bad.any():
            return
        i = int(np.argmax(bad))
        self.add(int(rows[i]) if isinstance(rows, np.ndarray) else rows + i, check, message, column)

    def raise_first(self) -> None:
        if self.found:
            raise ValueError(min(self.found, key=lambda t: t[0])[1]())


def _show(x: object) -> str:
    """A cell as read_lobster prints it (its columns are float64)."""
    return str(float(x))


def _non_finite(col) -> np.ndarray | None:
    """Mask of NaN/inf cells, or None for a column that has none (a numpy int64 column never does)."""
    if not isinstance(col, np.ndarray):  # an arrow column of one file: an integer one is finite unless null
        if col.null_count == 0 and _pyarrow_csv()[0].types.is_integer(col.type):
            return None
        col = col.to_numpy()
    if col.dtype.kind != "f":
        return None
    fin = np.isfinite(col)
    return None if fin.all() else ~fin


def _check_book_column(faults: _Faults, col: np.ndarray, j: int, offset: int) -> None:
    """Book column ``j`` (its first cell is global row ``offset``): prices > 0 or the empty-side value, sizes >= 0."""
    cols, label = faults.cols, _book_label(j)

    def value(f: int, r: int) -> str:
        return _show(col[cols.start[f] + r - offset])

    if j % 2 == 0:
        dummy = _EMPTY_ASK if j % 4 == 0 else _EMPTY_BID
        bad = None
        if not (col.min() > 0 and col.max() < _PRICE_LIMIT):  # a one-sided book, or a bad price
            bad = (col != dummy) & ((col <= 0) | (np.abs(col) >= _PRICE_LIMIT))
        faults.check(bad, _BOOK_VALUES + j, lambda f, r: (
            f"orderbook file {cols.book_names[f]} column {label!r} has {value(f, r)} at row {r}; must be > 0 "
            f"(dollars x 10,000) or LOBSTER's empty-side value {int(dummy)}."), offset)
    else:
        faults.check(col < 0 if col.min() < 0 else None, _BOOK_VALUES + j, lambda f, r: (
            f"orderbook file {cols.book_names[f]} column {label!r} has {value(f, r)} at row {r}; must be >= 0."), offset)


def _validate(cols: _Columns) -> None:
    """Every check of read_lobster and make_bars, over all files at once.

    Leaves behind what the bars reuse: ``clock`` (nanoseconds after midnight
    plus the file's number of days),
    ``executions`` (rows of types 4 and 5), ``quoted`` (rows outside a halt,
    None for all) and ``two_sided`` (rows with both sides quoted, None for all).
    """
    secs, etype, size, price, direction = cols.message
    ask, bid = cols.book
    mn = cols.message_names
    start = cols.start
    faults = _Faults(cols)

    def cell(f: int, r: int, col: np.ndarray) -> str:
        return _show(col[start[f] + r])

    # read_lobster: every cell a number (row by row, as it scans), times in the day and sorted, ...
    for j, col in zip((_TIME, _TYPE, _SIZE, _PRICE, _DIRECTION), cols.message):
        faults.check(_non_finite(col), _MESSAGE_CELLS, lambda f, r, col=col, j=j: (
            f"message file {mn[f]} column {_MESSAGE_LABELS[j]!r} has {cell(f, r, col)} at row {r}; "
            "LOBSTER files hold only numbers."), column=j)
    for f, ids in enumerate(cols.order_ids):
        faults.check(_non_finite(ids), _MESSAGE_CELLS, lambda f, r, ids=ids: (
            f"message file {mn[f]} column 'OrderID' has {_show(_numpy(ids)[r])} at row {r}; LOBSTER files hold only numbers."),
            int(start[f]), column=_ORDER_ID)
    if not (secs.min() >= 0 and secs.max() < 86_400):
        faults.check((secs < 0) | (secs >= 86_400), _TIME_RANGE, lambda f, r: (
            f"message file {mn[f]} column 'Time' has {cell(f, r, secs)} at row {r}; "
            "must be seconds after midnight in [0, 86400)."))
    # One clock for all files: file f's nanoseconds after midnight plus f days, so that
    # sorting, ties and searches never mix two files.
    x = secs * 1e9 if np.isfinite(secs).all() else np.where(np.isfinite(secs), secs, 0.0) * 1e9
    np.rint(x, out=x)
    clock = x.astype(np.int64)
    del x
    day0 = np.arange(cols.n_files, dtype=np.int64) * _DAY_NS
    for f, (a, z) in enumerate(zip(start.tolist(), cols.stop.tolist())):
        clock[a:z] += day0[f]
    back = secs[1:] < secs[:-1]
    back[cols.stop[:-1] - 1] = False  # each file starts its own clock
    if back.any():
        lo, hi = np.minimum.reduceat(clock, start) - day0, np.maximum.reduceat(clock, start) - day0
    else:  # sorted: the first and last rows are the extremes
        lo, hi = clock[start] - day0, clock[cols.stop - 1] - day0
    outside = (lo < cols.start_ns) | (hi > cols.end_ns)
    if outside.any():
        f = int(np.argmax(outside))
        part = clock[start[f]:cols.stop[f]] - day0[f]
        faults.check((part < cols.start_ns[f]) | (part > cols.end_ns[f]), _WINDOW, lambda f, r: (
            f"message file {mn[f]} column 'Time' has {cell(f, r, secs)} at row {r}, outside the file's window "
            f"{cols.start_ns[f] // 10**6}-{cols.end_ns[f] // 10**6} ms after midnight (from its name)."), int(start[f]))
    faults.check(back, _DECREASING, lambda f, r: (
        f"message file {mn[f]} column 'Time' decreases at row {r + 1}: {cell(f, r, secs)} then {cell(f, r + 1, secs)}."))
    for j, col in zip((0, 2), cols.book):
        faults.check(_non_finite(col), _BOOK_CELLS, lambda f, r, col=col, j=j: (
            f"orderbook file {cols.book_names[f]} column {_book_label(j)!r} has {cell(f, r, col)} at row {r}; "
            "LOBSTER files hold only numbers."), column=j)
    for f, rest in enumerate(cols.book_rest):
        for j, col in rest:
            faults.check(_non_finite(col), _BOOK_CELLS, lambda f, r, col=col, j=j: (
                f"orderbook file {cols.book_names[f]} column {_book_label(j)!r} has {_show(_numpy(col)[r])} at row {r}; "
                "LOBSTER files hold only numbers."), int(start[f]), column=j)
    ok = direction.min() >= -1 and direction.max() <= 1 and np.count_nonzero(direction) == len(direction)
    faults.check(None if ok else (direction != 1) & (direction != -1), _DIRECTION_CHECK, lambda f, r: (
        f"message file {mn[f]} column 'Direction' has {cell(f, r, direction)} at row {r}; must be 1 (buy) or -1 (sell)."))
    faults.check(size < 0 if size.min() < 0 else None, _SIZE_CHECK, lambda f, r: (
        f"message file {mn[f]} column 'Size' has {cell(f, r, size)} at row {r}; must be >= 0."))
    for j, col in zip((0, 2), cols.book):
        _check_book_column(faults, col, j, 0)
    for f, rest in enumerate(cols.book_rest):
        for j, col in rest:
            _check_book_column(faults, _numpy(col), j, int(start[f]))
    if not (etype.min() >= 1 and etype.max() <= 7 and etype.dtype.kind == "i"):
        faults.check((etype < 1) | (etype > 7) | (etype != np.trunc(etype)), _EVENT_TYPE, lambda f, r: (
            f"message file {mn[f]} column 'Type' has unknown event type {cell(f, r, etype)} at row {r}; "
            "LOBSTER's types are 1 to 7."))

    # ... executions at positive prices and sizes; then make_bars: prices below the dummies, whole shares.
    ex = np.flatnonzero((etype == 4) | (etype == 5))
    p, s = price[ex], size[ex]
    faults.check((p <= 0) | (s <= 0), _EXECUTION, lambda f, r: (
        f"message file {mn[f]} has an execution at row {r} with 'Price' {cell(f, r, price)} and "
        f"'Size' {cell(f, r, size)}; both must be > 0."), ex)
    faults.check(p / _PRICE_SCALE >= _MAX_PRICE, _EXECUTION_PRICE, lambda f, r: (
        f"message file {mn[f]} column 'Price' has {cell(f, r, price)} at row {r} for an execution; "
        f"must be below {_PRICE_LIMIT:.0f} (dollars x 10,000)."), ex)
    if s.dtype.kind == "f":  # read_lobster keeps whole shares of a trade: a fraction of one is no trade
        faults.check((s > 0) & (s < 1), _EXECUTION_SIZE, lambda f, r: (
            f"message file {mn[f]} column 'Size' has {cell(f, r, size)} at row {r} for an execution; "
            "must be at least 1 share."), ex)

    # Quotes outside halts: never crossed, and at least one two-sided quote a day.
    quoted = _quoted(cols)
    two_sided = (ask != _EMPTY_ASK) & (bid != _EMPTY_BID)
    # Dividing by 10,000 cannot reverse an order, so rows not crossed in raw units are not crossed in dollars.
    raw_crossed = bid > ask
    if raw_crossed.any():
        crossed = raw_crossed & two_sided & (bid / _PRICE_SCALE > ask / _PRICE_SCALE)
        faults.check(crossed if quoted is None else crossed & quoted, _CROSSED, lambda f, r: (
            f"orderbook file {cols.book_names[f]} has a crossed quote at row {r}: 'bid_price_1' {cell(f, r, bid)} "
            f"> 'ask_price_1' {cell(f, r, ask)}."))
    usable = two_sided if quoted is None else two_sided & quoted
    if not usable.all():
        days = np.logical_or.reduceat(usable, start)
        if not days.all():
            f = int(np.argmax(~days))
            faults.add(int(start[f]), _TWO_SIDED, lambda f, r: (
                f"orderbook file {cols.book_names[f]} has no two-sided quote outside a halt; the day has no mid."))
    faults.raise_first()
    cols.clock, cols.executions, cols.quoted = clock, ex, quoted
    cols.execution_price, cols.execution_size = p, s
    cols.two_sided = None if two_sided.all() else two_sided


def _quoted(cols: _Columns) -> np.ndarray | None:
    """Rows outside a trading halt (None when no file has one).

    A halt runs from a type-7 message with price -1 until one with price 1;
    the halt messages themselves are not quotes either.
    """
    etype, code = cols.message[1], cols.message[3]  # Type, Price
    is_halt = etype == 7
    if not is_halt.any():
        return None
    flag = np.where(is_halt & (code == -1), 1, np.where(is_halt & (code == 1), -1, 0))
    state = np.cumsum(flag)
    before = np.concatenate([[0], state[cols.stop[:-1] - 1]])  # each file starts trading
    return ~((state - np.repeat(before, cols.counts) > 0) | is_halt)


# ---------------------------------------------------------------------------
# bars of all ticker-days in one pass
# ---------------------------------------------------------------------------
def _bars(cols: _Columns, td: pd.Timedelta, n: int) -> dict[str, np.ndarray]:
    """(files, bins) arrays over the whole 09:30-16:00 session, as make_bars builds them day by day."""
    F, step, open_ns = cols.n_files, td.value, SESSION_OPEN.value
    direction = cols.message[4]
    clock = cols.clock
    edges = open_ns + step * np.arange(n + 1, dtype=np.int64)
    day0 = np.arange(F, dtype=np.int64) * _DAY_NS
    edge_clock = day0[:, None] + edges[None, :]  # (files, bins + 1)

    # Trades: executions of visible (4) and hidden (5) orders, sign = -direction.
    ex, p, s = cols.executions, cols.execution_price, cols.execution_size
    t = clock[ex]
    f = t // _DAY_NS
    since_open = t - day0[f] - open_ns
    b = since_open // step
    b[since_open == n * step] = n - 1  # stamped exactly at the close: the last bin
    inside = (b >= 0) & (b < n)
    if not inside.all():
        ex, f, b, p, s = ex[inside], f[inside], b[inside], p[inside], s[inside]
    key = f * n + b  # non-decreasing: files in order, times sorted within each
    p = p / _PRICE_SCALE
    s = s.astype(np.int64).astype(np.float64)  # read_lobster keeps whole shares
    volume = np.bincount(key, weights=s, minlength=F * n).reshape(F, n)
    notional = np.bincount(key, weights=p * s, minlength=F * n).reshape(F, n)
    n_trades = np.bincount(key, minlength=F * n).reshape(F, n)
    signed = np.bincount(key, weights=s * -direction[ex], minlength=F * n).reshape(F, n)
    open_, close, high, low = (np.full(F * n, np.nan) for _ in range(4))
    if len(key):
        first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        last = np.append(first[1:], len(key)) - 1
        bins = key[first]
        open_[bins], close[bins] = p[first], p[last]
        high[bins] = np.maximum.reduceat(p, first)
        low[bins] = np.minimum.reduceat(p, first)
    open_, close, high, low = (a.reshape(F, n) for a in (open_, close, high, low))
    del t, f, since_open, b, key, p, s

    # Quotes outside halts; several events in one nanosecond leave the book after the last of them.
    q = None if cols.quoted is None else np.flatnonzero(cols.quoted)
    q_clock = clock if q is None else clock[q]
    last_of_ts = np.empty(len(q_clock), dtype=bool)
    np.not_equal(q_clock[1:], q_clock[:-1], out=last_of_ts[:-1])  # files never share a clock value
    last_of_ts[-1] = True
    u = np.flatnonzero(last_of_ts)  # positions among the quotes
    del last_of_ts
    u_clock = q_clock[u]
    ustart = np.searchsorted(u_clock, day0)  # every file has a quote (validated)
    # A one-sided book has no mid: the day's last two-sided quote holds (before the first, the first).
    src = u
    if cols.two_sided is not None:
        two = cols.two_sided if q is None else cols.two_sided[q]
        pos = np.arange(len(q_clock))
        qstart = np.searchsorted(q_clock, day0)
        uf = u_clock // _DAY_NS
        prev = np.maximum.accumulate(np.where(two, pos, -1))[u]
        first_two = np.minimum.reduceat(np.where(two, pos, len(q_clock)), qstart)
        src = np.where(prev >= qstart[uf], prev, first_two[uf])
    rows = src if q is None else q[src]
    ask = cols.book[0][rows] / _PRICE_SCALE
    bid = cols.book[1][rows] / _PRICE_SCALE
    umid = bid + ask
    umid /= 2
    uspread = np.subtract(ask, bid, out=ask)
    del bid, rows, src, u

    k = np.searchsorted(u_clock, edge_clock.ravel(), side="right").reshape(F, n + 1) - 1
    k_end = np.searchsorted(u_clock, edge_clock[:, 1:].ravel(), side="left").reshape(F, n) - 1
    first_u = ustart[:, None]
    before = k < first_u  # an edge before the day's first quote
    k = np.where(before, first_u, k)
    mid_open = umid[k[:, :-1]]
    mid_close = umid[np.maximum(k_end, first_u)]
    elapsed = (edge_clock - u_clock[k]).astype(np.float64)
    dt = np.subtract(u_clock[1:], u_clock[:-1], out=np.empty(len(u_clock) - 1), casting="unsafe")
    width = float(step)
    mid = _bin_integrals(umid, umid[:-1] * dt, k, before, elapsed, ustart) / width
    spread = _bin_integrals(uspread, np.multiply(uspread[:-1], dt, out=dt), k, before, elapsed, ustart) / width

    # Bins without trades carry the previous close; before the first trade, the mid.
    has = n_trades > 0
    last_trade = np.maximum.accumulate(np.where(has, np.arange(n), -1), axis=1)
    close_ff = np.where(last_trade >= 0, np.take_along_axis(close, np.maximum(last_trade, 0), axis=1), mid_close)
    prev_close = np.concatenate([close_ff[:, :1], close_ff[:, :-1]], axis=1)
    fill = np.where(np.isnan(prev_close), mid_close, prev_close)
    vwap = np.where(has, notional / np.where(has, volume, 1.0), fill)
    return {
        "open": np.where(has, open_, fill), "high": np.where(has, high, fill), "low": np.where(has, low, fill),
        "close": np.where(has, close, fill), "volume": volume, "vwap": vwap,
        "n_trades": n_trades.astype(np.float64), "signed_volume": signed,
        "mid": mid, "spread": spread, "mid_open": mid_open, "mid_close": mid_close,
    }


def _bin_integrals(values: np.ndarray, area: np.ndarray, k: np.ndarray, before: np.ndarray, elapsed: np.ndarray,
                   ustart: np.ndarray) -> np.ndarray:
    r"""Integral over each bin of the step function ``values``, shape (files, bins).

    ``values[i]`` holds from event i until the next event of its file, and
    ``area[i]`` is its value times that span; before a file's first event its
    first value is extended backwards.  ``k`` is the last event at or before
    each bin edge (the file's first when ``before``) and ``elapsed`` the time
    since it.  With :math:`C(t) = \int_{t_0}^{t} v` from the file's first event
    :math:`t_0`, the bin integral is :math:`C(e_{b+1}) - C(e_b)`.  The running
    sum behind :math:`C` restarts at each file and adds in the order make_bars
    adds, so the result is the same to the last bit.  ``area`` is overwritten.
    """
    stops = np.append(ustart[1:], len(values))
    for a, z in zip(ustart.tolist(), stops.tolist()):
        np.cumsum(area[a:z - 1], out=area[a:z - 1])  # area[i] is now C at event i + 1
    c_k = np.where(k > ustart[:, None], area[k - 1], 0.0)
    c = np.where(before, values[ustart][:, None] * elapsed, c_k + values[k] * elapsed)
    return np.diff(c, axis=1)


# ---------------------------------------------------------------------------
# the market
# ---------------------------------------------------------------------------
def _assemble(files: pd.DataFrame, td: pd.Timedelta, early_closes: dict, bars: dict[str, np.ndarray],
              n: int) -> Market:
    """Place each file's bars at (ticker, session); fill the bins after a half-day's close."""
    tickers = sorted(files["ticker"].unique())
    dates = pd.DatetimeIndex(sorted(files["date"].unique()))
    cal = SessionCalendar(dates, tz=TIMEZONE, open=SESSION_OPEN, close=SESSION_CLOSE, early_closes=early_closes)
    nb = cal.n_bins(td)
    B, K, D = int(nb.max()), len(tickers), cal.n_sessions
    k = pd.Index(tickers).get_indexer(files["ticker"])
    d = cal.dates.get_indexer(pd.DatetimeIndex(files["date"]))
    # Bins a file covers: those starting before its window's end (a half-day file stops early).
    end_ns = files["end_ms"].to_numpy(np.int64) * 1_000_000
    kept = np.clip(-((SESSION_OPEN.value - end_ns) // td.value), 0, n)
    wrong = kept != nb[d]
    if wrong.any():
        pos = int(np.flatnonzero(wrong)[0])
        close = pd.Timedelta(int(end_ns[pos]))
        day = cal.dates[d[pos]].date()
        hint = (f"if that session closed early, pass early_closes={{'{day}': 'HH:MM'}}" if kept[pos] < nb[d[pos]]
                else "early_closes closes it sooner")
        raise ValueError(f"LOBSTER file {Path(files['message_file'].iat[pos]).name} ends at {str(close)[-8:]}, but the "
                         f"session of {day} has {nb[d[pos]]} bins of {td}; {hint}.")
    row = k * D + d
    values: dict[str, np.ndarray] = {}
    for c in BAR_COLUMNS:
        out = np.empty((K * D, B))
        out[row] = bars[c][:, :B]
        values[c] = out.reshape(K, D, B)
    valid = np.arange(B)[None, :] < nb[:, None]
    if (~valid).any():
        # As market_from_bars: after a half-day's close no trading, prices held at the last open bin's.
        last = nb - 1
        held = {c: values[c][:, np.arange(D), last][:, :, None] for c in BAR_COLUMNS}
        for c in BAR_COLUMNS:
            if c in ("volume", "n_trades", "signed_volume"):
                fill = 0.0
            elif c in ("mid_open", "mid"):
                fill = held["mid_close"]
            elif c in ("open", "high", "low", "vwap"):
                fill = held["close"]
            else:
                fill = held[c]
            values[c] = np.where(valid[None], values[c], fill)
    n_days = len(files)
    return Market(tickers, cal, td, values, f"LOBSTER files: {n_days} ticker-session{'s' if n_days != 1 else ''}")


# ---------------------------------------------------------------------------
# the reference: one read_lobster and make_bars per file
# ---------------------------------------------------------------------------
def _market_from_lobster_reference(source: object, freq: object = "1min", *, level: int | None = None,
                                   early_closes: dict | None = None) -> Market:
    """:func:`market_from_lobster` the slow way: read_lobster + make_bars per file, then market_from_bars.

    Kept to prove the fast path gives the same arrays; not for use.
    """
    from .data import make_bars, read_lobster

    td, files, early_closes = _plan(source, freq, level, early_closes)
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
