"""Per-order TCA means from sums per (order, bar) cell, against the per-fill pass.

Without a per-fill table (``keep_fills=False``), with numba and the bars' quotes, ``tca`` sums each run of fills
in one (order, bar) cell (``execlab._tca._fill_loop.fill_runs``) and evaluates every per-fill metric once per run
(``run_means``), instead of fill by fill (``fill_loop``, the path with ``keep_fills=True``).  These tests run
both on the same blotters and compare the per-order tables, checking each time which path actually ran.  Also
here: the chunked ``run_starts`` against its one-line reference, and the reject-mode fill rules with and
without numba on blotters with nothing wrong or exactly one thing wrong.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab as ex
import execlab._kernels as _kernels
import execlab._orders as _orders
from execlab._compiled import have_numba, jit
from execlab._market import BAR_COLUMNS
from execlab._orders import check_fills, check_orders
from execlab._shortfall import order_prices
from execlab._tca import _metrics, tca
from execlab._tca._tca import _forecast_arrays, _params

needs_numba = pytest.mark.skipif(not have_numba(), reason="numba is not installed or EXECLAB_NO_NUMBA is set")

TZ = "America/New_York"
DATES = ("2024-03-04", "2024-03-05", "2024-03-06")
HALF_DAY = {"2024-03-05": "11:00"}   # 12 bars that session, 24 the others
TICKERS = ("AAA", "BBB", "CCC")
FREQ = pd.Timedelta("5min")
# Whole bars (5min, 30min), a rest shorter than a bar (1min, 150s) and a bar and a rest (7min), and the close.
HORIZONS = ("1min", "7min", "5min", "30min", "close", "150s")
# Offsets in a bar at which t + h lands exactly on the next bar's start for 1min, 7min and 150s (the carry edge),
# and the first and last nanosecond of a bar.
EDGES_NS = np.array([240, 180, 150, 0, 300], np.int64) * 10**9 + np.array([0, 0, 0, 1, -1])


# ---------------------------------------------------------------------------
# A small SYNTHETIC market: 3 tickers x 3 sessions (one a half-day) of 5-minute bars, 10:00-12:00
# ---------------------------------------------------------------------------
def _bars(seed: int = 0) -> pd.DataFrame:
    """Bars whose opening mid is apart from the previous bar's closing mid, so that reading the mid at t + h from
    the wrong bar, or at the wrong fraction of a bar, changes the markouts."""
    rng = np.random.default_rng(seed)
    parts = []
    for tk in TICKERS:
        for d in DATES:
            close = HALF_DAY.get(d, "12:00")
            t = pd.date_range(pd.Timestamp(f"{d} 10:00", tz=TZ), pd.Timestamp(f"{d} {close}", tz=TZ),
                              freq=FREQ, inclusive="left")
            nb = len(t)
            mo = 50 + 50 * rng.random() + np.cumsum(rng.normal(0, 0.2, nb))
            mc = mo + rng.normal(0, 0.15, nb)
            mid = (mo + mc) / 2 + rng.normal(0, 0.02, nb)
            parts.append(pd.DataFrame({
                "ticker": tk, "time": t, "volume": np.where(rng.random(nb) < 0.1, 0, rng.integers(100, 50_000, nb)),
                "close": mc, "vwap": mid + rng.normal(0, 0.05, nb), "mid_open": mo, "mid_close": mc, "mid": mid,
                "spread": np.where(rng.random(nb) < 0.1, 0.0, rng.uniform(0.01, 0.08, nb))}))
    return pd.concat(parts, ignore_index=True)


def _market(seed: int = 0) -> ex.Market:
    return ex.Market.from_bars(_bars(seed), "5min", open="10:00", close="12:00", early_closes=HALF_DAY)


def _edited(m: ex.Market, edits: list[tuple[str, int, int, slice, float]]) -> ex.Market:
    """A copy of ``m`` with ``column[ticker, session, bars] = value`` for each edit (values the bar builder refuses,
    such as a NaN mid)."""
    values = {c: np.array(m[c]) for c in BAR_COLUMNS}
    for col, k, d, bars, x in edits:
        values[col][k, d, bars] = x
    return ex.Market(m.tickers, m.calendar, m.freq, values, "edited bars")


def _blotter(m: ex.Market, seed: int, n_orders: int = 40, arrange: str = "shuffled", tickers=TICKERS,
             max_fills: int = 20) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random orders over every ticker and session and fills at awkward times: at arrival, on bar starts, at the
    carry edges of the horizons, in the last bar and the last nanosecond before the close, at an order's end.

    ``arrange``: "sorted" (by order and time), "by_order" (grouped by order, shuffled within: a cell comes as
    several runs) or "shuffled" (interleaved across orders).
    """
    rng = np.random.default_rng(seed)
    freq = m.freq.value
    opens, closes = m.start_ns[m.day_first], m.end_ns[m.day_last]
    d = rng.integers(0, m.n_sessions, n_orders)
    o0, c0 = opens[d], closes[d]
    span = c0 - o0
    arr = o0 + (rng.random(n_orders) * 0.9 * span).astype(np.int64)
    on_bar = rng.random(n_orders) < 0.3
    arr = np.where(on_bar, o0 + (arr - o0) // freq * freq, arr)                 # some arrive on a bar's start
    dec = np.maximum(arr - rng.integers(0, 120 * 10**9, n_orders), o0)
    has_end = rng.random(n_orders) < 0.25
    end = np.where(has_end, np.minimum(arr + rng.integers(freq, 8 * freq, n_orders), c0), 0)
    lim = np.where(has_end, np.minimum(end, c0 - 1), c0 - 1)                     # the latest fill time allowed

    k = rng.integers(0, max_fills + 1, n_orders)
    k[0], k[1] = max(k[0], 5), 0                                                 # and an order without fills
    oi = np.repeat(np.arange(n_orders), k)
    nf = oi.size
    a, hi, o = arr[oi], lim[oi], o0[oi]
    kind = rng.integers(0, 7, nf)
    t = a + (rng.random(nf) * (hi - a)).astype(np.int64)                         # 0: anywhere
    t = np.where(kind == 1, a, t)                                                # 1: at arrival
    bar = (t - o) // freq
    t = np.where(kind == 2, o + bar * freq, t)                                   # 2: a bar's start
    t = np.where(kind == 3, o + bar * freq + rng.choice(EDGES_NS, nf), t)        # 3: a carry edge
    t = np.where(kind == 4, c0[oi] - rng.integers(1, freq, nf), t)               # 4: the last bar
    t = np.where(kind == 5, hi, t)                                               # 5: the close (or end), nearly
    t = np.where(kind == 6, o + (t - o) // 10**9 * 10**9, t)                     # 6: a whole second
    t = np.clip(t, a, hi)

    if arrange == "sorted":
        perm = np.lexsort((t, oi))
    elif arrange == "by_order":
        perm = np.lexsort((rng.random(nf), oi))
    else:
        perm = rng.permutation(nf)
    when = lambda ns: pd.to_datetime(ns, utc=True).tz_convert(TZ)  # noqa: E731
    orders = pd.DataFrame({
        "order_id": np.arange(100, 100 + n_orders), "ticker": rng.choice(list(tickers), n_orders),
        "side": rng.choice(["BUY", "SELL"], n_orders), "quantity": 10**7,
        "decision_time": when(dec), "arrival_time": when(arr),
        "end_time": when(end).where(has_end, pd.NaT), "desk": rng.choice(["x", "y"], n_orders)})
    fills = pd.DataFrame({
        "fill_id": rng.permutation(nf) + 7, "order_id": 100 + oi[perm], "time": when(t[perm]),
        "shares": rng.integers(1, 2_000, nf)[perm], "price": (50 + 50 * rng.random(nf))[perm],
        "fee": rng.uniform(-1, 2, nf)[perm]})
    # prices near the order's own arrival mid, so that the costs are of a sensible size
    px = m.mid_at(m.code(orders["ticker"].to_numpy()), arr, d)
    fills["price"] = px[oi[perm]] * (1 + rng.normal(0, 5e-4, nf))
    return orders, fills


# ---------------------------------------------------------------------------
# Which compiled kernels ran
# ---------------------------------------------------------------------------
class _Spy:
    """Stands in for ``execlab._tca._metrics.jit``: compiles as it does, and records each call's kernel, result and
    arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, tuple]] = []

    def __call__(self, fn):
        compiled = jit(fn)
        if compiled is None:
            return None

        def call(*args):
            out = compiled(*args)
            self.calls.append((fn.__name__, out, args))
            return out
        return call

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def one(self, name: str) -> tuple:
        hits = [c for c in self.calls if c[0] == name]
        assert len(hits) == 1, self.names()
        return hits[0]


def _spied(monkeypatch, *args, **kw):
    spy = _Spy()
    monkeypatch.setattr(_metrics, "jit", spy)
    res = tca(*args, **kw)
    monkeypatch.undo()
    return res, spy


def _cells_and_per_fill(monkeypatch, orders, fills, mkt, horizons=HORIZONS):
    """``tca`` without the per-fill table (asserting the cell path ran) and with it (the per-fill pass)."""
    fast, spy = _spied(monkeypatch, orders, fills, mkt, markout_horizons=horizons, keep_fills=False)
    assert "fill_loop" not in spy.names() and "run_means" in spy.names(), spy.names()
    assert spy.one("fill_runs")[1] > 0
    full, spy_full = _spied(monkeypatch, orders, fills, mkt, markout_horizons=horizons, keep_fills=True)
    assert spy_full.names() == ["fill_loop"]
    assert fast.fills is None and full.fills is not None
    return fast, full, spy


MEANS = ("vs_mid_bps", "vs_far_touch_bps", "spread_paid")


def _mean_columns(horizons=HORIZONS) -> list[str]:
    labs = [_metrics.horizon_label(h) for h in horizons]
    return list(MEANS) + [f"{w}_{lab}_bps" for lab in labs for w in ("markout", "reversion")]


def _same_orders(fast: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Floats equal up to rounding with NaN in the same places; everything else exactly equal."""
    assert list(fast.columns) == list(ref.columns)
    pd.testing.assert_index_equal(fast.index, ref.index)
    for c in ref.columns:
        a, b = fast[c], ref[c]
        assert a.dtype == b.dtype, c
        if pd.api.types.is_float_dtype(b.dtype):
            x, y = a.to_numpy(), b.to_numpy()
            np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=c)
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9, err_msg=c)
        else:
            pd.testing.assert_series_equal(a, b, check_exact=True)


