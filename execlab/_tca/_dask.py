r"""The Dask path of :func:`execlab.tca`: the same kernel, one partition of fills at a time.

Fills come partitioned by session (one parquet file per session is the
natural layout).  Every partition is checked and analysed on its own by
:func:`execlab._tca._metrics.tca_core` against the (broadcast) accepted orders
and the market, on whatever scheduler is current -- threads, processes or a
``distributed`` cluster.  An order's metrics depend only on its own fills and
the market, so the per-partition results, concatenated, are the in-memory
results.  The one requirement: all fills of an order in one partition (an
order lives in one session); fills of one order found in two partitions
raise rather than being silently split.

Memory: a worker holds one partition's fills and their metrics (a few
hundred bytes per fill at the default settings; the benchmark prints the
peak per worker) plus the orders and the market; with ``fills_out`` the
per-fill tables go to parquet from the workers, and with ``keep_fills=False``
they are not built, so neither the workers nor the client ever hold all
fills.  The per-partition work allocates its per-fill temporaries once per
call, not per chunk of fills: ``distributed``'s nannies start workers with
``MALLOC_TRIM_THRESHOLD_`` set, which hands freed memory straight back to
the system, so there every fresh temporary costs page faults.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._market import Market
from .._kernels import run_starts
from .._orders import Fills, Orders, check_fills
from ._metrics import NO_ORDER, ForecastArrays, Params, QuoteBook, tca_core

__all__ = ["tca_dask"]


def _named_orders(o: Orders, part: pd.DataFrame) -> np.ndarray:
    """Positions in ``o`` of the orders that ``part``'s fills name, in order (ids looked up once per run)."""
    col = part["order_id"]
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iuf":
        v = col.to_numpy()
        named = np.unique(v[run_starts(v)])
    else:
        named = pd.unique(col)
    pos = o.order_id.get_indexer(pd.Index(named))
    return np.unique(pos[pos >= 0])  # unique: ids equal as numbers (1 and 1.0 in an object column) name one order


def _partition(part: pd.DataFrame, o: Orders, m: Market, fc: ForecastArrays, p: Params, book: QuoteBook | None,
               all_ids: pd.Index, out: str | None, i: int, keep_fills: bool = True
               ) -> tuple[pd.DataFrame | None, Any, pd.DataFrame, np.ndarray]:
    """Check and analyse one partition of fills; returns (orders, fills or path, rejected, order positions).

    The fills are checked against the orders they name only (every order of ``o`` they could belong to): each
    fill's order row is then a position among a partition's few orders, and the per-order lookups of the checks
    and of the compiled pass stay in cache.
    """
    named = _named_orders(o, part)
    sub = o.take(named)
    f = check_fills(part, sub, market=m, errors="reject", all_order_ids=all_ids)
    if len(f) == 0:
        return None, None, f.rejected, np.zeros(0, np.int64)
    has = np.zeros(len(sub), bool)
    has[f.row[run_starts(f.row)]] = True  # the named orders with an accepted fill
    if not has.all():  # an order all of whose fills were rejected: left to the orders without fills
        pos = np.cumsum(has) - 1
        sub, f = sub.take(np.flatnonzero(has)), dataclasses.replace(f, row=pos[f.row])
    otab, ftab = tca_core(sub, f, m, fc, p, book, keep_fills)
    if ftab is not None and out is not None:  # written by the worker, column by column from the arrays
        path = Path(out) / f"part.{i:05d}.parquet"
        ftab.to_parquet(path)
        ftab = str(path)
    elif ftab is not None:
        ftab = ftab.to_pandas()
    return otab, ftab, f.rejected, named[has]


def _compute(tasks: list, progress: bool) -> list:
    """Compute delayed tasks on the current distributed client if any, else the current scheduler."""
    import dask

    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        futures = client.compute(tasks)
        if progress:
            from distributed import progress as dprogress

            dprogress(futures, notebook=False)
        return client.gather(futures)
    if progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar(minimum=1.0):
            return list(dask.compute(*tasks))
    return list(dask.compute(*tasks))


