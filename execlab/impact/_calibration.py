"""Calibration of impact models on parent-order executions: :func:`fit_impact` -> :class:`ImpactFit`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.stattools import jarque_bera

from .._calendar import SESSION_LENGTH
from .._orders import side_to_sign
from .._validation import check_choice, check_frame, check_numeric_column, check_scalar
from ..schedules import Schedule
from ._intervals import bootstrap_draws, profile_intervals
from ._likelihood import _ac_spec, _fit_nls, _power_spec
from ._models import AlmgrenChrissImpact, LinearImpact, PowerLawImpact, SquareRootImpact, _ImpactModel

_MODELS = ("power", "sqrt", "linear", "almgren_chriss")
_OLS_COV = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
_MLE_COV = ("nonrobust", "HC0", "cluster")
_CI_METHODS = ("profile", "wald", "bootstrap")
_CI_LABEL = {
    "profile": "profile: robust score test inverted, other parameters re-estimated at each value",
    "wald": "Wald: estimate +- z * standard error",
    "bootstrap": "pairs bootstrap, percentile",
}


class ImpactWarning(UserWarning):
    """An impact fit that returned, but with little information in a parameter."""


def _check_rng(rng: object) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}.")


def _score_interval_one_regressor(y: np.ndarray, g: np.ndarray, alpha: float,
                                  groups: np.ndarray | None = None) -> tuple[float, float]:
    r"""Robust score interval of b in y = b g + e, in closed form.

    :math:`LM(c) = (\sum (y - c g) g)^2 / \sum (y - c g)^2 g^2 \le \chi^2_1` is a
    quadratic inequality in :math:`c`; unbounded when the leading coefficient
    is not positive.  With cluster codes ``groups`` the denominator is
    :math:`\sum_c (\sum_{i \in c} (y_i - c g_i) g_i)^2`, still quadratic.
    """
    from scipy import stats

    crit = float(stats.chi2.ppf(1.0 - alpha, 1))
    A, B = float(g @ y), float(g @ g)
    a_i, b_i = g * y, g * g
    if groups is not None:
        a_i, b_i = np.bincount(groups, weights=a_i), np.bincount(groups, weights=b_i)
    D, E, F = float(a_i @ a_i), float(a_i @ b_i), float(b_i @ b_i)
    a, b, c = B * B - crit * F, -2.0 * (A * B - crit * E), A * A - crit * D
    disc = b * b - 4 * a * c
    if not a > 0 or disc < 0:
        return -np.inf, np.inf
    root = np.sqrt(disc)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def _fast_numeric_column(df: pd.DataFrame, column: str, name: str, *, min_val: float | None = None,
                         include_min: bool = True) -> np.ndarray:
    """:func:`check_numeric_column` with a copy-free clean path for float64/int64 columns.

    The clean path checks finiteness and the lower bound with two reductions
    (NaN propagates into ``min``/``max``; an integer column, always finite as
    float64, needs only ``min``) and returns the column's own buffer
    for float64 (read-only under copy-on-write); anything else, and any
    failure, goes through :func:`check_numeric_column`, so the checks and
    messages are the same.
    """
    col = df[column]
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu":
        arr = col.to_numpy(dtype=np.float64)
        if arr.size:
            lo = arr.min()
            hi = arr.max() if col.dtype.kind == "f" else lo
            ok = np.isfinite(lo) and np.isfinite(hi)
            if ok and min_val is not None:
                ok = lo >= min_val if include_min else lo > min_val
            if ok:
                return arr
    return check_numeric_column(df, column, name, min_val=min_val, include_min=include_min)


def _durations(df: pd.DataFrame, name: str) -> np.ndarray:
    col = df["duration"]
    if pd.api.types.is_timedelta64_dtype(col.dtype):
        vals = col.to_numpy(dtype="timedelta64[ns]").astype(np.int64).astype(np.float64)
        nat = col.isna().to_numpy()
        vals = np.where(nat, np.nan, vals / SESSION_LENGTH.value)
        tmp = pd.DataFrame({"duration": vals}, index=df.index)
        return check_numeric_column(tmp, "duration", name, min_val=0.0, include_min=False)
    return _fast_numeric_column(df, "duration", name, min_val=0.0, include_min=False)


def _execution_arrays(executions: pd.DataFrame, need_duration: bool, name: str = "executions") -> dict:
    check_frame(executions, name, ["quantity", "daily_volume", "sigma"])
    out = {}
    out["quantity"] = _fast_numeric_column(executions, "quantity", name, min_val=0.0, include_min=False)
    # An integer column is converted to float64, so its array is ours to overwrite (with Q/V); a float64
    # one may be the frame's own buffer.
    dtype = executions["quantity"].dtype
    out["quantity_is_copy"] = isinstance(dtype, np.dtype) and dtype.kind in "iu"
    out["daily_volume"] = _fast_numeric_column(executions, "daily_volume", name, min_val=0.0, include_min=False)
    out["sigma"] = _fast_numeric_column(executions, "sigma", name, min_val=0.0, include_min=False)
    has_prices = "arrival_price" in executions.columns and "avg_price" in executions.columns
    if has_prices:
        check_frame(executions, name, ["side"])
        arrival = _fast_numeric_column(executions, "arrival_price", name, min_val=0.0, include_min=False)
        avg = _fast_numeric_column(executions, "avg_price", name, min_val=0.0, include_min=False)
        cost = avg - arrival
        cost /= arrival
        cost *= _side_signs(executions["side"], name)
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


def _constant(a: np.ndarray) -> bool:
    """``np.ptp(a) == 0``, without its two passes when two of the first values already differ.

    Two values that compare unequal make ``ptp`` non-zero: either one is NaN
    (``ptp`` is NaN) or the maximum exceeds the minimum.
    """
    head = a[:16]  # costs, say, differ within the first few values
    if (head != head[0]).any():
        return False
    return bool(np.ptp(a) == 0)


#: Points of the sample that brackets the median of a large array (see :func:`_median`), and how many
#: ranks either side of the sample's median the bracket reaches (about 6 standard errors).
_MEDIAN_SAMPLE, _MEDIAN_MARGIN = 10_000, 300


def _median(a: np.ndarray) -> float:
    """Median of a finite 1-D array, exactly: a single-pivot partition (``np.median``
    partitions around two pivots and checks for NaN; a few times slower).

    A large array is not partitioned whole, which would copy it: an evenly
    spaced sample brackets the median between two of its order statistics
    ``lo <= hi``, and only the values in ``[lo, hi]`` (about 6 per cent) are
    copied and partitioned, at the rank the median has among them (the
    number of values below ``lo`` is counted).  When the bracket misses
    (the sample is unlike the whole, e.g. a periodic order), the whole array
    is partitioned.  Either way the result is the same order statistic(s).
    """
    n = a.size
    k = n // 2
    if n >= 20 * _MEDIAN_SAMPLE:
        sample = a[:: n // _MEDIAN_SAMPLE]
        j = sample.size // 2
        q = np.partition(sample, [j - _MEDIAN_MARGIN, j + _MEDIAN_MARGIN])
        lo, hi = q[j - _MEDIAN_MARGIN], q[j + _MEDIAN_MARGIN]
        below = a < lo
        inside = a <= hi
        inside &= ~below
        r = k - np.count_nonzero(below)  # the rank of order statistic k among the values inside
        vals = a[inside]
        if 1 <= r < vals.size:
            p = np.partition(vals, r)
            return float(p[r]) if n % 2 else 0.5 * (float(p[r]) + float(p[:r].max()))
    p = np.partition(a, k)
    return float(p[k]) if n % 2 else 0.5 * (float(p[k]) + float(p[:k].max()))


def _side_signs(side: pd.Series, name: str) -> np.ndarray:
    """+1 for "BUY" / +1 and -1 for "SELL" / -1, in whatever numeric dtype is cheapest to make.

    Accepts exactly what :func:`execlab._orders.side_to_sign` accepts, and any
    other value raises its ``ValueError`` (naming the row and the value).  The
    result only multiplies the cost, and a product with +-1 is the same
    whatever the integer or float dtype of the +-1.  Two layouts are read
    directly, because they are the ones a million rows come in and the
    general way costs tens of milliseconds there:

    * a numpy integer or float column: two comparisons, and the column itself
      is the sign (no copy);
    * a pandas string column backed by pyarrow (pandas 3's default ``str``):
      the Arrow offsets and bytes, with no Python string made
      (:func:`_arrow_signs`).

    Anything else (categorical, object, python-backed strings, nullable
    integers) and any column with a value that is not a side goes through
    ``side_to_sign``; a pandas string column is handed to it as a categorical
    (one encoding pass in pyarrow), so that it reads the few categories
    instead of a million Python strings.
    """
    dtype = side.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        v = side.to_numpy()
        if ((v == 1) | (v == -1)).all():
            return v
    elif isinstance(dtype, pd.StringDtype):
        if dtype.storage in ("pyarrow", "pyarrow_numpy"):  # the second: pandas 2.x
            sign = _arrow_signs(side)
            if sign is not None:
                return sign
        side = side.astype("category")
    return side_to_sign(side, name, "side")


#: The two sides as text.  Each first letter occurs nowhere else in either word, so a check of
#: what follows every "B" and every "S" byte rejects no valid value.
_BUY, _SELL = b"BUY", b"SELL"
#: Rows per block when reading a text side from its Arrow buffers: the temporaries of a block
#: (about 1 MB) stay in cache and are reused, where whole-column ones would be fresh memory.
_SIDE_BLOCK = 1 << 16


def _arrow_signs(side: pd.Series) -> np.ndarray | None:
    """+1 (int8) where a pyarrow-backed string column says "BUY", -1 where "SELL"; ``None``
    when any value is something else or missing (the caller then names it).

    Reads Arrow's offsets and concatenated bytes directly, without making any
    Python string, a block of rows at a time (:func:`_block_signs`): a few
    milliseconds per million rows, against about 30 ms to encode the column
    as a categorical.
    """
    import pyarrow as pa

    chunks = side.array.__arrow_array__().chunks
    out = np.empty(len(side), dtype=np.int8)
    done = 0
    for chunk in chunks:
        n = len(chunk)
        if n == 0:
            continue
        if chunk.null_count or not (pa.types.is_large_string(chunk.type) or pa.types.is_string(chunk.type)):
            return None
        _, offsets_buf, data_buf = chunk.buffers()
        if data_buf is None:
            return None
        width = np.dtype(np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
        offsets = np.frombuffer(offsets_buf, dtype=width, count=n + 1, offset=chunk.offset * width.itemsize)
        data = np.frombuffer(data_buf, dtype=np.uint8)
        for lo in range(0, n, _SIDE_BLOCK):
            hi = min(lo + _SIDE_BLOCK, n)
            if not _block_signs(offsets[lo:hi + 1], data, out[done + lo:done + hi]):
                return None
        done += n
    return out


def _block_signs(offsets: np.ndarray, data: np.ndarray, out: np.ndarray) -> bool:
    """Write +1 / -1 for the values between ``offsets`` into ``out``; False if one is not "BUY"/"SELL".

    The checks, which together say every value is exactly "BUY" or "SELL":

    1. every value is 3 or 4 bytes long and starts with "B" (3 bytes) or "S"
       (4 bytes): one gather of the first bytes;
    2. every "B" byte is followed by "UY" and every "S" byte by "ELL"; the
       first bytes among them, so the rest of each value is what its first
       byte and length say.
    """
    length = np.diff(offsets)
    sell = length == len(_SELL)
    buy = length == len(_BUY)
    if not (buy | sell).all():
        return False  # also keeps the gather below inside the bytes
    first = data.take(offsets[:-1])
    sell &= first == _SELL[0]
    buy &= first == _BUY[0]
    if not (buy | sell).all():
        return False
    used = data[int(offsets[0]):int(offsets[-1])]
    for at, word in ((used == _BUY[0], _BUY), (used == _SELL[0], _SELL)):
        for k in range(1, len(word)):
            # Every value ends inside ``used`` (check 1): no start lies in its last k bytes.
            if (at[:-k] & (used[k:] != word[k])).any():
                return False
    np.subtract(buy.view(np.int8), sell.view(np.int8), out=out)  # bools as 0/1 bytes
    return True


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
    res = OLSResults(model, beta, normalized_cov_params=inv)
    # The residuals once, in place (statsmodels' predict would build X b and then y - X b);
    # x * b is exactly X @ [b] for one column, so every statistic is unchanged.
    resid = x * beta[0]
    np.subtract(y, resid, out=resid)
    res._cache["wresid"] = resid
    if cov_type != "nonrobust":  # as OLSResults(..., cov_type=cov_type) does, on the residuals above
        res.get_robustcov_results(cov_type=cov_type, use_self=True, use_t=False)
    return RegressionResultsWrapper(res)


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
    ci_method : {"profile", "wald"}
        The default method of :meth:`conf_int` and :meth:`summary`.
    weak : dict
        Parameters the data say little about, with the reason (empty when
        every parameter is pinned down); :func:`fit_impact` warns with an
        :class:`ImpactWarning` for each.  See also :attr:`edge`.
    groups : ndarray of int or None
        Cluster code (0..G-1) of each execution when ``cov_type="cluster"``;
        the Wald, profile and bootstrap intervals are then all cluster-robust.

    Examples
    --------
    >>> from execlab.impact import fit_impact
    >>> from execlab.synthetic import metaorders
    >>> fit = fit_impact(metaorders(5_000, {"Y": 0.7, "delta": 0.5}, rng=3), "sqrt")
    >>> fit.kind, fit.nobs, fit.cov_type
    ('sqrt', 5000, 'HC1')
    >>> bool(fit.conf_int().loc["Y", "lower"] < 0.7 < fit.conf_int().loc["Y", "upper"])
    True
    >>> pi = fit.predict_interval(pd.DataFrame({"quantity": [10_000], "daily_volume": [1e6], "sigma": [0.02]}))
    >>> list(pi.columns)
    ['cost_bps', 'mean_se_bps', 'lower_bps', 'upper_bps']
    """

    model: _ImpactModel
    results: object
    kind: str
    arrays: dict = field(repr=False)
    names: list[str] = field(default_factory=list)
    ci_method: str = "profile"
    alpha: float = 1.0
    weak: dict = field(default_factory=dict)
    groups: np.ndarray | None = field(default=None, repr=False)
    _ci_cache: dict = field(default_factory=dict, repr=False)

    def _spec(self, idx: np.ndarray | None = None):
        if idx is None:
            return self.results.model.spec  # the fit's own (its logs already taken)
        x = self.arrays["participation"][idx]
        if self.kind == "power":
            return _power_spec(x)
        T = self.arrays["duration"][idx]
        return _ac_spec(x, x / T, self.alpha)

    @property
    def edge(self) -> str | None:
        """``"bottom"`` or ``"top"`` when the least-squares exponent lies at an edge of its search
        range (0.01, 4] and the estimate is that edge (always listed in :attr:`weak`); else ``None``."""
        where = getattr(self.results, "mle_retvals", None) or {}
        where = where.get("edge", "interior")
        return None if where == "interior" else where

    @property
    def reference(self) -> float | None:
        r"""The reference size x0 = median Q/V of the executions (power laws; ``None`` for Almgren-Chriss).

        ``Y`` is the cost at Q/V = 1, far outside the data; the cost at x0,
        :math:`Y x_0^\delta` (``Y_ref`` in :meth:`summary`), is what the data
        measure best and is nearly uncorrelated with the exponent.
        """
        if self.kind == "almgren_chriss":
            return None
        return _median(self.arrays["participation"])

    @cached_property
    def data(self) -> pd.DataFrame:
        """The arrays used: ``participation`` (Q/V), ``sigma``, ``cost_bps``, ``y``
        (cost / sigma) and ``duration`` where known."""
        a = self.arrays
        cols = {"participation": a["participation"], "sigma": a["sigma"], "cost_bps": 1e4 * a["sigma"] * a["y"],
                "y": a["y"]}
        if "duration" in a:
            cols["duration"] = a["duration"]
        return pd.DataFrame(cols)

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

    def conf_int(self, alpha: float = 0.05, method: str | None = None, *, n_boot: int = 999,
                 rng: np.random.Generator | int | None = None) -> pd.DataFrame:
        """Confidence intervals, a DataFrame with ``lower``/``upper`` indexed by parameter.

        Parameters
        ----------
        alpha : float, default 0.05
            1 - confidence level.
        method : {"profile", "wald", "bootstrap"}, optional
            Default :attr:`ci_method`.  ``"profile"``: the values of each
            parameter that a heteroskedasticity-robust score test does not
            reject, the other parameters re-estimated at each value (see
            :mod:`execlab.impact._intervals`; closed form for the
            one-coefficient fits).  Asymmetric where the likelihood is; an
            exponent's interval is cut at 0 and may be ``inf`` above, a
            prefactor's may be ``inf``: the data do not bound it.
            ``"wald"``: estimate +- z times the robust standard error (the
            intervals of statsmodels).  ``"bootstrap"``: percentile intervals
            of ``n_boot`` pairs-bootstrap refits; needs ``rng``.
        n_boot : int, default 999
            Bootstrap replications.
        rng : numpy.random.Generator or int
            Randomness of the bootstrap (required there, ignored otherwise).

        Notes
        -----
        The profile intervals of a likelihood fit on n rows take about a
        hundred passes over the data per parameter (a walk from the estimate
        and a scan of the exponent's range); they are computed on first use
        and cached.  The bootstrap refits ``n_boot`` times.
        """
        alpha = check_scalar(alpha, "alpha", min_val=0.0, max_val=1.0, include_min=False, include_max=False)
        method = self.ci_method if method is None else method
        check_choice(method, "method", _CI_METHODS)
        if method == "bootstrap":
            if rng is None:
                raise TypeError("conf_int(method='bootstrap') needs rng (a numpy.random.Generator or an int seed), "
                                "so that the intervals can be reproduced.")
            n_boot = int(check_scalar(n_boot, "n_boot", min_val=20, integer=True))
            draws, _ = self._bootstrap(n_boot, _check_rng(rng))
            ci = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0).T
        else:
            ci = self._interval(method, alpha)
        return pd.DataFrame(ci, index=self.names, columns=["lower", "upper"])

    def _interval(self, method: str, alpha: float, which: list[int] | None = None) -> np.ndarray:
        """Intervals of ``method`` at level 1 - alpha, rows ``which`` (default all), cached by row."""
        k = len(self.names)
        which = list(range(k)) if which is None else list(which)
        ci = self._ci_cache.setdefault((method, alpha), np.full((k, 2), np.nan))
        todo = [i for i in which if np.isnan(ci[i, 0])]
        if todo:
            if method == "wald":
                ci[:] = np.asarray(self.results.conf_int(alpha))[:k]
            elif self.kind in ("sqrt", "linear"):
                g = np.asarray(self.results.model.exog)[:, 0]
                ci[0] = _score_interval_one_regressor(self.arrays["y"], g, alpha, self.groups)
            else:
                theta = np.asarray(self.results.params)[:k]
                bse = np.asarray(self.bse)
                with np.errstate(invalid="ignore", divide="ignore"):
                    kappa = bse**2 / np.diag(np.asarray(self.results.normalized_cov_params))[:k]
                new = profile_intervals(self.arrays["y"], self._spec(), theta, bse, alpha, todo,
                                        self.groups, edge_fit=self.edge is not None, kappa=kappa)
                ci[todo] = new[todo]
        return ci.copy()

    def _bootstrap(self, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        y = self.arrays["y"]
        if self.kind in ("sqrt", "linear"):
            g = np.asarray(self.results.model.exog)[:, 0]
            return bootstrap_draws(y, None, y.size, n_boot, rng, linear_column=g, groups=self.groups)
        draws, failed = bootstrap_draws(y, self._spec, y.size, n_boot, rng, groups=self.groups)
        if draws.shape[0] < n_boot // 2:
            raise ValueError(f"{failed} of {n_boot} bootstrap refits failed; the data do not identify the parameters.")
        return draws, failed

    def summary(self, alpha: float = 0.05, method: str | None = None, **kwargs):
        """statsmodels ``Summary`` of the fit, with the intervals of ``method`` (default :attr:`ci_method`).

        The noise scale is the last row for likelihood fits (Wald interval).
        Below the table: the interval method, the cost at the reference size
        (power laws) and any weakly identified parameter.  ``kwargs``
        (``n_boot``, ``rng``) go to :meth:`conf_int`.
        """
        from statsmodels.iolib.summary import summary_params

        method = self.ci_method if method is None else method
        likelihood = self.kind in ("power", "almgren_chriss")
        xname = list(self.names) + (["scale"] if likelihood else [])
        title = f"Impact fit: {self.kind} ({type(self.model).__name__}), cost / sigma"
        smry = self.results.summary(yname="cost/sigma", xname=xname, title=title, alpha=alpha)
        ci = np.asarray(self.results.conf_int(alpha), dtype=np.float64).copy()
        ci[: len(self.names)] = self.conf_int(alpha, method, **kwargs).to_numpy()
        r = self.results
        table = summary_params((r, np.asarray(r.params), np.asarray(r.bse), np.asarray(r.tvalues),
                                np.asarray(r.pvalues), ci), yname="cost/sigma", xname=xname, alpha=alpha,
                               use_t=bool(getattr(r, "use_t", False)))
        smry.tables[1] = table
        notes = [f"Intervals: {_CI_LABEL[method]}" + ("; scale: Wald." if likelihood else ".")]
        if self.groups is not None:
            notes.append(f"Standard errors and intervals clustered by {int(self.groups.max()) + 1} groups "
                         "(cluster-robust score test; bootstrap resamples whole clusters).")
        if self.kind != "almgren_chriss":
            x0 = self.reference
            Y, d = float(self.model.Y), float(self.model.delta)
            notes.append(f"Reference size x0 = median Q/V = {x0:.4g}: cost there Y_ref = Y x0^delta = {Y * x0**d:.4g} sigma.")
        for name, msg in self.weak.items():
            notes.append(f"Weakly identified: {msg}")
        smry.add_extra_txt(notes)
        return smry

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

    def predict_interval(self, data: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
        r"""Prediction intervals for the cost of new orders, bps.

        Parameters
        ----------
        data : DataFrame
            New orders: ``quantity`` (shares, >= 0), ``daily_volume``
            (shares, > 0), ``sigma`` (daily volatility, fraction, > 0) and,
            for the Almgren-Chriss model, ``duration`` (sessions, > 0).
        alpha : float, default 0.05
            1 - coverage of the intervals, in (0, 1).

        Returns
        -------
        DataFrame
            Indexed like ``data``: ``cost_bps`` (the expected cost,
            :meth:`predict`), ``mean_se_bps`` (its standard error from the
            estimated parameters) and ``lower_bps`` / ``upper_bps``, where a
            new order's realized cost should fall with probability
            ``1 - alpha``.

        Raises
        ------
        ValueError
            Missing columns or bad values in ``data`` (named), ``alpha``
            outside (0, 1).

        Notes
        -----
        The fit models :math:`y = C/\sigma = f(x; \theta) + \varepsilon` with
        noise of constant scale :math:`s` (:attr:`scale`) in units of
        :math:`\sigma`, so the spread of a new order's cost scales with its own
        volatility.  For an order with volatility :math:`\sigma_0` and
        gradient :math:`g_0 = \partial f(x_0; \hat\theta)/\partial\theta`,

        .. math::
            \hat C_0 \pm z_{1-\alpha/2}\, \sigma_0
            \sqrt{s^2 + g_0^\top \hat V g_0},

        with :math:`\hat V` the covariance of :attr:`params` in ``cov_type``
        (the estimation error; it vanishes as the sample grows, the noise does
        not).  The normal quantile assumes the noise is roughly normal; check
        :meth:`diagnostics`, and measure the coverage on held-out orders, as
        notebook 03 does on a synthetic multi-session market.  Noise that
        grows with something other than :math:`\sigma` (duration, for one)
        makes these intervals too wide for some orders and too narrow for
        others.
        """
        alpha = check_scalar(alpha, "alpha", min_val=0.0, max_val=1.0, include_min=False, include_max=False)
        from scipy import stats

        need_t = self.kind == "almgren_chriss"
        arr = _execution_arrays_for_predict(data, need_t)
        x = arr["quantity"] / arr["daily_volume"]
        k = len(self.names)
        theta = np.asarray(self.results.params)[:k]
        if self.kind in ("sqrt", "linear"):
            J = (np.sqrt(x) if self.kind == "sqrt" else x)[:, None]
            mean = J[:, 0] * theta[0]
        else:
            with np.errstate(divide="ignore"):
                spec = (_power_spec(np.where(x > 0, x, 1.0)) if self.kind == "power"
                        else _ac_spec(np.where(x > 0, x, 1.0), np.where(x > 0, x, 1.0) / arr["duration"], self.alpha))
            J = spec.jac(theta)
            mean = spec.mean(theta)
            # A zero order costs nothing and carries no estimation error.
            J[x == 0] = 0.0
            mean = np.where(x > 0, mean, 0.0)
        V = np.asarray(self.results.cov_params())[:k, :k]
        var_mean = np.einsum("ij,jk,ik->i", J, V, J)
        z = float(stats.norm.ppf(1.0 - alpha / 2))
        half = z * np.sqrt(self.scale**2 + var_mean)
        s0 = 1e4 * arr["sigma"]
        return pd.DataFrame({"cost_bps": s0 * mean, "mean_se_bps": s0 * np.sqrt(var_mean),
                             "lower_bps": s0 * (mean - half), "upper_bps": s0 * (mean + half)}, index=data.index)

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
        weak = f"; weak: {', '.join(self.weak)}" if self.weak else ""
        return f"ImpactFit({self.kind}: {p}; n={self.nobs}, cov_type={self.cov_type}, ci={self.ci_method}{weak})"


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
    ci_method: str = "profile",
    groups: object = None,
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
            sides (pyarrow-backed) costs a few milliseconds; a numeric side
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
        (``"sqrt"``, ``"linear"``; also HC0, HC2, HC3, nonrobust, cluster) and
        ``"HC0"`` (sandwich) for the likelihood fits (``"power"``,
        ``"almgren_chriss"``; also nonrobust, cluster); ``"cluster"`` when
        ``groups`` is given.
    alpha : float, default 1.0
        Permanent-impact exponent held fixed in the Almgren-Chriss fit.
    ci_method : {"profile", "wald"}, default "profile"
        Default interval of :meth:`ImpactFit.conf_int` and
        :meth:`ImpactFit.summary` (see there; ``"bootstrap"`` is available
        from ``conf_int`` with an explicit ``rng``).  ``"wald"`` gives the
        intervals of execlab 0.x.
    groups : str or array_like, optional
        Cluster of each execution, for ``cov_type="cluster"``: the name of a
        column of ``executions`` or an array of labels, one per row (no
        missing values, at least 2 clusters).  Use it when the costs of some
        executions share a shock, so that they are not independent: orders
        of the same stock on the same day (the day's price move is in all of
        their costs), child fills of one parent order, or one trader's or
        one broker's orders.  Then ``groups`` = stock-day (or day, if the
        whole market moves together).  The standard errors are the
        cluster-robust sandwich of statsmodels (Liang & Zeger 1986; with the
        small-sample correction G/(G-1) (n-1)/(n-k)), and the profile and
        bootstrap intervals become cluster-robust too (score summed within
        clusters; whole clusters resampled).  They need many clusters: with
        fewer than about 30 they are too narrow (Cameron & Miller 2015).

    Returns
    -------
    ImpactFit

    Warns
    -----
    ImpactWarning
        When the data say little about a parameter: an exponent whose 95 %
        profile interval is wider than 0.5 or unbounded, or a coefficient
        whose interval is unbounded or contains 0; and always when the
        least-squares exponent lies at an edge of its search range (0.01, 4]
        (:attr:`ImpactFit.edge`: the costs show no increase with size, or a
        few large orders dominate).  Such a fit is returned, not raised: its
        estimate is the edge and is not to be used, its profile intervals
        (which do not depend on the estimate) are honest and wide.  The
        message gives the interval and what to do; :attr:`ImpactFit.weak`
        keeps it.

    Raises
    ------
    ValueError
        ``cov_type="cluster"`` without ``groups`` or ``groups`` with another
        ``cov_type``; ``groups`` of the wrong length, with missing values or
        a single cluster.
        Missing columns, NaN/inf, non-positive quantity, volume, volatility,
        price or duration (naming the column and row), an unknown side, fewer
        rows than parameters + 2, no variation in Q/V or in the cost, and a
        likelihood fit whose Hessian is singular (the data do not identify
        the parameters; no NaN standard errors are returned).  Each message
        says what to do: fix the exponent (``model="sqrt"``) or pool more
        executions over a wider range of Q/V.

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

    Cross-sectional executions are taken as independent unless ``groups``
    says otherwise (clustered covariance, above); the interval regressions of
    :func:`fit_trade_flow` and :func:`fit_ofi` use HAC.

    **Intervals.**  The default intervals are profile score intervals (see
    :meth:`ImpactFit.conf_int` and the module ``execlab.impact._intervals``):
    the Wald interval of the power law's :math:`Y`, an extrapolation to
    :math:`Q/V = 1` from orders of about :math:`10^{-3}` of daily volume, is
    symmetric about a lognormally skewed estimate and covered the truth in
    134 of 150 synthetic samples (0.89) at n = 3,000 instead of 95 % (Bates
    & Watts 1988).  The coverage of every interval, at n = 500, 3,000 and
    20,000, is in ``benchmarks/COVERAGE.md``.

    **Estimation.**  The least squares is exact: the sum of squares is
    concentrated on the exponent (the coefficients are linear given it), a
    25-point grid on (0.01, 4] picks the bracket and Brent solves for the
    zero of its slope to 1e-12; statsmodels then evaluates the score,
    Hessian and covariance there, with no Newton steps.  A least-squares
    exponent at an edge of (0.01, 4] is returned at that edge with a warning
    (see Warns).

    Examples
    --------
    >>> from execlab.synthetic import metaorders
    >>> executions = metaorders(20_000, {"Y": 0.7, "delta": 0.5}, rng=1)
    >>> fit = fit_impact(executions, "power")
    >>> bool(fit.conf_int().loc["delta", "lower"] < 0.5 < fit.conf_int().loc["delta", "upper"])
    True
    """
    check_choice(model, "model", _MODELS)
    check_choice(ci_method, "ci_method", ("profile", "wald"))
    linear = model in ("sqrt", "linear")
    options = _OLS_COV if linear else _MLE_COV
    if cov_type is None:
        cov_type = "cluster" if groups is not None else ("HC1" if linear else "HC0")
    check_choice(cov_type, "cov_type", options)
    if (cov_type == "cluster") != (groups is not None):
        raise ValueError(
            "cov_type='cluster' needs groups (a column name or one label per execution)."
            if groups is None else
            f"groups is given but cov_type == {cov_type!r}; use cov_type='cluster' (or leave cov_type unset)."
        )
    alpha = check_scalar(alpha, "alpha", min_val=0.0, include_min=False)
    arr = _execution_arrays(executions, need_duration=model == "almgren_chriss")
    n = arr["quantity"].size
    codes = None if groups is None else _cluster_codes(executions, groups, n)
    k = {"sqrt": 1, "linear": 1, "power": 3, "almgren_chriss": 4}[model]
    if n < k + 2:
        raise ValueError(
            f"executions has {n} rows; model {model!r} estimates {k} parameter(s) and needs at least {k + 2} rows."
        )
    # Q/V into the float64 copy of an integer quantity when there is one: one fresh array fewer.
    x = np.divide(arr["quantity"], arr["daily_volume"], out=arr["quantity"] if arr["quantity_is_copy"] else None)
    if model != "sqrt" and model != "linear" and np.ptp(np.log(x)) < 1e-12:
        raise ValueError(
            f"quantity / daily_volume is constant ({x[0]:.6g}) in all {n} rows; the exponent cannot be estimated."
        )
    y = arr["cost"]  # a fresh array: cost / sigma in place
    y /= arr["sigma"]
    if _constant(y):
        raise ValueError(
            f"executions cost / sigma is the same ({y[0]:.6g}) in all {n} rows; there is no variation to fit."
        )
    # sigma and duration may be read-only views of the caller's frame (see _fast_numeric_column);
    # the results object keeps its own copies, so editing the frame later cannot change it.
    data = {"participation": x, "sigma": arr["sigma"].copy(), "y": y}
    if "duration" in arr:
        data["duration"] = arr["duration"].copy()
    # The Almgren-Chriss model has no horizon; skip the median there.
    horizon = _median(arr["duration"]) if "duration" in arr and model != "almgren_chriss" else 1.0

    if linear:
        d = 0.5 if model == "sqrt" else 1.0
        res = _ols_one_regressor(y, np.sqrt(x) if d == 0.5 else x, "nonrobust" if codes is not None else cov_type)
        if codes is not None:
            res = res.get_robustcov_results("cluster", groups=codes, use_correction=True, df_correction=True)
        Y = float(res.params[0])
        fitted_model: _ImpactModel = (SquareRootImpact if model == "sqrt" else LinearImpact)(Y, horizon=horizon)
        names = ["Y"]
    elif model == "power":
        try:
            res = _fit_nls(y, _power_spec(x), cov_type, None if codes is None else {"groups": codes}, edges=True)
        except ValueError as exc:
            raise ValueError(f"fit_impact(model='power'): {exc}") from None
        Y, delta = (float(v) for v in res.params[:2])
        fitted_model = PowerLawImpact(Y, delta, horizon=horizon)
        names = ["Y", "delta"]
    else:
        z = x / arr["duration"]
        if np.ptp(np.log(z) - alpha * np.log(x)) < 1e-12:
            raise ValueError("duration does not vary independently of Q/V; gamma and eta cannot be told apart.")
        try:
            res = _fit_nls(y, _ac_spec(x, z, alpha), cov_type, None if codes is None else {"groups": codes},
                           edges=True)
        except ValueError as exc:
            raise ValueError(f"fit_impact(model='almgren_chriss'): {exc}") from None
        g, e, b = (float(v) for v in res.params[:3])
        fitted_model = AlmgrenChrissImpact(g, e, b, alpha)
        names = ["gamma", "eta", "beta"]
    fit = ImpactFit(fitted_model, res, model, data, names, ci_method=ci_method, alpha=alpha, groups=codes)
    fit.weak = _weakly_identified(fit)
    for msg in fit.weak.values():
        warnings.warn(msg, ImpactWarning, stacklevel=2)
    return fit


def _cluster_codes(executions: pd.DataFrame, groups: object, n: int) -> np.ndarray:
    """Integer codes 0..G-1 of the clusters, from a column name or one label per row."""
    if isinstance(groups, str):
        check_frame(executions, "executions", [groups])
        labels = executions[groups]
        name = f"executions[{groups!r}]"
    else:
        labels = pd.Series(np.asarray(groups)) if not isinstance(groups, pd.Series) else groups
        name = "groups"
        if labels.ndim != 1 or labels.size != n:
            raise ValueError(f"{name} has {labels.size} labels, must have one per execution ({n}).")
    missing = labels.isna().to_numpy()
    if missing.any():
        raise ValueError(f"{name} is missing at row {int(np.flatnonzero(missing)[0])}; every execution needs a cluster.")
    codes, uniques = pd.factorize(labels.to_numpy(), sort=True)
    if uniques.size < 2:
        raise ValueError(f"{name} has {uniques.size} cluster, must have >= 2 (and about 30 or more to be reliable).")
    return codes.astype(np.intp)


def _weakly_identified(fit: ImpactFit) -> dict:
    """Parameters whose 95 % profile interval is too wide to use, with the message to show.

    Only parameters whose Wald interval is already wide (exponent: 95 % width
    > 0.3; coefficient: |t| < 3) get a profile interval here, so a fit on
    plenty of data pays nothing for the check.
    """
    if fit.kind in ("sqrt", "linear"):
        return {}
    n = fit.nobs
    theta, bse = fit.params.to_numpy(), fit.bse.to_numpy()
    exp_i = 1 if fit.kind == "power" else 2
    edge = fit.edge
    todo = [i for i in range(theta.size) if edge or (i == exp_i and not 2 * 1.96 * bse[i] <= 0.3)
            or (i != exp_i and not abs(theta[i]) >= 3 * bse[i])]
    if not todo:
        return {}
    ci = fit._interval("profile", 0.05, todo)  # only these rows; conf_int computes (and caches) all
    out = {}
    for i in todo:
        name, (lo, hi) = fit.names[i], ci[i]
        span = f"[{lo:.3g}, {hi:.3g}]"
        if i == exp_i:
            if not edge and np.isfinite(hi) and hi - lo <= 0.5 and lo > 0:
                continue
            need = f"about {int(np.ceil(n * ((hi - lo) / 0.2) ** 2)):,}" if np.isfinite(hi) else "many more"
            fix = ("fix it (model='sqrt' sets delta = 0.5) or pool" if fit.kind == "power" else
                   "fit model='power' (one temporary term, no permanent one) or pool")
            if edge:
                why = ("the costs show no increase with size" if edge == "bottom" else
                       "the costs rise faster than any impact law: a few large, costly orders dominate")
                out[name] = (
                    f"{name} is at the {edge} of its search range ({name} == {theta[i]:.3g}) in these {n:,} "
                    f"executions: the least squares has no minimum inside (0.01, 4), so the estimate is that edge, "
                    f"not a fit ({why}).  Its 95 % profile interval, which does not depend on the estimate, is "
                    f"{span}.  Do not use the estimate or the model built from it; {fix} {need} executions."
                )
                continue
            out[name] = (
                f"{name} == {theta[i]:.3g} is weakly identified by these {n:,} executions: its 95 % profile interval "
                f"is {span}.  Do not use the estimate on its own; {fix} {need} executions for an interval "
                f"of +-0.1."
            )
        elif not (np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)):
            why = (" (Y extrapolates to Q/V = 1, far outside the data; the cost at the median size, Y_ref in "
                   "summary(), is better determined)" if name == "Y" else
                   " (gamma is told apart from eta only by the spread of durations at a given size)"
                   if name == "gamma" else "")
            out[name] = (
                f"{name} == {theta[i]:.3g} is weakly identified by these {n:,} executions: its 95 % profile "
                f"interval {span} {'is unbounded' if not np.all(np.isfinite(ci[i])) else 'contains 0'}{why}."
            )
    return out
