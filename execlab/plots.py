"""Seaborn figures.  Every function draws on an optional ``ax`` and returns the Axes."""

from __future__ import annotations

import matplotlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__: list[str] = []

# --- market data and schedules ---

# --- impact ---

__all__ += ["plot_impact_fit", "plot_impact_residuals", "plot_trade_flow", "plot_ofi", "plot_ofi_r2"]


def _impact_binned(x: np.ndarray, y: np.ndarray, n_bins: int) -> pd.DataFrame:
    """Mean and standard error of y in quantile bins of x."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    g = pd.DataFrame({"k": k, "x": x, "y": y}).groupby("k")
    return pd.DataFrame({"x": g["x"].mean(), "y": g["y"].mean(), "se": g["y"].std(ddof=1) / np.sqrt(g.size())})


def plot_impact_fit(fit, n_bins: int = 20, ax=None):
    """Binned mean cost / sigma against Q/V (log axis) with the fitted curve.

    Parameters
    ----------
    fit : execlab.impact.ImpactFit
    n_bins : int, default 20
        Quantile bins of Q/V; error bars are +-2 standard errors of the bin mean.
    """
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    d = fit.data
    b = _impact_binned(d["participation"].to_numpy(), d["y"].to_numpy(), n_bins)
    ax.errorbar(b["x"], b["y"], yerr=2 * b["se"], fmt="o", ms=4, color=sns.color_palette()[0], label="binned mean (+-2 se)")
    grid = np.geomspace(d["participation"].min(), d["participation"].max(), 200)
    f = np.asarray(fit.fittedvalues)
    order = np.argsort(d["participation"].to_numpy())
    if fit.kind == "almgren_chriss":
        ax.plot(d["participation"].to_numpy()[order], pd.Series(f[order]).rolling(max(len(f) // 50, 1), center=True, min_periods=1).mean(),
                color=sns.color_palette()[1], label="fitted (rolling mean over durations)")
    else:
        p = fit.params
        delta = p["delta"] if "delta" in p else fit.model.delta
        ax.plot(grid, p["Y"] * grid**delta, color=sns.color_palette()[1], label=f"fit: {p['Y']:.2f} (Q/V)^{delta:.2f}")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("Q / V (fraction of daily volume)")
    ax.set_ylabel("cost / sigma")
    ax.set_title(f"Impact fit ({fit.kind}), n = {fit.nobs:,}")
    ax.legend(frameon=False)
    return ax


def plot_impact_residuals(fit, n_bins: int = 20, ax=None):
    """Residuals of cost / sigma against log Q/V, with their binned mean and spread."""
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    x = fit.data["participation"].to_numpy()
    r = np.asarray(fit.resid)
    step = max(len(r) // 5000, 1)
    ax.scatter(x[::step], r[::step], s=3, alpha=0.25, color="0.5", rasterized=True, label="residuals (sample)")
    b = _impact_binned(x, r, n_bins)
    ax.errorbar(b["x"], b["y"], yerr=2 * b["se"], fmt="o-", ms=4, color=sns.color_palette()[3], label="binned mean (+-2 se)")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("Q / V")
    ax.set_ylabel("residual (cost / sigma)")
    ax.set_title("Residuals")
    ax.legend(frameon=False)
    return ax


def plot_trade_flow(fit, ticker: str, n_bins: int = 15, ax=None):
    """Mid change against signed volume for one ticker: intervals, binned means, linear and concave fits."""
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    d = fit.data[fit.data["ticker"] == ticker]
    x = d["signed_fraction"].to_numpy()
    y = d["mid_change_bps"].to_numpy()
    ax.scatter(x, y, s=6, alpha=0.3, color="0.5", label="intervals")
    b = _impact_binned(x, y, n_bins)
    ax.errorbar(b["x"], b["y"], yerr=2 * b["se"], fmt="o", ms=4, color=sns.color_palette()[0], label="binned mean")
    grid = np.linspace(x.min(), x.max(), 300)
    t = fit.table.loc[ticker]
    ax.plot(grid, fit.predict(ticker, "linear", grid), color=sns.color_palette()[1], label=f"linear, R2 {t.loc['linear', 'r2']:.2f}")
    ax.plot(grid, fit.predict(ticker, "concave", grid), color=sns.color_palette()[2],
            label=f"concave, exponent {t.loc['concave', 'exponent']:.2f}, R2 {t.loc['concave', 'r2']:.2f}")
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("signed volume / daily volume")
    ax.set_ylabel("mid change (bps)")
    ax.set_title(ticker)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_ofi(table: pd.DataFrame, ticker: str, fit=None, ax=None):
    """Mid change (ticks) against OFI (shares) for one ticker, with the whole-day regression line."""
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    d = table[table["ticker"] == ticker]
    sns.scatterplot(x=d["ofi"], y=d["mid_change_ticks"], s=6, alpha=0.3, color="0.4", edgecolor=None, ax=ax)
    if fit is not None:
        res = fit.results[ticker]
        grid = np.linspace(d["ofi"].min(), d["ofi"].max(), 100)
        ax.plot(grid, res.params[0] + res.params[1] * grid, color=sns.color_palette()[1],
                label=f"beta {res.params[1]:.4f} ticks/share, R2 {res.rsquared:.2f}")
        ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel("order-flow imbalance (shares)")
    ax.set_ylabel("mid change (ticks)")
    ax.set_title(ticker)
    return ax


def plot_ofi_r2(fit, published: float | None = 0.65, ax=None):
    """R^2 of the OFI regression in each sub-period, one line per ticker, beside the paper's average."""
    ax = ax if ax is not None else plt.subplots(figsize=(7, 4))[1]
    t = fit.table.reset_index()
    t["start"] = pd.DatetimeIndex(t["subperiod"]).strftime("%H:%M")
    sns.lineplot(data=t, x="start", y="r2", hue="ticker", marker="o", ax=ax)
    if published is not None:
        ax.axhline(published, ls="--", color="k", lw=1, label=f"Cont et al. (2014) average {published:.2f}")
    ax.set_ylim(0, 1)
    ax.set_xlabel("sub-period start")
    ax.set_ylabel("R^2")
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
    for k, (b, v) in enumerate(zip(start, values)):
        ax.bar(k, v, bottom=b, color=cost if v > 0 else gain, edgecolor="black", linewidth=0.5)
        ax.annotate(f"{v:+.2f}", (k, b + v), ha="center", va="bottom" if v >= 0 else "top", fontsize=8)
    ax.bar(len(values), total, color=tot, edgecolor="black", linewidth=0.5)
    ax.annotate(f"{total:+.2f}", (len(values), total), ha="center", va="bottom" if total >= 0 else "top", fontsize=8)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("cost (bps of paper notional)" if unit == "bps" else "cost ($)")
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
    by : str, default "algorithm"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    for c in (metric, by):
        if c not in table.columns:
            raise ValueError(f"column {c!r} is not in table; it has {list(map(str, table.columns))}.")
    data = table[[by, metric]].dropna()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    order = sorted(data[by].unique())
    sns.boxplot(data=data, x=by, y=metric, order=order, ax=ax, showfliers=False, color="0.85", width=0.5)
    sns.stripplot(data=data, x=by, y=metric, order=order, ax=ax, size=2.5, alpha=0.5, jitter=0.2, hue=by,
                  hue_order=order, legend=False, palette="deep")
    ax.axhline(0.0, color="black", linewidth=0.8, linestyle=":")
    ax.set_ylabel(f"{metric} (positive = cost)")
    ax.set_xlabel(by)
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
    """
    tr = result.trajectory(order_id)
    row = result.orders.loc[result.orders["order_id"] == order_id].iloc[0]
    first = tr.index[tr.index >= pd.Timestamp(row["arrival_time"]).floor("min")]
    start = first[0] if len(first) else tr.index[0]
    busy = tr.index[(tr["filled"] > 0) | (tr["released"] > 0)]
    stop = max(busy.max() if len(busy) else start, start) + pd.Timedelta(minutes=5)
    tr = tr[(tr.index >= start - pd.Timedelta(minutes=2)) & (tr.index <= stop)]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    pal = sns.color_palette("deep")
    ax2 = ax.twinx()
    width = (tr.index[1] - tr.index[0]) if len(tr) > 1 else pd.Timedelta(minutes=1)
    ax2.bar(tr.index, tr["market_volume"], width=width * 0.9, align="edge", color="0.8", label="market volume")
    ax2.set_ylabel("market volume per bar (shares)")
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.step(tr.index, tr["cum_released"], where="post", color=pal[0], label="schedule (released)")
    ax.step(tr.index, tr["cum_filled"], where="post", color=pal[3], label="executed")
    ax.axhline(int(row["quantity"]), color="black", linewidth=0.8, linestyle=":", label="parent quantity")
    ax.set_ylabel("cumulative shares")
    ax.set_title(f"Order {order_id}: {row['side']} {int(row['quantity']):,} {row['ticker']}, {row['status']}")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.tick_params(axis="x", rotation=30)
    return ax


# --- engine ---

__all__ += ["plot_execution_report", "plot_portfolio"]


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
        impact model expected.
    """
    o = report.orders
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    if len(o) == 0:
        ax.set_title("No orders were sent")
        return ax
    data = pd.DataFrame({"expected cost (bps)": o["expected_cost_bps"].to_numpy(float),
                         "realized shortfall (bps)": o["is_bps"].to_numpy(float),
                         "algorithm": o["algorithm"].to_numpy(str)})
    sns.scatterplot(data=data, x="expected cost (bps)", y="realized shortfall (bps)", hue="algorithm",
                    ax=ax, s=40, alpha=0.8)
    lo = float(np.nanmin(data[["expected cost (bps)", "realized shortfall (bps)"]].to_numpy()))
    hi = float(np.nanmax(data[["expected cost (bps)", "realized shortfall (bps)"]].to_numpy()))
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8, linestyle=":", label="realized = expected")
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_title(f"{len(o)} orders: expected vs realized cost")
    ax.legend(fontsize=8)
    return ax


