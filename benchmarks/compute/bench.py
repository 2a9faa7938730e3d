"""Compute benchmark against a running cloud (the all-in-one from tools/stack.sh).

Measures, through openstacksdk and plain HTTP with the cloud's token:

- boot: POST /servers -> 202, -> ACTIVE, -> the guest's ready line on its console
  (the real boot under TCG), and DELETE -> gone; sequentially, --boots times. The time
  to ACTIVE is broken down by stage from the daemons' logs under --log-dir (lines of
  the POST's request ID): to the scheduler, scheduling, to the agent, the agent's image,
  disk, config drive and domain define+start, and the report back; the control plane's
  overhead is everything but libvirt's own domain define+start;
- burst: --burst servers created at once -> all ACTIVE (scheduler, claims, conductor,
  agent and libvirt under concurrency), then all deleted;
- api: GET /servers/detail (with the servers of the burst alive) and GET /servers/{id},
  closed-loop with --concurrency threads, --requests each: req/s, p50/p90/p99;
- rss: resident memory of the Stratus compute control plane processes.

Prints one JSON object per measurement (append to results/*.jsonl) and a summary.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import openstack
import requests

READY = "stratus-guest ready: instance-id="


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _wait(what: str, probe, timeout: float = 600, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(what)


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _active(conn, server_id: str):
    current = conn.compute.get_server(server_id)
    if current.status == "ERROR":
        raise RuntimeError(f"server went to ERROR: {current.fault}")
    return current if current.status == "ACTIVE" else None


def _ready(conn, server_id: str) -> bool:
    output = conn.compute.get_server_console_output(server_id).get("output") or ""
    return READY + server_id in output


def _log_time(line: str) -> float:
    return datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _log_lines(log_dir: str, program: str, request_id: str) -> list[str]:
    try:
        with open(os.path.join(log_dir, f"{program}.log"), encoding="utf-8") as log:
            return [line for line in log if f"[{request_id}]" in line]
    except OSError:
        return []


def _stages(log_dir: str, request_id: str, server_id: str, accepted: float,
            active: float) -> dict[str, float]:
    """Where the time from POST answered to ACTIVE went, from the daemons' own logs (the
    scheduler's "Scheduling" and "placed on" lines, the agent's per-stage timings)."""
    for _ in range(20):  # the lines may still be on their way to the files
        scheduler = _log_lines(log_dir, "stratus-scheduler", request_id)
        agent = [line for line in _log_lines(log_dir, "stratus-compute-agent", request_id)
                 if f"created instance {server_id}:" in line]
        began = [line for line in scheduler if "Scheduling" in line]
        placed = [line for line in scheduler if f"{server_id} placed on" in line]
        if began and placed and agent:
            break
        time.sleep(0.1)
    else:
        return {}
    agent_stages = {}
    for part in agent[-1].rstrip().split(": ", 1)[1].split(", "):
        stage, seconds, _ = part.split(" ")
        agent_stages[stage] = float(seconds)
    created = _log_time(agent[-1])
    agent_began = created - sum(agent_stages.values())
    return {"to_scheduler_s": round(_log_time(began[0]) - accepted, 3),
            "schedule_s": round(_log_time(placed[0]) - _log_time(began[0]), 3),
            "to_agent_s": round(agent_began - _log_time(placed[0]), 3),
            **{f"agent_{stage}_s": round(took, 3) for stage, took in agent_stages.items()},
            "to_active_s": round(active - created, 3)}


def _create(conn, image, flavor, name: str) -> tuple[str, str]:
    """POST /servers without networks: (server id, request id)."""
    response = conn.compute.post("/servers", microversion="2.37", json={"server": {
        "name": name, "imageRef": image.id, "flavorRef": flavor.id, "networks": "none"}})
    return response.json()["server"]["id"], response.headers["x-openstack-request-id"]


def boot(conn, image, flavor, boots: int, log_dir: str) -> None:
    for index in range(boots):
        started = time.time()
        server_id, request_id = _create(conn, image, flavor,
                                        f"bench-boot-{uuid.uuid4().hex[:6]}")
        accepted = time.time()
        _wait("ACTIVE", lambda s=server_id: _active(conn, s), interval=0.02)
        active = time.time()
        stages = _stages(log_dir, request_id, server_id, accepted, active)
        if stages:  # the whole control plane's share, from the client's point of view
            stages["overhead_beyond_domain_start_s"] = round(
                active - started - stages.get("agent_define_and_start_s", 0.0), 3)
        _wait("ready line", lambda s=server_id: _ready(conn, s), interval=0.5)
        ready = time.time()
        server = conn.compute.get_server(server_id)
        conn.compute.delete_server(server_id)
        conn.compute.wait_for_delete(server, interval=0.2, wait=300)
        gone = time.time()
        _emit({"op": "boot", "run": index, "accepted_s": round(accepted - started, 3),
               "active_s": round(active - started, 3), **stages,
               "ready_s": round(ready - started, 3), "delete_s": round(gone - ready, 3)})


def burst(conn, image, flavor, count: int) -> list[str]:
    started = time.monotonic()
    with ThreadPoolExecutor(count) as pool:
        servers = list(pool.map(lambda i: conn.compute.create_server(
            name=f"bench-burst-{i}-{uuid.uuid4().hex[:4]}", image_id=image.id,
            flavor_id=flavor.id, networks="none"), range(count)))
    ids = [server.id for server in servers]

    def all_active():
        statuses = [conn.compute.get_server(i).status for i in ids]
        if "ERROR" in statuses:
            raise RuntimeError(f"a burst server went to ERROR: {statuses}")
        return all(status == "ACTIVE" for status in statuses)

    _wait("burst ACTIVE", all_active, interval=0.5)
    _emit({"op": "burst", "servers": count,
           "all_active_s": round(time.monotonic() - started, 3)})
    return ids


def _closed_loop(call, total: int, concurrency: int) -> tuple[list[float], int, float]:
    """Run call(session) total times from concurrency threads: latencies, errors, seconds."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = iter(range(total))

    def worker() -> None:
        nonlocal errors
        session = requests.Session()
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            begun = time.monotonic()
            status = call(session).status_code
            took = time.monotonic() - begun
            with lock:
                latencies.append(took)
                errors += status != 200

    begun = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.monotonic() - begun


