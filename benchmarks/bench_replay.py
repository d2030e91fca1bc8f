"""Benchmark: execlab.replay (event-level replay on the real LOBSTER books) in LOBSTER rows per second.

1. A strategy that reacts to every event: one buy limit order pegged to the
   best bid all day (``peg=True``, ``offset_ticks`` 0, submitted at the first
   event, shares so many that it never completes), so the replay walks every
   row of the file and re-pegs whenever the bid moves.  Timed on each bundled
   book of 2012-06-21 (AAPL, AMZN and GOOG at level 1, AMZN at level 5, GOOG
   at level 10) under each queue model, through the public
   ``execlab.replay.replay`` (input checks and the result frames included;
   building the ``EventBook`` from the files is not, as hftbacktest's
   conversion of the files is not in its number either).  Target: at least
   1,000,000 LOBSTER rows per second in every case.
2. Many orders: 10,000 child limit orders at the touch, each cancelled 60 s
   after it is sent (sides and send times drawn with a fixed seed), on AAPL,
   reported as orders per second and rows walked per second (the rows of
   each order's life, summed).  Informational.

Timing: ``time.perf_counter``; the cases of one book (or of the many-orders
case) are run interleaved, one call of each per round in rotating order, and
the best of ``REPEATS`` rounds is reported (the median is recorded too), after
one untimed warm-up call each.  The first call in the process compiles the
numba kernel (or loads it from numba's cache); it is printed and excluded.

Baselines, measured in the same run:

a. The same kernel as plain Python: ``execlab.replay._kernel.kernel().py_func``
   (``replay_orders`` before numba compiles it) with its helpers' ``py_func``
   too (what ``replay`` runs where numba is not installed), through the same
   ``replay`` call, on the first ``PY_ROWS`` rows of each book (it is far
   slower; the slice keeps it to a few seconds).
   Fills and order outcomes must be identical to the compiled kernel's on the
   same rows.  The ratio compares rows per second (execlab over the whole day,
   the plain loop over the slice); the same-slice ratio is printed beside it.
b. The peer, hftbacktest 2.4.4, pegged at the best bid with its risk-averse
   queue model on AAPL level 1 (``benchmarks/peer_hftbacktest.py``, in its own
   virtual environment because it pins numpy below 2.3).  When
   ``benchmarks/.venv-hftbacktest/bin/python`` exists the peer is run here
   (a subprocess, so not interleaved call by call; execlab's comparable case
   is re-timed right after it); otherwise ``benchmarks/peer_hftbacktest.json``
   (written by ``make bench-replay-peer``) is read if present.  Its row count
   must equal the book's.  Target: within 2x of it (execlab rows/s >= 0.5 x
   hftbacktest's).  The two strategies are comparable, not identical: the
   peer's order is 100 shares, replaced when filled, and its level-1 book
   has no size below the best.

Run: ``.venv/bin/python benchmarks/bench_replay.py [--no-peer-run]``
(``--no-peer-run`` reads ``peer_hftbacktest.json`` instead of running the peer).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from execlab.replay import QUEUE_MODELS, EventBook, Latency, replay
from execlab.replay import _kernel as kernel
from execlab.replay._replay import _check_orders, _model_args, _run
from _results import print_machine, record

HERE = Path(__file__).parent
PEER_SCRIPT = HERE / "peer_hftbacktest.py"
PEER_PYTHON = HERE / ".venv-hftbacktest" / "bin" / "python"
PEER_JSON = HERE / "peer_hftbacktest.json"
PEER_PYTHON_NAME, PEER_JSON_NAME = "benchmarks/.venv-hftbacktest/bin/python", "benchmarks/peer_hftbacktest.json"
BOOKS = [("AAPL", 1), ("AMZN", 1), ("GOOG", 1), ("AMZN", 5), ("GOOG", 10)]
REPEATS = 7
PY_ROWS = 20_000
PY_REPEATS = 3
N_ORDERS = 10_000
LIFETIME = pd.Timedelta("60s")
SHARES_NEVER_DONE = 10**12
TARGET_ROWS = 1_000_000
TZ = "America/New_York"
PEER_BASELINE = "hftbacktest, one buy pegged at the best bid, its risk-averse queue model"


def faster(ratio: float, name: str) -> str:
    """The ratio read one way: how many times faster execlab is than ``name``."""
    if ratio >= 1:
        return f"execlab is {ratio:.1f}x faster than {name}"
    return f"execlab is {1 / ratio:.2f}x slower than {name}"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def best_of(fns: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """(best, median) wall time of each callable, one call of each per round, the order rotating."""
    names = list(fns)
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(repeats):
        for k in names[r % len(names):] + names[: r % len(names)]:
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
    return {k: (min(v), statistics.median(v)) for k, v in times.items()}


def first_event_time(book: EventBook) -> pd.Timestamp:
    return pd.Timestamp(int(book.time[0]), unit="ns", tz="UTC").tz_convert(TZ)


def pegged_bid(book: EventBook) -> pd.DataFrame:
    """One buy pegged to the best bid from the first event, too large ever to complete."""
    return pd.DataFrame({"side": ["BUY"], "shares": [SHARES_NEVER_DONE], "submit_time": [first_event_time(book)],
                         "order_type": ["limit"], "offset_ticks": [0], "peg": [True]})


def touch_orders(book: EventBook, n: int, seed: int = 20120621) -> pd.DataFrame:
    """``n`` child limits at the touch, sent through the day, each cancelled 60 s later."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(int(book.time[0]), unit="ns")
    t1 = pd.Timestamp(int(book.time[-1]), unit="ns") - LIFETIME
    sent = np.sort(rng.integers(t0.value, t1.value, n))
    submit = pd.DatetimeIndex(sent.view("M8[ns]")).tz_localize("UTC").tz_convert(TZ)
    return pd.DataFrame({"side": np.where(rng.random(n) < 0.5, "BUY", "SELL"), "shares": 100,
                         "submit_time": submit, "order_type": "limit", "offset_ticks": 0,
                         "cancel_time": submit + LIFETIME})


