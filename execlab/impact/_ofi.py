"""Order-flow imbalance of Cont, Kukanov & Stoikov (2014) and its price-impact regressions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .._calendar import SESSION_OPEN
from .._validation import check_choice, check_frame, check_numeric_column, check_scalar, check_sorted_unique
from ..data import _parse_freq, _session_bins
from ._flow import _check_times, _newey_west_lags


def order_flow_imbalance(
    quotes: pd.DataFrame,
    freq: str | pd.Timedelta = "10s",
    *,
    tick_size: float = 0.01,
    trades: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Order-flow imbalance (OFI) per interval, event by event from the best quotes.

    Parameters
    ----------
    quotes : DataFrame
        ``ticker, time, bid, bid_size, ask, ask_size`` after every book event,
        time-sorted within each ticker (as from :func:`execlab.load_quotes`).
    freq : str or Timedelta, default "10s"
        Interval length; must divide the 09:30-16:00 session.
    tick_size : float, default 0.01
        Dollars per tick, for ``mid_change_ticks``.
    trades : DataFrame, optional
        ``ticker, time, size, sign``; adds ``trade_imbalance`` (buyer- minus
        seller-initiated shares per interval) for the comparison of Cont et al.

    Returns
    -------
    DataFrame
        One row per ticker, day and interval of the session (intervals never
        span tickers or days; empty intervals are kept with OFI 0):
        ``ticker, time`` (interval start), ``ofi`` (shares), ``mid_change``
        (dollars) and ``mid_change_ticks`` (mid at the end of the interval
        minus mid at its start), ``depth`` (mean of (bid_size + ask_size)/2
        over the interval's events; the standing depth if none), ``n_events``
        and, with ``trades``, ``trade_imbalance``.

    Notes
    -----
    Cont, Kukanov & Stoikov (2014, section 2), the contribution of the
    :math:`n`-th book event, from consecutive best-quote states
    :math:`n-1, n` with best bid :math:`P^B` ($), bid size :math:`q^B`
    (shares), best ask :math:`P^A` and ask size :math:`q^A`,

    .. math::
        e_n = \mathbb{1}_{P^B_n \ge P^B_{n-1}} q^B_n
            - \mathbb{1}_{P^B_n \le P^B_{n-1}} q^B_{n-1}
            - \mathbb{1}_{P^A_n \le P^A_{n-1}} q^A_n
            + \mathbb{1}_{P^A_n \ge P^A_{n-1}} q^A_{n-1},

    and :math:`\mathrm{OFI}_k = \sum_{n \in k} e_n` over the events of
    interval :math:`k` (the first event of a ticker-day has no predecessor and
    contributes 0).  The inequalities are weak, as in the paper: an unchanged
    best bid contributes :math:`q^B_n - q^B_{n-1}` (the change in the queue),
    a bid that moves up contributes the whole new queue :math:`q^B_n`, one that
    moves down minus the whole old queue :math:`-q^B_{n-1}`; the ask side
    mirrors it with the opposite sign.  An event stamped exactly on a boundary
    opens the next interval; the state at an interval's end is the book after
    its last event.

    References
    ----------
    Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order
    book events. *Journal of Financial Econometrics*, 12(1), 47-88.
    """
    td = _parse_freq(freq)
    tick_size = check_scalar(tick_size, "tick_size", min_val=0.0, include_min=False)
    check_frame(quotes, "quotes", ["ticker", "time", "bid", "bid_size", "ask", "ask_size"])
    t_all = _check_times(quotes, "quotes")
    bid = check_numeric_column(quotes, "bid", "quotes", min_val=0.0, include_min=False)
    ask = check_numeric_column(quotes, "ask", "quotes", min_val=0.0, include_min=False)
    qb = check_numeric_column(quotes, "bid_size", "quotes", min_val=0.0)
    qa = check_numeric_column(quotes, "ask_size", "quotes", min_val=0.0)
    if trades is not None:
        check_frame(trades, "trades", ["ticker", "time", "size", "sign"])
        tt_all = _check_times(trades, "trades")
        tsz = check_numeric_column(trades, "size", "trades", min_val=0.0)
        tsg = check_numeric_column(trades, "sign", "trades")
        if not (np.abs(tsg) == 1.0).all():
            pos = int(np.flatnonzero(np.abs(tsg) != 1.0)[0])
            raise ValueError(
                f"trades column 'sign' has {tsg[pos]} at row {trades.index[pos]!r}; must be +1 (buyer-initiated) or -1."
            )
        tick_tr = trades["ticker"].astype(str).to_numpy()
        day_tr = tt_all.normalize()
    tickers = quotes["ticker"].astype(str).to_numpy()
    frames = []
    for ticker in pd.unique(tickers):
        sel = tickers == ticker
        t = t_all[sel]
        check_sorted_unique(t, f"quotes time for {ticker}", strict=False)
        days = t.normalize()
        for day in days.unique():
            d = np.flatnonzero(sel)[days == day]
            tn = t_all.asi8[d]
            pb, pa, sb, sa = bid[d], ask[d], qb[d], qa[d]
            e = np.zeros(d.size)
            if d.size > 1:
                e[1:] = (
                    (pb[1:] >= pb[:-1]) * sb[1:]
                    - (pb[1:] <= pb[:-1]) * sb[:-1]
                    - (pa[1:] <= pa[:-1]) * sa[1:]
                    + (pa[1:] >= pa[:-1]) * sa[:-1]
                )
            bins = _session_bins(pd.Timestamp(day.date()), td)
            edges = np.append(bins.asi8, bins.asi8[-1] + td.value)
            nb = len(bins)
            idx = np.searchsorted(edges, tn, side="right") - 1
            inside = (idx >= 0) & (idx < nb)
            ofi = np.bincount(idx[inside], weights=e[inside], minlength=nb)
            n_ev = np.bincount(idx[inside], minlength=nb)
            mid = 0.5 * (pb + pa)
            dep = 0.5 * (sb + sa)
            # State at each edge: book after the last event strictly before it.
            k = np.searchsorted(tn, edges, side="left") - 1
            k0 = np.clip(k, 0, None)
            mid_edge = mid[k0]
            dep_edge = dep[k0]
            dep_sum = np.bincount(idx[inside], weights=dep[inside], minlength=nb)
            depth = np.where(n_ev > 0, dep_sum / np.maximum(n_ev, 1), dep_edge[1:])
            dmid = np.diff(mid_edge)
            frame = pd.DataFrame(
                {
                    "ticker": ticker,
                    "time": bins,
                    "ofi": ofi,
                    "mid_change": dmid,
                    "mid_change_ticks": dmid / tick_size,
                    "depth": depth,
                    "n_events": n_ev.astype(np.int64),
                }
            )
            if trades is not None:
                ts = (tick_tr == ticker) & (day_tr == day)
                ti = np.searchsorted(edges, tt_all.asi8[ts], side="right") - 1
                ok = (ti >= 0) & (ti < nb)
                frame["trade_imbalance"] = np.bincount(ti[ok], weights=(tsz[ts] * tsg[ts])[ok], minlength=nb)
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["ticker"] = out["ticker"].astype(str)
    return out


