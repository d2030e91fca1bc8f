"""Pre-trade impact models and the per-child protocol the simulator calls.

:class:`PowerLawImpact` (with :class:`SquareRootImpact` and
:class:`LinearImpact`) and :class:`AlmgrenChrissImpact` price a parent order
(``cost_bps``) or a whole schedule (``schedule_cost_bps``) and give the
simulator the impact of each child (``temporary_impact``,
``permanent_impact``).  :data:`PUBLISHED` holds the literature's values that
fits are set beside.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_array, check_scalar
from ..schedules import Schedule

#: Published numbers set beside our fits.  Almgren et al. (2005), Table / eqs. in
#: section 4: permanent I = gamma sigma (X/V)^alpha (Theta/V)^delta, temporary
#: J - I/2 = eta sigma |X/(V T)|^beta; values +- one standard error.  Cont et al.
#: (2014): 50 US stocks, 10-second intervals inside 30-minute sub-periods, OFI
#: explains about 65 % of mid-price changes on average; the slope is inversely
#: proportional to depth (exponent lambda close to 1).
PUBLISHED = pd.DataFrame(
    [
        ("Almgren et al. 2005", "gamma (permanent coefficient)", 0.314, 0.041),
        ("Almgren et al. 2005", "alpha (permanent exponent)", 0.891, 0.10),
        ("Almgren et al. 2005", "delta (turnover exponent of permanent)", 0.267, 0.22),
        ("Almgren et al. 2005", "eta (temporary coefficient)", 0.142, 0.0062),
        ("Almgren et al. 2005", "beta (temporary exponent)", 0.600, 0.038),
        ("square-root law", "delta (metaorder exponent)", 0.5, np.nan),
        ("Cont et al. 2014", "mean R^2 of OFI regressions (10 s in 30 min)", 0.65, np.nan),
        ("Cont et al. 2014", "lambda (beta ~ depth^-lambda)", 1.0, np.nan),
    ],
    columns=["source", "quantity", "value", "std_error"],
)


def _positive(x: object, name: str) -> np.ndarray:
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return np.float64(check_scalar(x, name, min_val=0.0, include_min=False))
    return check_array(x, name, min_val=0.0, include_min=False)


def _protocol_array(x: object, name: str, *, positive: bool) -> np.ndarray:
    """A float64 array for the per-child protocol methods: finite and >= 0 (> 0 if ``positive``).

    Two reductions (min, max) and no temporaries on the clean path, because the
    simulator calls these on every (order, bar); the error path finds the first
    offender for the message.
    """
    a = np.asarray(x, dtype=np.float64)
    if a.size:
        lo, hi = a.min(), a.max()  # NaN propagates into both
        if not (np.isfinite(lo) and np.isfinite(hi) and (lo > 0 if positive else lo >= 0)):
            check_array(a, name, min_val=0.0, include_min=not positive, allow_empty=True)
    return a


def _participation(shares: np.ndarray, bin_volume: np.ndarray) -> np.ndarray:
    """shares / bin_volume, 0 where no shares; bin_volume must be > 0 where shares > 0."""
    shares, bin_volume = np.broadcast_arrays(shares, bin_volume)
    bad = (shares > 0) & ~(bin_volume > 0)
    if bad.any():
        pos = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"bin_volume == {bin_volume.ravel()[pos]} at flat position {pos} where shares == "
            f"{shares.ravel()[pos]}; a bin that trades shares must have volume > 0."
        )
    out = np.zeros(shares.shape, dtype=np.float64)
    np.divide(shares, bin_volume, out=out, where=shares > 0)
    return out


def _temporary_inputs(shares, bin_volume, daily_volume, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Checked arguments of ``temporary_impact``: (participation in the bin, sigma)."""
    shares = _protocol_array(shares, "shares", positive=False)
    bin_volume = _protocol_array(bin_volume, "bin_volume", positive=False)
    _protocol_array(daily_volume, "daily_volume", positive=True)
    sigma = _protocol_array(sigma, "sigma", positive=True)
    return _participation(shares, bin_volume), sigma


