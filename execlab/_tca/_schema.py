r"""The user's own orders and fills: documented schema, reading, and the accepted/rejected split.

:func:`execlab.check_orders`/:func:`execlab.check_fills` raise on the first
bad row, which is right for orders execlab is about to simulate.  Post-trade,
a desk's blotter always holds some bad rows, and dropping them silently would
bias every cost figure; so here each bad row is **rejected** into a table with
its reason, and everything else is analysed.  A wrong *schema* (a missing
column, or a column of the wrong type) is still an error, naming the column.

The rules themselves, and the conversions (side to +1/-1, times to int64
ns), are those of :mod:`execlab._orders` (``errors="reject"``): one set of
rules for every orders and fills frame execlab reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .._market import Market
from .._orders import FILL_REASONS, ORDER_REASONS, check_fills, check_orders

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

#: Every reason a row can be rejected for, in the order they are checked (rules: :func:`execlab._orders.check_orders`
#: and :func:`execlab._orders.check_fills`).
REASONS = {"orders": ORDER_REASONS, "fills": FILL_REASONS}


# ---------------------------------------------------------------------------
# Accepted and rejected rows
# ---------------------------------------------------------------------------
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
    o = check_orders(orders, market=market, errors="reject")
    f = check_fills(fills, o, market=market, errors="reject", all_order_ids=pd.Index(orders["order_id"]))
    return o.frame, f.frame, pd.concat([o.rejected, f.rejected], ignore_index=True)


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
            files = [path] if path.is_file() else sorted(path.iterdir())
            if files and all(f.is_file() and f.suffix.lower() in (".parquet", ".pq") for f in files):
                from pyarrow.fs import LocalFileSystem

                # dask's reader on pyarrow's file system: into pyarrow's memory, not through Python file objects (a
                # distributed worker then takes far fewer fresh pages), and a file is never split across partitions
                return dd.read_parquet([str(f) for f in files], filesystem=LocalFileSystem())
            return dd.read_parquet(str(path))  # anything else in the folder (subfolders, markers): dask's default
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
        ``"dask"`` reads the fills lazily as a ``dask.dataframe`` for the
        out-of-core path of :func:`execlab.tca`; write one parquet file per
        session.  A file, or a folder holding parquet files only, is read
        with dask's reader on pyarrow's file system (a partition is one file
        or several small ones, never part of a file, so an order's fills
        stay together); any other folder with dask's default reader.
        Orders are always read into memory.

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
