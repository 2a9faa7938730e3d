"""The compute agent on a real RabbitMQ: the real ComputeManager behind a real RPC server
(this test's own control_exchange and topics), reporting to a recording conductor.

- build_and_run_instance cast through ``common.rpc.compute`` -> the reports arrive at
  the conductor in order, each with the caller's request ID;
- the console calls answer across the bus, errors as RemoteError naming the exception;
- ``stratus-compute-agent --once`` (the real entry point, in a subprocess, real libvirt)
  reconciles, heartbeats and reports this host's inventory.

The driver behind the RPC test is the FakeDriver: the bus, not QEMU, is under test here
(test_libvirt_*.py boot real guests).
"""

from __future__ import annotations

import base64
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid

import kombu
import pytest

from agents.compute import conf as compute_conf
from agents.compute.daemon import ComputeAgent
from agents.compute.fake import FakeDriver
from common import messaging
from common.context import RequestContext
from common.rpc.compute import ComputeAPI
from tests.unit.compute_agent import helpers

WAIT = 30


class RecordingConductor:
    """The agent-facing conductor methods; records (method, uuid, kwargs, request id)."""

    def __init__(self):
        self.reports: queue.Queue = queue.Queue()
        self.rows: dict[str, dict] = {}
        self.lock = threading.Lock()

    def _record(self, ctxt, method, uuid=None, **kwargs):
        self.reports.put((method, uuid, kwargs, ctxt.request_id))

    def report_state(self, ctxt, host, binary, topic=None):
        self._record(ctxt, "report_state", host=host, binary=binary)

    def update_compute_node(self, ctxt, host, resources):
        self._record(ctxt, "update_compute_node", host=host, resources=resources)

    def instances_on_host(self, ctxt, host):
        self._record(ctxt, "instances_on_host", host=host)
        with self.lock:
            return [dict(row) for row in self.rows.values()]

    def instance_update(self, ctxt, instance_uuid, updates, expected_task_state=None):
        self._record(ctxt, "instance_update", instance_uuid, updates=updates,
                     expected=expected_task_state)
        with self.lock:
            row = self.rows.get(instance_uuid)
            if row is None or (expected_task_state is not None
                               and row["task_state"] not in expected_task_state):
                return None
            row.update(updates)
            return dict(row)

    def action_event(self, ctxt, instance_uuid, event, host, phase, result=None,
                     traceback=None):
        self._record(ctxt, "action_event", instance_uuid, event=event, phase=phase,
                     result=result)

    def instance_fault(self, ctxt, instance_uuid, host, message, details=None, code=500):
        self._record(ctxt, "instance_fault", instance_uuid, message=message)

    def build_failed(self, ctxt, instance_uuid, host, message, details=None,
                     reschedule=True, attempt=1):
        self._record(ctxt, "build_failed", instance_uuid, message=message)

    def next(self, method=None):
        """The next report (of method), waiting for it."""
        deadline = time.monotonic() + WAIT
        while True:
            report = self.reports.get(timeout=max(0.1, deadline - time.monotonic()))
            if method is None or report[0] == method:
                return report


@pytest.fixture
def bus_conf(transport_url, instances_path, libvirt_uri):
    exchange = f"stratus-test-{uuid.uuid4().hex[:10]}"
    conf = compute_conf.make(
        overrides={"instances_path": instances_path, "libvirt_uri": libvirt_uri,
                   "virt_type": "qemu", "host_ip": "127.0.0.1"},
        default_overrides={"host": f"rpc-{uuid.uuid4().hex[:8]}"})
    conf.set_override("transport_url", transport_url, group="messaging")
    conf.set_override("control_exchange", exchange, group="messaging")
    conf.set_override("rpc_timeout", 20, group="messaging")
    # Own topics too: RabbitMQ queues are named after the topic, not the exchange, so a
    # test on the real topics would share the running cloud's queues.
    conf.set_override("topic", f"test-conductor-{exchange[-10:]}", group="conductor")
    conf.set_override("topic", f"test-compute-{exchange[-10:]}", group="compute_rpc")
    yield conf
    messaging.cleanup()
    _delete_queues(transport_url, exchange,
                   [conf.conductor.topic, f"{conf.conductor.topic}.conductor-1",
                    conf.compute_rpc.topic, f"{conf.compute_rpc.topic}.{conf.host}"])


def _delete_queues(transport_url: str, exchange: str, names: list[str]) -> None:
    """oslo.messaging leaves topic queues and exchanges behind; remove this test's."""
    with kombu.Connection(transport_url.replace("rabbit://", "amqp://")) as connection:
        channel = connection.channel()
        for name in names:
            try:
                channel.queue_delete(name)
            except Exception:  # noqa: BLE001 - already gone; the channel may close
                channel = connection.channel()
        try:
            channel.exchange_delete(exchange)
        except Exception:  # noqa: BLE001 - already gone
            pass


@pytest.fixture
def conductor(bus_conf):
    endpoint = RecordingConductor()
    server = messaging.rpc_server(bus_conf, bus_conf.conductor.topic, [endpoint],
                                  server="conductor-1")
    server.start()
    yield endpoint
    server.stop()
    server.wait()


