r"""Post-trade TCA of the user's own orders and fills: :func:`tca` -> :class:`TCAResult`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._forecast import Forecast
from .._market import Market, _as_market
from .._validation import check_scalar
from .._orders import check_fills, check_orders
from ._metrics import NO_ORDER, ForecastArrays, Params, QuoteBook, horizon_label, tca_core
from ._result import TCAResult

__all__ = ["tca"]


def _params(pwp_rates: Sequence[float], markout_horizons: Sequence[object], size_buckets: Sequence[float]) -> Params:
    rates = tuple(check_scalar(r, "pwp_rates", min_val=0.0, max_val=1.0, include_min=False) for r in pwp_rates)
    labels, ns = [], []
    for h in markout_horizons:
        if isinstance(h, str) and h == "close":
            labels.append("close")
            ns.append(-1)
            continue
        try:
            td = pd.Timedelta(h)
        except (TypeError, ValueError):
            raise ValueError(f"markout_horizons has {h!r}, must be a time span such as '5min' or 'close'.") from None
        if pd.isna(td) or td <= pd.Timedelta(0):
            raise ValueError(f"markout_horizons has {h!r}, must be > 0 (or 'close').")
        labels.append(horizon_label(h))
        ns.append(int(td.value))
    if len(set(labels)) != len(labels):
        raise ValueError(f"markout_horizons == {list(markout_horizons)!r} repeats a horizon.")
    edges = tuple(float(check_scalar(e, "size_buckets", min_val=0.0, include_min=False)) for e in size_buckets)
    if not edges or list(edges) != sorted(set(edges)):
        raise ValueError(f"size_buckets == {list(size_buckets)!r}, must be increasing % of ADV edges such as (1, 5, 10).")
    return Params(rates, tuple(labels), tuple(ns), edges)


def _forecast_arrays(m: Market, forecast: object) -> ForecastArrays:
    K, D = len(m.tickers), m.n_sessions
    if forecast is None:
        if D < 2:
            nan = np.full((K, D), np.nan)
            return ForecastArrays(nan, nan.copy(), np.zeros((K, D), np.int64), "none (one session: no history)")
        forecast = m.forecast(window=20, min_sessions=1)
    if not isinstance(forecast, Forecast):
        raise TypeError(f"forecast must be an execlab Forecast (market.forecast(...)) or None, got {type(forecast).__name__}.")
    if list(forecast.tickers) != list(m.tickers) or not forecast.dates.equals(m.dates):
        raise ValueError("forecast was made for another market (its tickers or sessions differ); build it with market.forecast(...).")
    return ForecastArrays(np.asarray(forecast.adv, np.float64), np.asarray(forecast.sigma, np.float64),
                          np.asarray(forecast.n_sessions_used), repr(forecast))


def _is_dask(x: object) -> bool:
    mod = type(x).__module__
    return mod.startswith("dask") and hasattr(x, "to_delayed")


def tca(
    orders: object,
    fills: object,
    market: Market | pd.DataFrame,
    *,
    pwp_rates: Sequence[float] = (0.1, 0.2),
    markout_horizons: Sequence[object] = ("1min", "5min", "30min", "close"),
    forecast: Forecast | None = None,
    quotes: pd.DataFrame | None = None,
    size_buckets: Sequence[float] = (0.5, 1, 2, 5, 10),
    progress: bool = False,
    fills_out: str | Path | None = None,
    keep_fills: bool = True,
) -> TCAResult:
    r"""Transaction cost analysis of your own orders and fills: every standard benchmark, per order and per fill.

    Parameters
    ----------
    orders : DataFrame
        One row per parent order, schema :data:`execlab._tca.ORDER_SCHEMA`:
        ``order_id, ticker, side, quantity, decision_time`` and optionally
        ``arrival_time``, ``end_time``; any other column (``algorithm``,
        ``broker``, ``trader``, ``urgency``...) is a tag carried to the
        results.  :func:`read_executions` reads CSV or parquet.
    fills : DataFrame or dask DataFrame
        One row per execution, schema :data:`execlab._tca.FILL_SCHEMA`:
        ``order_id, time, shares, price`` and optionally ``fee``,
        ``fill_id``, ``ticker``, ``venue``, ``liquidity``.  A
        ``dask.dataframe`` partitioned by session (all fills of a session, so
        all fills of an order, in one partition; e.g. one parquet file per
        session) is analysed partition by partition on the current Dask
        scheduler or ``distributed`` cluster, with the same results.
    market : Market or DataFrame
        The bars the benchmarks are read from (all sessions the orders trade in).
    pwp_rates : sequence of float, default (0.1, 0.2)
        Participation rates of the PWP benchmarks, in (0, 1].
    markout_horizons : sequence, default ("1min", "5min", "30min", "close")
        Time spans after each fill, and/or ``"close"`` (the session close).
        A horizon past the close is read at the close.
    forecast : Forecast, optional
        ADV and volatility per ticker and session (size as % of ADV, impact
        fits).  Default ``market.forecast(window=20, min_sessions=1)``:
        sessions *before* each order's only; the first session has none
        (its orders go to the ``"no ADV"`` size bucket).
    quotes : DataFrame, optional
        Your own quotes ``ticker, time, bid, ask``; then the touch at fill
        time and the markout mids are the last quote at or before the time.
        Without them the bars are used (see Notes).
    size_buckets : sequence of float, default (0.5, 1, 2, 5, 10)
        Edges of the size buckets, % of ADV.
    progress : bool, default False
        Show a progress bar (Dask path only).
    fills_out : str or Path, optional
        Dask path: folder where each partition writes its per-fill table as
        parquet, so no machine ever holds all fills; ``result.fills`` is then
        a lazy ``dask.dataframe`` of that folder.  Without it the per-fill
        tables are gathered into one pandas DataFrame.
    keep_fills : bool, default True
        False: no per-fill table (``result.fills`` is None), for blotters too
        large to hold or write fill by fill (100 million fills make about
        12 GB of per-fill parquet).  The per-order table is the same,
        share-weighted means of the per-fill metrics included: every
        per-fill metric is affine in the fill's price and time within its
        bar, so with numba each mean comes from three sums per (order, bar),
        two more per markout horizon that is not a whole number of bars,
        instead of every metric of every fill (equal to the per-fill means
        up to rounding, about 1e-11 bps; see Notes, "Scale").

    Returns
    -------
    TCAResult
        ``.orders`` (per order), ``.fills`` (per fill), ``.rejected`` (every
        row left out, with its reason), ``.summary()``, ``.by(tags)``,
        ``.cost_curve(...)``, ``.fit_impact(...)``, ``.to_parquet(dir)``.

    Raises
    ------
    ValueError
        A required column is missing (named), a time column without time
        zone, bad ``pwp_rates``/``markout_horizons``/``size_buckets``, or
        (Dask) fills of one order in two partitions.
    TypeError
        A column of the wrong type, named with its dtype.

    Notes
    -----
    **Rows left out.**  Bad rows are never dropped silently: they go to
    ``result.rejected`` with the reason (:data:`execlab._tca.REASONS`): fills
    before the order's arrival (even when after its decision), after its
    ``end_time`` or at or after the close (a session is [open, close), as
    for :func:`execlab.shortfall`), a fill ticker other than the order's,
    overfills (in time order, the fills that take an order past its
    quantity), unknown order ids, duplicate fill ids (FIX execution ids are
    unique within a day, so a repeat the same session), shares that are not
    a whole number > 0, prices not > 0, times in another time zone than the
    market's; orders with a bad id, side, quantity, time or ticker, and all
    their fills.  The rules are those every execlab entry point applies
    (:func:`execlab._orders.check_orders` and
    :func:`execlab._orders.check_fills`, ``errors="reject"``; their tables
    say where post-trade differs from :func:`execlab.shortfall`: a 0-share
    fill, for one, is rejected here and accepted there).

    **Scale.**  The work is linear in fills: one compiled pass over the
    fills when numba is installed (the ``fast`` extra), array passes over
    chunks of fills otherwise (same results), sums per order, no per-order
    Python.  A Dask
    DataFrame of 100 million fills runs partition by partition on a
    ``distributed`` cluster (``benchmarks/bench_tca_dask.py`` times it
    against reading the same columns); ``fills_out`` writes the per-fill
    tables from the workers, ``keep_fills=False`` skips them and computes
    the per-order means from sums per (order, bar) cell
    (:func:`execlab._tca._fill_loop.fill_runs`; used when numba is
    installed, no ``quotes`` are given, in the orders' sessions every bar's
    ``mid_open`` and ``mid_close`` is a number > 0, every ``mid`` a number
    > 0 or NaN and every ``spread`` a number or NaN, and the grid of
    (order, bar) cells is dense; else the per-fill pass).  Read the parquet
    fills with dask's reader on pyarrow's file system,
    ``dd.read_parquet(paths, filesystem=pyarrow.fs.LocalFileSystem())`` (or
    ``filesystem="arrow"`` for a folder of parquet files only), as the
    benchmark does: it reads into pyarrow's memory rather than through
    Python file objects, which on a ``distributed`` worker (whose malloc
    hands freed memory straight back) means far fewer fresh pages.

    **Per order** (``result.orders``): everything :func:`execlab.shortfall`
    gives (Perold's decomposition ``is_bps = delay + execution +
    opportunity + fees``; slippage of the average price :math:`\bar p`
    against arrival, interval VWAP, interval TWAP and close), and, with
    :math:`s = \pm 1`, :math:`\mathrm{slip}(B) = 10^4 s (\bar p - B)/B`:

    * ``slippage_day_vwap_bps``: against the full-session VWAP.
    * ``slippage_pwp_{r}_bps`` for each rate :math:`\rho` (``pwp_10`` for
      10 %): the participation-weighted price of Kissell (2013), the
      market VWAP of the first :math:`X/\rho` shares the market traded from
      the arrival bar on (:math:`X` = executed shares; blotter's "PWP
      shares"), the last bar taken pro rata.  ``pwp_{r}_complete`` is False
      when the session ended before :math:`X/\rho` shares traded (the
      price is then the VWAP to the close).
    * ``rpm``: blotter's relative performance measure over the bars from the
      first to the last fill,

      .. math::
          RPM = \tfrac12\,\frac{V + V_{fav} - V_{unfav}}{V},

      :math:`V_{fav}` the market volume at prices worse for the market than
      :math:`\bar p` (above it on a buy, below on a sell).  A percentile in
      [0, 1]: 0.5 is par, **higher is better** (the one metric that is not a
      cost).
    * ``participation`` = executed / market volume of the interval bars;
      ``size_pct_adv`` = 100 quantity / ADV and ``size_bucket``;
      ``duration`` (sessions, from arrival to the end of the last fill's
      bar); ``session``; ``n_fills``.
    * share-weighted means of the per-fill metrics below.

    **Per fill** (``result.fills``), with mid :math:`m` and spread
    :math:`S` at the fill and fill price :math:`p`:

    * ``vs_mid_bps`` :math:`= 10^4 s (p - m)/m` and ``vs_far_touch_bps``
      :math:`= 10^4 s (p - (m + sS/2))/m`: price improvement against the mid
      and the far touch is minus these (negative = improvement).
    * ``spread_paid`` :math:`= s (p - (m - sS/2))/S`: 0 at the near touch,
      0.5 at the mid, 1 at the far touch; spread capture is
      ``1 - spread_paid``.
    * ``markout_{h}_bps`` :math:`= 10^4 s (p - m_{t+h})/m`: the fill marked
      to the mid :math:`h` later (positive = cost).  ``reversion_{h}_bps``
      :math:`= 10^4 s (m - m_{t+h})/m` = markout minus ``vs_mid_bps``: the
      mid's move after the fill, signed so that **reversion is positive**
      (the price came back after we pushed it: temporary impact) and a
      continued move negative (permanent impact, or information).
    * ``slippage_arrival_bps`` against the order's arrival mid.

    **Where the quotes come from.**  The market model holds bars, not
    ticks: the mid and spread at a fill are its bar's time-weighted ``mid``
    and ``spread``; the mid at :math:`t + h` is the bar mid interpolated in
    time between ``mid_open`` and ``mid_close`` (as
    :meth:`Market.mid_at`).  Price improvement is then measured against the
    average touch of the bar: meaningful across many fills, not fill by
    fill.  Pass ``quotes`` for tick-level touches.  RPM likewise ranks
    against the bars' VWAPs, not individual trades.

    References
    ----------
    Kissell, R. (2013). *The Science of Algorithmic Trading and Portfolio
    Management*. Academic Press, ch. 3 (PWP, RPM).
    Perold, A. F. (1988). The implementation shortfall: paper versus
    reality. *Journal of Portfolio Management*, 14(3), 4-9.
    blotter (R), ``benchTradePerf``: interval/full VWAP, PWP, RPM.

    Examples
    --------
    >>> import execlab as ex, pandas as pd
    >>> from execlab._tca import tca
    >>> mkt = ex.load_market("1min", "AMZN")
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> orders = pd.DataFrame({"order_id": [1, 2], "ticker": "AMZN", "side": ["BUY", "SELL"],
    ...                        "quantity": [1000, 500], "decision_time": [t, t], "broker": ["A", "B"]})
    >>> fills = pd.DataFrame({"order_id": [1, 1, 2, 2], "time": [t, t + pd.Timedelta("5min")] * 2,
    ...                       "shares": [600, 400, 300, 300], "price": [220.1, 220.3, 219.8, 219.9]})
    >>> res = tca(orders, fills, mkt)
    >>> res
    TCAResult(2 orders, 3 fills, 1 rejected; markouts 1min/5min/30min/close, PWP at 10%/20%)
    >>> res.rejected[["table", "order_id", "reason"]].values.tolist()
    [['fills', 2, 'overfill']]
    """
    if not keep_fills and fills_out is not None:
        raise ValueError("fills_out was given with keep_fills=False; pass one or the other (fills_out keeps the "
                         "per-fill table on disk).")
    p = _params(pwp_rates, markout_horizons, size_buckets)
    m = _as_market(market)
    fc = _forecast_arrays(m, forecast)
    book = QuoteBook.from_frame(quotes, m) if quotes is not None else None
    if _is_dask(orders):
        orders = orders.compute()
    o = check_orders(orders, market=m, errors="reject")
    all_ids = pd.Index(orders["order_id"])
    if _is_dask(fills):
        from ._dask import tca_dask

        otab, ftab, rej_f = tca_dask(o, fills, m, fc, p, book, all_ids, progress=progress, fills_out=fills_out,
                                     keep_fills=keep_fills)
    else:
        f = check_fills(fills, o, market=m, errors="reject", all_order_ids=all_ids)
        if len(o) == 0:
            raise ValueError(NO_ORDER)
        otab, ftab = tca_core(o, f, m, fc, p, book, keep_fills)
        ftab, rej_f = (ftab.to_pandas() if keep_fills else None), f.rejected
    rejected = pd.concat([o.rejected, rej_f], ignore_index=True)
    return TCAResult(otab, ftab, rejected, m, p, fc.source)

