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
``risk_aversion`` (per dollar).  A horizon that runs past the close is cut
there: the order is scheduled over the slices that start before the close
(a 30-minute TWAP decided at 15:59 trades in the last minute), and the order
is flagged ``horizon_clipped``.  Schedules are computed one call per urgency
group (one :func:`execlab.twap` for all HIGH orders, and so on) and laid on a
common grid of bars so that one simulation covers the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._calendar import SESSION_LENGTH
from .._validation import check_timedelta
from ..schedules import almgren_chriss, market, twap, vwap
from .decisions import URGENCIES

__all__ = ["UrgencyPolicy", "ALGORITHMS", "PlannedSchedules"]

ALGORITHMS = ("market", "twap", "vwap", "almgren_chriss")
_COLS = ["algorithm", "horizon", "n_slices", "bin_duration", "risk_aversion"]


def _td(x: object, what: str) -> pd.Timedelta:
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return pd.NaT
    return check_timedelta(x, what, example="'30min'")


def _row(urgency: str, spec: dict) -> dict:
    unknown = set(spec) - set(_COLS)
    if unknown:
        raise ValueError(f"policy row {urgency!r} has unknown field(s) {sorted(unknown)}; allowed: {_COLS}.")
    algo = spec.get("algorithm")
    if isinstance(algo, str):
        algo = algo.strip().lower()  # "TWAP" means twap
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
        raise ValueError(f"policy row {urgency!r}: almgren_chriss needs risk_aversion >= 0 (lambda, per $), got {ra!r} "
                         "(0 gives TWAP; larger values trade faster early).")
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
    clipped : ndarray of bool, shape (orders,)
        The policy horizon ran past the close, so the order was scheduled
        over the slices that start before it.
    """

    shares: np.ndarray
    algorithm: np.ndarray
    stride: np.ndarray
    clipped: np.ndarray

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
        # urgencies are case-insensitive, as in decisions ("high" is HIGH)
        spec = {u.strip().upper(): v for u, v in spec.items()}
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
        """A new policy with one urgency's row changed; this policy is left as it was.

        Fields not given are kept from the current row, so
        ``replace("HIGH", algorithm="almgren_chriss", risk_aversion=1e-6)``
        keeps HIGH's 5-minute horizon and 5 slices, and
        ``replace("MEDIUM", horizon="60min")`` keeps TWAP and 10 slices (the bin
        duration is re-derived).  Switching to ``market`` or ``vwap`` starts
        from an empty row (VWAP then runs over the rest of the session unless
        a ``horizon`` is given).

        Parameters
        ----------
        urgency : str
            CRITICAL, HIGH, MEDIUM or LOW (case-insensitive).
        **spec
            ``algorithm``, ``horizon``, ``n_slices``, ``bin_duration``,
            ``risk_aversion``.
        """
        u = urgency.strip().upper() if isinstance(urgency, str) else urgency
        if u not in URGENCIES:
            raise ValueError(f"urgency == {urgency!r}, must be one of {list(URGENCIES)}.")
        unknown = set(spec) - set(_COLS)
        if unknown:
            raise ValueError(f"policy row {u!r} has unknown field(s) {sorted(unknown)}; allowed: {_COLS}.")
        rows = {k: {f: (None if (not isinstance(v, str) and pd.isna(v)) else v) for f, v in r.items()}
                for k, r in self._table.to_dict(orient="index").items()}
        old = rows[u]
        algo = spec.get("algorithm", old["algorithm"])
        algo = algo.strip().lower() if isinstance(algo, str) else algo
        if algo in ("market", "vwap") and algo != old["algorithm"]:
            row = {}
        else:
            row = {f: v for f, v in old.items() if v is not None}
            if algo != "almgren_chriss":
                row.pop("risk_aversion", None)
            # bin_duration is derived unless given: changing horizon or slices re-derives it
            if ("horizon" in spec or "n_slices" in spec) and "bin_duration" not in spec:
                row.pop("bin_duration", None)
        row.update(spec)
        row["algorithm"] = algo
        rows[u] = row
        return UrgencyPolicy(rows)

    def describe(self) -> pd.DataFrame:
        """The table as a trader reads it: spans like ``5min``, blanks where a field does not apply."""

        def span(td: object, empty: str) -> str:
            if pd.isna(td):
                return empty
            minutes = td / pd.Timedelta("1min")
            return f"{minutes:g}min" if minutes == int(minutes) else f"{td.total_seconds():g}s"

        t = self._table
        rest = np.where(t["algorithm"] == "vwap", "rest of session", "")
        return pd.DataFrame(
            {
                "algorithm": t["algorithm"],
                "horizon": [span(h, r) if a != "market" else "one bar" for h, r, a in zip(t["horizon"], rest, t["algorithm"])],
                "slices": [("one per bar" if a == "vwap" else "") if pd.isna(n) else str(int(n))
                           for n, a in zip(t["n_slices"], t["algorithm"])],
                "every": [span(b, "1 bar") for b in t["bin_duration"]],
                "risk_aversion": [f"{x:g}" if np.isfinite(x) else "" for x in t["risk_aversion"]],
            },
            index=t.index,
        )

    def __repr__(self) -> str:
        return "UrgencyPolicy\n" + self.describe().to_string()

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
        clipped = np.zeros(n, dtype=bool)
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
            elif r["algorithm"] in ("twap", "almgren_chriss"):
                # A horizon that runs past the close is cut to the slices that start before
                # it, and the order is scheduled over those (a 30-minute TWAP at 15:59 trades
                # in the last minute) -- one schedule call per distinct number of slices.
                n_full = int(r["n_slices"])
                n_fit = np.clip(-(-bins_left[rows] // k), 1, n_full)
                clipped[rows] = n_fit < n_full
                s = np.zeros((len(rows), n_full), dtype=np.int64)
                for n_sl in np.unique(n_fit):  # at most n_slices groups, never one per order
                    sub = np.flatnonzero(n_fit == n_sl)
                    if r["algorithm"] == "twap":
                        s[sub, :n_sl] = twap(q[sub], int(n_sl)).shares
                    else:
                        p = ac_params or {}
                        g = rows[sub]
                        s[sub, :n_sl] = almgren_chriss(
                            q[sub], int(n_sl), (r["horizon"] * (n_sl / n_full) / SESSION_LENGTH),
                            p["sigma"][g], p["eta"][g], p["gamma"][g], float(r["risk_aversion"]),
                            p.get("epsilon", np.zeros(n))[g],
                        ).shares
            else:  # vwap over the rest of the session or the stated horizon, on the profile
                s = self._vwap_rows(q, start_bin[rows], bins_left[rows], r, k, grid, profile)
                if not pd.isna(r["horizon"]):
                    clipped[rows] = r["horizon"] > bins_left[rows] * grid
            algo[rows] = r["algorithm"]
            stride[rows] = k
            groups.append((rows, s, k))
        width = max(s.shape[1] * k for _, s, k in groups)
        shares = np.zeros((n, width), dtype=np.int64)
        for rows, s, k in groups:
            shares[rows[:, None], (np.arange(s.shape[1]) * k)[None, :]] = s
        return PlannedSchedules(shares, algo.astype(str), stride, clipped)

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
