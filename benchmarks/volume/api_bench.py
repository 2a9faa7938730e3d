"""Volume latency and in-guest throughput through the public APIs, as a user sees them.

Against a running cloud (clouds.yaml: the all-in-one by default, or $OS_CLIENT_CONFIG_FILE)
with openstacksdk, per iteration on one stratus-tiny guest (QEMU/TCG here):

- create:  POST /volumes (1 GiB, blank) -> the volume is ``available``
- attach:  POST /servers/{id}/os-volume_attachments -> ``in-use``; and -> the guest's
           kernel has /dev/vdb (its watcher prints it on the console; polled every 0.2 s)
- detach:  DELETE .../os-volume_attachments/{volume} -> ``available`` (the guest let go)
- delete:  DELETE /volumes/{id} -> 404
Each also reports the HTTP request alone (``*_request``). Then a 2 GiB volume is attached
through the same API path and the guest's watcher runs ``dd`` on it (write MB MiB with
fsync, drop the page cache, read back); the same ``dd`` on the volume's backing file on
the host ($STRATUS_VOLUME_PATH, the file backend) gives the data path's overhead.

Run as root on the cloud's host, under the VM lock:
  flock /tmp/stratus-vm.lock python benchmarks/volume/api_bench.py [--count 20] [--mb 256]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

import openstack  # noqa: E402
from throughput import DD_LINE, host_dd  # noqa: E402

from tests.functional.volume_agent import guests  # noqa: E402

VOLUME_PATH = os.environ.get("STRATUS_VOLUME_PATH", "/var/lib/stratus/volumes")
BENCH_SECTORS = 4194304  # the 2 GiB volume is the one the guest runs dd on
POLL = 0.05


def _until(what: str, probe: Callable[[], object], timeout: float = 300) -> float:
    """Poll probe until truthy; return the monotonic time it became so."""
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(POLL)


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1), "count": len(ordered)}


class Bench:
    def __init__(self, conn, server_id: str):
        self.conn = conn
        self.server_id = server_id
        self.attachments = f"/servers/{server_id}/os-volume_attachments"

    def status(self, volume_id: str) -> str | None:
        response = self.conn.block_storage.get(f"/volumes/{volume_id}", raise_exc=False)
        return None if response.status_code == 404 else response.json()["volume"]["status"]

    def console(self) -> str:
        return self.conn.compute.get_server_console_output(self.server_id)["output"]

    def create(self, size: int, timings: dict) -> str:
        started = time.monotonic()
        response = self.conn.block_storage.post("/volumes", json={"volume": {"size": size}})
        timings.setdefault("create_request", []).append(time.monotonic() - started)
        volume_id = response.json()["volume"]["id"]
        done = _until("available", lambda: self.status(volume_id) == "available")
        timings.setdefault("create", []).append(done - started)
        return volume_id

    def attach(self, volume_id: str, n: int, timings: dict) -> None:
        started = time.monotonic()
        self.conn.compute.post(self.attachments,
                               json={"volumeAttachment": {"volumeId": volume_id}})
        timings.setdefault("attach_request", []).append(time.monotonic() - started)
        done = _until("in-use", lambda: self.status(volume_id) == "in-use")
        timings.setdefault("attach", []).append(done - started)
        seen = _until("the guest's disk", lambda: f"VOLTEST {n} sectors=" in self.console())
        timings.setdefault("attach_guest_sees_disk", []).append(seen - started)

    def detach(self, volume_id: str, timings: dict) -> None:
        started = time.monotonic()
        self.conn.compute.delete(f"{self.attachments}/{volume_id}")
        timings.setdefault("detach_request", []).append(time.monotonic() - started)
        done = _until("available", lambda: self.status(volume_id) == "available")
        timings.setdefault("detach", []).append(done - started)

    def delete(self, volume_id: str, timings: dict) -> None:
        started = time.monotonic()
        self.conn.block_storage.delete(f"/volumes/{volume_id}")
        timings.setdefault("delete_request", []).append(time.monotonic() - started)
        done = _until("gone", lambda: self.status(volume_id) is None)
        timings.setdefault("delete", []).append(done - started)


def _boot(conn, mb: int) -> str:
    action = (f'if [ "$(cat /sys/block/vdb/size)" = {BENCH_SECTORS} ]; then '
              f'{guests.DD_BENCH.format(mb=mb)}; fi')
    user_data = base64.b64encode(guests.WATCHER.format(action=action).encode()).decode()
    image = conn.image.find_image("stratus-tiny", ignore_missing=False)
    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    server = conn.compute.create_server(
        name=f"volbench-{uuid.uuid4().hex[:6]}", image_id=image.id, flavor_id=flavor.id,
        networks="none", user_data=user_data, config_drive=True)
    conn.compute.wait_for_server(server, wait=300)
    ready = guests.READY.format(uuid=server.id)
    _until("the ready line", lambda: ready in conn.compute.get_server_console_output(
        server.id)["output"], 300)
    return server.id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", default="stratus-demo")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--out", default=str(HERE / "results" / "api.jsonl"))
    args = parser.parse_args()
    conn = openstack.connect(cloud=args.cloud)
    server_id = _boot(conn, args.mb)
    bench, timings = Bench(conn, server_id), {}
    try:
        for n in range(1, args.count + 1):
            volume_id = bench.create(1, timings)
            bench.attach(volume_id, n, timings)
            bench.detach(volume_id, timings)
            bench.delete(volume_id, timings)
        volume_id = bench.create(2, {})
        bench.attach(volume_id, args.count + 1, {})
        n = args.count + 1
        _until("the guest's dd", lambda: f"VOLTEST {n} dd" in bench.console(), 1800)
        mb, w0, w1, r0, r1 = re.search(DD_LINE.format(n=n), bench.console()).groups()
        guest = {"write_mbps": round(int(mb) / (float(w1) - float(w0)), 1),
                 "read_mbps": round(int(mb) / (float(r1) - float(r0)), 1)}
        bench.detach(volume_id, {})
        on_host = host_dd(os.path.join(VOLUME_PATH, f"volume-{volume_id}"), args.mb)
        bench.delete(volume_id, {})
    finally:
        conn.compute.delete_server(server_id)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = [{"benchmark": "volume_api_latency", "op": op, **_stats(samples), "at": stamp}
             for op, samples in timings.items()]
    lines.append({"benchmark": "volume_api_throughput", "mb": args.mb, "guest": guest,
                  "host": on_host,
                  "overhead_write": round(on_host["write_mbps"] / guest["write_mbps"], 2),
                  "overhead_read_cold": round(on_host["read_cold_mbps"] / guest["read_mbps"],
                                              2), "at": stamp})
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "a") as out:
        for line in lines:
            print(json.dumps(line))
            out.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
