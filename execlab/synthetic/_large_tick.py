r"""A SYNTHETIC large-tick book: one long FIFO queue per side, written as a LOBSTER level-1 file pair.

:func:`large_tick_book` runs a Cont & de Larrard (2013) queue model at the best
bid and ask (one-tick spread, queues of thousands of shares in tens of orders,
cancellations anywhere in the queue) for one session and writes the message and
orderbook files LOBSTER writes, so that queue position matters when child orders
are replayed on it (:func:`execlab.replay.replay`).  Every random draw is made
in whole-array numpy before the event loop, which is plain Python over lists
(each event touches one queue of a few tens of orders).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._validation import check_scalar
from ._lobster import SYNTHETIC_MARKER

__all__ = ["large_tick_book", "LargeTickBook"]

_OPEN_S = 34_200  # 09:30, seconds after midnight
_CLOSE_S = 57_600  # 16:00
_NS = 1_000_000_000
_PRICE_SCALE = 10_000  # LOBSTER prices are dollars x 10,000
_MAX_PRICE = 999_999.0  # LOBSTER's price ceiling, dollars (its empty-ask value is 9999999999)
_TICKER_RE = re.compile(r"[A-Za-z0-9.\-]+")
_BID, _ASK = 0, 1
_ADD, _CANCEL, _TRADE = 0, 1, 2
_POOL = 4096  # fresh queues drawn per refill of the pool


@dataclass(frozen=True)
class LargeTickBook:
    """A SYNTHETIC large-tick ticker-day written as LOBSTER level-1 files, with the parameters that made it.

    Returned by :func:`large_tick_book`.  Nothing here is real market data:
    the ticker, prices, orders and trades are simulated.

    Attributes
    ----------
    directory : pathlib.Path
        Where the files were written (beside a ``SYNTHETIC.txt`` marker).
    message_file, orderbook_file : pathlib.Path
        ``TICKER_DATE_34200000_57600000_message_1.csv`` and
        ``..._orderbook_1.csv``: read them with
        :meth:`execlab.replay.EventBook.from_lobster` (pass ``tick_size``) or
        :func:`execlab.data.read_lobster`.
    ticker, date : str
        As in the file names (``date`` is ``YYYY-MM-DD``).
    tick_size : float
        Dollars per tick.
    params : dict
        The true parameters: ``events, tick_size, price, mean_queue,
        order_size, trade_size, lot_size, trade_fraction, cancel_fraction,
        add_fraction, partial_cancel_fraction, hidden_fraction``.
    stats : dict
        What the run produced.  In the files: ``rows``, rows by type
        (``adds, partial_cancels, deletes, executions, hidden_executions``),
        ``volume`` (shares executed, types 4 and 5), ``median_queue``
        (best-level size, shares, over the rows and both sides) and
        ``close_bid`` (dollars).  Of the model: ``add_events, cancel_events,
        trade_events``, ``mean_order_size`` and ``mean_trade_size`` (shares,
        as drawn), ``price_moves`` (queues emptied, each moving the quotes a
        tick), ``mean_new_queue`` (shares, over the queues drawn afresh) and
        ``mean_orders`` (resting orders per queue, averaged over events).
    seed : int or None
        The integer seed, when one was given.
    """

    directory: Path
    message_file: Path
    orderbook_file: Path
    ticker: str
    date: str
    tick_size: float
    params: dict[str, Any] = field(repr=False)
    stats: dict[str, Any] = field(repr=False)
    seed: int | None = None

    #: Always True: a reminder, for code that receives one of these, that it is not real data.
    synthetic: ClassVar[bool] = True

    def __repr__(self) -> str:
        return (
            f"LargeTickBook(SYNTHETIC data, not real: {self.ticker} {self.date}, {self.stats['rows']:,} LOBSTER "
            f"level-1 rows from {self.params['events']:,} events, tick {self.tick_size:g}, median queue "
            f"{self.stats['median_queue']:,.0f} shares, {self.stats['price_moves']:,} price moves, "
            f"in {str(self.directory)!r})"
        )

    def summary(self) -> pd.DataFrame:
        """The realised book beside the true parameters it was drawn with.

        Returns
        -------
        DataFrame
            Indexed by quantity, columns ``value`` (what the files hold) and
            ``true`` (the model's value, NaN where the model fixes none):
            event shares, mean sizes and the best-level queue.
        """
        p, s = self.params, self.stats
        n = p["events"]
        order_mean = (p["order_size"][0] + p["order_size"][1]) / 2
        trade_mean = (p["trade_size"][0] + p["trade_size"][1]) / 2
        rows = {
            "add share": (s["add_events"] / n, p["add_fraction"]),
            "cancel share": (s["cancel_events"] / n, p["cancel_fraction"]),
            "trade share": (s["trade_events"] / n, p["trade_fraction"]),
            "hidden share of trades": (s["hidden_executions"] / max(s["trade_events"], 1), p["hidden_fraction"]),
            "mean order size (shares)": (s["mean_order_size"], order_mean),
            "mean trade size (shares)": (s["mean_trade_size"], trade_mean),
            "mean new queue (shares)": (s["mean_new_queue"], p["mean_queue"]),
            "median best-level size (shares)": (s["median_queue"], np.nan),
            "mean resting orders per queue": (s["mean_orders"], np.nan),
            "price moves": (s["price_moves"], np.nan),
            "rows per event": (s["rows"] / n, np.nan),
        }
        out = pd.DataFrame.from_dict(rows, orient="index", columns=["value", "true"])
        out.index.name = "quantity"
        out.attrs["note"] = "SYNTHETIC data"
        return out


def _check_size_range(value: object, name: str, lot: int) -> tuple[int, int]:
    """``(low, high)`` in shares: whole lots, ``lot <= low <= high``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} == {value!r}, must be a pair (low, high) of share counts such as (100, 500).")
    low = int(check_scalar(value[0], f"{name}[0]", min_val=lot, integer=True))
    high = int(check_scalar(value[1], f"{name}[1]", min_val=low, integer=True))
    for v, part in ((low, 0), (high, 1)):
        if v % lot:
            raise ValueError(f"{name}[{part}] == {v!r}, must be a whole number of lots of lot_size == {lot} shares.")
    return low, high


