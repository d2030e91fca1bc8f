"""Event-level replay of child orders on a real LOBSTER book, and its check against what really happened.

- :class:`EventBook`: one ticker-day of LOBSTER events at depth N, as arrays.
- :func:`replay`: market, limit (touch, k ticks inside, absolute price) and
  pegged child orders, with feed/entry/response/cancel latency, under four
  queue models (``touch``, ``risk_averse``, ``probabilistic``, ``l3_fifo``).
- :func:`validate_queue_models`: each real limit order of the file replayed as
  if it were ours, the predicted first fill against its real one.
- :func:`touch_orders_check`: synthetic orders at the touch, each model scored
  against exact FIFO at several horizons (Brier score and reliability for the
  probabilistic model).
- :func:`passive_twap`: TWAP slices that rest at the touch and cross at the
  end of each slice, beside the aggressive TWAP on the same parent orders.

The market does not react to our orders.
"""

from ._book import EventBook
from ._passive import TwapComparison, passive_twap
from ._plots import (fill_markouts, plot_censored_by_depth, plot_paired_differences, plot_queue_accuracy,
                     plot_reliability, plot_touch_fill_rates, plot_twap_difference, plot_twap_markouts)
from ._replay import QUEUE_MODELS, Latency, ReplayResult, replay
from ._validation import QueueValidation, TouchCheck, touch_orders_check, validate_queue_models

__all__ = ["EventBook", "Latency", "QUEUE_MODELS", "ReplayResult", "replay", "QueueValidation",
           "validate_queue_models", "TouchCheck", "touch_orders_check", "TwapComparison", "passive_twap"]
__all__ += ["plot_queue_accuracy", "plot_censored_by_depth", "plot_touch_fill_rates", "plot_reliability",
            "plot_twap_difference", "plot_paired_differences", "fill_markouts", "plot_twap_markouts"]
