r"""Passive against aggressive TWAP on the real book: the trade-off, measured event by event.

Each parent order is cut into equal time slices with whole-share sizes that
sum to it.  The **aggressive** TWAP sends a market order for each slice at the
slice's start.  The **passive** TWAP rests a limit order at the touch for
the slice (pegged to it by default), cancels it at the slice's end, and once
the cancel is confirmed crosses the spread with a market order for what did
not fill.  Both are replayed with :func:`execlab.replay.replay`, so the
passive fills depend on the queue model.

Implementation shortfall of a parent, in basis points of its arrival mid
:math:`m_0` (positive = cost):

.. math::
    \mathrm{IS} = \frac{s\,(\bar p - m_0) + f / Q}{m_0}\,10^4,

with :math:`s = \pm 1`, :math:`\bar p` the average fill price, :math:`f` the
fees and :math:`Q` the filled shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._orders import show, side_to_sign, whole_shares, to_ns
from ._book import EventBook
from ._replay import QUEUE_MODELS, Latency, ReplayResult, replay

__all__ = ["TwapComparison", "passive_twap"]


@dataclass
class TwapComparison:
    """Passive and aggressive TWAP on the same parent orders, per queue model.

    Attributes
    ----------
    parents : pandas.DataFrame
        One row per (strategy, queue model, parent): ``strategy`` (passive /
        aggressive), ``queue_model``, ``order_id``, ``side``, ``shares``,
        ``filled``, ``arrival_mid``, ``average_price``, ``shortfall_bps``,
        ``maker_share`` and ``markout_<h>_bps`` (share-weighted, positive =
        cost: the mid moved against the fill afterwards).
    table : pandas.DataFrame
        Per strategy and queue model: mean shortfall with a bootstrap
        interval over parents, maker share, mean markouts.
    difference : pandas.DataFrame
        Per queue model: passive minus aggressive shortfall, paired by
        parent, with its bootstrap interval.
    results : dict
        The :class:`ReplayResult` of every run, keyed ``(strategy, model,
        leg)`` with leg ``"rest"`` or ``"cross"``.
    """

    parents: pd.DataFrame
    table: pd.DataFrame
    difference: pd.DataFrame
    results: dict = field(repr=False)
    book: str = ""

    def summary(self) -> str:
        fmt = lambda x: f"{x:.2f}"  # noqa: E731
        return (f"Passive vs aggressive TWAP: {self.book}\n" + self.table.to_string(float_format=fmt)
                + "\n\nPassive minus aggressive shortfall (bps, paired by parent)\n"
                + self.difference.to_string(float_format=fmt))


def _check_parents(parents: pd.DataFrame) -> tuple:
    if not isinstance(parents, pd.DataFrame):
        raise TypeError(f"parents must be a pandas DataFrame, got {type(parents).__name__}.")
    if len(parents) == 0:
        raise ValueError("parents is empty.")
    missing = [c for c in ("side", "shares", "start_time", "end_time") if c not in parents.columns]
    if missing:
        raise ValueError(f"parents is missing column(s) {missing}; it needs side, shares, start_time, end_time "
                         "(and optionally order_id).")
    idx = parents.index
    oid = parents["order_id"].to_numpy() if "order_id" in parents.columns else idx.to_numpy()
    if pd.Index(oid).has_duplicates:
        raise ValueError("parents column 'order_id' has duplicates; parent ids are unique.")
    sign = side_to_sign(parents["side"], "parents", "side", idx)
    q = whole_shares(parents, "parents", "shares")
    times = [to_ns(parents[col], "parents", col, idx) for col in ("start_time", "end_time")]
    bad = times[1] <= times[0]
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise ValueError(f"parents row {show(idx[r])} ends at or before it starts.")
    return oid, sign, q, times[0], times[1]


def _slices(shares: np.ndarray, n: int) -> np.ndarray:
    """Whole-share slice sizes, (parents, n), each row summing exactly to the parent (remainder first)."""
    base = shares // n
    extra = shares - base * n
    return base[:, None] + (np.arange(n)[None, :] < extra[:, None])


def passive_twap(book: EventBook, parents: pd.DataFrame, *, slices: int = 10,
                 models: tuple = QUEUE_MODELS, peg: bool = True, latency: Latency | None = None,
                 fees: dict | None = None, horizons: tuple = ("1s", "10s", "60s"), n_boot: int = 2000,
                 probability: tuple = ("power", 3.0), rng: np.random.Generator | None = None) -> TwapComparison:
    """Replay a passive TWAP (rest at the touch, cross at each slice's end) beside the aggressive one.

    Parameters
    ----------
    book : EventBook
    parents : pandas.DataFrame
        ``side``, ``shares``, ``start_time``, ``end_time`` (tz-aware) and
        optionally ``order_id``.
    slices : int, default 10
        Equal time slices per parent.
    models : tuple of str
        Queue models for the passive legs (the aggressive TWAP does not
        rest, so it is the same under all).
    peg : bool, default True
        Whether the resting slice follows the touch (cancel/replace) or
        stays at the touch it joined.
    latency : Latency, optional
        As :func:`replay`; the crossing order is sent when the cancel is
        confirmed (cancel latency, then response latency, after the slice end).
    fees : dict, optional
        As :func:`replay`, e.g. ``{"MAKER": -0.002, "TAKER": 0.003}``.
    horizons : tuple of str
        Markout horizons.
    n_boot : int, default 2000
        Bootstrap resamples of parents for the intervals.
    probability : tuple
        As :func:`replay`.
    rng : numpy.random.Generator
        Required: the bootstrap (and any drawn latency).

    Returns
    -------
    TwapComparison
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed)): the bootstrap uses it.")
    if isinstance(slices, bool) or not isinstance(slices, (int, np.integer)) or slices < 1:
        raise ValueError(f"slices must be a whole number >= 1, got {slices!r}.")
    latency = Latency() if latency is None else latency
    oid, sign, shares, start, end = _check_parents(parents)
    p = len(shares)
    size = _slices(shares, slices)  # (parents, slices)
    edges = start[:, None] + ((end - start)[:, None] * np.arange(slices + 1)[None, :]) // slices
    child_parent = np.repeat(np.arange(p), slices)
    child_shares = size.ravel()
    keep = child_shares > 0
    t0 = edges[:, :-1].ravel()
    t1 = edges[:, 1:].ravel()
    tz = "America/New_York"
    ts = lambda ns: pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(tz)  # noqa: E731
    side = np.where(sign[child_parent] > 0, "BUY", "SELL")
    arrival_mid = book.mid_at(start)
    results: dict = {}
    rows = []

    aggressive = pd.DataFrame({"order_id": np.arange(len(t0))[keep], "side": side[keep], "shares": child_shares[keep],
                               "order_type": "market", "submit_time": ts(t0[keep])})
    res_aggr = replay(book, aggressive, queue="touch", latency=latency, fees=fees, rng=rng)
    results[("aggressive", "-", "cross")] = res_aggr
    aggr_rows = _parent_rows([res_aggr], [child_parent[keep]], p, oid, sign, shares, arrival_mid, horizons)
    aggr_rows.insert(0, "queue_model", "-")
    aggr_rows.insert(0, "strategy", "aggressive")
    rows.append(aggr_rows)
    rest = pd.DataFrame({"order_id": np.arange(len(t0))[keep], "side": side[keep], "shares": child_shares[keep],
                         "order_type": "limit", "offset_ticks": 0, "peg": peg, "submit_time": ts(t0[keep]),
                         "cancel_time": ts(t1[keep])})
    for model in models:
        res_rest = replay(book, rest, queue=model, probability=probability, latency=latency, fees=fees, rng=rng)
        left = res_rest.orders["shares"].to_numpy() - res_rest.orders["filled"].to_numpy()
        # Cross once the cancel is confirmed: its arrival at the exchange plus the response latency.
        confirmed = pd.DatetimeIndex(res_rest.orders["end_time"]).asi8
        confirmed = confirmed + latency.draw(len(left), rng)["response"]
        need = left > 0
        cross = pd.DataFrame({"order_id": res_rest.orders["order_id"].to_numpy()[need], "side": side[keep][need],
                              "shares": left[need], "order_type": "market", "submit_time": ts(confirmed[need])})
        parts, owners = [res_rest], [child_parent[keep]]
        if len(cross):
            res_cross = replay(book, cross, queue=model, latency=latency, fees=fees, rng=rng)
            results[("passive", model, "cross")] = res_cross
            parts.append(res_cross)
            owners.append(child_parent[keep][need])
        results[("passive", model, "rest")] = res_rest
        pr = _parent_rows(parts, owners, p, oid, sign, shares, arrival_mid, horizons)
        pr.insert(0, "queue_model", model)
        pr.insert(0, "strategy", "passive")
        rows.append(pr)
    parents_out = pd.concat(rows, ignore_index=True)
    table, difference = _tables(parents_out, horizons, n_boot, rng)
    return TwapComparison(parents=parents_out, table=table, difference=difference, results=results, book=repr(book))


