"""The compiled per-fill TCA pass against its numpy reference: the same per-fill metrics bit for bit, the same orders.

``execlab._tca._fill_loop.fill_loop`` repeats, fill by fill, the float operations of the numpy path
(``_metrics._PerFill``) and adds every per-order sum in the same pass.  These tests run ``tca`` both
ways on the same input (the numpy path by switching the compiled one off) and compare everything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import execlab._orders as _orders
from execlab._compiled import have_numba
from execlab._tca import _metrics, tca

from _four_bars import make_bars, market, ts

if not have_numba():  # without the compiled pass both runs below would take the numpy path
    pytest.skip("numba is not installed or EXECLAB_NO_NUMBA is set", allow_module_level=True)


def _both(orders: pd.DataFrame, fills: pd.DataFrame, mkt, **kw):
    """``tca`` with the compiled passes (fill rules, fill metrics), then with the numpy path (both switched off)."""
    compiled = tca(orders, fills, mkt, **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_metrics, "jit", lambda fn: None)
        mp.setattr(_orders, "jit", lambda fn: None)
        reference = tca(orders, fills, mkt, **kw)
    return compiled, reference


def _same(a, b) -> None:
    # Per fill: the same operations in the same order, so the same bits.
    pd.testing.assert_frame_equal(a.fills, b.fills, check_exact=True)
    # Per order: sums over fills, added fill by fill (compiled) or by chunk subtotals (numpy).
    pd.testing.assert_frame_equal(a.orders, b.orders, check_exact=False, rtol=1e-12, atol=1e-9)
    pd.testing.assert_frame_equal(a.rejected, b.rejected)


def test_desk_blotter_compiled_equals_numpy():
    """A SYNTHETIC desk's quarter: brokers, algorithms, many fills per order, fills interleaved across orders."""
    bars = make_bars(("XYZ", "ABC"))
    mkt = market(bars, ("XYZ", "ABC"))
    rng = np.random.default_rng(7)
    n = 40
    arrival = ts("15:56") + pd.to_timedelta(rng.integers(0, 180, n), unit="s")
    orders = pd.DataFrame({"order_id": np.arange(n), "ticker": rng.choice(["XYZ", "ABC"], n),
                           "side": rng.choice(["BUY", "SELL"], n), "quantity": 10_000,
                           "decision_time": arrival, "broker": rng.choice(["A", "B"], n)})
    k = rng.integers(1, 30, n)
    oi = np.repeat(np.arange(n), k)
    t = arrival.take(oi) + pd.to_timedelta(rng.integers(0, 240, oi.size), unit="s")
    t = t.where(t <= ts("16:00"), ts("16:00"))           # some at the close itself: rejected, both ways alike
    perm = rng.permutation(oi.size)                      # fills interleaved across orders
    fills = pd.DataFrame({"order_id": oi[perm], "time": t.take(perm),
                          "shares": rng.integers(1, 300, oi.size)[perm],
                          "price": np.round(100 + rng.normal(0, 0.3, oi.size), 2)[perm],
                          "fee": rng.uniform(-0.5, 1, oi.size)[perm]})
    a, b = _both(orders, fills, mkt, markout_horizons=("30s", "1min", "2min", "close"))
    assert len(a.fills) > 300 and a.orders["n_fills"].sum() == len(a.fills)
    _same(a, b)
    sorted_fills = fills.sort_values(["order_id", "time"], kind="stable")   # grouped by order: runs
    _same(*_both(orders, sorted_fills, mkt, markout_horizons=("30s", "1min", "2min", "close")))
    # per-order results only (the Dask path's setting): no per-fill block, the same orders
    a, b = _both(orders, fills, mkt, keep_fills=False)
    assert a.fills is None and b.fills is None
    pd.testing.assert_frame_equal(a.orders, b.orders, check_exact=False, rtol=1e-12, atol=1e-9)