def _shared(obj: object, tag: str) -> Any:
    """Ship a large read-only object to the workers once (scatter on a cluster, one named task otherwise)."""
    import dask

    try:
        from distributed import get_client

        client = get_client()
        return client.scatter(obj, broadcast=True, hash=False)
    except (ImportError, ValueError):
        return dask.delayed(obj, name=f"tca-{tag}-{uuid.uuid4().hex}", traverse=False)


def tca_dask(o: Orders, fills: Any, m: Market, fc: ForecastArrays, p: Params, book: QuoteBook | None,
             all_ids: pd.Index, *, progress: bool = False, fills_out: str | Path | None = None, keep_fills: bool = True):
    import dask

    missing = [c for c in ("order_id", "time", "shares", "price") if c not in fills.columns]
    if missing:
        raise ValueError(f"fills is missing required column(s) {missing}; it has {list(map(str, fills.columns))}. "
                         "See execlab._tca.FILL_SCHEMA.")
    out = None
    if fills_out is not None:
        out = Path(fills_out)
        out.mkdir(parents=True, exist_ok=True)
        stale = list(out.glob("part.*.parquet"))
        if stale:
            raise ValueError(f"fills_out folder {str(out)!r} already holds {len(stale)} part files; pass an empty folder.")
        out = str(out)
    o = dataclasses.replace(o, rejected=None)  # the workers need the accepted orders only
    shared = [_shared(x, t) for x, t in ((o, "orders"), (m, "market"), (fc, "forecast"), (book, "quotes"),
                                          (all_ids, "ids"))]
    part = dask.delayed(_partition, pure=False)
    so, sm_, sfc, sbook, sids = shared
    tasks = [part(d, so, sm_, sfc, p, sbook, sids, out, i, keep_fills) for i, d in enumerate(fills.to_delayed())]
    results = _compute(tasks, progress)

    otabs, ftabs, rejs, seen = [], [], [], []
    for otab, ftab, rej, used in results:
        rejs.append(rej)
        if otab is not None:
            otabs.append(otab)
            ftabs.append(ftab)
            seen.append(used)
    pos = np.concatenate(seen) if seen else np.zeros(0, np.int64)
    uniq, counts = np.unique(pos, return_counts=True)
    if (counts > 1).any():
        oid = o.order_id[int(uniq[counts > 1][0])]
        raise ValueError(f"fills of order_id {oid!r} are in more than one partition; partition the fills by session "
                         "(e.g. one parquet file per session) so that each order's fills are analysed together.")
    rest = np.setdiff1d(np.arange(len(o)), pos)
    if len(rest):
        z = np.zeros(0)
        empty = Fills(pd.DataFrame(), np.zeros(0, np.int64), np.zeros(0, np.int64), z, z, z, np.zeros(0, object))
        otab, _ = tca_core(o.take(rest), empty, m, fc, p, book)
        otabs.append(otab)
        pos = np.concatenate([pos, rest])
    if not otabs:
        raise ValueError(NO_ORDER)
    orders = pd.concat(otabs)
    if len(pos) > 1 and not (pos[1:] > pos[:-1]).all():  # parts in session order are often in order already
        orders = orders.iloc[np.argsort(pos, kind="stable")]
    c = "size_bucket"  # parts with the same categories stay categorical; otherwise give it back its categories
    if c in orders.columns and orders[c].dtype != otabs[0][c].dtype:
        orders[c] = pd.Categorical(orders[c].astype(str), categories=otabs[0][c].cat.categories, ordered=True)
    rejected = pd.concat(rejs, ignore_index=True) if rejs else pd.DataFrame()
    if not keep_fills:
        fills_table = None
    elif out is not None:
        import dask.dataframe as dd

        fills_table = dd.read_parquet(out) if ftabs else None
    else:
        fills_table = pd.concat(ftabs, ignore_index=True) if ftabs else pd.DataFrame()
    return orders, fills_table, rejected