def plot_portfolio(ledger, bars, start_value=None, ax=None):
    """The portfolio's value through the session, from its fills and the bars' mids.

    Parameters
    ----------
    ledger : Ledger
        Its opening state and fills give cash and positions at every bar.
    bars : Market or DataFrame
        The market model, or ``ticker, time, mid_close`` bars; positions are
        marked at each bar's closing mid.
    start_value : float, optional
        Draw P&L relative to this value ($); default the value at the first bar.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        P&L ($) at the end of each bar.
    """
    from ._market import Market

    if isinstance(bars, Market):  # the shared market model, read once as a long frame
        bars = bars.to_bars()
    wide = bars.pivot(index="time", columns="ticker", values="mid_close")
    tickers = [t for t in ledger.tickers if t in wide.columns]
    times = pd.DatetimeIndex(wide.index)
    step = (times[1] - times[0]) if len(times) > 1 else pd.Timedelta(minutes=1)
    ends = times + step
    cash, pos = ledger.state_at(ends, tickers)
    value = cash + (pos * wide[tickers].to_numpy(float)).sum(axis=1) if tickers else cash
    base = float(value[0]) if start_value is None else float(start_value)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(ends, value - base, color=sns.color_palette("deep")[0])
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_ylabel("P&L ($)")
    ax.set_title("Portfolio P&L, marked to the quote mid")
    ax.tick_params(axis="x", rotation=30)
    return ax
