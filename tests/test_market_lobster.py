"""market_from_lobster: the one-pass reader against read_lobster + make_bars per file, and its errors."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab import _lobster_read as lr
from execlab import _market_lobster as ml
from execlab._market import BAR_COLUMNS
from execlab.data import find_data_dir

LOBSTER = find_data_dir()
EMPTY_ASK, EMPTY_BID = 9999999999, -9999999999
STEM = "EDGE_2024-01-02_34200000_57600000"


def assert_same_market(fast: ex.Market, ref: ex.Market, same_label: bool = True) -> None:
    """Every array equal to the last bit, and the same tickers, calendar, bins and (unless told) label."""
    assert fast.tickers == ref.tickers
    assert fast.calendar.dates.equals(ref.calendar.dates)
    assert fast.calendar.early_closes == ref.calendar.early_closes
    assert fast.freq == ref.freq and (fast.source == ref.source or not same_label)
    np.testing.assert_array_equal(fast.valid, ref.valid)
    for c in BAR_COLUMNS:
        np.testing.assert_array_equal(fast[c], ref[c], err_msg=f"column {c}")


@pytest.fixture(params=[True, False], ids=["pyarrow", "pandas"])
def reader(request, monkeypatch):
    """Run a test with pyarrow's CSV reader, then with pandas' C parser (the fallback)."""
    if request.param and lr.pyarrow_csv() is None:
        pytest.skip("pyarrow is not installed")
    monkeypatch.setattr(lr, "USE_PYARROW", request.param)
    return request.param


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """SYNTHETIC: 5 sessions x 2 tickers, a half-day on 2024-01-04."""
    d = tmp_path_factory.mktemp("syn")
    ex.synthetic.lobster_market(d, tickers=("SYNA", "SYNB"), sessions=5, seed=11,
                                half_days={"2024-01-04": "13:00"}, events_per_session=1500)
    return d


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """SYNTHETIC: 2 sessions x 2 tickers of few events, to damage one file at a time."""
    d = tmp_path_factory.mktemp("small")
    ex.synthetic.lobster_market(d, tickers=("SYNA", "SYNB"), sessions=2, seed=5, events_per_session=200)
    return d


# ---------------------------------------------------------------------------
# the same arrays as the reference path
# ---------------------------------------------------------------------------
def test_bundled_level_1_equals_reference(reader):
    fast = ex.market_from_lobster(LOBSTER, "1min", level=1)
    assert_same_market(fast, ml._market_from_lobster_reference(LOBSTER, "1min", level=1))
    assert int(fast["volume"].sum()) == 4367020


@pytest.mark.parametrize("freq", ["1min", "5min"])
def test_synthetic_with_a_half_day_equals_reference(synthetic, freq):
    fast = ex.market_from_lobster(synthetic, freq)
    assert fast.valid.sum(axis=1).tolist()[2] == (210 if freq == "1min" else 42)
    assert_same_market(fast, ml._market_from_lobster_reference(synthetic, freq))


def test_goog_level_10_equals_reference():
    pattern = str(LOBSTER / "GOOG_*_10.csv.gz")
    assert_same_market(ex.market_from_lobster(pattern, "1min"), ml._market_from_lobster_reference(pattern, "1min"))


MESSAGES = [
    # time, type, order id, size, price, direction
    (34200.0, 1, 11, 100, 1000000, 1),  # bid only: the first two-sided quote is carried back
    (34200.5, 1, 12, 200, 1001000, -1),
    (34300.0, 4, 12, 50, 1001000, -1),  # two executions in one nanosecond: a BUY of 50 ...
    (34300.0, 4, 12, 30, 1001000, -1),  # ... and of 30; the book after the second holds
    (36000.0, 3, 12, 120, 1001000, -1),  # ask side empties: the last two-sided quote holds
    (36100.0, 1, 14, 100, 1001500, -1),
    (37000.0, 7, -1, 0, -1, -1),  # trading halt
    (37100.0, 1, 15, 100, 1002000, 1),  # a crossed book inside the halt is no quote
    (37200.0, 5, 99, 10, 1001000, 1),  # hidden execution during the halt: still a trade (SELL)
    (38000.0, 7, -1, 0, 1, -1),  # trading resumes
    (38000.5, 3, 15, 100, 1002000, 1),
    (45000.0, 2, 14, 40, 1001500, -1),
    (57600.0, 4, 11, 20, 1000000, 1),  # stamped exactly at the close: the last bin
]
BOOK = [
    # ask1, ask1 size, bid1, bid1 size, ask2, ask2 size, bid2, bid2 size
    (EMPTY_ASK, 0, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 200, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 150, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001000, 120, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (EMPTY_ASK, 0, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001500, 100, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001500, 100, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001500, 100, 1002000, 100, EMPTY_ASK, 0, 1000000, 100),
    (1001500, 100, 1002000, 100, EMPTY_ASK, 0, 1000000, 100),
    (1001500, 100, 1002000, 100, EMPTY_ASK, 0, 1000000, 100),
    (1001500, 100, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001500, 60, 1000000, 100, EMPTY_ASK, 0, EMPTY_BID, 0),
    (1001500, 60, 1000000, 80, EMPTY_ASK, 0, EMPTY_BID, 0),
]
MSG_HEADER = "Time,Type,OrderID,Size,Price,Direction"
BOOK_HEADER = "AskPrice1,AskSize1,BidPrice1,BidSize1,AskPrice2,AskSize2,BidPrice2,BidSize2"


def _write(path: Path, rows, header: str | None = None) -> Path:
    lines = [header] if header else []
    lines += [",".join(repr(v) if isinstance(v, float) else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _edge_pair(directory: Path, messages=MESSAGES, book=BOOK, header: bool = False, stem: str = STEM) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / f"{stem}_message_2.csv", messages, MSG_HEADER if header else None)
    _write(directory / f"{stem}_orderbook_2.csv", book, BOOK_HEADER if header else None)
    return directory


@pytest.mark.parametrize("freq", ["1min", "30min"])
def test_halts_one_sided_books_and_ties_equal_reference(tmp_path, reader, freq):
    d = _edge_pair(tmp_path)
    fast = ex.market_from_lobster(d, freq)
    assert_same_market(fast, ml._market_from_lobster_reference(d, freq))
    secs = pd.Timedelta(freq).seconds
    vol, signed = fast["volume"][0, 0], fast["signed_volume"][0, 0]
    assert vol[100 // secs] == 80 and signed[100 // secs] == 80  # two BUYs in one nanosecond
    assert vol[3000 // secs] == 10 and signed[3000 // secs] == -10  # the SELL during the halt
    assert vol[-1] == 20 and signed[-1] == -20  # the SELL at 16:00:00 exactly
    assert vol.sum() == 110
    # The one-sided start carries the first two-sided quote back: mid 100.05, spread 0.10.
    assert fast["mid_open"][0, 0, 0] == pytest.approx(100.05) and fast["spread"][0, 0, 0] > 0


def test_header_row_reads_the_same_and_gzip_too(tmp_path, small, reader):
    plain = ex.market_from_lobster(small, "5min")
    with_header = tmp_path / "header"
    with_header.mkdir()
    for f in sorted(small.glob("*.csv")):
        head = MSG_HEADER if "_message_" in f.name else "AskPrice1,AskSize1,BidPrice1,BidSize1"
        (with_header / f.name).write_text(head + "\n" + f.read_text())
    assert_same_market(ex.market_from_lobster(with_header, "5min"), plain, same_label=False)  # a copy: no SYNTHETIC marker
    packed = tmp_path / "gz"
    packed.mkdir()
    for f in sorted(small.glob("*.csv")):
        (packed / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
    assert_same_market(ex.market_from_lobster(packed, "5min"), plain, same_label=False)


# ---------------------------------------------------------------------------
# damaged files: the message names the file, the row, the column and the value
# ---------------------------------------------------------------------------
def _copy(small: Path, tmp_path: Path) -> Path:
    d = tmp_path / "copy"
    shutil.copytree(small, d)
    return d


def _edit(path: Path, row: int, column: int | None = None, value: str | None = None, *, drop: bool = False) -> str:
    """Change one cell (or drop one row) of a LOBSTER file; return the file's name."""
    lines = path.read_text().splitlines()
    if drop:
        del lines[row]
    else:
        cells = lines[row].split(",")
        cells[column] = value
        lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path.name