def _means_from_fills(res, columns) -> pd.DataFrame:
    """Each order's share-weighted mean of each per-fill metric, fills where it is NaN left out (by hand, from the
    per-fill table)."""
    f = res.fills
    out = {}
    for c in columns:
        ok = f[c].notna()
        num = (f["shares"] * f[c].where(ok, 0.0)).groupby(f["order_id"]).sum()
        den = f["shares"].where(ok, 0).groupby(f["order_id"]).sum()
        out[c] = (num / den.where(den > 0)).reindex(res.orders.index)
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------
# 1. Random blotters: cells against fills
# ---------------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("arrange", ["sorted", "by_order", "shuffled"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_blotters_cells_equal_per_fill(monkeypatch, seed, arrange):
    mkt = _market(seed)
    orders, fills = _blotter(mkt, seed, arrange=arrange)
    fast, full, spy = _cells_and_per_fill(monkeypatch, orders, fills, mkt)
    assert full.rejected.empty, full.rejected
    _same_orders(fast.orders, full.orders)

    # the inputs reach what the cell path must get right
    _, n_runs, args = spy.one("fill_runs")
    cells, run_wc = args[-6][:n_runs], args[-2][:, :n_runs]
    carry_from = args[10]
    assert len(carry_from) == 3                                    # 1min, 7min and 150s have a rest
    w = args[-5][:n_runs].sum()
    assert ((run_wc > 0).sum(axis=1) > 0).all() and (run_wc.sum(axis=1) < w).all()   # carried and not, per horizon
    if arrange != "sorted":
        assert len(np.unique(cells)) < n_runs                      # some cell comes as several runs
    f = full.fills
    local = f["time"].dt.tz_localize(None)
    off = (local - local.dt.normalize()).to_numpy().view(np.int64) % FREQ.value   # the open, 10:00, is on the grid
    assert (off == 0).any() and np.isin(off, EDGES_NS[:3]).sum() >= 3   # fills on bar starts and carry edges
    o = full.orders
    assert (o["n_fills"] == 0).any() and o["session"].nunique() == 3 and o["ticker"].nunique() == 3
    means = _mean_columns()
    assert np.isfinite(fast.orders[means].to_numpy()[o["n_fills"].to_numpy() > 0]).mean() > 0.9
    # and the means are what the per-fill table gives
    pd.testing.assert_frame_equal(fast.orders[means], _means_from_fills(full, means), check_exact=False,
                                  rtol=1e-9, atol=1e-9)


