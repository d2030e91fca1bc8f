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
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Ledger"]

_FILL_COLS = ["time", "ticker", "shares", "price", "fee", "order_id"]


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
        s_f = np.asarray(s, dtype=np.float64)
        bad = ~np.isfinite(s_f) | (s_f != np.round(s_f))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"positions: shares == {s[pos]!r} for {t[pos]!r}, must be a whole number.")
        bad = ~np.isfinite(c) | (c < 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"positions: avg_cost == {c[pos]!r} for {t[pos]!r}, must be finite and >= 0.")
        if len(set(t)) != len(t):
            raise ValueError(f"positions list a ticker twice: {t}.")
        return t, s_f.astype(np.int64), np.where(s_f != 0, c, 0.0)

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
        sh = pd.to_numeric(f["shares"], errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(sh) | (sh != np.round(sh)) | (sh == 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"fills column 'shares' has {_show(f['shares'].iloc[pos])} at row {pos}; must be a non-zero whole number (signed: + buy, - sell).")
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
                "shares": sh.astype(np.int64),
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
    def copy(self) -> "Ledger":
        new = Ledger.__new__(Ledger)
        new._tickers = list(self._tickers)
        new._shares, new._cost = self._shares.copy(), self._cost.copy()
        new._realized, new._fees, new.cash = self._realized.copy(), self._fees.copy(), self.cash
        new._initial = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in self._initial.items()}
        new._fills = list(self._fills)
        new._fills_cache = self._fills_cache
        new.start_time = self.start_time
        return new

    def _restore(self, other: "Ledger") -> None:
        self.__dict__.update(other.copy().__dict__)

    def equals(self, other: "Ledger") -> bool:
        """Exactly the same state, opening state and fill history."""
        if not isinstance(other, Ledger):
            return False
        a, b = self.to_dict(), other.to_dict()
        return a == b

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
    def from_dict(cls, d: dict) -> "Ledger":
        if d.get("format") != "execlab.Ledger/1":
            raise ValueError(f"not a saved execlab ledger (format == {d.get('format')!r}).")
        i = d["initial"]
        new = cls(i["cash"], pd.DataFrame({"ticker": i["tickers"], "shares": i["shares"], "avg_cost": i["avg_cost"]}),
                  start_time=d["start_time"])
        new._initial["avg_cost"] = np.asarray(i["avg_cost"], dtype=np.float64)
        new._tickers = list(d["tickers"])
        new._shares = np.asarray(d["shares"], dtype=np.int64)
        new._cost = np.asarray(d["avg_cost"], dtype=np.float64)
        new._realized = np.asarray(d["realized_pnl"], dtype=np.float64)
        new._fees = np.asarray(d["fees"], dtype=np.float64)
        new.cash = float(d["cash"])
        f = d["fills"]
        if len(f["ticker"]):
            new._fills = [pd.DataFrame({
                "time": pd.DatetimeIndex(np.asarray(f["time_ns_utc"], dtype=np.int64).astype("datetime64[ns]")).tz_localize("UTC"),
                "ticker": np.asarray(f["ticker"], dtype=object),
                "shares": np.asarray(f["shares"], dtype=np.int64),
                "price": np.asarray(f["price"], dtype=np.float64),
                "fee": np.asarray(f["fee"], dtype=np.float64),
                "order_id": np.asarray(f["order_id"], dtype=object),
            })]
        return new

    def save(self, path: str | Path) -> Path:
        """Write the ledger to ``path`` as JSON (every float exactly; times as UTC nanoseconds).

        Parquet is not offered: pyarrow is not a dependency, and JSON keeps
        the whole state, opening state and fill history in one file.
        """
        path = Path(path)
        if path.suffix.lower() not in (".json", ""):
            raise ValueError(f"path == {str(path)!r}: a ledger is saved as JSON; use a .json path.")
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Ledger":
        """Read a ledger written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))
