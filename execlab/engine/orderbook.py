"""Order book: parent and child orders, their states, and every transition.

States and legal transitions::

    NEW -> PARTIALLY_FILLED | FILLED | CANCELLED | REJECTED | BLOCKED
    PARTIALLY_FILLED -> PARTIALLY_FILLED (another fill) | FILLED | CANCELLED
    FILLED, CANCELLED, REJECTED, BLOCKED: terminal

The book keeps states in an int8 array indexed by order id and the history
as columnar chunks, so a batch of thousands of transitions (every fill of
every child, say) is one vectorized check and one append.  An illegal
transition raises before anything is written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._orders import from_ns, show, side_to_sign
from ._int64 import to_int64
from ._lock import Guarded
from ._lock import locked as _locked
from .decisions import URGENCIES
from .ledger import Ledger

__all__ = ["OrderBook", "ORDER_STATES", "LEGAL_TRANSITIONS", "IllegalTransition", "book_fills", "fills_with_children",
           "stamp_fills"]

ORDER_STATES = ("NEW", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED", "BLOCKED")
_CODE = {s: i for i, s in enumerate(ORDER_STATES)}
LEGAL_TRANSITIONS = {
    "NEW": ("PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED", "BLOCKED"),
    "PARTIALLY_FILLED": ("PARTIALLY_FILLED", "FILLED", "CANCELLED"),
    "FILLED": (),
    "CANCELLED": (),
    "REJECTED": (),
    "BLOCKED": (),
}
_LEGAL = np.zeros((len(ORDER_STATES), len(ORDER_STATES)), dtype=bool)
for _a, _bs in LEGAL_TRANSITIONS.items():
    for _b in _bs:
        _LEGAL[_CODE[_a], _CODE[_b]] = True
_TERMINAL = np.array([not LEGAL_TRANSITIONS[s] for s in ORDER_STATES])

_STATIC = ["order_id", "parent_id", "kind", "decision_id", "ticker", "side", "quantity", "algorithm",
           "urgency", "slice", "release_time", "created"]


class IllegalTransition(ValueError):
    """An order was asked to move between states that do not connect."""


def _codes(states: object, n: int) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(states, dtype=object), (n,))
    out = np.array([_CODE.get(s, -1) for s in arr], dtype=np.int8) if n else np.zeros(0, np.int8)
    if (out < 0).any():
        pos = int(np.flatnonzero(out < 0)[0])
        raise ValueError(f"state == {arr[pos]!r}, must be one of {list(ORDER_STATES)}.")
    return out


class _Grown:
    """A per-order array of :class:`OrderBook` kept in a buffer with spare room; reading it gives ``len(book)`` entries.

    Appending doubles the buffer when it is full, so adding orders costs in
    proportion to the orders added, not to the book.  Reads are views (writes
    through them land in the buffer); assigning replaces the buffer.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = "_buffer" + name

    def __get__(self, book: "OrderBook | None", owner: type | None = None) -> np.ndarray:
        if book is None:
            return self  # type: ignore[return-value]
        return getattr(book, self.key)[: book._n]

    def __set__(self, book: "OrderBook", value: np.ndarray) -> None:
        setattr(book, self.key, np.asarray(value))

    @staticmethod
    def append(book: "OrderBook", name: str, new: object, n: int) -> None:
        """Write ``n`` new entries (an array, or one value for all) after the book's ``len(book)`` ones."""
        key = "_buffer" + name
        buf = getattr(book, key)
        used, need = book._n, book._n + n
        if need > len(buf):
            grown = np.empty(max(need, 2 * len(buf), 1024), dtype=buf.dtype)
            grown[:used] = buf[:used]
            buf = grown
            setattr(book, key, buf)
        buf[used:need] = new


