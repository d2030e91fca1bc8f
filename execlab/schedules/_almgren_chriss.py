"""Almgren-Chriss (2000) optimal liquidation: the closed-form trajectory and its whole-share schedule.

References
----------
Almgren, R. and Chriss, N. (2000). Optimal execution of portfolio
transactions. *Journal of Risk*, 3(2), 5-39.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import round_cumulative
from .._validation import check_array, check_finite_output, check_quantity, check_scalar
from ._schedule import Schedule, _bin_duration, _check_lot

__all__ = ["ACTrajectory", "almgren_chriss_trajectory", "almgren_chriss"]


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


def _ac_inputs(quantity, n_slices, horizon, sigma, eta, gamma, risk_aversion, epsilon, *, quantity_checked=False):
    # almgren_chriss has already checked its quantities as whole shares (check_quantity, stricter
    # than the check here), so it says so rather than convert and scan the same array twice.
    X = quantity if quantity_checked else np.atleast_1d(check_array(quantity, "quantity", ndim=(0, 1), min_val=0))
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


def _kappa(lam: np.ndarray, sig: np.ndarray, eta_tilde: np.ndarray, tau: float) -> np.ndarray:
    """kappa from (2 / tau**2)(cosh(kappa tau) - 1) = lambda sigma**2 / eta_tilde."""
    tau = np.float64(tau)  # a Python float raises OverflowError where numpy gives inf (checked by the callers)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        kappa = np.arccosh(0.5 * (lam * np.asarray(sig, dtype=np.float64) ** 2 / eta_tilde) * tau**2 + 1.0) / tau
    return check_finite_output(kappa, "kappa", "sigma, eta, gamma, risk_aversion and horizon")


def _remaining_fraction(kappa: np.ndarray, n_slices: int, horizon: float, tau: float) -> np.ndarray:
    """x_j / X = sinh(kappa (T - t_j)) / sinh(kappa T), j = 0..N, one row per distinct kappa given.

    Evaluated as exp(-kappa t)(1 - exp(-2 kappa (T - t)))/(1 - exp(-2 kappa T)), which does
    not overflow; kappa T below 1e-10 is the straight line 1 - t/T.
    """
    t = np.arange(n_slices + 1) * tau
    k = np.asarray(kappa, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.exp(-k * t) * (-np.expm1(-2 * k * (horizon - t))) / (-np.expm1(-2 * k * horizon))
    frac = np.where(k * horizon < 1e-10, 1.0 - t / horizon, frac)
    frac[:, -1] = 0.0
    return frac


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
    kappa = np.broadcast_to(_kappa(lam, sig, eta_tilde, tau), (n,))
    frac = _remaining_fraction(kappa, N, T, tau)
    holdings = X[:, None] * frac
    trades = -np.diff(holdings, axis=1)
    ga_b = np.broadcast_to(ga, (n,))
    cost = (
        0.5 * ga_b * X**2
        + np.broadcast_to(eps, (n,)) * np.abs(trades).sum(axis=1)
        + np.broadcast_to(eta_tilde, (n,)) / tau * (trades**2).sum(axis=1)
    )
    var = np.broadcast_to(sig, (n,)) ** 2 * tau * (holdings[:, 1:] ** 2).sum(axis=1)
    # Finite inputs can still overflow inside the model (sigma**2, X**2): an error, never a NaN result.
    inputs = "quantity, sigma, eta, gamma, risk_aversion and horizon"
    with np.errstate(over="ignore", invalid="ignore"):
        for name, v in (("kappa", kappa), ("holdings", holdings), ("expected_cost", cost), ("variance", var)):
            check_finite_output(v, name, inputs)
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
    plus ``lot`` and ``bin_duration`` as in :func:`~execlab.schedules.twap`.  The fractional
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
    X, N, T, tau, sig, _, _, lam, _, eta_tilde = _ac_inputs(
        q, n_slices, horizon, sigma, eta, gamma, risk_aversion, epsilon, quantity_checked=True
    )
    # Only the cumulative fractions C_j / X = 1 - x_j / X are needed (not the holdings in
    # shares, nor the cost and variance): one row per distinct kappa, and a single row
    # shared by every order when all orders have the same kappa -- as cheap as TWAP.
    kappa = _kappa(lam, sig, eta_tilde, tau)
    if kappa.size == 1:  # scalar parameters: no per-order work before the rounding
        uniq, inverse = kappa, None
    else:
        uniq, inverse = np.unique(np.broadcast_to(kappa, (X.size,)), return_inverse=True)
    cum = 1.0 - _remaining_fraction(uniq, N, T, tau)[:, 1:]
    # kappa == 0 is TWAP: use j/N itself, not 1 - (1 - j/N), which can differ in the last bit.
    cum[uniq == 0] = np.arange(1, N + 1) / N
    cum[:, -1] = 1.0
    cum = cum[0] if inverse is None or len(uniq) == 1 else cum[inverse]
    bad = ~np.isfinite(cum) | (cum < -1e-12) | (cum > 1 + 1e-12)
    if bad.any():  # e.g. kappa * T overflowing sinh: the schedule would wrap, not just be wrong
        raise ValueError(f"almgren_chriss: the urgency kappa == {float(np.ravel(uniq)[0]):.4g} of these inputs (sigma, eta, "
                         "gamma, risk_aversion, horizon) is outside what float64 can schedule; the cumulative fraction "
                         "traded must lie in [0, 1].")
    return Schedule._trusted(round_cumulative(q, cum, lot), q, "almgren_chriss", _bin_duration(bin_duration))
