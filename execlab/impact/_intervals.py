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

**How it is computed.**  Nothing is optimised inside another optimisation.
At a fixed exponent every least-squares quantity comes from the cross
products of :math:`[X(v), \partial X/\partial v, y]`
(:class:`~execlab.impact._likelihood._Concentrated`, one pass over the data).
The exponent's interval steps out from the estimate and solves
:math:`LM(v) = \chi^2` by Brent.  For a coefficient, the restricted fit under
:math:`b_j = c` is stationary in the exponent where
:math:`(My)^\top d = c\,(MX_j)^\top d` (:math:`M` projects off the other
columns, :math:`d = \partial X/\partial v`), so the value :math:`c(v)` whose
restricted optimum sits at :math:`v` is explicit and the profile is the curve
:math:`v \mapsto (c(v), LM(v))`; its ends are again roots in :math:`v`.
With little information the sum of squares can have two minima in the
exponent and the restricted optimum jumps between them as :math:`c` moves,
so the acceptance set has pieces away from the estimate: a scan of the
exponent's whole range adds them (the interval is their hull), keeping only
values that a likelihood-ratio test, rescaled by the robust-to-naive
variance ratio, does not reject at 0.1 % (far from the estimate the score
test loses its power; see ``_coefficient_interval``).  The coverage of all of
this on synthetic data with known parameters is measured by
``benchmarks/coverage_impact.py`` (table in ``benchmarks/COVERAGE.md``).

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

from ._likelihood import _Concentrated, _MeanSpec, _profile_fit


def _side(stat, u0: float, sgn: float, step: float, crit: float, u_edge: float, to=lambda u: u,
          log: bool = False, xtol: float | None = None) -> float | None:
    """Where ``stat`` first exceeds ``crit`` going from ``u0`` in direction ``sgn``: a root, or
    ``None`` when it never does before ``u_edge``.  Steps grow geometrically from ``step``
    (1.6 x) and the crossing is bisected (Brent).  ``nan`` if ``u0`` itself is rejected."""
    if log and not np.isfinite(u_edge):
        # A factor of e^30 either way: past that, report the edge of the parameter space.
        u_edge = u0 + sgn * 30.0
    inside, s, found = u0, step, None
    for _ in range(80):
        u = u0 + sgn * s
        if (sgn < 0 and u <= u_edge) or (sgn > 0 and u >= u_edge):
            if np.isfinite(u_edge) and stat(to(u_edge)) > crit:
                found = u_edge
            break
        if stat(to(u)) > crit:
            found = u
            break
        inside, s = u, s * 1.6
    if found is None:
        return None
    a, b = sorted((inside, found))
    if (stat(to(a)) - crit) * (stat(to(b)) - crit) > 0:  # the estimate itself is rejected: a point
        return np.nan
    if xtol is None:
        xtol = 1e-9 if log else 1e-9 * max(1.0, abs(u0))
    return float(optimize.brentq(lambda u: stat(to(u)) - crit, a, b, xtol=xtol))


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
    for sgn, edge in ((-1.0, lo), (1.0, hi)):
        u_edge = (np.log(edge) if edge > 0 else -np.inf) if log else edge
        root = _side(stat, u0, sgn, step, crit, u_edge, to, log)
        if root is None:
            out.append(edge)
        elif np.isnan(root):
            out.append(float(center))
        else:
            out.append(float(to(root)))
    return out[0], out[1]


def _quadratic_beyond(pq: tuple, crit: float, c0: float, direction: float) -> float:
    """First c beyond ``c0`` (in ``direction``) where (p - c q)^2 / (D - 2cE + c^2 F) reaches ``crit``;
    +-inf if it never does."""
    p, q, D, E, F = pq
    A, B, C = q * q - crit * F, -2.0 * (p * q - crit * E), p * p - crit * D
    if A == 0.0:
        roots = [] if B == 0.0 else [-C / B]
    else:
        disc = B * B - 4.0 * A * C
        roots = [] if disc < 0 else [(-B - np.sqrt(disc)) / (2 * A), (-B + np.sqrt(disc)) / (2 * A)]
    ahead = [r for r in roots if (r - c0) * direction > 0]
    if not ahead:
        return direction * np.inf
    return float(min(ahead, key=lambda r: abs(r - c0)))


#: Points of the scan of the exponent's whole domain (see :func:`_coefficient_interval`).
_SCAN = 41
#: Level of the likelihood-ratio screen of :func:`_coefficient_interval`: a value of a
#: coefficient is kept only if the quasi-likelihood ratio test, rescaled by the robust-to-naive
#: variance ratio, does not reject it at 0.1 %.
_LR_ALPHA = 0.001


