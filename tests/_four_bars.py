"""The hand-worked bars shared by the simulator and shortfall tests."""

from __future__ import annotations

import pandas as pd

import execlab as ex

TZ = "America/New_York"


def ts(hhmmss: str) -> pd.Timestamp:
    """A time on 2012-06-21 in New York."""
    return pd.Timestamp(f"2012-06-21 {hhmmss}", tz=TZ)


def make_bars(tickers: tuple[str, ...] = ("XYZ",)) -> pd.DataFrame:
    """The last four one-minute bars of a session, 15:56-15:59 (close at 16:00), per ticker.

    bar  time   volume  vwap    mid     spread  mid_open  mid_close  close
    0    15:56  1000    100.10  100.00  0.02    99.90     100.10     100.10
    1    15:57   500    100.20  100.20  0.04    100.10    100.30     100.25
    2    15:58     0    100.25  100.40  0.02    100.30    100.50     100.25
    3    15:59  2000    100.60  100.60  0.02    100.50    100.70     100.80
    """
    one = {
        "time": pd.date_range(ts("15:56"), periods=4, freq="1min"),
        "volume": [1000, 500, 0, 2000],
        "vwap": [100.10, 100.20, 100.25, 100.60],
        "mid": [100.00, 100.20, 100.40, 100.60],
        "spread": [0.02, 0.04, 0.02, 0.02],
        "mid_open": [99.90, 100.10, 100.30, 100.50],
        "mid_close": [100.10, 100.30, 100.50, 100.70],
        "close": [100.10, 100.25, 100.25, 100.80],
    }
    return pd.concat([pd.DataFrame({"ticker": t, **one}) for t in tickers], ignore_index=True)


def market(bars: pd.DataFrame | None = None, tickers: tuple[str, ...] = ("XYZ",)) -> "ex.Market":
    """The four bars as a market whose session runs 15:56-16:00."""
    return ex.Market.from_bars(make_bars(tickers) if bars is None else bars, open="15:56")
