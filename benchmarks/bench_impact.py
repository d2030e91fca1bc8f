"""Fit 1,000,000 synthetic metaorders: fit_impact against plain numpy least squares.

For each model, in one run, medians of ``REPEAT`` interleaved rounds:

* ``lstsq s``: ``numpy.linalg.lstsq`` on the same design (the baseline).  For the
  likelihood fits (power, almgren_chriss), which solve a nonlinear problem, the
  design is the Jacobian of the mean at the estimate, i.e. one Gauss-Newton step.
* ``end-to-end``: ``fit_impact`` on the frame as ``metaorders`` returns it, with
  ``side`` as text ("BUY"/"SELL", pandas 3 ``str`` dtype): validation of every
  column, side parsing, the statsmodels fit and its robust covariance.
* ``numeric side``: the same frame with ``side`` as +1/-1 integers, i.e. without
  the cost of reading 1,000,000 text values (a few ms: ``fit_impact`` checks the
  pyarrow buffers of a ``str`` column directly; a ``category`` side costs about
  as little).  Everything else is validated exactly as in the end-to-end run.

Ratios read "execlab is N x as fast as lstsq" (lstsq time / execlab time; below 1
means slower).  The target is execlab within 3x of lstsq (ratio >= 0.33) for the
linear-in-parameters fits (sqrt, linear), end to end.  ``peak MB`` is the peak memory traced (tracemalloc) during one
end-to-end fit.  Timings on a shared machine are noisy; the ratios compare
timings taken in the same run.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd

from execlab.impact import fit_impact
from execlab.synthetic import metaorders
from _results import interleaved, print_machine, record

N = 1_000_000
REPEAT = 5


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    power = metaorders(N, {"Y": 0.7, "delta": 0.55, "noise": 0.3}, rng=0)
    ac = metaorders(N, {"gamma": 0.8, "eta": 0.15, "beta": 0.6, "noise": 0.3}, rng=1)
    numeric = {
        id(df): df.assign(side=np.where(df["side"] == "BUY", 1, -1).astype(np.int8)) for df in (power, ac)
    }
    print_machine()
    print(f"{N:,} synthetic metaorders; medians of {REPEAT} interleaved rounds; numpy {np.__version__}, pandas {pd.__version__}")
    print(f"side dtype in the end-to-end run: {power['side'].dtype}; in the numeric-side run: int8 (+1/-1)")
    head = (f"{'model':<16}{'lstsq s':>9}{'end-to-end s':>14}{'ratio':>7}{'numeric side s':>16}{'ratio':>7}"
            f"{'peak MB':>9}  estimates")
    print(head)
    for name, df in (("sqrt", power), ("linear", power), ("power", power), ("almgren_chriss", ac)):
        df_num = numeric[id(df)]
        x = (df["quantity"] / df["daily_volume"]).to_numpy()
        y = (df["shortfall_bps"] / 1e4 / df["sigma"]).to_numpy()
        fit, fit_num = fit_impact(df, name), fit_impact(df_num, name)
        assert np.allclose(fit.params, fit_num.params, rtol=1e-10)
        if name in ("sqrt", "linear"):
            X = (x ** (0.5 if name == "sqrt" else 1.0))[:, None]
            # the baseline's estimate is execlab's
            assert np.allclose(np.linalg.lstsq(X, y, rcond=None)[0], np.asarray(fit.params)[:1], rtol=1e-8)
        else:
            # The linearised design at the estimate: the Jacobian of the mean.
            X = fit.results.model.spec.jac(np.asarray(fit.results.params)[:-1])
        t = interleaved({"fit": lambda: fit_impact(df, name), "num": lambda: fit_impact(df_num, name),
                         "np": lambda: np.linalg.lstsq(X, y, rcond=None)}, rounds=REPEAT)
        t_fit, t_num, t_np = t["fit"], t["num"], t["np"]
        mem = peak_mb(lambda: fit_impact(df, name))
        est = ", ".join(f"{k}={v:.3f}+-{s:.3f}" for (k, v), s in zip(fit.params.items(), fit.bse))
        print(f"{name:<16}{t_np:>9.3f}{t_fit:>14.3f}{t_np / t_fit:>7.2f}{t_num:>16.3f}{t_np / t_num:>7.2f}"
              f"{mem:>9.0f}  {est}")
        linear = name in ("sqrt", "linear")
        record("impact", f"fit_impact {name}, {N:,} metaorders", execlab_s=t_fit,
               baseline="numpy.linalg.lstsq on the same design" + ("" if linear else " (one Gauss-Newton step)"),
               baseline_s=t_np, ratio=t_np / t_fit, peak_mib=mem,
               target="within 3x (ratio >= 0.33)" if linear else "", met=(t_np / t_fit >= 1 / 3) if linear else None)
    print(f"(input frame: {power.memory_usage(deep=True).sum() / 2**20:.0f} MB; "
          f"one float64 column of {N:,} = {8 * N / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