@needs_numba
@pytest.mark.parametrize("horizons", [(), ("close",), ("5min", "10min", "close"), ("1s", "299s", "301s", "3h")])
def test_other_horizon_sets_cells_equal_per_fill(monkeypatch, horizons):
    """No horizon, none with a rest (no carried sums at all), rests at a bar's edges, a horizon past any close."""
    mkt = _market(9)
    orders, fills = _blotter(mkt, 9, arrange="by_order")
    fast, full, spy = _cells_and_per_fill(monkeypatch, orders, fills, mkt, horizons)
    _same_orders(fast.orders, full.orders)
    n_rest = sum(h not in ("close", "5min", "10min", "3h") for h in horizons)
    assert spy.one("fill_runs")[2][-2].shape[0] == n_rest
    means = _mean_columns(horizons)
    pd.testing.assert_frame_equal(fast.orders[means], _means_from_fills(full, means), check_exact=False,
                                  rtol=1e-9, atol=1e-9)


@needs_numba
def test_cells_past_the_close_and_on_the_carry_edge_by_hand(monkeypatch):
    """Hand-placed fills: t + h exactly on a bar's start (the next bar's opening mid, not this bar's closing one),
    t + h past the close (the closing mid), fills of one cell apart in the blotter, and an order that arrives
    before the open of a half-day and trades to its last nanosecond."""
    mkt = _market(5)
    d = pd.Timestamp(f"{DATES[0]} 10:00", tz=TZ)
    h = pd.Timestamp(f"{DATES[1]} 10:00", tz=TZ)                      # the half-day: 12 bars, close 11:00
    orders = pd.DataFrame({"order_id": [1, 2, 3], "ticker": ["BBB", "AAA", "CCC"], "side": ["SELL", "BUY", "BUY"],
                           "quantity": 10**6, "decision_time": [d, d, h - pd.Timedelta("20min")]})
    times = [d + pd.Timedelta(x) for x in ("3min", "1h57min", "4min", "1h59min59s", "13min", "1h55min",
                                           "0s", "1min30s")]
    times += [h + pd.Timedelta(x) for x in ("0s", "59min59.999999999s", "58min")]
    fills = pd.DataFrame({"order_id": [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3], "time": times,
                          "shares": [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100],
                          "price": [80.0, 81.0, 79.5, 80.5, 80.2, 60.0, 61.0, 59.0, 70.0, 71.0, 70.5]})
    fast, full, spy = _cells_and_per_fill(monkeypatch, orders, fills, mkt)
    assert full.rejected.empty
    _same_orders(fast.orders, full.orders)
    cells = spy.one("fill_runs")[2][-6][:spy.one("fill_runs")[1]]
    # order 1: bar 0, 23, 0, 23, 2 (10:03 and 10:04 apart, 11:57 and 11:59:59 apart); order 2: bar 23, then 0
    # twice; order 3: bar 0, then 11 twice
    assert len(cells) == 9 and len(np.unique(cells)) == 7
    f = full.fills
    # 10:03 + 7 min = 10:10: bar 2's opening mid, apart from bar 1's closing mid
    k, mo, mc = TICKERS.index("BBB"), mkt["mid_open"], mkt["mid_close"]
    mid0 = f["mid"].iloc[0]
    assert f["markout_7min_bps"].iloc[0] == pytest.approx(-1e4 * (80.0 - mo[k, 0, 2]) / mid0, rel=1e-12)
    assert mo[k, 0, 2] != mc[k, 0, 1]
    # 11:57 + 7 min is past the close: the closing mid
    assert f["markout_7min_bps"].iloc[1] == pytest.approx(-1e4 * (81.0 - mc[k, 0, 23]) / f["mid"].iloc[1],
                                                          rel=1e-12)
    # the half-day's 10:58 + 7 min is past its 11:00 close: bar 11's closing mid
    c = TICKERS.index("CCC")
    assert f["markout_7min_bps"].iloc[10] == pytest.approx(1e4 * (70.5 - mc[c, 1, 11]) / f["mid"].iloc[10],
                                                           rel=1e-12)


