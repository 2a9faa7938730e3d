"""Port create latency: a real stratus-api (gunicorn, SQLite), one client, then several.

    /opt/stratus/dev-network/bin/python benchmarks/network/port_create.py [--ports 200]

Creates a network with a /20 subnet and times POST /network/v2.0/ports (with IPAM,
default security group and the agents' notification) sequentially and with
--concurrency closed-loop threads. Appends a JSON line to benchmarks/network/results/.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import pathlib
import statistics
import sys
import tempfile
import time
import uuid

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.functional.image.stratus_cloud import StratusCloud  # noqa: E402


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stratus-bench-net-") as tmp:
        cloud = StratusCloud(pathlib.Path(tmp))
        cloud.config.write_text(cloud.config.read_text().replace(
            "[messaging]\n", f"[messaging]\ncontrol_exchange = bench-{uuid.uuid4().hex}\n"))
        cloud.start()
        try:
            session = requests.Session()
            session.headers["X-Auth-Token"] = cloud.token("admin")
            base = f"{cloud.url}/network/v2.0"
            network = session.post(f"{base}/networks", json={"network": {
                "name": "bench"}}).json()["network"]
            session.post(f"{base}/subnets", json={"subnet": {
                "network_id": network["id"], "cidr": "10.200.0.0/20", "ip_version": 4}})
            session.put(f"{base}/quotas/{network['project_id']}",
                        json={"quota": {"port": -1}})

            def create(_: int) -> float:
                started = time.perf_counter()
                response = session.post(f"{base}/ports", json={"port": {
                    "network_id": network["id"]}})
                assert response.status_code == 201, response.text
                return (time.perf_counter() - started) * 1000

            sequential = [create(i) for i in range(args.ports)]
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
                concurrent_ms = list(pool.map(create, range(args.ports)))
            elapsed = time.perf_counter() - started
        finally:
            cloud.stop()
    result = {"when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "database": "sqlite", "workers": 2, "ports": args.ports,
              "sequential_ms": {"p50": round(statistics.median(sequential), 1),
                                "p95": round(_percentile(sequential, 0.95), 1)},
              "concurrency": args.concurrency,
              "concurrent_ms": {"p50": round(statistics.median(concurrent_ms), 1),
                                "p95": round(_percentile(concurrent_ms, 0.95), 1)},
              "concurrent_ports_per_s": round(args.ports / elapsed, 1)}
    out = ROOT / "benchmarks" / "network" / "results" / "port_create.jsonl"
    with out.open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
