#!/usr/bin/env python3
"""Print Stratus/Keystone ratios from one benchmarks/identity/run.sh results file."""

import json
import sys


def main(path: str) -> None:
    rows: dict[tuple[str, str], dict] = {}
    with open(path) as handle:
        for line in handle:
            row = json.loads(line)
            rows[(row.get("label"), row.get("op"))] = row
    ops = ["issue", "validate", "projects", "catalog"]
    print(f"{'op':10} {'stratus/s':>10} {'ks/s':>8} {'ks-cache/s':>10} "
          f"{'x default':>10} {'x cached':>9} {'p99 ms S/K-cache':>18}")
    for op in ops:
        ours = rows.get(("stratus", op), {})
        default = rows.get(("keystone-default", op), {})
        cached = rows.get(("keystone-cached", op), {})

        def rate(row):
            return row.get("rps") or 0.0

        def p99(row):
            return row.get("p99_ms") or 0.0

        print(f"{op:10} {rate(ours):10.1f} {rate(default):8.1f} {rate(cached):10.1f} "
              f"{rate(ours) / max(rate(default), 1e-9):10.1f} "
              f"{rate(ours) / max(rate(cached), 1e-9):9.2f} "
              f"{p99(ours):8.1f}/{p99(cached):.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
