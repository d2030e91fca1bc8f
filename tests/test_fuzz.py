"""Fuzz suite: random and hostile input to every public entry point.

The contract (DEVELOPERS.md, STYLE.md section 3): each call either returns a
valid result, whose invariants are checked here, or raises ``ValueError`` /
``TypeError`` (``FileNotFoundError`` / ``IsADirectoryError`` for readers)
with a message naming one of the arguments or columns it was given.  Any
other exception, a wrapped integer, a NaN result or a message that names
nothing fails the test.

Hostile values: NaN, +-inf, negatives, zero, huge floats (1e19, 1e308),
huge integers (2**63), subnormals, text, bool, None, empty and wrongly shaped
arrays.  Examples are derandomized (tests/conftest.py) and sized so this file
runs in well under a minute on a loaded two-core machine.

Cases that find a bug in a module owned elsewhere are pinned as
``xfail(strict=True)`` with the exact reproduction, so the suite stays green
and flips to XPASS (a failure) the day the bug is fixed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import execlab as ex

from _four_bars import TZ, make_bars, market, ts  # tests/ is on sys.path under pytest

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(FAST, max_examples=25)

# ---------------------------------------------------------------------------
# Hostile values
# ---------------------------------------------------------------------------
HUGE_FLOATS = [1e19, 6e18, 2.0**63, 1e300, 1.7976931348623157e308, 5e-324, 2.0**52 + 1]
HOSTILE_SCALARS = st.one_of(
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HUGE_FLOATS + [2**63, 10**19, -(2**63) - 1, 0, -1, 0.5]),
    st.sampled_from(["10", "abc", "", None, True, [], [1, 2], object()]),
)
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from(HUGE_FLOATS + [0.0, -0.0, -1.0]),
    st.floats(0, 1e6),
)
SMALL_POSITIVE = st.one_of(st.integers(0, 10_000), st.floats(0, 1e6, allow_subnormal=True))


@st.composite
def hostile_arrays(draw, elements=FLOATS, max_len=6):
    """A 1-D or 2-D list of numbers, or something that is not a proper array at all."""
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        return draw(st.lists(elements, min_size=1, max_size=max_len))
    if kind == 6:
        n = draw(st.integers(1, 3))
        m = draw(st.integers(1, 4))
        return draw(st.lists(st.lists(elements, min_size=m, max_size=m), min_size=n, max_size=n))
    if kind == 7:
        return draw(st.sampled_from([[], [[]], [[1, 2], [3]], [[[1.0]]], "abc", ["1", "2"], None, [True, False]]))
    if kind == 8:
        return np.array(draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4)), dtype=np.uint64)
    return draw(elements)


def friendly_arrays(max_len=6):
    """Valid-looking numbers with a chance of one hostile value."""
    return st.one_of(
        st.lists(SMALL_POSITIVE, min_size=1, max_size=max_len),
        hostile_arrays(),
    )


def assert_names_an_argument(exc: BaseException, names) -> None:
    msg = str(exc)
    assert any(n in msg for n in names), f"message {msg!r} names none of {sorted(names)}"


def call(fn, kwargs, names, allowed=(ValueError, TypeError)):
    """Call ``fn(**kwargs)``: the result, or None after checking an allowed, naming error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # overflow/invalid inside a kernel is a bug
            return fn(**kwargs)
    except allowed as exc:
        assert_names_an_argument(exc, names)
        return None


# ---------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------
def check_schedule(s: ex.Schedule) -> None:
    """The laws of every schedule: int64, whole, non-negative, rows sum to quantity - unscheduled."""
    assert isinstance(s, ex.Schedule)
    assert s.shares.dtype == np.int64 and s.quantity.dtype == np.int64
    assert s.shares.ndim == 2 and s.shares.shape[0] == s.quantity.shape[0]
    assert (s.shares >= 0).all() and (s.unscheduled >= 0).all()
    assert (s.quantity <= 2**51).all()
    # Exact row sums that no int64 wrap can fake: 26-bit halves summed apart, joined as Python ints.
    hi, lo = (s.shares >> 26).sum(axis=1), (s.shares & (2**26 - 1)).sum(axis=1)
    exact = [(int(h) << 26) + int(low) for h, low in zip(hi, lo)]
    assert exact == [int(q) - int(u) for q, u in zip(s.quantity, s.unscheduled)]
    assert (s.remaining >= 0).all() and (np.diff(s.remaining, axis=1) <= 0).all()
    # A hand-built copy passes the public constructor's checks too.
    ex.Schedule(s.shares, s.quantity, s.algorithm, s.bin_duration, s.unscheduled)


