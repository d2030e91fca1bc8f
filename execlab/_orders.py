"""Orders and fills in one internal format, checked once at the public edge.

Inside execlab an order's side is an int64 sign (+1 buy, -1 sell), shares are
int64 and times are int64 nanoseconds since the epoch (UTC).  This module is
the only place that turns ``"BUY"``/``"SELL"`` and Timestamps into those
arrays, and back again for the DataFrames returned to the user.  It is also
the only place that validates the rows of an orders or fills frame:
:func:`check_orders` and :func:`check_fills`, in one of two modes.

* ``errors="raise"`` (:func:`execlab.simulate`, :func:`execlab.shortfall`):
  the first bad row raises a ``ValueError`` naming the column, the row and
  the value.  Right for orders execlab is about to simulate or cost.
* ``errors="reject"`` (:func:`execlab.tca`, post-trade): a desk's blotter
  always holds some bad rows, and dropping them silently would bias every
  cost figure; each bad row is left out with the first rule it breaks as its
  reason (:data:`ORDER_REASONS`, :data:`FILL_REASONS`), and the rest is
  analysed.  The market is then required: it gives the tickers, sessions,
  closes and time zone the rows are checked against.

Both modes walk the same rules in the same order (the tables in
:func:`check_orders` and :func:`check_fills` say where they differ).  A
wrong *schema* (not a DataFrame, a missing column, a column of the wrong
type, times without a zone) raises in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._compiled import jit
from ._fill_rules import fill_rule_loop
from ._kernels import group_cumsum, run_starts
from ._validation import check_frame

__all__ = [
    "SIDES",
    "ORDER_REASONS",
    "FILL_REASONS",
    "Orders",
    "Fills",
    "check_orders",
    "check_fills",
    "side_to_sign",
    "sign_to_side",
    "to_ns",
    "from_ns",
    "show",
]

SIDES = ("BUY", "SELL")
_MAX_SHARES = 2**53  # whole numbers stay exact in float64 below this

#: Why an order row is left out (``errors="reject"``), in the order the rules are applied.
ORDER_REASONS = (
    "missing order_id", "duplicate order_id", "missing ticker", "ticker not in market", "side not BUY/SELL",
    "quantity not a whole number > 0", "decision_time missing", "decision_time in another time zone",
    "arrival_time missing", "arrival_time in another time zone", "arrival before decision",
    "arrival on a date that is not a session", "arrival after the close", "decision on a date that is not a session",
    "end_time in another time zone", "end_time before arrival",
)

#: Why a fill row is left out (``errors="reject"``), in the order the rules are applied.
FILL_REASONS = (
    "unknown order_id", "order rejected", "time missing", "time in another time zone",
    "ticker differs from the order's", "shares not a whole number > 0", "price not > 0", "fee not finite",
    "before arrival", "before the open", "after the order's end", "after the close", "duplicate fill_id", "overfill",
)

#: ``fill_rule_loop``'s reasons, as codes of :class:`_Rules` (1 + position in FILL_REASONS), in its rule order.
_FAST_REASONS = np.array([FILL_REASONS.index(x) + 1 for x in (
    "time missing", "time in another time zone", "ticker differs from the order's", "shares not a whole number > 0",
    "price not > 0", "fee not finite", "before arrival", "before the open", "after the order's end",
    "after the close")], dtype=np.int8)

_TEXT_KINDS = {"string", "unicode", "bytes"}


def show(x: object) -> str:
    """repr of a value for an error message, numpy scalars as plain Python."""
    return repr(x.item() if isinstance(x, np.generic) else x)


# ---------------------------------------------------------------------------
# Sides
# ---------------------------------------------------------------------------
def _signs(ser: pd.Series) -> np.ndarray:
    """+1.0 / -1.0 per row, 0.0 where the value is not a side (no per-row Python)."""
    dtype = ser.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return np.zeros(len(ser))
    if pd.api.types.is_numeric_dtype(dtype):
        v = ser.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(np.abs(v) == 1.0, v, 0.0)  # NaN fails too
    if isinstance(dtype, pd.CategoricalDtype):
        labels = np.asarray(dtype.categories, dtype=object)
        lookup = np.append(np.where(labels == "BUY", 1.0, np.where(labels == "SELL", -1.0, 0.0)), 0.0)
        return lookup[ser.cat.codes.to_numpy()]  # code -1 (missing) reads the trailing 0
    vals = ser.to_numpy()
    if vals.dtype == object:
        missing = pd.isna(vals)
        if missing.any():  # pd.NA compares to NA, not False: the comparison below would raise on it
            vals = np.where(missing, None, vals)
        buy = (vals == "BUY") | ((vals == 1) & ~_is_bool(vals))
        sell = (vals == "SELL") | ((vals == -1) & ~_is_bool(vals))
    else:  # e.g. pyarrow-backed strings: let pandas compare natively
        buy = (ser == "BUY").to_numpy(dtype=bool, na_value=False)
        sell = (ser == "SELL").to_numpy(dtype=bool, na_value=False)
    return buy.astype(np.float64) - sell


def _side_message(ser: pd.Series, idx: pd.Index, pos: int, name: str, column: str) -> str:
    return (f"{name} column {column!r} has {show(ser.iloc[pos])} at row {show(idx[pos])}; "
            f"must be one of {list(SIDES)} (or +1/-1).")


def side_to_sign(side: Any, name: str = "orders", column: str = "side", index: pd.Index | None = None) -> np.ndarray:
    """``"BUY"``/``"SELL"`` (or +1/-1) as an int64 array of +1/-1.

    Text costs two vectorised comparisons, a categorical column only its few
    categories; no per-row Python.  Bools are refused (``True == 1``).

    Raises
    ------
    ValueError
        If a value is neither, naming the column, the row and the value.

    Examples
    --------
    >>> side_to_sign(["BUY", "SELL", -1]).tolist()
    [1, -1, -1]
    """
    ser = side if isinstance(side, pd.Series) else pd.Series(side, dtype=None if isinstance(side, np.ndarray) else object)
    sign = _signs(ser)
    if not sign.all():
        pos = int(np.flatnonzero(sign == 0)[0])
        raise ValueError(_side_message(ser, index if index is not None else ser.index, pos, name, column))
    return sign.astype(np.int64)


def _is_bool(vals: np.ndarray) -> np.ndarray:
    """Which entries of an object array are bools (only where ==1/-1 matched: a short Python pass)."""
    out = np.zeros(len(vals), dtype=bool)
    cand = np.flatnonzero((vals == 1) | (vals == -1))
    if len(cand):
        out[cand] = [isinstance(v, (bool, np.bool_)) for v in vals[cand]]
    return out


def sign_to_side(sign: np.ndarray) -> np.ndarray:
    """+1/-1 as an object array of ``"BUY"``/``"SELL"`` (for output frames)."""
    return np.where(np.asarray(sign) > 0, "BUY", "SELL").astype(object)


# ---------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------
def to_ns(values: Any, name: str, column: str, index: pd.Index) -> np.ndarray:
    """Timezone-aware times as int64 nanoseconds since the epoch (UTC)."""
    t = _aware(values, name, column)
    nat = t.isna()
    if nat.any():
        pos = int(np.flatnonzero(nat)[0])
        raise ValueError(_nat_message(name, column, index, pos))
    return t.as_unit("ns").asi8


def _aware(values: Any, name: str, column: str) -> pd.DatetimeIndex:
    try:
        t = pd.DatetimeIndex(values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column {show(column)} must hold timestamps: {exc}") from None
    if t.tz is None:
        raise ValueError(
            f"{name} column {show(column)} is timezone-naive; localize it (e.g. "
            f"tz_localize('America/New_York')) so it can be compared with the market."
        )
    return t


def _nat_message(name: str, column: str, index: pd.Index, pos: int) -> str:
    return f"{name} column {show(column)} has NaT at row {show(index[pos])}; every row needs a time."


def from_ns(ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    """int64 nanoseconds (UTC) as a DatetimeIndex in ``tz``."""
    arr = np.asarray(ns, dtype=np.int64).view("M8[ns]")
    return pd.DatetimeIndex(arr).tz_localize("UTC").tz_convert(tz)


def _offsets_ns(t: pd.DatetimeIndex) -> np.ndarray:
    """UTC offset (ns) of each tz-aware time, in its own zone."""
    return t.tz_localize(None).as_unit("ns").asi8 - t.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8


_NAT = np.iinfo(np.int64).min  # NaT as int64 ns


def _times(df: pd.DataFrame, name: str, column: str, tz: Any, *, post_trade: bool = True, empty_if_none: bool = False
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """A time column as int64 ns (UTC), with masks of missing times and of times in another time zone, and its zone.

    Post-trade (``tz`` is the market's): a time is "in another time zone" when
    its UTC offset differs from the market zone's offset at that instant: a
    UTC column or ``-07:00`` strings against a New York market are rejected,
    ``US/Eastern`` or ``-04:00`` in July are not.  A tz-aware column in the
    market's own zone (the usual parquet case) needs no per-row work.
    Otherwise any tz-aware column is taken as it is (instants are compared),
    and the zone returned is the column's.  A column without any zone, or
    that is not times at all, is a schema error.  ``empty_if_none``: a mask
    no row is in may come back empty (length 0) instead of all False, so
    that millions of fills need no mask at all.
    """
    col = df[column]
    n = len(col)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool), tz
    if not post_trade:
        t = _aware(col, name, column)
        missing = np.asarray(t.isna())
        return t.as_unit("ns").asi8, missing, np.zeros(n, bool), t.tz
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        t = pd.DatetimeIndex(col)
        if t.unit != "ns":  # as_unit copies even to its own unit
            t = t.as_unit("ns")
        if empty_if_none and t.asi8.min() != _NAT:  # no NaT (the smallest int64): no mask to build
            missing = np.zeros(0, bool)
            ns = t.asi8
        else:
            missing = np.asarray(t.isna())
            ns = np.where(missing, 0, t.asi8) if missing.any() else t.asi8
        if col.dtype == pd.DatetimeTZDtype(col.dtype.unit, tz):  # the market's zone: no row can be in another
            return ns, missing, np.zeros(0 if empty_if_none else n, bool), tz
        if len(missing) < n:
            missing = np.zeros(n, bool)
        own = _offsets_ns(t)
    elif pd.api.types.is_datetime64_dtype(col.dtype):
        raise ValueError(f"{name} column {column!r} is timezone-naive; localize it "
                         f"(e.g. .dt.tz_localize('{tz}')) so it can be compared with the market.")
    elif col.dtype == object or isinstance(col.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(col, skipna=True)
        if kind in ("string", "unicode"):
            s = col.astype(object)
            off = s.str.extract(r"(Z|[+-]\d\d:?\d\d)$", expand=False)
            if off.isna().loc[s.notna()].all():
                raise ValueError(f"{name} column {column!r} holds times without a UTC offset (e.g. {s.dropna().iloc[0]!r}); "
                                 f"write them with one (ISO 8601, e.g. '2024-01-02T10:00:00-05:00').")
            t = pd.DatetimeIndex(pd.to_datetime(s, utc=True, format="ISO8601", errors="coerce")).as_unit("ns")
            sign = np.where(off.str[0] == "-", -1, 1)
            hh = pd.to_numeric(off.str[1:3], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            mm = pd.to_numeric(off.str[-2:], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            own_f = np.where(off.to_numpy() == "Z", 0.0, sign * (hh * 3600 + mm * 60) * 1e9)
            own = np.where(np.isnan(own_f), np.iinfo(np.int64).min, np.nan_to_num(own_f)).astype(np.int64)
        elif kind in ("datetime", "datetime64"):
            # Timestamps of several zones in one object column: per-element offsets (no faster way exists).
            vals = col.to_numpy()
            t = pd.DatetimeIndex(pd.to_datetime(col, utc=True)).as_unit("ns")
            own = np.array([np.iinfo(np.int64).min if v is None or v is pd.NaT or getattr(v, "tzinfo", None) is None
                            else int(v.utcoffset().total_seconds() * 1e9) for v in vals], dtype=np.int64)
        else:
            example = col.dropna().iloc[:1].tolist()
            raise TypeError(f"{name} column {column!r} must hold tz-aware timestamps, got {kind} values"
                            f"{' such as ' + repr(example[0]) if example else ''}.")
        missing = np.asarray(t.isna())
        ns = np.where(missing, 0, t.asi8)
    else:
        raise TypeError(f"{name} column {column!r} must hold tz-aware timestamps, got dtype {col.dtype}.")
    market = _offsets_ns(pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(tz))
    other = ~missing & (own != market)
    return ns, missing, other, tz


# ---------------------------------------------------------------------------
# Frames and numbers
# ---------------------------------------------------------------------------
def _require(df: object, name: str, required: list[str]) -> pd.DataFrame:
    """The post-trade schema check: a DataFrame holding the ``required`` columns (it may be empty)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame (or a path given to read_executions), got {type(df).__name__}.")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing required column(s) {missing}; it has {list(map(str, df.columns))}. "
                         f"See execlab.{'ORDER' if name == 'orders' else 'FILL'}_SCHEMA.")
    return df


