"""Faults of the shared infrastructure: RabbitMQ restarted under a running cloud.

While the bus is down, requests that need it fail fast with a 503 and leave nothing
behind; once it is back, every daemon reconnects by itself and the cloud works again
without anyone restarting anything.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from tests.e2e.compute_support import wait_for


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True,
                   timeout=120)


@pytest.fixture
def bus():
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed on this host")
    yield
    _rabbitmqctl("start_app")  # whatever happened in the test


def _consumed_topics() -> set[str]:
    """Topics of the cloud's vhost that a daemon consumes right now."""
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name", "consumers"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return {line.split()[0] for line in out.splitlines()[1:]
            if len(line.split()) == 2 and line.split()[1] != "0"}


# RabbitMQ drops non-durable queues when it stops; each daemon declares its own again
# when it reconnects, so a topic with a consumer again means that daemon is back.
TOPICS = {"stratus-conductor", "stratus-scheduler", "stratus-compute", "stratus-network",
          "stratus-volume", "stratus-network-ovs", "stratus-network-dhcp",
          "stratus-network-l3", "stratus-volume-agent"}


def test_rabbitmq_restart_fails_fast_then_converges(demo_cli, admin_cli, bus):
    name = f"e2e-bus-{uuid.uuid4().hex[:6]}"
    _rabbitmqctl("stop_app")
    try:
        refused = demo_cli.run("server", "create", "--image", "stratus-tiny", "--flavor",
                               "m1.nano", "--nic", "none", name, check=False)
        assert refused.returncode != 0 and "503" in refused.stderr
        # Reads never needed the bus.
        assert name not in [s["Name"] for s in demo_cli.json("server", "list")]
    finally:
        _rabbitmqctl("start_app")
    wait_for("every daemon to consume its topic again",
             lambda: TOPICS <= _consumed_topics(), timeout=180, interval=2)
    server = demo_cli.json("server", "create", "--image", "stratus-tiny", "--flavor",
                           "m1.nano", "--nic", "none", "--wait", name)
    assert server["status"] == "ACTIVE"
    demo_cli.run("server", "delete", "--wait", server["id"])
