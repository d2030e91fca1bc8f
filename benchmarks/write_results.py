"""Render ``benchmarks/RESULTS.md`` and the README's "## Speed" section from ``benchmarks/results.jsonl``.

The benchmark scripts append one JSON line per result (``benchmarks/_results.py``).
For each (bench, case, baseline) the latest row wins, so re-running one script
updates its rows only.  Only the README section between "## Speed" and the next
"## " heading is replaced.

Run:  .venv/bin/python benchmarks/write_results.py [--no-readme]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results.jsonl"
OUT = HERE / "RESULTS.md"
README = HERE.parent / "README.md"
ORDER = ["schedules", "almgren_chriss", "impact", "shortfall", "memory", "engine", "replay", "scaling"]


def load() -> list[dict]:
    latest: dict[tuple, dict] = {}
    for line in RESULTS.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            latest[(r["bench"], r["case"], r.get("baseline", ""), r.get("target", ""))] = r
    rows = list(latest.values())
    rows.sort(key=lambda r: (ORDER.index(r["bench"]) if r["bench"] in ORDER else len(ORDER), r["when"]))
    return rows


def fmt_s(x) -> str:
    if x is None or x != x:
        return ""
    return f"{x * 1e3:.2f} ms" if x < 1 else f"{x:.2f} s"


def status(r: dict) -> str:
    if r.get("status"):  # e.g. "not measured" when a peer could not be run
        return r["status"]
    return {True: "met", False: "**missed**", None: "(extra row)"}[r.get("met")]


def faster(ratio: float) -> str:
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{ratio:.2f}x as fast ({1 / ratio:.2f}x slower)"


def machine_line(rows: list[dict]) -> str:
    """The machine(s) the rows were measured on; when runs of different sessions landed on different machines, each
    machine with the benchmarks it ran (a ratio is always between timings of one run, so of one machine)."""
    def describe(m: dict) -> str:
        return (f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}; Python {m['python']}, "
                f"numpy {m['numpy']}, pandas {m['pandas']}")

    machines: dict[str, list[str]] = {}
    for r in rows:
        benches = machines.setdefault(describe(r["machine"]), [])
        if r["bench"] not in benches:
            benches.append(r["bench"])
    when = sorted(r["when"] for r in rows)
    if len(machines) == 1:
        return f"{next(iter(machines))}. Runs from {when[0]} to {when[-1]}."
    parts = "; ".join(f"{d} ({', '.join(b)})" for d, b in machines.items())
    sizes = {(r["machine"]["cores"], r["machine"]["ram_gib"]) for r in rows}
    kind = "machines of the same size" if len(sizes) == 1 else "machines"
    return f"{len(machines)} {kind}: {parts}. Runs from {when[0]} to {when[-1]}."


def speed_table(rows: list[dict]) -> list[str]:
    out = ["| benchmark | case | execlab | baseline | baseline time | execlab vs baseline | target | status |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if r["bench"] == "scaling":
            continue
        if "exponent" in r:
            result = f"time ~ n^{r['exponent']:.2f}"
        elif r["bench"] == "memory":
            result = f"peak {r['peak_mib']:.0f} MiB = {r['ratio']:.2f}x the baseline size"
        elif "rows_per_second" in r:  # throughput rows (replay): rows/s, orders/s, then the ratio if any
            unit = "rows walked/s" if "rows_walked" in r else "rows/s"
            parts = [f"{r['rows_per_second']:,.0f} {unit}"]
            if "orders_per_second" in r:
                parts.append(f"{r['orders_per_second']:,.0f} orders/s")
            if r.get("ratio") is not None:
                parts.append(faster(r["ratio"]))
            result = "; ".join(parts) + (f" ({r['note']})" if r.get("note") else "")
        elif r.get("ratio") is not None:
            result = faster(r["ratio"])
        else:
            result = f"orders blocked, by limit: {r['note']}" if r.get("note") else ""
        out.append(f"| {r['bench']} | {r['case']} | {fmt_s(r.get('execlab_s'))} | {r.get('baseline', '')} | "
                   f"{fmt_s(r.get('baseline_s'))} | {result} | {r.get('target', '')} | {status(r)} |")
    return out


def scaling_table(rows: list[dict]) -> list[str]:
    sc = [r for r in rows if r["bench"] == "scaling"]
    if not sc:
        return []
    out = ["| workload | sizes | time | peak memory | time exponent | memory exponent |", "| --- | --- | --- | --- | --- | --- |"]
    for r in sc:
        out.append(f"| {r['case']} | {' / '.join(f'{n:,}' for n in r['sizes'])} | "
                   f"{' / '.join(fmt_s(t) for t in r['times'])} | "
                   f"{' / '.join(f'{p:.0f} MiB' for p in r['peaks_mib']) if r.get('peaks_mib') else 'not measured'} | "
                   f"{r['time_exponent']:.2f} | "
                   f"{'' if r.get('memory_exponent') is None else format(r['memory_exponent'], '.2f')} |")
    return out


def main() -> int:
    rows = load()
    speed, scaling = speed_table(rows), scaling_table(rows)
    md = ["# Benchmark results", "", "Generated by `benchmarks/write_results.py` from `benchmarks/results.jsonl` "
          "(written by `make bench`); do not edit by hand.", "", f"Machine: {machine_line(rows)}", "",
          "Timings are medians of interleaved rounds on a shared machine whose load varies; ratios compare timings "
          "taken in the same run and read \"execlab is N x faster than the baseline\" (below 1: slower).", "",
          "## Against the strongest baseline", "", *speed]
    if scaling:
        md += ["", "## Scaling", "", "Time and peak memory (tracemalloc) at three sizes; the exponent is the slope of "
               "log(time) or log(memory) against log(size).", "", *scaling]
    OUT.write_text("\n".join(md) + "\n")
    print(f"wrote {OUT}")
    if "--no-readme" not in sys.argv:
        text = README.read_text()
        start = text.index("## Speed\n")
        end = text.index("\n## ", start + 1) + 1
        section = ["## Speed", "", "Generated from `make bench` by `benchmarks/write_results.py` (full table and history: "
                   "`benchmarks/RESULTS.md`). Every baseline is the strongest we could write or install, checked to give "
                   "the same numbers and measured in the same run (interleaved, except where a row says not); ratios read \"execlab is N x faster\".", "",
                   f"Machine: {machine_line(rows)}", "", *speed]
        if scaling:
            section += ["", "Scaling (time and peak memory, fitted exponent):", "", *scaling]
        README.write_text(text[:start] + "\n".join(section) + "\n\n" + text[end:])
        print(f"updated the '## Speed' section of {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
