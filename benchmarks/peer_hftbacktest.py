"""Peer measurement: hftbacktest replaying one LOBSTER day event by event, with a pegged bid.

This gives the peer's side of the event-level order-book replay benchmark. It runs in a
separate virtual environment because hftbacktest 2.4.4 pins numpy below 2.3, and so it
does not import execlab. ``make bench-replay-peer`` builds that environment and runs this
script.

What is measured
----------------
1. **Conversion** (``convert_seconds``). The LOBSTER message and orderbook arrays are turned
   into hftbacktest's event array (``hftbacktest.types.event_dtype``). For each LOBSTER row,
   in this order:

   * a trade event for an execution (type 4 visible, type 5 hidden) at the message's price
     and size. The aggressor is the other side of the executed limit order: direction 1
     (a buy order was hit) gives a seller-initiated trade (``SELL_EVENT``), and direction -1
     gives ``BUY_EVENT``. hftbacktest expects trades before the depth change they cause.
   * depth events that make hftbacktest's book equal to the LOBSTER level-1 book after the
     row. For a side whose size changed at the same price, one event sets the new size. For
     a side whose price moved, one event sets the new level and a second event deletes the
     old level (quantity 0). The first row's book is sent as depth-snapshot events.

   Exchange and local timestamps are the same (no feed latency), in nanoseconds since the
   epoch. LOBSTER's seconds after midnight are counted from midnight of the session date in
   America/New_York. The conversion is timed as the best of ``--repeats`` runs. Reading
   the CSV files is timed once and reported on its own (``read_seconds``). Before the timed
   runs, one untimed check replay confirms that the best bid and ask (price and size) seen
   by a strategy equal the LOBSTER book after every timestamp
   (``book_checked_timestamps``).
2. **Backtest** (``backtest_seconds``). This covers building the backtest from the event
   array, replaying every event to the end of the data, and closing. The strategy (numba
   ``njit``) wakes on every feed event through ``wait_next_feed``. It keeps one buy limit
   order of ``--qty`` shares (post-only) at the best bid: if the best bid is not the order's
   price, it cancels the order and submits a new one at the best bid. A filled order is
   replaced the same way. Orders have a constant entry and response latency
   (``--latency-ns``, 0 by default). Settings: tick 0.01, lot 1, no partial fills, no fees,
   and hftbacktest's risk-averse queue model, or ``--queue-model power_prob`` for its
   power-probability model (``--power-n``). One warm-up run compiles the strategy and the
   bindings (numba JIT) and is not timed. The result is the best of ``--repeats`` timed
   runs (3 by default).

The script prints one JSON line. ``rows_per_second`` is LOBSTER message rows divided by
``backtest_seconds``.

What the conversion cannot carry
--------------------------------
* A level-1 file has only the best bid and ask. hftbacktest's book here is therefore one
  level deep on each side. Nothing is known below the best, and when the best moves back to
  an earlier price, that level gets the size the file shows at that moment. hftbacktest has
  no snapshot of the book before the first row either, so the first row's book stands in for
  it. From a deeper LOBSTER file (level N), only the first four orderbook columns are used.
  Its rows that change only deeper levels give no event and do not wake the strategy, but
  they still count in ``rows``.
* Hidden executions (type 5) become trades at their own price, and the queue model treats
  them like visible trades. Many of them come in the same nanosecond as a sweep of the
  visible bid at the same price: the sell went on into hidden liquidity after the whole
  displayed queue. Under display priority, a displayed order resting at that price would
  have traded. hftbacktest only subtracts the hidden size from the queue ahead, which is
  conservative. On AAPL these trades account for about a third of the fills (1,923 with
  them, 1,295 without, risk-averse model). hftbacktest rounds a price between ticks (a
  midpoint execution, e.g. 580.845) half away from zero to a tick (580.85).
* The strategy wakes once per distinct nanosecond timestamp, after all rows at that time.
  It does not wake once per row. hftbacktest reports the last timestamp of the data as the
  end of the data, so the strategy never sees it.

Run: ``make bench-replay-peer`` or
``benchmarks/.venv-hftbacktest/bin/python benchmarks/peer_hftbacktest.py [--queue-model power_prob]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numba
import numpy as np
import polars as pl
from numba import njit

import hftbacktest
from hftbacktest import (
    BUY_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EXCH_EVENT,
    GTX,
    LIMIT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
    ROIVectorMarketDepthBacktest,
)
from hftbacktest.types import event_dtype

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_STEM = "AAPL_2012-06-21_34200000_57600000_{kind}_1"
TZ = "America/New_York"
TICK_SIZE, LOT_SIZE = 0.01, 1.0
PRICE_SCALE = 10_000  # LOBSTER prices are USD x 10000
TICK_UNITS = round(TICK_SIZE * PRICE_SCALE)  # one tick in LOBSTER's price units
EMPTY_LEVEL = 9_999_999_999  # LOBSTER's price for an empty side (negative on the bid)
INVALID_MIN = np.iinfo(np.int64).min  # hftbacktest's best_bid_tick when the bid side is empty
INVALID_MAX = np.iinfo(np.int64).max  # and its best_ask_tick when the ask side is empty
ONE_DAY_NS = 86_400_000_000_000
# wait_next_feed return codes (hftbacktest docs): 1 end of data, 2 market feed received.
END_OF_DATA, MARKET_FEED = 1, 2
# order status (hftbacktest.order): what is no longer working in the exchange
FILLED, EXPIRED, CANCELED = 3, 2, 4


# ---------------------------------------------------------------------------------------
# Reading LOBSTER files
# ---------------------------------------------------------------------------------------
def find_data_dir() -> Path:
    """Look where execlab looks: $EXECLAB_DATA, then data/lobster, then ../shared/data/lobster."""
    if os.environ.get("EXECLAB_DATA"):
        return Path(os.environ["EXECLAB_DATA"])
    for place in (CHECKOUT / "data" / "lobster", CHECKOUT.parent / "shared" / "data" / "lobster"):
        if any(place.glob("*_message_*.csv*")):
            return place
    raise FileNotFoundError(
        f"no LOBSTER files in {CHECKOUT / 'data' / 'lobster'} or {CHECKOUT.parent / 'shared' / 'data' / 'lobster'}; "
        "set EXECLAB_DATA or pass --message and --orderbook"
    )


def default_file(kind: str) -> Path:
    directory = find_data_dir()
    for suffix in (".csv", ".csv.gz"):
        path = directory / (DEFAULT_STEM.format(kind=kind) + suffix)
        if path.exists():
            return path
    raise FileNotFoundError(f"{DEFAULT_STEM.format(kind=kind)}.csv(.gz) not found in {directory}")


def has_header(path: Path) -> bool:
    """Some public copies of LOBSTER's files have a header row; the originals do not."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as f:
        first = f.readline().split(",")[0].strip()
    try:
        float(first)
    except ValueError:
        return True
    return False


