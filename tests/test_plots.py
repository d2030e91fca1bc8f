"""Figures: titles, labels with units, extents that fit the data, no deprecated matplotlib calls."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import execlab as ex  # noqa: E402
from execlab import plots  # noqa: E402

TZ = "America/New_York"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sim():
    """Four AMZN orders at 10:00 (TWAP and market), simulated and measured."""
    mkt = ex.load_market("1min", "AMZN")
    t0 = pd.Timestamp("2012-06-21 10:00", tz=TZ)
    orders = pd.DataFrame({"order_id": [1, 2, 3, 4], "ticker": "AMZN", "side": ["BUY", "SELL"] * 2,
                           "quantity": 2_000, "decision_time": t0, "algorithm": ["twap", "twap", "market", "market"]})
    res = ex.simulate(orders, ex.twap(orders["quantity"], 10), mkt, fee_per_share=0.002)
    return mkt, res, ex.shortfall(res.orders, res.fills, mkt)


def _decisions(days: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "decision_id": [f"d{i}" for i in range(len(days))],
        "time": [f"{d} {hh}" for d, hh in zip(days, ["10:00", "11:00", "13:00", "14:00"])],
        "ticker": ["AAPL", "GOOG", "AMZN", "GOOG"][: len(days)],
        "action": ["BUY", "BUY", "SELL", "BUY"][: len(days)],
        "position_size": 2, "urgency": ["HIGH", "MEDIUM", "CRITICAL", "LOW"][: len(days)],
    })


def _readable(ax) -> None:
    """A title, and axis labels that are not raw column names."""
    assert ax.get_title()
    for text in (ax.get_xlabel(), ax.get_ylabel()):
        assert text and "_" not in text, text


# ---------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------

def test_labels_have_units_and_no_raw_names():
    assert plots.label("is_bps") == "implementation shortfall (bps, + = cost)"
    assert plots.label("slippage_vwap_bps") == "slippage vs interval VWAP (bps, + = cost)"
    assert plots.label("new_metric_bps") == "new metric (bps)"
    assert plots.label("algorithm") == "algorithm"
    for name in ex.shortfall.__globals__["COST_METRICS"] + ex.shortfall.__globals__["SLIPPAGE_METRICS"]:
        assert "_" not in plots.label(name) and "(bps" in plots.label(name)


# ---------------------------------------------------------------------------
# simulation and shortfall
# ---------------------------------------------------------------------------

def test_cost_distribution_raises_no_deprecation_warning(sim):
    # seaborn 0.13's boxplot passes matplotlib's `vert`, deprecated in 3.11 and removed in 3.13.
    _, _, table = sim
    with warnings.catch_warnings():
        warnings.simplefilter("error", matplotlib.MatplotlibDeprecationWarning)
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", PendingDeprecationWarning)
        ax = ex.plot_cost_distribution(table, "slippage_vwap_bps", by="algorithm")
    _readable(ax)
    assert ax.get_ylabel() == "slippage vs interval VWAP (bps, + = cost)"
    assert ax.get_xlabel() == "algorithm"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["market", "twap"]
    assert ax.get_title() == "Slippage vs interval VWAP per order, by algorithm (n = 4)"
    # One box per group, vertical: its median line is horizontal at the group's median.
    med = table.groupby("algorithm")["slippage_vwap_bps"].median()
    lines = [ln for ln in ax.lines if len(ln.get_ydata()) == 2 and ln.get_ydata()[0] == ln.get_ydata()[1]]
    for k, g in enumerate(["market", "twap"]):
        assert any(np.isclose(ln.get_ydata()[0], med[g]) and np.mean(ln.get_xdata()) == pytest.approx(k)
                   for ln in lines), g
    # Every order is drawn as a point.
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(table)


def test_cost_distribution_is_reproducible_and_checks_columns(sim):
    _, _, table = sim
    a = np.vstack([c.get_offsets() for c in ex.plot_cost_distribution(table).collections])
    b = np.vstack([c.get_offsets() for c in ex.plot_cost_distribution(table).collections])
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"^column 'cost' is not in table; it has \["):
        ex.plot_cost_distribution(table, "cost")


def test_waterfall_and_trajectory_are_labelled(sim):
    _, res, table = sim
    ax = ex.plot_shortfall_waterfall(table, 1)
    _readable(ax)
    ax = ex.plot_shortfall_waterfall(table, 1, unit="$")
    assert ax.get_ylabel() == "cost ($, + = cost)"
    ax = ex.plot_execution_trajectory(res, 1)
    _readable(ax)
    assert ax.get_xlabel() == "time (New York)"
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(len(t) == 5 and t[2] == ":" for t in ticks), ticks  # HH:MM in New York
    lo, hi = (pd.Timestamp(matplotlib.dates.num2date(v)).tz_convert(TZ) for v in ax.get_xlim())
    # The window runs from two bars before the 10:00 arrival to a few bars after the last fill.
    assert lo == pd.Timestamp("2012-06-21 09:58", tz=TZ)
    last_fill = res.fills.loc[res.fills["order_id"] == 1, "time"].max()
    assert last_fill < hi <= last_fill + pd.Timedelta("7min")


# ---------------------------------------------------------------------------
# impact
# ---------------------------------------------------------------------------

def test_impact_fit_extent_covers_the_binned_data_not_the_extremes():
    fit = ex.fit_impact(ex.synthetic.metaorders(5_000, {"Y": 0.7, "delta": 0.5}, rng=1), "power")
    ax = plots.plot_impact_fit(fit)
    _readable(ax)
    x = fit.data["participation"].to_numpy()
    b = plots._impact_binned(x, fit.data["y"].to_numpy(), 20)
    lo, hi = ax.get_xlim()
    assert lo < b["x"].min() and hi > b["x"].max()
    assert hi < x.max()  # the most extreme order does not stretch the axis
    curve = ax.lines[0].get_xdata()
    assert curve.min() >= lo and curve.max() <= hi
    ax = plots.plot_impact_residuals(fit)
    _readable(ax)


def test_ofi_r2_has_a_title():
    table = ex.order_flow_imbalance(ex.load_quotes("AMZN"), "1min")
    ax = plots.plot_ofi_r2(ex.fit_ofi(table, "2h"))
    assert ax.get_title() == "R² of mid change on order-flow imbalance, per sub-period"
    assert ax.get_ylabel() == "R² (in-sample)"
    ax = plots.plot_ofi(table, "AMZN", fit=ex.fit_ofi(table, None))
    _readable(ax)


# ---------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------

def test_execution_report_axes_fit_the_points():
    exe = ex.Executor(ex.load_market("1min"), forecast="same_session", cash=1_000_000)
    report = exe.run(_decisions(["2012-06-21"] * 2))
    ax = ex.plot_execution_report(report)
    _readable(ax)
    o = report.orders
    for v, (lo, hi) in ((o["expected_cost_bps"], ax.get_xlim()), (o["is_bps"], ax.get_ylim())):
        assert lo <= min(v.min(), 0) and hi >= v.max()
        assert hi - lo < 1.5 * (max(v.max(), 0) - min(v.min(), 0)) + 2.5  # fits the data, with a margin


def test_portfolio_marks_decisions_and_fills_on_one_session():
    mkt = ex.load_market("1min")
    exe = ex.Executor(mkt, forecast="same_session", cash=1_000_000, positions={"AMZN": (1_000, 222.0)})
    report = exe.run(_decisions(["2012-06-21"] * 3))
    assert (report.orders["status"] == "FILLED").all() and set(report.fills["side"]) == {"BUY", "SELL"}
    ax = ex.plot_portfolio(exe.ledger, mkt, report=report)
    _readable(ax)
    assert ax.get_xlabel() == "time (New York), 2012-06-21"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    assert ax.get_xlim() == (0, 390)
    labels = ax.get_legend_handles_labels()[1]
    assert "decision (order sent)" in labels and "buy fills" in labels and "sell fills" in labels
    # The first decision line sits at 10:00, 30 bars after the open.
    decision_lines = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert decision_lines[0].get_xdata()[0] == pytest.approx(30.0)
    # A fills frame alone marks the fills only.
    ax = ex.plot_portfolio(exe.ledger, mkt, report=report.fills)
    labels = ax.get_legend_handles_labels()[1]
    assert "decision (order sent)" not in labels and "buy fills" in labels


def test_portfolio_spans_several_sessions():
    base = ex.load_bars("5min")
    days = pd.bdate_range("2012-06-20", periods=2)
    frames = [base.assign(time=base["time"] + pd.Timedelta(days=(d - pd.Timestamp("2012-06-21")).days)) for d in days]
    mkt = ex.Market.from_bars(pd.concat(frames, ignore_index=True), "5min")
    exe = ex.Executor(mkt, forecast="same_session", cash=1_000_000)
    # Market and VWAP orders: the default policy's 1- and 3-minute TWAP bins do not fit 5-minute bars.
    report = exe.run(_decisions(["2012-06-20", "2012-06-21"]).assign(urgency=["CRITICAL", "LOW"]))
    ax = ex.plot_portfolio(exe.ledger, mkt, report=report)
    assert ax.get_xlim() == (0, 2 * 78)  # both sessions, bars end to end
    assert ax.get_xlabel() == "time (New York), 2012-06-20 to 2012-06-21, 2 sessions"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "09:30\nJun 20" and "09:30\nJun 21" in ticks and ticks[-1] == "16:00"
    # The P&L line has one point per bar of both sessions.
    assert len(ax.lines[0].get_xdata()) == 2 * 78
    # A decision on the second day lands in the second half of the axis.
    dec = [ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == ":"]
    assert dec == pytest.approx([6.0, 78 + 18.0])  # 10:00 and 11:00 on 5-minute bars
