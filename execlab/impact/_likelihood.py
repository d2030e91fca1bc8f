"""Gaussian quasi-likelihood for a nonlinear mean, used by every nonlinear fit.

A :class:`_MeanSpec` holds a mean function with its derivatives;
:func:`_fit_nls` starts from a profile fit over the one nonlinear parameter
and polishes with Newton steps on :class:`_GaussianNLS`, a statsmodels
``GenericLikelihoodModel`` with analytic score and Hessian.  The specs of the
impact fits (power law, Almgren-Chriss) and of the concave trade-flow fit are
at the end.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning


@dataclass
class _MeanSpec:
    """A nonlinear mean f(theta) with first and second derivatives.

    ``jac(theta)`` is (n, k); ``curv(theta, r)`` returns sum_i r_i * Hess f_i (k, k).
    ``nonlinear`` is the position of the single nonlinear parameter, searched
    within ``bounds`` for start values; ``design(value)`` gives the (n, k - 1)
    regressors of the linear ones at that value, in parameter order with the
    nonlinear one removed.  ``dcol(value)`` is the derivative in the nonlinear
    parameter of the one column of ``design`` that depends on it, and
    ``domain`` the range of that parameter searched by the profile fit and the
    profile intervals; ``positive`` lists the coefficients whose intervals are
    searched on the log scale when their estimate is > 0.
    """

    names: list[str]
    mean: callable
    jac: callable
    curv: callable
    nonlinear: int
    design: callable
    bounds: tuple[float, float]
    dcol: callable = None
    domain: tuple[float, float] = (0.01, 4.0)
    positive: tuple[int, ...] = ()


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


def _profile_fit(y: np.ndarray, spec: _MeanSpec) -> tuple[np.ndarray, float]:
    """Least squares by profiling over the whole ``domain`` of the nonlinear parameter.

    Exact to ``xatol`` in the nonlinear parameter, so Newton only polishes.
    Raises ``ValueError`` when the minimum lies at the top of the domain (an
    exponent of 4 or more is no impact law; the fit would diverge).
    """
    lo, hi = spec.domain
    yy = float(y @ y)

    def linear_part(v):
        X = spec.design(v)
        Xty = X.T @ y
        try:
            b = np.linalg.solve(X.T @ X, Xty)
        except np.linalg.LinAlgError:
            b = np.linalg.lstsq(X, y, rcond=None)[0]
        return b, max(yy - float(b @ Xty), 0.0)

    grid = np.linspace(lo, hi, 25)
    ssr = [linear_part(v)[1] for v in grid]
    i = int(np.argmin(ssr))
    name = spec.names[spec.nonlinear]
    if i == grid.size - 1:
        raise ValueError(
            f"the least-squares {name} is at the top of its range ({name} >= {hi:g}): the costs rise far faster "
            "than any impact law, so the fit diverges (a few large, costly orders dominate, or the sample is too "
            f"small).  Fix the exponent (model='sqrt' sets delta = 0.5), or pool more executions over a wider "
            "range of Q/V, and look at the largest orders."
        )
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(lambda v: linear_part(v)[1], bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-9})
    v = float(res.x)
    if i == 0 and v - lo < 1e-6:
        raise ValueError(
            f"the least-squares {name} is at the bottom of its range ({name} <= {lo:g}): the costs show no "
            "increase with size, so there is no impact law to fit (pure noise, or too few executions).  "
            "Fix the exponent (model='sqrt' sets delta = 0.5) or pool more executions."
        )
    lin, ssr_v = linear_part(v)
    return np.insert(lin, spec.nonlinear, v), float(np.sqrt(ssr_v / y.size))


def _fit_nls(y: np.ndarray, spec: _MeanSpec, cov_type: str, cov_kwds: dict | None = None):
    model = _GaussianNLS(y, spec)
    kw = {"cov_type": cov_type}
    if cov_kwds:
        kw["cov_kwds"] = cov_kwds
    if spec.dcol is not None:
        # The exact profile optimum is the least-squares estimate: statsmodels only evaluates
        # the score, Hessian and covariance there (no Newton steps that could wander off).
        theta, s = _profile_fit(y, spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = model.fit(start_params=np.append(theta, s), method="newton", maxiter=0, disp=0, **kw)
        res.mle_retvals["converged"] = True
    else:
        start = _profile_start(y, spec)
        with warnings.catch_warnings():
            # Non-convergence is turned into an error below, with the estimates in the message.
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = model.fit(start_params=start, method="newton", maxiter=50, disp=0, **kw)
    est = ", ".join(f"{k} == {v:.4g}" for k, v in zip(spec.names, np.asarray(res.params)))
    if not res.mle_retvals.get("converged", False):
        raise ValueError(
            f"the quasi-likelihood fit did not converge in 50 Newton steps (last: {est}); the data do not pin "
            "the parameters down (e.g. no systematic increase of the cost with size).  Fix the exponent "
            "(model='sqrt'), or pool more executions over a wider range of Q/V."
        )
    if not np.all(np.isfinite(res.bse)):
        raise ValueError(
            f"the Hessian is singular at the estimate ({est}); the parameters are not identified by these data.  "
            "Fix the exponent (model='sqrt'), or pool more executions over a wider range of Q/V."
        )
    return res


# --------------------------------------------------------------------------
# Mean specifications
# --------------------------------------------------------------------------
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

    return _MeanSpec(["Y", "delta"], mean, jac, curv, 1, lambda d: np.exp(d * L)[:, None], (0.02, 2.0),
                     dcol=lambda d: np.exp(d * L) * L, positive=(0,))


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
                     lambda b: np.column_stack([xa, np.exp(b * Lz)]), (0.05, 2.0),
                     dcol=lambda b: np.exp(b * Lz) * Lz, positive=(1,))


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
