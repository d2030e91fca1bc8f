"""Queue models checked against what really happened to the real orders of a LOBSTER file.

Two checks:

- :func:`validate_queue_models`: each real type-1 limit order is replayed as
  if it were ours, over the part of its life the file can see (cut at the
  first event where its price is no longer within the N visible levels),
  and the model's first fill is compared with the order's own first
  execution (type 4) in the file.
- :func:`touch_orders_check`: synthetic orders placed at the touch at fixed
  times, each level-1 model scored against the exact FIFO answer at several
  horizons, with a Brier score and a reliability table for a probabilistic
  fill forecast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._calendar import TIMEZONE
from . import _kernel as k
from ._book import EventBook
from ._replay import QUEUE_MODELS, _model_args, _run

__all__ = ["QueueValidation", "validate_queue_models", "TouchCheck", "touch_orders_check"]


def _first_execution_rows(book: EventBook) -> tuple[np.ndarray, np.ndarray]:
    """Sorted order ids with a visible execution, and the row of each id's first one."""
    rows = np.flatnonzero(book.type == 4)
    ids = book.order_id[rows]
    uid, first = np.unique(ids, return_index=True)  # first occurrence: rows are in time order
    return uid, rows[first]


def _lookup(uid: np.ndarray, val: np.ndarray, ids: np.ndarray, missing: int = -1) -> np.ndarray:
    pos = np.searchsorted(uid, ids)
    pos_c = np.minimum(pos, max(len(uid) - 1, 0))
    hit = (pos < len(uid)) & (uid[pos_c] == ids) if len(uid) else np.zeros(len(ids), bool)
    return np.where(hit, val[pos_c] if len(uid) else missing, missing)


@dataclass
class QueueValidation:
    """Real orders replayed under each queue model, against their real first fills.

    Attributes
    ----------
    orders : pandas.DataFrame
        One row per (model, real order): ``model, order_id, row, side, price,
        shares, end_row, censored, price_traded, actual_first_fill_row,
        predicted_first_fill_row, actual_filled, predicted_filled``.
    table : pandas.DataFrame
        Per model: ``orders, censored, actual_fill_rate,
        predicted_fill_rate, accuracy, accuracy_price_traded,
        same_event_rate, disagreements``.
    book : str
    """

    orders: pd.DataFrame
    table: pd.DataFrame
    book: str
    _book_arrays: dict = field(default_factory=dict, repr=False)

    def disagreements(self, model: str = "l3_fifo") -> pd.DataFrame:
        """The orders on which ``model``'s first fill differs from the real one, with the event that caused it.

        Beside each order: the event at the predicted first fill (``trigger_type``,
        ``trigger_order_id``, ``trigger_arrival_row``: -1 when the file never
        shows that order arriving) and ``kind``: ``"later order executed first"``
        when the trigger is the execution of an order that arrived after ours
        at our price (time priority not kept in the file: a reserve order's
        refresh, say), ``"trade through"`` when it traded at a worse price,
        ``"filled too late"``/``"missed"`` when the model filled after the real
        fill or not at all.
        """
        if model not in set(self.orders["model"]):
            raise ValueError(f"model {model!r} was not validated; choose from {sorted(set(self.orders['model']))}.")
        o = self.orders[self.orders["model"] == model]
        differ = (o["actual_filled"] != o["predicted_filled"]) | (
            o["actual_filled"] & (o["actual_first_fill_row"] != o["predicted_first_fill_row"]))
        d = o[differ].copy()
        r = d["predicted_first_fill_row"].to_numpy()
        ok = r >= 0
        rr = np.maximum(r, 0)
        d["trigger_type"] = np.where(ok, self._book_arrays["type"][rr], -1)
        d["trigger_order_id"] = np.where(ok, self._book_arrays["order_id"][rr], -1)
        d["trigger_arrival_row"] = np.where(ok, self._book_arrays["arrival_row"][rr], -1)
        trigger_price = np.where(ok, self._book_arrays["price"][rr], 0) / 10_000
        later = ok & (d["trigger_type"].to_numpy() == 4) & (d["trigger_arrival_row"].to_numpy() > d["row"].to_numpy()) & (
            trigger_price == d["price"].to_numpy())
        through = ok & (trigger_price != d["price"].to_numpy())
        late = ~ok & d["actual_filled"].to_numpy()
        kind = np.where(later, "later order executed first", np.where(through, "trade through", np.where(
            late, "missed", np.where(ok & (r > d["actual_first_fill_row"].to_numpy()) & d["actual_filled"].to_numpy(),
                                     "filled too late", "other"))))
        d["kind"] = kind
        return d

    def summary(self) -> str:
        """The per-model table as text."""
        return f"Queue models against real orders: {self.book}\n" + self.table.to_string(float_format=lambda x: f"{x:.3f}")


