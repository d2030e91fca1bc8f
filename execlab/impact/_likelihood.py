"""Gaussian quasi-likelihood for a nonlinear mean, used by every nonlinear fit.

A :class:`_MeanSpec` holds a mean function with its derivatives;
:func:`_fit_nls` finds the least-squares estimate and hands it to
:class:`_GaussianNLS`, a statsmodels ``GenericLikelihoodModel`` with analytic
score and Hessian, for the covariance and the results object.

The impact models are *conditionally linear*: for a fixed exponent :math:`v`
the mean is :math:`X(v)\\,b`, linear in the coefficients, with one column of
the design equal to :math:`e^{vL}` (:math:`L` the log of the order size or
rate).  :class:`_Concentrated` works on that structure from cross products:
after one pass over the data at a given :math:`v` it has every
least-squares quantity at that :math:`v`, so the estimate (:func:`_profile_fit`)
and the profile intervals (``_intervals``) search a scalar and never nest an
optimisation inside another.  The specs of the impact fits (power law,
Almgren-Chriss) and of the concave trade-flow fit are at the end.
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

    Conditionally linear specs also give ``log_base`` (L, so that the column
    of ``design`` that depends on the exponent v is exp(v L)), ``vcol`` (its
    position in ``design``) and ``fixed`` (the other columns, (n, k - 2)); the
    fit and the intervals then run on :class:`_Concentrated`.
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
    log_base: np.ndarray | None = None
    vcol: int = 0
    fixed: np.ndarray | None = None


class _GaussianNLS(GenericLikelihoodModel):
    """y = f(theta) + e, e ~ N(0, s^2): a Gaussian quasi-likelihood in (theta, s).

    The score and Hessian are analytic, so Newton steps and the sandwich
    (robust) covariance cost a few passes over the data.  statsmodels asks for
    the log-likelihood, score and Hessian at the same parameters several times
    while it builds the results; the residuals and the Jacobian of the last
    parameters asked for are kept (:meth:`_forget` drops them).
    """

    def __init__(self, endog: np.ndarray, spec: _MeanSpec) -> None:
        self.spec = spec
        super().__init__(endog, None, extra_params_names=list(spec.names) + ["scale"])
        self.k_extra = 1  # the noise scale; df_model counts the mean parameters
        self.df_model = len(spec.names)
        self.df_resid = len(endog) - len(spec.names) - 1
        self._memo: dict = {}

    def _split(self, params):
        params = np.asarray(params, dtype=np.float64)
        return params[:-1], params[-1]

    def _resid(self, theta: np.ndarray) -> np.ndarray:
        key = ("r", theta.tobytes())
        if key not in self._memo:
            self._memo = {k: v for k, v in self._memo.items() if k[1] == key[1]}
            self._memo[key] = self.endog - self.spec.mean(theta)
        return self._memo[key]

    def _jac(self, theta: np.ndarray) -> np.ndarray:
        key = ("J", theta.tobytes())
        if key not in self._memo:
            self._memo = {k: v for k, v in self._memo.items() if k[1] == key[1]}
            self._memo[key] = self.spec.jac(theta)
        return self._memo[key]

    def _forget(self) -> None:
        self._memo = {}

    def loglikeobs(self, params):
        theta, s = self._split(params)
        r = self._resid(theta)
        return -0.5 * np.log(2 * np.pi) - np.log(np.abs(s)) - 0.5 * (r / s) ** 2

    def loglike(self, params):
        theta, s = self._split(params)
        r = self._resid(theta)
        n = r.size
        return -n * (0.5 * np.log(2 * np.pi) + np.log(np.abs(s))) - 0.5 * float(r @ r) / s**2

    def score_obs(self, params):
        theta, s = self._split(params)
        r = self._resid(theta)
        J = self._jac(theta)
        out = np.empty((r.size, J.shape[1] + 1))
        np.multiply(J, (r / s**2)[:, None], out=out[:, :-1])
        out[:, -1] = r**2 / s**3 - 1.0 / s
        return out

    def score(self, params):
        theta, s = self._split(params)
        r = self._resid(theta)
        J = self._jac(theta)
        return np.append(J.T @ r / s**2, -r.size / s + float(r @ r) / s**3)

    def hessian(self, params):
        theta, s = self._split(params)
        r = self._resid(theta)
        J = self._jac(theta)
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
    value of the nonlinear one, minimised over the latter (bounded, 1-D).  For
    specs without ``log_base`` (the concave trade-flow fit), which Newton polishes."""

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


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A^-1 b for a small Gram matrix; the pseudo-inverse when it is singular."""
    if A.shape[0] == 0:
        return np.zeros((0,) + b.shape[1:])
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(A) @ b


class _Concentrated:
    r"""Least squares of a conditionally linear mean at a fixed exponent, from cross products.

    The design is :math:`X(v) = [F, g(v)]` (``g`` at position ``vcol``) with
    :math:`g(v) = e^{vL}` and :math:`d(v) = \partial g/\partial v = g L`.
    :meth:`at` fills ``g`` and ``d`` for one :math:`v` (one pass over the
    data, into buffers allocated once) and the cross products
    :math:`S = Z^\top Z` of :math:`Z = [X(v), d(v), y]`; the least-squares
    coefficients, the slope of the concentrated sum of squares and the pieces
    of the score statistics are small solves with :math:`S`.  Residual
    vectors are formed only where a statistic needs them (the robust
    denominator :math:`\sum_i r_i^2 a_i^2`).
    """

    def __init__(self, y: np.ndarray, spec: _MeanSpec, groups: np.ndarray | None = None) -> None:
        self.y = y
        self.L = spec.log_base
        self.F = spec.fixed if spec.fixed is not None else np.empty((y.size, 0))
        self.vcol = spec.vcol
        self.groups = groups
        self.k = self.F.shape[1] + 1  # columns of X(v)
        n = y.size
        self.g, self.d = np.empty(n), np.empty(n)
        self._work = None  # three more buffers, for the statistics (the fit itself needs none)
        self._FF = self.F.T @ self.F
        self._Fy = self.F.T @ y
        self._yy = float(y @ y)
        self._v = None
        self._S = None
        # Positions in Z of the fixed columns, g, d and y.
        self._fpos = [c for c in range(self.k) if c != self.vcol]
        self._D, self._Y = self.k, self.k + 1

    # -- the pass over the data ---------------------------------------------------------------
    def at(self, v: float) -> np.ndarray:
        """Fill ``g``, ``d`` and return the cross products S of [X(v), d(v), y] (cached per v)."""
        v = float(v)
        if v == self._v:
            return self._S
        g, d = self.g, self.d
        np.multiply(self.L, v, out=g)
        np.exp(g, out=g)
        np.multiply(g, self.L, out=d)
        k, G, D, Y = self.k, self.vcol, self._D, self._Y
        S = np.empty((k + 2, k + 2))
        fp = self._fpos
        if fp:
            S[np.ix_(fp, fp)] = self._FF
            Fg, Fd = self.F.T @ g, self.F.T @ d
            S[fp, G] = S[G, fp] = Fg
            S[fp, D] = S[D, fp] = Fd
            S[fp, Y] = S[Y, fp] = self._Fy
        S[G, G] = g @ g
        S[G, D] = S[D, G] = g @ d
        S[G, Y] = S[Y, G] = g @ self.y
        S[D, D] = d @ d
        S[D, Y] = S[Y, D] = d @ self.y
        S[Y, Y] = self._yy
        self._v, self._S = v, S
        return S

    @property
    def _r(self) -> np.ndarray:
        return self._buffers()[0]

    @property
    def _a(self) -> np.ndarray:
        return self._buffers()[1]

    @property
    def _t(self) -> np.ndarray:
        return self._buffers()[2]

    def _buffers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._work is None:
            n = self.y.size
            self._work = (np.empty(n), np.empty(n), np.empty(n))
        return self._work

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` of X(v) at the last :meth:`at` (``g`` or a fixed column)."""
        return self.g if j == self.vcol else self.F[:, self._fpos.index(j)]

    def _combine(self, out: np.ndarray, base: np.ndarray, coefs, cols) -> np.ndarray:
        """out = base - sum_c coef_c * column_c, in place (no temporaries of length n)."""
        np.copyto(out, base)
        for c, col in zip(coefs, cols):
            if c != 0.0:
                np.multiply(col, c, out=self._t)
                out -= self._t
        return out

    def _cols(self, idx) -> list[np.ndarray]:
        return [self.d if c == self._D else self.column(c) for c in idx]

    # -- estimation ----------------------------------------------------------------------------
    def ls(self, v: float) -> tuple[np.ndarray, float]:
        """Least-squares coefficients of X(v) and the sum of squared residuals y'y - b'X'y."""
        S = self.at(v)
        k = self.k
        b = _solve(S[:k, :k], S[:k, self._Y])
        return b, max(self._yy - float(b @ S[:k, self._Y]), 0.0)

    def slope(self, v: float) -> float:
        """d SSR / dv of the concentrated sum of squares: -2 b_v r'd (envelope theorem)."""
        S = self.at(v)
        k = self.k
        b = _solve(S[:k, :k], S[:k, self._Y])
        return -2.0 * float(b[self.vcol]) * (float(S[self._D, self._Y]) - float(b @ S[:k, self._D]))

    # -- score statistics ----------------------------------------------------------------------
    def _lm(self, r: np.ndarray, a: np.ndarray) -> float:
        """Robust score statistic (r'a)^2 / sum(r^2 a^2); 0 if ``a`` is spanned by the nuisance
        columns.  With cluster codes the denominator sums the score within each cluster first,
        sum_g (sum_{i in g} r_i a_i)^2: the cluster-robust score test."""
        ra = np.multiply(r, a, out=self._t)
        if self.groups is not None:
            ra = np.bincount(self.groups, weights=ra)
        den = float(ra @ ra)
        if not den > 0:
            return 0.0
        num = float(ra.sum())
        return num * num / den

    def lm_exponent(self, v: float) -> float:
        """Robust score statistic of H0: exponent == v, the coefficients re-estimated."""
        S = self.at(v)
        k = self.k
        cols = list(range(k))
        sol = _solve(S[:k, :k], S[:k, [self._Y, self._D]])
        r = self._combine(self._r, self.y, sol[:, 0], self._cols(cols))
        h = self._combine(self._a, self.d, sol[:, 1], self._cols(cols))
        return self._lm(r, h)

    def coefficient_path(self, v: float, j: int) -> tuple[float, float]:
        """(c, LM): the value c of coefficient ``j`` whose restricted least squares has its
        exponent at ``v``, and the robust score statistic of H0: b_j == c there.

        Under b_j = c the concentrated sum of squares is stationary in v where
        (M y)'d = c (M X_j)'d, M the projection off the other columns of X(v):
        so c(v) is explicit, and walking v traces the profile of b_j.
        """
        S = self.at(v)
        k, D, Y = self.k, self._D, self._Y
        oth = [c for c in range(k) if c != j]
        O = S[np.ix_(oth, oth)]
        P = _solve(O, S[np.ix_(oth, [D, Y, j])])  # others' coefficients for d, y and X_j
        myd = S[Y, D] - S[Y, oth] @ P[:, 0]
        mxd = S[j, D] - S[j, oth] @ P[:, 0]
        self.denominator = float(mxd)  # (M X_j)'d: c(v) has a pole where it crosses 0
        # Restricted sum of squares at this v for any c: y'My - 2 c X_j'My + c^2 X_j'MX_j.
        self.quadratic = (float(S[Y, Y] - S[Y, oth] @ P[:, 1]), float(S[j, Y] - S[j, oth] @ P[:, 1]),
                          float(S[j, j] - S[j, oth] @ P[:, 2]))
        if not (np.isfinite(myd) and np.isfinite(mxd)) or mxd == 0.0:
            return np.nan, np.nan
        c = float(myd / mxd)
        beta = P[:, 1] - c * P[:, 2]
        r = self._combine(self._r, self.y, np.append(beta, c), self._cols(oth + [j]))
        nui = oth + [D]
        gam = _solve(S[np.ix_(nui, nui)], S[nui, j])
        a = self._combine(self._a, self.column(j), gam, self._cols(nui))
        return c, self._lm(r, a)

    def coefficient_quadratic(self, v: float, j: int) -> tuple[float, float, float, float, float]:
        """At a fixed exponent v the statistic of H0: b_j == c is a ratio of quadratics in c:
        LM(c) = (p - c q)^2 / (D - 2 c E + c^2 F); returns (p, q, D, E, F)."""
        S = self.at(v)
        k, D_, Y = self.k, self._D, self._Y
        oth = [c for c in range(k) if c != j]
        O = S[np.ix_(oth, oth)]
        P = _solve(O, S[np.ix_(oth, [Y, j])])
        nui = oth + [D_]
        gam = _solve(S[np.ix_(nui, nui)], S[nui, j])
        a = self._combine(self._a, self.column(j), gam, self._cols(nui)).copy()
        r0 = self._combine(self._r, self.y, P[:, 0], self._cols(oth))
        w0 = r0 * a
        r1 = self._combine(self._r, self.column(j), P[:, 1], self._cols(oth))
        w1 = r1 * a
        if self.groups is not None:
            w0, w1 = np.bincount(self.groups, weights=w0), np.bincount(self.groups, weights=w1)
        return float(w0.sum()), float(w1.sum()), float(w0 @ w0), float(w0 @ w1), float(w1 @ w1)


