"""Seaborn figures.  Every function draws on an optional ``ax`` and returns the Axes.

Each figure has a title, axis labels with units and, where it shows more than
one thing, a legend; its extent fits the data drawn.  Column names become
readable labels through one table, :data:`LABELS` (``label("is_bps")`` is
``"implementation shortfall (bps, + = cost)"``).  Times are shown in New York
time as HH:MM.  Run scripts with ``MPLBACKEND=Agg`` and close figures you do
not keep (``plt.close(ax.figure)``).
"""

from __future__ import annotations

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter

__all__: list[str] = ["LABELS", "label"]

# --- labels ---

#: Readable axis labels, with units, for the columns execlab's tables carry.
LABELS: dict[str, str] = {
    "is_bps": "implementation shortfall (bps, + = cost)",
    "is_total": "implementation shortfall ($, + = cost)",
    "delay_cost_bps": "delay cost (bps, + = cost)",
    "execution_cost_bps": "execution cost (bps, + = cost)",
    "opportunity_cost_bps": "opportunity cost (bps, + = cost)",
    "fees_bps": "fees (bps)",
    "delay_cost": "delay cost ($, + = cost)",
    "execution_cost": "execution cost ($, + = cost)",
    "opportunity_cost": "opportunity cost ($, + = cost)",
    "fees": "fees ($)",
    "slippage_arrival_bps": "slippage vs arrival price (bps, + = cost)",
    "slippage_vwap_bps": "slippage vs interval VWAP (bps, + = cost)",
    "slippage_twap_bps": "slippage vs interval TWAP (bps, + = cost)",
    "slippage_close_bps": "slippage vs closing price (bps, + = cost)",
    "expected_cost_bps": "expected cost, pre-trade (bps)",
    "expected_impact_bps": "expected impact, pre-trade (bps)",
    "expected_spread_bps": "expected half-spread, pre-trade (bps)",
    "fill_rate": "fill rate (fraction of quantity)",
    "participation": "Q / V (order size / daily volume)",
    "quantity": "quantity (shares)",
    "filled": "filled (shares)",
    "avg_price": "average fill price ($)",
    "volume": "volume (shares)",
    "spread": "spread ($)",
    "mid": "mid ($)",
    "algorithm": "algorithm",
    "urgency": "urgency",
    "ticker": "ticker",
    "side": "side",
    "size": "order size",
    "status": "status",
    "slot": "arrival time (New York)",
}


def label(name: str) -> str:
    """The readable label, with units, of a column name.

    Examples
    --------
    >>> label("slippage_vwap_bps")
    'slippage vs interval VWAP (bps, + = cost)'
    >>> label("my_cost_bps")      # not in the table: underscores to spaces, the unit kept
    'my cost (bps)'
    """
    if name in LABELS:
        return LABELS[name]
    for suffix, unit in (("_bps", "bps"), ("_usd", "$"), ("_pct", "%")):
        if name.endswith(suffix):
            return f"{name[: -len(suffix)].replace('_', ' ')} ({unit})"
    return name.replace("_", " ")


def _quantity(name: str) -> str:
    """'implementation shortfall' from 'implementation shortfall (bps, + = cost)', capitalised."""
    text = label(name).split(" (")[0]
    return text[:1].upper() + text[1:]


def _hhmm(ax, tz) -> None:
    """HH:MM ticks in the given time zone on a date x axis, labelled as New York time."""
    loc = mdates.AutoDateLocator(minticks=4, maxticks=9, tz=tz)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=tz))
    ax.set_xlabel("time (New York)")


# --- impact ---

__all__ += ["plot_impact_fit", "plot_impact_residuals", "plot_trade_flow", "plot_ofi", "plot_ofi_r2"]


