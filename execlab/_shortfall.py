r"""Implementation shortfall (Perold, 1988), slippage against benchmarks, and group summaries.

Sign convention
---------------
Every cost in this module is **positive when it is a cost**, for buys and
sells alike: with :math:`s = +1` for a buy and :math:`-1` for a sell, a
quantity like "paid above arrival" is :math:`s\,(\bar p - P_a)`.  A negative
number is a gain (the price moved in the trader's favour).

Prices
------
Decision, arrival and end-of-horizon prices are quote mids at those instants,
read from the bars: in the bar containing the instant, linear in time between
the bar's ``mid_open`` (quote mid at its start) and ``mid_close`` (at its
end); before the open the day's first ``mid_open``, at or after the close the
day's last ``mid_close``.  One-minute bars give a mid at most one bar stale;
interpolation splits the difference instead of always using the older quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._kernels import interval_sum
from ._market import Market, _as_market
from ._orders import Orders, check_fills, check_orders, from_ns, show, sign_to_side
from ._validation import check_frame, check_scalar

__all__ = ["shortfall", "summarize", "COST_METRICS", "SLIPPAGE_METRICS", "DEFAULT_METRICS"]

COST_METRICS = ("is_bps", "delay_cost_bps", "execution_cost_bps", "opportunity_cost_bps", "fees_bps")
SLIPPAGE_METRICS = ("slippage_arrival_bps", "slippage_vwap_bps", "slippage_twap_bps", "slippage_close_bps")
DEFAULT_METRICS = COST_METRICS + SLIPPAGE_METRICS + ("fill_rate",)

def shortfall(orders: pd.DataFrame, fills: pd.DataFrame, market: Market | pd.DataFrame) -> pd.DataFrame:
    r"""Implementation shortfall of each parent order, decomposed, with slippage benchmarks.

    Parameters
    ----------
    orders : DataFrame
        ``order_id, ticker, side, quantity, decision_time`` and optionally
        ``arrival_time`` (default: the decision time) and ``end_time`` (the
        end of the order's horizon, where unexecuted shares are marked;
        default: the session close).  ``SimulationResult.orders`` qualifies.
        Other columns (``algorithm``, ``urgency``, ``status``...) are passed
        through.
    fills : DataFrame
        ``order_id, time, shares, price`` and optionally ``fee`` ($, may be
        negative for rebates), e.g. ``SimulationResult.fills``.  An order may
        have no fills.
    market : Market or DataFrame
        The market model (:func:`execlab.load_market`); a bars DataFrame
        with ``ticker, time, volume, vwap, mid, mid_open, mid_close, close``
        (:func:`execlab.load_bars`) is converted once.

    Returns
    -------
    DataFrame
        Indexed by ``order_id``, one row per order in input order.  Prices in
        $ per share: ``decision_price``, ``arrival_price``, ``end_price``,
        ``avg_price`` (NaN when nothing executed), ``interval_vwap``,
        ``interval_twap``, ``close_price``.  Shares (int64): ``executed``,
        ``unexecuted``; ``fill_rate`` = executed / quantity (1 for an order
        of 0 shares).  ``paper_notional`` = quantity x
        decision price ($).  Costs in $ and bps of ``paper_notional``
        (positive = cost): ``is_total``/``is_bps``,
        ``delay_cost``/``delay_cost_bps``,
        ``execution_cost``/``execution_cost_bps``,
        ``opportunity_cost``/``opportunity_cost_bps``, ``fees``/``fees_bps``.
        Slippage of the average price in bps of the benchmark (positive =
        cost, NaN when nothing executed): ``slippage_arrival_bps``,
        ``slippage_vwap_bps``, ``slippage_twap_bps``, ``slippage_close_bps``.

    Raises
    ------
    ValueError
        Fills for an unknown ``order_id``, fills adding up to more than the
        order's quantity, non-positive or NaN prices, negative or fractional
        shares, fills
        before the order's decision bar, bars missing for a ticker or a day,
        unsorted bar times, an unknown ``side``, NaT times.

    Notes
    -----
    Perold's paper portfolio trades all :math:`Q` shares at the decision
    price :math:`P_d` for free.  The real one executes :math:`X` shares at
    prices :math:`p_k` (:math:`\sum_k x_k = X`, average :math:`\bar p`), pays
    fees :math:`F` and leaves :math:`U = Q - X` unexecuted, marked at the
    end-of-horizon price :math:`P_e`.  With :math:`s = \pm 1` for buy/sell
    and arrival price :math:`P_a`, the shortfall

    .. math::
        IS = s\Big(\sum_k x_k p_k - X P_d\Big) + s\,U\,(P_e - P_d) + F

    splits exactly into

    .. math::
        \underbrace{s\,Q\,(P_a - P_d)}_{\text{delay}}
        + \underbrace{s\,X\,(\bar p - P_a)}_{\text{execution}}
        + \underbrace{s\,U\,(P_e - P_a)}_{\text{opportunity}}
        + \underbrace{F}_{\text{fees}} .

    Each is also given in bps of :math:`Q P_d`, so the bps parts add up to
    ``is_bps``.  Execution cost holds the spread, impact and the timing of
    the market over the execution.  An order with :math:`Q = 0` costs 0 bps.

    Slippage is per executed share against a benchmark :math:`B`:
    :math:`10^4\,s\,(\bar p - B)/B`, with :math:`B` the arrival price, the
    interval VWAP (market volume-weighted price over the bars from the
    arrival bar to the last fill's bar, whole bars; if the market traded
    nothing there, the mean of the bars' carried ``vwap``), the interval TWAP
    (mean bar ``mid`` over the same bars) or the close (the day's last trade,
    the last bar's ``close``).

    References
    ----------
    Perold, A. F. (1988). The implementation shortfall: paper versus reality.
    *Journal of Portfolio Management*, 14(3), 4-9.

    Examples
    --------
    >>> import execlab as ex, pandas as pd
    >>> mkt = ex.load_market("1min", "AMZN")
    >>> t0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> orders = pd.DataFrame({"order_id": [1], "ticker": "AMZN", "side": "BUY",
    ...                        "quantity": [500], "decision_time": [t0]})
    >>> fills = pd.DataFrame({"order_id": [1], "time": [t0], "shares": [300], "price": [224.0]})
    >>> t = ex.shortfall(orders, fills, mkt)
    >>> parts = t[["delay_cost", "execution_cost", "opportunity_cost", "fees"]].sum(axis=1)
    >>> bool(abs(parts.iloc[0] - t["is_total"].iloc[0]) < 1e-9)
    True
    """
    o = check_orders(orders)
    m = _as_market(market)
    code = m.code(o.ticker, "orders", "ticker", o.frame.index)
    prices = order_prices(o, m, code)
    f = check_fills(fills, o)
    sums = fill_sums(f.row, f.time_ns, f.shares, f.price, f.fee, prices.arrival, len(o))
    # Fills must be in the session of the order's arrival, never after its close.  check_fills
    # has seen to it that no fill precedes its order's arrival, so a fill is in the right
    # session exactly when it is before that session's close: one comparison per fill.
    row = f.row
    first_bar = m.day_first[prices.arrival_day]
    early = f.time_ns < m.start_ns[first_bar][row]
    if early.any():  # an order that arrives before the open may not fill before it: there is no bar to read
        pos = int(np.flatnonzero(early)[0])
        raise ValueError(
            f"fills column 'time' has {from_ns(f.time_ns[pos:pos + 1], m.tz)[0]} at row {show(f.frame.index[pos])}, "
            f"before the open of its session ({from_ns(m.start_ns[first_bar[row[pos]]:first_bar[row[pos]] + 1], m.tz)[0]}), "
            f"for order_id {show(o.order_id[row[pos]])}."
        )
    close_ns = m.end_ns[m.day_last[prices.arrival_day]]
    bad = f.time_ns >= close_ns[row]
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        fday = m.session_of(f.time_ns[pos:pos + 1], "fills", "time", f.frame.index[pos:pos + 1], o.ticker[row[pos:pos + 1]])
        what = ("after the close of its session" if fday[0] == prices.arrival_day[row[pos]]
                else f"in another session than the order's arrival ({m.dates[prices.arrival_day[row[pos]]].date()})")
        raise ValueError(
            f"fills column 'time' has {from_ns(f.time_ns[pos:pos + 1], m.tz)[0]} at row {show(f.frame.index[pos])}, "
            f"{what}, for order_id {show(o.order_id[row[pos]])}."
        )
    return shortfall_table(o, m, code, prices, sums)


@dataclass(frozen=True)
class OrderPrices:
    """Per order: the sessions and mids an order's shortfall is measured from."""

    decision: np.ndarray
    arrival: np.ndarray
    end: np.ndarray
    end_ns: np.ndarray
    arrival_day: np.ndarray


@dataclass(frozen=True)
class FillSums:
    """Per order, over its fills: shares, fees, the sum of shares x (price - arrival price), the last fill time."""

    executed: np.ndarray  # float64 holding whole shares (exact below 2**53)
    fees: np.ndarray
    vs_arrival: np.ndarray
    last_ns: np.ndarray  # int64, int64 min for an order without fills


def order_prices(o: Orders, m: Market, code: np.ndarray) -> OrderPrices:
    """Decision, arrival and end mids of checked orders (their times must fall in sessions: named errors if not)."""
    dday = m.session_of(o.decision_ns, "orders", "decision_time", o.frame.index, o.ticker)
    aday = m.session_of(o.arrival_ns, "orders", "arrival_time", o.frame.index, o.ticker)
    if o.end_ns is not None:
        end_ns = o.end_ns
        eday = m.session_of(end_ns, "orders", "end_time", o.frame.index, o.ticker)
        end_price = m.mid_at(code, end_ns, eday)
    else:
        last = m.day_last[aday]
        end_ns = m.end_ns[last]
        end_price = m.flat("mid_close")[code, last]
    return OrderPrices(m.mid_at(code, o.decision_ns, dday), m.mid_at(code, o.arrival_ns, aday), end_price, end_ns, aday)


def fill_sums(row: np.ndarray, time_ns: np.ndarray, shares: np.ndarray, price: np.ndarray, fee: np.ndarray,
              arrival: np.ndarray, n: int) -> FillSums:
    """:class:`FillSums` of checked fills (``row``: each fill's order position), in one pass of bincounts."""
    last_ns = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_ns, row, time_ns)
    # Price differences per fill before summing: sum x_k (p_k - P_a) keeps its digits,
    # sum x_k p_k - X P_a cancels two numbers of order 1e7 dollars.
    return FillSums(np.bincount(row, weights=shares, minlength=n), np.bincount(row, weights=fee, minlength=n),
                    np.bincount(row, weights=shares * (price - arrival[row]), minlength=n), last_ns)


def shortfall_table(o: Orders, m: Market, code: np.ndarray, prices: OrderPrices, sums: FillSums) -> pd.DataFrame:
    """The table :func:`shortfall` returns, from checked orders, their prices and their fills' sums (no per-fill work)."""
    n = len(o.quantity)
    aday = prices.arrival_day
    p_dec, p_arr, end_price, end_ns = prices.decision, prices.arrival, prices.end, prices.end_ns
    q = o.quantity.astype(np.float64)
    # Whole shares: the float64 sums are exact below 2**53, so the int64 cast is too.
    executed = sums.executed.astype(np.int64)
    fees = sums.fees
    unexecuted = o.quantity - executed
    abar, _ = m.locate(o.arrival_ns, aday)
    # The interval runs from the arrival bar to the last fill's bar: the latest fill time
    # per order, located once per order rather than once per fill.
    has = executed > 0
    last_bar, _ = m.locate(np.where(has, sums.last_ns, o.arrival_ns), aday)
    b0 = abar
    b1 = np.maximum(last_bar, b0)

    # The average price and the cost against the decision price follow from the fills' sum
    # against arrival per order, not per fill.
    vs_arrival = sums.vs_arrival
    vs_decision = vs_arrival + executed * (p_arr - p_dec)
    vol = m.flat("volume")
    vw = m.flat("vwap")
    nb = (b1 - b0 + 1).astype(np.float64)
    i_vol = interval_sum(vol, code, b0, b1)
    i_not = interval_sum(vol * vw, code, b0, b1)
    i_vw = interval_sum(vw, code, b0, b1)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap_i = np.where(i_vol > 0, i_not / np.where(i_vol > 0, i_vol, 1.0), i_vw / nb)
        twap_i = interval_sum(m.flat("mid"), code, b0, b1) / nb
        avg = np.where(has, p_arr + vs_arrival / np.where(has, executed, 1.0), np.nan)
    vwap_i = np.where(has, vwap_i, np.nan)
    twap_i = np.where(has, twap_i, np.nan)
    close_price = m.flat("close")[code, m.day_last[aday]]

    s = o.sign.astype(np.float64)
    delay = s * q * (p_arr - p_dec)

    execution = s * vs_arrival
    opportunity = s * unexecuted * (end_price - p_arr) + 0.0  # + 0.0: no negative zeros
    total = s * vs_decision + s * unexecuted * (end_price - p_dec) + fees
    paper = q * p_dec
    scale = np.where(paper > 0, 1e4 / np.where(paper > 0, paper, 1.0), 0.0)

    def slip(bench: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.where(has, 1e4 * s * (avg - bench) / bench, np.nan)

    columns = {
        "ticker": o.ticker.astype(str),
        "side": sign_to_side(o.sign),
        "quantity": o.quantity,
    }
    produced = {
        "decision_time": from_ns(o.decision_ns, m.tz),
        "arrival_time": from_ns(o.arrival_ns, m.tz),
        "end_time": from_ns(end_ns, m.tz),
        "decision_price": p_dec,
        "arrival_price": p_arr,
        "end_price": end_price,
        "avg_price": avg,
        "executed": executed,
        "unexecuted": unexecuted,
        "fill_rate": np.where(q > 0, executed / np.where(q > 0, q, 1.0), 1.0),
        "paper_notional": paper,
        "is_total": total,
        "is_bps": total * scale,
        "delay_cost": delay,
        "delay_cost_bps": delay * scale,
        "execution_cost": execution,
        "execution_cost_bps": execution * scale,
        "opportunity_cost": opportunity,
        "opportunity_cost_bps": opportunity * scale,
        "fees": fees,
        "fees_bps": fees * scale,
        "interval_vwap": vwap_i,
        "interval_twap": twap_i,
        "close_price": close_price,
        "slippage_arrival_bps": slip(p_arr),
        "slippage_vwap_bps": slip(vwap_i),
        "slippage_twap_bps": slip(twap_i),
        "slippage_close_bps": slip(close_price),
    }
    skip = set(columns) | set(produced) | {"order_id", "filled", "unfilled"}
    for c in o.frame.columns:
        if c not in skip:
            columns[c] = o.frame[c].to_numpy()
    columns.update(produced)
    # One constructor call, not one column insertion at a time.
    return pd.DataFrame(columns, index=pd.Index(o.order_id, name="order_id"))


def _weights_for(table: pd.DataFrame, metric: str) -> np.ndarray:
    """Dollar weights that make the weighted mean the group's aggregate figure."""
    if metric.startswith("slippage_"):
        # Per executed share: weight by executed dollars.
        return (table["executed"] * table["avg_price"].fillna(0.0)).to_numpy(np.float64)
    if metric == "fill_rate":
        return table["quantity"].to_numpy(np.float64)
    return table["paper_notional"].to_numpy(np.float64)


def summarize(
    table: pd.DataFrame,
    by: str | Sequence[str] | None = "algorithm",
    rng: np.random.Generator | int | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Per-group statistics of shortfall metrics with bootstrap confidence intervals.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`shortfall` (extra columns such as ``algorithm``
        come from the orders).
    by : str, list of str or None, default "algorithm"
        Grouping column(s); ``None`` treats the table as one group ``"all"``.
    rng : numpy.random.Generator, int or None
        Source of the bootstrap resamples; an int seeds a new Generator.
        ``None`` draws fresh entropy (intervals then vary run to run).
    n_boot : int, default 1000
        Bootstrap resamples (>= 10).
    level : float, default 0.95
        Confidence level of the percentile interval, in (0, 1).
    metrics : sequence of str, optional
        Columns to summarize; default the cost and slippage bps columns and
        ``fill_rate``.

    Returns
    -------
    DataFrame
        Indexed by (group..., ``metric``): ``count`` (orders with a value;
        slippage is undefined for unexecuted orders), ``mean``, ``median``,
        ``std`` (sample, ddof 1), ``vw_mean``, ``ci_lower``, ``ci_upper``
        (bootstrap interval of the mean) and ``fill_rate`` (executed /
        ordered shares of the group, repeated on each metric row for
        convenience).  Statistics of metrics in bps are in bps.  ``std`` and
        the interval are NaN when ``count`` < 2 (one order says nothing about
        the spread), the other statistics NaN when ``count`` is 0.

    Notes
    -----
    ``vw_mean`` is weighted by traded dollars, so that it is the group's
    aggregate as one portfolio: cost bps are weighted by ``paper_notional``
    (:math:`\sum IS / \sum Q P_d`), slippage by executed dollars, fill rate by
    ordered shares.

    The bootstrap resamples orders with replacement within each group,
    :math:`B` = ``n_boot`` times, and takes the
    :math:`(1 \pm \text{level})/2` percentiles of the resampled means.
    It is vectorized: resample counts :math:`c_{bi}` form a (B, n) matrix and
    the resampled means of every metric at once are
    :math:`(c\,(v \odot m)) / (c\,m)` for values :math:`v` and the
    indicator :math:`m` of non-missing values.  A group of a few orders gives
    a wide, unreliable interval; read ``count`` first.

    References
    ----------
    Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the
    Bootstrap*. Chapman & Hall, ch. 13 (percentile intervals).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"algorithm": ["a", "a", "b"], "is_bps": [1.0, 3.0, 5.0],
    ...                   "quantity": [100, 100, 100], "executed": [100, 100, 50],
    ...                   "paper_notional": [1e4, 3e4, 1e4], "fill_rate": [1.0, 1.0, 0.5]})
    >>> s = summarize(t, rng=0, metrics=["is_bps"])
    >>> s.loc[("a", "is_bps"), ["count", "mean", "vw_mean", "fill_rate"]].tolist()
    [2.0, 2.0, 2.5, 1.0]
    """
    check_frame(table, "table", ["quantity", "executed"])
    if metrics is None:
        metrics = [m for m in DEFAULT_METRICS if m in table.columns]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics is empty; table holds none of the default metric columns.")
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise ValueError(f"metrics {missing} are not columns of table; it has {list(map(str, table.columns))}.")
    n_boot = int(check_scalar(n_boot, "n_boot", min_val=10, integer=True))
    level = check_scalar(level, "level", min_val=0.0, max_val=1.0, include_min=False, include_max=False)
    if isinstance(rng, np.random.Generator):
        gen = rng
    elif rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        gen = np.random.default_rng(rng)
    else:
        raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}.")
    if by is None:
        keys = ["group"]
        table = table.assign(group="all")
    else:
        keys = [by] if isinstance(by, str) else list(by)
        miss = [k for k in keys if k not in table.columns]
        if miss:
            raise ValueError(f"by == {by!r}: column(s) {miss} not in table; it has {list(map(str, table.columns))}.")
    values = np.column_stack([_numeric_column(table, m) for m in metrics])
    inf = np.isinf(values)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise ValueError(f"table column {show(metrics[j])} has {values[i, j]} at row {show(table.index[i])}; must be finite or NaN.")
    weights = np.column_stack([_weights_for(table, m) if _has_weight_cols(table, m) else np.ones(len(table)) for m in metrics])
    qty = _numeric_column(table, "quantity")
    exe = _numeric_column(table, "executed")
    for name, col in (("quantity", qty), ("executed", exe)):
        bad = ~np.isfinite(col) | (col < 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"table column {name!r} has {col[pos]} at row {show(table.index[pos])}; must be finite and >= 0.")
    alpha = (1.0 - level) / 2.0
    rows = []
    index = []
    grouped = table.groupby(keys, sort=True, dropna=False).indices
    for key, idx in grouped.items():
        v = values[idx]
        w = weights[idx]
        valid = ~np.isnan(v)
        v0 = np.where(valid, v, 0.0)
        cnt = valid.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = v0.sum(axis=0) / cnt
            wv = np.where(valid, w, 0.0)
            vw = (wv * v0).sum(axis=0) / wv.sum(axis=0)
            median = np.full(len(metrics), np.nan)
            some = cnt > 0
            if some.any():
                median[some] = np.nanmedian(v[:, some], axis=0)
            # Sample std (ddof 1); undefined, like the interval, for fewer than two values.
            std = np.sqrt(((v0 - mean) ** 2 * valid).sum(axis=0) / np.maximum(cnt - 1, 1))
        lo, hi = _bootstrap_mean_ci(v0, valid.astype(np.float64), gen, n_boot, alpha)
        one = cnt < 2
        std[one], lo[one], hi[one] = np.nan, np.nan, np.nan
        fr = exe[idx].sum() / qty[idx].sum() if qty[idx].sum() > 0 else 1.0
        key_t = key if isinstance(key, tuple) else (key,)
        for j, m in enumerate(metrics):
            index.append(key_t + (m,))
            rows.append((cnt[j], mean[j], median[j], std[j], vw[j], lo[j], hi[j], fr))
    out = pd.DataFrame(
        rows,
        columns=["count", "mean", "median", "std", "vw_mean", "ci_lower", "ci_upper", "fill_rate"],
        index=pd.MultiIndex.from_tuples(index, names=keys + ["metric"]),
    )
    out["count"] = out["count"].astype(np.int64)
    return out


def _numeric_column(table: pd.DataFrame, column: str) -> np.ndarray:
    try:
        return pd.to_numeric(table[column], errors="raise").to_numpy(np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"table column {column!r} must be numeric: {exc}") from None


def _has_weight_cols(table: pd.DataFrame, metric: str) -> bool:
    if metric.startswith("slippage_"):
        return "avg_price" in table.columns
    if metric == "fill_rate":
        return True
    return "paper_notional" in table.columns


def _bootstrap_mean_ci(
    v0: np.ndarray, valid: np.ndarray, gen: np.random.Generator, n_boot: int, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap of the mean of each column, all columns at once.

    Resample counts come from one ``integers`` draw per chunk of resamples
    (chunks bound memory at about 2 million draws); the means are two matrix
    products, so there is no Python loop over resamples.
    """
    n, m = v0.shape
    if n == 0:
        return np.full(m, np.nan), np.full(m, np.nan)
    chunk = max(1, min(n_boot, 2_000_000 // n))
    means = np.empty((n_boot, m))
    for b in range(0, n_boot, chunk):
        k = min(chunk, n_boot - b)
        draws = gen.integers(0, n, size=(k, n))
        counts = np.bincount((draws + (np.arange(k) * n)[:, None]).ravel(), minlength=k * n).reshape(k, n)
        counts = counts.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[b : b + k] = (counts @ v0) / (counts @ valid)
    lo, hi = np.full(m, np.nan), np.full(m, np.nan)
    ok = np.isfinite(means).any(axis=0)
    if ok.any():
        # Resamples that drew only missing values have no mean; leave them out.
        lo[ok] = np.nanquantile(means[:, ok], alpha, axis=0)
        hi[ok] = np.nanquantile(means[:, ok], 1 - alpha, axis=0)
    return lo, hi
