r"""Per-fill and per-order TCA metrics over clean arrays (the kernel both the pandas and Dask paths run).

Every cost is **positive when it is a cost**, for buys and sells alike
(:math:`s = +1` buy, :math:`-1` sell); the one exception is the relative
performance measure, a percentile in [0, 1] where 0.5 is par and higher is
better, as blotter defines it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._calendar import SESSION_LENGTH
from .._market import Market
from .._orders import SIDES, Fills, Orders, from_ns
from .._kernels import interval_sum, run_starts
from .._compiled import jit
from .._shortfall import FillSums, fill_sums, order_prices, shortfall_table
from ._fill_loop import fill_loop, fill_runs, run_means

__all__ = ["Params", "QuoteBook", "FillTable", "tca_core", "horizon_label", "rate_label"]


NO_ORDER = ("no order passed the checks; see the rejected rows: "
            "execlab._tca.check_executions(orders, fills, market)[2].")


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
        from .._orders import _numeric, _require, _times

        df = _require(quotes, "quotes", ["ticker", "time", "bid", "ask"])
        k = market.code(df["ticker"].to_numpy(), "quotes", "ticker", df.index)
        t, miss, other, _ = _times(df, "quotes", "time", market.tz)
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


class _ByOrder:
    """Per-order totals and extremes of per-fill values.

    When the fills come grouped by order (a blotter sorted by order, or a
    partition written order by order) each order's values are runs and
    ``reduceat`` adds them in place; otherwise a scatter (``ufunc.at``)
    does.  Either way one pass, linear in fills.
    """

    def __init__(self, row: np.ndarray, n: int) -> None:
        self.row, self.n = row, n
        self.runs = len(row) > 0 and bool((row[1:] >= row[:-1]).all())

    def chunk(self, sl: slice) -> tuple:
        """The orders of the fills ``sl``, and their runs when the fills come grouped by order."""
        r = self.row[sl]
        if self.runs and len(r):
            starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            return r, starts, r[starts]
        return r, None, None

    @staticmethod
    def add(acc: np.ndarray, chunk: tuple, x: np.ndarray) -> None:
        """Add the values ``x`` of a chunk of fills (:meth:`chunk`) to their orders' totals in ``acc``."""
        r, starts, owners = chunk
        if starts is not None:
            acc[owners] += np.add.reduceat(x, starts)  # an order is one run of a chunk
        else:
            np.add.at(acc, r, x)


