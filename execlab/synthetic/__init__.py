r"""Synthetic data with known parameters, for tests and parameter-recovery checks.

Never a substitute for the real data in notebooks: these generators exist so
that an estimator can be checked against the truth it should find.

:func:`metaorders` (parent orders whose costs follow a known impact model)
lives in ``_metaorders.py``; :func:`lobster_market` (a multi-session market
written as LOBSTER level-1 files) in ``_lobster.py``, with its per-event
book in ``_lobster_book.py`` and its result, :class:`SyntheticMarket`, in
``_synthetic_market.py``.
"""

from ._large_tick import LargeTickBook, large_tick_book
from ._lobster import lobster_market
from ._metaorders import metaorders
from ._synthetic_market import SyntheticMarket
from .._tca._desk import SyntheticDesk, synthetic_desk  # a SYNTHETIC desk's executions, for TCA recovery checks

__all__ = ["metaorders", "lobster_market", "SyntheticMarket", "large_tick_book", "LargeTickBook", "synthetic_desk",
           "SyntheticDesk"]
