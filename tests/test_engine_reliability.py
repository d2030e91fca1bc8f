"""Engine reliability: empty batches, threads, saved ledgers, int64 share counts, kill switch in time."""

import json
import sys
import threading

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab.engine import Ledger, RiskLimits, size_orders

TZ = "America/New_York"
T0 = pd.Timestamp("2012-06-21 10:00", tz=TZ)


@pytest.fixture(scope="module")
def bars():
    return ex.load_market("1min")


def d(ticker, action, size, urgency, time, **kw):
    t = pd.Timestamp(time)
    return {"ticker": ticker, "action": action, "position_size": size, "urgency": urgency,
            "time": t.tz_localize(TZ) if t.tz is None else t, **kw}


# ---------------------------------------------------------------------------------------- 1. empty batches
@pytest.mark.parametrize("decision, kw, reason", [
    (("AAPL", "HOLD", None, "LOW"), {}, "HOLD: no order"),
    (("AAPL", "BUY", 0.01, "HIGH"), {}, "zero shares: 0.01% of $100,000.00 at $"),
    (("AAPL", "SELL", 5, "HIGH"), {}, "nothing to sell: no sellable AAPL position"),
    (("AAPL", "BUY", 5, "HIGH"), {"portfolio_value": 0}, "zero shares: the start-of-day portfolio value is $0.00"),
])
def test_a_fresh_executor_whose_first_batch_places_nothing_skips_with_a_reason(bars, decision, kw, reason):
    exe = ex.Executor(bars, forecast="same_session", **({"portfolio_value": 100_000} | kw))
    rep = exe.process_ticker(*decision, time="2012-06-21 10:00", decision_id="only")
    assert rep.decisions["outcome"].tolist() == ["SKIPPED"]
    assert rep.skipped["reason"].iat[0].startswith(reason)
    assert len(rep.orders) == 0 and len(rep.fills) == 0 and len(exe.ledger.fills) == 0
    assert "Skipped:" in rep.summary()
    # and the executor works on afterwards
    if kw.get("portfolio_value") != 0:
        assert len(exe.process_ticker("AAPL", "BUY", 5, "CRITICAL", time="2012-06-21 10:05").orders) == 1


def test_negative_equity_is_an_error_at_the_decision(bars):
    exe = ex.Executor(bars, forecast="same_session", ledger=Ledger(-100.0))
    with pytest.raises(ValueError, match=r"decision 'b' \(row 0: BUY 5% of AAPL at 2012-06-21 10:00:00-04:00\): the "
                                         r"portfolio value at the start of 2012-06-21 is \$-100.00"):
        exe.process_ticker("AAPL", "BUY", 5, "HIGH", time="2012-06-21 10:00", decision_id="b")
    assert len(exe.book) == 0 and len(exe.ledger.fills) == 0
    # a HOLD sizes nothing, so it is still a skipped row
    assert exe.process_ticker("AAPL", "HOLD", None, "LOW", time="2012-06-21 10:00").decisions["outcome"].iat[0] == "SKIPPED"
    with pytest.raises(ValueError, match=r"portfolio_value == -100.0, must be finite and >= 0"):
        size_orders(-100.0, np.array([5.0]), np.array([100.0]))


# ---------------------------------------------------------------------------------------- 2. threads
def _batches(n_threads, n_runs):
    rng = np.random.default_rng(11)
    out = []
    for t in range(n_threads):
        for r in range(n_runs):
            out.append((t, [d(str(rng.choice(["AAPL", "AMZN", "GOOG"])), "BUY", round(float(rng.uniform(0.5, 2)), 2),
                              str(rng.choice(["CRITICAL", "HIGH", "MEDIUM"])),
                              T0 + pd.Timedelta(seconds=int(rng.integers(0, 5 * 3600))), decision_id=f"t{t}r{r}k{k}")
                            for k in range(3)]))
    return out


def test_threads_sharing_one_executor_equal_a_sequential_replay(bars):
    kw = dict(forecast="same_session", cash=1_000_000, max_participation=0.1, fee_per_order=0.5)
    shared = ex.Executor(bars, **kw)
    batches = _batches(4, 4)
    errors, reports = [], []
    start = threading.Barrier(4)

    def worker(t):
        start.wait()
        try:
            for tt, b in batches:
                if tt == t:
                    reports.append(shared.run(b))
        except Exception as exc:  # noqa: BLE001 -- any error is a failure of the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    seq = ex.Executor(bars, **kw)
    for _, b in batches:
        seq.run(b)
    a, b = shared.ledger, seq.ledger
    assert len(a.fills) == len(b.fills) == sum(len(r.fills) for r in reports)
    pd.testing.assert_frame_equal(a.positions.sort_index(), b.positions.sort_index(), check_exact=False, rtol=1e-10)
    assert a.cash == pytest.approx(b.cash, rel=1e-12)
    assert a.conserved() == pytest.approx(a.initial_value())
    # every reported fill is in the ledger, and the book agrees with both
    assert (shared.book.parents["filled"].sum() == sum(int(r.fills["shares"].sum()) for r in reports))
    assert sorted(shared.book.parents["decision_id"]) == sorted(x["decision_id"] for _, bb in batches for x in bb)


