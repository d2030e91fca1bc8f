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

from ._int64 import check_grouped_sums, to_int64
from ._lock import Guarded
from ._lock import locked as _locked
from .._kernels import average_cost_path
from ._ledger_io import ledger_from_dict, ledger_to_dict, load_ledger

__all__ = ["Ledger"]

_FILL_COLS = ["time", "ticker", "shares", "price", "fee", "order_id"]


def _show(v: object) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v) if isinstance(v, str) else str(v)


class Ledger(Guarded):
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
        self._new_lock()

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
        pos_after, _, cost_after, real = average_cost_path(gs, shares[c], cost[c], d, p)
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
        # The last booked fill time per ticker, kept up to date rather than read from the whole
        # history on every call (that made booking a long run quadratic in its sessions).
        last = self._last_fill_times()
        new_times = pd.Series(pd.DatetimeIndex(f["time"]).as_unit("ns").asi8, index=f["ticker"].to_numpy(object))
        late = False
        if len(last):
            # A fill earlier than a booked fill of the same ticker: the average-cost path
            # changes, so replay every fill from the opening state in time order.
            first_new = new_times.groupby(level=0).min()
            common = first_new.index.intersection(last.index)
            late = bool((first_new[common] < last[common]).any())
        if late:
            old = self.fills
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
        self._last_times = pd.concat([last, new_times.groupby(level=0).max()]).groupby(level=0).max()

    def _last_fill_times(self) -> pd.Series:
        """Last booked fill time (ns) per ticker; read from the history once, then kept."""
        last = getattr(self, "_last_times", None)
        if last is None:
            old = self.fills
            last = pd.Series(pd.DatetimeIndex(old["time"]).as_unit("ns").asi8, index=old["ticker"].to_numpy(object),
                             dtype=np.int64).groupby(level=0).max()
            self._last_times = last
        return last

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
        new._last_times = getattr(self, "_last_times", None)  # an immutable summary: safe to share
        new.start_time = self.start_time
        new._new_lock()
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
        return ledger_to_dict(self)

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
        return ledger_from_dict(cls, d, source=source)

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
        return load_ledger(cls, path)
