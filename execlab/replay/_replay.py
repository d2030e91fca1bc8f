"""Event-level replay of child orders on a real book: the public function and its result.

The market does not react to our orders: every event of the file happens as
it did, and our orders fill against it by the rules of a queue model.  This
is the standard assumption of order-book backtests (hftbacktest,
nautilus-trader) and it is wrong for orders large enough to move the book;
keep child orders small against the displayed size, or read the impact
model's numbers beside these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._calendar import TIMEZONE
from .._orders import show, side_to_sign, whole_shares, sign_to_side
from . import _kernel as k
from ._book import EventBook

__all__ = ["Latency", "ReplayResult", "replay", "QUEUE_MODELS"]

QUEUE_MODELS = ("touch", "risk_averse", "probabilistic", "l3_fifo")
_MODEL_CODE = {"touch": k.TOUCH, "risk_averse": k.RISK_AVERSE, "probabilistic": k.PROBABILISTIC,
               "l3_fifo": k.L3_FIFO}
_REASONS = np.array(["market", "crossing limit", "trade at price", "trade through", "crossed by new order",
                     "order behind executed"], dtype=object)
_STATUSES = np.array(["filled", "cancelled", "open at end", "book exhausted", "censored", "real order ended",
                      "no touch", "after last event", "first fill"], dtype=object)
_LEGS = ("feed", "entry", "response", "cancel")
_ORDER_TYPES = ("market", "limit")


def _timedelta_ns(x: object, what: str) -> int:
    if isinstance(x, bool) or isinstance(x, (int, float, np.integer, np.floating)) and x != 0:
        raise TypeError(f"latency {what!r} must be a time span such as '150us' or pd.Timedelta(...), got {x!r}; "
                        "a bare number has no unit.")
    try:
        ns = pd.Timedelta(x).value
    except (TypeError, ValueError) as exc:
        raise TypeError(f"latency {what!r} must be a time span such as '150us', got {x!r}: {exc}") from None
    if ns is pd.NaT or pd.isna(pd.Timedelta(x)):
        raise ValueError(f"latency {what!r} is NaT; give a time span (0 for none).")
    if ns < 0:
        raise ValueError(f"latency {what!r} is {pd.Timedelta(x)}; a latency cannot be below zero.")
    return int(ns)


@dataclass(frozen=True)
class Latency:
    """Latency of each leg between us and the exchange, constant or drawn per child order.

    Each leg is a time span (``"150us"``, ``pd.Timedelta``) or a distribution
    drawn once per child order with the ``rng`` given to :func:`replay`:
    ``("lognormal", median, sigma)`` or ``("exponential", mean)``.

    Attributes
    ----------
    feed : time span or distribution
        Exchange event -> our view of it (market data).
    entry : time span or distribution
        Our order (or replace) sent -> at the exchange.
    response : time span or distribution
        A fill at the exchange -> known to us (stamps ``local_time``).
    cancel : time span or distribution
        Our cancel sent -> at the exchange; the order can fill meanwhile.

    Examples
    --------
    >>> Latency(feed="20us", entry=("lognormal", "100us", 0.5)).describe()
    'feed 20us, entry lognormal(median 100us, sigma 0.5), response 0ns, cancel 0ns'
    """

    feed: Any = "0ns"
    entry: Any = "0ns"
    response: Any = "0ns"
    cancel: Any = "0ns"

    def __post_init__(self) -> None:
        for leg in _LEGS:
            self._spec(leg)  # validate now, not at the first draw

    def _spec(self, leg: str) -> tuple:
        x = getattr(self, leg)
        if isinstance(x, tuple):
            if not x or x[0] not in ("lognormal", "exponential"):
                raise ValueError(f"latency {leg!r} distribution must be ('lognormal', median, sigma) or "
                                 f"('exponential', mean), got {x!r}.")
            if x[0] == "lognormal":
                if len(x) != 3:
                    raise ValueError(f"latency {leg!r} lognormal needs (name, median, sigma), got {x!r}.")
                med = _timedelta_ns(x[1], leg)
                sigma = float(x[2])
                if not np.isfinite(sigma) or sigma < 0:
                    raise ValueError(f"latency {leg!r} lognormal sigma must be >= 0, got {x[2]!r}.")
                return ("lognormal", med, sigma)
            if len(x) != 2:
                raise ValueError(f"latency {leg!r} exponential needs (name, mean), got {x!r}.")
            return ("exponential", _timedelta_ns(x[1], leg))
        return ("constant", _timedelta_ns(x, leg))

    def draw(self, n: int, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
        """Each leg's latency for ``n`` child orders, int64 nanoseconds."""
        out = {}
        for leg in _LEGS:
            spec = self._spec(leg)
            if spec[0] == "constant":
                out[leg] = np.full(n, spec[1], dtype=np.int64)
                continue
            if not isinstance(rng, np.random.Generator):
                raise TypeError(f"latency {leg!r} is drawn ({spec[0]}); pass rng=np.random.default_rng(seed).")
            if spec[0] == "lognormal":
                x = spec[1] * np.exp(spec[2] * rng.standard_normal(n))
            else:
                x = rng.exponential(spec[1], n)
            if not (np.isfinite(x).all() and x.max(initial=0.0) < 2.0**62):  # the int64 cast must not wrap
                raise ValueError(f"latency {leg!r} drew {np.nanmax(x)!r} ns; the {spec[0]} parameters give "
                                 "latencies beyond int64 nanoseconds (about 146 years).")
            out[leg] = np.rint(x).astype(np.int64)
        return out

    def describe(self) -> str:
        """One line naming each leg."""
        parts = []
        for leg in _LEGS:
            spec = self._spec(leg)
            if spec[0] == "constant":
                text = _short(spec[1])
            elif spec[0] == "lognormal":
                text = f"lognormal(median {_short(spec[1])}, sigma {spec[2]:g})"
            else:
                text = f"exponential(mean {_short(spec[1])})"
            parts.append(f"{leg} {text}")
        return ", ".join(parts)


