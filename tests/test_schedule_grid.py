"""Schedules on the market's grid: simulate refuses bins it cannot place without doubt; Schedule.resample.

The newcomer's trap: a 78-bin VWAP made from a 5-minute profile, as a plain array, simulated on
one-minute bars.  Read one bar per bin it used to fill from 09:30 to 10:47 and report FILLED.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab as ex
from execlab.schedules import Schedule

TZ = "America/New_York"
DAY = "2012-06-21"


def at(hhmm: str, day: str = DAY) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hhmm}", tz=TZ)


def one_order(quantity: int, time: str, ticker: str = "AMZN", day: str = DAY, order_id: object = 1) -> pd.DataFrame:
    return pd.DataFrame({"order_id": [order_id], "ticker": ticker, "side": ["BUY"], "quantity": [quantity],
                         "decision_time": [at(time, day)]})


@pytest.fixture(scope="module")
def mkt() -> ex.Market:
    return ex.load_market("1min", "AMZN")


@pytest.fixture(scope="module")
def profile5(mkt) -> np.ndarray:
    """The day's 5-minute volume profile as a plain array: 78 bins, no bin length attached."""
    p = ex.volume_profile(mkt.to_bars(), "5min").to_numpy()
    assert p.shape == (78,)
    return p


# ---------------------------------------------------------------------------
# Refused: bins that may belong to another grid
# ---------------------------------------------------------------------------
def test_78_five_minute_bins_on_390_one_minute_bars_are_refused(mkt, profile5):
    sched = ex.vwap([7_800], profile5)
    assert sched.bin_duration is None
    with pytest.raises(ValueError, match=(
            r"^schedule\.shares has shape \(1, 78\) and no bin_duration, but the market has 390 bins of 1min per "
            r"session: read one bar per bin, order_id 1 would start at the open and finish after 78 of its "
            r"session's 390 bars, yet 78 bins are also a whole session of 5min bins\. Pass bin_duration= when "
            r"building the schedule \(e\.g\. ex\.vwap\(quantity, profile, bin_duration='5min'\) for 5min bins, "
            r"'1min' for one bar per bin\), or build it on the market's grid of 390 bins of 1min \(a schedule with "
            r"a bin_duration goes onto it with \.resample\('1min'\)\)\.$")):
        ex.simulate(one_order(7_800, "09:30"), sched, mkt, max_participation=None)


@pytest.mark.parametrize("time", ["09:00", "09:30", "09:30:40"])
def test_any_order_starting_in_the_first_bar_is_checked(mkt, profile5, time):
    # Before the open the clock starts at the open; 40 s into the first bar is still the open's bar.
    with pytest.raises(ValueError, match=r"order_id 'late' would start at the open"):
        orders = pd.concat([one_order(100, "11:00", order_id="ok"), one_order(100, time, order_id="late")])
        ex.simulate(orders, ex.vwap([100, 100], profile5), mkt)


@pytest.mark.parametrize("algorithm", ["vwap", "pov", "manual", "policy"])
def test_every_schedule_of_binned_data_is_checked(mkt, algorithm):
    # 13 bins are a session of 30-minute bins; a hand-built or POV schedule is no exception.
    shares = np.full((1, 13), 10, dtype=np.int64)
    with pytest.raises(ValueError, match=r"shape \(1, 13\) .* whole session of 30min bins"):
        ex.simulate(one_order(130, "09:30"), Schedule(shares, [130], algorithm), mkt)


def test_more_bins_than_a_session_are_refused_at_any_time():
    # 390 one-minute bins on 78 five-minute bars: the order could never finish, open or not.
    m5 = ex.load_market("5min", "AMZN")
    sched = ex.vwap([3_900], np.ones(390))
    for time in ("09:30", "12:00"):
        with pytest.raises(ValueError, match=(
                r"^schedule\.shares has shape \(1, 390\) and no bin_duration, but the market has 78 bins of 5min per "
                r"session: 390 bins of one bar each do not fit in a session, so the schedule was made on another "
                r"grid \(of 1min bins\?\)\. Pass bin_duration= when building the schedule \(e\.g\. "
                r"ex\.vwap\(quantity, profile, bin_duration='1min'\) for 1min bins, '5min' for one bar per bin\)")):
            ex.simulate(one_order(3_900, time), sched, m5)
    with pytest.raises(ValueError, match=r"\(1, 100\) .*do not fit in a session, so the schedule was made on another "
                                         r"grid\. Pass bin_duration= when building the schedule \(the length of its "
                                         r"bins; '5min' is one bar per bin\)"):
        ex.simulate(one_order(100, "09:30"), ex.vwap([100], np.ones(100)), m5)