def _impact_binned(x: np.ndarray, y: np.ndarray, n_bins: int) -> pd.DataFrame:
    """Mean and standard error of y in quantile bins of x."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    g = pd.DataFrame({"k": k, "x": x, "y": y}).groupby("k")
    return pd.DataFrame({"x": g["x"].mean(), "y": g["y"].mean(), "se": g["y"].std(ddof=1) / np.sqrt(g.size())})


def _log_extent(x: np.ndarray) -> tuple[float, float]:
    """A log-axis range around the points drawn, a fifth of a decade either side."""
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    return lo / 10**0.2, hi * 10**0.2


def plot_impact_fit(fit, n_bins: int = 20, ax=None):
    """Binned mean cost / sigma against Q/V (log axis) with the fitted curve.

    Parameters
    ----------
    fit : execlab.impact.ImpactFit
    n_bins : int, default 20
        Quantile bins of Q/V; error bars are +-2 standard errors of the bin mean.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The x axis spans the binned means (where the data are), not the most
        extreme order, and the fitted curve is drawn over the same range.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from execlab import fit_impact
    >>> from execlab.synthetic import metaorders
    >>> fit = fit_impact(metaorders(5_000, {"Y": 0.7, "delta": 0.5}, rng=1), "power")
    >>> ax = plot_impact_fit(fit)
    >>> ax.get_xlabel(), ax.get_xscale()
    ('Q / V (order size / daily volume)', 'log')
    >>> plt.close(ax.figure)
    """
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    d = fit.data
    x = d["participation"].to_numpy()
    b = _impact_binned(x, d["y"].to_numpy(), n_bins)
    ax.errorbar(b["x"], b["y"], yerr=2 * b["se"], fmt="o", ms=4, color=sns.color_palette()[0],
                label="binned mean (±2 s.e.)")
    lo, hi = _log_extent(b["x"].to_numpy())
    f = np.asarray(fit.fittedvalues)
    if fit.kind == "almgren_chriss":
        order = np.argsort(x)
        keep = (x[order] >= lo) & (x[order] <= hi)
        smooth = pd.Series(f[order]).rolling(max(len(f) // 50, 1), center=True, min_periods=1).mean().to_numpy()
        ax.plot(x[order][keep], smooth[keep], color=sns.color_palette()[1], label="fitted (rolling mean over durations)")
    else:
        p = fit.params
        delta = p["delta"] if "delta" in p else fit.model.delta
        grid = np.geomspace(lo, hi, 200)
        ax.plot(grid, p["Y"] * grid**delta, color=sns.color_palette()[1], label=f"fit: {p['Y']:.2f} (Q/V)^{delta:.2f}")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel(label("participation"))
    ax.set_ylabel("cost / sigma (daily volatilities)")
    ax.set_title(f"Impact fit ({fit.kind}), n = {fit.nobs:,}")
    ax.legend(frameon=False)
    return ax


def plot_impact_residuals(fit, n_bins: int = 20, ax=None):
    """Residuals of cost / sigma against log Q/V, with their binned mean and spread.

    The x axis spans the binned means; a sample of at most 5,000 residuals is
    drawn behind them.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from execlab import fit_impact
    >>> from execlab.synthetic import metaorders
    >>> ax = plot_impact_residuals(fit_impact(metaorders(5_000, {"Y": 0.7, "delta": 0.5}, rng=1), "power"))
    >>> ax.get_title()
    'Residuals of the power fit'
    >>> plt.close(ax.figure)
    """
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    x = fit.data["participation"].to_numpy()
    r = np.asarray(fit.resid)
    b = _impact_binned(x, r, n_bins)
    lo, hi = _log_extent(b["x"].to_numpy())
    step = max(len(r) // 5000, 1)
    ax.scatter(x[::step], r[::step], s=3, alpha=0.25, color="0.5", rasterized=True, label="residuals (sample)")
    ax.errorbar(b["x"], b["y"], yerr=2 * b["se"], fmt="o-", ms=4, color=sns.color_palette()[3], label="binned mean (±2 s.e.)")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel(label("participation"))
    ax.set_ylabel("residual cost / sigma (daily volatilities)")
    ax.set_title(f"Residuals of the {fit.kind} fit")
    ax.legend(frameon=False)
    return ax


def plot_trade_flow(fit, ticker: str, n_bins: int = 15, ax=None):
    """Mid change against signed volume for one ticker: intervals, binned means, linear and concave fits.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from execlab import fit_trade_flow, load_bars
    >>> ax = plot_trade_flow(fit_trade_flow(load_bars("5min")), "AAPL")
    >>> ax.get_title(), ax.get_ylabel()
    ('AAPL: mid change against signed volume', 'mid change over the interval (bps)')
    >>> plt.close(ax.figure)
    """
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    d = fit.data[fit.data["ticker"] == ticker]
    x = d["signed_fraction"].to_numpy()
    y = d["mid_change_bps"].to_numpy()
    ax.scatter(x, y, s=6, alpha=0.3, color="0.5", label="intervals")
    b = _impact_binned(x, y, n_bins)
    ax.errorbar(b["x"], b["y"], yerr=2 * b["se"], fmt="o", ms=4, color=sns.color_palette()[0], label="binned mean (±2 s.e.)")
    grid = np.linspace(x.min(), x.max(), 300)
    t = fit.table.loc[ticker]
    ax.plot(grid, fit.predict(ticker, "linear", grid), color=sns.color_palette()[1], label=f"linear, R² {t.loc['linear', 'r2']:.2f}")
    ax.plot(grid, fit.predict(ticker, "concave", grid), color=sns.color_palette()[2],
            label=f"concave, exponent {t.loc['concave', 'exponent']:.2f}, R² {t.loc['concave', 'r2']:.2f}")
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("signed volume / daily volume (buy - sell)")
    ax.set_ylabel("mid change over the interval (bps)")
    ax.set_title(f"{ticker}: mid change against signed volume")
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_ofi(table: pd.DataFrame, ticker: str, fit=None, ax=None):
    """Mid change (ticks) against OFI (shares) for one ticker, with the whole-day regression line.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from execlab import fit_ofi, load_quotes, order_flow_imbalance
    >>> table = order_flow_imbalance(load_quotes("AMZN"), "1min")
    >>> ax = plot_ofi(table, "AMZN", fit=fit_ofi(table, None))
    >>> ax.get_xlabel()
    'order-flow imbalance (shares)'
    >>> plt.close(ax.figure)
    """
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    d = table[table["ticker"] == ticker]
    ax.scatter(d["ofi"], d["mid_change_ticks"], s=6, alpha=0.3, color="0.4", edgecolors="none", label="intervals")
    if fit is not None:
        res = fit.results[ticker]
        grid = np.linspace(d["ofi"].min(), d["ofi"].max(), 100)
        ax.plot(grid, res.params[0] + res.params[1] * grid, color=sns.color_palette()[1],
                label=f"fit: beta {res.params[1]:.2e} ticks/share, R² {res.rsquared:.2f}")
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel("order-flow imbalance (shares)")
    ax.set_ylabel("mid change over the interval (ticks)")
    ax.set_title(f"{ticker}: mid change against order-flow imbalance")
    return ax


def plot_ofi_r2(fit, published: float | None = 0.65, ax=None):
    """R² of the OFI regression in each sub-period, one line per ticker, beside the paper's average.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from execlab import fit_ofi, load_quotes, order_flow_imbalance
    >>> ax = plot_ofi_r2(fit_ofi(order_flow_imbalance(load_quotes("AMZN"), "1min"), "2h"))
    >>> ax.get_title()
    'R² of mid change on order-flow imbalance, per sub-period'
    >>> plt.close(ax.figure)
    """
    ax = ax if ax is not None else plt.subplots(figsize=(7, 4))[1]
    t = fit.table.reset_index()
    t["start"] = pd.DatetimeIndex(t["subperiod"]).strftime("%H:%M")
    sns.lineplot(data=t, x="start", y="r2", hue="ticker", marker="o", ax=ax)
    if published is not None:
        ax.axhline(published, ls="--", color="k", lw=1, label=f"Cont et al. (2014) average {published:.2f}")
    ax.set_ylim(0, 1)
    ax.set_xlabel("sub-period start (New York)")
    ax.set_ylabel("R² (in-sample)")
    ax.set_title("R² of mid change on order-flow imbalance, per sub-period")
    ax.tick_params(axis="x", rotation=45)
    ax.legend(frameon=False, fontsize=8)
    return ax


# --- simulation and shortfall ---
__all__ += ["plot_shortfall_waterfall", "plot_cost_distribution", "plot_execution_trajectory"]

_WATERFALL_PARTS = (
    ("delay_cost", "delay"),
    ("execution_cost", "execution"),
    ("opportunity_cost", "opportunity"),
    ("fees", "fees"),
)


_EXAMPLE = """
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> import execlab as ex
    >>> mkt = ex.load_market("1min", "AMZN")
    >>> t0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> orders = pd.DataFrame({"order_id": [1, 2, 3, 4], "ticker": "AMZN", "side": ["BUY", "SELL"] * 2,
    ...                        "quantity": 2_000, "decision_time": t0,
    ...                        "algorithm": ["twap", "twap", "market", "market"]})
    >>> sched = ex.twap(orders["quantity"], 10)
    >>> res = ex.simulate(orders, sched, mkt, fee_per_share=0.002)
    >>> table = ex.shortfall(res.orders, res.fills, mkt)"""


def plot_shortfall_waterfall(table: pd.DataFrame, order_id, unit: str = "bps", ax=None):
    """Waterfall of one order's implementation shortfall: delay, execution, opportunity, fees, total.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`execlab.shortfall` (indexed by ``order_id``).
    order_id : object
        The order to draw.
    unit : {"bps", "$"}
        bps of the paper notional, or dollars.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Bars float from the running total; positive (cost) bars are red, gains
        green, the total is grey.  The parts add up to the total exactly.

    Examples
    --------%s
    >>> ax = plot_shortfall_waterfall(table, 1)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['delay', 'execution', 'opportunity', 'fees', 'total']
    >>> plt.close(ax.figure)
    """
    if unit not in ("bps", "$"):
        raise ValueError(f"unit == {unit!r}, must be one of ['bps', '$'].")
    if order_id not in table.index:
        raise ValueError(f"order_id == {order_id!r} is not in the table's index.")
    row = table.loc[order_id]
    suffix = "_bps" if unit == "bps" else ""
    values = [float(row[c + suffix]) for c, _ in _WATERFALL_PARTS]
    labels = [lab for _, lab in _WATERFALL_PARTS] + ["total"]
    total = float(row["is_bps" if unit == "bps" else "is_total"])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    pal = sns.color_palette("muted")
    cost, gain, tot = pal[3], pal[2], pal[7]
    start = np.concatenate([[0.0], np.cumsum(values)[:-1]])
    fmt = "{:+,.2f}" if unit == "bps" else "${:+,.2f}"
    for k, (b, v) in enumerate(zip(start, values)):
        ax.bar(k, v, bottom=b, color=cost if v > 0 else gain, edgecolor="black", linewidth=0.5)
        ax.annotate(fmt.format(v), (k, b + v), ha="center", va="bottom" if v >= 0 else "top", fontsize=8)
    ax.bar(len(values), total, color=tot, edgecolor="black", linewidth=0.5)
    ax.annotate(fmt.format(total), (len(values), total), ha="center", va="bottom" if total >= 0 else "top", fontsize=8)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("component of implementation shortfall")
    ax.set_ylabel("cost (bps of paper notional, + = cost)" if unit == "bps" else "cost ($, + = cost)")
    ends = np.concatenate([[0.0], np.cumsum(values), [total]])
    lo, hi = float(ends.min()), float(ends.max())
    pad = 0.15 * (hi - lo) if hi > lo else 1.0
    ax.set_ylim(lo - pad, hi + pad)  # bars stick to 0, so margins alone leave no room for the value labels
    ax.set_title(f"Implementation shortfall, order {order_id} ({row['side']} {int(row['quantity']):,} {row['ticker']})")
    return ax


def plot_cost_distribution(table: pd.DataFrame, metric: str = "is_bps", by: str = "algorithm", ax=None):
    """Distribution of a cost metric per group: box plot with every order as a point.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`execlab.shortfall` with a ``by`` column.
    metric : str, default "is_bps"
        Any numeric column (positive = cost); orders where it is NaN are left out.
        The axis label comes from :data:`LABELS` (with units).
    by : str, default "algorithm"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Boxes (quartiles and whiskers at 1.5 IQR, no outlier markers) drawn
        by matplotlib directly, on any matplotlib version; every order as a
        jittered point (the jitter is seeded, so the figure is reproducible).

    Examples
    --------%s
    >>> ax = plot_cost_distribution(table, "slippage_vwap_bps")
    >>> ax.get_ylabel()
    'slippage vs interval VWAP (bps, + = cost)'
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['market', 'twap']
    >>> plt.close(ax.figure)
    """
    for c in (metric, by):
        if c not in table.columns:
            raise ValueError(f"column {c!r} is not in table; it has {list(map(str, table.columns))}.")
    data = table[[by, metric]].dropna()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    order = sorted(data[by].unique())
    groups = [data.loc[data[by] == g, metric].to_numpy(np.float64) for g in order]
    pos = np.arange(len(order))
    # Not seaborn's boxplot: seaborn 0.13 passes matplotlib's `vert`, deprecated in 3.11 and gone in 3.13.
    # Axes.boxplot without `vert`/`orientation` is vertical on every matplotlib version.
    if groups:
        ax.boxplot(groups, positions=pos, widths=0.5, showfliers=False, patch_artist=True, manage_ticks=False,
                   boxprops={"facecolor": "0.88", "edgecolor": "0.25"}, medianprops={"color": "0.1"},
                   whiskerprops={"color": "0.25"}, capprops={"color": "0.25"}, zorder=1)
    pal = sns.color_palette("deep", max(len(order), 1))
    rng = np.random.default_rng(0)
    for k, g in enumerate(groups):
        ax.scatter(k + rng.uniform(-0.2, 0.2, len(g)), g, s=10, alpha=0.6, color=pal[k], edgecolors="none", zorder=3)
    ax.axhline(0.0, color="black", linewidth=0.8, linestyle=":")
    ax.set_xticks(pos, [str(g) for g in order])
    ax.set_xlim(-0.6, len(order) - 0.4)
    ax.set_ylabel(label(metric))
    ax.set_xlabel(label(by))
    ax.set_title(f"{_quantity(metric)} per order, by {label(by)} (n = {len(data):,})")
    return ax


def plot_execution_trajectory(result, order_id, ax=None):
    """One order's executed shares against its schedule and the market volume.

    Parameters
    ----------
    result : SimulationResult
        From :func:`execlab.simulate`.
    order_id : object
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Cumulative released (schedule) and filled shares as steps on the left
        axis; the market's volume per bar as bars on a twin right axis, over
        the bars from the order's arrival to its last fill (or the close).
        Times are New York time, HH:MM.

    Examples
    --------%s
    >>> ax = plot_execution_trajectory(res, 1)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('time (New York)', 'cumulative shares')
    >>> plt.close(ax.figure)
    """
    tr = result.trajectory(order_id)
    row = result.orders.loc[result.orders["order_id"] == order_id].iloc[0]
    width = (tr.index[1] - tr.index[0]) if len(tr) > 1 else pd.Timedelta(minutes=1)
    arrival = pd.Timestamp(row["arrival_time"])
    first = tr.index[tr.index + width > arrival]
    start = first[0] if len(first) else tr.index[0]
    busy = tr.index[(tr["filled"] > 0) | (tr["released"] > 0)]
    stop = max(busy.max() if len(busy) else start, start) + 5 * width
    tr = tr[(tr.index >= start - 2 * width) & (tr.index <= stop)]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    pal = sns.color_palette("deep")
    ax2 = ax.twinx()
    ax2.bar(tr.index, tr["market_volume"], width=width * 0.9, align="edge", color="0.8", label="market volume")
    ax2.set_ylabel("market volume per bar (shares)")
    ax2.grid(False)
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    # Steps at bar ends: the cumulative count is reached at the end of the bar it filled in.
    ends = tr.index + width
    x = tr.index[:1].append(ends)
    ax.step(x, np.r_[0, tr["cum_released"]], where="post", color=pal[0], label="schedule (released)")
    ax.step(x, np.r_[0, tr["cum_filled"]], where="post", color=pal[3], label="executed")
    ax.axhline(int(row["quantity"]), color="black", linewidth=0.8, linestyle=":", label="parent quantity")
    ax.axvline(arrival, color="0.3", linewidth=0.8, linestyle="--", label=f"arrival {arrival.tz_convert(tr.index.tz):%H:%M:%S}")
    ax.set_ylabel("cumulative shares")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlim(tr.index[0], ends[-1])
    _hhmm(ax, tr.index.tz)
    status = str(row["status"]).lower().replace("_", " ")
    ax.set_title(f"Order {order_id}: {row['side']} {int(row['quantity']):,} {row['ticker']}, {status}")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    return ax


for _f in (plot_shortfall_waterfall, plot_cost_distribution, plot_execution_trajectory):
    if _f.__doc__:  # None under python -OO
        _f.__doc__ %= _EXAMPLE


# --- engine ---

__all__ += ["plot_execution_report", "plot_portfolio"]


_ENGINE_EXAMPLE = """
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> import execlab as ex
    >>> exe = ex.Executor(ex.load_market("1min"), forecast="same_session", cash=1_000_000)
    >>> report = exe.run(pd.DataFrame({
    ...     "decision_id": ["d1", "d2"], "time": ["2012-06-21 10:00", "2012-06-21 11:00"],
    ...     "ticker": ["AAPL", "AMZN"], "action": ["BUY", "SELL"], "position_size": [5, 2],
    ...     "urgency": ["HIGH", "MEDIUM"], "confidence": [0.8, 0.6]}))"""


def plot_execution_report(report, ax=None):
    """Pre-trade expected cost against realized shortfall, one point per order.

    Parameters
    ----------
    report : ExecutionReport
        From :meth:`execlab.Executor.run`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Scatter of ``expected_cost_bps`` (x) and ``is_bps`` (y) coloured by
        algorithm, with the line y = x: points above it cost more than the
        impact model expected.  Each axis fits its own data and includes 0.

    Examples
    --------%s
    >>> ax = plot_execution_report(report)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('expected cost, pre-trade (bps)', 'implementation shortfall (bps, + = cost)')
    >>> plt.close(ax.figure)
    """
    o = report.orders
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    ax.set_xlabel(label("expected_cost_bps"))
    ax.set_ylabel(label("is_bps"))
    if len(o) == 0:
        ax.set_title("No orders were sent")
        return ax
    x = o["expected_cost_bps"].to_numpy(float)
    y = o["is_bps"].to_numpy(float)
    algo = o["algorithm"].to_numpy(str)
    names = sorted(set(algo))
    pal = sns.color_palette("deep", len(names))
    for k, a in enumerate(names):
        m = algo == a
        ax.scatter(x[m], y[m], s=40, alpha=0.85, color=pal[k], edgecolors="white", linewidths=0.5, label=a, zorder=3)

    def extent(v: np.ndarray) -> tuple[float, float]:
        v = v[np.isfinite(v)]
        lo, hi = (min(float(v.min()), 0.0), max(float(v.max()), 0.0)) if v.size else (0.0, 1.0)
        pad = 0.1 * (hi - lo) if hi > lo else 1.0
        return lo - pad, hi + pad

    (xlo, xhi), (ylo, yhi) = extent(x), extent(y)
    d = [min(xlo, ylo), max(xhi, yhi)]
    ax.plot(d, d, color="black", linewidth=0.8, linestyle=":", label="realized = expected")
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(ylo, yhi)
    ax.set_title(f"Expected vs realized cost, {len(o)} orders")
    ax.legend(title="algorithm", fontsize=8, title_fontsize=8, loc="upper left")
    return ax


def _session_axis(times: pd.DatetimeIndex, step: pd.Timedelta):
    """Bars laid end to end across sessions (nights and weekends left out) on an x axis of bar counts.

    Returns the x position of each bar's start, a function mapping times to x, and the
    ticks (positions, labels): HH:MM on the hour (the date under each session's first
    tick when there are several sessions), or one date per session when there are many.
    """
    x0 = np.arange(len(times), dtype=np.float64)
    t_ns = times.asi8
    step_ns = step.value

    def to_x(t) -> np.ndarray:
        t = pd.DatetimeIndex(t).tz_convert(times.tz).asi8
        i = np.searchsorted(t_ns, t, side="right") - 1
        frac = np.clip((t - t_ns[np.clip(i, 0, None)]) / step_ns, 0.0, 1.0)
        return np.where(i < 0, 0.0, np.clip(i, 0, None) + frac)

    day = times.normalize()
    new_day = np.r_[True, day[1:] != day[:-1]]
    n_sessions = int(new_day.sum())
    local = times.tz_convert(times.tz)
    if n_sessions <= 3:
        on_hour = (local.minute == 0) & (local.second == 0)
        keep = on_hour | new_day
        pos = list(x0[keep])
        labels = [f"{t:%H:%M}" for t in local[keep]]
        if n_sessions > 1:
            labels = [f"{lab}\n{t:%b %d}" if nd else lab for lab, t, nd in zip(labels, local[keep], new_day[keep])]
        last_end = local[-1] + step
        if last_end.minute == 0 and last_end.second == 0:  # the close, 16:00
            pos.append(float(len(times)))
            labels.append(f"{last_end:%H:%M}")
        # Drop a tick that would crowd the one before it (under 4.5% of the axis apart).
        min_gap = 0.045 * len(times)
        kept_pos, kept_lab = [], []
        for p_, lab in zip(pos, labels):
            if kept_pos and p_ - kept_pos[-1] < min_gap and "\n" not in lab:
                continue
            kept_pos.append(p_)
            kept_lab.append(lab)
        ticks = (kept_pos, kept_lab)
    else:
        every = max(1, int(np.ceil(n_sessions / 10)))
        first = x0[new_day][::every]
        ticks = (list(first), [f"{t:%b %d}" for t in local[new_day][::every]])
    return x0, to_x, ticks, x0[new_day][1:]


def plot_portfolio(ledger, bars, start_value=None, ax=None, report=None):
    """The portfolio's value through the session(s), from its fills and the bars' mids.

    Parameters
    ----------
    ledger : Ledger
        Its opening state and fills give cash and positions at every bar.
    bars : Market or DataFrame
        The market model (any number of sessions), or ``ticker, time,
        mid_close`` bars; positions are marked at each bar's closing mid.
    start_value : float, optional
        Draw P&L relative to this value ($, e.g. the start-of-day value
        ``exe.risk.day.value``); default the value at the end of the first bar.
    ax : matplotlib Axes, optional
    report : ExecutionReport or DataFrame, optional
        Marks what was traded: an :class:`~execlab.ExecutionReport` gives the
        decision times of the orders it sent (dotted lines, labelled with
        ticker and side) and its fills; a DataFrame of fills (``time`` and
        ``side`` as in ``report.fills``, or signed ``shares`` as in
        ``ledger.fills``) gives the fills only.  Fills are ticks along the bottom, green for buys and red for
        sells.

    Returns
    -------
    matplotlib.axes.Axes
        P&L ($) at the end of each bar.  The x axis lays the sessions' bars
        end to end (nights left out), with HH:MM ticks in New York time (and
        the date under each session's open when there are two or three; one
        date per session tick when there are more), and a thin line between
        sessions.

    Examples
    --------%s
    >>> ax = plot_portfolio(exe.ledger, exe.market, report=report)
    >>> ax.get_xlabel()
    'time (New York), 2012-06-21'
    >>> [t.get_text() for t in ax.get_xticklabels()][:3]
    ['09:30', '10:00', '11:00']
    >>> plt.close(ax.figure)
    """
    from ._market import Market

    if isinstance(bars, Market):  # the shared market model, read once as a long frame
        step = bars.freq
        bars = bars.to_bars()
    else:
        step = None
    wide = bars.pivot(index="time", columns="ticker", values="mid_close").sort_index()
    tickers = [t for t in ledger.tickers if t in wide.columns]
    times = pd.DatetimeIndex(wide.index)
    if times.tz is None:
        raise ValueError("bars column 'time' must be timezone-aware (New York time).")
    times = times.tz_convert("America/New_York")
    if step is None:
        gaps = np.diff(times.asi8)
        step = pd.Timedelta(int(gaps.min())) if len(gaps) else pd.Timedelta(minutes=1)
    ends = times + step
    cash, pos = ledger.state_at(ends, tickers)
    marks = wide[tickers].ffill().to_numpy(float)
    value = cash + (pos * marks).sum(axis=1) if tickers else cash
    base = float(value[0]) if start_value is None else float(start_value)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    x0, to_x, (tick_pos, tick_lab), boundaries = _session_axis(times, step)
    pal = sns.color_palette("deep")
    pnl = np.asarray(value, dtype=float) - base
    ax.plot(x0 + 1.0, pnl, color=pal[0], linewidth=1.2,
            label="P&L" if start_value is None else f"P&L against ${base:,.0f}")
    ax.axhline(0, color="0.6", linewidth=0.6)
    for b in boundaries:
        ax.axvline(b, color="0.75", linewidth=0.8)
    if report is not None:
        fills = report if isinstance(report, pd.DataFrame) else report.fills
        orders = None if isinstance(report, pd.DataFrame) else report.orders
        if orders is not None and len(orders):
            xd = to_x(pd.DatetimeIndex(orders["decision_time"]))
            for k, (xv, (_, o)) in enumerate(zip(xd, orders.iterrows())):
                ax.axvline(xv, color="0.35", linewidth=0.8, linestyle=":", label="decision (order sent)" if k == 0 else None)
                if len(orders) <= 12:
                    ax.annotate(f"{o['ticker']} {o['side']}", (xv, 1.0), xycoords=("data", "axes fraction"),
                                xytext=(2, -3), textcoords="offset points", rotation=90, ha="left", va="top",
                                fontsize=7, color="0.3")
        if len(fills):
            xf = to_x(pd.DatetimeIndex(fills["time"]))
            if "side" in fills:
                side = fills["side"].astype(str).str.upper().to_numpy()
            elif "shares" in fills:  # the ledger's fills: signed shares
                side = np.where(fills["shares"].to_numpy() > 0, "BUY", "SELL")
            else:
                side = np.full(len(fills), "")
            tr = ax.get_xaxis_transform()
            for name, color in (("BUY", pal[2]), ("SELL", pal[3])):
                m = side == name
                if m.any():
                    ax.vlines(xf[m], 0.0, 0.05, transform=tr, color=color, linewidth=0.8,
                              label=f"{name.lower()} fills")
            if not np.isin(side, ("BUY", "SELL")).all():
                ax.vlines(xf[~np.isin(side, ("BUY", "SELL"))], 0.0, 0.05, transform=tr, color="0.4", linewidth=0.8,
                          label="fills")
    ax.set_xticks(tick_pos, tick_lab)
    ax.set_xlim(0, len(times))
    days = times.normalize().unique()
    span = f"{days[0]:%Y-%m-%d}" if len(days) == 1 else f"{days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}, {len(days)} sessions"
    ax.set_xlabel(f"time (New York), {span}")
    ax.set_ylabel("P&L ($)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title("Portfolio P&L, marked to the quote mid")
    ax.legend(fontsize=8, loc="best")
    return ax


for _f in (plot_execution_report, plot_portfolio):
    if _f.__doc__:
        _f.__doc__ %= _ENGINE_EXAMPLE
