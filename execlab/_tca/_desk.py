r"""A SYNTHETIC desk's executions with known differences between brokers and algorithms, for recovery checks.

The fills come from :func:`execlab.simulate` over a (synthetic) market, so
they carry spread, square-root impact and participation caps; the brokers
then differ in ways TCA should find:

* every broker's orders are assigned at random (so a difference is the
  broker's, not the orders'),
* broker ``"A"`` adds ``markup_bps`` to every fill price (a worse fill by a
  known amount),
* broker ``"B"`` routes with a higher participation cap (faster, more impact),
* broker ``"C"`` charges ``fee_c`` $ per share instead of ``fee`` (a known fee),
* the algorithm (TWAP or VWAP on the trailing profile) is drawn at random too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._market import Market

__all__ = ["SyntheticDesk", "synthetic_desk"]


@dataclass
class SyntheticDesk:
    """Orders, fills and the differences built into them (``truth``)."""

    orders: pd.DataFrame
    fills: pd.DataFrame
    truth: pd.DataFrame
    settings: pd.DataFrame


def synthetic_desk(market: Market, *, orders_per_session: int = 20, first_session: int = 20, window: int = 20,
                   horizon_bins: int = 12, markup_bps: float = 2.0, cap: float = 0.10, cap_b: float = 0.25,
                   fee: float = 0.001, fee_c: float = 0.003, impact_y: float = 0.5,
                   seed: int | np.random.Generator | None = None) -> SyntheticDesk:
    r"""A desk's SYNTHETIC orders and fills over ``market``'s sessions, with known broker and algorithm differences.

    Parameters
    ----------
    market : Market
        Bars with a spread (e.g. :meth:`Market.from_lobster` of
        :func:`execlab.synthetic.lobster_market` files).
    orders_per_session : int
        Parent orders per session (tickers and sides at random).
    first_session : int
        First session traded (0-based); earlier sessions are the forecast's history.
    window : int
        Sessions behind the forecast (ADV, profile, volatility).
    horizon_bins : int
        Bars each order is scheduled over (TWAP slices or the trailing profile's bars).
    markup_bps, cap, cap_b, fee, fee_c, impact_y
        Broker A's markup (bps of price, on every fill); the participation
        cap of brokers A and C, and of B; fees ($/share) of A and B, and of
        C; the simulator's square-root impact coefficient.
    seed : int or Generator
        Source of all randomness.

    Returns
    -------
    SyntheticDesk
        ``orders`` (``order_id, ticker, side, quantity, decision_time,
        arrival_time, algorithm, broker, urgency``), ``fills`` (``fill_id,
        order_id, ticker, time, shares, price, fee, venue, liquidity``) and
        ``truth``: the average effect over all orders of broker A and B
        against C and of VWAP against TWAP on :data:`TRUTH_METRICS`, from
        counterfactual executions of every order in every (broker,
        algorithm) world; ``settings``: the parameters built in.

    Examples
    --------
    >>> import execlab as ex, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = ex.synthetic.lobster_market(d, tickers=("SYNA",), sessions=4, seed=1, events_per_session=400)
    ...     mkt = ex.Market.from_lobster(d, "5min")
    >>> desk = synthetic_desk(mkt, orders_per_session=6, first_session=2, window=2, seed=0)
    >>> sorted(desk.orders["broker"].unique()), float(desk.settings.loc["A", "markup_bps"])
    (['A', 'B', 'C'], 2.0)
    """
    from .. import impact as _impact
    from ..schedules import twap, vwap
    from .._simulate import simulate

    rng = np.random.default_rng(seed)
    fc = market.forecast(window=window)
    D, K = market.n_sessions, len(market.tickers)
    days = np.arange(first_session, D)
    n = len(days) * orders_per_session
    day = np.repeat(days, orders_per_session)
    k = rng.integers(0, K, n)
    ok = fc.available[k, day]
    day, k = day[ok], k[ok]
    n = len(day)
    side = np.where(rng.random(n) < 0.5, "BUY", "SELL")
    pct_adv = np.exp(rng.uniform(np.log(0.1), np.log(5.0), n)) / 100  # 0.1 % to 5 % of ADV, log-uniform
    qty = np.maximum(np.round(pct_adv * fc.adv[k, day], -2), 100).astype(np.int64)
    B = market.n_bins
    last_start = max(1, B - horizon_bins - 1)
    start_bar = rng.integers(1, last_start, n)
    bar = market.day_first[day] + start_bar
    arrival = market.start_ns[bar] + rng.integers(0, market.freq.value, n)
    decision = arrival - rng.integers(0, 300, n) * 1_000_000_000  # up to 5 minutes of delay
    broker = rng.choice(np.array(["A", "B", "C"]), n)
    algorithm = rng.choice(np.array(["TWAP", "VWAP"]), n)
    urgency = np.where(pct_adv > 0.02, "high", "normal")
    tz = market.tz
    orders = pd.DataFrame({
        "order_id": np.arange(1, n + 1),
        "ticker": np.array(market.tickers, dtype=object)[k],
        "side": side,
        "quantity": qty,
        "decision_time": pd.DatetimeIndex(decision.view("M8[ns]")).tz_localize("UTC").tz_convert(tz),
        "arrival_time": pd.DatetimeIndex(arrival.view("M8[ns]")).tz_localize("UTC").tz_convert(tz),
        "algorithm": algorithm,
        "broker": broker,
        "urgency": urgency,
    })
    # trailing profile over each order's bars (the first bar is the arrival bar)
    cols = start_bar[:, None] + np.arange(horizon_bins)[None, :]
    prof = fc.profile[k[:, None], day[:, None], np.minimum(cols, B - 1)]
    prof = np.where(cols < B, prof, 0.0) + 1e-12
    impact = _impact.SquareRootImpact(impact_y)
    setting = {"A": (cap, fee, markup_bps), "B": (cap_b, fee, 0.0), "C": (cap, fee_c, 0.0)}
    q = orders["quantity"].to_numpy()
    sgn = np.where(side == "BUY", 1.0, -1.0)
    # One world per (broker, algorithm): every order executed with those settings.  The desk's fills of
    # order i are those of its own world; the other worlds are its counterfactuals, so the effects
    # built in are known exactly (``truth``).
    worlds: dict[tuple[str, str], pd.DataFrame] = {}
    for brk, (c, fps, mk) in setting.items():
        for algo in ("TWAP", "VWAP"):
            sched = twap(q, horizon_bins) if algo == "TWAP" else vwap(q, prof)
            f = simulate(orders, sched, market, impact, forecast=fc, max_participation=c, fee_per_share=fps).fills
            row = f["order_id"].to_numpy() - 1
            worlds[(brk, algo)] = f.assign(price=f["price"] * (1 + sgn[row] * mk / 1e4)).drop(columns=["child"])
    own = [w[(broker[w["order_id"].to_numpy() - 1] == b) & (algorithm[w["order_id"].to_numpy() - 1] == a)]
           for (b, a), w in worlds.items()]
    fills = pd.concat(own, ignore_index=True).sort_values(["time", "order_id"], kind="stable").reset_index(drop=True)
    fills.insert(0, "fill_id", [f"E{i:07d}" for i in range(len(fills))])
    fills["ticker"] = orders["ticker"].to_numpy()[fills["order_id"].to_numpy() - 1]
    fills["venue"] = rng.choice(np.array(["XNAS", "ARCX", "DARK"]), len(fills))
    fills["liquidity"] = "removed"
    truth = _truth(orders, worlds, market, broker, algorithm)
    settings = pd.DataFrame({"markup_bps": [markup_bps, 0.0, 0.0], "max_participation": [cap, cap_b, cap],
                             "fee_per_share": [fee, fee, fee_c]}, index=pd.Index(["A", "B", "C"], name="broker"))
    return SyntheticDesk(orders, fills, truth, settings)


TRUTH_METRICS = ("vs_mid_bps", "slippage_arrival_bps", "is_bps", "participation", "max_bar_participation",
                 "fees_per_share", "slippage_vwap_bps")


def _truth(orders: pd.DataFrame, worlds: dict, market: Market, broker: np.ndarray, algorithm: np.ndarray) -> pd.DataFrame:
    """Average effects over all orders, from the counterfactual worlds: broker vs C, VWAP vs TWAP."""
    from ._tca import tca

    tab = {key: tca(orders, w, market).orders[list(TRUTH_METRICS)].to_numpy(np.float64) for key, w in worlds.items()}
    pick = {}
    for b in ("A", "B", "C"):
        pick[b] = np.where((algorithm == "TWAP")[:, None], tab[(b, "TWAP")], tab[(b, "VWAP")])
    rows = {}
    for b in ("A", "B"):
        rows[("broker", f"{b} - C")] = np.nanmean(pick[b] - pick["C"], axis=0)
    own = {a: np.select([(broker == b)[:, None] for b in ("A", "B", "C")],
                        [tab[(b, a)] for b in ("A", "B", "C")]) for a in ("TWAP", "VWAP")}
    rows[("algorithm", "VWAP - TWAP")] = np.nanmean(own["VWAP"] - own["TWAP"], axis=0)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(TRUTH_METRICS))
    out.index = pd.MultiIndex.from_tuples(out.index, names=["tag", "comparison"])
    return out