def _parent_rows(parts: list[ReplayResult], owners: list[np.ndarray], p: int, oid: np.ndarray, sign: np.ndarray,
                 shares: np.ndarray, arrival_mid: np.ndarray, horizons: tuple) -> pd.DataFrame:
    """Per parent: filled shares, average price, fees, maker share and share-weighted markouts."""
    filled = np.zeros(p)
    notional = np.zeros(p)
    fee = np.zeros(p)
    maker = np.zeros(p)
    mark = {h: np.zeros(p) for h in horizons}
    for res, owner in zip(parts, owners):
        f = res.fills
        if not len(f):
            continue
        # Fills name child order ids, which are positions 0..n-1 of this run's child frame.
        child_pos = pd.Index(res.orders["order_id"]).get_indexer(f["order_id"])
        par = owner[child_pos]
        q = f["shares"].to_numpy(dtype=float)
        np.add.at(filled, par, q)
        np.add.at(notional, par, q * f["price"].to_numpy())
        np.add.at(fee, par, f["fee"].to_numpy())
        np.add.at(maker, par, np.where(f["liquidity"].to_numpy() == "MAKER", q, 0.0))
        mk = res.markouts(horizons)
        for h in horizons:
            v = mk[f"markout_{h}_bps"].to_numpy()
            np.add.at(mark[h], par, np.where(np.isfinite(v), v, 0.0) * q)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = notional / filled
        out = pd.DataFrame({"order_id": oid, "side": np.where(sign > 0, "BUY", "SELL"), "shares": shares,
                            "filled": filled.astype(np.int64), "arrival_mid": arrival_mid, "average_price": avg,
                            "shortfall_bps": (sign * (avg - arrival_mid) + fee / filled) / arrival_mid * 1e4,
                            "maker_share": maker / filled})
        for h in horizons:
            out[f"markout_{h}_bps"] = mark[h] / filled
    return out