# ---------------------------------------------------------------------------
# 2. NaN mids and spreads, and zero spreads, where fills are
# ---------------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("seed", [4, 5])
def test_nan_mid_and_spread_bars_cells_equal_per_fill(monkeypatch, seed):
    base = _market(seed)
    a, b = TICKERS.index("AAA"), TICKERS.index("BBB")
    edits = []
    for k in (a, b):
        for d in range(3):
            edits += [("mid", k, d, slice(2, 5), np.nan), ("spread", k, d, slice(6, 9), np.nan),
                      ("spread", k, d, slice(9, 11), 0.0), ("mid", k, d, slice(11, 12), np.nan),
                      ("spread", k, d, slice(11, 12), np.nan)]
    mkt = _edited(base, edits)
    orders, fills = _blotter(mkt, seed, n_orders=30, arrange="by_order", tickers=("AAA", "BBB"), max_fills=30)
    # and three orders each with its fills in one kind of bar only: NaN mid, NaN spread, spread 0
    t0 = pd.Timestamp(f"{DATES[2]} 10:00", tz=TZ)
    extra_o = pd.DataFrame({"order_id": [1, 2, 3], "ticker": "AAA", "side": ["BUY", "SELL", "BUY"],
                            "quantity": 10**6, "decision_time": [t0] * 3, "arrival_time": [t0] * 3,
                            "end_time": pd.Series(pd.NaT, index=range(3), dtype=orders["end_time"].dtype),
                            "desk": "z"})
    at = lambda lo, hi, n: [t0 + pd.Timedelta(seconds=s) for s in np.linspace(lo * 300, hi * 300 - 1, n)]  # noqa
    extra_f = pd.DataFrame({"fill_id": np.arange(9) + 10**6, "order_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
                            "time": at(2, 5, 3) + at(6, 9, 3) + at(9, 11, 3), "shares": 100,
                            "price": [70.0, 70.1, 70.2] * 3, "fee": 0.0})
    orders = pd.concat([orders, extra_o], ignore_index=True)
    fills = pd.concat([fills, extra_f], ignore_index=True).sample(frac=1.0, random_state=seed)
    fast, full, _ = _cells_and_per_fill(monkeypatch, orders, fills, mkt)
    assert full.rejected.empty
    _same_orders(fast.orders, full.orders)
    means = _mean_columns()
    pd.testing.assert_frame_equal(fast.orders[means], _means_from_fills(full, means), check_exact=False,
                                  rtol=1e-9, atol=1e-9)
    o = fast.orders
    # order 1 only traded in NaN-mid bars: every mean NaN; order 2 in NaN-spread bars, order 3 at spread 0
    assert o.loc[1, means].isna().all()
    assert o.loc[2, ["vs_far_touch_bps", "spread_paid"]].isna().all() and np.isfinite(o.loc[2, "vs_mid_bps"])
    assert np.isnan(o.loc[3, "spread_paid"]) and np.isfinite(o.loc[3, ["vs_mid_bps", "vs_far_touch_bps"]]).all()
    f = full.fills
    assert f["mid"].isna().sum() > 10 and (f["spread"] == 0).sum() > 3
    # orders with some fills in NaN bars and some not: the NaN fills are left out, the others kept
    mixed = f.groupby("order_id")["mid"].agg(lambda x: 0 < x.isna().sum() < len(x))
    assert mixed.sum() >= 3 and np.isfinite(o.loc[mixed[mixed].index, "vs_mid_bps"]).all()