def _grid_ssr(conc: _Concentrated, grid: np.ndarray) -> np.ndarray:
    """Concentrated sum of squares on an evenly spaced grid of exponents.

    exp(v_k L) = exp(v_0 L) * exp(h L)^k: one exponential and then a product
    per point (the grid only picks the bracket; the estimate is solved for
    exactly).
    """
    y, L, F = conc.y, conc.L, conc.F
    h = float(grid[1] - grid[0]) if grid.size > 1 else 0.0  # evenly spaced
    g, step = conc.g, conc.d  # the work buffers of conc.at, which forgets its last v
    conc._v = None
    np.multiply(L, grid[0], out=g)
    np.exp(g, out=g)
    np.multiply(L, h, out=step)
    np.exp(step, out=step)
    k = conc.k
    out = np.empty(grid.size)
    fp, G = conc._fpos, conc.vcol
    XX = np.empty((k, k))
    Xy = np.empty(k)
    if fp:
        XX[np.ix_(fp, fp)] = conc._FF
        Xy[fp] = conc._Fy
    for i in range(grid.size):
        if i:
            g *= step
        if fp:
            XX[fp, G] = XX[G, fp] = F.T @ g
        XX[G, G] = g @ g
        Xy[G] = g @ y
        b = _solve(XX, Xy)
        out[i] = max(conc._yy - float(b @ Xy), 0.0)
    return out