def _file(d: Path, ticker: str, date: str, kind: str) -> Path:
    return next(d.glob(f"{ticker}_{date}_*_{kind}_1.csv"))


def test_a_cell_that_is_not_a_number(tmp_path, small, reader):
    d = _copy(small, tmp_path)
    name = _edit(_file(d, "SYNB", "2024-01-02", "message"), 7, 3, "12x")
    with pytest.raises(ValueError, match=rf"^message file {re.escape(name)} column 'Size' has '12x' at row 7; "
                                         r"LOBSTER files hold only numbers\.$"):
        ex.market_from_lobster(d, "5min")


def test_a_blank_cell(tmp_path, small, reader):
    d = _copy(small, tmp_path)
    name = _edit(_file(d, "SYNA", "2024-01-03", "orderbook"), 12, 2, "")
    with pytest.raises(ValueError, match=rf"^orderbook file {re.escape(name)} column 'bid_price_1' has nan at row 12; "
                                         r"LOBSTER files hold only numbers\.$"):
        ex.market_from_lobster(d, "5min")


def test_message_and_orderbook_of_different_lengths(tmp_path, small):
    d = _copy(small, tmp_path)
    book = _file(d, "SYNA", "2024-01-03", "orderbook")
    n = len(book.read_text().splitlines())
    _edit(book, 4, drop=True)
    msg = _file(d, "SYNA", "2024-01-03", "message").name
    with pytest.raises(ValueError, match=rf"^message file {re.escape(msg)} has {n} rows but orderbook file "
                                         rf"{re.escape(book.name)} has {n - 1}; they must match\.$"):
        ex.market_from_lobster(d, "5min")