def test_threads_booking_into_one_ledger_lose_nothing():
    L = Ledger(0.0)
    # each thread books its own ticker in time order: an update lost to a race is never repaired by a replay
    rows = [pd.DataFrame({"time": [T0 + pd.Timedelta(seconds=i)], "ticker": [f"X{i % 4}"], "shares": [1 + i % 3],
                          "price": [100.0 + i % 7], "fee": [0.1]}) for i in range(400)]

    def worker(part):
        for f in part:
            L.apply_fills(f)

    threads = [threading.Thread(target=worker, args=(rows[i::4],)) for i in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so an unguarded read-modify-write would interleave
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(interval)
    ref = Ledger(0.0)
    ref.apply_fills(pd.concat(rows, ignore_index=True))
    assert len(L.fills) == 400
    pd.testing.assert_frame_equal(L.positions.sort_index(), ref.positions.sort_index(), check_exact=False, rtol=1e-12)
    assert L.cash == pytest.approx(ref.cash, rel=1e-12)


# ---------------------------------------------------------------------------------------- 3. saved ledgers
@pytest.fixture()
def saved(tmp_path):
    L = Ledger(10_000.0, {"Y": (5, 20.0)})
    L.apply_fills(pd.DataFrame({"time": [T0, T0 + pd.Timedelta("1min"), T0 + pd.Timedelta("2min")],
                                "ticker": ["X", "X", "Y"], "shares": [10, -4, -5], "price": [100.0, 110.0, 21.0],
                                "fee": [1.0, 1.0, 0.5], "order_id": [1, 1, 2]}))
    path = L.save(tmp_path / "ledger.json")
    return L, path


def _edit(path, fn):
    d = json.loads(path.read_text())
    fn(d)
    path.write_text(json.dumps(d))
    return path


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.__setitem__("cash", 123.0), r"field 'cash' is 123.0 but the opening state and the 3 fills give 9"),
    (lambda d: d["shares"].__setitem__(0, 60), r"field 'shares' of 'Y' is 60 but the opening state and the 3 fills give 0"),
    (lambda d: d["fills"]["price"].__setitem__(0, 1000.0), r"field 'cash' is .* but the opening state and the 3 fills give"),
    (lambda d: d.__setitem__("cash", float("nan")), r"field 'cash' is nan, must be finite"),
    (lambda d: d["avg_cost"].__setitem__(1, float("inf")), r"field 'avg_cost' has inf at index 1, must be finite"),
    (lambda d: d["fills"].pop("price"), r"field 'fills.price' is missing"),
    (lambda d: d["initial"].pop("cash"), r"field 'initial.cash' is missing"),
    (lambda d: d["fills"]["shares"].__setitem__(0, 2**64), r"field 'fills.shares' == 18,446,744,073,709,551,616 at index 0, outside the int64"),
    (lambda d: d["fills"]["fee"].__setitem__(0, -1.0), r"field 'fills.fee' has -1.0 at row 0; must be >= 0"),
    (lambda d: d["fills"]["ticker"].pop(), r"field 'fills.time_ns_utc' has 3 values for 2 entries"),
])
def test_tampered_or_broken_ledger_files_are_refused_naming_the_field(saved, edit, match):
    _, path = saved
    with pytest.raises(ValueError, match=r"ledger file '.*ledger.json': " + match):
        Ledger.load(_edit(path, edit))


def test_truncated_ledger_file_names_the_file_and_position(saved):
    L, path = saved
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"ledger file '.*ledger.json' is not valid JSON at line 1, column \d+ "
                                         r"\(character \d+ of \d+\): .*truncated or corrupt"):
        Ledger.load(path)


def test_untouched_file_loads_exactly(saved):
    L, path = saved
    assert Ledger.load(path).equals(L)


# ---------------------------------------------------------------------------------------- 5. int64 share counts
def test_sizing_past_int64_raises_instead_of_wrapping(bars):
    with pytest.raises(ValueError, match=r"portfolio_value == \$1e\+30 with position_size == 5% at \$100.00 asks for 5e\+26 shares, more than an order may hold"):
        size_orders(1e30, np.array([5.0]), np.array([100.0]))
    exe = ex.Executor(bars, forecast="same_session", portfolio_value=1e25)
    with pytest.raises(ValueError, match="more than an order may hold"):
        exe.process_ticker("AAPL", "BUY", 5, "HIGH", time="2012-06-21 10:00")
    assert len(exe.book) == 0 and len(exe.ledger.fills) == 0


def test_ledger_positions_past_int64_raise_and_change_nothing():
    big = 2**62
    L = Ledger(0.0, {"X": (big, 1.0)})
    before = L.to_dict()
    f = pd.DataFrame({"time": [T0, T0], "ticker": ["X", "X"], "shares": [big, big], "price": [1.0, 1.0]})
    with pytest.raises(ValueError, match=r"position of 'X' would reach 9,223,372,036,854,775,808 shares, outside the int64"):
        L.apply_fills(f)
    assert L.to_dict() == before
    with pytest.raises(ValueError, match=r"positions: shares == 9,223,372,036,854,775,808 for 'X', outside the int64"):
        Ledger(0.0, {"X": 2**63})
    with pytest.raises(ValueError, match=r"fills column 'shares' == 1e\+19 at row 0, outside the int64"):
        L.apply_fills(f.head(1).assign(shares=1e19))


