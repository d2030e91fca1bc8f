r"""Forecasts of the market from earlier sessions only: volume profile, ADV, volatility, spread."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._market import Market
from ._validation import check_choice, check_scalar

__all__ = ["Forecast", "forecast_market", "resolve_forecast", "FALLBACKS"]

FALLBACKS = ("same_session",)
_SAME = "same session (look-ahead)"


@dataclass(frozen=True)
class Forecast:
    """What a trader could know about each session before it opened.

    Attributes
    ----------
    tickers : list of str
    dates : DatetimeIndex
        The market's sessions.
    window, min_sessions : int
        Trailing sessions averaged, and the fewest that make a forecast.
    fallback : str or None
        ``"same_session"`` when asked for: sessions without enough history
        use their own realized values (look-ahead), and say so in ``source``.
    profile : ndarray, shape (tickers, sessions, bins)
        Expected fraction of the session's volume in each bin (sums to 1
        over the session's open bins); NaN where there is no forecast.
    adv, sigma, spread : ndarray, shape (tickers, sessions)
        Expected daily volume (shares), daily volatility (fraction of
        price) and mean spread ($).
    n_sessions_used : ndarray of int, shape (tickers, sessions)
        Earlier sessions behind each forecast (0 for a same-session fallback).
    source : ndarray of str, shape (tickers, sessions)
        ``"trailing N sessions"``, ``"same session (look-ahead)"`` or
        ``"none"``.
    """

    tickers: list
    dates: pd.DatetimeIndex
    window: int
    min_sessions: int
    fallback: str | None
    smooth: int | None
    profile: np.ndarray
    adv: np.ndarray
    sigma: np.ndarray
    spread: np.ndarray
    n_sessions_used: np.ndarray
    source: np.ndarray

    @property
    def available(self) -> np.ndarray:
        """(tickers, sessions): True where a forecast exists."""
        return self.source != "none"

    def require(self, k: np.ndarray, d: np.ndarray, what: str = "orders") -> None:
        """Raise if any (ticker, session) pair has no forecast, saying what to do."""
        ok = self.available[k, d]
        if ok.all():
            return
        pos = int(np.flatnonzero(~ok)[0])
        kk, dd = int(k[pos]), int(d[pos])
        raise ValueError(
            f"no forecast for {self.tickers[kk]} on {self.dates[dd].date()} ({what}): it has "
            f"{int(self.n_sessions_used[kk, dd])} earlier session(s) with volume and the forecast needs "
            f"{self.min_sessions} (window == {self.window}). Trade later sessions, lower window/min_sessions, or "
            "ask for the same session's realized values with fallback='same_session' (look-ahead)."
        )

    def used(self, k: np.ndarray, d: np.ndarray) -> str:
        """One line naming the inputs behind these (ticker, session) pairs."""
        src = pd.Series(self.source[k, d]).value_counts()
        return "; ".join(f"{s} ({n} order{'s' if n != 1 else ''})" for s, n in src.items())

    def to_frame(self) -> pd.DataFrame:
        """One row per ticker and session: ``adv, sigma, spread, n_sessions_used, source``."""
        K, D = self.adv.shape
        return pd.DataFrame({
            "ticker": np.repeat(np.array(self.tickers, dtype=object), D).astype(str),
            "date": np.tile(self.dates, K),
            "adv": self.adv.ravel(),
            "sigma": self.sigma.ravel(),
            "spread": self.spread.ravel(),
            "n_sessions_used": self.n_sessions_used.ravel(),
            "source": self.source.ravel(),
        })

    def summary(self) -> str:
        counts = pd.Series(self.source.ravel()).value_counts()
        lines = [f"Forecast from earlier sessions (window {self.window}, min {self.min_sessions}, "
                 f"fallback {self.fallback!r}, smooth {self.smooth})"]
        lines += [f"  {s}: {n} ticker-sessions" for s, n in counts.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Forecast({len(self.tickers)} tickers x {len(self.dates)} sessions, window={self.window}, "
                f"available {int(self.available.sum())}/{self.available.size}, fallback={self.fallback!r})")


def _smooth_rows(p: np.ndarray, window: int | None, valid: np.ndarray) -> np.ndarray:
    """Centered moving average along the last axis, cut at each session's edges, renormalised."""
    if window is None or window <= 1:
        return p
    n = p.shape[-1]
    lo = (window - 1) // 2
    hi = window - 1 - lo
    c = np.concatenate([np.zeros(p.shape[:-1] + (1,)), np.cumsum(p * valid, axis=-1)], axis=-1)
    cv = np.concatenate([np.zeros(valid.shape[:-1] + (1,)), np.cumsum(valid, axis=-1)], axis=-1)
    j = np.arange(n)
    a, b = np.clip(j - hi, 0, n), np.clip(j + lo + 1, 0, n)  # as np.convolve(..., 'same')
    num = c[..., b] - c[..., a]
    den = cv[..., b] - cv[..., a]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(valid & (den > 0), num / np.maximum(den, 1), 0.0)
        return s / s.sum(axis=-1, keepdims=True)