def _profile_minimum(y: np.ndarray, spec: _MeanSpec, conc: _Concentrated | None = None) -> tuple[float, str]:
    """The least-squares exponent over ``spec.domain`` and where it lies: "interior", "bottom" or "top".

    A 25-point grid picks the bracket; the estimate is the root of the slope of
    the concentrated sum of squares inside it (Brent, to 1e-12), with a
    bounded minimisation as the fallback when the slope does not change sign
    there.  At "bottom"/"top" the returned exponent is the edge of the domain.
    """
    conc = _Concentrated(y, spec) if conc is None else conc
    lo, hi = spec.domain
    grid = np.linspace(lo, hi, 25)
    ssr = _grid_ssr(conc, grid)
    i = int(np.argmin(ssr))
    if i == grid.size - 1:
        return float(hi), "top"
    if i == 0 and not conc.slope(lo) < 0:
        return float(lo), "bottom"
    a, b = float(grid[max(i - 1, 0)]), float(grid[i + 1])
    if conc.slope(a) < 0 < conc.slope(b):
        v = float(optimize.brentq(conc.slope, a, b, xtol=1e-12, rtol=4 * np.finfo(float).eps))
        # A root of the slope is the minimum unless the v-column's coefficient crossed 0 there.
        if conc.ls(v)[1] <= ssr[i] * (1 + 1e-9):
            return v, "interior"
    res = optimize.minimize_scalar(lambda u: conc.ls(u)[1], bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-9})
    v = float(res.x)
    if i == 0 and v - lo < 1e-6:
        return float(lo), "bottom"
    return v, "interior"