def _bounded_width(n):
    """Keep a valid bin count small: the array is (orders, n) wide, so memory, not validation, limits it."""
    # A Python int beyond int64 is left as it is (np.isfinite cannot take it): the library must name it.
    if isinstance(n, (int, float)) and not isinstance(n, bool) and (isinstance(n, int) or np.isfinite(n)) \
            and 1000 < n < 2**63:
        return int(n) % 1000 + 1
    return n


QUANTITIES = st.one_of(
    st.lists(st.integers(0, 10**6), min_size=0, max_size=4),
    st.lists(st.integers(0, 2**51), min_size=1, max_size=3),
    hostile_arrays(),
    st.integers(0, 1000),
)
LOTS = st.one_of(st.just(1), st.integers(1, 1000), HOSTILE_SCALARS)
DURATIONS = st.one_of(st.none(), st.sampled_from(["1min", "5min", "0s", "-1min", "abc", 10**30, float("nan")]))


@FAST
@given(q=QUANTITIES, n=st.one_of(st.integers(1, 50), HOSTILE_SCALARS), lot=LOTS, dur=DURATIONS)
def test_fuzz_market_and_twap(q, n, lot, dur):
    n = _bounded_width(n)
    for fn, arg in ((ex.market, "n_bins"), (ex.twap, "n_slices")):
        kw = {"quantity": q, arg: n, "lot": lot, "bin_duration": dur}
        s = call(fn, kw, {"quantity", arg, "lot", "bin_duration"})
        if s is not None:
            check_schedule(s)
            assert s.shares.shape[1] == int(n)


@FAST
@given(q=QUANTITIES, profile=friendly_arrays(8), lot=LOTS)
@example(q=[1000], profile=[1e308, 1e308], lot=1)             # sum overflows to inf
@example(q=[1000], profile=[[1.7e308, 1.7e308, 1.0]], lot=1)  # per-order row, same
@example(q=[1000], profile=[5e-324, 5e-324], lot=1)           # subnormal: fractions underflow
@example(q=[2**51], profile=[1.0, 3.0, 1e-300], lot=7)
@example(q=[1000], profile=np.array([2**64 - 1, 1], dtype=np.uint64), lot=1)
def test_fuzz_vwap(q, profile, lot):
    s = call(ex.vwap, {"quantity": q, "profile": profile, "lot": lot}, {"quantity", "profile", "lot"})
    if s is not None:
        check_schedule(s)
        assert (s.unscheduled == 0).all()
        p = np.atleast_2d(np.asarray(profile, dtype=np.float64))
        assert (s.shares[np.broadcast_to(p == 0, s.shares.shape)] == 0).all()  # nothing where no volume


@FAST
@given(q=QUANTITIES, volume=friendly_arrays(8), rate=st.one_of(st.floats(0, 1), HOSTILE_SCALARS), lot=LOTS)
@example(q=[1000], volume=[6e18, 6e18], rate=1.0, lot=1)      # int64 cumulative sum wraps
@example(q=[10], volume=[1e19], rate=1.0, lot=1)              # cap beyond int64
@example(q=[10], volume=[1.7976931348623157e308] * 3, rate=1.0, lot=3)
@example(q=[2**51], volume=[2.0**52] * 5, rate=0.5, lot=1)
def test_fuzz_pov(q, volume, rate, lot):
    s = call(ex.pov, {"quantity": q, "volume": volume, "rate": rate, "lot": lot},
             {"quantity", "volume", "rate", "lot"})
    if s is not None:
        check_schedule(s)
        v = np.atleast_2d(np.asarray(volume, dtype=np.float64))
        assert (s.shares <= np.floor(float(rate) * v + 1e-6) + 0 * s.shares).all()  # never above the cap


AC_NAMES = {"quantity", "n_slices", "horizon", "sigma", "eta", "gamma", "risk_aversion", "epsilon", "lot"}
AC_PARAM = st.one_of(st.floats(0, 10), st.floats(1e-9, 1e-3), HOSTILE_SCALARS, hostile_arrays(max_len=3))


