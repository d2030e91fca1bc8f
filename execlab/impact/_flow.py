"""Signed traded volume against the mid-price change, per interval: :func:`fit_trade_flow`.

Also the helpers that every interval regression shares (time checks, HAC lags).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .._calendar import SESSION_LENGTH, TIMEZONE
from .._validation import check_array, check_choice, check_frame, check_numeric_column, check_scalar, check_sorted_unique
from ._likelihood import _concave_spec, _fit_nls
from ._models import PowerLawImpact


def _newey_west_lags(n: int) -> int:
    return max(1, int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))))


def _check_times(df: pd.DataFrame, name: str) -> pd.DatetimeIndex:
    t = pd.DatetimeIndex(df["time"])
    if t.tz is None:
        raise ValueError(f"{name} column 'time' must be timezone-aware (e.g. {TIMEZONE}).")
    nat = t.isna()
    if nat.any():
        # A NaT would otherwise fall outside every interval (OFI) or every sub-period (groupby drops it).
        pos = int(np.flatnonzero(nat)[0])
        raise ValueError(f"{name} column 'time' has NaT at row {df.index[pos]!r}; every row needs a time.")
    return t.tz_convert(TIMEZONE).as_unit("ns")


def trade_flow_impact(bars: pd.DataFrame) -> pd.DataFrame:
    r"""Per-interval mid-price change and signed traded volume, from bars.

    Parameters
    ----------
    bars : DataFrame
        ``ticker, time, volume, signed_volume, mid_open, mid_close`` as from
        :func:`execlab.load_bars` or :func:`execlab.make_bars` (which build
        them from :func:`execlab.load_trades` and the quotes) at any frequency.

    Returns
    -------
    DataFrame
        One row per ticker and interval: ``ticker, time, signed_volume``
        (buyer- minus seller-initiated shares), ``volume``, ``daily_volume``
        (the ticker-day's total), ``signed_fraction`` (signed volume / daily
        volume) and ``mid_change_bps`` (:math:`10^4 (m_{end}/m_{start} - 1)`
        from the mid at the interval's start and end).
    """
    check_frame(bars, "bars", ["ticker", "time", "volume", "signed_volume", "mid_open", "mid_close"])
    t = _check_times(bars, "bars")
    vol = check_numeric_column(bars, "volume", "bars", min_val=0.0)
    sv = check_numeric_column(bars, "signed_volume", "bars")
    m0 = check_numeric_column(bars, "mid_open", "bars", min_val=0.0, include_min=False)
    m1 = check_numeric_column(bars, "mid_close", "bars", min_val=0.0, include_min=False)
    bad = np.abs(sv) > vol
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"bars column 'signed_volume' has {sv[pos]} at row {bars.index[pos]!r}, larger than its volume {vol[pos]}.")
    out = pd.DataFrame(
        {
            "ticker": bars["ticker"].astype(str).to_numpy(),
            "time": t,
            "signed_volume": sv,
            "volume": vol,
            "mid_change_bps": 1e4 * (m1 / m0 - 1.0),
        }
    )
    day = t.normalize()
    daily = out.groupby([out["ticker"], day])["volume"].transform("sum").to_numpy()
    if (daily <= 0).any():
        pos = int(np.flatnonzero(daily <= 0)[0])
        raise ValueError(f"bars for ticker {out['ticker'].iat[pos]!r} on {day[pos].date()} have no volume at all.")
    out.insert(4, "daily_volume", daily)
    out.insert(5, "signed_fraction", sv / daily)
    return out


@dataclass
class TradeFlowFit:
    """Per-ticker fits of mid change on signed volume (see :func:`fit_trade_flow`).

    Attributes
    ----------
    table : DataFrame
        Index ``(ticker, form)`` with form ``linear`` or ``concave``; columns
        ``coef`` (bps per unit of signed_fraction^exponent), ``se``, ``t``,
        ``exponent`` (1 for linear), ``exponent_se``, ``exponent_lower``,
        ``exponent_upper`` (95 %), ``r2``, ``n``, ``cov_type``, ``maxlags``
        (HAC lags; 0 without HAC).
    results : dict
        statsmodels results keyed by ``(ticker, form)``.
    data : DataFrame
        The per-interval table that was fitted (:func:`trade_flow_impact`).
    """

    table: pd.DataFrame
    results: dict
    data: pd.DataFrame

    def predict(self, ticker: str, form: str, signed_fraction) -> np.ndarray:
        """Fitted mid change (bps) at the given signed fractions of daily volume."""
        check_choice(form, "form", ["linear", "concave"])
        x = check_array(signed_fraction, "signed_fraction")
        p = np.asarray(self.results[(ticker, form)].params)
        if form == "linear":
            return p[0] + p[1] * x
        return p[0] + p[1] * np.sign(x) * np.abs(x) ** p[2]

    def to_model(self, ticker: str, sigma: float) -> PowerLawImpact:
        r"""The concave fit of ``ticker`` as a per-child :class:`PowerLawImpact`.

        A child of :math:`q` shares in an interval is charged the mid move that
        signed flow of that size caused in the data, :math:`c\,(q/V)^{\psi}` bps:
        ``PowerLawImpact(Y = c / (1e4 sigma), delta = psi, horizon = interval /
        session)``, so that a child at the interval's average volume
        :math:`v = V \times \text{interval}/\text{session}` pays exactly that.
        This is the impact of anonymous aggregate flow over the whole interval,
        an upper end for a child that trades inside it, and it has no memory
        across intervals.

        Parameters
        ----------
        ticker : str
        sigma : float
            Daily volatility of the ticker, fraction.
        """
        sigma = check_scalar(sigma, "sigma", min_val=0.0, include_min=False)
        if (ticker, "concave") not in self.results:
            raise ValueError(f"ticker == {ticker!r}, must be one of {sorted({k[0] for k in self.results})}.")
        p = np.asarray(self.results[(ticker, "concave")].params)
        t = pd.DatetimeIndex(self.data.loc[self.data["ticker"] == ticker, "time"])
        step = pd.Series(t[1:] - t[:-1]).min() if len(t) > 1 else SESSION_LENGTH
        return PowerLawImpact(p[1] / (1e4 * sigma), p[2], horizon=step / SESSION_LENGTH)

    def summary(self) -> str:
        t = self.table.drop(columns=["cov_type"])
        head = (
            "Trade-flow impact: mid change (bps) per interval on signed volume / daily volume\n"
            f"covariance: {self.table['cov_type'].iloc[0]}"
            + (" (Newey-West, Bartlett kernel; lags in column maxlags)" if self.table["cov_type"].iloc[0] == "HAC" else "")
            + "\n"
        )
        return head + t.to_string(float_format=lambda v: f"{v:.4g}")


def fit_trade_flow(
    bars: pd.DataFrame,
    *,
    cov_type: str = "HAC",
    maxlags: int | None = None,
) -> TradeFlowFit:
    r"""Impact of signed traded volume on the mid, per ticker, linear and concave.

    Parameters
    ----------
    bars : DataFrame
        Bars (see :func:`trade_flow_impact`) or the table it returns.
    cov_type : {"HAC", "HC0", "nonrobust"}, default "HAC"
        Newey-West (Bartlett kernel) HAC by default: consecutive intervals
        share order-flow persistence, so their errors are autocorrelated.
        No small-sample correction, for the linear and the concave fit alike.
    maxlags : int, optional
        HAC lags; default :math:`\max(1, \lfloor 4 (n/100)^{2/9} \rfloor)`
        with :math:`n` the ticker's number of intervals, the rule of thumb of
        Newey & West (1994) (4 lags for 390 one-minute bars).  The lags used
        are in ``table.maxlags``.

    Returns
    -------
    TradeFlowFit

    Notes
    -----
    With :math:`x_k` the signed volume of interval :math:`k` as a fraction of
    the day's volume and :math:`\Delta m_k` the mid change in bps,

    .. math::
        \text{linear: } \Delta m_k = a + \lambda x_k + \varepsilon_k, \qquad
        \text{concave: } \Delta m_k = a + c\,\mathrm{sign}(x_k)|x_k|^{\psi} + \varepsilon_k .

    The linear form is OLS; the concave one is Gaussian quasi-likelihood
    (nonlinear least squares) in :math:`(a, c, \psi)` with the same
    covariance, so :math:`\psi` comes with a standard error and a 95 %
    interval.  :math:`\psi < 1` is the concavity that the square-root law
    and Cont et al. (2014, section 5) describe for volume-based regressions.

    References
    ----------
    Newey, W. K. and West, K. D. (1994). Automatic lag selection in
    covariance matrix estimation. *Review of Economic Studies*, 61(4), 631-653.

    Examples
    --------
    One-minute bars of AMZN on the sample day (390 intervals, 5 HAC lags):

    >>> import execlab as ex
    >>> fit = fit_trade_flow(ex.load_bars("1min", "AMZN"))
    >>> row = fit.table.loc[("AMZN", "linear")]
    >>> int(row["n"]), int(row["maxlags"]), bool(row["t"] > 3)
    (390, 5, True)
    >>> round(float(fit.table.loc[("AMZN", "concave"), "exponent"]), 2)
    0.64
    """
    check_choice(cov_type, "cov_type", ["HAC", "HC0", "nonrobust"])
    if maxlags is not None:
        maxlags = int(check_scalar(maxlags, "maxlags", min_val=0, integer=True))
    table = bars if "signed_fraction" in getattr(bars, "columns", []) else trade_flow_impact(bars)
    check_frame(table, "bars", ["ticker", "time", "signed_fraction", "mid_change_bps"])
    times = _check_times(table, "bars")
    positions = table.groupby("ticker", sort=True).indices
    rows, results = [], {}
    for ticker, g in table.groupby("ticker", sort=True):
        # HAC weights neighbours in row order, so rows must be in time order.
        check_sorted_unique(times[positions[ticker]], f"bars time for {ticker}")
        x = check_numeric_column(g, "signed_fraction", "bars")
        y = check_numeric_column(g, "mid_change_bps", "bars")
        n = x.size
        if n < 6:
            raise ValueError(f"bars for ticker {ticker!r} have {n} intervals; the concave fit needs at least 6.")
        if np.ptp(x) == 0:
            raise ValueError(f"signed_fraction for ticker {ticker!r} is constant ({x[0]}); nothing to regress on.")
        lags = _newey_west_lags(n) if maxlags is None else maxlags
        kw = {"cov_type": cov_type}
        if cov_type == "HAC":
            kw["cov_kwds"] = {"maxlags": lags}
        lin = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(**kw)
        results[(ticker, "linear")] = lin
        hac = lags if cov_type == "HAC" else 0
        rows.append({"ticker": ticker, "form": "linear", "coef": lin.params[1], "se": lin.bse[1],
                     "t": lin.tvalues[1], "exponent": 1.0, "exponent_se": np.nan, "exponent_lower": np.nan,
                     "exponent_upper": np.nan, "r2": lin.rsquared, "n": n, "cov_type": cov_type, "maxlags": hac})
        try:
            con = _fit_nls(y, _concave_spec(x), cov_type, kw.get("cov_kwds"))
        except ValueError as exc:
            raise ValueError(f"concave trade-flow fit for ticker {ticker!r}: {exc}") from None
        results[(ticker, "concave")] = con
        r = y - con.model.spec.mean(np.asarray(con.params)[:-1])
        ci = np.asarray(con.conf_int(0.05))
        r2 = 1.0 - float(r @ r) / float(((y - y.mean()) ** 2).sum())
        rows.append({"ticker": ticker, "form": "concave", "coef": con.params[1], "se": con.bse[1],
                     "t": con.params[1] / con.bse[1], "exponent": con.params[2], "exponent_se": con.bse[2],
                     "exponent_lower": ci[2, 0], "exponent_upper": ci[2, 1], "r2": r2, "n": n, "cov_type": cov_type,
                     "maxlags": hac})
    out = pd.DataFrame(rows).set_index(["ticker", "form"])
    return TradeFlowFit(out, results, table.reset_index(drop=True))
