"""Building a :class:`~execlab.Market` from a user's bars or from LOBSTER files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._calendar import SESSION_CLOSE, SESSION_OPEN, TIMEZONE, SessionCalendar
from ._market import BAR_COLUMNS, Market, _read_table
from ._orders import from_ns, show
from ._validation import check_frame, check_label_column, check_timedelta, row_label

__all__ = ["market_from_bars"]



def _numeric(df: pd.DataFrame, column: str, name: str, *, positive: bool) -> np.ndarray:
    col = df[column]
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        raise TypeError(f"{name} column {column!r} must be numeric, got dtype {col.dtype}.")
    try:
        a = pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column {column!r} must be numeric: {exc}") from None
    bad = ~np.isfinite(a) | ((a <= 0) if positive else (a < 0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        need = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} column {column!r} has {a[pos]} for {df['ticker'].iat[pos]!r} at row "
                         f"{row_label(df.index, pos)!r}; must be finite and {need}.")
    return a


def market_from_bars(bars: object, freq: object = None, *, tz: str | None = None, early_closes: dict | None = None,
                     open: object = SESSION_OPEN, close: object = SESSION_CLOSE,  # noqa: A002
                     source: str | None = None, name: str = "bars") -> Market:
    """Build a :class:`Market` from regular bars: a DataFrame, or a CSV or parquet file.

    Parameters
    ----------
    bars : DataFrame, str or Path
        One row per ticker and bin, every bin of every session present.
        Required columns: ``ticker``; ``time`` (bin *start*; timezone-aware,
        or naive exchange-local time when ``tz`` is given); ``volume``
        (shares, >= 0); ``close`` ($, > 0: last trade, or the mid for a bin
        without trades).  Optional, with the default used when absent:
        ``open``, ``high``, ``low`` (``close``); ``vwap`` (``close``);
        ``n_trades`` (1 for a bin with volume, else 0); ``signed_volume`` (0,
        unknown); ``mid_open`` (``open``), ``mid_close`` (``close``),
        ``mid`` (mean of ``mid_open`` and ``mid_close``); ``spread`` ($, >= 0;
        NaN when absent: the simulator then refuses to price fills).  A CSV's
        ``time`` column is read with :func:`pandas.to_datetime`.
    freq : str or Timedelta, optional
        Bin length; inferred from the times when omitted.
    tz : str, optional
        Exchange time zone (default ``America/New_York``); naive times are
        taken as local times there.
    early_closes : dict, optional
        Half-days, ``{"2024-11-29": "13:00"}``: those sessions have fewer bins.
    open, close : str or Timedelta, default "09:30" and "16:00"
        Session hours (local), for bars of another session.
    source : str, optional
        A label for ``Market.source``.

    Returns
    -------
    Market

    Raises
    ------
    TypeError
        If ``bars`` is not a frame or path, a numeric column holds text, or
        ``time`` does not hold datetimes.
    ValueError
        A missing column, NaN or non-positive price, negative volume, naive
        times without ``tz``, a time outside the session or off the bin
        grid, a duplicate bar, a gap (a bin missing inside a session), or a
        session missing for one ticker; the message names the ticker, the
        time and the row.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2024-01-02 09:30", periods=13, freq="30min", tz="America/New_York")
    >>> bars = pd.DataFrame({"ticker": "XYZ", "time": t, "close": 10.0, "volume": 100, "spread": 0.01})
    >>> market_from_bars(bars).freq
    Timedelta('0 days 00:30:00')
    """
    df = check_frame(_read_table(bars, name), name, ["ticker", "time", "volume", "close"])
    ticker = pd.Series(check_label_column(df, "ticker", name)).astype(str).to_numpy(dtype=object)
    col = df["time"]
    if not (isinstance(col.dtype, pd.DatetimeTZDtype) or np.issubdtype(np.asarray(col).dtype, np.datetime64)):
        shown = col.iloc[:1].tolist()
        raise TypeError(f"{name} column 'time' must hold datetimes, got dtype {col.dtype}"
                        f"{' such as ' + repr(shown[0]) if shown else ''}; convert it with pd.to_datetime.")
    t = pd.DatetimeIndex(col)
    if t.isna().any():
        pos = int(np.flatnonzero(t.isna())[0])
        raise ValueError(f"{name} column 'time' has NaT at row {row_label(df.index, pos)!r}; every bar needs a time.")
    zone = tz or (str(t.tz) if t.tz is not None else None)
    if t.tz is None:
        if tz is None:
            raise ValueError(f"{name} column 'time' is timezone-naive; localize it (e.g. .dt.tz_localize('America/New_York')) "
                             "or pass tz= to read it as exchange-local time.")
        t = t.tz_localize(tz)
    zone = tz or (TIMEZONE if str(t.tz) == "UTC" else str(t.tz))
    t = t.tz_convert(zone).as_unit("ns")
    local = t.tz_localize(None)
    dates = local.normalize()
    cal = SessionCalendar(pd.unique(dates), tz=zone, open=open, close=close, early_closes=early_closes)

    d = cal.dates.get_indexer(dates)
    since_open = (local - dates).asi8 - cal.open.value
    if freq is None:
        # The most common step between a ticker's consecutive bars of one session: one off-grid
        # or missing bar must not change the bin length it is then checked against.
        key0 = pd.factorize(ticker)[0].astype(np.int64) * (cal.n_sessions + 1) + d
        order0 = np.lexsort((since_open, key0))
        step = np.diff(since_open[order0])[key0[order0][1:] == key0[order0][:-1]]
        step = step[step > 0]
        if step.size:
            vals, counts = np.unique(step, return_counts=True)
            freq_td = pd.Timedelta(int(vals[np.argmax(counts)]))
        else:
            freq_td = cal.close - cal.open
    else:
        freq_td = check_timedelta(freq, "freq")
    nb = cal.n_bins(freq_td)
    B = int(nb.max())
    outside = (since_open < 0) | (since_open >= nb[d] * freq_td.value)
    if outside.any():
        pos = int(np.flatnonzero(outside)[0])
        close_pos = cal.early_closes.get(cal.dates[d[pos]], cal.close)
        half = f" of {cal.dates[d[pos]].date()} (a half-day)" if close_pos != cal.close else ""
        raise ValueError(f"{name} column 'time' has {t[pos]} for {ticker[pos]!r} at row {row_label(df.index, pos)!r}, "
                         f"outside the {str(cal.open)[-8:-3]}-{str(close_pos)[-8:-3]} session{half}.")
    off = since_open % freq_td.value != 0
    if off.any():
        pos = int(np.flatnonzero(off)[0])
        raise ValueError(f"{name} column 'time' has {t[pos]} for {ticker[pos]!r} at row {row_label(df.index, pos)!r}, "
                         f"which is not the start of a {freq_td} bin; bars must lie on one grid from the open.")
    b = since_open // freq_td.value
    tickers = sorted(set(ticker.tolist()))
    K, D = len(tickers), cal.n_sessions
    k = pd.Index(tickers).get_indexer(ticker)
    key = (k * D + d) * B + b
    order = np.argsort(key, kind="stable")
    sk = key[order]
    dup = np.flatnonzero(sk[1:] == sk[:-1])
    if dup.size:
        pos = int(order[dup[0] + 1])
        raise ValueError(f"{name} has a duplicate bar: ticker {ticker[pos]!r} at {t[pos]} appears more than once "
                         f"(row {row_label(df.index, pos)!r}).")
    present = np.zeros(K * D * B, dtype=bool)
    present[key] = True
    present = present.reshape(K, D, B)
    valid = np.arange(B)[None, :] < nb[:, None]
    missing = valid[None] & ~present
    if missing.any():
        kk, dd, bb = (int(x[0]) for x in np.nonzero(missing))
        if not present[kk, dd].any():
            raise ValueError(f"{name} have no rows for ticker {tickers[kk]!r} on {cal.dates[dd].date()}, a session the "
                             f"other tickers have; every ticker needs every session.")
        when = from_ns(cal.open_ns[dd:dd + 1] + bb * freq_td.value, zone)[0]
        hint = (" If that session closed early, pass early_closes={'" + str(cal.dates[dd].date()) + "': 'HH:MM'}."
                if not present[kk, dd, bb:].any() else "")
        raise ValueError(f"{name} for ticker {tickers[kk]!r} have a gap: no bar at {when}; every bin of the session must be "
                         f"present (a bin without trades has volume 0).{hint}")

    close = _numeric(df, "close", name, positive=True)
    values: dict[str, np.ndarray] = {}

    def put(arr: np.ndarray) -> np.ndarray:
        out = np.zeros(K * D * B)
        out[key] = arr
        return out.reshape(K, D, B)

    opt = {c: (_numeric(df, c, name, positive=c in ("open", "high", "low", "vwap", "mid", "mid_open", "mid_close"))
               if c in df.columns and c != "signed_volume" else None) for c in BAR_COLUMNS}
    vol = _numeric(df, "volume", name, positive=False)
    values["close"] = put(close)
    values["volume"] = put(vol)
    for c in ("open", "high", "low", "vwap"):
        values[c] = put(opt[c] if opt[c] is not None else close)
    values["n_trades"] = put(opt["n_trades"] if opt["n_trades"] is not None else (vol > 0).astype(np.float64))
    if "signed_volume" in df.columns:
        col = df["signed_volume"]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise TypeError(f"{name} column 'signed_volume' must be numeric, got dtype {col.dtype}.")
        sv = pd.to_numeric(col, errors="raise").to_numpy(np.float64, na_value=np.nan)
        bad = ~np.isfinite(sv) | (np.abs(sv) > vol)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} column 'signed_volume' has {sv[pos]:g} for {ticker[pos]!r} at row "
                             f"{row_label(df.index, pos)!r}; must be a number between -volume and +volume.")
        values["signed_volume"] = put(sv)
    else:
        values["signed_volume"] = put(np.zeros(len(df)))
    mo = opt["mid_open"] if opt["mid_open"] is not None else values["open"].ravel()[key]
    mc = opt["mid_close"] if opt["mid_close"] is not None else close
    values["mid_open"], values["mid_close"] = put(mo), put(mc)
    values["mid"] = put(opt["mid"] if opt["mid"] is not None else (mo + mc) / 2)
    values["spread"] = put(opt["spread"] if opt["spread"] is not None else np.full(len(df), np.nan))
    if (~valid).any():
        # Bins after a half-day's close: no trading, prices held at the last open bin's.
        last = nb - 1
        for c in BAR_COLUMNS:
            v = values[c]
            held = v[:, np.arange(D), last][:, :, None]
            fill = 0.0 if c in ("volume", "n_trades", "signed_volume") else held
            if c in ("mid_open", "mid", "open", "high", "low", "vwap"):
                fill = values["mid_close"][:, np.arange(D), last][:, :, None] if c.startswith("mid") else values["close"][:, np.arange(D), last][:, :, None]
            values[c] = np.where(valid[None], v, fill)
    n = len(df)
    label = source or (f"bars: {n:,} rows" if not isinstance(bars, (str, Path)) else f"bars file {Path(bars).name}")
    return Market(tickers, cal, freq_td, values, label)
