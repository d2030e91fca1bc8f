"""Benchmark: execlab.shortfall against a pandas groupby-apply, and the simulator at scale.

1. 10,000 parent orders with 1,000,000 synthetic fills on the real bars of
   2012-06-21 (AAPL, AMZN, GOOG).  ``execlab.shortfall`` is timed against a
   straightforward per-order ``groupby(...).apply`` of the same definitions,
   in the same run; the numbers must agree to 1e-9 (relative).  Target: at
   least 50x faster.
2. ``execlab.simulate`` on 10,000 orders x 390 one-minute bins (TWAP over the
   whole session, arrivals spread over the first hour, every bar's cap shared
   by thousands of orders), with its wall time and peak memory (tracemalloc).

Run: ``.venv/bin/python benchmarks/bench_shortfall.py``
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pandas as pd

import execlab as ex

N_ORDERS = 10_000
N_FILLS = 1_000_000
METRICS = [
    "decision_price", "arrival_price", "end_price", "avg_price", "executed", "unexecuted",
    "is_total", "delay_cost", "execution_cost", "opportunity_cost", "fees",
    "interval_vwap", "interval_twap", "close_price",
    "slippage_arrival_bps", "slippage_vwap_bps", "slippage_twap_bps", "slippage_close_bps",
]


def synthetic_batch(bars: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """10,000 orders on the real bars and 1,000,000 fills at plausible prices after each arrival."""
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


def bench_shortfall(bars: pd.DataFrame, mkt: ex.Market) -> float:
    rng = np.random.default_rng(20120621)
    orders, fills = synthetic_batch(bars, rng)
    print(f"shortfall: {len(orders):,} orders, {len(fills):,} fills")
    ex.shortfall(orders.iloc[:10], fills[fills["order_id"] < 10], mkt)  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fast = ex.shortfall(orders, fills, mkt)
        times.append(time.perf_counter() - t0)
    t_fast = min(times)
    t0 = time.perf_counter()
    slow = baseline_shortfall(orders, fills, bars)
    t_slow = time.perf_counter() - t0
    a = fast.loc[slow.index, METRICS].to_numpy(np.float64)
    b = slow[METRICS].to_numpy(np.float64)
    scale = np.maximum(np.abs(b), 1.0)
    err = np.nanmax(np.abs(a - b) / scale)
    assert np.array_equal(np.isnan(a), np.isnan(b)), "NaN pattern differs"
    assert err < 1e-9, f"max relative difference {err:.3g} >= 1e-9"
    parts = fast[["delay_cost", "execution_cost", "opportunity_cost", "fees"]].sum(axis=1)
    assert np.allclose(parts, fast["is_total"], rtol=1e-9, atol=1e-6)
    ratio = t_slow / t_fast
    print(f"  execlab.shortfall      {t_fast:8.3f} s (best of 3)")
    print(f"  pandas groupby-apply   {t_slow:8.3f} s")
    print(f"  speed-up               {ratio:8.1f} x   (target >= 50x)")
    print(f"  max relative difference {err:.2e} over {len(METRICS)} columns (must be < 1e-9)")
    return ratio


def bench_simulate(mkt: ex.Market) -> None:
    rng = np.random.default_rng(7)
    tickers = np.array(["AAPL", "AMZN", "GOOG"])
    open_ = pd.Timestamp("2012-06-21 09:30", tz="America/New_York")
    qty = rng.integers(100, 5_000, N_ORDERS)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(N_ORDERS),
            "ticker": tickers[rng.integers(0, 3, N_ORDERS)],
            "side": np.where(rng.random(N_ORDERS) < 0.5, "BUY", "SELL"),
            "quantity": qty,
            "decision_time": open_ + pd.to_timedelta(rng.integers(0, 3600, N_ORDERS), unit="s"),
        }
    )
    sched = ex.twap(qty, 390)
    impact = ex.SquareRootImpact(1.0, horizon=0.1) if hasattr(ex, "SquareRootImpact") else None
    # One real session has no history: its own ADV and volatility, asked for by name.
    kw = dict(forecast="same_session", fee_per_share=0.001, fee_per_order=0.05)
    ex.simulate(orders.iloc[:10], ex.twap(qty[:10], 390), mkt, impact, forecast="same_session")  # warm-up
    t0 = time.perf_counter()
    res = ex.simulate(orders, sched, mkt, impact, **kw)
    t_sim = time.perf_counter() - t0
    tracemalloc.start()
    ex.simulate(orders, sched, mkt, impact, **kw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    status = res.orders["status"].value_counts().to_dict()
    print(f"simulate: {N_ORDERS:,} orders x {sched.n_bins} bins ({int((sched.shares > 0).sum()):,} child orders), impact {impact!r}")
    print(f"  wall time              {t_sim:8.3f} s")
    print(f"  peak memory            {peak / 2**20:8.1f} MiB (tracemalloc)")
    print(f"  fills                  {len(res.fills):,} rows; status {status}")
    print(f"  schedule array alone   {sched.shares.nbytes / 2**20:8.1f} MiB")


def main() -> None:
    bars = ex.load_bars("1min")  # the baseline's input
    mkt = ex.load_market("1min")  # execlab's: the same bars, built once
    ratio = bench_shortfall(bars, mkt)
    bench_simulate(mkt)
    if ratio < 50:
        print(f"WARNING: speed-up {ratio:.1f}x is below the 50x target")


if __name__ == "__main__":
    main()
