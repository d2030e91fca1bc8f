"""`make demo`: schedules on the bundled real data (widened by the engine later)."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import execlab as ex


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="execlab demo on the bundled LOBSTER data")
    parser.add_argument("--plot", metavar="DIR", help="write figures to DIR")
    args = parser.parse_args(argv)
    bars = ex.load_bars("1min")
    stats = ex.daily_stats(bars)
    profile = ex.volume_profile(bars, "1min", smooth=15)
    qty = (0.01 * stats["daily_volume"]).round(-2).astype(np.int64).to_numpy()
    scheds = {
        "market": ex.market(qty, n_bins=390),
        "twap": ex.twap(qty, 390),
        "vwap": ex.vwap(qty, profile.to_numpy()),
        "pov": ex.pov(qty, bars.pivot(index="ticker", columns="time", values="volume").to_numpy(), rate=0.05),
    }
    rows = []
    for name, s in scheds.items():
        for i, t in enumerate(stats.index):
            first_half = s.shares[i, :195].sum() / max(s.quantity[i], 1)
            rows.append({"algorithm": name, "ticker": t, "quantity": int(s.quantity[i]),
                         "bins_used": int((s.shares[i] > 0).sum()), "first_half_%": 100 * first_half,
                         "unscheduled": int(s.unscheduled[i])})
    pd.set_option("display.width", 120)
    print("Schedules for 1% of each ticker's 2012-06-21 volume, one-minute bins:")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