def read_csv(path: Path) -> np.ndarray:
    """The whole file as a 2-D array, columns by position (polars reads .csv.gz as is)."""
    frame = pl.read_csv(path, has_header=has_header(path), infer_schema_length=10_000)
    return frame.to_numpy()


def read_lobster(message: Path, orderbook: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Message time (float seconds), message integer columns, orderbook best levels (int64).

    The orderbook may be level N (4N columns): only its first four columns (the best
    ask and bid) are used.
    """
    msg = read_csv(message)
    book = read_csv(orderbook)
    if msg.ndim != 2 or msg.shape[1] < 6:
        raise ValueError(f"{message}: expected 6 columns (time, type, order id, size, price, direction), got {msg.shape}")
    if book.ndim != 2 or book.shape[1] < 4 or book.shape[1] % 4:
        raise ValueError(f"{orderbook}: expected 4N columns, got {book.shape[1]}")
    if len(msg) != len(book):
        raise ValueError(f"{message} has {len(msg)} rows but {orderbook} has {len(book)}; they must pair row by row")
    if len(msg) == 0:
        raise ValueError(f"{message} is empty")
    seconds = msg[:, 0].astype(np.float64)
    if np.any(np.diff(seconds) < 0):
        i = int(np.argmax(np.diff(seconds) < 0)) + 1
        raise ValueError(f"{message}: time goes backwards at row {i} ({seconds[i - 1]} then {seconds[i]})")
    return seconds, msg[:, 1:6].astype(np.int64), book[:, :4].astype(np.int64)


def session_midnight_ns(message: Path, date: str | None) -> int:
    """Midnight of the session date in New York, in ns since the epoch (the date from the file name unless given)."""
    if date is None:
        found = re.search(r"\d{4}-\d{2}-\d{2}", message.name)
        if not found:
            raise ValueError(f"no date (YYYY-MM-DD) in {message.name}; pass --date")
        date = found.group(0)
    midnight = datetime.fromisoformat(date).replace(tzinfo=ZoneInfo(TZ))
    return int(midnight.timestamp()) * 1_000_000_000


# ---------------------------------------------------------------------------------------
# LOBSTER rows -> hftbacktest events
# ---------------------------------------------------------------------------------------
def lobster_to_events(seconds: np.ndarray, msg: np.ndarray, book: np.ndarray, midnight_ns: int) -> np.ndarray:
    """hftbacktest event array for a LOBSTER level-1 pair (see the module docstring).

    Each row has up to five events, always in this order: trade, new bid level, deleted old
    bid level, new ask level, deleted old ask level. They are built as (rows, 5) arrays with
    a mask. Boolean indexing in row-major order keeps events in time order and keeps the
    order within a row.
    """
    n = len(seconds)
    # seconds after midnight to ns: the float is exact to far below 1 ns at these magnitudes
    ts = midnight_ns + np.rint(seconds * 1e9).astype(np.int64)
    kind, size, price, direction = msg[:, 0], msg[:, 2], msg[:, 3], msg[:, 4]
    ask_px, ask_sz, bid_px, bid_sz = book[:, 0], book[:, 1], book[:, 2], book[:, 3]

    ev = np.zeros((n, 5), np.uint64)
    px = np.zeros((n, 5), np.float64)
    qty = np.zeros((n, 5), np.float64)
    keep = np.zeros((n, 5), bool)
    both = np.uint64(EXCH_EVENT | LOCAL_EVENT)

    # Trades: the aggressor is the opposite side of the executed limit order.
    trade = (kind == 4) | (kind == 5)
    keep[:, 0] = trade
    ev[:, 0] = both | np.uint64(TRADE_EVENT) | np.where(direction == 1, np.uint64(SELL_EVENT), np.uint64(BUY_EVENT))
    px[:, 0] = price / PRICE_SCALE
    qty[:, 0] = size

    bad = np.flatnonzero(trade & (np.abs(direction) != 1))
    if len(bad):
        raise ValueError(f"message row {bad[0]}: an execution with direction {direction[bad[0]]}; expected 1 or -1")

    first = np.zeros(n, bool)
    first[0] = True
    depth_kind = np.where(first, np.uint64(DEPTH_SNAPSHOT_EVENT), np.uint64(DEPTH_EVENT))
    for col, side, lvl_px, lvl_sz in ((1, BUY_EVENT, bid_px, bid_sz), (3, SELL_EVENT, ask_px, ask_sz)):
        ok = (lvl_sz > 0) & (np.abs(lvl_px) != EMPTY_LEVEL)
        bad = np.flatnonzero(ok & (lvl_px % TICK_UNITS != 0))
        if len(bad):
            raise ValueError(f"orderbook row {bad[0]}: price {lvl_px[bad[0]]} is not a whole tick of {TICK_SIZE}")
        prev_px = np.concatenate(([lvl_px[0]], lvl_px[:-1]))
        prev_sz = np.concatenate(([lvl_sz[0]], lvl_sz[:-1]))
        prev_ok = np.concatenate(([False], ok[:-1]))
        moved = lvl_px != prev_px
        # the (new) best level, when it changed in price or size
        keep[:, col] = ok & (first | moved | (lvl_sz != prev_sz))
        ev[:, col] = both | depth_kind | np.uint64(side)
        px[:, col] = lvl_px / PRICE_SCALE
        qty[:, col] = lvl_sz
        # the old best level, deleted after the new one is set, so the book is never empty in between
        keep[:, col + 1] = prev_ok & (moved | ~ok)
        ev[:, col + 1] = both | np.uint64(DEPTH_EVENT) | np.uint64(side)
        px[:, col + 1] = prev_px / PRICE_SCALE
        qty[:, col + 1] = 0.0

    out = np.zeros(int(keep.sum()), event_dtype)
    out["ev"] = ev[keep]
    out["exch_ts"] = np.broadcast_to(ts[:, None], (n, 5))[keep]
    out["local_ts"] = out["exch_ts"]  # no feed latency
    out["px"] = px[keep]
    out["qty"] = qty[keep]
    return out


# ---------------------------------------------------------------------------------------
# Strategy: one buy order pegged to the best bid, re-pegged on every feed event
# ---------------------------------------------------------------------------------------
@njit
def peg_best_bid(hbt, order_qty):
    """Run to the end of the data; return (feed wake-ups, submits, cancels, fills)."""
    asset_no = 0
    tick_size = hbt.depth(asset_no).tick_size
    working = 0  # id of our working order; 0 when none
    next_id = 1
    feeds = 0
    submits = 0
    cancels = 0
    while True:
        rc = hbt.wait_next_feed(False, ONE_DAY_NS)
        if rc == END_OF_DATA:
            break
        if rc != MARKET_FEED:
            if rc < 0:
                raise RuntimeError("hftbacktest returned an error from wait_next_feed")
            continue
        feeds += 1
        bid_tick = hbt.depth(asset_no).best_bid_tick
        if working != 0:
            order = hbt.orders(asset_no).get(working)
            if order is None:
                working = 0
            elif order.status == FILLED or order.status == CANCELED or order.status == EXPIRED:
                working = 0
            elif order.price_tick != bid_tick and order.cancellable:
                hbt.cancel(asset_no, working, False)
                cancels += 1
                working = 0
            # else: our order is at the best bid, or a request on it is still in flight
        if working == 0 and bid_tick != INVALID_MIN:
            # post-only: never takes liquidity, even on a locked book
            hbt.submit_buy_order(asset_no, next_id, bid_tick * tick_size, order_qty, GTX, LIMIT, False)
            working = next_id
            next_id += 1
            submits += 1
        hbt.clear_inactive_orders(asset_no)
    return feeds, submits, cancels, hbt.state_values(asset_no).num_trades


@njit
def record_best_levels(hbt, out):
    """Check run (untimed): the book hftbacktest's strategy sees at every feed wake-up.

    Fills ``out`` with rows of (timestamp, best bid tick, bid qty, best ask tick, ask qty)
    and returns the number of rows written.
    """
    i = 0
    while hbt.wait_next_feed(False, ONE_DAY_NS) == MARKET_FEED:
        depth = hbt.depth(0)
        out[i, 0] = hbt.current_timestamp
        out[i, 1] = depth.best_bid_tick
        out[i, 3] = depth.best_ask_tick
        # qty_at_tick, not best_bid_qty: in 2.4.4 the ROI-vector binding's best_*_qty returns the price
        out[i, 2] = 0 if out[i, 1] == INVALID_MIN else np.int64(depth.bid_qty_at_tick(out[i, 1]))
        out[i, 4] = 0 if out[i, 3] == INVALID_MAX else np.int64(depth.ask_qty_at_tick(out[i, 3]))
        i += 1
    return i


def check_book(events: np.ndarray, seconds: np.ndarray, book: np.ndarray, midnight_ns: int, depth: str) -> int:
    """Check that the replayed best levels equal the LOBSTER book at every wake-up of the strategy.

    Raises ``AssertionError`` naming the first mismatch and returns the number of
    timestamps checked. hftbacktest reports the data's final timestamp as the end of
    data, not as a feed, so the strategy never sees that timestamp and it is not checked.
    """
    hbt = build_backtest(events, depth, "risk_averse", 3.0, 0)
    seen = np.zeros((len(seconds), 5), np.int64)
    n = record_best_levels(hbt, seen)
    hbt.close()
    seen = seen[:n]
    ts = midnight_ns + np.rint(seconds * 1e9).astype(np.int64)
    # the strategy wakes once per distinct event timestamp; rows of a deeper file that leave
    # the best levels alone give no event. LOBSTER's book after the last row at or before it:
    wake_ts = np.unique(events["exch_ts"])
    last_row = np.searchsorted(ts, wake_ts, side="right") - 1
    ask_px, ask_sz, bid_px, bid_sz = book[last_row].T
    bid_ok, ask_ok = bid_sz > 0, ask_sz > 0  # an empty side: hftbacktest's invalid tick, no quantity
    want = np.column_stack((wake_ts, np.where(bid_ok, bid_px // TICK_UNITS, INVALID_MIN), np.where(bid_ok, bid_sz, 0),
                            np.where(ask_ok, ask_px // TICK_UNITS, INVALID_MAX), np.where(ask_ok, ask_sz, 0)))
    if n != len(want) - 1:
        raise AssertionError(f"hftbacktest woke {n} times for {len(want)} distinct event timestamps")
    bad = np.flatnonzero(np.any(seen != want[:n], axis=1))
    if len(bad):
        raise AssertionError(f"book differs at timestamp {want[bad[0], 0]}: hftbacktest {seen[bad[0]]}, LOBSTER {want[bad[0]]}")
    return n


def build_backtest(events: np.ndarray, depth: str, queue_model: str, power_n: float, latency_ns: int):
    asset = (
        BacktestAsset()
        .data(events)  # hftbacktest reads the array in place: the caller keeps it alive
        .linear_asset(1.0)
        .constant_order_latency(latency_ns, latency_ns)
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(TICK_SIZE)
        .lot_size(LOT_SIZE)
        .last_trades_capacity(0)
    )
    if queue_model == "risk_averse":
        asset.risk_adverse_queue_model()  # (sic: hftbacktest's spelling)
    else:
        asset.power_prob_queue_model(power_n)
    if depth == "hashmap":
        return HashMapMarketDepthBacktest([asset])
    # ROI vector depth: a dense price ladder; the day's price range with a margin
    prices = events["px"][events["qty"] > 0]
    asset.roi_lb(np.floor(prices.min()) - 10.0).roi_ub(np.ceil(prices.max()) + 10.0)
    return ROIVectorMarketDepthBacktest([asset])


def run_once(events, depth, queue_model, power_n, latency_ns, qty) -> tuple[float, tuple[int, int, int, int]]:
    start = time.perf_counter()
    hbt = build_backtest(events, depth, queue_model, power_n, latency_ns)
    counts = peg_best_bid(hbt, qty)
    if hbt.close() != 0:
        raise RuntimeError("hftbacktest failed to close the backtest")
    return time.perf_counter() - start, tuple(int(c) for c in counts)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--message", type=Path, help="LOBSTER message file (.csv or .csv.gz); default AAPL 2012-06-21 level 1")
    parser.add_argument("--orderbook", type=Path, help="the matching LOBSTER orderbook file")
    parser.add_argument("--date", help="session date YYYY-MM-DD (default: from the message file name)")
    parser.add_argument("--queue-model", choices=("risk_averse", "power_prob"), default="risk_averse")
    parser.add_argument("--power-n", type=float, default=3.0, help="exponent of the power-probability queue model")
    parser.add_argument("--depth", choices=("hashmap", "roivec"), default="hashmap", help="hftbacktest's market-depth type")
    parser.add_argument("--latency-ns", type=int, default=0, help="constant order entry and response latency, ns")
    parser.add_argument("--qty", type=float, default=100.0, help="shares in the pegged buy order")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up; the best is reported")
    args = parser.parse_args(argv)
    if (args.message is None) != (args.orderbook is None):
        parser.error("give both --message and --orderbook, or neither")
    if args.repeats < 1 or args.latency_ns < 0 or not args.qty > 0:
        parser.error("--repeats must be >= 1, --latency-ns >= 0 and --qty > 0")
    message = args.message or default_file("message")
    orderbook = args.orderbook or default_file("orderbook")

    start = time.perf_counter()
    seconds, msg, book = read_lobster(message, orderbook)
    read_seconds = time.perf_counter() - start

    midnight = session_midnight_ns(message, args.date)
    convert_runs = []
    for _ in range(args.repeats):  # best of the same number of runs as the backtest
        start = time.perf_counter()
        events = lobster_to_events(seconds, msg, book, midnight)
        convert_runs.append(time.perf_counter() - start)
    convert_seconds = min(convert_runs)

    checked = check_book(events, seconds, book, midnight, args.depth)

    setup = (events, args.depth, args.queue_model, args.power_n, args.latency_ns, args.qty)
    run_once(*setup)  # warm-up: numba compiles the strategy and hftbacktest's jitclasses
    runs = [run_once(*setup) for _ in range(args.repeats)]
    if len({counts for _, counts in runs}) != 1:
        raise RuntimeError(f"runs disagree: {[counts for _, counts in runs]}")
    feeds, submits, cancels, fills = runs[0][1]
    best = min(elapsed for elapsed, _ in runs)

    rows = len(seconds)
    queue = args.queue_model if args.queue_model == "risk_averse" else f"power_prob(n={args.power_n:g})"
    result = {
        "peer": "hftbacktest",
        "version": hftbacktest.__version__,
        "rows": rows,
        "events": len(events),
        "convert_seconds": round(convert_seconds, 4),
        "backtest_seconds": round(best, 4),
        "rows_per_second": round(rows / best),
        "fills": fills,
        "queue_model": queue,
        "book_checked_timestamps": checked,
        # context for reading the numbers above
        "read_seconds": round(read_seconds, 4),
        "backtest_runs_seconds": [round(s, 4) for s, _ in runs],
        "depth": args.depth,
        "latency_ns": args.latency_ns,
        "order_qty": args.qty,
        "feed_wakeups": feeds,
        "submits": submits,
        "cancels": cancels,
        "message": message.name,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": sys.version.split()[0],
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
