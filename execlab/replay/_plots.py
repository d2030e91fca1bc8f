"""Figures of the event-level replay: queue models against real orders, fill forecasts, passive against aggressive.

Each function draws on an optional ``ax`` and returns the Axes, with a title,
axis labels with units and a legend where it shows more than one thing.
Several books are passed as a mapping from a label (``"AMZN 5"``, or a
``(ticker, levels)`` tuple where the depth matters) to the result object of
:func:`validate_queue_models`, :func:`touch_orders_check` or
:func:`passive_twap`.  :func:`fill_markouts` is the table behind the
markout figure.  Run scripts with ``MPLBACKEND=Agg`` and close the figures
you do not keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_queue_accuracy", "plot_censored_by_depth", "plot_touch_fill_rates", "plot_reliability",
           "plot_twap_difference", "plot_paired_differences", "fill_markouts", "plot_twap_markouts"]

_MODEL_COLORS = {"touch": "C3", "risk_averse": "C0", "probabilistic": "C2", "l3_fifo": "C1",
                 "l3_fifo (truth)": "0.25", "aggressive": "0.45"}


def _axes(ax: Any, size: tuple = (7, 4.2)) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _name(key: Any) -> str:
    """'AMZN 5 levels' from ("AMZN", 5), the string itself otherwise."""
    if isinstance(key, tuple) and len(key) == 2:
        lv = "level" if int(key[1]) == 1 else "levels"
        return f"{key[0]} {key[1]} {lv}"
    return str(key)


def _check_mapping(x: Any, what: str, cls_name: str) -> Mapping:
    if not isinstance(x, Mapping) or not x:
        raise TypeError(f"{what} must be a non-empty mapping of label -> {cls_name}, got {type(x).__name__}.")
    for k, v in x.items():
        if type(v).__name__ != cls_name:
            raise TypeError(f"{what}[{k!r}] must be a {cls_name}, got {type(v).__name__}.")
    return x


def plot_queue_accuracy(validations: Mapping, metric: str = "accuracy_price_traded", ax: Any = None) -> Any:
    """Each queue model's score against the real orders, one group of points per book.

    Parameters
    ----------
    validations : mapping of label -> QueueValidation
        From :func:`validate_queue_models`, one per book.
    metric : str, default "accuracy_price_traded"
        A column of ``QueueValidation.table`` that is a share of orders:
        ``accuracy``, ``accuracy_price_traded`` or ``same_event_rate``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Points (not bars: the axis does not start at zero), in % of orders.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from execlab.replay import EventBook, validate_queue_models
    >>> v = {("GOOG", 1): validate_queue_models(EventBook.bundled("GOOG"))}
    >>> ax = plot_queue_accuracy(v)
    >>> ax.get_ylabel()
    'orders where the model is right (%)'
    >>> plt.close(ax.figure)
    """
    validations = _check_mapping(validations, "validations", "QueueValidation")
    allowed = ("accuracy", "accuracy_price_traded", "same_event_rate")
    if metric not in allowed:
        raise ValueError(f"metric == {metric!r}, must be one of {list(allowed)}.")
    ax = _axes(ax, (8, 4.2))
    labels = [_name(k) for k in validations]
    models = list(dict.fromkeys(m for v in validations.values() for m in v.table.index))
    width = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        y = [100 * v.table.loc[model, metric] if model in v.table.index else np.nan for v in validations.values()]
        x = np.arange(len(labels)) + (j - (len(models) - 1) / 2) * width
        ax.plot(x, y, "o", ms=7, color=_MODEL_COLORS.get(model), label=model)
    ax.set_xticks(np.arange(len(labels)), labels)
    what = {"accuracy": "all orders", "accuracy_price_traded": "orders whose price traded",
            "same_event_rate": "orders really filled: same first-fill event"}[metric]
    ax.set(title=f"Queue models against real orders ({what})", xlabel="book (ticker, depth)",
           ylabel="orders where the model is right (%)")
    ax.legend(title="queue model", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_censored_by_depth(validations: Mapping, ax: Any = None) -> Any:
    """Share of real orders whose price left the visible levels (validation window cut), by ticker and depth.

    Parameters
    ----------
    validations : mapping of (ticker, levels) -> QueueValidation
        From :func:`validate_queue_models`; the censored share is the same
        for every model, so the first model's is shown.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Bars grouped by ticker, one per depth, in % of the book's limit orders.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from execlab.replay import EventBook, validate_queue_models
    >>> v = {("GOOG", 1): validate_queue_models(EventBook.bundled("GOOG"), models=("l3_fifo",))}
    >>> ax = plot_censored_by_depth(v)
    >>> ax.get_title()
    'Censored real orders: their price left the N visible levels'
    >>> plt.close(ax.figure)
    """
    validations = _check_mapping(validations, "validations", "QueueValidation")
    bad = [k for k in validations if not (isinstance(k, tuple) and len(k) == 2)]
    if bad:
        raise ValueError(f"validations has key {bad[0]!r}; keys must be (ticker, levels) tuples such as ('AMZN', 5).")
    frame = pd.DataFrame([{"ticker": k[0], "levels": int(k[1]), "censored": 100 * v.table["censored"].iloc[0]}
                          for k, v in validations.items()])
    tickers = list(dict.fromkeys(frame["ticker"]))
    depths = sorted(frame["levels"].unique())
    colors = dict(zip(depths, ["C7", "C0", "C2", "C4", "C5"] * len(depths)))
    width = 0.8 / frame.groupby("ticker").size().max()
    ax = _axes(ax)
    seen: set = set()
    for i, ticker in enumerate(tickers):
        g = frame[frame["ticker"] == ticker].sort_values("levels")
        x = i + (np.arange(len(g)) - (len(g) - 1) / 2) * width  # the ticker's own depths, centred on its tick
        for xj, (_, row) in zip(x, g.iterrows()):
            lv = int(row["levels"])
            bars = ax.bar([xj], [row["censored"]], width=width * 0.95, color=colors[lv],
                          label=None if lv in seen else (f"{lv} level" if lv == 1 else f"{lv} levels"))
            seen.add(lv)
            ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    ax.set_xticks(np.arange(len(tickers)), tickers)
    ax.set_ylim(0, frame["censored"].max() * 1.18)
    ax.set(title="Censored real orders: their price left the N visible levels", xlabel="ticker",
           ylabel="censored orders (% of limit orders)")
    ax.legend(title="book depth", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_touch_fill_rates(check: Any, ax: Any = None, title: str | None = None) -> Any:
    """Fill rate of synthetic orders at the touch by horizon: each model beside exact FIFO.

    Parameters
    ----------
    check : TouchCheck
        From :func:`touch_orders_check`.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "Orders at the touch: fill rate by horizon" and the book.

    Returns
    -------
    matplotlib.axes.Axes
        Bars per horizon (% of orders with a fill by then), the l3_fifo
        truth in dark grey.

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from execlab.replay import EventBook, touch_orders_check
    >>> c = touch_orders_check(EventBook.bundled("GOOG"), every="10min", paths=2, rng=np.random.default_rng(0))
    >>> ax = plot_touch_fill_rates(c)
    >>> ax.get_ylabel()
    'orders filled by the horizon (%)'
    >>> plt.close(ax.figure)
    """
    if type(check).__name__ != "TouchCheck":
        raise TypeError(f"check must be a TouchCheck (touch_orders_check), got {type(check).__name__}.")
    ax = _axes(ax)
    t = check.table.reset_index()
    horizons = list(dict.fromkeys(t["horizon"]))
    truth = t.drop_duplicates("horizon").set_index("horizon")["fifo_fill_rate"].reindex(horizons)
    series = {"l3_fifo (truth)": truth}
    for model, g in t.groupby("model", sort=False):
        series[model] = g.set_index("horizon")["fill_rate"].reindex(horizons)
    width = 0.8 / len(series)
    for j, (name, s) in enumerate(series.items()):
        x = np.arange(len(horizons)) + (j - (len(series) - 1) / 2) * width
        ax.bar(x, 100 * s.to_numpy(), width=width * 0.95, color=_MODEL_COLORS.get(name), label=name)
    ax.set_xticks(np.arange(len(horizons)), horizons)
    ax.set_ylim(0, 105)
    ax.set(title=title or f"Orders at the touch: fill rate by horizon\n{check.book}",
           xlabel="horizon after entry", ylabel="orders filled by the horizon (%)")
    ax.legend(fontsize=8, title="queue model")
    return ax


def plot_reliability(checks: Mapping, horizon: str, ax: Any = None) -> Any:
    """Reliability diagram of the probabilistic model's fill forecast at one horizon, one series per book.

    The forecast is the share of the drawn probabilistic paths that filled;
    the observed rate is the exact-FIFO fill rate of the orders in the same
    probability bin.  A calibrated forecast lies on the diagonal.

    Parameters
    ----------
    checks : mapping of label -> TouchCheck
        From :func:`touch_orders_check`.
    horizon : str
        One of the checks' horizons, e.g. ``"10s"``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Points sized by the number of orders in the bin (log-scaled), axes in %.

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from execlab.replay import EventBook, touch_orders_check
    >>> c = touch_orders_check(EventBook.bundled("GOOG"), every="10min", paths=2, rng=np.random.default_rng(0))
    >>> ax = plot_reliability({"GOOG": c}, "10s")
    >>> ax.get_xlabel()
    'forecast fill probability (%, probabilistic model)'
    >>> plt.close(ax.figure)
    """
    checks = _check_mapping(checks, "checks", "TouchCheck")
    ax = _axes(ax, (5, 4.6))
    ax.plot([0, 100], [0, 100], color="k", lw=0.8, ls="--", label="calibrated")
    for j, (k, c) in enumerate(checks.items()):
        r = c.reliability[c.reliability["horizon"] == horizon]
        if not len(r) and horizon not in set(c.reliability["horizon"]):
            raise ValueError(f"horizon == {horizon!r}, not among {sorted(set(c.reliability['horizon']))} "
                             f"of checks[{k!r}].")
        size = 12 + 25 * np.log10(r["orders"].to_numpy(float))
        b = c.brier.loc[horizon]
        ax.scatter(100 * r["forecast"], 100 * r["observed"], s=size, color=f"C{j}", alpha=0.75,
                   label=f"{_name(k)} (Brier {b['brier']:.3f}; base rate {b['brier_base_rate']:.3f})")
    ax.set(xlim=(-3, 103), ylim=(-3, 103), title=f"Fill forecast reliability, orders at the touch, {horizon}",
           xlabel="forecast fill probability (%, probabilistic model)",
           ylabel="filled under exact FIFO (% of orders in bin)")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_twap_difference(comparisons: Mapping, ax: Any = None) -> Any:
    """Passive minus aggressive TWAP shortfall per book and queue model, with its bootstrap interval.

    Parameters
    ----------
    comparisons : mapping of label -> TwapComparison
        From :func:`passive_twap`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Mean paired difference (bps, negative = passive cheaper), 95 %
        percentile-bootstrap interval over parents.

    Examples
    --------
    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> from execlab.replay import EventBook, passive_twap
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> parents = pd.DataFrame({"side": ["BUY", "SELL"], "shares": [1000, 1000], "start_time": [t, t],
    ...                         "end_time": [t + pd.Timedelta("10min")] * 2})
    >>> c = passive_twap(EventBook.bundled("GOOG"), parents, slices=5, n_boot=200, rng=np.random.default_rng(0))
    >>> ax = plot_twap_difference({"GOOG": c})
    >>> ax.get_xlabel()
    'passive minus aggressive shortfall (bps, negative = passive cheaper)'
    >>> plt.close(ax.figure)
    """
    comparisons = _check_mapping(comparisons, "comparisons", "TwapComparison")
    ax = _axes(ax, (8, 4.2))
    labels = [_name(k) for k in comparisons]
    models = list(dict.fromkeys(m for c in comparisons.values() for m in c.difference.index))
    height = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        d = pd.DataFrame([c.difference.loc[model] if model in c.difference.index else
                          pd.Series(np.nan, index=["passive_minus_aggressive_bps", "ci_low", "ci_high"])
                          for c in comparisons.values()])
        y = np.arange(len(labels)) + (j - (len(models) - 1) / 2) * height
        m = d["passive_minus_aggressive_bps"].to_numpy()
        ax.errorbar(m, y, xerr=[m - d["ci_low"].to_numpy(), d["ci_high"].to_numpy() - m], fmt="o", capsize=3,
                    color=_MODEL_COLORS.get(model), label=model)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.invert_yaxis()
    ax.set(title="Passive minus aggressive TWAP, paired by parent (95 % bootstrap interval)",
           xlabel="passive minus aggressive shortfall (bps, negative = passive cheaper)", ylabel="book")
    ax.legend(title="queue model\n(passive legs)", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_paired_differences(comparisons: Mapping, model: str = "l3_fifo", ax: Any = None) -> Any:
    """Each parent's passive minus aggressive shortfall, one row of points per book, for one queue model.

    Shows whether a mean difference rests on most parents or on a few.

    Parameters
    ----------
    comparisons : mapping of label -> TwapComparison
        From :func:`passive_twap`.
    model : str, default "l3_fifo"
        Queue model of the passive legs.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One point per parent (bps), the mean and median marked per book.

    Examples
    --------
    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> from execlab.replay import EventBook, passive_twap
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> parents = pd.DataFrame({"side": ["BUY", "SELL"], "shares": [1000, 1000], "start_time": [t, t],
    ...                         "end_time": [t + pd.Timedelta("10min")] * 2})
    >>> c = passive_twap(EventBook.bundled("GOOG"), parents, slices=5, n_boot=200, rng=np.random.default_rng(0))
    >>> ax = plot_paired_differences({"GOOG": c})
    >>> ax.get_title()
    'Passive minus aggressive, per parent order (passive legs: l3_fifo)'
    >>> plt.close(ax.figure)
    """
    comparisons = _check_mapping(comparisons, "comparisons", "TwapComparison")
    ax = _axes(ax, (8, 4.2))
    rng = np.random.default_rng(0)  # vertical jitter only, so the figure is the same every run
    labels = [_name(k) for k in comparisons]
    for i, c in enumerate(comparisons.values()):
        p = c.parents
        if model not in set(p["queue_model"]):
            raise ValueError(f"model == {model!r}, not among the passive models {sorted(set(c.difference.index))}.")
        aggr = p[p["strategy"] == "aggressive"].set_index("order_id")["shortfall_bps"]
        pas = p[(p["strategy"] == "passive") & (p["queue_model"] == model)].set_index("order_id")["shortfall_bps"]
        d = (pas - aggr).dropna().to_numpy()
        ax.scatter(d, i + rng.uniform(-0.18, 0.18, len(d)), s=18, color="C0", alpha=0.6,
                   label="one parent" if i == 0 else None)
        ax.plot([d.mean()] * 2, [i - 0.3, i + 0.3], color="C3", lw=2, label="mean" if i == 0 else None)
        ax.plot([np.median(d)] * 2, [i - 0.3, i + 0.3], color="k", lw=1.5, ls=":", label="median" if i == 0 else None)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.invert_yaxis()
    ax.set(title=f"Passive minus aggressive, per parent order (passive legs: {model})",
           xlabel="passive minus aggressive shortfall (bps, negative = passive cheaper)", ylabel="book")
    ax.legend(fontsize=8)
    return ax


def fill_markouts(comparison: Any, horizons: tuple = ("0s", "1s", "10s", "60s")) -> pd.DataFrame:
    """Share-weighted mean markout of each run's fills: aggressive, passive resting and passive crossing legs.

    Markout at ``h``: side x (fill price - mid at t + h) / mid at t + h, in
    bps (positive = cost), the mid taken after every event at or before
    ``t + h`` (so ``"0s"`` is the mid just after the fill's own event).  A
    resting (maker) fill that the mid then moves through is adversely
    selected: its markout rises with ``h``.

    Parameters
    ----------
    comparison : TwapComparison
        From :func:`passive_twap`.
    horizons : tuple of str, default ("0s", "1s", "10s", "60s")

    Returns
    -------
    pandas.DataFrame
        Indexed by ``strategy, queue_model, leg`` (``rest`` = the passive
        slices' resting fills, ``cross`` = market orders), with ``fills``,
        ``shares``, ``liquidity`` and ``markout_<h>_bps``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from execlab.replay import EventBook, passive_twap
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> parents = pd.DataFrame({"side": ["BUY", "SELL"], "shares": [1000, 1000], "start_time": [t, t],
    ...                         "end_time": [t + pd.Timedelta("10min")] * 2})
    >>> c = passive_twap(EventBook.bundled("GOOG"), parents, slices=5, models=("l3_fifo",), n_boot=200,
    ...                  rng=np.random.default_rng(0))
    >>> m = fill_markouts(c)
    >>> m.loc[("passive", "l3_fifo", "rest"), "liquidity"], m.loc[("aggressive", "-", "cross"), "liquidity"]
    ('MAKER', 'TAKER')
    """
    if type(comparison).__name__ != "TwapComparison":
        raise TypeError(f"comparison must be a TwapComparison (passive_twap), got {type(comparison).__name__}.")
    rows = []
    for (strategy, model, leg), res in comparison.results.items():
        mk = res.markouts(tuple(horizons))
        if not len(mk):
            continue
        w = mk["shares"].to_numpy(float)
        row = {"strategy": strategy, "queue_model": model, "leg": leg, "fills": len(mk), "shares": int(w.sum()),
               "liquidity": "/".join(sorted(set(mk["liquidity"])))}
        for h in horizons:
            v = mk[f"markout_{h}_bps"].to_numpy(float)
            ok = np.isfinite(v)
            row[f"markout_{h}_bps"] = float(np.average(v[ok], weights=w[ok])) if ok.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index(["strategy", "queue_model", "leg"])


def plot_twap_markouts(comparison: Any, ax: Any = None, title: str | None = None,
                       horizons: tuple = ("0s", "1s", "10s", "60s")) -> Any:
    """Markouts of the TWAP fills by horizon: aggressive market orders, and the passive slices' resting fills per model.

    See :func:`fill_markouts` for the definition.  A maker fill starts near
    or below zero (it earned the spread) and rises as the mid moves against
    it (adverse selection); the aggressive line starts at about half the
    spread.  The passive TWAP's crossing orders are left out (they are
    market orders, like the aggressive line).

    Parameters
    ----------
    comparison : TwapComparison
        From :func:`passive_twap`.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "Markouts of the TWAP fills" and the book.
    horizons : tuple of str, default ("0s", "1s", "10s", "60s")

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> from execlab.replay import EventBook, passive_twap
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> parents = pd.DataFrame({"side": ["BUY", "SELL"], "shares": [1000, 1000], "start_time": [t, t],
    ...                         "end_time": [t + pd.Timedelta("10min")] * 2})
    >>> c = passive_twap(EventBook.bundled("GOOG"), parents, slices=5, n_boot=200, rng=np.random.default_rng(0))
    >>> ax = plot_twap_markouts(c)
    >>> ax.get_ylabel()
    'markout (bps, positive = cost)'
    >>> plt.close(ax.figure)
    """
    m = fill_markouts(comparison, horizons)
    ax = _axes(ax)
    cols = [f"markout_{h}_bps" for h in horizons]
    xt = ["fill" if pd.Timedelta(h) == pd.Timedelta(0) else h for h in horizons]
    for (strategy, model, leg), row in m.iterrows():
        if strategy == "passive" and leg != "rest":
            continue
        aggressive = strategy == "aggressive"
        ax.plot(xt, row[cols].to_numpy(float), marker="o", lw=2 if aggressive else 1.5, ls="--" if aggressive else "-",
                color=_MODEL_COLORS.get("aggressive" if aggressive else model),
                label="aggressive: market orders (taker)" if aggressive else f"passive resting fills (maker), {model}")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(title=title or f"Markouts of the TWAP fills\n{comparison.book}", xlabel="horizon after the fill",
           ylabel="markout (bps, positive = cost)")
    ax.legend(fontsize=8)
    return ax