def _edge_message(spec: _MeanSpec, where: str) -> str:
    lo, hi = spec.domain
    name = spec.names[spec.nonlinear]
    fix = ("fix the exponent (model='sqrt' sets delta = 0.5)" if name == "delta" else
           "fix the exponent (model='power' or model='sqrt' leave out the permanent term)" if name == "beta"
           else "fix the exponent")
    if where == "top":
        return (
            f"the least-squares {name} is at the top of its range ({name} >= {hi:g}): the costs rise far faster "
            "than any impact law, so the fit diverges (a few large, costly orders dominate, or the sample is too "
            f"small).  {fix[0].upper() + fix[1:]}, or pool more executions over a wider range of Q/V, and look at "
            "the largest orders."
        )
    return (
        f"the least-squares {name} is at the bottom of its range ({name} <= {lo:g}): the costs show no "
        "increase with size, so there is no impact law to fit (pure noise, or too few executions).  "
        f"{fix[0].upper() + fix[1:]} or pool more executions."
    )


def _profile_fit(y: np.ndarray, spec: _MeanSpec, *, edges: bool = False) -> tuple:
    """Least squares by profiling over the whole ``domain`` of the nonlinear parameter.

    Returns (theta, s), exact to about 1e-12 in the exponent, so statsmodels
    only evaluates the score, Hessian and covariance there.  Raises
    ``ValueError`` when the minimum lies at an edge of the domain (an exponent
    of 4 or more is no impact law; one at the bottom means no increase with
    size), unless ``edges``: then returns (theta, s, where) with the exponent
    at the edge and ``where`` in {"interior", "bottom", "top"}.
    """
    conc = _Concentrated(y, spec)
    v, where = _profile_minimum(y, spec, conc)
    if where != "interior" and not edges:
        raise ValueError(_edge_message(spec, where))
    lin, ssr_v = conc.ls(v)
    theta, s = np.insert(lin, spec.nonlinear, v), float(np.sqrt(ssr_v / y.size))
    return (theta, s, where) if edges else (theta, s)


