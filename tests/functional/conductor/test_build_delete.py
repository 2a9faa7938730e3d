"""Build (with reschedule) and delete through a real conductor, scheduler and RabbitMQ."""

from __future__ import annotations

import sqlalchemy as sa

from controller.compute import states
from controller.conductor import machine
from controller.db.models.servers import InstanceAction, InstanceFault
from tests.functional.conductor.conftest import wait_for
from tests.unit.conductor import seed


def _faults(cloud, uuid):
    with cloud.rt.db.session() as session:
        return list(session.scalars(sa.select(InstanceFault).where(
            InstanceFault.instance_uuid == uuid).order_by(InstanceFault.id)))


def _events(cloud, uuid, action="create"):
    with cloud.rt.db.session() as session:
        row = session.scalars(sa.select(InstanceAction).where(
            InstanceAction.instance_uuid == uuid, InstanceAction.action == action)).one()
        return row.message, [(e.event, e.result, e.host) for e in row.events]


def test_build_goes_active_and_holds_its_claim(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot(flavor)[0]
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.host == row.node == row.launched_on == host
    assert row.power_state == machine.RUNNING and row.launched_at is not None
    assert uuid in cloud.agents[host].driver.domains
    [allocation] = cloud.allocations(uuid)
    assert allocation["host"] == host and allocation["memory_mb"] == 128
    wait_for(lambda: "instance.create.end" in cloud.events(uuid))
    assert [u["new_task_state"] for u in cloud.updates(uuid)] == ["networking", "spawning",
                                                                  None]
    message, events = _events(cloud, uuid)
    assert message is None
    assert ("conductor_schedule_and_build_instances", "Success", None) in events
    wait_for(lambda: ("compute_build_and_run_instance", "Success", host)
             in _events(cloud, uuid)[1])


def test_no_capacity_is_error_with_no_valid_host(cloud):
    cloud.add_host(memory_mb=256)
    huge = seed.flavor(cloud.rt, memory_mb=4096)
    uuid = cloud.boot(huge)[0]
    row = cloud.wait_state(uuid, states.ERROR)
    assert row.host is None
    wait_for(lambda: "instance.create.error" in cloud.events(uuid))
    [fault] = _faults(cloud, uuid)
    assert fault.code == 500 and fault.message.startswith("No valid host was found.")
    assert cloud.allocations(uuid) == []
    message, events = _events(cloud, uuid)
    assert message == "Error"
    assert ("conductor_schedule_and_build_instances", "Error", None) in events


def test_failed_spawn_is_rescheduled_to_another_host(cloud, flavor):
    first = cloud.add_host(memory_mb=2048)   # the scheduler prefers the most free RAM
    second = cloud.add_host(memory_mb=1024)
    cloud.agents[first].fail["build_and_run_instance"] = "qemu exploded"
    uuid = cloud.boot(flavor)[0]
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.host == second
    assert [a["host"] for a in cloud.allocations(uuid)] == [second]
    assert uuid not in cloud.agents[first].driver.domains
    assert [(f.host, f.message) for f in _faults(cloud, uuid)] == [(first, "qemu exploded")]
    assert row.system_metadata["build_hosts_tried"] == f"{first},{second}"


def test_attempts_exhausted_is_error(cloud, flavor):
    hosts = [cloud.add_host(memory_mb=2048), cloud.add_host(memory_mb=1024)]
    for host in hosts:
        cloud.agents[host].fail["build_and_run_instance"] = f"no luck on {host}"
    uuid = cloud.boot(flavor)[0]
    row = cloud.wait_state(uuid, states.ERROR)  # [scheduler] max_attempts = 2 here
    assert row.host is None
    wait_for(lambda: "instance.create.error" in cloud.events(uuid))
    faults = _faults(cloud, uuid)
    assert faults[-1].message.startswith("Exceeded maximum number of retries.")
    assert f"no luck on {hosts[1]}" in faults[-1].message + (faults[-1].details or "")
    assert cloud.allocations(uuid) == []


def test_cast_failure_is_error_and_releases_the_claim(cloud, flavor, monkeypatch):
    cloud.add_host()

    class Broken:
        def build_and_run_instance(self, *args, **kwargs):
            raise ConnectionError("RabbitMQ went away")

    monkeypatch.setattr(cloud.rt, "compute_api", Broken())
    uuid = cloud.boot(flavor)[0]
    cloud.wait_state(uuid, states.ERROR)
    wait_for(lambda: "instance.create.error" in cloud.events(uuid))
    assert "RabbitMQ went away" in _faults(cloud, uuid)[-1].message
    assert cloud.allocations(uuid) == []


def test_several_instances_in_one_request(cloud, flavor):
    cloud.add_host()
    uuids = cloud.boot(flavor, count=3)
    for uuid in uuids:
        cloud.wait_state(uuid, states.ACTIVE)
        assert len(cloud.allocations(uuid)) == 1


def test_delete_on_an_up_host(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    ctx = cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted, what="the delete")
    row = cloud.row(uuid)
    assert (row.vm_state, row.task_state) == (states.DELETED, None)
    assert row.deleted_at is not None and row.terminated_at is not None
    assert uuid not in cloud.agents[host].driver.domains
    assert cloud.allocations(uuid) == []
    wait_for(lambda: cloud.events(uuid)[-1:] == ["instance.delete.end"])
    with cloud.rt.db.session() as session:
        action = session.scalars(sa.select(InstanceAction).where(
            InstanceAction.request_id == ctx.request_id)).one()
        assert action.finish_time is not None


def test_delete_on_a_down_host_is_local(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    cloud.host_down(host)
    cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted, what="the local delete")
    assert cloud.allocations(uuid) == []


def test_delete_without_a_host(cloud, flavor):
    cloud.add_host(memory_mb=64)   # too small: the build fails with no host
    uuid = cloud.boot(flavor)[0]
    cloud.wait_state(uuid, states.ERROR)
    cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted, what="the delete")
    assert cloud.allocations(uuid) == []


def test_delete_while_scheduling_gives_the_claim_back(cloud, flavor, monkeypatch):
    host = cloud.add_host()
    scheduler = cloud.rt.scheduler_api
    answers = []

    class DeleteDuringScheduling:
        def select_destinations(self, ctx, spec, uuids, **kwargs):
            for uuid in uuids:  # the user deletes while the scheduler works
                cloud.delete(uuid)
                wait_for(lambda u=uuid: cloud.row(u).deleted, what="the delete")
            answer = scheduler.select_destinations(ctx, spec, uuids, **kwargs)
            answers.append(answer)
            return answer

    monkeypatch.setattr(cloud.rt, "scheduler_api", DeleteDuringScheduling())
    uuid = cloud.boot(flavor)[0]
    wait_for(lambda: answers, what="the scheduler's answer")
    assert answers[0]["selections"][0]["host"] == host  # a claim was made...
    wait_for(lambda: cloud.allocations(uuid) == [], what="the claim's release")  # ...and freed
    assert "build_and_run_instance" not in cloud.agents[host].calls
