"""Real market data: the LOBSTER reader, trades, quotes, bars and volume profiles.

The sample is LOBSTER's NASDAQ book for AAPL, AMZN and GOOG on 2012-06-21
(see ``data/README.md``).  Its files are not part of the repository:
:func:`find_data_dir` looks for them (``data_dir=``, then ``$EXECLAB_DATA``,
then ``data/lobster`` in the checkout, then ``../shared/data/lobster`` next to
it) and says where to get them when they are missing.  :func:`read_lobster`
parses any LOBSTER message/orderbook pair and :func:`scan_lobster` pairs up
the files of many ticker-days, so users load their own files with the same
code.

Conventions
-----------
* ``time`` is timezone-aware, America/New_York.
* Prices are in dollars (LOBSTER stores dollars x 10,000).
* A trade's ``sign`` is +1 when buyer-initiated and -1 when seller-initiated:
  the execution of a *sell* limit order (LOBSTER direction -1) is a buy trade.

``DATA_DIR`` is the directory the default search finds, looked up on each
access (``None`` when the files are nowhere to be found).

Examples
--------
>>> from execlab import data
>>> data.DATA_DIR == data.find_data_dir()
True
"""

from __future__ import annotations

from pathlib import Path

from .._calendar import SESSION_CLOSE, SESSION_OPEN, TIMEZONE
from ._bars import _check_bars, _parse_freq, _session_bins, _show_span, load_bars, make_bars
from ._files import BUNDLED_DATE, ENV_VAR, TICKERS, bundled_files, find_data_dir, scan_lobster
from ._lobster import LobsterDay, load_quotes, load_trades, read_lobster
from ._profiles import ProfileForecast, daily_stats, profile_forecast, volume_profile

__all__ = [
    "LobsterDay",
    "read_lobster",
    "scan_lobster",
    "find_data_dir",
    "bundled_files",
    "load_trades",
    "load_quotes",
    "load_bars",
    "make_bars",
    "volume_profile",
    "daily_stats",
    "profile_forecast",
    "ProfileForecast",
    "TICKERS",
    "BUNDLED_DATE",
    "ENV_VAR",
    "DATA_DIR",
    "TIMEZONE",
    "SESSION_OPEN",
    "SESSION_CLOSE",
]

# Imported by other execlab modules.
_PRIVATE = (_check_bars, _parse_freq, _session_bins, _show_span)


def __getattr__(name: str) -> Path | None:
    # DATA_DIR follows the search (and $EXECLAB_DATA) at the time it is read, not at import.
    if name == "DATA_DIR":
        try:
            return find_data_dir()
        except FileNotFoundError:
            return None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"DATA_DIR"})
