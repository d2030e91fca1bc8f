"""Orders and fills in one internal format, checked once at the public edge.

Inside execlab an order's side is an int64 sign (+1 buy, -1 sell), shares are
int64 and times are int64 nanoseconds since the epoch (UTC).  This module is
the only place that turns ``"BUY"``/``"SELL"`` and Timestamps into those
arrays, and back again for the DataFrames returned to the user.  It is also
the only place that validates an orders or fills frame: :func:`check_orders`
and :func:`check_fills`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_frame

__all__ = [
    "SIDES",
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


def show(x: object) -> str:
    """repr of a value for an error message, numpy scalars as plain Python."""
    return repr(x.item() if isinstance(x, np.generic) else x)


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
    idx = index if index is not None else ser.index
    dtype = ser.dtype
    if pd.api.types.is_bool_dtype(dtype):
        sign = np.zeros(len(ser))
    elif pd.api.types.is_numeric_dtype(dtype):
        v = ser.to_numpy(dtype=np.float64, na_value=np.nan)
        sign = np.where(np.abs(v) == 1.0, v, 0.0)  # NaN fails too
    elif isinstance(dtype, pd.CategoricalDtype):
        labels = np.asarray(dtype.categories, dtype=object)
        lookup = np.append(np.where(labels == "BUY", 1.0, np.where(labels == "SELL", -1.0, 0.0)), 0.0)
        sign = lookup[ser.cat.codes.to_numpy()]  # code -1 (missing) reads the trailing 0
    else:
        vals = ser.to_numpy()
        if vals.dtype == object:
            buy = (vals == "BUY") | ((vals == 1) & ~_is_bool(vals))
            sell = (vals == "SELL") | ((vals == -1) & ~_is_bool(vals))
        else:  # e.g. pyarrow-backed strings: let pandas compare natively
            buy = (ser == "BUY").to_numpy(dtype=bool, na_value=False)
            sell = (ser == "SELL").to_numpy(dtype=bool, na_value=False)
        sign = buy.astype(np.float64) - sell
    if not sign.all():
        pos = int(np.flatnonzero(sign == 0)[0])
        raise ValueError(f"{name} column {column!r} has {show(ser.iloc[pos])} at row {show(idx[pos])}; "
                         f"must be one of {list(SIDES)} (or +1/-1).")
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


def to_ns(values: Any, name: str, column: str, index: pd.Index) -> np.ndarray:
    """Timezone-aware times as int64 nanoseconds since the epoch (UTC)."""
    try:
        t = pd.DatetimeIndex(values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column {show(column)} must hold timestamps: {exc}") from None
    if t.tz is None:
        raise ValueError(
            f"{name} column {show(column)} is timezone-naive; localize it (e.g. "
            f"tz_localize('America/New_York')) so it can be compared with the market."
        )
    nat = t.isna()
    if nat.any():
        pos = int(np.flatnonzero(nat)[0])
        raise ValueError(f"{name} column {show(column)} has NaT at row {show(index[pos])}; every row needs a time.")
    return t.as_unit("ns").asi8


def from_ns(ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    """int64 nanoseconds (UTC) as a DatetimeIndex in ``tz``."""
    arr = np.asarray(ns, dtype=np.int64).view("M8[ns]")
    return pd.DatetimeIndex(arr).tz_localize("UTC").tz_convert(tz)


def _whole_shares(values: Any, name: str, column: str, index: pd.Index, *, allow_zero: bool = True) -> np.ndarray:
    ser = pd.Series(values, copy=False)
    if pd.api.types.is_bool_dtype(ser.dtype):  # True == 1 in Python: a bool column is not a number of shares
        raise TypeError(f"{name} column {show(column)} must be numeric shares, got dtype bool.")
    try:
        q = pd.to_numeric(pd.Series(values, copy=False), errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column {show(column)} must be numeric: {exc}") from None
    low = (q < 0) if allow_zero else (q <= 0)
    bad = ~np.isfinite(q) | low | (q != np.floor(q)) | (q > _MAX_SHARES)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} column {show(column)} has {q[pos]} at row {show(index[pos])}; must be a whole number of shares {need}.")
    return q.astype(np.int64)


@dataclass(frozen=True)
class Orders:
    """Checked parent orders as arrays, in the row order of the input frame."""

    frame: pd.DataFrame
    order_id: pd.Index
    ticker: np.ndarray  # object array of str
    sign: np.ndarray  # int64, +1 buy / -1 sell
    quantity: np.ndarray  # int64
    decision_ns: np.ndarray
    arrival_ns: np.ndarray
    end_ns: np.ndarray | None  # int64, or None when the frame has no end_time
    tz: Any

    def __len__(self) -> int:
        return len(self.quantity)


def check_orders(orders: object, *, delay: object = None, name: str = "orders") -> Orders:
    """Validate an orders frame and return it as arrays.

    Required columns: ``order_id`` (unique), ``ticker``, ``side``
    (``"BUY"``/``"SELL"``), ``quantity`` (whole shares >= 0),
    ``decision_time`` (tz-aware).  Optional: ``arrival_time`` (>= decision
    time; default decision time + ``delay``) and ``end_time`` (>= arrival).

    Examples
    --------
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> o = check_orders(pd.DataFrame({"order_id": [7], "ticker": "AAPL", "side": "SELL",
    ...                                "quantity": [100], "decision_time": [t]}), delay="5s")
    >>> int(o.sign[0]), int(o.arrival_ns[0] - o.decision_ns[0])
    (-1, 5000000000)
    """
    df = check_frame(orders, name, ["order_id", "ticker", "side", "quantity", "decision_time"])
    oid = pd.Index(df["order_id"])
    if oid.isna().any():
        pos = int(np.flatnonzero(oid.isna())[0])
        raise ValueError(f"{name} column 'order_id' has {show(oid[pos])} at row {show(df.index[pos])}; order ids must not be missing.")
    dup = oid.duplicated()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise ValueError(f"{name} column 'order_id' has duplicate value {show(oid[pos])} at row {show(df.index[pos])}; order ids must be unique.")
    ticker = df["ticker"]
    bad = ticker.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} column 'ticker' has {show(ticker.iloc[pos])} at row {show(df.index[pos])}; must be a ticker symbol.")
    if delay is not None:
        try:
            delay_td = pd.Timedelta(delay)
        except (TypeError, ValueError):
            raise ValueError(f"delay == {delay!r}, must be a time span such as '5s'.") from None
        if pd.isna(delay_td) or delay_td < pd.Timedelta(0):
            raise ValueError(f"delay == {delay!r}, must be >= 0.")
    sign = side_to_sign(df["side"], name, "side", df.index)
    q = _whole_shares(df["quantity"], name, "quantity", df.index)
    dec = to_ns(df["decision_time"], name, "decision_time", df.index)
    tz = pd.DatetimeIndex(df["decision_time"]).tz
    if "arrival_time" in df.columns:
        if delay is not None and pd.Timedelta(delay) != pd.Timedelta(0):
            raise ValueError(
                f"delay == {delay!r} was given but {name} has an 'arrival_time' column; "
                "pass one or the other (delay only builds a missing arrival_time)."
            )
        arr = to_ns(df["arrival_time"], name, "arrival_time", df.index)
    else:
        arr = dec + (pd.Timedelta(delay).value if delay is not None else 0)
    early = arr < dec
    if early.any():
        pos = int(np.flatnonzero(early)[0])
        raise ValueError(
            f"{name} column 'arrival_time' has {from_ns(arr[pos:pos + 1], tz)[0]} at row {show(df.index[pos])}, "
            f"before its decision_time {from_ns(dec[pos:pos + 1], tz)[0]}; an order cannot arrive before it is decided."
        )
    end = None
    if "end_time" in df.columns:
        end = to_ns(df["end_time"], name, "end_time", df.index)
        before = end < arr
        if before.any():
            pos = int(np.flatnonzero(before)[0])
            raise ValueError(
                f"{name} column 'end_time' has {from_ns(end[pos:pos + 1], tz)[0]} at row {show(df.index[pos])}, "
                "before its arrival_time; the horizon must end after it starts."
            )
    return Orders(df, oid, ticker.astype(str).to_numpy(dtype=object), sign, q, dec, arr, end, tz)


@dataclass(frozen=True)
class Fills:
    """Checked fills as arrays: ``row`` is the position of each fill's order in :class:`Orders`."""

    frame: pd.DataFrame
    row: np.ndarray  # int64
    time_ns: np.ndarray  # int64
    shares: np.ndarray  # float64 holding whole numbers (exact below 2**53)
    price: np.ndarray  # float64
    fee: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.row)


