"""Volumes on servers through a real conductor and scheduler over RabbitMQ, with the real
compute and volume service layers on SQLite and PostgreSQL, a recording volume agent and
fake compute hosts: attach and detach (and their unwinding), boot from volume (volumes
made, waited for, exported to the chosen host, moved on a reschedule, unwound on
failure), a delete that detaches and deletes, multiattach on one host, and the sweep of
what a failed delete left behind."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from oslo_messaging import MessagingTimeout

from controller.compute import block_device_mappings as bdms
from controller.compute import block_devices, states
from controller.compute import volume_attachments as attach_api
from controller.conductor import instances, volume_sweep
from controller.db.base import utcnow
from controller.db.models.block_devices import BlockDeviceMapping
from controller.db.models.hosts import ComputeNode
from controller.db.models.servers import InstanceAction, InstanceFault
from controller.db.models.volume import Volume
from controller.volume import attachments as volume_attachments
from controller.volume import volumes as volume_service
from tests.functional.conductor.conftest import wait_for
from tests.functional.volume_api import fakes
from tests.unit.conductor import seed


@pytest.fixture(scope="module")
def volume_agent(stack):
    stack.rt.conf.set_override("volume_poll_interval", 0.05, group="conductor")
    agent = fakes.FakeAgent(stack.rt)
    stack.rt.volume_agent_api = agent
    fakes.add_backend(stack.rt, host=f"vol-{stack.conf.host}")
    return agent


@pytest.fixture(autouse=True)
def _fresh(volume_agent):
    volume_agent.auto, volume_agent.fail_connections = True, False
    volume_agent.calls.clear()


def _host(cloud, address: str = "192.0.2.10", memory_mb: int = 1024) -> str:
    host = cloud.add_host(memory_mb=memory_mb)
    with cloud.rt.db.session() as session:
        session.execute(sa.update(ComputeNode).where(ComputeNode.host == host)
                        .values(host_ip=address))
    return host


def _volume(rt, size: int = 1, **values) -> str:
    return volume_service.create(rt, seed.user_ctx(), {"size": size, **values}).id


def _status(rt, volume_id: str) -> str:
    with rt.db.session() as session:
        return session.get(Volume, volume_id).status


def _mapping(rt, uuid: str, volume_id: str):
    return bdms.find(rt, uuid, volume_id)


def _events(rt, uuid: str, request_id: str) -> dict[str, str | None]:
    with rt.db.session() as session:
        action = session.scalars(sa.select(InstanceAction).where(
            InstanceAction.instance_uuid == uuid,
            InstanceAction.request_id == request_id)).one()
        return {event.event: event.result for event in action.events} | \
            {"message": action.message, "finished": str(action.finish_time is not None)}


def _boot(cloud, flavor, mappings: list[dict], image_id: str | None = None) -> str:
    """What POST /servers does with block_device_mapping_v2: plan, check, reserve."""
    rt, ctx = cloud.rt, seed.user_ctx()
    boot = block_devices.plan(image_id, None, mappings)
    block_devices.validate(rt, ctx, boot, flavor, 1)
    uuid = seed.instance(rt, ctx, flavor, image_id or "")
    rows = block_devices.reserve(rt, ctx, boot, [uuid])
    with rt.db.session() as session:
        session.add_all(rows)
    spec = seed.request_spec(flavor, image_id or "")
    spec["boot_from_volume"] = boot.volume_backed
    cloud.stack.conductor.build_instances(ctx, [uuid], spec)
    return uuid


def _attach(cloud, uuid: str, volume_id: str) -> str:
    ctx = seed.user_ctx()
    attach_api.attach(cloud.rt, ctx, cloud.row(uuid), volume_id)
    return ctx.request_id


def test_attach_then_detach_a_running_server(cloud, flavor, volume_agent):
    host = _host(cloud)
    uuid = cloud.boot_active(flavor)
    volume_id = _volume(cloud.rt)
    request_id = _attach(cloud, uuid, volume_id)
    assert _status(cloud.rt, volume_id) in ("reserved", "attaching", "in-use")
    wait_for(lambda: (_mapping(cloud.rt, uuid, volume_id).status == "attached"), what="attach")
    assert _status(cloud.rt, volume_id) == "in-use"
    plugged = cloud.agents[host].driver.domains[uuid].instance.volumes
    assert [(v.volume_id, v.device) for v in plugged] == [(volume_id, "vdb")]
    assert plugged[0].initiator == f"iqn.2010-10.org.stratus:{host}"
    assert plugged[0].connection_info["data"]["auth_method"] == "CHAP"
    connector = volume_agent.last("initialize_connection").args["connector"]
    assert connector == {"host": host, "ip": "192.0.2.10",
                         "initiator": f"iqn.2010-10.org.stratus:{host}"}
    events = wait_for(lambda: (e := _events(cloud.rt, uuid, request_id))["finished"] == "True"
                      and e)
    assert events["conductor_attach_volume"] == "Success" and events["message"] is None
    # Notified just after the action is marked finished: it may be a moment behind.
    wait_for(lambda: "instance.volume_attach.end" in cloud.events(uuid),
             what="the attach notification")

    ctx = seed.user_ctx()
    attach_api.detach(cloud.rt, ctx, cloud.row(uuid), volume_id)
    wait_for(lambda: _mapping(cloud.rt, uuid, volume_id) is None, what="detach")
    assert _status(cloud.rt, volume_id) == "available"
    assert cloud.agents[host].driver.domains[uuid].instance.volumes == ()
    assert volume_agent.last("terminate_connection").args["connector"]["ip"] == "192.0.2.10"
    assert _events(cloud.rt, uuid, ctx.request_id)["conductor_detach_volume"] == "Success"


def test_a_failed_hot_plug_is_undone(cloud, flavor, volume_agent):
    host = _host(cloud)
    uuid = cloud.boot_active(flavor)
    volume_id = _volume(cloud.rt)
    cloud.agents[host].fail["attach_volume"] = "QEMU could not log in to the target"
    request_id = _attach(cloud, uuid, volume_id)
    wait_for(lambda: _mapping(cloud.rt, uuid, volume_id) is None, what="the undo")
    assert _status(cloud.rt, volume_id) == "available"
    assert "terminate_connection" in volume_agent.names()
    events = wait_for(lambda: (e := _events(cloud.rt, uuid, request_id))["finished"] == "True"
                      and e)
    assert events["conductor_attach_volume"] == "Error" and events["message"] == "Error"
    with cloud.rt.db.session() as session:
        fault = session.scalars(sa.select(InstanceFault).where(
            InstanceFault.instance_uuid == uuid)).all()[-1]
    assert "could not log in" in (fault.message + (fault.details or ""))
    assert cloud.row(uuid).vm_state == states.ACTIVE  # the server itself is fine


def test_an_unexportable_volume_is_undone_and_the_agent_is_not_asked(cloud, flavor,
                                                                     volume_agent):
    host = _host(cloud)
    uuid = cloud.boot_active(flavor)
    volume_id = _volume(cloud.rt)
    volume_agent.fail_connections = True
    _attach(cloud, uuid, volume_id)
    wait_for(lambda: _mapping(cloud.rt, uuid, volume_id) is None, what="the undo")
    assert _status(cloud.rt, volume_id) == "available"
    assert "attach_volume" not in cloud.agents[host].calls


def test_delete_detaches_and_deletes_what_it_should(cloud, flavor, volume_agent):
    _host(cloud)
    uuid = cloud.boot_active(flavor)
    kept, dropped = _volume(cloud.rt), _volume(cloud.rt)
    for volume_id in (kept, dropped):
        _attach(cloud, uuid, volume_id)
        wait_for(lambda v=volume_id: _mapping(cloud.rt, uuid, v).status == "attached")
    bdms.set_values(cloud.rt, _mapping(cloud.rt, uuid, dropped).id,
                    {"delete_on_termination": True})
    cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted, what="the delete")
    assert _status(cloud.rt, kept) == "available"
    assert _status(cloud.rt, dropped) in ("deleting", "deleted")
    assert bdms.list_(cloud.rt, uuid) == []


def test_boot_from_an_image_volume(cloud, flavor, volume_agent):
    host = _host(cloud)
    image_id = seed.image(cloud.rt)
    uuid = _boot(cloud, flavor, [{"source_type": "image", "uuid": image_id,
                                  "destination_type": "volume", "boot_index": 0,
                                  "volume_size": 2, "delete_on_termination": True}])
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.host == host
    [root] = bdms.list_(cloud.rt, uuid)
    assert (root.device_name, root.status, root.boot_index) == ("/dev/vda", "attached", 0)
    created = volume_agent.last("create_volume").args["volume"]
    assert created["id"] == root.volume_id and created["size"] == 2
    assert created["source"]["type"] == "image" and created["source"]["id"] == image_id
    assert _status(cloud.rt, root.volume_id) == "in-use"
    domain = cloud.agents[host].driver.domains[uuid].instance
    assert domain.image is None and [v.device for v in domain.volumes] == ["vda"]
    assert domain.volumes[0].is_root
    assert cloud.allocations(uuid)[0]["disk_gb"] == 0  # the root disk is not local
    with cloud.rt.db.session() as session:
        names = [e.event for e in session.scalars(sa.select(InstanceAction).where(
            InstanceAction.instance_uuid == uuid)).one().events]
    assert {"conductor_create_volume", "conductor_attach_volume"} <= set(names)
    assert states.BLOCK_DEVICE_MAPPING in [u["new_task_state"] for u in cloud.updates(uuid)]

    cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted, what="the delete")
    assert _status(cloud.rt, root.volume_id) in ("deleting", "deleted")


def test_boot_from_a_volume_moves_with_a_reschedule(cloud, flavor, volume_agent):
    # The RAM weigher sends the build to the bigger host first, which fails it.
    failing, other = _host(cloud, "192.0.2.21", 4096), _host(cloud, "192.0.2.22")
    volume_id = _volume(cloud.rt)
    with cloud.rt.db.session() as session:  # as `openstack volume set --bootable` does
        session.get(Volume, volume_id).bootable = True
    cloud.agents[failing].fail["build_and_run_instance"] = "the first host fails it"
    uuid = _boot(cloud, flavor, [{"source_type": "volume", "uuid": volume_id,
                                  "destination_type": "volume", "boot_index": 0}])
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.host == other and "build_and_run_instance" in cloud.agents[failing].calls
    stopped = [c.args["connector"]["host"] for c in volume_agent.calls
               if c.method == "terminate_connection"]
    assert stopped == [failing]
    [attachment] = volume_service.get(cloud.rt, seed.user_ctx(), volume_id).attachments
    assert attachment.attached_host == other and attachment.instance_uuid == uuid
    assert _status(cloud.rt, volume_id) == "in-use"

    cloud.delete(uuid)  # not delete_on_termination: the volume stays, available
    wait_for(lambda: cloud.row(uuid).deleted, what="the delete")
    assert _status(cloud.rt, volume_id) == "available"


def test_a_volume_that_fails_to_build_unwinds(cloud, flavor, volume_agent):
    _host(cloud)
    user_volume = _volume(cloud.rt)
    volume_agent.auto = False  # the agent never says available...

    def create_volume(ctx, backend_host, volume):  # ...it says error
        volume_agent.calls.append(fakes.Call("create_volume", backend_host,
                                             {"volume": volume}))
        volume_agent.manager.volume_update(ctx, volume["id"], {"status": "error"},
                                           ["creating"])
    volume_agent.create_volume = create_volume
    try:
        uuid = _boot(cloud, flavor, [
            {"source_type": "blank", "destination_type": "volume", "boot_index": 0,
             "volume_size": 1},
            {"source_type": "volume", "uuid": user_volume, "destination_type": "volume"}])
        row = cloud.wait_state(uuid, states.ERROR)
    finally:
        del volume_agent.create_volume
    assert row.host is None

    def fault():  # written after ERROR, once the volumes are unwound
        with cloud.rt.db.session() as session:
            return session.scalars(sa.select(InstanceFault).where(
                InstanceFault.instance_uuid == uuid)).first()
    assert "did not become available (status error)" in wait_for(fault).message
    assert cloud.allocations(uuid) == []
    created = volume_agent.last("create_volume").args["volume"]["id"]
    assert _status(cloud.rt, created) in ("deleting", "deleted")
    assert _status(cloud.rt, user_volume) == "available"  # the user's is released
    assert all(m.attachment_id is None for m in bdms.list_(cloud.rt, uuid))


def test_multiattach_on_one_host_keeps_the_shared_export(cloud, flavor, volume_agent):
    host = _host(cloud)
    first, second = cloud.boot_active(flavor), cloud.boot_active(flavor)
    assert cloud.row(first).host == cloud.row(second).host == host
    volume_id = _volume(cloud.rt, multiattach=True)
    for uuid in (first, second):
        _attach(cloud, uuid, volume_id)
        wait_for(lambda u=uuid: _mapping(cloud.rt, u, volume_id).status == "attached")
    volume_agent.calls.clear()
    attach_api.detach(cloud.rt, seed.user_ctx(), cloud.row(first), volume_id)
    wait_for(lambda: _mapping(cloud.rt, first, volume_id) is None)
    assert "terminate_connection" not in volume_agent.names()  # the other guest uses it
    assert _status(cloud.rt, volume_id) == "in-use"
    attach_api.detach(cloud.rt, seed.user_ctx(), cloud.row(second), volume_id)
    wait_for(lambda: _mapping(cloud.rt, second, volume_id) is None)
    assert volume_agent.names().count("terminate_connection") == 1
    assert _status(cloud.rt, volume_id) == "available"


def test_the_sweep_releases_what_a_delete_left(cloud, flavor, volume_agent):
    host = _host(cloud)
    uuid = cloud.boot_active(flavor)
    volume_id = _volume(cloud.rt)
    _attach(cloud, uuid, volume_id)
    wait_for(lambda: _mapping(cloud.rt, uuid, volume_id).status == "attached")
    def away(*args, **kwargs):  # the volume agent is away during the delete
        raise MessagingTimeout("no answer")
    volume_agent.terminate_connection = away
    try:
        cloud.delete(uuid)
        wait_for(lambda: cloud.row(uuid).deleted, what="the delete")
    finally:
        del volume_agent.terminate_connection
    assert _mapping(cloud.rt, uuid, volume_id) is not None
    assert _status(cloud.rt, volume_id) != "available"
    volume_sweep.orphan_mappings(cloud.rt, instances.elevated(seed.user_ctx()))
    assert _mapping(cloud.rt, uuid, volume_id) is None
    assert _status(cloud.rt, volume_id) == "available"
    assert host in volume_agent.last("terminate_connection").args["connector"]["host"]


def test_a_stuck_attach_is_finished_by_the_sweep(cloud, flavor, volume_agent):
    _host(cloud)
    uuid = cloud.boot_active(flavor)
    volume_id = _volume(cloud.rt)
    reservation = volume_attachments.create(cloud.rt, seed.user_ctx(), volume_id, uuid)
    row = bdms.add_attachment(cloud.rt, uuid, volume_id, None, source_type="volume",
                              attachment_id=reservation.id, status="attaching")
    with cloud.rt.db.session() as session:  # a conductor died an hour ago mid-attach
        session.execute(sa.update(BlockDeviceMapping).where(BlockDeviceMapping.id == row.id)
                        .values(updated_at=utcnow() - datetime.timedelta(hours=1)))
    volume_sweep.orphan_mappings(cloud.rt, instances.elevated(seed.user_ctx()))
    assert _mapping(cloud.rt, uuid, volume_id) is None
    assert _status(cloud.rt, volume_id) == "available"
