r"""Market impact: pre-trade models, calibration on executions, and order-flow impact.

Three layers, following the life of a trade:

* **Models** (:class:`PowerLawImpact`, :class:`SquareRootImpact`,
  :class:`LinearImpact`, :class:`AlmgrenChrissImpact`) price a parent order
  (:meth:`cost_bps`) or a whole :class:`~execlab.schedules.Schedule`
  (:meth:`schedule_cost_bps`) and give the simulator the per-child impact it
  needs (:meth:`temporary_impact`, :meth:`permanent_impact`).  They can be built
  from published parameters without fitting.
* **Calibration** on one row per parent order: :func:`fit_impact` returns an
  :class:`ImpactFit` (statsmodels results inside, robust standard errors).
* **Order flow on the real book**: the mid-price change per interval against
  signed traded volume (:func:`trade_flow_impact`, :func:`fit_trade_flow`) and
  against the order-flow imbalance of Cont, Kukanov & Stoikov (2014)
  (:func:`order_flow_imbalance`, :func:`fit_ofi`).

Units used throughout: quantities and volumes in shares, ``sigma`` is the daily
volatility as a fraction of price (0.02 = 2 %), costs are fractions of the
arrival price in the model methods and basis points in ``*_bps`` methods,
durations are in trading sessions (1.0 = one 6.5-hour day).

The code lives in private modules, one per layer: ``_models`` (the models
and :data:`PUBLISHED`), ``_likelihood`` (the Gaussian quasi-likelihood behind
every nonlinear fit), ``_calibration`` (:func:`fit_impact`), ``_flow``
(trade flow) and ``_ofi`` (order-flow imbalance).  Import from
``execlab.impact``, which re-exports the public names.

References
----------
Almgren, R., Thum, C., Hauptmann, E. and Li, H. (2005). Direct estimation of
equity market impact. *Risk*, 18(7), 58-62.

Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book
events. *Journal of Financial Econometrics*, 12(1), 47-88.

Tóth, B., Lempérière, Y., Deremble, C., de Lataillade, J., Kockelkoren, J. and
Bouchaud, J.-P. (2011). Anomalous price impact and the critical nature of
liquidity in financial markets. *Physical Review X*, 1, 021006.
"""

from ._calibration import ImpactFit, ImpactWarning, fit_impact
from ._coverage import COVERAGE_TRUTHS, coverage_study
from ._flow import TradeFlowFit, fit_trade_flow, trade_flow_impact
from ._models import PUBLISHED, AlmgrenChrissImpact, LinearImpact, PowerLawImpact, SquareRootImpact
from ._ofi import OFIFit, fit_ofi, order_flow_imbalance

__all__ = [
    "PowerLawImpact",
    "SquareRootImpact",
    "LinearImpact",
    "AlmgrenChrissImpact",
    "ImpactFit",
    "ImpactWarning",
    "fit_impact",
    "trade_flow_impact",
    "fit_trade_flow",
    "TradeFlowFit",
    "order_flow_imbalance",
    "fit_ofi",
    "OFIFit",
    "PUBLISHED",
    "coverage_study",
    "COVERAGE_TRUTHS",
]
