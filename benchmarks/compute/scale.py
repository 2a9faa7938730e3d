"""Compute control plane at scale: 1,000 hosts for the scheduler, 1,000 servers to list.

- ``scheduler``: a scratch database (SQLite by default, or --database-url) with --hosts
  registered compute hosts, as their agents would have reported them; then the real
  scheduler (filters, weighers, claims in SQL) places single-instance requests one after
  the other, from --threads threads at once, and multi-instance requests: decisions/s.
  Nothing of the running cloud is touched.
- ``list``: the running all-in-one cloud. One real server is booted in the admin
  project, its database row is copied --servers times (host ``bench-ghost``, so no agent
  or reconciliation acts on them), and GET /servers/detail (what ``openstack server
  list`` asks for), GET /servers and the CLI itself are timed with 1 and with
  --servers + 1 servers in the project. The copies and the server are removed at the end.

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from common.context import RequestContext
from controller import conf as controller_conf
from controller import services
from controller.db import base as db_base
from controller.db import migration
from controller.db.models.servers import Instance
from controller.runtime import Runtime
from controller.scheduler import inventory
from controller.scheduler.host_state import COMPUTE_BINARY
from controller.scheduler.manager import SchedulerManager


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _latency_summary(latencies: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1)}


# ------------------------------------------------------------------------ scheduler
def _runtime(database_url: str) -> Runtime:
    conf = controller_conf.make(None, overrides={
        "database": {"connection": database_url},
        "messaging": {"notification_driver": "noop"}})
    return Runtime(conf=conf, db=db_base.Database(database_url))


def _register_hosts(rt: Runtime, count: int) -> float:
    """count hosts of 32 vCPUs / 128 GiB / 2 TB, reported and heartbeating; seconds."""
    started = time.monotonic()
    for index in range(count):
        host = f"bench-host-{index:04d}"
        inventory.update_compute_node(rt, host, {
            "vcpus": 32, "memory_mb": 131072, "disk_gb": 2000, "disk_free_gb": 2000,
            "hypervisor_type": "QEMU", "hypervisor_version": 9002000})
        services.report(rt, host, COMPUTE_BINARY)
    return time.monotonic() - started


def _request_spec(count: int = 1) -> dict:
    return {"flavor": {"vcpus": 1, "memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0,
                       "swap": 0},
            "image": None, "availability_zone": None, "group_uuid": None,
            "force_hosts": [], "num_instances": count, "project_id": "bench"}


def scheduler(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="stratus-sched-bench-") as scratch:
        url = args.database_url or f"sqlite:///{scratch}/scheduler.db"
        database = db_base.Database(url)
        migration.sync(database)
        rt = _runtime(url)
        took = _register_hosts(rt, args.hosts)
        _emit({"op": "register_hosts", "hosts": args.hosts, "seconds": round(took, 1),
               "backend": url.split(":", 1)[0]})
        manager = SchedulerManager(rt)
        ctx = RequestContext()

        def place(count: int) -> float:
            begun = time.monotonic()
            result = manager.select_destinations(
                ctx, _request_spec(count), [str(uuid.uuid4()) for _ in range(count)])
            if result["failed"]:
                raise RuntimeError(f"scheduling failed: {result['failed']}")
            return time.monotonic() - begun

        for threads in (1, args.threads):
            begun = time.monotonic()
            with ThreadPoolExecutor(threads) as pool:
                latencies = list(pool.map(lambda _: place(1), range(args.decisions)))
            elapsed = time.monotonic() - begun
            _emit({"op": "schedule_one", "hosts": args.hosts, "threads": threads,
                   "decisions": args.decisions,
                   "decisions_per_s": round(args.decisions / elapsed, 1),
                   **_latency_summary(latencies)})
        latencies = [place(args.batch) for _ in range(5)]
        _emit({"op": "schedule_batch", "hosts": args.hosts, "instances_per_request":
               args.batch, "decisions_per_s":
               round(5 * args.batch / sum(latencies), 1), **_latency_summary(latencies)})
        rt.db.dispose()


# ----------------------------------------------------------------------------- list
def _cloud_database() -> Runtime:
    conf = controller_conf.make(["--config-file", "/etc/stratus/stratus.conf"])
    return Runtime(conf=conf, db=db_base.Database(conf.database.connection))


def _copy_server(rt: Runtime, template_id: str, count: int) -> list[str]:
    with rt.db.session() as session:
        template = session.execute(
            sa.select(Instance.__table__).where(Instance.uuid == template_id)).one()._asdict()
    rows, ids = [], []
    for index in range(count):
        new_id = str(uuid.uuid4())
        ids.append(new_id)
        rows.append({**template, "uuid": new_id, "display_name": f"bench-list-{index:04d}",
                     "hostname": f"bench-list-{index:04d}", "host": "bench-ghost",
                     "node": "bench-ghost", "vm_state": "stopped", "power_state": 4,
                     "task_state": None})
    with rt.db.session() as session:
        session.execute(sa.insert(Instance.__table__), rows)
    return ids


def _remove_copies(rt: Runtime, ids: list[str]) -> None:
    with rt.db.session() as session:
        for start in range(0, len(ids), 200):
            session.execute(sa.delete(Instance.__table__).where(
                Instance.uuid.in_(ids[start:start + 200])))


def _time_requests(session, url: str, headers: dict, runs: int) -> list[float]:
    latencies = []
    for _ in range(runs):
        begun = time.monotonic()
        response = session.get(url, headers=headers)
        response.raise_for_status()
        latencies.append(time.monotonic() - begun)
    return latencies


def _time_cli(cloud: str, runs: int) -> list[float]:
    latencies = []
    for _ in range(runs):
        begun = time.monotonic()
        subprocess.run(["openstack", "--os-cloud", cloud, "server", "list", "-f", "value",
                        "-c", "ID"], check=True, capture_output=True, timeout=300)
        latencies.append(time.monotonic() - begun)
    return latencies


def _measure_list(conn, cloud: str, servers: int, runs: int) -> None:
    import requests

    endpoint = conn.compute.get_endpoint().rstrip("/")
    headers = {"X-Auth-Token": conn.auth_token, "Accept": "application/json",
               "OpenStack-API-Version": "compute 2.60"}
    session = requests.Session()
    count = len(session.get(f"{endpoint}/servers", headers=headers).json()["servers"])
    for name, path in (("list_detail", "/servers/detail"), ("list_brief", "/servers")):
        latencies = _time_requests(session, f"{endpoint}{path}", headers, runs)
        _emit({"op": name, "servers_in_project": servers, "servers_returned": count,
               "requests": runs, **_latency_summary(latencies)})
    lock, latencies = threading.Lock(), []

    def worker() -> None:
        own = requests.Session()
        mine = _time_requests(own, f"{endpoint}/servers/detail", headers, runs // 4 or 1)
        with lock:
            latencies.extend(mine)

    begun = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _emit({"op": "list_detail_4_threads", "servers_in_project": servers,
           "req_per_s": round(len(latencies) / (time.monotonic() - begun), 1),
           **_latency_summary(latencies)})
    cli = _time_cli(cloud, 3)
    _emit({"op": "cli_server_list", "servers_in_project": servers,
           "p50_s": round(statistics.median(cli), 2), "runs": len(cli)})


def server_list(args: argparse.Namespace) -> None:
    import openstack

    conn = openstack.connect(cloud=args.cloud)
    image = conn.image.find_image(args.image, ignore_missing=False)
    flavor = conn.compute.find_flavor(args.flavor, ignore_missing=False)
    server = conn.compute.create_server(name="bench-list-template", image_id=image.id,
                                        flavor_id=flavor.id, networks="none")
    rt = _cloud_database()
    copies: list[str] = []
    try:
        conn.compute.wait_for_server(server, interval=0.5, wait=300)
        _measure_list(conn, args.cloud, 1, args.runs)
        copies = _copy_server(rt, server.id, args.servers)
        _measure_list(conn, args.cloud, args.servers + 1, args.runs)
    finally:
        _remove_copies(rt, copies)
        conn.compute.delete_server(server.id, ignore_missing=True)
        conn.compute.wait_for_delete(server, interval=0.5, wait=300)
        rt.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sched = commands.add_parser("scheduler", help="decisions/s with many hosts")
    sched.add_argument("--hosts", type=int, default=1000)
    sched.add_argument("--decisions", type=int, default=200)
    sched.add_argument("--threads", type=int, default=4)
    sched.add_argument("--batch", type=int, default=50,
                       help="instances in one multi-instance request")
    sched.add_argument("--database-url", help="default: a scratch SQLite file")
    listing = commands.add_parser("list", help="server list with many servers")
    listing.add_argument("--cloud", default="stratus-admin")
    listing.add_argument("--servers", type=int, default=1000)
    listing.add_argument("--runs", type=int, default=20)
    listing.add_argument("--image", default="stratus-tiny")
    listing.add_argument("--flavor", default="m1.nano")
    args = parser.parse_args(argv)
    (scheduler if args.command == "scheduler" else server_list)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