def forecast_market(market: Market, window: int = 20, *, min_sessions: int | None = None, fallback: str | None = None,
                    smooth: int | None = None) -> Forecast:
    r"""Volume profile, ADV, volatility and spread for each session from the sessions before it.

    Parameters
    ----------
    market : Market
    window : int, default 20
        Earlier sessions averaged (the last ``window`` regular sessions with
        volume before the one forecast).
    min_sessions : int, optional
        Fewest earlier sessions that make a forecast; default ``window``.
    fallback : {"same_session"}, optional
        Where a session has too little history, use its own realized
        values -- a look-ahead, so only when asked for by name (a single
        bundled day has no history at all).  Without it those sessions
        have no forecast, and the stages that need one raise.
    smooth : int, optional
        Width (bins) of a centered moving average applied to each profile.

    Returns
    -------
    Forecast

    Raises
    ------
    ValueError
        ``window`` or ``min_sessions`` < 1, ``min_sessions > window``, an
        unknown ``fallback``, or (without a fallback) a window longer than
        the history: no session has ``min_sessions`` earlier ones.

    Notes
    -----
    For ticker :math:`k` and session :math:`d`, with :math:`S_d` the last
    ``window`` regular sessions with volume before :math:`d` (half-days are
    left out: their profile and volume are atypical),

    .. math::
        \hat p_{d,b} = \frac{1}{|S_d|}\sum_{s \in S_d} \frac{v_{s,b}}{\sum_{b'} v_{s,b'}},\quad
        \widehat{ADV}_d = \frac{1}{|S_d|}\sum_{s\in S_d} V_s,\quad
        \hat\sigma_d = \Big(\frac{1}{|S_d|}\sum_{s\in S_d}\sigma_s^2\Big)^{1/2},

    and the spread is the mean of the sessions' mean spreads.  On a
    half-day the profile is cut at the early close and renormalised.

    Examples
    --------
    >>> import execlab as ex
    >>> fc = forecast_market(ex.load_market("5min"), fallback="same_session")
    >>> fc.source[:, 0].tolist()
    ['same session (look-ahead)', 'same session (look-ahead)', 'same session (look-ahead)']
    """
    window = int(check_scalar(window, "window", min_val=1, integer=True))
    if min_sessions is None:
        min_sessions = window
    min_sessions = int(check_scalar(min_sessions, "min_sessions", min_val=1, integer=True))
    if min_sessions > window:
        raise ValueError(f"min_sessions == {min_sessions}, must be <= window == {window}.")
    if fallback is not None:
        check_choice(fallback, "fallback", FALLBACKS)
    if smooth is not None:
        smooth = int(check_scalar(smooth, "smooth", min_val=1, integer=True))
    K, D, B = len(market.tickers), market.n_sessions, market.n_bins
    if fallback is None and D - 1 < min_sessions:
        raise ValueError(
            f"window == {window} (min_sessions == {min_sessions}) is longer than the history: the market holds {D} "
            f"session{'s' if D != 1 else ''}, so no session has {min_sessions} earlier one(s). Lower window/min_sessions, load more "
            "sessions, or ask for fallback='same_session' (look-ahead)."
        )
    valid = market.valid  # (D, B)
    regular = valid.sum(axis=1) == market.n_bins  # not a half-day
    vol = np.where(valid[None], market["volume"], 0.0)
    total = vol.sum(axis=2)  # (K, D)
    daily = market.daily_arrays()
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total[..., None] > 0, vol / np.where(total > 0, total, 1.0)[..., None], 0.0)
    sig2 = daily["sigma"] ** 2
    eligible = regular[None, :] & (total > 0) & np.isfinite(sig2)
    has_spread = np.isfinite(daily["mean_spread"])  # bars without a spread column: NaN spreads, the rest still forecast
    e = eligible.astype(np.float64)
    # Cumulative sums over *eligible* sessions, per ticker, indexed by how many came before.
    n_before = np.concatenate([np.zeros((K, 1)), np.cumsum(e, axis=1)[:, :-1]], axis=1).astype(np.int64)  # (K, D)
    n_used = np.minimum(n_before, window)

    def trailing(x: np.ndarray) -> np.ndarray:
        """Sum over the last ``window`` eligible sessions before each session; x is (K, D, ...)."""
        out = np.zeros_like(x, dtype=np.float64)
        for k in range(K):  # tickers, not orders: a handful of passes over (sessions, bins)
            idx = np.flatnonzero(eligible[k])
            cs = np.concatenate([np.zeros((1,) + x.shape[2:]), np.cumsum(x[k, idx], axis=0)], axis=0)
            hi = n_before[k]
            lo = np.maximum(hi - window, 0)
            out[k] = cs[hi] - cs[lo]
        return out

    with np.errstate(invalid="ignore", divide="ignore"):
        cnt = np.maximum(n_used, 1).astype(np.float64)
        prof = trailing(frac) / cnt[..., None]
        adv = trailing(np.where(eligible, total, 0.0)) / cnt
        sigma = np.sqrt(trailing(np.where(eligible, sig2, 0.0)) / cnt)
        n_spread = trailing(np.where(eligible & has_spread, 1.0, 0.0))
        spread = np.where(n_spread > 0, trailing(np.where(eligible & has_spread, daily["mean_spread"], 0.0)) / np.maximum(n_spread, 1), np.nan)
    have = n_used >= min_sessions
    source = np.where(have, np.char.add("trailing ", np.char.add(n_used.astype(str), " sessions")).astype(object), "none")
    if fallback == "same_session":
        same = ~have & (total > 0)
        prof = np.where(same[..., None], frac, prof)
        adv = np.where(same, total, adv)
        sigma = np.where(same, daily["sigma"], sigma)
        spread = np.where(same, daily["mean_spread"], spread)
        source = np.where(same, _SAME, source)
        n_used = np.where(same, 0, n_used)
    ok = source != "none"
    prof = np.where(valid[None], prof, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        prof = prof / prof.sum(axis=2, keepdims=True)
    prof = _smooth_rows(prof, smooth, np.broadcast_to(valid[None], prof.shape))
    prof = np.where(ok[..., None], prof, np.nan)
    nan = np.where(ok, 1.0, np.nan)
    return Forecast(list(market.tickers), market.calendar.dates, window, min_sessions, fallback, smooth,
                    prof, adv * nan, sigma * nan, spread * nan, n_used.astype(np.int64), source.astype(str).astype(object))


def resolve_forecast(forecast: object, market: Market) -> Forecast:
    """The forecast a stage uses: as given, ``market.forecast()`` by default, or the named fallback."""
    if forecast is None:
        return market.forecast()
    if isinstance(forecast, str):
        if forecast != "same_session":
            raise ValueError(f"forecast == {forecast!r}, must be a Forecast, None (trailing sessions) or 'same_session'.")
        return market.forecast(fallback="same_session")
    if not isinstance(forecast, Forecast):
        raise TypeError(f"forecast must be an execlab Forecast (market.forecast(...)), got {type(forecast).__name__}.")
    if list(forecast.tickers) != list(market.tickers) or not forecast.dates.equals(market.dates):
        raise ValueError("forecast was made for another market (its tickers or sessions differ); build it with market.forecast(...).")
    return forecast