# ---------------------------------------------------------------------------
# 3. Quotes the cells cannot use: the per-fill pass, the same orders
# ---------------------------------------------------------------------------
@needs_numba
@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")   # the forecast's sigma
@pytest.mark.parametrize("column, value, cells", [
    ("mid_open", np.nan, False), ("mid_close", np.nan, False), ("mid_open", 0.0, False),
    ("mid_close", -1.0, False), ("mid", np.inf, False), ("mid", -2.0, False), ("spread", np.inf, False),
    ("spread", -np.inf, False),
    ("mid_open", np.nan, True),   # in a ticker no order trades: the cells still serve
])
def test_bars_the_cells_cannot_use_take_the_per_fill_pass(monkeypatch, column, value, cells):
    base = _market(6)
    k = TICKERS.index("CCC") if cells else TICKERS.index("AAA")
    mkt = _edited(base, [(column, k, 0, slice(20, 21), value), (column, k, 2, slice(3, 4), value)])
    orders, fills = _blotter(mkt, 6, n_orders=25, tickers=("AAA", "BBB"))
    p = _params((0.1,), HORIZONS, (1.0,))
    f_orders = check_orders(orders, market=mkt, errors="reject")
    f_fills = check_fills(fills, f_orders, market=mkt, errors="reject")
    per_fill = _metrics._PerFill(f_orders, mkt, p, order_prices(f_orders, mkt, f_orders.code).arrival, None)
    runs = _metrics._cell_horizons(False, True, object(), p, per_fill, len(f_fills))
    assert (runs is not None) == cells
    fast, spy = _spied(monkeypatch, orders, fills, mkt, markout_horizons=HORIZONS, keep_fills=False)
    assert ("fill_runs" in spy.names()) == cells and ("fill_loop" in spy.names()) != cells, spy.names()
    full = tca(orders, fills, mkt, markout_horizons=HORIZONS)
    _same_orders(fast.orders, full.orders)