def rows_walked(book: EventBook, orders: pd.DataFrame, queue: str) -> int:
    """Rows of every order's life (entry to end, inclusive), summed, from the kernel's own record."""
    o = _check_orders(book, orders)
    lat = Latency().draw(len(orders))
    _, _, oi, _, _ = _run(book, o, lat, *_model_args(queue, ("power", 3.0)))
    entry, end = oi[:, 3], oi[:, 4]
    return int(np.where(entry >= 0, end - entry + 1, 0).sum())


def prefix(book: EventBook, n: int) -> EventBook:
    """The first ``n`` events of a book (arrival rows and next ids recomputed on the slice)."""
    return EventBook(ticker=book.ticker, date=book.date, levels=book.levels, tick=book.tick, time=book.time[:n],
                     etype=book.type[:n], order_id=book.order_id[:n], size=book.size[:n], price=book.price[:n],
                     direction=book.direction[:n], ask_price=book.ask_price[:n], ask_size=book.ask_size[:n],
                     bid_price=book.bid_price[:n], bid_size=book.bid_size[:n], source=f"{book.source} (first {n:,} rows)")


@contextlib.contextmanager
def plain_python():
    """Run the replay loop as plain Python: ``kernel.kernel().py_func`` with its helpers' ``py_func`` too.

    ``replay`` gets its loop from ``kernel.kernel()`` (the cached compiled
    loop) and the loop finds its helpers in the module's globals, so swapping
    both for their Python originals runs the whole loop as Python, exactly as
    it runs where numba is not installed.  Call it only after the compiled
    loop has run once (compiled for these argument types), and restore it.
    """
    loop = kernel.kernel()
    helpers = {name: f for name, f in vars(kernel).items() if hasattr(f, "py_func") and name != "_COMPILED"}
    try:
        kernel._COMPILED = loop.py_func
        for name, f in helpers.items():
            setattr(kernel, name, f.py_func)
        if kernel.kernel() is not loop.py_func or not helpers:  # the kernel module changed how it compiles
            raise RuntimeError("could not swap execlab.replay._kernel to plain Python; update plain_python()")
        yield
    finally:
        kernel._COMPILED = loop
        for name, f in helpers.items():
            setattr(kernel, name, f)


