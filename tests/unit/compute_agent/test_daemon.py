"""The agent daemon over the FakeDriver and an in-memory conductor: start-up
reconciliation (interrupted builds, orphans, other agents' domains), the periodic jobs
and the RPC server's start and stop."""

from __future__ import annotations

import uuid as uuidlib

import pytest

from agents.compute import conf as compute_conf
from agents.compute import daemon as daemon_mod
from agents.compute.daemon import ComputeAgent
from agents.compute.fake import FakeDomain, FakeDriver
from agents.compute.power_state import PowerState
from common.context import RequestContext
from tests.unit.compute_agent import helpers
from tests.unit.compute_agent.fake_conductor import FakeConductor

HOST = "agent-a"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def agent():
    conf = compute_conf.make(overrides={"host_ip": "192.0.2.10"},
                             default_overrides={"host": HOST})
    driver = FakeDriver()
    conductor = FakeConductor(HOST)
    clock = Clock()
    agent = ComputeAgent(conf, driver=driver, conductor=conductor,
                         upload=lambda image_id, chunks: None, clock=clock)
    agent.clock = clock
    yield agent
    driver.close()


def _spawn(driver, uuid=None):
    inst = helpers.instance(**({"uuid": uuid} if uuid else {}))
    driver.spawn(inst)
    return inst.uuid


def test_start_up_reconciliation(agent):
    driver, conductor = agent.driver, agent.reporter.conductor
    building = _spawn(driver)  # the agent died while spawning it
    conductor.add(building, vm_state="building", task_state="spawning")
    queued = str(uuidlib.uuid4())  # its build cast was lost before it started
    conductor.add(queued, vm_state="building", task_state="networking")
    active = _spawn(driver)
    conductor.add(active, vm_state="active", task_state=None, power_state=1)
    driver.domains[active].power_state = PowerState.SHUTDOWN  # stopped while we were away
    missing = str(uuidlib.uuid4())
    conductor.add(missing, vm_state="active", task_state=None, power_state=1)
    deleted = _spawn(driver)
    conductor.add(deleted, vm_state="active", deleted=True)
    deleting = _spawn(driver)
    conductor.add(deleting, vm_state="active", task_state="deleting")
    deleted_while_building = str(uuidlib.uuid4())
    conductor.add(deleted_while_building, vm_state="building", task_state="deleting")
    _spawn(driver)  # an orphan: the controller does not know it at all
    foreign = helpers.instance()  # another agent's guest on the same libvirtd
    driver.foreign[foreign.uuid] = FakeDomain(foreign, PowerState.RUNNING)
    driver.calls.clear()

    stats = agent.reconcile(agent_ctx())
    assert stats == {"build_failed": 2, "deleted": 2, "destroyed": 2, "reported": 2}
    assert agent.reconciled
    assert {c[1] for c in conductor.calls if c[0] == "build_failed"} == {building, queued}
    assert all(d["reschedule"] for m, _, d in conductor.calls if m == "build_failed")
    assert set(driver.domains) == {active}
    assert foreign.uuid in driver.foreign
    assert ("destroy", foreign.uuid) not in driver.calls
    assert conductor.names(deleting) == ["instance_deleted"]
    assert conductor.names(deleted_while_building) == ["instance_deleted"]
    assert conductor.rows[active]["power_state"] == PowerState.SHUTDOWN
    assert conductor.rows[missing]["power_state"] == PowerState.NOSTATE
    assert conductor.rows[active]["vm_state"] == "active"  # the conductor decides


def test_no_reconciliation_without_the_controllers_answer(agent):
    driver, conductor = agent.driver, agent.reporter.conductor
    guest = _spawn(driver)
    conductor.fail_listing = TimeoutError("conductor down")
    results = agent.run_once()
    assert results["reconcile"] is None and not agent.reconciled
    assert guest in driver.domains  # not taken for an orphan
    assert results["power_states"] == 0
    conductor.fail_listing = None
    conductor.add(guest, vm_state="active", task_state=None)
    assert agent.run_once()["reconcile"]["reported"] == 1
    assert agent.reconciled and agent.run_once()["reconcile"] == "done"


def test_periodic_jobs(agent):
    conductor = agent.reporter.conductor
    guest = _spawn(agent.driver)
    conductor.add(guest, vm_state="active", task_state=None)
    results = agent.run_once()
    assert conductor.last("report_state") == {"host": HOST, "binary": "stratus-compute-agent",
                                              "topic": "stratus-compute"}
    resources = conductor.last("update_compute_node")["resources"]
    assert resources["vcpus"] == 4 and resources["memory_mb"] == 8192
    assert resources["host_ip"] == "192.0.2.10" and resources["hypervisor_hostname"] == HOST
    assert (resources["cpu_allocation_ratio"], resources["ram_allocation_ratio"],
            resources["disk_allocation_ratio"]) == (16.0, 1.5, 1.0)
    assert (resources["reserved_host_memory_mb"], resources["reserved_host_disk_gb"]) == (
        512, 0)
    assert results["power_states"] == 1 and results["image_cache"] == []

    # Only what is due runs; every interval is jittered by +-10%.
    conductor.calls.clear()
    agent.run_once(only_due=True)
    assert conductor.names() == []
    agent.clock.now += 11.5  # past the heartbeat (10 s), not the inventory (60 s)
    agent.run_once(only_due=True)
    assert conductor.names() == ["report_state"]


def test_power_sync_skips_instances_with_an_operation_in_flight(agent):
    conductor = agent.reporter.conductor
    busy, idle = _spawn(agent.driver), _spawn(agent.driver)
    for uuid in (busy, idle):
        conductor.add(uuid, vm_state="active", task_state=None)
    agent.reconciled = True
    with agent.manager.locks.hold(busy):
        assert agent.sync_power_states(agent_ctx()) == 1
    assert [c[1] for c in conductor.calls if c[0] == "instance_update"] == [idle]


def test_disabled_jobs_do_not_run(agent):
    agent.conf.set_override("sync_power_state_interval", -1, group="compute")
    fresh = ComputeAgent(agent.conf, driver=agent.driver, conductor=agent.reporter.conductor,
                         upload=lambda *_: None)
    assert "power_states" not in fresh.run_once()


def test_rpc_server_serves_the_host_and_stops_gracefully(agent, monkeypatch):
    made = {}

    class Server:
        def __init__(self, conf, topic, endpoints, server=None):
            made.update(topic=topic, endpoints=endpoints, server=server)
            self.calls = []

        def start(self):
            self.calls.append("start")

        def stop(self):
            self.calls.append("stop")

        def wait(self):
            self.calls.append("wait")

    monkeypatch.setattr(daemon_mod.messaging, "rpc_server", Server)
    agent.reporter.conductor.add(_spawn(agent.driver), vm_state="active", task_state=None)
    agent.start()
    assert agent.reconciled  # before the first message is taken
    assert made == {"topic": "stratus-compute", "endpoints": [agent.manager],
                    "server": HOST}
    server = agent.server
    agent.stop.set()
    agent.run_forever()  # returns at once: stop is set
    agent.shutdown()
    assert server.calls == ["start", "stop", "wait"]


def agent_ctx():
    return RequestContext.admin()
