"""`make demo`: a trading model's decisions through the execution engine, on the bundled real data.

Six decisions on AAPL, AMZN and GOOG (2012-06-21, LOBSTER sample): one of
each urgency, a HOLD, and one the risk manager blocks.  Prints the urgency
policy, the limits and the execution report; ``--plot DIR`` writes the
figures as PNG files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import execlab as ex

DECISIONS = [
    {"decision_id": "d1", "time": "2012-06-21 10:00", "ticker": "AAPL", "action": "BUY", "position_size": 5,
     "urgency": "CRITICAL", "confidence": 0.9},
    {"decision_id": "d2", "time": "2012-06-21 10:30", "ticker": "GOOG", "action": "BUY", "position_size": 4,
     "urgency": "HIGH", "confidence": 0.7},
    {"decision_id": "d3", "time": "2012-06-21 11:00", "ticker": "AMZN", "action": "SELL", "position_size": 3,
     "urgency": "MEDIUM", "confidence": 0.6},
    {"decision_id": "d4", "time": "2012-06-21 13:00", "ticker": "AAPL", "action": "BUY", "position_size": 3,
     "urgency": "LOW", "confidence": 0.55},
    {"decision_id": "d5", "time": "2012-06-21 13:30", "ticker": "GOOG", "action": "HOLD", "position_size": 0,
     "urgency": "LOW", "confidence": 0.5},
    {"decision_id": "d6", "time": "2012-06-21 14:00", "ticker": "GOOG", "action": "BUY", "position_size": 8,
     "urgency": "HIGH", "confidence": 0.8},
]

LIMITS = ex.RiskLimits(max_position_pct=10, max_order_notional=150_000, daily_loss_limit=25_000)


def run_demo() -> tuple[ex.Executor, ex.ExecutionReport]:
    """The demo's executor and report (also used by the tests)."""
    exe = ex.Executor(
        ex.load_market("1min"),
        # One real session has no earlier one to forecast from: ask by name for its own realized
        # profile, ADV, volatility and spread (a look-ahead the report states).
        forecast="same_session",
        cash=1_000_000,
        positions={"AMZN": (1_000, 222.00)},
        risk=LIMITS,
        fee_per_share=0.0035,
    )
    return exe, exe.run(pd.DataFrame(DECISIONS))


def _drop_empty(table: pd.DataFrame) -> pd.DataFrame:
    """Leave out columns that are empty (NaN or blank) in every row, for printing."""
    blank = table.isna() | table.astype(str).apply(lambda c: c.str.strip() == "")
    return table.loc[:, ~blank.all(axis=0)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="execlab execution-engine demo on the bundled LOBSTER data")
    parser.add_argument("--plot", metavar="DIR", help="write figures to DIR (PNG)")
    args = parser.parse_args(argv)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 30)
    exe, report = run_demo()
    print("execlab demo: AAPL, AMZN, GOOG on 2012-06-21 (LOBSTER sample), one-minute bars")
    print("Opening book: $1,000,000 cash and 1,000 AMZN at $222.00; fees $0.0035/share;")
    print(f"impact {exe.impact!r}; participation cap {exe.max_participation:.0%} of bar volume.\n")
    print("Urgency policy:")
    print(_drop_empty(exe.policy.describe()).to_string())
    print("\nRisk limits:")
    print(LIMITS.to_frame().dropna().to_string())
    print("\nDecisions (position_size: order size in % of portfolio value):")
    decisions = pd.DataFrame(DECISIONS).rename(columns={"position_size": "position_size (%)"})
    print(decisions.to_string(index=False))
    print()
    print(report.summary())
    print("\nPortfolio at the close:")
    p = report.portfolio
    print(p[["shares", "avg_cost", "price", "market_value", "realized_pnl", "unrealized_pnl", "fees"]]
          .to_string(float_format=lambda x: f"{x:,.2f}"))
    # Why the two P&L lines differ: the day starts from the opening book marked at the 09:30
    # mid, while average cost carries the opening AMZN at $222.00.
    a = report.account
    open_mid = exe.risk.day.prices["AMZN"]
    print(f"\nDay P&L ${a['day_pnl']:,.2f} vs P&L since cost ${a['pnl_since_cost']:,.2f}: the difference, "
          f"${a['day_pnl'] - a['pnl_since_cost']:,.2f}, is the opening 1,000 AMZN\n"
          f"marked at the 09:30 mid ${open_mid:,.3f} for the day P&L but carried at their $222.00 average cost "
          f"(1,000 x ({222.0:.2f} - {open_mid:.3f}) = ${1_000 * (222.0 - open_mid):,.2f}).")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = Path(args.plot)
        out.mkdir(parents=True, exist_ok=True)
        ax = ex.plot_execution_report(report)
        ax.figure.tight_layout()
        ax.figure.savefig(out / "demo_expected_vs_realized.png", dpi=120)
        plt.close(ax.figure)
        ax = ex.plot_portfolio(exe.ledger, exe.market, start_value=exe.risk.day.value, report=report)
        ax.figure.tight_layout()
        ax.figure.savefig(out / "demo_portfolio_pnl.png", dpi=120)
        plt.close(ax.figure)
        print(f"\nFigures written to {out}/: demo_expected_vs_realized.png, demo_portfolio_pnl.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