# ---------------------------------------------------------------------------
# 4. A fill outside its session: the cell pass gives up, the per-fill pass starts from zero
# ---------------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("where", ["before the open", "at the close", "next session"])
def test_fill_outside_its_session_falls_back_to_the_per_fill_pass(monkeypatch, where):
    mkt = _market(7)
    orders, fills = _blotter(mkt, 7, n_orders=30, arrange="sorted")
    p = _params((0.1, 0.2), HORIZONS, (0.5, 1, 2, 5, 10))
    fc = _forecast_arrays(mkt, None)
    o = check_orders(orders, market=mkt, errors="reject")
    f = check_fills(fills, o, market=mkt, errors="reject")
    assert f.rejected.empty
    # a fill well into the blotter, after many orders' sums have been written, moved out of its session
    i = int(len(f) * 0.7)
    r = f.row[i]
    first, last = mkt.day_first[o.day[r]], mkt.day_last[o.day[r]]
    t = f.time_ns.copy()
    t[i] = {"before the open": mkt.start_ns[first] - 10**9, "at the close": mkt.end_ns[last],
            "next session": mkt.end_ns[last] + 10**12}[where]
    bad = dataclasses.replace(f, time_ns=t)
    spy = _Spy()
    monkeypatch.setattr(_metrics, "jit", spy)
    fast, _ = _metrics.tca_core(o, bad, mkt, fc, p, None, keep_fills=False)
    assert spy.names() == ["fill_runs", "fill_loop"] and spy.calls[0][1] == -1
    full, table = _metrics.tca_core(o, bad, mkt, fc, p, None, keep_fills=True)
    monkeypatch.undo()
    _same_orders(fast, full)
    n = len(o)
    assert (fast["n_fills"].to_numpy() == np.bincount(f.row, minlength=n)).all()
    assert (fast["executed"].to_numpy() == np.bincount(f.row, weights=f.shares, minlength=n)).all()
    means = _mean_columns()
    got = fast[means].to_numpy()
    # the share-weighted means over the per-fill table, by hand
    for j, c in enumerate(means):
        v = table.block[table.names.index(c)]
        ok = ~np.isnan(v)
        num = np.bincount(f.row[ok], weights=(f.shares * v)[ok], minlength=n)
        den = np.bincount(f.row[ok], weights=f.shares[ok], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.testing.assert_allclose(got[:, j], np.where(den > 0, num / den, np.nan), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------
# 5. run_starts chunk by chunk
# ---------------------------------------------------------------------------
def _reference_starts(v: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, v[1:] != v[:-1]]) if len(v) else np.zeros(0, np.int64)


@settings(max_examples=300)
@given(chunk=st.sampled_from([1, 2, 3, 7]), mult=st.integers(0, 5), extra=st.integers(-1, 1),
       kind=st.sampled_from(["int", "float"]), data=st.data())
def test_run_starts_chunked_equals_reference(chunk, mult, extra, kind, data):
    n = max(0, chunk * mult + extra)                                      # lengths around multiples of the chunk
    if kind == "int":
        v = np.array(data.draw(st.lists(st.integers(-2, 2), min_size=n, max_size=n)), np.int64)
    else:
        v = np.array(data.draw(st.lists(st.sampled_from([0.0, -0.0, 1.5, np.nan, np.inf]), min_size=n,
                                        max_size=n)), np.float64)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_kernels, "_RUN_CHUNK", chunk)
        got = _kernels.run_starts(v)
        strided = _kernels.run_starts(np.repeat(v, 2)[::2])               # a non-contiguous view
    want = _reference_starts(v)
    assert got.dtype == np.int64 and got.tolist() == want.tolist()
    assert strided.tolist() == want.tolist()


