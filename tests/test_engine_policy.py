"""Urgency policy: the table, its validation and grouped schedules."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab.engine.policy as policy_mod
from execlab.engine import UrgencyPolicy

GRID = pd.Timedelta("1min")
PROFILE = np.ones(390) / 390


def plan(policy, q, urg, start=None, left=None):
    n = len(q)
    start = np.zeros(n, np.int64) if start is None else np.asarray(start)
    left = np.full(n, 390) if left is None else np.asarray(left)
    ac = {"sigma": np.full(n, 5.0), "eta": np.full(n, 2.5e-6), "gamma": np.full(n, 2.5e-7), "epsilon": np.zeros(n)}
    return policy.plan(np.asarray(q, np.int64), np.asarray(urg), start, left, GRID, PROFILE, ac)


def test_default_table():
    t = UrgencyPolicy().table
    assert t["algorithm"].tolist() == ["market", "twap", "twap", "vwap"]
    assert t.loc["HIGH", "n_slices"] == 5 and t.loc["HIGH", "bin_duration"] == pd.Timedelta("1min")
    assert t.loc["MEDIUM", "n_slices"] == 10 and t.loc["MEDIUM", "bin_duration"] == pd.Timedelta("3min")
    assert pd.isna(t.loc["LOW", "horizon"])  # rest of the session


def test_schedules_by_urgency_hand_worked():
    p = plan(UrgencyPolicy(), [100, 100, 1000], ["CRITICAL", "HIGH", "MEDIUM"])
    assert p.shares[0, :2].tolist() == [100, 0]
    assert p.shares[1, :6].tolist() == [20, 20, 20, 20, 20, 0]
    # MEDIUM: 10 slices of 100, one every 3 bars
    assert p.shares[2, :30:3].tolist() == [100] * 10 and p.shares[2].sum() == 1000
    assert (p.shares[2, 1::3] == 0).all()
    assert p.algorithm.tolist() == ["market", "twap", "twap"]
    assert p.stride.tolist() == [1, 1, 3]


def test_one_schedule_call_per_group(monkeypatch):
    calls = []
    real = policy_mod.twap

    def counting(q, *a, **k):
        calls.append(len(q))
        return real(q, *a, **k)

    monkeypatch.setattr(policy_mod, "twap", counting)
    plan(UrgencyPolicy(), [10, 20, 30, 40, 50], ["HIGH", "MEDIUM", "HIGH", "MEDIUM", "HIGH"])
    assert sorted(calls) == [2, 3]  # one call for the 3 HIGH orders, one for the 2 MEDIUM


def test_vwap_rest_of_session_stops_at_close():
    prof = np.linspace(1, 2, 390)
    prof /= prof.sum()
    p = UrgencyPolicy().plan(np.array([1000, 1000]), np.array(["LOW", "LOW"]), np.array([0, 380]),
                             np.array([390, 10]), GRID, prof, None)
    assert p.shares.sum(axis=1).tolist() == [1000, 1000]
    assert (p.shares[1, 10:] == 0).all() and (p.shares[1, :10] > 0).all()
    # heavier later bars get more shares
    assert p.shares[0, 300:390].sum() > p.shares[0, 0:90].sum()


def test_almgren_chriss_as_a_policy_choice_approaches_twap():
    pol = UrgencyPolicy().replace("LOW", algorithm="almgren_chriss", horizon="20min", n_slices=4, risk_aversion=0.0)
    p = plan(pol, [1000], ["LOW"])
    assert p.algorithm.tolist() == ["almgren_chriss"]
    assert p.shares[0, :20:5].tolist() == [250, 250, 250, 250]
    urgent = UrgencyPolicy().replace("LOW", algorithm="almgren_chriss", horizon="20min", n_slices=4, risk_aversion=1e-3)
    front = plan(urgent, [1000], ["LOW"]).shares[0, :20:5]
    assert front[0] > front[-1] and front.sum() == 1000


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"algorithm": "iceberg"}, r"algorithm == 'iceberg', must be one of"),
        ({"algorithm": "twap", "horizon": "5min"}, "needs both horizon and n_slices"),
        ({"algorithm": "twap", "horizon": "5min", "n_slices": 5, "bin_duration": "2min"}, "horizon 0 days 00:05:00 != n_slices"),
        ({"algorithm": "almgren_chriss", "horizon": "5min", "n_slices": 5}, "needs risk_aversion"),
        ({"algorithm": "twap", "horizon": "-5min", "n_slices": 5}, "must be positive"),
        ({"algorithm": "twap", "horizon": "5min", "n_slices": 0}, "n_slices == 0"),
    ],
)
def test_bad_policy_rows(spec, match):
    with pytest.raises(ValueError, match=match):
        UrgencyPolicy(UrgencyPolicy.DEFAULT | {"HIGH": spec})


def test_replace_as_a_user_would():
    """Change one field of a row and keep the rest; names are case-insensitive."""
    base = UrgencyPolicy()
    ac = base.replace("high", algorithm="Almgren_Chriss", risk_aversion=1e-3)
    row = ac.table.loc["HIGH"]
    assert row["algorithm"] == "almgren_chriss" and row["horizon"] == pd.Timedelta("5min") and row["n_slices"] == 5
    assert base.table.loc["HIGH", "algorithm"] == "twap"  # the original is untouched
    longer = base.replace("MEDIUM", horizon="60min")
    assert longer.table.loc["MEDIUM", "n_slices"] == 10 and longer.table.loc["MEDIUM", "bin_duration"] == pd.Timedelta("6min")
    assert base.replace("HIGH", algorithm="TWAP", n_slices=10, horizon="10min").table.loc["HIGH", "bin_duration"] == GRID
    assert pd.isna(base.replace("MEDIUM", algorithm="vwap").table.loc["MEDIUM", "horizon"])  # VWAP: rest of session
    with pytest.raises(ValueError, match="needs risk_aversion"):
        base.replace("HIGH", algorithm="almgren_chriss")
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['slices'\]"):
        base.replace("HIGH", slices=3)
    lower = UrgencyPolicy({u.lower(): v for u, v in UrgencyPolicy.DEFAULT.items()})
    assert lower.table.equals(base.table)


def test_policy_needs_every_urgency_and_whole_bars():
    with pytest.raises(ValueError, match=r"missing \['LOW'\]"):
        UrgencyPolicy({u: {"algorithm": "market"} for u in ["CRITICAL", "HIGH", "MEDIUM"]})
    pol = UrgencyPolicy().replace("HIGH", algorithm="twap", horizon="90s", n_slices=3)
    with pytest.raises(ValueError, match="not a whole number of bars"):
        plan(pol, [10], ["HIGH"])


def test_table_round_trips_through_constructor():
    t = UrgencyPolicy().table
    t.loc["MEDIUM", ["horizon", "n_slices", "bin_duration"]] = [pd.Timedelta("60min"), 12, pd.Timedelta("5min")]
    assert UrgencyPolicy(t).table.loc["MEDIUM", "n_slices"] == 12


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100_000), st.sampled_from(["CRITICAL", "HIGH", "MEDIUM", "LOW"]),
                          st.integers(0, 389)), min_size=1, max_size=20))
def test_rows_sum_to_quantity_and_never_pass_the_close(rows):
    q = np.array([r[0] for r in rows])
    u = np.array([r[1] for r in rows])
    start = np.array([r[2] for r in rows])
    p = plan(UrgencyPolicy(), q, u, start, 390 - start)
    assert (p.shares >= 0).all()
    assert p.shares.sum(axis=1).tolist() == q.tolist()
    low = u == "LOW"
    cols = np.arange(p.shares.shape[1])
    assert not (p.shares[low] * (cols[None, :] >= (390 - start[low])[:, None])).any()


def test_horizon_past_the_close_is_cut_to_the_slices_left():
    # MEDIUM is 10 slices of 3 bars; 1 bar left (15:59) -> one slice with everything,
    # 7 bars left -> 3 slices (starting at bars 0, 3, 6)
    p = plan(UrgencyPolicy(), [8, 90, 50], ["MEDIUM", "MEDIUM", "MEDIUM"], [389, 383, 0], [1, 7, 390])
    assert p.shares[0].tolist()[:1] == [8] and p.shares[0].sum() == 8
    assert p.shares[1, [0, 3, 6]].tolist() == [30, 30, 30] and p.shares[1].sum() == 90
    assert p.clipped.tolist() == [True, True, False]
    assert p.shares[2, :30:3].tolist() == [5] * 10
    ac = UrgencyPolicy().replace("HIGH", algorithm="almgren_chriss", risk_aversion=1e-3)
    q = plan(ac, [100], ["HIGH"], [388], [2])
    assert q.shares[0, :2].sum() == 100 and q.clipped.tolist() == [True]
