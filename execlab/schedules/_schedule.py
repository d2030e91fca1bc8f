"""The :class:`Schedule` result and the market, TWAP, VWAP and POV schedules.

Each function validates its input, builds the cumulative target fractions of
every parent order at once, and hands them to the one-pass cumulative
rounding kernel (:func:`execlab._kernels.round_cumulative`).  See
:mod:`execlab.schedules` for the rounding guarantees and references.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._kernels import round_cumulative
from .._validation import MAX_SHARES, check_array, check_int64_range, check_quantity, check_scalar, check_timedelta

__all__ = ["Schedule", "market", "twap", "vwap", "pov"]


@dataclass(frozen=True)
class Schedule:
    """Child-order quantities for a batch of parent orders.

    Built by :func:`market`, :func:`twap`, :func:`vwap`, :func:`pov` and
    :func:`~execlab.schedules.almgren_chriss`; a hand-built ``Schedule`` is
    checked on construction.

    Attributes
    ----------
    shares : ndarray of int64, shape (orders, bins)
        Shares to trade in each bin, whole and >= 0.
    quantity : ndarray of int64, shape (orders,)
        Parent-order quantities (shares, >= 0).
    algorithm : str
        Name of the algorithm that made the schedule.
    bin_duration : Timedelta or None
        Wall-clock length of one bin: :func:`execlab.simulate` releases bin
        ``j`` at arrival + ``j * bin_duration`` into the bar containing that
        time (a bin of five one-minute bars is released whole in the first
        of them; :meth:`resample` spreads it over all five).  ``None`` means
        one bar of whatever bars the schedule is simulated against;
        ``simulate`` refuses a schedule without a bin length whose bins look
        like a session on another grid (see :func:`execlab.simulate`).
    unscheduled : ndarray of int64, shape (orders,)
        Shares that did not fit within the bins (non-zero only for POV);
        every row of ``shares`` sums to ``quantity - unscheduled``.

    Raises
    ------
    TypeError
        If ``shares``, ``quantity`` or ``unscheduled`` hold anything but
        numbers (text, dates, bool), or ``algorithm`` is not a string.
    ValueError
        If ``shares`` is not 2-D, a value is negative, NaN or fractional, the lengths of
        ``quantity`` or ``unscheduled`` differ from the number of rows, a row
        does not sum to ``quantity - unscheduled``, or ``bin_duration`` is not
        a positive time span.

    Examples
    --------
    >>> s = twap([1000, 10], 4)
    >>> s.shares.sum(axis=1), s.remaining[0].tolist()
    (array([1000,   10]), [750, 500, 250, 0])

    A schedule built by hand is checked on entry:

    >>> Schedule([[100, 50], [0, 30]], [150, 30], "manual", bin_duration="5min").bin_duration
    Timedelta('0 days 00:05:00')
    >>> Schedule([[100, 50]], [200], "manual")
    Traceback (most recent call last):
    ...
    ValueError: Schedule row 0 sums to 150 shares, must equal quantity - unscheduled == 200 - 0 == 200.
    """

    shares: np.ndarray
    quantity: np.ndarray
    algorithm: str
    bin_duration: pd.Timedelta | None = None
    unscheduled: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        shares = _whole_shares(self.shares, "shares", ndim=2)
        n = shares.shape[0]
        quantity = _whole_shares(self.quantity, "quantity", ndim=1, length=n)
        if self.unscheduled is None:
            unscheduled = np.zeros(n, dtype=np.int64)
        else:
            unscheduled = _whole_shares(self.unscheduled, "unscheduled", ndim=1, length=n)
        if not isinstance(self.algorithm, str):
            raise TypeError(f"Schedule algorithm == {self.algorithm!r}, must be a string.")
        total = shares.sum(axis=1)
        # Every value is <= 2**51, but thousands of them could still wrap an int64 row sum into a
        # false match; a float sum above 2**52 cannot be a quantity, and below it the int sum is exact.
        bad = (total != quantity - unscheduled) | (shares.sum(axis=1, dtype=np.float64) > 2.0 * MAX_SHARES)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Schedule row {i} sums to {_exact_sum(shares[i])} shares, must equal quantity - unscheduled == "
                f"{int(quantity[i])} - {int(unscheduled[i])} == {int(quantity[i] - unscheduled[i])}."
            )
        object.__setattr__(self, "shares", shares)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "unscheduled", unscheduled)
        object.__setattr__(self, "bin_duration", _bin_duration(self.bin_duration))

    @classmethod
    def _trusted(
        cls,
        shares: np.ndarray,
        quantity: np.ndarray,
        algorithm: str,
        bin_duration: pd.Timedelta | None,
        unscheduled: np.ndarray | None = None,
    ) -> "Schedule":
        """A schedule from this package's own kernels, which sum exactly by construction.

        Skips the checks of ``__post_init__`` (a full pass over the array) on the hot path;
        the schedule functions validate their inputs instead and the property tests hold
        them to the same laws.
        """
        obj = object.__new__(cls)
        if unscheduled is None:
            unscheduled = np.zeros(len(quantity), dtype=np.int64)
        for name, value in (("shares", shares), ("quantity", quantity), ("algorithm", algorithm),
                            ("bin_duration", bin_duration), ("unscheduled", unscheduled)):
            object.__setattr__(obj, name, value)
        return obj

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

    def resample(self, bin_duration: object, lot: int = 1) -> "Schedule":
        r"""The same schedule on bins of another length, e.g. on the bars of a market.

        Each bin of ``self.bin_duration`` becomes :math:`k` bins of
        ``bin_duration`` (:math:`k` = ``self.bin_duration / bin_duration``), its
        shares spread evenly over them; or, for longer bins, every :math:`k`
        bins (:math:`k` = ``bin_duration / self.bin_duration``) are summed
        into one.  So a 78-bin schedule of 5-minute bins on one-minute bars
        becomes 390 one-minute bins that trade each 5-minute slice over its five
        minutes, instead of releasing it whole at the start of each slice.

        Parameters
        ----------
        bin_duration : str or Timedelta
            Length of the new bins (e.g. ``market.freq``); the schedule's own
            ``bin_duration`` must be a whole number of them, or they a whole
            number of it.
        lot : int, default 1
            Round lot in shares for the spread pieces, as in :func:`twap`.

        Returns
        -------
        Schedule
            ``bin_duration`` set to the new length, the same ``quantity``,
            ``unscheduled`` and ``algorithm``; every row still sums exactly
            to ``quantity - unscheduled``, and summing each group of
            :math:`k` new bins gives back the old bin exactly.

        Raises
        ------
        ValueError
            If the schedule has no ``bin_duration``, ``bin_duration`` is not
            a positive time span, neither length is a whole number of the
            other, or ``lot < 1``.

        Notes
        -----
        A bin of :math:`s` shares is spread by the cumulative rounding of
        :func:`twap`: piece :math:`i` of :math:`k` is
        :math:`\mathrm{round}(s\,i/k) - \mathrm{round}(s\,(i-1)/k)`, so the
        pieces are whole shares (whole lots but for an odd-lot remainder, which
        goes in the bin's last piece), never negative, differ from
        :math:`s/k` by at most one lot and sum exactly to :math:`s`.

        Examples
        --------
        >>> s = vwap([1000], [0.6, 0.4], bin_duration="5min")
        >>> s.resample("1min").shares
        array([[120, 120, 120, 120, 120,  80,  80,  80,  80,  80]])
        >>> s.resample("1min").bin_duration
        Timedelta('0 days 00:01:00')
        >>> twap([10], 4, bin_duration="1min").resample("2min").shares
        array([[5, 5]])
        """
        if self.bin_duration is None:
            raise ValueError(
                f"this {self.algorithm} schedule has no bin_duration, so there is no bin length to resample from; "
                "build it with bin_duration= (the length its bins were made for)."
            )
        new = check_timedelta(bin_duration, "bin_duration")
        lot = _check_lot(lot)
        old = pd.Timedelta(self.bin_duration)
        n, m = self.shares.shape
        if old.value % new.value == 0:  # finer bins: spread each bin over k of them
            k = old.value // new.value
            if k == 1:
                return Schedule._trusted(self.shares.copy(), self.quantity, self.algorithm, new, self.unscheduled)
            pieces = round_cumulative(self.shares.ravel(), np.arange(1, k + 1, dtype=np.float64) / k, lot)
            shares = pieces.reshape(n, m * k)
        elif new.value % old.value == 0:  # coarser bins: sum every k of them
            k = new.value // old.value
            padded = np.zeros((n, -(-m // k) * k), dtype=np.int64)
            padded[:, :m] = self.shares
            shares = padded.reshape(n, -1, k).sum(axis=2)
        else:
            raise ValueError(
                f"bin_duration == {str(bin_duration)!r}, but the schedule's bins are {_span(old)} long: neither is a "
                "whole number of the other, so a bin cannot be split or merged exactly."
            )
        return Schedule._trusted(shares, self.quantity, self.algorithm, new, self.unscheduled)

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


def _whole_shares(x: object, name: str, *, ndim: int, length: int | None = None) -> np.ndarray:
    """A Schedule field as an int64 array of whole, non-negative shares."""
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(f"Schedule {name} has dtype {arr.dtype}, must hold whole numbers of shares (int64).")
    if arr.ndim != ndim:
        raise ValueError(f"Schedule {name} has {arr.ndim} dimension(s) (shape {arr.shape}), must have {ndim}"
                         + (": one row per order, one column per bin." if ndim == 2 else ": one value per order."))
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            pos = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"Schedule {name}[{', '.join(map(str, pos))}] == {arr[pos]}, must be a whole number of shares.")
    for bad, rule in ((arr < 0, "must be >= 0"), (arr > MAX_SHARES, "must be <= 2**51")):
        if bad.any():
            pos = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"Schedule {name}[{', '.join(map(str, pos))}] == {arr[pos]}, {rule}.")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"Schedule {name} has {arr.shape[0]} values but shares has {length} rows (orders).")
    return check_int64_range(arr, f"Schedule {name}")


def _exact_sum(row: np.ndarray) -> int:
    """A row sum in Python integers, which never wrap."""
    return sum(int(v) for v in row)


def _check_lot(lot: object) -> int:
    # Lots stop where quantities do: the rounding kernel scales by the lot in float64.
    return int(check_scalar(lot, "lot", min_val=1, max_val=MAX_SHARES, integer=True))


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
    return Schedule._trusted(shares, q, "market", _bin_duration(bin_duration))


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
    :math:`C_j = q\,j/N` is rounded to the nearest lot (an exact half to even
    for ``lot=1``, up for larger lots; floor for an order that is not a whole
    number of lots) and differenced,
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
    return Schedule._trusted(round_cumulative(q, cum, lot), q, "twap", _bin_duration(bin_duration))


def _index_step(index: pd.Index) -> pd.Timedelta | None:
    """The step of a regular grid of bin start times, or None if ``index`` holds no times."""
    if isinstance(index, pd.DatetimeIndex):
        offsets = index - index.normalize()
    elif isinstance(index, pd.TimedeltaIndex):
        offsets = index
    elif len(index) and all(isinstance(t, datetime.time) for t in index):
        offsets = pd.to_timedelta([t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6 for t in index],
                                  unit="s")
    else:
        return None
    if len(index) < 2:
        raise ValueError(
            f"cannot tell the bin length from a profile with {len(index)} bin start time(s); pass bin_duration="
        )
    steps = np.diff(pd.TimedeltaIndex(offsets).as_unit("ns").asi8)
    if (steps <= 0).any() or (steps != steps[0]).any():
        k = int(np.flatnonzero((steps <= 0) | (steps != steps[0]))[0])
        raise ValueError(
            f"the profile's bin start times are not a regular grid: {index[k]} then {index[k + 1]} after a step of "
            f"{pd.Timedelta(int(steps[0]))}; pass evenly spaced bins or a plain array with bin_duration=."
        )
    return pd.Timedelta(int(steps[0]))


def _grid_of(profile: object, name: str, bin_duration: object) -> pd.Timedelta | None:
    """The schedule's bin length: ``bin_duration`` if given, else read off a profile indexed by bin start.

    A Series from :func:`execlab.volume_profile` carries its bin length (``attrs``) and is
    indexed by bin start; a plain array means one bin per bar (None).
    """
    given = _bin_duration(bin_duration)
    own = None
    if isinstance(profile, (pd.Series, pd.DataFrame)):
        index = profile.index if isinstance(profile, pd.Series) else profile.columns
        if isinstance(profile, pd.Series) and profile.attrs.get("bin_duration") is not None:
            own = pd.Timedelta(profile.attrs["bin_duration"])
        elif given is None or len(index) > 1:  # one bin's start says nothing against a given length
            own = _index_step(index)
    if given is not None and own is not None and given != own:
        raise ValueError(
            f"bin_duration == {str(bin_duration)!r}, but the {name}'s bins are {_span(own)} long (from its "
            f"index of bin start times); leave bin_duration out, or pass {name}.to_numpy() to re-time the bins."
        )
    return given if given is not None else own


def _span(td: pd.Timedelta) -> str:
    secs = td.total_seconds()
    return f"{secs / 60:g}min" if secs % 60 == 0 else f"{secs:g}s"


def _check_profile(profile: object, n_orders: int) -> np.ndarray:
    """Each row of the profile as fractions summing to 1.

    Rows are scaled by their largest value before they are summed, so a profile of huge
    volumes (1e308 per bin, whose plain sum is inf) or of subnormal ones (whose fractions
    would underflow) normalises as exactly as one in shares.
    """
    p = check_array(profile, "profile", ndim=(1, 2), min_val=0)
    if p.ndim == 2 and p.shape[0] != n_orders:
        raise ValueError(f"profile has {p.shape[0]} rows but there are {n_orders} orders; pass one row per order or a 1-D profile.")
    peak = p.max(axis=-1, keepdims=True)
    if np.any(peak <= 0):
        pos = int(np.flatnonzero(np.ravel(peak) <= 0)[0])
        raise ValueError(f"profile row {pos} sums to 0.0, must sum to a positive number.")
    scaled = p / peak  # in [0, 1], each row's largest value exactly 1
    return scaled / scaled.sum(axis=-1, keepdims=True)


def vwap(quantity: object, profile: object, lot: int = 1, bin_duration: object = None) -> Schedule:
    r"""Volume-weighted average price: slices proportional to a volume profile.

    Parameters
    ----------
    quantity : array_like of int, shape (orders,)
        Parent quantities in shares, >= 0.
    profile : array_like, Series or DataFrame, shape (bins,) or (orders, bins)
        Expected volume (shares) or volume fractions per bin, >= 0, each row
        with a positive sum; normalised here.  1-D is shared by all orders
        (e.g. :func:`execlab.volume_profile`); 2-D gives one row per order
        (e.g. rows of ``Market.forecast().profile``, one bin per market bar).
    lot : int, default 1
        Round lot in shares, as in :func:`twap`.
    bin_duration : str or Timedelta, optional
        Wall-clock length of each bin.  By default it is read off the profile:
        a Series from :func:`execlab.volume_profile` (indexed by bin start
        time) gives its own bin length, so a 5-minute profile is simulated as
        5-minute bins on any finer bars; a plain array means one bar per bin
        (``None``), and :func:`execlab.simulate` refuses it where its bins look
        like a session on another grid (78 bins on 390 one-minute bars).

    Returns
    -------
    Schedule
        ``shares`` of shape (orders, bins), rows summing to ``quantity``.

    Raises
    ------
    TypeError, ValueError
        On bad quantities, a profile with NaN, negative values or a row
        summing to 0, a 2-D profile whose rows do not match the orders, a
        profile whose bin start times are not evenly spaced, or a
        ``bin_duration`` that contradicts them.

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

    A profile from the data keeps its bin length, whatever bars it came from:

    >>> from execlab import load_bars, volume_profile
    >>> p30 = volume_profile(load_bars("1min"), "30min")
    >>> s = vwap([10_000], p30)
    >>> s.n_bins, s.bin_duration
    (13, Timedelta('0 days 00:30:00'))
    >>> vwap([10_000], p30.to_numpy()).bin_duration is None   # a plain array: one bar per bin
    True
    """
    q = check_quantity(quantity)
    lot = _check_lot(lot)
    p = _check_profile(profile, len(q))
    cum = np.cumsum(p, axis=-1)
    cum = cum / cum[..., -1:]  # exactly 1 at the end despite float sums
    return Schedule._trusted(round_cumulative(q, cum, lot), q, "vwap", _grid_of(profile, "profile", bin_duration))


def pov(quantity: object, volume: object, rate: float, lot: int = 1, bin_duration: object = None) -> Schedule:
    r"""Percentage of volume: trade ``rate`` of the forecast volume per bin until done.

    Parameters
    ----------
    quantity : array_like of int, shape (orders,)
        Parent quantities in shares, >= 0.
    volume : array_like, Series or DataFrame, shape (bins,) or (orders, bins)
        Forecast market volume per bin, shares, >= 0.  A Series indexed by
        bin start time gives the bin length, as in :func:`vwap`.
    rate : float
        Participation rate in (0, 1], a fraction of market volume (0.1 = 10%).
    lot : int, default 1
        Round lot in shares: each bin's cap is a whole number of lots.
    bin_duration : str or Timedelta, optional
        Wall-clock length of each bin; by default read off a ``volume``
        indexed by bin start time, else ``None`` (one bar per bin, checked
        by :func:`execlab.simulate` as for :func:`vwap`).

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
    # A cap beyond 2**53 shares is as good as no cap (quantities stop at 2**51), so clip there:
    # the caps are then whole numbers in float64 whose running sum is exact while it stays below
    # 2**53, and past that only grows, long after every quantity is reached.  So the cumulative
    # target is exact, and never wraps as an int64 cumsum of volumes like 6e18 would (nor
    # overflows float64 for volumes near 1e308); the cast is range-checked all the same.
    cap = np.floor(np.minimum(rate * v, 2.0**53) / lot + 1e-9) * lot
    cum_cap = np.cumsum(np.atleast_2d(cap), axis=-1)
    cum = check_int64_range(np.minimum(cum_cap, q[:, None]), "pov cumulative shares", min_val=0, max_val=MAX_SHARES)
    shares = np.diff(cum, axis=1, prepend=0)
    return Schedule._trusted(shares, q, "pov", _grid_of(volume, "volume", bin_duration), q - cum[:, -1])
