r"""Per-fill and per-order TCA metrics over clean arrays (the kernel both the pandas and Dask paths run).

Every cost is **positive when it is a cost**, for buys and sells alike
(:math:`s = +1` buy, :math:`-1` sell); the one exception is the relative
performance measure, a percentile in [0, 1] where 0.5 is par and higher is
better, as blotter defines it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._calendar import SESSION_LENGTH
from .._market import Market
from .._orders import from_ns, sign_to_side
from .._kernels import interval_sum
from .._shortfall import shortfall
from ._schema import FillRows, OrderRows

__all__ = ["Params", "QuoteBook", "tca_core", "horizon_label", "rate_label"]


def horizon_label(h: object) -> str:
    return "close" if h == "close" else (
        f"{int(pd.Timedelta(h) / pd.Timedelta('1min'))}min" if pd.Timedelta(h) % pd.Timedelta("1min") == pd.Timedelta(0)
        else f"{int(pd.Timedelta(h) / pd.Timedelta('1s'))}s")


def rate_label(r: float) -> str:
    x = 100 * r
    return f"{x:g}".replace(".", "_")


@dataclass(frozen=True)
class Params:
    """Checked settings of one TCA run."""

    pwp_rates: tuple = (0.1, 0.2)
    horizons: tuple = ("1min", "5min", "30min", "close")  # labels
    horizon_ns: tuple = ()                                # ns, -1 for the close
    size_buckets: tuple = (0.5, 1.0, 2.0, 5.0, 10.0)      # % of ADV edges


@dataclass
class ForecastArrays:
    """ADV, volatility and history depth per (ticker, session), from earlier sessions only."""

    adv: np.ndarray
    sigma: np.ndarray
    n_used: np.ndarray
    source: str


@dataclass
class QuoteBook:
    """The user's own quotes (``ticker, time, bid, ask``), for the touch at fill time and markout mids.

    Each lookup takes the last quote at or before the time (NaN before the
    ticker's first quote).
    """

    times: dict = field(default_factory=dict)  # code -> int64 ns sorted
    bid: dict = field(default_factory=dict)
    ask: dict = field(default_factory=dict)

    @classmethod
    def from_frame(cls, quotes: pd.DataFrame, market: Market) -> "QuoteBook":
        from ._schema import _numeric, _require, _times

        df = _require(quotes, "quotes", ["ticker", "time", "bid", "ask"])
        k = market.code(df["ticker"].to_numpy(), "quotes", "ticker", df.index)
        t, miss, other = _times(df, "quotes", "time", market.tz)
        bid, ask = _numeric(df, "quotes", "bid"), _numeric(df, "quotes", "ask")
        bad = miss | other | ~np.isfinite(bid) | ~np.isfinite(ask) | (bid <= 0) | (ask < bid)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"quotes row {df.index[pos]!r} has time {df['time'].iloc[pos]!r}, bid {bid[pos]}, ask "
                             f"{ask[pos]}; quotes need a time in the market's zone and 0 < bid <= ask.")
        book = cls()
        order = np.lexsort((t, k))
        k, t, bid, ask = k[order], t[order], bid[order], ask[order]
        for code in np.unique(k):
            sl = slice(np.searchsorted(k, code, "left"), np.searchsorted(k, code, "right"))
            book.times[int(code)], book.bid[int(code)], book.ask[int(code)] = t[sl], bid[sl], ask[sl]
        return book

    def touch(self, k: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mid, spread) of the last quote at or before each time."""
        mid = np.full(len(k), np.nan)
        spr = np.full(len(k), np.nan)
        for code in np.unique(k):  # tickers, not orders
            sel = np.flatnonzero(k == code)
            if int(code) not in self.times:
                continue
            tt = self.times[int(code)]
            j = np.searchsorted(tt, t[sel], side="right") - 1
            ok = j >= 0
            b, a = self.bid[int(code)][np.maximum(j, 0)], self.ask[int(code)][np.maximum(j, 0)]
            mid[sel] = np.where(ok, (a + b) / 2, np.nan)
            spr[sel] = np.where(ok, a - b, np.nan)
        return mid, spr


def _size_bucket(pct: np.ndarray, edges: tuple) -> pd.Categorical:
    e = list(edges)
    labels = [f"<{e[0]:g}%"] + [f"{a:g}-{b:g}%" for a, b in zip(e[:-1], e[1:])] + [f">={e[-1]:g}%", "no ADV"]
    idx = np.searchsorted(np.asarray(e, dtype=np.float64), pct, side="right")
    idx = np.where(np.isfinite(pct), idx, len(labels) - 1)
    return pd.Categorical.from_codes(idx, categories=labels, ordered=True)


def _day_vwap(m: Market) -> np.ndarray:
    valid = m.valid[None]
    vol = np.where(valid, m["volume"], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (vol * np.where(valid, m["vwap"], 0.0)).sum(axis=2) / vol.sum(axis=2)


def _pwp(m: Market, k: np.ndarray, day: np.ndarray, b0: np.ndarray, executed: np.ndarray, rate: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """Participation-weighted price: market VWAP of the first ``executed / rate`` shares traded from bar ``b0``.

    Returns (price, complete); ``complete`` is False where the session ended
    first (the price is then the VWAP to the close).
    """
    n = len(k)
    out = np.full(n, np.nan)
    complete = np.zeros(n, bool)
    has = executed > 0
    if not has.any():
        return out, complete
    K, D, B = len(m.tickers), m.n_sessions, m.n_bins
    vol3 = np.where(m.valid[None], m["volume"], 0.0)
    cv = np.cumsum(vol3, axis=2)                          # within-session cumulative volume
    big = float(cv.max()) + 1.0
    key = (cv + (np.arange(K)[:, None, None] * D + np.arange(D)[None, :, None]) * big).ravel()
    vol = vol3.reshape(K, -1)
    cvf = cv.reshape(K, -1)
    vw = m.flat("vwap")
    i = np.flatnonzero(has)
    ki, bi, di = k[i], b0[i], day[i]
    c0 = cvf[ki, bi] - vol[ki, bi]
    last = m.day_last[di]
    need = executed[i] / rate
    target = np.minimum(c0 + need, cvf[ki, last])
    complete[i] = c0 + need <= cvf[ki, last]
    pos = np.searchsorted(key, target + (ki * D + di) * big, side="left")
    bstar = np.minimum(pos - ki * D * B, last)
    bstar = np.maximum(bstar, bi)
    whole = interval_sum(vol * vw, ki, bi, bstar) - vol[ki, bstar] * vw[ki, bstar]
    rem = target - (cvf[ki, bstar] - vol[ki, bstar])
    with np.errstate(invalid="ignore", divide="ignore"):
        out[i] = np.where(target > c0, (whole + rem * vw[ki, bstar]) / (target - c0), np.nan)
    return out, complete


def _rpm(m: Market, k: np.ndarray, first: np.ndarray, last: np.ndarray, avg: np.ndarray, sign: np.ndarray,
         has: np.ndarray) -> np.ndarray:
    r"""blotter's relative performance measure over the bars from the first to the last fill."""
    out = np.full(len(k), np.nan)
    i = np.flatnonzero(has)
    if not len(i):
        return out
    nb = last[i] - first[i] + 1
    own = np.repeat(np.arange(len(i)), nb)
    start = np.cumsum(nb) - nb
    bars = first[i][own] + (np.arange(int(nb.sum())) - start[own])
    v = m.flat("volume")[k[i][own], bars]
    p = m.flat("vwap")[k[i][own], bars]
    d = sign[i][own] * (p - avg[i][own])  # > 0: the market paid more on a buy (received less on a sell)
    V = np.bincount(own, weights=v, minlength=len(i))
    fav = np.bincount(own, weights=v * (d > 0), minlength=len(i))
    unf = np.bincount(own, weights=v * (d < 0), minlength=len(i))
    with np.errstate(invalid="ignore", divide="ignore"):
        out[i] = np.where(V > 0, 0.5 * (V + fav - unf) / V, np.nan)
    return out


def tca_core(o: OrderRows, f: FillRows, m: Market, fc: ForecastArrays, p: Params,
             quotes: QuoteBook | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-order and per-fill tables for clean orders and fills (every fill belongs to one of ``o``)."""
    tz = m.tz
    n, nf = len(o), len(f)
    reserved = {"order_id", "ticker", "side", "quantity", "decision_time", "arrival_time", "end_time"}
    sf_orders = pd.DataFrame({
        "order_id": o.order_id.to_numpy(),
        "ticker": o.ticker.astype(str),
        "side": sign_to_side(o.sign),
        "quantity": o.quantity,
        "decision_time": from_ns(o.decision_ns, tz),
        "arrival_time": from_ns(o.arrival_ns, tz),
        "end_time": from_ns(o.end_ns, tz),
    })
    for c in o.frame.columns:
        if c not in reserved:
            sf_orders[c] = o.frame[c].to_numpy()
    sf_fills = pd.DataFrame({
        "order_id": o.order_id.take(f.row).to_numpy() if nf else o.order_id[:0].to_numpy(),
        "time": from_ns(f.time_ns, tz),
        "shares": f.shares,
        "price": f.price,
        "fee": f.fee,
    })
    table = shortfall(sf_orders, sf_fills, m)

    k, s, day = o.code, o.sign.astype(np.float64), o.day
    row = f.row
    fk, fs, fday = k[row], s[row], day[row]
    # --- per fill: touch at fill time, price improvement, spread, markouts ---
    fbar, _ = m.locate(f.time_ns, fday)
    if quotes is None:
        mid = m.flat("mid")[fk, fbar]
        spr = m.flat("spread")[fk, fbar]
    else:
        mid, spr = quotes.touch(fk, f.time_ns)
    px = f.price
    p_arr = table["arrival_price"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        vs_mid = 1e4 * fs * (px - mid) / mid
        vs_far = 1e4 * fs * (px - (mid + fs * spr / 2)) / mid
        spread_paid = np.where(spr > 0, fs * (px - (mid - fs * spr / 2)) / np.where(spr > 0, spr, 1.0), np.nan)
        slip_arr = 1e4 * fs * (px - p_arr[row]) / p_arr[row]
    fcols: dict[str, np.ndarray] = {"mid": mid, "spread": spr, "vs_mid_bps": vs_mid, "vs_far_touch_bps": vs_far,
                                    "spread_paid": spread_paid, "slippage_arrival_bps": slip_arr}
    close = o.close_ns[row]
    for lab, h in zip(p.horizons, p.horizon_ns):
        th = close if h < 0 else np.minimum(f.time_ns + h, close)
        mh = m.mid_at(fk, th, fday) if quotes is None else quotes.touch(fk, th)[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            fcols[f"markout_{lab}_bps"] = 1e4 * fs * (px - mh) / mid
            fcols[f"reversion_{lab}_bps"] = 1e4 * fs * (mid - mh) / mid

    # --- per order ---
    executed = table["executed"].to_numpy().astype(np.float64)
    has = executed > 0
    nfills = np.bincount(row, minlength=n)
    abar, _ = m.locate(o.arrival_ns, day)
    first = np.full(n, np.iinfo(np.int64).max, np.int64)
    lastb = np.full(n, -1, np.int64)
    lastt = o.arrival_ns.copy()
    if nf:
        np.minimum.at(first, row, fbar)
        np.maximum.at(lastb, row, fbar)
        np.maximum.at(lastt, row, f.time_ns)
    b0 = np.where(has, np.minimum(abar, first), abar)
    b1 = np.where(has, np.maximum(lastb, b0), b0)
    ivol = interval_sum(m.flat("volume"), k, b0, b1)
    adv = fc.adv[k, day]
    sig = fc.sigma[k, day]
    avg = table["avg_price"].to_numpy()
    dvw = _day_vwap(m)[k, day]

    def slip(bench: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(has, 1e4 * s * (avg - bench) / bench, np.nan)

    q = o.quantity.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_adv = 100 * q / adv
        part = np.where(has & (ivol > 0), executed / np.where(ivol > 0, ivol, 1.0), np.nan)
    start = np.maximum(o.arrival_ns, m.start_ns[b0])
    # Peak participation: the order's shares in a bar over the bar's market volume, at its busiest bar.
    peak = np.full(n, np.nan)
    if nf:
        T = len(m.start_ns)
        key = row.astype(np.int64) * T + fbar
        srt = np.argsort(key, kind="stable")
        uk, first_pos = np.unique(key[srt], return_index=True)
        sums = np.add.reduceat(f.shares[srt], first_pos)
        ur, ub = uk // T, uk % T
        bv = m.flat("volume")[k[ur], ub]
        with np.errstate(invalid="ignore", divide="ignore"):
            bp = np.where(bv > 0, sums / np.where(bv > 0, bv, 1.0), np.nan)
        np.fmax.at(peak, ur, bp)
    extra: dict[str, object] = {
        "session": m.dates[day],
        "n_fills": nfills,
        "adv": adv,
        "sigma": sig,
        "adv_sessions": fc.n_used[k, day],
        "size_pct_adv": pct_adv,
        "size_bucket": _size_bucket(pct_adv, p.size_buckets),
        "interval_volume": ivol,
        "participation": part,
        "max_bar_participation": peak,
        "fees_per_share": np.where(has, table["fees"].to_numpy() / np.where(has, executed, 1.0), np.nan),
        "duration": np.where(has, (m.end_ns[b1] - start) / SESSION_LENGTH.value, np.nan),
        "last_fill_time": from_ns(lastt, tz).where(has),
        "day_vwap": dvw,
        "slippage_day_vwap_bps": slip(dvw),
    }
    for r in p.pwp_rates:
        price, done = _pwp(m, k, day, b0, executed, r)
        lab = rate_label(r)
        extra[f"pwp_{lab}"] = price
        extra[f"pwp_{lab}_complete"] = done
        extra[f"slippage_pwp_{lab}_bps"] = slip(price)
    extra["rpm"] = _rpm(m, k, first, lastb, avg, s, has)
    w = f.shares
    tot = np.bincount(row, weights=w, minlength=n)
    for c in ["vs_mid_bps", "vs_far_touch_bps", "spread_paid"] + [c for c in fcols if c.startswith(("markout_", "reversion_"))]:
        v = fcols[c]
        ok = ~np.isnan(v)
        num = np.bincount(row, weights=np.where(ok, w * v, 0.0), minlength=n)
        den = np.bincount(row, weights=np.where(ok, w, 0.0), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            extra[c] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    del tot
    for c, v in extra.items():
        table[c] = v

    # --- per fill table ---
    ftab = pd.DataFrame({
        "fill_id": f.fill_id,
        "order_id": o.order_id.take(row).to_numpy() if nf else o.order_id[:0].to_numpy(),
        "ticker": o.ticker[row].astype(str),
        "side": sign_to_side(o.sign[row]),
        "session": m.dates[fday],
        "time": from_ns(f.time_ns, tz),
        "shares": f.shares.astype(np.int64),
        "price": px,
        "fee": f.fee,
    })
    for c in f.frame.columns:
        if c not in ftab.columns and c not in ("fill_id",):
            ftab[c] = f.frame[c].to_numpy()
    for c, v in fcols.items():
        ftab[c] = v
    return table, ftab
