"""Intervals of fit_impact: profile score, Wald, bootstrap; weak identification; summary."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
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
    wald = coverage_study("linear", 500, 200, seed=4000, method="wald")
    assert wald["coverage"].iloc[0] < t["coverage"].iloc[0]


def test_coverage_study_bad_input():
    with pytest.raises(ValueError, match=r"model == 'cubic', must be one of"):
        coverage_study("cubic", 500, 10, seed=0)
    with pytest.raises(ValueError, match=r"n == 10, must be >= 20"):
        coverage_study("sqrt", 10, 10, seed=0)


# --------------------------------------------------------------------------
# Clustered covariance (groups=)
# --------------------------------------------------------------------------
def _clustered_sample(n=2_000, n_groups=50, rng=41):
    """Metaorders whose costs share a shock within each cluster (a stock-day's price move)."""
    g = np.random.default_rng(rng)
    df = metaorders(n, TRUE_POWER, rng=rng).drop(columns=["arrival_price", "avg_price", "side"])
    day = g.integers(0, n_groups, n)
    shock = g.normal(0.0, 0.3, n_groups)[day]  # in units of sigma
    df["shortfall_bps"] = df["shortfall_bps"] + 1e4 * df["sigma"] * shock
    df["day"] = day
    return df


def test_cluster_ols_matches_statsmodels():
    import statsmodels.api as sm

    df = _clustered_sample()
    fit = fit_impact(df, "sqrt", groups="day")
    x = np.sqrt(df["quantity"] / df["daily_volume"]).to_numpy()
    y = (df["shortfall_bps"] / 1e4 / df["sigma"]).to_numpy()
    # statsmodels' cluster covariance with the t(G - 1) reference distribution (df_correction).
    ref = sm.OLS(y, x[:, None]).fit(cov_type="cluster", cov_kwds={"groups": df["day"].to_numpy()}, use_t=True)
    assert fit.cov_type == "cluster"
    assert fit.bse["Y"] == pytest.approx(float(ref.bse[0]), rel=1e-10)
    np.testing.assert_allclose(fit.conf_int(method="wald").to_numpy(), ref.conf_int(), rtol=1e-10)
    # The shared shock makes the clustered error larger than the HC1 one.
    assert fit.bse["Y"] > 1.5 * fit_impact(df, "sqrt").bse["Y"]
    # Labels or a column name give the same fit.
    same = fit_impact(df, "sqrt", groups=df["day"].map(lambda d: f"day{d}"))
    assert same.bse["Y"] == pytest.approx(fit.bse["Y"], rel=1e-12)


@pytest.mark.filterwarnings("ignore::execlab.impact.ImpactWarning")
def test_cluster_likelihood_is_the_cluster_sandwich():
    # statsmodels' cluster covariance of the quasi-likelihood, by hand: H^-1 (sum_g s_g s_g') H^-1,
    # times G/(G-1) (n-1)/(n-k).
    df = _clustered_sample()
    fit = fit_impact(df, "power", groups=df["day"].to_numpy())
    res = fit.results
    S = res.model.score_obs(res.params)
    Sg = np.vstack([S[df["day"].to_numpy() == d].sum(axis=0) for d in np.unique(df["day"])])
    Hinv = np.linalg.inv(res.model.hessian(res.params))
    G, n, k = Sg.shape[0], S.shape[0], S.shape[1]
    cov = Hinv @ (Sg.T @ Sg) @ Hinv * G / (G - 1) * (n - 1) / (n - k)
    np.testing.assert_allclose(np.asarray(res.cov_params()), cov, rtol=1e-8)
    assert fit.cov_type == "cluster"
    assert fit.bse["Y"] > fit_impact(df, "power").bse["Y"]


def test_cluster_profile_interval_is_the_clustered_score_test():
    df = _clustered_sample()
    fit = fit_impact(df, "sqrt", groups="day")
    y = (df["shortfall_bps"] / 1e4 / df["sigma"]).to_numpy()
    g = np.sqrt(df["quantity"] / df["daily_volume"]).to_numpy()
    day = df["day"].to_numpy()
    lo, hi = fit.conf_int().loc["Y"]
    for c in (lo, hi):
        sg = np.bincount(day, weights=(y - c * g) * g)
        assert sg.sum() ** 2 / (sg @ sg) == pytest.approx(stats.chi2.ppf(0.95, 1), rel=1e-8)
    assert hi - lo > 1.5 * np.subtract(*fit_impact(df, "sqrt").conf_int().loc["Y"][::-1])


def test_cluster_intervals_cover_under_shared_shocks():
    # 60 samples with a shared shock per cluster: clustered profile intervals of Y cover, HC1 ones do not.
    hit_cl = hit_hc = 0
    for r in range(60):
        df = _clustered_sample(800, 40, rng=500 + r)
        truth = TRUE_POWER["Y"]
        lo, hi = fit_impact(df, "sqrt", groups="day").conf_int().loc["Y"]
        hit_cl += lo <= truth <= hi
        lo, hi = fit_impact(df, "sqrt").conf_int().loc["Y"]
        hit_hc += lo <= truth <= hi
    assert hit_cl >= 52  # 0.87 or more
    assert hit_hc < hit_cl - 8


def test_cluster_bootstrap_resamples_whole_clusters():
    df = _clustered_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpactWarning)
        fit = fit_impact(df, "power", groups="day")
    ci = fit.conf_int(method="bootstrap", rng=3, n_boot=99)
    assert (ci["lower"] < ci["upper"]).all()
    lo, hi = fit_impact(df, "sqrt", groups="day").conf_int(method="bootstrap", rng=3, n_boot=199).loc["Y"]
    wl, wh = fit_impact(df, "sqrt", groups="day").conf_int(method="wald").loc["Y"]
    assert (hi - lo) == pytest.approx(wh - wl, rel=0.35)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cov_type": "cluster"}, r"cov_type='cluster' needs groups"),
        ({"cov_type": "HC1", "groups": "day"}, r"groups is given but cov_type == 'HC1'"),
        ({"groups": [0, 1]}, r"groups has 2 labels, must have one per execution \(300\)"),
        ({"groups": "nope"}, r"nope"),
        ({"groups": np.zeros(300)}, r"groups has 1 cluster, must have >= 2"),
        ({"groups": np.r_[np.nan, np.arange(299.0)]}, r"groups is missing at row 0"),
    ],
)
def test_cluster_bad_input(kwargs, match):
    df = _clustered_sample(300, 10)
    with pytest.raises(ValueError, match=match):
        fit_impact(df, "sqrt", **kwargs)


