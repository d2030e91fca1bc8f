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


def test_check_array_refuses_text_bool_and_dates():
    with pytest.raises(TypeError, match=r"^x must be numeric, got text \(dtype <U1\) such as '1'\.$"):
        v.check_array(["1", "2"], "x")
    with pytest.raises(TypeError, match=r"^x must be numeric, got text \(dtype str\) such as '1'\.$"):
        v.check_array(pd.Series(["1", "2"], dtype="str"), "x")
    with pytest.raises(TypeError, match=r"^x must be numeric, got text \(mixed-integer values in an object array\) such as 1\.$"):
        v.check_array(np.array([1, "2"], dtype=object), "x")
    with pytest.raises(TypeError, match=r"^x must be numeric, got bool such as True\.$"):
        v.check_array(np.array([True, False]), "x")
    with pytest.raises(TypeError, match=r"^x must be numeric, got dates or durations \(dtype datetime64\[s\]\)"):
        v.check_array(np.array(["2020-01-01"], dtype="datetime64[s]"), "x")
    # numbers in an object array (e.g. with None) are numbers; None is NaN and named
    with pytest.raises(ValueError, match=r"^x\[1\] == nan, must be finite"):
        v.check_array(np.array([1.0, None], dtype=object), "x")
    np.testing.assert_array_equal(v.check_array(pd.Series([1, 2], dtype="Int64"), "x"), [1.0, 2.0])


def test_check_numeric_column_refuses_text_and_allows_nan_on_request():
    df = pd.DataFrame({"price": ["10.1", "10.2"], "bid": [10.0, np.nan], "ask": [np.inf, 1.0]}, index=[7, 8])
    df["price"] = df["price"].astype("str")
    with pytest.raises(TypeError, match=r"^quotes column 'price' must be numeric, got text \(dtype str\) such as '10\.1'\.$"):
        v.check_numeric_column(df, "price", "quotes")
    with pytest.raises(TypeError, match=r"^quotes column 'price' must be numeric, got text \(string values in an object array\)"):
        v.check_numeric_column(df.astype({"price": object}), "price", "quotes")
    with pytest.raises(ValueError, match=r"^quotes column 'bid' has nan at row 8; values must be finite\.$"):
        v.check_numeric_column(df, "bid", "quotes")
    out = v.check_numeric_column(df, "bid", "quotes", allow_nan=True)
    assert out[0] == 10.0 and np.isnan(out[1])
    with pytest.raises(ValueError, match=r"^quotes column 'ask' has inf at row 7; values must be finite \(or missing\)\.$"):
        v.check_numeric_column(df, "ask", "quotes", allow_nan=True)


def test_check_time_and_label_columns():
    t = pd.date_range("2012-06-21 09:30", periods=3, freq="1min")
    df = pd.DataFrame({"time": t.tz_localize("America/New_York"), "ticker": ["A", None, "C"]}, index=pd.Index([5, 6, 7]))
    got = v.check_time_column(df, "time", "bars", "UTC")
    assert str(got.tz) == "UTC" and got.unit == "ns" and got[0] == pd.Timestamp("2012-06-21 13:30", tz="UTC")
    with pytest.raises(ValueError, match=r"^bars column 'time' is timezone-naive; localize it"):
        v.check_time_column(df.assign(time=t), "time", "bars")
    with pytest.raises(ValueError, match=r"^bars column 'time' has NaT at row 6; every row needs a time\.$"):
        v.check_time_column(df.assign(time=df["time"].where(df.index != 6)), "time", "bars")
    with pytest.raises(TypeError, match=r"^bars column 'time' must hold datetimes, got dtype"):
        v.check_time_column(df.assign(time=[1, 2, 3]), "time", "bars")
    with pytest.raises(ValueError, match=r"^bars column 'ticker' has (None|nan) at row 6; labels must not be missing\.$"):
        v.check_label_column(df, "ticker", "bars")
    assert v.row_label(pd.Index(np.array([3, 4], dtype=np.int64)), 1) == 4
    assert type(v.row_label(pd.Index(np.array([3, 4], dtype=np.int64)), 1)) is int


def test_check_timedelta():
    assert v.check_timedelta("5min", "freq") == pd.Timedelta(minutes=5)
    with pytest.raises(ValueError, match=r"freq == 'soon', must be a time span such as '1min'"):
        v.check_timedelta("soon", "freq")
    with pytest.raises(ValueError, match=r"bin_duration == '-1min', must be positive"):
        v.check_timedelta("-1min", "bin_duration")


def test_check_int64_range_refuses_what_a_cast_would_wrap():
    assert v.check_int64_range([1.0, 2.9], "shares").tolist() == [1, 2]
    assert v.check_int64_range(np.array([3], dtype=np.uint64), "shares").dtype == np.int64
    with pytest.raises(ValueError, match=r"shares\[1\] == 1e\+19, must be < 2\*\*63 \(int64\)"):
        v.check_int64_range([1.0, 1e19], "shares")
    with pytest.raises(ValueError, match=r"shares\[0\] == -1e\+19, must be >= -2\*\*63"):
        v.check_int64_range([-1e19], "shares")
    with pytest.raises(ValueError, match=r"shares\[0\] == nan, must be finite"):
        v.check_int64_range([np.nan], "shares")
    with pytest.raises(ValueError, match=r"shares\[0\] == 18446744073709551615, must be < 2\*\*63"):
        v.check_int64_range(np.array([2**64 - 1], dtype=np.uint64), "shares")
    with pytest.raises(ValueError, match=r"quantity\[0\] == 4000000000000000.0, must be <= 2\*\*51"):
        v.check_int64_range([4e15], "quantity", max_val=v.MAX_SHARES, max_text="2**51")


def test_check_finite_output_names_the_output():
    assert v.check_finite_output([1.0], "cost").tolist() == [1.0]
    with pytest.raises(ValueError, match=r"expected_cost\[0\] == nan, is not finite: sigma overflow float64"):
        v.check_finite_output([np.nan], "expected_cost", "sigma")


def test_integer_scalars_must_fit_int64():
    with pytest.raises(ValueError, match=r"lot == 10000000000000000000, must be within int64"):
        v.check_scalar(10**19, "lot", min_val=1, integer=True)
    with pytest.raises(ValueError, match=r"n_slices == 1e\+300, must be within int64"):
        v.check_scalar(1e300, "n_slices", min_val=1, integer=True)
    assert v.check_scalar(2**63 - 1, "lot", integer=True) == 2**63 - 1


def test_check_quantity_caps_at_max_shares():
    assert v.check_quantity([2**51]).tolist() == [2**51]
    with pytest.raises(ValueError, match=r"quantity\[0\] == 2251799813685249.0, must be <= 2\*\*51"):
        v.check_quantity([2**51 + 1])


def test_check_timedelta_overflow_is_a_value_error():
    with pytest.raises(ValueError, match=r"bin_duration == 10{30}, must be a time span"):
        v.check_timedelta(10**30, "bin_duration")