def _short(ns: int) -> str:
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if ns >= size and ns % size == 0:
            return f"{ns // size}{unit}"
    if ns >= 10**3:
        return f"{ns / 1000:g}us"
    return f"{ns}ns"


@dataclass
class ReplayResult:
    """Fills and order outcomes of :func:`replay`.

    Attributes
    ----------
    fills : pandas.DataFrame
        One row per fill: ``order_id, leg, exchange_time, local_time, price,
        shares, liquidity`` (MAKER/TAKER), ``reason``, ``queue_ahead`` (shares
        displayed ahead of the leg when it entered; 0 for a taker fill),
        ``fee`` (dollars, positive = paid) and ``row`` (event of the file).
    orders : pandas.DataFrame
        One row per child order: ``order_id, side, shares, filled, status,
        price, queue_ahead, entry_time, end_time, legs, first_fill_time,
        censored`` (its price left the visible N levels at some point, so the
        queue model ran without the book's cap there) and ``time_invisible``.
    queue_model, latency, book : str
        What was simulated.
    """

    fills: pd.DataFrame
    orders: pd.DataFrame
    queue_model: str
    latency: str
    book: str
    _mid: Any = field(default=None, repr=False)
    _mid_rows: Any = field(default=None, repr=False)

    def summary(self) -> str:
        """Fill rate, maker share, statuses and censoring, one block of text."""
        o, f = self.orders, self.fills
        ordered = int(o["shares"].sum())
        filled = int(o["filled"].sum())
        maker = int(f.loc[f["liquidity"] == "MAKER", "shares"].sum())
        lines = [
            f"Event-level replay: {self.book}",
            f"  queue model      {self.queue_model}",
            f"  latency          {self.latency}",
            f"  child orders     {len(o):,} ({ordered:,} shares)",
            f"  filled           {filled:,} shares ({filled / ordered:.1%})" if ordered else "  filled           0",
            f"  maker share      {maker / filled:.1%} of filled shares" if filled else "  maker share      -",
            f"  fills            {len(f):,}",
            f"  censored         {o['censored'].mean():.1%} of orders left the visible book at some point",
            "  statuses         " + ", ".join(f"{s} {n}" for s, n in o["status"].value_counts().items()),
            "  (the market does not react to our orders)",
        ]
        return "\n".join(lines)

    def to_fills(self) -> pd.DataFrame:
        """The fills in execlab's fill format (``order_id, time, shares, price, fee, liquidity``) for TCA."""
        f = self.fills
        return pd.DataFrame({"order_id": f["order_id"].to_numpy(), "time": f["exchange_time"],
                             "shares": f["shares"].to_numpy(), "price": f["price"].to_numpy(),
                             "fee": f["fee"].to_numpy(), "liquidity": f["liquidity"].to_numpy()})

    def markouts(self, horizons: tuple = ("1s", "10s", "60s")) -> pd.DataFrame:
        """Per fill, spread capture and the cost against the mid ``h`` after it, in basis points.

        ``spread_capture_bps`` is ``side * (mid - price) / mid * 1e4`` with the
        mid just before the fill's event: positive when a maker fill earned
        part of the spread, negative for a taker paying it.
        ``markout_<h>_bps`` is ``side * (price - mid(t + h)) / mid(t + h) * 1e4``,
        positive = cost: a buy filled just before the price falls costs
        (adverse selection); the mid is the book's, after every event at or
        before ``t + h``.
        """
        f = self.fills
        side = self.orders.set_index("order_id").loc[f["order_id"], "side"].to_numpy()
        sign = np.where(side == "BUY", 1.0, -1.0)
        t = pd.DatetimeIndex(f["exchange_time"]).asi8
        out = pd.DataFrame({"order_id": f["order_id"].to_numpy(), "liquidity": f["liquidity"].to_numpy(),
                            "shares": f["shares"].to_numpy()})
        if len(f):
            before = self._mid_rows(np.maximum(f["row"].to_numpy() - 1, 0))
            out["spread_capture_bps"] = sign * (before - f["price"].to_numpy()) / before * 1e4
        else:
            out["spread_capture_bps"] = np.zeros(0)
        for h in horizons:
            mid = self._mid(t + pd.Timedelta(h).value)
            out[f"markout_{h}_bps"] = sign * (f["price"].to_numpy() - mid) / mid * 1e4
        return out