def _permanent_inputs(shares, daily_volume, sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked arguments of ``permanent_impact``."""
    return (
        _protocol_array(shares, "shares", positive=False),
        _protocol_array(daily_volume, "daily_volume", positive=True),
        _protocol_array(sigma, "sigma", positive=True),
    )


class _ImpactModel:
    """Shared pre-trade machinery; subclasses give the two per-child impacts."""

    param_names: tuple[str, ...] = ()

    @property
    def params(self) -> pd.Series:
        """Model parameters, by name."""
        return pd.Series({k: float(getattr(self, k)) for k in self.param_names}, name="value")

    def temporary_impact(self, shares, bin_volume, daily_volume, sigma) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def permanent_impact(self, shares, daily_volume, sigma) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def schedule_cost_bps(self, schedule: Schedule | np.ndarray, bin_volume, daily_volume, sigma) -> np.ndarray:
        r"""Expected impact cost of each order of a schedule, in bps of the arrival price.

        Parameters
        ----------
        schedule : Schedule or array_like of shape (orders, bins)
            Child quantities in shares.
        bin_volume : array_like, shape (bins,) or (orders, bins)
            Expected market volume in each bin, shares; must be > 0 in every bin
            where the schedule trades.
        daily_volume : float or array_like of shape (orders,)
            Daily volume V, shares.
        sigma : float or array_like of shape (orders,)
            Daily volatility, fraction of price.

        Returns
        -------
        ndarray, shape (orders,)
            Share-weighted average of what each child pays, in bps; 0 for an
            empty order.

        Notes
        -----
        Exactly what the simulator charges when every child fills in its bin:
        child :math:`k` pays its temporary impact plus the permanent impact of
        the earlier children of the same order,

        .. math::
            C = \frac{10^4}{Q}\sum_k q_k\Big(J(q_k, v_k) + \sum_{j<k} I(q_j)\Big).
        """
        shares = schedule.shares if isinstance(schedule, Schedule) else schedule
        shares = check_array(shares, "schedule shares", ndim=2, min_val=0)
        n, m = shares.shape
        bv = check_array(bin_volume.to_numpy() if isinstance(bin_volume, pd.Series) else bin_volume,
                         "bin_volume", ndim=(1, 2), min_val=0)
        if bv.shape[-1] != m or (bv.ndim == 2 and bv.shape[0] not in (1, n)):
            raise ValueError(f"bin_volume has shape {bv.shape}; expected ({m},) or ({n}, {m}) to match the schedule.")
        V = _positive(daily_volume, "daily_volume")
        s = _positive(sigma, "sigma")
        for name, a in (("daily_volume", V), ("sigma", s)):
            if a.ndim and a.size not in (1, n):
                raise ValueError(f"{name} has {a.size} values; pass one, or one per order ({n}).")
        V = np.reshape(V, (-1, 1)) if V.ndim else V
        s = np.reshape(s, (-1, 1)) if s.ndim else s
        temp = self.temporary_impact(shares, bv, V, s)
        perm = self.permanent_impact(shares, V, s)
        earlier = np.cumsum(perm, axis=1) - perm
        q = shares.sum(axis=1)
        paid = (shares * (temp + earlier)).sum(axis=1)
        out = np.zeros(n)
        np.divide(paid, q, out=out, where=q > 0)
        return 1e4 * out

    def __repr__(self) -> str:
        inside = ", ".join(f"{k}={getattr(self, k):.4g}" for k in self.param_names)
        return f"{type(self).__name__}({inside})"


class PowerLawImpact(_ImpactModel):
    r"""Power-law impact of a metaorder: cost / sigma = Y (Q/V)^delta.

    Parameters
    ----------
    Y : float
        Prefactor, dimensionless (of order 1 in the literature).
    delta : float
        Exponent, > 0 (0.5 is the square-root law, 1 is linear impact).
    horizon : float, default 1.0
        Execution horizon, in sessions, at which the law holds (see Notes);
        :func:`fit_impact` sets it to the median duration of the executions.

    Notes
    -----
    The expected cost of a parent order of :math:`Q` shares in a stock with
    daily volume :math:`V` and daily volatility :math:`\sigma` is

    .. math:: \frac{\mathbb{E}[C]}{\sigma} = Y \left(\frac{Q}{V}\right)^{\delta}

    (as a fraction of the arrival price; ``cost_bps`` multiplies by
    :math:`10^4`).  The law is a statement about whole metaorders.  To price
    a schedule bin by bin, and for the simulator, it is read as a law in the
    trading *rate*: an order spread over horizon :math:`h` at a constant
    participation :math:`p = Q/(hV)` of the market's volume pays
    :math:`\sigma Y (h p)^\delta`.  So each child of :math:`q` shares in a bin
    that trades :math:`v` shares pays the temporary impact

    .. math:: J(q, v) = \sigma\, Y\, (h\, q / v)^{\delta},

    and the permanent impact is zero: the whole cost is in ``temporary_impact``
    (use :class:`AlmgrenChrissImpact` for a permanent part).  A constant
    participation schedule over :math:`h` sessions then costs exactly the law,
    and so does ``cost_bps(..., duration=h)``; faster trading costs more, as in
    Almgren et al. (2005).
    """

    param_names = ("Y", "delta")

    def __init__(self, Y: float, delta: float, horizon: float = 1.0) -> None:
        self.Y = check_scalar(Y, "Y")
        self.delta = check_scalar(delta, "delta", min_val=0.0, include_min=False)
        self.horizon = check_scalar(horizon, "horizon", min_val=0.0, include_min=False)

    def temporary_impact(self, shares, bin_volume, daily_volume, sigma) -> np.ndarray:
        """Fraction of price paid by a child: sigma * Y * (horizon * shares / bin_volume) ** delta.

        ``shares`` >= 0 and ``bin_volume`` >= 0 (> 0 where shares > 0) in
        shares, ``sigma`` > 0 a fraction; NaN or inf raise ``ValueError``.
        """
        p, sigma = _temporary_inputs(shares, bin_volume, daily_volume, sigma)
        return sigma * self.Y * (self.horizon * p) ** self.delta

    def permanent_impact(self, shares, daily_volume, sigma) -> np.ndarray:
        """Zero: the power law is a model of the total cost (see class Notes)."""
        shares, daily_volume, sigma = _permanent_inputs(shares, daily_volume, sigma)
        return np.zeros(np.broadcast_shapes(shares.shape, daily_volume.shape, sigma.shape))

    def cost_bps(self, quantity, daily_volume, sigma, duration=None) -> np.ndarray:
        r"""Expected cost of parent orders, bps.

        Parameters
        ----------
        quantity : array_like
            Parent quantities, shares >= 0.
        daily_volume, sigma : array_like
            Daily volume (shares, > 0) and daily volatility (fraction, > 0).
        duration : array_like, optional
            Execution duration in sessions; ``None`` means the law itself,
            :math:`10^4 \sigma Y (Q/V)^\delta`.  Otherwise the rate reading
            :math:`10^4 \sigma Y (Q h / (V T))^\delta`.

        Examples
        --------
        >>> float(SquareRootImpact(1.0).cost_bps(10_000, 1_000_000, 0.02))
        20.0
        """
        Q = check_array(quantity, "quantity", min_val=0)
        V = _positive(daily_volume, "daily_volume")
        s = _positive(sigma, "sigma")
        rate = Q / V
        if duration is not None:
            T = _positive(duration, "duration")
            rate = rate * self.horizon / T
        return 1e4 * s * self.Y * rate**self.delta


class SquareRootImpact(PowerLawImpact):
    """Square-root law: :class:`PowerLawImpact` with delta = 0.5.

    Examples
    --------
    >>> SquareRootImpact(0.8)
    SquareRootImpact(Y=0.8, delta=0.5)
    """

    def __init__(self, Y: float, horizon: float = 1.0) -> None:
        super().__init__(Y, 0.5, horizon)


class LinearImpact(PowerLawImpact):
    """Linear impact in Q/V: :class:`PowerLawImpact` with delta = 1."""

    def __init__(self, Y: float, horizon: float = 1.0) -> None:
        super().__init__(Y, 1.0, horizon)


class AlmgrenChrissImpact(_ImpactModel):
    r"""Permanent plus temporary impact of Almgren, Thum, Hauptmann & Li (2005).

    Parameters
    ----------
    gamma : float
        Permanent coefficient (dimensionless); published 0.314 +- 0.041 when
        the turnover factor :math:`(\Theta/V)^{1/4}` is kept apart (see Notes).
    eta : float
        Temporary coefficient; published 0.142 +- 0.0062.
    beta : float, default 0.6
        Exponent of the trading rate in temporary impact; published 0.600 +- 0.038.
    alpha : float, default 1.0
        Exponent of permanent impact; published 0.891 +- 0.10, taken as 1 (the
        only value free of arbitrage and additive across children).

    Notes
    -----
    For an order of :math:`X` shares traded at a constant rate over :math:`T`
    sessions, with daily volume :math:`V` and daily volatility :math:`\sigma`,

    .. math::
        I = \gamma\,\sigma\,\left(\frac{X}{V}\right)^{\alpha}, \qquad
        J - \frac{I}{2} = \eta\,\sigma\,\left|\frac{X}{V T}\right|^{\beta},

    where :math:`I` is the permanent price move and :math:`J` the realized
    cost; so ``cost_bps`` is :math:`10^4\,(\eta\sigma|X/(VT)|^\beta + I/2)`.
    The paper writes the permanent term as :math:`\gamma\sigma(X/V)^\alpha
    (\Theta/V)^{1/4}` with :math:`\Theta` the shares outstanding; here that
    factor is absorbed into ``gamma`` (for a large cap with
    :math:`\Theta/V \approx 100\text{-}300` it multiplies 0.314 by about 3-4).

    Per child (the simulator protocol), the trading rate is measured in volume
    time, by the child's share of its bin's volume, and permanent impact is
    linear so that it adds up over children:

    .. math::
        J(q, v) = \eta\,\sigma\,(q/v)^{\beta}, \qquad I(q) = \gamma\,\sigma\,(q/V)^{\alpha}.

    How the methods agree: a schedule of :math:`N` equal children at a
    constant participation :math:`X/(VT)` over :math:`T` sessions pays the
    same temporary cost in ``schedule_cost_bps`` as in ``cost_bps(...,
    duration=T)``; its permanent part, charged only to *later* children, is
    :math:`\gamma\sigma (X/V)\,(N-1)/(2N)` (for :math:`\alpha = 1`), which
    tends to the :math:`I/2` of ``cost_bps`` as :math:`N` grows and is
    :math:`I/(2N)` below it (0 for a single child).

    References
    ----------
    Almgren, R., Thum, C., Hauptmann, E. and Li, H. (2005). Direct estimation
    of equity market impact. *Risk*, 18(7), 58-62.

    Examples
    --------
    >>> m = AlmgrenChrissImpact(gamma=0.314, eta=0.142)
    >>> round(float(m.cost_bps(100_000, 1_000_000, 0.02, duration=0.5)), 2)
    13.95
    """

    param_names = ("gamma", "eta", "beta", "alpha")

    def __init__(self, gamma: float, eta: float, beta: float = 0.6, alpha: float = 1.0) -> None:
        self.gamma = check_scalar(gamma, "gamma")
        self.eta = check_scalar(eta, "eta")
        self.beta = check_scalar(beta, "beta", min_val=0.0, include_min=False)
        self.alpha = check_scalar(alpha, "alpha", min_val=0.0, include_min=False)

    def temporary_impact(self, shares, bin_volume, daily_volume, sigma) -> np.ndarray:
        """Fraction of price paid by a child: eta * sigma * (shares / bin_volume) ** beta.

        ``shares`` >= 0 and ``bin_volume`` >= 0 (> 0 where shares > 0) in
        shares, ``sigma`` > 0 a fraction; NaN or inf raise ``ValueError``.
        """
        p, sigma = _temporary_inputs(shares, bin_volume, daily_volume, sigma)
        return self.eta * sigma * p**self.beta

    def permanent_impact(self, shares, daily_volume, sigma) -> np.ndarray:
        """Price shift left by a child: gamma * sigma * (shares / daily_volume) ** alpha.

        ``shares`` >= 0, ``daily_volume`` > 0 (shares), ``sigma`` > 0 (fraction).
        """
        shares, daily_volume, sigma = _permanent_inputs(shares, daily_volume, sigma)
        return self.gamma * sigma * (shares / daily_volume) ** self.alpha

    def cost_bps(self, quantity, daily_volume, sigma, duration=None) -> np.ndarray:
        """Expected realized cost of parent orders traded evenly over ``duration`` sessions (default 1), bps."""
        Q = check_array(quantity, "quantity", min_val=0)
        V = _positive(daily_volume, "daily_volume")
        s = _positive(sigma, "sigma")
        T = 1.0 if duration is None else _positive(duration, "duration")
        return 1e4 * s * (self.eta * (Q / (V * T)) ** self.beta + 0.5 * self.gamma * (Q / V) ** self.alpha)
