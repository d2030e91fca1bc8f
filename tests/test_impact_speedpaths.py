"""The short cuts inside fit_impact give exactly what the general code gives.

fit_impact reads a text side from its Arrow buffers and a numeric side by two
comparisons, brackets the median of a large array before partitioning, skips
``np.ptp`` when two of the first values differ, and divides an integer
quantity in place.  Each is checked here against the general code it stands
in for: the same values, the same errors and messages, and no change to the
caller's frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab.impact._calibration as calibration
from execlab._orders import side_to_sign
from execlab.impact import fit_impact
from execlab.synthetic import metaorders

pytest.importorskip("pyarrow")

#: Text sides and near misses: prefixes, suffixes, letters swapped, case, glued words, empty.
FRAGMENTS = ["BUY", "SELL", "BUYS", "BU", "SEL", "SELLL", "BYU", "SLEL", "buy", "Sell", "", "B", "S", "UY",
             "ELL", "BUYBUY", "SELLSELL", "BUYSELL", "XUY", "BUX", "SELX", "SXLL", " BUY", "BUY "]


def _general(side: pd.Series) -> np.ndarray | str:
    """What the general code gives: the signs, or the message of its ValueError (a text column
    goes in as a categorical, as fit_impact has always handed it over)."""
    if isinstance(side.dtype, pd.StringDtype):
        side = side.astype("category")
    try:
        return side_to_sign(side, "executions", "side")
    except ValueError as exc:
        return str(exc)


def _fast(side: pd.Series) -> np.ndarray | str:
    try:
        return np.asarray(calibration._side_signs(side, "executions"), dtype=np.int64)
    except ValueError as exc:
        return str(exc)


def _assert_same(side: pd.Series) -> None:
    want, got = _general(side), _fast(side)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
    else:
        np.testing.assert_array_equal(got, want)


@settings(max_examples=300)
@given(values=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.none()), min_size=1, max_size=12),
       dtype=st.sampled_from(["str", "string[pyarrow]", "string[python]", "object"]),
       start=st.integers(0, 3), doubled=st.booleans(), block=st.sampled_from([1, 2, 3, 1 << 16]))
def test_text_side_is_read_exactly_as_side_to_sign_reads_it(values, dtype, start, doubled, block):
    side = pd.Series(values, dtype=dtype).iloc[min(start, len(values) - 1):]  # sliced Arrow arrays have an offset
    if doubled:  # two Arrow chunks
        side = pd.concat([side, side.iloc[::-1]], ignore_index=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(calibration, "_SIDE_BLOCK", block)  # small blocks put block edges inside short columns
        _assert_same(side)


def test_text_side_of_a_million_rows_in_many_blocks():
    rng = np.random.default_rng(5)
    words = np.where(rng.random(300_000) < 0.5, "BUY", "SELL")
    side = pd.Series(words, dtype="str")
    np.testing.assert_array_equal(calibration._side_signs(side, "executions"), np.where(words == "BUY", 1, -1))
    for pos, bad in ((0, "BUYS"), (70_000, "SEL"), (131_071, "BYU"), (131_072, "buy"), (299_999, "SELLL")):
        broken = side.copy()
        broken.iloc[pos] = bad
        _assert_same(broken)
        with pytest.raises(ValueError, match=rf"column 'side' has '{bad}' at row {pos}; must be one of"):
            calibration._side_signs(broken, "executions")


def _numeric_sides() -> list[pd.Series]:
    out = []
    for values in ([1, -1, 1], [1, 0, -1], [-1.0, 1.0, np.nan], [1, 2, -1], [1, 1, 1], [-1, -1, -1]):
        for dtype in (np.int8, np.int64, np.float64, np.float32, np.uint8, "Int8", object):
            try:
                out.append(pd.Series(values, dtype=dtype))
            except (TypeError, ValueError, OverflowError):  # e.g. -1 or NaN in uint8
                continue
    return out


@pytest.mark.parametrize("side", _numeric_sides(), ids=lambda s: f"{s.dtype}:{s.tolist()}")
def test_numeric_side_is_read_exactly_as_side_to_sign_reads_it(side):
    _assert_same(side)


def test_bool_side_is_refused_as_before():
    _assert_same(pd.Series([True, False, True]))


def test_fit_is_the_same_bit_for_bit_whatever_the_side_dtype():
    df = metaorders(5_000, {"Y": 0.7, "delta": 0.55, "noise": 0.3}, rng=7)
    sign = np.where(df["side"] == "BUY", 1, -1)
    sides = [df["side"].astype("category"), df["side"].astype(object), df["side"].astype("string[pyarrow]"),
             df["side"].astype("string[python]"), sign, sign.astype(np.int8), sign.astype(np.float64)]
    for model in ("sqrt", "linear", "power"):
        want = fit_impact(df, model)
        for side in sides:
            got = fit_impact(df.assign(side=side), model)
            np.testing.assert_array_equal(np.asarray(got.results.params), np.asarray(want.results.params))
            np.testing.assert_array_equal(np.asarray(got.results.bse), np.asarray(want.results.bse))
            np.testing.assert_array_equal(got.arrays["y"], want.arrays["y"])


def _median_by_partition(a: np.ndarray) -> float:
    k = a.size // 2
    p = np.partition(a, k)
    return float(p[k]) if a.size % 2 else 0.5 * (float(p[k]) + float(p[:k].max()))


def test_a_null_over_valid_bytes_is_refused():
    # Arrow may keep bytes under a null slot: here "SELL", which must not be read as a sell.
    import pyarrow as pa

    _, offsets, data = pa.array(["BUY", "SELL", "BUY"], type=pa.large_string()).buffers()
    validity = pa.py_buffer(np.packbits(np.array([1, 0, 1], dtype=bool), bitorder="little").tobytes())
    array = pa.LargeStringArray.from_buffers(3, offsets, data, validity)
    for dtype in ("str", "string[pyarrow]"):
        side = pd.Series(pd.array(array, dtype=dtype))
        assert calibration._arrow_signs(side) is None
        _assert_same(side)


@pytest.mark.parametrize("n", [7, 200_000, 200_001, 333_333])
def test_median_is_the_partition_median_exactly(n):
    rng = np.random.default_rng(n)
    arrays = [rng.random(n), rng.lognormal(size=n), np.sort(rng.random(n)), np.sort(rng.random(n))[::-1].copy(),
              np.round(rng.random(n) * 5) + 0.5, np.full(n, 2.5), rng.integers(1, 4, n).astype(float),
              # periodic, so that the evenly spaced sample sees one value only: the bracket misses
              np.tile(rng.random(20), n // 20 + 1)[:n],
              np.where(np.arange(n) % 20 == 0, 1.0, rng.random(n) + 2)]
    for a in arrays:
        assert calibration._median(a) == _median_by_partition(a)


@pytest.mark.parametrize("n_below", [100_000, 90_000])
def test_median_when_the_bracket_ends_at_the_median(n_below):
    # Every sampled value is 1.0, so the bracket is [1.0, 1.0]; with 100,000 values below it the median's
    # rank among the bracketed values is 0 (its lower half lies below the bracket), with 90,000 it is one
    # past their end: both go to the whole partition.
    n = 200_000
    a = np.full(n, 2.0)
    a[:: n // calibration._MEDIAN_SAMPLE] = 1.0
    free = np.flatnonzero(a == 2.0)
    a[free[:n_below]] = 0.5
    assert calibration._median(a) == _median_by_partition(a)


def test_horizon_of_a_large_fit_is_the_median_duration():
    df = metaorders(200_001, {"Y": 0.7, "delta": 0.55, "noise": 0.3}, rng=8)
    assert fit_impact(df, "linear").model.horizon == float(np.median(df["duration"].to_numpy()))


@pytest.mark.parametrize("a", [
    [1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [np.inf, np.inf], [np.inf, 1.0], [-np.inf, np.inf], [np.nan, 1.0],
    [1.0, np.nan], [0.0, -0.0], np.r_[np.ones(40), 2.0], np.r_[np.ones(40), np.nan], np.ones(40),
])
def test_constant_is_ptp_zero(a):
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        assert calibration._constant(a) == bool(np.ptp(a) == 0)


@pytest.mark.parametrize("quantity_dtype", [np.int64, np.int32, np.float64])
def test_the_callers_frame_is_left_as_it_was(quantity_dtype):
    df = metaorders(2_000, {"Y": 0.7, "delta": 0.55, "noise": 0.3}, rng=9)
    df = df.assign(quantity=df["quantity"].astype(quantity_dtype))
    before = df.copy(deep=True)
    fit = fit_impact(df, "sqrt")
    pd.testing.assert_frame_equal(df, before)
    want = df["quantity"].to_numpy(dtype=np.float64) / df["daily_volume"].to_numpy()
    np.testing.assert_array_equal(fit.arrays["participation"], want)