def _ac_call(q, n, horizon, sigma, eta, gamma, lam):
    kw = dict(quantity=q, n_slices=n, horizon=horizon, sigma=sigma, eta=eta, gamma=gamma, risk_aversion=lam)
    s = call(ex.almgren_chriss, kw, AC_NAMES)
    if s is not None:
        check_schedule(s)
    kw["quantity"] = q
    tr = call(ex.almgren_chriss_trajectory, kw, AC_NAMES)
    if tr is not None:
        for out in ("holdings", "trades", "kappa", "expected_cost", "variance"):
            assert np.isfinite(getattr(tr, out)).all(), out  # a model output is a number or an error
        assert (tr.variance >= 0).all()


@SLOW
@given(q=st.lists(st.integers(0, 10**6), min_size=1, max_size=3), n=st.integers(1, 20),
       horizon=st.floats(1e-3, 100), sigma=st.floats(0, 5), eta=st.floats(1e-7, 1e-2),
       gamma=st.floats(0, 1e-7), lam=st.floats(0, 1e-3))
def test_fuzz_almgren_chriss_ordinary_ranges(q, n, horizon, sigma, eta, gamma, lam):
    _ac_call(q, n, horizon, sigma, eta, gamma, lam)


@SLOW
@given(q=QUANTITIES, n=st.one_of(st.integers(1, 20), HOSTILE_SCALARS), horizon=AC_PARAM, sigma=AC_PARAM,
       eta=AC_PARAM, gamma=AC_PARAM, lam=AC_PARAM)
@example(q=[1000], n=5, horizon=5.0, sigma=1e300, eta=2.5e-6, gamma=2.5e-7, lam=1e-6)
def test_fuzz_almgren_chriss_hostile(q, n, horizon, sigma, eta, gamma, lam):
    n = _bounded_width(n)
    _ac_call(q, n, horizon, sigma, eta, gamma, lam)


@FAST
@given(shares=hostile_arrays(st.one_of(st.integers(0, 100), FLOATS, st.sampled_from([2**62, 2**63 - 1])), 6),
       quantity=hostile_arrays(st.one_of(st.integers(0, 300), FLOATS), 3),
       unscheduled=st.one_of(st.none(), hostile_arrays(st.integers(0, 10), 3)),
       algorithm=st.sampled_from(["manual", 3, None]), dur=DURATIONS)
@example(shares=[[2**62] * 4], quantity=[0], unscheduled=None, algorithm="manual", dur=None)  # int64 sum wraps to 0
@example(shares=[[1e19]], quantity=[1e19], unscheduled=None, algorithm="manual", dur=None)
def test_fuzz_hand_built_schedule(shares, quantity, unscheduled, algorithm, dur):
    s = call(ex.Schedule, {"shares": shares, "quantity": quantity, "algorithm": algorithm,
                           "bin_duration": dur, "unscheduled": unscheduled},
             {"shares", "quantity", "algorithm", "bin_duration", "unscheduled"})
    if s is not None:
        check_schedule(s)


# ---------------------------------------------------------------------------
# Market.from_bars: the four hand-worked bars with one cell, column or order spoiled
# ---------------------------------------------------------------------------
BAR_COLUMNS = ["time", "ticker", "volume", "vwap", "mid", "spread", "mid_open", "mid_close", "close"]
CELL_VALUES = st.one_of(FLOATS, st.sampled_from(["abc", None, True, 2**63, -5, 0]))


@st.composite
def spoiled_bars(draw):
    bars = make_bars(("XYZ", "ABC") if draw(st.booleans()) else ("XYZ",))
    how = draw(st.integers(0, 5))
    if how == 0:
        col = draw(st.sampled_from(BAR_COLUMNS[2:]))
        row = draw(st.integers(0, len(bars) - 1))
        bars[col] = bars[col].astype(object)
        bars.loc[row, col] = draw(CELL_VALUES)
    elif how == 1:
        col = draw(st.sampled_from(BAR_COLUMNS[2:]))
        bars[col] = draw(st.sampled_from([np.nan, -1.0, 1e19, 1e308, 0.0]))
    elif how == 2:
        bars = bars.drop(columns=draw(st.sampled_from(BAR_COLUMNS)))
    elif how == 3:
        bars = bars.sample(frac=1.0, random_state=draw(st.integers(0, 100))).reset_index(drop=True)
    elif how == 4:
        bars = pd.concat([bars, bars.iloc[[draw(st.integers(0, len(bars) - 1))]]], ignore_index=True)
    else:
        bars["time"] = draw(st.sampled_from([bars["time"].dt.tz_localize(None), bars["time"].astype(str),
                                             bars["time"].where(bars.index != 1)]))
    return bars