def _col(frame: pd.DataFrame, name: str, default: Any = None) -> Any:
    return frame[name] if name in frame.columns else default


def _check_orders(book: EventBook, orders: pd.DataFrame) -> dict[str, np.ndarray]:
    """The child orders as arrays, every column checked (names the column, row and value)."""
    if not isinstance(orders, pd.DataFrame):
        raise TypeError(f"orders must be a pandas DataFrame, got {type(orders).__name__}.")
    if len(orders) == 0:
        raise ValueError("orders is empty; replay needs at least one child order.")
    missing = [c for c in ("side", "shares", "submit_time") if c not in orders.columns]
    if missing:
        raise ValueError(f"orders is missing column(s) {missing}; it needs side, shares and submit_time "
                         "(and optionally order_id, order_type, price, offset_ticks, peg, cancel_time).")
    idx = orders.index
    oid = orders["order_id"].to_numpy() if "order_id" in orders.columns else idx.to_numpy()
    if pd.Index(oid).has_duplicates:
        dup = pd.Index(oid)[pd.Index(oid).duplicated()][0]
        raise ValueError(f"orders column 'order_id' has {show(dup)} twice; child order ids are unique.")
    sign = side_to_sign(orders["side"], "orders", "side", idx)
    shares = whole_shares(orders, "orders", "shares")
    otype = _col(orders, "order_type", pd.Series("limit", index=idx)).astype(object).to_numpy()
    is_market = otype == "market"
    unknown = ~(is_market | (otype == "limit"))
    if unknown.any():
        r = int(np.flatnonzero(unknown)[0])
        raise ValueError(f"orders column 'order_type' has {show(otype[r])} at row {show(idx[r])}; "
                         f"must be one of {list(_ORDER_TYPES)}.")
    price = pd.to_numeric(_col(orders, "price", pd.Series(np.nan, index=idx)), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    has_price = np.isfinite(price)
    bad = has_price & (price <= 0) | (~has_price & _col(orders, "price", pd.Series(np.nan, index=idx)).notna().to_numpy())
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise ValueError(f"orders column 'price' has {show(orders['price'].iloc[r])} at row {show(idx[r])}; "
                         "a limit price is a positive number of dollars (leave it empty for touch-relative).")
    too_high = has_price & (price >= 999_999.0)  # LOBSTER's dummy-price bound; also keeps the int64 cast exact
    if too_high.any():
        r = int(np.flatnonzero(too_high)[0])
        raise ValueError(f"orders column 'price' has {show(price[r])} at row {show(idx[r])}; a price is below "
                         "$999,999 (LOBSTER's largest real price).")
    if (is_market & has_price).any():
        r = int(np.flatnonzero(is_market & has_price)[0])
        raise ValueError(f"orders row {show(idx[r])} is a market order with price {price[r]}; market orders "
                         "take no price (use order_type 'limit' for a marketable limit).")
    units = np.rint(np.where(has_price, price, 0) * 10_000).astype(np.int64)
    off_tick = has_price & ((units % book.tick != 0) | (np.abs(price * 10_000 - units) > 1e-6))
    if off_tick.any():
        r = int(np.flatnonzero(off_tick)[0])
        raise ValueError(f"orders column 'price' has {show(price[r])} at row {show(idx[r])}, which is off the tick of "
                         f"${book.tick / 10_000:g}.")
    offset_col = _col(orders, "offset_ticks")
    if offset_col is None:
        offset = np.zeros(len(orders), dtype=np.int64)
    else:
        off = pd.to_numeric(offset_col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        given = np.isfinite(off)
        if (given & has_price).any():
            r = int(np.flatnonzero(given & has_price)[0])
            raise ValueError(f"orders row {show(idx[r])} has both price and offset_ticks; give one.")
        bad = given & (off != np.floor(off)) | (~given & offset_col.notna().to_numpy())
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ValueError(f"orders column 'offset_ticks' has {show(offset_col.iloc[r])} at row {show(idx[r])}; "
                             "must be a whole number of ticks (0 = at the touch, k > 0 = k ticks inside).")
        offset = np.where(given, off, 0).astype(np.int64)
        if (given & is_market).any():
            r = int(np.flatnonzero(given & is_market)[0])
            raise ValueError(f"orders row {show(idx[r])} is a market order with offset_ticks "
                             f"{show(offset_col.iloc[r])}; market orders take no price (leave it empty).")
    peg_col = _col(orders, "peg")
    peg = np.zeros(len(orders), dtype=bool) if peg_col is None else peg_col.fillna(False).astype(bool).to_numpy()
    if (peg & (has_price | is_market)).any():
        r = int(np.flatnonzero(peg & (has_price | is_market))[0])
        raise ValueError(f"orders row {show(idx[r])} is pegged but has an absolute price or is a market order; "
                         "a peg follows the touch (use offset_ticks).")
    submit = _times(orders["submit_time"], "submit_time", idx, allow_nat=False)
    cancel_col = _col(orders, "cancel_time")
    cancel = np.full(len(orders), k.NEVER, dtype=np.int64) if cancel_col is None else _times(
        cancel_col, "cancel_time", idx, allow_nat=True)
    early = cancel < submit
    if early.any():
        r = int(np.flatnonzero(early)[0])
        raise ValueError(f"orders row {show(idx[r])} has cancel_time before submit_time.")
    kind = np.where(is_market, k.MARKET, np.where(has_price, k.LIMIT_PRICE, k.LIMIT_TOUCH)).astype(np.int64)
    return {"order_id": oid, "side": sign, "shares": shares, "kind": kind, "price": units,
            "offset": offset, "peg": peg, "submit": submit, "cancel": cancel}


def _times(col: pd.Series, name: str, idx: pd.Index, allow_nat: bool) -> np.ndarray:
    if allow_nat and col.isna().all():  # no time at all (NaT has no time zone to check)
        return np.full(len(col), k.NEVER, dtype=np.int64)
    try:
        t = pd.DatetimeIndex(col)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"orders column {name!r} must hold timestamps: {exc}") from None
    if t.tz is None:
        raise ValueError(f"orders column {name!r} is timezone-naive; localize it to {TIMEZONE} so it can be "
                         "compared with the book.")
    nat = t.isna()
    if nat.any() and not allow_nat:
        r = int(np.flatnonzero(nat)[0])
        raise ValueError(f"orders column {name!r} has NaT at row {show(idx[r])}; every order needs a time.")
    out = t.as_unit("ns").asi8.copy()
    out[nat] = k.NEVER
    return out


def _model_args(queue: str, probability: tuple) -> tuple[int, int, float]:
    if queue not in _MODEL_CODE:
        raise ValueError(f"queue must be one of {list(QUEUE_MODELS)}, got {queue!r}.")
    if not isinstance(probability, tuple) or not probability or probability[0] not in ("power", "log"):
        raise ValueError(f"probability must be ('power', n) or ('log',), got {probability!r}.")
    if probability[0] == "power":
        n = float(probability[1]) if len(probability) > 1 else 3.0
        if not np.isfinite(n) or n <= 0:
            raise ValueError(f"probability power must be > 0, got {probability[1]!r}.")
        return _MODEL_CODE[queue], k.POWER, n
    return _MODEL_CODE[queue], k.LOG, 1.0


def replay(book: EventBook, orders: pd.DataFrame, *, queue: str = "risk_averse",
           probability: tuple = ("power", 3.0), latency: Latency | None = None,
           fees: dict | None = None, rng: np.random.Generator | None = None) -> ReplayResult:
    r"""Simulate child orders event by event on a real book.

    Parameters
    ----------
    book : EventBook
        One ticker-day of LOBSTER events at depth N.
    orders : pandas.DataFrame
        One row per child order:

        - ``side`` (BUY/SELL or +1/-1), ``shares`` (whole, > 0), ``submit_time``
          (tz-aware: when we send it);
        - ``order_type``: ``"limit"`` (default) or ``"market"`` (walks the
          visible levels; what they cannot fill is taken from the book as it
          refills, event by event, since a level-N file does not show the
          deeper book: this understates the cost of a market order larger
          than the visible depth; status ``book exhausted`` if the file ends
          first, ``cancelled`` at its ``cancel_time``);
        - a limit's price: ``price`` (dollars, on the tick), or
          ``offset_ticks`` from the touch we see (0 joins the touch, k > 0
          goes k ticks inside but never to the far touch, k < 0 rests
          behind); neither means at the touch;
        - ``peg`` (bool): follow the touch (with the offset) by
          cancel/replace, each replace at the back of the new queue;
        - ``cancel_time`` (optional, NaT = none), ``order_id`` (default the index).

        A limit that reaches the far touch when it arrives (a buy at or
        above the best ask) takes the visible shares at prices no worse
        than its limit, as a taker, and rests with what is left.
    queue : {"touch", "risk_averse", "probabilistic", "l3_fifo"}
        How a resting order advances:

        - ``touch``: fills on any trade at its price (hidden ones too);
        - ``risk_averse``: the queue ahead (the size displayed at our price
          when we arrive) shrinks only by visible trades at our price, and
          never exceeds what is displayed there;
        - ``probabilistic``: as risk_averse, and a cancel at our price is
          ahead of us with probability ``1 - f(back) / (f(back) + f(front))``
          (expected value taken, as hftbacktest's ``ProbQueueModel``);
        - ``l3_fifo``: exact FIFO from order ids: an order is ahead of us if
          its type-1 message came before our arrival (or, unseen, its id is
          smaller); cancels and executions ahead advance us, and the
          execution of an order behind us fills us.

        In every model a trade at a price worse than ours (it went through
        our price) fills us, a new opposite order reaching our price fills
        us, hidden executions (type 5) do not shorten the displayed queue,
        and no fill is larger than the shares the market traded.
    probability : tuple, default ("power", 3.0)
        ``f`` of the probabilistic model: ``("power", n)`` is ``x**n``,
        ``("log",)`` is ``log(1 + x)``.
    latency : Latency, optional
        Feed, entry, response and cancel latencies; none by default.
    fees : dict, optional
        Dollars per share by liquidity, e.g. ``{"MAKER": -0.002, "TAKER":
        0.003}`` (a rebate is negative); zero by default.
    rng : numpy.random.Generator, optional
        Needed only when a latency is drawn.

    Returns
    -------
    ReplayResult
        ``fills`` (straight into :func:`execlab.tca` via ``to_fills()``),
        ``orders``, ``markouts()``, ``summary()``.

    Notes
    -----
    The market does not react to our orders: every event of the file
    happens as it did.  Our orders share the book with each other (a share
    is never filled twice: the displayed shares one takes are not there
    for the next, and a trade's shares go to one order), in the order of
    their arrival.  A price outside the N visible levels has no displayed
    size, so there the queue runs without its cap, and an order entering
    there has an unknown queue ahead (all of it is taken to be ahead until
    its price shows); such orders are flagged ``censored``.

    Times: an order sent before the file's first event enters right after
    it (the file shows no book before it).  Events stamped at our arrival
    time come before us.  A cancel that reaches the exchange before its
    order does leaves it unfilled, status ``cancelled``.

    Examples
    --------
    >>> book = EventBook.bundled("AAPL")
    >>> t0 = pd.Timestamp("2012-06-21 10:00", tz="America/New_York")
    >>> orders = pd.DataFrame({"side": ["BUY", "SELL"], "shares": [100, 100],
    ...                        "order_type": ["limit", "market"], "submit_time": [t0, t0]})
    >>> res = replay(book, orders, queue="l3_fifo")
    >>> res.orders[["side", "filled", "status"]].to_numpy().tolist()
    [['BUY', 100, 'filled'], ['SELL', 100, 'filled']]
    >>> res.fills.groupby("liquidity")["shares"].sum().to_dict()
    {'MAKER': 100, 'TAKER': 100}
    """
    if not isinstance(book, EventBook):
        raise TypeError(f"book must be an EventBook (EventBook.from_lobster or EventBook.bundled), "
                        f"got {type(book).__name__}.")
    model, function, power = _model_args(queue, probability)
    latency = Latency() if latency is None else latency
    if not isinstance(latency, Latency):
        raise TypeError(f"latency must be a Latency, got {type(latency).__name__}.")
    fee_maker, fee_taker = _fees(fees)
    o = _check_orders(book, orders)
    lat = latency.draw(len(o["side"]), rng)
    res = _run(book, o, lat, model, function, power)
    return _result(book, o, lat, res, queue if queue != "probabilistic" else f"probabilistic {probability}",
                   latency.describe(), fee_maker, fee_taker)


def _fees(fees: dict | None) -> tuple[float, float]:
    if fees is None:
        return 0.0, 0.0
    if not isinstance(fees, dict) or set(fees) - {"MAKER", "TAKER"}:
        raise ValueError(f"fees must be a dict with keys 'MAKER' and/or 'TAKER' (dollars per share), got {fees!r}.")
    out = []
    for key in ("MAKER", "TAKER"):
        v = fees.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"fees[{key!r}] must be a finite number of dollars per share, got {v!r}.")
        out.append(float(v))
    return out[0], out[1]