def _time_text(ns: np.ndarray) -> list[str]:
    """Seconds after midnight as LOBSTER prints them: up to 9 decimals, trailing zeros dropped."""
    sec, frac = np.divmod(ns, _NS)
    return [f"{s}.{f:09d}".rstrip("0").rstrip(".") for s, f in zip(sec.tolist(), frac.tolist())]


def large_tick_book(
    directory: str | Path,
    ticker: str = "SYNQ",
    date: str = "2024-01-02",
    *,
    events: int = 200_000,
    seed: int | np.random.Generator | None = None,
    tick_size: float = 0.01,
    price: float = 20.0,
    mean_queue: float = 5000,
    order_size: tuple[int, int] = (100, 500),
    trade_size: tuple[int, int] = (100, 500),
    lot_size: int = 100,
    trade_fraction: float = 0.14,
    cancel_fraction: float = 0.40,
    partial_cancel_fraction: float = 0.1,
    hidden_fraction: float = 0.05,
) -> LargeTickBook:
    r"""Write a SYNTHETIC large-tick ticker-day, one long FIFO queue per side, as LOBSTER level-1 files.

    The book is the one LOBSTER shows for a large-tick stock: the spread is one
    tick, and the best bid and ask each hold thousands of shares in tens of
    orders, so that where an order stands in its queue decides whether it
    fills.  The files are the pair LOBSTER writes,
    ``TICKER_DATE_34200000_57600000_message_1.csv`` and
    ``..._orderbook_1.csv`` (no header; messages ``Time, Type, OrderID, Size,
    Price, Direction``; book ``ask, ask size, bid, bid size`` after each
    message; prices in dollars x 10,000), beside a ``SYNTHETIC.txt`` marker,
    so that every LOBSTER reader in execlab reads them unchanged.  They are
    simulated with known parameters, for checking queue models; they are not
    market data and ``SYNQ`` is not a listed symbol.

    Parameters
    ----------
    directory : str or Path
        Folder for the files; created if missing.  Files of the same names are
        overwritten; other files are left alone.
    ticker : str, default "SYNQ"
        Ticker in the file names (letters, digits, ``.`` or ``-``).
    date : str, default "2024-01-02"
        Session date in the file names, ``YYYY-MM-DD``.
    events : int, default 200000
        Number of model events (order arrivals, cancellations and market
        orders) over the session 09:30-16:00, >= 100.  The files hold more
        rows than events: a market order writes one row per resting order it
        meets, and a quote that moves is rebuilt by new orders (see Notes).
    seed : int, numpy.random.Generator or None
        Source of all randomness (``numpy.random.default_rng(seed)``); the
        same int seed writes byte-identical files.  ``None`` draws fresh
        entropy (not reproducible).
    tick_size : float, default 0.01
        Dollars per tick, a positive multiple of 0.0001.
    price : float, default 20.0
        Best bid at the open, dollars, on the tick grid and at least 100
        ticks; the ask is one tick above.  At $20 a one-cent tick is 5 bps:
        a large-tick stock.
    mean_queue : float, default 5000
        Mean size, shares, of a queue the model draws afresh (at the open, and
        whenever the quotes move), at least the mean order size.  The
        best-level size then wanders around it (see Notes).
    order_size : (int, int), default (100, 500)
        Smallest and largest limit order, shares, whole lots; sizes are
        uniform over the lots in between.
    trade_size : (int, int), default (100, 500)
        Smallest and largest market order, shares, whole lots, uniform over
        the lots in between.
    lot_size : int, default 100
        Shares per round lot, >= 1.
    trade_fraction : float, default 0.14
        Share of events that are market orders, in (0, 1).
    cancel_fraction : float, default 0.40
        Share of events that are cancellations, in [0, 1), with
        ``trade_fraction + cancel_fraction < 1``; the rest are new limit
        orders.
    partial_cancel_fraction : float, default 0.1
        Share of cancellations that take only part of the order (type 2), in
        [0, 1]; the others delete it (type 3).
    hidden_fraction : float, default 0.05
        Share of market orders that execute hidden liquidity at the touch
        (type 5, order id 0, the visible book unchanged), in [0, 1).

    Returns
    -------
    LargeTickBook
        The paths, the true parameters (``params``), what the files hold
        (``stats``) and ``summary()``; its ``repr`` says SYNTHETIC.

    Raises
    ------
    ValueError
        If ``directory`` is an existing file, ``ticker`` or ``date`` is not
        a name LOBSTER's files could carry, a number is out of range, a size
        range is not whole lots with ``lot_size <= low <= high``,
        ``mean_queue`` is below the mean order size, ``price`` is below 100
        ticks, or the run drives the bid down to zero (start at a higher
        ``price``).
    TypeError
        If ``seed`` is not an int, a Generator or None, or a count is not an
        integer.

    Notes
    -----
    **Model** (Cont & de Larrard [1]_, at LOBSTER's level 1).  Each side
    :math:`k \in \{b, a\}` has one queue at its best price :math:`P^k`: orders
    :math:`q^k_1, \dots, q^k_{n_k}` (shares) in time priority, with
    :math:`P^a = P^b + \delta` (:math:`\delta` = ``tick_size``) after every
    event.  Events arrive at the times of a Poisson process of constant rate
    conditioned on ``events`` = :math:`N` arrivals in the session
    :math:`[T_0, T_1]` (09:30-16:00): with :math:`E_1, \dots, E_{N+1}`
    independent standard exponential gaps,

    .. math::
        t_i = T_0 + (T_1 - T_0)\,\frac{E_1 + \dots + E_i}{E_1 + \dots + E_{N+1}}.

    Event :math:`i` acts on side :math:`k_i`, bid or ask with probability 1/2,
    and is, independently,

    - with probability :math:`\pi_A = 1 - \pi_T - \pi_C`, a new limit order
      (type 1, the next order id) joining the back,
      :math:`q^k_{n_k + 1} = s`, :math:`s \sim U\{s_-, s_- + \ell, \dots,
      s_+\}` (``order_size``, ``lot_size``);
    - with probability :math:`\pi_C` (``cancel_fraction``), a cancellation of
      an order anywhere in the queue, :math:`j \sim U\{1, \dots, n_k\}`:
      with probability :math:`\pi_P` (``partial_cancel_fraction``) and
      :math:`q^k_j > 1` a partial cancel of :math:`x \sim U\{1, \dots,
      q^k_j - 1\}` shares (type 2), otherwise a delete of all
      :math:`q^k_j` (type 3);
    - with probability :math:`\pi_T` (``trade_fraction``), a market order of
      :math:`v \sim U\{v_-, \dots, v_+\}` shares (``trade_size``) against
      side :math:`k` (a sell market order meets the bid): with probability :math:`h` (``hidden_fraction``) it
      meets hidden liquidity at :math:`P^k` (type 5, order id 0, the book
      unchanged); otherwise it executes the queue from the front,
      :math:`x_m = \min(q^k_m,\ v - x_1 - \dots - x_{m-1})`, one type-4 row
      per order met, all at :math:`t_i`.

    **Price moves.**  When side :math:`k`'s queue empties (the last order
    cancelled or executed), its best price moves one tick away,
    :math:`P^b \leftarrow P^b - \delta` (or :math:`P^a \leftarrow P^a +
    \delta`), and the level behind it is revealed: a fresh queue drawn from
    :math:`F`.  Its orders rested at level 2 before, out of a level-1 file's
    sight, so they have ids but no type-1 rows, as in real LOBSTER files; a
    market order not yet filled continues against them.
    The other side then re-quotes one tick away,
    :math:`P^a \leftarrow P^b + \delta` (or :math:`P^b \leftarrow P^a -
    \delta`), with a fresh queue drawn from :math:`F` that arrives as new
    orders (type 1) at the same time :math:`t_i`; its old queue, now behind
    the best, is forgotten.  So the spread is one tick at every instant: the
    row that empties a queue shows two ticks for zero time, until the next
    row at the same timestamp restores one, and every row changes the book
    only on the side and at the price of its own message, as LOBSTER's do.
    :math:`F`, the law of a fresh queue, has

    .. math::
        n = 1 + \mathrm{Poisson}\!\left(\frac{m}{\bar s} - 1\right)
        \text{ orders of i.i.d. sizes as above}, \qquad
        \mathbb{E}\Big[\sum_j q_j\Big] = m,

    with :math:`m` = ``mean_queue`` and :math:`\bar s = (s_- + s_+)/2`.  At
    the open both queues are drawn from :math:`F` (orders placed before the
    file starts).  As in [1]_ a revealed level is a fresh draw, not the
    queue that was left there: the model keeps no book behind the best.

    **Queue dynamics.**  Between price moves a queue is a random walk: per
    event its expected change is

    .. math::
        \mathbb{E}[\Delta Q^k] = \tfrac12\big(\pi_A \bar s - \pi_C \bar c
        - \pi_T (1 - h)\,\bar v\big),

    where :math:`\bar c` is the mean size cancelled (a little below
    :math:`\bar s`, as orders at the front are partly executed) and
    :math:`\bar v = (v_- + v_+)/2`.  As in [1]_, the drift must be
    negative for the time between price moves to have a finite mean (at
    zero drift it is heavy-tailed and queues wander to many times
    ``mean_queue``).  The defaults make it about -5 shares per event: the
    quotes move about every 50 seconds (some 450 times a day), a queue of
    about 5,000 shares in 15-20 orders is fully replaced within a minute,
    and the median best-level size is close to ``mean_queue``.  At this
    activity queue position decides fills over seconds to a minute; fewer
    ``events`` stretch that.  A cancel is equally likely to hit any
    order, so an order's place in the queue improves both by executions at
    the front and by cancellations ahead of it, which is what the queue
    models of :func:`execlab.replay.replay` disagree about.

    **Messages.**  ``Direction`` is the side of the resting order (1 bid,
    -1 ask) for every type, as LOBSTER writes it: a sell market order
    executes bids, direction 1.  The ids of type-1 messages strictly
    increase; orders the file never shows arriving (the queues at the open
    and every revealed level) take ids counting down below the first of
    them, so that NASDAQ's rule, an id smaller than another was placed
    earlier, holds: a FIFO replay (``queue="l3_fifo"``) puts them ahead of
    any order of ours, also when our order waited behind the best and its
    price comes back.  The bid may not reach zero: a run that drives it
    there raises.  Prices start at :math:`P^b_0` = ``price`` and follow the
    queues alone: the model has no efficient price and no information.

    References
    ----------
    .. [1] Cont, R. and de Larrard, A. (2013). "Price dynamics in a Markovian
       limit order market." *SIAM Journal on Financial Mathematics* 4(1),
       1-25.
    .. [2] Huang, R. and Polak, T. (2011). "LOBSTER: Limit Order Book
       Reconstruction System." SSRN 1977207 (the file format).

    Examples
    --------
    >>> import tempfile
    >>> from execlab.replay import EventBook
    >>> res = large_tick_book(tempfile.mkdtemp(), events=5000, seed=1)
    >>> res.synthetic, res.message_file.name
    (True, 'SYNQ_2024-01-02_34200000_57600000_message_1.csv')
    >>> book = EventBook.from_lobster(res.message_file, res.orderbook_file, tick_size=0.01)
    >>> len(book) == res.stats["rows"]
    True
    >>> int((book.ask_price[:, 0] - book.bid_price[:, 0]).min())  # one tick, dollars x 10,000
    100
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"directory == {str(directory)!r} is a file, must be a directory (or a path to create).")
    if not isinstance(ticker, str) or _TICKER_RE.fullmatch(ticker) is None:
        raise ValueError(f"ticker == {ticker!r}, must be a name of letters, digits, '.' or '-' such as 'SYNQ'.")
    try:
        day = pd.Timestamp(date)
    except (TypeError, ValueError):
        day = pd.NaT
    if day is pd.NaT or day.tz is not None or day != day.normalize():
        raise ValueError(f"date == {date!r}, must be a calendar date such as '2024-01-02'.")
    n_events = int(check_scalar(events, "events", min_val=100, integer=True))
    tick = check_scalar(tick_size, "tick_size", min_val=0.0, include_min=False)
    tick_units = int(round(tick * _PRICE_SCALE))
    if tick_units < 1 or abs(tick_units - tick * _PRICE_SCALE) > 1e-6:
        raise ValueError(f"tick_size == {tick_size!r}, must be a positive multiple of 0.0001 dollars.")
    p0 = check_scalar(price, "price", min_val=0.0, max_val=_MAX_PRICE / 2, include_min=False)
    bid0 = int(round(p0 / tick))
    if abs(bid0 * tick - p0) > 1e-9 * max(1.0, p0):
        raise ValueError(f"price == {price!r}, must be on the tick grid of tick_size == {tick:g} dollars.")
    if bid0 < 100:
        raise ValueError(f"price == {price!r}, must be at least 100 ticks ({100 * tick:g} dollars) so that the "
                         "quote does not walk down to zero.")
    lot = int(check_scalar(lot_size, "lot_size", min_val=1, integer=True))
    s_lo, s_hi = _check_size_range(order_size, "order_size", lot)
    v_lo, v_hi = _check_size_range(trade_size, "trade_size", lot)
    s_bar = (s_lo + s_hi) / 2
    m_queue = check_scalar(mean_queue, "mean_queue", min_val=s_bar)
    p_trade = check_scalar(trade_fraction, "trade_fraction", min_val=0.0, max_val=1.0, include_min=False,
                           include_max=False)
    p_cancel = check_scalar(cancel_fraction, "cancel_fraction", min_val=0.0, max_val=1.0, include_max=False)
    if p_trade + p_cancel >= 1.0:
        raise ValueError(f"trade_fraction + cancel_fraction == {p_trade + p_cancel!r}, must be < 1 (the rest "
                         "are new limit orders).")
    p_partial = check_scalar(partial_cancel_fraction, "partial_cancel_fraction", min_val=0.0, max_val=1.0)
    p_hidden = check_scalar(hidden_fraction, "hidden_fraction", min_val=0.0, max_val=1.0, include_max=False)
    seed_int: int | None = None
    if seed is None or isinstance(seed, np.random.Generator):
        rng = np.random.default_rng(seed)
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seed_int = int(seed)
        rng = np.random.default_rng(seed_int)
    else:
        raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__} {seed!r}.")

    # Every draw up front, in whole arrays (the loop below only reads them).
    n = n_events
    gaps = rng.standard_exponential(n + 1)
    span_ns = (_CLOSE_S - _OPEN_S) * _NS
    t_ns = _OPEN_S * _NS + np.floor(np.cumsum(gaps)[:n] / gaps.sum() * span_ns).astype(np.int64)
    side = (rng.random(n) < 0.5).astype(np.int64)  # 0 bid, 1 ask
    u = rng.random(n)
    kind = np.where(u < p_trade, _TRADE, np.where(u < p_trade + p_cancel, _CANCEL, _ADD))
    u_pick = rng.random(n)
    u_partial = rng.random(n)
    partial = rng.random(n) < p_partial
    add_size = lot * rng.integers(s_lo // lot, s_hi // lot + 1, n)
    trade_size_drawn = lot * rng.integers(v_lo // lot, v_hi // lot + 1, n)
    hidden = rng.random(n) < p_hidden
    first_id = int(rng.integers(10_000_000, 20_000_000))

    def fresh_queues() -> tuple[list[int], list[int]]:
        # A pool of fresh queues: order counts n = 1 + Poisson(m / s_bar - 1), and their sizes.
        counts = 1 + rng.poisson(m_queue / s_bar - 1.0, _POOL)
        sizes = lot * rng.integers(s_lo // lot, s_hi // lot + 1, int(counts.sum()))
        return counts.tolist(), sizes.tolist()

    rows, moves, new_queue_total, new_queues, orders_sum = _run_book(
        kind.tolist(), side.tolist(), u_pick.tolist(), u_partial.tolist(), partial.tolist(), add_size.tolist(),
        trade_size_drawn.tolist(), hidden.tolist(), fresh_queues, bid0, first_id)
    arr = np.array(rows, dtype=np.int64).reshape(-1, 10)
    m = len(arr)

    # Prices to dollars x 10,000; the event index to its time.
    arr[:, [4, 6, 8]] *= tick_units
    hid = arr[:, 1] == 5
    directory.mkdir(parents=True, exist_ok=True)
    # A marker beside the files, so a market read from this directory says it is synthetic.
    (directory / SYNTHETIC_MARKER).write_text(
        "SYNTHETIC data written by execlab.synthetic in LOBSTER's format; not real market data.\n")
    stem = f"{ticker}_{day.date()}_{_OPEN_S * 1000}_{_CLOSE_S * 1000}"
    msg_path = directory / f"{stem}_message_1.csv"
    book_path = directory / f"{stem}_orderbook_1.csv"
    times = _time_text(t_ns[arr[:, 0]])
    rest = (",%d,%d,%d,%d,%d\n" * m) % tuple(arr[:, 1:6].ravel().tolist())
    msg_text = "".join(map(str.__add__, times, rest.splitlines(True)))
    book_text = ("%d,%d,%d,%d\n" * m) % tuple(arr[:, 6:10].ravel().tolist())
    with open(msg_path, "w", newline="") as fh:
        fh.write(msg_text)
    with open(book_path, "w", newline="") as fh:
        fh.write(book_text)

    typ = arr[:, 1]
    executed = (typ == 4) | hid
    n_adds_model = int(np.count_nonzero(kind == _ADD))
    stats = {
        "rows": m,
        "adds": int(np.count_nonzero(typ == 1)),
        "partial_cancels": int(np.count_nonzero(typ == 2)),
        "deletes": int(np.count_nonzero(typ == 3)),
        "executions": int(np.count_nonzero(typ == 4)),
        "hidden_executions": int(np.count_nonzero(hid)),
        "volume": int(arr[executed, 3].sum()),
        "price_moves": moves,
        "median_queue": float(np.median(np.concatenate([arr[:, 7], arr[:, 9]]))),
        "mean_orders": orders_sum / (2 * n),
        "mean_new_queue": new_queue_total / max(new_queues, 1),
        "close_bid": float(arr[-1, 8] / _PRICE_SCALE),
        "add_events": n_adds_model,
        "cancel_events": int(np.count_nonzero(kind == _CANCEL)),
        "trade_events": int(np.count_nonzero(kind == _TRADE)),
        "mean_order_size": float(add_size[kind == _ADD].mean()) if n_adds_model else float("nan"),
        "mean_trade_size": float(trade_size_drawn[kind == _TRADE].mean()) if (kind == _TRADE).any() else float("nan"),
    }
    params = {
        "events": n, "tick_size": tick, "price": round(bid0 * tick, 4), "mean_queue": m_queue,
        "order_size": (s_lo, s_hi), "trade_size": (v_lo, v_hi), "lot_size": lot, "trade_fraction": p_trade,
        "cancel_fraction": p_cancel, "add_fraction": round(1.0 - p_trade - p_cancel, 12),
        "partial_cancel_fraction": p_partial, "hidden_fraction": p_hidden,
    }
    return LargeTickBook(directory=directory, message_file=msg_path, orderbook_file=book_path, ticker=ticker,
                         date=str(day.date()), tick_size=tick, params=params, stats=stats, seed=seed_int)


def _run_book(kind: list, side: list, u_pick: list, u_partial: list, partial: list, add_size: list,
              trade_size: list, hidden: list, fresh_queues, bid0: int, first_id: int) -> tuple:
    """Run the two queues over the events; return the rows (flattened) and a few running totals.

    Each row is ``event, type, order_id, size, price, direction, ask, ask_size,
    bid, bid_size`` with prices in ticks.  ``fresh_queues()`` returns a pool of
    fresh-queue order counts and sizes, drawn from the generator on demand (the
    loop is deterministic, so the draws are too).
    """
    ids: list[list[int]] = [[], []]
    sizes: list[list[int]] = [[], []]
    total = [0, 0]
    best = [bid0, bid0 + 1]  # ticks
    direction = (1, -1)
    away = (-1, 1)  # where a side's best goes when its queue empties: the bid down, the ask up
    out: list[int] = []
    ext = out.extend
    next_id = first_id  # ids of the orders the file shows arriving count up from here
    old_id = first_id - 1  # and those it never shows arriving, down from here
    pool_counts: list[int] = []
    pool_sizes: list[int] = []
    pc = ps = 0
    moves = 0
    new_total = 0
    new_count = 0
    orders_sum = 0

    def draw_queue() -> list[int]:
        nonlocal pc, ps, pool_counts, pool_sizes, new_total, new_count
        if pc >= len(pool_counts):
            pool_counts, pool_sizes = fresh_queues()
            pc = ps = 0
        k = pool_counts[pc]
        q = pool_sizes[ps:ps + k]
        pc += 1
        ps += k
        new_total += sum(q)
        new_count += 1
        return q

    def unseen(k: int) -> None:
        # A fresh queue of orders placed before the file starts (never seen arriving): their ids
        # count down below every id the file adds, so a FIFO replay puts them ahead of ours.
        nonlocal old_id
        q = draw_queue()
        ids[k] = list(range(old_id, old_id - len(q), -1))
        old_id -= len(q)
        sizes[k] = q
        total[k] = sum(q)

    def reveal(k: int) -> None:
        # Side k's queue is empty: the level behind it becomes the best.
        nonlocal moves
        best[k] += away[k]
        if best[_BID] < 1:
            raise ValueError("the bid was driven down to zero ticks; start at a higher price (or fewer events).")
        unseen(k)
        moves += 1

    unseen(_BID)  # the open: both queues rest from before the file starts
    unseen(_ASK)

    for i in range(len(kind)):
        k = side[i]
        d = direction[k]
        qi, qs = ids[k], sizes[k]
        orders_sum += len(ids[0]) + len(ids[1])
        c = kind[i]
        moved = False
        if c == _ADD:
            s = add_size[i]
            qi.append(next_id)
            qs.append(s)
            total[k] += s
            ext((i, 1, next_id, s, best[k], d, best[1], total[1], best[0], total[0]))
            next_id += 1
            continue
        if c == _CANCEL:
            j = int(u_pick[i] * len(qi))
            p = best[k]
            o, s = qi[j], qs[j]
            if partial[i] and s > 1:
                x = 1 + int(u_partial[i] * (s - 1))  # 1 .. s - 1 shares
                qs[j] = s - x
                total[k] -= x
                ext((i, 2, o, x, p, d, best[1], total[1], best[0], total[0]))
                continue
            del qi[j]
            del qs[j]
            total[k] -= s
            if total[k] == 0:
                reveal(k)
                moved = True
            ext((i, 3, o, s, p, d, best[1], total[1], best[0], total[0]))
        else:
            v = trade_size[i]
            p = best[k]
            if hidden[i]:  # hidden liquidity at the touch: executed, not displayed
                ext((i, 5, 0, v, p, d, best[1], total[1], best[0], total[0]))
                continue
            while v > 0:  # the market order takes the queue from the front
                qi, qs = ids[k], sizes[k]
                p = best[k]
                o, s = qi[0], qs[0]
                x = v if v < s else s
                v -= x
                total[k] -= x
                if x == s:
                    del qi[0]
                    del qs[0]
                else:
                    qs[0] = s - x
                if total[k] == 0:
                    reveal(k)  # and the rest of the market order meets the revealed level
                    moved = True
                ext((i, 4, o, x, p, d, best[1], total[1], best[0], total[0]))
        if moved:
            # The other side re-quotes one tick away: new orders, at the same time.
            o_k = 1 - k
            od = direction[o_k]
            best[o_k] = best[k] - away[k]
            q = draw_queue()
            ids[o_k] = []
            sizes[o_k] = []
            total[o_k] = 0
            for s in q:
                ids[o_k].append(next_id)
                sizes[o_k].append(s)
                total[o_k] += s
                ext((i, 1, next_id, s, best[o_k], od, best[1], total[1], best[0], total[0]))
                next_id += 1
    return out, moves, new_total, new_count, orders_sum