def _numeric(df: pd.DataFrame, name: str, column: str) -> np.ndarray:
    """A column as float64 (NaN where missing); a column that is not numbers is a schema error."""
    col = df[column]
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iuf":  # plain numpy numbers: no copy for float64
        return col.to_numpy(dtype=np.float64)
    if pd.api.types.is_bool_dtype(col.dtype):
        raise TypeError(f"{name} column {column!r} must be numeric, got dtype bool.")
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    if col.dtype == object and len(col) and pd.api.types.infer_dtype(col, skipna=True) not in _TEXT_KINDS | {"mixed"}:
        try:
            return pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            pass
    if len(col) == 0:
        return np.zeros(0)
    example = col.dropna().iloc[:1].tolist()
    shown = f" such as {example[0]!r}" if example else ""
    raise TypeError(f"{name} column {column!r} must be numeric, got dtype {col.dtype}{shown}.")


def _numbers(df: pd.DataFrame, name: str, column: str, *, post_trade: bool, shares: bool = False) -> np.ndarray:
    """A numeric column as float64, with the schema message of the mode."""
    col = df[column]
    if post_trade or (isinstance(col.dtype, np.dtype) and col.dtype.kind in "iuf"):
        return _numeric(df, name, column)
    if shares and pd.api.types.is_bool_dtype(col.dtype):  # True == 1 in Python: a bool column is not a number of shares
        raise TypeError(f"{name} column {show(column)} must be numeric shares, got dtype bool.")
    try:
        return pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column {show(column)} must be numeric: {exc}") from None


