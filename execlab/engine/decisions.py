"""Trading decisions: the engine's input, validated once at the boundary.

A *decision* is what a trading model says: ``ticker``, ``action`` (BUY, SELL,
HOLD), ``position_size`` (percent of portfolio value), ``urgency`` (CRITICAL,
HIGH, MEDIUM, LOW), optionally ``confidence``, decision ``time`` and a
``decision_id``.  :func:`normalize_decisions` turns a DataFrame or a list of
dicts into one clean frame or raises a ``ValueError`` that names the column,
the row and the offending value; nothing downstream re-checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._market import Market
from .._validation import MAX_SHARES

__all__ = [
    "price_decisions",
    "ACTIONS",
    "URGENCIES",
    "REGIMES",
    "normalize_decisions",
    "regime_urgency",
    "size_orders",
]

ACTIONS = ("BUY", "SELL", "HOLD")
URGENCIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
#: Market regimes understood by :func:`regime_urgency` (anything else -> MEDIUM).
REGIMES = {"CRASH": "CRITICAL", "RISK_OFF": "HIGH"}

_REQUIRED = ("ticker", "action", "urgency")
_COLUMNS = ("decision_id", "ticker", "action", "position_size", "urgency", "confidence", "time")


def _show(v: object) -> str:
    """A value as it should read in an error message: numbers plain, strings quoted."""
    if isinstance(v, (np.generic,)):
        v = v.item()
    return repr(v) if isinstance(v, str) else str(v)


def _as_frame(decisions: object) -> pd.DataFrame:
    if isinstance(decisions, pd.DataFrame):
        return decisions.copy()
    if isinstance(decisions, Mapping):
        return pd.DataFrame([dict(decisions)])
    if isinstance(decisions, Sequence) and not isinstance(decisions, (str, bytes)):
        if not all(isinstance(d, Mapping) for d in decisions):
            bad = next(d for d in decisions if not isinstance(d, Mapping))
            raise TypeError(f"decisions must be a DataFrame or a list of dicts; found an element {bad!r}.")
        return pd.DataFrame([dict(d) for d in decisions])
    raise TypeError(f"decisions must be a DataFrame or a list of dicts, got {type(decisions).__name__}.")


def _choice_column(df: pd.DataFrame, column: str, options: Sequence[str]) -> np.ndarray:
    raw = df[column]
    # Upper-case and strip so "buy " means BUY; anything else is named in the error.
    vals = np.array([v.strip().upper() if isinstance(v, str) else v for v in raw.to_numpy(object)], dtype=object)
    ok = np.isin(vals, np.array(options, dtype=object))
    if not ok.all():
        pos = int(np.flatnonzero(~ok)[0])
        raise ValueError(
            f"decisions column {column!r} has {_show(raw.iloc[pos])} at row {df.index[pos]!r}; "
            f"must be one of {list(options)}."
        )
    return vals.astype(str)


def _time_column(df: pd.DataFrame, tz: object, default_time: object) -> pd.DatetimeIndex:
    if "time" not in df.columns:
        if default_time is None:
            raise ValueError("decisions have no 'time' column and no default time was given.")
        t = pd.DatetimeIndex([pd.Timestamp(default_time)] * len(df))
    else:
        raw = df["time"]
        try:
            t = pd.DatetimeIndex(pd.to_datetime(raw.to_numpy(object) if raw.dtype == object else raw))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"decisions column 'time' cannot be read as timestamps: {exc}") from None
        if t.isna().any():
            pos = int(np.flatnonzero(t.isna())[0])
            if default_time is None:
                raise ValueError(f"decisions column 'time' has {raw.iloc[pos]!r} at row {df.index[pos]!r}; must be a timestamp.")
            t = t.where(~t.isna(), pd.Timestamp(default_time).tz_convert(t.tz) if t.tz is not None else pd.Timestamp(default_time).tz_localize(None))
    if t.tz is None:
        if tz is None:
            raise ValueError("decisions column 'time' is timezone-naive; localize it (e.g. .dt.tz_localize('America/New_York')).")
        t = t.tz_localize(tz)
    elif tz is not None:
        t = t.tz_convert(tz)
    return t.as_unit("ns")


def normalize_decisions(
    decisions: object,
    *,
    tz: object = None,
    default_time: object = None,
    id_start: int = 0,
) -> pd.DataFrame:
    """Validate trading decisions and return them as one clean frame.

    Parameters
    ----------
    decisions : DataFrame, dict or list of dicts
        Columns ``ticker``, ``action`` (BUY/SELL/HOLD, case-insensitive),
        ``position_size`` (percent of portfolio value, in (0, 100]; may be
        missing or 0 for HOLD), ``urgency`` (CRITICAL/HIGH/MEDIUM/LOW); optional
        ``confidence`` (in [0, 1]), ``time`` (decision time) and
        ``decision_id`` (unique).
    tz : str or tzinfo, optional
        Time zone for naive decision times (they are localized to it) and for
        aware ones (they are converted).  The executor passes the bars' zone.
    default_time : Timestamp, optional
        Time of decisions without one.
    id_start : int, default 0
        First generated id when ``decision_id`` is absent (ids are
        ``id_start, id_start + 1, ...`` in input order).

    Returns
    -------
    DataFrame
        ``decision_id, ticker, action, position_size, urgency, confidence,
        time`` plus any extra input columns, in input order with a fresh
        RangeIndex.  ``position_size`` is float percent (NaN for a HOLD
        without one), ``confidence`` float (NaN when absent).

    Raises
    ------
    TypeError
        If ``decisions`` is not a frame or a list of dicts.
    ValueError
        Missing columns, an empty batch, an unknown action or urgency, a
        position size outside (0, 100], a confidence outside [0, 1], an
        unreadable time, or a duplicated decision id; the message names the
        column, the row and the value.

    Examples
    --------
    >>> d = normalize_decisions([{"ticker": "AAPL", "action": "buy", "position_size": 5,
    ...                           "urgency": "high", "time": "2012-06-21 10:00"}],
    ...                         tz="America/New_York")
    >>> d.loc[0, "action"], d.loc[0, "urgency"], float(d.loc[0, "position_size"])
    ('BUY', 'HIGH', 5.0)
    """
    df = _as_frame(decisions)
    missing = [c for c in _REQUIRED if c not in df.columns]
    if "position_size" not in df.columns:
        missing.append("position_size")
    if missing:
        raise ValueError(f"decisions are missing column(s) {missing}; they have {list(map(str, df.columns))}.")
    if len(df) == 0:
        raise ValueError("decisions are empty (0 rows).")
    df = df.reset_index(drop=True)

    tick = df["ticker"]
    bad = np.array([not isinstance(v, str) or not v.strip() for v in tick.to_numpy(object)])
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"decisions column 'ticker' has {_show(tick.iloc[pos])} at row {pos}; must be a non-empty string.")
    ticker = np.array([v.strip().upper() for v in tick.to_numpy(object)], dtype=object).astype(str)
    action = _choice_column(df, "action", ACTIONS)
    urgency = _choice_column(df, "urgency", URGENCIES)

    try:
        size = pd.to_numeric(df["position_size"], errors="raise").to_numpy(np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        vals = df["position_size"].to_numpy(object)
        pos = next(i for i, v in enumerate(vals) if pd.isna(pd.to_numeric(pd.Series([v]), errors="coerce")[0]) and not pd.isna(v))
        raise ValueError(f"decisions column 'position_size' has {_show(vals[pos])} at row {pos}; must be a number in (0, 100].") from None
    trade = action != "HOLD"
    bad = trade & ~((size > 0) & (size <= 100))  # NaN fails too
    bad |= ~trade & ~(np.isnan(size) | ((size >= 0) & (size <= 100)))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"decisions column 'position_size' has {_show(df['position_size'].iloc[pos])} at row {pos} "
            f"({action[pos]} {ticker[pos]}); must be in (0, 100] percent of portfolio value."
        )

    if "confidence" in df.columns:
        try:
            conf = pd.to_numeric(df["confidence"], errors="raise").to_numpy(np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"decisions column 'confidence' must be numeric in [0, 1]: {exc}") from None
        bad = ~np.isnan(conf) & ~((conf >= 0) & (conf <= 1))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"decisions column 'confidence' has {_show(conf[pos])} at row {pos}; must be in [0, 1].")
    else:
        conf = np.full(len(df), np.nan)

    time = _time_column(df, tz, default_time)

    if "decision_id" in df.columns:
        ids = df["decision_id"]
        if ids.isna().any():
            pos = int(np.flatnonzero(ids.isna().to_numpy())[0])
            raise ValueError(f"decisions column 'decision_id' is missing at row {pos}.")
        dup = ids.duplicated(keep="first").to_numpy()
        if dup.any():
            pos = int(np.flatnonzero(dup)[0])
            raise ValueError(f"decisions column 'decision_id' has duplicate value {_show(ids.iloc[pos])} at row {pos}.")
        decision_id = ids.to_numpy(object)
    else:
        decision_id = np.arange(id_start, id_start + len(df), dtype=np.int64).astype(object)

    out = pd.DataFrame(
        {
            "decision_id": pd.Series(decision_id, dtype=object),
            "ticker": ticker,
            "action": action,
            "position_size": size,
            "urgency": urgency,
            "confidence": conf,
            "time": time,
        }
    )
    extra = [c for c in df.columns if c not in _COLUMNS]
    for c in extra:
        out[c] = df[c].to_numpy()
    return out


def regime_urgency(regime: object) -> object:
    """Map a market regime to an urgency: CRASH -> CRITICAL, RISK_OFF -> HIGH, else MEDIUM.

    Parameters
    ----------
    regime : str, array_like of str or Series
        Regime labels (case-insensitive).

    Returns
    -------
    str, ndarray or Series
        Urgencies, the same shape (and index) as the input.

    Examples
    --------
    >>> regime_urgency("crash"), list(regime_urgency(["RISK_OFF", "BULL"]))
    ('CRITICAL', ['HIGH', 'MEDIUM'])
    """
    if isinstance(regime, str):
        return REGIMES.get(regime.strip().upper(), "MEDIUM")
    if isinstance(regime, pd.Series):
        return regime.map(lambda r: regime_urgency(r) if isinstance(r, str) else "MEDIUM")
    arr = np.asarray(regime, dtype=object)
    key = np.array([r.strip().upper() if isinstance(r, str) else "" for r in arr.ravel()], dtype=object)
    out = np.full(key.shape, "MEDIUM", dtype=object)
    for reg, urg in REGIMES.items():
        out[key == reg] = urg
    return out.reshape(arr.shape)  # object array of Python str


def size_orders(
    portfolio_value: float | np.ndarray,
    position_size: np.ndarray,
    price: np.ndarray,
) -> np.ndarray:
    r"""Whole shares for a percent-of-portfolio decision.

    .. math:: q = \left\lfloor \frac{V \cdot s / 100}{P} \right\rfloor

    with portfolio value :math:`V` ($), position size :math:`s` (percent) and
    price :math:`P` ($ per share).  A small tolerance keeps 5% of $100,000 at
    $100 at 50 shares despite floating point.

    Raises
    ------
    ValueError
        A portfolio value that is negative or not finite (a percent of a
        negative value is no order size), a position size outside [0, 100],
        a price that is not > 0, or a size outside the int64 range of a
        share count; the message names the value.

    Examples
    --------
    >>> size_orders(100_000, np.array([5.0]), np.array([100.0]))
    array([50])
    >>> size_orders(0.0, np.array([5.0]), np.array([100.0]))
    array([0])
    """
    v = np.asarray(portfolio_value, dtype=np.float64)
    s = np.asarray(position_size, dtype=np.float64)
    p = np.asarray(price, dtype=np.float64)
    for name, x, ok in (("portfolio_value", v, np.isfinite(v) & (v >= 0)),
                        ("position_size", s, np.isfinite(s) & (s >= 0) & (s <= 100)),
                        ("price", p, np.isfinite(p) & (p > 0))):
        if not np.all(ok):
            bad = np.broadcast_to(x, np.broadcast(x, ok).shape)[~np.broadcast_to(ok, np.broadcast(x, ok).shape)][0]
            need = {"portfolio_value": "finite and >= 0 ($)", "position_size": "in [0, 100] percent",
                    "price": "finite and > 0 ($ per share)"}[name]
            raise ValueError(f"{name} == {bad.item()!r}, must be {need}.")
    raw = np.floor(v * s / 100.0 / p + 1e-9)
    too_big = raw > MAX_SHARES  # what every schedule handles exactly, well inside int64
    if np.any(too_big):
        i = int(np.flatnonzero(np.broadcast_to(too_big, raw.shape).ravel())[0])
        vv, ss, pp = (np.broadcast_to(x, raw.shape).ravel()[i] for x in (v, s, p))
        value = f"${vv:,.2f}" if abs(vv) < 1e15 else f"${vv:.4g}"
        raise ValueError(f"portfolio_value == {value} with position_size == {ss:g}% at ${pp:,.2f} asks for "
                         f"{raw.ravel()[i]:.4g} shares, more than an order may hold ({MAX_SHARES:,} = 2**51, what "
                         "schedules round exactly).")
    return raw.astype(np.int64)


def price_decisions(m: Market, dec: pd.DataFrame, t_ns: np.ndarray, errors: str) -> tuple:
    """Price each decision at the quote mid at its time, or reject it (unknown ticker, no quote then).

    ``dec`` is sorted by time and gets a ``price`` column.  Returns ``(k, bar,
    day, ok, reason, rejected)``: ticker row, bar and session of each
    decision, whether it could be priced, and why not.  With
    ``errors="raise"`` the first unpriceable decision raises instead.
    """
    n = len(dec)
    k = m.index.get_indexer(dec["ticker"].to_numpy(object))
    bar, day, inside = _locate(m, t_ns)
    price = np.full(n, np.nan)
    ok = (k >= 0) & inside
    price[ok] = m.mid_at(k[ok], t_ns[ok], day[ok])
    reason = np.full(n, "", dtype=object)
    unknown = k < 0
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        msg = (f"decisions column 'ticker' has {dec['ticker'].iat[i]!r} at row {dec['input_row'].iat[i]}; "
               f"it is not in the market, which holds {m.tickers}.")
        if errors == "raise":
            raise ValueError(msg)
        reason[unknown] = [f"unknown ticker {t!r} (the market holds {m.tickers})" for t in dec["ticker"].to_numpy(object)[unknown]]
    noquote = (k >= 0) & ~inside
    if noquote.any():
        i = int(np.flatnonzero(noquote)[0])
        d0 = day[i]
        if d0 < 0:
            msg = (f"decisions column 'time' has {dec['time'].iat[i]} at row {dec['input_row'].iat[i]} "
                   f"({dec['ticker'].iat[i]}), on a date that is not one of the market's sessions "
                   f"({m.n_sessions} from {m.dates[0].date()} to {m.dates[-1].date()}).")
        else:
            msg = (f"decisions column 'time' has {dec['time'].iat[i]} at row {dec['input_row'].iat[i]} "
                   f"({dec['ticker'].iat[i]}); there is no quote then: the market covers "
                   f"{m.times[m.day_first[d0]]} to {pd.Timestamp(m.end_ns[m.day_last[d0]], tz='UTC').tz_convert(m.tz)} on that day.")
        if errors == "raise":
            raise ValueError(msg)
        reason[noquote] = [f"no quote at decision time {t} (outside the market's sessions)"
                           for t in dec["time"].to_numpy()[noquote]]
    dec["price"] = price
    rejected = unknown | noquote
    return k, bar, day, ok, reason, rejected


def _locate(m: Market, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bar, session and whether each time falls inside an open bar of a session (-1 session: none)."""
    day = m.calendar.session_of(t_ns)
    d = np.maximum(day, 0)
    bar, where = m.locate(t_ns, d)
    inside = (day >= 0) & (where == 0)
    return bar, np.where(day >= 0, m.day[bar], -1), inside


# ---------------------------------------------------------------------------
# Executor
# ---------------------------------------------------------------------------
