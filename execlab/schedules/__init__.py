"""Vectorized execution schedules: market, TWAP, VWAP, POV, Almgren-Chriss.

Every function schedules many parent orders at once and returns a
:class:`Schedule` whose ``shares`` is an int64 array of shape
``(orders, bins)``: whole shares, never negative, each row summing exactly to
its parent quantity (for POV, to the part that fits within the bins).

Rounding is one pass over the whole array: the ideal *cumulative* target is
rounded to a lot and differenced.  Rounding is monotone, so the
differences are never negative; each bin is within one lot of its ideal
fractional amount; and the last cumulative value is the parent quantity
itself, so rows sum exactly.  The kernel is
:func:`execlab._kernels.round_cumulative` (a compiled one-pass loop when
numba is installed, the ``fast`` extra; numpy otherwise, with identical
results); the schedules live in
``_schedule.py`` and Almgren-Chriss in ``_almgren_chriss.py``.

Units: quantities and child orders in shares; ``bin_duration`` is wall-clock
time; Almgren-Chriss parameters in the units stated in
:func:`almgren_chriss_trajectory`.

References
----------
Almgren, R. and Chriss, N. (2000). Optimal execution of portfolio
transactions. *Journal of Risk*, 3(2), 5-39.

Berkowitz, S. A., Logue, D. E. and Noser, E. A. (1988). The total cost of
transactions on the NYSE. *Journal of Finance*, 43(1), 97-112.

Kissell, R. (2013). *The Science of Algorithmic Trading and Portfolio
Management*. Academic Press, ch. 8 (VWAP, TWAP and POV algorithms).
"""

from ._almgren_chriss import ACTrajectory, almgren_chriss, almgren_chriss_trajectory
from ._schedule import Schedule, market, pov, twap, vwap

__all__ = [
    "Schedule",
    "market",
    "twap",
    "vwap",
    "pov",
    "almgren_chriss",
    "ACTrajectory",
    "almgren_chriss_trajectory",
]