def check_fills(fills: object, orders: Orders, *, name: str = "fills") -> Fills:
    """Validate fills against their orders and return them as arrays.

    Required columns: ``order_id`` (one of the orders'), ``time`` (tz-aware,
    not before the order's arrival nor after its ``end_time``), ``shares``
    (whole, >= 0), ``price`` (> 0); optional ``fee`` ($, finite, may be
    negative for a rebate) and ``ticker`` (the order's).  The fills of an
    order must not add up to more than its quantity.
    """
    df = check_frame(fills, name, ["order_id", "time", "shares", "price"], allow_empty=True)
    row = orders.order_id.get_indexer(pd.Index(df["order_id"]))
    unknown = row < 0
    if unknown.any():
        pos = int(np.flatnonzero(unknown)[0])
        raise ValueError(
            f"{name} column 'order_id' has {show(df['order_id'].iloc[pos])} at row {show(df.index[pos])}, "
            "which is not an order_id of orders."
        )
    shares = _whole_shares(df["shares"], name, "shares", df.index).astype(np.float64)
    try:
        price = pd.to_numeric(df["price"], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column 'price' must be numeric: {exc}") from None
    bad = ~np.isfinite(price) | (price <= 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} column 'price' has {price[pos]} at row {show(df.index[pos])}; must be finite and > 0.")
    if "fee" in df.columns:
        try:
            fee = pd.to_numeric(df["fee"], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} column 'fee' must be numeric: {exc}") from None
        bad = ~np.isfinite(fee)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} column 'fee' has {fee[pos]} at row {show(df.index[pos])}; must be finite (rebates may be negative).")
    else:
        fee = np.zeros(len(df))
    t = to_ns(df["time"], name, "time", df.index) if len(df) else np.zeros(0, np.int64)
    early = t < orders.arrival_ns[row]
    if early.any():
        pos = int(np.flatnonzero(early)[0])
        raise ValueError(
            f"{name} column 'time' has {from_ns(t[pos:pos + 1], orders.tz)[0]} at row {show(df.index[pos])}, before the "
            f"arrival_time {from_ns(orders.arrival_ns[row[pos]:row[pos] + 1], orders.tz)[0]} of order_id "
            f"{show(orders.order_id[row[pos]])}; a fill cannot precede its order."
        )
    if orders.end_ns is not None:
        late = t > orders.end_ns[row]
        if late.any():
            pos = int(np.flatnonzero(late)[0])
            raise ValueError(
                f"{name} column 'time' has {from_ns(t[pos:pos + 1], orders.tz)[0]} at row {show(df.index[pos])}, after the "
                f"end_time {from_ns(orders.end_ns[row[pos]:row[pos] + 1], orders.tz)[0]} of order_id {show(orders.order_id[row[pos]])}."
            )
    if "ticker" in df.columns:
        other = df["ticker"].astype(str).to_numpy(dtype=object) != orders.ticker[row]
        if other.any():
            pos = int(np.flatnonzero(other)[0])
            raise ValueError(
                f"{name} column 'ticker' has {show(df['ticker'].iloc[pos])} at row {show(df.index[pos])}, but order_id "
                f"{show(orders.order_id[row[pos]])} trades {orders.ticker[row[pos]]!r}."
            )
    executed = np.bincount(row, weights=shares, minlength=len(orders)).astype(np.int64)
    too_many = executed > orders.quantity
    if too_many.any():
        pos = int(np.flatnonzero(too_many)[0])
        raise ValueError(
            f"{name} for order_id {show(orders.order_id[pos])} total {executed[pos]} shares, more than its "
            f"quantity {orders.quantity[pos]}."
        )
    return Fills(df, row.astype(np.int64), t, shares, price, fee)
