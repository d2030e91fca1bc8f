"""Post-trade TCA of the user's own orders and fills.

:func:`tca` takes a desk's orders and fills (DataFrames, or CSV/parquet via
:func:`read_executions`, or a Dask DataFrame of fills partitioned by
session), rejects bad rows with reasons, and gives every standard benchmark
per order and per fill (arrival, interval and full VWAP, TWAP, close, PWP,
RPM, markouts, price improvement, spread capture), group summaries with
bootstrap intervals, cost curves and impact fits on the desk's own
metaorders (:class:`TCAResult`).
"""

from ._result import CostCurve, TCAResult
from ._schema import FILL_SCHEMA, ORDER_SCHEMA, REASONS, check_executions, read_executions
from ._tca import tca
from ._desk import SyntheticDesk, synthetic_desk
from ._plots import plot_cost_by, plot_cost_curve, plot_markouts

__all__ = [
    "tca",
    "TCAResult",
    "CostCurve",
    "read_executions",
    "check_executions",
    "ORDER_SCHEMA",
    "FILL_SCHEMA",
    "REASONS",
    "synthetic_desk",
    "SyntheticDesk",
    "plot_cost_curve",
    "plot_markouts",
    "plot_cost_by",
]