def half_day_market() -> ex.Market:
    """One-minute bars of a 09:30-11:00 session (90 bars), then a half-day closing at 10:30 (60 bars)."""
    frames = []
    for day, n in (("2024-01-02", 90), ("2024-01-03", 60)):
        t = pd.date_range(pd.Timestamp(f"{day} 09:30", tz=TZ), periods=n, freq="1min")
        frames.append(pd.DataFrame({"ticker": "XYZ", "time": t, "volume": 1_000, "close": 50.0, "mid": 50.0,
                                    "spread": 0.02}))
    return ex.market_from_bars(pd.concat(frames, ignore_index=True), "1min", open="09:30", close="11:00",
                               early_closes={"2024-01-03": "10:30"})


def test_a_half_day_is_checked_against_its_own_bars():
    # 12 bins are the half-day's 60 bars in 5-minute bins, but no whole fraction of the regular 90.
    m = half_day_market()
    assert m.n_bins == 90 and int(m.valid[1].sum()) == 60
    sched = ex.vwap([1_200], np.ones(12))
    full = ex.simulate(one_order(1_200, "09:30", "XYZ", "2024-01-02"), sched, m, max_participation=None)
    assert full.fills["time"].max() == at("09:41", "2024-01-02")  # one bar per bin, as asked
    with pytest.raises(ValueError, match=r"finish after 12 of its session's 60 bars, yet 12 bins are also a whole "
                                         r"session of 5min bins"):
        ex.simulate(one_order(1_200, "09:30", "XYZ", "2024-01-03"), sched, m)


# ---------------------------------------------------------------------------
# Told the bin length: the whole session
# ---------------------------------------------------------------------------
def test_with_bin_duration_the_78_bins_fill_over_the_whole_session(mkt, profile5):
    sched = ex.vwap([7_800], profile5, bin_duration="5min")
    res = ex.simulate(one_order(7_800, "09:30"), sched, mkt, max_participation=None)
    assert res.orders["status"].tolist() == ["FILLED"]
    times = res.fills["time"]
    # Each bin is released whole at the start of its 5 minutes: the first at the open, the last at 15:55.
    assert times.min() == at("09:30") and times.max() == at("15:55")
    assert (times.dt.minute % 5 == 0).all() and times.nunique() == 78
    # Same fills as the profile Series, which carries its bin length itself.
    series = ex.simulate(one_order(7_800, "09:30"), ex.vwap([7_800], ex.volume_profile(mkt.to_bars(), "5min")), mkt,
                         max_participation=None)
    pd.testing.assert_frame_equal(series.fills, res.fills)


def test_resampled_onto_the_bars_each_slice_trades_over_its_five_minutes(mkt, profile5):
    coarse = ex.vwap([7_800], profile5, bin_duration="5min")
    fine = coarse.resample(mkt.freq)
    assert fine.shares.shape == (1, 390) and fine.bin_duration == pd.Timedelta("1min")
    res = ex.simulate(one_order(7_800, "09:30"), fine, mkt, max_participation=None)
    assert res.orders["status"].tolist() == ["FILLED"] and int(res.fills["shares"].sum()) == 7_800
    times = res.fills["time"]
    assert times.min() == at("09:30") and times.max() == at("15:59")
    # Every 5-minute window fills exactly its slice, in whole shares spread over its five bars.
    per_window = res.fills.groupby(times.dt.floor("5min"))["shares"].sum()
    assert per_window.tolist() == coarse.shares[0].tolist()
    pieces = fine.shares[0].reshape(78, 5)
    assert (pieces.max(axis=1) - pieces.min(axis=1) <= 1).all()


# ---------------------------------------------------------------------------
# Kept: legitimate schedules of one bar per bin
# ---------------------------------------------------------------------------
def test_schedules_on_the_markets_grid_or_counted_in_slices_still_run(mkt):
    prof1 = ex.volume_profile(mkt.to_bars()).to_numpy()
    assert prof1.shape == (390,)
    cases = [
        ("09:30", ex.vwap([3_900], prof1)),                      # a whole session on the market's grid
        ("09:45:30", ex.vwap([3_000], prof1[15:45])),            # 30 bars of the profile from a later arrival
        ("09:30", ex.twap([3_000], 30)),                         # 30 one-minute slices from the open
        ("09:30", ex.market([3_000], n_bins=30)),
        ("09:30", ex.vwap([3_000], prof1[:30], bin_duration="1min")),  # the first 30 minutes, said outright
    ]
    for time, sched in cases:
        q = int(sched.quantity[0])
        res = ex.simulate(one_order(q, time), sched, mkt, max_participation=None)
        assert int(res.fills["shares"].sum()) == q, (time, sched)
    twap30 = ex.simulate(one_order(3_000, "09:30"), ex.twap([3_000], 30), mkt, max_participation=None)
    assert twap30.fills["time"].max() == at("09:59")


def test_the_engine_says_its_schedules_are_on_the_bars(mkt):
    # A TWAP policy of 10 slices of one bar, decided at the open: 10 divides 390, yet the
    # engine's schedule is laid on the bars by the policy and says so.
    exe = ex.Executor(ex.load_market("1min"), forecast="same_session", cash=1_000_000)
    rep = exe.process_ticker("AAPL", "BUY", 5, "MEDIUM", time=f"{DAY} 09:30")
    assert (rep.orders["status"] == "FILLED").all() and len(rep.fills) > 1


