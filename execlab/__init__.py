"""execlab: trade-execution research in Jupyter.

Schedules (how to slice an order), impact (what it will cost), simulation
(filling against real bars) and shortfall analytics (what it did cost), on
real NASDAQ data.  Code lives in the submodules; this module re-exports the
public names.

Defaults agree on one time grid: ``load_bars()`` and ``load_market()`` give
one-minute bars, ``volume_profile(bars)`` one bin per bar of ``bars``, and a
VWAP schedule on a profile indexed by bin start keeps that bin length
(``Schedule.bin_duration``), so it is released bin by bin at the right time
of day on any finer bars.  Child orders resting in the real book, with
queue position and latency, are replayed event by event in
:mod:`execlab.replay`, which also checks its queue models against what
happened to the real orders of the file.  Figures (``execlab.plots``) carry titles and
labels with units and return their Axes.
"""

from . import data, schedules
from ._calendar import SESSION_CLOSE, SESSION_LENGTH, SESSION_OPEN, TIMEZONE, SessionCalendar
from ._market import Market, load_market
from ._market_build import market_from_bars
from ._market_lobster import market_from_lobster
from ._forecast import Forecast, forecast_market
from .data import (
    daily_stats,
    load_bars,
    load_quotes,
    load_trades,
    make_bars,
    profile_forecast,
    read_lobster,
    volume_profile,
)
from .schedules import (
    Schedule,
    almgren_chriss,
    almgren_chriss_trajectory,
    market,
    pov,
    twap,
    vwap,
)

# --- impact ---
from . import impact, synthetic
from .impact import (
    AlmgrenChrissImpact,
    ImpactFit,
    LinearImpact,
    OFIFit,
    PowerLawImpact,
    SquareRootImpact,
    TradeFlowFit,
    fit_impact,
    fit_ofi,
    fit_trade_flow,
    order_flow_imbalance,
    trade_flow_impact,
)
# --- simulate / shortfall / plots ---
from ._simulate import SimulationResult, simulate
from ._shortfall import shortfall, summarize
from .plots import plot_cost_distribution, plot_execution_trajectory, plot_shortfall_waterfall
# --- engine ---
from . import engine
from .engine import (
    DEFAULT_IMPACT,
    ExecutionReport,
    Executor,
    IllegalTransition,
    Ledger,
    OrderBook,
    RiskLimits,
    RiskManager,
    UrgencyPolicy,
    normalize_decisions,
    regime_urgency,
    size_orders,
)
from .plots import plot_execution_report, plot_portfolio
# --- event-level replay on the real book (execlab.replay) ---
from . import replay
# --- post-trade TCA on the user's own executions ---
from ._tca import FILL_SCHEMA, ORDER_SCHEMA, TCAResult, check_executions, read_executions, tca

__version__ = "0.1.0"

__all__ = [
    "data",
    "schedules",
    "SessionCalendar",
    "TIMEZONE",
    "SESSION_OPEN",
    "SESSION_CLOSE",
    "SESSION_LENGTH",
    "Market",
    "load_market",
    "market_from_bars",
    "market_from_lobster",
    "Forecast",
    "forecast_market",
    "read_lobster",
    "load_trades",
    "load_quotes",
    "load_bars",
    "make_bars",
    "daily_stats",
    "volume_profile",
    "profile_forecast",
    "Schedule",
    "market",
    "twap",
    "vwap",
    "pov",
    "almgren_chriss",
    "almgren_chriss_trajectory",
    # --- impact names ---
    "impact",
    "synthetic",
    "replay",
    "PowerLawImpact",
    "SquareRootImpact",
    "LinearImpact",
    "AlmgrenChrissImpact",
    "ImpactFit",
    "fit_impact",
    "trade_flow_impact",
    "fit_trade_flow",
    "TradeFlowFit",
    "order_flow_imbalance",
    "fit_ofi",
    "OFIFit",
    # --- simulate / shortfall names ---
    "simulate",
    "SimulationResult",
    "shortfall",
    "summarize",
    "plot_shortfall_waterfall",
    "plot_cost_distribution",
    "plot_execution_trajectory",
    # --- engine names ---
    "engine",
    "Executor",
    "ExecutionReport",
    "UrgencyPolicy",
    "OrderBook",
    "IllegalTransition",
    "RiskLimits",
    "RiskManager",
    "Ledger",
    "normalize_decisions",
    "regime_urgency",
    "size_orders",
    "DEFAULT_IMPACT",
    "plot_execution_report",
    "plot_portfolio",
    "tca",
    "TCAResult",
    "read_executions",
    "check_executions",
    "ORDER_SCHEMA",
    "FILL_SCHEMA",
]
