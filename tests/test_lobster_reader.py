"""The rules both LOBSTER readers follow: headers, byte-order marks, damaged cells, binary files,
crossed books, sizes beside dummy prices, fractional and enormous sizes, halt codes.

Every case runs through ``read_lobster`` (one ticker-day) and ``market_from_lobster`` (the fast
path), each with pyarrow's parser and with pandas' C parser, and expects the same message.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab import _lobster_read as lr
from execlab import _market_lobster as ml
from execlab._market import BAR_COLUMNS

EA, EB = 9999999999, -9999999999
STEM = "XYZ_2020-01-02_34200000_57600000"
MESSAGE = f"{STEM}_message_2.csv"
BOOK = f"{STEM}_orderbook_2.csv"
MESSAGES = [
    # time, type, order id, size, price, direction
    (34200.5, 1, 11, 100, 1000000, 1),  # bid only
    (34201.0, 1, 12, 200, 1001000, -1),
    (34260.25, 4, 12, 50, 1001000, -1),  # a BUY of 50
    (34261.0, 5, 99, 30, 1000500, 1),  # hidden: a SELL of 30
    (34300.0, 7, -1, 0, -1, -1),  # trading halt
    (34310.0, 1, 13, 100, 1002000, 1),  # a crossed book inside the halt is allowed (no quote)
    (34320.0, 7, -1, 0, 0, -1),  # quoting resumes
    (34330.0, 3, 13, 100, 1002000, 1),
    (34340.0, 7, -1, 0, 1, -1),  # trading resumes
    (34500.0, 4, 11, 100, 1000000, 1),  # a SELL of 100; the bid side empties
]
ROWS = [
    # ask1, ask1 size, bid1, bid1 size, ask2, ask2 size, bid2, bid2 size
    (EA, 0, 1000000, 100, EA, 0, EB, 0),
    (1001000, 200, 1000000, 100, EA, 0, EB, 0),
    (1001000, 150, 1000000, 100, EA, 0, EB, 0),
    (1001000, 150, 1000000, 100, EA, 0, EB, 0),
    (1001000, 150, 1000000, 100, EA, 0, EB, 0),
    (1001000, 150, 1002000, 100, EA, 0, 1000000, 100),
    (1001000, 150, 1002000, 100, EA, 0, 1000000, 100),
    (1001000, 150, 1000000, 100, EA, 0, EB, 0),
    (1001000, 150, 1000000, 100, EA, 0, EB, 0),
    (1001000, 150, EB, 0, EA, 0, EB, 0),
]
MSG_HEADER = "Time,Type,OrderID,Size,Price,Direction"
BOOK_HEADER = "Ask Price 1,Ask Size 1,Bid Price 1,Bid Size 1,Ask Price 2,Ask Size 2,Bid Price 2,Bid Size 2"


def _lines(rows) -> list[str]:
    return [",".join(repr(v) if isinstance(v, float) else str(v) for v in r) for r in rows]


def _write(path: Path, lines: list[str], prefix: bytes = b"") -> Path:
    path.write_bytes(prefix + ("\n".join(lines) + "\n").encode())
    return path


def _pair(d: Path, messages=MESSAGES, book=ROWS, msg_head=None, book_head=None, bom: bytes = b"") -> tuple[Path, Path]:
    d.mkdir(parents=True, exist_ok=True)
    m = _write(d / MESSAGE, ([msg_head] if msg_head else []) + _lines(messages), bom)
    b = _write(d / BOOK, ([book_head] if book_head else []) + _lines(book), bom)
    return m, b


def _set(rows, i: int, j: int, value) -> list:
    rows = [list(r) for r in rows]
    rows[i][j] = value
    return rows


@pytest.fixture(params=[True, False], ids=["pyarrow", "pandas"])
def parser(request, monkeypatch):
    if request.param and lr.pyarrow_csv() is None:
        pytest.skip("pyarrow is not installed")
    monkeypatch.setattr(lr, "USE_PYARROW", request.param)


@pytest.fixture(params=["read_lobster", "market_from_lobster"])
def read(request, parser):
    """One of the two readers, as a function of (message file, orderbook file, **options)."""
    if request.param == "read_lobster":
        return lambda m, b, **kw: ex.read_lobster(m, b, **kw)
    return lambda m, b, **kw: ex.market_from_lobster([m, b], "30min", **kw)


def _same(a, b) -> None:
    if isinstance(a, ex.Market):
        for c in BAR_COLUMNS:
            np.testing.assert_array_equal(a[c], b[c], err_msg=c)
    else:
        for f in ("events", "trades", "quotes", "halts"):
            pd.testing.assert_frame_equal(getattr(a, f), getattr(b, f))


# ---------------------------------------------------------------------------
# headers and byte-order marks: never a lost event
# ---------------------------------------------------------------------------
def test_the_plain_pair_reads(tmp_path, parser):
    day = ex.read_lobster(*_pair(tmp_path))
    assert len(day.events) == 10 and day.trades["size"].tolist() == [50, 30, 100]
    assert day.halts["state"].tolist() == ["halt", "quote", "resume"]
    assert day.events["ask_size_1"].iloc[0] == 0 and np.isnan(day.events["ask_price_1"].iloc[0])


@pytest.mark.parametrize("files", ["message", "orderbook", "both"])
def test_a_utf8_bom_is_dropped_not_taken_for_a_header(tmp_path, read, files):
    # The first event is a trade, so losing it changes the bars too.
    messages = [(34200.5, 4, 10, 10, 1000000, 1)] + MESSAGES[1:]
    plain = read(*_pair(tmp_path / "plain", messages=messages))
    m, b = _pair(tmp_path / "bom", messages=messages)
    for p in {"message": [m], "orderbook": [b], "both": [m, b]}[files]:
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    _same(read(m, b), plain)


@pytest.mark.parametrize(("msg_head", "book_head"), [
    (MSG_HEADER, BOOK_HEADER),
    ("time , TYPE , order_id , size , price , direction", "ask_price_1,ask_size_1,bid_price_1,bid_size_1,"
                                                         "ask_price_2,ask_size_2,bid_price_2,bid_size_2"),
    ("Time,Event Type,Order ID,Size,Price,Direction", BOOK_HEADER.replace(" ", "")),
    ('"Time","Type","Order_ID","Size","Price","Direction"', BOOK_HEADER),
])
def test_lobster_headers_are_recognised_with_or_without_a_bom(tmp_path, read, msg_head, book_head):
    plain = read(*_pair(tmp_path / "plain"))
    _same(read(*_pair(tmp_path / "head", msg_head=msg_head, book_head=book_head)), plain)
    _same(read(*_pair(tmp_path / "bom", msg_head=msg_head, book_head=book_head, bom=b"\xef\xbb\xbf")), plain)


def test_a_corrupt_first_cell_is_an_error_at_row_0_not_a_header(tmp_path, read):
    m, b = _pair(tmp_path, messages=_set(MESSAGES, 0, 0, "34x200.5"))
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} column 'Time' has '34x200\.5' at row 0; "
                                         r"LOBSTER files hold only numbers\. A header row must hold LOBSTER's column names"):
        read(m, b)
    m, b = _pair(tmp_path / "b", book=_set(ROWS, 0, 2, "-"))
    with pytest.raises(ValueError, match=rf"^orderbook file {BOOK} column 'bid_price_1' has '-' at row 0; "
                                         r"LOBSTER files hold only numbers\."):
        read(m, b)


def test_an_unknown_header_needs_header_true(tmp_path, read):
    plain = read(*_pair(tmp_path / "plain"))
    other = "timestamp,kind,id,qty,px,side"
    m, b = _pair(tmp_path / "other", msg_head=other, book_head=BOOK_HEADER)
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} column 'Time' has 'timestamp' at row 0; .*"
                                         r"pass header=True for another header\.$"):
        read(m, b)
    _same(read(m, b, header=True), plain)
    # Content matters, not only spelling: level 2 named first is no LOBSTER header.
    wrong = BOOK_HEADER.replace("1", "#").replace("2", "1").replace("#", "2")
    with pytest.raises(ValueError, match=rf"^orderbook file {BOOK} column 'ask_price_1' has 'Ask Price 2' at row 0"):
        read(*_pair(tmp_path / "wrong", msg_head=MSG_HEADER, book_head=wrong))


def test_header_true_and_false_are_checked(tmp_path, read):
    m, b = _pair(tmp_path)
    with pytest.raises(ValueError, match=rf"^header == True, but the first line of message file {MESSAGE} is a row of "
                                         r"numbers \(34200\.5,1,11,100,1000000,1\); pass header=None or False"):
        read(m, b, header=True)
    m, b = _pair(tmp_path / "h", msg_head=MSG_HEADER, book_head=BOOK_HEADER)
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} column 'Time' has 'Time' at row 0; LOBSTER files "
                                         r"hold only numbers\.$"):
        read(m, b, header=False)
    with pytest.raises(TypeError, match=r"^header == 1, must be True"):
        read(m, b, header=1)
    with pytest.raises(ValueError, match=r"^crossed == 'keep', must be one of \['raise', 'drop'\]\.$"):
        read(m, b, crossed="keep")


@pytest.mark.parametrize(("row", "column", "value", "label"), [
    (5, 3, "-", "Size"), (7, 0, "34330,5", None), (9, 4, "1e4x", "Price"),
])
def test_a_cell_that_is_not_a_number_is_located(tmp_path, read, row, column, value, label):
    m, b = _pair(tmp_path, messages=_set(MESSAGES, row, column, value))
    if label is None:  # a decimal comma: one field too many
        match = rf"^message file {MESSAGE} has 7 fields at row {row}, expected 6 as in its first line\.$"
    else:
        match = rf"^message file {MESSAGE} column '{label}' has '{re.escape(value)}' at row {row}; LOBSTER files hold only numbers\.$"
    with pytest.raises(ValueError, match=match):
        read(m, b)


# ---------------------------------------------------------------------------
# binary files and directories
# ---------------------------------------------------------------------------
def test_binary_and_compressed_data_under_a_csv_name(tmp_path, read):
    m, b = _pair(tmp_path)
    b.write_bytes(gzip.compress(b.read_bytes()))
    with pytest.raises(ValueError, match=rf"^orderbook file {BOOK} holds \.gz compressed data, not CSV text; "
                                         rf"name it {BOOK}\.gz first\.$"):
        read(m, b)
    m, b = _pair(tmp_path / "bin")
    m.write_bytes(b"34200.5,1,11,100,1000000,1\n\x00\x01\x02\x03")
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} is a binary file, not CSV text \(byte 0x00 at offset 27\)\.$"):
        read(m, b)
    m, b = _pair(tmp_path / "gz")
    broken = m.with_name(MESSAGE + ".gz")
    broken.write_bytes(gzip.compress(m.read_bytes())[:-12])
    m.unlink()
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE}\.gz cannot be decompressed as \.gz: "):
        read(broken, b)


def test_a_directory_is_named(tmp_path, parser):
    m, b = _pair(tmp_path)
    m.unlink()
    m.mkdir()
    with pytest.raises(IsADirectoryError, match=rf"^message file {re.escape(str(m))} is a directory, not a LOBSTER file\.$"):
        ex.read_lobster(m, b)
    with pytest.raises(IsADirectoryError, match=rf"^{re.escape(str(m))} in the list of files is a directory"):
        ex.market_from_lobster([m, b], "30min")
    with pytest.raises(IsADirectoryError, match=rf"^{re.escape(str(m))} in directory {re.escape(str(tmp_path))} is a directory"):
        ex.market_from_lobster(tmp_path, "30min")


# ---------------------------------------------------------------------------
# values: crossed books, sizes beside dummy prices, sizes out of range, halt codes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("bid", "sign"), [(1001000, ">="), (1001100, ">=")])
def test_a_crossed_or_locked_book_is_an_error_where_it_is_read(tmp_path, read, bid, sign):
    book = _set(ROWS, 2, 2, bid)
    m, b = _pair(tmp_path, book=book)
    with pytest.raises(ValueError, match=rf"^orderbook file {BOOK} has a crossed book at row 2 outside a trading halt: "
                                         rf"'bid_price_1' {float(bid)} {sign} 'ask_price_1' 1001000\.0; "
                                         r"pass crossed='drop' to leave such rows out of the quotes\.$"):
        read(m, b)


def test_crossed_drop_leaves_the_rows_out_of_the_quotes_in_both_readers(tmp_path, parser):
    m, b = _pair(tmp_path, book=_set(ROWS, 2, 2, 1001000))
    day = ex.read_lobster(m, b, crossed="drop")
    plain = ex.read_lobster(*_pair(tmp_path / "ok"))
    assert len(day.events) == 10 and day.events["bid_price_1"].iloc[2] == 100.10  # the event is kept
    assert day.events["time"].iloc[2] not in set(day.quotes["time"])  # its quote is not
    assert len(day.quotes) == len(plain.quotes) - 1
    fast = ex.market_from_lobster([m, b], "1min", crossed="drop")
    ref = ml._market_from_lobster_reference([m, b], "1min", crossed="drop")
    _same(fast, ref)


@pytest.mark.parametrize(("row", "column", "size", "label", "price_label", "dummy"), [
    (0, 1, 50, "ask_size_1", "ask_price_1", EA),
    (3, 7, 10, "bid_size_2", "bid_price_2", EB),
    (9, 3, 100, "bid_size_1", "bid_price_1", EB),
])
def test_a_size_beside_a_dummy_price_is_reported_not_zeroed(tmp_path, read, row, column, size, label, price_label, dummy):
    m, b = _pair(tmp_path, book=_set(ROWS, row, column, size))
    with pytest.raises(ValueError, match=rf"^orderbook file {BOOK} column '{label}' has {float(size)} at row {row}, where "
                                         rf"'{price_label}' is LOBSTER's empty-side value {dummy}; an empty level has size 0\.$"):
        read(m, b)


@pytest.mark.parametrize(("value", "shown", "rule"), [
    ("100.5", "100.5", "must be a whole number of shares"),
    ("1e19", "1e+19", r"must be below 1e\+12 shares \(a larger size is a damaged cell\)"),
    ("10000000000000000000", "1e+19", r"must be below 1e\+12 shares"),  # beyond int64: would wrap
    ("5000000000000", "5000000000000.0", r"must be below 1e\+12 shares"),  # an int64, still absurd
])
def test_fractional_or_enormous_sizes_are_rejected(tmp_path, read, value, shown, rule):
    m, b = _pair(tmp_path, messages=_set(MESSAGES, 2, 3, value))
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} column 'Size' has {re.escape(shown)} at row 2; {rule}"):
        read(m, b)
    m, b = _pair(tmp_path / "book", book=_set(ROWS, 4, 5, value.replace("100.5", "0.5")))
    shown_book = "0.5" if value == "100.5" else shown
    with pytest.raises(ValueError, match=rf"^orderbook file {BOOK} column 'ask_size_2' has {re.escape(shown_book)} at row 4; "):
        read(m, b)


def test_order_ids_are_range_checked_before_the_int64_cast(tmp_path, read):
    m, b = _pair(tmp_path, messages=_set(MESSAGES, 1, 2, "1e19"))
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} column 'OrderID' has 1e\+19 at row 1; "
                                         r"must be a whole number of magnitude below 2\*\*53\.$"):
        read(m, b)


@pytest.mark.parametrize("code", [2, -2, 5, 0.5])
def test_halt_codes_other_than_minus_1_0_1_are_an_error(tmp_path, read, code):
    m, b = _pair(tmp_path, messages=_set(MESSAGES, 6, 4, code))
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} column 'Price' has {float(code)} at row 6 for a "
                                         r"trading halt \(type 7\); must be -1 \(halt\), 0 \(quoting resumes\) or 1 "
                                         r"\(trading resumes\)\.$"):
        read(m, b)


def test_an_execution_at_a_dummy_price_is_rejected_by_both(tmp_path, read):
    m, b = _pair(tmp_path, messages=_set(MESSAGES, 2, 4, EA))
    with pytest.raises(ValueError, match=rf"^message file {MESSAGE} column 'Price' has {float(EA)} at row 2 for an "
                                         r"execution; must be below 9999990000"):
        read(m, b)


def test_the_bundled_sample_is_unchanged():
    m = ex.load_market("1min")
    assert [int(m["volume"][k].sum()) for k in range(3)] == [2_850_140, 810_755, 706_125]
    assert m.tickers == ["AAPL", "AMZN", "GOOG"]
