r"""Confidence intervals of the impact fits: profile score, Wald and pairs bootstrap.

The nonlinear impact models are *conditionally linear*: for a fixed exponent
:math:`v` (``delta`` of the power law, ``beta`` of Almgren-Chriss) the mean is
:math:`X(v)\,b`, linear in the coefficients :math:`b`.  A 95 % interval for a
parameter is the set of values :math:`c` that a heteroskedasticity-robust
score (Lagrange-multiplier) test does not reject at 5 %, with every other
parameter re-estimated under :math:`\theta_j = c` (the profile):

.. math::
    LM(c) = \frac{\big(\sum_i \tilde r_i \tilde a_i\big)^2}{\sum_i \tilde r_i^2 \tilde a_i^2}
    \le \chi^2_{1, 1-\alpha},

where :math:`\tilde r` are the residuals of the restricted fit and
:math:`\tilde a` the derivative of the mean in :math:`\theta_j`, with the
derivatives in the other parameters partialled out (Wooldridge 1990; Boos
1992).  Why this and not the Wald interval :math:`\hat\theta \pm 1.96\,se`:

* The Wald interval is a linear approximation, exact only when the model is
  linear in the parameter.  The power law's prefactor is an extrapolation to
  :math:`Q/V = 1`, about 500 times the median order, so
  :math:`\hat Y = \hat Y_{ref}\,x_0^{-\hat\delta}` inherits the error of
  :math:`\hat\delta` multiplied by :math:`|\log x_0| \approx 6`: its sampling
  distribution is skewed like a lognormal and a symmetric interval under-covers
  (Bates & Watts 1988, ch. 7, on such parameter-effects curvature).  A test
  inverted with the nuisance parameters profiled out does not depend on how
  the model is parameterized (Venzon & Moolgavkar 1988), so it needs no
  reparameterization to be right, and it is asymmetric where the likelihood is.
* The score statistic uses the residuals of the restricted fit and a
  sandwich variance, so it stays valid when the noise is not Gaussian or not
  homoskedastic, like the HC0 Wald interval it replaces.
* Where the data carry little information, the interval is wide or unbounded
  (the test rejects no large exponent), instead of a tight interval around a
  wild estimate.

The pairs bootstrap (Efron & Tibshirani 1993, ch. 9 and 13) resamples whole
executions and refits; it is offered as a check with an explicit random
generator.

References
----------
Bates, D. M. and Watts, D. G. (1988). *Nonlinear Regression Analysis and Its
Applications*. Wiley.

Boos, D. D. (1992). On generalized score tests. *The American Statistician*,
46(4), 327-333.

Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*.
Chapman & Hall.

Venzon, D. J. and Moolgavkar, S. H. (1988). A method for computing
profile-likelihood-based confidence intervals. *Applied Statistics*, 37(1),
87-94.

Wooldridge, J. M. (1990). A unified approach to robust, regression-based
specification tests. *Econometric Theory*, 6(1), 17-43.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from ._likelihood import _MeanSpec, _profile_fit


def _partial_out(X: np.ndarray, *vs: np.ndarray) -> list[np.ndarray]:
    """Residuals of each ``v`` on the columns of ``X`` (normal equations; pinv if singular)."""
    if X.shape[1] == 0:
        return list(vs)
    G = np.linalg.pinv(X.T @ X)
    return [v - X @ (G @ (X.T @ v)) for v in vs]


def _lm(r: np.ndarray, a: np.ndarray, groups: np.ndarray | None = None) -> float:
    """Robust score statistic (r'a)^2 / sum(r^2 a^2); 0 if ``a`` is spanned by the nuisance columns.

    With ``groups`` (integer cluster codes 0..G-1) the denominator sums the
    score within each cluster first, sum_g (sum_{i in g} r_i a_i)^2: the
    cluster-robust score test.
    """
    ra = r * a
    if groups is not None:
        ra = np.bincount(groups, weights=ra)
    den = float(ra @ ra)
    if not den > 0:
        return 0.0
    num = float(ra.sum())
    return num * num / den


def _lm_exponent(y: np.ndarray, spec: _MeanSpec, v: float, groups: np.ndarray | None = None) -> float:
    """Score statistic of H0: exponent == v, the coefficients re-estimated by least squares."""
    X = spec.design(v)
    r, h = _partial_out(X, y, spec.dcol(v))
    return _lm(r, h, groups)


class _Profile:
    """Score statistic of H0: coefficient j == c, re-estimating the exponent (warm-started)."""

    def __init__(self, y: np.ndarray, spec: _MeanSpec, j: int, v_hat: float,
                 groups: np.ndarray | None = None) -> None:
        self.y, self.spec, self.j, self.groups = y, spec, j, groups
        self.v = v_hat

    def _ssr(self, c: float, v: float) -> float:
        X = self.spec.design(v)
        yc = self.y - c * X[:, self.j]
        (r,) = _partial_out(np.delete(X, self.j, axis=1), yc)
        return float(r @ r)

    def __call__(self, c: float) -> float:
        lo, hi = self.spec.domain
        a, b = max(lo, self.v - 0.5), min(hi, self.v + 0.5)
        res = optimize.minimize_scalar(lambda v: self._ssr(c, v), bounds=(a, b), method="bounded",
                                       options={"xatol": 1e-6})
        v = float(res.x)
        if min(v - a, b - v) < 1e-4 and (a > lo or b < hi):
            # The restricted optimum left the window: search the whole domain once.
            grid = np.linspace(lo, hi, 25)
            k = int(np.argmin([self._ssr(c, g) for g in grid]))
            res = optimize.minimize_scalar(lambda v: self._ssr(c, v), bounds=(grid[max(k - 1, 0)], grid[min(k + 1, 24)]),
                                           method="bounded", options={"xatol": 1e-6})
            v = float(res.x)
        self.v = v
        X = self.spec.design(v)
        yc = self.y - c * X[:, self.j]
        others = np.delete(X, self.j, axis=1)
        (r,) = _partial_out(others, yc)
        (a,) = _partial_out(np.column_stack([others, self.spec.dcol(v)]), X[:, self.j])
        return _lm(r, a, self.groups)


def _invert(stat, center: float, step: float, crit: float, lo: float, hi: float,
            log: bool = False) -> tuple[float, float]:
    """Interval {c : stat(c) <= crit} around ``center``, found by stepping out and bisecting.

    Steps grow geometrically from ``step``; a side that never rejects inside
    [lo, hi] is reported as ``lo`` / ``hi`` (the edge of the parameter space, or
    -inf / inf).  With ``log`` the search is on log(c) (c > 0).
    """
    to = np.exp if log else (lambda u: u)
    u0 = np.log(center) if log else center
    out = []
    for sgn in (-1.0, 1.0):
        edge = lo if sgn < 0 else hi
        u_edge = (np.log(edge) if edge > 0 else -np.inf) if log else edge
        if log and not np.isfinite(u_edge):
            # A factor of e^30 either way: past that, report the edge of the parameter space.
            u_edge = u0 + sgn * 30.0
        inside, s, found = u0, step, None
        for _ in range(80):
            u = u0 + sgn * s
            if (sgn < 0 and u <= u_edge) or (sgn > 0 and u >= u_edge):
                if np.isfinite(u_edge) and stat(to(u_edge)) > crit:
                    found = u_edge
                elif log:
                    found = None
                break
            if stat(to(u)) > crit:
                found = u
                break
            inside, s = u, s * 1.6
        if found is None:
            out.append(edge)
            continue
        a, b = sorted((inside, found))
        if (stat(to(a)) - crit) * (stat(to(b)) - crit) > 0:  # the estimate itself is rejected: a point
            out.append(float(to(inside)))
            continue
        root = optimize.brentq(lambda u: stat(to(u)) - crit, a, b, xtol=1e-9 if log else 1e-9 * max(1.0, abs(u0)))
        out.append(float(to(root)))
    return out[0], out[1]


def profile_intervals(y: np.ndarray, spec: _MeanSpec, theta: np.ndarray, bse: np.ndarray, alpha: float,
                      which: list[int] | None = None, groups: np.ndarray | None = None) -> np.ndarray:
    """Profile score intervals for the parameters of a conditionally linear spec, shape (k, 2).

    ``groups`` (integer cluster codes) makes the score test cluster-robust.
    """
    crit = float(stats.chi2.ppf(1.0 - alpha, 1))
    k = theta.size
    which = range(k) if which is None else which
    out = np.full((k, 2), np.nan)
    m = spec.nonlinear
    for i in which:
        se = float(bse[i]) if np.isfinite(bse[i]) and bse[i] > 0 else 0.1 * max(abs(theta[i]), 1e-3)
        if i == m:
            # Exponents live in (0, top]: no rejection at 0 reports 0, none at the top reports inf.
            top = spec.domain[1]
            out[i] = _invert(lambda v: _lm_exponent(y, spec, v, groups), float(theta[i]), 0.5 * se, crit, 0.0, top)
            if out[i, 1] >= top:
                out[i, 1] = np.inf
            continue
        j = i if i < m else i - 1  # column of the coefficient in design(v)
        prof = _Profile(y, spec, j, float(theta[m]), groups)
        if i in spec.positive and theta[i] > 0:
            out[i] = _invert(prof, float(theta[i]), 0.5 * se / theta[i], crit, 0.0, np.inf, log=True)
        else:
            big = 1e4 * (abs(float(theta[i])) + se)
            lo, hi = _invert(prof, float(theta[i]), 0.5 * se, crit, -big, big)
            out[i] = [-np.inf if lo <= -big else lo, np.inf if hi >= big else hi]
    return out


def bootstrap_draws(y: np.ndarray, make_spec, n: int, n_boot: int, rng: np.random.Generator,
                    linear_column=None, groups: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Pairs-bootstrap estimates, shape (n_boot - failures, k), and the number of failed refits.

    ``make_spec(idx)`` builds the spec on the resampled rows; ``linear_column``
    (for the one-regressor fits) gives the regressor instead, refitted in
    closed form.  With ``groups`` (integer cluster codes) whole clusters are
    resampled (the cluster bootstrap), so within-cluster dependence is kept.
    """
    draws, failed = [], 0
    if groups is not None:
        order = np.argsort(groups, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(groups))])
        n_groups = bounds.size - 1
    for _ in range(n_boot):
        if groups is None:
            idx = rng.integers(0, n, n)
        else:
            pick = rng.integers(0, n_groups, n_groups)
            idx = np.concatenate([order[bounds[g]:bounds[g + 1]] for g in pick])
        yb = y[idx]
        if linear_column is not None:
            g = linear_column[idx]
            draws.append([float(g @ yb) / float(g @ g)])
            continue
        try:
            theta, _ = _profile_fit(yb, make_spec(idx))
        except (ValueError, np.linalg.LinAlgError):
            failed += 1
            continue
        draws.append(theta)
    return np.asarray(draws, dtype=np.float64), failed
