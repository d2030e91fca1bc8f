"""execlab: trade-execution research in Jupyter.

Schedules (how to slice an order), impact (what it will cost), simulation
(filling against real bars) and shortfall analytics (what it did cost), on
real NASDAQ data.  Code lives in the submodules; this module re-exports the
public names.
"""

from . import data, schedules
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

# --- impact (issue 3) ---
# --- simulate / shortfall / plots (issue 4) ---
# --- engine (issue 5) ---

__version__ = "0.1.0"

__all__ = [
    "data",
    "schedules",
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
    # --- simulate / shortfall names ---
    # --- engine names ---
]