def _not_whole(q: np.ndarray, *, zero_ok: bool, integral: bool = False) -> np.ndarray:
    """Which values are not a whole number of shares (NaN and inf are not); ``integral``: read from integers."""
    with np.errstate(invalid="ignore"):
        ok = (q >= 0) if zero_ok else (q > 0)
        ok &= q < _MAX_SHARES  # strict: an int64 above 2**53 rounds to 2**53 on its way to float64
        if not integral:
            ok &= q == np.floor(q)
        return ~ok


def whole_shares(df: pd.DataFrame, name: str, column: str, *, zero_ok: bool = False) -> np.ndarray:
    """A column of whole shares as int64 (below 2**53, so the cast is exact); a bad cell is a ValueError naming it."""
    q = _numbers(df, name, column, post_trade=False, shares=True)
    bad = _not_whole(q, zero_ok=zero_ok)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        need = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{name} column {show(column)} has {show(df[column].iloc[pos])} at row {show(df.index[pos])}; "
                         f"must be a whole number of shares {need} and below 2**53.")
    return q.astype(np.int64)


def _integral(df: pd.DataFrame, column: str) -> bool:
    dtype = df[column].dtype
    return isinstance(dtype, np.dtype) and dtype.kind in "iu"


def _values(col: pd.Series | pd.Index) -> Any:
    """A column's values without conversion: numpy for numpy dtypes, the pandas array otherwise."""
    return col.to_numpy() if isinstance(col.dtype, np.dtype) else col.array


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------
class _Rules:
    """The row rules of one table, applied in order.

    Raise mode: the first rule any row breaks raises its message, at the first
    such row.  Reject mode: each row keeps the first rule it breaks as its
    reason (``code`` 0 = none yet, ``k`` = ``reasons[k - 1]``).  A rule with
    no reason applies only in raise mode; one with no message only in reject
    mode.
    """

    def __init__(self, n: int, reasons: tuple[str, ...], reject: bool) -> None:
        self.reasons = reasons
        self.reject = reject
        self.code = np.zeros(n, np.int8)
        self.clean = True  # no row coded yet: known without reading (or touching) every code

    def check(self, bad: Any, reason: str | None, message: Callable[[int], str] | None = None) -> None:
        if self.reject:
            if reason is not None:
                bad = np.asarray(bad, dtype=bool)
                if bad.any():
                    self.code[bad & (self.code == 0)] = self.reasons.index(reason) + 1
                    self.clean = False
        elif message is not None:
            bad = np.asarray(bad, dtype=bool)
            if bad.any():
                raise ValueError(message(int(np.flatnonzero(bad)[0])))

    def ok(self) -> np.ndarray:
        return self.code == 0

    def good(self) -> np.ndarray | None:
        """Positions of the rows no rule has coded, or None when that is every row."""
        if self.clean:
            return None
        ok = self.code == 0
        return None if ok.all() else np.flatnonzero(ok)

    def rejected(self, table: str, index: pd.Index, order_id: pd.Index, fill_id: Any) -> pd.DataFrame:
        """One row per rejected input row: ``table, row, order_id, fill_id, reason``."""
        bad = np.zeros(0, np.int64) if self.clean else np.flatnonzero(self.code)
        return pd.DataFrame({
            "table": table,
            "row": index[bad].to_numpy().astype(object),
            "order_id": order_id[bad].to_numpy().astype(object),
            "fill_id": np.asarray(fill_id[bad]).astype(object) if fill_id is not None else None,
            "reason": np.asarray(self.reasons, dtype=object)[self.code[bad] - 1].astype(str),
        }, index=pd.RangeIndex(len(bad)))


