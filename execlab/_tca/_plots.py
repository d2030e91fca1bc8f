"""seaborn figures of a TCA: cost curves, markouts by horizon, cost by tag.  Each returns its Axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_cost_curve", "plot_markouts", "plot_cost_by"]


def _axes(ax: Any, size: tuple = (7, 4.2)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_cost_curve(curve: Any, ax: Any = None, *, color: str = "C0", label: str | None = None):
    """Binned mean cost with its bootstrap interval, and the fitted impact law, against participation or size."""
    ax = _axes(ax)
    t = curve.table
    ax.errorbar(t["x_mean"], t["mean"], yerr=[t["mean"] - t["ci_lower"], t["ci_upper"] - t["mean"]],
                fmt="o", capsize=4, color=color, label=label or f"mean {curve.metric} (95 % interval)")
    fp = curve.fit.params
    law = ", ".join(f"{k}={v:.3g}" for k, v in fp.items())
    ax.plot(curve.curve["x"], curve.curve["fitted_bps"], color=color, lw=2, ls="--",
            label=f"fitted {curve.fit.kind} law ({law}) at median sigma")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set(xlabel="participation rate (executed / market volume)" if curve.x == "participation"
           else "size (% of ADV, earlier sessions)", ylabel="bps (positive = cost)")
    ax.legend(fontsize=8)
    return ax


def plot_markouts(result: Any, by: str | None = None, ax: Any = None):
    """Share-weighted mean markout by horizon (0 = the mid at the fill), one line per group."""
    import seaborn as sns

    ax = _axes(ax)
    t = result.orders[result.orders["executed"] > 0]
    hz = ["fill"] + list(result.params.horizons)
    cols = ["vs_mid_bps"] + [f"markout_{h}_bps" for h in result.params.horizons]
    w = t["executed"].to_numpy(np.float64)
    key = t[by].astype(str) if by is not None else pd.Series("all", index=t.index)
    rows = []
    for g, idx in key.groupby(key).groups.items():
        sel = t.index.get_indexer(idx)
        for h, c in zip(hz, cols):
            v = t[c].to_numpy()[sel]
            ok = ~np.isnan(v)
            rows.append((g, h, float(np.sum(w[sel][ok] * v[ok]) / np.sum(w[sel][ok])) if ok.any() else np.nan))
    frame = pd.DataFrame(rows, columns=[by or "group", "horizon", "bps"])
    sns.pointplot(data=frame, x="horizon", y="bps", hue=by or "group", order=hz, ax=ax, markers="o")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(title="Markouts: fill price against the mid h later (share-weighted)",
           xlabel="horizon after the fill", ylabel="bps (positive = cost)")
    return ax


def plot_cost_by(result: Any, tag: str, metrics: Sequence[str] = ("is_bps", "slippage_arrival_bps"),
                 rng: Any = None, ax: Any = None):
    """Mean cost per group of ``tag`` with bootstrap 95 % intervals, one marker per metric."""
    import seaborn as sns

    ax = _axes(ax)
    s = result.by(tag, rng, metrics=list(metrics)).reset_index()
    s[tag] = s[tag].astype(str)
    palette = sns.color_palette(n_colors=len(metrics))
    groups = list(dict.fromkeys(s[tag]))
    for j, (metric, g) in enumerate(s.groupby("metric", sort=False)):
        y = np.array([groups.index(v) for v in g[tag]]) + (j - (len(metrics) - 1) / 2) * 0.2
        ax.errorbar(g["mean"], y, xerr=[g["mean"] - g["ci_lower"], g["ci_upper"] - g["mean"]], fmt="o",
                    capsize=4, color=palette[j], label=metric)
    ax.set_yticks(np.arange(len(groups)), groups)
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlabel="bps (positive = cost), mean and 95 % bootstrap interval", ylabel=tag,
           ylim=(len(groups) - 0.5, -0.5))
    ax.legend(fontsize=8)
    return ax