def _coefficient_interval(conc: _Concentrated, spec: _MeanSpec, j: int, theta: np.ndarray, i: int,
                          se_v: float, crit: float, lr_ssr: float, edge_fit: bool = False) -> tuple[float, float]:
    """Profile score interval of coefficient ``i`` (column ``j`` of the design): the hull of the
    values c that the score test does not reject, the exponent and the other coefficients
    re-estimated under b_i = c.

    For each exponent v, the value c(v) whose restricted least squares is
    stationary at v is explicit (:meth:`_Concentrated.coefficient_path`), and
    so is the score statistic there: every restricted optimum inside the
    domain lies on the curve v -> (c(v), LM(v)).  The interval is the range
    of c over the stretches of that curve where LM <= crit:

    * next to the estimate, v steps out on each side until LM exceeds ``crit``
      and the crossing is found by Brent (exact ends when the data are
      informative);
    * a scan of the whole domain finds accepted stretches further away: with
      little information the sum of squares has two minima in the exponent,
      the restricted optimum jumps from one to the other as c moves, and the
      values of c accepted on the far branch belong in the interval (leaving
      them out made 95 % intervals of the Almgren-Chriss coefficients cover
      0.87 at n = 500).  Crossings between scan points are refined by Brent;
    * where an accepted stretch reaches an edge of the domain, the restricted
      exponent stays at the edge for c beyond c(edge): the statistic is a
      ratio of quadratics in c and the end is solved exactly (possibly
      unbounded).

    Far from the estimate the score statistic can lose its power: at an
    exponent of 3 or 4 the derivative of the mean is carried by a few of the
    largest orders, the statistic stays small, and a restricted fit whose
    sum of squares is far above the minimum is not rejected (taking such
    stretches in made the interval of the power law's Y cover 0.987 at
    n = 3,000).  So a stretch found by the scan counts only where its
    restricted sum of squares is at most ``lr_ssr``: the quasi-likelihood
    ratio, rescaled by the robust-to-naive variance ratio, does not reject it
    at 0.1 % (see :func:`profile_intervals`).  The walk next to the estimate,
    where the two tests agree, is not screened.  ``edge_fit``: the estimate
    is at an edge of the domain (not a stationary point) and is not put in
    the interval unless accepted.
    """
    m = spec.nonlinear
    lo, hi = spec.domain
    v_hat = min(max(float(theta[m]), lo), hi)
    cs = [] if edge_fit else [float(theta[i])]

    def restricted_ssr(c: float) -> float:
        A, B, C = conc.quadratic  # of the last coefficient_path
        return A - 2 * c * B + c * c * C

    def path(v: float) -> tuple[float, float]:
        c, lm = conc.coefficient_path(v, j)
        if not (np.isfinite(c) and np.isfinite(lm)):
            return c, np.inf  # a pole of c(v): no restricted optimum here
        return c, lm

    screen = [False]  # the likelihood-ratio screen applies to the scan, not to the walk

    def stat(v: float) -> float:
        c, lm = path(v)
        if lm <= crit and (not screen[0] or restricted_ssr(c) <= lr_ssr):
            cs.append(c)
        return lm

    def continue_at(edge: float, sgn: float) -> None:
        c_edge, lm_edge = path(edge)
        A, B, C = conc.quadratic
        c_in, _ = path(edge - sgn * min(1e-3, 0.5 * (hi - lo)))
        if not (np.isfinite(c_edge) and np.isfinite(c_in) and c_edge != c_in and lm_edge <= crit):
            return
        if screen[0] and A - 2 * c_edge * B + c_edge * c_edge * C > lr_ssr:
            return
        # Beyond c(edge) the restricted exponent would leave the domain: it stays at the edge.
        direction = float(np.sign(c_edge - c_in))
        end = _quadratic_beyond(conc.coefficient_quadratic(edge, j), crit, c_edge, direction)
        disc = B * B - C * (A - lr_ssr)
        if screen[0] and C > 0 and disc >= 0:
            # ... and no further than the likelihood-ratio bound: A - 2cB + c^2 C = lr_ssr.
            bound = (B + direction * np.sqrt(disc)) / C
            end = min(end, bound) if direction > 0 else max(end, bound)
        cs.append(end)

    walked = [v_hat, v_hat]
    for side, (sgn, edge) in enumerate(((-1.0, lo), (1.0, hi))):
        root = _side(stat, v_hat, sgn, 0.5 * se_v, crit, edge, xtol=1e-12)
        if root is None:
            walked[side] = edge
            continue_at(edge, sgn)
        elif np.isfinite(root):
            walked[side] = root
            stat(root)
    # The scan of the whole domain, for accepted stretches away from the estimate.
    screen[0] = True
    grid = np.linspace(lo, hi, _SCAN)
    lm = np.array([stat(float(v)) for v in grid])
    for k in range(grid.size - 1):
        a, b = float(grid[k]), float(grid[k + 1])
        if (lm[k] <= crit) != (lm[k + 1] <= crit) and (b <= walked[0] or a >= walked[1]) \
                and np.isfinite(lm[k]) and np.isfinite(lm[k + 1]):
            try:
                stat(optimize.brentq(lambda v: stat(v) - crit, a, b, xtol=1e-12))
            except ValueError:  # a pole between the two points
                pass
    for edge, sgn, k in ((lo, -1.0, 0), (hi, 1.0, -1)):
        if lm[k] <= crit and walked[0 if sgn < 0 else 1] != edge:
            continue_at(edge, sgn)
    if not cs:  # nothing accepted anywhere on the curve
        return float(theta[i]), float(theta[i])
    return min(cs), max(cs)