def assert_same(a, b, what: str) -> None:
    try:
        pd.testing.assert_frame_equal(a.fills, b.fills, check_exact=True)
        pd.testing.assert_frame_equal(a.orders, b.orders, check_exact=True)
    except AssertionError as exc:
        raise AssertionError(f"{what}: the compiled and plain-Python kernels disagree: {exc}") from None


def label(ticker: str, level: int) -> str:
    return f"{ticker} level {level}"


# ---------------------------------------------------------------------------------------------
# 1. One pegged bid on every book, each queue model
# ---------------------------------------------------------------------------------------------
def bench_pegged(books: dict) -> dict:
    print(f"\n1. One buy pegged to the best bid all day (re-pegs on every move: reacts to every event); "
          f"best of {REPEATS} interleaved rounds")
    out = {}
    for (ticker, level), book in books.items():
        orders = pegged_bid(book)
        fns = {q: (lambda q=q: replay(book, orders, queue=q)) for q in QUEUE_MODELS}
        results = {q: f() for q, f in fns.items()}  # warm-up (and the numbers reported)
        t = best_of(fns, REPEATS)
        print(f"  {label(ticker, level)}, {len(book):,} rows")
        for q in QUEUE_MODELS:
            best, med = t[q]
            rps = len(book) / best
            res = results[q]
            o = res.orders.iloc[0]
            print(f"    {q:<14} {best * 1e3:7.1f} ms  {rps:>12,.0f} rows/s  (target >= {TARGET_ROWS:,} rows/s: "
                  f"{verdict(rps >= TARGET_ROWS)});  {int(o['legs']):,} pegs, {len(res.fills):,} fills, "
                  f"{int(o['filled']):,} shares filled")
            out[(ticker, level, q)] = {"best": best, "median": med, "rows": len(book), "rps": rps,
                                       "legs": int(o["legs"])}
    return out


# ---------------------------------------------------------------------------------------------
# a. The same loop as plain Python, on a slice of each book
# ---------------------------------------------------------------------------------------------
def bench_plain_python(books: dict, fast: dict) -> None:
    if not kernel.have_numba():
        print("\na. numba is not installed: execlab's replay already runs the kernel as plain Python; "
              "no compiled-versus-Python comparison.")
        for (ticker, level, q), day in fast.items():
            record("replay", f"pegged bid all day, {label(ticker, level)} ({day['rows']:,} rows), {q}",
                   execlab_s=day["best"], execlab_median_s=day["median"], rows=day["rows"],
                   rows_per_second=day["rps"], baseline="", target=f">= {TARGET_ROWS:,} LOBSTER rows/s",
                   met=bool(day["rps"] >= TARGET_ROWS), note="numba not installed: plain-Python kernel")
        return
    print(f"\na. Baseline: the same kernel as plain Python (kernel().py_func and its helpers' py_func) through "
          f"the same replay call, on the first {PY_ROWS:,} rows; fills and order outcomes identical to the compiled "
          f"kernel's on those rows; best of {PY_REPEATS}")
    t_total = time.perf_counter()
    for (ticker, level), book in books.items():
        part = prefix(book, min(PY_ROWS, len(book)))
        orders = pegged_bid(part)
        for q in QUEUE_MODELS:
            compiled = replay(part, orders, queue=q)
            with plain_python():
                slow = replay(part, orders, queue=q)
            assert_same(compiled, slow, f"{label(ticker, level)} {q}")

            def run_py(q=q):
                with plain_python():
                    replay(part, orders, queue=q)

            t = best_of({"execlab": lambda q=q: replay(part, orders, queue=q), "python": run_py}, PY_REPEATS)
            py_rps = len(part) / t["python"][0]
            day = fast[(ticker, level, q)]
            ratio = day["rps"] / py_rps
            same_slice = t["python"][0] / t["execlab"][0]
            print(f"  {label(ticker, level):<14} {q:<14} plain Python {t['python'][0]:6.2f} s = {py_rps:>9,.0f} rows/s "
                  f"-> {faster(ratio, 'the plain-Python loop')} (on the same {len(part):,} rows, "
                  f"{t['execlab'][0] * 1e3:.1f} ms: {same_slice:.1f}x); {len(compiled.fills):,} fills identical")
            case = f"pegged bid all day, {label(ticker, level)} ({day['rows']:,} rows), {q}"
            record("replay", case, execlab_s=day["best"], execlab_median_s=day["median"], rows=day["rows"],
                   rows_per_second=day["rps"],
                   baseline=f"the same loop as plain Python (numba's py_func), rows/s on the first {len(part):,} rows, "
                            "scaled to the day; fills identical",
                   baseline_s=day["rows"] / py_rps, ratio=ratio, same_slice_ratio=same_slice,
                   target=f">= {TARGET_ROWS:,} LOBSTER rows/s", met=bool(day["rps"] >= TARGET_ROWS),
                   note=f"best of {REPEATS}; numba compile excluded")
    print(f"  (plain-Python baseline section: {time.perf_counter() - t_total:.1f} s)")