def _run(book: EventBook, o: dict, lat: dict, model: int, function: int, power: float, *,
         self_id: np.ndarray | None = None, self_row: np.ndarray | None = None, uniforms: np.ndarray | None = None,
         stop_invisible: bool = False, first_fill_only: bool = False, share: bool = True) -> tuple:
    """Sort by arrival (priority among our orders), run the loop, and return results in input order."""
    m = len(o["side"])
    self_id = np.full(m, -1, dtype=np.int64) if self_id is None else self_id
    self_row = np.full(m, -1, dtype=np.int64) if self_row is None else self_row
    # An order sent before the file's first event enters right after it (the file shows no book before).
    arrival = np.where(self_row >= 0, book.time[np.maximum(self_row, 0)],
                       np.maximum(o["submit"] + lat["entry"], book.time[0]))
    order = np.argsort(arrival, kind="stable")
    n = len(book)
    used_trade = np.zeros(n, dtype=np.int64)
    pmin, slots = _price_grid(book)
    taken = np.zeros((2, slots), dtype=np.int64)
    uni = np.ones(n) if uniforms is None else uniforms
    ints, floats, nf, oi, of = k.kernel()(
        book.time, book.type, book.order_id, book.size, book.price, book.direction, book.arrival_row,
        book.next_id, book.ask_price, book.ask_size, book.bid_price, book.bid_size,
        o["side"][order], o["shares"][order], o["kind"][order], o["price"][order], o["offset"][order],
        o["peg"][order], o["submit"][order], o["cancel"][order], lat["feed"][order], lat["entry"][order],
        lat["response"][order], lat["cancel"][order], self_id[order], self_row[order],
        model, function, power, book.tick, uni, stop_invisible, first_fill_only, share, used_trade, taken,
        pmin)
    # Back to the caller's order: fills name the input position, order rows are put back.
    ints = ints.copy()
    ints[:, k.F_ORDER] = order[ints[:, k.F_ORDER]]
    back = np.empty(m, dtype=np.int64)
    back[order] = np.arange(m)
    return ints, floats, oi[back], of[back], arrival