def _reject_mode(errors: str, market: Any) -> bool:
    if errors not in ("raise", "reject"):
        raise ValueError(f"errors == {errors!r}, must be one of ['raise', 'reject'].")
    if errors == "reject" and market is None:
        raise ValueError("errors == 'reject' needs the market (tickers, sessions, closes and time zone to check against).")
    return errors == "reject"


def _order_rows(order_ids: pd.Index, fill_order_ids: pd.Index) -> np.ndarray:
    """Position of each fill's order in ``order_ids`` (-1 if none), looked up once per run of equal ids.

    A blotter lists an order's fills together, so a run of equal ids is one
    hash lookup instead of one per fill; numbers only (an object column is
    looked up fill by fill).
    """
    dtype = fill_order_ids.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind in "iuf") or len(fill_order_ids) < 2:
        return order_ids.get_indexer(fill_order_ids)
    v = fill_order_ids.to_numpy()
    start = run_starts(v)
    if len(start) > len(v) // 4:  # short runs: the plain lookup is as fast
        return order_ids.get_indexer(fill_order_ids)
    return np.repeat(order_ids.get_indexer(fill_order_ids[start]), np.diff(start, append=len(v)))


def _keep(x: Any, good: np.ndarray | None) -> Any:
    return x if good is None or x is None else x[good]


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Orders:
    """Checked parent orders as arrays, in the row order of the input frame (accepted rows only).

    ``code``, ``day`` and ``close_ns`` are set when the orders were checked
    against a market (``errors="reject"``); ``rejected`` then holds the rows
    left out.
    """

    frame: pd.DataFrame
    order_id: pd.Index
    ticker: np.ndarray  # object array of str
    sign: np.ndarray  # int64, +1 buy / -1 sell
    quantity: np.ndarray  # int64
    decision_ns: np.ndarray
    arrival_ns: np.ndarray
    end_ns: np.ndarray | None  # int64; None in raise mode when the frame has no end_time (reject: the session close)
    tz: Any
    code: np.ndarray | None = None  # int64 row of the ticker in the market
    day: np.ndarray | None = None  # int64 session of the arrival
    close_ns: np.ndarray | None = None  # close of that session
    rejected: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.quantity)

    def take(self, idx: np.ndarray) -> "Orders":
        """The orders at positions ``idx`` (no ``rejected`` table)."""
        return Orders(self.frame.iloc[idx], self.order_id[idx], self.ticker[idx], self.sign[idx], self.quantity[idx],
                      self.decision_ns[idx], self.arrival_ns[idx], _keep(self.end_ns, idx), self.tz,
                      _keep(self.code, idx), _keep(self.day, idx), _keep(self.close_ns, idx))