def _exponent_scan(conc: _Concentrated, top: float, crit: float) -> tuple[float, float]:
    """Hull of {v in [0, top] : LM(v) <= crit} from a scan of the whole range, crossings by Brent
    (for an estimate at an edge of the range, which is no stationary point to step out from)."""
    grid = np.linspace(0.0, top, _SCAN)
    lm = np.array([conc.lm_exponent(float(v)) for v in grid])
    ok = lm <= crit
    if not ok.any():
        return np.nan, np.nan
    k0, k1 = int(np.flatnonzero(ok)[0]), int(np.flatnonzero(ok)[-1])
    f = lambda v: conc.lm_exponent(v) - crit  # noqa: E731
    lo = 0.0 if k0 == 0 else optimize.brentq(f, float(grid[k0 - 1]), float(grid[k0]), xtol=1e-12)
    hi = np.inf if k1 == grid.size - 1 else optimize.brentq(f, float(grid[k1]), float(grid[k1 + 1]), xtol=1e-12)
    return float(lo), float(hi)


def profile_intervals(y: np.ndarray, spec: _MeanSpec, theta: np.ndarray, bse: np.ndarray, alpha: float,
                      which: list[int] | None = None, groups: np.ndarray | None = None,
                      edge_fit: bool = False, kappa: np.ndarray | None = None) -> np.ndarray:
    """Profile score intervals for the parameters of a conditionally linear spec, shape (k, 2).

    ``groups`` (integer cluster codes) makes the score test cluster-robust.
    ``kappa``: robust over naive variance of each parameter at the estimate,
    the scale of the likelihood-ratio screen of the coefficients' intervals
    (1 when not given).
    Rows not in ``which`` are NaN.  An exponent's interval is cut at 0 below
    and is ``inf`` above when nothing up to the top of its domain is
    rejected; a coefficient's is ``inf`` (or, for one in ``spec.positive``
    with a positive estimate, 0 below) where nothing is rejected.
    """
    crit = float(stats.chi2.ppf(1.0 - alpha, 1))
    k = theta.size
    which = range(k) if which is None else which
    out = np.full((k, 2), np.nan)
    m = spec.nonlinear
    conc = _Concentrated(y, spec, groups)
    se_v = float(bse[m]) if np.isfinite(bse[m]) and bse[m] > 0 else 0.1 * max(abs(theta[m]), 1e-3)
    top = spec.domain[1]
    n = y.size
    ssr_min = conc.ls(min(max(float(theta[m]), spec.domain[0]), top))[1]
    lr_crit = float(stats.chi2.ppf(1.0 - _LR_ALPHA, 1))
    kappa = np.ones(k) if kappa is None else np.where(np.isfinite(kappa) & (kappa > 0), kappa, 1.0)
    for i in which:
        se = float(bse[i]) if np.isfinite(bse[i]) and bse[i] > 0 else 0.1 * max(abs(theta[i]), 1e-3)
        if i == m:
            if edge_fit:
                out[i] = _exponent_scan(conc, top, crit)
                if np.isnan(out[i, 0]):  # the test rejects every exponent: the edge estimate itself
                    out[i] = float(theta[i])
                continue
            # Exponents live in (0, top]: no rejection at 0 reports 0, none at the top reports inf.
            out[i] = _invert(conc.lm_exponent, float(theta[i]), 0.5 * se, crit, 0.0, top)
            if out[i, 1] >= top:
                out[i, 1] = np.inf
            continue
        j = i if i < m else i - 1  # column of the coefficient in design(v)
        # n log(SSR_c / SSR_min) / kappa <= lr_crit, kappa = robust / naive variance of this coefficient.
        lr_ssr = ssr_min * np.exp(kappa[i] * lr_crit / n)
        lo, hi = _coefficient_interval(conc, spec, j, theta, i, se_v, crit, lr_ssr, edge_fit)
        if i in spec.positive and theta[i] > 0:
            out[i] = [max(lo, 0.0), np.inf if hi >= np.exp(30.0) * theta[i] else hi]
        else:
            big = 1e4 * (abs(float(theta[i])) + se)
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
