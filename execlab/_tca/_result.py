r"""Results of :func:`execlab.tca`: tables, group summaries, cost curves and impact fits."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._market import Market
from .._validation import check_choice, check_scalar
from ..impact import ImpactFit, fit_impact
from .._shortfall import summarize
from ._metrics import Params, rate_label

__all__ = ["TCAResult", "CostCurve", "cluster_codes"]

_X = {"participation": "participation", "size": "size_pct_adv"}


def cluster_codes(table: pd.DataFrame, groups: Sequence[str]) -> np.ndarray:
    """Integer codes of each row's cluster(s), shape (n,) or (n, 2), for statsmodels' cluster covariance."""
    cols = [groups] if isinstance(groups, str) else list(groups)
    if not 1 <= len(cols) <= 2:
        raise ValueError(f"cluster == {groups!r}, must name one or two columns such as ('ticker', 'session').")
    miss = [c for c in cols if c not in table.columns]
    if miss:
        raise ValueError(f"cluster column(s) {miss} not in the table; it has {list(map(str, table.columns))}.")
    codes = np.column_stack([pd.factorize(table[c], use_na_sentinel=False)[0] for c in cols])
    return codes[:, 0] if codes.shape[1] == 1 else codes


def fit_impact_clustered(data: pd.DataFrame, model: str, groups: np.ndarray) -> ImpactFit:
    r""":func:`execlab.fit_impact` with statsmodels' cluster-robust covariance (one- or two-way).

    Uses ``fit_impact(..., cov_type="cluster", groups=...)`` when the
    installed :func:`fit_impact` takes it; otherwise fits with the default
    covariance and recomputes the covariance of the same estimates with
    statsmodels' cluster sandwich (``get_robustcov_results`` for the OLS
    fits, the likelihood's ``fit(cov_type="cluster")`` started and stopped at
    the estimate for the power law).  Point estimates are unchanged.
    """
    sig = inspect.signature(fit_impact)
    if "groups" in sig.parameters and np.ndim(groups) == 1:  # two-way clusters: statsmodels below
        return fit_impact(data, model, cov_type="cluster", groups=groups)
    fit = fit_impact(data, model)
    res = fit.results
    if model in ("sqrt", "linear"):
        new = res.get_robustcov_results(cov_type="cluster", groups=groups, use_correction=True, df_correction=True)
    else:
        mod = res.model
        new = mod.fit(start_params=np.asarray(res.params), method="newton", maxiter=0, disp=0,
                      cov_type="cluster", cov_kwds={"groups": groups}, warn_convergence=False)
        if not np.allclose(np.asarray(new.params), np.asarray(res.params), rtol=0, atol=0):
            raise RuntimeError("clustered refit moved the estimates; this should not happen with maxiter=0.")
    return ImpactFit(fit.model, new, fit.kind, fit.arrays, fit.names)


@dataclass
class CostCurve:
    """Binned cost against participation or size, with intervals, and the impact curve fitted to the orders.

    Attributes
    ----------
    x : {"participation", "size"}
    metric : str
    table : DataFrame
        One row per bin: ``x_lower, x_upper, x_mean`` (participation as a
        fraction, size in % of ADV), ``count``, ``mean``, ``ci_lower``,
        ``ci_upper`` (bootstrap interval of the mean, bps).
    fit : ImpactFit
        The power/sqrt law fitted to the same orders (cost / sigma on Q/V).
    curve : DataFrame
        ``x`` and ``fitted_bps``: the fitted law at the sample's median sigma.
    """

    x: str
    metric: str
    table: pd.DataFrame
    fit: ImpactFit
    curve: pd.DataFrame

    def plot(self, ax: Any = None, **kwargs: Any):
        from ._plots import plot_cost_curve

        return plot_cost_curve(self, ax=ax, **kwargs)


@dataclass
class TCAResult:
    """Post-trade TCA of the user's own executions (returned by :func:`execlab.tca`).

    Attributes
    ----------
    orders : DataFrame
        One row per accepted order (index ``order_id``, input order), every
        per-order metric (see :func:`execlab.tca`) and the order's tags.
    fills : DataFrame, dask DataFrame or None
        One row per accepted fill with the per-fill metrics (None with
        ``tca(..., keep_fills=False)``).
    rejected : DataFrame
        ``table, row, order_id, fill_id, reason`` for every row left out.
    """

    orders: pd.DataFrame
    fills: Any
    rejected: pd.DataFrame
    market: Market = field(repr=False)
    params: Params = field(repr=False)
    forecast_source: str = ""

    # ------------------------------------------------------------------ metrics
    @property
    def cost_metrics(self) -> list[str]:
        """The per-order metric columns summarised by default (bps unless named otherwise)."""
        p = self.params
        cols = ["is_bps", "delay_cost_bps", "execution_cost_bps", "opportunity_cost_bps", "fees_bps",
                "slippage_arrival_bps", "slippage_vwap_bps", "slippage_day_vwap_bps", "slippage_twap_bps",
                "slippage_close_bps"]
        cols += [f"slippage_pwp_{rate_label(r)}_bps" for r in p.pwp_rates]
        cols += ["rpm", "vs_mid_bps", "vs_far_touch_bps", "spread_paid"]
        cols += [f"markout_{h}_bps" for h in p.horizons] + [f"reversion_{h}_bps" for h in p.horizons]
        return cols + ["participation", "fill_rate"]

    def by(self, tags: str | Sequence[str] | None, rng: np.random.Generator | int | None = None, *,
           metrics: Sequence[str] | None = None, n_boot: int = 1000, level: float = 0.95) -> pd.DataFrame:
        """Per-group statistics with bootstrap intervals (:func:`execlab.summarize` on :attr:`orders`).

        Parameters
        ----------
        tags : str, list of str or None
            Any column of :attr:`orders`: a tag (``algorithm``, ``broker``...),
            ``ticker``, ``session``, ``side``, ``size_bucket``...  ``None``:
            all orders as one group.
        rng : numpy Generator or int
            Source of the bootstrap resamples; pass one for reproducible intervals.
        metrics : list of str, optional
            Default :attr:`cost_metrics`.
        """
        table = self.orders
        if tags is not None:
            keys = [tags] if isinstance(tags, str) else list(tags)
            miss = [k for k in keys if k not in table.columns]
            if miss:
                raise ValueError(f"tags {miss} are not columns of the orders table; it has {list(map(str, table.columns))}.")
            # Unobserved categories (e.g. an empty size bucket) are not groups.
            table = table.assign(**{k: table[k].cat.remove_unused_categories() for k in keys
                                    if isinstance(table[k].dtype, pd.CategoricalDtype)})
        metrics = list(metrics) if metrics is not None else [c for c in self.cost_metrics if c in table.columns]
        return summarize(table, by=tags, rng=rng, n_boot=n_boot, level=level, metrics=metrics)

    def summary(self, rng: np.random.Generator | int | None = None, *, metrics: Sequence[str] | None = None,
                n_boot: int = 1000, level: float = 0.95) -> pd.DataFrame:
        """All orders as one group: :meth:`by` with ``tags=None``, indexed by metric."""
        return self.by(None, rng, metrics=metrics, n_boot=n_boot, level=level).droplevel(0)

    def compare(self, tag: str, metric: str, baseline: object, rng: np.random.Generator | int | None = None, *,
                n_boot: int = 2000, level: float = 0.95) -> pd.DataFrame:
        r"""Difference of each group's mean ``metric`` from the ``baseline`` group's, with a bootstrap interval.

        The two groups are resampled independently (orders with replacement,
        ``n_boot`` times) and the interval is the percentile interval of the
        difference of the resampled means.  With orders assigned to groups
        at random (a broker wheel, an A/B test of algorithms) the difference
        is the group's effect; otherwise it also holds whatever differs
        between the orders they got.

        Returns
        -------
        DataFrame
            Indexed by group (baseline excluded): ``count``, ``diff``,
            ``ci_lower``, ``ci_upper`` (units of ``metric``).

        Examples
        --------
        >>> import pandas as pd
        >>> r = TCAResult(pd.DataFrame({"broker": list("AABB"), "x": [1.0, 3.0, 0.0, 0.0]}), None, None, None, None)
        >>> r.compare("broker", "x", "B", rng=0)[["count", "diff"]].values.tolist()
        [[2.0, 2.0]]
        """
        t = self.orders
        for c in (tag, metric):
            if c not in t.columns:
                raise ValueError(f"{c!r} is not a column of the orders table; it has {list(map(str, t.columns))}.")
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        n_boot = int(check_scalar(n_boot, "n_boot", min_val=10, integer=True))
        level = check_scalar(level, "level", min_val=0.0, max_val=1.0, include_min=False, include_max=False)
        key = t[tag].astype(object)
        vals = pd.to_numeric(t[metric], errors="raise").to_numpy(np.float64)
        if not (key == baseline).any():
            raise ValueError(f"baseline == {baseline!r} is not a value of {tag!r}; it has {sorted(map(str, key.unique()))}.")

        def boot(v: np.ndarray) -> np.ndarray:
            v = v[~np.isnan(v)]
            if len(v) == 0:
                return np.full(n_boot, np.nan)
            return v[gen.integers(0, len(v), (n_boot, len(v)))].mean(axis=1)

        base = vals[(key == baseline).to_numpy()]
        bb = boot(base)
        a = (1 - level) / 2
        rows = {}
        for g in sorted(set(key) - {baseline}, key=str):
            v = vals[(key == g).to_numpy()]
            d = boot(v) - bb
            rows[g] = (float((~np.isnan(v)).sum()), float(np.nanmean(v) - np.nanmean(base)),
                       float(np.nanquantile(d, a)), float(np.nanquantile(d, 1 - a)))
        return pd.DataFrame.from_dict(rows, orient="index", columns=["count", "diff", "ci_lower", "ci_upper"]).rename_axis(tag)

    # ------------------------------------------------------------------ impact
    def impact_data(self, x: str = "size", metric: str = "slippage_arrival_bps") -> pd.DataFrame:
        r"""The executed orders as :func:`execlab.fit_impact` reads them.

        Parameters
        ----------
        x : {"size", "participation"}
            ``"size"``: ``daily_volume`` is the ADV forecast (Q/V = executed
            shares / ADV).  ``"participation"``: ``daily_volume`` is the
            market volume over the order's interval, so Q/V is the
            participation rate.
        metric : {"slippage_arrival_bps", "is_bps"}
            The cost: the average price against arrival (``side``,
            ``arrival_price``, ``avg_price``), or the whole shortfall
            (``shortfall_bps``).

        Returns
        -------
        DataFrame
            ``quantity`` (executed), ``daily_volume``, ``sigma`` (forecast,
            earlier sessions), ``duration`` (sessions), the cost columns,
            ``ticker``, ``session`` and the tags; only orders that executed
            and have a forecast.
        """
        check_choice(x, "x", list(_X))
        check_choice(metric, "metric", ["slippage_arrival_bps", "is_bps"])
        t = self.orders
        vol = t["adv"] if x == "size" else t["interval_volume"]
        keep = (t["executed"] > 0) & np.isfinite(vol) & (vol > 0) & np.isfinite(t["sigma"]) & (t["sigma"] > 0) \
            & (t["duration"] > 0)
        t = t[keep]
        out = pd.DataFrame({"quantity": t["executed"].astype(np.float64), "daily_volume": vol[keep].astype(np.float64),
                            "sigma": t["sigma"], "duration": t["duration"]}, index=t.index)
        if metric == "slippage_arrival_bps":
            out["side"] = t["side"]
            out["arrival_price"] = t["arrival_price"]
            out["avg_price"] = t["avg_price"]
        else:
            out["shortfall_bps"] = t["is_bps"]
        for c in t.columns:
            if c not in out.columns and not pd.api.types.is_numeric_dtype(t[c].dtype):
                out[c] = t[c]
        return out

    def fit_impact(self, model: str = "power", *, x: str = "size", metric: str = "slippage_arrival_bps",
                   cov_type: str | None = None, cluster: str | Sequence[str] = ("ticker", "session")) -> ImpactFit:
        r"""Calibrate an impact model on these orders: the TCA table goes straight into :func:`execlab.fit_impact`.

        Parameters
        ----------
        model : {"power", "sqrt", "linear", "almgren_chriss"}
        x, metric
            See :meth:`impact_data`.
        cov_type : str, optional
            As :func:`execlab.fit_impact` (default HC1/HC0), or ``"cluster"``
            for statsmodels' cluster-robust covariance over ``cluster``.
        cluster : str or pair of str, default ("ticker", "session")
            One column (one-way clusters) or two (two-way, Cameron, Gelbach
            and Miller 2011).

        Notes
        -----
        **When to cluster.**  HC errors treat orders as independent.  Orders
        of the same session share that day's market move, and orders of the
        same ticker share its liquidity; costs then correlate within a
        session and within a ticker, and HC errors are too small, often by a
        factor of two or more on a desk's blotter, where many orders work in
        the same names on the same days.  Cluster by ``("ticker",
        "session")`` when both dimensions have many groups (a few dozen or
        more each: the cluster sandwich is consistent in the number of
        clusters, not of orders); with a handful of tickers cluster by
        ``"session"`` alone; with a handful of sessions the clustered errors
        are themselves unreliable -- report HC and say so.

        References
        ----------
        Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2011). Robust
        inference with multiway clustering. *Journal of Business & Economic
        Statistics*, 29(2), 238-249.
        """
        data = self.impact_data(x, metric)
        if cov_type == "cluster":
            return fit_impact_clustered(data, model, cluster_codes(data, cluster))
        return fit_impact(data, model, cov_type=cov_type)

    def cost_curve(self, x: str = "participation", *, metric: str = "slippage_arrival_bps", bins: int | Sequence[float] = 6,
                   model: str = "power", rng: np.random.Generator | int | None = None, n_boot: int = 1000,
                   level: float = 0.95) -> CostCurve:
        """Cost against participation or size, binned with bootstrap intervals, with the fitted impact law.

        Parameters
        ----------
        x : {"participation", "size"}
            Participation rate (fraction) or size (% of ADV).
        metric : {"slippage_arrival_bps", "is_bps"}
        bins : int or sequence of float
            Number of equal-count bins, or the edges (units of ``x``).
        model : str
            Impact law fitted to the orders (see :func:`execlab.fit_impact`).
        rng : numpy Generator or int
            Source of the bootstrap resamples.
        """
        check_choice(x, "x", list(_X))
        data = self.impact_data(x, metric)
        col = _X[x]
        xv = self.orders.loc[data.index, col].to_numpy(np.float64)
        if np.ndim(bins) == 0:
            nb = int(check_scalar(bins, "bins", min_val=1, integer=True))
            edges = np.unique(np.quantile(xv, np.linspace(0, 1, nb + 1)))
        else:
            edges = np.asarray(bins, dtype=np.float64)
        which = np.clip(np.searchsorted(edges, xv, side="right") - 1, 0, len(edges) - 2)
        t = self.orders.loc[data.index].assign(_bin=which)
        s = summarize(t, by="_bin", rng=rng, n_boot=n_boot, level=level, metrics=[metric]).droplevel("metric")
        xm = pd.Series(xv, index=data.index).groupby(which).mean()
        table = pd.DataFrame({"x_lower": edges[s.index], "x_upper": edges[s.index + 1], "x_mean": xm.loc[s.index].to_numpy(),
                              "count": s["count"], "mean": s["mean"], "ci_lower": s["ci_lower"],
                              "ci_upper": s["ci_upper"]}).rename_axis("bin")
        fit = fit_impact(data, model)
        grid = np.geomspace(max(xv.min(), 1e-9), xv.max(), 60)
        scale = 100.0 if x == "size" else 1.0  # size is in % of ADV, fit_impact's Q/V a fraction
        sig = float(np.median(data["sigma"]))
        fitted = fit.model.cost_bps(grid / scale, np.ones_like(grid), np.full_like(grid, sig))
        curve = pd.DataFrame({"x": grid, "fitted_bps": fitted})
        return CostCurve(x, metric, table, fit, curve)

    # ------------------------------------------------------------------ output
    def to_parquet(self, directory: str | Path) -> Path:
        """Write ``orders.parquet``, ``fills.parquet`` (a folder for a Dask result) and ``rejected.parquet``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        o = self.orders.copy()
        for c in o.columns:
            if isinstance(o[c].dtype, pd.CategoricalDtype):
                o[c] = o[c].astype(str)
        o.to_parquet(d / "orders.parquet")
        if isinstance(self.fills, pd.DataFrame):
            self.fills.to_parquet(d / "fills.parquet")
        elif self.fills is not None:  # a dask DataFrame (None: tca(..., keep_fills=False))
            self.fills.to_parquet(str(d / "fills"))
        r = self.rejected.astype({"row": str, "order_id": str, "fill_id": str})
        r.to_parquet(d / "rejected.parquet")
        return d

    def __repr__(self) -> str:
        nf = len(self.fills) if isinstance(self.fills, pd.DataFrame) else "no" if self.fills is None else "lazy"
        h = "/".join(self.params.horizons)
        r = "/".join(f"{100 * x:g}%" for x in self.params.pwp_rates)
        return f"TCAResult({len(self.orders)} orders, {nf} fills, {len(self.rejected)} rejected; markouts {h}, PWP at {r})"

    # ------------------------------------------------------------------ figures
    def plot_markouts(self, by: str | None = None, ax: Any = None):
        """Share-weighted markouts by horizon (seaborn), one line per group of ``by``."""
        from ._plots import plot_markouts

        return plot_markouts(self, by=by, ax=ax)

    def plot_cost_by(self, tag: str, metrics: Sequence[str] = ("is_bps", "slippage_arrival_bps"),
                     rng: np.random.Generator | int | None = None, ax: Any = None):
        """Mean cost per group of ``tag`` with bootstrap intervals."""
        from ._plots import plot_cost_by

        return plot_cost_by(self, tag, metrics=metrics, rng=rng, ax=ax)