def test_run_starts_default_chunk_on_a_long_array():
    rng = np.random.default_rng(0)
    n = 3 * _kernels._RUN_CHUNK + 5
    v = np.repeat(rng.integers(0, 3, n), rng.integers(1, 4, n))[:n]
    v[_kernels._RUN_CHUNK - 1: _kernels._RUN_CHUNK + 1] = [7, 8]           # a run starting at a chunk's edge
    assert _kernels.run_starts(v).tolist() == _reference_starts(v).tolist()
    assert _kernels.run_starts(v.astype(float)).tolist() == _reference_starts(v).tolist()


# ---------------------------------------------------------------------------
# 6. Reject-mode fill rules with nothing or one thing wrong, with and without numba
# ---------------------------------------------------------------------------
def _rules_blotter():
    mkt = _market(8)
    orders, fills = _blotter(mkt, 8, n_orders=20, arrange="shuffled")
    orders = orders.assign(side=orders["side"].where(orders["order_id"] != 119, "HOLD"))  # 119: a rejected order
    fills = fills[fills["order_id"] != 119].reset_index(drop=True)
    return mkt, orders, fills


def _one_wrong(case: str, orders: pd.DataFrame, fills: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    f = fills.copy()
    i = len(f) // 2
    if case == "clean":
        return orders, f, None
    if case == "time missing":
        f.loc[i, "time"] = pd.NaT
    elif case == "unknown order_id":
        f.loc[i, "order_id"] = 999
    elif case == "order rejected":
        f.loc[i, "order_id"] = 119
    elif case == "duplicate fill_id":
        f.loc[i, "fill_id"] = f.loc[i - 1, "fill_id"]
        f.loc[i, "order_id"] = f.loc[i - 1, "order_id"]                  # the same session
        f.loc[i, "time"] = f.loc[i - 1, "time"]
        f.loc[i, "price"] = f.loc[i - 1, "price"]
    elif case == "overfill":
        oid = f.loc[i, "order_id"]
        orders = orders.copy()
        orders.loc[orders["order_id"] == oid, "quantity"] = int(f.loc[f["order_id"] == oid, "shares"].sum()) - 1
    elif case == "time in another time zone":
        f["time"] = f["time"].astype(object)
        f.loc[i, "time"] = f.loc[i, "time"].tz_convert("UTC")
    return orders, f, case


def _check_both(orders, fills, mkt, monkeypatch):
    spy = _Spy()
    monkeypatch.setattr(_orders, "jit", spy)
    o = check_orders(orders, market=mkt, errors="reject")
    ids = pd.Index(orders["order_id"])
    compiled = check_fills(fills, o, market=mkt, errors="reject", all_order_ids=ids)
    monkeypatch.setattr(_orders, "jit", lambda fn: None)
    reference = check_fills(fills, o, market=mkt, errors="reject", all_order_ids=ids)
    monkeypatch.undo()
    return compiled, reference, spy


@needs_numba
@pytest.mark.parametrize("case", ["clean", "time missing", "unknown order_id", "order rejected", "duplicate fill_id",
                                  "overfill", "time in another time zone"])
def test_reject_mode_fill_rules_with_and_without_numba(monkeypatch, case):
    mkt, orders, fills = _rules_blotter()
    orders, fills, reason = _one_wrong(case, orders, fills)
    a, b, spy = _check_both(orders, fills, mkt, monkeypatch)
    _, coded, args = spy.one("fill_rule_loop")
    # the compiled rule pass coded the rows its rules reject (and read the codes only when some were set before)
    assert coded == int(reason in ("time missing", "time in another time zone"))
    assert args[1] == (reason in ("unknown order_id", "order rejected"))
    pd.testing.assert_frame_equal(a.rejected, b.rejected, check_exact=True)
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    for field in ("row", "time_ns", "shares", "price", "fee", "fill_id"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and np.array_equal(x, y), field
    assert a.rejected["reason"].tolist() == ([] if reason is None else [reason])
    assert len(a) == len(fills) - len(a.rejected)
    if reason is None:
        assert a.frame.equals(fills)
    # and tca reports the same one row
    res = tca(orders, fills, mkt, keep_fills=False, markout_horizons=HORIZONS)
    assert res.rejected.query("table == 'fills'")["reason"].tolist() == ([] if reason is None else [reason])
