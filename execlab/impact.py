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

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.stattools import jarque_bera

from ._validation import check_array, check_choice, check_frame, check_numeric_column, check_scalar, check_sorted_unique
from .data import TIMEZONE, _parse_freq, _session_bins
from .schedules import Schedule

__all__ = [
    "PowerLawImpact",
    "SquareRootImpact",
    "LinearImpact",
    "AlmgrenChrissImpact",
    "ImpactFit",
    "fit_impact",
    "trade_flow_impact",
    "fit_trade_flow",
    "TradeFlowFit",
    "order_flow_imbalance",
    "fit_ofi",
    "OFIFit",
    "PUBLISHED",
]

SESSION = pd.Timedelta(hours=6, minutes=30)

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


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


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


def _fast_numeric_column(df: pd.DataFrame, column: str, name: str, *, min_val: float | None = None,
                         include_min: bool = True) -> np.ndarray:
    """:func:`check_numeric_column` with a copy-free clean path for float64/int64 columns.

    The clean path checks finiteness and the lower bound with two reductions
    (NaN propagates into ``min``/``max``) and returns the column's own buffer
    for float64 (read-only under copy-on-write); anything else, and any
    failure, goes through :func:`check_numeric_column`, so the checks and
    messages are the same.
    """
    col = df[column]
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu":
        arr = col.to_numpy(dtype=np.float64)
        if arr.size:
            lo, hi = arr.min(), arr.max()
            ok = np.isfinite(lo) and np.isfinite(hi)
            if ok and min_val is not None:
                ok = lo >= min_val if include_min else lo > min_val
            if ok:
                return arr
    return check_numeric_column(df, column, name, min_val=min_val, include_min=include_min)


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


# --------------------------------------------------------------------------
# Gaussian (quasi-)likelihood for a nonlinear mean, used by every nonlinear fit
# --------------------------------------------------------------------------


@dataclass
class _MeanSpec:
    """A nonlinear mean f(theta) with first and second derivatives.

    ``jac(theta)`` is (n, k); ``curv(theta, r)`` returns sum_i r_i * Hess f_i (k, k).
    ``profile`` names the single nonlinear parameter; ``design(value)`` gives the
    (n, k - 1) regressors of the linear ones at that value, in parameter order
    with the nonlinear one removed.
    """

    names: list[str]
    mean: callable
    jac: callable
    curv: callable
    nonlinear: int
    design: callable
    bounds: tuple[float, float]


class _GaussianNLS(GenericLikelihoodModel):
    """y = f(theta) + e, e ~ N(0, s^2): a Gaussian quasi-likelihood in (theta, s).

    The score and Hessian are analytic, so Newton steps and the sandwich
    (robust) covariance cost a few passes over the data.
    """

    def __init__(self, endog: np.ndarray, spec: _MeanSpec) -> None:
        self.spec = spec
        super().__init__(endog, None, extra_params_names=list(spec.names) + ["scale"])
        self.k_extra = 1  # the noise scale; df_model counts the mean parameters
        self.df_model = len(spec.names)
        self.df_resid = len(endog) - len(spec.names) - 1

    def _split(self, params):
        params = np.asarray(params, dtype=np.float64)
        return params[:-1], params[-1]

    def loglikeobs(self, params):
        theta, s = self._split(params)
        r = self.endog - self.spec.mean(theta)
        return -0.5 * np.log(2 * np.pi) - np.log(np.abs(s)) - 0.5 * (r / s) ** 2

    def loglike(self, params):
        theta, s = self._split(params)
        r = self.endog - self.spec.mean(theta)
        n = r.size
        return -n * (0.5 * np.log(2 * np.pi) + np.log(np.abs(s))) - 0.5 * float(r @ r) / s**2

    def score_obs(self, params):
        theta, s = self._split(params)
        r = self.endog - self.spec.mean(theta)
        J = self.spec.jac(theta)
        return np.column_stack([J * (r / s**2)[:, None], -1.0 / s + r**2 / s**3])

    def score(self, params):
        theta, s = self._split(params)
        r = self.endog - self.spec.mean(theta)
        J = self.spec.jac(theta)
        return np.append(J.T @ r / s**2, -r.size / s + float(r @ r) / s**3)

    def hessian(self, params):
        theta, s = self._split(params)
        r = self.endog - self.spec.mean(theta)
        J = self.spec.jac(theta)
        k = theta.size
        H = np.empty((k + 1, k + 1))
        H[:k, :k] = (self.spec.curv(theta, r) - J.T @ J) / s**2
        cross = -2.0 * (J.T @ r) / s**3
        H[:k, k] = cross
        H[k, :k] = cross
        H[k, k] = r.size / s**2 - 3.0 * float(r @ r) / s**4
        return H


def _profile_start(y: np.ndarray, spec: _MeanSpec) -> np.ndarray:
    """Start values by profiling: least squares in the linear parameters for each
    value of the nonlinear one, minimised over the latter (bounded, 1-D)."""

    yy = float(y @ y)

    def linear_part(v):
        X = spec.design(v)
        Xty = X.T @ y
        try:
            b = np.linalg.solve(X.T @ X, Xty)
        except np.linalg.LinAlgError:
            b = np.linalg.lstsq(X, y, rcond=None)[0]
        # SSR = y'y - b'X'y at the least-squares b: no residual vector (start values only;
        # Newton polishes the estimate on the exact likelihood).
        return b, max(yy - float(b @ Xty), 0.0)

    lo, hi = spec.bounds
    grid = np.linspace(lo, hi, 12)
    ssr = [linear_part(v)[1] for v in grid]
    i = int(np.argmin(ssr))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(lambda v: linear_part(v)[1], bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-7})
    v = float(res.x)
    lin, ssr_v = linear_part(v)
    theta = np.insert(lin, spec.nonlinear, v)
    s = np.sqrt(ssr_v / y.size)
    return np.append(theta, s)


def _fit_nls(y: np.ndarray, spec: _MeanSpec, cov_type: str, cov_kwds: dict | None = None):
    start = _profile_start(y, spec)
    model = _GaussianNLS(y, spec)
    kw = {"cov_type": cov_type}
    if cov_kwds:
        kw["cov_kwds"] = cov_kwds
    with warnings.catch_warnings():
        # Non-convergence is turned into an error below, with the estimates in the message.
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = model.fit(start_params=start, method="newton", maxiter=50, disp=0, **kw)
    est = ", ".join(f"{k} == {v:.4g}" for k, v in zip(spec.names, np.asarray(res.params)))
    if not res.mle_retvals.get("converged", False):
        raise ValueError(
            f"the quasi-likelihood fit did not converge in 50 Newton steps (last: {est}); the data do not pin "
            "the parameters down (e.g. no systematic increase of the cost with size)."
        )
    if not np.all(np.isfinite(res.bse)):
        raise ValueError(f"the Hessian is singular at the estimate ({est}); the parameters are not identified by these data.")
    return res


