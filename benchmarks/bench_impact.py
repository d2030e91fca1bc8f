"""Fit 1,000,000 synthetic metaorders: fit_impact against plain numpy least squares.

Prints, for each model, the wall time of ``fit_impact`` (validation, statsmodels
fit, robust covariance) and of ``numpy.linalg.lstsq`` on the same design in
the same run, their ratio, and the peak memory traced during the fit.  The
target for the linear-in-parameters fits (sqrt, linear) is a ratio within 3x;
the likelihood fits (power, almgren_chriss) solve a nonlinear problem and their
ratio is reported against the least squares of their linearised design at the
estimate (one Gauss-Newton step).  ``OLS-only ratio`` times the statsmodels
step alone, without the validation of the 1,000,000-row DataFrame.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import statsmodels.api as sm

from execlab.impact import fit_impact
from execlab.synthetic import metaorders

N = 1_000_000
REPEAT = 3


def best_of(fn, repeat=REPEAT):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    power = metaorders(N, {"Y": 0.7, "delta": 0.55, "noise": 0.3}, rng=0)
    ac = metaorders(N, {"gamma": 0.8, "eta": 0.15, "beta": 0.6, "noise": 0.3}, rng=1)
    print(f"{N:,} synthetic metaorders; best of {REPEAT} runs; numpy {np.__version__}")
    print(f"{'model':<16}{'fit_impact s':>14}{'lstsq s':>10}{'ratio':>8}{'OLS-only ratio':>16}{'peak MB':>10}  estimates")
    for name, df in (("sqrt", power), ("linear", power), ("power", power), ("almgren_chriss", ac)):
        x = (df["quantity"] / df["daily_volume"]).to_numpy()
        y = (df["shortfall_bps"] / 1e4 / df["sigma"]).to_numpy()
        t_fit, fit = best_of(lambda: fit_impact(df, name))
        if name in ("sqrt", "linear"):
            X = (x ** (0.5 if name == "sqrt" else 1.0))[:, None]
        else:
            # The linearised design at the estimate: the Jacobian of the mean.
            X = fit.results.model.spec.jac(np.asarray(fit.results.params)[:-1])
        t_np, _ = best_of(lambda: np.linalg.lstsq(X, y, rcond=None))
        if name in ("sqrt", "linear"):
            # The statsmodels step alone (no DataFrame validation, no side parsing).
            t_sm, _ = best_of(lambda: sm.OLS(y, X, hasconst=False).fit(cov_type="HC1"))
            sm_ratio = f"{t_sm / t_np:>16.1f}"
        else:
            sm_ratio = f"{'-':>16}"
        mem = peak_mb(lambda: fit_impact(df, name))
        est = ", ".join(f"{k}={v:.3f}+-{s:.3f}" for (k, v), s in zip(fit.params.items(), fit.bse))
        print(f"{name:<16}{t_fit:>14.3f}{t_np:>10.3f}{t_fit / t_np:>8.1f}{sm_ratio}{mem:>10.0f}  {est}")
    print(f"(input frame: {power.memory_usage(deep=True).sum() / 2**20:.0f} MB; one float64 column of {N:,} = {8 * N / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
