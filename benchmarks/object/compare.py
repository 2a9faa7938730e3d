"""Print Stratus/Swift ratios from two bench.py --json-out files.

    python3 compare.py stratus.jsonl swift.jsonl
"""

from __future__ import annotations

import json
import sys

# (metric, higher is better)
METRICS = [("ops_per_s", True), ("mib_per_s", True), ("lat_ms_p50", False),
           ("lat_ms_p99", False)]


def load(path: str) -> dict[str, dict]:
    out = {}
    with open(path) as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                out[row["op"]] = row
    return out


def main() -> int:
    ours, theirs = load(sys.argv[1]), load(sys.argv[2])
    print(f"{'op':14} {'metric':11} {'stratus':>10} {'swift':>10} {'ratio':>7}  better?")
    wins = losses = 0
    for op, row in ours.items():
        other = theirs.get(op)
        if other is None:
            continue
        for metric, higher in METRICS:
            a, b = row.get(metric), other.get(metric)
            if a is None or b is None or b == 0:
                continue
            ratio = a / b
            better = ratio >= 1 if higher else ratio <= 1
            wins += better
            losses += not better
            print(f"{op:14} {metric:11} {a:10.2f} {b:10.2f} {ratio:7.2f}  "
                  f"{'yes' if better else 'NO'}")
    errors = sum(r["errors"] + r["integrity_failures"] for r in ours.values())
    print(f"\nstratus better on {wins} of {wins + losses} figures; "
          f"stratus errors/integrity failures: {errors}")
    print("ratio = stratus / swift (ops/s, MiB/s: higher is better; latency: lower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
