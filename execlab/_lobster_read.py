"""Reading LOBSTER files into columns: the one parser behind both LOBSTER readers.

:func:`execlab.read_lobster` (one ticker-day, DataFrames) and
:func:`execlab.market_from_lobster` (many ticker-days, bars) both read every
file here and check it in :mod:`execlab._lobster_checks`, so they accept and
reject the same files with the same messages.

The rules for one file, before any value is checked:

- a directory, a missing file, a file that cannot be decompressed or one
  holding binary data (a NUL byte, or gzip data under a ``.csv`` name) is an
  error naming the file;
- a UTF-8 byte-order mark is dropped, and so are blank lines (both parsers
  skip them);
- the first line is a header only if it spells LOBSTER's column names (case,
  spaces and underscores free: ``Time,Type,OrderID,Size,Price,Direction``,
  ``Ask Price 1,Ask Size 1,Bid Price 1,Bid Size 1,...``) or the caller says
  ``header=True``; any other first line is data, so a corrupt first cell is
  an error at row 0, never a silently skipped event;
- a cell that is not a number is an error naming the file, the row (counted
  from 0 below any header), the column and the cell's text.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ._validation import check_choice

__all__: list[str] = []

# The LOBSTER format (https://lobsterdata.com/info/DataStructure.php).
EMPTY_ASK = 9999999999.0  # an empty side or level of the book, dollars x 10,000
EMPTY_BID = -9999999999.0
PRICE_SCALE = 10_000.0
MAX_PRICE = 999_999.0  # largest real price in dollars; the dummies are +/-999999.9999
PRICE_LIMIT = MAX_PRICE * PRICE_SCALE  # a real price is below this (dollars x 10,000)
# Sizes are whole shares below this: no company has 10^12 shares, and a larger cell (1e19, say)
# is a damaged file that would wrap when cast to int64.
MAX_SIZE = 10**12
# Order ids are whole numbers float64 holds exactly, so the int64 cast cannot wrap or round.
MAX_ORDER_ID = 2**53
MESSAGE_LABELS = ("Time", "Type", "OrderID", "Size", "Price", "Direction")
TIME, TYPE, ORDER_ID, SIZE, PRICE, DIRECTION = range(6)  # message file columns
HALT_CODES = {-1: "halt", 0: "quote", 1: "resume"}  # Price of a type-7 message
_DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}
_DECOMPRESS_ERRORS = (OSError, EOFError, ValueError, lzma.LZMAError)
_MAGIC = {b"\x1f\x8b": ".gz", b"BZh": ".bz2", b"\xfd7zXZ\x00": ".xz", b"PK\x03\x04": ".zip"}
_BOM = b"\xef\xbb\xbf"
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*|\s*[-+]?(nan|inf|infinity)\s*", re.I)
_HEADER_SEPARATORS = re.compile(r"[\s_\"']+")
# Set to False to read with pandas' C parser even where pyarrow is installed (tests use it).
USE_PYARROW = True


def check_header(header: object) -> bool | None:
    if header is not None and not isinstance(header, bool):
        raise TypeError(f"header == {header!r}, must be True (the first line is a header), False (it is data) "
                        "or None (a header only if it holds LOBSTER's column names).")
    return header


def check_crossed(crossed: object) -> str:
    return check_choice(crossed, "crossed", ("raise", "drop"))


def book_label(j: int) -> str:
    k, side = divmod(j, 4)
    return ("ask_price", "ask_size", "bid_price", "bid_size")[side] + f"_{k + 1}"


def message_label(j: int) -> str:
    return MESSAGE_LABELS[j]


def _header_names(what: str, n_cols: int) -> list[str]:
    """LOBSTER's column names, normalised as :func:`_normalise` leaves them."""
    if what == "message":
        return [m.lower() for m in MESSAGE_LABELS]
    return [book_label(j).replace("_", "") for j in range(n_cols)]


def _normalise(field: str) -> str:
    return _HEADER_SEPARATORS.sub("", field).lower()


def _is_header(fields: list[str], what: str) -> bool:
    names = [_normalise(f) for f in fields]
    want = _header_names(what, len(fields))
    if what == "message" and len(names) == 6 and names[1] == "eventtype":  # LOBSTER's ReadMe says "Event Type" too
        names[1] = "type"
    return names == want


def is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