@SLOW
@given(bars=spoiled_bars())
def test_fuzz_market_from_bars(bars):
    m = call(ex.Market.from_bars, {"bars": bars, "open": "15:56"}, set(BAR_COLUMNS) | {"bars", "time"})
    if m is not None:
        for t in m.tickers:
            b = m.to_bars(t)
            assert (b["volume"] >= 0).all() and np.isfinite(b["mid"]).all()


# ---------------------------------------------------------------------------
# LOBSTER reader on random small files
# ---------------------------------------------------------------------------
@st.composite
def lobster_files(draw):
    """A small message file and its order book, valid unless one token is spoiled."""
    n = draw(st.integers(1, 5))
    times = sorted(draw(st.lists(st.floats(34200.5, 57599.5), min_size=n, max_size=n)))
    msg, book = [], []
    bid = draw(st.integers(100, 10**7))
    for t in times:
        size = draw(st.integers(1, 500))
        direction = draw(st.sampled_from([1, -1]))
        typ = draw(st.sampled_from([1, 1, 4, 5]))
        price = bid if direction == 1 else bid + 100
        msg.append(f"{t:.9f},{typ},{draw(st.integers(1, 10**6))},{size},{price},{direction}")
        book.append(f"{bid + 100},{draw(st.integers(1, 1000))},{bid},{draw(st.integers(1, 1000))}")
    msg, book = "\n".join(msg).encode() + b"\n", "\n".join(book).encode() + b"\n"
    spoil = draw(st.integers(0, 5))
    bad = draw(st.sampled_from([b"nan", b"", b"x", b"1e400", b"-1", b"99999999999999999999", b"1,2"]))
    if spoil == 0:
        msg = draw(st.binary(max_size=120))
    elif spoil == 1:
        book = draw(st.binary(max_size=120))
    elif spoil == 2:
        k = draw(st.integers(0, msg.count(b",") - 1))
        parts = msg.split(b",")
        parts[k + 1] = bad + parts[k + 1][parts[k + 1].find(b"\n"):] if b"\n" in parts[k + 1] else bad
        msg = b",".join(parts)
    elif spoil == 3:
        k = draw(st.integers(0, book.count(b",") - 1))
        parts = book.split(b",")
        parts[k + 1] = bad + parts[k + 1][parts[k + 1].find(b"\n"):] if b"\n" in parts[k + 1] else bad
        book = b",".join(parts)
    return msg, book


@pytest.fixture(scope="module")
def lobster_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("lobster")


@SLOW
@given(data=st.data())
def test_fuzz_read_lobster(lobster_dir, data):
    msg, book = data.draw(lobster_files())
    mf, bf = lobster_dir / "XYZ_2012-06-21_34200000_57600000_message_1.csv", lobster_dir / "XYZ_2012-06-21_34200000_57600000_orderbook_1.csv"
    mf.write_bytes(msg)
    bf.write_bytes(book)
    names = {mf.name, bf.name, "message", "orderbook", "Time", "Type", "OrderID", "Size", "Price", "Direction",
             "Ask", "Bid", "date", "ticker"}
    day = call(ex.read_lobster, {"message_file": mf, "orderbook_file": bf, "date": "2012-06-21", "ticker": "XYZ"},
               names, (ValueError, TypeError, FileNotFoundError, IsADirectoryError))
    if day is not None:
        seen = 0
        for frame in vars(day).values() if hasattr(day, "__dict__") else ():
            if isinstance(frame, pd.DataFrame) and len(frame):
                seen += 1
                num = frame.select_dtypes("number").to_numpy(dtype=np.float64)
                assert np.isfinite(num).all()
        assert seen, "a LOBSTER day with no frames"


