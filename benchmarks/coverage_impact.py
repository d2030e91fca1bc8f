"""Coverage of fit_impact's 95 % intervals: every model x n = 500, 3,000, 20,000.

Each cell fits ``--reps`` (default 1,000) samples of synthetic metaorders
drawn with known parameters (``execlab.impact.COVERAGE_TRUTHS``) and counts
how often the interval holds the truth; the Clopper-Pearson 95 % interval of
that share is printed beside it.  Nominal is 0.95; the target is 0.93-0.97.
Seeds start at 20_260_000 (the tests use others) and depend only on the cell's model and
size, so ``--models``/``--sizes`` subsets reproduce the full run's cells.  Rows print as
cells finish; the whole table is printed again, sorted, at the end.  ``--method wald`` gives the
symmetric Wald intervals of the earlier releases, for comparison.

    python benchmarks/coverage_impact.py              # the full study
    python benchmarks/coverage_impact.py --reps 200   # a quick look

Each row prints the seconds its cell took, so the run time of a larger
``--reps`` can be read off a small run (it grows linearly with ``--reps``).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import pandas as pd

from execlab.impact import coverage_study

SIZES = (500, 3_000, 20_000)
MODELS = ("power", "sqrt", "linear", "almgren_chriss")


def _cell(args):
    model, n, reps, seed, method = args
    t0 = time.perf_counter()
    out = coverage_study(model, n, reps, seed, method=method)
    out["seconds"] = time.perf_counter() - t0
    return out


def _row(r) -> str:
    return (f"{r.model:<16}{r.param:<7}{r.n:>7,}{r.coverage:>10.3f}  [{r.cover_lower:.3f}, {r.cover_upper:.3f}]"
            f"{r.failed:>9}{r.weak:>6}{r.median_width:>14.3g}{r.seconds:>9.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--method", default="profile", choices=["profile", "wald", "bootstrap"])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    # A cell's seed depends on its model and size only, so a subset run reproduces the full run's cells.
    cells = [(m, int(n), a.reps, 20_260_000 + 10_000 * MODELS.index(m) + (SIZES.index(int(n)) if int(n) in SIZES
                                                                          else int(n)), a.method)
             for m in a.models.split(",") for n in a.sizes.split(",")]
    cells.sort(key=lambda c: c[1])  # small samples first: their rows print while the large ones run
    header = (f"{'model':<16}{'param':<7}{'n':>7}{'coverage':>10}  {'binomial 95 %':<17}{'failed':>7}{'weak':>6}"
              f"{'median width':>14}{'seconds':>9}")
    print(f"Coverage of 95 % intervals ({a.method}), {a.reps:,} synthetic samples per cell; "
          f"Clopper-Pearson 95 % interval of the coverage in brackets")
    print("as each cell finishes:", flush=True)
    print(header, flush=True)
    t0 = time.perf_counter()
    parts = []
    with ProcessPoolExecutor(a.jobs) as pool:
        for fut in as_completed([pool.submit(_cell, c) for c in cells]):
            part = fut.result()
            parts.append(part)
            for r in part.itertuples():
                print(_row(r), flush=True)
    order = {m: i for i, m in enumerate(MODELS)}
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values(["model", "n"], key=lambda c: c.map(order) if c.name == "model" else c, kind="stable")
    print("\nall cells:")
    print(header)
    for r in table.itertuples():
        print(_row(r))
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