# ---------------------------------------------------------------------------
# bytes
# ---------------------------------------------------------------------------
def file_bytes(path: Path, what: str) -> bytes:
    """The text of a LOBSTER file, decompressed by extension, without a BOM or leading blank lines."""
    if path.is_dir():
        raise IsADirectoryError(f"{what} file {path} is a directory, not a LOBSTER file.")
    if not path.exists():
        raise FileNotFoundError(f"LOBSTER file not found: {path}")
    data = path.read_bytes()
    suffix = path.suffix.lower()
    unpack = _DECOMPRESS.get(suffix)
    if unpack is not None:
        try:
            data = unpack(data)
        except _DECOMPRESS_ERRORS as exc:
            raise ValueError(f"{what} file {path.name} cannot be decompressed as {suffix}: {exc}.") from None
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if data[:1].isspace():
        data = data.lstrip()
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise ValueError(f"{what} file {path.name} holds {kind} compressed data, not CSV text; "
                             f"{'name it ' + path.name + kind if kind != '.zip' else 'unzip it'} first.")
    nul = data.find(b"\x00", 0, 1 << 20)
    if nul >= 0:
        raise ValueError(f"{what} file {path.name} is a binary file, not CSV text (byte 0x00 at offset {nul}).")
    return data


def _first_line(data: bytes) -> str:
    end = data.find(b"\n")
    return data[: end if end >= 0 else len(data)].decode("utf-8", "replace").strip()


def _skip_rows(fields: list[str], header: bool | None, path: Path, what: str, labels: Callable[[int], str]) -> int:
    """1 if the first line is a header to skip, else 0; a first line that is neither raises."""
    numeric = [is_number(f) or not f.strip() for f in fields]  # a blank cell is NaN, for the checks to report
    if header is True:
        if all(numeric):
            raise ValueError(f"header == True, but the first line of {what} file {path.name} is a row of numbers "
                             f"({','.join(f.strip() for f in fields)}); pass header=None or False to read it as data.")
        return 1
    if header is None and not all(numeric) and _is_header(fields, what):
        return 1
    if not all(numeric):
        j = numeric.index(False)
        hint = ""
        if header is None:
            names = ",".join(MESSAGE_LABELS) if what == "message" else "Ask Price 1,Ask Size 1,Bid Price 1,Bid Size 1,..."
            hint = f" A header row must hold LOBSTER's column names ({names}); pass header=True for another header."
        raise ValueError(f"{what} file {path.name} column {labels(j)!r} has {fields[j].strip()!r} at row 0; "
                         f"LOBSTER files hold only numbers.{hint}")
    return 0


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def pyarrow_csv():
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
    pa, csv = pyarrow_csv()
    names = [f"c{j}" for j in range(n_cols)]
    types = {c: pa.float64() if (what == "message" and j == TIME) else pa.int64() for j, c in enumerate(names)}
    return csv.ReadOptions(column_names=names, skip_rows=skip), csv.ConvertOptions(column_types=types)


def read_numbers(path: Path, what: str, header: bool | None = None) -> list:
    """The columns of one LOBSTER file: pyarrow ChunkedArrays (int64 cells, float64 message times) or numpy arrays.

    pyarrow's reader is used when installed; a file it rejects (say
    ``100.0`` or ``1e19`` in an integer column) is read again by pandas' C
    parser into float64.  A cell that is not a number raises, naming the
    file, row and column; a blank cell or ``NaN`` is a null (NaN once in
    numpy) for the checks to reject.
    """
    labels = message_label if what == "message" else book_label
    data = file_bytes(path, what)
    line = _first_line(data)
    if not line:
        raise ValueError(f"{what} file {path.name} is empty.")
    fields = line.split(",")
    n_cols = len(fields)
    if what == "message" and n_cols != len(MESSAGE_LABELS):
        raise ValueError(f"message file {path.name} has {n_cols} columns, expected {len(MESSAGE_LABELS)}.")
    if what == "orderbook" and n_cols % 4:
        raise ValueError(f"orderbook file {path.name} has {n_cols} columns, not a multiple of 4.")
    skip = _skip_rows(fields, header, path, what, labels)
    cols = None
    arrow = pyarrow_csv() if USE_PYARROW else None
    if arrow is not None:
        pa, csv = arrow
        read_options, convert_options = _arrow_options(n_cols, skip, what)
        try:
            table = csv.read_csv(pa.BufferReader(data), read_options=read_options, convert_options=convert_options)
        except (pa.ArrowInvalid, ValueError):
            pass  # e.g. "100.0" in a column typed int64: pandas reads it as float below
        else:
            cols = list(table.columns)  # kept in arrow memory until all files are concatenated
    if cols is None:
        try:
            frame = pd.read_csv(io.BytesIO(data), header=None, skiprows=skip, names=range(n_cols),
                                dtype=np.float64, engine="c")
        except (ValueError, pd.errors.ParserError) as exc:
            _raise_unreadable(data, skip, n_cols, path, what, labels, exc)
        cols = [frame[j].to_numpy(dtype=np.float64) for j in range(n_cols)]
    if len(cols[0]) == 0:
        raise ValueError(f"{what} file {path.name} is empty.")
    return cols


