r"""The user's own orders and fills: documented schema, reading, and row-level rejection.

:func:`execlab.check_orders`/:func:`execlab.check_fills` raise on the first
bad row, which is right for orders execlab is about to simulate.  Post-trade,
a desk's blotter always holds some bad rows, and dropping them silently would
bias every cost figure; so here each bad row is **rejected** into a table with
its reason, and everything else is analysed.  A wrong *schema* (a missing
column, or a column of the wrong type) is still an error, naming the column.

The conversions themselves (side to +1/-1, times to int64 ns) are the ones of
:mod:`execlab._orders`, applied to the rows that pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._market import Market
from .._orders import _is_bool, show, side_to_sign

__all__ = ["ORDER_SCHEMA", "FILL_SCHEMA", "REASONS", "check_executions", "read_executions"]

#: The orders table: (column, required, type, meaning).
ORDER_SCHEMA = pd.DataFrame(
    [
        ("order_id", True, "any hashable", "unique id of the parent order"),
        ("ticker", True, "text", "symbol; must be one of the market's"),
        ("side", True, "'BUY'/'SELL' or +1/-1", "direction"),
        ("quantity", True, "number", "shares ordered, whole, > 0"),
        ("decision_time", True, "tz-aware datetime", "when the portfolio manager decided (Perold's paper price)"),
        ("arrival_time", False, "tz-aware datetime", "when the order reached the desk/broker; default decision_time"),
        ("end_time", False, "tz-aware datetime", "end of the order's horizon (NaT: the session close)"),
        ("<any other>", False, "any", "free tags passed through: algorithm, broker, trader, urgency, ..."),
    ],
    columns=["column", "required", "type", "meaning"],
).set_index("column")

#: The fills table: (column, required, type, meaning).
FILL_SCHEMA = pd.DataFrame(
    [
        ("order_id", True, "as orders.order_id", "the parent order"),
        ("time", True, "tz-aware datetime", "execution time, in the market's time zone"),
        ("shares", True, "number", "shares executed, whole, > 0"),
        ("price", True, "number", "execution price, $ > 0"),
        ("fee", False, "number", "$ paid (negative for a rebate); default 0"),
        ("fill_id", False, "any hashable", "execution id, unique within a session (FIX ExecID)"),
        ("ticker", False, "text", "if given, must equal the order's ticker"),
        ("venue", False, "text", "where it executed (passed through)"),
        ("liquidity", False, "text", "liquidity flag, e.g. 'added'/'removed' (passed through)"),
    ],
    columns=["column", "required", "type", "meaning"],
).set_index("column")

#: Every reason a row can be rejected for, in the order they are checked.
REASONS = {
    "orders": (
        "missing order_id", "duplicate order_id", "missing ticker", "ticker not in market", "side not BUY/SELL",
        "quantity not a whole number > 0", "decision_time missing", "decision_time in another time zone",
        "arrival_time missing", "arrival_time in another time zone", "arrival before decision",
        "arrival on a date that is not a session", "arrival after the close",
        "end_time in another time zone", "end_time before arrival",
    ),
    "fills": (
        "unknown order_id", "order rejected", "time missing", "time in another time zone",
        "ticker differs from the order's", "shares not a whole number > 0", "price not > 0", "fee not finite",
        "before arrival", "after the order's end", "after the close", "duplicate fill_id", "overfill",
    ),
}

_TEXT_KINDS = {"string", "unicode", "bytes"}


# ---------------------------------------------------------------------------
# Column readers: schema errors raise, row errors come back as a mask
# ---------------------------------------------------------------------------
def _require(df: object, name: str, required: list[str]) -> pd.DataFrame:
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


def _offsets_ns(t: pd.DatetimeIndex) -> np.ndarray:
    """UTC offset (ns) of each tz-aware time, in its own zone."""
    return t.tz_localize(None).as_unit("ns").asi8 - t.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8


def _times(df: pd.DataFrame, name: str, column: str, tz: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A time column as int64 ns (UTC), with masks of missing times and of times in another time zone.

    A time is "in another time zone" when its UTC offset differs from the
    market zone's offset at that instant: a UTC column or ``-07:00`` strings
    against a New York market are rejected, ``US/Eastern`` or ``-04:00`` in
    July are not.  A column without any zone, or that is not times at all,
    is a schema error.
    """
    col = df[column]
    n = len(col)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool)
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        t = pd.DatetimeIndex(col).as_unit("ns")
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
    else:
        raise TypeError(f"{name} column {column!r} must hold tz-aware timestamps, got dtype {col.dtype}.")
    missing = np.asarray(t.isna())
    ns = np.where(missing, 0, t.asi8)
    market = _offsets_ns(pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(tz))
    other = ~missing & (own != market)
    return ns, missing, other


