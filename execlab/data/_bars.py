"""Regular session bars from trades and quotes, and the sample's bars.

:func:`make_bars` turns any trades and quotes into one row per ticker, day and
bin of the 09:30-16:00 session; :func:`load_bars` builds them from LOBSTER's
level-1 sample.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._calendar import SESSION_LENGTH, SESSION_OPEN, TIMEZONE
from .._validation import (
    check_frame,
    check_label_column,
    check_numeric_column,
    check_sorted_unique,
    check_time_column,
    check_timedelta,
    row_label,
)
from ._files import TICKERS, bundled_pair, find_data_dir
from ._lobster import _MAX_PRICE, _check_tickers, _read_cached

__all__ = ["make_bars", "load_bars"]


def _session_bins(day: pd.Timestamp, freq: pd.Timedelta, typed: object = None) -> pd.DatetimeIndex:
    """Start times of the ``freq`` bins of the session on ``day`` (a naive date), New York time.

    ``typed`` is what the user passed (``"1D"``), echoed in the error instead of ``freq``.
    """
    length = SESSION_LENGTH
    if length % freq != pd.Timedelta(0):
        shown = typed if isinstance(typed, str) else _show_span(freq)
        minutes = int(length / pd.Timedelta("1min"))
        raise ValueError(
            f"freq == {shown!r}, must divide the {minutes / 60:g}-hour session ({minutes} minutes) evenly"
            + ("; for one bar per session use '390min'." if freq > length else ".")
        )
    start = day.tz_localize(TIMEZONE) + SESSION_OPEN
    return pd.date_range(start, periods=int(length // freq), freq=freq).as_unit("ns")


def _show_span(td: pd.Timedelta) -> str:
    """'30min' rather than '0 days 00:30:00'."""
    secs = td.total_seconds()
    return f"{int(secs // 60)}min" if secs % 60 == 0 else f"{secs:g}s"


def _parse_freq(freq: str | pd.Timedelta) -> pd.Timedelta:
    """Bar or bin length as a positive Timedelta."""
    return check_timedelta(freq, "freq", example="'1min' or '5min'")


def _time_average(q_ns: np.ndarray, values: np.ndarray, edges_ns: np.ndarray) -> np.ndarray:
    """Time-weighted mean of a step function over consecutive intervals.

    ``values[k]`` holds from ``q_ns[k]`` until the next event.  Before the
    first event the first value is used (the book as first seen).
    """
    dt = np.diff(q_ns).astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(values[:-1] * dt)])

    def integral(t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(q_ns, t, side="right") - 1
        before = k < 0
        k = np.clip(k, 0, len(q_ns) - 1)
        out = cum[k] + values[k] * (t - q_ns[k]).astype(np.float64)
        # Before the first quote: extend the first value backwards.
        return np.where(before, values[0] * (t - q_ns[0]).astype(np.float64), out)

    f = integral(edges_ns)
    width = np.diff(edges_ns).astype(np.float64)
    return np.diff(f) / width


def make_bars(
    trades: pd.DataFrame,
    quotes: pd.DataFrame,
    freq: str | pd.Timedelta = "1min",
) -> pd.DataFrame:
    r"""Build regular session bars from trades and quotes.

    Parameters
    ----------
    trades : DataFrame
        ``ticker, time, price, size, sign`` as from :func:`load_trades`:
        ``time`` tz-aware, ``price`` in dollars, ``size`` in shares, ``sign``
        +1 buyer-initiated, -1 seller-initiated, 0 unknown.  Sorted by time
        within each ticker (ties allowed).
    quotes : DataFrame
        ``ticker, time, bid, ask`` as from :func:`load_quotes`; dollars, NaN
        for an empty side.  Sorted by time within each ticker (ties allowed).
    freq : str or Timedelta
        Bar length; must divide the 09:30-16:00 session.

    Returns
    -------
    DataFrame
        One row per ticker, day and bin, every bin of the session present:
        ``ticker, time`` (bin start), ``open, high, low, close`` (trade prices,
        dollars), ``volume`` (shares), ``vwap``, ``n_trades``,
        ``signed_volume`` (buyer- minus seller-initiated shares), ``mid`` and
        ``spread`` (time-weighted averages of the best bid/ask mid and spread
        over the bin, dollars), ``mid_open`` and ``mid_close`` (mid at the start
        and at the end of the bin; the first bin's ``mid_open`` is the first
        quote of the day) and
        ``carried`` (True where the bin had no trade and its prices are the
        previous close carried forward; before the first trade, the mid).

    Raises
    ------
    TypeError
        If a numeric column holds text or ``time`` does not hold datetimes.
    ValueError
        If a frame is empty or lacks a column, a ticker or time is missing,
        times are timezone-naive or unsorted within a ticker, prices are not
        positive (or are LOBSTER's empty-side dummies), sizes are not
        positive, a sign is not -1, 0 or +1, a quote is crossed (bid > ask),
        a ticker has trades but no quotes, or a day has no two-sided quote.

    Notes
    -----
    Times are converted to America/New_York; the session is 09:30-16:00
    there.  Trades outside the session are left out of the bars (quotes
    before the open still set the opening mid).  A ticker with quotes but no
    trades gets every bin, with zero volume and prices from the mid.

    With trades :math:`(p_k, s_k, \epsilon_k)` in bin :math:`b`:
    ``volume`` :math:`= \sum s_k`, ``vwap`` :math:`= \sum p_k s_k / \sum s_k`,
    ``signed_volume`` :math:`= \sum \epsilon_k s_k`; ``mid`` is
    :math:`\frac{1}{\Delta}\int_b m(t)\,dt` for the mid :math:`m(t)` after
    the last event at or before :math:`t`.

    Examples
    --------
    >>> from execlab.data import load_quotes, load_trades
    >>> bars = make_bars(load_trades("AMZN"), load_quotes("AMZN"), "30min")
    >>> len(bars), int(bars["volume"].sum()), bars["time"].iloc[0].isoformat()
    (13, 810755, '2012-06-21T09:30:00-04:00')
    """
    td = _parse_freq(freq)
    check_frame(trades, "trades", ["ticker", "time", "price", "size", "sign"])
    check_frame(quotes, "quotes", ["ticker", "time", "bid", "ask"])
    tr_ticker = check_label_column(trades, "ticker", "trades")
    qu_ticker = check_label_column(quotes, "ticker", "quotes")
    tr_time = check_time_column(trades, "time", "trades", TIMEZONE)
    qu_time = check_time_column(quotes, "time", "quotes", TIMEZONE)
    price = check_numeric_column(trades, "price", "trades")
    size = check_numeric_column(trades, "size", "trades")
    sign = check_numeric_column(trades, "sign", "trades")
    bid = check_numeric_column(quotes, "bid", "quotes", allow_nan=True)
    ask = check_numeric_column(quotes, "ask", "quotes", allow_nan=True)

    def fail(frame: pd.DataFrame, name: str, column: str, values: np.ndarray, bad: np.ndarray, rule: str) -> None:
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} column {column!r} has {values[pos]} for {frame['ticker'].iat[pos]} "
                f"at row {row_label(frame.index, pos)!r}; must be {rule}."
            )

    fail(trades, "trades", "price", price, (price <= 0) | (price >= _MAX_PRICE), "> 0")
    fail(trades, "trades", "size", size, size <= 0, "> 0")
    fail(trades, "trades", "sign", sign, ~np.isin(sign, (-1.0, 0.0, 1.0)), "+1 (buyer-initiated), -1 (seller-initiated) or 0 (unknown)")
    for col, px in (("bid", bid), ("ask", ask)):
        # NaN is an empty side; LOBSTER's +/-999999.9999 dummies must not arrive as prices.
        fail(quotes, "quotes", col, px, (px <= 0) | (px >= _MAX_PRICE), "> 0 and below 999999 dollars (NaN for an empty side)")
    crossed = bid > ask  # NaN compares False: one-sided books pass
    if crossed.any():
        pos = int(np.flatnonzero(crossed)[0])
        raise ValueError(
            f"quotes are crossed for {quotes['ticker'].iat[pos]} at row {row_label(quotes.index, pos)!r}: "
            f"bid {bid[pos]} > ask {ask[pos]}."
        )

    trade_tickers = set(pd.unique(tr_ticker).tolist())
    quote_tickers = set(pd.unique(qu_ticker).tolist())
    missing = sorted(map(str, trade_tickers - quote_tickers))
    if missing:
        raise ValueError(f"quotes have no rows for ticker {missing[0]!r}, which has trades.")
    out = []
    # Tickers with quotes but no trades still get every bin: zero volume, prices from the mid.
    for ticker in sorted(trade_tickers | quote_tickers, key=str):
        in_tr = tr_ticker == ticker
        in_qu = qu_ticker == ticker
        t_ns = tr_time[in_tr]
        q_time = qu_time[in_qu]
        check_sorted_unique(t_ns, f"trades time for {ticker}", strict=False)
        check_sorted_unique(q_time, f"quotes time for {ticker}", strict=False)
        p_all, s_all, sg_all = price[in_tr], size[in_tr], sign[in_tr]
        b_all, a_all = bid[in_qu], ask[in_qu]
        t_day = t_ns.normalize()
        q_day = q_time.normalize()
        days = t_day.unique().union(q_day.unique())
        for day in days:
            bins = _session_bins(pd.Timestamp(day.date()), td, freq)
            edges = np.append(bins.asi8, bins.asi8[-1] + td.value)
            in_day = np.asarray(t_day == day)
            ti = t_ns.asi8[in_day]
            p, s, sg = p_all[in_day], s_all[in_day], sg_all[in_day]
            idx = np.searchsorted(edges, ti, side="right") - 1
            # An event stamped exactly at the close belongs to the last bin.
            idx = np.where(ti == edges[-1], len(bins) - 1, idx)
            inside = (idx >= 0) & (idx < len(bins))
            idx, p, s, sg = idx[inside], p[inside], s[inside], sg[inside]
            n = len(bins)
            volume = np.bincount(idx, weights=s, minlength=n)
            notional = np.bincount(idx, weights=p * s, minlength=n)
            n_trades = np.bincount(idx, minlength=n)
            signed = np.bincount(idx, weights=s * sg, minlength=n)
            high = np.full(n, -np.inf)
            np.maximum.at(high, idx, p)
            low = np.full(n, np.inf)
            np.minimum.at(low, idx, p)
            has = n_trades > 0
            first = np.full(n, -1)
            last = np.full(n, -1)
            order = np.arange(len(idx))
            # Trades are time-sorted: first/last trade of each bin by position.
            first_pos = np.searchsorted(idx, np.arange(n), side="left")
            last_pos = np.searchsorted(idx, np.arange(n), side="right") - 1
            first[has] = order[first_pos[has]]
            last[has] = order[last_pos[has]]
            open_ = np.where(has, p[np.maximum(first, 0)] if len(p) else np.nan, np.nan)
            close = np.where(has, p[np.maximum(last, 0)] if len(p) else np.nan, np.nan)

            in_qday = np.asarray(q_day == day)
            q_ns = q_time.asi8[in_qday]
            b_d, a_d = b_all[in_qday], a_all[in_qday]
            two_sided = np.isfinite(b_d) & np.isfinite(a_d)
            if not two_sided.any():
                raise ValueError(f"quotes for {ticker} on {day.date()} have no two-sided quote.")
            # One-sided books have no mid: carry the last two-sided quote.
            mid_raw = pd.Series(np.where(two_sided, (b_d + a_d) / 2, np.nan)).ffill().bfill().to_numpy()
            spr_raw = pd.Series(np.where(two_sided, a_d - b_d, np.nan)).ffill().bfill().to_numpy()
            # Keep the last state for each timestamp (events in one nanosecond).
            last_of_ts = np.append(q_ns[1:] != q_ns[:-1], True)
            q_ns_u, mid_u, spr_u = q_ns[last_of_ts], mid_raw[last_of_ts], spr_raw[last_of_ts]
            mid = _time_average(q_ns_u, mid_u, edges)
            spread = _time_average(q_ns_u, spr_u, edges)
            k_end = np.clip(np.searchsorted(q_ns_u, edges[1:], side="left") - 1, 0, None)
            mid_close = mid_u[k_end]
            k_start = np.clip(np.searchsorted(q_ns_u, edges[:-1], side="right") - 1, 0, None)
            mid_open = mid_u[k_start]

            # Carry prices forward through bins without trades; before the first trade use the mid.
            close_ff = pd.Series(close).ffill().to_numpy()
            close_ff = np.where(np.isnan(close_ff), mid_close, close_ff)
            carried = ~has
            prev_close = np.concatenate([[close_ff[0]], close_ff[:-1]])
            fill_price = np.where(np.isnan(prev_close), mid_close, prev_close)
            open_ = np.where(has, open_, fill_price)
            close = np.where(has, close, fill_price)
            high = np.where(has, high, fill_price)
            low = np.where(has, low, fill_price)
            vwap = np.where(has, notional / np.where(has, volume, 1.0), fill_price)
            out.append(
                pd.DataFrame(
                    {
                        "ticker": ticker,
                        "time": bins,
                        "open": open_,
                        "high": high,
                        "low": low,
                        "close": close,
                        "volume": volume.astype(np.int64),
                        "vwap": vwap,
                        "n_trades": n_trades.astype(np.int64),
                        "signed_volume": signed.astype(np.int64),
                        "mid": mid,
                        "spread": spread,
                        "mid_open": mid_open,
                        "mid_close": mid_close,
                        "carried": carried,
                    }
                )
            )
    bars = pd.concat(out, ignore_index=True)
    bars["ticker"] = bars["ticker"].astype(str)
    return bars


@functools.lru_cache(maxsize=None)
def _bars_cached(message_file: Path, orderbook_file: Path, freq: pd.Timedelta) -> pd.DataFrame:
    day = _read_cached(message_file, orderbook_file)
    return make_bars(day.trades, day.quotes, freq)


def load_bars(
    freq: str | pd.Timedelta = "1min",
    tickers: str | list[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    *,
    verify: bool = True,
) -> pd.DataFrame:
    """Session bars of LOBSTER's level-1 sample, every bin present for every ticker.

    Parameters
    ----------
    freq : str or Timedelta, default "1min"
        Bar length; must divide the 6.5-hour session.
    tickers : str or list of str, optional
        Any of ``"AAPL"``, ``"AMZN"``, ``"GOOG"``; ``None`` means all.
    data_dir : str or path-like, optional
        Directory of the sample files; by default the one
        :func:`~execlab.data.find_data_dir` finds.
    verify : bool, default True
        Check each file's sha256 on its first load in the process.

    Returns
    -------
    DataFrame
        See :func:`make_bars` for the columns.  Built once per ticker and
        frequency and cached; every call returns a fresh copy.

    Raises
    ------
    FileNotFoundError
        If the sample files are not found (the message says where to get them).
    ValueError
        If ``freq`` does not divide the session, a ticker is not in the
        sample, or a file fails its checksum.

    Examples
    --------
    >>> bars = load_bars("1min", "GOOG")
    >>> len(bars), int((bars["volume"] == 0).sum())
    (390, 5)
    """
    try:
        td = _parse_freq(freq)
    except ValueError:
        word = freq.strip() if isinstance(freq, str) else ""
        if word.isalpha() and (word.isupper() or word.upper() in TICKERS):  # a ticker where the bar length goes
            raise ValueError(
                f"freq == {freq!r}, must be a bar length such as '1min' or '5min'; the tickers come second, "
                f"as in load_bars('1min', {word.upper()!r})."
            ) from None
        raise
    _session_bins(pd.Timestamp("2000-01-03"), td, freq)  # freq must divide the session, before any file is read
    chosen = _check_tickers(tickers)
    directory = find_data_dir(data_dir)
    pairs = [bundled_pair(t, 1, directory, verify) for t in chosen]
    frames = [_bars_cached(m.absolute(), b.absolute(), td) for m, b in pairs]
    return pd.concat(frames, ignore_index=True).copy(deep=True)  # never a view of the cache


def _check_bars(
    bars: pd.DataFrame, name: str = "bars", *, sorted_times: bool = False, columns: tuple[str, ...] = ()
) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """Validate ``ticker, time, volume`` bars; return (ticker, time in New York, volume).

    Each (ticker, time) must appear once; with ``sorted_times`` times must
    also increase within each ticker (their order is used, e.g. for returns).
    """
    check_frame(bars, name, ["ticker", "time", "volume", *columns])
    ticker = check_label_column(bars, "ticker", name)
    time = check_time_column(bars, "time", name, TIMEZONE)
    vol = check_numeric_column(bars, "volume", name, allow_nan=True)
    bad = ~np.isfinite(vol) | (vol < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} column 'volume' has {vol[pos]} at row {row_label(bars.index, pos)!r}; must be finite and >= 0.")
    codes = pd.factorize(ticker)[0]
    order = np.lexsort((time.asi8, codes))  # by ticker, then time; stable
    same = codes[order][1:] == codes[order][:-1]
    dup = same & (np.diff(time.asi8[order]) == 0)
    if dup.any():
        pos = int(order[np.flatnonzero(dup)[0] + 1])
        raise ValueError(
            f"{name} has a duplicate bar: ticker {ticker[pos]!r} at {time[pos]} appears more than once "
            f"(row {row_label(bars.index, pos)!r})."
        )
    if sorted_times:
        seq = np.argsort(codes, kind="stable")  # rows of each ticker, in the order given
        same = codes[seq][1:] == codes[seq][:-1]
        back = same & (np.diff(time.asi8[seq]) < 0)
        if back.any():
            k = int(np.flatnonzero(back)[0])
            pos = int(seq[k + 1])
            raise ValueError(
                f"{name} column 'time' is unsorted for ticker {ticker[pos]!r}: {time[int(seq[k])]} then "
                f"{time[pos]} at row {row_label(bars.index, pos)!r}; sort the bars by ticker and time."
            )
    return ticker, time, vol
