r"""A SYNTHETIC multi-session market, written as LOBSTER level-1 files, with known parameters.

:func:`lobster_market` draws each ticker-session's activity, efficient price
and quote targets in whole-array numpy, runs the book
(:func:`execlab.synthetic._lobster_book.book_session`) and writes the pair
of files LOBSTER writes.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_scalar
from ._lobster_book import book_session
from ._synthetic_market import SyntheticMarket

__all__ = ["lobster_market"]

_OPEN_S = 34_200  # 09:30, seconds after midnight
_CLOSE_S = 57_600  # 16:00
_PROFILE_BIN_S = 300  # five-minute bins for the true volume profile
_N_PROFILE_BINS = (_CLOSE_S - _OPEN_S) // _PROFILE_BIN_S  # 78
_PRICE_SCALE = 10_000  # LOBSTER prices are dollars x 10,000
_TICKER_RE = re.compile(r"[A-Za-z0-9.\-]+")


def _check_tickers(tickers: object) -> list[str]:
    if isinstance(tickers, str):
        tickers = (tickers,)
    try:
        out = list(tickers)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(f"tickers == {tickers!r}, must be a sequence of ticker names such as ('SYNA', 'SYNB').") from None
    if not out:
        raise ValueError(f"tickers == {tickers!r}, must hold at least one ticker name.")
    for t in out:
        # An underscore would break LOBSTER's TICKER_DATE_... file names.
        if not isinstance(t, str) or _TICKER_RE.fullmatch(t) is None:
            raise ValueError(f"tickers has {t!r}, must be names of letters, digits, '.' or '-' such as 'SYNA'.")
    dup = sorted({t for t in out if out.count(t) > 1})
    if dup:
        raise ValueError(f"tickers has {dup[0]!r} more than once.")
    return out


def _check_half_days(half_days: object, dates: pd.DatetimeIndex) -> dict[pd.Timestamp, int]:
    """{session date: close in seconds after midnight} for the early closes."""
    if half_days is None:
        return {}
    if not isinstance(half_days, Mapping):
        raise ValueError(f"half_days == {half_days!r}, must be a mapping of date to close time such as {{'2024-07-03': '13:00'}}.")
    out: dict[pd.Timestamp, int] = {}
    for key, close in half_days.items():
        try:
            day = pd.Timestamp(key)
        except (TypeError, ValueError):
            raise ValueError(f"half_days has date {key!r}, must be a date such as '2024-07-03'.") from None
        if day is pd.NaT or day != day.normalize() or day.tz is not None:
            raise ValueError(f"half_days has date {key!r}, must be a calendar date such as '2024-07-03'.")
        if day not in dates:
            raise ValueError(
                f"half_days has date {key!r}, which is not one of the {len(dates)} sessions "
                f"({dates[0].date()} to {dates[-1].date()})."
            )
        try:
            text = close if not isinstance(close, str) or close.count(":") != 1 else close + ":00"
            td = pd.Timedelta(str(text)) if not hasattr(close, "hour") else pd.Timedelta(
                hours=close.hour, minutes=close.minute, seconds=close.second
            )
        except (TypeError, ValueError):
            raise ValueError(f"half_days[{key!r}] == {close!r}, must be a time of day such as '13:00'.") from None
        secs = td.total_seconds()
        if pd.isna(td) or not (_OPEN_S < secs < _CLOSE_S) or secs % _PROFILE_BIN_S:
            raise ValueError(
                f"half_days[{key!r}] == {close!r}, must be a time between 09:30 and 16:00 on a "
                "five-minute mark, such as '13:00'."
            )
        out[day] = int(secs)
    return out


def _u_shape(x: np.ndarray, curve: float, open_weight: float, close_weight: float) -> np.ndarray:
    """Trade intensity at session fraction ``x`` (0 = open, 1 = close), before normalising."""
    return 0.5 + curve * (2.0 * x - 1.0) ** 2 + open_weight * np.exp(-x / 0.05) + close_weight * np.exp(-(1.0 - x) / 0.04)


def _time_text(ns: np.ndarray) -> list[str]:
    """Seconds after midnight as LOBSTER prints them (up to 9 decimals, trailing zeros dropped), each with its comma."""
    sec, frac = np.divmod(ns, 1_000_000_000)
    return [f"{s}.{f:09d}".rstrip("0").rstrip(".") + "," for s, f in zip(sec.tolist(), frac.tolist())]


#: Name of the file ``lobster_market`` writes beside its files; ``Market.from_lobster`` reads it.
SYNTHETIC_MARKER = "SYNTHETIC.txt"


def lobster_market(
    directory: str | Path,
    tickers: Sequence[str] = ("SYNA", "SYNB", "SYNC"),
    sessions: int = 60,
    start: str = "2024-01-02",
    *,
    seed: int | np.random.Generator | None = None,
    half_days: Mapping[str, str] | None = None,
    events_per_session: int = 4000,
    trade_fraction: float = 0.3,
    hidden_fraction: float = 0.2,
    impact: float = 3000.0,
    daily_volume_noise: float = 0.3,
    profile_noise: float = 0.3,
    tick_size: float = 0.01,
) -> SyntheticMarket:
    r"""Write a SYNTHETIC multi-session market as LOBSTER level-1 files.

    Every ticker-session gets the pair of files LOBSTER itself writes,
    ``TICKER_YYYY-MM-DD_34200000_57600000_message_1.csv`` and
    ``..._orderbook_1.csv`` (no header, comma separated, prices in dollars x
    10,000, times in seconds after midnight to the nanosecond), so that every
    reader of real LOBSTER data, :func:`execlab.data.read_lobster` first, reads
    them unchanged.  The data are simulated, with known parameters, for tests
    and parameter-recovery checks; they are not market data and the default
    tickers (SYNA, SYNB, SYNC) are not listed symbols.

    Parameters
    ----------
    directory : str or Path
        Folder for the files; created if missing.  Files of the same names
        are overwritten; other files are left alone.
    tickers : sequence of str, default ("SYNA", "SYNB", "SYNC")
        Ticker names (letters, digits, ``.`` or ``-``; no ``_``, which LOBSTER
        file names use as separator).
    sessions : int, default 60
        Number of sessions, >= 1: weekdays (pandas business days) from
        ``start``.  Exchange holidays are not modelled.
    start : str, default "2024-01-02"
        First session date, or the next weekday after it.
    seed : int, numpy.random.Generator or None
        Source of all randomness; the same int seed writes byte-identical
        files.  ``None`` draws fresh entropy (not reproducible).
    half_days : mapping of date to time, optional
        Early closes, e.g. ``{"2024-07-03": "13:00"}``: every date must be one
        of the sessions, and the time a five-minute mark between 09:30 and
        16:00.  That session ends there and its files are named with the end
        time in milliseconds (``..._34200000_46800000_...``).
    events_per_session : int, default 4000
        Expected number of book events (order arrivals, cancellations and
        trades) in a full session of average activity, >= 100.  A trade that
        sweeps several resting orders writes one row per order, so the files
        hold a few more rows than events.
    trade_fraction : float, default 0.3
        Share of events that are trades, in (0, 1).
    hidden_fraction : float, default 0.2
        Share of trades that execute hidden liquidity (type 5), in [0, 1).
    impact : float, default 3000
        Permanent impact :math:`\lambda`, bps of mid per unit of signed
        volume as a fraction of the session's expected volume, >= 0.
    daily_volume_noise : float, default 0.3
        Log standard deviation of the random daily activity level, >= 0.
    profile_noise : float, default 0.3
        Log standard deviation of the multiplicative noise on each
        five-minute bin of each day's volume profile, >= 0.
    tick_size : float, default 0.01
        Dollars per tick, a positive multiple of 0.0001.

    Returns
    -------
    SyntheticMarket
        The directory, a table of the files written (with the rows, trades
        and volume each holds) and the true parameters: per-session volume
        profiles, expected daily volumes, volatilities and spreads, the tick
        size and the impact coefficient.  Its ``repr`` says SYNTHETIC.

    Raises
    ------
    ValueError
        If ``directory`` is an existing file, ``tickers`` is empty or holds a
        bad or repeated name, ``sessions`` < 1, ``start`` is not a date, a
        ``half_days`` date is not a session or its time is not a five-minute
        mark inside the session, or a numeric argument is out of range.
    TypeError
        If ``seed`` is not an int, a Generator or None, or a count is not an
        integer.

    Notes
    -----
    **Activity.**  Each ticker has a U-shaped base profile
    :math:`u(x) = 0.5 + b (2x - 1)^2 + a e^{-x/0.05} + c e^{-(1-x)/0.04}`
    over the session fraction :math:`x` (:math:`b \in [1.2, 1.8]`,
    :math:`a \in [1.5, 2.5]`, :math:`c \in [1, 2]`, drawn per ticker).  On
    day :math:`d` the expected number of events in five-minute bin :math:`b`
    is

    .. math::
        \Lambda_{d,b} = N\,L_d\,\frac{u_b\,e^{\eta_{d,b}}}{\sum_{b'} u_{b'}\,e^{\eta_{d,b'}}}\,\frac{T_d}{T},
        \qquad \log L_d \sim N(-s_L^2/2, s_L^2),\ \eta_{d,b} \sim N(0, s_p^2),

    with :math:`N` = ``events_per_session``, :math:`s_L` =
    ``daily_volume_noise``, :math:`s_p` = ``profile_noise`` and
    :math:`T_d/T` the share of a full session that day trades.  Counts are
    Poisson, times uniform within the bin.  A fixed share of events are
    trades, so ``volume_profile`` (the normalised :math:`\Lambda_{d,\cdot}`)
    is the true expected volume profile: a trailing average of past profiles
    forecasts it better than a flat one, but the daily noise
    :math:`\eta` keeps any forecast from being exact.

    **Prices.**  The efficient log price moves with a diffusion and with
    every trade :math:`k` (sign :math:`\epsilon_k`, +1 buyer-initiated, and
    size :math:`v_k` shares):

    .. math::
        \log m_{t} = \log m_{t^-} + \sigma_d\,\sqrt{\Delta t / T}\,z
        + 10^{-4}\,\lambda\,\epsilon_k v_k / V_d ,

    where :math:`V_d` is the day's expected volume and :math:`\sigma_d` the
    daily volatility (``sessions.volatility``).  Signs are independent fair
    coin flips.  Overnight the price moves by :math:`0.5\,\sigma_d z`.

    **Book.**  The best bid and ask live on the tick grid and chase the
    efficient price at a varying half-spread of a few ticks (wider at the
    open): a side behind its target is improved by a new limit order, a side
    ahead of it loses its orders to cancellations, and otherwise orders join
    and leave the queue at random.  Each side is a stack of price levels of
    individual orders in time priority; only the best level is touched, as
    in a LOBSTER level-1 file, so on every row the size at the message's
    price changes by exactly the message's size (type 1 up; 2, 3 and 4
    down, a level emptied by the message makes way for the next one) and a
    type 5 (hidden execution, order id 0 as LOBSTER writes it, price within
    the spread) leaves the book unchanged.  A visible trade executes the
    best level's orders oldest first, one type-4 row per order at the same
    timestamp, and continues at the next level if it empties one.  Orders
    met at a level revealed behind the best were placed before the file
    starts: their ids (below every id added in the file) are never seen in a
    type-1 row, as in real LOBSTER files.  The bid is always below the ask.

    Examples
    --------
    >>> import tempfile
    >>> from execlab.data import read_lobster
    >>> mkt = lobster_market(tempfile.mkdtemp(), tickers=("SYNA",), sessions=2, seed=7)
    >>> mkt.synthetic, len(mkt.files), mkt.volume_profile.shape
    (True, 2, (2, 78))
    >>> row = mkt.files.iloc[0]
    >>> day = read_lobster(row["message_file"], row["orderbook_file"])
    >>> (len(day.trades), int(day.trades["size"].sum())) == (row["trades"], row["volume"])
    True
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"directory == {str(directory)!r} is a file, must be a directory (or a path to create).")
    names = _check_tickers(tickers)
    n_sessions = int(check_scalar(sessions, "sessions", min_val=1, integer=True))
    try:
        first = pd.Timestamp(start)
    except (TypeError, ValueError):
        first = pd.NaT
    if first is pd.NaT or first.tz is not None or first != first.normalize():
        raise ValueError(f"start == {start!r}, must be a calendar date such as '2024-01-02'.")
    n_events = int(check_scalar(events_per_session, "events_per_session", min_val=100, integer=True))
    p_trade = check_scalar(trade_fraction, "trade_fraction", min_val=0.0, max_val=1.0, include_min=False, include_max=False)
    p_hidden = check_scalar(hidden_fraction, "hidden_fraction", min_val=0.0, max_val=1.0, include_max=False)
    lam = check_scalar(impact, "impact", min_val=0.0)
    s_level = check_scalar(daily_volume_noise, "daily_volume_noise", min_val=0.0)
    s_profile = check_scalar(profile_noise, "profile_noise", min_val=0.0)
    tick = check_scalar(tick_size, "tick_size", min_val=0.0, include_min=False)
    tick_units = int(round(tick * _PRICE_SCALE))
    if tick_units < 1 or abs(tick_units - tick * _PRICE_SCALE) > 1e-6:
        raise ValueError(f"tick_size == {tick_size!r}, must be a positive multiple of 0.0001 dollars.")
    seed_int: int | None = None
    if seed is None or isinstance(seed, np.random.Generator):
        rng = np.random.default_rng(seed)
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seed_int = int(seed)
        rng = np.random.default_rng(seed_int)
    else:
        raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__} {seed!r}.")

    dates = pd.bdate_range(first, periods=n_sessions)
    closes = _check_half_days(half_days, dates)
    directory.mkdir(parents=True, exist_ok=True)
    # A marker beside the files, so a market read from this directory says it is synthetic.
    (directory / SYNTHETIC_MARKER).write_text(
        "SYNTHETIC data written by execlab.synthetic.lobster_market in LOBSTER's format; not real market data.\n")

    bin_starts = [f"{(_OPEN_S + b * _PROFILE_BIN_S) // 3600:02d}:{(_OPEN_S + b * _PROFILE_BIN_S) % 3600 // 60:02d}"
                  for b in range(_N_PROFILE_BINS)]
    x_mid = (np.arange(_N_PROFILE_BINS) + 0.5) / _N_PROFILE_BINS
    n_t = len(names)
    # Per-ticker constants, drawn first so a ticker's character does not depend on `sessions`.
    curve = rng.uniform(1.2, 1.8, n_t)
    open_w = rng.uniform(1.5, 2.5, n_t)
    close_w = rng.uniform(1.0, 2.0, n_t)
    price0 = np.exp(rng.uniform(np.log(20.0), np.log(200.0), n_t))
    sigma_base = rng.uniform(0.012, 0.025, n_t)
    half_spread_base = rng.uniform(0.6, 1.8, n_t)
    size_scale = rng.uniform(0.7, 1.5, n_t)

    base = np.empty((n_t, _N_PROFILE_BINS))
    file_rows: list[dict] = []
    session_rows: list[dict] = []
    profiles = np.zeros((n_t * n_sessions, _N_PROFILE_BINS))
    for k, ticker in enumerate(names):
        u = _u_shape(x_mid, curve[k], open_w[k], close_w[k])
        base[k] = u / u.sum()
        log_m = np.log(price0[k])
        next_id = int(rng.integers(10_000_000, 20_000_000))
        for d, day in enumerate(dates):
            close_s = closes.get(day, _CLOSE_S)
            length_s = close_s - _OPEN_S
            n_bins = length_s // _PROFILE_BIN_S
            # The day's profile: the U over this session's length, with multiplicative noise per bin.
            xb = (np.arange(n_bins) + 0.5) / n_bins
            shape = _u_shape(xb, curve[k], open_w[k], close_w[k]) * np.exp(s_profile * rng.standard_normal(n_bins))
            shape /= shape.sum()
            level = np.exp(s_level * rng.standard_normal() - 0.5 * s_level**2)
            expected = n_events * level * length_s / (_CLOSE_S - _OPEN_S)
            profiles[k * n_sessions + d, :n_bins] = shape
            counts = rng.poisson(expected * shape)
            n = int(counts.sum())
            # Event times: uniform within each bin, integer nanoseconds after midnight, sorted.
            bin_ns = _PROFILE_BIN_S * 1_000_000_000
            offs = (rng.random(n) * bin_ns).astype(np.int64)
            t_ns = (_OPEN_S * 1_000_000_000 + np.repeat(np.arange(n_bins, dtype=np.int64) * bin_ns, counts) + offs)
            t_ns = np.sort(t_ns)
            t_ns[0] = max(t_ns[0], _OPEN_S * 1_000_000_000)

            sigma = sigma_base[k] * np.exp(0.25 * rng.standard_normal())
            is_trade = rng.random(n) < p_trade
            sign = np.where(rng.random(n) < 0.5, 1, -1)
            # Trade sizes: round lots most of the time, odd lots otherwise (shares).
            lots = 100 * rng.geometric(0.55, n)
            odd = rng.integers(1, 100, n)
            tsize = np.where(rng.random(n) < 0.7, lots, odd)
            tsize = np.maximum(1, np.round(tsize * size_scale[k])).astype(np.int64)
            hidden = rng.random(n) < p_hidden
            mean_size = float(size_scale[k] * (0.7 * 100 / 0.55 + 0.3 * 50))
            daily_volume = expected * p_trade * mean_size
            # Efficient log price: diffusion over the elapsed session time plus permanent trade impact.
            dt = np.diff(t_ns, prepend=_OPEN_S * 1_000_000_000) / ((_CLOSE_S - _OPEN_S) * 1e9)
            log_m = log_m + 0.5 * sigma * rng.standard_normal()  # overnight
            open_log_m = log_m
            flow = np.where(is_trade, sign * tsize, 0) / max(daily_volume, 1.0)
            path = log_m + np.cumsum(sigma * np.sqrt(dt) * rng.standard_normal(n) + 1e-4 * lam * flow)
            log_m = float(path[-1])
            eff = np.exp(path) / tick  # ticks
            # Target half-spread (ticks): the ticker's level, wider at the open, with slow noise.
            x = (t_ns / 1e9 - _OPEN_S) / (_CLOSE_S - _OPEN_S)
            wobble = np.exp(0.35 * np.sin(2 * np.pi * (x * rng.uniform(2, 6) + rng.random())))
            half = half_spread_base[k] * (1.0 + 1.5 * np.exp(-x / 0.04)) * wobble
            target_bid = np.floor(eff - half).astype(np.int64)
            target_ask = np.ceil(eff + half).astype(np.int64)
            target_ask = np.maximum(target_ask, target_bid + 1)
            add = np.where(rng.random(n) < 0.6, 100 * rng.integers(1, 4, n), rng.integers(1, 100, n))
            # Sizes of the orders met at levels revealed behind the best (shares).
            n_pool = 4 * (n + 64)
            pool = np.where(rng.random(n_pool) < 0.6, 100 * rng.integers(1, 5, n_pool), rng.integers(1, 100, n_pool))
            pool = np.maximum(1, np.round(pool * size_scale[k])).astype(np.int64)
            rows = book_session(
                is_trade.tolist(),
                sign.tolist(),
                tsize.tolist(),
                hidden.tolist(),
                rng.random(n).tolist(),
                (rng.random(n) < 0.5).astype(np.int64).tolist(),
                rng.random(n).tolist(),
                rng.random(n).tolist(),
                rng.random(n).tolist(),
                np.maximum(1, np.round(add * size_scale[k])).astype(np.int64).tolist(),
                (target_bid.tolist(), (-target_ask).tolist()),
                pool.tolist(),
                (int(target_bid[0]), int(target_ask[0])),
                next_id,
            )
            arr = np.array(rows, dtype=np.int64).reshape(-1, 10)
            arr[:, [4, 6, 8]] *= tick_units
            next_id = int(arr[arr[:, 1] == 1, 2].max(initial=next_id)) + 1000

            stem = f"{ticker}_{day.date()}_{_OPEN_S * 1000}_{close_s * 1000}"
            msg_path = directory / f"{stem}_message_1.csv"
            book_path = directory / f"{stem}_orderbook_1.csv"
            m = len(arr)
            # One %-format over the whole file, then the time column in front of each line.
            rest = ("%d,%d,%d,%d,%d\n" * m) % tuple(arr[:, 1:6].ravel().tolist())
            msg_text = "".join(map(operator.add, _time_text(t_ns[arr[:, 0]]), rest.splitlines(True)))
            book_text = ("%d,%d,%d,%d\n" * m) % tuple(arr[:, 6:10].ravel().tolist())
            with open(msg_path, "w", newline="") as fh:
                fh.write(msg_text)
            with open(book_path, "w", newline="") as fh:
                fh.write(book_text)

            executed = np.isin(arr[:, 1], (4, 5))
            close_hhmm = f"{close_s // 3600:02d}:{close_s % 3600 // 60:02d}"
            file_rows.append(
                {
                    "ticker": ticker,
                    "date": str(day.date()),
                    "message_file": str(msg_path),
                    "orderbook_file": str(book_path),
                    "close": close_hhmm,
                    "events": m,
                    "trades": int(executed.sum()),
                    "volume": int(arr[executed, 3].sum()),
                }
            )
            session_rows.append(
                {
                    "ticker": ticker,
                    "date": str(day.date()),
                    "close": close_hhmm,
                    "daily_volume": daily_volume,
                    "volatility": sigma,
                    "half_spread_ticks": float(half_spread_base[k]),
                    "open_price": float(np.exp(open_log_m)),
                    "close_price": float(np.exp(log_m)),
                }
            )

    index = pd.MultiIndex.from_product([names, [str(d.date()) for d in dates]], names=["ticker", "date"])
    columns = pd.Index(bin_starts, name="bin_start")
    return SyntheticMarket(
        directory=directory,
        files=pd.DataFrame(file_rows),
        sessions=pd.DataFrame(session_rows),
        volume_profile=pd.DataFrame(profiles, index=index, columns=columns),
        base_profile=pd.DataFrame(base, index=pd.Index(names, name="ticker"), columns=columns),
        tick_size=tick,
        impact=lam,
        seed=seed_int,
    )
