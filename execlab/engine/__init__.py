"""The execution engine: decisions -> sized orders -> risk -> schedules -> fills -> ledger.

Public names are re-exported from :mod:`execlab`.
"""

from .decisions import ACTIONS, REGIMES, URGENCIES, normalize_decisions, regime_urgency, size_orders
from .executor import DEFAULT_IMPACT, Executor
from .report import ExecutionReport
from .ledger import Ledger
from .orderbook import LEGAL_TRANSITIONS, ORDER_STATES, IllegalTransition, OrderBook
from .policy import UrgencyPolicy
from .risk import RISK_RULES, RiskLimits, RiskManager

__all__ = [
    "ACTIONS",
    "URGENCIES",
    "REGIMES",
    "normalize_decisions",
    "regime_urgency",
    "size_orders",
    "UrgencyPolicy",
    "OrderBook",
    "ORDER_STATES",
    "LEGAL_TRANSITIONS",
    "IllegalTransition",
    "RiskLimits",
    "RiskManager",
    "RISK_RULES",
    "Ledger",
    "Executor",
    "ExecutionReport",
    "DEFAULT_IMPACT",
]
