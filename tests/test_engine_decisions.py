"""Decisions: validation, sizing, regime helper."""

import numpy as np
import pandas as pd
import pytest

from execlab.engine import normalize_decisions, regime_urgency, size_orders

TZ = "America/New_York"


def base(**kw):
    d = {"ticker": "AAPL", "action": "BUY", "position_size": 5, "urgency": "HIGH", "time": "2012-06-21 10:00"}
    d.update(kw)
    return d


def test_sizing_worked_example():
    # $100,000 at 5% and $100 a share is 50 shares (the example)
    assert size_orders(100_000, np.array([5.0]), np.array([100.0])).tolist() == [50]
    # floor, not round: $100,000 at 5% and $101 is 49.5 -> 49
    assert size_orders(100_000, np.array([5.0, 0.001]), np.array([101.0, 100.0])).tolist() == [49, 0]


def test_list_of_dicts_and_frame_agree():
    rows = [base(), base(ticker="goog", action="sell", urgency="low", decision_id="x")]
    a = normalize_decisions(rows[:1], tz=TZ)
    b = normalize_decisions(pd.DataFrame(rows[:1]), tz=TZ)
    pd.testing.assert_frame_equal(a, b)
    c = normalize_decisions([base(decision_id="a"), rows[1]], tz=TZ)
    assert c["ticker"].tolist() == ["AAPL", "GOOG"]
    assert c["action"].tolist() == ["BUY", "SELL"] and c["urgency"].tolist() == ["HIGH", "LOW"]
    assert str(c["time"].dt.tz) == TZ


def test_generated_ids_and_optional_columns():
    d = normalize_decisions([base(), base()], tz=TZ, id_start=7)
    assert d["decision_id"].tolist() == [7, 8]
    assert d["confidence"].isna().all()


@pytest.mark.parametrize(
    "row, match",
    [
        (base(action="BOUGHT"), r"column 'action' has 'BOUGHT' at row 0; must be one of \['BUY', 'SELL', 'HOLD'\]"),
        (base(urgency="ASAP"), r"column 'urgency' has 'ASAP' at row 0"),
        (base(position_size=0), r"column 'position_size' has 0 at row 0 \(BUY AAPL\); must be in \(0, 100\]"),
        (base(position_size=150), r"column 'position_size' has 150 at row 0"),
        (base(position_size=-1), r"column 'position_size' has -1"),
        (base(position_size=float("nan")), r"column 'position_size' has nan"),
        (base(confidence=1.5), r"column 'confidence' has 1.5 at row 0; must be in \[0, 1\]"),
        (base(ticker=""), r"column 'ticker' has '' at row 0"),
        (base(time="not a time"), r"column 'time' cannot be read"),
    ],
)
def test_bad_rows_name_column_and_value(row, match):
    with pytest.raises(ValueError, match=match):
        normalize_decisions([row], tz=TZ)


def test_hold_needs_no_size():
    d = normalize_decisions([base(action="HOLD", position_size=None)], tz=TZ)
    assert np.isnan(d["position_size"].iat[0])


def test_duplicate_ids_and_missing_columns():
    with pytest.raises(ValueError, match=r"column 'decision_id' has duplicate value 'a' at row 1"):
        normalize_decisions([base(decision_id="a"), base(decision_id="a")], tz=TZ)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['urgency'\]"):
        normalize_decisions([{"ticker": "AAPL", "action": "BUY", "position_size": 1}], tz=TZ)
    with pytest.raises(ValueError, match="empty"):
        normalize_decisions(pd.DataFrame(columns=["ticker", "action", "position_size", "urgency"]), tz=TZ)
    with pytest.raises(TypeError, match="DataFrame or a list of dicts"):
        normalize_decisions("AAPL BUY", tz=TZ)


def test_naive_time_without_zone_raises():
    with pytest.raises(ValueError, match="timezone-naive"):
        normalize_decisions([base()])


def test_regime_urgency():
    assert regime_urgency("CRASH") == "CRITICAL"
    assert regime_urgency("risk_off") == "HIGH"
    assert regime_urgency("BULL") == "MEDIUM"
    assert list(regime_urgency(["CRASH", "RISK_OFF", "NORMAL", None])) == ["CRITICAL", "HIGH", "MEDIUM", "MEDIUM"]
    s = pd.Series(["CRASH", "x"], index=["a", "b"])
    out = regime_urgency(s)
    assert out.index.tolist() == ["a", "b"] and out.tolist() == ["CRITICAL", "MEDIUM"]