def test_sparse_order_bar_keys_and_fills_before_the_open(monkeypatch):
    """The (order, bar) shares by sorted keys instead of a dense grid; an order that arrives before the open
    (its fills from the open on are measured, one before the open is rejected)."""
    monkeypatch.setattr(_metrics, "_GRID_CELLS", -10**9)
    mkt = _gappy_market()
    orders = pd.DataFrame({"order_id": [1, 2], "ticker": "XYZ", "side": ["BUY", "SELL"], "quantity": [900, 900],
                           "decision_time": [ts("15:50"), ts("15:56:30")]})
    fills = pd.DataFrame({"order_id": [1, 2, 1, 2, 1], "shares": [100, 200, 300, 100, 200],
                          "time": [ts("15:55"), ts("15:57"), ts("15:56:10"), ts("15:59:59"), ts("15:58")],
                          "price": [99.9, 100.2, 100.0, 100.7, 100.4]})
    a, b = _both(orders, fills, mkt, markout_horizons=("1min", "5min", "close"))
    _same(a, b)
    # 15:55 is before the open (15:56): no bar to measure it against, so it is rejected with its reason
    assert a.rejected[["row", "reason"]].values.tolist() == [[0, "before the open"]]
    assert len(a.fills) == 4 and a.fills["mid"].iloc[0] == 100.20   # order 2's 15:57 fill, bar 1


def test_zero_spread_bar_gives_nan_spread_paid_both_ways():
    bars = make_bars()
    bars.loc[1, "spread"] = 0.0
    mkt = market(bars)
    orders = pd.DataFrame({"order_id": [1], "ticker": "XYZ", "side": "BUY", "quantity": [500],
                           "decision_time": [ts("15:56")]})
    fills = pd.DataFrame({"order_id": [1, 1], "time": [ts("15:56:10"), ts("15:57:10")], "shares": [200, 300],
                          "price": [100.0, 100.3]})
    a, b = _both(orders, fills, mkt)
    _same(a, b)
    assert np.isnan(a.fills["spread_paid"].iloc[1]) and not np.isnan(a.fills["spread_paid"].iloc[0])
    # the order's mean spread_paid leaves the NaN fill out: 200 shares only
    assert a.orders["spread_paid"].iloc[0] == pytest.approx(a.fills["spread_paid"].iloc[0])


def _gappy_market():
    """The four bars with each bar's opening mid apart from the previous bar's closing mid, so that reading the
    mid at a bar's edge from the wrong bar shows."""
    bars = make_bars()
    bars["mid_open"] = [99.90, 100.14, 100.27, 100.56]
    return market(bars)


def test_a_horizon_ending_on_a_bar_edge_reads_the_next_bar():
    orders = pd.DataFrame({"order_id": [1], "ticker": "XYZ", "side": "BUY", "quantity": [500],
                           "decision_time": [ts("15:56")]})
    fills = pd.DataFrame({"order_id": [1, 1], "time": [ts("15:56:01"), ts("15:56:59.999")], "shares": [200, 300],
                          "price": [100.0, 100.1]})
    a, b = _both(orders, fills, _gappy_market(), markout_horizons=("59s", "1ms", "1min"))
    _same(a, b)
    # 15:56:01 + 59 s = 15:57:00: bar 1's opening mid, 100.14 (not bar 0's closing 100.10)
    mid = a.fills["mid"].iloc[0]
    assert a.fills["markout_59s_bps"].iloc[0] == pytest.approx(1e4 * (100.0 - 100.14) / mid)
    assert a.fills["markout_1min_bps"].iloc[0] == pytest.approx(1e4 * (100.0 - (100.14 + 0.16 / 60)) / mid)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 239_999), st.integers(1, 500),
                          st.integers(-300, 300)), min_size=1, max_size=40),
       st.lists(st.sampled_from(["1ms", "1s", "59s", "1min", "61s", "3min", "10min", "close"]), min_size=1,
                max_size=5, unique=True))
def test_random_fills_and_horizons_compiled_equals_numpy(rows, horizons):
    """Any fill times (bar edges, the close), any horizons (shorter than a bar, past the close), both ways."""
    mkt = _gappy_market()
    orders = pd.DataFrame({"order_id": [0, 1, 2], "ticker": "XYZ", "side": ["BUY", "SELL", "BUY"],
                           "quantity": [10**6] * 3, "decision_time": [ts("15:56")] * 3})
    fills = pd.DataFrame({"order_id": [r[0] for r in rows],
                          "time": [ts("15:56") + pd.Timedelta(milliseconds=r[1] // 1000 * 1000 if r[1] % 2 else r[1])
                                   for r in rows],   # half on whole seconds: t + h often on a bar's edge
                          "shares": [r[2] for r in rows], "price": [100 + r[3] / 100 for r in rows]})
    _same(*_both(orders, fills, mkt, markout_horizons=horizons))


# ---------------------------------------------------------------------------
# The fill rules (reject mode) in one compiled pass against the numpy rules
# ---------------------------------------------------------------------------
def _rules_both(orders: pd.DataFrame, fills: pd.DataFrame, mkt):
    """``check_executions``' rejected rows and accepted fills with the compiled rule pass, then with the numpy one."""
    from execlab._tca import check_executions

    compiled = check_executions(orders, fills, mkt)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_orders, "jit", lambda fn: None)
        reference = check_executions(orders, fills, mkt)
    return compiled, reference


