"""Intervals of fit_impact: profile score, Wald, bootstrap; weak identification; summary."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from execlab.impact import ImpactWarning, coverage_study, fit_impact
from execlab.synthetic import metaorders

TRUE_POWER = {"Y": 0.7, "delta": 0.55, "noise": 0.3}


def test_one_regressor_score_interval_solves_the_score_test():
    # At each end of the sqrt fit's interval the robust score statistic equals the chi2(1) 95 % point.
    df = metaorders(2_000, {"Y": 0.7, "delta": 0.5}, rng=31)
    fit = fit_impact(df, "sqrt")
    y = (df["shortfall_bps"] / 1e4 / df["sigma"]).to_numpy()
    g = np.sqrt(df["quantity"] / df["daily_volume"]).to_numpy()
    lo, hi = fit.conf_int().loc["Y"]
    for c in (lo, hi):
        r = y - c * g
        assert (r @ g) ** 2 / np.sum(r**2 * g**2) == pytest.approx(stats.chi2.ppf(0.95, 1), rel=1e-8)
    assert lo < fit.params["Y"] < hi


def test_power_profile_interval_ends_are_score_test_boundaries():
    df = metaorders(3_000, TRUE_POWER, rng=32)
    fit = fit_impact(df, "power")
    x = (df["quantity"] / df["daily_volume"]).to_numpy()
    y = (df["shortfall_bps"] / 1e4 / df["sigma"]).to_numpy()
    L = np.log(x)
    lo, hi = fit.conf_int().loc["delta"]
    for d in (lo, hi):
        g, h = x**d, x**d * L
        r = y - g * (g @ y) / (g @ g)
        ht = h - g * (g @ h) / (g @ g)
        assert (r @ ht) ** 2 / np.sum(r**2 * ht**2) == pytest.approx(stats.chi2.ppf(0.95, 1), rel=1e-5)
    # Y's interval is asymmetric (log-normal-like), unlike Wald's.
    ci, wald = fit.conf_int().loc["Y"], fit.conf_int(method="wald").loc["Y"]
    Y = fit.params["Y"]
    assert ci["upper"] - Y > Y - ci["lower"]
    assert wald["upper"] - Y == pytest.approx(Y - wald["lower"])


def test_summary_and_repr_name_the_interval_method():
    fit = fit_impact(metaorders(3_000, TRUE_POWER, rng=33), "power")
    text = str(fit.summary())
    assert "Intervals: profile" in text and "Reference size x0" in text
    assert "Intervals: Wald" in str(fit.summary(method="wald"))
    assert "ci=profile" in repr(fit)
    assert fit_impact(metaorders(3_000, TRUE_POWER, rng=33), "power", ci_method="wald").ci_method == "wald"
    assert fit.reference == pytest.approx(float(np.median(fit.data["participation"])))


def test_bootstrap_is_reproducible_and_needs_an_rng():
    fit = fit_impact(metaorders(1_500, TRUE_POWER, rng=34), "power")
    a = fit.conf_int(method="bootstrap", n_boot=60, rng=5)
    b = fit.conf_int(method="bootstrap", n_boot=60, rng=np.random.default_rng(5))
    assert a.equals(b) and (a["lower"] < a["upper"]).all()
    with pytest.raises(TypeError, match=r"conf_int\(method='bootstrap'\) needs rng"):
        fit.conf_int(method="bootstrap")
    with pytest.raises(ValueError, match=r"method == 'exact', must be one of \['profile', 'wald', 'bootstrap'\]"):
        fit.conf_int(method="exact")
    with pytest.raises(ValueError, match=r"ci_method == 'bootstrap', must be one of \['profile', 'wald'\]"):
        fit_impact(metaorders(100, TRUE_POWER, rng=0), "power", ci_method="bootstrap")


def test_small_sample_says_delta_is_weakly_identified():
    # n = 500: delta's 95 % interval is about 1 wide; the fit warns, and the interval is honest (wide).
    df = metaorders(500, TRUE_POWER, rng=35)
    with pytest.warns(ImpactWarning, match=r"delta == .* is weakly identified by these 500 executions: its 95 % "
                      r"profile interval is \[.*\].*model='sqrt'"):
        fit = fit_impact(df, "power")
    assert "delta" in fit.weak and "Weakly identified" in str(fit.summary())
    lo, hi = fit.conf_int().loc["delta"]
    assert hi - lo > 0.5
    # Plenty of data: no warning, no extra work.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImpactWarning)
        assert fit_impact(metaorders(20_000, TRUE_POWER, rng=36), "power").weak == {}


def test_linear_model_coverage_small_sample():
    # Wald HC1 covered 0.922 at n = 500 (leverage of the largest orders); the score interval holds.
    t = coverage_study("linear", 500, 200, seed=4000)
    assert 0.93 <= t["coverage"].iloc[0] <= 0.98, t


def test_coverage_study_bad_input():
    with pytest.raises(ValueError, match=r"model == 'cubic', must be one of"):
        coverage_study("cubic", 500, 10, seed=0)
    with pytest.raises(ValueError, match=r"n == 10, must be >= 20"):
        coverage_study("sqrt", 10, 10, seed=0)
