"""Vectorized execution schedules: market, TWAP, VWAP, POV, Almgren-Chriss.

Every function schedules many parent orders at once and returns a
:class:`Schedule` whose ``shares`` is an int64 array of shape
``(orders, bins)``: whole shares, never negative, each row summing exactly to
its parent quantity (for POV, to the part that fits within the bins).

Rounding is one pass over the whole array: the ideal *cumulative* target is
rounded to a lot and differenced.  Rounding is monotone, so the
differences are never negative; each bin is within one lot of its ideal
fractional amount; and the last cumulative value is the parent quantity
itself, so rows sum exactly.

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

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._validation import check_array, check_quantity, check_scalar, check_timedelta

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


@dataclass(frozen=True)
class Schedule:
    """Child-order quantities for a batch of parent orders.

    Attributes
    ----------
    shares : ndarray of int64, shape (orders, bins)
        Shares to trade in each bin.
    quantity : ndarray of int64, shape (orders,)
        Parent-order quantities.
    algorithm : str
        Name of the algorithm that made the schedule.
    bin_duration : Timedelta or None
        Wall-clock length of one bin; ``None`` means one bar of whatever
        bars the schedule is simulated against.
    unscheduled : ndarray of int64, shape (orders,)
        Shares that did not fit within the bins (non-zero only for POV).

    Examples
    --------
    >>> s = twap([1000, 10], 4)
    >>> s.shares.sum(axis=1), s.remaining[0].tolist()
    (array([1000,   10]), [750, 500, 250, 0])
    """

    shares: np.ndarray
    quantity: np.ndarray
    algorithm: str
    bin_duration: pd.Timedelta | None = None
    unscheduled: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.unscheduled is None:
            object.__setattr__(self, "unscheduled", np.zeros(len(self.quantity), dtype=np.int64))

    @property
    def n_orders(self) -> int:
        return int(self.shares.shape[0])

    @property
    def n_bins(self) -> int:
        return int(self.shares.shape[1])

    @property
    def scheduled(self) -> np.ndarray:
        """Shares scheduled per order (quantity minus unscheduled)."""
        return self.shares.sum(axis=1)

    @property
    def remaining(self) -> np.ndarray:
        """Holdings still to trade after each bin, shape (orders, bins)."""
        return self.quantity[:, None] - np.cumsum(self.shares, axis=1)

    def to_frame(self, drop_zero: bool = False) -> pd.DataFrame:
        """Long form: one row per order and bin, ``order, bin, shares``.

        Parameters
        ----------
        drop_zero : bool, default False
            Leave out bins with no shares.
        """
        n, m = self.shares.shape
        order = np.repeat(np.arange(n), m)
        bin_ = np.tile(np.arange(m), n)
        shares = self.shares.ravel()
        df = pd.DataFrame({"order": order, "bin": bin_, "shares": shares})
        if drop_zero:
            df = df[shares > 0].reset_index(drop=True)
        return df

    def summary(self) -> str:
        """A short text report: sizes, completion and what did not fit.

        Examples
        --------
        >>> print(pov([300, 100], [1000, 1000, 500], rate=0.1).summary())
        Schedule: pov
          orders                    2
          bins                      3
          bin duration              one bar per bin
          parent shares             400
          scheduled shares          350
          unscheduled shares        50 (12.50%)
          orders not completed      1
          largest child             100
        """
        total = int(self.quantity.sum())
        unsched = int(self.unscheduled.sum())
        pct = 100.0 * unsched / total if total else 0.0
        duration = "one bar per bin" if self.bin_duration is None else str(self.bin_duration)
        rows = [
            ("orders", f"{self.n_orders}"),
            ("bins", f"{self.n_bins}"),
            ("bin duration", duration),
            ("parent shares", f"{total}"),
            ("scheduled shares", f"{int(self.shares.sum())}"),
            ("unscheduled shares", f"{unsched} ({pct:.2f}%)"),
            ("orders not completed", f"{int((self.unscheduled > 0).sum())}"),
            ("largest child", f"{int(self.shares.max()) if self.shares.size else 0}"),
        ]
        return "\n".join([f"Schedule: {self.algorithm}"] + [f"  {k:<25} {v}" for k, v in rows])

    def __repr__(self) -> str:
        return (
            f"Schedule(algorithm={self.algorithm!r}, orders={self.n_orders}, bins={self.n_bins}, "
            f"shares={int(self.shares.sum())}, unscheduled={int(self.unscheduled.sum())})"
        )


def _check_lot(lot: object) -> int:
    return int(check_scalar(lot, "lot", min_val=1, integer=True))


def _bin_duration(bin_duration: object) -> pd.Timedelta | None:
    if bin_duration is None:
        return None
    return check_timedelta(bin_duration, "bin_duration")


# Adding 2**52 to a float in [0, 2**52) rounds it to the nearest integer (ties to even, which
# is monotone) and leaves that integer in the low mantissa bits, so the bit patterns, read as
# int64, difference to exact integer child sizes: rounding, casting and differencing in one pass.
_MAGIC = 2.0**52
_MAGIC_BITS = np.array(_MAGIC).view(np.int64)
# Orders per block: the float scratch (rows x bins x 8 bytes, ~0.8 MB at 256 x 390) stays in
# cache, so only the int64 result travels to memory.
_BLOCK_ROWS = 256


def _round_cumulative(quantity: np.ndarray, cum_fraction: np.ndarray, lot: int) -> np.ndarray:
    """Integer child quantities from cumulative target fractions.

    ``cum_fraction`` has shape (orders, bins) or (bins,), non-decreasing along
    bins, ending at 1.  Returns int64 (orders, bins) summing to ``quantity``.

    Notes
    -----
    The cumulative target :math:`C_{ij} = q_i c_{ij}` is rounded to lots and
    differenced.  Whole-lot orders round to the nearest lot (ties to even);
    orders with an odd-lot remainder round *down*, so the cumulative never
    passes ``q`` and the remainder lands in the last bin.  Either rounding is
    monotone, so children are never negative, and each differs from its ideal
    :math:`q_i (c_{ij} - c_{i,j-1})` by less than one lot (at most one lot
    for nearest rounding at exact ties).  The loop is over blocks of 256
    orders, never over single orders.
    """
    c = np.atleast_2d(cum_fraction)
    n_orders, n_bins = quantity.size, c.shape[1]
    per_order = c.shape[0] > 1
    q = quantity.astype(np.float64)[:, None]
    out = np.empty((n_orders, n_bins), dtype=np.int64)
    scratch = np.empty((min(_BLOCK_ROWS, max(n_orders, 1)), n_bins))
    iscratch = scratch.view(np.int64)
    odd = (quantity % lot != 0)[:, None] if lot > 1 else None
    for start in range(0, n_orders, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n_orders)
        t = scratch[: stop - start]
        np.multiply(q[start:stop], c[start:stop] if per_order else c, out=t)
        if lot > 1:
            t /= lot
            # Odd-lot orders: floor (so cumulative <= q); others: nearest lot.
            np.floor(t + np.where(odd[start:stop], 0.0, 0.5), out=t)
            t *= lot
        t[:, -1] = q[start:stop, 0]  # exact row sums
        t += _MAGIC
        it = iscratch[: stop - start]
        flat_i, flat_out = it.reshape(-1), out[start:stop].reshape(-1)
        np.subtract(flat_i[1:], flat_i[:-1], out=flat_out[1:])
        out[start:stop, 0] = it[:, 0] - _MAGIC_BITS  # overwrite the row-boundary differences
    return out


def market(quantity: object, n_bins: int = 1, lot: int = 1, bin_duration: object = None) -> Schedule:
    """Immediate market order: the whole quantity in the first bin.

    Parameters
    ----------
    quantity : array_like of int, shape (orders,)
        Parent quantities in shares, >= 0.
    n_bins : int, default 1
        Width of the returned array (to line up with other schedules).
    lot : int, default 1
        Round lot in shares; checked for consistency with the other
        schedules, but the single child is the whole parent quantity.
    bin_duration : str or Timedelta, optional
        Wall-clock length of each bin; ``None`` means one bar per bin.

    Returns
    -------
    Schedule
        ``shares[:, 0] == quantity``, every other bin 0.

    Raises
    ------
    TypeError, ValueError
        On non-numeric, negative, NaN or fractional quantities, or
        ``n_bins < 1``.

    Examples
    --------
    >>> market([100, 250], n_bins=3).shares
    array([[100,   0,   0],
           [250,   0,   0]])
    """
    q = check_quantity(quantity)
    _check_lot(lot)
    n_bins = int(check_scalar(n_bins, "n_bins", min_val=1, integer=True))
    shares = np.zeros((len(q), n_bins), dtype=np.int64)
    shares[:, 0] = q
    return Schedule(shares, q, "market", _bin_duration(bin_duration))


def twap(quantity: object, n_slices: int, lot: int = 1, bin_duration: object = None) -> Schedule:
    r"""Time-weighted average price: equal slices.

    Parameters
    ----------
    quantity : array_like of int, shape (orders,)
        Parent quantities in shares, >= 0.
    n_slices : int
        Number of equal slices (bins), >= 1.
    lot : int, default 1
        Round lot in shares; every slice is a multiple of ``lot`` except that
        an odd-lot remainder of the parent quantity goes in the last slice.
    bin_duration : str or Timedelta, optional
        Wall-clock length of each slice; ``None`` means one bar per slice.

    Returns
    -------
    Schedule
        ``shares`` of shape (orders, n_slices), rows summing to ``quantity``.

    Raises
    ------
    TypeError, ValueError
        On non-numeric, negative, NaN or fractional quantities,
        ``n_slices < 1`` or ``lot < 1``.

    Notes
    -----
    The ideal child is :math:`q/N` shares per slice.  The cumulative target
    :math:`C_j = q\,j/N` is rounded to the nearest lot (ties to even; floor
    for an order that is not a whole number of lots) and differenced,
    :math:`n_j = \mathrm{round}(C_j) - \mathrm{round}(C_{j-1})`, so slices
    differ from :math:`q/N` by at most one lot and sum exactly to :math:`q`.

    Examples
    --------
    >>> twap([1000, 10], 4).shares
    array([[250, 250, 250, 250],
           [  2,   3,   3,   2]])
    """
    q = check_quantity(quantity)
    lot = _check_lot(lot)
    n_slices = int(check_scalar(n_slices, "n_slices", min_val=1, integer=True))
    cum = np.arange(1, n_slices + 1, dtype=np.float64) / n_slices
    return Schedule(_round_cumulative(q, cum, lot), q, "twap", _bin_duration(bin_duration))


def _check_profile(profile: object, n_orders: int) -> np.ndarray:
    p = check_array(profile, "profile", ndim=(1, 2), min_val=0)
    total = p.sum(axis=-1)
    if np.any(total <= 0):
        pos = int(np.flatnonzero(np.atleast_1d(total <= 0))[0])
        raise ValueError(f"profile row {pos} sums to {np.atleast_1d(total)[pos]}, must sum to a positive number.")
    if p.ndim == 2 and p.shape[0] != n_orders:
        raise ValueError(f"profile has {p.shape[0]} rows but there are {n_orders} orders; pass one row per order or a 1-D profile.")
    return p / total[..., None] if p.ndim == 2 else p / total


def vwap(quantity: object, profile: object, lot: int = 1, bin_duration: object = None) -> Schedule:
    r"""Volume-weighted average price: slices proportional to a volume profile.

    Parameters
    ----------
    quantity : array_like of int, shape (orders,)
        Parent quantities in shares, >= 0.
    profile : array_like, shape (bins,) or (orders, bins)
        Expected volume (shares) or volume fractions per bin, >= 0, each row
        with a positive sum; normalised here.  1-D is shared by all orders
        (e.g. :func:`execlab.volume_profile`); 2-D gives one row per order.
    lot : int, default 1
        Round lot in shares, as in :func:`twap`.
    bin_duration : str or Timedelta, optional
        Wall-clock length of each bin; ``None`` means one bar per bin.

    Returns
    -------
    Schedule
        ``shares`` of shape (orders, bins), rows summing to ``quantity``.

    Raises
    ------
    TypeError, ValueError
        On bad quantities, a profile with NaN, negative values or a row
        summing to 0, or a 2-D profile whose rows do not match the orders.

    Notes
    -----
    With profile :math:`v_b`, the ideal child in bin :math:`j` is
    :math:`q\,v_j / \sum_b v_b`; the cumulative target
    :math:`C_j = q \sum_{b \le j} v_b / \sum_b v_b` is rounded and
    differenced as in :func:`twap`.  A VWAP schedule matches the market's
    volume-weighted average price only as well as the profile forecasts the
    day's volume (Berkowitz, Logue and Noser, 1988).

    Examples
    --------
    >>> vwap([1000], [0.5, 0.2, 0.3]).shares
    array([[500, 200, 300]])
    """
    q = check_quantity(quantity)
    lot = _check_lot(lot)
    p = _check_profile(profile, len(q))
    cum = np.cumsum(p, axis=-1)
    cum = cum / cum[..., -1:]  # exactly 1 at the end despite float sums
    return Schedule(_round_cumulative(q, cum, lot), q, "vwap", _bin_duration(bin_duration))


def pov(quantity: object, volume: object, rate: float, lot: int = 1, bin_duration: object = None) -> Schedule:
    r"""Percentage of volume: trade ``rate`` of the forecast volume per bin until done.

    Parameters
    ----------
    quantity : array_like of int, shape (orders,)
        Parent quantities in shares, >= 0.
    volume : array_like, shape (bins,) or (orders, bins)
        Forecast market volume per bin, shares, >= 0.
    rate : float
        Participation rate in (0, 1], a fraction of market volume (0.1 = 10%).
    lot : int, default 1
        Round lot in shares: each bin's cap is a whole number of lots.
    bin_duration : str or Timedelta, optional
        Wall-clock length of each bin; ``None`` means one bar per bin.

    Returns
    -------
    Schedule
        Each bin holds at most ``floor(rate * volume / lot) * lot`` shares;
        ``unscheduled`` reports what did not fit within the bins (also in
        :meth:`Schedule.summary`), and rows sum to ``quantity - unscheduled``.

    Raises
    ------
    TypeError, ValueError
        On bad quantities, negative or NaN volume, a 2-D volume whose rows do
        not match the orders, or ``rate`` outside (0, 1].

    Notes
    -----
    With cap :math:`c_j = \mathrm{lot}\,\lfloor \rho v_j / \mathrm{lot} \rfloor`
    the cumulative schedule is :math:`C_j = \min(q, \sum_{b \le j} c_b)`, so
    the order trades at the cap until done, and
    :math:`q - C_{N}` is unscheduled.

    Examples
    --------
    >>> s = pov([300], [1000, 1000, 500], rate=0.1)
    >>> s.shares, s.unscheduled
    (array([[100, 100,  50]]), array([50]))
    """
    q = check_quantity(quantity)
    lot = _check_lot(lot)
    rate = check_scalar(rate, "rate", min_val=0.0, max_val=1.0, include_min=False)
    v = check_array(volume, "volume", ndim=(1, 2), min_val=0)
    if v.ndim == 2 and v.shape[0] != len(q):
        raise ValueError(f"volume has {v.shape[0]} rows but there are {len(q)} orders.")
    cap = (np.floor(rate * v / lot + 1e-9) * lot).astype(np.int64)
    cum_cap = np.cumsum(np.atleast_2d(cap), axis=-1)
    cum = np.minimum(cum_cap, q[:, None])
    shares = np.diff(cum, axis=1, prepend=0)
    return Schedule(shares, q, "pov", _bin_duration(bin_duration), unscheduled=q - cum[:, -1])


@dataclass(frozen=True)
class ACTrajectory:
    """Almgren-Chriss optimal trajectory and its cost statistics (per order).

    Attributes
    ----------
    holdings : ndarray, shape (orders, n_slices + 1)
        Fractional holdings x_0 = X, ..., x_N = 0 (shares).
    trades : ndarray, shape (orders, n_slices)
        Fractional trade list n_j = x_{j-1} - x_j (shares).
    kappa : ndarray, shape (orders,)
        Urgency parameter (1 / time unit of ``horizon``).
    expected_cost : ndarray, shape (orders,)
        E[x] in dollars.
    variance : ndarray, shape (orders,)
        V[x] in dollars squared.
    """

    holdings: np.ndarray
    trades: np.ndarray
    kappa: np.ndarray
    expected_cost: np.ndarray
    variance: np.ndarray

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.variance)


def _ac_inputs(quantity, n_slices, horizon, sigma, eta, gamma, risk_aversion, epsilon):
    X = np.atleast_1d(check_array(quantity, "quantity", ndim=(0, 1), min_val=0))
    n_slices = int(check_scalar(n_slices, "n_slices", min_val=1, integer=True))
    horizon = check_scalar(horizon, "horizon", min_val=0.0, include_min=False)
    tau = horizon / n_slices
    sig = check_array(np.atleast_1d(sigma), "sigma", ndim=1, min_val=0)
    et = check_array(np.atleast_1d(eta), "eta", ndim=1, min_val=0, include_min=False)
    ga = check_array(np.atleast_1d(gamma), "gamma", ndim=1, min_val=0)
    lam = check_array(np.atleast_1d(risk_aversion), "risk_aversion", ndim=1, min_val=0)
    eps = check_array(np.atleast_1d(epsilon), "epsilon", ndim=1, min_val=0)
    for name, arr in (("sigma", sig), ("eta", et), ("gamma", ga), ("risk_aversion", lam), ("epsilon", eps)):
        if arr.size not in (1, X.size):
            raise ValueError(f"{name} has {arr.size} values; pass one, or one per order ({X.size}).")
    eta_tilde = et - 0.5 * ga * tau
    if np.any(eta_tilde <= 0):
        pos = int(np.flatnonzero(np.broadcast_to(eta_tilde, X.shape) <= 0)[0])
        raise ValueError(
            f"eta - gamma * tau / 2 == {np.broadcast_to(eta_tilde, X.shape)[pos]} for order {pos}, must be > 0 "
            "(temporary impact must exceed half the permanent impact per slice; use more slices)."
        )
    return X, n_slices, horizon, tau, sig, et, ga, lam, eps, eta_tilde


def almgren_chriss_trajectory(
    quantity: object,
    n_slices: int,
    horizon: float,
    sigma: object,
    eta: object,
    gamma: object,
    risk_aversion: object,
    epsilon: object = 0.0,
) -> ACTrajectory:
    r"""Closed-form optimal liquidation trajectory of Almgren & Chriss (2000).

    Parameters
    ----------
    quantity : array_like, shape (orders,)
        Shares to trade, X >= 0 (the sign of a buy or sell does not change
        the optimal trajectory).
    n_slices : int
        Number of trading intervals N.
    horizon : float
        Trading horizon T, in the time unit of ``sigma`` (e.g. days).
    sigma : float or array_like
        Price volatility, dollars per share per sqrt(time unit).
    eta : float or array_like
        Temporary impact coefficient, dollars per share per (share / time unit).
    gamma : float or array_like
        Permanent impact coefficient, dollars per share per share.
    risk_aversion : float or array_like
        lambda >= 0, per dollar.  0 gives the straight-line (TWAP) trajectory.
    epsilon : float or array_like, default 0
        Fixed cost per share (half-spread plus fees), dollars.

    Returns
    -------
    ACTrajectory
        Fractional holdings and trades (shares), ``kappa`` (per time unit),
        ``expected_cost`` (dollars) and ``variance`` (dollars squared).

    Raises
    ------
    TypeError, ValueError
        On non-numeric, negative or NaN inputs, ``n_slices < 1``,
        ``horizon <= 0``, per-order arrays of the wrong length, or
        :math:`\eta - \gamma\tau/2 \le 0`.

    Notes
    -----
    With :math:`\tau = T/N` and :math:`\tilde\eta = \eta - \gamma\tau/2`, the
    optimal holdings are

    .. math::
        x_j = X \frac{\sinh(\kappa (T - t_j))}{\sinh(\kappa T)}, \qquad
        \frac{2}{\tau^2}\left(\cosh(\kappa\tau) - 1\right) = \tilde\kappa^2
        = \frac{\lambda\sigma^2}{\tilde\eta},

    with expected cost and variance

    .. math::
        E = \tfrac12\gamma X^2 + \epsilon \sum_k |n_k|
            + \frac{\tilde\eta}{\tau}\sum_k n_k^2, \qquad
        V = \sigma^2 \sum_{k=1}^{N} \tau x_k^2 .

    The ratio of sinh terms is evaluated as
    :math:`e^{-\kappa t}(1 - e^{-2\kappa(T-t)})/(1 - e^{-2\kappa T})`, which does
    not overflow for large :math:`\kappa T`.

    References
    ----------
    Almgren, R. and Chriss, N. (2000). Optimal execution of portfolio
    transactions. *Journal of Risk*, 3(2), 5-39.

    Examples
    --------
    The paper's sample stock with lambda = 1e-6: kappa ~ 0.6 per day.

    >>> tr = almgren_chriss_trajectory(10**6, 5, 5.0, 0.95, 2.5e-6, 2.5e-7, 1e-6, epsilon=0.0625)
    >>> round(float(tr.kappa[0]), 4), round(float(tr.expected_cost[0])), f"{tr.variance[0]:.4e}"
    (0.6071, 911227, '3.6413e+11')
    """
    X, N, T, tau, sig, et, ga, lam, eps, eta_tilde = _ac_inputs(
        quantity, n_slices, horizon, sigma, eta, gamma, risk_aversion, epsilon
    )
    n = X.size
    kt2 = np.broadcast_to(lam * sig**2 / eta_tilde, (n,))
    kappa = np.arccosh(0.5 * kt2 * tau**2 + 1.0) / tau
    t = np.arange(N + 1) * tau
    k = kappa[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.exp(-k * t) * (-np.expm1(-2 * k * (T - t))) / (-np.expm1(-2 * k * T))
    linear = 1.0 - t / T
    frac = np.where(k * T < 1e-10, linear, frac)
    frac[:, -1] = 0.0
    holdings = X[:, None] * frac
    trades = -np.diff(holdings, axis=1)
    ga_b = np.broadcast_to(ga, (n,))
    cost = (
        0.5 * ga_b * X**2
        + np.broadcast_to(eps, (n,)) * np.abs(trades).sum(axis=1)
        + np.broadcast_to(eta_tilde, (n,)) / tau * (trades**2).sum(axis=1)
    )
    var = np.broadcast_to(sig, (n,)) ** 2 * tau * (holdings[:, 1:] ** 2).sum(axis=1)
    return ACTrajectory(holdings, trades, kappa, cost, var)


def almgren_chriss(
    quantity: object,
    n_slices: int,
    horizon: float,
    sigma: object,
    eta: object,
    gamma: object,
    risk_aversion: object,
    epsilon: object = 0.0,
    lot: int = 1,
    bin_duration: object = None,
) -> Schedule:
    r"""Almgren-Chriss optimal schedule in whole shares.

    Parameters are those of :func:`almgren_chriss_trajectory` (same units),
    plus ``lot`` and ``bin_duration`` as in :func:`twap`.  The fractional
    holdings :math:`x_j = X \sinh(\kappa(T - t_j))/\sinh(\kappa T)` are
    turned into the cumulative target :math:`C_j = X - x_j`, which is rounded
    by the same cumulative rounding as every schedule.

    Returns
    -------
    Schedule
        ``shares`` of shape (orders, n_slices), rows summing to ``quantity``.

    References
    ----------
    Almgren, R. and Chriss, N. (2000). Optimal execution of portfolio
    transactions. *Journal of Risk*, 3(2), 5-39.

    Examples
    --------
    The sample stock of the paper (X = 10**6 shares, T = 5 days, N = 5,
    sigma = 0.95, eta = 2.5e-6, gamma = 2.5e-7, lambda = 1e-6) sells
    458,044 shares on the first day:

    >>> almgren_chriss([10**6], 5, 5.0, 0.95, 2.5e-6, 2.5e-7, 1e-6).shares
    array([[458044, 252102, 141957,  85755,  62142]])

    Examples
    --------
    >>> almgren_chriss([1000], 4, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0).shares
    array([[250, 250, 250, 250]])
    """
    q = check_quantity(quantity)
    lot = _check_lot(lot)
    traj = almgren_chriss_trajectory(q, n_slices, horizon, sigma, eta, gamma, risk_aversion, epsilon)
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = 1.0 - traj.holdings[:, 1:] / np.where(q[:, None] > 0, q[:, None], 1)
    # kappa == 0 is TWAP: use j/N itself, not 1 - (1 - j/N), which can differ in the last bit.
    cum = np.where((traj.kappa == 0)[:, None], np.arange(1, cum.shape[1] + 1) / cum.shape[1], cum)
    cum[:, -1] = 1.0
    return Schedule(_round_cumulative(q, cum, lot), q, "almgren_chriss", _bin_duration(bin_duration))