# ---------------------------------------------------------------------------------------------
# 2. Many short-lived orders
# ---------------------------------------------------------------------------------------------
def bench_many_orders(book: EventBook) -> None:
    orders = touch_orders(book, N_ORDERS)
    print(f"\n2. {N_ORDERS:,} child limit orders at the touch, 100 shares, cancelled after {LIFETIME.seconds} s, "
          f"sent through the day on {label(book.ticker, book.levels)}; best of {REPEATS} interleaved rounds")
    fns = {q: (lambda q=q: replay(book, orders, queue=q)) for q in QUEUE_MODELS}
    results = {q: f() for q, f in fns.items()}
    t = best_of(fns, REPEATS)
    sub = orders.iloc[:200]
    for q in QUEUE_MODELS:
        best, med = t[q]
        walked = rows_walked(book, orders, q)
        st = results[q].orders["status"].value_counts()
        # The plain-Python kernel on the first 200 orders gives the same fills (our orders share the book,
        # so a subset is its own case, run both ways).
        compiled = replay(book, sub, queue=q)
        if kernel.have_numba():
            with plain_python():
                slow = replay(book, sub, queue=q)
            assert_same(compiled, slow, f"many orders {q}")
        print(f"  {q:<14} {best * 1e3:7.1f} ms  {N_ORDERS / best:>9,.0f} orders/s  {walked / best:>12,.0f} rows walked/s "
              f"({walked:,} rows);  filled {st.get('filled', 0):,}, cancelled {st.get('cancelled', 0):,}")
        record("replay", f"{N_ORDERS:,} touch limits, 60 s lives, {label(book.ticker, book.levels)}, {q}",
               execlab_s=best, execlab_median_s=med, orders_per_second=N_ORDERS / best, rows_walked=walked,
               rows_per_second=walked / best, baseline="", target="", met=None,
               note=f"best of {REPEATS}; plain-Python kernel identical on the first {len(sub)} orders")
    print(f"  (the plain-Python kernel gave identical fills on the first {len(sub)} orders under every model)")


# ---------------------------------------------------------------------------------------------
# b. The peer: hftbacktest
# ---------------------------------------------------------------------------------------------
def peer_result(run_peer: bool) -> tuple[dict | None, str]:
    """The peer's JSON line and where it came from, or (None, why not)."""
    if run_peer and PEER_PYTHON.exists():
        print(f"  running {PEER_SCRIPT.name} with {PEER_PYTHON_NAME} ...", flush=True)
        proc = subprocess.run([str(PEER_PYTHON), str(PEER_SCRIPT)], capture_output=True, text=True, timeout=1800)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode == 0 and lines:
            return json.loads(lines[-1]), "measured in this run"
        print(f"  the peer script failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
    if PEER_JSON.exists():
        lines = [ln for ln in PEER_JSON.read_text().splitlines() if ln.strip().startswith("{")]
        if lines:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(PEER_JSON.stat().st_mtime))
            return json.loads(lines[-1]), f"read from {PEER_JSON.name}, written {when}, not in this run"
    ran = "its run failed" if run_peer and PEER_PYTHON.exists() else f"no {PEER_PYTHON_NAME}" if run_peer else "not run"
    return None, f"{ran}, and no {PEER_JSON_NAME}"