def test_build_reports_arrive_in_order_with_the_request_id(bus_conf, conductor):
    driver = FakeDriver()
    agent = ComputeAgent(bus_conf, driver=driver, upload=lambda *_: None)
    agent.start()
    try:
        assert conductor.next()[0] == "instances_on_host"  # start-up reconciliation
        inst = helpers.instance()
        with conductor.lock:
            conductor.rows[inst.uuid] = {"uuid": inst.uuid, "deleted": False,
                                         "vm_state": "building", "task_state": "spawning"}
        spec = {"uuid": inst.uuid, "name": "rpc-vm", "project_id": helpers.PROJECT_ID,
                "user_id": "u", "hostname": "rpc-vm", "config_drive": False,
                "user_data": base64.b64encode(b"hello").decode(), "public_keys": {},
                "metadata": {}, "launch_index": 0,
                "flavor": {"name": "m1.nano", "memory_mb": 64, "vcpus": 1, "root_gb": 1},
                "image": {"id": helpers.IMAGE_ID, "disk_format": "qcow2"},
                "vifs": [], "volumes": []}
        ctx = RequestContext(project_id=helpers.PROJECT_ID, roles=["member"])
        compute = ComputeAPI(bus_conf)
        compute.build_and_run_instance(ctx, bus_conf.host, spec)

        # No loop runs here (no heartbeats): exactly the build's reports, in order.
        reports = [conductor.next() for _ in range(5)]
        assert [(r[0], r[2].get("event"), r[2].get("phase")) for r in reports] == [
            ("instances_on_host", None, None),
            ("action_event", "compute_build_and_run_instance", "start"),
            ("instance_update", None, None),
            ("instance_update", None, None),
            ("action_event", "compute_build_and_run_instance", "finish"),
        ]
        assert {r[3] for r in reports} == {ctx.request_id}
        build_reports = reports
        assert build_reports[2][2]["updates"] == {"task_state": "spawning"}
        final = build_reports[3][2]
        assert final["updates"]["vm_state"] == "active" and final["expected"] == ["spawning"]
        assert build_reports[4][2]["result"] == "Success"
        assert driver.domains[inst.uuid].instance.user_data == b"hello"

        # Calls answer across the bus; expected errors arrive named.
        output = compute.get_console_output(ctx, bus_conf.host, inst.uuid, length=1)
        assert output == f"stratus-guest ready: instance-id={inst.uuid} addresses=\n"
        endpoint = compute.get_console_endpoint(ctx, bus_conf.host, inst.uuid, "serial")
        assert endpoint == {"host": "127.0.0.1",
                            "port": driver.domains[inst.uuid].serial_port}
        with pytest.raises(messaging.messaging.RemoteError) as error:
            compute.get_console_endpoint(ctx, bus_conf.host, str(uuid.uuid4()), "novnc")
        assert error.value.exc_type == "InstanceNotFound"
    finally:
        agent.stop.set()
        agent.shutdown()
        driver.close()


def _config_file(bus_conf, tmp_path):
    config = tmp_path / "agent.conf"
    config.write_text(f"""
[DEFAULT]
host = {bus_conf.host}
[messaging]
transport_url = {bus_conf.messaging.transport_url}
control_exchange = {bus_conf.messaging.control_exchange}
rpc_timeout = 20
[conductor]
topic = {bus_conf.conductor.topic}
[compute_rpc]
topic = {bus_conf.compute_rpc.topic}
[compute]
instances_path = {bus_conf.compute.instances_path}
libvirt_uri = {bus_conf.compute.libvirt_uri}
virt_type = qemu
host_ip = 127.0.0.1
reserved_host_memory_mb = 256
[service]
report_interval = 1
""")
    return config


AGENT = [sys.executable, "-c", "import sys; from agents.compute.daemon import main; "
                               "sys.exit(main())"]


def test_entry_point_once_reports_this_host(bus_conf, conductor, tmp_path):
    config = _config_file(bus_conf, tmp_path)
    result = subprocess.run(AGENT + ["--config-file", str(config), "--once"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = {}
    while len(seen) < 3:
        method, _, kwargs, _ = conductor.next()
        seen[method] = kwargs
    assert seen["report_state"] == {"host": bus_conf.host, "binary": "stratus-compute-agent"}
    resources = seen["update_compute_node"]["resources"]
    assert resources["hypervisor_type"] == "QEMU" and resources["vcpus"] >= 1
    assert resources["reserved_host_memory_mb"] == 256
    assert resources["host_ip"] == "127.0.0.1"
    assert "instances_on_host" in seen


def test_daemon_serves_until_sigterm_then_exits_cleanly(bus_conf, conductor, tmp_path):
    config = _config_file(bus_conf, tmp_path)
    agent = subprocess.Popen(AGENT + ["--config-file", str(config)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        assert conductor.next("instances_on_host")  # reconciled at start
        conductor.next("report_state")
        conductor.next("report_state")  # the loop runs: heartbeats every second
        compute = ComputeAPI(bus_conf)
        ctx = RequestContext()
        missing = str(uuid.uuid4())
        with pytest.raises(messaging.messaging.RemoteError):  # it serves RPC
            compute.get_console_output(ctx, bus_conf.host, missing)
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=60) == 0, agent.stdout.read()[-3000:]
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    assert "stopped" in agent.stdout.read()