def _price_grid(book: EventBook) -> tuple[int, int]:
    """Lowest price and number of ticks spanned by the book's visible levels and messages."""
    prices = [book.price[book.type == 1]]
    for a, z in ((book.ask_price, book.ask_size), (book.bid_price, book.bid_size)):
        prices.append(a[z > 0])
    allp = np.concatenate(prices)
    if len(allp) == 0:
        return 0, 1
    lo, hi = int(allp.min()), int(allp.max())
    return lo, (hi - lo) // book.tick + 1


def _result(book: EventBook, o: dict, lat: dict, res: tuple, queue: str, latency: str, fee_maker: float,
            fee_taker: float) -> ReplayResult:
    ints, floats, oi, of, arrival = res
    # Fills sorted by time, then by order (stable: the kernel writes each order's fills in time order).
    srt = np.lexsort((ints[:, k.F_ORDER], ints[:, k.F_TIME]))
    ints, floats = ints[srt], floats[srt]
    pos = ints[:, k.F_ORDER]
    taker = ints[:, k.F_TAKER].astype(bool)
    t_ex = ints[:, k.F_TIME]
    shares = ints[:, k.F_SHARES]
    fee = shares * np.where(taker, fee_taker, fee_maker)
    tz = lambda ns: pd.DatetimeIndex(np.asarray(ns, np.int64).view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE)  # noqa: E731
    fills = pd.DataFrame({
        "order_id": o["order_id"][pos], "leg": ints[:, k.F_LEG], "exchange_time": tz(t_ex),
        "local_time": tz(t_ex + lat["response"][pos]), "price": ints[:, k.F_PRICE] / 10_000, "shares": shares,
        "liquidity": np.where(taker, "TAKER", "MAKER").astype(object), "reason": _REASONS[ints[:, k.F_REASON]],
        "queue_ahead": np.where(taker, 0.0, np.where(floats >= k.UNKNOWN_QUEUE, np.nan, floats)), "fee": fee, "row": ints[:, k.F_ROW]})
    entry_row = oi[:, 3]
    end_row = oi[:, 4]
    status = oi[:, 0]
    nat = np.iinfo(np.int64).min  # NaT once viewed as datetime64
    end_ns = np.where(end_row >= 0, book.time[np.maximum(end_row, 0)], nat)
    end_ns = np.where(status == k.S_CANCELLED, np.maximum(o["cancel"] + lat["cancel"], arrival), end_ns)
    last_fill = np.full(len(status), nat, dtype=np.int64)
    np.maximum.at(last_fill, pos, t_ex)
    first_fill = np.full(len(status), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_fill, pos, t_ex)
    first_fill[first_fill == np.iinfo(np.int64).max] = nat
    end_ns = np.where(status == k.S_FILLED, last_fill, end_ns)
    orders = pd.DataFrame({
        "order_id": o["order_id"], "side": sign_to_side(o["side"]), "shares": o["shares"], "filled": oi[:, 1],
        "status": _STATUSES[oi[:, 0]],
        "price": np.where(oi[:, 7] > 0, oi[:, 7] / 10_000, np.nan),
        "queue_ahead": np.where(o["kind"] == k.MARKET, 0.0, np.where(of[:, 0] >= k.UNKNOWN_QUEUE, np.nan, of[:, 0])),
        "entry_time": tz(np.where(entry_row >= 0, arrival, nat)), "end_time": tz(end_ns),
        "legs": oi[:, 2], "first_fill_time": tz(first_fill),
        "censored": oi[:, 5] >= 0, "time_invisible": pd.to_timedelta(of[:, 1], unit="ns")})
    return ReplayResult(fills=fills.reset_index(drop=True), orders=orders, queue_model=queue, latency=latency,
                        book=repr(book), _mid=book.mid_at,
                        _mid_rows=book.mid().__getitem__)
