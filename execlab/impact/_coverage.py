"""Coverage of the impact fits' intervals on synthetic metaorders with known parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_choice, check_scalar
from ._calibration import _CI_METHODS, ImpactWarning, fit_impact

#: The true parameters of the coverage study, as in the tests and notebook 03.
COVERAGE_TRUTHS = {
    "power": {"Y": 0.7, "delta": 0.55, "noise": 0.3},
    "sqrt": {"Y": 0.7, "delta": 0.5, "noise": 0.3},
    "linear": {"Y": 2.0, "delta": 1.0, "noise": 0.3},
    "almgren_chriss": {"gamma": 0.8, "eta": 0.15, "beta": 0.6, "noise": 0.3},
}


def coverage_study(model: str, n: int, reps: int, seed: int, *, alpha: float = 0.05, method: str = "profile",
                   n_boot: int = 199) -> pd.DataFrame:
    r"""How often the intervals of :func:`fit_impact` cover the truth, over ``reps`` synthetic samples.

    Parameters
    ----------
    model : {"power", "sqrt", "linear", "almgren_chriss"}
        Fitted to :func:`execlab.synthetic.metaorders` drawn with
        :data:`COVERAGE_TRUTHS` ``[model]``.
    n : int
        Metaorders per sample, >= 20.
    reps : int
        Samples, >= 1.
    seed : int
        Sample ``r`` uses the ``r``-th child of ``numpy.random.SeedSequence(seed)``.
    alpha : float, default 0.05
        The intervals are at level 1 - alpha.
    method : {"profile", "wald", "bootstrap"}, default "profile"
        Passed to :meth:`ImpactFit.conf_int` (the bootstrap with ``n_boot``
        replications and the sample's own generator).

    Returns
    -------
    DataFrame
        One row per parameter: ``model``, ``n``, ``param``, ``reps``,
        ``failed`` (fits that raised), ``weak`` (fits that flagged the
        parameter as weakly identified, edge fits included), ``edge`` (fits
        whose least-squares exponent is at an edge of its range),
        ``coverage`` (share of *all* ``reps`` samples whose interval holds the
        truth: a fit that raised counts as not covering), its
        Clopper-Pearson 95 % interval ``cover_lower``/``cover_upper``, and
        ``median_width`` (over the returned fits; ``inf`` when most
        intervals are unbounded).

    Examples
    --------
    >>> t = coverage_study("sqrt", 500, 20, seed=1)
    >>> list(t["param"]), int(t["reps"].iloc[0])
    (['Y'], 20)
    """
    from ..synthetic import metaorders  # synthetic sits beside impact; imported on use

    check_choice(model, "model", tuple(COVERAGE_TRUTHS))
    check_choice(method, "method", _CI_METHODS)
    n = int(check_scalar(n, "n", min_val=20, integer=True))
    reps = int(check_scalar(reps, "reps", min_val=1, integer=True))
    truth = COVERAGE_TRUTHS[model]
    names = ["Y"] if model in ("sqrt", "linear") else (["Y", "delta"] if model == "power" else ["gamma", "eta", "beta"])
    want = np.array([truth[k] for k in names])
    hits, weak, widths, failed, edge = np.zeros(len(names)), np.zeros(len(names)), [], 0, 0
    for child in np.random.SeedSequence(int(seed)).spawn(reps):
        rng = np.random.default_rng(child)
        df = metaorders(n, truth, rng=rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ImpactWarning)
                fit = fit_impact(df, model)
            ci = fit.conf_int(alpha, method, n_boot=n_boot, rng=rng).to_numpy()
        except ValueError:
            failed += 1
            continue
        hits += (ci[:, 0] <= want) & (want <= ci[:, 1])
        weak += [k in fit.weak for k in names]
        edge += fit.edge is not None
        widths.append(ci[:, 1] - ci[:, 0])
    ok = reps  # a fit that raised counts as not covering
    rows = []
    for i, k in enumerate(names):
        h = int(hits[i])
        lo = stats.beta.ppf(0.025, h, ok - h + 1) if h > 0 else 0.0
        hi = stats.beta.ppf(0.975, h + 1, ok - h) if h < ok else 1.0
        rows.append({"model": model, "n": n, "param": k, "reps": reps, "failed": failed, "weak": int(weak[i]),
                     "edge": edge,
                     "coverage": h / ok if ok else np.nan, "cover_lower": lo, "cover_upper": hi,
                     "median_width": float(np.median([w[i] for w in widths])) if widths else np.nan})
    return pd.DataFrame(rows)