def _rules_same(a, b) -> None:
    assert len(a) == len(b) == 3
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_every_fill_reason_compiled_equals_numpy():
    """Each rule the compiled pass applies, one row each, and rows breaking two rules (the first one wins)."""
    mkt = market()
    orders = pd.DataFrame({"order_id": [1, 2, 3, 4], "ticker": "XYZ", "side": ["BUY", "SELL", "BUY", "BUY"],
                           "quantity": [1000, 1000, 50, 100],
                           "decision_time": [ts("15:56"), ts("15:57"), ts("15:56"), ts("15:50")],  # 4: before the open
                           "end_time": [pd.NaT, ts("15:59"), pd.NaT, pd.NaT]})
    t = [ts("15:56:10"), ts("15:56:30"), ts("15:59:30"), pd.NaT, ts("15:57"), ts("15:57"), ts("15:57"), ts("15:57"),
         ts("16:00"), ts("15:58"), ts("15:58"), ts("15:57"), ts("15:55"), ts("15:58"), ts("15:58"), ts("15:55")]
    fills = pd.DataFrame({
        "fill_id": np.arange(16),
        "order_id": [1, 2, 2, 1, 1, 1, 1, 1, 1, 3, 3, 1, 1, 99, 1, 4],
        "ticker": ["XYZ"] * 4 + ["ABC"] + ["XYZ"] * 11,
        #            ok  early late NaT  tick  sh0  sh.5  px   close over over  fee  early unk  dup-id open
        "shares": [100, 10, 10, 10, 10, 0, 0.5, 10, 10, 40, 40, 10, 10, 10, 10, 10],
        "price": [100.0, 100, 100, 100, 100, 100, 100, np.nan, 100, 100, 100, 100, 100, 100, 100, 100],
        "fee": [0.0] * 11 + [np.nan, 0.0, 0.0, 0.0, 0.0],
        "time": pd.DatetimeIndex(t),
    })
    fills.loc[14, "fill_id"] = 0
    a, b = _rules_both(orders, fills, mkt)
    _rules_same(a, b)
    got = dict(zip(a[2].query("table == 'fills'")["row"], a[2].query("table == 'fills'")["reason"]))
    assert got == {1: "before arrival", 2: "after the order's end", 3: "time missing",
                   4: "ticker differs from the order's", 5: "shares not a whole number > 0",
                   6: "shares not a whole number > 0", 7: "price not > 0", 8: "after the close", 10: "overfill",
                   11: "fee not finite", 12: "before arrival", 13: "unknown order_id", 14: "duplicate fill_id",
                   15: "before the open"}


