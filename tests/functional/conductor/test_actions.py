"""Power actions, rebuild and snapshot through a real conductor and RabbitMQ."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from agents.compute.power_state import PowerState
from controller import exceptions
from controller.compute import states
from controller.db.models.servers import InstanceAction, InstanceFault
from controller.image import images
from tests.functional.conductor.conftest import wait_for
from tests.unit.conductor import seed

# action -> (vm_state after, power_state after, notification family)
SEQUENCE = [
    ("stop", states.STOPPED, PowerState.SHUTDOWN, "power_off"),
    ("start", states.ACTIVE, PowerState.RUNNING, "power_on"),
    ("reboot_soft", states.ACTIVE, PowerState.RUNNING, "reboot"),
    ("reboot_hard", states.ACTIVE, PowerState.RUNNING, "reboot"),
    ("pause", states.PAUSED, PowerState.PAUSED, "pause"),
    ("unpause", states.ACTIVE, PowerState.RUNNING, "unpause"),
    ("suspend", states.SUSPENDED, PowerState.SUSPENDED, "suspend"),
    ("resume", states.ACTIVE, PowerState.RUNNING, "resume"),
]


def _last_fault(cloud, uuid):
    with cloud.rt.db.session() as session:
        return session.scalars(sa.select(InstanceFault).where(
            InstanceFault.instance_uuid == uuid).order_by(InstanceFault.id.desc())).first()


def _action(cloud, ctx):
    with cloud.rt.db.session() as session:
        return session.scalars(sa.select(InstanceAction).where(
            InstanceAction.request_id == ctx.request_id)).one()


def test_every_power_action(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    agent = cloud.agents[host]
    for action, vm_state, power, family in SEQUENCE:
        ctx = cloud.act(uuid, action)
        row = cloud.wait_state(uuid, vm_state)
        assert row.power_state == power, action
        assert agent.power_state(uuid) == power, action
        wait_for(lambda f=family: cloud.events(uuid)[-2:] == [f"instance.{f}.start",
                                                               f"instance.{f}.end"],
                 what=f"{family} notifications")
        assert _action(cloud, ctx).finish_time is not None
    assert agent.driver.domains[uuid].boots >= 4  # start, two reboots and the first boot


def test_power_action_on_a_down_host_clears_the_task(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    cloud.host_down(host)
    cloud.act(uuid, "stop")
    cloud.wait_state(uuid, states.ACTIVE)
    wait_for(lambda: "instance.power_off.error" in cloud.events(uuid))
    fault = _last_fault(cloud, uuid)
    assert fault.code == 409 and host in fault.message


def test_power_drift_reported_by_the_agent(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    agent = cloud.agents[host]
    # the guest shut itself down: the agent's power sync reports it
    agent.driver.power_off(uuid)
    answer = agent.conductor.instance_update(seed.user_ctx(), uuid,
                                             {"power_state": int(PowerState.SHUTDOWN)}, [None])
    assert answer["vm_state"] == states.STOPPED and answer["power_state"] == 4
    agent.driver.power_on(uuid)
    answer = agent.conductor.instance_update(seed.user_ctx(), uuid,
                                             {"power_state": int(PowerState.RUNNING)}, [None])
    assert answer["vm_state"] == states.ACTIVE
    # a guarded report for a task that is not running is refused
    assert agent.conductor.instance_update(seed.user_ctx(), uuid, {"vm_state": "stopped"},
                                           ["powering-off"]) is None
    # instances_on_host lists it
    listed = agent.conductor.instances_on_host(seed.user_ctx(), host)
    assert [entry["uuid"] for entry in listed] == [uuid]


def test_instances_on_host_include_recently_deleted(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    cloud.host_down(host)
    cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted)
    listed = cloud.stack.conductor.instances_on_host(seed.user_ctx(), host)
    assert listed == [{"uuid": uuid, "deleted": True, "vm_state": states.DELETED,
                       "task_state": None, "power_state": int(PowerState.RUNNING)}]


def test_rebuild_with_a_new_image_name_and_metadata(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    new_image = seed.image(cloud.rt, disk_format="raw")
    cloud.act(uuid, "rebuild", image_id=new_image, name="rebuilt",
              metadata={"rebuilt": "yes"})
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.image_ref == new_image and row.display_name == "rebuilt"
    assert {m.key: m.value for m in row.metadata_items} == {"rebuilt": "yes"}
    assert cloud.agents[host].driver.domains[uuid].instance.image.id == new_image
    wait_for(lambda: cloud.events(uuid)[-2:] == ["instance.rebuild.start",
                                                 "instance.rebuild.end"])
    assert [u["new_task_state"] for u in cloud.updates(uuid)][-2:] == \
        ["rebuild_spawning", None]


def test_rebuild_with_a_missing_image_changes_nothing(cloud, flavor):
    cloud.add_host()
    uuid = cloud.boot_active(flavor)
    before = cloud.row(uuid).image_ref
    cloud.act(uuid, "rebuild", image_id="0e7c7a35-0000-4000-8000-000000000000",
              name="never")
    wait_for(lambda: "instance.rebuild.error" in cloud.events(uuid))
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.image_ref == before and row.display_name != "never"
    assert _last_fault(cloud, uuid).code == 400


def test_rebuild_failing_on_the_host_is_error(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    cloud.agents[host].fail["rebuild_instance"] = "disk gone"
    cloud.act(uuid, "rebuild", image_id=cloud.row(uuid).image_ref)
    cloud.wait_state(uuid, states.ERROR)
    wait_for(lambda: "instance.rebuild.error" in cloud.events(uuid))
    assert _last_fault(cloud, uuid).message == "disk gone"


def _queued_image(cloud):
    return images.create(cloud.rt, seed.user_ctx(), {"name": "snap", "disk_format": "qcow2",
                                                    "container_format": "bare"}, {}, []).id


def test_snapshot_uploads_and_clears_the_task(cloud, flavor):
    cloud.add_host()
    uuid = cloud.boot_active(flavor)
    image_id = _queued_image(cloud)
    ctx = cloud.act(uuid, "snapshot", image_id=image_id)
    cloud.wait_state(uuid, states.ACTIVE)
    wait_for(lambda: "instance.snapshot.end" in cloud.events(uuid))
    image = images.get(cloud.rt, seed.user_ctx(), image_id)
    assert image.status == "active" and image.size > 0
    assert "snapshot_image_id" not in cloud.row(uuid).system_metadata
    action = _action(cloud, ctx)
    assert action.message is None and action.finish_time is not None
    assert [(e.event, e.result) for e in action.events] == \
        [("conductor_snapshot_instance", "Success")]


def test_snapshot_failure_deletes_the_image_and_keeps_the_state(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    cloud.act(uuid, "stop")
    cloud.wait_state(uuid, states.STOPPED)
    cloud.agents[host].fail["snapshot_instance"] = "qemu-img convert failed"
    image_id = _queued_image(cloud)
    ctx = cloud.act(uuid, "snapshot", image_id=image_id)
    wait_for(lambda: "instance.snapshot.error" in cloud.events(uuid))
    cloud.wait_state(uuid, states.STOPPED)
    with pytest.raises(exceptions.NotFound):
        images.get(cloud.rt, seed.user_ctx(), image_id)
    action = _action(cloud, ctx)
    assert action.message == "Error"
    assert [(e.event, e.result, e.traceback) for e in action.events] == \
        [("conductor_snapshot_instance", "Error", "qemu-img convert failed")]
    assert "qemu-img convert failed" in _last_fault(cloud, uuid).message
