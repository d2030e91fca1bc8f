"""TCA beyond one machine: N synthetic fills in parquet, the full TCA on a LocalCluster of this machine's cores.

Baselines measured in the same run:

* the read floor: pyarrow reading the same fill columns from the same files, nothing else;
* the in-memory path (``tca`` on a pandas DataFrame) on a slice of the fills;
* the Dask path on the same slice, for the scaling in the number of fills.

The fills are written once and cached in a temporary directory (reused by later runs with the same size), one
parquet file per session.  The market is SYNTHETIC (``execlab.synthetic.lobster_market``).

Usage: python benchmarks/bench_tca_dask.py [--fills 100000000] [--slice 10000000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import execlab as ex
from execlab._tca import tca

SESSIONS = 50            # traded sessions (one parquet file each), after HISTORY sessions of forecast history
HISTORY = 5
FILLS_PER_ORDER = 1000
BYTES_PER_FILL = 30      # parquet, measured on this generator (checked after writing)
COLUMNS = ["fill_id", "order_id", "time", "shares", "price", "fee"]


def _market(directory: Path) -> ex.Market:
    d = directory / "lobster"
    if not d.exists():
        ex.synthetic.lobster_market(d, tickers=("SYNA", "SYNB", "SYNC", "SYND"), sessions=SESSIONS + HISTORY, seed=11,
                                    events_per_session=2000)
    return ex.Market.from_lobster(d, "5min")


def _orders(mkt: ex.Market, n_fills: int) -> pd.DataFrame:
    per_session = max(1, n_fills // SESSIONS // FILLS_PER_ORDER)
    rng = np.random.default_rng(0)
    n = per_session * SESSIONS
    day = np.repeat(np.arange(HISTORY, HISTORY + SESSIONS), per_session)
    k = rng.integers(0, len(mkt.tickers), n)
    arrival = mkt.start_ns[mkt.day_first[day]] + rng.integers(0, 5 * 3600, n) * 1_000_000_000
    t = pd.DatetimeIndex(arrival.view("M8[ns]")).tz_localize("UTC").tz_convert(mkt.tz)
    return pd.DataFrame({"order_id": np.arange(n, dtype=np.int64), "ticker": np.array(mkt.tickers)[k],
                         "side": np.where(rng.random(n) < 0.5, "BUY", "SELL"),
                         "quantity": np.full(n, 100 * FILLS_PER_ORDER), "decision_time": t, "arrival_time": t,
                         "broker": rng.choice(np.array(["A", "B", "C"]), n),
                         "algorithm": rng.choice(np.array(["TWAP", "VWAP"]), n)})


def _write_fills(mkt: ex.Market, orders: pd.DataFrame, n_fills: int, out: Path) -> None:
    """One parquet file per session: each order's fills spread over the hour after its arrival."""
    out.mkdir(parents=True, exist_ok=True)
    arr = orders["arrival_time"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype(np.int64)
    sign = np.where(orders["side"].to_numpy() == "BUY", 1.0, -1.0)
    code = mkt.code(orders["ticker"].to_numpy())
    day = mkt.calendar.session_of(arr)
    per_session = len(orders) // SESSIONS
    base = 0
    for s in range(SESSIONS):
        rng = np.random.default_rng(1000 + s)
        o = np.arange(s * per_session, (s + 1) * per_session)
        oi = np.repeat(o, FILLS_PER_ORDER)
        t = arr[oi] + np.sort(rng.integers(0, 3600 * 10**9, (len(o), FILLS_PER_ORDER)), axis=1).ravel()
        mid = mkt.mid_at(code[oi], t, day[oi])
        price = np.round(mid * (1 + sign[oi] * rng.uniform(0, 10e-4, len(oi))), 4)
        n = len(oi)
        pd.DataFrame({
            "fill_id": np.arange(base, base + n, dtype=np.int64),
            "order_id": oi.astype(np.int64),
            "time": pd.DatetimeIndex(t.view("M8[ns]")).tz_localize("UTC").tz_convert(mkt.tz),
            "shares": np.full(n, 100, dtype=np.int64),
            "price": price,
            "fee": np.full(n, 0.1),
        }).to_parquet(out / f"session-{s:03d}.parquet", index=False, row_group_size=1_000_000)
        base += n


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fills", type=int, default=100_000_000)
    ap.add_argument("--slice", type=int, default=10_000_000)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "execlab_bench_tca"))
    args = ap.parse_args()
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free
    n_fills = args.fills
    if n_fills * BYTES_PER_FILL * 2.5 > free:  # fills + per-fill results, with room to spare
        n_fills = int(free / (BYTES_PER_FILL * 2.5) // 10**7 * 10**7)
        print(f"disk: {free / 1e9:.1f} GB free, not enough for {args.fills:,} fills; using {n_fills:,}")
    import dask
    import dask.dataframe as dd
    import distributed
    import pyarrow.parquet as pq

    mkt = _market(root)
    orders = _orders(mkt, n_fills)
    n_fills = len(orders) * FILLS_PER_ORDER
    data = root / f"fills_{n_fills}"
    manifest = data / "manifest.json"
    t0 = time.perf_counter()
    if not manifest.exists():
        shutil.rmtree(data, ignore_errors=True)
        _write_fills(mkt, orders, n_fills, data)
        manifest.write_text(json.dumps({"fills": n_fills}))
        print(f"wrote {n_fills:,} fills in {time.perf_counter() - t0:.0f} s")
    size = sum(p.stat().st_size for p in data.glob("*.parquet"))
    files = sorted(data.glob("session-*.parquet"))
    print(f"fills: {n_fills:,} in {len(files)} parquet files (one per session), {size / 1e9:.2f} GB "
          f"({size / n_fills:.1f} B/fill) at {data}")
    print(f"orders: {len(orders):,}; market: {mkt}")
    cores = os.cpu_count() or 1

    # --- the floor: pyarrow reading the same columns, all files ---
    t0 = time.perf_counter()
    rows = 0
    for f in files:
        rows += pq.read_table(f, columns=COLUMNS).num_rows
    floor = time.perf_counter() - t0
    assert rows == n_fills

    # --- the full TCA on a LocalCluster: one worker process per core ---
    out = root / "out"
    with distributed.LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit=None) as cluster, distributed.Client(cluster) as client:
        for sub, tag in ((files[: max(1, len(files) * args.slice // n_fills)], "slice"), (files, "all")):
            shutil.rmtree(out, ignore_errors=True)
            client.run(lambda: None)
            t0 = time.perf_counter()
            res = tca(orders, dd.read_parquet([str(p) for p in sub]), mkt, fills_out=out, progress=(tag == "all"))
            el = time.perf_counter() - t0
            if tag == "slice":
                slice_fills, dask_slice = sum(pq.ParquetFile(p).metadata.num_rows for p in sub), el
                slice_files = sub
            else:
                dask_all = el
                peak = client.run(_peak_rss_mb)
                n_rej = len(res.rejected)
    # --- in-memory path on the slice ---
    t0 = time.perf_counter()
    fills_slice = pd.concat([pd.read_parquet(p) for p in slice_files], ignore_index=True)
    read_slice = time.perf_counter() - t0
    o_slice = orders[orders["order_id"].isin(fills_slice["order_id"].unique())]
    t0 = time.perf_counter()
    mem = tca(o_slice, fills_slice, mkt)
    inmem = time.perf_counter() - t0
    assert len(mem.fills) == slice_fills
    del fills_slice, mem

    per = max(peak.values())
    print()
    print(f"{'':44s}{'fills':>14s}{'seconds':>10s}{'M fills/s':>11s}")
    print(f"{'pyarrow read of the same columns (floor)':44s}{n_fills:>14,}{floor:>10.1f}{n_fills / floor / 1e6:>11.2f}")
    print(f"{'TCA, Dask LocalCluster (' + str(cores) + ' workers)':44s}{n_fills:>14,}{dask_all:>10.1f}{n_fills / dask_all / 1e6:>11.2f}")
    print(f"{'TCA, Dask LocalCluster, slice':44s}{slice_fills:>14,}{dask_slice:>10.1f}{slice_fills / dask_slice / 1e6:>11.2f}")
    print(f"{'TCA, in memory (pandas), slice':44s}{slice_fills:>14,}{inmem:>10.1f}{slice_fills / inmem / 1e6:>11.2f}"
          f"   (+ {read_slice:.1f} s to read it)")
    print()
    print(f"Dask TCA / read floor: {dask_all / floor:.1f} x (target: within 3 x)")
    slope = np.log(dask_all / dask_slice) / np.log(n_fills / slice_fills)
    print(f"scaling: time ~ fills^{slope:.2f} between {slice_fills:,} and {n_fills:,} fills (1.00 = linear)")
    print(f"in-memory / Dask on the slice: {inmem / dask_slice:.2f} x")
    print(f"peak memory per worker: {per / 1024:.2f} GB (largest of {len(peak)}); "
          f"one partition = {n_fills // len(files):,} fills; rejected rows: {n_rej}")
    print(f"client peak RSS: {_peak_rss_mb() / 1024:.2f} GB")


if __name__ == "__main__":
    main()