@pytest.mark.parametrize("with_ids", [False, True])
def test_overfill_from_the_compiled_share_totals(with_ids):
    """No repeated fill id, so the overfill rule reads the totals the compiled pass added (not a recount)."""
    mkt = market()
    orders = pd.DataFrame({"order_id": [1, 2], "ticker": "XYZ", "side": ["BUY", "SELL"], "quantity": [100, 50],
                           "decision_time": ts("15:56")})
    fills = pd.DataFrame({"order_id": [1, 2, 1, 2, 1, 2], "shares": [60, 30, 30, 30, 20, 5], "price": 100.0,
                          "time": [ts("15:56:10"), ts("15:56:20"), ts("15:57"), ts("15:57:30"), ts("15:58"),
                                   ts("15:59")]})
    if with_ids:
        fills["fill_id"] = np.arange(6)
    a, b = _rules_both(orders, fills, mkt)
    _rules_same(a, b)
    assert a[2][["row", "reason"]].values.tolist() == [[3, "overfill"], [4, "overfill"], [5, "overfill"]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_bad_fills_compiled_rules_equal_numpy(seed):
    """Thousands of rows mixing every kind of bad value, unknown and rejected orders, early, late and missing times,
    other zones, repeated fill ids and overfills: the same reason for every row, both ways, and every reason seen."""
    rng = np.random.default_rng(seed)
    mkt = market()
    orders = pd.DataFrame({"order_id": [0, 1, 2, 3, 4, 5], "ticker": "XYZ",
                           "side": ["BUY", "SELL", "BUY", "SELL", "BUY", "HOLD"],      # 5: rejected
                           "quantity": [3000, 10**6, 10**6, 50, 10**6, 100],
                           "decision_time": [ts("15:56:30")] * 4 + [ts("15:50"), ts("15:56")],  # 4: before the open
                           "end_time": [pd.NaT, ts("15:58"), ts("16:00"), pd.NaT, pd.NaT, pd.NaT]})
    n = 3000
    pick = lambda values, p_good: np.where(rng.random(n) < p_good, values[0],  # noqa: E731
                                           rng.choice(np.asarray(values[1:], dtype=object), n))
    t = ts("15:56") + pd.to_timedelta(rng.integers(-90_000, 300_000, n), unit="ms")
    t = pd.Series(t.astype(object))
    edge = rng.random(n) < 0.05                                                # on an edge: open, arrival, end, close
    t[edge] = rng.choice(np.array([ts("15:56"), ts("15:56:30"), ts("15:58"), ts("16:00")], dtype=object), edge.sum())
    t[rng.random(n) < 0.01] = pd.NaT
    other = rng.random(n) < 0.01
    t[other] = t[other].map(lambda x: x if x is pd.NaT else x.tz_convert("UTC"))  # the same instant, in UTC
    fills = pd.DataFrame({"fill_id": rng.integers(0, 2 * n, n),                            # some repeated
                          "order_id": rng.integers(-1, 6, n),
                          "time": t,
                          "shares": pick([7, 0, 0.5, -3, np.nan, 2.0**53], 0.9).astype(float),
                          "price": pick([100.0, 0.0, -1.0, np.nan, np.inf], 0.95).astype(float),
                          "fee": pick([0.1, np.nan, np.inf, -np.inf], 0.97).astype(float),
                          "ticker": pick(["XYZ", "ABC"], 0.98)})
    a, b = _rules_both(orders, fills, mkt)
    _rules_same(a, b)
    seen = set(b[2].query("table == 'fills'")["reason"])
    assert seen == set(_orders.FILL_REASONS), set(_orders.FILL_REASONS) - seen


def test_bar_and_rest_is_floor_division_at_every_edge():
    """The fill loops' division-free ``off // freq`` (one helper both compiled kernels call) against Python's exact
    divmod: offsets at and around every bar boundary, around the +-2**50 switch to ``//`` and beyond, for bar
    lengths from 1 ns to a day, compiled and as plain Python."""
    from execlab._compiled import jit
    from execlab._tca import _fill_loop

    compiled = jit(_fill_loop.bar_and_rest)
    rng = np.random.default_rng(7)
    edge = _fill_loop._EXACT
    # 49 and 300 s: float quotients of exact multiples that fall just short (remainder = freq, moved up); a day:
    # ones that land just past (remainder < 0, moved down).
    for freq in (1, 7, 49, 1_000, 60 * 10**9, 300 * 10**9, 86_400 * 10**9):
        k = np.concatenate([np.arange(-500, 501), rng.integers(-(2**62 // freq), 2**62 // freq, 300)])
        offs = np.concatenate([k * freq + d for d in (-1, 0, 1)]
                              + [np.arange(-3, 4) + e for e in (edge, -edge, edge // 2, 2**62, -(2**62))]
                              + [rng.integers(-(2**62), 2**62, 300)])
        inv = 1.0 / freq
        for off in offs:
            want = divmod(int(off), freq)
            assert tuple(map(int, compiled(np.int64(off), np.int64(freq), inv))) == want, (off, freq)
        for off in offs[::50]:  # the plain-Python helper the numpy-only build keeps
            assert tuple(map(int, _fill_loop.bar_and_rest(np.int64(off), np.int64(freq), inv))) == divmod(int(off), freq)


def test_a_kernel_helper_is_compiled_for_its_kernel_and_stays_plain_in_its_module():
    from execlab._compiled import jit
    from execlab._tca import _fill_loop

    kernel = jit(_fill_loop.fill_runs)
    assert type(kernel.py_func.__globals__["bar_and_rest"]).__name__ == "CPUDispatcher"
    assert type(_fill_loop.bar_and_rest).__name__ == "function"
