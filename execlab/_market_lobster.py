r"""Building a :class:`~execlab.Market` from LOBSTER files of many tickers and days.

:func:`market_from_lobster` parses every ticker-day's message and orderbook
file once (:mod:`execlab._lobster_read`, the parser :func:`execlab.read_lobster`
uses too), concatenates the columns, runs every check of the LOBSTER readers
(:mod:`execlab._lobster_checks`) and of :func:`execlab.make_bars` over all
files at once and builds the bars of all ticker-days in one numpy pass: no DataFrame
per file and no per-file call of :func:`execlab.make_bars`.  The result is the
same, bit for bit, as reading each day with :func:`execlab.read_lobster` and
binning it with :func:`execlab.make_bars`; that slow path is kept as
``_market_from_lobster_reference`` for the tests that prove it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._calendar import SESSION_CLOSE, SESSION_LENGTH, SESSION_OPEN, TIMEZONE, SessionCalendar
from ._lobster_read import PRICE_SCALE, Columns, check_crossed, check_header, read_all
from ._market import BAR_COLUMNS, Market
from ._market_build import market_from_bars
from ._validation import check_timedelta

__all__ = ["market_from_lobster"]

_REGULAR_END_MS = int(SESSION_CLOSE / pd.Timedelta("1ms"))
_REGULAR_START_MS = int(SESSION_OPEN / pd.Timedelta("1ms"))

_DAY_NS = 86_400 * 10**9


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------
def market_from_lobster(source: object, freq: object = "1min", *, level: int | None = None,
                        early_closes: dict | None = None, header: bool | None = None,
                        crossed: str = "raise") -> Market:
    r"""Build a :class:`Market` from LOBSTER message/orderbook files of many tickers and days.

    Parameters
    ----------
    source : str, Path or list
        A directory, a glob pattern (``"/data/*_message_10.csv*"``) or a list
        of files; names follow LOBSTER's
        ``TICKER_YYYY-MM-DD_STARTMS_ENDMS_{message,orderbook}_LEVEL.csv[.gz]``,
        which carries the ticker, the date and the session window.  Files may
        be plain or compressed (``.gz``, ``.bz2``, ``.xz``) and may start with
        a header row.
    freq : str or Timedelta, default "1min"
        Bin length; must divide the session.
    level : int, optional
        Book depth to read when a directory holds several.
    early_closes : dict, optional
        Half-days; by default taken from the file names (a file whose window
        ends before 16:00 is a half-day, and every ticker's file must agree).
    header : bool, optional
        Whether each file's first line is a header row.  By default (None) it
        is one only if it spells LOBSTER's column names
        (``Time,Type,OrderID,Size,Price,Direction``; ``Ask Price 1,Ask Size 1,
        Bid Price 1,Bid Size 1,...``; case, spaces and underscores free); a
        first line of other text is an error at row 0, never a silently
        dropped event.  ``True`` skips any first line that is not all numbers.
    crossed : {"raise", "drop"}, default "raise"
        A crossed or locked best quote (bid >= ask, both sides present)
        outside a trading halt is an error; ``"drop"`` leaves such rows out of
        the quotes instead, as the rows of a halt are.

    Returns
    -------
    Market
        Bars from each file's trades and quotes, exactly as
        :func:`execlab.read_lobster` followed by :func:`execlab.make_bars`
        would give them.

    Raises
    ------
    FileNotFoundError
        If nothing matches ``source``.
    ValueError
        Mixed levels without ``level``, two files for one ticker and day, a
        session missing for one ticker, tickers disagreeing on a half-day, a
        window that does not start at 09:30, a file that does not end where
        its session closes, a file that breaks a rule of
        :mod:`execlab._lobster_read` or :mod:`execlab._lobster_checks` (as
        :func:`execlab.read_lobster` lists them: binary or empty, a cell that
        is not a number, a fractional or enormous size, a size beside an
        empty level's dummy price, an unknown halt code, a crossed book, ...),
        or a day without a two-sided quote.  The message names the file, the
        row (counted from 0 below any header row), the column and the value.
    IsADirectoryError
        If a file named in ``source`` is a directory.
    TypeError
        If ``header`` is not True, False or None.

    Notes
    -----
    Executions of visible (type 4) and hidden (type 5) limit orders are the
    trades, with sign :math:`\epsilon = -\text{direction}`; with trades
    :math:`(p_k, s_k, \epsilon_k)` in bin :math:`b`, ``volume``
    :math:`= \sum s_k`, ``vwap`` :math:`= \sum p_k s_k / \sum s_k` and
    ``signed_volume`` :math:`= \sum \epsilon_k s_k`.  ``mid`` and ``spread``
    are :math:`\frac{1}{\Delta}\int_b m(t)\,dt` over the best quote after the
    last event at or before :math:`t`; a one-sided book carries the last
    two-sided quote, several events in one nanosecond keep the last state,
    and quotes inside a halt (type 7, price -1 until price 1) are dropped.
    Trades outside 09:30-16:00 are left out; one stamped exactly at 16:00
    belongs to the last bin.  A bin without trades carries the previous
    close (before the first trade, the mid).  See :func:`execlab.make_bars`.

    Each file is parsed once: by pyarrow's CSV reader when it is installed
    (message times as float64, every other cell as int64; a file with a
    fraction in an integer column is read again by pandas), else by pandas'
    C parser.  All ticker-days are then validated and binned together with
    ``bincount``, ``reduceat`` and ``searchsorted`` over the concatenated
    columns.  Only the running sum behind the time-weighted mid and spread is
    taken day by day, which keeps its rounding identical to
    :func:`execlab.make_bars`.  ``benchmarks/bench_market.py`` times the whole
    build against pyarrow's bare parse of the same files (target: at most
    twice as long).

    Every column of the orderbook file is read and checked, so a book of 10
    levels costs about ten times a level-1 book to read, though only the
    best bid and ask enter the bars.  A message stamped outside the file's
    window (from its name) is rejected, a check :func:`execlab.read_lobster`
    does not make.

    Examples
    --------
    >>> from execlab.data import find_data_dir
    >>> m = market_from_lobster(find_data_dir(), "30min", level=1)
    >>> m.tickers, m["volume"].shape, int(m["volume"].sum())
    (['AAPL', 'AMZN', 'GOOG'], (3, 1, 13), 4367020)
    """
    header, crossed = check_header(header), check_crossed(crossed)
    td, files, early_closes = _plan(source, freq, level, early_closes)
    cols = read_all(files, header=header, crossed=crossed)
    n_bins = int(SESSION_LENGTH // td)
    bars = _bars(cols, td, n_bins)
    return _assemble(files, td, early_closes, bars, n_bins)


# ---------------------------------------------------------------------------
# checks on the file list, shared with the reference path
# ---------------------------------------------------------------------------
def _plan(source: object, freq: object, level: int | None, early_closes: dict | None
          ) -> tuple[pd.Timedelta, pd.DataFrame, dict]:
    """(bin length, files from scan_lobster, early closes) after the checks that need only names."""
    from .data import scan_lobster
    from .data._bars import _session_bins

    td = check_timedelta(freq, "freq")
    files = scan_lobster(source, level=level)
    if SESSION_LENGTH % td != pd.Timedelta(0):
        _session_bins(pd.Timestamp(files["date"].iat[0]), td)  # raises make_bars' message
    starts = files["start_ms"].to_numpy()
    if (starts != _REGULAR_START_MS).any():
        pos = int(np.flatnonzero(starts != _REGULAR_START_MS)[0])
        raise ValueError(f"LOBSTER file {Path(files['message_file'].iat[pos]).name} starts at {starts[pos]} ms after midnight; "
                         f"execlab reads whole sessions from the 09:30 open ({_REGULAR_START_MS} ms).")
    # Every ticker must have every session.
    tickers = sorted(files["ticker"].unique())
    dates = sorted(files["date"].unique())
    have = set(zip(files["ticker"], files["date"]))
    for dd in dates:
        for tk in tickers:
            if (tk, dd) not in have:
                raise ValueError(f"LOBSTER files in {str(source)!r} have no file for ticker {tk!r} on "
                                 f"{pd.Timestamp(dd).date()}, a session the other tickers have; every ticker needs every session.")
    if early_closes is None:
        early: dict = {}
        ends = files.groupby("date")["end_ms"].agg(["min", "max"])
        for dd, row in ends.iterrows():
            if row["min"] != row["max"]:
                raise ValueError(f"LOBSTER files for {pd.Timestamp(dd).date()} disagree on the session's end "
                                 f"({int(row['min'])} and {int(row['max'])} ms after midnight); one session, one close.")
            if row["max"] < _REGULAR_END_MS:
                early[pd.Timestamp(dd)] = pd.Timedelta(int(row["max"]), "ms")
        early_closes = early
    return td, files, early_closes


# ---------------------------------------------------------------------------
# bars of all ticker-days in one pass
# ---------------------------------------------------------------------------
def _bars(cols: Columns, td: pd.Timedelta, n: int) -> dict[str, np.ndarray]:
    """(files, bins) arrays over the whole 09:30-16:00 session, as make_bars builds them day by day."""
    F, step, open_ns = cols.n_files, td.value, SESSION_OPEN.value
    direction = cols.message[4]
    clock = cols.clock
    edges = open_ns + step * np.arange(n + 1, dtype=np.int64)
    day0 = np.arange(F, dtype=np.int64) * _DAY_NS
    edge_clock = day0[:, None] + edges[None, :]  # (files, bins + 1)

    # Trades: executions of visible (4) and hidden (5) orders, sign = -direction.
    ex, p, s = cols.executions, cols.execution_price, cols.execution_size
    t = clock[ex]
    f = t // _DAY_NS
    since_open = t - day0[f] - open_ns
    b = since_open // step
    b[since_open == n * step] = n - 1  # stamped exactly at the close: the last bin
    inside = (b >= 0) & (b < n)
    if not inside.all():
        ex, f, b, p, s = ex[inside], f[inside], b[inside], p[inside], s[inside]
    key = f * n + b  # non-decreasing: files in order, times sorted within each
    p = p / PRICE_SCALE
    s = s.astype(np.int64).astype(np.float64)  # read_lobster keeps whole shares
    volume = np.bincount(key, weights=s, minlength=F * n).reshape(F, n)
    notional = np.bincount(key, weights=p * s, minlength=F * n).reshape(F, n)
    n_trades = np.bincount(key, minlength=F * n).reshape(F, n)
    signed = np.bincount(key, weights=s * -direction[ex], minlength=F * n).reshape(F, n)
    open_, close, high, low = (np.full(F * n, np.nan) for _ in range(4))
    if len(key):
        first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        last = np.append(first[1:], len(key)) - 1
        bins = key[first]
        open_[bins], close[bins] = p[first], p[last]
        high[bins] = np.maximum.reduceat(p, first)
        low[bins] = np.minimum.reduceat(p, first)
    open_, close, high, low = (a.reshape(F, n) for a in (open_, close, high, low))
    del t, f, since_open, b, key, p, s

    # Quotes outside halts; several events in one nanosecond leave the book after the last of them.
    q = None if cols.quoted is None else np.flatnonzero(cols.quoted)
    q_clock = clock if q is None else clock[q]
    last_of_ts = np.empty(len(q_clock), dtype=bool)
    np.not_equal(q_clock[1:], q_clock[:-1], out=last_of_ts[:-1])  # files never share a clock value
    last_of_ts[-1] = True
    u = np.flatnonzero(last_of_ts)  # positions among the quotes
    del last_of_ts
    u_clock = q_clock[u]
    ustart = np.searchsorted(u_clock, day0)  # every file has a quote (validated)
    # A one-sided book has no mid: the day's last two-sided quote holds (before the first, the first).
    src = u
    if cols.two_sided is not None:
        two = cols.two_sided if q is None else cols.two_sided[q]
        pos = np.arange(len(q_clock))
        qstart = np.searchsorted(q_clock, day0)
        uf = u_clock // _DAY_NS
        prev = np.maximum.accumulate(np.where(two, pos, -1))[u]
        first_two = np.minimum.reduceat(np.where(two, pos, len(q_clock)), qstart)
        src = np.where(prev >= qstart[uf], prev, first_two[uf])
    rows = src if q is None else q[src]
    ask = cols.book[0][rows] / PRICE_SCALE
    bid = cols.book[1][rows] / PRICE_SCALE
    umid = bid + ask
    umid /= 2
    uspread = np.subtract(ask, bid, out=ask)
    del bid, rows, src, u

    k = np.searchsorted(u_clock, edge_clock.ravel(), side="right").reshape(F, n + 1) - 1
    k_end = np.searchsorted(u_clock, edge_clock[:, 1:].ravel(), side="left").reshape(F, n) - 1
    first_u = ustart[:, None]
    before = k < first_u  # an edge before the day's first quote
    k = np.where(before, first_u, k)
    mid_open = umid[k[:, :-1]]
    mid_close = umid[np.maximum(k_end, first_u)]
    elapsed = (edge_clock - u_clock[k]).astype(np.float64)
    dt = np.subtract(u_clock[1:], u_clock[:-1], out=np.empty(len(u_clock) - 1), casting="unsafe")
    width = float(step)
    mid = _bin_integrals(umid, umid[:-1] * dt, k, before, elapsed, ustart) / width
    spread = _bin_integrals(uspread, np.multiply(uspread[:-1], dt, out=dt), k, before, elapsed, ustart) / width

    # Bins without trades carry the previous close; before the first trade, the mid.
    has = n_trades > 0
    last_trade = np.maximum.accumulate(np.where(has, np.arange(n), -1), axis=1)
    close_ff = np.where(last_trade >= 0, np.take_along_axis(close, np.maximum(last_trade, 0), axis=1), mid_close)
    prev_close = np.concatenate([close_ff[:, :1], close_ff[:, :-1]], axis=1)
    fill = np.where(np.isnan(prev_close), mid_close, prev_close)
    vwap = np.where(has, notional / np.where(has, volume, 1.0), fill)
    return {
        "open": np.where(has, open_, fill), "high": np.where(has, high, fill), "low": np.where(has, low, fill),
        "close": np.where(has, close, fill), "volume": volume, "vwap": vwap,
        "n_trades": n_trades.astype(np.float64), "signed_volume": signed,
        "mid": mid, "spread": spread, "mid_open": mid_open, "mid_close": mid_close,
    }


def _bin_integrals(values: np.ndarray, area: np.ndarray, k: np.ndarray, before: np.ndarray, elapsed: np.ndarray,
                   ustart: np.ndarray) -> np.ndarray:
    r"""Integral over each bin of the step function ``values``, shape (files, bins).

    ``values[i]`` holds from event i until the next event of its file, and
    ``area[i]`` is its value times that span; before a file's first event its
    first value is extended backwards.  ``k`` is the last event at or before
    each bin edge (the file's first when ``before``) and ``elapsed`` the time
    since it.  With :math:`C(t) = \int_{t_0}^{t} v` from the file's first event
    :math:`t_0`, the bin integral is :math:`C(e_{b+1}) - C(e_b)`.  The running
    sum behind :math:`C` restarts at each file and adds in the order make_bars
    adds, so the result is the same to the last bit.  ``area`` is overwritten.
    """
    stops = np.append(ustart[1:], len(values))
    for a, z in zip(ustart.tolist(), stops.tolist()):
        np.cumsum(area[a:z - 1], out=area[a:z - 1])  # area[i] is now C at event i + 1
    c_k = np.where(k > ustart[:, None], area[k - 1], 0.0)
    c = np.where(before, values[ustart][:, None] * elapsed, c_k + values[k] * elapsed)
    return np.diff(c, axis=1)


# ---------------------------------------------------------------------------
# the market
# ---------------------------------------------------------------------------
def _assemble(files: pd.DataFrame, td: pd.Timedelta, early_closes: dict, bars: dict[str, np.ndarray],
              n: int) -> Market:
    """Place each file's bars at (ticker, session); fill the bins after a half-day's close."""
    tickers = sorted(files["ticker"].unique())
    dates = pd.DatetimeIndex(sorted(files["date"].unique()))
    cal = SessionCalendar(dates, tz=TIMEZONE, open=SESSION_OPEN, close=SESSION_CLOSE, early_closes=early_closes)
    nb = cal.n_bins(td)
    B, K, D = int(nb.max()), len(tickers), cal.n_sessions
    k = pd.Index(tickers).get_indexer(files["ticker"])
    d = cal.dates.get_indexer(pd.DatetimeIndex(files["date"]))
    # Bins a file covers: those starting before its window's end (a half-day file stops early).
    end_ns = files["end_ms"].to_numpy(np.int64) * 1_000_000
    kept = np.clip(-((SESSION_OPEN.value - end_ns) // td.value), 0, n)
    wrong = kept != nb[d]
    if wrong.any():
        pos = int(np.flatnonzero(wrong)[0])
        close = pd.Timedelta(int(end_ns[pos]))
        day = cal.dates[d[pos]].date()
        hint = (f"if that session closed early, pass early_closes={{'{day}': 'HH:MM'}}" if kept[pos] < nb[d[pos]]
                else "early_closes closes it sooner")
        raise ValueError(f"LOBSTER file {Path(files['message_file'].iat[pos]).name} ends at {str(close)[-8:]}, but the "
                         f"session of {day} has {nb[d[pos]]} bins of {td}; {hint}.")
    row = k * D + d
    values: dict[str, np.ndarray] = {}
    for c in BAR_COLUMNS:
        out = np.empty((K * D, B))
        out[row] = bars[c][:, :B]
        values[c] = out.reshape(K, D, B)
    valid = np.arange(B)[None, :] < nb[:, None]
    if (~valid).any():
        # As market_from_bars: after a half-day's close no trading, prices held at the last open bin's.
        last = nb - 1
        held = {c: values[c][:, np.arange(D), last][:, :, None] for c in BAR_COLUMNS}
        for c in BAR_COLUMNS:
            if c in ("volume", "n_trades", "signed_volume"):
                fill = 0.0
            elif c in ("mid_open", "mid"):
                fill = held["mid_close"]
            elif c in ("open", "high", "low", "vwap"):
                fill = held["close"]
            else:
                fill = held[c]
            values[c] = np.where(valid[None], values[c], fill)
    n_days = len(files)
    return Market(tickers, cal, td, values, _source_label(files, n_days))


# ---------------------------------------------------------------------------
# the reference: one read_lobster and make_bars per file
# ---------------------------------------------------------------------------
def _market_from_lobster_reference(source: object, freq: object = "1min", *, level: int | None = None,
                                   early_closes: dict | None = None, header: bool | None = None,
                                   crossed: str = "raise") -> Market:
    """:func:`market_from_lobster` the slow way: read_lobster + make_bars per file, then market_from_bars.

    Kept to prove the fast path gives the same arrays; not for use.
    """
    from .data import make_bars, read_lobster

    td, files, early_closes = _plan(source, freq, level, early_closes)
    bars = []
    for r in files.itertuples(index=False):
        day = read_lobster(r.message_file, r.orderbook_file, date=str(pd.Timestamp(r.date).date()), ticker=r.ticker,
                           header=header, crossed=crossed)
        bars.append(_day_bars(make_bars, day, td, r.end_ms))
    all_bars = pd.concat(bars, ignore_index=True)
    n_days = len(files)
    return market_from_bars(all_bars, td, early_closes=early_closes,
                            source=_source_label(files, n_days))


def _day_bars(make_bars, day, td: pd.Timedelta, end_ms: int) -> pd.DataFrame:
    bars = make_bars(day.trades, day.quotes, td)
    if end_ms < _REGULAR_END_MS:  # a half-day: drop the bins after its close
        local = pd.DatetimeIndex(bars["time"]).tz_localize(None)
        keep = (local - local.normalize()) < pd.Timedelta(int(end_ms), "ms")
        bars = bars[np.asarray(keep)]
    return bars


def _source_label(files: pd.DataFrame, n_days: int) -> str:
    """``LOBSTER files: N ticker-sessions``, marked SYNTHETIC when the files came from execlab.synthetic."""
    label = f"LOBSTER files: {n_days} ticker-session{'s' if n_days != 1 else ''}"
    dirs = {Path(f).parent for f in files["message_file"]}
    if any((d / "SYNTHETIC.txt").is_file() for d in dirs):
        label = "SYNTHETIC " + label + " (execlab.synthetic, not real data)"
    return label