def _fit_nls(y: np.ndarray, spec: _MeanSpec, cov_type: str, cov_kwds: dict | None = None, *,
             edges: bool = False):
    """statsmodels results of the Gaussian quasi-likelihood at the least-squares estimate.

    With ``edges`` an exponent whose least squares lies at an edge of its
    domain is returned at that edge (``res.mle_retvals["edge"]`` says which)
    instead of raising; the caller flags it.
    """
    model = _GaussianNLS(y, spec)
    kw = {"cov_type": cov_type}
    if cov_kwds:
        kw["cov_kwds"] = cov_kwds
    where = "interior"
    if spec.log_base is not None:
        # The exact profile optimum is the least-squares estimate: statsmodels only evaluates
        # the score, Hessian and covariance there (no Newton steps that could wander off).
        theta, s, where = _profile_fit(y, spec, edges=True)
        if where != "interior" and not edges:
            raise ValueError(_edge_message(spec, where))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # an edge estimate may have a singular Hessian
            res = model.fit(start_params=np.append(theta, s), method="newton", maxiter=0, disp=0, **kw)
        res.mle_retvals["converged"] = True
    else:
        start = _profile_start(y, spec)
        with warnings.catch_warnings():
            # Non-convergence is turned into an error below, with the estimates in the message.
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = model.fit(start_params=start, method="newton", maxiter=50, disp=0, **kw)
    model._forget()
    res.mle_retvals["edge"] = where
    est = ", ".join(f"{k} == {v:.4g}" for k, v in zip(spec.names, np.asarray(res.params)))
    if where == "interior" and not res.mle_retvals.get("converged", False):
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
def _last_power(L: np.ndarray):
    """exp(v L), remembering the last v: mean, jac and curv at one estimate share it."""
    memo = {}

    def power(v: float) -> np.ndarray:
        if memo.get("v") != v:
            memo["v"], memo["p"] = v, np.exp(v * L)
        return memo["p"]

    return power


def _power_spec(x: np.ndarray) -> _MeanSpec:
    L = np.log(x)
    power = _last_power(L)

    def mean(t):
        return t[0] * power(t[1])

    def jac(t):
        xd = power(t[1])
        J = np.empty((xd.size, 2))
        J[:, 0] = xd
        np.multiply(xd, L, out=J[:, 1])
        J[:, 1] *= t[0]
        return J

    def curv(t, r):
        xd = power(t[1])
        a = float(r @ (xd * L))
        b = float(r @ (t[0] * xd * L * L))
        return np.array([[0.0, a], [a, b]])

    return _MeanSpec(["Y", "delta"], mean, jac, curv, 1, lambda d: np.exp(d * L)[:, None], (0.02, 2.0),
                     dcol=lambda d: np.exp(d * L) * L, positive=(0,), log_base=L, vcol=0,
                     fixed=np.empty((x.size, 0)))


def _ac_spec(x: np.ndarray, z: np.ndarray, alpha: float) -> _MeanSpec:
    xa = 0.5 * x**alpha
    Lz = np.log(z)
    power = _last_power(Lz)

    def mean(t):
        return t[0] * xa + t[1] * power(t[2])

    def jac(t):
        zb = power(t[2])
        J = np.empty((zb.size, 3))
        J[:, 0] = xa
        J[:, 1] = zb
        np.multiply(zb, Lz, out=J[:, 2])
        J[:, 2] *= t[1]
        return J

    def curv(t, r):
        zb = power(t[2])
        a = float(r @ (zb * Lz))
        b = float(r @ (t[1] * zb * Lz * Lz))
        return np.array([[0.0, 0.0, 0.0], [0.0, 0.0, a], [0.0, a, b]])

    return _MeanSpec(["gamma", "eta", "beta"], mean, jac, curv, 2,
                     lambda b: np.column_stack([xa, np.exp(b * Lz)]), (0.05, 2.0),
                     dcol=lambda b: np.exp(b * Lz) * Lz, positive=(1,), log_base=Lz, vcol=1,
                     fixed=xa[:, None])


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