def _reasons(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _flag(reason: np.ndarray, mask: np.ndarray, text: str) -> None:
    """Record ``text`` for the rows in ``mask`` that have no reason yet (first reason wins)."""
    reason[np.asarray(mask, dtype=bool) & np.equal(reason, None)] = text


# ---------------------------------------------------------------------------
# Checked arrays
# ---------------------------------------------------------------------------
@dataclass
class OrderRows:
    """Accepted parent orders as arrays (rows of the input that passed)."""

    frame: pd.DataFrame          # the accepted input rows (tags included)
    order_id: pd.Index
    ticker: np.ndarray           # object array of str
    code: np.ndarray             # row of the ticker in the market
    sign: np.ndarray             # +1 buy, -1 sell
    quantity: np.ndarray         # int64
    decision_ns: np.ndarray
    arrival_ns: np.ndarray
    end_ns: np.ndarray           # the given end, or the session close
    day: np.ndarray              # session of the arrival
    close_ns: np.ndarray

    def __len__(self) -> int:
        return len(self.quantity)

    def take(self, idx: np.ndarray) -> "OrderRows":
        return OrderRows(self.frame.iloc[idx], self.order_id[idx], self.ticker[idx], self.code[idx], self.sign[idx],
                         self.quantity[idx], self.decision_ns[idx], self.arrival_ns[idx], self.end_ns[idx],
                         self.day[idx], self.close_ns[idx])


@dataclass
class FillRows:
    """Accepted fills as arrays, in input order; ``row`` indexes :class:`OrderRows`."""

    frame: pd.DataFrame          # accepted input rows (venue, liquidity, ... pass through)
    row: np.ndarray
    time_ns: np.ndarray
    shares: np.ndarray           # float64 holding whole numbers
    price: np.ndarray
    fee: np.ndarray
    fill_id: np.ndarray          # object: the fill_id column, or the input row label

    def __len__(self) -> int:
        return len(self.row)


def _rejected_frame(table: str, index: pd.Index, order_id: Any, fill_id: Any, reason: np.ndarray) -> pd.DataFrame:
    bad = np.flatnonzero(np.not_equal(reason, None))
    return pd.DataFrame({
        "table": table,
        "row": np.asarray(index)[bad].astype(object),
        "order_id": np.asarray(order_id)[bad].astype(object),
        "fill_id": np.asarray(fill_id)[bad].astype(object) if fill_id is not None else None,
        "reason": reason[bad].astype(str),
    }, index=pd.RangeIndex(len(bad)))


def check_order_rows(orders: object, market: Market) -> tuple[OrderRows, pd.DataFrame]:
    """Orders that pass every row check, and the rejected rows with their reasons."""
    df = _require(orders, "orders", ["order_id", "ticker", "side", "quantity", "decision_time"])
    n = len(df)
    reason = _reasons(n)
    oid = pd.Index(df["order_id"])
    _flag(reason, oid.isna(), "missing order_id")
    _flag(reason, oid.duplicated(keep=False) & ~oid.isna(), "duplicate order_id")
    ticker = df["ticker"]
    _flag(reason, ticker.isna().to_numpy(), "missing ticker")
    tick = ticker.astype(str).to_numpy(dtype=object)
    k = market.index.get_indexer(tick)
    _flag(reason, k < 0, "ticker not in market")
    side = df["side"]
    if pd.api.types.is_bool_dtype(side.dtype):
        ok_side = np.zeros(n, bool)
    elif pd.api.types.is_numeric_dtype(side.dtype):
        ok_side = side.isin([1, -1]).to_numpy()
    else:
        ok_side = side.isin(["BUY", "SELL"]).to_numpy(dtype=bool, na_value=False)
        if side.dtype == object:
            vals = side.to_numpy()
            ok_side |= ((vals == 1) | (vals == -1)) & ~_is_bool(vals)  # True == 1 in Python; a bool is not a side
    _flag(reason, ~ok_side, "side not BUY/SELL")
    q = _numeric(df, "orders", "quantity")
    with np.errstate(invalid="ignore"):
        _flag(reason, ~np.isfinite(q) | (q <= 0) | (q != np.floor(q)) | (q > 2**53), "quantity not a whole number > 0")
    tz = market.tz
    dec, miss, other = _times(df, "orders", "decision_time", tz)
    _flag(reason, miss, "decision_time missing")
    _flag(reason, other, "decision_time in another time zone")
    if "arrival_time" in df.columns:
        arr, miss, other = _times(df, "orders", "arrival_time", tz)
        _flag(reason, miss, "arrival_time missing")
        _flag(reason, other, "arrival_time in another time zone")
    else:
        arr = dec.copy()
    _flag(reason, arr < dec, "arrival before decision")
    day = market.calendar.session_of(arr)
    _flag(reason, day < 0, "arrival on a date that is not a session")
    dsafe = np.maximum(day, 0)
    close = market.close_ns(dsafe)
    _flag(reason, arr > close, "arrival after the close")
    end = close.copy()
    if "end_time" in df.columns:
        e, miss, other = _times(df, "orders", "end_time", tz)
        _flag(reason, other, "end_time in another time zone")
        _flag(reason, ~miss & (e < arr), "end_time before arrival")
        end = np.where(miss, close, np.minimum(e, close))
    good = np.flatnonzero(np.equal(reason, None))
    rejected = _rejected_frame("orders", df.index, oid, None, reason)
    sign = side_to_sign(side.iloc[good], "orders", "side") if len(good) else np.zeros(0, np.int64)
    rows = OrderRows(df.iloc[good], oid[good], tick[good], k[good].astype(np.int64), sign, q[good].astype(np.int64),
                     dec[good], arr[good], end[good], day[good].astype(np.int64), close[good])
    return rows, rejected


def check_fill_rows(fills: object, orders: OrderRows, market: Market, *, all_order_ids: pd.Index | None = None
                    ) -> tuple[FillRows, pd.DataFrame]:
    """Fills that pass every row check against the accepted ``orders``, and the rejected rows.

    ``all_order_ids`` (the ids of every input order, accepted or not) tells
    "unknown order_id" from "order rejected".
    """
    df = _require(fills, "fills", ["order_id", "time", "shares", "price"])
    n = len(df)
    reason = _reasons(n)
    fid_given = "fill_id" in df.columns
    fill_id = df["fill_id"].to_numpy() if fid_given else np.asarray(df.index)
    foid = pd.Index(df["order_id"])
    row = orders.order_id.get_indexer(foid) if len(orders) else np.full(n, -1, np.int64)
    known = all_order_ids if all_order_ids is not None else orders.order_id
    if n and len(known) and (row < 0).all() and not pd.api.types.is_dtype_equal(foid.dtype, known.dtype) \
            and known.get_indexer(foid).max() < 0:
        raise TypeError(f"fills column 'order_id' has dtype {foid.dtype} but orders column 'order_id' has dtype "
                        f"{known.dtype}, so no fill matches an order (e.g. {show(foid[0])}); read both with the same type.")
    is_known = np.asarray(foid.isin(known))
    _flag(reason, ~is_known & (row < 0), "unknown order_id")
    _flag(reason, row < 0, "order rejected")
    r = np.maximum(row, 0)
    t, miss, other = _times(df, "fills", "time", market.tz)
    _flag(reason, miss, "time missing")
    _flag(reason, other, "time in another time zone")
    if "ticker" in df.columns and len(orders):
        _flag(reason, df["ticker"].astype(str).to_numpy(dtype=object) != orders.ticker[r], "ticker differs from the order's")
    shares = _numeric(df, "fills", "shares")
    price = _numeric(df, "fills", "price")
    fee = _numeric(df, "fills", "fee") if "fee" in df.columns else np.zeros(n)
    with np.errstate(invalid="ignore"):
        _flag(reason, ~np.isfinite(shares) | (shares <= 0) | (shares != np.floor(shares)) | (shares > 2**53),
              "shares not a whole number > 0")
        _flag(reason, ~np.isfinite(price) | (price <= 0), "price not > 0")
        _flag(reason, ~np.isfinite(fee), "fee not finite")
    if len(orders):
        _flag(reason, t < orders.arrival_ns[r], "before arrival")
        _flag(reason, (t > orders.end_ns[r]) & (orders.end_ns[r] < orders.close_ns[r]), "after the order's end")
        _flag(reason, t > orders.close_ns[r], "after the close")
    if fid_given:
        # FIX execution ids are unique within a trading day: a repeat the same day is a duplicate report.
        date = (t + _offsets_ns(pd.DatetimeIndex(t.view("M8[ns]")).tz_localize("UTC").tz_convert(market.tz))) // 86_400_000_000_000
        ok = np.equal(reason, None)
        key = pd.DataFrame({"d": date[ok], "f": fill_id[ok]})
        dup = np.zeros(n, bool)
        dup[np.flatnonzero(ok)] = key.duplicated(keep="first").to_numpy()
        _flag(reason, dup, "duplicate fill_id")
    # Overfill: in time order (input order breaks ties), the fills that take an order past its quantity.
    ok = np.flatnonzero(np.equal(reason, None))
    if len(ok):
        o_r, o_t = row[ok], t[ok]
        srt = np.lexsort((ok, o_t, o_r))
        cum = _group_cumsum(shares[ok][srt], o_r[srt])
        over = np.zeros(n, bool)
        over[ok[srt]] = cum > orders.quantity[o_r[srt]]
        _flag(reason, over, "overfill")
    good = np.flatnonzero(np.equal(reason, None))
    rejected = _rejected_frame("fills", df.index, foid, fill_id, reason)
    rows = FillRows(df.iloc[good], row[good].astype(np.int64), t[good], shares[good], price[good], fee[good],
                    fill_id[good])
    return rows, rejected


def _group_cumsum(x: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum within runs of equal ``group`` (``group`` sorted)."""
    c = np.cumsum(x)
    start = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, bool)
    first = np.flatnonzero(start)
    base = np.repeat(c[first] - x[first], np.diff(np.r_[first, len(x)]))
    return c - base


def check_executions(orders: object, fills: object, market: Market) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split orders and fills into the rows TCA uses and the rows it rejects, with reasons.

    Parameters
    ----------
    orders, fills : DataFrame
        See :data:`ORDER_SCHEMA` and :data:`FILL_SCHEMA`.
    market : Market
        Gives the tickers, sessions, closes and time zone the rows are checked against.

    Returns
    -------
    orders_ok, fills_ok, rejected : DataFrame
        The accepted input rows (unchanged), and one row per rejected input
        row: ``table`` ("orders"/"fills"), ``row`` (its index label),
        ``order_id``, ``fill_id`` and ``reason`` (the first that applies, from
        :data:`REASONS`).  The fills of a rejected order are rejected too
        ("order rejected").

    Raises
    ------
    ValueError
        A required column is missing (named), or a time column has no time zone.
    TypeError
        A column of the wrong type (e.g. ``price`` as text), named with its dtype.

    Examples
    --------
    >>> import execlab as ex, pandas as pd
    >>> mkt = ex.load_market("5min", "AMZN")
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> orders = pd.DataFrame({"order_id": [1], "ticker": "AMZN", "side": "BUY", "quantity": [100],
    ...                        "decision_time": [t]})
    >>> fills = pd.DataFrame({"order_id": [1, 1, 2], "time": [t, t - pd.Timedelta("1min"), t],
    ...                       "shares": [60, 10, 5], "price": [220.0, 220.0, 220.0]})
    >>> ok_o, ok_f, rej = check_executions(orders, fills, mkt)
    >>> len(ok_f), rej["reason"].tolist()
    (1, ['before arrival', 'unknown order_id'])
    """
    o, rej_o = check_order_rows(orders, market)
    f, rej_f = check_fill_rows(fills, o, market, all_order_ids=pd.Index(orders["order_id"]))
    return o.frame, f.frame, pd.concat([rej_o, rej_f], ignore_index=True)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
_TIME_COLUMNS = ("decision_time", "arrival_time", "end_time", "time")


def _read_one(source: object, name: str, engine: str) -> Any:
    if isinstance(source, pd.DataFrame):
        return source
    if engine == "dask" and not isinstance(source, (str, Path)):
        return source  # already a dask DataFrame
    if not isinstance(source, (str, Path)):
        raise TypeError(f"{name} must be a DataFrame or a path to a .csv or .parquet file/folder, got {type(source).__name__}.")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{name} path {str(path)!r} does not exist.")
    suffix = "".join(path.suffixes).lower()
    is_parquet = path.is_dir() or suffix.endswith((".parquet", ".pq"))
    if engine == "dask":
        import dask.dataframe as dd

        if is_parquet:
            return dd.read_parquet(str(path))
        return dd.read_csv(str(path))
    if is_parquet:
        return pd.read_parquet(path)
    if ".csv" in suffix:
        df = pd.read_csv(path)
        for c in _TIME_COLUMNS:
            if c in df.columns and df[c].dtype == object:
                df[c] = df[c].astype(object)  # keep text: offsets are checked row by row in _times
        return df
    raise ValueError(f"{name} file {path.name!r} is neither .csv nor .parquet.")


def read_executions(orders: object, fills: object, *, engine: str = "pandas") -> tuple[Any, Any]:
    """Read the user's orders and fills from CSV or parquet (or pass DataFrames through).

    Parameters
    ----------
    orders, fills : DataFrame, str or Path
        ``.csv`` files, ``.parquet`` files or folders of parquet files.  In a
        CSV, times must carry their UTC offset (ISO 8601, e.g.
        ``2024-01-02T10:00:00-05:00``); they are kept as text and checked
        row by row by :func:`execlab.tca`.
    engine : {"pandas", "dask"}
        ``"dask"`` reads the fills lazily as a ``dask.dataframe`` (one
        partition per parquet file; write one file per session) for the
        out-of-core path of :func:`execlab.tca`.  Orders are always read
        into memory.

    Returns
    -------
    orders, fills
        Schema checks happen in :func:`execlab.tca` (or
        :func:`check_executions`), not here.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"order_id": [1], "time": ["2024-01-02T10:00:00-05:00"], "shares": [5],
    ...               "price": [10.0]}).to_csv(os.path.join(d, "f.csv"), index=False)
    >>> pd.DataFrame({"order_id": [1]}).to_parquet(os.path.join(d, "o.parquet"))
    >>> o, f = read_executions(os.path.join(d, "o.parquet"), os.path.join(d, "f.csv"))
    >>> f["time"].iloc[0]
    '2024-01-02T10:00:00-05:00'
    """
    if engine not in ("pandas", "dask"):
        raise ValueError(f"engine == {engine!r}, must be one of ['pandas', 'dask'].")
    return _read_one(orders, "orders", "pandas"), _read_one(fills, "fills", engine)