def bench_peer(book: EventBook, fast: dict, run_peer: bool) -> None:
    print("\nb. Peer: hftbacktest, one buy pegged at the best bid, risk-averse queue model, AAPL level 1")
    peer, source = peer_result(run_peer)
    case = f"pegged bid all day, {label(book.ticker, book.levels)} ({len(book):,} rows), risk_averse"
    target = "within 2x of hftbacktest (execlab rows/s >= 0.5x)"
    if peer is None:
        print(f"  hftbacktest was not measured ({source}). Measure it with `make bench-replay-peer`, then re-run "
              f"this script. Target ({target}): not checked.")
        day = fast[(book.ticker, book.levels, "risk_averse")]
        record("replay", case, execlab_s=day["best"], execlab_median_s=day["median"], rows=day["rows"],
               rows_per_second=day["rps"], baseline=PEER_BASELINE, target=target, met=None, status="not measured",
               note="hftbacktest not measured: run `make bench-replay-peer`, then this script")
        return
    if int(peer["rows"]) != len(book):
        raise AssertionError(f"the peer replayed {peer['rows']:,} rows but the {book!r} book has {len(book):,}: "
                             "not the same file")
    # execlab's comparable case, re-timed right after the peer (the machine's load drifts).
    orders = pegged_bid(book)
    replay(book, orders, queue="risk_averse")
    best, med = best_of({"execlab": lambda: replay(book, orders, queue="risk_averse")}, REPEATS)["execlab"]
    rps = len(book) / best
    peer_rps = float(peer["rows_per_second"])
    ratio = rps / peer_rps
    met = ratio >= 0.5
    version = peer.get("version", "?")
    print(f"  hftbacktest {version} ({source}): backtest {peer['backtest_seconds']:.3f} s = {peer_rps:,.0f} rows/s "
          f"(best of {len(peer.get('backtest_runs_seconds', [])) or '?'} after a warm-up; its conversion of the files, "
          f"{peer.get('convert_seconds', float('nan')):.3f} s, excluded), queue {peer.get('queue_model')}, "
          f"{peer.get('fills')} fills, {peer.get('submits')} submits, {peer.get('cancels')} cancels")
    legs = fast[(book.ticker, book.levels, "risk_averse")]["legs"]
    print(f"  execlab risk_averse, re-timed now: {best * 1e3:.1f} ms = {rps:,.0f} rows/s; comparable work: execlab "
          f"re-pegged into {legs:,} legs, hftbacktest submitted {peer.get('submits', 0):,} orders (its 100-share "
          "order is also replaced when filled)")
    print(f"  -> {faster(ratio, f'hftbacktest {version}')} (rows/s ratio {ratio:.2f}; target {target}: {verdict(met)})")
    record("replay", case, execlab_s=best, execlab_median_s=med, rows=len(book), rows_per_second=rps,
           baseline=PEER_BASELINE,
           baseline_s=float(peer["backtest_seconds"]), baseline_rows_per_second=peer_rps, ratio=ratio,
           target=target, met=bool(met), peer_version=version, peer_source=source,
           note=f"hftbacktest {version} {source}, own venv; not interleaved; its file conversion excluded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-peer-run", action="store_true",
                        help=f"do not run the peer; read {PEER_JSON.name} if it exists")
    args = parser.parse_args()
    print_machine()
    books = {(t, lv): EventBook.bundled(t, lv) for t, lv in BOOKS}
    first = books[("AAPL", 1)]
    t0 = time.perf_counter()
    replay(first, pegged_bid(first), queue="risk_averse")
    compile_s = time.perf_counter() - t0
    if kernel.have_numba():
        import numba

        print(f"numba {numba.__version__}: first replay call {compile_s:.2f} s (compiles the kernel or loads it from "
              "numba's cache), excluded from every timing below")
    else:
        print("numba is NOT installed: the kernel runs as plain Python (pip install execlab[replay])")
    fast = bench_pegged(books)
    bench_plain_python(books, fast)
    bench_many_orders(first)
    bench_peer(first, fast, run_peer=not args.no_peer_run)


if __name__ == "__main__":
    main()
