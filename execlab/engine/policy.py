"""Urgency policy: which schedule each urgency gets, as a table users can read and replace.

The default table is

========  ==============  ========  ========  ============
urgency   algorithm       horizon   n_slices  bin_duration
========  ==============  ========  ========  ============
CRITICAL  market          1 bar     1         1 bar
HIGH      twap            5 min     5         1 min
MEDIUM    twap            30 min    10        3 min
LOW       vwap            rest of   one per   1 bar
                          session   bar
========  ==============  ========  ========  ============

Almgren-Chriss is available as ``algorithm="almgren_chriss"`` with a
``risk_aversion`` (per dollar).  Schedules are computed one call per urgency
group (one :func:`execlab.twap` for all HIGH orders, and so on) and laid on a
common grid of bars so that one simulation covers the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schedules import almgren_chriss, market, twap, vwap
from .decisions import URGENCIES

__all__ = ["UrgencyPolicy", "ALGORITHMS", "PlannedSchedules"]

ALGORITHMS = ("market", "twap", "vwap", "almgren_chriss")
_COLS = ["algorithm", "horizon", "n_slices", "bin_duration", "risk_aversion"]


def _td(x: object, what: str) -> pd.Timedelta:
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return pd.NaT
    try:
        td = pd.Timedelta(x)
    except (TypeError, ValueError):
        raise ValueError(f"{what} == {x!r}, must be a time span such as '30min'.") from None
    if td <= pd.Timedelta(0):
        raise ValueError(f"{what} == {x!r}, must be positive.")
    return td


def _row(urgency: str, spec: dict) -> dict:
    unknown = set(spec) - set(_COLS)
    if unknown:
        raise ValueError(f"policy row {urgency!r} has unknown field(s) {sorted(unknown)}; allowed: {_COLS}.")
    algo = spec.get("algorithm")
    if algo not in ALGORITHMS:
        raise ValueError(f"policy row {urgency!r}: algorithm == {algo!r}, must be one of {list(ALGORITHMS)}.")
    horizon = _td(spec.get("horizon"), f"policy row {urgency!r}: horizon")
    n = spec.get("n_slices")
    if n is not None and not pd.isna(n):
        if isinstance(n, bool) or float(n) != int(n) or int(n) < 1:
            raise ValueError(f"policy row {urgency!r}: n_slices == {n!r}, must be an integer >= 1.")
        n = int(n)
    else:
        n = None
    bd = _td(spec.get("bin_duration"), f"policy row {urgency!r}: bin_duration")
    ra = spec.get("risk_aversion")
    ra = np.nan if ra is None else float(ra)
    if algo == "market":
        n = 1
    if algo in ("twap", "almgren_chriss"):
        if pd.isna(horizon) or n is None:
            raise ValueError(f"policy row {urgency!r}: {algo} needs both horizon and n_slices.")
    if algo == "almgren_chriss" and not (np.isfinite(ra) and ra >= 0):
        raise ValueError(f"policy row {urgency!r}: almgren_chriss needs risk_aversion >= 0 (per $), got {ra!r}.")
    if pd.isna(bd) and not pd.isna(horizon) and n is not None:
        bd = horizon / n
    if not pd.isna(bd) and not pd.isna(horizon) and n is not None and bd * n != horizon:
        raise ValueError(
            f"policy row {urgency!r}: horizon {horizon} != n_slices {n} x bin_duration {bd}; give two of the three."
        )
    return {"algorithm": algo, "horizon": horizon, "n_slices": n, "bin_duration": bd, "risk_aversion": ra}


@dataclass(frozen=True)
class PlannedSchedules:
    """Schedules for a batch laid on a common grid of bars.

    Attributes
    ----------
    shares : ndarray of int64, shape (orders, bins)
        Shares released in each grid bin (one bar each) after arrival.
    algorithm : ndarray of str, shape (orders,)
    stride : ndarray of int64, shape (orders,)
        Grid bins per policy slice.
    """

    shares: np.ndarray
    algorithm: np.ndarray
    stride: np.ndarray

    @property
    def quantity(self) -> np.ndarray:
        return self.shares.sum(axis=1)


class UrgencyPolicy:
    """Map each urgency to an execution algorithm and its parameters.

    Parameters
    ----------
    table : DataFrame or dict, optional
        Indexed by urgency (CRITICAL, HIGH, MEDIUM, LOW) with columns
        ``algorithm`` (market, twap, vwap, almgren_chriss), ``horizon``
        (time span; NaT for VWAP means the rest of the session),
        ``n_slices`` (int; for VWAP None means one slice per bar),
        ``bin_duration`` (time span; derived from horizon / n_slices when
        absent) and ``risk_aversion`` (Almgren-Chriss lambda, per $).
        ``None`` gives :meth:`default`.

    Raises
    ------
    ValueError
        An urgency missing, an unknown algorithm, inconsistent horizon,
        slices and bin duration, or Almgren-Chriss without risk aversion.

    Examples
    --------
    >>> p = UrgencyPolicy()
    >>> p.table.loc["MEDIUM", "algorithm"], int(p.table.loc["MEDIUM", "n_slices"])
    ('twap', 10)
    >>> p.replace("LOW", algorithm="almgren_chriss", horizon="60min", n_slices=20,
    ...           risk_aversion=1e-6).table.loc["LOW", "algorithm"]
    'almgren_chriss'
    """

    DEFAULT = {
        "CRITICAL": {"algorithm": "market"},
        "HIGH": {"algorithm": "twap", "horizon": "5min", "n_slices": 5},
        "MEDIUM": {"algorithm": "twap", "horizon": "30min", "n_slices": 10},
        "LOW": {"algorithm": "vwap"},
    }

    def __init__(self, table: pd.DataFrame | dict | None = None) -> None:
        if table is None:
            table = self.DEFAULT
        if isinstance(table, pd.DataFrame):
            spec = {str(u): {k: v for k, v in row.items() if k in _COLS} for u, row in table.iterrows()}
            extra = set(table.columns) - set(_COLS)
            if extra:
                raise ValueError(f"policy table has unknown column(s) {sorted(extra)}; allowed: {_COLS}.")
        elif isinstance(table, dict):
            spec = {str(u): dict(v) for u, v in table.items()}
        else:
            raise TypeError(f"table must be a DataFrame or dict, got {type(table).__name__}.")
        missing = [u for u in URGENCIES if u not in spec]
        unknown = [u for u in spec if u not in URGENCIES]
        if missing or unknown:
            raise ValueError(f"policy must have exactly the urgencies {list(URGENCIES)}; missing {missing}, unknown {unknown}.")
        rows = {u: _row(u, spec[u]) for u in URGENCIES}
        t = pd.DataFrame.from_dict(rows, orient="index")[_COLS]
        t["n_slices"] = t["n_slices"].astype("Int64")
        t.index.name = "urgency"
        self._table = t

    @classmethod
    def default(cls) -> "UrgencyPolicy":
        """The issue's default policy (see module docstring)."""
        return cls()

    @property
    def table(self) -> pd.DataFrame:
        """The policy as a DataFrame (a copy; edit it and pass it back to the constructor)."""
        return self._table.copy()

    def replace(self, urgency: str, **spec: object) -> "UrgencyPolicy":
        """A new policy with one urgency's row replaced by ``spec``."""
        if urgency not in URGENCIES:
            raise ValueError(f"urgency == {urgency!r}, must be one of {list(URGENCIES)}.")
        rows = {u: {k: (None if (not isinstance(v, str) and pd.isna(v)) else v) for k, v in r.items()}
                for u, r in self._table.to_dict(orient="index").items()}
        rows[urgency] = dict(spec)
        return UrgencyPolicy(rows)

    def __repr__(self) -> str:
        return "UrgencyPolicy\n" + self._table.to_string()

    # ------------------------------------------------------------------ planning
    def plan(
        self,
        quantity: np.ndarray,
        urgency: np.ndarray,
        start_bin: np.ndarray,
        bins_left: np.ndarray,
        grid: pd.Timedelta,
        profile: np.ndarray,
        ac_params: dict[str, np.ndarray] | None = None,
    ) -> PlannedSchedules:
        """Schedules for a batch, one schedule call per urgency group.

        Parameters
        ----------
        quantity : ndarray of int64, shape (orders,)
            Parent quantities (shares).
        urgency : ndarray of str, shape (orders,)
        start_bin : ndarray of int64, shape (orders,)
            Index of the arrival bar in ``profile``.
        bins_left : ndarray of int64, shape (orders,)
            Bars from the arrival bar to the close, inclusive.
        grid : Timedelta
            Bar length; every policy bin duration must be a whole number of bars.
        profile : ndarray, shape (bars,)
            Expected volume fraction of each bar (VWAP weights).
        ac_params : dict of ndarray, optional
            Per-order ``sigma`` ($ per share per sqrt(day)), ``eta``,
            ``gamma``, ``epsilon`` for Almgren-Chriss rows.
        """
        n = len(quantity)
        groups: list[tuple[np.ndarray, np.ndarray, int]] = []  # (rows, shares per slice, stride)
        algo = np.empty(n, dtype=object)
        stride = np.ones(n, dtype=np.int64)
        for u in URGENCIES:
            rows = np.flatnonzero(urgency == u)
            if rows.size == 0:
                continue
            r = self._table.loc[u]
            bd = grid if pd.isna(r["bin_duration"]) else r["bin_duration"]
            k = bd / grid
            if k != int(k) or k < 1:
                raise ValueError(
                    f"policy row {u!r}: bin_duration {bd} is not a whole number of bars of {grid}."
                )
            k = int(k)
            q = quantity[rows]
            if r["algorithm"] == "market":
                s = market(q).shares
            elif r["algorithm"] == "twap":
                s = twap(q, int(r["n_slices"])).shares
            elif r["algorithm"] == "almgren_chriss":
                p = ac_params or {}
                s = almgren_chriss(
                    q, int(r["n_slices"]), (r["horizon"] / pd.Timedelta("390min")),
                    p["sigma"][rows], p["eta"][rows], p["gamma"][rows], float(r["risk_aversion"]),
                    p.get("epsilon", np.zeros(n))[rows],
                ).shares
            else:  # vwap over the rest of the session or the stated horizon, on the profile
                s = self._vwap_rows(q, start_bin[rows], bins_left[rows], r, k, grid, profile)
            algo[rows] = r["algorithm"]
            stride[rows] = k
            groups.append((rows, s, k))
        width = max(s.shape[1] * k for _, s, k in groups)
        shares = np.zeros((n, width), dtype=np.int64)
        for rows, s, k in groups:
            shares[rows[:, None], (np.arange(s.shape[1]) * k)[None, :]] = s
        return PlannedSchedules(shares, algo.astype(str), stride)

    @staticmethod
    def _vwap_rows(q, start, left, r, k, grid, profile):
        if pd.isna(r["horizon"]):
            n_sl = np.maximum(-(-left // k), 1)  # slices that start before the close
        else:
            n_sl = np.full(len(q), max(int(r["horizon"] / (grid * k)), 1))
        if not pd.isna(r["n_slices"]) and pd.isna(r["horizon"]):
            n_sl = np.minimum(n_sl, int(r["n_slices"]))
        width = int(n_sl.max())
        # Expected volume of each slice = profile summed over its k bars, from the arrival
        # bar, never past the order's close.
        cum = np.concatenate([[0.0], np.cumsum(profile)])
        j = np.arange(width)
        end = (start + left)[:, None]
        lo = np.minimum(start[:, None] + j[None, :] * k, end)
        hi = np.minimum(lo + k, end)
        w = cum[hi] - cum[lo]
        w = np.where(j[None, :] < n_sl[:, None], w, 0.0)
        empty = w.sum(axis=1) <= 0
        if empty.any():  # no forecast volume left: equal slices
            w[empty] = (j[None, :] < n_sl[empty, None]).astype(float)
        return vwap(q, w).shares
