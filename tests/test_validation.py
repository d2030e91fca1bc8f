import numpy as np
import pandas as pd
import pytest

from execlab import _validation as v


def test_check_scalar_messages():
    assert v.check_scalar(0.5, "rate", min_val=0, max_val=1) == 0.5
    with pytest.raises(ValueError, match=r"rate == 1.3, must be <= 1"):
        v.check_scalar(1.3, "rate", max_val=1)
    with pytest.raises(ValueError, match=r"rate == 0.0, must be > 0"):
        v.check_scalar(0.0, "rate", min_val=0, include_min=False)
    with pytest.raises(ValueError, match=r"rate == nan, must be finite"):
        v.check_scalar(float("nan"), "rate")
    with pytest.raises(TypeError, match=r"n_slices == 2.5, must be an integer"):
        v.check_scalar(2.5, "n_slices", integer=True)
    with pytest.raises(TypeError, match=r"rate must be a real number, got str"):
        v.check_scalar("0.1", "rate")
    with pytest.raises(TypeError, match=r"must be a real number, got bool"):
        v.check_scalar(True, "rate")


def test_check_array_names_position_and_value():
    with pytest.raises(ValueError, match=r"quantity\[2\] == -5.0, must be >= 0"):
        v.check_array([1, 2, -5], "quantity", min_val=0)
    with pytest.raises(ValueError, match=r"quantity\[1\] == nan, must be finite"):
        v.check_array([1, np.nan], "quantity")
    with pytest.raises(ValueError, match=r"quantity is empty"):
        v.check_array([], "quantity")
    with pytest.raises(ValueError, match=r"must have ndim in \(1,\)"):
        v.check_array([[1.0]], "quantity", ndim=1)


def test_check_quantity_whole_shares():
    assert v.check_quantity([0, 10.0]).dtype == np.int64
    with pytest.raises(ValueError, match=r"quantity\[0\] == 1.5, must be a whole number"):
        v.check_quantity([1.5])


def test_check_frame_and_columns():
    df = pd.DataFrame({"a": [1.0, np.nan]})
    with pytest.raises(ValueError, match=r"orders is missing column\(s\) \['b'\]"):
        v.check_frame(df, "orders", ["a", "b"])
    with pytest.raises(ValueError, match=r"orders is empty"):
        v.check_frame(df.iloc[:0], "orders", ["a"])
    with pytest.raises(TypeError, match=r"orders must be a pandas DataFrame, got list"):
        v.check_frame([1], "orders", ["a"])
    with pytest.raises(ValueError, match=r"orders column 'a' has nan at row 1"):
        v.check_numeric_column(df, "a", "orders")


def test_check_choice_lists_options():
    with pytest.raises(ValueError, match=r"side == 'buy', must be one of \['BUY', 'SELL'\]"):
        v.check_choice("buy", "side", ["BUY", "SELL"])


def test_check_sorted_unique_timestamps():
    t = pd.Series(pd.to_datetime(["2012-06-21 09:30", "2012-06-21 09:31", "2012-06-21 09:31"]).tz_localize("America/New_York"))
    v.check_sorted_unique(t, "time", strict=False)
    with pytest.raises(ValueError, match=r"time has unsorted or duplicate timestamps: .*09:31.* at position 2"):
        v.check_sorted_unique(t, "time")
    with pytest.raises(ValueError, match=r"unsorted timestamps"):
        v.check_sorted_unique(t.iloc[::-1], "time", strict=False)
    v.check_sorted_unique(np.array([1.0, 2.0]), "x")
