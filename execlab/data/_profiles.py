"""Intraday volume profiles, their leave-one-out forecasts, and per ticker-day statistics.

Everything here reads ``ticker, time, volume`` bars (as from
:func:`~execlab.data.load_bars` or :func:`~execlab.data.make_bars`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._calendar import SESSION_CLOSE, SESSION_LENGTH, SESSION_OPEN
from .._validation import check_numeric_column, check_scalar
from ._bars import _check_bars, _parse_freq, _session_bins, _show_span

__all__ = ["volume_profile", "profile_forecast", "ProfileForecast", "daily_stats"]


def _profile_matrix(
    bars: pd.DataFrame, freq: str | pd.Timedelta | None
) -> tuple[pd.DataFrame, pd.Index, pd.Timedelta]:
    """(ticker-day x bin) fractions of each ticker-day's volume, the bin labels and the bin length.

    ``freq=None`` uses the bars' own length.
    """
    if freq is not None:  # a bad freq is named before the bars are read
        td = _parse_freq(freq)
        _session_bins(pd.Timestamp("2000-01-03"), td, freq)  # checks that freq divides the session
    ticker, t, vol = _check_bars(bars)
    offset = t - t.normalize()
    if ((offset < SESSION_OPEN) | (offset >= SESSION_CLOSE)).any():
        pos = int(np.flatnonzero((offset < SESSION_OPEN) | (offset >= SESSION_CLOSE))[0])
        raise ValueError(f"bars column 'time' has {t[pos]} outside the 09:30-16:00 session.")
    session = SESSION_LENGTH.value
    since_open = (offset - SESSION_OPEN).as_unit("ns").asi8  # ns after 09:30
    # The bars' length: the longest span that divides the session and every bar's offset from
    # the open (bars missing from the frame leave it unchanged; they count as zero volume).
    spacing = int(np.gcd.reduce(np.append(since_open, session)))
    if freq is None:
        td = pd.Timedelta(spacing)
        if spacing % 1_000_000_000:
            raise ValueError(
                f"bars column 'time' is not on a grid of whole seconds from 09:30 (e.g. {t[int(np.flatnonzero(since_open % 1_000_000_000)[0])]}), "
                "so the bar length cannot be read off it; pass freq= (e.g. '1min')."
            )
    else:
        # Bars coarser than (or not dividing) freq cannot be split into profile bins:
        # 30-minute bars put into 5-minute bins would fill every sixth bin and leave the rest empty.
        full_grid = np.unique(since_open).size == session // spacing
        if td.value % spacing and full_grid:
            raise ValueError(
                f"freq == {str(freq)!r} is not a multiple of the bars' length ({_show_span(pd.Timedelta(spacing))}); "
                "a volume profile cannot split a bar's volume. Use a freq that the bar length divides, "
                "or leave freq out to use the bars' own length."
            )
    bin_no = since_open // td.value
    n_bins = int(SESSION_LENGTH // td)
    key = pd.DataFrame({"ticker": ticker, "day": t.normalize().date, "bin": bin_no, "volume": vol})
    mat = key.pivot_table(index=["ticker", "day"], columns="bin", values="volume", aggfunc="sum", fill_value=0.0)
    mat = mat.reindex(columns=range(n_bins), fill_value=0.0)
    total = mat.sum(axis=1)
    mat = mat[total > 0]
    if mat.empty:
        raise ValueError("bars hold no volume at all; a volume profile needs some.")
    frac = mat.div(mat.sum(axis=1), axis=0)
    labels = pd.Index(
        [(pd.Timestamp("2000-01-01") + SESSION_OPEN + i * td).time() for i in range(n_bins)], name="bin_start"
    )
    return frac, labels, td


def _smooth(p: np.ndarray, window: int | None) -> np.ndarray:
    if window is None or window <= 1:
        return p
    # Centered moving average, shrinking at the edges, then renormalised.
    kernel = np.ones(window)
    n = p.shape[-1]
    lo = (window - 1) // 2  # np.convolve(mode="same") returns max(n, window) values; slice instead
    num = np.apply_along_axis(lambda r: np.convolve(r, kernel)[lo : lo + n], -1, np.atleast_2d(p))
    den = np.convolve(np.ones(n), kernel)[lo : lo + n]
    s = num / den
    s = s / s.sum(axis=-1, keepdims=True)
    return s.reshape(p.shape)


def volume_profile(
    bars: pd.DataFrame,
    freq: str | pd.Timedelta | None = None,
    smooth: int | None = None,
) -> pd.Series:
    r"""Fraction of the session's volume traded in each intraday bin.

    Parameters
    ----------
    bars : DataFrame
        ``ticker, time, volume`` bars (time tz-aware, volume in shares) of
        any length that divides ``freq`` (e.g. one-minute bars for a
        five-minute profile), one row per ticker and bar; bins missing from
        the frame count as zero volume.
    freq : str or Timedelta, optional
        Profile bin length; must divide the 09:30-16:00 session and be a
        multiple of the bar length.  By default the bars' own length (one bin
        per bar: 390 bins from one-minute bars), so that a VWAP schedule
        built on the profile lines up with the bars it is simulated on.
    smooth : int, optional
        Width (in profile bins) of a centered moving average applied after
        averaging; a few stock-days are noisy, and smoothing trades a little
        bias for less variance.

    Returns
    -------
    Series
        Indexed by bin start time of day (``bin_start``, New York time),
        non-negative, sums to 1 (a fraction of the session's volume).  The
        bin length is kept in ``.attrs["bin_duration"]``;
        :func:`execlab.vwap` reads it (or the index) so each bin is released
        at its own time of day.

    Raises
    ------
    TypeError
        If ``bars`` is not a DataFrame, ``volume`` holds text or ``time``
        does not hold datetimes.
    ValueError
        If the frame is empty or lacks a column, a ticker or time is missing,
        times are timezone-naive, outside the session or duplicated for a
        ticker, volume is negative or NaN, there is no volume at all, ``freq``
        does not divide the session or is finer than the bars, or
        ``smooth < 1``.

    Notes
    -----
    Each ticker-day is first normalised to its own total volume, so that
    a heavily traded stock does not dominate; the profile is their mean

    .. math:: p_b = \frac{1}{D} \sum_{d=1}^{D} \frac{v_{d,b}}{\sum_{b'} v_{d,b'}} .

    Empty bins count as zero volume; ticker-days with no volume are skipped.
    The smoothed profile is :math:`\tilde p_b \propto \frac{1}{|W_b|}
    \sum_{b' \in W_b} p_{b'}` over the window :math:`W_b` of ``smooth``
    bins centred on :math:`b` (cut at the session's edges), renormalised to
    sum to 1.

    References
    ----------
    Bialkowski, J., Darolles, S. and Le Fol, G. (2008). Improving VWAP
    strategies: A dynamic volume approach. *Journal of Banking & Finance*,
    32(9), 1709-1722.

    Examples
    --------
    >>> from execlab.data import load_bars
    >>> bars = load_bars("1min")
    >>> p = volume_profile(bars)                 # one bin per bar
    >>> len(p), p.attrs["bin_duration"], round(float(p.sum()), 12)
    (390, Timedelta('0 days 00:01:00'), 1.0)
    >>> len(volume_profile(bars, "30min"))       # coarser bins add up whole bars
    13
    """
    if smooth is not None:
        smooth = int(check_scalar(smooth, "smooth", min_val=1, integer=True))
    frac, labels, td = _profile_matrix(bars, freq)
    p = _smooth(frac.to_numpy().mean(axis=0), smooth)
    out = pd.Series(p, index=labels, name="volume_fraction")
    out.attrs["bin_duration"] = td
    return out


@dataclass(frozen=True)
class ProfileForecast:
    """Leave-one-out volume-profile forecasts, one per ticker.

    Attributes
    ----------
    profiles : DataFrame
        Long form: ``ticker, bin_start, realized, forecast, uniform``.
    scores : DataFrame
        Per ticker: ``l1`` (half the L1 distance between forecast and
        realized profile, i.e. the fraction of volume a VWAP schedule would
        place in the wrong bins), ``rmse``, and the same two for the uniform
        (TWAP) profile, ``l1_uniform`` and ``rmse_uniform``.
    """

    profiles: pd.DataFrame
    scores: pd.DataFrame

    def summary(self) -> str:
        s = self.scores.copy()
        return "Leave-one-out volume-profile forecast\n" + s.to_string(float_format=lambda x: f"{x:.4f}")


def profile_forecast(
    bars: pd.DataFrame,
    freq: str | pd.Timedelta | None = None,
    smooth: int | None = None,
) -> ProfileForecast:
    r"""Forecast each ticker's profile from the other tickers, and score it.

    For each ticker, the forecast is :func:`volume_profile` of the bars of
    all *other* tickers; it is compared with the ticker's realized profile
    and with the flat (TWAP) profile as a baseline.

    Parameters
    ----------
    bars : DataFrame
        ``ticker, time, volume`` bars, as for :func:`volume_profile`.
    freq : str or Timedelta, optional
        Profile bin length; by default the bars' own length, as in
        :func:`volume_profile`.
    smooth : int, optional
        Moving-average width (profile bins) applied to the forecast only; the
        realized profile it is scored against is never smoothed.

    Returns
    -------
    ProfileForecast
        ``.profiles`` (long form, one row per ticker and bin), ``.scores``
        (one row per ticker) and ``.summary()``.

    Raises
    ------
    ValueError
        If the bars hold fewer than two tickers with volume, or for any
        reason :func:`volume_profile` would.

    Notes
    -----
    With realized profile :math:`p_b` of the held-out ticker and forecast
    :math:`\hat p_b` over :math:`B` bins,

    .. math::
        \mathrm{l1} = \tfrac12 \sum_b |\hat p_b - p_b|, \qquad
        \mathrm{rmse} = \sqrt{\tfrac1B \sum_b (\hat p_b - p_b)^2};

    ``l1`` is the fraction of the day's volume a VWAP schedule built on the
    forecast puts in the wrong bins.

    Examples
    --------
    >>> from execlab.data import load_bars
    >>> fc = profile_forecast(load_bars("1min"), "30min")
    >>> (fc.scores["l1"] < fc.scores["l1_uniform"]).all()
    np.True_
    """
    if smooth is not None:
        smooth = int(check_scalar(smooth, "smooth", min_val=1, integer=True))
    frac, labels, _ = _profile_matrix(bars, freq)
    tickers = frac.index.get_level_values("ticker").unique()
    if len(tickers) < 2:
        raise ValueError(f"profile_forecast needs at least two tickers, got {list(tickers)}.")
    n = len(labels)
    rows, scores = [], []
    for t in tickers:
        own = frac.xs(t, level="ticker").to_numpy().mean(axis=0)
        others = frac[frac.index.get_level_values("ticker") != t].to_numpy().mean(axis=0)
        fc = _smooth(others, smooth)
        uni = np.full(n, 1.0 / n)
        rows.append(pd.DataFrame({"ticker": t, "bin_start": labels, "realized": own, "forecast": fc, "uniform": uni}))
        scores.append(
            {
                "ticker": t,
                "l1": 0.5 * np.abs(fc - own).sum(),
                "rmse": float(np.sqrt(np.mean((fc - own) ** 2))),
                "l1_uniform": 0.5 * np.abs(uni - own).sum(),
                "rmse_uniform": float(np.sqrt(np.mean((uni - own) ** 2))),
            }
        )
    return ProfileForecast(pd.concat(rows, ignore_index=True), pd.DataFrame(scores).set_index("ticker"))


def daily_stats(bars: pd.DataFrame) -> pd.DataFrame:
    r"""Per ticker-day statistics that impact models and simulators need.

    Parameters
    ----------
    bars : DataFrame
        Regular bars with ``ticker, time, volume, mid`` (and ``mid_open``,
        ``mid_close``, ``spread`` when present), as from :func:`load_bars`.

    Returns
    -------
    DataFrame
        Indexed by ``ticker`` (and one row per ticker-day; ``date`` column):
        ``daily_volume`` (shares), ``sigma`` (daily volatility as a fraction
        of price: the standard deviation of bar-to-bar log mid changes scaled
        by sqrt(bars per session)), ``open_mid``, ``close_mid`` (dollars) and
        ``mean_spread`` (dollars, time-weighted average of the bars).

    Raises
    ------
    TypeError
        If a numeric column holds text or ``time`` does not hold datetimes.
    ValueError
        If the frame is empty or lacks a column, a ticker or time is missing,
        times are timezone-naive, duplicated or unsorted within a ticker,
        volume is negative or NaN, a mid is not positive, or a spread is
        negative.

    Notes
    -----
    With :math:`M` bars in the day and bar-end mids :math:`m_1, \dots, m_M`,

    .. math::
        \sigma = \sqrt{M}\, \mathrm{sd}\left(\log \frac{m_{i}}{m_{i-1}}\right),
        \quad i = 2, \dots, M,

    the realized volatility of that day scaled to the session, not a
    forecast; one day of intraday returns gives a noisy estimate, and a day
    with fewer than three bars gives NaN.

    References
    ----------
    Andersen, T. G., Bollerslev, T., Diebold, F. X. and Labys, P. (2003).
    Modeling and forecasting realized volatility. *Econometrica*, 71(2),
    579-625.

    Examples
    --------
    >>> from execlab.data import load_bars
    >>> st = daily_stats(load_bars("1min"))
    >>> st["daily_volume"].astype(int).to_dict()
    {'AAPL': 2850140, 'AMZN': 810755, 'GOOG': 706125}
    >>> st["sigma"].round(4).to_dict()
    {'AAPL': 0.0095, 'AMZN': 0.0144, 'GOOG': 0.0096}
    """
    ticker, t, vol = _check_bars(bars, sorted_times=True, columns=("mid",))
    t = pd.DatetimeIndex(bars["time"]).as_unit("ns")  # the date is taken in the bars' own time zone

    def price(column: str) -> np.ndarray:
        return check_numeric_column(bars, column, "bars", min_val=0.0, include_min=False)

    mid = price("mid")
    spread = check_numeric_column(bars, "spread", "bars", min_val=0.0) if "spread" in bars else np.full(len(bars), np.nan)
    df = pd.DataFrame(
        {
            "ticker": ticker,
            "date": t.normalize().date,
            "volume": vol,
            "mid": mid,
            "mid_open": price("mid_open") if "mid_open" in bars else mid,
            "mid_close": price("mid_close") if "mid_close" in bars else mid,
            "spread": spread,
        }
    )
    g = df.groupby(["ticker", "date"], sort=True)
    logret = np.log(df["mid_close"]).groupby([df["ticker"], df["date"]]).diff()
    n_bars = g.size()
    out = pd.DataFrame(
        {
            "daily_volume": g["volume"].sum(),
            "sigma": logret.groupby([df["ticker"], df["date"]]).std(ddof=1) * np.sqrt(n_bars),
            "open_mid": g["mid_open"].first(),
            "close_mid": g["mid_close"].last(),
            "mean_spread": g["spread"].mean(),
        }
    )
    out = out.reset_index().set_index("ticker")
    return out
