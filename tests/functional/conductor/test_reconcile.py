"""The periodic reconciliation unsticks what no message will ever finish."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from controller.compute import states
from controller.conductor import reconcile
from controller.db.base import utcnow
from controller.db.models.hosts import Allocation, ComputeNode
from controller.db.models.servers import Instance, InstanceFault
from tests.functional.conductor.conftest import wait_for
from tests.unit.conductor import seed


def _age(cloud, uuid, seconds):
    """Pretend the instance's last write happened seconds ago."""
    with cloud.rt.db.session() as session:
        session.execute(sa.update(Instance).where(Instance.uuid == uuid).values(
            updated_at=utcnow() - datetime.timedelta(seconds=seconds)))


def _faults(cloud, uuid):
    with cloud.rt.db.session() as session:
        return [f.message for f in session.scalars(sa.select(InstanceFault).where(
            InstanceFault.instance_uuid == uuid).order_by(InstanceFault.id))]


def test_build_on_a_dead_host_is_rescheduled(cloud, flavor):
    dead = cloud.add_host(memory_mb=2048, agent=False)  # preferred, but nobody answers
    alive = cloud.add_host(memory_mb=1024)
    uuid = cloud.boot(flavor)[0]
    cloud.wait_state(uuid, states.BUILDING, states.SPAWNING)
    assert cloud.row(uuid).host == dead
    reconcile.run_once(cloud.rt)
    assert cloud.row(uuid).task_state == states.SPAWNING  # the host is still up
    cloud.host_down(dead)
    report = reconcile.run_once(cloud.rt)
    assert report.builds_on_dead_hosts == 1
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.host == alive
    assert [a["host"] for a in cloud.allocations(uuid)] == [alive]
    assert "went down while building" in _faults(cloud, uuid)[0]


def test_build_on_a_dead_host_with_no_other_host_is_error(cloud, flavor):
    dead = cloud.add_host(agent=False)
    uuid = cloud.boot(flavor)[0]
    cloud.wait_state(uuid, states.BUILDING, states.SPAWNING)
    cloud.host_down(dead)
    reconcile.run_once(cloud.rt)
    row = cloud.wait_state(uuid, states.ERROR)
    assert row.host is None and cloud.allocations(uuid) == []


def test_scheduling_that_never_ends_is_error(cloud, flavor):
    ctx = seed.user_ctx()
    uuid = seed.instance(cloud.rt, ctx, flavor, seed.image(cloud.rt))  # no cast: lost
    reconcile.run_once(cloud.rt)
    assert cloud.row(uuid).vm_state == states.BUILDING
    _age(cloud, uuid, cloud.rt.conf.conductor.build_timeout + 1)
    assert reconcile.run_once(cloud.rt).scheduling_timeouts >= 1
    assert cloud.row(uuid).vm_state == states.ERROR
    assert "Build timed out" in _faults(cloud, uuid)[-1]


def test_unanswered_power_task_is_asked_again_then_cleared(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    agent = cloud.agents[host]
    agent.fail["power_action"] = "lost"  # the agent never answers
    cloud.act(uuid, "stop")
    wait_for(lambda: agent.calls.count("power_action") == 1)
    timeout = cloud.rt.conf.conductor.task_timeout
    _age(cloud, uuid, timeout + 1)
    assert reconcile.run_once(cloud.rt).tasks_reasked == 1
    wait_for(lambda: agent.calls.count("power_action") == 2, what="the re-ask")
    assert cloud.row(uuid).task_state == states.POWERING_OFF
    _age(cloud, uuid, timeout + 1)
    assert reconcile.run_once(cloud.rt).tasks_expired == 1
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert "got no answer" in _faults(cloud, uuid)[-1]
    assert row.power_state == 1


def test_reasked_power_task_that_gets_answered(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    agent = cloud.agents[host]
    agent.fail["power_action"] = "lost"
    cloud.act(uuid, "pause")
    wait_for(lambda: agent.calls.count("power_action") == 1)
    del agent.fail["power_action"]
    _age(cloud, uuid, cloud.rt.conf.conductor.task_timeout + 1)
    reconcile.run_once(cloud.rt)
    cloud.wait_state(uuid, states.PAUSED)


def test_stuck_delete_finishes(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    cloud.agents[host].fail["terminate_instance"] = "lost"
    cloud.delete(uuid)
    wait_for(lambda: "terminate_instance" in cloud.agents[host].calls)
    timeout = cloud.rt.conf.conductor.task_timeout
    _age(cloud, uuid, timeout + 1)
    reconcile.run_once(cloud.rt)  # asks again (still lost)
    _age(cloud, uuid, timeout + 1)
    reconcile.run_once(cloud.rt)  # gives up: deleted locally, claims released
    assert cloud.row(uuid).deleted
    assert cloud.allocations(uuid) == []


def test_orphan_claims_are_released(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    with cloud.rt.db.session() as session:  # a conductor died between the two writes
        session.execute(sa.update(Instance).where(Instance.uuid == uuid).values(
            deleted=True, vm_state=states.DELETED))
        node_id = session.scalars(sa.select(ComputeNode.id).where(
            ComputeNode.host == host)).one()
        assert session.scalars(sa.select(Allocation).where(
            Allocation.compute_node_id == node_id)).all()
    assert reconcile.run_once(cloud.rt).claims_released == 1
    assert cloud.allocations(uuid) == []