@dataclass
class FillTable:
    """The per-fill table of one run, as columns (built into pandas or written to parquet without copies).

    ``front`` holds the identifying columns (ids, ticker, side, session,
    time, shares, price, fee and the input's pass-through columns), ``block``
    the float64 metrics, one row per column (``names``), which become one
    pandas block or arrow columns as they are.  ``borrowed`` names the front
    columns that are views of the user's input.
    """

    front: dict
    names: list
    block: np.ndarray
    borrowed: tuple = ()

    def __len__(self) -> int:
        return self.block.shape[1]

    def to_pandas(self) -> pd.DataFrame:
        """The table as a DataFrame: no column consolidated (pandas would copy every one), the input's copied."""
        own = {c: (v.copy() if c in self.borrowed else v) for c, v in self.front.items()}
        front = pd.DataFrame(own, copy=False)
        metrics = pd.DataFrame(self.block.T, columns=self.names, copy=False)
        return pd.concat([front, metrics], axis=1)

    def to_parquet(self, path: str | Path) -> None:
        """One parquet file, written column by column from the arrays.

        Dictionary encoding (and compression) only for the columns whose
        values repeat (ids, ticker, side, session, bar mids...); the metrics
        are distinct floats, which neither shrinks, so they are written plain.
        Statistics (for filters on read) on the keys only.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        front = pd.DataFrame(self.front, copy=False)
        table = pa.Table.from_pandas(front, preserve_index=False, nthreads=1)
        for name, col in zip(self.names, self.block):
            table = table.append_column(name, pa.array(col))  # zero-copy: NaN stays NaN, as pandas reads it back
        # pandas' own schema notes for the whole table, so that it reads back with the in-memory path's types
        empty = pd.concat([front.iloc[:0], pd.DataFrame(np.empty((0, len(self.names))), columns=self.names)], axis=1)
        table = table.replace_schema_metadata(pa.Schema.from_pandas(empty, preserve_index=False).metadata)
        pq.write_table(table, str(path), **self.parquet_options(table.column_names, self.names))

    @staticmethod
    def parquet_options(columns: list, metrics: list) -> dict:
        """``pyarrow.parquet.write_table`` settings of a per-fill table with these columns (``metrics``: the float ones)."""
        repeats = [c for c in columns if c not in ("fill_id", "time", "price") and c not in metrics] + ["mid", "spread"]
        keys = [c for c in ("fill_id", "order_id", "ticker", "side", "session", "time") if c in columns]
        return {"use_dictionary": repeats, "write_statistics": keys,
                "compression": {c: "snappy" if c in repeats else "none" for c in columns}}


_CHUNK = 1 << 13


def _cell_horizons(keep_fills: bool, dense: bool, loop: object, p: Params, per_fill: "_PerFill", nf: int
                   ) -> tuple | None:
    """The horizons as :func:`execlab._tca._fill_loop.run_means` takes them, when the per-order means may come from
    sums per (order, bar) cell; else None.

    Only without the per-fill table (``keep_fills=False``; with it every
    metric is computed fill by fill anyway), on the compiled path with the
    dense (order, bar) grid, when every order's arrival price is a number,
    and when the bars of the orders' sessions have every ``mid_open`` and
    ``mid_close`` a number > 0 (a markout is then NaN only where the fill's
    own bar's mid is, for all fills of a cell at once), every ``mid`` a
    number > 0 or NaN and every ``spread`` a number or NaN.  Returns (whole bars
    per horizon, -1 for the close; the rest as a fraction of a bar; the row
    of each horizon's carried sums, -1 for none; per horizon with a rest,
    the offset in the bar from which a fill is carried).
    """
    if keep_fills or not dense or loop is None or nf == 0 or not np.isfinite(per_fill.p_arr).all():
        return None
    freq = per_fill.freq
    sessions = np.unique(np.stack([per_fill.base, per_fill.last]), axis=1)   # (first flat bar, last bar) per session
    cells = sessions[0][:, None] + np.arange(int(sessions[1].max()) + 1)
    cells = cells[np.arange(cells.shape[1]) <= sessions[1][:, None]]
    for a in (per_fill.mid_open, per_fill.mid_close):
        v = a[cells]
        if not (np.isfinite(v) & (v > 0)).all():
            return None
    for a in (per_fill.mid, per_fill.spread):
        v = a[cells]
        if np.isinf(v).any() or (a is per_fill.mid and (v <= 0).any()):
            return None
    hbars, hrest, carry_of, carry_from = [], [], [], []
    for h in p.horizon_ns:
        whole, rest = divmod(int(h), int(freq)) if h >= 0 else (-1, 0)
        hbars.append(whole)
        hrest.append(rest / freq)
        carry_of.append(len(carry_from) if rest else -1)
        if rest:
            carry_from.append(freq - rest)
    return (np.array(hbars, np.int64), np.array(hrest), np.array(carry_of, np.int64), np.array(carry_from, np.int64))


def _zero_sums(n: int) -> FillSums:
    """Shortfall sums for ``n`` orders that the compiled passes add into (the latest fill time starts at int64 min)."""
    return FillSums(np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, np.iinfo(np.int64).min, np.int64))


_GRID_CELLS = 1 << 20  # (order, bar) cells beyond 8 per fill that the dense grid may use


class _PerFill:
    """The per-fill metrics, computed chunk by chunk into preallocated buffers.

    Every fill is in its order's session (checked), so its bar is an offset
    from that session's open, and every bar value a gather from the flat
    (ticker x bar) arrays: one integer division per fill and horizon.  The
    work is whole-array numpy on chunks of :data:`_CHUNK` fills, each
    operation writing into a scratch buffer allocated once: the chunk's
    temporaries stay in cache, and nothing is allocated per chunk (a Dask
    worker returns freed memory to the system at once, so a fresh temporary
    there costs page faults).
    """

    def __init__(self, o: Orders, m: Market, p: Params, p_arr: np.ndarray, quotes: QuoteBook | None) -> None:
        self.o, self.m, self.p, self.quotes = o, m, p, quotes
        self.freq = m.freq.value
        first = m.day_first[o.day]
        nbars = m.day_last[o.day] - first + 1
        s = o.sign.astype(np.float64)
        # Per order: flat index of its session's first bar, its open, last bar, close (ns after the open), signs.
        self.base = o.code * m.start_ns.size + first
        self.open = m.start_ns[first]
        self.last = nbars - 1
        self.close_off = nbars * self.freq
        self.sign = s
        self.arrival_scale = 1e4 * s / p_arr                      # bps of the arrival price, signed
        self.p_arr = p_arr
        self.mid, self.spread = m.flat("mid").ravel(), m.flat("spread").ravel()
        self.mid_open, self.mid_close = m.flat("mid_open").ravel(), m.flat("mid_close").ravel()
        self.close_mid = self.mid_close[self.base + self.last]    # per order: the mid at the close
        n = _CHUNK
        self.i = [np.empty(n, np.int64) for _ in range(6)]
        self.f = [np.empty(n) for _ in range(6)]
        self.b = np.empty(n, bool)

    def __call__(self, block: np.ndarray, fb: np.ndarray, row: np.ndarray, t: np.ndarray, px: np.ndarray) -> None:
        """Metrics of one chunk of fills into ``block`` (rows as :func:`tca_core`'s ``names``), their bars into ``fb``."""
        c = len(row)
        nb1, base, off, oh, bh, tmp = (x[:c] for x in self.i)
        fs, scale, d, f4, f5, f6 = (x[:c] for x in self.f)
        bad = self.b[:c]
        freq = self.freq
        take = lambda a, idx, out: np.take(a, idx, out=out, mode="clip")  # noqa: E731  (indices are valid)
        take(self.last, row, nb1)
        take(self.base, row, base)
        take(self.open, row, off)
        np.subtract(t, off, out=off)                              # ns since the open of the fill's session
        np.floor_divide(off, freq, out=fb)
        np.maximum(fb, 0, out=fb)                                 # before the open: the first bar
        np.minimum(fb, nb1, out=fb)
        mid, spr = block[0], block[1]
        if self.quotes is None:
            np.add(base, fb, out=tmp)
            take(self.mid, tmp, mid)
            take(self.spread, tmp, spr)
        else:
            mid[:], spr[:] = self.quotes.touch(self.o.code[row], t)
        take(self.sign, row, fs)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(1e4, mid, out=scale)
            np.multiply(scale, fs, out=scale)                     # bps of the mid, signed: positive = cost
            np.subtract(px, mid, out=d)
            np.multiply(scale, d, out=block[2])                   # vs_mid_bps
            np.multiply(fs, spr, out=f4)
            np.multiply(f4, 0.5, out=f4)
            np.subtract(d, f4, out=f4)
            np.multiply(scale, f4, out=block[3])                  # vs_far_touch_bps
            np.multiply(fs, d, out=f4)                            # spread_paid = (s (p - m) + S/2) / S, S > 0
            np.multiply(spr, 0.5, out=f5)
            np.add(f4, f5, out=f4)
            np.divide(f4, spr, out=block[4])
            np.greater(spr, 0, out=bad)
            np.logical_not(bad, out=bad)
            np.copyto(block[4], np.nan, where=bad)
            take(self.p_arr, row, f4)                             # slippage_arrival_bps
            np.subtract(px, f4, out=f4)
            take(self.arrival_scale, row, f5)
            np.multiply(f5, f4, out=block[5])
            for j, h in enumerate(self.p.horizon_ns):
                mh = f5
                if h < 0:                                         # the close: the last bar's closing mid
                    if self.quotes is None:
                        take(self.close_mid, row, mh)
                    else:
                        mh[:] = self.quotes.touch(self.o.code[row], self.o.close_ns[row])[0]
                elif self.quotes is None:
                    # Mid at t + h (at most the close): linear in time between the bar's mid_open and mid_close.
                    np.add(off, h, out=oh)
                    take(self.close_off, row, bh)
                    np.minimum(oh, bh, out=oh)
                    np.floor_divide(oh, freq, out=bh)
                    np.maximum(bh, 0, out=bh)
                    np.minimum(bh, nb1, out=bh)
                    np.multiply(bh, freq, out=tmp)
                    np.subtract(oh, tmp, out=tmp)
                    np.divide(tmp, freq, out=f4)
                    np.maximum(f4, 0.0, out=f4)                   # fraction of the bar elapsed
                    np.add(bh, base, out=bh)
                    take(self.mid_open, bh, mh)
                    take(self.mid_close, bh, f6)
                    np.subtract(f6, mh, out=f6)
                    np.multiply(f6, f4, out=f6)
                    np.add(mh, f6, out=mh)
                else:
                    mh[:] = self.quotes.touch(self.o.code[row], np.minimum(t + h, self.o.close_ns[row]))[0]
                np.subtract(px, mh, out=f6)
                np.multiply(scale, f6, out=block[6 + 2 * j])     # markout
                np.subtract(mid, mh, out=f6)
                np.multiply(scale, f6, out=block[7 + 2 * j])     # reversion


def tca_core(o: Orders, f: Fills, m: Market, fc: ForecastArrays, p: Params,
             quotes: QuoteBook | None = None, keep_fills: bool = True) -> tuple[pd.DataFrame, FillTable | None]:
    """Per-order table and per-fill columns for checked orders and fills (every fill belongs to one of ``o``).

    Linear in fills.  With numba and the bars' quotes, one compiled pass
    (:func:`execlab._tca._fill_loop.fill_loop`) gives every per-fill metric
    and every per-order sum over fills; without the per-fill table and on
    clean bars (:func:`_cell_horizons`), :func:`execlab._tca._fill_loop.fill_runs`
    sums each run of fills in one (order, bar) cell and
    :func:`execlab._tca._fill_loop.run_means` evaluates the metrics once per
    run instead; otherwise (no numba, or the user's own
    quotes) array passes over chunks of fills (:class:`_PerFill`) with sums
    per order (:class:`_ByOrder`), the reference the compiled pass is tested
    against.  Per-order values from bars are sums over the order's bars.
    Without ``keep_fills`` the per-fill table is not assembled (the per-order
    means are the same).
    """
    tz = m.tz
    n, nf = len(o), len(f)
    k, s, day = o.code, o.sign.astype(np.float64), o.day
    prices = order_prices(o, m, k)
    row = f.row
    first = m.day_first[day]                       # per order: its session's first bar
    base = k * m.start_ns.size + first             # flat (ticker, bar) index of that first bar
    names = ["mid", "spread", "vs_mid_bps", "vs_far_touch_bps", "spread_paid", "slippage_arrival_bps"]
    for lab in p.horizons:
        names += [f"markout_{lab}_bps", f"reversion_{lab}_bps"]
    # Share-weighted means of the per-fill metrics (fills with a NaN metric are left out of its mean).
    mean_rows = [j for j, c in enumerate(names) if c not in ("mid", "spread", "slippage_arrival_bps")]
    num = np.zeros((len(names), n))                # per metric and order: sum of shares x metric
    nan_shares = np.zeros((len(names), n))         # ... and the shares of fills where the metric is NaN
    tot = np.zeros(n)
    fb = np.empty(nf, np.int64)                    # each fill's bar within its session
    per_fill = _PerFill(o, m, p, prices.arrival, quotes)
    B = m.n_bins
    dense = bool(nf) and n * B <= 8 * nf + _GRID_CELLS      # a dense (order x bar) grid of shares; else sort keys
    grid = None
    loop = jit(fill_loop) if quotes is None else None
    run_cells = None
    runs = _cell_horizons(keep_fills, dense, loop, p, per_fill, nf)
    if runs is not None:
        # Per-order means from sums per (order, bar) cell: no per-fill metric is computed (see fill_runs).
        sums = _zero_sums(n)
        grid = np.zeros(n * B)
        nfills = np.zeros(n, np.int64)
        hbars, hrest, carry_of, carry_from = runs
        # Per run of fills in one cell (at most one per fill; only the pages written are ever touched).
        cell, rw, rp, rf = np.empty(nf, np.int64), np.empty(nf), np.empty(nf), np.empty(nf)
        rwc, rfc = np.empty((len(carry_from), nf)), np.empty((len(carry_from), nf))
        n_runs = jit(fill_runs)(row, f.time_ns, f.price, f.shares, f.fee, per_fill.last, per_fill.open,
                                per_fill.p_arr, per_fill.freq, B, carry_from, tot, sums.executed, sums.fees,
                                sums.vs_arrival, sums.last_ns, nfills, grid, cell, rw, rp, rf, rwc, rfc)
        if n_runs >= 0:
            jit(run_means)(cell, rw, rp, rf, rwc, rfc, n_runs, per_fill.last, per_fill.base, per_fill.sign,
                           per_fill.p_arr, per_fill.close_mid, B, per_fill.mid, per_fill.spread, per_fill.mid_open,
                           per_fill.mid_close, hbars, hrest, carry_of, np.asarray(mean_rows, np.int64), num,
                           nan_shares)
            fb = np.empty(0, np.int64)
            loop = None
            run_cells = np.unique(cell[:n_runs])  # the (order, bar) cells with a fill; few beside the grid's
        else:  # a fill outside its order's session (checked fills never are): the per-fill pass, from zero
            tot[:] = 0
    if loop is not None:
        # One compiled pass: the metrics, the shortfall sums and the sums behind the means together.
        block = np.empty((len(names), nf if keep_fills else 0))
        sums = _zero_sums(n)
        grid = np.zeros(n * B if dense else 0)
        nfills = np.zeros(n, np.int64)
        if dense:  # the grid takes each fill's shares in the loop: its bar is not needed afterwards
            fb = np.empty(0, np.int64)
        loop(row, f.time_ns, f.price, f.shares, f.fee, per_fill.last, per_fill.base, per_fill.open,
             per_fill.close_off, per_fill.sign, per_fill.p_arr, per_fill.arrival_scale, per_fill.close_mid,
             per_fill.mid, per_fill.spread, per_fill.mid_open, per_fill.mid_close, per_fill.freq,
             np.asarray(p.horizon_ns, np.int64), np.asarray(mean_rows, np.int64), keep_fills, B,
             block, fb, num, nan_shares, tot, sums.executed, sums.fees, sums.vs_arrival, sums.last_ns, nfills, grid)
    elif runs is None:
        sums = fill_sums(row, f.time_ns, f.shares, f.price, f.fee, prices.arrival, n)
        nfills = np.bincount(row, minlength=n)
        # The whole per-fill block only when it is kept; otherwise one chunk's worth, reused.
        block = np.empty((len(names), nf if keep_fills else min(nf, _CHUNK)))
        by = _ByOrder(row, n)
        wv, nan = np.empty(_CHUNK), np.empty(_CHUNK, bool)
        for lo in range(0, nf, _CHUNK):
            sl = slice(lo, min(nf, lo + _CHUNK))
            c = sl.stop - lo
            blk = block[:, sl] if keep_fills else block[:, :c]
            per_fill(blk, fb[sl], row[sl], f.time_ns[sl], f.price[sl])
            w = f.shares[sl]
            part = by.chunk(sl)
            by.add(tot, part, w)
            for j in mean_rows:
                v = blk[j]
                np.multiply(w, v, out=wv[:c])
                if np.isnan(v, out=nan[:c]).any():
                    by.add(num[j], part, np.where(nan[:c], 0.0, wv[:c]))
                    by.add(nan_shares[j], part, np.where(nan[:c], w, 0.0))
                else:
                    by.add(num[j], part, wv[:c])
    table = shortfall_table(o, m, k, prices, sums)

    # --- per order ---
    executed = table["executed"].to_numpy().astype(np.float64)
    has = executed > 0
    abar, _ = m.locate(o.arrival_ns, day)
    lastt = np.maximum(sums.last_ns, o.arrival_ns)  # no fill precedes its order's arrival (checked)
    # Shares per (order, bar of its session): first and last bar with a fill, and the busiest bar's participation.
    peak = np.full(n, np.nan)
    f_first = np.full(n, np.iinfo(np.int64).max, np.int64)
    f_last = np.full(n, -1, np.int64)
    if run_cells is not None:  # the busy cells only, not the whole (order x bar) grid
        ur, ub = run_cells // B, run_cells % B
        lo = run_starts(ur)  # cells sorted: each order's cells are one run, its bars in order
        hi = np.append(lo[1:], len(ur)) - 1
        who = ur[lo]
        f_first[who] = first[who] + ub[lo]
        f_last[who] = first[who] + ub[hi]
        bv = m.flat("volume").ravel()[base[ur] + ub]
        with np.errstate(invalid="ignore", divide="ignore"):
            bp = np.where(bv > 0, grid[run_cells] / np.where(bv > 0, bv, 1.0), np.nan)
        peak[who] = np.fmax.reduceat(bp, lo)
    elif dense:
        if grid is None:
            grid = np.bincount(row * B + fb, weights=f.shares, minlength=n * B)
        grid = grid.reshape(n, B)
        hit = grid > 0
        any_hit = hit.any(axis=1)
        f_first = np.where(any_hit, first + hit.argmax(axis=1), f_first)
        f_last = np.where(any_hit, first + B - 1 - hit[:, ::-1].argmax(axis=1), f_last)
        bv = m.flat("volume").ravel()[base[:, None] + np.arange(B)]  # bars past a half-day's close: 0, no fills
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(hit & (bv > 0), grid / np.where(bv > 0, bv, 1.0), np.nan)
        peak = np.fmax.reduce(ratio, axis=1)
    elif nf:
        key = row * B + fb
        srt = np.argsort(key, kind="stable")
        uk, first_pos = np.unique(key[srt], return_index=True)
        bar_shares = np.add.reduceat(f.shares[srt], first_pos)
        ur, ub = uk // B, uk % B
        np.minimum.at(f_first, ur, first[ur] + ub)
        np.maximum.at(f_last, ur, first[ur] + ub)
        bv = m.flat("volume").ravel()[base[ur] + ub]
        with np.errstate(invalid="ignore", divide="ignore"):
            bp = np.where(bv > 0, bar_shares / np.where(bv > 0, bv, 1.0), np.nan)
        np.fmax.at(peak, ur, bp)
    b0 = np.where(has, np.minimum(abar, f_first), abar)
    b1 = np.where(has, np.maximum(f_last, b0), b0)
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
    extra["rpm"] = _rpm(m, k, f_first, f_last, avg, s, has)
    for j in mean_rows:  # whole shares: total minus the NaN fills' shares is exact
        den = tot - nan_shares[j]
        with np.errstate(invalid="ignore", divide="ignore"):
            extra[names[j]] = np.where(den > 0, num[j] / np.where(den > 0, den, 1.0), np.nan)
    # One constructor call, not one column insertion at a time.
    table = pd.concat([table, pd.DataFrame(extra, index=table.index)], axis=1)

    if not keep_fills:
        return table, None
    # --- per fill table: ticker and side as categories (two codes, not millions of strings) ---
    ids = o.order_id
    front: dict[str, object] = {
        "fill_id": f.fill_id,
        "order_id": np.asarray(ids).take(row) if isinstance(ids.dtype, np.dtype) else ids.array.take(row),
        "ticker": pd.Categorical.from_codes(k[row], categories=m.tickers),
        "side": pd.Categorical.from_codes((o.sign < 0).astype(np.int8)[row], categories=list(SIDES)),
        "session": m.dates.to_numpy()[day[row]],
        "time": from_ns(f.time_ns, tz).array,
        "shares": f.shares.astype(np.int64),
        "price": f.price,
        "fee": f.fee,
    }
    borrowed = ["fill_id", "price", "fee"]
    for c in f.frame.columns:
        if c not in front:
            col = f.frame[c]
            front[c] = col.to_numpy() if isinstance(col.dtype, np.dtype) else col.array
            borrowed.append(c)
    return table, FillTable(front, names, block, tuple(borrowed))