def test_read_lobster_missing_and_directory(lobster_dir):
    with pytest.raises(FileNotFoundError, match="nope"):
        ex.read_lobster(lobster_dir / "nope_message.csv", lobster_dir / "nope_orderbook.csv", "2012-06-21", "XYZ")
    with pytest.raises((IsADirectoryError, ValueError)):
        ex.read_lobster(lobster_dir, lobster_dir, "2012-06-21", "XYZ")


# ---------------------------------------------------------------------------
# simulate / shortfall on the four hand-worked bars
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def four():
    return market()


ORDER_COLUMNS = {"order_id", "ticker", "side", "quantity", "decision_time", "algorithm", "orders", "schedule",
                 "fills", "market", "max_participation", "fee_per_share", "fee_per_order", "delay", "shares"}


@st.composite
def orders_and_schedule(draw):
    n = draw(st.integers(1, 3))
    qty = draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n))
    side = draw(st.lists(st.sampled_from(["BUY", "SELL"]), min_size=n, max_size=n))
    when = draw(st.lists(st.sampled_from(["15:56:00", "15:56:30", "15:58:00", "15:59:59"]), min_size=n, max_size=n))
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "ticker": "XYZ", "side": side,
                           "quantity": qty, "decision_time": [ts(w) for w in when], "algorithm": "twap"})
    kind = draw(st.integers(0, 2))
    sched = (ex.twap(qty, draw(st.integers(1, 5))) if kind == 0 else ex.market(qty, 2) if kind == 1
             else ex.pov(qty, [1000, 500, 0, 2000], rate=draw(st.floats(0.01, 1.0))))
    kw = {"max_participation": draw(st.one_of(st.none(), st.floats(0.01, 1))),
          "fee_per_share": draw(st.one_of(st.just(0.0), st.floats(0, 0.1))),
          "delay": draw(st.sampled_from(["0s", "20s"]))}
    spoil = draw(st.integers(0, 5))
    if spoil == 0:
        col = draw(st.sampled_from(["ticker", "side", "quantity", "decision_time"]))
        orders[col] = orders[col].astype(object)
        orders.loc[draw(st.integers(0, n - 1)), col] = draw(st.sampled_from(
            ["ABC", "buy", "HOLD", None, np.nan, -1, 1.5, 1e19, 2**51, ts("15:00:00"), ts("16:00:00"), "15:57"]))
    elif spoil == 1:
        key = draw(st.sampled_from(sorted(kw)))
        kw[key] = draw(st.sampled_from([0, -1, 2, np.nan, np.inf, "abc", "-5s"]))
    return orders, sched, kw


@SLOW
@given(case=orders_and_schedule())
def test_fuzz_simulate_and_shortfall(four, case):
    orders, sched, kw = case
    res = call(ex.simulate, {"orders": orders, "schedule": sched, "market": four, **kw}, ORDER_COLUMNS)
    if res is None:
        return
    o, f = res.orders.set_index("order_id"), res.fills
    assert (f["shares"] > 0).all() and np.isfinite(f["price"]).all() and (f["fee"] >= 0).all()
    filled = f.groupby("order_id")["shares"].sum().reindex(o.index, fill_value=0)
    assert (filled == o["filled"]).all()
    assert (o["filled"] <= o["quantity"]).all() and (o["filled"] + o["unfilled"] == o["quantity"]).all()
    if kw["max_participation"] is not None:
        per_bar = f.groupby(f["time"].dt.floor("1min"))["shares"].sum()
        volume = make_bars().set_index("time")["volume"]
        assert (per_bar <= np.floor(kw["max_participation"] * volume.reindex(per_bar.index)) + 1).all()
    table = call(ex.shortfall, {"orders": orders, "fills": f, "market": four}, ORDER_COLUMNS)
    if table is None:
        return
    parts = table["delay_cost"] + table["execution_cost"] + table["opportunity_cost"] + table["fees"]
    np.testing.assert_allclose(table["is_total"], parts, rtol=1e-9, atol=1e-6)
    assert (table["executed"] + table["unexecuted"] == table["quantity"]).all()


# ---------------------------------------------------------------------------
# Executor: random decisions against the four bars; the ledger must conserve value
# ---------------------------------------------------------------------------
DECISION_NAMES = {"ticker", "action", "position_size", "urgency", "time", "decisions", "portfolio_value"}


