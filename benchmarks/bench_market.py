"""Benchmark: building a Market from LOBSTER files, against the time pyarrow takes just to parse them.

1. 60 sessions x 3 tickers of SYNTHETIC LOBSTER level-1 files (180 ticker-days,
   written once into a temporary directory by ``execlab.synthetic.lobster_market``
   with a fixed seed).  ``execlab.market_from_lobster`` (read, validate, bin,
   build the Market) is timed against the floor: ``pyarrow.csv.read_csv``
   reading the same files, every column, with the same column types execlab
   asks for (message time float64, every other cell int64), one file after
   another with pyarrow's own threads on (its default), as execlab reads
   them.  The two are timed interleaved (the order flipped every round),
   11 times; medians are compared.  Target: at most 2x the floor.  pyarrow's read with its own type
   inference is printed as an extra row.
2. The previous path (``read_lobster`` + ``make_bars`` per file, then
   ``market_from_bars``), timed once, must give the same arrays bit for bit.
3. The bundled real day (AAPL, AMZN, GOOG on 2012-06-21, LOBSTER level 1).

Run: ``.venv/bin/python benchmarks/bench_market.py``
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

import execlab as ex
from execlab import _market_lobster
from execlab._market import BAR_COLUMNS

SESSIONS, TICKERS, SEED, REPEATS = 60, ("SYNA", "SYNB", "SYNC"), 7, 11


def read_options(path: Path) -> tuple[pacsv.ReadOptions, pacsv.ConvertOptions]:
    """The columns and types execlab reads: every column; message time float64, the rest int64."""
    n = 6 if "_message_" in path.name else 4
    names = [f"c{j}" for j in range(n)]
    types = {c: pa.float64() if (n == 6 and j == 0) else pa.int64() for j, c in enumerate(names)}
    return pacsv.ReadOptions(column_names=names), pacsv.ConvertOptions(column_types=types)


def floor_typed(files: list[Path], options: dict) -> None:
    for f in files:
        pacsv.read_csv(f, read_options=options[f][0], convert_options=options[f][1])


def floor_inferred(files: list[Path]) -> None:
    for f in files:
        pacsv.read_csv(f, read_options=pacsv.ReadOptions(autogenerate_column_names=True))


def timed(fn, *args, cpu: list | None = None) -> float:
    """Wall time of ``fn(*args)``; its CPU time (this process, all threads) goes to ``cpu``."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn(*args)
    wall = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(time.process_time() - c0)
    return wall


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ex.synthetic.lobster_market(directory, tickers=TICKERS, sessions=SESSIONS, seed=SEED)
        files = sorted(directory.glob("*.csv"))
        options = {f: read_options(f) for f in files}
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        rows = sum(1 for f in files if "_message_" in f.name for _ in f.open("rb"))
        print(f"market_from_lobster: {SESSIONS} sessions x {len(TICKERS)} tickers of SYNTHETIC LOBSTER level-1 files, "
              f"{len(files)} files, {size_mb:.1f} MB, {rows:,} messages (seed {SEED})")

        market = ex.market_from_lobster(directory, "1min")  # warm-up: imports and the page cache
        floor_typed(files, options)
        floor_inferred(files)
        t_ex, t_floor, t_inferred, cpu_ex, cpu_floor = [], [], [], [], []
        load = os.getloadavg()[0]
        for r in range(REPEATS):  # interleaved, the order flipped every round so neither always runs first
            runs = [lambda: t_ex.append(timed(ex.market_from_lobster, directory, "1min", cpu=cpu_ex)),
                    lambda: t_floor.append(timed(floor_typed, files, options, cpu=cpu_floor)),
                    lambda: t_inferred.append(timed(floor_inferred, files))]
            for run in runs if r % 2 == 0 else runs[::-1]:
                run()
        m_ex, m_floor, m_inf = (statistics.median(t) for t in (t_ex, t_floor, t_inferred))
        print(f"  execlab.market_from_lobster                  {m_ex:7.3f} s (median of {REPEATS})")
        print(f"  pyarrow.csv.read_csv, same columns and types {m_floor:7.3f} s (median of {REPEATS}, interleaved)")
        print(f"  pyarrow.csv.read_csv, types inferred         {m_inf:7.3f} s (median of {REPEATS}, interleaved; extra row)")
        c_ex, c_floor = statistics.median(cpu_ex), statistics.median(cpu_floor)
        print(f"  CPU time, all threads: execlab {c_ex:.3f} s, pyarrow same columns {c_floor:.3f} s "
              f"({c_ex / c_floor:.2f}x); {os.cpu_count()} CPUs, load average {load:.1f} at the start "
              "(pyarrow parses on several threads, execlab's binning on one, so a busy machine widens the wall-time gap)")

        t0 = time.perf_counter()
        reference = _market_lobster._market_from_lobster_reference(directory, "1min")
        t_ref = time.perf_counter() - t0
        for c in BAR_COLUMNS:
            np.testing.assert_array_equal(market[c], reference[c], err_msg=f"column {c}")
        print(f"  read_lobster + make_bars per file (previous) {t_ref:7.3f} s (once; all {len(BAR_COLUMNS)} arrays "
              f"equal bit for bit); execlab is {t_ref / m_ex:.1f}x faster")
        ratio = m_ex / m_floor
        print(f"execlab is {ratio:.2f}x the time of the pyarrow CSV read (target <= 2x): "
              f"{'met' if ratio <= 2 else 'MISSED'}")

    lobster = ex.data.find_data_dir()
    ex.market_from_lobster(lobster, "1min", level=1)
    real = [timed(lambda: ex.market_from_lobster(lobster, "1min", level=1)) for _ in range(5)]
    real_files = sorted(lobster.glob("*_1.csv"))
    real_mb = sum(f.stat().st_size for f in real_files) / 1e6
    print(f"bundled real day (AAPL, AMZN, GOOG, 2012-06-21, level 1, {real_mb:.1f} MB): "
          f"{statistics.median(real):.3f} s (median of 5)")


if __name__ == "__main__":
    main()