def check_orders(orders: object, *, delay: object = None, name: str = "orders", market: Any = None,
                 errors: str = "raise") -> Orders:
    """Validate an orders frame and return it as arrays.

    Required columns: ``order_id`` (unique), ``ticker``, ``side``
    (``"BUY"``/``"SELL"`` or +1/-1), ``quantity`` (whole shares),
    ``decision_time`` (tz-aware).  Optional: ``arrival_time`` (>= decision
    time; default decision time + ``delay``) and ``end_time`` (>= arrival).
    Other columns are tags, kept in ``frame``.

    Parameters
    ----------
    orders : DataFrame
    delay : str or Timedelta, optional
        Builds a missing ``arrival_time`` as decision time + delay (>= 0).
    name : str, default "orders"
        The frame's name in messages.
    market : Market, optional
        Required with ``errors="reject"``.
    errors : {"raise", "reject"}, default "raise"
        What a bad row does: raise, or go to ``result.rejected`` with its reason.

    Returns
    -------
    Orders
        The accepted rows as arrays; with ``errors="reject"`` also ``code``,
        ``day``, ``close_ns`` (from the market), ``end_ns`` (the given end,
        capped at the close; the close where none is given) and
        ``rejected`` (``table, row, order_id, fill_id, reason``).

    Notes
    -----
    The rules, in the order they are applied; a row's reason is the first it
    breaks.  "raise" is how :func:`execlab.simulate` and
    :func:`execlab.shortfall` treat a row, "reject" how :func:`execlab.tca`
    does (the reason, from :data:`ORDER_REASONS`).

    ============================  =========================  ==========================================
    rule                          raise                      reject: reason
    ============================  =========================  ==========================================
    order_id missing              raises                     "missing order_id"
    order_id repeated             raises at the second row   "duplicate order_id", every copy (its
                                                             fills could be any one's)
    ticker missing                raises                     "missing ticker"
    ticker not in the market      (market)                   "ticker not in market"
    side not BUY/SELL/+1/-1       raises                     "side not BUY/SELL"
    quantity not whole, or < 0    raises                     "quantity not a whole number > 0"
    quantity 0                    accepted (costs 0 bps)     "quantity not a whole number > 0" (a
                                                             blotter order of 0 shares is no order)
    decision_time NaT             raises                     "decision_time missing"
    decision_time off the zone    accepted (an instant)      "decision_time in another time zone"
    arrival_time NaT              raises                     "arrival_time missing"
    arrival_time off the zone     accepted (an instant)      "arrival_time in another time zone"
    arrival before decision       raises                     "arrival before decision"
    arrival on no session date    (market)                   "arrival on a date that is not a session"
    arrival at or after the close (market)                   "arrival after the close" (a session is
                                                             [open, close))
    decision on no session date   (market; shortfall raises) "decision on a date that is not a session"
    end_time NaT                  raises                     accepted: the horizon ends at the close
    end_time off the zone         accepted (an instant)      "end_time in another time zone"
    end_time before arrival       raises                     "end_time before arrival"
    ============================  =========================  ==========================================

    "Off the zone": the time's UTC offset is not the market zone's at that
    instant (a UTC column against a New York market; ``US/Eastern`` is
    fine).  "(market)": a rule that needs the market, which raise mode does
    not take; :func:`execlab.shortfall` checks the ticker and the session
    against its own market.

    Examples
    --------
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> o = check_orders(pd.DataFrame({"order_id": [7], "ticker": "AAPL", "side": "SELL",
    ...                                "quantity": [100], "decision_time": [t]}), delay="5s")
    >>> int(o.sign[0]), int(o.arrival_ns[0] - o.decision_ns[0])
    (-1, 5000000000)
    """
    reject = _reject_mode(errors, market)
    required = ["order_id", "ticker", "side", "quantity", "decision_time"]
    df = _require(orders, name, required) if reject else check_frame(orders, name, required)
    delay_ns = 0
    if delay is not None:
        try:
            delay_td = pd.Timedelta(delay)
        except (TypeError, ValueError):
            raise ValueError(f"delay == {delay!r}, must be a time span such as '5s'.") from None
        if pd.isna(delay_td) or delay_td < pd.Timedelta(0):
            raise ValueError(f"delay == {delay!r}, must be >= 0.")
        if "arrival_time" in df.columns and delay_td != pd.Timedelta(0):
            raise ValueError(
                f"delay == {delay!r} was given but {name} has an 'arrival_time' column; "
                "pass one or the other (delay only builds a missing arrival_time)."
            )
        delay_ns = delay_td.value
    n, idx = len(df), df.index
    rules = _Rules(n, ORDER_REASONS, reject)
    tz = market.tz if reject else None

    # Read every column first: a wrong schema raises before any row is judged.
    oid = pd.Index(df["order_id"])
    ticker = df["ticker"]
    sign = _signs(df["side"])
    q = _numbers(df, name, "quantity", post_trade=reject, shares=True)
    dec, dec_miss, dec_other, tz = _times(df, name, "decision_time", tz, post_trade=reject)
    has_arrival, has_end = "arrival_time" in df.columns, "end_time" in df.columns
    if has_arrival:
        arr, arr_miss, arr_other, _ = _times(df, name, "arrival_time", tz, post_trade=reject)
    else:
        arr, arr_miss, arr_other = dec + delay_ns, None, None
    if has_end:
        end, end_miss, end_other, _ = _times(df, name, "end_time", tz, post_trade=reject)

    def stamp(ns: np.ndarray, i: int) -> pd.Timestamp:
        return from_ns(ns[i:i + 1], tz)[0]

    missing_id = np.asarray(oid.isna())
    rules.check(missing_id, "missing order_id",
                lambda i: f"{name} column 'order_id' has {show(oid[i])} at row {show(idx[i])}; "
                          "order ids must not be missing.")
    # Raise mode names the second copy; reject mode leaves out every copy.
    dup = (np.asarray(oid.duplicated(keep=False)) & ~missing_id) if reject else np.asarray(oid.duplicated())
    rules.check(dup, "duplicate order_id",
                lambda i: f"{name} column 'order_id' has duplicate value {show(oid[i])} at row {show(idx[i])}; "
                          "order ids must be unique.")
    rules.check(ticker.isna().to_numpy(), "missing ticker",
                lambda i: f"{name} column 'ticker' has {show(ticker.iloc[i])} at row {show(idx[i])}; "
                          "must be a ticker symbol.")
    tick = ticker.astype(str).to_numpy(dtype=object)
    code = None
    if reject:
        code = market.index.get_indexer(tick)
        rules.check(code < 0, "ticker not in market")
    rules.check(sign == 0, "side not BUY/SELL", lambda i: _side_message(df["side"], idx, i, name, "side"))
    rules.check(_not_whole(q, zero_ok=not reject, integral=_integral(df, "quantity")),
                "quantity not a whole number > 0",
                lambda i: f"{name} column 'quantity' has {q[i]} at row {show(idx[i])}; "
                          "must be a whole number of shares >= 0 and below 2**53.")
    rules.check(dec_miss, "decision_time missing", lambda i: _nat_message(name, "decision_time", idx, i))
    rules.check(dec_other, "decision_time in another time zone")
    if has_arrival:
        rules.check(arr_miss, "arrival_time missing", lambda i: _nat_message(name, "arrival_time", idx, i))
        rules.check(arr_other, "arrival_time in another time zone")
    rules.check(arr < dec, "arrival before decision",
                lambda i: f"{name} column 'arrival_time' has {stamp(arr, i)} at row {show(idx[i])}, before its "
                          f"decision_time {stamp(dec, i)}; an order cannot arrive before it is decided.")
    day = close = None
    if reject:
        day = market.calendar.session_of(arr)
        rules.check(day < 0, "arrival on a date that is not a session")
        close = market.close_ns(np.maximum(day, 0))
        # A session is [open, close): an order arriving at the close itself has no time left to trade.
        rules.check(arr >= close, "arrival after the close")
        # Its decision price is read in the decision's own session, so that must be a session too.
        rules.check(market.calendar.session_of(dec) < 0, "decision on a date that is not a session")
    end_ns = close
    if has_end:
        rules.check(end_miss, None, lambda i: _nat_message(name, "end_time", idx, i))  # reject: NaT is the close
        rules.check(end_other, "end_time in another time zone")
        rules.check(~end_miss & (end < arr), "end_time before arrival",
                    lambda i: f"{name} column 'end_time' has {stamp(end, i)} at row {show(idx[i])}, before its "
                              "arrival_time; the horizon must end after it starts.")
        end_ns = np.where(end_miss, close, np.minimum(end, close)) if reject else end

    rejected = rules.rejected("orders", idx, oid, None) if reject else None
    good = rules.good()
    return Orders(
        df if good is None else df.iloc[good], _keep(oid, good), _keep(tick, good),
        _keep(sign, good).astype(np.int64), _keep(q, good).astype(np.int64), _keep(dec, good), _keep(arr, good),
        _keep(end_ns, good), tz,
        None if code is None else _keep(code, good).astype(np.int64),
        None if day is None else _keep(day, good).astype(np.int64), _keep(close, good), rejected,
    )