def _boot_mean(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    means = x[idx].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(x.mean()), float(lo), float(hi)


def _tables(parents: pd.DataFrame, horizons: tuple, n_boot: int, rng: np.random.Generator) -> tuple:
    rows = []
    for (strategy, model), g in parents.groupby(["strategy", "queue_model"], sort=False):
        mean, lo, hi = _boot_mean(g["shortfall_bps"].to_numpy(), n_boot, rng)
        row = {"strategy": strategy, "queue_model": model, "parents": len(g), "shortfall_bps": mean,
               "ci_low": lo, "ci_high": hi, "maker_share": g["maker_share"].mean(),
               "filled": g["filled"].sum() / g["shares"].sum()}
        for h in horizons:
            row[f"markout_{h}_bps"] = g[f"markout_{h}_bps"].mean()
        rows.append(row)
    table = pd.DataFrame(rows).set_index(["strategy", "queue_model"])
    aggr = parents[parents["strategy"] == "aggressive"].set_index("order_id")["shortfall_bps"]
    diffs = []
    for model, g in parents[parents["strategy"] == "passive"].groupby("queue_model", sort=False):
        d = g.set_index("order_id")["shortfall_bps"] - aggr
        mean, lo, hi = _boot_mean(d.to_numpy(), n_boot, rng)
        diffs.append({"queue_model": model, "passive_minus_aggressive_bps": mean, "ci_low": lo, "ci_high": hi,
                      "passive_cheaper_share": float((d < 0).mean())})
    return table, pd.DataFrame(diffs).set_index("queue_model")