class OrderBook(Guarded):
    """Parent and child orders with states and a transition history.

    Examples
    --------
    >>> book = OrderBook()
    >>> t = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> ids = book.add_parents(pd.DataFrame({"decision_id": ["d1"], "ticker": ["AAPL"], "side": ["BUY"],
    ...                                      "quantity": [100], "algorithm": ["twap"], "urgency": ["HIGH"]}), t)
    >>> book.transition(ids, "PARTIALLY_FILLED", t, "fill 40")
    >>> book.transition(ids, "NEW", t, "oops")
    Traceback (most recent call last):
    ...
    execlab.engine.orderbook.IllegalTransition: order 0: PARTIALLY_FILLED -> NEW is not a legal transition (oops).
    >>> book.status(ids).tolist()
    ['PARTIALLY_FILLED']
    """

    # Per-order arrays, each backed by a buffer with spare room: adding a session's orders writes them
    # at the end instead of copying the whole book (which made each session cost more than the last).
    _quantity = _Grown()
    _state = _Grown()
    _filled = _Grown()
    _updated = _Grown()
    _reason = _Grown()
    _kind = _Grown()

    def __init__(self) -> None:
        # One re-entrant lock for every read and write: a read (history, parents) joins cached pieces and
        # must not interleave with an add or a transition from another thread.
        self._new_lock()
        self._n = 0
        self._static: list[pd.DataFrame] = []
        self._starts: list[int] = []  # first order id of each static chunk
        self._quantity = np.zeros(0, dtype=np.int64)
        self._state = np.zeros(0, dtype=np.int8)
        self._filled = np.zeros(0, dtype=np.int64)
        self._updated = np.zeros(0, dtype=np.int64)  # ns
        self._reason = np.zeros(0, dtype=object)
        self._hist: list[dict[str, np.ndarray]] = []
        self._hist_max: list[int] = []  # largest order id of each batch in _hist, recorded with it
        self._tz = None
        self._cache: dict[str, pd.DataFrame] = {}
        # Kept up to date as orders and transitions are added, so a read of the whole book
        # or its history joins the new pieces to one consolidated piece, not every piece
        # since the start (which made each call of a day cost more than the one before).
        self._kind = np.zeros(0, dtype=object)
        self._hist_cat: dict[str, np.ndarray] | None = None
        self._hist_cat_len = 0  # entries of _hist already in _hist_cat

    # ------------------------------------------------------------------ adding
    def _add(self, frame: pd.DataFrame, kind: str, time: object) -> np.ndarray:
        n = len(frame)
        ids = np.arange(self._n, self._n + n, dtype=np.int64)
        if isinstance(time, (pd.DatetimeIndex, pd.Series, np.ndarray, list)):
            times = pd.DatetimeIndex(time)
            if len(times) != n:
                raise ValueError(f"time has {len(times)} values for {n} orders.")
        else:
            times = pd.DatetimeIndex([pd.Timestamp(time)] * n)
        if times.tz is None:
            raise ValueError("order times must be timezone-aware.")
        # Every check before any change: a refused frame leaves the book as it was.
        quantity = to_int64(frame["quantity"].to_numpy() if "quantity" in frame.columns else np.full(n, None, object),
                            "orders column 'quantity'", index_name="row")
        self._check_rows(frame, quantity, kind)
        if self._tz is None:
            self._tz = times.tz
        ns = times.as_unit("ns").asi8
        cols: dict[str, object] = {"order_id": ids}
        for c in _STATIC[1:]:
            if c == "kind":
                cols[c] = np.full(n, kind, dtype=object)
            elif c == "created":
                cols[c] = pd.DatetimeIndex(times).tz_convert(self._tz).as_unit("ns")
            elif c == "release_time":
                # One datetime dtype for every chunk, so joining chunks never converts objects.
                cols[c] = (pd.DatetimeIndex(frame[c]).tz_convert(self._tz).as_unit("ns") if c in frame.columns
                           else pd.DatetimeIndex(np.full(n, np.datetime64("NaT"), "M8[ns]")).tz_localize(self._tz))
            elif c in frame.columns:
                cols[c] = frame[c].to_numpy()
            else:
                cols[c] = np.full(n, -1, np.int64) if c in ("parent_id", "slice") else np.full(n, None, dtype=object)
        static = pd.DataFrame(cols)
        self._static.append(static)
        self._starts.append(self._n)
        for name, new in (("_kind", kind), ("_quantity", quantity), ("_state", 0), ("_filled", 0), ("_updated", ns),
                          ("_reason", "created")):
            _Grown.append(self, name, new, n)
        self._hist.append({"time": ns, "order_id": ids, "from": np.full(n, -1, np.int8),
                           "to": np.zeros(n, np.int8), "filled": np.zeros(n, np.int64),
                           "reason": np.full(n, "created", dtype=object)})
        self._hist_max.append(int(ids[-1]) if n else -1)  # ids are increasing: the last is the largest
        self._n += n
        full = self._cache.get("static")
        self._cache.clear()
        if full is not None:  # extend the joined book by this chunk instead of rejoining every chunk
            self._cache["static"] = pd.concat([full, static], ignore_index=True)
        return ids

    @staticmethod
    def _check_rows(frame: pd.DataFrame, quantity: np.ndarray, kind: str) -> None:
        """Refuse, naming the row, a side other than BUY/SELL, a negative quantity, an urgency not in URGENCIES.

        A parent's urgency picks its algorithm, so a missing one is refused too; a child may leave it empty.
        """
        if (quantity < 0).any():
            pos = int(np.flatnonzero(quantity < 0)[0])
            raise ValueError(f"orders column 'quantity' has {int(quantity[pos])} at row {show(frame.index[pos])}; "
                             "must be >= 0 shares.")
        if "side" in frame.columns and len(frame):
            side_to_sign(frame["side"], "orders", "side", frame.index)
        if "urgency" in frame.columns and len(frame):
            u = frame["urgency"]
            bad = ~u.isin(URGENCIES).to_numpy(bool, na_value=False)
            if kind != "parent":
                bad &= u.notna().to_numpy(bool)
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                raise ValueError(f"orders column 'urgency' has {show(u.iloc[pos])} at row {show(frame.index[pos])}; "
                                 f"must be one of {list(URGENCIES)}.")

    @_locked
    def add_parents(self, frame: pd.DataFrame, time: object) -> np.ndarray:
        """Add parent orders in state NEW; returns their ids.

        ``frame`` holds ``decision_id, ticker, side, quantity, algorithm,
        urgency`` (missing columns are left empty); ``time`` is one
        timestamp or one per row.
        """
        return self._add(frame, "parent", time)

    @_locked
    def add_children(self, frame: pd.DataFrame, time: object) -> np.ndarray:
        """Add child orders (``parent_id, slice, release_time, quantity`` ...) in state NEW."""
        if "parent_id" in frame.columns and len(frame):
            pid = frame["parent_id"].to_numpy(np.int64)
            bad = (pid < 0) | (pid >= self._n)
            if bad.any():
                raise ValueError(f"child orders name parent_id {int(pid[bad][0])}, which is not in the book.")
        return self._add(frame, "child", time)

    # ------------------------------------------------------------------ transitions
    @_locked
    def transition(
        self,
        ids: object,
        to: object,
        time: object,
        reason: object = "",
        filled: object = None,
    ) -> None:
        """Move orders to new states, all or nothing.

        Parameters
        ----------
        ids : array_like of int
            Order ids; the same id may appear several times, in the order the
            transitions happened (e.g. successive fills).
        to : str or array_like of str
            New state(s).
        time : Timestamp or array_like
            When (one, or one per row).
        reason : str or array_like of str
            Why (kept in the history).
        filled : array_like of int, optional
            Cumulative filled shares after each transition.

        Raises
        ------
        IllegalTransition
            If any row is not a legal transition from the order's state at
            that point; nothing is changed.
        """
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        n = len(ids)
        if n == 0:
            return
        bad = (ids < 0) | (ids >= self._n)
        if bad.any():
            raise ValueError(f"order id {int(ids[bad][0])} is not in the book.")
        to_c = _codes(to, n)
        times = pd.DatetimeIndex([time] if isinstance(time, (pd.Timestamp, str)) else time)
        ns = np.broadcast_to(times.as_unit("ns").asi8, (n,)).copy()
        reasons = np.broadcast_to(np.asarray(reason, dtype=object), (n,)).copy()
        cum = None if filled is None else np.broadcast_to(np.asarray(filled, dtype=np.int64), (n,)).copy()
        # State before each row: the book's state for an id's first row, else the previous row's target.
        order = np.argsort(ids, kind="stable")
        sid = ids[order]
        first = np.r_[True, sid[1:] != sid[:-1]]
        prev_sorted = np.where(first, self._state[sid], np.r_[np.int8(0), to_c[order][:-1]])
        prev = np.empty(n, dtype=np.int8)
        prev[order] = prev_sorted
        ok = _LEGAL[prev, to_c]
        if not ok.all():
            pos = int(np.flatnonzero(~ok)[0])
            raise IllegalTransition(
                f"order {ids[pos]}: {ORDER_STATES[prev[pos]]} -> {ORDER_STATES[to_c[pos]]} is not a legal "
                f"transition ({reasons[pos]})."
            )
        last = np.r_[sid[1:] != sid[:-1], True]
        fin = order[last]
        self._state[ids[fin]] = to_c[fin]
        self._updated[ids[fin]] = ns[fin]
        self._reason[ids[fin]] = reasons[fin]
        if cum is not None:
            self._filled[ids[fin]] = cum[fin]
        self._hist.append({"time": ns, "order_id": ids.copy(), "from": prev, "to": to_c,
                           "filled": cum if cum is not None else self._filled[ids].copy(), "reason": reasons})
        self._hist_max.append(int(ids.max()) if len(ids) else -1)
        self._cache.clear()

    @_locked
    def apply_fills(self, ids: np.ndarray, shares: np.ndarray, times: object, reasons: object = None) -> None:
        """Record fills (in time order per order): each moves its order to PARTIALLY_FILLED or FILLED."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        shares = np.asarray(shares, dtype=np.int64)
        qty = self.quantity[ids]
        order = np.argsort(ids, kind="stable")
        cs = np.cumsum(shares[order])
        start = np.r_[True, ids[order][1:] != ids[order][:-1]]
        base = np.repeat((cs - shares[order])[start], np.diff(np.r_[np.flatnonzero(start), len(ids)]))
        cum = np.empty_like(cs)
        cum[order] = cs - base + self._filled[ids[order]]
        over = cum > qty
        if over.any():
            pos = int(np.flatnonzero(over)[0])
            raise ValueError(f"order {ids[pos]}: fills total {cum[pos]} shares, more than its quantity {qty[pos]}.")
        to = np.where(cum == qty, "FILLED", "PARTIALLY_FILLED")
        if reasons is None:
            reasons = np.array([f"fill {x}" for x in shares], dtype=object)
        self.transition(ids, to, times, reasons, filled=cum)

    @_locked
    def snapshot(self) -> tuple:
        """State to return to with :meth:`restore` (the book only grows, so this is cheap)."""
        return (self._n, len(self._static), len(self._hist), self._state.copy(), self._filled.copy(),
                self._updated.copy(), self._reason.copy(), self._quantity.copy())

    @_locked
    def restore(self, snap: tuple) -> None:
        n, n_static, n_hist, state, filled, updated, reason, quantity = snap
        self._n = n
        del self._static[n_static:]
        del self._starts[n_static:]
        self._quantity = quantity
        del self._hist[n_hist:]
        del self._hist_max[n_hist:]
        self._kind = self._kind[:n]
        if self._hist_cat_len > n_hist:
            self._hist_cat, self._hist_cat_len = None, 0
        self._state, self._filled, self._updated, self._reason = state, filled, updated, reason
        self._cache.clear()

    # ------------------------------------------------------------------ views
    @_locked
    def __len__(self) -> int:
        return self._n

    @property
    @_locked
    def quantity(self) -> np.ndarray:
        """Quantity (shares) of every order, indexed by order id."""
        return self._quantity

    @_locked
    def status(self, ids: object) -> np.ndarray:
        """Current state names of ``ids``."""
        return np.array(ORDER_STATES, dtype=object)[self._state[np.asarray(ids, dtype=np.int64)]].astype(str)

    def _frame_static(self) -> pd.DataFrame:
        if "static" not in self._cache:
            self._cache["static"] = (pd.concat(self._static, ignore_index=True) if self._static
                                     else pd.DataFrame({c: [] for c in _STATIC}))
        return self._cache["static"]

    def _times(self, ns: np.ndarray) -> pd.DatetimeIndex:
        return from_ns(ns, self._tz or "UTC")

    def _orders(self, kind: str, ids: np.ndarray | None = None) -> pd.DataFrame:
        if ids is None:
            df = self._frame_static().copy()
        else:
            # Only the chunks holding these ids: a run's own orders, however long the book's history.
            chunks = np.unique(np.searchsorted(self._starts, ids, side="right") - 1) if len(ids) else np.zeros(0, int)
            df = (pd.concat([self._static[c] for c in chunks], ignore_index=True) if len(chunks)
                  else self._static[0].iloc[:0] if self._static else pd.DataFrame({c: [] for c in _STATIC}))
            df = df[np.isin(df["order_id"].to_numpy(np.int64), ids)].reset_index(drop=True)
        oid = df["order_id"].to_numpy(np.int64)
        state = self._state[oid]
        df["status"] = np.array(ORDER_STATES, dtype=object)[state].astype(str)
        df["filled"] = self._filled[oid]
        df["remaining"] = np.where(_TERMINAL[state], 0, df["quantity"].to_numpy(np.int64) - self._filled[oid])
        df["updated"] = self._times(self._updated[oid])
        df["reason"] = self._reason[oid]
        df = df[df["kind"] == kind].drop(columns="kind")
        if kind == "parent":
            df = df.drop(columns=["parent_id", "slice", "release_time"])
        return df.set_index("order_id")

    @property
    @_locked
    def parents(self) -> pd.DataFrame:
        """Parent orders indexed by ``order_id``, with ``status, filled, remaining, updated, reason``."""
        return self._orders("parent")

    @property
    @_locked
    def children(self) -> pd.DataFrame:
        """Child orders indexed by ``order_id`` (``parent_id``, ``slice``, ``release_time`` ...)."""
        return self._orders("child")

    @_locked
    def children_of(self, ids: object) -> pd.DataFrame:
        """The child orders among ``ids`` (as :attr:`children`), reading only the part of the book that holds them."""
        return self._orders("child", np.asarray(ids, dtype=np.int64))

    @property
    @_locked
    def history(self) -> pd.DataFrame:
        """Every transition: ``time, order_id, kind, from_status, to_status, filled, reason`` in time order."""
        if not self._hist:
            return pd.DataFrame(columns=["time", "order_id", "kind", "from_status", "to_status", "filled", "reason"])
        if "history" not in self._cache:
            self._cache["history"] = self._history_since(0)
        return self._cache["history"].copy()

    def _hist_arrays(self) -> dict[str, np.ndarray]:
        """Every transition as one set of arrays, in the order they were made."""
        end = len(self._hist)  # the batches joined and the count recorded are the same ones
        new = self._hist[self._hist_cat_len:end]
        if self._hist_cat is not None:
            new = [self._hist_cat, *new]
        cat = {k: np.concatenate([h[k] for h in new]) for k in self._hist[0]} if len(new) > 1 else new[0]
        self._hist_cat, self._hist_cat_len = cat, end
        return cat

    @_locked
    def _history_since(self, first_id: int) -> pd.DataFrame:
        """The transitions of orders with id >= ``first_id``, as :attr:`history` gives them.

        The same rows as filtering :attr:`history` on ``order_id``, but only
        those rows are turned into a frame: a run reading its own orders'
        transitions pays for them, not for the whole book's past.
        """
        cols = ["time", "order_id", "kind", "from_status", "to_status", "filled", "reason"]
        if not self._hist:
            return pd.DataFrame(columns=cols)
        if first_id > 0:
            # Only the batches of transitions that touch these orders, in the order they were made:
            # a run's own transitions, however many the book has recorded before.
            # Each batch's largest order id is recorded when the batch is made, so finding a run's
            # batches does not re-read every past transition on every call.
            hit = [self._hist[i] for i in np.flatnonzero(np.asarray(self._hist_max) >= first_id)]
            hit = hit or [next((h for h in reversed(self._hist) if len(h["order_id"])), self._hist[-1])]
            cat = {k: np.concatenate([h[k] for h in hit]) for k in self._hist[0]}
        else:
            cat = self._hist_arrays()
        oid = cat["order_id"]
        keep = np.flatnonzero(oid >= first_id) if first_id > 0 else np.arange(len(oid))
        empty = len(keep) == 0
        if empty and len(oid):  # column types as a non-empty read gives them
            keep = np.zeros(1, dtype=np.int64)
        # Time order, ties in the order the transitions were made (a stable sort of the kept rows
        # keeps the relative order a sort of every row would give them).
        rows = keep[np.argsort(cat["time"][keep], kind="stable")]
        oid = oid[rows]
        # Status and kind columns come from a handful of names: build each name once and take
        # from it, rather than infer the column type string by string.
        states = pd.Series(np.array(("",) + ORDER_STATES, dtype=object))
        from_names = states.replace("", None).array
        to_names = states.array
        kinds, kind_code = self._kind_codes(oid)
        h = pd.DataFrame(
            {
                "time": self._times(cat["time"][rows]),
                "order_id": oid,
                "kind": kinds.take(kind_code),
                "from_status": from_names.take(cat["from"][rows].astype(np.int64) + 1),
                "to_status": to_names.take(cat["to"][rows].astype(np.int64) + 1),
                "filled": cat["filled"][rows],
                "reason": pd.Series(cat["reason"][rows]),
            }
        )
        return h.iloc[:0] if empty else h

    def _kind_codes(self, ids: np.ndarray) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray]:
        """The distinct kinds of orders ``ids`` (typed as a column of them is) and each one's index into them."""
        code, names = pd.factorize(self._kind[ids], use_na_sentinel=False)
        return pd.Series(np.asarray(names, dtype=object)).array, code.astype(np.int64)

    @_locked
    def __repr__(self) -> str:
        p = self.parents
        counts = p["status"].value_counts().to_dict() if len(p) else {}
        return f"OrderBook(parents={len(p)}, children={self._n - len(p)}, status={counts})"