def validate_queue_models(book: EventBook, models: tuple = QUEUE_MODELS, *, probability: tuple = ("power", 3.0),
                          sides: tuple = (1, -1)) -> QueueValidation:
    """Replay every real type-1 limit order of ``book`` as ours and score each model's first fill.

    Each order enters where it really did (its own row), with the queue
    ahead read from the book just before it, and is followed until its real
    life ends (deleted, or fully executed), the file ends, or its price
    leaves the N visible levels (``censored``: the window is cut there).
    Within that window the model predicts a first fill (or none); the truth
    is the order's own first type-4 execution in the window.

    Parameters
    ----------
    book : EventBook
    models : tuple of str
        Queue models to score (default all four).
    probability : tuple
        For the probabilistic model, as :func:`replay`.
    sides : tuple
        Which sides' orders to use (+1 buy, -1 sell).

    Returns
    -------
    QueueValidation
        Per order and per model; ``table`` has, per model: the predicted
        and actual fill rates, the accuracy (fill or no fill) over all
        orders and over those whose price traded in the window, the
        same-event rate (among orders really filled, the share whose
        predicted first fill is the same event) and the censored fraction.

    Notes
    -----
    An order's own executions and cancels are events of the file: the
    models see the trades that hit it as trades at its price (and
    ``l3_fifo`` as the execution of an order not ahead), so a model that
    keeps too long a queue ahead predicts the fill too late, one that
    keeps too short a queue too early.
    """
    if not isinstance(book, EventBook):
        raise TypeError(f"book must be an EventBook, got {type(book).__name__}.")
    rows = np.flatnonzero((book.type == 1) & np.isin(book.direction, np.asarray(sides)))
    rows = rows[rows > 0]  # the file shows no book before its first event, so no queue for an order there
    if len(rows) == 0:
        raise ValueError(f"{book!r} has no type-1 limit order on sides {sides}.")
    m = len(rows)
    o = {"order_id": book.order_id[rows], "side": book.direction[rows], "shares": book.size[rows],
         "kind": np.full(m, k.LIMIT_PRICE, dtype=np.int64), "price": book.price[rows],
         "offset": np.zeros(m, dtype=np.int64), "peg": np.zeros(m, dtype=bool), "submit": book.time[rows],
         "cancel": np.full(m, k.NEVER, dtype=np.int64)}
    zero = np.zeros(m, dtype=np.int64)
    lat = {"feed": zero, "entry": zero, "response": zero, "cancel": zero}
    uid, first_exec = _first_execution_rows(book)
    actual_first = _lookup(uid, first_exec, book.order_id[rows])
    frames, table = [], []
    for name in models:
        model, function, power = _model_args(name, probability)
        ints, floats, oi, of, _ = _run(book, o, lat, model, function, power, self_id=book.order_id[rows],
                                       self_row=rows, stop_invisible=True, first_fill_only=True, share=False)
        end_row = oi[:, 4]
        censored = oi[:, 0] == k.S_CENSORED
        predicted = oi[:, 6]
        actual_in = (actual_first >= 0) & (actual_first <= end_row)
        predicted_in = (predicted >= 0) & (predicted <= end_row)
        traded = oi[:, 8] > 0
        frame = pd.DataFrame({"model": name, "order_id": book.order_id[rows], "row": rows,
                              "side": np.where(o["side"] > 0, "BUY", "SELL"), "price": o["price"] / 10_000,
                              "shares": o["shares"], "end_row": end_row, "censored": censored,
                              "price_traded": traded, "actual_first_fill_row": np.where(actual_in, actual_first, -1),
                              "predicted_first_fill_row": np.where(predicted_in, predicted, -1),
                              "actual_filled": actual_in, "predicted_filled": predicted_in})
        frames.append(frame)
        agree = actual_in == predicted_in
        same = actual_in & predicted_in & (actual_first == predicted)
        table.append({"model": name, "orders": m, "censored": censored.mean(),
                      "actual_fill_rate": actual_in.mean(), "predicted_fill_rate": predicted_in.mean(),
                      "accuracy": agree.mean(),
                      "accuracy_price_traded": agree[traded].mean() if traded.any() else np.nan,
                      "same_event_rate": same.sum() / actual_in.sum() if actual_in.any() else np.nan,
                      "disagreements": int((~agree | (actual_in & ~same)).sum())})
    return QueueValidation(orders=pd.concat(frames, ignore_index=True),
                           table=pd.DataFrame(table).set_index("model"), book=repr(book),
                           _book_arrays={"type": book.type, "order_id": book.order_id, "price": book.price,
                                         "arrival_row": book.arrival_row})