def test_unsorted_times(tmp_path, small):
    d = _copy(small, tmp_path)
    path = _file(d, "SYNB", "2024-01-03", "message")
    name = _edit(path, 20, 0, "34200.5")
    before = path.read_text().splitlines()[19].split(",")[0]
    with pytest.raises(ValueError, match=rf"^message file {re.escape(name)} column 'Time' decreases at row 20: "
                                         rf"{float(before)} then 34200\.5\.$"):
        ex.market_from_lobster(d, "5min")


def test_a_time_outside_the_files_window(tmp_path, small):
    d = _copy(small, tmp_path)
    name = _edit(_file(d, "SYNA", "2024-01-02", "message"), 0, 0, "34199.0")
    with pytest.raises(ValueError, match=rf"^message file {re.escape(name)} column 'Time' has 34199\.0 at row 0, "
                                         r"outside the file's window 34200000-57600000 ms after midnight"):
        ex.market_from_lobster(d, "5min")


def test_an_unknown_event_type(tmp_path, small, reader):
    d = _copy(small, tmp_path)
    name = _edit(_file(d, "SYNA", "2024-01-03", "message"), 9, 1, "9")
    with pytest.raises(ValueError, match=rf"^message file {re.escape(name)} column 'Type' has unknown event type 9\.0 "
                                         r"at row 9; LOBSTER's types are 1 to 7\.$"):
        ex.market_from_lobster(d, "5min")


def test_a_crossed_quote(tmp_path, small):
    d = _copy(small, tmp_path)
    path = _file(d, "SYNB", "2024-01-02", "orderbook")
    ask = path.read_text().splitlines()[30].split(",")[0]
    name = _edit(path, 30, 2, str(int(ask) + 100))
    with pytest.raises(ValueError, match=rf"^orderbook file {re.escape(name)} has a crossed book at row 30 outside a "
                                         rf"trading halt: 'bid_price_1' {float(int(ask) + 100)} >= 'ask_price_1' "
                                         rf"{float(ask)}; pass crossed='drop'"):
        ex.market_from_lobster(d, "5min")