def api(conn, server_ids: list[str], requests_per_op: int, concurrency: int) -> None:
    endpoint = conn.compute.get_endpoint().rstrip("/")
    headers = {"X-Auth-Token": conn.auth_token, "Accept": "application/json",
               "OpenStack-API-Version": "compute 2.60"}
    ops = {"list_detail": f"{endpoint}/servers/detail",
           "show": f"{endpoint}/servers/{server_ids[0]}"}
    for name, url in ops.items():
        latencies, errors, elapsed = _closed_loop(
            lambda session, u=url: session.get(u, headers=headers), requests_per_op,
            concurrency)
        _emit({"op": name, "servers": len(server_ids), "requests": len(latencies),
               "errors": errors, "req_per_s": round(len(latencies) / elapsed, 1),
               "p50_ms": round(statistics.median(latencies) * 1000, 1),
               "p90_ms": round(_percentile(latencies, 0.9) * 1000, 1),
               "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1)})


def rss() -> None:
    names = ("stratus-api", "stratus-scheduler", "stratus-conductor", "stratus-compute-agent",
             "stratus-console-proxy")
    total, per = 0, {}
    out = subprocess.run(["ps", "-eo", "rss=,args="], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        kib, _, args = line.strip().partition(" ")
        for name in names:
            if f"/{name} " in args or args.endswith(f"/{name}"):
                per[name] = per.get(name, 0) + int(kib)
                total += int(kib)
    _emit({"op": "rss", "total_mib": round(total / 1024, 1),
           **{f"{k}_mib": round(v / 1024, 1) for k, v in per.items()}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", default=os.environ.get("OS_CLOUD", "stratus-demo"))
    parser.add_argument("--image", default="stratus-tiny")
    parser.add_argument("--flavor", default="m1.nano")
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--burst", type=int, default=8)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--log-dir", default="/var/log/stratus",
                        help="the daemons' logs, for the boot's stage breakdown")
    args = parser.parse_args(argv)
    conn = openstack.connect(cloud=args.cloud)
    image = conn.image.find_image(args.image, ignore_missing=False)
    flavor = conn.compute.find_flavor(args.flavor, ignore_missing=False)
    boot(conn, image, flavor, args.boots, args.log_dir)
    ids = burst(conn, image, flavor, args.burst)
    try:
        api(conn, ids, args.requests, args.concurrency)
        rss()
    finally:
        for server_id in ids:
            conn.compute.delete_server(server_id, ignore_missing=True)
        for server_id in ids:
            conn.compute.wait_for_delete(conn.compute.get_server(server_id), wait=300) \
                if conn.compute.find_server(server_id) else None
    return 0


if __name__ == "__main__":
    sys.exit(main())