def book_fills(book: OrderBook, ledger: Ledger, fills: pd.DataFrame, sign: np.ndarray, open_ids: np.ndarray,
               close: pd.Timestamp, cancel_at: np.ndarray | None = None, cancel_why: np.ndarray | None = None) -> None:
    """Book a session's fills: child and parent states in the order book, then cash and positions in the ledger.

    ``fills`` has ``order_id, child_id, ticker, time, shares, price, fee``;
    ``sign`` (+1 buy, -1 sell) is each fill's side.  Orders in ``open_ids``
    still working after their fills are cancelled with the unfilled shares
    in the reason: at ``cancel_at`` (epoch ns, one per id; default the
    ``close``) with the reason prefix ``cancel_why`` (default "unfilled at
    the close: ").
    """
    ftimes = pd.DatetimeIndex(fills["time"])
    shares = fills["shares"].to_numpy(np.int64)
    why = ("fill " + fills["shares"].astype(str) + " @ " + fills["price"].round(4).astype(str)).to_numpy(object)
    with book._lock:  # fills, then the cancels of what they left open, as one step for any other thread
        book.apply_fills(fills["child_id"].to_numpy(), shares, ftimes, why)
        book.apply_fills(fills["order_id"].to_numpy(), shares, ftimes, why)
        still = np.isin(book.status(open_ids), ["NEW", "PARTIALLY_FILLED"])
        oid = open_ids[still]
        if len(oid):
            rem = book.quantity[oid] - book._filled[oid]
            at = close if cancel_at is None else from_ns(np.asarray(cancel_at, dtype=np.int64)[still], close.tz)
            why = ("unfilled at the close: " if cancel_why is None
                   else pd.Series(np.asarray(cancel_why, dtype=object)[still]))
            book.transition(oid, "CANCELLED", at, (why + pd.Series(rem).astype(str) + " shares").to_numpy(object))
    ledger.apply_fills(pd.DataFrame({
        "time": ftimes, "ticker": fills["ticker"].to_numpy(object), "shares": sign * shares,
        "price": fills["price"].to_numpy(np.float64), "fee": fills["fee"].to_numpy(np.float64),
        "order_id": fills["order_id"].to_numpy(),
    }))


