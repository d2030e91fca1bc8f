"""Reading a saved :class:`~execlab.engine.ledger.Ledger` back, checked against its own fill history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ._int64 import to_int64

__all__ = ["ledger_from_dict", "ledger_to_dict", "load_ledger"]


def ledger_from_dict(cls: type, d: dict, *, source: str = "saved ledger"):
    """The body of :meth:`Ledger.from_dict`: parse, check finiteness and replay the fills."""
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


def ledger_to_dict(self) -> dict:
    """The body of :meth:`Ledger.to_dict` (called under the ledger's lock)."""
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


def load_ledger(cls: type, path) -> object:
    """The body of :meth:`Ledger.load`."""
    path = Path(path)
    text = path.read_text()
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"ledger file {str(path)!r} is not valid JSON at line {exc.lineno}, column {exc.colno} "
                         f"(character {exc.pos} of {len(text)}): {exc.msg}; the file is truncated or corrupt.") from None
    return cls.from_dict(d, source=f"ledger file {str(path)!r}")