@pytest.mark.parametrize(
    ("row", "column", "value", "match"),
    [
        (3, 5, "0", r"message file \S+ column 'Direction' has 0\.0 at row 3; must be 1 \(buy\) or -1 \(sell\)\.$"),
        (3, 3, "-5", r"message file \S+ column 'Size' has -5\.0 at row 3; must be >= 0\.$"),
        (3, 2, "nan", r"message file \S+ column 'OrderID' has nan at row 3; LOBSTER files hold only numbers\.$"),
        (3, 0, "86400.5", r"message file \S+ column 'Time' has 86400\.5 at row 3; must be seconds after midnight"),
    ],
)
def test_other_bad_message_cells(tmp_path, small, row, column, value, match):
    d = _copy(small, tmp_path)
    _edit(_file(d, "SYNA", "2024-01-02", "message"), row, column, value)
    with pytest.raises(ValueError, match="^" + match):
        ex.market_from_lobster(d, "5min")


def test_bad_book_values_and_executions(tmp_path):
    book = list(BOOK)
    book[4] = (1001000, 120, -5, 100) + BOOK[4][4:]
    with pytest.raises(ValueError, match=rf"^orderbook file {STEM}_orderbook_2\.csv column 'bid_price_1' has -5\.0 at row 4; "
                                         r"must be > 0 \(dollars x 10,000\) or LOBSTER's empty-side value -9999999999\.$"):
        ex.market_from_lobster(_edge_pair(tmp_path / "a", book=book), "30min")
    book = list(BOOK)
    book[6] = BOOK[6][:5] + (-1,) + BOOK[6][6:]
    with pytest.raises(ValueError, match=r"^orderbook file \S+ column 'ask_size_2' has -1\.0 at row 6; must be >= 0\.$"):
        ex.market_from_lobster(_edge_pair(tmp_path / "b", book=book), "30min")
    messages = list(MESSAGES)
    messages[2] = (34300.0, 4, 12, 50, 0, -1)
    with pytest.raises(ValueError, match=rf"^message file {STEM}_message_2\.csv has an execution at row 2 with 'Price' 0\.0 "
                                         r"and 'Size' 50\.0; both must be > 0\.$"):
        ex.market_from_lobster(_edge_pair(tmp_path / "c", messages=messages), "30min")
    one_sided = [(EMPTY_ASK, 0) + r[2:] for r in BOOK]
    with pytest.raises(ValueError, match=rf"^orderbook file {STEM}_orderbook_2\.csv has no two-sided quote outside a halt"):
        ex.market_from_lobster(_edge_pair(tmp_path / "d", book=one_sided), "30min")


def test_the_first_file_with_a_fault_is_named(tmp_path, small):
    """As read_lobster file by file would: the earlier file's fault, whatever the checks' order."""
    d = _copy(small, tmp_path)
    _edit(_file(d, "SYNB", "2024-01-02", "message"), 5, 3, "oops")  # read fails in the 2nd file
    first = _edit(_file(d, "SYNA", "2024-01-02", "message"), 8, 1, "8")  # a value fault in the 1st
    with pytest.raises(ValueError, match=rf"^message file {re.escape(first)} column 'Type' has unknown event type 8\.0 at row 8"):
        ex.market_from_lobster(d, "5min")


def test_empty_files_and_wrong_widths(tmp_path, small):
    d = _copy(small, tmp_path)
    path = _file(d, "SYNA", "2024-01-03", "message")
    path.write_text("")
    with pytest.raises(ValueError, match=rf"^message file {re.escape(path.name)} is empty\.$"):
        ex.market_from_lobster(d, "5min")
    path.write_text(MSG_HEADER + "\n")
    with pytest.raises(ValueError, match=rf"^message file {re.escape(path.name)} is empty\.$"):
        ex.market_from_lobster(d, "5min")
    path.write_text("34200.1,1,2,3,4\n")
    with pytest.raises(ValueError, match=rf"^message file {re.escape(path.name)} has 5 columns, expected 6\.$"):
        ex.market_from_lobster(d, "5min")
    path.write_text("34200.1,1,2,3,4,1\n34200.2,1,2,3,4,1,7\n")
    with pytest.raises(ValueError, match=rf"^message file {re.escape(path.name)} has 7 fields at row 1, expected 6"):
        ex.market_from_lobster(d, "5min")