# ---------------------------------------------------------------------------
# Schedule.resample
# ---------------------------------------------------------------------------
def test_resample_by_hand():
    # Cumulative targets rounded to the nearest share, ties to even, as in twap:
    # 5 over 4 bars: 1.25, 2.5, 3.75, 5 -> 1, 2, 4, 5;  4 -> 1, 1, 1, 1;  3: .75, 1.5, 2.25, 3 -> 1, 2, 2, 3.
    s = ex.twap([10, 7], 2, bin_duration="4min")
    assert s.shares.tolist() == [[5, 5], [4, 3]]
    assert s.resample("1min").shares.tolist() == [[1, 1, 2, 1, 1, 1, 2, 1], [1, 1, 1, 1, 1, 1, 0, 1]]
    assert s.resample("2min").shares.tolist() == [[2, 3, 2, 3], [2, 2, 2, 1]]
    assert s.resample("4min").shares.tolist() == s.shares.tolist()
    assert s.resample("8min").shares.tolist() == [[10], [7]]
    assert s.resample("12min").shares.tolist() == [[10], [7]]  # a partial last group is zero-padded
    # Lots of 100: 500 shares (whole lots) round to the nearest lot, 125, 250, 375 -> 100, 300, 400;
    # 250 (an odd lot) rounds down, 62.5, 125, 187.5 -> 0, 100, 100, and the remainder of 150 goes last.
    lots = Schedule([[500, 250]], [750], "manual", bin_duration="4min").resample("1min", lot=100)
    assert lots.shares.tolist() == [[100, 200, 100, 100, 0, 100, 0, 150]]
    pov = ex.pov([300], [1000, 1000, 500], rate=0.1, bin_duration="2min").resample("1min")
    assert pov.shares.tolist() == [[50, 50, 50, 50, 25, 25]] and pov.unscheduled.tolist() == [50]
    assert pov.algorithm == "pov" and pov.quantity.tolist() == [300]


@pytest.mark.parametrize("call, message", [
    (lambda: ex.vwap([10], [1.0, 2.0]).resample("1min"),
     r"^this vwap schedule has no bin_duration, so there is no bin length to resample from; build it with "
     r"bin_duration= \(the length its bins were made for\)\.$"),
    (lambda: ex.twap([10], 2, bin_duration="90s").resample("1min"),
     r"^bin_duration == '1min', but the schedule's bins are 90s long: neither is a whole number of the other, so a "
     r"bin cannot be split or merged exactly\.$"),
    (lambda: ex.twap([10], 2, bin_duration="5min").resample("-1min"), r"^bin_duration == '-1min', must be positive\.$"),
    (lambda: ex.twap([10], 2, bin_duration="5min").resample("soon"), r"^bin_duration == 'soon', must be a time span"),
    (lambda: ex.twap([10], 2, bin_duration="5min").resample("1min", lot=0), r"^lot == 0, must be >= 1"),
])
def test_resample_refuses(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(st.integers(0, 10**6), min_size=1, max_size=12), min_size=1, max_size=5),
    k=st.integers(1, 12),
    lot=st.sampled_from([1, 1, 7, 100]),
    unscheduled=st.integers(0, 1000),
)
def test_resampled_schedule_sums_to_the_order_and_is_never_negative(rows, k, lot, unscheduled):
    width = max(len(r) for r in rows)
    shares = np.array([r + [0] * (width - len(r)) for r in rows], dtype=np.int64)
    quantity = shares.sum(axis=1) + unscheduled
    s = Schedule(shares, quantity, "manual", bin_duration=pd.Timedelta("1min") * k,
                 unscheduled=np.full(len(rows), unscheduled))
    fine = s.resample("1min", lot=lot)
    assert fine.shares.dtype == np.int64 and fine.shares.shape == (len(rows), width * k)
    assert (fine.shares >= 0).all()
    np.testing.assert_array_equal(fine.shares.sum(axis=1), quantity - unscheduled)
    np.testing.assert_array_equal(fine.quantity, quantity)
    np.testing.assert_array_equal(fine.unscheduled, s.unscheduled)
    # Each old bin is exactly the sum of its k new ones, spread to within a lot of s/k,
    # in whole lots but for the odd-lot remainder in the bin's last piece.
    pieces = fine.shares.reshape(len(rows), width, k)
    np.testing.assert_array_equal(pieces.sum(axis=2), shares)
    assert (np.abs(pieces - shares[:, :, None] / k) <= lot + 1e-9).all()
    assert (pieces[:, :, :-1] % lot == 0).all()
    # Back to the old bins gives the old schedule, and it is a valid Schedule.
    np.testing.assert_array_equal(fine.resample(pd.Timedelta("1min") * k).shares, shares)
    Schedule(fine.shares, fine.quantity, fine.algorithm, fine.bin_duration, fine.unscheduled)
