"""Executor: scaling in decisions with binding limits, per-call cost through a day, equality.

1. ``Executor.run`` on 1,000, 10,000 and 100,000 decisions of one real session
   (2012-06-21), with position and gross-exposure limits that *bind* (the number
   of orders each blocks is printed), and the fitted exponent of time in
   decisions from 10,000 to 100,000 (target: linear, exponent <= 1.15).
2. ``process_ticker`` called one decision at a time through the day
   (``LOOP_CALLS`` calls): the median cost per call over the first and the last
   fifth of the calls (target: the last within 1.5x of the first -- flat).
3. Equality: the batch and the one-at-a-time loop give the same fills, outcomes,
   positions, costs and cash on the first ``LOOP_CALLS`` decisions (participation
   cap off: with a cap, orders of one ticker share each bar's cap in a batch, which
   a loop over single orders cannot do).
4. Across sessions of a SYNTHETIC market written in LOBSTER's format
   (``execlab.synthetic.lobster_market``): 1,000 decisions per session over 5, 10,
   20 and 40 sessions, exponent of time in sessions (target <= 1.15).

The baseline for the batch is execlab itself at a smaller size (scaling) and
one call per decision (an extra row); no other package runs this workflow.

Run:  .venv/bin/python benchmarks/bench_engine.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pandas as pd

import execlab as ex
from _results import fit_exponent, peak_bytes, print_machine, record

SIZES = (1_000, 10_000, 100_000)
LOOP_CALLS = 300
TZ = "America/New_York"


def decisions(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = pd.Timestamp("2012-06-21 09:30", tz=TZ) + pd.to_timedelta(np.sort(rng.integers(0, 389 * 60, n)), "s")
    return pd.DataFrame({
        "decision_id": [f"d{i:06d}" for i in range(n)],
        "ticker": rng.choice(["AAPL", "AMZN", "GOOG"], n),
        "action": rng.choice(["BUY", "SELL", "HOLD"], n, p=[0.5, 0.4, 0.1]),
        "position_size": rng.uniform(0.002, 0.06, n).round(4),
        "urgency": rng.choice(["CRITICAL", "HIGH", "MEDIUM", "LOW"], n),
        "confidence": rng.uniform(0.5, 1.0, n).round(2),
        "time": t,
    })


def executor(mkt: ex.Market, cap: float | None = 0.1, binding: bool = True) -> ex.Executor:
    """Opening book about $26M gross; the limits bind within the first thousand decisions."""
    risk = (ex.RiskLimits(max_position_pct=20, max_order_notional=20_000, max_gross_exposure=27_200_000) if binding
            else ex.RiskLimits(max_position_pct=30, max_order_notional=20_000, max_gross_exposure=40_000_000))
    return ex.Executor(
        mkt, forecast="same_session", cash=20_000_000,
        positions={"AAPL": (15_000, 585.0), "AMZN": (40_000, 223.0), "GOOG": (15_000, 578.0)},
        risk=risk, max_participation=cap, fee_per_share=0.0035,
    )


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


RULE_TEXT = {"max_gross_exposure": "gross exposure", "max_position_pct": "% of portfolio",
             "max_position_shares": "shares; |", "max_order_notional": "order notional", "daily_loss_limit": "daily loss"}


def blocked_by_rule(dec: pd.DataFrame) -> dict:
    """How many decisions each limit blocked (read from the reason text)."""
    reason = dec.loc[dec["outcome"].str.upper() == "BLOCKED", "reason"].astype(str)
    return {rule: int(reason.str.contains(text, regex=False).sum()) for rule, text in RULE_TEXT.items()
            if reason.str.contains(text, regex=False).any()}


def run_scaling(mkt: ex.Market, sizes=SIZES, memory: bool = True) -> list[dict]:
    """Time (and peak memory) of one ``run`` at each size, limits binding."""
    rows = []
    for n in sizes:
        dec = decisions(n)
        rep, dt = timed(lambda: executor(mkt).run(dec))
        peak = peak_bytes(lambda: executor(mkt).run(dec))[0] if memory else float("nan")
        rules = blocked_by_rule(rep.decisions)
        rows.append({"n": n, "s": dt, "peak": peak, "executions": rep.stats["executions"],
                     "blocked": rep.stats["blocked"], "rules": rules})
        print(f"  {n:>7,} decisions: {dt:7.2f} s, peak {peak / 2**20:7.0f} MiB, orders {rep.stats['executions']:,}, "
              f"blocked {rep.stats['blocked']:,} {rules}")
    return rows


def per_call_through_day(mkt: ex.Market, dec: pd.DataFrame) -> tuple[float, float, list]:
    exe = executor(mkt, None)
    times, reps = [], []
    for r in dec.itertuples():
        rep, dt = timed(lambda: exe.process_ticker(r.ticker, r.action, r.position_size, r.urgency, time=r.time,
                                                   confidence=r.confidence, decision_id=r.decision_id))
        times.append(dt)
        reps.append(rep)
    k = max(len(times) // 5, 1)
    return statistics.median(times[:k]), statistics.median(times[-k:]), (exe, reps)


def same_as_batch(mkt: ex.Market, sub: pd.DataFrame, loop_exe: ex.Executor, reps: list) -> bool:
    batch_exe = executor(mkt, None)
    rep_sub = batch_exe.run(sub)
    cols = ["decision_id", "time", "shares", "price", "fee"]
    fa = rep_sub.fills[cols].astype({"decision_id": object}).sort_values(cols).reset_index(drop=True)
    fb = pd.concat([r.fills for r in reps])[cols].astype({"decision_id": object}).sort_values(cols).reset_index(drop=True)
    same_fills = fa.equals(fb)
    pa, pb = batch_exe.ledger.positions, loop_exe.ledger.positions.reindex(batch_exe.ledger.positions.index)
    same_pos = bool((pa["shares"] == pb["shares"]).all())
    cc = ["avg_cost", "realized_pnl", "fees"]
    cost_gap = float(np.max(np.abs(pa[cc].to_numpy() - pb[cc].to_numpy())))
    cash_gap = abs(batch_exe.ledger.cash - loop_exe.ledger.cash)
    outcomes = rep_sub.decisions.set_index("decision_id")["outcome"]
    loop_out = pd.concat([r.decisions for r in reps]).set_index("decision_id")["outcome"].loc[outcomes.index]
    same_outcomes = outcomes.equals(loop_out)
    n_blocked = int((outcomes == "blocked").sum())
    print(f"  batch vs one at a time on {len(sub)} decisions ({n_blocked} blocked): same fills {same_fills} ({len(fa)} rows), "
          f"same outcomes {same_outcomes}, same positions {same_pos}, max cost gap ${cost_gap:.1e}, cash gap ${cash_gap:.1e}")
    return same_fills and same_pos and same_outcomes and cost_gap < 1e-6 and cash_gap < 1e-4


def sessions_scaling(per_session: int = 1_000, counts=(5, 10, 20, 40), repeats: int = 3) -> float:
    """Time of one run over n sessions x per_session decisions; the fitted exponent in n."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ex.synthetic.lobster_market(tmp, sessions=max(counts) + 1, seed=11)
        mkt = ex.Market.from_lobster(tmp, "1min")
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
        spent = []
        for _ in range(repeats):  # a fresh executor each time; the median of the repeats, the machine being shared
            exe = ex.Executor(mkt, forecast=fc, cash=20_000_000,
                              risk=ex.RiskLimits(max_position_pct=30, max_order_notional=20_000), fee_per_share=0.0035)
            rep, dt = timed(lambda: exe.run(dec))
            spent.append(dt)
        dt = sorted(spent)[len(spent) // 2]
        times.append(dt)
        print(f"  {n:3d} sessions x {per_session:,} decisions: {dt:6.2f} s (median of {repeats}: "
              f"{', '.join(f'{x:.2f}' for x in spent)}), orders {rep.stats['executions']:,}")
    record("scaling", "Executor.run across SYNTHETIC sessions (1,000 decisions each; median of 3)", sizes=list(counts),
           times=times, peaks_mib=None, time_exponent=fit_exponent(counts, times), memory_exponent=None, met=None)
    return fit_exponent(counts, times)


def main() -> int:
    quick = "--quick" in sys.argv
    print_machine()
    mkt = ex.load_market("1min")
    executor(mkt).run(decisions(50))  # warm caches (imports, bars)

    print("Executor.run, one real session, position and gross-exposure limits binding:")
    rows = run_scaling(mkt, SIZES[:2] if quick else SIZES)
    big = [r for r in rows if r["n"] >= 10_000]
    if len(big) >= 2:
        slope = fit_exponent([r["n"] for r in big], [r["s"] for r in big])
        binds = all(r["rules"].get("max_gross_exposure", 0) > 0 and
                    any(r["rules"].get(k, 0) > 0 for k in ("max_position_pct", "max_position_shares")) for r in big)
        met = slope <= 1.15 and binds
        print(f"  time ~ decisions^{slope:.2f} from 10,000 to 100,000 (target <= 1.15, limits binding {binds}: "
              f"{'met' if met else 'MISSED'})")
        for r in rows:
            record("engine", f"Executor.run {r['n']:,} decisions", execlab_s=r["s"], peak_mib=r["peak"] / 2**20,
                   blocked=r["blocked"], note=str(r["rules"]), met=None, target="")
        record("engine", "Executor.run scaling 10k -> 100k decisions", exponent=slope, met=met,
               target="exponent <= 1.15 with binding limits", execlab_s=big[-1]["s"])
        if len(rows) == 3:
            record("scaling", "Executor.run (decisions, limits binding)", sizes=[r["n"] for r in rows],
                   times=[r["s"] for r in rows], peaks_mib=[r["peak"] / 2**20 for r in rows],
                   time_exponent=fit_exponent([r["n"] for r in rows], [r["s"] for r in rows]),
                   memory_exponent=fit_exponent([r["n"] for r in rows], [r["peak"] for r in rows]), met=None)

    dec = decisions(10_000)
    sub = dec.iloc[:: max(len(dec) // LOOP_CALLS, 1)].head(LOOP_CALLS)  # spread through the whole day
    first, last, (loop_exe, reps) = per_call_through_day(mkt, sub)
    flat = last / first
    met = flat <= 1.5
    print(f"process_ticker through the day, {len(sub)} calls: {first * 1e3:.0f} ms per call in the first fifth, "
          f"{last * 1e3:.0f} ms in the last ({flat:.2f}x; target <= 1.5x: {'met' if met else 'MISSED'})")
    record("engine", f"process_ticker per call, first vs last fifth of {len(sub)} calls", execlab_s=last,
           baseline="the same calls early in the day", baseline_s=first, ratio=first / last,
           target="cost per call flat (last <= 1.5x first)", met=met)
    t_batch = next(r["s"] for r in rows if r["n"] == 10_000)
    per = statistics.mean([first, last])
    record("engine", "Executor.run 10,000 decisions", execlab_s=t_batch, baseline="process_ticker one at a time (weak, extra row)",
           baseline_s=per * 10_000, ratio=per * 10_000 / t_batch, target="", met=None)
    print(f"  batch of 10,000: {t_batch:.2f} s; one at a time, scaled: {per * 10_000:.0f} s ({per * 10_000 / t_batch:.0f}x)")

    if not same_as_batch(mkt, sub, loop_exe, reps):
        print("MISMATCH between batch and one-at-a-time")
        return 1
    if not quick:
        print("engine across sessions (SYNTHETIC market):")
        slope = sessions_scaling()
        met = slope <= 1.15
        print(f"  time ~ sessions^{slope:.2f} (target <= 1.15: {'met' if met else 'MISSED'})")
        record("engine", "Executor.run across 5-40 SYNTHETIC sessions x 1,000 decisions", exponent=slope, met=met,
               target="exponent <= 1.15")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