@dataclass
class OFIFit:
    """OFI regressions per ticker (and sub-period), from :func:`fit_ofi`.

    Attributes
    ----------
    table : DataFrame
        Index ``ticker`` or ``(ticker, subperiod)``: ``alpha`` (ticks),
        ``beta`` (ticks per share of OFI), ``se``, ``t``, ``pvalue``, ``r2``,
        ``n``, ``depth`` (mean, shares), ``beta_depth`` (beta x depth, which
        Cont et al. find roughly constant) and ``maxlags`` (HAC lags; 0
        without HAC).
    results : dict
        statsmodels ``RegressionResults`` keyed like ``table``'s index.
    by_ticker : DataFrame
        Per ticker across sub-periods: mean and median R^2, median beta, the
        share of significant betas (5 %), and ``depth_exponent`` with its
        standard error from :math:`\\log\\beta_i = c - \\lambda \\log D_i`
        (NaN without sub-periods).
    regressor : str
        ``"ofi"`` or ``"trade_imbalance"``.
    cov_type : str
        Covariance of the standard errors (``"HAC"``: Newey-West, lags in
        ``table.maxlags``).
    """

    table: pd.DataFrame
    results: dict
    by_ticker: pd.DataFrame
    regressor: str
    cov_type: str = "HAC"

    def summary(self) -> str:
        head = (
            f"Price impact of {self.regressor}: mid change (ticks) = alpha + beta * {self.regressor} (shares)\n"
            "Cont, Kukanov & Stoikov (2014): average R^2 about 0.65 (10 s intervals, 30 min sub-periods)\n"
            f"standard errors: {self.cov_type}"
            + (" (Newey-West, Bartlett kernel; lags in column maxlags)" if self.cov_type == "HAC" else "")
            + "\n\n"
        )
        return (
            head
            + self.by_ticker.to_string(float_format=lambda v: f"{v:.4g}")
            + "\n\n"
            + self.table.to_string(float_format=lambda v: f"{v:.4g}")
        )


