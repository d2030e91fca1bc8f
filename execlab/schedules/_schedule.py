"""The :class:`Schedule` result and the market, TWAP, VWAP and POV schedules.

Each function validates its input, builds the cumulative target fractions of
every parent order at once, and hands them to the one-pass cumulative
rounding kernel (:func:`execlab._kernels.round_cumulative`).  See
:mod:`execlab.schedules` for the rounding guarantees and references.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._kernels import round_cumulative
from .._validation import check_array, check_quantity, check_scalar, check_timedelta

__all__ = ["Schedule", "market", "twap", "vwap", "pov"]


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
    return Schedule(round_cumulative(q, cum, lot), q, "twap", _bin_duration(bin_duration))


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
    return Schedule(round_cumulative(q, cum, lot), q, "vwap", _bin_duration(bin_duration))


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