SPOILED_DECISION = {
    "ticker": ["ABC", "", None, 3],
    "action": ["buy", "SHORT", None],
    "position_size": [-1, np.nan, np.inf, 1e19, "5", 0, 101],
    "urgency": ["ASAP", None, 2],
    "time": [ts("09:00"), ts("16:30"), "not a time", None],
}


@st.composite
def decisions(draw):
    n = draw(st.integers(1, 3))
    out = []
    for _ in range(n):
        out.append({
            "ticker": draw(st.sampled_from(["XYZ", "ABC"])),
            "action": draw(st.sampled_from(["BUY", "SELL", "HOLD", "BUY"])),
            "position_size": draw(st.floats(0.01, 100)),
            "urgency": draw(st.sampled_from(["CRITICAL", "HIGH", "MEDIUM", "LOW"])),
            "time": ts(draw(st.sampled_from(["15:56", "15:57", "15:58:30", "15:59"]))),
        })
    if draw(st.integers(0, 3)) == 0:
        key = draw(st.sampled_from(sorted(SPOILED_DECISION)))
        out[draw(st.integers(0, n - 1))][key] = draw(st.sampled_from(SPOILED_DECISION[key]))
    return out


@pytest.fixture(scope="module")
def four_two():
    return market(tickers=("XYZ", "ABC"))


@SLOW
@given(ds=decisions(), value=st.one_of(st.floats(1e3, 1e8), st.sampled_from([0.0, -1.0, np.nan])))
def test_fuzz_executor(four_two, ds, value):
    exe = call(ex.Executor, {"market": four_two, "forecast": "same_session", "portfolio_value": value},
               DECISION_NAMES | {"cash"})
    if exe is None:
        return
    before = exe.ledger.copy()
    rep = call(exe.run, {"decisions": ds}, DECISION_NAMES)
    if rep is None:
        assert exe.ledger.equals(before)  # never a half-updated ledger
        return
    o = rep.orders
    if len(o):
        assert (o["filled"] <= o["quantity"]).all()
        assert (rep.fills.groupby("order_id")["shares"].sum().reindex(o.index, fill_value=0) == o["filled"]).all()
    assert exe.ledger.conserved() == pytest.approx(exe.ledger.initial_value(), rel=1e-9)
    for t in exe.ledger.tickers:
        assert exe.ledger.position(t) >= 0  # long-only by default


def test_executor_huge_portfolio_value_names_the_argument(four_two):
    exe = ex.Executor(four_two, forecast="same_session", portfolio_value=1e300)
    ds = [{"ticker": "XYZ", "action": "BUY", "position_size": 1.0, "urgency": "CRITICAL", "time": ts("15:56")}]
    call(exe.run, {"decisions": ds}, DECISION_NAMES)


# ---------------------------------------------------------------------------
# fit_impact on random meta-order frames
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def metaorders_frame():
    from execlab.synthetic import metaorders
    return metaorders(60, {"Y": 0.8, "delta": 0.5}, rng=1)


IMPACT_COLUMNS = ["quantity", "daily_volume", "sigma", "shortfall_bps", "side", "arrival_price", "avg_price",
                  "duration"]


@SLOW
@given(data=st.data(), model=st.sampled_from(["power", "sqrt", "linear", "almgren_chriss", "cubic"]))
def test_fuzz_fit_impact(metaorders_frame, data, model):
    df = metaorders_frame.copy()
    how = data.draw(st.integers(0, 5))  # 3-5: left as drawn
    if how == 0:
        col = data.draw(st.sampled_from(IMPACT_COLUMNS))
        df[col] = df[col].astype(object)
        df.loc[data.draw(st.integers(0, len(df) - 1)), col] = data.draw(CELL_VALUES)
    elif how == 1:
        df = df.drop(columns=data.draw(st.sampled_from(IMPACT_COLUMNS)))
    elif how == 2:
        df = df.iloc[: data.draw(st.integers(0, 3))]
    fit = call(ex.fit_impact, {"executions": df, "model": model},
               set(IMPACT_COLUMNS) | {"executions", "model", "shortfall", "price"})
    if fit is not None:
        assert np.isfinite(fit.params.to_numpy(dtype=float)).all()
