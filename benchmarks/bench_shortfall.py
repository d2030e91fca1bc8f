"""Benchmark: execlab.shortfall against vectorised pandas/numpy, and simulate's and shortfall's memory.

1. 10,000 parent orders with 1,000,000 synthetic fills on the real bars of
   2012-06-21 (AAPL, AMZN, GOOG).  ``execlab.shortfall`` (input validation
   included) is timed interleaved against about 40 lines of vectorised
   pandas/numpy computing the same metrics (``searchsorted`` for the mids,
   ``bincount`` per order, cumulative sums over bars for the interval
   benchmarks), with no validation; the numbers must agree to 1e-9
   (relative).  Target: execlab within 1.5x of it.  A per-order
   ``groupby(...).apply`` of the same definitions is an extra row, timed on
   the first ``APPLY_ORDERS`` orders and scaled linearly.
2. Peak memory: ``shortfall`` on 10,000,000 fills (target: its peak growth,
   traced by tracemalloc, within 3x of its input frames), and
   ``execlab.simulate`` on 10,000 orders x 390 one-minute bins (target: peak
   within 4x of the schedule array).

Run: ``.venv/bin/python benchmarks/bench_shortfall.py``
"""

from __future__ import annotations


import numpy as np
import pandas as pd

import execlab as ex
from _results import interleaved, peak_bytes, print_machine, record

N_ORDERS = 10_000
N_FILLS = 1_000_000
BIG_FILLS = 10_000_000
APPLY_ORDERS = 500
METRICS = [
    "decision_price", "arrival_price", "end_price", "avg_price", "executed", "unexecuted",
    "is_total", "delay_cost", "execution_cost", "opportunity_cost", "fees",
    "interval_vwap", "interval_twap", "close_price",
    "slippage_arrival_bps", "slippage_vwap_bps", "slippage_twap_bps", "slippage_close_bps",
]


