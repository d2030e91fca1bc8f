"""Portfolio ledger: cash, positions, average cost, realized and unrealized P&L, fees.

Fills are applied a batch at a time with array operations: fills are grouped
by ticker and taken in time order, and the average-cost recursion (including
positions that flip from long to short) is solved by a parallel prefix scan
of affine maps instead of a Python loop over fills.

Bookkeeping identity (checked by a property test): through every fill

.. math::
    \\text{cash} + \\sum_i P_i \\bar c_i - R + F = \\text{constant},

with signed positions :math:`P_i` (shares), average costs :math:`\\bar c_i`
($ per share), cumulative realized P&L :math:`R` (gross of fees) and fees
paid :math:`F`.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from ._int64 import check_grouped_sums, to_int64

__all__ = ["Ledger"]

_FILL_COLS = ["time", "ticker", "shares", "price", "fee", "order_id"]


def _locked(method):
    """Run ``method`` holding the ledger's lock (re-entrant: locked methods may call each other)."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def _show(v: object) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v) if isinstance(v, str) else str(v)


def _affine_scan(m: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Solve x_k = m_k x_{k-1} + a_k (x_{-1} = 0) for all k by a Hillis-Steele scan.

    Composition of affine maps is associative, so log2(n) whole-array steps
    replace the sequential loop.  ``m`` must be finite; here 0 <= m <= 1.
    """
    m = m.astype(np.float64).copy()
    a = a.astype(np.float64).copy()
    s = 1
    n = len(m)
    while s < n:
        m_prev = m[:-s].copy()
        a_prev = a[:-s].copy()
        a[s:] = m[s:] * a_prev + a[s:]
        m[s:] = m[s:] * m_prev
        s *= 2
    return a


def _average_cost_path(
    group_start: np.ndarray,
    p0: np.ndarray,
    c0: np.ndarray,
    d: np.ndarray,
    price: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions, average costs and realized P&L after each fill.

    Rows are fills sorted by (ticker, time); ``group_start`` marks each
    ticker's first fill, ``p0``/``c0`` (per row, used at group starts) its
    position and average cost before the batch.

    Returns position after, average cost before, average cost after and
    realized P&L of each fill.
    """
    n = len(d)
    # position before each fill: p0 + cumsum of earlier fills of the same ticker
    csum = np.cumsum(d)
    start_idx = np.maximum.accumulate(np.where(group_start, np.arange(n), 0))
    before_group = np.where(start_idx > 0, csum[start_idx - 1], 0)
    pos_after = p0 + (csum - before_group)
    pos_before = pos_after - d
    ab, aa = np.abs(pos_before), np.abs(pos_after)
    same = (np.sign(pos_before) * np.sign(pos_after)) > 0
    increase = (pos_before == 0) | (same & (aa > ab))
    flip = (np.sign(pos_before) * np.sign(pos_after)) < 0
    # B = |P| * average cost evolves as an affine map B' = m B + a
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(increase, 1.0, np.where(flip, 0.0, np.where(ab > 0, aa / np.where(ab > 0, ab, 1), 0.0)))
    a = np.where(increase, np.abs(d) * price, np.where(flip, aa * price, 0.0))
    # Reset each ticker's chain at its first fill with its opening cost basis.
    b0 = np.abs(p0) * c0
    a = np.where(group_start, m * b0 + a, a)
    m = np.where(group_start, 0.0, m)
    basis = _affine_scan(m, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost_after = np.where(aa > 0, basis / np.where(aa > 0, aa, 1), 0.0)
    cost_before = np.empty(n)
    cost_before[1:] = cost_after[:-1]
    cost_before[group_start] = c0[group_start]
    # Reductions keep the cost exactly (no float drift from B / |P|).
    reduce_ = ~increase & ~flip
    # propagate exact cost through runs of reductions: take cost at the last non-reduction row
    last_set = np.maximum.accumulate(np.where(~reduce_ | group_start, np.arange(n), 0))
    exact_src = np.where(group_start[last_set] & reduce_[last_set], c0[last_set], cost_after[last_set])
    cost_after = np.where(reduce_ & (aa > 0), exact_src, cost_after)
    cost_before[1:] = cost_after[:-1]
    cost_before[group_start] = c0[group_start]
    closed = np.where(np.sign(d) * np.sign(pos_before) < 0, np.minimum(np.abs(d), ab), 0)
    realized = closed * (price - cost_before) * np.sign(pos_before)
    return pos_after, cost_before, cost_after, realized


class Ledger:
    """Cash and positions, updated from fills.

    Parameters
    ----------
    cash : float
        Opening cash ($).
    positions : dict, Series or DataFrame, optional
        Opening positions: ``{ticker: shares}`` (cost 0 unless
        ``avg_cost`` given), ``{ticker: (shares, avg_cost)}``, or a frame with
        ``ticker, shares, avg_cost``.  Negative shares are short.
    start_time : Timestamp, optional
        When the opening state holds (fills before it are rejected).

    Attributes
    ----------
    cash : float
        Current cash ($).

    Notes
    -----
    **Threads.**  Every update and every read of the state takes the
    ledger's lock (a re-entrant lock), so one ledger may be shared by
    threads: batches of fills are booked one after the other, never
    interleaved.  An :class:`~execlab.engine.Executor` holds its ledger's
    lock for the whole of a run.

    **Share counts** are int64; an opening position, a fill or a running
    position outside [-2**63, 2**63 - 1] shares raises instead of wrapping.

    Examples
    --------
    >>> L = Ledger(10_000.0)
    >>> L.apply_fills(pd.DataFrame({"time": pd.to_datetime(["2012-06-21 10:00"] * 2).tz_localize("America/New_York"),
    ...     "ticker": ["AAPL", "AAPL"], "shares": [10, -4], "price": [500.0, 510.0], "fee": [1.0, 1.0]}))
    >>> p = L.positions.loc["AAPL"]
    >>> int(p["shares"]), float(p["avg_cost"]), float(p["realized_pnl"]), L.cash
    (6, 500.0, 40.0, 7038.0)
    """

    def __init__(self, cash: float, positions: object = None, start_time: object = None) -> None:
        cash = float(cash)
        if not np.isfinite(cash):
            raise ValueError(f"cash == {cash!r}, must be finite.")
        tick, sh, cost = self._read_positions(positions)
        self._tickers: list[str] = list(tick)
        self._shares = sh
        self._cost = cost
        self._realized = np.zeros(len(tick))
        self._fees = np.zeros(len(tick))
        self.cash = cash
        self._initial = {"cash": cash, "tickers": list(tick), "shares": sh.copy(), "avg_cost": cost.copy()}
        self._fills: list[pd.DataFrame] = []
        self._fills_cache: pd.DataFrame | None = None
        self.start_time = None if start_time is None else pd.Timestamp(start_time)
        self._lock = threading.RLock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_lock", None)  # locks do not pickle; a copy gets its own
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    @staticmethod
    def _read_positions(positions: object) -> tuple[list[str], np.ndarray, np.ndarray]:
        if positions is None:
            return [], np.zeros(0, np.int64), np.zeros(0)
        if isinstance(positions, pd.DataFrame):
            missing = [c for c in ("ticker", "shares") if c not in positions.columns]
            if missing:
                raise ValueError(f"positions are missing column(s) {missing}.")
            t = [str(x) for x in positions["ticker"]]
            s = positions["shares"].to_numpy()
            c = positions["avg_cost"].to_numpy(np.float64) if "avg_cost" in positions else np.zeros(len(t))
        else:
            items = dict(positions.items()) if isinstance(positions, pd.Series) else dict(positions)
            t = [str(k) for k in items]
            vals = list(items.values())
            s = np.array([v[0] if isinstance(v, (tuple, list)) else v for v in vals])
            c = np.array([float(v[1]) if isinstance(v, (tuple, list)) else 0.0 for v in vals])
        s_i = to_int64(s if isinstance(s, np.ndarray) else list(s), "positions: shares", labels=t)
        bad = ~np.isfinite(c) | (c < 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"positions: avg_cost == {c[pos]!r} for {t[pos]!r}, must be finite and >= 0.")
        if len(set(t)) != len(t):
            raise ValueError(f"positions list a ticker twice: {t}.")
        return t, s_i, np.where(s_i != 0, c, 0.0)

    # ------------------------------------------------------------------ views
    @property
    def tickers(self) -> list[str]:
        return list(self._tickers)

    @property
    def fees(self) -> float:
        """Fees paid in total ($)."""
        return float(self._fees.sum())

    @property
    def realized_pnl(self) -> float:
        """Realized P&L in total, gross of fees ($)."""
        return float(self._realized.sum())

    @property
    @_locked
    def positions(self) -> pd.DataFrame:
        """Per ticker: ``shares``, ``avg_cost``, ``cost_basis`` (shares x avg cost), ``realized_pnl``, ``fees``."""
        df = pd.DataFrame(
            {
                "shares": self._shares.copy(),
                "avg_cost": self._cost.copy(),
                "cost_basis": self._shares * self._cost,
                "realized_pnl": self._realized.copy(),
                "fees": self._fees.copy(),
            },
            index=pd.Index(self._tickers, name="ticker", dtype=object),
        )
        return df

    def position(self, ticker: str) -> int:
        """Shares held of ``ticker`` (0 if never traded)."""
        return int(self._shares[self._tickers.index(ticker)]) if ticker in self._tickers else 0

    @property
    @_locked
    def fills(self) -> pd.DataFrame:
        """Every fill applied: ``time, ticker, shares`` (signed), ``price, fee, order_id``."""
        if self._fills_cache is None:
            if self._fills:
                self._fills_cache = pd.concat(self._fills, ignore_index=True)
            else:
                self._fills_cache = pd.DataFrame(
                    {"time": pd.Series([], dtype="datetime64[ns, UTC]"), "ticker": pd.Series([], dtype=object),
                     "shares": pd.Series([], dtype=np.int64), "price": pd.Series([], dtype=float),
                     "fee": pd.Series([], dtype=float), "order_id": pd.Series([], dtype=object)}
                )
        return self._fills_cache.copy()

    def conserved(self) -> float:
        """cash + positions at cost - realized P&L + fees; constant through every fill ($)."""
        return float(self.cash + (self._shares * self._cost).sum() - self._realized.sum() + self._fees.sum())

    def initial_value(self) -> float:
        """The conserved quantity's value at opening: cash + opening positions at cost ($)."""
        i = self._initial
        return float(i["cash"] + (i["shares"] * i["avg_cost"]).sum())

    def _prices(self, prices: object) -> np.ndarray:
        if prices is None:
            return self._cost.copy()
        s = pd.Series(prices, dtype=float) if not isinstance(prices, pd.Series) else prices.astype(float)
        p = s.reindex(self._tickers).to_numpy(np.float64)
        missing = np.isnan(p) & (self._shares != 0)
        if missing.any():
            pos = int(np.flatnonzero(missing)[0])
            raise ValueError(f"prices has no price for held ticker {self._tickers[pos]!r}.")
        return np.where(np.isnan(p), self._cost, p)

    def mark(self, prices: object = None) -> pd.DataFrame:
        """Positions marked to ``prices`` ({ticker: $}; None = at cost).

        Adds ``price``, ``market_value`` and ``unrealized_pnl`` (shares x
        (price - avg cost)) to :attr:`positions`.
        """
        df = self.positions
        p = self._prices(prices)
        df["price"] = p
        df["market_value"] = self._shares * p
        df["unrealized_pnl"] = self._shares * (p - self._cost)
        return df

    def equity(self, prices: object = None) -> float:
        """Cash plus positions marked to ``prices`` ($)."""
        return float(self.cash + (self._shares * self._prices(prices)).sum())

    def summary(self, prices: object = None) -> str:
        m = self.mark(prices)
        held = m[(m["shares"] != 0) | (m["realized_pnl"] != 0)]
        lines = [
            f"Ledger: cash ${self.cash:,.2f}, equity ${self.equity(prices):,.2f}, "
            f"realized P&L ${self.realized_pnl:,.2f}, unrealized ${float(m['unrealized_pnl'].sum()):,.2f}, "
            f"fees ${self.fees:,.2f}, {len(self._fills_cache if self._fills_cache is not None else self.fills)} fills"
        ]
        if len(held):
            lines.append(held[["shares", "avg_cost", "price", "market_value", "realized_pnl", "unrealized_pnl", "fees"]]
                         .to_string(float_format=lambda x: f"{x:,.2f}"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        n = int((self._shares != 0).sum())
        return f"Ledger(cash={self.cash:,.2f}, positions={n}, realized_pnl={self.realized_pnl:,.2f}, fees={self.fees:,.2f})"

    # ------------------------------------------------------------------ state in time
    @_locked
    def state_at(self, times: object, tickers: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Cash and positions just before each time, from the opening state and the fills.

        Parameters
        ----------
        times : array_like of Timestamp, shape (n,)
        tickers : list of str, length k

        Returns
        -------
        cash : ndarray, shape (n,)
        positions : ndarray of int64, shape (n, k)
            Counting fills strictly before each time.
        """
        t = pd.DatetimeIndex(times).as_unit("ns").asi8
        i = self._initial
        k = len(tickers)
        pos0 = np.array([i["shares"][i["tickers"].index(x)] if x in i["tickers"] else 0 for x in tickers], dtype=np.int64)
        f = self.fills
        cash = np.full(len(t), i["cash"])
        pos = np.tile(pos0, (len(t), 1))
        if len(f) == 0:
            return cash, pos
        ft = pd.DatetimeIndex(f["time"]).as_unit("ns").asi8
        order = np.argsort(ft, kind="stable")
        ft = ft[order]
        flow = -(f["shares"].to_numpy(np.float64) * f["price"].to_numpy(np.float64) + f["fee"].to_numpy(np.float64))[order]
        n_before = np.searchsorted(ft, t, side="left")
        cflow = np.concatenate([[0.0], np.cumsum(flow)])
        cash = cash + cflow[n_before]
        code = pd.Index(tickers).get_indexer(f["ticker"].to_numpy(object)[order])
        sh = f["shares"].to_numpy(np.int64)[order]
        onehot = np.zeros((len(ft) + 1, k), dtype=np.int64)
        rows = np.flatnonzero(code >= 0)
        onehot[rows + 1, code[rows]] = sh[rows]
        cpos = np.cumsum(onehot, axis=0)
        return cash, pos + cpos[n_before]

    # ------------------------------------------------------------------ updates
    def _check_fills(self, fills: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(fills, pd.DataFrame):
            raise TypeError(f"fills must be a DataFrame, got {type(fills).__name__}.")
        missing = [c for c in ("time", "ticker", "shares", "price") if c not in fills.columns]
        if missing:
            raise ValueError(f"fills are missing column(s) {missing}; they have {list(fills.columns)}.")
        f = fills.reset_index(drop=True)
        t = pd.DatetimeIndex(f["time"])
        if t.tz is None:
            raise ValueError("fills column 'time' must be timezone-aware.")
        if t.isna().any():
            raise ValueError(f"fills column 'time' has NaT at row {int(np.flatnonzero(t.isna())[0])}.")
        raw = f["shares"]
        sh = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64) if raw.dtype.kind not in "iu" else raw.to_numpy()
        bad = ~np.isfinite(sh.astype(np.float64)) | (sh != np.round(sh)) | (sh == 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"fills column 'shares' has {_show(f['shares'].iloc[pos])} at row {pos}; must be a non-zero whole number (signed: + buy, - sell).")
        sh = to_int64(sh, "fills column 'shares'", index_name="row")
        pr = pd.to_numeric(f["price"], errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(pr) | (pr <= 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"fills column 'price' has {_show(f['price'].iloc[pos])} at row {pos}; must be > 0.")
        fee = pd.to_numeric(f["fee"], errors="coerce").to_numpy(np.float64) if "fee" in f else np.zeros(len(f))
        bad = ~np.isfinite(fee) | (fee < 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"fills column 'fee' has {_show(f['fee'].iloc[pos])} at row {pos}; must be >= 0.")
        tk = f["ticker"].to_numpy(object)
        bad = np.array([not isinstance(x, str) for x in tk], dtype=bool)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"fills column 'ticker' has {tk[pos]!r} at row {pos}; must be a string.")
        if self.start_time is not None and (t < self.start_time).any():
            pos = int(np.flatnonzero(t < self.start_time)[0])
            raise ValueError(f"fills column 'time' has {t[pos]} at row {pos}, before the ledger's start {self.start_time}.")
        return pd.DataFrame(
            {
                "time": t.tz_convert("UTC").as_unit("ns"),
                "ticker": tk.astype(str).astype(object),
                "shares": sh,
                "price": pr,
                "fee": fee,
                "order_id": f["order_id"].to_numpy(object) if "order_id" in f else np.full(len(f), None, dtype=object),
            }
        )

    @staticmethod
    def _book(state: tuple, f: pd.DataFrame) -> tuple:
        """New (tickers, shares, avg_cost, realized, fees, cash) after booking ``f`` on ``state``.

        Fills are taken per ticker in time order, ties in row order.  Pure: touches no ledger.
        """
        tickers, shares, cost, realized, fees, cash = state
        tickers = list(tickers)
        new = [t for t in pd.unique(f["ticker"]) if t not in tickers]
        tickers += new
        shares = np.concatenate([shares, np.zeros(len(new), np.int64)])
        cost = np.concatenate([cost, np.zeros(len(new))])
        realized = np.concatenate([realized, np.zeros(len(new))])
        fees = np.concatenate([fees, np.zeros(len(new))])
        code = pd.Index(tickers).get_indexer(f["ticker"].to_numpy(object))
        ti = pd.DatetimeIndex(f["time"]).as_unit("ns").asi8
        order = np.lexsort((np.arange(len(f)), ti, code))
        c = code[order]
        d = f["shares"].to_numpy(np.int64)[order]
        p = f["price"].to_numpy(np.float64)[order]
        fee = f["fee"].to_numpy(np.float64)[order]
        gs = np.ones(len(c), dtype=bool)
        gs[1:] = c[1:] != c[:-1]
        # positions are running int64 sums: check they stay in range before summing
        check_grouped_sums(shares, d, c, "the position", labels=np.asarray(tickers, dtype=object))
        pos_after, _, cost_after, real = _average_cost_path(gs, shares[c], cost[c], d, p)
        last = np.ones(len(c), dtype=bool)
        last[:-1] = c[1:] != c[:-1]
        shares_new = shares.copy()
        cost_new = cost.copy()
        shares_new[c[last]] = pos_after[last]
        cost_new[c[last]] = np.where(pos_after[last] != 0, cost_after[last], 0.0)
        realized_new = realized + np.bincount(c, weights=real, minlength=len(tickers))
        fees_new = fees + np.bincount(c, weights=fee, minlength=len(tickers))
        # cash flows summed in time order, so the same fills give the same cash however batched
        t_order = np.lexsort((np.arange(len(f)), ti))
        flows = (f["shares"].to_numpy(np.int64) * f["price"].to_numpy(np.float64) + f["fee"].to_numpy(np.float64))[t_order]
        cash_new = float(cash - flows.sum())
        if not np.isfinite(cash_new):
            raise ValueError("fills would make cash non-finite.")
        return tickers, shares_new, cost_new, realized_new, fees_new, cash_new

    @_locked
    def apply_fills(self, fills: pd.DataFrame) -> None:
        """Book a batch of fills.

        Parameters
        ----------
        fills : DataFrame
            ``time`` (tz-aware), ``ticker``, ``shares`` (signed whole shares: +
            bought, - sold), ``price`` ($ per share, > 0), optional ``fee``
            ($, >= 0) and ``order_id``.  Taken per ticker in time order
            (equal times in booking order).  A fill earlier than one already
            booked for its ticker replays the ticker's history from the
            opening state, so the ledger depends on the set of fills and their
            times, not on how they were batched.

        Raises
        ------
        ValueError
            On a bad fill; the ledger is then unchanged (everything is
            validated and computed before any state is written).

        Notes
        -----
        Average-cost accounting: buying into a long (or selling into a
        short) position averages the cost; reducing it realizes
        :math:`q (p - \\bar c)` and keeps :math:`\\bar c`; crossing zero closes
        the old position and opens the remainder at the fill price.
        """
        f = self._check_fills(fills)
        if len(f) == 0:
            return
        old = self.fills
        late = False
        if len(old):
            # A fill earlier than a booked fill of the same ticker: the average-cost path
            # changes, so replay every fill from the opening state in time order.
            last = pd.Series(pd.DatetimeIndex(old["time"]).as_unit("ns").asi8, index=old["ticker"].to_numpy(object)).groupby(level=0).max()
            first_new = pd.Series(pd.DatetimeIndex(f["time"]).as_unit("ns").asi8, index=f["ticker"].to_numpy(object)).groupby(level=0).min()
            common = first_new.index.intersection(last.index)
            late = bool((first_new[common] < last[common]).any())
        if late:
            i = self._initial
            state = (list(i["tickers"]), i["shares"].copy(), i["avg_cost"].copy(), np.zeros(len(i["tickers"])),
                     np.zeros(len(i["tickers"])), i["cash"])
            tickers, shares_new, cost_new, realized_new, fees_new, cash_new = self._book(state, pd.concat([old, f], ignore_index=True))
        else:
            state = (list(self._tickers), self._shares, self._cost, self._realized, self._fees, self.cash)
            tickers, shares_new, cost_new, realized_new, fees_new, cash_new = self._book(state, f)
        # commit: nothing above touched self
        self._tickers, self._shares, self._cost = tickers, shares_new, cost_new
        self._realized, self._fees, self.cash = realized_new, fees_new, cash_new
        self._fills.append(f)
        self._fills_cache = None

    # ------------------------------------------------------------------ copies and persistence
    @_locked
    def copy(self) -> "Ledger":
        new = Ledger.__new__(Ledger)
        new._tickers = list(self._tickers)
        new._shares, new._cost = self._shares.copy(), self._cost.copy()
        new._realized, new._fees, new.cash = self._realized.copy(), self._fees.copy(), self.cash
        new._initial = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in self._initial.items()}
        new._fills = list(self._fills)
        new._fills_cache = self._fills_cache
        new.start_time = self.start_time
        new._lock = threading.RLock()
        return new

    @_locked
    def _restore(self, other: "Ledger") -> None:
        state = other.copy().__dict__
        state.pop("_lock")  # keep this ledger's own lock: other threads may be waiting on it
        self.__dict__.update(state)

    def equals(self, other: "Ledger") -> bool:
        """Exactly the same state, opening state and fill history."""
        if not isinstance(other, Ledger):
            return False
        a, b = self.to_dict(), other.to_dict()
        return a == b

    @_locked
    def to_dict(self) -> dict:
        """A JSON-ready dict; floats keep full precision (``repr`` round-trips)."""
        f = self.fills
        return {
            "format": "execlab.Ledger/1",
            "cash": self.cash,
            "tickers": list(self._tickers),
            "shares": [int(x) for x in self._shares],
            "avg_cost": [float(x) for x in self._cost],
            "realized_pnl": [float(x) for x in self._realized],
            "fees": [float(x) for x in self._fees],
            "initial": {
                "cash": self._initial["cash"],
                "tickers": list(self._initial["tickers"]),
                "shares": [int(x) for x in self._initial["shares"]],
                "avg_cost": [float(x) for x in self._initial["avg_cost"]],
            },
            "start_time": None if self.start_time is None else self.start_time.isoformat(),
            "fills": {
                "time_ns_utc": [int(x) for x in pd.DatetimeIndex(f["time"]).as_unit("ns").asi8],
                "ticker": [str(x) for x in f["ticker"]],
                "shares": [int(x) for x in f["shares"]],
                "price": [float(x) for x in f["price"]],
                "fee": [float(x) for x in f["fee"]],
                "order_id": [x.item() if isinstance(x, np.generic) else x for x in f["order_id"]],
            },
        }

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "saved ledger") -> "Ledger":
        """Rebuild a ledger from :meth:`to_dict`, checking the state against its own fill history.

        Parameters
        ----------
        d : dict
            As written by :meth:`to_dict`.
        source : str, default "saved ledger"
            What ``d`` came from, named in every error (:meth:`load` passes
            ``"ledger file <path>"``).

        Raises
        ------
        ValueError
            A missing or malformed field, a non-finite number, a share count
            outside int64, an invalid fill, or a state that the opening
            state and the fills do not give; the message names the field.

        Notes
        -----
        **What is checked.**  Every number is finite; share counts are whole
        and inside int64; fills are valid (non-zero whole shares, price > 0,
        fee >= 0, a time, none before ``start_time``).  The opening state is
        then replayed through the stored fills, and the stored cash,
        positions, average costs, realized P&L and fees must equal the
        replay (shares exactly, dollars to a relative 1e-7 or $1e-6, float
        summation being order-dependent).  So an edit of the state alone, of
        a fill alone (a price x 10, a dropped or added fill), a NaN, a
        truncated or hand-broken file is caught.

        **What is not.**  The file carries no signature.  An edit that keeps
        the file consistent -- the opening state changed, or a fill changed
        together with every state field it moves -- loads as the ledger it
        describes.  Keep the file where only the owner can write it, or keep
        a hash of it, if that matters.
        """
        where = source

        def fail(msg: str) -> None:
            raise ValueError(f"{where}: {msg}")

        def get(obj: object, key: str, path: str) -> object:
            if not isinstance(obj, dict):
                fail(f"field {path.rsplit('.', 1)[0]!r} must be an object, got {type(obj).__name__}.")
            if key not in obj:
                fail(f"field {path!r} is missing; the file is incomplete or was not written by Ledger.save.")
            return obj[key]

        def number(v: object, path: str) -> float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                fail(f"field {path!r} is {v!r}, must be a number.")
            if not np.isfinite(v):
                fail(f"field {path!r} is {v!r}, must be finite.")
            return float(v)

        def numbers(v: object, path: str, n: int | None, min_val: float | None = None) -> np.ndarray:
            if not isinstance(v, list):
                fail(f"field {path!r} must be a list, got {type(v).__name__}.")
            if n is not None and len(v) != n:
                fail(f"field {path!r} has {len(v)} values for {n} entries.")
            bad = [i for i, x in enumerate(v) if isinstance(x, bool) or not isinstance(x, (int, float))]
            if bad:
                fail(f"field {path!r} has {v[bad[0]]!r} at index {bad[0]}, must be a number.")
            a = np.asarray(v, dtype=np.float64)
            bad = ~np.isfinite(a) | ((a < min_val) if min_val is not None else False)
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                fail(f"field {path!r} has {v[i]!r} at index {i}, must be finite" + (f" and >= {min_val}." if min_val is not None else "."))
            return a

        def shares(v: object, path: str, n: int | None) -> np.ndarray:
            if not isinstance(v, list):
                fail(f"field {path!r} must be a list, got {type(v).__name__}.")
            if n is not None and len(v) != n:
                fail(f"field {path!r} has {len(v)} values for {n} entries.")
            try:
                return to_int64(v, f"field {path!r}", index_name="index")
            except ValueError as exc:
                fail(str(exc))

        def names(v: object, path: str) -> list:
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                fail(f"field {path!r} must be a list of ticker strings.")
            return list(v)

        if not isinstance(d, dict):
            fail(f"must hold a JSON object, got {type(d).__name__}.")
        if d.get("format") != "execlab.Ledger/1":
            fail(f"not a saved execlab ledger (format == {d.get('format')!r}).")
        i = get(d, "initial", "initial")
        i_cash = number(get(i, "cash", "initial.cash"), "initial.cash")
        i_tick = names(get(i, "tickers", "initial.tickers"), "initial.tickers")
        i_sh = shares(get(i, "shares", "initial.shares"), "initial.shares", len(i_tick))
        i_cost = numbers(get(i, "avg_cost", "initial.avg_cost"), "initial.avg_cost", len(i_tick), 0.0)
        start = get(d, "start_time", "start_time")
        try:
            start = None if start is None else pd.Timestamp(start)
        except (TypeError, ValueError):
            fail(f"field 'start_time' is {start!r}, must be a timestamp or null.")
        try:
            new = cls(i_cash, pd.DataFrame({"ticker": i_tick, "shares": i_sh, "avg_cost": i_cost}), start_time=start)
        except ValueError as exc:
            fail(f"field 'initial': {exc}")
        new._initial["avg_cost"] = i_cost

        f = get(d, "fills", "fills")
        f_tick = names(get(f, "ticker", "fills.ticker"), "fills.ticker")
        nf = len(f_tick)
        t_ns = shares(get(f, "time_ns_utc", "fills.time_ns_utc"), "fills.time_ns_utc", nf)
        if nf and (t_ns == np.iinfo(np.int64).min).any():
            fail("field 'fills.time_ns_utc' holds NaT.")
        f_sh = shares(get(f, "shares", "fills.shares"), "fills.shares", nf)
        f_px = numbers(get(f, "price", "fills.price"), "fills.price", nf)
        f_fee = numbers(get(f, "fee", "fills.fee"), "fills.fee", nf)
        f_oid = get(f, "order_id", "fills.order_id")
        if not isinstance(f_oid, list) or len(f_oid) != nf:
            fail(f"field 'fills.order_id' must be a list of {nf} values.")
        fills = pd.DataFrame({
            "time": pd.DatetimeIndex(t_ns.astype("datetime64[ns]")).tz_localize("UTC"),
            "ticker": np.asarray(f_tick, dtype=object),
            "shares": f_sh,
            "price": f_px,
            "fee": f_fee,
            "order_id": np.asarray(f_oid, dtype=object) if nf else np.zeros(0, dtype=object),
        })
        if nf:
            try:
                fills = new._check_fills(fills)
            except ValueError as exc:
                fail(str(exc).replace("fills column '", "field 'fills.", 1))

        # the stored state must be what the opening state and the fills give
        tick = names(get(d, "tickers", "tickers"), "tickers")
        k = len(tick)
        if len(set(tick)) != k:
            fail(f"field 'tickers' lists a ticker twice: {tick}.")
        st = {"cash": number(get(d, "cash", "cash"), "cash"),
              "shares": shares(get(d, "shares", "shares"), "shares", k),
              "avg_cost": numbers(get(d, "avg_cost", "avg_cost"), "avg_cost", k, 0.0),
              "realized_pnl": numbers(get(d, "realized_pnl", "realized_pnl"), "realized_pnl", k),
              "fees": numbers(get(d, "fees", "fees"), "fees", k, 0.0)}
        state = (list(i_tick), i_sh.copy(), i_cost.copy(), np.zeros(len(i_tick)), np.zeros(len(i_tick)), i_cash)
        try:
            r_tick, r_sh, r_cost, r_real, r_fees, r_cash = cls._book(state, fills) if nf else state
        except ValueError as exc:
            fail(f"its fills cannot be booked: {exc}")
        if sorted(r_tick) != sorted(tick):
            fail(f"field 'tickers' is {tick} but the opening state and the fills give {list(r_tick)}.")
        at = pd.Index(r_tick).get_indexer(tick)
        replay = {"shares": np.asarray(r_sh)[at], "avg_cost": np.asarray(r_cost)[at], "realized_pnl": np.asarray(r_real)[at],
                  "fees": np.asarray(r_fees)[at]}

        def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.abs(a - b) <= 1e-7 * np.maximum(np.abs(a), np.abs(b)) + 1e-6

        if not close(np.array([st["cash"]]), np.array([r_cash]))[0]:
            fail(f"field 'cash' is {st['cash']!r} but the opening state and the {nf} fills give {r_cash!r}; "
                 "the file was altered or corrupted.")
        for key in ("shares", "avg_cost", "realized_pnl", "fees"):
            ok = (st[key] == replay[key]) if key == "shares" else close(st[key], replay[key])
            if not np.all(ok):
                j = int(np.flatnonzero(~ok)[0])
                fail(f"field {key!r} of {tick[j]!r} is {st[key][j].item()!r} but the opening state and the {nf} fills "
                     f"give {replay[key][j].item()!r}; the file was altered or corrupted.")
        # keep the stored values (within float tolerance of the replay) so a round trip is exact
        new._tickers, new._shares, new._cost = tick, st["shares"], st["avg_cost"]
        new._realized, new._fees, new.cash = st["realized_pnl"], st["fees"], st["cash"]
        if nf:
            new._fills = [fills]
        return new

    def save(self, path: str | Path) -> Path:
        """Write the ledger to ``path`` as JSON (every float exactly; times as UTC nanoseconds).

        Parquet is not offered: pyarrow is not a dependency, and JSON keeps
        the whole state, opening state and fill history in one file.
        """
        path = Path(path)
        if path.suffix.lower() not in (".json", ""):
            raise ValueError(f"path == {str(path)!r}: a ledger is saved as JSON; use a .json path.")
        try:
            text = json.dumps(self.to_dict(), allow_nan=False)  # strict JSON: a NaN is a bug, not a value
        except ValueError:
            raise ValueError("the ledger holds a non-finite number; it cannot be saved.") from None
        path.write_text(text)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Ledger":
        """Read a ledger written by :meth:`save`, checking it against its own fill history.

        Raises
        ------
        ValueError
            The file is not valid JSON (truncated or corrupt: the message
            gives the line, column and character), a field is missing or
            malformed, a number is not finite, or the stored state is not
            what the opening state and the stored fills give.  See
            :meth:`from_dict` for what this does and does not protect.
        FileNotFoundError
            No file at ``path``.
        """
        path = Path(path)
        text = path.read_text()
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ledger file {str(path)!r} is not valid JSON at line {exc.lineno}, column {exc.colno} "
                             f"(character {exc.pos} of {len(text)}): {exc.msg}; the file is truncated or corrupt.") from None
        return cls.from_dict(d, source=f"ledger file {str(path)!r}")
