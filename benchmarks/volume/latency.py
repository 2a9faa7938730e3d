"""Volume operation latency through the real agent process and RabbitMQ.

A stratus-volume-agent (file backend, tgt) runs as a process; this script plays the block
storage service on a private exchange and topics (the test suite's RecordingServer) and
times, per iteration, what a user waits for once the API has done its part:

- create:  cast create_volume -> the agent's volume_update(available) arrives
- attach:  call initialize_connection (target + LUN + CHAP + ACL) returns
- detach:  call terminate_connection (target removed) returns
- delete:  cast delete_volume -> volume_deleted arrives

Prints one JSON line per operation (median, p90, max in ms) and appends them to --out.
Usage: python benchmarks/volume/latency.py [--count 50] [--size 1] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import messaging  # noqa: E402
from common.context import RequestContext  # noqa: E402
from common.rpc.volume import VolumeAgentAPI  # noqa: E402
from tests.functional.volume_agent.agent_process import (  # noqa: E402
    AgentProcess,
    private_bus,
    unique_host,
    wait,
    write_config,
)
from tests.unit.volume_agent.helpers import RecordingServer  # noqa: E402

CTX = RequestContext.admin()
CONNECTOR = {"host": "bench", "ip": "127.0.0.1", "initiator": None}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1), "count": len(ordered)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--size", type=int, default=1, help="GiB per volume")
    parser.add_argument("--out", default=None)
    parser.add_argument("--transport-url", default=os.environ.get(
        "STRATUS_TEST_TRANSPORT_URL", "rabbit://guest:guest@127.0.0.1:5672/"))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="stratus-volbench-"))
    conf = private_bus(args.transport_url, workdir)
    recorder = RecordingServer()
    server = messaging.rpc_server(conf, conf.volume_rpc.server_topic, [recorder],
                                  server="bench-service")
    server.start()
    host = unique_host()
    agent = AgentProcess(write_config(workdir, conf, host), workdir)
    backend = f"{host}@file"
    api = VolumeAgentAPI(conf)
    samples: dict[str, list[float]] = {"create": [], "attach": [], "detach": [], "delete": []}
    try:
        agent.start()
        wait(lambda: recorder.named("report_capacity"), 60, "the agent", agent)
        for _ in range(args.count):
            volume_id = str(uuid.uuid4())
            recorder.add_volume(volume_id)
            started = time.monotonic()
            api.create_volume(CTX, backend, {"id": volume_id, "size": args.size,
                                             "source": {"type": "blank"}})
            recorder.wait_for(lambda v=volume_id: recorder.volumes[v]["status"] != "creating")
            samples["create"].append(time.monotonic() - started)
            started = time.monotonic()
            api.initialize_connection(CTX, backend, volume_id, CONNECTOR)
            samples["attach"].append(time.monotonic() - started)
            started = time.monotonic()
            api.terminate_connection(CTX, backend, volume_id, CONNECTOR)
            samples["detach"].append(time.monotonic() - started)
            started = time.monotonic()
            api.delete_volume(CTX, backend, volume_id)
            recorder.wait_for(lambda v=volume_id: recorder.volumes[v]["deleted"])
            samples["delete"].append(time.monotonic() - started)
        assert agent.stop() == 0
    finally:
        agent.cleanup()
        server.stop()
        server.wait()
        messaging.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [json.dumps({"op": op, "size_gb": args.size, **percentiles(values)})
             for op, values in samples.items()]
    print("\n".join(lines))
    if args.out:
        with open(args.out, "a") as out:
            out.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