def _raise_unreadable(data: bytes, skip: int, n_cols: int, path: Path, what: str,
                      labels: Callable[[int], str], exc: Exception) -> None:
    """Find the first cell (or row) that is not a number and say where it is."""
    row = -1
    for i, line in enumerate(data.decode("utf-8", "replace").splitlines()):
        if i < skip or not line.strip():  # both parsers skip blank lines
            continue
        row += 1
        fields = line.split(",")
        if len(fields) != n_cols:
            raise ValueError(f"{what} file {path.name} has {len(fields)} fields at row {row}, expected {n_cols} "
                             f"as in its first line.")
        for j, cell in enumerate(fields):
            if not is_number(cell) and cell.strip():  # a blank cell is NaN, reported by the checks
                raise ValueError(f"{what} file {path.name} column {labels(j)!r} has {cell.strip()!r} at row {row}; "
                                 "LOBSTER files hold only numbers.")
    raise ValueError(f"{what} file {path.name} holds a value that is not a number: {exc}")


def to_numpy(col) -> np.ndarray:
    """A column as numpy (in place when it can); an arrow int64 column holding a null becomes float64 with NaN."""
    if isinstance(col, np.ndarray):
        return col
    if col.num_chunks == 1 and col.null_count == 0:
        return col.chunk(0).to_numpy()
    return col.to_numpy()


def _concatenate(pieces: list) -> np.ndarray:
    """One numpy array from the pieces of all files: arrow's concatenation when all are arrow columns of one type."""
    arrow = pyarrow_csv()
    if arrow is not None and all(isinstance(p, arrow[0].ChunkedArray) for p in pieces) and len({p.type for p in pieces}) == 1:
        return arrow[0].chunked_array([c for p in pieces for c in p.chunks], type=pieces[0].type).to_numpy()
    return np.concatenate([to_numpy(p) for p in pieces])


class Columns:
    """The columns of many files, concatenated, with each file's rows ``start[f]:stop[f]``.

    ``message`` holds Time, Type, Size, Price, Direction (in that order) and
    ``book`` the best ask and the best bid; the order ids, the sizes in the
    book and the deeper levels are kept per file (``book_rest``: column
    number and values).
    """

    def __init__(self, messages: list[list], books: list[list], files: pd.DataFrame) -> None:
        self.n_files = len(messages)
        counts = np.array([len(m[0]) for m in messages], dtype=np.int64)
        self.counts = counts
        self.stop = np.cumsum(counts)
        self.start = self.stop - counts
        keep = (TIME, TYPE, SIZE, PRICE, DIRECTION)
        self.message = [_concatenate([m[j] for m in messages]) for j in keep]
        self.book = [_concatenate([b[j] for b in books]) for j in (0, 2)]
        self.order_ids = [m[ORDER_ID] for m in messages]
        self.book_rest = [[(j, c) for j, c in enumerate(b) if j not in (0, 2)] for b in books]
        self.message_names = [Path(p).name for p in files["message_file"].iloc[: self.n_files]]
        self.book_names = [Path(p).name for p in files["orderbook_file"].iloc[: self.n_files]]
        self.start_ns = files["start_ms"].to_numpy(np.int64)[: self.n_files] * 1_000_000
        self.end_ns = files["end_ms"].to_numpy(np.int64)[: self.n_files] * 1_000_000


def read_all(files: pd.DataFrame, *, header: bool | None = None, crossed: str = "raise",
             bars: bool = True) -> Columns:
    """Read and check every file of ``files`` (rows of scan_lobster); the first fault (by file, then check) raises.

    ``bars`` adds make_bars' own check (a two-sided quote every day).
    """
    from ._lobster_checks import validate

    messages: list[list] = []  # per file, its columns as read_numbers gives them
    books: list[list] = []
    failure: Exception | None = None
    for m_file, b_file in zip(files["message_file"], files["orderbook_file"]):
        m_file, b_file = Path(m_file), Path(b_file)
        try:
            msg = read_numbers(m_file, "message", header)
            book = read_numbers(b_file, "orderbook", header)
            if len(book[0]) != len(msg[0]):
                raise ValueError(f"message file {m_file.name} has {len(msg[0])} rows but orderbook file "
                                 f"{b_file.name} has {len(book[0])}; they must match.")
        except (ValueError, OSError) as exc:
            failure = exc  # a fault in an earlier file, found by the checks below, comes first
            break
        messages.append(msg)
        books.append(book)
    if not messages:
        raise failure
    cols = Columns(messages, books, files)
    validate(cols, crossed=crossed, bars=bars)
    if failure is not None:
        raise failure
    return cols
