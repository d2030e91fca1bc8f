"""Cumulative rounding: the compiled loop gives the numpy reference's result, bit for bit.

``round_cumulative`` runs a compiled one-pass loop when numba is installed
and ``_round_cumulative_numpy`` otherwise; every schedule goes through it, so
the two must agree cell for cell on every input, not just on average.  The
properties compare them on random inputs (shared and per-order profiles,
lots, odd lots, trailing empty bins, extreme and non-finite values); the
hand-worked cases pin the float details a compiler could change (a fused
multiply-add, rint instead of the 2**52 addition, the order of the lot
operations); and the switch ``EXECLAB_NO_NUMBA`` is checked in a fresh
process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import execlab as ex
from execlab import _kernels as K
from execlab._compiled import jit
from execlab._validation import MAX_SHARES

# None without numba or with EXECLAB_NO_NUMBA set: then only the numpy path exists to test.
KERNEL = jit(K._round_cumulative_loop)
needs_kernel = pytest.mark.skipif(
    KERNEL is None, reason="numba is not installed or EXECLAB_NO_NUMBA is set: there is no compiled path"
)
PROPERTY = settings(max_examples=400, deadline=None)
reference = K._round_cumulative_numpy


def compiled(quantity: np.ndarray, cum_fraction: np.ndarray, lot: int) -> np.ndarray:
    """``round_cumulative`` itself, failing if it fell back to the numpy path."""
    with mock.patch.object(K, "_round_cumulative_numpy", side_effect=AssertionError("fell back to the numpy path")):
        return K.round_cumulative(quantity, cum_fraction, lot)


def assert_identical(quantity: np.ndarray, cum_fraction: np.ndarray, lot: int) -> np.ndarray:
    want = reference(quantity, cum_fraction, lot)
    got = compiled(quantity, cum_fraction, lot)
    assert got.dtype == want.dtype == np.int64
    assert got.shape == want.shape == (quantity.size, np.atleast_2d(cum_fraction).shape[1])
    np.testing.assert_array_equal(got, want)
    return got


# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------

lots = st.one_of(st.just(1), st.integers(2, 1_000), st.sampled_from([100, 2**20, 2**40]))


@st.composite
def quantities(draw, n_orders: int, lot: int) -> np.ndarray:
    """Small, large and whole-lot quantities (whole lots take the nearest-lot branch)."""
    elements = st.one_of(
        st.integers(0, 1_000),
        st.integers(0, 10**7),
        st.integers(0, MAX_SHARES),
        st.integers(0, 50).map(lambda k: k * lot),
        st.integers(0, MAX_SHARES // lot).map(lambda k: k * lot),
    )
    return draw(hnp.arrays(np.int64, n_orders, elements=elements))


@st.composite
def cumulative_fractions(draw, rows: int, n_bins: int) -> np.ndarray:
    """Cumulative fractions as the schedules build them: non-decreasing, ending at exactly 1.

    From a volume profile with zero bins and possibly empty trailing bins (the
    cumulative reaches 1 before the end), or TWAP's ``j / n``.
    """
    if draw(st.booleans()):
        return np.tile(np.arange(1, n_bins + 1, dtype=np.float64) / n_bins, (rows, 1))
    weights = draw(hnp.arrays(np.float64, (rows, n_bins),
                              elements=st.one_of(st.just(0.0), st.floats(0, 1e6, allow_subnormal=False))))
    trailing = draw(st.integers(0, n_bins - 1))
    weights[:, n_bins - trailing:] = 0.0
    weights[weights[:, : n_bins - trailing].sum(axis=1) <= 0, 0] = 1.0
    cum = np.cumsum(weights, axis=1)
    return cum / cum[:, -1:]


@st.composite
def rounding_inputs(draw) -> tuple[np.ndarray, np.ndarray, int]:
    """(quantity, cum_fraction, lot) with a 1-D, a one-row 2-D or a per-order profile."""
    n_orders = draw(st.integers(0, 12))
    n_bins = draw(st.integers(1, 30))
    lot = draw(lots)
    q = draw(quantities(n_orders, lot))
    layout = draw(st.sampled_from(["1-D", "one row", "per order"]))
    rows = n_orders if layout == "per order" else 1
    c = draw(cumulative_fractions(rows, n_bins))
    return q, (c[0] if layout == "1-D" else c), lot


# ---------------------------------------------------------------------------
# properties: the two paths agree bit for bit
# ---------------------------------------------------------------------------


@needs_kernel
@PROPERTY
@given(rounding_inputs())
def test_compiled_equals_numpy_on_schedule_inputs(inputs):
    q, c, lot = inputs
    got = assert_identical(q, c, lot)
    # and it is a schedule: rows sum to the quantities, no child is negative
    np.testing.assert_array_equal(got.sum(axis=1), q)
    assert (got >= 0).all()


@needs_kernel
@PROPERTY
@given(data=st.data(), n_orders=st.integers(0, 8), n_bins=st.integers(1, 20), lot=lots,
       per_order=st.booleans())
def test_compiled_equals_numpy_on_any_fractions(data, n_orders, n_bins, lot, per_order):
    # Unsorted, negative, beyond 1, ties and near-ties: nothing a schedule passes, but the numpy path
    # computes something for it, and the compiled path must compute the same thing.
    q = data.draw(quantities(n_orders, lot))
    special = st.sampled_from([0.0, -0.0, 0.5, 1.0, np.nextafter(1.0, 0.0), np.nextafter(0.5, 0.0), 0.3, 0.7])
    elements = st.one_of(special, st.floats(-0.5, 1.5, allow_subnormal=True), st.floats(-3.0, 3.0))
    c = data.draw(hnp.arrays(np.float64, (n_orders if per_order else 1, n_bins), elements=elements))
    assert_identical(q, c, lot)


@needs_kernel
@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_bins=st.integers(1, 12), lot=lots)
def test_compiled_equals_numpy_on_non_finite_fractions(data, n_bins, lot):
    # Garbage in (NaN, inf): the same garbage out, bit for bit, from the same IEEE operations.
    q = data.draw(quantities(4, lot))
    elements = st.one_of(st.sampled_from([np.nan, np.inf, -np.inf, 1.0]), st.floats(0, 1))
    c = data.draw(hnp.arrays(np.float64, (4, n_bins), elements=elements))
    assert_identical(q, c, lot)


@needs_kernel
@settings(max_examples=50, deadline=None)
@given(q=hnp.arrays(np.int64, st.integers(1, 600), elements=st.integers(0, 10**6)), lot=lots)
def test_compiled_equals_numpy_across_numpy_blocks(q, lot):
    # Hundreds of orders x 390 bins: the numpy path works in blocks of 256 orders, the loop does not.
    c = np.cumsum(np.random.default_rng(q.size).random(390))
    assert_identical(q, c / c[-1], lot)


# ---------------------------------------------------------------------------
# hand-worked: the float details that decide a share
# ---------------------------------------------------------------------------


@needs_kernel
def test_docstring_examples():
    np.testing.assert_array_equal(assert_identical(np.array([1000, 10]), np.array([0.25, 0.5, 0.75, 1.0]), 1),
                                  [[250, 250, 250, 250], [2, 3, 3, 2]])
    np.testing.assert_array_equal(assert_identical(np.array([1050]), np.array([0.5, 1.0]), 100), [[500, 550]])


@needs_kernel
def test_product_is_rounded_before_the_2_52_addition():
    # 5 * 0.3 is 1.4999999999999999445 exactly, 1.5 once rounded; likewise 5 * 0.7 -> 3.5.  Ties go to
    # even: cumulative 2 and 4.  A fused multiply-add would round the exact product: 1 and 3.
    got = assert_identical(np.array([5]), np.array([0.3, 0.7, 1.0]), 1)
    np.testing.assert_array_equal(got, [[2, 2, 1]])


@needs_kernel
def test_lot_rounding_is_floor_of_half_up_in_float():
    # t / lot = 0.49999999999999994; adding 0.5 rounds to 1.0, so floor gives one lot (rint would give 0).
    got = assert_identical(np.array([2]), np.array([0.49999999999999994, 1.0]), 2)
    np.testing.assert_array_equal(got, [[2, 0]])


@needs_kernel
def test_lot_operations_in_the_numpy_order():
    # 500 shares in lots of 100 over ten equal bins: targets of 0.5, 1, ..., 5 lots, halves rounded up.
    # 500 * 0.7 rounds to exactly 350, so 3.5 lots -> 4; dividing the fraction by the lot first
    # (500 * (0.7 / 100) = 3.4999999999999996) would give 3.
    got = assert_identical(np.array([500]), np.arange(1, 11) / 10, 100)
    np.testing.assert_array_equal(got, [[100, 0] * 5])


@needs_kernel
def test_rounding_is_the_2_52_addition_not_rint():
    # The two agree on [0, 2**52), where every schedule's targets lie; outside it they do not, and the
    # compiled loop follows the numpy path's bit patterns, not rint.  -0.3 + 2**52 rounds to
    # 2**52 - 0.5, one bit pattern below 2**52: a cumulative of -1 where rint gives 0.
    np.testing.assert_array_equal(assert_identical(np.array([10]), np.array([-0.03, 1.0]), 1), [[-1, 11]])
    # 1.5 * 2**52 + 2**52 lies where float64 counts in twos: the bit patterns step by 2 shares.
    big = assert_identical(np.array([2**51]), np.array([3.0, 1.0]), 1)
    assert big[0, 0] != 3 * 2**51


@needs_kernel
def test_odd_lots_floor_and_the_remainder_goes_where_the_target_completes():
    q = np.array([1050, 1000, 999, 0])
    c = np.array([[0.5, 1.0, 1.0], [0.26, 0.74, 1.0], [0.5, 0.999, 1.0], [0.2, 1.0, 1.0]])
    got = assert_identical(q, c, 100)
    # 1050: 500, then the target is complete -> 1050 and nothing after.  1000 (whole lots): nearest
    # lot, 260 -> 300, 740 -> 700.  999: floor, 499.5 -> 400, 998.001 -> 900, the last bin 999.
    np.testing.assert_array_equal(got, [[500, 550, 0], [300, 400, 300], [400, 500, 99], [0, 0, 0]])


@needs_kernel
def test_shapes_zero_orders_one_bin_zero_quantity():
    assert assert_identical(np.zeros(0, dtype=np.int64), np.array([0.5, 1.0]), 1).shape == (0, 2)
    assert assert_identical(np.zeros(0, dtype=np.int64), np.zeros((0, 3)), 100).shape == (0, 3)
    np.testing.assert_array_equal(assert_identical(np.array([7, 0, 250]), np.array([1.0]), 100), [[7], [0], [250]])
    np.testing.assert_array_equal(assert_identical(np.array([0, 0]), np.array([[0.1, 1.0], [0.9, 1.0]]), 1),
                                  [[0, 0], [0, 0]])


@needs_kernel
def test_per_order_profile_with_extra_rows_reads_the_first_rows():
    q = np.array([100, 10])
    c = np.array([[0.5, 1.0], [0.25, 1.0], [0.9, 1.0]])
    np.testing.assert_array_equal(assert_identical(q, c, 1), [[50, 50], [2, 8]])


@needs_kernel
def test_schedules_take_the_compiled_path():
    q = np.array([1000, 37, 12_345])
    with mock.patch.object(K, "_round_cumulative_numpy", side_effect=AssertionError("fell back to the numpy path")):
        twap, vwap = ex.twap(q, 7, lot=10), ex.vwap(q, [3.0, 1.0, 0.0, 2.0])
        ac = ex.almgren_chriss(q, 5, 1.0, 0.95, 2.5e-6, 2.5e-7, 1e-6)
    np.testing.assert_array_equal(twap.shares, reference(q, np.arange(1, 8) / 7, 10))
    np.testing.assert_array_equal(vwap.shares, reference(q, np.array([0.5, 4 / 6, 4 / 6, 1.0]), 1))
    np.testing.assert_array_equal(ac.shares.sum(axis=1), q)


# ---------------------------------------------------------------------------
# what the compiled loop does not take goes to the numpy path
# ---------------------------------------------------------------------------


def test_other_dtypes_go_to_the_numpy_path():
    q32 = np.array([1000, 10], dtype=np.int32)
    c32 = np.array([0.25, 0.5, 0.75, 1.0], dtype=np.float32)
    for q, c in ((q32, c32.astype(np.float64)), (q32.astype(np.int64), c32)):
        np.testing.assert_array_equal(K.round_cumulative(q, c, 1), reference(q, c, 1))


def test_inputs_the_loop_cannot_index_raise_as_the_numpy_path_does():
    # Too few profile rows for the orders, or no bins: the numpy path raises, and so does round_cumulative
    # (the loop would read past the profile's end).
    for q, c in ((np.array([1, 2, 3]), np.ones((2, 4))), (np.array([1, 2]), np.ones((0, 4))),
                 (np.array([1, 2]), np.zeros(0))):
        with pytest.raises(Exception) as want:
            reference(q, c, 1)
        with pytest.raises(want.type):
            K.round_cumulative(q, c, 1)


# ---------------------------------------------------------------------------
# the switch
# ---------------------------------------------------------------------------

_PROBE = textwrap.dedent("""
    import sys
    import numpy as np
    import execlab as ex
    from execlab import _kernels as K
    from execlab._compiled import have_numba, jit
    s = ex.vwap(np.array([1000, 10]), [1.0, 1.0, 1.0, 1.0])
    print(have_numba(), jit(K._round_cumulative_loop) is not None, "numba" in sys.modules, s.shares.tolist())
""")


def _probe(switch: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "EXECLAB_NO_NUMBA"}
    if switch is not None:
        env["EXECLAB_NO_NUMBA"] = switch
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_no_numba_switch_forces_the_numpy_path():
    # Not even imported: the switch is read before numba is.
    assert _probe("1") == "False False False [[250, 250, 250, 250], [2, 3, 3, 2]]"


def test_without_the_switch_numba_is_used_when_installed():
    pytest.importorskip("numba")
    for switch in (None, "0"):
        assert _probe(switch) == "True True True [[250, 250, 250, 250], [2, 3, 3, 2]]"