# ---------------------------------------------------------------------------
# Fills
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Fills:
    """Checked fills as arrays (accepted rows only): ``row`` is the position of each fill's order in :class:`Orders`."""

    frame: pd.DataFrame
    row: np.ndarray  # int64
    time_ns: np.ndarray  # int64
    shares: np.ndarray  # float64 holding whole numbers (exact below 2**53)
    price: np.ndarray  # float64
    fee: np.ndarray  # float64
    fill_id: Any = None  # the fill_id column's values, or the row labels
    rejected: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.row)


def check_fills(fills: object, orders: Orders, *, name: str = "fills", market: Any = None, errors: str = "raise",
                all_order_ids: pd.Index | None = None) -> Fills:
    """Validate fills against their (checked) orders and return them as arrays.

    Required columns: ``order_id`` (one of the orders'), ``time`` (tz-aware),
    ``shares`` (whole), ``price`` ($ > 0); optional ``fee`` ($, finite,
    negative for a rebate), ``ticker`` (the order's) and ``fill_id``.  An
    empty frame is fine (an order may have no fills).

    Parameters
    ----------
    fills : DataFrame
    orders : Orders
        From :func:`check_orders` in the same mode.
    name : str, default "fills"
    market : Market, optional
        Required with ``errors="reject"``.
    errors : {"raise", "reject"}, default "raise"
    all_order_ids : Index, optional
        Reject mode: the ids of every input order, accepted or not, to tell
        "unknown order_id" from "order rejected".

    Notes
    -----
    The rules, in the order they are applied (see :func:`check_orders`; the
    reasons are :data:`FILL_REASONS`).  Every time rule compares instants;
    :func:`execlab.shortfall` checks fills after the close against its own
    market.  In reject mode with numba installed, the rules from "time
    missing" to "after the close" run as one compiled pass over the fills
    (:func:`execlab._fill_rules.fill_rule_loop`, which also totals each
    order's accepted shares for the overfill rule); the numpy rules here are
    its reference, and the tests check both give the same reason row for row.

    ==============================  ===========================  =======================================
    rule                            raise                        reject: reason
    ==============================  ===========================  =======================================
    order_id not an order's         raises                       "unknown order_id", or "order
                                                                 rejected" when its order was left out
    time NaT                        raises                       "time missing"
    time off the zone               accepted (an instant)        "time in another time zone"
    ticker not the order's          raises                       "ticker differs from the order's"
    shares not whole, or < 0        raises                       "shares not a whole number > 0"
    shares 0                        accepted (changes nothing)   "shares not a whole number > 0" (a
                                                                 report of 0 shares is no execution)
    price NaN, inf or <= 0          raises                       "price not > 0"
    fee NaN or inf                  raises                       "fee not finite"
    time before arrival             raises: "a fill cannot       "before arrival", also when after the
                                    precede its order"           decision: the order was not out yet
    time before the open            (market; shortfall raises)   "before the open" (no bar to measure
                                                                 it against)
    time after end_time             raises                       "after the order's end" (an end
                                                                 before the close)
    time at or after the close      (market)                     "after the close" (a session is
                                                                 [open, close), as for shortfall)
    fill_id repeated in a session   not checked                  "duplicate fill_id" (FIX execution
                                                                 ids are unique within a day)
    fills past the quantity         raises, naming the order     "overfill": in time order (input
                                    and its total                order breaks ties), the fills that
                                                                 take the order past its quantity
    ==============================  ===========================  =======================================

    Examples
    --------
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> o = check_orders(pd.DataFrame({"order_id": [7], "ticker": "AAPL", "side": "BUY",
    ...                                "quantity": [100], "decision_time": [t]}))
    >>> f = check_fills(pd.DataFrame({"order_id": [7, 7], "time": [t, t], "shares": [60, 40],
    ...                               "price": [580.0, 580.5]}), o)
    >>> f.row.tolist(), f.shares.sum()
    ([0, 0], np.float64(100.0))
    """
    reject = _reject_mode(errors, market)
    required = ["order_id", "time", "shares", "price"]
    df = _require(fills, name, required) if reject else check_frame(fills, name, required, allow_empty=True)
    n, idx = len(df), df.index
    rules = _Rules(n, FILL_REASONS, reject)
    tz = market.tz if reject else orders.tz

    foid = pd.Index(df["order_id"])
    row = _order_rows(orders.order_id, foid) if len(orders) else np.full(n, -1, np.int64)
    t, t_miss, t_other, _ = _times(df, name, "time", tz, post_trade=reject, empty_if_none=True)
    shares = _numbers(df, name, "shares", post_trade=reject, shares=True)
    price = _numbers(df, name, "price", post_trade=reject)
    fee = _numbers(df, name, "fee", post_trade=reject) if "fee" in df.columns else np.zeros(n)
    fid_given = "fill_id" in df.columns
    fill_id = _values(df["fill_id"]) if fid_given else idx.to_numpy()

    def stamp(ns: np.ndarray, i: int) -> pd.Timestamp:
        return from_ns(ns[i:i + 1], tz)[0]

    any_unknown = bool(n) and row.min() < 0  # no per-fill mask unless some fill needs one
    unknown = row < 0 if any_unknown else np.zeros(0, bool)
    if reject:
        known = all_order_ids if all_order_ids is not None else orders.order_id
        is_known = np.zeros(n, bool) if any_unknown else unknown
        if any_unknown:
            ask = foid[unknown]  # a missing id is no order's id, even beside an order rejected for a missing id
            is_known[unknown] = np.asarray(ask.isin(known)) & ~np.asarray(ask.isna())
        if n and len(known) and row.max() < 0 and not is_known.any() \
                and not pd.api.types.is_dtype_equal(foid.dtype, known.dtype):
            raise TypeError(f"fills column 'order_id' has dtype {foid.dtype} but orders column 'order_id' has dtype "
                            f"{known.dtype}, so no fill matches an order (e.g. {show(foid[0])}); read both with the "
                            "same type.")
        if any_unknown:
            rules.check(unknown & ~is_known, "unknown order_id")
            rules.check(unknown, "order rejected")
    elif any_unknown:
        rules.check(unknown, "unknown order_id",
                    lambda i: f"{name} column 'order_id' has {show(df['order_id'].iloc[i])} at row {show(idx[i])}, "
                              "which is not an order_id of orders.")
    r = np.maximum(row, 0) if any_unknown else row
    # Reject mode, compiled: the time, ticker, number and session rules in one pass over the fills (the numpy rules
    # below are the reference and the path without numba; the reasons are the same row for row).
    fast = jit(fill_rule_loop) if reject and n and len(orders) else None
    other_ticker = np.zeros(0, bool)
    if fast is None:  # the numpy rules want full masks (_times gives an empty one when no row has it)
        t_miss, t_other = (m if len(m) == n else np.zeros(n, bool) for m in (t_miss, t_other))
        rules.check(t_miss, "time missing", lambda i: _nat_message(name, "time", idx, i))
        rules.check(t_other, "time in another time zone")
    if "ticker" in df.columns and len(orders):
        ftick = df["ticker"]
        if reject:  # by market code: one lookup per distinct ticker, not a string comparison per fill
            codes, uniques = pd.factorize(ftick)
            k = np.append(market.index.get_indexer(pd.Index(uniques).astype(str)), -1)[codes]
            other_ticker = k != orders.code[r]
        else:
            other_ticker = ftick.astype(str).to_numpy(dtype=object) != orders.ticker[r]
        if fast is None:
            rules.check(other_ticker, "ticker differs from the order's",
                        lambda i: f"{name} column 'ticker' has {show(ftick.iloc[i])} at row {show(idx[i])}, but order_id "
                                  f"{show(orders.order_id[row[i]])} trades {orders.ticker[row[i]]!r}.")
    executed = None
    if fast is not None:
        executed = np.zeros(len(orders))
        first_bar = market.day_first[orders.day]
        none = np.zeros(0, bool)  # masks without a True row are passed empty: nothing to read per fill
        coded = fast(rules.code, not rules.clean, row, t, t_miss if t_miss.any() else none,
                     t_other if t_other.any() else none, other_ticker, shares, _integral(df, "shares"), price, fee,
                     orders.arrival_ns, market.start_ns[first_bar], orders.end_ns, orders.close_ns, _FAST_REASONS,
                     float(_MAX_SHARES), executed)
        rules.clean = rules.clean and coded == 0
    else:
        rules.check(_not_whole(shares, zero_ok=not reject, integral=_integral(df, "shares")),
                    "shares not a whole number > 0",
                    lambda i: f"{name} column 'shares' has {shares[i]} at row {show(idx[i])}; must be a whole number of "
                              "shares >= 0 and below 2**53.")
        with np.errstate(invalid="ignore"):
            bad_price = ~((price > 0) & (price < np.inf))  # NaN fails both
        rules.check(bad_price, "price not > 0",
                    lambda i: f"{name} column 'price' has {price[i]} at row {show(idx[i])}; must be finite and > 0.")
        rules.check(~np.isfinite(fee), "fee not finite",
                    lambda i: f"{name} column 'fee' has {fee[i]} at row {show(idx[i])}; must be finite (rebates may be "
                              "negative).")
        if len(orders):
            # Each rule is one gather and one comparison per fill; the split between "after the order's end" and
            # "after the close" is made only for the fills past the end.
            rules.check(t < orders.arrival_ns[r], "before arrival",
                        lambda i: f"{name} column 'time' has {stamp(t, i)} at row {show(idx[i])}, before the arrival_time "
                                  f"{stamp(orders.arrival_ns, row[i])} of order_id {show(orders.order_id[row[i]])}; a fill "
                                  "cannot precede its order.")
            if reject:
                # A session is [open, close), as for shortfall: a fill before the open has no bar to be measured
                # against, a fill stamped at the close itself is after it.
                first_bar = market.day_first[orders.day[r]]
                rules.check(t < market.start_ns[first_bar], "before the open")
            if orders.end_ns is not None:  # reject mode: always (the given end, or the close)
                end = orders.end_ns[r]
                late = t > end
                after_close = np.zeros(n, bool)
                if reject:
                    close = orders.close_ns[r]
                    after_close = t >= close
                    late &= end < close  # past an end at the close: "after the close"
                rules.check(late, "after the order's end",
                            lambda i: f"{name} column 'time' has {stamp(t, i)} at row {show(idx[i])}, after the end_time "
                                      f"{stamp(orders.end_ns, row[i])} of order_id {show(orders.order_id[row[i]])}.")
                rules.check(after_close, "after the close")
    if reject and fid_given and n:
        # FIX execution ids are unique within a trading day: a repeat the same session is a duplicate report.  A fill
        # that passed the time rules is in its order's session, so the session is the order's.
        ok = np.ones(n, bool) if rules.clean else rules.ok()
        fid = pd.Index(df["fill_id"])
        if not (fid if rules.clean else fid[ok]).is_unique:
            key = pd.DataFrame({"d": orders.day[r][ok], "f": fid[ok]})
            dup = np.zeros(n, bool)
            dup[np.flatnonzero(ok)] = key.duplicated(keep="first").to_numpy()
            rules.check(dup, "duplicate fill_id")
            executed = None  # the compiled pass counted the duplicates' shares
    # Overfill: only the orders whose accepted fills add up to more than their quantity are looked at fill by fill.
    ok = rules.good() if reject else None  # None: every row
    if executed is None:
        o_row, o_sh = (row, shares) if ok is None else (row[ok], shares[ok])
        executed = np.bincount(o_row, weights=o_sh, minlength=len(orders)) if len(o_row) else np.zeros(len(orders))
    over = executed > orders.quantity
    if over.any():
        if not reject:
            pos = int(np.flatnonzero(over)[0])
            raise ValueError(f"{name} for order_id {show(orders.order_id[pos])} total {int(executed[pos])} shares, more "
                             f"than its quantity {orders.quantity[pos]}.")
        sel = np.flatnonzero(over[row]) if ok is None else ok[over[row[ok]]]
        srt = np.lexsort((sel, t[sel], row[sel]))  # by order, then time, then input row
        s_row = row[sel][srt]
        cum = group_cumsum(shares[sel][srt], s_row)
        mask = np.zeros(n, bool)
        mask[sel[srt]] = cum > orders.quantity[s_row]
        rules.check(mask, "overfill")

    rejected = rules.rejected("fills", idx, foid, fill_id) if reject else None
    good = rules.good()
    return Fills(df if good is None else df.iloc[good], _keep(row, good).astype(np.int64, copy=False), _keep(t, good),
                 _keep(shares, good), _keep(price, good), _keep(fee, good), _keep(fill_id, good), rejected)