# --------------------------------------------------------------------------
# Prediction intervals for new orders
# --------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["sqrt", "power"])
def test_prediction_intervals_cover_new_orders(model):
    truth = {"Y": 0.7, "delta": 0.5, "noise": 0.3}
    fit = fit_impact(metaorders(3_000, truth, rng=61), model)
    new = metaorders(4_000, truth, rng=62)
    pi = fit.predict_interval(new)
    np.testing.assert_allclose(pi["cost_bps"], fit.predict(new), rtol=1e-10)
    inside = (pi["lower_bps"] <= new["shortfall_bps"]) & (new["shortfall_bps"] <= pi["upper_bps"])
    assert 0.935 <= inside.mean() <= 0.965
    # Wider at a lower confidence level? No: narrower, and the half-width scales with sigma.
    pi80 = fit.predict_interval(new, alpha=0.2)
    assert ((pi80["upper_bps"] - pi80["lower_bps"]) < (pi["upper_bps"] - pi["lower_bps"])).all()
    half = (pi["upper_bps"] - pi["lower_bps"]) / new["sigma"]
    assert half.std() / half.mean() < 0.05  # estimation error is small beside the noise


def test_prediction_interval_hand_worked_sqrt():
    fit = fit_impact(metaorders(1_000, {"Y": 0.7, "delta": 0.5}, rng=63), "sqrt")
    new = pd.DataFrame({"quantity": [10_000.0], "daily_volume": [1e6], "sigma": [0.02]}, index=["a"])
    pi = fit.predict_interval(new)
    Y, se, s = fit.params["Y"], fit.bse["Y"], fit.scale
    half = stats.norm.ppf(0.975) * np.sqrt(s**2 + 0.01 * se**2)
    assert pi.index.tolist() == ["a"]
    assert pi.loc["a", "cost_bps"] == pytest.approx(1e4 * 0.02 * Y * 0.1)
    assert pi.loc["a", "mean_se_bps"] == pytest.approx(1e4 * 0.02 * 0.1 * se)
    assert pi.loc["a", "upper_bps"] == pytest.approx(1e4 * 0.02 * (Y * 0.1 + half))


@pytest.mark.filterwarnings("ignore::execlab.impact.ImpactWarning")
def test_prediction_interval_almgren_chriss_needs_duration_and_bad_alpha():
    fit = fit_impact(metaorders(3_000, {"gamma": 0.8, "eta": 0.15, "beta": 0.6, "noise": 0.3}, rng=64),
                     "almgren_chriss")
    new = pd.DataFrame({"quantity": [10_000.0], "daily_volume": [1e6], "sigma": [0.02]})
    with pytest.raises(ValueError, match="duration"):
        fit.predict_interval(new)
    pi = fit.predict_interval(new.assign(duration=0.5))
    assert pi.loc[0, "lower_bps"] < pi.loc[0, "cost_bps"] < pi.loc[0, "upper_bps"]
    with pytest.raises(ValueError, match=r"alpha == 1.5, must be"):
        fit.predict_interval(new.assign(duration=0.5), alpha=1.5)
    with pytest.raises(ValueError, match="sigma"):
        fit.predict_interval(new.assign(duration=0.5, sigma=-1.0))


def test_cluster_summary_says_so():
    df = _clustered_sample(600, 30)
    text = str(fit_impact(df, "sqrt", groups="day").summary())
    assert "clustered by 30 groups" in text and "cluster" in text
