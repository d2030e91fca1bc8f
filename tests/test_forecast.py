r"""Forecasts from earlier sessions only: hand-worked trailing values, no look-ahead, fallbacks, half-days.

The hand-worked market: one ticker (XYZ), four sessions 2024-01-02..05, four
30-minute bins of a 09:30-11:30 session.

session  volume per bin          total  profile                  log returns of mid_close  sigma  mean spread
0        400  100  100  400      1000   .40  .10  .10  .40      +.01   0   -.01             .02    (.01+.03+.02+.02)/4 = .02
1        600  400  400  600      2000   .30  .20  .20  .30      +.02   0   -.02             .04    .04
2        100  100  100  100       400   .25  .25  .25  .25      +.03   0   -.03             .06    (.05+.07+.06+.06)/4 = .06
3         50  150  150   50       400   .125 .375 .375 .125     +.05   0   -.05             .10    .08

sigma of a session is sqrt(4) x the sample sd (ddof 1) of its three log returns: for (+a, 0, -a) the
sd is a, so sigma = 2a.  mid_close of a session is 100, 100 e^a, 100 e^a, 100.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import execlab as ex
from execlab._forecast import resolve_forecast

TZ = "America/New_York"
HOURS = dict(open="09:30", close="11:30")
DATES = ("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05")
VOLUME = [[400, 100, 100, 400], [600, 400, 400, 600], [100, 100, 100, 100], [50, 150, 150, 50]]
RETURN = [0.01, 0.02, 0.03, 0.05]  # a in (+a, 0, -a)
SPREAD = [[0.01, 0.03, 0.02, 0.02], [0.04] * 4, [0.05, 0.07, 0.06, 0.06], [0.08] * 4]


def session_rows(day: str, volume, a: float, spread, ticker: str = "XYZ") -> list[dict]:
    mids = [100.0, 100.0 * np.exp(a), 100.0 * np.exp(a), 100.0][: len(volume)]
    return [{"ticker": ticker, "time": pd.Timestamp(f"{day} 09:30", tz=TZ) + b * pd.Timedelta("30min"),
             "volume": volume[b], "close": mids[b], "mid_close": mids[b], "mid": mids[b], "spread": spread[b]}
            for b in range(len(volume))]


def hand_bars(n_sessions: int = 4) -> pd.DataFrame:
    rows = []
    for d in range(n_sessions):
        rows += session_rows(DATES[d], VOLUME[d], RETURN[d], SPREAD[d])
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def market() -> ex.Market:
    return ex.market_from_bars(hand_bars(), "30min", **HOURS)


def test_hand_market_daily_values(market):
    daily = market.daily()
    assert daily["daily_volume"].tolist() == [1000, 2000, 400, 400]
    np.testing.assert_allclose(daily["sigma"], [0.02, 0.04, 0.06, 0.10], rtol=1e-12)
    np.testing.assert_allclose(daily["mean_spread"], [0.02, 0.04, 0.06, 0.08], rtol=1e-12)


# ---------------------------------------------------------------------------
# Hand-worked trailing values
# ---------------------------------------------------------------------------
def test_trailing_window_of_two(market):
    fc = ex.forecast_market(market, window=2)
    assert fc.source[0].tolist() == ["none", "none", "trailing 2 sessions", "trailing 2 sessions"]
    assert fc.n_sessions_used[0].tolist() == [0, 1, 2, 2]
    assert fc.available.tolist() == [[False, False, True, True]]
    # session 2 from sessions 0 and 1
    np.testing.assert_allclose(fc.profile[0, 2], [0.35, 0.15, 0.15, 0.35], rtol=1e-12)
    assert fc.adv[0, 2] == pytest.approx((1000 + 2000) / 2)
    assert fc.sigma[0, 2] == pytest.approx(np.sqrt((0.02**2 + 0.04**2) / 2))  # sqrt(0.001)
    assert fc.spread[0, 2] == pytest.approx((0.02 + 0.04) / 2)
    # session 3 from sessions 1 and 2
    np.testing.assert_allclose(fc.profile[0, 3], [0.275, 0.225, 0.225, 0.275], rtol=1e-12)
    assert fc.adv[0, 3] == pytest.approx(1200.0)
    assert fc.sigma[0, 3] == pytest.approx(np.sqrt(0.0026))
    assert fc.spread[0, 3] == pytest.approx(0.05)
    # no forecast: NaN everywhere
    assert np.isnan(fc.profile[0, :2]).all() and np.isnan(fc.adv[0, :2]).all()
    assert np.isnan(fc.sigma[0, :2]).all() and np.isnan(fc.spread[0, :2]).all()


def test_trailing_window_of_three_and_min_sessions(market):
    fc = market.forecast(window=3)
    assert fc.source[0].tolist() == ["none", "none", "none", "trailing 3 sessions"]
    np.testing.assert_allclose(fc.profile[0, 3], np.array([0.95, 0.55, 0.55, 0.95]) / 3, rtol=1e-12)
    assert fc.adv[0, 3] == pytest.approx(3400 / 3)
    assert fc.sigma[0, 3] == pytest.approx(np.sqrt(0.0056 / 3))
    assert fc.spread[0, 3] == pytest.approx(0.04)

    fc = market.forecast(window=3, min_sessions=1)
    assert fc.source[0].tolist() == ["none", "trailing 1 sessions", "trailing 2 sessions", "trailing 3 sessions"]
    np.testing.assert_allclose(fc.profile[0, 1], [0.4, 0.1, 0.1, 0.4], rtol=1e-12)
    assert fc.adv[0, 1] == pytest.approx(1000.0)
    assert fc.sigma[0, 1] == pytest.approx(0.02)
    assert fc.spread[0, 1] == pytest.approx(0.02)
    assert fc.adv[0, 2] == pytest.approx(1500.0)
    assert (fc.min_sessions, fc.window) == (1, 3)


def test_forecast_frame_summary_and_repr(market):
    fc = market.forecast(window=2)
    frame = fc.to_frame()
    assert frame.columns.tolist() == ["ticker", "date", "adv", "sigma", "spread", "n_sessions_used", "source"]
    assert frame["adv"].iloc[2:].tolist() == pytest.approx([1500.0, 1200.0])
    assert frame["date"].iat[3] == pd.Timestamp("2024-01-05")
    assert fc.summary().splitlines() == [
        "Forecast from earlier sessions (window 2, min 2, fallback None, smooth None)",
        "  none: 2 ticker-sessions",
        "  trailing 2 sessions: 2 ticker-sessions",
    ]
    assert repr(fc) == "Forecast(1 tickers x 4 sessions, window=2, available 2/4, fallback=None)"
    assert fc.used(np.array([0, 0, 0]), np.array([2, 3, 3])) == "trailing 2 sessions (3 orders)"


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
def test_window_longer_than_the_history(market):
    with pytest.raises(ValueError, match=r"window == 4 \(min_sessions == 4\) is longer than the history: the market holds 4 "
                                         r"sessions, so no session has 4 earlier one\(s\)\. Lower window/min_sessions, load "
                                         r"more sessions, or ask for fallback='same_session' \(look-ahead\)\."):
        market.forecast(window=4)
    one = ex.market_from_bars(hand_bars(1), **HOURS)
    with pytest.raises(ValueError, match=r"window == 20 \(min_sessions == 20\) is longer than the history: the market holds "
                                         r"1 session, so no session has 20 earlier"):
        one.forecast()


def test_bad_arguments(market):
    with pytest.raises(ValueError, match=r"window == 0, must be >= 1\."):
        market.forecast(window=0)
    with pytest.raises(TypeError, match=r"window == 2\.5, must be an integer\."):
        market.forecast(window=2.5)
    with pytest.raises(ValueError, match=r"min_sessions == 3, must be <= window == 2\."):
        market.forecast(window=2, min_sessions=3)
    with pytest.raises(ValueError, match=r"min_sessions == 0, must be >= 1\."):
        market.forecast(window=2, min_sessions=0)
    with pytest.raises(ValueError, match=r"fallback == 'same', must be one of \['same_session'\]\."):
        market.forecast(window=2, fallback="same")
    with pytest.raises(ValueError, match=r"smooth == 0, must be >= 1\."):
        market.forecast(window=2, smooth=0)


def test_require_names_ticker_and_date(market):
    fc = market.forecast(window=2)
    fc.require(np.array([0, 0]), np.array([2, 3]))  # both have a forecast
    with pytest.raises(ValueError, match=r"no forecast for XYZ on 2024-01-03 \(impact inputs\): it has 1 earlier session\(s\) "
                                         r"with volume and the forecast needs 2 \(window == 2\)\. Trade later sessions, lower "
                                         r"window/min_sessions, or ask for the same session's realized values with "
                                         r"fallback='same_session' \(look-ahead\)\."):
        fc.require(np.array([0, 0]), np.array([3, 1]), "impact inputs")


# ---------------------------------------------------------------------------
# Same-session fallback
# ---------------------------------------------------------------------------
def test_same_session_fallback_is_the_session_itself(market):
    fc = market.forecast(window=2, fallback="same_session")
    assert fc.source[0].tolist() == ["same session (look-ahead)"] * 2 + ["trailing 2 sessions"] * 2
    assert fc.n_sessions_used[0].tolist() == [0, 0, 2, 2]
    daily = market.daily_arrays()
    for d in (0, 1):
        np.testing.assert_allclose(fc.profile[0, d], np.array(VOLUME[d]) / sum(VOLUME[d]), rtol=1e-12)
        assert fc.adv[0, d] == daily["daily_volume"][0, d]
        assert fc.sigma[0, d] == daily["sigma"][0, d]
        assert fc.spread[0, d] == daily["mean_spread"][0, d]
    assert fc.adv[0, 2] == pytest.approx(1500.0)  # trailing where there is history
    assert fc.available.all()


def test_same_session_fallback_on_the_bundled_day():
    m = ex.load_market("30min")
    fc = m.forecast(fallback="same_session")
    assert fc.source[:, 0].tolist() == ["same session (look-ahead)"] * 3
    np.testing.assert_array_equal(fc.adv[:, 0], [2_850_140, 810_755, 706_125])
    np.testing.assert_allclose(fc.profile.sum(axis=2), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(fc.sigma[:, 0], m.daily_arrays()["sigma"][:, 0])


def test_resolve_forecast(market):
    fc = market.forecast(window=2)
    assert resolve_forecast(fc, market) is fc
    same = resolve_forecast("same_session", market)
    assert same.fallback == "same_session" and same.window == 20
    with pytest.raises(ValueError, match=r"window == 20 \(min_sessions == 20\) is longer than the history"):
        resolve_forecast(None, market)
    with pytest.raises(ValueError, match=r"forecast == 'trailing', must be a Forecast, None \(trailing sessions\) or "
                                         r"'same_session'\."):
        resolve_forecast("trailing", market)
    with pytest.raises(TypeError, match=r"forecast must be an execlab Forecast \(market\.forecast\(\.\.\.\)\), got dict\."):
        resolve_forecast({}, market)
    other = ex.market_from_bars(hand_bars(3), **HOURS).forecast(window=2)
    with pytest.raises(ValueError, match=r"forecast was made for another market \(its tickers or sessions differ\)"):
        resolve_forecast(other, market)


# ---------------------------------------------------------------------------
# Half-days and smoothing
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def half_day_market() -> ex.Market:
    """Five sessions: 0 and 1 as above, 2 a half-day (closes 10:30), 3 and 4 the sessions 2 and 3 above."""
    dates = ("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08")
    rows = (session_rows(dates[0], VOLUME[0], RETURN[0], SPREAD[0])
            + session_rows(dates[1], VOLUME[1], RETURN[1], SPREAD[1])
            + session_rows(dates[2], [200, 300], 0.5, [0.5, 0.5])
            + session_rows(dates[3], VOLUME[2], RETURN[2], SPREAD[2])
            + session_rows(dates[4], VOLUME[3], RETURN[3], SPREAD[3]))
    return ex.market_from_bars(pd.DataFrame(rows), early_closes={"2024-01-04": "10:30"}, **HOURS)


def test_half_days_are_left_out_of_the_window(half_day_market):
    fc = half_day_market.forecast(window=2)
    assert fc.n_sessions_used[0].tolist() == [0, 1, 2, 2, 2]
    # session 3 skips the half-day: sessions 0 and 1
    np.testing.assert_allclose(fc.profile[0, 3], [0.35, 0.15, 0.15, 0.35], rtol=1e-12)
    assert fc.adv[0, 3] == pytest.approx(1500.0)
    assert fc.sigma[0, 3] == pytest.approx(np.sqrt(0.001))
    assert fc.spread[0, 3] == pytest.approx(0.03)
    # session 4: sessions 1 and 3 (the half-day's volume 500 and spread 0.5 never enter)
    np.testing.assert_allclose(fc.profile[0, 4], [0.275, 0.225, 0.225, 0.275], rtol=1e-12)
    assert fc.adv[0, 4] == pytest.approx(1200.0)
    assert fc.sigma[0, 4] == pytest.approx(np.sqrt(0.0026))
    assert fc.spread[0, 4] == pytest.approx(0.05)


def test_half_day_profile_is_cut_at_its_close(half_day_market):
    fc = half_day_market.forecast(window=2)
    # the trailing profile .35 .15 .15 .35, cut after two bins: (.35, .15) / .5
    np.testing.assert_allclose(fc.profile[0, 2], [0.7, 0.3, 0.0, 0.0], rtol=1e-12)
    assert fc.profile[0, 2].sum() == pytest.approx(1.0)
    same = half_day_market.forecast(window=2, fallback="same_session")
    np.testing.assert_allclose(same.profile[0, 0], [0.4, 0.1, 0.1, 0.4], rtol=1e-12)
    np.testing.assert_allclose(fc.profile[0, 2:].sum(axis=1), 1.0, rtol=1e-12)


def test_smooth_hand_worked_and_sums_to_one(market, half_day_market):
    # Centered width 3, cut at the session's edges: .35 .15 .15 .35 -> .25 .21667 .21667 .25, renormalised
    # by their sum 14/15: 15/56 13/56 13/56 15/56.
    fc = market.forecast(window=2, smooth=3)
    np.testing.assert_allclose(fc.profile[0, 2], np.array([15, 13, 13, 15]) / 56, rtol=1e-12)
    assert fc.smooth == 3
    np.testing.assert_allclose(fc.profile[0, 2:].sum(axis=1), 1.0, rtol=1e-12)
    # The half-day's .7 .3 has two open bins: both average to .5; nothing after the close.
    hd = half_day_market.forecast(window=2, smooth=3)
    np.testing.assert_allclose(hd.profile[0, 2], [0.5, 0.5, 0.0, 0.0], rtol=1e-12)
    for width in (1, 2, 4, 7):
        p = half_day_market.forecast(window=2, min_sessions=1, smooth=width).profile[0, 1:]
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12, err_msg=str(width))
        assert (p >= 0).all()
    # smooth=1 changes nothing
    np.testing.assert_array_equal(market.forecast(window=2, smooth=1).profile, market.forecast(window=2).profile)


def test_forecast_of_bars_without_spread_still_has_profile_and_adv():
    bars = hand_bars().drop(columns="spread")
    m = ex.market_from_bars(bars, **HOURS)
    fc = m.forecast(window=2)
    assert fc.source[0].tolist() == ["none", "none", "trailing 2 sessions", "trailing 2 sessions"]
    assert fc.adv[0, 2] == pytest.approx(1500.0)


# ---------------------------------------------------------------------------
# No look-ahead: data of session d and later never change the forecast of sessions <= d
# ---------------------------------------------------------------------------
N_SESSIONS, N_BINS = 5, 4
DATES5 = ("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08")


def random_bars(volume: np.ndarray, mid: np.ndarray, spread: np.ndarray) -> pd.DataFrame:
    """Bars of tickers A and B from (2, sessions, bins) arrays."""
    k, d, b = (a.ravel() for a in np.meshgrid(np.arange(2), np.arange(N_SESSIONS), np.arange(N_BINS), indexing="ij"))
    times = pd.DatetimeIndex([pd.Timestamp(f"{DATES5[i]} 09:30", tz=TZ) for i in d]) + pd.to_timedelta(b * 30, "min")
    return pd.DataFrame({"ticker": np.array(["A", "B"])[k], "time": times, "volume": volume.ravel(),
                         "close": mid.ravel(), "mid_close": mid.ravel(), "spread": spread.ravel()})


def arrays(draw_volume, draw_mid, draw_spread):
    shape = (2, N_SESSIONS, N_BINS)
    return (np.array(draw_volume, dtype=np.int64).reshape(shape), np.array(draw_mid).reshape(shape),
            np.array(draw_spread).reshape(shape))


N = 2 * N_SESSIONS * N_BINS
market_data = st.tuples(
    st.lists(st.integers(0, 5000), min_size=N, max_size=N),
    st.lists(st.floats(1.0, 1000.0), min_size=N, max_size=N),
    st.lists(st.floats(0.0, 1.0), min_size=N, max_size=N),
)


@settings(deadline=None, max_examples=25)
@given(first=market_data, second=market_data, d=st.integers(0, N_SESSIONS - 1),
       window=st.integers(1, 3), smooth=st.sampled_from([None, 3]))
def test_no_look_ahead(first, second, d, window, smooth):
    v1, m1, s1 = arrays(*first)
    v2, m2, s2 = arrays(*second)
    # the second market: the first one's sessions before d, anything from session d on
    v, m, s = v1.copy(), m1.copy(), s1.copy()
    v[:, d:], m[:, d:], s[:, d:] = v2[:, d:], m2[:, d:], s2[:, d:]
    a = ex.market_from_bars(random_bars(v1, m1, s1), **HOURS).forecast(window, min_sessions=1, smooth=smooth)
    b = ex.market_from_bars(random_bars(v, m, s), **HOURS).forecast(window, min_sessions=1, smooth=smooth)
    upto = slice(0, d + 1)
    for name in ("profile", "adv", "sigma", "spread"):
        np.testing.assert_array_equal(getattr(a, name)[:, upto], getattr(b, name)[:, upto], err_msg=name)
    np.testing.assert_array_equal(a.n_sessions_used[:, upto], b.n_sessions_used[:, upto])
    np.testing.assert_array_equal(a.source[:, upto], b.source[:, upto])
    # and every profile with a forecast sums to 1 over its session
    ok = a.available
    np.testing.assert_allclose(a.profile[ok].sum(axis=1), 1.0, rtol=1e-9)


# ---------------------------------------------------------------------------
# The simulator prices impact with the trailing forecast
# ---------------------------------------------------------------------------
def order(quantity: int, when: str = "2024-01-04 09:30", side: str = "BUY") -> pd.DataFrame:
    return pd.DataFrame({"order_id": ["o1"], "ticker": ["XYZ"], "side": [side], "quantity": [quantity],
                         "decision_time": [pd.Timestamp(when, tz=TZ)]})


@pytest.fixture(scope="module")
def three() -> ex.Market:
    return ex.market_from_bars(hand_bars(3), **HOURS)


def test_simulate_prices_impact_with_sessions_one_and_two(three):
    # Session 3 (2024-01-04), bar 09:30: volume 100, mid 100, spread .05.
    # Trailing sessions 1-2: sigma = sqrt((.02^2 + .04^2) / 2) = sqrt(.001).
    # LinearImpact(Y=0.5): temporary = sigma * Y * q / v = sqrt(.001) * .5 * 100 / 100.
    fc = three.forecast(window=2)
    res = ex.simulate(order(100), ex.twap([100], 1), three, ex.LinearImpact(0.5), forecast=fc, max_participation=None)
    assert res.fills["shares"].tolist() == [100]
    assert res.fills["time"].iat[0] == pd.Timestamp("2024-01-04 09:30", tz=TZ)
    want = 100.0 + 0.05 / 2 + 100.0 * np.sqrt(0.001) * 0.5 * 100 / 100
    assert res.fills["price"].iat[0] == pytest.approx(want, rel=1e-12)  # 101.606139
    assert res.params["forecast"] == "trailing 2 sessions (1 order)"
    assert "Impact inputs:       trailing 2 sessions (1 order)" in res.summary()


def test_simulate_charges_permanent_impact_with_the_trailing_adv(three):
    # Almgren-Chriss with eta .1, beta 1, gamma .3: TWAP of 200 in bars 09:30 and 10:00 of session 3 (volume 100 each).
    # ADV from sessions 1-2: (1000 + 2000) / 2 = 1500.  The second child pays its temporary impact
    # .1 sigma (100/100) plus the first child's permanent impact .3 sigma (100/1500).
    sigma, adv = np.sqrt(0.001), 1500.0
    fc = three.forecast(window=2)
    res = ex.simulate(order(200), ex.twap([200], 2), three, ex.AlmgrenChrissImpact(gamma=0.3, eta=0.1, beta=1.0),
                      forecast=fc, max_participation=None)
    price = res.fills["price"].to_numpy()
    mid2 = 100.0 * np.exp(0.03)  # mid_close of the first bar of session 3
    np.testing.assert_allclose(price, [100.0 + 0.025 + 100.0 * 0.1 * sigma,
                                       mid2 + 0.035 + mid2 * (0.1 * sigma + 0.3 * sigma * 100 / adv)], rtol=1e-12)


def test_simulate_same_session_inputs_differ(three):
    # with fallback='same_session' every session has its own values: session 3's sigma is .06
    res = ex.simulate(order(100), ex.twap([100], 1), three, ex.LinearImpact(0.5), forecast="same_session",
                      max_participation=None)
    # session 3 has only 2 earlier sessions, so the default window of 20 falls back to the session itself
    assert res.params["forecast"] == "same session (look-ahead) (1 order)"
    assert res.fills["price"].iat[0] == pytest.approx(100.0 + 0.025 + 100.0 * 0.06 * 0.5, rel=1e-12)


def test_simulate_refuses_sessions_without_history(three):
    fc = three.forecast(window=2)
    with pytest.raises(ValueError, match=r"no forecast for XYZ on 2024-01-03 \(impact inputs of the orders' sessions\): "
                                         r"it has 1 earlier session\(s\)"):
        ex.simulate(order(100, "2024-01-03 09:30"), ex.twap([100], 1), three, ex.LinearImpact(0.5), forecast=fc)
    # without impact no forecast is needed
    res = ex.simulate(order(100, "2024-01-03 09:30"), ex.twap([100], 1), three, max_participation=None)
    assert res.params["forecast"] is None


def test_simulate_default_forecast_on_one_session_raises():
    one = ex.market_from_bars(hand_bars(1), **HOURS)
    with pytest.raises(ValueError, match=r"window == 20 \(min_sessions == 20\) is longer than the history: the market holds "
                                         r"1 session"):
        ex.simulate(order(100, "2024-01-02 09:30"), ex.twap([100], 1), one, ex.LinearImpact(0.5))