# --------------------------------------------------------------------------
# fit_impact
# --------------------------------------------------------------------------

_MODELS = ("power", "sqrt", "linear", "almgren_chriss")
_OLS_COV = ("nonrobust", "HC0", "HC1", "HC2", "HC3")
_MLE_COV = ("nonrobust", "HC0")


def _durations(df: pd.DataFrame, name: str) -> np.ndarray:
    col = df["duration"]
    if pd.api.types.is_timedelta64_dtype(col.dtype):
        vals = col.to_numpy(dtype="timedelta64[ns]").astype(np.int64).astype(np.float64)
        nat = col.isna().to_numpy()
        vals = np.where(nat, np.nan, vals / SESSION.value)
        tmp = pd.DataFrame({"duration": vals}, index=df.index)
        return check_numeric_column(tmp, "duration", name, min_val=0.0, include_min=False)
    return _fast_numeric_column(df, "duration", name, min_val=0.0, include_min=False)


def _execution_arrays(executions: pd.DataFrame, need_duration: bool, name: str = "executions") -> dict:
    check_frame(executions, name, ["quantity", "daily_volume", "sigma"])
    out = {}
    out["quantity"] = _fast_numeric_column(executions, "quantity", name, min_val=0.0, include_min=False)
    out["daily_volume"] = _fast_numeric_column(executions, "daily_volume", name, min_val=0.0, include_min=False)
    out["sigma"] = _fast_numeric_column(executions, "sigma", name, min_val=0.0, include_min=False)
    has_prices = "arrival_price" in executions.columns and "avg_price" in executions.columns
    if has_prices:
        check_frame(executions, name, ["side"])
        arrival = _fast_numeric_column(executions, "arrival_price", name, min_val=0.0, include_min=False)
        avg = _fast_numeric_column(executions, "avg_price", name, min_val=0.0, include_min=False)
        cost = avg - arrival
        cost /= arrival
        cost *= _side_sign(executions["side"], name)
        out["cost"] = cost
    elif "shortfall_bps" in executions.columns:
        out["cost"] = _fast_numeric_column(executions, "shortfall_bps", name) / 1e4
    else:
        raise ValueError(
            f"{name} needs columns ['arrival_price', 'avg_price'] (with 'side') or 'shortfall_bps'; "
            f"it has {list(map(str, executions.columns))}."
        )
    if need_duration:
        check_frame(executions, name, ["duration"])
    if "duration" in executions.columns:
        out["duration"] = _durations(executions, name)
    return out


def _median(a: np.ndarray) -> float:
    """Median of a finite 1-D array: one single-pivot partition (``np.median``
    partitions around two pivots and checks for NaN; a few times slower)."""
    k = a.size // 2
    p = np.partition(a, k)
    return float(p[k]) if a.size % 2 else 0.5 * (float(p[k]) + float(p[:k].max()))


def _side_sign(side: pd.Series, name: str) -> np.ndarray:
    """+1.0 for "BUY" / +1, -1.0 for "SELL" / -1; anything else (NaN included) raises.

    Text sides cost two vectorised equality passes (no fancy indexing, no
    per-row Python); a categorical ``side`` costs only its few categories.
    """
    if pd.api.types.is_numeric_dtype(side.dtype) and not pd.api.types.is_bool_dtype(side.dtype):
        s = side.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.abs(s) == 1.0  # NaN fails too
        if not ok.all():
            pos = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"{name} column 'side' has {float(s[pos])!r} at row {side.index[pos]!r}; must be 'BUY'/'SELL' or +1/-1.")
        return s
    if isinstance(side.dtype, pd.CategoricalDtype):
        labels = np.asarray(side.cat.categories, dtype=object)
        lookup = np.append(np.where(labels == "BUY", 1.0, np.where(labels == "SELL", -1.0, 0.0)), 0.0)
        sign = lookup[side.cat.codes.to_numpy()]  # code -1 (missing) reads the trailing 0
    else:
        vals = side.to_numpy()
        if vals.dtype == object:
            buy, sell = vals == "BUY", vals == "SELL"
        else:  # e.g. pyarrow-backed strings: let pandas compare natively
            buy = (side == "BUY").to_numpy(dtype=bool, na_value=False)
            sell = (side == "SELL").to_numpy(dtype=bool, na_value=False)
        sign = buy.astype(np.float64)
        sign -= sell
    if not sign.all():
        pos = int(np.flatnonzero(sign == 0)[0])
        value = side.iloc[pos]
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(f"{name} column 'side' has {value!r} at row {side.index[pos]!r}; must be 'BUY' or 'SELL'.")
    return sign


def _ols_one_regressor(y: np.ndarray, x: np.ndarray, cov_type: str):
    r"""statsmodels OLS of ``y`` on one regressor without intercept, without the SVD.

    ``OLS.fit(method="pinv")`` takes two SVDs of the n x 1 design to find its
    pseudo-inverse, which for one non-zero column is exactly
    :math:`x^\top / (x^\top x)`.  We set the same model attributes that
    ``fit`` sets and build the same ``OLSResults``, so covariance types,
    ``summary()`` and every other statistic are statsmodels' own (a test pins
    them to ``sm.OLS(...).fit()``).
    """
    from statsmodels.regression.linear_model import OLSResults, RegressionResultsWrapper

    model = sm.OLS(y, x[:, None], hasconst=False)
    xx = float(x @ x)
    inv = np.array([[1.0 / xx]])
    model.pinv_wexog = (x / xx)[None, :]
    model.normalized_cov_params = inv
    model.wexog_singular_values = np.array([np.sqrt(xx)])
    model.rank = 1
    model.df_model = 1.0 - model.k_constant  # rank - k_constant, as fit sets it
    model.df_resid = float(x.size - 1)
    beta = np.array([float(x @ y) / xx])
    return RegressionResultsWrapper(OLSResults(model, beta, normalized_cov_params=inv, cov_type=cov_type))


def _power_spec(x: np.ndarray) -> _MeanSpec:
    L = np.log(x)

    def mean(t):
        return t[0] * np.exp(t[1] * L)

    def jac(t):
        xd = np.exp(t[1] * L)
        return np.column_stack([xd, t[0] * xd * L])

    def curv(t, r):
        xd = np.exp(t[1] * L)
        a = float(r @ (xd * L))
        b = float(r @ (t[0] * xd * L * L))
        return np.array([[0.0, a], [a, b]])

    return _MeanSpec(["Y", "delta"], mean, jac, curv, 1, lambda d: np.exp(d * L)[:, None], (0.02, 2.0))


