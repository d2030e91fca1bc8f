"""The checks on LOBSTER files, shared by :func:`execlab.read_lobster` and :func:`execlab.market_from_lobster`.

:func:`validate` runs every rule over the concatenated columns of all files
at once and raises the fault that reading the files one by one would meet
first: the smallest (file, check, row, column).  Every message names the
file, the row (counted from 0 below any header), the column and the value.

The rules, in the order they are checked within a file:

1. every cell is a finite number;
2. ``Time`` is in ``[0, 86400)`` seconds after midnight, inside the file's
   window (from its name; the whole day for :func:`~execlab.read_lobster`)
   and never decreasing;
3. ``Direction`` is 1 or -1;
4. every size (message ``Size``, book ``*_size_k``) is a whole number of
   shares in ``[0, 10^12)`` and ``OrderID`` a whole number below
   :math:`2^{53}` in magnitude: checked before any cast to int64, so a
   ``1e19`` cannot wrap;
5. a book price is positive and below $999,999, or LOBSTER's empty-level
   value (+9999999999 for an ask, -9999999999 for a bid), and an empty
   level has size 0: a size beside a dummy price is reported, not zeroed;
6. ``Type`` is 1 to 7, and a trading-halt message (type 7) has ``Price``
   -1 (halt), 0 (quoting resumes) or 1 (trading resumes);
7. an execution (types 4 and 5) has a positive price below $999,999 and a
   positive size;
8. outside a trading halt the best bid is below the best ask wherever both
   sides are quoted: a crossed or locked book (bid >= ask) is an error, or,
   with ``crossed="drop"``, a row left out of the quotes (as a halt's rows
   are); LOBSTER's samples have none;
9. for bars only: each day has a two-sided quote outside a halt.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._lobster_read import (
    EMPTY_ASK,
    EMPTY_BID,
    MAX_ORDER_ID,
    MAX_SIZE,
    MESSAGE_LABELS,
    ORDER_ID,
    PRICE_LIMIT,
    PRICE_SCALE,
    TIME,
    TYPE,
    SIZE,
    PRICE,
    DIRECTION,
    Columns,
    book_label,
    pyarrow_csv,
    to_numpy,
)

__all__: list[str] = []

_DAY_NS = 86_400 * 10**9
# The order in which one file's checks run; within a check, the first row.
(_MESSAGE_CELLS, _TIME_RANGE, _WINDOW, _DECREASING, _BOOK_CELLS, _DIRECTION_CHECK, _SIZE_CHECK,
 _ORDER_ID_CHECK) = range(8)
_BOOK_VALUES = 10  # + column number: each orderbook column's own check, level by level
_EVENT_TYPE, _HALT_CODE, _EXECUTION, _EXECUTION_PRICE, _CROSSED, _TWO_SIDED = range(10**6, 10**6 + 6)


class _Faults:
    """The first bad row of every check; raises the one a file-by-file reader would meet first."""

    def __init__(self, cols: Columns) -> None:
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
    """A cell as a float (pyarrow reads int64, pandas float64: one spelling for both)."""
    return str(float(x))


def _non_finite(col) -> np.ndarray | None:
    """Mask of NaN/inf cells, or None for a column that has none (a numpy int64 column never does)."""
    if not isinstance(col, np.ndarray):  # an arrow column of one file: an integer one is finite unless null
        if col.null_count == 0 and pyarrow_csv()[0].types.is_integer(col.type):
            return None
        col = col.to_numpy()
    if col.dtype.kind != "f":
        return None
    fin = np.isfinite(col)
    return None if fin.all() else ~fin


def _bad_size(col: np.ndarray) -> np.ndarray | None:
    """Sizes that are negative, fractional or not below MAX_SIZE (None when all are fine)."""
    if col.min() >= 0 and col.max() < MAX_SIZE and (col.dtype.kind == "i" or (col == np.floor(col)).all()):
        return None
    return (col < 0) | (col >= MAX_SIZE) | (col != np.floor(col))


def _size_rule(v: float) -> str:
    if v < 0:
        return "must be >= 0"
    if v >= MAX_SIZE:
        return f"must be below {MAX_SIZE:.0e} shares (a larger size is a damaged cell)"
    return "must be a whole number of shares"


def _check_book_column(faults: _Faults, col: np.ndarray, j: int, offset: int, price: np.ndarray | None = None) -> None:
    """Book column ``j`` (its first cell is global row ``offset``).

    Prices are > 0 and below the limit, or the empty-side value; sizes are
    whole shares in [0, MAX_SIZE), and 0 where ``price`` (the level's price
    column, same rows) is the empty-side value.
    """
    cols, label = faults.cols, book_label(j)

    def value(f: int, r: int) -> str:
        return _show(col[cols.start[f] + r - offset])

    if j % 2 == 0:
        dummy = EMPTY_ASK if j % 4 == 0 else EMPTY_BID
        bad = None
        if not (col.min() > 0 and col.max() < PRICE_LIMIT):  # a one-sided book, or a bad price
            bad = (col != dummy) & ((col <= 0) | (np.abs(col) >= PRICE_LIMIT))
        faults.check(bad, _BOOK_VALUES + j, lambda f, r: (
            f"orderbook file {cols.book_names[f]} column {label!r} has {value(f, r)} at row {r}; must be > 0 "
            f"(dollars x 10,000) or LOBSTER's empty-side value {int(dummy)}."), offset)
        return
    faults.check(_bad_size(col), _BOOK_VALUES + j, lambda f, r: (
        f"orderbook file {cols.book_names[f]} column {label!r} has {value(f, r)} at row {r}; "
        f"{_size_rule(float(col[cols.start[f] + r - offset]))}."), offset)
    dummy = EMPTY_ASK if j % 4 == 1 else EMPTY_BID
    if price is not None and not (price.min() > 0 and price.max() < PRICE_LIMIT):  # some level is empty
        faults.check((price == dummy) & (col != 0), _BOOK_VALUES + j, lambda f, r: (
            f"orderbook file {cols.book_names[f]} column {label!r} has {value(f, r)} at row {r}, where "
            f"{book_label(j - 1)!r} is LOBSTER's empty-side value {int(dummy)}; an empty level has size 0."), offset)


def _quoted(cols: Columns) -> np.ndarray | None:
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


def validate(cols: Columns, *, crossed: str = "raise", bars: bool = True) -> None:
    """Every rule of the module docstring, over all files at once.

    Leaves behind what the readers reuse: ``clock`` (nanoseconds after
    midnight plus the file's number of days), ``executions`` (rows of types
    4 and 5) with their ``execution_price`` and ``execution_size``,
    ``quoted`` (rows outside a halt and, with ``crossed="drop"``, not
    crossed; None for all) and ``two_sided`` (rows with both sides quoted,
    None for all).
    """
    secs, etype, size, price, direction = cols.message
    ask, bid = cols.book
    mn = cols.message_names
    start = cols.start
    faults = _Faults(cols)

    def cell(f: int, r: int, col: np.ndarray) -> str:
        return _show(col[start[f] + r])

    # Every cell a number, times in the day and sorted, ...
    for j, col in zip((TIME, TYPE, SIZE, PRICE, DIRECTION), cols.message):
        faults.check(_non_finite(col), _MESSAGE_CELLS, lambda f, r, col=col, j=j: (
            f"message file {mn[f]} column {MESSAGE_LABELS[j]!r} has {cell(f, r, col)} at row {r}; "
            "LOBSTER files hold only numbers."), column=j)
    for f, ids in enumerate(cols.order_ids):
        faults.check(_non_finite(ids), _MESSAGE_CELLS, lambda f, r, ids=ids: (
            f"message file {mn[f]} column 'OrderID' has {_show(to_numpy(ids)[r])} at row {r}; LOBSTER files hold only numbers."),
            int(start[f]), column=ORDER_ID)
    in_day = bool(secs.min() >= 0 and secs.max() < 86_400)
    if not in_day:
        faults.check((secs < 0) | (secs >= 86_400), _TIME_RANGE, lambda f, r: (
            f"message file {mn[f]} column 'Time' has {cell(f, r, secs)} at row {r}; "
            "must be seconds after midnight in [0, 86400)."))
    # One clock for all files: file f's nanoseconds after midnight plus f days, so that
    # sorting, ties and searches never mix two files.  Out-of-range times (already a fault)
    # become 0 first, so the int64 cast below never sees a value it would wrap.
    x = secs * 1e9 if in_day else np.where((secs >= 0) & (secs < 86_400), secs, 0.0) * 1e9
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
            f"orderbook file {cols.book_names[f]} column {book_label(j)!r} has {cell(f, r, col)} at row {r}; "
            "LOBSTER files hold only numbers."), column=j)
    for f, rest in enumerate(cols.book_rest):
        for j, col in rest:
            faults.check(_non_finite(col), _BOOK_CELLS, lambda f, r, col=col, j=j: (
                f"orderbook file {cols.book_names[f]} column {book_label(j)!r} has {_show(to_numpy(col)[r])} at row {r}; "
                "LOBSTER files hold only numbers."), int(start[f]), column=j)
    # ... directions, sizes and order ids (whole numbers in range before any int64 cast), ...
    ok = direction.min() >= -1 and direction.max() <= 1 and np.count_nonzero(direction) == len(direction)
    faults.check(None if ok else (direction != 1) & (direction != -1), _DIRECTION_CHECK, lambda f, r: (
        f"message file {mn[f]} column 'Direction' has {cell(f, r, direction)} at row {r}; must be 1 (buy) or -1 (sell)."))
    faults.check(_bad_size(size), _SIZE_CHECK, lambda f, r: (
        f"message file {mn[f]} column 'Size' has {cell(f, r, size)} at row {r}; "
        f"{_size_rule(float(size[start[f] + r]))}."))
    for f, ids in enumerate(cols.order_ids):
        ids = to_numpy(ids)
        if not (ids.min() > -MAX_ORDER_ID and ids.max() < MAX_ORDER_ID and ids.dtype.kind == "i"):
            faults.check((np.abs(ids) >= MAX_ORDER_ID) | (ids != np.floor(ids)), _ORDER_ID_CHECK, lambda f, r, ids=ids: (
                f"message file {mn[f]} column 'OrderID' has {_show(ids[r])} at row {r}; must be a whole number "
                f"of magnitude below 2**53."), int(start[f]))
    # ... book prices and sizes level by level, ...
    for j, col in zip((0, 2), cols.book):
        _check_book_column(faults, col, j, 0)
    for f, rest in enumerate(cols.book_rest):
        a, z = int(start[f]), int(cols.stop[f])
        per_file = {j: to_numpy(col) for j, col in rest}
        per_file[0], per_file[2] = ask[a:z], bid[a:z]
        for j, _ in rest:
            _check_book_column(faults, per_file[j], j, a, per_file[j - 1] if j % 2 else None)
    # ... event types and halt codes, ...
    if not (etype.min() >= 1 and etype.max() <= 7 and etype.dtype.kind == "i"):
        faults.check((etype < 1) | (etype > 7) | (etype != np.trunc(etype)), _EVENT_TYPE, lambda f, r: (
            f"message file {mn[f]} column 'Type' has unknown event type {cell(f, r, etype)} at row {r}; "
            "LOBSTER's types are 1 to 7."))
    halt_rows = np.flatnonzero(etype == 7)
    if len(halt_rows):
        code = price[halt_rows]
        faults.check((code != -1) & (code != 0) & (code != 1), _HALT_CODE, lambda f, r: (
            f"message file {mn[f]} column 'Price' has {cell(f, r, price)} at row {r} for a trading halt (type 7); "
            "must be -1 (halt), 0 (quoting resumes) or 1 (trading resumes)."), halt_rows)

    # ... executions at positive prices below the dummies and positive sizes, ...
    ex = np.flatnonzero((etype == 4) | (etype == 5))
    p, s = price[ex], size[ex]
    faults.check((p <= 0) | (s <= 0), _EXECUTION, lambda f, r: (
        f"message file {mn[f]} has an execution at row {r} with 'Price' {cell(f, r, price)} and "
        f"'Size' {cell(f, r, size)}; both must be > 0."), ex)
    faults.check(p / PRICE_SCALE >= PRICE_LIMIT / PRICE_SCALE, _EXECUTION_PRICE, lambda f, r: (
        f"message file {mn[f]} column 'Price' has {cell(f, r, price)} at row {r} for an execution; "
        f"must be below {PRICE_LIMIT:.0f} (dollars x 10,000)."), ex)

    # ... and outside halts a book that is never crossed or locked.
    quoted = _quoted(cols)
    two_sided = (ask != EMPTY_ASK) & (bid != EMPTY_BID)
    raw_crossed = bid >= ask  # a one-sided row never counts: the dummies compare the other way
    if raw_crossed.any():
        crossed_rows = raw_crossed & two_sided if quoted is None else raw_crossed & two_sided & quoted
        if crossed == "drop":
            quoted = ~crossed_rows if quoted is None else quoted & ~crossed_rows
        else:
            faults.check(crossed_rows, _CROSSED, lambda f, r: (
                f"orderbook file {cols.book_names[f]} has a crossed book at row {r} outside a trading halt: "
                f"'bid_price_1' {cell(f, r, bid)} >= 'ask_price_1' {cell(f, r, ask)}; pass crossed='drop' "
                "to leave such rows out of the quotes."))
    usable = two_sided if quoted is None else two_sided & quoted
    if bars and not usable.all():
        days = np.logical_or.reduceat(usable, start)
        if not days.all():
            f = int(np.argmax(~days))
            faults.add(int(start[f]), _TWO_SIDED, lambda f, r: (
                f"orderbook file {cols.book_names[f]} has no two-sided quote outside a halt; the day has no mid."))
    faults.raise_first()
    cols.clock, cols.executions, cols.quoted = clock, ex, quoted
    cols.execution_price, cols.execution_size = p, s
    cols.two_sided = None if two_sided.all() else two_sided