def synthetic_batch(bars: pd.DataFrame, rng: np.random.Generator, N_ORDERS: int = N_ORDERS,
                    N_FILLS: int = N_FILLS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders on the real bars and fills at plausible prices after each arrival."""
    tickers = np.array(["AAPL", "AMZN", "GOOG"])
    open_ = pd.Timestamp("2012-06-21 09:30", tz="America/New_York")
    tk = rng.integers(0, 3, N_ORDERS)
    dec_s = rng.integers(0, 5 * 3600, N_ORDERS)  # decisions 09:30-14:30
    delay_s = rng.integers(0, 120, N_ORDERS)
    qty = rng.integers(1_000, 20_000, N_ORDERS)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(N_ORDERS),
            "ticker": tickers[tk],
            "side": np.where(rng.random(N_ORDERS) < 0.5, "BUY", "SELL"),
            "quantity": qty,
            "decision_time": open_ + pd.to_timedelta(dec_s, unit="s"),
            "arrival_time": open_ + pd.to_timedelta(dec_s + delay_s, unit="s"),
        }
    )
    # Fills: each order gets a random number of fills (1,000,000 in all), in bars
    # from its arrival bar over the next hour, shares summing to <= its quantity.
    counts = rng.multinomial(N_FILLS - N_ORDERS, np.full(N_ORDERS, 1 / N_ORDERS)) + 1
    owner = np.repeat(np.arange(N_ORDERS), counts)
    arrival_bar = (dec_s + delay_s) // 60
    bar = np.minimum(arrival_bar[owner] + rng.integers(0, 60, N_FILLS), 389)
    frac = rng.uniform(0.5, 1.0, N_ORDERS)  # some orders partially filled
    target = np.floor(qty * frac).astype(np.int64)
    share_each = np.maximum(target // counts, 1)
    shares = share_each[owner]
    mids = bars.pivot(index="ticker", columns="time", values="mid").loc[tickers].to_numpy()
    spreads = bars.pivot(index="ticker", columns="time", values="spread").loc[tickers].to_numpy()
    side = np.where(orders["side"].to_numpy() == "BUY", 1.0, -1.0)
    price = mids[tk[owner], bar] + side[owner] * (spreads[tk[owner], bar] / 2 + rng.normal(0, 0.02, N_FILLS))
    times = pd.DatetimeIndex(np.sort(bars["time"].unique())).as_unit("ns")
    fills = pd.DataFrame(
        {
            "order_id": owner,
            # In the bar, never before the order's arrival (a fill cannot precede its order).
            "time": np.maximum(times[bar], orders["arrival_time"].to_numpy()[owner]),
            "shares": shares,
            "price": np.round(price, 4),
            "fee": shares * 0.002,
        }
    )
    return orders, fills


def baseline_shortfall(orders: pd.DataFrame, fills: pd.DataFrame, bars: pd.DataFrame) -> pd.DataFrame:
    """Straightforward pandas: one Python function per order via groupby-apply.

    Same definitions as execlab.shortfall (see its docstring): mids linear
    within the bar between mid_open and mid_close; interval from the arrival
    bar to the last fill's bar; unexecuted shares marked at the close mid.
    """
    by_ticker = {t: g.reset_index(drop=True) for t, g in bars.groupby("ticker")}
    o = orders.set_index("order_id")

    def mid_at(b: pd.DataFrame, t: pd.Timestamp) -> float:
        k = int(b["time"].searchsorted(t, side="right")) - 1
        start = b["time"].iat[k]
        frac = (t - start) / pd.Timedelta(minutes=1)
        return b["mid_open"].iat[k] + (b["mid_close"].iat[k] - b["mid_open"].iat[k]) * frac

    def one(g: pd.DataFrame) -> pd.Series:
        od = o.loc[g.name]
        b = by_ticker[od["ticker"]]
        s = 1.0 if od["side"] == "BUY" else -1.0
        q = float(od["quantity"])
        pd_, pa = mid_at(b, od["decision_time"]), mid_at(b, od["arrival_time"])
        pe = b["mid_close"].iat[-1]
        x = g["shares"].sum()
        notional = (g["shares"] * g["price"]).sum()
        avg = notional / x
        u = q - x
        fees = g["fee"].sum()
        b0 = int(b["time"].searchsorted(od["arrival_time"], side="right")) - 1
        b1 = int(b["time"].searchsorted(g["time"].max(), side="right")) - 1
        w = b.iloc[b0 : b1 + 1]
        vol = w["volume"].sum()
        vwap = (w["vwap"] * w["volume"]).sum() / vol if vol > 0 else w["vwap"].mean()
        twap = w["mid"].mean()
        close = b["close"].iat[-1]
        return pd.Series(
            {
                "decision_price": pd_, "arrival_price": pa, "end_price": pe, "avg_price": avg,
                "executed": x, "unexecuted": u,
                "is_total": s * (g["shares"] * (g["price"] - pd_)).sum() + s * u * (pe - pd_) + fees,
                "delay_cost": s * q * (pa - pd_),
                "execution_cost": s * (g["shares"] * (g["price"] - pa)).sum(),
                "opportunity_cost": s * u * (pe - pa),
                "fees": fees,
                "interval_vwap": vwap, "interval_twap": twap, "close_price": close,
                "slippage_arrival_bps": 1e4 * s * (avg - pa) / pa,
                "slippage_vwap_bps": 1e4 * s * (avg - vwap) / vwap,
                "slippage_twap_bps": 1e4 * s * (avg - twap) / twap,
                "slippage_close_bps": 1e4 * s * (avg - close) / close,
            }
        )

    return fills.groupby("order_id").apply(one, include_groups=False)


def vectorised_shortfall(orders: pd.DataFrame, fills: pd.DataFrame, bars: pd.DataFrame) -> pd.DataFrame:
    """What a competent pandas/numpy user writes for one session: no per-order Python, no checks."""
    wide = bars.pivot(index="ticker", columns="time")
    tickers, times = wide.index, wide["mid"].columns.as_unit("ns").asi8
    col = {c: wide[c].to_numpy(np.float64) for c in ("mid_open", "mid_close", "volume", "vwap", "mid", "close")}
    code = tickers.get_indexer(orders["ticker"])
    s = np.where(orders["side"].to_numpy() == "BUY", 1.0, -1.0)
    q = orders["quantity"].to_numpy(np.float64)

    def mid_at(t_ns):
        k = np.searchsorted(times, t_ns, side="right") - 1
        frac = (t_ns - times[k]) / 60e9
        return col["mid_open"][code, k] + (col["mid_close"][code, k] - col["mid_open"][code, k]) * frac, k

    p_dec, _ = mid_at(orders["decision_time"].dt.as_unit("ns").astype("int64").to_numpy())
    p_arr, b0 = mid_at(orders["arrival_time"].dt.as_unit("ns").astype("int64").to_numpy())
    p_end, close = col["mid_close"][code, -1], col["close"][code, -1]
    row = pd.Index(orders["order_id"]).get_indexer(fills["order_id"])
    x, px = fills["shares"].to_numpy(np.float64), fills["price"].to_numpy()
    n = len(orders)
    executed = np.bincount(row, x, n)
    avg = np.bincount(row, x * px, n) / executed
    fees = np.bincount(row, fills["fee"].to_numpy(), n)
    last = np.zeros(n, np.int64)
    np.maximum.at(last, row, fills["time"].dt.as_unit("ns").astype("int64").to_numpy())
    b1 = np.searchsorted(times, last, side="right") - 1
    u = q - executed

    def interval_sum(v):  # cumulative sums over bars, one row per ticker
        c = np.concatenate([np.zeros((len(tickers), 1)), np.cumsum(v, axis=1)], axis=1)
        return c[code, b1 + 1] - c[code, b0]

    vol = interval_sum(col["volume"])
    vwap = np.where(vol > 0, interval_sum(col["volume"] * col["vwap"]) / np.where(vol > 0, vol, 1),
                    interval_sum(col["vwap"]) / (b1 - b0 + 1))
    twap = interval_sum(col["mid"]) / (b1 - b0 + 1)
    return pd.DataFrame({
        "decision_price": p_dec, "arrival_price": p_arr, "end_price": p_end, "avg_price": avg,
        "executed": executed, "unexecuted": u,
        "is_total": s * np.bincount(row, x * (px - p_dec[row]), n) + s * u * (p_end - p_dec) + fees,
        "delay_cost": s * q * (p_arr - p_dec),
        "execution_cost": s * np.bincount(row, x * (px - p_arr[row]), n),
        "opportunity_cost": s * u * (p_end - p_arr), "fees": fees,
        "interval_vwap": vwap, "interval_twap": twap, "close_price": close,
        "slippage_arrival_bps": 1e4 * s * (avg - p_arr) / p_arr, "slippage_vwap_bps": 1e4 * s * (avg - vwap) / vwap,
        "slippage_twap_bps": 1e4 * s * (avg - twap) / twap, "slippage_close_bps": 1e4 * s * (avg - close) / close,
    }, index=pd.Index(orders["order_id"], name="order_id"))


def max_rel_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    x = a.loc[b.index, METRICS].to_numpy(np.float64)
    y = b[METRICS].to_numpy(np.float64)
    assert np.array_equal(np.isnan(x), np.isnan(y)), "NaN pattern differs"
    return float(np.nanmax(np.abs(x - y) / np.maximum(np.abs(y), 1.0)))


def bench_shortfall(bars: pd.DataFrame, mkt: ex.Market) -> bool:
    rng = np.random.default_rng(20120621)
    orders, fills = synthetic_batch(bars, rng)
    print(f"shortfall: {len(orders):,} orders, {len(fills):,} fills")
    fast = ex.shortfall(orders, fills, mkt)
    vec = vectorised_shortfall(orders, fills, bars)
    err = max_rel_diff(fast, vec)
    assert err < 1e-9, f"execlab and the vectorised baseline differ: {err:.3g}"
    parts = fast[["delay_cost", "execution_cost", "opportunity_cost", "fees"]].sum(axis=1)
    assert np.allclose(parts, fast["is_total"], rtol=1e-9, atol=1e-6)
    t = interleaved({"execlab": lambda: ex.shortfall(orders, fills, mkt),
                     "vectorised": lambda: vectorised_shortfall(orders, fills, bars)}, rounds=9)
    sub_o = orders.iloc[:APPLY_ORDERS]
    sub_f = fills[fills["order_id"] < APPLY_ORDERS]
    slow = baseline_shortfall(sub_o, sub_f, bars)
    err_apply = max_rel_diff(fast, slow)
    assert err_apply < 1e-9, f"execlab and the groupby-apply baseline differ: {err_apply:.3g}"
    t_apply = interleaved({"apply": lambda: baseline_shortfall(sub_o, sub_f, bars)}, rounds=1)["apply"] * N_ORDERS / APPLY_ORDERS
    ratio = t["vectorised"] / t["execlab"]
    met = ratio >= 1 / 1.5
    print(f"  execlab.shortfall (validated)  {t['execlab']:8.3f} s (median)")
    print(f"  vectorised pandas/numpy        {t['vectorised']:8.3f} s -> execlab {ratio:.2f}x as fast "
          f"(target >= 0.67x, i.e. within 1.5x: {'met' if met else 'MISSED'}); max relative difference {err:.1e}")
    print(f"  groupby-apply (extra row)      {t_apply:8.1f} s (scaled from {APPLY_ORDERS} orders) -> {t_apply / t['execlab']:.0f}x")
    case = f"shortfall {N_ORDERS:,} orders / {N_FILLS:,} fills"
    record("shortfall", case, execlab_s=t["execlab"], baseline="vectorised pandas/numpy, same metrics, no validation",
           baseline_s=t["vectorised"], ratio=ratio, target="within 1.5x (ratio >= 0.67)", met=met)
    record("shortfall", case, execlab_s=t["execlab"], baseline=f"groupby-apply per order (weak; scaled from {APPLY_ORDERS} orders)",
           baseline_s=t_apply, ratio=t_apply / t["execlab"], target="", met=None)
    return met


def frame_bytes(*frames: pd.DataFrame) -> int:
    return int(sum(f.memory_usage(deep=True, index=True).sum() for f in frames))


def shortfall_memory(bars: pd.DataFrame, mkt: ex.Market, n_fills: int = BIG_FILLS, n_orders: int = 100_000) -> tuple[float, float, float]:
    """Time (s), peak growth (bytes) and its ratio to the input frames for shortfall on ``n_fills`` fills."""
    orders, fills = synthetic_batch(bars, np.random.default_rng(5), n_orders, n_fills)
    ex.shortfall(orders.iloc[:10], fills[fills["order_id"] < 10], mkt)
    t = interleaved({"s": lambda: ex.shortfall(orders, fills, mkt)}, rounds=1)["s"]
    peak, _ = peak_bytes(lambda: ex.shortfall(orders, fills, mkt))
    return t, peak, peak / frame_bytes(orders, fills)


def simulate_case(mkt: ex.Market, n_orders: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    tickers = np.array(["AAPL", "AMZN", "GOOG"])
    open_ = pd.Timestamp("2012-06-21 09:30", tz="America/New_York")
    qty = rng.integers(100, 5_000, n_orders)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(n_orders),
            "ticker": tickers[rng.integers(0, 3, n_orders)],
            "side": np.where(rng.random(n_orders) < 0.5, "BUY", "SELL"),
            "quantity": qty,
            "decision_time": open_ + pd.to_timedelta(rng.integers(0, 3600, n_orders), unit="s"),
        }
    )
    sched = ex.twap(qty, 390)
    impact = ex.SquareRootImpact(1.0, horizon=0.1) if hasattr(ex, "SquareRootImpact") else None
    # One real session has no history: its own ADV and volatility, asked for by name.
    kw = dict(forecast="same_session", fee_per_share=0.001, fee_per_order=0.05)
    return lambda: ex.simulate(orders, sched, mkt, impact, **kw), sched


def simulate_memory(mkt: ex.Market, n_orders: int = N_ORDERS) -> tuple[float, float, float, object]:
    run, sched = simulate_case(mkt, n_orders)
    res = run()
    t = interleaved({"s": run}, rounds=1)["s"]
    peak, _ = peak_bytes(run)
    return t, peak, peak / sched.shares.nbytes, res


def main() -> None:
    print_machine()
    bars = ex.load_bars("1min")  # the baselines' input
    mkt = ex.load_market("1min")  # execlab's: the same bars, built once
    bench_shortfall(bars, mkt)

    t, peak, ratio = shortfall_memory(bars, mkt)
    met = ratio <= 3
    print(f"shortfall on {BIG_FILLS:,} fills: {t:.2f} s, peak growth {peak / 2**20:.0f} MiB = {ratio:.2f}x its input frames "
          f"(target <= 3x: {'met' if met else 'MISSED'})")
    record("memory", f"shortfall peak, {BIG_FILLS:,} fills", execlab_s=t, peak_mib=peak / 2**20, ratio=ratio,
           baseline="input frames (orders + fills, deep)", target="peak growth <= 3x the input frames", met=met)

    t, peak, ratio, res = simulate_memory(mkt)
    met = ratio <= 4
    print(f"simulate, {N_ORDERS:,} orders x 390 bins: {t:.2f} s, peak {peak / 2**20:.0f} MiB = {ratio:.2f}x the schedule array "
          f"(target <= 4x: {'met' if met else 'MISSED'}); fills {len(res.fills):,}")
    record("memory", f"simulate peak, {N_ORDERS:,} orders x 390 bins", execlab_s=t, peak_mib=peak / 2**20, ratio=ratio,
           baseline="the schedule's int64 array", target="peak <= 4x the schedule array", met=met)


if __name__ == "__main__":
    main()
