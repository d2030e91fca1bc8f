"""Executor: a 10,000-decision batch against the same decisions one at a time.

The batch goes through the whole workflow once (validation, sizing, risk,
one schedule call per urgency, one simulation, shortfall, booking).  The
baseline calls ``Executor.process_ticker`` in a loop.  The loop takes about
0.1 s per decision (each call re-reads the bars for the simulator and the
shortfall), so it is timed on the first SUBSET decisions and scaled linearly
to 10,000, and fills and ledger are compared on that subset (the batch is
re-run on the subset for the comparison).

A second part runs the engine across sessions of a SYNTHETIC market written in
LOBSTER's format (``execlab.synthetic.lobster_market``): 1,000 decisions per
session over 5, 10, 20 and 40 sessions in one ``run`` each, and fits the
exponent of time against sessions (target: linear, exponent <= 1.15).

The participation cap is off (max_participation=None) in the comparison run:
with a cap, the orders of one ticker share each bar's cap in a batch, which a
loop over single orders cannot do -- the batch answer is the right one there,
so equality is only defined without the cap.  The 10,000-decision timing is
reported both with the default 10% cap and without it.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import execlab as ex

N = 10_000
SUBSET = 200
TZ = "America/New_York"


def decisions(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = pd.Timestamp("2012-06-21 09:30", tz=TZ) + pd.to_timedelta(np.sort(rng.integers(0, 389 * 60, n)), "s")
    return pd.DataFrame({
        "decision_id": [f"d{i:05d}" for i in range(n)],
        "ticker": rng.choice(["AAPL", "AMZN", "GOOG"], n),
        "action": rng.choice(["BUY", "SELL", "HOLD"], n, p=[0.5, 0.4, 0.1]),
        "position_size": rng.uniform(0.002, 0.06, n).round(4),
        "urgency": rng.choice(["CRITICAL", "HIGH", "MEDIUM", "LOW"], n),
        "confidence": rng.uniform(0.5, 1.0, n).round(2),
        "time": t,
    })


def executor(mkt: ex.Market, cap: float | None) -> ex.Executor:
    return ex.Executor(
        mkt, forecast="same_session", cash=20_000_000, positions={"AAPL": (15_000, 585.0), "AMZN": (40_000, 223.0), "GOOG": (15_000, 578.0)},
        risk=ex.RiskLimits(max_position_pct=30, max_order_notional=20_000, max_gross_exposure=40_000_000),
        max_participation=cap, fee_per_share=0.0035,
    )


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def sessions_scaling(per_session: int = 1_000, counts=(5, 10, 20, 40)) -> float:
    """Time of one run over n sessions x per_session decisions; the fitted exponent in n."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sm = ex.synthetic.lobster_market(tmp, sessions=max(counts) + 1, seed=11)
        t0 = time.perf_counter()
        mkt = ex.Market.from_lobster(tmp, "1min")
        print(f"SYNTHETIC market {mkt!r} built in {time.perf_counter() - t0:.1f} s")
    del sm
    fc = mkt.forecast(window=5, min_sessions=1)  # trailing sessions only; session 0 has none and is not traded
    rng = np.random.default_rng(3)
    times = []
    for n in counts:
        days = mkt.dates[1:n + 1]
        m = n * per_session
        day = np.repeat(days, per_session)
        t = pd.DatetimeIndex(day).tz_localize(TZ) + pd.Timedelta("09:31:00") + pd.to_timedelta(rng.integers(0, 380 * 60, m), "s")
        dec = pd.DataFrame({"ticker": rng.choice(mkt.tickers, m), "action": rng.choice(["BUY", "SELL", "HOLD"], m, p=[0.5, 0.4, 0.1]),
                            "position_size": rng.uniform(0.002, 0.06, m).round(4),
                            "urgency": rng.choice(["CRITICAL", "HIGH", "MEDIUM", "LOW"], m), "time": t})
        exe = ex.Executor(mkt, forecast=fc, cash=20_000_000, risk=ex.RiskLimits(max_position_pct=30, max_order_notional=20_000),
                          fee_per_share=0.0035)
        rep, dt = timed(lambda: exe.run(dec))
        times.append(dt)
        print(f"  {n:3d} sessions x {per_session:,} decisions: {dt:6.2f} s ({dt / n * 1e3:.0f} ms per session), "
              f"orders {rep.stats['executions']:,}, sessions in the P&L table {len(rep.sessions)}")
    slope = float(np.polyfit(np.log(counts), np.log(times), 1)[0])
    print(f"  time ~ sessions^{slope:.2f} (target <= 1.15: {'met' if slope <= 1.15 else 'MISSED'})")
    return slope


def main() -> int:
    bars = ex.load_market("1min")
    dec = decisions(N)
    executor(bars, 0.1).run(dec.head(50))  # warm caches (imports, bars)

    rep_cap, t_cap = timed(lambda: executor(bars, 0.1).run(dec))
    rep, t_batch = timed(lambda: executor(bars, None).run(dec))
    s = rep.stats
    print(f"batch of {N:,} decisions: {t_batch:.2f} s without participation cap, {t_cap:.2f} s with a 10% cap")
    print(f"  orders {s['executions']:,}, blocked {s['blocked']:,}, skipped {s['skipped']:,}, fills {len(rep.fills):,}")

    sub = dec.head(SUBSET)
    loop_exe = executor(bars, None)
    reps, t_loop = timed(lambda: [loop_exe.process_ticker(r.ticker, r.action, r.position_size, r.urgency, time=r.time,
                                                          confidence=r.confidence, decision_id=r.decision_id)
                                  for r in sub.itertuples()])
    per = t_loop / SUBSET
    print(f"one at a time: {SUBSET} decisions in {t_loop:.2f} s ({per * 1e3:.1f} ms each); "
          f"scaled to {N:,}: {per * N:.0f} s")
    print(f"speed-up: {per * N / t_batch:.0f}x (target >= 50x)")

    batch_exe = executor(bars, None)
    rep_sub = batch_exe.run(sub)
    cols = ["decision_id", "time", "shares", "price", "fee"]
    fa = rep_sub.fills[cols].astype({"decision_id": object}).sort_values(cols).reset_index(drop=True)
    fb = pd.concat([r.fills for r in reps])[cols].astype({"decision_id": object}).sort_values(cols).reset_index(drop=True)
    same_fills = fa.equals(fb)
    pa, pb = batch_exe.ledger.positions, loop_exe.ledger.positions.reindex(batch_exe.ledger.positions.index)
    same_pos = bool((pa["shares"] == pb["shares"]).all())
    cost_gap = float(np.max(np.abs(pa[["avg_cost", "realized_pnl", "fees"]].to_numpy() - pb[["avg_cost", "realized_pnl", "fees"]].to_numpy())))
    cash_gap = abs(batch_exe.ledger.cash - loop_exe.ledger.cash)
    outcomes = rep_sub.decisions.set_index("decision_id")["outcome"]
    same_outcomes = outcomes.equals(pd.concat([r.decisions for r in reps]).set_index("decision_id")["outcome"].loc[outcomes.index])
    print(f"subset of {SUBSET}: same fills {same_fills} ({len(fa)} rows), same outcomes {same_outcomes}, same positions {same_pos}, "
          f"max |avg cost / realized / fees| gap ${cost_gap:.2e}, cash gap ${cash_gap:.2e}")
    ok = same_fills and same_pos and same_outcomes and cost_gap < 1e-6 and cash_gap < 1e-4
    if not ok:
        print("MISMATCH between batch and one-at-a-time")
        return 1
    print("engine across sessions (SYNTHETIC market):")
    sessions_scaling()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
