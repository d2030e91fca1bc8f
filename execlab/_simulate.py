r"""Fill simulation: child orders of a :class:`~execlab.schedules.Schedule` against real bars.

The simulator takes parent orders (one row per order), the schedule that slices
them (row ``i`` of ``schedule.shares`` belongs to row ``i`` of the orders) and
regular bars, and returns the child fills and each parent order's fill status.

It is vectorized over orders: the only Python loop is the participation-cap
recurrence over bars (at most a few hundred per session), each step a handful
of numpy operations on the orders that still have shares to trade.

Conventions
-----------
* ``side`` is ``"BUY"`` (s = +1) or ``"SELL"`` (s = -1).
* Prices are dollars, quantities whole shares, times timezone-aware.
* A fill's ``time`` is the *start* of the bar in which it happened.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._forecast import Forecast, resolve_forecast
from ._kernels import cap_recurrence, group_cumsum, group_exclusive_cumsum
from ._simulation_result import STATUSES, SimulationResult
from ._market import Market, _as_market
from ._orders import SIDES, check_orders, from_ns, show, sign_to_side
from ._validation import check_scalar
from .schedules import Schedule

__all__ = ["simulate", "SimulationResult", "SIDES", "STATUSES"]

_EPS = 1e-9


# ---------------------------------------------------------------------------
# Kernels (clean arrays in, arrays out)
# ---------------------------------------------------------------------------
def _impact_values(fn: Any, what: str, args: tuple, n: int, impact: object) -> np.ndarray:
    try:
        out = np.asarray(fn(*args), dtype=np.float64)
    except Exception as exc:  # the model's own error, with context
        raise type(exc)(f"impact.{what}(...) of {type(impact).__name__} failed: {exc}") from exc
    try:
        out = np.broadcast_to(out, (n,)).astype(np.float64)
    except ValueError:
        raise ValueError(f"impact.{what}(...) returned shape {out.shape}, expected ({n},) or a scalar.") from None
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"impact.{what}(...) of {type(impact).__name__} returned {out[pos]} for fill {pos}; "
            "impact must be finite and >= 0 (a fraction of price)."
        )
    return out


# Schedules whose bins are a count of slices chosen by the caller, documented as one bar per
# slice when they carry no bin_duration.  The bins of every other schedule (VWAP and POV on a
# profile, hand-built, ...) come from data on some grid, which a plain array does not record.
_SLICE_COUNTED = frozenset({"twap", "market", "almgren_chriss"})


def _span(td: pd.Timedelta) -> str:
    secs = td.total_seconds()
    return f"{secs / 60:g}min" if secs % 60 == 0 else f"{secs:g}s"


def _check_grid(schedule: Schedule, width: int, m: Market, o: Any, oday: np.ndarray, start_bar: np.ndarray,
                start_where: np.ndarray) -> None:
    """Refuse a schedule without a bin length whose bins cannot be read as one bar each without doubt.

    Read one bar per bin, a schedule of ``width`` bins that starts at the open ends after
    ``width`` bars.  If ``width`` is a whole fraction of the bars of a session, the schedule
    may as well be that session on a coarser grid -- a 78-bin profile of 5-minute bins on
    390 one-minute bars would fill by 10:48 -- and the two readings trade very differently.
    A schedule longer than a session was made on another grid for certain.
    """
    if schedule.bin_duration is not None or schedule.algorithm in _SLICE_COUNTED or width < 2:
        return
    n_bins, bar = m.n_bins, _span(m.freq)
    if width > n_bins:
        guess = m.freq / (width // n_bins) if width % n_bins == 0 else None
        what = (f"{width} bins of one bar each do not fit in a session, so the schedule was made on another grid"
                + (f" (of {_span(guess)} bins?)" if guess is not None else ""))
    else:
        session = (m.day_last - m.day_first + 1)[oday]
        at_open = (start_bar == m.day_first[oday]) & (start_where <= 0) & (schedule.quantity > schedule.unscheduled)
        doubt = at_open & ((session % width == 0) | (n_bins % width == 0)) & (width != session) & (width != n_bins)
        if not doubt.any():
            return
        pos = int(np.flatnonzero(doubt)[0])
        guess = m.freq * (n_bins // width if n_bins % width == 0 else int(session[pos]) // width)
        what = (f"read one bar per bin, order_id {show(o.order_id[pos])} would start at the open and finish after "
                f"{width} of its session's {int(session[pos])} bars, yet {width} bins are also a whole session of "
                f"{_span(guess)} bins")
    how = (f"e.g. ex.vwap(quantity, profile, bin_duration='{_span(guess)}') for {_span(guess)} bins, '{bar}' for "
           "one bar per bin" if guess is not None else f"the length of its bins; '{bar}' is one bar per bin")
    raise ValueError(
        f"schedule.shares has shape {schedule.shares.shape} and no bin_duration, but the market has {n_bins} bins of "
        f"{bar} per session: {what}. Pass bin_duration= when building the schedule ({how}), or build it on the "
        f"market's grid of {n_bins} bins of {bar} (a schedule with a bin_duration goes onto it with "
        f".resample('{bar}'))."
    )


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------
def _released(shares, start_bar, start_where, day_last, oday, m, clock0, bin_ns, max_qty):
    """Children (non-zero schedule cells), order-major: row, bin, shares, release bar, released-in-session.

    ``rel_bar`` is -1 where the bin falls after its session's close (``ok`` False).
    """
    n_bins = shares.shape[1]
    flat = np.flatnonzero(shares)
    s_nz = shares.ravel()[flat].astype(np.int32 if max_qty < 2**31 else np.int64)
    row = np.empty_like(flat)
    np.divmod(flat, n_bins, out=(row, flat))  # flat now holds the bin of each child
    bj = flat.astype(np.int16 if n_bins < 2**15 else np.int32)
    del flat
    oi = row.astype(np.int32 if len(start_bar) < 2**31 else np.int64)
    del row
    if bin_ns is None:
        rel_bar = start_bar.astype(np.int32)[oi] + bj
        ok = (start_where.astype(np.int8)[oi] <= 0) & (rel_bar <= day_last.astype(np.int32)[oi])
    else:
        # The clock of an order that arrives before the open starts at the open, as the
        # bar count does; otherwise every pre-open bin would pile into the first bar.
        rel_ns = clock0[oi] + bj.astype(np.int64) * bin_ns
        rel_bar, where = m.locate(rel_ns, oday[oi])
        del rel_ns
        rel_bar = rel_bar.astype(np.int32)
        ok = where <= 0
    rel_bar[~ok] = -1
    return oi, bj, s_nz, rel_bar, ok


class _LazyReleases:
    """The four release columns (order_id, child, time, shares), computed when first unpacked."""

    def __init__(self, order_id, times, *args) -> None:
        self._order_id, self._times, self._args = order_id, times, args

    def __iter__(self):
        oi, bj, s_nz, rel_bar, ok = _released(*self._args)
        oi, bj, s_nz, rel_bar = oi[ok], bj[ok], s_nz[ok], rel_bar[ok]
        return iter((self._order_id.take(oi).to_numpy() if len(oi) else self._order_id[:0].to_numpy(),
                     bj.astype(np.int64), self._times[rel_bar], s_nz.astype(np.int64)))


def simulate(
    orders: pd.DataFrame,
    schedule: Schedule,
    market: Market | pd.DataFrame,
    impact: object | None = None,
    *,
    forecast: Forecast | str | None = None,
    max_participation: float | None = 0.1,
    fee_per_share: float = 0.0,
    fee_per_order: float = 0.0,
    delay: str | pd.Timedelta = "0s",
) -> SimulationResult:
    r"""Fill each order's schedule against real bars, with spread, impact and a participation cap.

    Parameters
    ----------
    orders : DataFrame
        One row per parent order: ``order_id`` (unique), ``ticker``, ``side``
        (``"BUY"``/``"SELL"``), ``quantity`` (shares, whole, >= 0),
        ``decision_time`` (tz-aware) and optionally ``arrival_time`` (tz-aware,
        >= decision time).  Other columns (``algorithm``, ``urgency``...) are
        passed through to ``result.orders``.
    schedule : Schedule
        Child quantities, row ``i`` for order row ``i``; ``schedule.quantity``
        must equal ``orders["quantity"]``.  Bin ``j`` of order ``i`` is released
        at ``max(arrival_time_i, open) + j * schedule.bin_duration`` into the
        bar containing that time (``open`` = start of the session's first
        bar); with ``bin_duration=None`` bin ``j`` is the ``j``-th bar from the
        arrival bar (the first bar for an arrival before the open).  Bins
        released at or after the close never trade.  A schedule without a
        ``bin_duration`` whose bins may belong to another grid is refused
        rather than squeezed onto the bars: more bins than a session has
        bars, or, for an order starting at the open, a whole fraction of the
        session's bars (78 bins on 390 one-minute bars: a session of 5-minute
        bins, or the first 78 minutes?).  TWAP, market and Almgren-Chriss
        schedules count slices, one bar each, and are not refused.
    market : Market or DataFrame
        The market model (:func:`execlab.load_market`,
        :meth:`Market.from_lobster`, ...); a bars DataFrame
        (:func:`execlab.load_bars`) is converted once with
        :meth:`Market.from_bars`.  It must hold every ticker traded and the
        session of every arrival.
    impact : object, optional
        Any object with ``temporary_impact(shares, bin_volume, daily_volume,
        sigma)`` and ``permanent_impact(shares, daily_volume, sigma)``
        returning fractions of price (the protocol of :mod:`execlab.impact`).
        ``None``: no impact, fills pay the half-spread only.
    forecast : Forecast or "same_session", optional
        Where the impact inputs (ADV and volatility of the order's session)
        come from.  Default ``market.forecast()``: the 20 sessions before
        each order's session, never the session itself.  ``"same_session"``
        asks for the session's own realized values where there is no
        history (a look-ahead; the bundled single day has no history).
        ``result.params["forecast"]`` says which were used.  Not needed
        without impact.
    max_participation : float or None, default 0.1
        Most shares the orders of one ticker may fill in a bar, as a fraction
        of that bar's market volume, in (0, 1].  ``None``: no cap (still,
        nothing fills in a bar where the market traded nothing).
    fee_per_share : float, default 0
        Dollars per filled share (>= 0).
    fee_per_order : float, default 0
        Dollars per child order that fills (>= 0), charged on its first fill.
    delay : str or Timedelta, default "0s"
        Arrival delay used when ``orders`` has no ``arrival_time`` column:
        ``arrival_time = decision_time + delay``.

    Returns
    -------
    SimulationResult
        ``.fills``, ``.orders``, ``.releases``, ``.market``, ``.trajectory(id)``,
        ``.summary()``.

    Raises
    ------
    ValueError
        Bad orders (duplicate ``order_id``, unknown ``side``, negative or
        fractional ``quantity``, NaT or naive times, arrival before decision),
        a schedule that does not match the orders, a schedule without
        ``bin_duration`` whose bins do not fit the market's grid (see
        ``schedule``; the message names both sizes), bars missing for a ticker
        or a day, unsorted bar times, non-positive prices, NaN anywhere, an
        impact model returning negative or non-finite values, or impact so
        large that a sell's fill price would be <= 0.
    TypeError
        If ``schedule`` is not a :class:`Schedule` or ``impact`` lacks the
        protocol methods.

    Notes
    -----
    **Release and carry-over.**  Let :math:`r_{it}` be the shares order
    :math:`i` releases in bar :math:`t` and :math:`b_{it}` its backlog.  In
    each bar, the orders of ticker :math:`k` may fill together at most
    :math:`C_{kt} = \lfloor \rho V_{kt} \rfloor` shares (:math:`\rho` =
    ``max_participation``, :math:`V` = market volume).  With demand
    :math:`D_{kt} = \sum_{i \in k} (b_{i,t-1} + r_{it})`, fills are

    .. math::
        f_{it} = \begin{cases} b_{i,t-1} + r_{it} & D_{kt} \le C_{kt} \\
                 \approx (b_{i,t-1} + r_{it})\, C_{kt} / D_{kt} & \text{otherwise,}
                 \end{cases}
        \qquad b_{it} = b_{i,t-1} + r_{it} - f_{it},

    the pro-rata share rounded to whole shares by cumulative rounding (each
    order gets the floor or ceiling of its share and the ticker fills exactly
    :math:`C_{kt}`).  The backlog is carried to later bars; at the session
    close it is dropped and reported as unfilled, together with bins
    released after the close and the schedule's ``unscheduled`` shares.
    Orders of different tickers never compete.  Our own fills are not added
    to the market volume.

    **Price.**  With :math:`s = +1` for a buy and :math:`-1` for a sell, bar
    mid :math:`m_t` and spread :math:`S_t` (time-weighted over the bar),

    .. math::
        p_{it} = m_t \left(1 + s\left(\frac{S_t}{2 m_t} + I^{tmp}_{it}
                 + \sum_{t' < t} I^{perm}_{it'}\right)\right),

    :math:`I^{tmp}_{it}` = ``temporary_impact(f_it, V_t, ADV, sigma)`` paid
    by this fill only, :math:`I^{perm}_{it'}` = ``permanent_impact(f_it',
    ADV, sigma)`` of the order's own earlier fills.  ``ADV`` and ``sigma``
    come from ``forecast`` (earlier sessions only, unless a same-session
    fallback is asked for).  Other orders' impact is ignored.

    References
    ----------
    Almgren, R. and Chriss, N. (2000). Optimal execution of portfolio
    transactions. *Journal of Risk*, 3(2), 5-39.

    Examples
    --------
    >>> import execlab as ex, pandas as pd
    >>> mkt = ex.load_market("1min", "AMZN")
    >>> t0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> orders = pd.DataFrame({"order_id": [1, 2], "ticker": "AMZN", "side": ["BUY", "SELL"],
    ...                        "quantity": [1000, 1000], "decision_time": [t0, t0]})
    >>> res = ex.simulate(orders, ex.twap(orders["quantity"], 10), mkt)
    >>> res.orders["status"].tolist(), int(res.fills["shares"].sum())
    (['FILLED', 'FILLED'], 2000)
    """
    try:
        delay_td = pd.Timedelta(delay)
    except (TypeError, ValueError):
        raise ValueError(f"delay == {delay!r}, must be a time span such as '5s'.") from None
    if delay_td < pd.Timedelta(0):
        raise ValueError(f"delay == {delay!r}, must be >= 0.")
    o = check_orders(orders, delay=delay)
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an execlab Schedule, got {type(schedule).__name__}.")
    shares = np.asarray(schedule.shares)
    n = len(o.quantity)
    if shares.ndim != 2 or shares.shape[0] != n:
        raise ValueError(f"schedule has shape {shares.shape} but orders has {n} rows; pass one schedule row per order.")
    if (shares < 0).any():
        i, j = np.argwhere(shares < 0)[0]
        raise ValueError(f"schedule.shares[{i}, {j}] == {shares[i, j]}, must be >= 0.")
    sq = np.asarray(schedule.quantity, dtype=np.int64)
    mism = sq != o.quantity
    if mism.any():
        pos = int(np.flatnonzero(mism)[0])
        raise ValueError(
            f"schedule.quantity[{pos}] == {sq[pos]} but orders column 'quantity' has {o.quantity[pos]} at row "
            f"{show(o.frame.index[pos])}; the schedule must be built from these orders."
        )
    if max_participation is not None:
        max_participation = check_scalar(max_participation, "max_participation", min_val=0.0, max_val=1.0, include_min=False)
    fee_per_share = check_scalar(fee_per_share, "fee_per_share", min_val=0.0)
    fee_per_order = check_scalar(fee_per_order, "fee_per_order", min_val=0.0)
    if impact is not None:
        missing = [m for m in ("temporary_impact", "permanent_impact") if not callable(getattr(impact, m, None))]
        if missing:
            raise TypeError(
                f"impact must have temporary_impact(...) and permanent_impact(...) methods; "
                f"{type(impact).__name__} lacks {missing}."
            )
    m = _as_market(market)
    code = m.code(o.ticker, "orders", "ticker", o.frame.index)
    oday = m.session_of(o.arrival_ns, "orders", "arrival_time", o.frame.index, o.ticker)
    fc = resolve_forecast(forecast, m) if impact is not None else None
    if fc is not None:
        fc.require(code, oday, "impact inputs of the orders' sessions")
    start_bar, start_where = m.locate(o.arrival_ns, oday)
    _check_grid(schedule, shares.shape[1], m, o, oday, start_bar, start_where)
    day_last = m.day_last[oday]

    # --- release: schedule bin j of order i lands in a bar (or after the close) ---
    # One entry per child order: the narrowest dtypes that hold them (order rows and bars
    # in int32, bins in int16), temporaries freed as soon as they are used, so the peak
    # stays a small multiple of the schedule array.
    bin_ns = None if schedule.bin_duration is None else pd.Timedelta(schedule.bin_duration).value
    clock0 = None if bin_ns is None else np.maximum(o.arrival_ns, m.start_ns[m.day_first[oday]])
    oi, bj, s_nz, rel_bar, ok = _released(shares, start_bar, start_where, day_last, oday, m, clock0, bin_ns,
                                          int(o.quantity.max()) if n else 0)

    # --- participation-cap recurrence over bars, orders in ticker-sorted positions ---
    perm = np.argsort(code, kind="stable")
    pos_of = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    pos_of[perm] = np.arange(n)
    vol = m.flat("volume")
    if max_participation is None:
        cap = np.where(vol > 0, np.inf, 0.0)
    else:
        cap = np.floor(max_participation * vol + _EPS)
    # Released children in bar order: a stable sort of small ints is a radix sort.  Children
    # released after the close sort last (key = number of bars) and are cut off, so no index
    # array of the released ones is needed.  Each per-child array is freed once gathered.
    small = np.int16 if len(m.start_ns) < 2**15 else np.int32
    n_ok = int(np.count_nonzero(ok))
    key = rel_bar.astype(small)
    key[~ok] = len(m.start_ns)
    del ok
    by_bar = np.argsort(key, kind="stable")[:n_ok]
    del key
    runs = np.bincount(oi, minlength=n) if len(oi) else np.zeros(n, np.int64)  # children per order
    rel_bar_sorted = rel_bar[by_bar]
    del rel_bar
    rel_pos = pos_of[oi[by_bar]]
    del oi
    rel_shares = s_nz[by_bar]
    del by_bar
    f_pos, f_bar, f_sh = cap_recurrence(n, code[perm], rel_pos, rel_bar_sorted, rel_shares, cap, m.is_day_last)
    del rel_pos, rel_bar_sorted, rel_shares
    # Cumulative scheduled shares, children in order-major order (for the split below).
    s_cum = np.cumsum(s_nz, dtype=np.int64)
    del s_nz
    f_pos = f_pos.astype(np.int64, copy=False)
    f_bar = f_bar.astype(np.int64, copy=False)
    f_ord = perm[f_pos]
    # Fills sorted by order then bar.
    srt = np.lexsort((f_bar, f_ord))
    f_ord, f_bar, f_sh = f_ord[srt], f_bar[srt], f_sh[srt]

    # --- prices: half-spread, temporary impact, own earlier permanent impact ---
    fk = code[f_ord]
    mid = m.flat("mid")[fk, f_bar]
    half = m.flat("spread")[fk, f_bar] / 2.0
    if np.isnan(half).any():
        pos = int(np.flatnonzero(np.isnan(half))[0])
        raise ValueError(f"the market has no spread for {m.tickers[fk[pos]]} at {m.times[f_bar[pos]]} (bars without a "
                         "'spread' column); fills pay half the spread, so the bars need one.")
    sgn = o.sign[f_ord].astype(np.float64)
    nf = len(f_sh)
    if impact is not None and nf:
        fday = m.day[f_bar]
        f_adv, f_sig = fc.adv[fk, fday], fc.sigma[fk, fday]
        if not (np.isfinite(f_sig).all() and np.isfinite(f_adv).all() and (f_adv > 0).all()):
            pos = int(np.flatnonzero(~(np.isfinite(f_sig) & np.isfinite(f_adv) & (f_adv > 0)))[0])
            raise ValueError(f"forecast ADV {f_adv[pos]} / volatility {f_sig[pos]} of {m.tickers[fk[pos]]} on "
                             f"{m.dates[fday[pos]].date()} cannot price impact; the sessions need volume and at least 3 bars.")
        shares_f = f_sh.astype(np.float64)
        bin_vol = vol[fk, f_bar]
        temp = _impact_values(impact.temporary_impact, "temporary_impact", (shares_f, bin_vol, f_adv, f_sig), nf, impact)
        permv = _impact_values(impact.permanent_impact, "permanent_impact", (shares_f, f_adv, f_sig), nf, impact)
        earlier = group_exclusive_cumsum(permv, f_ord)
        del shares_f, bin_vol, permv, f_adv, f_sig
    else:
        temp = np.zeros(nf)
        earlier = np.zeros(nf)
    price = mid + sgn * (half + mid * (temp + earlier))
    nonpositive = price <= 0  # only a sell can get here: impact of 100 % of the price or more
    if nonpositive.any():
        k = int(np.flatnonzero(nonpositive)[0])
        raise ValueError(
            f"impact drives the fill price of order_id {show(o.order_id[f_ord[k]])} "
            f"({'BUY' if sgn[k] > 0 else 'SELL'}) to {price[k]:.6g} $ in the bar at {m.times[f_bar[k]]}: "
            f"temporary {temp[k]:.4g} + earlier permanent {earlier[k]:.4g} of the mid {mid[k]:.6g}; "
            "the impact model is outside its range for this order size."
        )

    # --- split bar fills into child pieces, first released first filled ---
    # Order i owns the share range (qoff_i, qoff_i + scheduled_i] on one global axis;
    # schedule bins and bar fills are both cumulative positions on it, so each piece
    # (a bin's shares filled in one bar) lies between consecutive merged positions.
    scheduled = shares.sum(axis=1).astype(np.int64)
    qoff = np.cumsum(scheduled) - scheduled
    f_cum = group_cumsum(f_sh, f_ord) + qoff[f_ord] if nf else np.zeros(0, np.int64)
    filled = np.bincount(f_ord, weights=f_sh, minlength=n).astype(np.int64)
    f_top = qoff + filled
    # Each order's filled shares end at f_top: the schedule positions above it are not
    # pieces.  Children are order-major, so the test is per order-run, not a gather per child.
    # Children are order-major and s_cum increases through them, so the kept ones are a
    # prefix of each order's run, [start_i, cut_i): marked with +1/-1 and a running sum.
    start = np.cumsum(runs) - runs
    cut = np.searchsorted(s_cum, f_top, side="right")
    mark = np.zeros(len(s_cum) + 1, dtype=np.int8)
    np.add.at(mark, start[cut > start], 1)
    np.add.at(mark, cut[cut > start], -1)
    keep_child = np.cumsum(mark[:-1], dtype=np.int8).view(bool)
    del mark
    merged = np.concatenate([s_cum[keep_child], f_cum])
    del keep_child
    merged.sort(kind="stable")  # two sorted runs: a linear-time merge
    points = merged[np.r_[True, merged[1:] != merged[:-1]]] if len(merged) else merged
    del merged
    owner = np.searchsorted(qoff + scheduled, points, side="left") if len(points) else np.zeros(0, np.int64)
    prev = np.concatenate([[np.iinfo(np.int64).min], points[:-1]]) if len(points) else points
    lo = np.maximum(prev, qoff[owner]) if len(points) else points
    piece = (points - lo).astype(np.int64)
    child = bj[np.searchsorted(s_cum, points, side="left")].astype(np.int64) if len(points) else points
    del s_cum, bj
    frow = np.searchsorted(f_cum, points, side="left") if len(points) else points
    keep = piece > 0
    piece, child, frow, owner = piece[keep], child[keep], frow[keep], owner[keep]
    first_of_child = np.r_[True, (owner[1:] != owner[:-1]) | (child[1:] != child[:-1])] if len(piece) else np.zeros(0, bool)
    fee = fee_per_share * piece + fee_per_order * first_of_child
    fills = pd.DataFrame(
        {
            "order_id": o.order_id.take(owner).to_numpy() if len(piece) else o.order_id[:0].to_numpy(),
            "child": child.astype(np.int64),
            # A fill is never stamped before its order arrived (an order arriving mid-bar fills from then).
            "time": from_ns(np.maximum(m.start_ns[f_bar[frow]], o.arrival_ns[owner]), m.tz) if len(piece) else m.times[:0],
            "shares": piece,
            "price": price[frow],
            "fee": fee.astype(np.float64),
        }
    )

    # --- per-order outcome ---
    notional = np.bincount(f_ord, weights=f_sh * price, minlength=n)
    unfilled = o.quantity - filled
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(filled > 0, notional / np.maximum(filled, 1), np.nan)
        rate = np.where(o.quantity > 0, filled / np.maximum(o.quantity, 1), 1.0)
    status = np.where(unfilled == 0, "FILLED", np.where(filled == 0, "UNFILLED", "PARTIALLY_FILLED"))
    last_bar = np.full(n, -1, dtype=np.int64)
    if nf:
        np.maximum.at(last_bar, f_ord, f_bar)
    close_ns = m.end_ns[day_last]
    end_ns = np.where((unfilled == 0) & (last_bar >= 0), m.end_ns[np.maximum(last_bar, 0)], close_ns)
    end_ns = np.where((unfilled == 0) & (last_bar < 0), o.arrival_ns, end_ns)  # nothing to trade
    # An order arriving after the close ends where it starts, never before its arrival.
    end_ns = np.maximum(end_ns, o.arrival_ns)
    out = pd.DataFrame(
        {
            "order_id": o.order_id.to_numpy(),
            "ticker": o.ticker.astype(str),
            "side": sign_to_side(o.sign),
            "quantity": o.quantity,
            "filled": filled,
            "unfilled": unfilled,
            "fill_rate": rate,
            "status": status,
            "avg_price": avg,
            "decision_time": from_ns(o.decision_ns, m.tz),
            "arrival_time": from_ns(o.arrival_ns, m.tz),
            "end_time": from_ns(end_ns, m.tz),
        }
    )
    for c in o.frame.columns:
        if c not in out.columns:
            out[c] = o.frame[c].to_numpy()

    # --- releases and market, for trajectories and plots ---
    # Releases are rebuilt from the schedule on first access (SimulationResult.releases),
    # not kept as four arrays of one entry per child order.
    release_parts = _LazyReleases(o.order_id, m.times, shares, start_bar, start_where, day_last, oday, m,
                                  clock0, bin_ns, int(o.quantity.max()) if n else 0)
    used = np.unique(code)
    # The sessions the orders trade in (not the whole history).
    open_bars = np.flatnonzero(m.valid.ravel() & np.isin(m.day, np.unique(oday)))
    market_frame = pd.DataFrame(
        {
            "ticker": np.repeat(np.array(m.tickers, dtype=object)[used], len(open_bars)).astype(str),
            "time": m.times[np.tile(open_bars, len(used))],
            "volume": vol[used][:, open_bars].ravel().astype(np.int64),
            "cap": cap[used][:, open_bars].ravel(),
        }
    )
    mid_notional = float((f_sh * mid).sum())
    params = {
        "algorithm": schedule.algorithm,
        "impact": repr(impact) if impact is not None else None,
        "max_participation": max_participation,
        "fee_per_share": fee_per_share,
        "fee_per_order": fee_per_order,
        "delay": delay_td,
        "bin_duration": schedule.bin_duration,
        "forecast": fc.used(code, oday) if fc is not None else None,
    }
    if nf and mid_notional > 0:
        params["cost_vs_mid_bps"] = float((sgn * f_sh * (price - mid)).sum() / mid_notional * 1e4)
    return SimulationResult(fills=fills, orders=out, market=market_frame, params=params, _release_parts=release_parts)