def fit_ofi(
    table: pd.DataFrame,
    subperiod: str | pd.Timedelta | None = "30min",
    *,
    regressor: str = "ofi",
    cov_type: str = "HAC",
    maxlags: int | None = None,
) -> OFIFit:
    r"""Regress mid-price changes on order-flow imbalance, per ticker and sub-period.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`order_flow_imbalance`.
    subperiod : str or Timedelta or None, default "30min"
        Fit one regression per sub-period of this length within each
        ticker-day, as Cont et al.; ``None`` fits one per ticker (whole sample).
    regressor : {"ofi", "trade_imbalance"}
        ``trade_imbalance`` needs the table built with ``trades=``.
    cov_type : {"HAC", "HC1", "nonrobust"}, default "HAC"
        Newey-West HAC (Bartlett kernel, no small-sample correction): order
        flow is persistent across consecutive intervals.  Cont et al. report
        OLS; the estimates are the same, only the standard errors differ.
    maxlags : int, optional
        HAC lags; default :math:`\max(1, \lfloor 4 (n/100)^{2/9} \rfloor)`
        with :math:`n` the intervals in each regression, the rule of thumb of
        Newey & West (1994): 4 lags for the 180 ten-second intervals of a
        30-minute sub-period.  The lags used are in ``table.maxlags``.

    Returns
    -------
    OFIFit

    Notes
    -----
    For each ticker and sub-period :math:`i`, OLS of

    .. math:: \Delta P_{k} = \hat\alpha_i + \hat\beta_i\,\mathrm{OFI}_{k} + \hat\varepsilon_{k}

    over its intervals :math:`k`, with :math:`\Delta P` in ticks.  Cont et al.
    find :math:`\hat\beta_i \approx c / D_i^{\lambda}` with :math:`\lambda`
    near 1, :math:`D_i` the average depth; ``by_ticker.depth_exponent`` is
    the OLS estimate of :math:`\lambda` across sub-periods.

    References
    ----------
    Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order
    book events. *Journal of Financial Econometrics*, 12(1), 47-88.

    Newey, W. K. and West, K. D. (1994). Automatic lag selection in
    covariance matrix estimation. *Review of Economic Studies*, 61(4), 631-653.

    Examples
    --------
    AMZN's book on the sample day, OFI over 10-second intervals, one
    regression per 30-minute sub-period (13 in the session):

    >>> import execlab as ex
    >>> fit = fit_ofi(order_flow_imbalance(ex.load_quotes("AMZN"), "10s"), "30min")
    >>> int(fit.by_ticker.loc["AMZN", "n_fits"]), bool((fit.table["beta"] > 0).all())
    (13, True)
    >>> round(float(fit.by_ticker.loc["AMZN", "r2_mean"]), 2)
    0.53
    """
    check_choice(regressor, "regressor", ["ofi", "trade_imbalance"])
    check_choice(cov_type, "cov_type", ["HAC", "HC1", "nonrobust"])
    if maxlags is not None:
        maxlags = int(check_scalar(maxlags, "maxlags", min_val=0, integer=True))
    check_frame(table, "table", ["ticker", "time", regressor, "mid_change_ticks", "depth"])
    t = _check_times(table, "table")
    x_all = check_numeric_column(table, regressor, "table")
    y_all = check_numeric_column(table, "mid_change_ticks", "table")
    d_all = check_numeric_column(table, "depth", "table", min_val=0.0)
    tick = table["ticker"].astype(str).to_numpy()
    if subperiod is None:
        key = pd.Series(tick)
        groups = key.groupby(key, sort=True).indices
        groups = {k: v for k, v in groups.items()}
    else:
        sp = _parse_freq(subperiod)
        start = t.normalize() + SESSION_OPEN
        sp_start = start + ((t - start) // sp) * sp
        key = pd.DataFrame({"ticker": tick, "subperiod": sp_start})
        groups = key.groupby(["ticker", "subperiod"], sort=True).indices
    rows, results = [], {}
    for k, idx in groups.items():
        x, y = x_all[idx], y_all[idx]
        n = idx.size
        label = k if isinstance(k, tuple) else (k,)
        if n < 4 or np.ptp(x) == 0:
            raise ValueError(
                f"{label} has {n} intervals with {regressor} range {np.ptp(x) if n else 0}; "
                "a regression needs at least 4 intervals and a varying regressor (use a longer subperiod)."
            )
        # HAC weights neighbours in row order, so rows must be in time order.
        check_sorted_unique(t[idx], f"table time for {label}")
        kw = {"cov_type": cov_type}
        lags = 0
        if cov_type == "HAC":
            lags = _newey_west_lags(n) if maxlags is None else maxlags
            kw["cov_kwds"] = {"maxlags": lags}
        res = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(**kw)
        results[k] = res
        depth = float(d_all[idx].mean())
        rows.append(
            {
                **({"ticker": k[0], "subperiod": k[1]} if isinstance(k, tuple) else {"ticker": k}),
                "alpha": res.params[0],
                "beta": res.params[1],
                "se": res.bse[1],
                "t": res.tvalues[1],
                "pvalue": res.pvalues[1],
                "r2": res.rsquared,
                "n": n,
                "depth": depth,
                "beta_depth": res.params[1] * depth,
                "maxlags": lags,
            }
        )
    index = ["ticker", "subperiod"] if subperiod is not None else ["ticker"]
    out = pd.DataFrame(rows).set_index(index)
    agg = []
    for ticker, g in out.groupby(level="ticker", sort=True):
        lam, lam_se = np.nan, np.nan
        pos = (g["beta"] > 0) & (g["depth"] > 0)
        if subperiod is not None and pos.sum() >= 4:
            dres = sm.OLS(np.log(g.loc[pos, "beta"].to_numpy()),
                          sm.add_constant(np.log(g.loc[pos, "depth"].to_numpy()), has_constant="add")).fit()
            lam, lam_se = -dres.params[1], dres.bse[1]
        agg.append(
            {
                "ticker": ticker,
                "n_fits": len(g),
                "r2_mean": g["r2"].mean(),
                "r2_median": g["r2"].median(),
                "beta_median": g["beta"].median(),
                "share_significant": float((g["pvalue"] < 0.05).mean()),
                "depth_mean": g["depth"].mean(),
                "depth_exponent": lam,
                "depth_exponent_se": lam_se,
            }
        )
    return OFIFit(out, results, pd.DataFrame(agg).set_index("ticker"), regressor, cov_type)