# ---------------------------------------------------------------------------------------- 8. time order, kill switch
def test_fills_are_never_before_their_order_arrives(bars):
    t = pd.Timestamp("2012-06-21 10:00:30", tz=TZ)
    exe = ex.Executor(bars, forecast="same_session", ledger=Ledger(100_000.0, start_time=t), delay="2s")
    rep = exe.run([d("AAPL", "BUY", 5, "CRITICAL", t, decision_id="c"), d("GOOG", "BUY", 5, "HIGH", t, decision_id="h")])
    assert len(exe.ledger.fills) == len(rep.fills) > 0
    assert (rep.fills["time"] >= t + pd.Timedelta("2s")).all()
    assert (pd.DatetimeIndex(rep.children["release_time"]) >= t + pd.Timedelta("2s")).all()
    h = rep.history
    assert (h["time"] >= t).all()
    with pytest.raises(ValueError, match=r"column 'time' has 2012-06-21 10:00:00-04:00 at row 0, before the ledger's start"):
        exe.process_ticker("AAPL", "BUY", 1, "HIGH", time="2012-06-21 10:00")


KILL = pd.Timestamp("2012-06-21 10:10", tz=TZ)


@pytest.mark.parametrize("cap", [None, 0.0005])
def test_kill_switch_stops_working_risk_adding_orders_from_its_time(bars, cap):
    kw = dict(forecast="same_session", cash=1_000_000, positions={"GOOG": (200, 570.0)}, max_participation=cap)
    dec = [d("AAPL", "BUY", 20, "MEDIUM", "2012-06-21 10:00", decision_id="add"),      # 30-min TWAP: adds risk
           d("GOOG", "SELL", 5, "MEDIUM", "2012-06-21 10:00", decision_id="reduce"),   # sells a held position
           d("AMZN", "BUY", 1, "HIGH", "2012-06-21 10:15", decision_id="late")]        # after the kill
    exe = ex.Executor(bars, **kw)
    exe.activate_kill_switch("desk halt", time=KILL)
    rep = exe.run(dec)
    f = rep.fills.set_index("decision_id")
    assert (f.loc[["add"], "time"] < KILL).all()  # nothing of the risk-adding order at or after the kill
    assert (f.loc[["reduce"], "time"] >= KILL).any()  # the risk-reducing one works on
    o = rep.orders.set_index("decision_id")
    assert o.loc["add", "status"] == "CANCELLED" and 0 < o.loc["add", "filled"] < o.loc["add", "quantity"]
    assert rep.blocked.set_index("decision_id").loc["late", "rule"] == "kill_switch"
    assert "kill switch active since 2012-06-21 10:10:00-04:00: desk halt" in rep.blocked["reason"].iat[0]
    ch = rep.children[rep.children["decision_id"] == "add"]
    after = ch[pd.DatetimeIndex(ch["release_time"]) >= KILL]
    assert len(after) and (after["status"] == "CANCELLED").all() and (after["filled"] == 0).all()
    assert after["reason"].str.startswith("kill switch at 2012-06-21 10:10:00-04:00: desk halt; unfilled: ").all()
    assert (pd.DatetimeIndex(after["updated"]) == KILL).all()
    assert exe.ledger.position("AAPL") == o.loc["add", "filled"]
    assert exe.ledger.conserved() == pytest.approx(exe.ledger.initial_value())
    # the same decisions one at a time around the switch give the same fills
    one = ex.Executor(bars, **kw)
    one.activate_kill_switch("desk halt", time=KILL)
    fills = pd.concat([one.run([x]).fills for x in dec])
    if cap is None:  # a participation cap is shared inside a batch only
        cols = ["decision_id", "time", "shares", "price"]
        pd.testing.assert_frame_equal(rep.fills[cols].reset_index(drop=True), fills[cols].reset_index(drop=True),
                                      check_dtype=False)


def test_kill_switch_cannot_recall_booked_fills(bars):
    exe = ex.Executor(bars, forecast="same_session", cash=1_000_000)
    exe.process_ticker("AAPL", "BUY", 20, "MEDIUM", time="2012-06-21 10:00", decision_id="a")
    with pytest.raises(ValueError, match=r"time == 2012-06-21 10:10:00-04:00 is before fills already booked for "
                                         r"risk-adding order 0 \(AAPL"):
        exe.activate_kill_switch("too late", time=KILL)
    assert not exe.risk.kill_switch_active
    exe.activate_kill_switch("after the order", time="2012-06-21 11:00")  # naive: the market's zone
    rep = exe.process_ticker("AAPL", "BUY", 1, "HIGH", time="2012-06-21 11:00")
    assert rep.blocked["rule"].tolist() == ["kill_switch"]
