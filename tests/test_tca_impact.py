"""TCA on a SYNTHETIC desk: known broker differences recovered, cost curves, impact fits with clustered errors."""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import execlab as ex
from execlab._tca import synthetic_desk, tca
from execlab._tca._result import cluster_codes


@pytest.fixture(scope="module")
def mkt():
    with tempfile.TemporaryDirectory() as tmp:
        ex.synthetic.lobster_market(tmp, tickers=("SYNA", "SYNB"), sessions=25, seed=5, events_per_session=1000)
        return ex.Market.from_lobster(tmp, "5min")


@pytest.fixture(scope="module")
def desk(mkt):
    return synthetic_desk(mkt, orders_per_session=30, first_session=10, window=10, seed=3)


@pytest.fixture(scope="module")
def res(desk, mkt):
    return tca(desk.orders, desk.fills, mkt)


def test_known_differences_recovered(res, desk):
    assert len(res.rejected) == 0 and len(res.orders) == len(desk.orders)
    # Broker A's +2 bps markup on every fill: exactly 2 bps on the counterfactual, recovered with an interval.
    assert desk.truth.loc[("broker", "A - C"), "vs_mid_bps"] == pytest.approx(2.0, abs=1e-3)
    d = res.compare("broker", "vs_mid_bps", "C", rng=np.random.default_rng(0))
    assert d.loc["A", "ci_lower"] < 2.0 < d.loc["A", "ci_upper"] and d.loc["A", "ci_lower"] > 0
    true_b = desk.truth.loc[("broker", "B - C"), "vs_mid_bps"]
    assert d.loc["B", "ci_lower"] < true_b < d.loc["B", "ci_upper"]
    # The caps: no order's busiest bar exceeds its broker's cap, and the busiest reach it.
    peak = res.orders.groupby("broker")["max_bar_participation"].max()
    assert peak.to_dict() == pytest.approx({"A": 0.10, "B": 0.25, "C": 0.10}, abs=0.01)
    # Broker C's fee: 0.003 $/share against 0.001, to the cent fraction.
    fee = res.compare("broker", "fees_per_share", "C", rng=0)
    assert fee["diff"].to_numpy() == pytest.approx([-0.002, -0.002])


def test_cost_curve_and_fit_come_from_the_table(res):
    curve = res.cost_curve("participation", bins=4, model="sqrt", rng=1)
    assert curve.table["count"].sum() == (res.orders["executed"] > 0).sum()
    assert (curve.table["ci_lower"] <= curve.table["mean"]).all() and (curve.table["mean"] <= curve.table["ci_upper"]).all()
    direct = ex.fit_impact(res.impact_data("participation"), "sqrt")
    assert curve.fit.params["Y"] == pytest.approx(direct.params["Y"])
    # the table goes straight into fit_impact: Q / V of the size fit is executed / ADV
    data = res.impact_data("size")
    assert np.allclose(data["quantity"] / data["daily_volume"], res.orders.loc[data.index, "executed"] / res.orders.loc[data.index, "adv"])
    assert res.cost_curve("size", bins=[0, 1, 100], model="sqrt", rng=1).table["count"].sum() == len(data)


def test_clustered_errors_are_statsmodels_cluster_covariance(res):
    data = res.impact_data("size")
    y = (data["avg_price"] / data["arrival_price"] - 1) * np.where(data["side"] == "BUY", 1, -1) / data["sigma"]
    x = np.sqrt(data["quantity"] / data["daily_volume"]).to_numpy()
    for groups in ["session", ("ticker", "session")]:
        g = cluster_codes(data, groups)
        ours = res.fit_impact("sqrt", cov_type="cluster", cluster=groups)
        ref = sm.OLS(y.to_numpy(), x[:, None]).fit(cov_type="cluster", cov_kwds={"groups": g})
        assert ours.params["Y"] == pytest.approx(ref.params[0], rel=1e-10)
        assert ours.bse["Y"] == pytest.approx(ref.bse[0], rel=1e-8)
        assert ours.cov_type == "cluster"
    with pytest.raises(ValueError, match=r"cluster column\(s\) \['desk'\] not in the table"):
        res.fit_impact("sqrt", cov_type="cluster", cluster="desk")


def test_power_law_cluster_path_reproduces_its_own_hc0(res):
    """The likelihood route used for clusters gives back fit_impact's own HC0 errors when asked for HC0."""
    fit = res.fit_impact("power")
    mod = fit.results.model
    again = mod.fit(start_params=np.asarray(fit.results.params), method="newton", maxiter=0, disp=0, cov_type="HC0",
                    warn_convergence=False)
    assert np.allclose(np.asarray(again.bse), np.asarray(fit.results.bse), rtol=1e-8)
    cl = res.fit_impact("power", cov_type="cluster", cluster="session")
    assert np.allclose(cl.params, fit.params) and cl.cov_type == "cluster" and (cl.bse > 0).all()


def test_figures_return_axes(res):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = res.plot_markouts(by="broker")
    assert ax.get_ylabel().startswith("bps")
    ax = res.plot_cost_by("broker", rng=0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]
    ax = res.cost_curve("size", bins=3, model="sqrt", rng=0).plot()
    assert ax.get_xscale() == "log"
    plt.close("all")