def _ac_spec(x: np.ndarray, z: np.ndarray, alpha: float) -> _MeanSpec:
    xa = 0.5 * x**alpha
    Lz = np.log(z)

    def mean(t):
        return t[0] * xa + t[1] * np.exp(t[2] * Lz)

    def jac(t):
        zb = np.exp(t[2] * Lz)
        return np.column_stack([xa, zb, t[1] * zb * Lz])

    def curv(t, r):
        zb = np.exp(t[2] * Lz)
        a = float(r @ (zb * Lz))
        b = float(r @ (t[1] * zb * Lz * Lz))
        return np.array([[0.0, 0.0, 0.0], [0.0, 0.0, a], [0.0, a, b]])

    return _MeanSpec(["gamma", "eta", "beta"], mean, jac, curv, 2,
                     lambda b: np.column_stack([xa, np.exp(b * Lz)]), (0.05, 2.0))


@dataclass
class ImpactFit:
    """Impact model calibrated on executions (returned by :func:`fit_impact`).

    Attributes
    ----------
    model : PowerLawImpact or AlmgrenChrissImpact
        The fitted model, ready for ``cost_bps``/``schedule_cost_bps`` and the simulator.
    results : statsmodels results
        ``RegressionResults`` (sqrt, linear) or ``GenericLikelihoodModelResults``
        (power, almgren_chriss), with the chosen covariance.
    kind : str
        The ``model`` argument of :func:`fit_impact`.
    data : DataFrame
        The arrays used: ``participation`` (Q/V), ``sigma``, ``cost_bps``,
        ``y`` (cost / sigma) and ``duration`` where known (built on first use
        from ``arrays``).
    """

    model: _ImpactModel
    results: object
    kind: str
    arrays: dict = field(repr=False)
    names: list[str] = field(default_factory=list)

    @cached_property
    def data(self) -> pd.DataFrame:
        """The arrays used: ``participation`` (Q/V), ``sigma``, ``cost_bps``, ``y``
        (cost / sigma) and ``duration`` where known."""
        return pd.DataFrame(self.arrays)

    @property
    def params(self) -> pd.Series:
        """Estimated impact parameters (not the noise scale; see :attr:`scale`)."""
        return pd.Series(np.asarray(self.results.params)[: len(self.names)], index=self.names, name="params")

    @property
    def bse(self) -> pd.Series:
        """Standard errors of :attr:`params`, with the covariance in ``cov_type``."""
        return pd.Series(np.asarray(self.results.bse)[: len(self.names)], index=self.names, name="bse")

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @property
    def cov_type(self) -> str:
        return str(self.results.cov_type)

    @property
    def nobs(self) -> int:
        return int(self.results.nobs)

    @property
    def scale(self) -> float:
        """Standard deviation of the cost noise, in units of sigma."""
        if self.kind in ("power", "almgren_chriss"):
            return float(np.asarray(self.results.params)[-1])
        return float(np.sqrt(self.results.scale))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals, a DataFrame with ``lower``/``upper`` indexed by parameter."""
        alpha = check_scalar(alpha, "alpha", min_val=0.0, max_val=1.0, include_min=False, include_max=False)
        ci = np.asarray(self.results.conf_int(alpha))[: len(self.names)]
        return pd.DataFrame(ci, index=self.names, columns=["lower", "upper"])

    def summary(self, alpha: float = 0.05):
        """statsmodels ``Summary`` of the fit (the noise scale is the last row for likelihood fits)."""
        xname = list(self.names) + (["scale"] if self.kind in ("power", "almgren_chriss") else [])
        title = f"Impact fit: {self.kind} ({type(self.model).__name__}), cost / sigma"
        return self.results.summary(yname="cost/sigma", xname=xname, title=title, alpha=alpha)

    @cached_property
    def fittedvalues(self) -> np.ndarray:
        """Fitted cost / sigma for each execution."""
        return self.arrays["y"] - self.resid

    @cached_property
    def resid(self) -> np.ndarray:
        """Residuals of cost / sigma (observed minus fitted), dimensionless."""
        if self.kind in ("power", "almgren_chriss"):
            theta = np.asarray(self.results.params)[:-1]
            return self.arrays["y"] - self.results.model.spec.mean(theta)
        return np.asarray(self.results.resid)

    def predict(self, data: pd.DataFrame | None = None) -> np.ndarray:
        """Expected cost in bps.

        Parameters
        ----------
        data : DataFrame, optional
            ``quantity, daily_volume, sigma`` (and ``duration`` in sessions for
            the Almgren-Chriss model).  ``None`` gives the in-sample fitted costs.
        """
        if data is None:
            return 1e4 * self.fittedvalues * self.arrays["sigma"]
        arr = _execution_arrays_for_predict(data, self.kind == "almgren_chriss")
        if self.kind == "almgren_chriss":
            return self.model.cost_bps(arr["quantity"], arr["daily_volume"], arr["sigma"], arr["duration"])
        return self.model.cost_bps(arr["quantity"], arr["daily_volume"], arr["sigma"])

    def cost(self, schedule: Schedule, bin_volume, daily_volume, sigma) -> np.ndarray:
        """Expected cost of each order of ``schedule`` in bps (see ``schedule_cost_bps`` of the model)."""
        return self.model.schedule_cost_bps(schedule, bin_volume, daily_volume, sigma)

    def diagnostics(self) -> pd.DataFrame:
        """Residual diagnostics: Jarque-Bera (normality), Breusch-Pagan
        (residual variance against log participation, sigma and log duration),
        skewness and kurtosis.  A small Breusch-Pagan p-value says the noise is
        not proportional to sigma alone, which the robust covariance allows for.
        """
        r = self.resid
        jb, jb_p, skew, kurt = jarque_bera(r)
        cols = [np.ones_like(r), np.log(self.data["participation"].to_numpy()), self.data["sigma"].to_numpy()]
        if "duration" in self.data:
            cols.append(np.log(self.data["duration"].to_numpy()))
        lm, lm_p, _, _ = het_breuschpagan(r, np.column_stack(cols))
        return pd.DataFrame(
            {
                "statistic": [float(jb), float(lm), float(skew), float(kurt)],
                "pvalue": [float(jb_p), float(lm_p), np.nan, np.nan],
            },
            index=pd.Index(["jarque_bera", "breusch_pagan", "skew", "kurtosis"], name="test"),
        )

    def __repr__(self) -> str:
        p = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"ImpactFit({self.kind}: {p}; n={self.nobs}, cov_type={self.cov_type})"


def _execution_arrays_for_predict(data: pd.DataFrame, need_duration: bool) -> dict:
    check_frame(data, "data", ["quantity", "daily_volume", "sigma"] + (["duration"] if need_duration else []))
    out = {
        "quantity": check_numeric_column(data, "quantity", "data", min_val=0.0),
        "daily_volume": check_numeric_column(data, "daily_volume", "data", min_val=0.0, include_min=False),
        "sigma": check_numeric_column(data, "sigma", "data", min_val=0.0, include_min=False),
    }
    if need_duration:
        out["duration"] = _durations(data, "data")
    return out


def fit_impact(
    executions: pd.DataFrame,
    model: str = "power",
    *,
    cov_type: str | None = None,
    alpha: float = 1.0,
) -> ImpactFit:
    r"""Calibrate an impact model on parent-order executions.

    Parameters
    ----------
    executions : DataFrame
        One row per parent order:

        ``quantity``
            Executed shares, > 0.
        ``daily_volume``
            Daily volume V of the stock that day (or its average), shares, > 0.
        ``sigma``
            Daily volatility, fraction of price, > 0.
        ``side``, ``arrival_price``, ``avg_price``
            ``"BUY"``/``"SELL"`` (text or categorical; or +1/-1), arrival
            price and average fill price ($, > 0).  The cost is
            ``side * (avg - arrival) / arrival``.  Reading a million text
            sides costs tens of milliseconds; a categorical or numeric side
            almost nothing.
        ``shortfall_bps``
            Used instead when the prices are absent: cost in bps, positive = cost.
        ``duration``
            Execution time in sessions (float; 1.0 = 6.5 h) or as Timedeltas.
            Required for ``"almgren_chriss"``; for the power laws it only sets
            the model's ``horizon`` (its median) and enters the diagnostics.
    model : {"power", "sqrt", "linear", "almgren_chriss"}
        Which model to fit (see Notes).
    cov_type : str, optional
        Covariance of the estimates.  Default ``"HC1"`` for the linear fits
        (``"sqrt"``, ``"linear"``; also HC0, HC2, HC3, nonrobust) and ``"HC0"``
        (sandwich) for the likelihood fits (``"power"``, ``"almgren_chriss"``;
        also nonrobust).
    alpha : float, default 1.0
        Permanent-impact exponent held fixed in the Almgren-Chriss fit.

    Returns
    -------
    ImpactFit

    Raises
    ------
    ValueError
        Missing columns, NaN/inf, non-positive quantity, volume, volatility,
        price or duration (naming the column and row), an unknown side, fewer
        rows than parameters + 2, no variation in Q/V or in the cost, and a
        likelihood fit that does not converge or whose Hessian is singular
        (the data do not identify the parameters; no NaN standard errors are
        returned).

    Notes
    -----
    Costs are standardised by volatility, :math:`y_i = C_i/\sigma_i`, and
    modelled as :math:`y_i = f(x_i; \theta) + \varepsilon_i` with
    :math:`x_i = Q_i/V_i` and noise of constant scale :math:`s` in units of
    :math:`\sigma`: dividing by :math:`\sigma_i` *is* the weighting of a
    weighted least squares on the raw cost with weights :math:`1/\sigma_i^2`.
    Nothing is dropped and nothing is logged: negative costs (frequent, since
    the price moves by :math:`\sigma\sqrt{T}` while impact is a fraction of
    that) enter as they are.

    * ``"sqrt"``: :math:`f = Y x^{1/2}`; ``"linear"``: :math:`f = Y x`.
      Linear in :math:`Y`: statsmodels ``OLS`` without intercept on the
      standardised data, heteroskedasticity-robust (HC1) errors, since the
      real noise grows with duration and is not exactly proportional to sigma.
    * ``"power"``: :math:`f = Y x^{\delta}`.  Gaussian quasi-likelihood in
      :math:`(Y, \delta, s)` (a statsmodels ``GenericLikelihoodModel`` with
      analytic score and Hessian, i.e. nonlinear least squares), started from
      a profile fit over :math:`\delta`; sandwich (HC0) covariance, valid
      when the noise is neither normal nor homoskedastic.
    * ``"almgren_chriss"``: :math:`f = \tfrac{\gamma}{2} x^{\alpha} +
      \eta\,(x/T)^{\beta}`, the realized cost of Almgren et al. (2005) with
      :math:`\alpha` fixed; :math:`(\gamma, \eta, \beta, s)` by the same
      likelihood.  :math:`\gamma` and :math:`\eta` are told apart only by the
      spread of durations :math:`T` at a given :math:`x`.

    Cross-sectional executions are taken as independent, so no HAC
    correction here; the interval regressions of :func:`fit_trade_flow` and
    :func:`fit_ofi` use HAC.

    Examples
    --------
    >>> from execlab.synthetic import metaorders
    >>> ex = metaorders(20_000, {"Y": 0.7, "delta": 0.5}, rng=1)
    >>> fit = fit_impact(ex, "power")
    >>> bool(fit.conf_int().loc["delta", "lower"] < 0.5 < fit.conf_int().loc["delta", "upper"])
    True
    """
    check_choice(model, "model", _MODELS)
    linear = model in ("sqrt", "linear")
    options = _OLS_COV if linear else _MLE_COV
    if cov_type is None:
        cov_type = "HC1" if linear else "HC0"
    check_choice(cov_type, "cov_type", options)
    alpha = check_scalar(alpha, "alpha", min_val=0.0, include_min=False)
    arr = _execution_arrays(executions, need_duration=model == "almgren_chriss")
    n = arr["quantity"].size
    k = {"sqrt": 1, "linear": 1, "power": 3, "almgren_chriss": 4}[model]
    if n < k + 2:
        raise ValueError(
            f"executions has {n} rows; model {model!r} estimates {k} parameter(s) and needs at least {k + 2} rows."
        )
    x = arr["quantity"] / arr["daily_volume"]
    if model != "sqrt" and model != "linear" and np.ptp(np.log(x)) < 1e-12:
        raise ValueError(
            f"quantity / daily_volume is constant ({x[0]:.6g}) in all {n} rows; the exponent cannot be estimated."
        )
    y = arr["cost"] / arr["sigma"]
    if np.ptp(y) == 0:
        raise ValueError(
            f"executions cost / sigma is the same ({y[0]:.6g}) in all {n} rows; there is no variation to fit."
        )
    # sigma and duration may be read-only views of the caller's frame (see _fast_numeric_column);
    # the results object keeps its own copies, so editing the frame later cannot change it.
    data = {"participation": x, "sigma": arr["sigma"].copy(), "cost_bps": 1e4 * arr["cost"], "y": y}
    if "duration" in arr:
        data["duration"] = arr["duration"].copy()
    # The Almgren-Chriss model has no horizon; skip the median there.
    horizon = _median(arr["duration"]) if "duration" in arr and model != "almgren_chriss" else 1.0

    if linear:
        d = 0.5 if model == "sqrt" else 1.0
        res = _ols_one_regressor(y, np.sqrt(x) if d == 0.5 else x, cov_type)
        Y = float(res.params[0])
        fitted_model: _ImpactModel = (SquareRootImpact if model == "sqrt" else LinearImpact)(Y, horizon=horizon)
        names = ["Y"]
    elif model == "power":
        try:
            res = _fit_nls(y, _power_spec(x), cov_type)
        except ValueError as exc:
            raise ValueError(f"fit_impact(model='power'): {exc}") from None
        Y, delta = (float(v) for v in res.params[:2])
        if not delta > 0:
            raise ValueError(f"fitted delta == {delta:.4g}, must be > 0; the costs show no increase with Q/V.")
        fitted_model = PowerLawImpact(Y, delta, horizon=horizon)
        names = ["Y", "delta"]
    else:
        z = x / arr["duration"]
        if np.ptp(np.log(z) - alpha * np.log(x)) < 1e-12:
            raise ValueError("duration does not vary independently of Q/V; gamma and eta cannot be told apart.")
        try:
            res = _fit_nls(y, _ac_spec(x, z, alpha), cov_type)
        except ValueError as exc:
            raise ValueError(f"fit_impact(model='almgren_chriss'): {exc}") from None
        g, e, b = (float(v) for v in res.params[:3])
        if not b > 0:
            raise ValueError(f"fitted beta == {b:.4g}, must be > 0; temporary impact shows no increase with the rate.")
        fitted_model = AlmgrenChrissImpact(g, e, b, alpha)
        names = ["gamma", "eta", "beta"]
    return ImpactFit(fitted_model, res, model, data, names)


# --------------------------------------------------------------------------
# Order flow on the real book
# --------------------------------------------------------------------------


def _newey_west_lags(n: int) -> int:
    return max(1, int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))))


def _check_times(df: pd.DataFrame, name: str) -> pd.DatetimeIndex:
    t = pd.DatetimeIndex(df["time"])
    if t.tz is None:
        raise ValueError(f"{name} column 'time' must be timezone-aware (e.g. {TIMEZONE}).")
    nat = t.isna()
    if nat.any():
        # A NaT would otherwise fall outside every interval (OFI) or every sub-period (groupby drops it).
        pos = int(np.flatnonzero(nat)[0])
        raise ValueError(f"{name} column 'time' has NaT at row {df.index[pos]!r}; every row needs a time.")
    return t.tz_convert(TIMEZONE).as_unit("ns")


def trade_flow_impact(bars: pd.DataFrame) -> pd.DataFrame:
    r"""Per-interval mid-price change and signed traded volume, from bars.

    Parameters
    ----------
    bars : DataFrame
        ``ticker, time, volume, signed_volume, mid_open, mid_close`` as from
        :func:`execlab.load_bars` or :func:`execlab.make_bars` (which build
        them from :func:`execlab.load_trades` and the quotes) at any frequency.

    Returns
    -------
    DataFrame
        One row per ticker and interval: ``ticker, time, signed_volume``
        (buyer- minus seller-initiated shares), ``volume``, ``daily_volume``
        (the ticker-day's total), ``signed_fraction`` (signed volume / daily
        volume) and ``mid_change_bps`` (:math:`10^4 (m_{end}/m_{start} - 1)`
        from the mid at the interval's start and end).
    """
    check_frame(bars, "bars", ["ticker", "time", "volume", "signed_volume", "mid_open", "mid_close"])
    t = _check_times(bars, "bars")
    vol = check_numeric_column(bars, "volume", "bars", min_val=0.0)
    sv = check_numeric_column(bars, "signed_volume", "bars")
    m0 = check_numeric_column(bars, "mid_open", "bars", min_val=0.0, include_min=False)
    m1 = check_numeric_column(bars, "mid_close", "bars", min_val=0.0, include_min=False)
    bad = np.abs(sv) > vol
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"bars column 'signed_volume' has {sv[pos]} at row {bars.index[pos]!r}, larger than its volume {vol[pos]}.")
    out = pd.DataFrame(
        {
            "ticker": bars["ticker"].astype(str).to_numpy(),
            "time": t,
            "signed_volume": sv,
            "volume": vol,
            "mid_change_bps": 1e4 * (m1 / m0 - 1.0),
        }
    )
    day = t.normalize()
    daily = out.groupby([out["ticker"], day])["volume"].transform("sum").to_numpy()
    if (daily <= 0).any():
        pos = int(np.flatnonzero(daily <= 0)[0])
        raise ValueError(f"bars for ticker {out['ticker'].iat[pos]!r} on {day[pos].date()} have no volume at all.")
    out.insert(4, "daily_volume", daily)
    out.insert(5, "signed_fraction", sv / daily)
    return out


def _concave_spec(x: np.ndarray) -> _MeanSpec:
    s = np.sign(x)
    ax = np.abs(x)
    nz = ax > 0
    L = np.zeros_like(ax)
    L[nz] = np.log(ax[nz])

    def powx(p):
        out = np.zeros_like(ax)
        out[nz] = np.exp(p * L[nz])
        return s * out

    def mean(t):
        return t[0] + t[1] * powx(t[2])

    def jac(t):
        px = powx(t[2])
        return np.column_stack([np.ones_like(ax), px, t[1] * px * L])

    def curv(t, r):
        px = powx(t[2])
        a = float(r @ (px * L))
        b = float(r @ (t[1] * px * L * L))
        return np.array([[0.0, 0.0, 0.0], [0.0, 0.0, a], [0.0, a, b]])

    return _MeanSpec(["const", "coef", "exponent"], mean, jac, curv, 2,
                     lambda p: np.column_stack([np.ones_like(ax), powx(p)]), (0.05, 2.0))


@dataclass
class TradeFlowFit:
    """Per-ticker fits of mid change on signed volume (see :func:`fit_trade_flow`).

    Attributes
    ----------
    table : DataFrame
        Index ``(ticker, form)`` with form ``linear`` or ``concave``; columns
        ``coef`` (bps per unit of signed_fraction^exponent), ``se``, ``t``,
        ``exponent`` (1 for linear), ``exponent_se``, ``exponent_lower``,
        ``exponent_upper`` (95 %), ``r2``, ``n``, ``cov_type``, ``maxlags``
        (HAC lags; 0 without HAC).
    results : dict
        statsmodels results keyed by ``(ticker, form)``.
    data : DataFrame
        The per-interval table that was fitted (:func:`trade_flow_impact`).
    """

    table: pd.DataFrame
    results: dict
    data: pd.DataFrame

    def predict(self, ticker: str, form: str, signed_fraction) -> np.ndarray:
        """Fitted mid change (bps) at the given signed fractions of daily volume."""
        check_choice(form, "form", ["linear", "concave"])
        x = check_array(signed_fraction, "signed_fraction")
        p = np.asarray(self.results[(ticker, form)].params)
        if form == "linear":
            return p[0] + p[1] * x
        return p[0] + p[1] * np.sign(x) * np.abs(x) ** p[2]

    def to_model(self, ticker: str, sigma: float) -> PowerLawImpact:
        r"""The concave fit of ``ticker`` as a per-child :class:`PowerLawImpact`.

        A child of :math:`q` shares in an interval is charged the mid move that
        signed flow of that size caused in the data, :math:`c\,(q/V)^{\psi}` bps:
        ``PowerLawImpact(Y = c / (1e4 sigma), delta = psi, horizon = interval /
        session)``, so that a child at the interval's average volume
        :math:`v = V \times \text{interval}/\text{session}` pays exactly that.
        This is the impact of anonymous aggregate flow over the whole interval,
        an upper end for a child that trades inside it, and it has no memory
        across intervals.

        Parameters
        ----------
        ticker : str
        sigma : float
            Daily volatility of the ticker, fraction.
        """
        sigma = check_scalar(sigma, "sigma", min_val=0.0, include_min=False)
        if (ticker, "concave") not in self.results:
            raise ValueError(f"ticker == {ticker!r}, must be one of {sorted({k[0] for k in self.results})}.")
        p = np.asarray(self.results[(ticker, "concave")].params)
        t = pd.DatetimeIndex(self.data.loc[self.data["ticker"] == ticker, "time"])
        step = pd.Series(t[1:] - t[:-1]).min() if len(t) > 1 else SESSION
        return PowerLawImpact(p[1] / (1e4 * sigma), p[2], horizon=step / SESSION)

    def summary(self) -> str:
        t = self.table.drop(columns=["cov_type"])
        head = (
            "Trade-flow impact: mid change (bps) per interval on signed volume / daily volume\n"
            f"covariance: {self.table['cov_type'].iloc[0]}"
            + (" (Newey-West, Bartlett kernel; lags in column maxlags)" if self.table["cov_type"].iloc[0] == "HAC" else "")
            + "\n"
        )
        return head + t.to_string(float_format=lambda v: f"{v:.4g}")


def fit_trade_flow(
    bars: pd.DataFrame,
    *,
    cov_type: str = "HAC",
    maxlags: int | None = None,
) -> TradeFlowFit:
    r"""Impact of signed traded volume on the mid, per ticker, linear and concave.

    Parameters
    ----------
    bars : DataFrame
        Bars (see :func:`trade_flow_impact`) or the table it returns.
    cov_type : {"HAC", "HC0", "nonrobust"}, default "HAC"
        Newey-West (Bartlett kernel) HAC by default: consecutive intervals
        share order-flow persistence, so their errors are autocorrelated.
        No small-sample correction, for the linear and the concave fit alike.
    maxlags : int, optional
        HAC lags; default :math:`\max(1, \lfloor 4 (n/100)^{2/9} \rfloor)`
        with :math:`n` the ticker's number of intervals, the rule of thumb of
        Newey & West (1994) (4 lags for 390 one-minute bars).  The lags used
        are in ``table.maxlags``.

    Returns
    -------
    TradeFlowFit

    Notes
    -----
    With :math:`x_k` the signed volume of interval :math:`k` as a fraction of
    the day's volume and :math:`\Delta m_k` the mid change in bps,

    .. math::
        \text{linear: } \Delta m_k = a + \lambda x_k + \varepsilon_k, \qquad
        \text{concave: } \Delta m_k = a + c\,\mathrm{sign}(x_k)|x_k|^{\psi} + \varepsilon_k .

    The linear form is OLS; the concave one is Gaussian quasi-likelihood
    (nonlinear least squares) in :math:`(a, c, \psi)` with the same
    covariance, so :math:`\psi` comes with a standard error and a 95 %
    interval.  :math:`\psi < 1` is the concavity that the square-root law
    and Cont et al. (2014, section 5) describe for volume-based regressions.

    References
    ----------
    Newey, W. K. and West, K. D. (1994). Automatic lag selection in
    covariance matrix estimation. *Review of Economic Studies*, 61(4), 631-653.
    """
    check_choice(cov_type, "cov_type", ["HAC", "HC0", "nonrobust"])
    if maxlags is not None:
        maxlags = int(check_scalar(maxlags, "maxlags", min_val=0, integer=True))
    table = bars if "signed_fraction" in getattr(bars, "columns", []) else trade_flow_impact(bars)
    check_frame(table, "bars", ["ticker", "time", "signed_fraction", "mid_change_bps"])
    times = _check_times(table, "bars")
    positions = table.groupby("ticker", sort=True).indices
    rows, results = [], {}
    for ticker, g in table.groupby("ticker", sort=True):
        # HAC weights neighbours in row order, so rows must be in time order.
        check_sorted_unique(times[positions[ticker]], f"bars time for {ticker}")
        x = check_numeric_column(g, "signed_fraction", "bars")
        y = check_numeric_column(g, "mid_change_bps", "bars")
        n = x.size
        if n < 6:
            raise ValueError(f"bars for ticker {ticker!r} have {n} intervals; the concave fit needs at least 6.")
        if np.ptp(x) == 0:
            raise ValueError(f"signed_fraction for ticker {ticker!r} is constant ({x[0]}); nothing to regress on.")
        lags = _newey_west_lags(n) if maxlags is None else maxlags
        kw = {"cov_type": cov_type}
        if cov_type == "HAC":
            kw["cov_kwds"] = {"maxlags": lags}
        lin = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(**kw)
        results[(ticker, "linear")] = lin
        hac = lags if cov_type == "HAC" else 0
        rows.append({"ticker": ticker, "form": "linear", "coef": lin.params[1], "se": lin.bse[1],
                     "t": lin.tvalues[1], "exponent": 1.0, "exponent_se": np.nan, "exponent_lower": np.nan,
                     "exponent_upper": np.nan, "r2": lin.rsquared, "n": n, "cov_type": cov_type, "maxlags": hac})
        try:
            con = _fit_nls(y, _concave_spec(x), cov_type, kw.get("cov_kwds"))
        except ValueError as exc:
            raise ValueError(f"concave trade-flow fit for ticker {ticker!r}: {exc}") from None
        results[(ticker, "concave")] = con
        r = y - con.model.spec.mean(np.asarray(con.params)[:-1])
        ci = np.asarray(con.conf_int(0.05))
        r2 = 1.0 - float(r @ r) / float(((y - y.mean()) ** 2).sum())
        rows.append({"ticker": ticker, "form": "concave", "coef": con.params[1], "se": con.bse[1],
                     "t": con.params[1] / con.bse[1], "exponent": con.params[2], "exponent_se": con.bse[2],
                     "exponent_lower": ci[2, 0], "exponent_upper": ci[2, 1], "r2": r2, "n": n, "cov_type": cov_type,
                     "maxlags": hac})
    out = pd.DataFrame(rows).set_index(["ticker", "form"])
    return TradeFlowFit(out, results, table.reset_index(drop=True))


def order_flow_imbalance(
    quotes: pd.DataFrame,
    freq: str | pd.Timedelta = "10s",
    *,
    tick_size: float = 0.01,
    trades: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Order-flow imbalance (OFI) per interval, event by event from the best quotes.

    Parameters
    ----------
    quotes : DataFrame
        ``ticker, time, bid, bid_size, ask, ask_size`` after every book event,
        time-sorted within each ticker (as from :func:`execlab.load_quotes`).
    freq : str or Timedelta, default "10s"
        Interval length; must divide the 09:30-16:00 session.
    tick_size : float, default 0.01
        Dollars per tick, for ``mid_change_ticks``.
    trades : DataFrame, optional
        ``ticker, time, size, sign``; adds ``trade_imbalance`` (buyer- minus
        seller-initiated shares per interval) for the comparison of Cont et al.

    Returns
    -------
    DataFrame
        One row per ticker, day and interval of the session (intervals never
        span tickers or days; empty intervals are kept with OFI 0):
        ``ticker, time`` (interval start), ``ofi`` (shares), ``mid_change``
        (dollars) and ``mid_change_ticks`` (mid at the end of the interval
        minus mid at its start), ``depth`` (mean of (bid_size + ask_size)/2
        over the interval's events; the standing depth if none), ``n_events``
        and, with ``trades``, ``trade_imbalance``.

    Notes
    -----
    Cont, Kukanov & Stoikov (2014, section 2), the contribution of the
    :math:`n`-th book event, from consecutive best-quote states
    :math:`n-1, n` with best bid :math:`P^B` ($), bid size :math:`q^B`
    (shares), best ask :math:`P^A` and ask size :math:`q^A`,

    .. math::
        e_n = \mathbb{1}_{P^B_n \ge P^B_{n-1}} q^B_n
            - \mathbb{1}_{P^B_n \le P^B_{n-1}} q^B_{n-1}
            - \mathbb{1}_{P^A_n \le P^A_{n-1}} q^A_n
            + \mathbb{1}_{P^A_n \ge P^A_{n-1}} q^A_{n-1},

    and :math:`\mathrm{OFI}_k = \sum_{n \in k} e_n` over the events of
    interval :math:`k` (the first event of a ticker-day has no predecessor and
    contributes 0).  The inequalities are weak, as in the paper: an unchanged
    best bid contributes :math:`q^B_n - q^B_{n-1}` (the change in the queue),
    a bid that moves up contributes the whole new queue :math:`q^B_n`, one that
    moves down minus the whole old queue :math:`-q^B_{n-1}`; the ask side
    mirrors it with the opposite sign.  An event stamped exactly on a boundary
    opens the next interval; the state at an interval's end is the book after
    its last event.

    References
    ----------
    Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order
    book events. *Journal of Financial Econometrics*, 12(1), 47-88.
    """
    td = _parse_freq(freq)
    tick_size = check_scalar(tick_size, "tick_size", min_val=0.0, include_min=False)
    check_frame(quotes, "quotes", ["ticker", "time", "bid", "bid_size", "ask", "ask_size"])
    t_all = _check_times(quotes, "quotes")
    bid = check_numeric_column(quotes, "bid", "quotes", min_val=0.0, include_min=False)
    ask = check_numeric_column(quotes, "ask", "quotes", min_val=0.0, include_min=False)
    qb = check_numeric_column(quotes, "bid_size", "quotes", min_val=0.0)
    qa = check_numeric_column(quotes, "ask_size", "quotes", min_val=0.0)
    if trades is not None:
        check_frame(trades, "trades", ["ticker", "time", "size", "sign"])
        tt_all = _check_times(trades, "trades")
        tsz = check_numeric_column(trades, "size", "trades", min_val=0.0)
        tsg = check_numeric_column(trades, "sign", "trades")
        if not (np.abs(tsg) == 1.0).all():
            pos = int(np.flatnonzero(np.abs(tsg) != 1.0)[0])
            raise ValueError(
                f"trades column 'sign' has {tsg[pos]} at row {trades.index[pos]!r}; must be +1 (buyer-initiated) or -1."
            )
        tick_tr = trades["ticker"].astype(str).to_numpy()
        day_tr = tt_all.normalize()
    tickers = quotes["ticker"].astype(str).to_numpy()
    frames = []
    for ticker in pd.unique(tickers):
        sel = tickers == ticker
        t = t_all[sel]
        check_sorted_unique(t, f"quotes time for {ticker}", strict=False)
        days = t.normalize()
        for day in days.unique():
            d = np.flatnonzero(sel)[days == day]
            tn = t_all.asi8[d]
            pb, pa, sb, sa = bid[d], ask[d], qb[d], qa[d]
            e = np.zeros(d.size)
            if d.size > 1:
                e[1:] = (
                    (pb[1:] >= pb[:-1]) * sb[1:]
                    - (pb[1:] <= pb[:-1]) * sb[:-1]
                    - (pa[1:] <= pa[:-1]) * sa[1:]
                    + (pa[1:] >= pa[:-1]) * sa[:-1]
                )
            bins = _session_bins(pd.Timestamp(day.date()), td)
            edges = np.append(bins.asi8, bins.asi8[-1] + td.value)
            nb = len(bins)
            idx = np.searchsorted(edges, tn, side="right") - 1
            inside = (idx >= 0) & (idx < nb)
            ofi = np.bincount(idx[inside], weights=e[inside], minlength=nb)
            n_ev = np.bincount(idx[inside], minlength=nb)
            mid = 0.5 * (pb + pa)
            dep = 0.5 * (sb + sa)
            # State at each edge: book after the last event strictly before it.
            k = np.searchsorted(tn, edges, side="left") - 1
            k0 = np.clip(k, 0, None)
            mid_edge = mid[k0]
            dep_edge = dep[k0]
            dep_sum = np.bincount(idx[inside], weights=dep[inside], minlength=nb)
            depth = np.where(n_ev > 0, dep_sum / np.maximum(n_ev, 1), dep_edge[1:])
            dmid = np.diff(mid_edge)
            frame = pd.DataFrame(
                {
                    "ticker": ticker,
                    "time": bins,
                    "ofi": ofi,
                    "mid_change": dmid,
                    "mid_change_ticks": dmid / tick_size,
                    "depth": depth,
                    "n_events": n_ev.astype(np.int64),
                }
            )
            if trades is not None:
                ts = (tick_tr == ticker) & (day_tr == day)
                ti = np.searchsorted(edges, tt_all.asi8[ts], side="right") - 1
                ok = (ti >= 0) & (ti < nb)
                frame["trade_imbalance"] = np.bincount(ti[ok], weights=(tsz[ts] * tsg[ts])[ok], minlength=nb)
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["ticker"] = out["ticker"].astype(str)
    return out


@dataclass
class OFIFit:
    """OFI regressions per ticker (and sub-period), from :func:`fit_ofi`.

    Attributes
    ----------
    table : DataFrame
        Index ``ticker`` or ``(ticker, subperiod)``: ``alpha`` (ticks),
        ``beta`` (ticks per share of OFI), ``se``, ``t``, ``pvalue``, ``r2``,
        ``n``, ``depth`` (mean, shares), ``beta_depth`` (beta x depth, which
        Cont et al. find roughly constant) and ``maxlags`` (HAC lags; 0
        without HAC).
    results : dict
        statsmodels ``RegressionResults`` keyed like ``table``'s index.
    by_ticker : DataFrame
        Per ticker across sub-periods: mean and median R^2, median beta, the
        share of significant betas (5 %), and ``depth_exponent`` with its
        standard error from :math:`\\log\\beta_i = c - \\lambda \\log D_i`
        (NaN without sub-periods).
    regressor : str
        ``"ofi"`` or ``"trade_imbalance"``.
    cov_type : str
        Covariance of the standard errors (``"HAC"``: Newey-West, lags in
        ``table.maxlags``).
    """

    table: pd.DataFrame
    results: dict
    by_ticker: pd.DataFrame
    regressor: str
    cov_type: str = "HAC"

    def summary(self) -> str:
        head = (
            f"Price impact of {self.regressor}: mid change (ticks) = alpha + beta * {self.regressor} (shares)\n"
            "Cont, Kukanov & Stoikov (2014): average R^2 about 0.65 (10 s intervals, 30 min sub-periods)\n"
            f"standard errors: {self.cov_type}"
            + (" (Newey-West, Bartlett kernel; lags in column maxlags)" if self.cov_type == "HAC" else "")
            + "\n\n"
        )
        return (
            head
            + self.by_ticker.to_string(float_format=lambda v: f"{v:.4g}")
            + "\n\n"
            + self.table.to_string(float_format=lambda v: f"{v:.4g}")
        )


def fit_ofi(
    table: pd.DataFrame,
    subperiod: str | pd.Timedelta | None = "30min",
    *,
    regressor: str = "ofi",
    cov_type: str = "HAC",
    maxlags: int | None = None,
) -> OFIFit:
    r"""Regress mid-price changes on order-flow imbalance, per ticker and sub-period.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`order_flow_imbalance`.
    subperiod : str or Timedelta or None, default "30min"
        Fit one regression per sub-period of this length within each
        ticker-day, as Cont et al.; ``None`` fits one per ticker (whole sample).
    regressor : {"ofi", "trade_imbalance"}
        ``trade_imbalance`` needs the table built with ``trades=``.
    cov_type : {"HAC", "HC1", "nonrobust"}, default "HAC"
        Newey-West HAC (Bartlett kernel, no small-sample correction): order
        flow is persistent across consecutive intervals.  Cont et al. report
        OLS; the estimates are the same, only the standard errors differ.
    maxlags : int, optional
        HAC lags; default :math:`\max(1, \lfloor 4 (n/100)^{2/9} \rfloor)`
        with :math:`n` the intervals in each regression, the rule of thumb of
        Newey & West (1994): 4 lags for the 180 ten-second intervals of a
        30-minute sub-period.  The lags used are in ``table.maxlags``.

    Returns
    -------
    OFIFit

    Notes
    -----
    For each ticker and sub-period :math:`i`, OLS of

    .. math:: \Delta P_{k} = \hat\alpha_i + \hat\beta_i\,\mathrm{OFI}_{k} + \hat\varepsilon_{k}

    over its intervals :math:`k`, with :math:`\Delta P` in ticks.  Cont et al.
    find :math:`\hat\beta_i \approx c / D_i^{\lambda}` with :math:`\lambda`
    near 1, :math:`D_i` the average depth; ``by_ticker.depth_exponent`` is
    the OLS estimate of :math:`\lambda` across sub-periods.

    References
    ----------
    Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order
    book events. *Journal of Financial Econometrics*, 12(1), 47-88.

    Newey, W. K. and West, K. D. (1994). Automatic lag selection in
    covariance matrix estimation. *Review of Economic Studies*, 61(4), 631-653.
    """
    check_choice(regressor, "regressor", ["ofi", "trade_imbalance"])
    check_choice(cov_type, "cov_type", ["HAC", "HC1", "nonrobust"])
    if maxlags is not None:
        maxlags = int(check_scalar(maxlags, "maxlags", min_val=0, integer=True))
    check_frame(table, "table", ["ticker", "time", regressor, "mid_change_ticks", "depth"])
    t = _check_times(table, "table")
    x_all = check_numeric_column(table, regressor, "table")
    y_all = check_numeric_column(table, "mid_change_ticks", "table")
    d_all = check_numeric_column(table, "depth", "table", min_val=0.0)
    tick = table["ticker"].astype(str).to_numpy()
    if subperiod is None:
        key = pd.Series(tick)
        groups = key.groupby(key, sort=True).indices
        groups = {k: v for k, v in groups.items()}
    else:
        sp = _parse_freq(subperiod)
        start = t.normalize() + pd.Timedelta(hours=9, minutes=30)
        sp_start = start + ((t - start) // sp) * sp
        key = pd.DataFrame({"ticker": tick, "subperiod": sp_start})
        groups = key.groupby(["ticker", "subperiod"], sort=True).indices
    rows, results = [], {}
    for k, idx in groups.items():
        x, y = x_all[idx], y_all[idx]
        n = idx.size
        label = k if isinstance(k, tuple) else (k,)
        if n < 4 or np.ptp(x) == 0:
            raise ValueError(
                f"{label} has {n} intervals with {regressor} range {np.ptp(x) if n else 0}; "
                "a regression needs at least 4 intervals and a varying regressor (use a longer subperiod)."
            )
        # HAC weights neighbours in row order, so rows must be in time order.
        check_sorted_unique(t[idx], f"table time for {label}")
        kw = {"cov_type": cov_type}
        lags = 0
        if cov_type == "HAC":
            lags = _newey_west_lags(n) if maxlags is None else maxlags
            kw["cov_kwds"] = {"maxlags": lags}
        res = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(**kw)
        results[k] = res
        depth = float(d_all[idx].mean())
        rows.append(
            {
                **({"ticker": k[0], "subperiod": k[1]} if isinstance(k, tuple) else {"ticker": k}),
                "alpha": res.params[0],
                "beta": res.params[1],
                "se": res.bse[1],
                "t": res.tvalues[1],
                "pvalue": res.pvalues[1],
                "r2": res.rsquared,
                "n": n,
                "depth": depth,
                "beta_depth": res.params[1] * depth,
                "maxlags": lags,
            }
        )
    index = ["ticker", "subperiod"] if subperiod is not None else ["ticker"]
    out = pd.DataFrame(rows).set_index(index)
    agg = []
    for ticker, g in out.groupby(level="ticker", sort=True):
        lam, lam_se = np.nan, np.nan
        pos = (g["beta"] > 0) & (g["depth"] > 0)
        if subperiod is not None and pos.sum() >= 4:
            dres = sm.OLS(np.log(g.loc[pos, "beta"].to_numpy()),
                          sm.add_constant(np.log(g.loc[pos, "depth"].to_numpy()), has_constant="add")).fit()
            lam, lam_se = -dres.params[1], dres.bse[1]
        agg.append(
            {
                "ticker": ticker,
                "n_fits": len(g),
                "r2_mean": g["r2"].mean(),
                "r2_median": g["r2"].median(),
                "beta_median": g["beta"].median(),
                "share_significant": float((g["pvalue"] < 0.05).mean()),
                "depth_mean": g["depth"].mean(),
                "depth_exponent": lam,
                "depth_exponent_se": lam_se,
            }
        )
    return OFIFit(out, results, pd.DataFrame(agg).set_index("ticker"), regressor, cov_type)