def fills_with_children(f: pd.DataFrame, orders_in: pd.DataFrame, ri: np.ndarray, rj: np.ndarray, cid: np.ndarray,
                        width: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The simulator's fills with the book's child id of each, and each fill's row in ``orders_in``.

    Child ``cid[i]`` is slice ``rj[i]`` of order row ``ri[i]`` (row-major, as
    ``np.nonzero`` of the schedule gives them); a fill's ``child`` column is
    its slice, so (row, slice) keys find the child by binary search.
    """
    row = pd.Index(orders_in["order_id"].to_numpy()).get_indexer(f["order_id"].to_numpy())
    key = row.astype(np.int64) * width + f["child"].to_numpy(np.int64)
    child = cid[np.searchsorted(ri.astype(np.int64) * width + rj, key)]
    fills = pd.DataFrame({
        "order_id": f["order_id"].to_numpy(np.int64),
        "child_id": child,
        "decision_id": orders_in["decision_id"].to_numpy(object)[row],
        "ticker": orders_in["ticker"].to_numpy(object)[row],
        "side": orders_in["side"].to_numpy(object)[row],
        "time": f["time"],
        "shares": f["shares"].to_numpy(np.int64),
        "price": f["price"].to_numpy(np.float64),
        "fee": f["fee"].to_numpy(np.float64),
    })
    return fills, row


def stamp_fills(fills: pd.DataFrame, orders: pd.DataFrame, arrival_ns: np.ndarray, kill_ns: int | None,
                adds_risk: np.ndarray, killed: np.ndarray, close_ns: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    r"""The simulator's fills timed no earlier than their order's arrival, and cut at a kill time.

    The simulator stamps a fill at the start of its bar; an order that
    arrives mid-bar would then fill before it arrived (and before its
    decision).  A fill's time is :math:`\max(\text{bar start}, \text{arrival})`.

    With a kill time ``kill_ns``, fills of risk-adding orders (``adds_risk``,
    one per row of ``orders``) timed at or after it are dropped -- shares
    carried over from earlier children by the participation cap -- and the
    per-order ``filled, unfilled, fill_rate, status, avg_price, end_time``
    of the orders cut (a dropped fill, or ``killed`` children) are
    recomputed, ``end_time`` being the kill time (within arrival and the
    session's close ``close_ns``), where the shortfall marks the unfilled
    shares.  Returns ``(fills, orders, cut)``.
    """
    row = pd.Index(orders["order_id"].to_numpy()).get_indexer(fills["order_id"].to_numpy())
    t = np.maximum(pd.DatetimeIndex(fills["time"]).as_unit("ns").asi8, arrival_ns[row])
    tz = pd.DatetimeIndex(fills["time"]).tz
    fills = fills.assign(time=from_ns(t, tz))
    cut = np.asarray(killed, dtype=bool).copy()
    if kill_ns is None:
        return fills, orders, cut
    drop = adds_risk[row] & (t >= kill_ns)
    if drop.any():
        cut[np.unique(row[drop])] = True
        fills = fills[~drop].reset_index(drop=True)
        row = row[~drop]
    if not cut.any():
        return fills, orders, cut
    n = len(orders)
    sh = fills["shares"].to_numpy(np.int64)
    filled = np.bincount(row, weights=sh, minlength=n).astype(np.int64)
    value = np.bincount(row, weights=sh * fills["price"].to_numpy(np.float64), minlength=n)
    qty = orders["quantity"].to_numpy(np.int64)
    o = orders.copy()
    c = np.flatnonzero(cut)
    o.loc[o.index[c], "filled"] = filled[c]
    o.loc[o.index[c], "unfilled"] = qty[c] - filled[c]
    o.loc[o.index[c], "fill_rate"] = np.divide(filled[c], qty[c], out=np.ones(len(c)), where=qty[c] > 0)
    o.loc[o.index[c], "status"] = np.where(filled[c] == 0, "UNFILLED", np.where(filled[c] < qty[c], "PARTIALLY_FILLED", "FILLED"))
    o.loc[o.index[c], "avg_price"] = np.where(filled[c] > 0, value[c] / np.maximum(filled[c], 1), np.nan)
    end = np.clip(kill_ns, arrival_ns[c], close_ns[c] if np.ndim(close_ns) else close_ns)
    o["end_time"] = pd.DatetimeIndex(o["end_time"]).as_unit("ns")
    o.loc[o.index[c], "end_time"] = from_ns(end, pd.DatetimeIndex(o["end_time"]).tz)
    return fills, o, cut