@dataclass
class TouchCheck:
    """Synthetic orders at the touch, level-1 models against the exact FIFO answer.

    Attributes
    ----------
    table : pandas.DataFrame
        Per model and horizon: ``fill_rate`` (model), ``fifo_fill_rate``
        (truth), ``accuracy``.
    brier : pandas.DataFrame
        Per horizon, the Brier score of the drawn probabilistic model's fill
        probability (share of its paths that filled) against the FIFO truth,
        beside the Brier score of a constant forecast (the base rate).
    reliability : pandas.DataFrame
        Per horizon and probability bin: mean forecast, observed FIFO fill
        rate and the number of orders.
    orders : pandas.DataFrame
        One row per synthetic order: time, side, and per model and horizon
        whether it filled.
    """

    table: pd.DataFrame
    brier: pd.DataFrame
    reliability: pd.DataFrame
    orders: pd.DataFrame
    book: str

    def summary(self) -> str:
        fmt = lambda x: f"{x:.3f}"  # noqa: E731
        return (f"Orders at the touch against exact FIFO: {self.book}\n" + self.table.to_string(float_format=fmt)
                + "\n\nBrier score of the probabilistic fill forecast\n" + self.brier.to_string(float_format=fmt))


def touch_orders_check(book: EventBook, *, every: str = "30s", shares: int = 100,
                       horizons: tuple = ("1s", "10s", "60s"), models: tuple = ("touch", "risk_averse", "probabilistic"),
                       probability: tuple = ("power", 3.0), paths: int = 50, bins: int = 10,
                       rng: np.random.Generator | None = None) -> TouchCheck:
    """Place synthetic orders at the touch and score level-1 models against exact FIFO at each horizon.

    At every ``every`` from the first to the last event, a buy joins the
    best bid and a sell the best ask (``shares`` each, no latency).  Truth
    is ``l3_fifo`` on the same book; each of ``models`` predicts fill /
    no fill by each horizon.  The probabilistic model is also run with
    each cancel drawn ahead of us with its probability, ``paths`` times,
    so that the share of paths filled by a horizon is a fill probability;
    its Brier score and reliability table compare it with the FIFO truth.

    Parameters
    ----------
    book : EventBook
    every : str, default "30s"
        Spacing of the synthetic orders.
    shares : int, default 100
    horizons : tuple of str
        Time spans after entry at which fill / no fill is scored.
    models : tuple of str
        Models scored against ``l3_fifo``.
    probability : tuple
        As :func:`replay`.
    paths : int, default 50
        Draws of the probabilistic model for the fill probability.
    bins : int, default 10
        Probability bins of the reliability table.
    rng : numpy.random.Generator
        Required: the draws of the probabilistic paths.

    Returns
    -------
    TouchCheck
    """
    if not isinstance(book, EventBook):
        raise TypeError(f"book must be an EventBook, got {type(book).__name__}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed)); the probabilistic "
                        "paths are drawn with it.")
    if isinstance(paths, bool) or not isinstance(paths, (int, np.integer)) or paths < 1:
        raise ValueError(f"paths must be a whole number >= 1, got {paths!r}.")
    step = pd.Timedelta(every).value
    if step <= 0:
        raise ValueError(f"every must be a positive time span, got {every!r}.")
    times = np.arange(book.time[0], book.time[-1], step, dtype=np.int64)
    m = 2 * len(times)
    if len(times) == 0:
        raise ValueError(f"no synthetic order fits: the book spans less than every={every!r}.")
    o = {"order_id": np.arange(m), "side": np.tile([1, -1], len(times)).astype(np.int64),
         "shares": np.full(m, shares, dtype=np.int64), "kind": np.full(m, k.LIMIT_TOUCH, dtype=np.int64),
         "price": np.zeros(m, dtype=np.int64), "offset": np.zeros(m, dtype=np.int64),
         "peg": np.zeros(m, dtype=bool), "submit": np.repeat(times, 2), "cancel": np.full(m, k.NEVER, dtype=np.int64)}
    zero = np.zeros(m, dtype=np.int64)
    lat = {"feed": zero, "entry": zero, "response": zero, "cancel": zero}
    h_ns = np.array([pd.Timedelta(h).value for h in horizons], dtype=np.int64)
    if len(h_ns) == 0 or (h_ns <= 0).any():
        raise ValueError(f"horizons must be positive time spans, got {horizons!r}.")
    o["cancel"] = o["submit"] + h_ns.max()  # nothing after the longest horizon is scored

    def filled_by(model: str, uniforms: np.ndarray | None = None, drawn: bool = False) -> np.ndarray:
        code, function, power = _model_args(model, probability)
        if drawn:
            code = k.PROBABILISTIC_DRAWN
        ints, _, oi, _, arrival = _run(book, o, lat, code, function, power, uniforms=uniforms,
                                       first_fill_only=True, share=False)
        first = oi[:, 6]
        t_first = np.where(first >= 0, book.time[np.maximum(first, 0)], k.NEVER)
        return (t_first[:, None] - arrival[:, None]) <= h_ns[None, :]  # (orders, horizons)

    truth = filled_by("l3_fifo")
    frame = pd.DataFrame({"time": pd.DatetimeIndex(o["submit"].view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE),
                          "side": np.where(o["side"] > 0, "BUY", "SELL")})
    for j, h in enumerate(horizons):
        frame[f"fifo_{h}"] = truth[:, j]
    rows = []
    for name in models:
        pred = filled_by(name)
        for j, h in enumerate(horizons):
            frame[f"{name}_{h}"] = pred[:, j]
            rows.append({"model": name, "horizon": h, "fill_rate": pred[:, j].mean(),
                         "fifo_fill_rate": truth[:, j].mean(), "accuracy": (pred[:, j] == truth[:, j]).mean()})
    table = pd.DataFrame(rows).set_index(["model", "horizon"])
    prob = np.zeros((m, len(horizons)))
    for _ in range(paths):
        prob += filled_by("probabilistic", uniforms=rng.random(len(book)), drawn=True)
    prob /= paths
    brier, rel = [], []
    edges = np.linspace(0, 1, bins + 1)
    for j, h in enumerate(horizons):
        y = truth[:, j].astype(float)
        brier.append({"horizon": h, "brier": np.mean((prob[:, j] - y) ** 2),
                      "brier_base_rate": np.mean((y.mean() - y) ** 2), "orders": m})
        b = np.clip(np.digitize(prob[:, j], edges[1:-1]), 0, bins - 1)
        for i in range(bins):
            sel = b == i
            if sel.any():
                rel.append({"horizon": h, "bin": f"{edges[i]:.1f}-{edges[i + 1]:.1f}",
                            "forecast": prob[sel, j].mean(), "observed": y[sel].mean(), "orders": int(sel.sum())})
        frame[f"probability_{h}"] = prob[:, j]
    return TouchCheck(table=table, brier=pd.DataFrame(brier).set_index("horizon"), reliability=pd.DataFrame(rel),
                      orders=frame, book=repr(book))
