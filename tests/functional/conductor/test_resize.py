"""Resize (same host), confirm and revert, with the claims checked after every step."""

from __future__ import annotations

import sqlalchemy as sa

from controller.compute import states
from controller.conductor import reconcile
from controller.db.models.servers import InstanceFault, Migration
from tests.functional.conductor.conftest import wait_for
from tests.unit.conductor import seed


def _migration(cloud, uuid):
    with cloud.rt.db.session() as session:
        return session.scalars(sa.select(Migration).where(
            Migration.instance_uuid == uuid).order_by(Migration.id.desc())).first()


def _memory(cloud, consumer):
    return [a["memory_mb"] for a in cloud.allocations(consumer)]


def _resized(cloud, flavor, stopped=False):
    host = cloud.add_host(memory_mb=1024)
    uuid = cloud.boot_active(flavor)
    if stopped:
        cloud.act(uuid, "stop")
        cloud.wait_state(uuid, states.STOPPED)
    bigger = seed.flavor(cloud.rt, memory_mb=256, vcpus=2, root_gb=2)
    cloud.act(uuid, "resize", flavor_id=bigger["id"])
    row = cloud.wait_state(uuid, states.RESIZED)
    migration = _migration(cloud, uuid)
    assert migration.status == "finished"
    assert (migration.source_compute, migration.dest_compute) == (host, host)
    assert (migration.old_flavor_id, migration.new_flavor_id) == (flavor["id"], bigger["id"])
    # the instance holds the new flavor, the migration still holds the old one
    assert _memory(cloud, uuid) == [256] and _memory(cloud, migration.uuid) == [128]
    assert row.flavor["id"] == bigger["id"] and row.flavor_id == bigger["id"]
    assert row.old_flavor["id"] == flavor["id"] and row.new_flavor["id"] == bigger["id"]
    assert cloud.agents[host].flavor_of(uuid).memory_mb == 256
    tasks = [u["new_task_state"] for u in cloud.updates(uuid)]
    assert tasks[-4:] == ["resize_prep", "resize_migrating", "resize_finish", None]
    return host, uuid, bigger, migration.uuid


def test_resize_then_confirm(cloud, flavor):
    host, uuid, bigger, migration_uuid = _resized(cloud, flavor)
    cloud.act(uuid, "confirm_resize")
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.flavor["id"] == bigger["id"]
    assert row.old_flavor is None and row.new_flavor is None
    assert "old_vm_state" not in row.system_metadata
    wait_for(lambda: _migration(cloud, uuid).status == "confirmed")
    assert _memory(cloud, uuid) == [256] and cloud.allocations(migration_uuid) == []
    wait_for(lambda: "instance.resize_confirm.end" in cloud.events(uuid))


def test_resize_then_revert(cloud, flavor):
    host, uuid, _, migration_uuid = _resized(cloud, flavor)
    cloud.act(uuid, "revert_resize")
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.flavor["id"] == flavor["id"] and row.flavor_id == flavor["id"]
    assert row.old_flavor is None and row.new_flavor is None
    wait_for(lambda: _migration(cloud, uuid).status == "reverted")
    assert _memory(cloud, uuid) == [128] and cloud.allocations(migration_uuid) == []
    assert cloud.agents[host].flavor_of(uuid).memory_mb == 128
    wait_for(lambda: "instance.resize_revert.end" in cloud.events(uuid))


def test_a_stopped_server_comes_back_stopped(cloud, flavor):
    _, uuid, _, _ = _resized(cloud, flavor, stopped=True)
    cloud.act(uuid, "confirm_resize")
    cloud.wait_state(uuid, states.STOPPED)


def test_resize_without_room_keeps_the_server_as_it_was(cloud, flavor):
    cloud.add_host(memory_mb=256)
    uuid = cloud.boot_active(flavor)
    huge = seed.flavor(cloud.rt, memory_mb=200)  # 128 + 200 > 256 on the only host
    cloud.act(uuid, "resize", flavor_id=huge["id"])
    wait_for(lambda: "instance.resize.error" in cloud.events(uuid))
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.flavor["id"] == flavor["id"] and row.new_flavor is None
    assert _migration(cloud, uuid).status == "error"
    assert _memory(cloud, uuid) == [128]
    assert cloud.allocations(_migration(cloud, uuid).uuid) == []
    with cloud.rt.db.session() as session:
        fault = session.scalars(sa.select(InstanceFault).where(
            InstanceFault.instance_uuid == uuid)).one()
    assert fault.message.startswith("No valid host was found.")
    assert "own host" in fault.message + (fault.details or "")


def test_resize_failing_on_the_host_restores_claims_and_state(cloud, flavor):
    host = cloud.add_host()
    uuid = cloud.boot_active(flavor)
    cloud.agents[host].fail["resize_instance"] = "no space for the new disk"
    bigger = seed.flavor(cloud.rt, memory_mb=256)
    cloud.act(uuid, "resize", flavor_id=bigger["id"])
    wait_for(lambda: "instance.resize.error" in cloud.events(uuid))
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.flavor["id"] == flavor["id"]
    migration = _migration(cloud, uuid)
    assert migration.status == "error"
    assert _memory(cloud, uuid) == [128] and cloud.allocations(migration.uuid) == []


def test_failed_confirm_can_be_retried(cloud, flavor):
    host, uuid, bigger, migration_uuid = _resized(cloud, flavor)
    cloud.agents[host].fail["confirm_resize"] = "could not remove the kept disk"
    cloud.act(uuid, "confirm_resize")
    wait_for(lambda: "instance.resize_confirm.error" in cloud.events(uuid))
    cloud.wait_state(uuid, states.RESIZED)
    assert _migration(cloud, uuid).status == "finished"
    assert _memory(cloud, uuid) == [256] and _memory(cloud, migration_uuid) == [128]
    del cloud.agents[host].fail["confirm_resize"]
    cloud.act(uuid, "confirm_resize")
    cloud.wait_state(uuid, states.ACTIVE)
    wait_for(lambda: cloud.allocations(migration_uuid) == [])


def test_delete_during_verify_resize_frees_both_claims(cloud, flavor):
    _, uuid, _, migration_uuid = _resized(cloud, flavor)
    cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted)
    assert cloud.allocations(uuid) == [] and cloud.allocations(migration_uuid) == []
    assert _migration(cloud, uuid).status == "error"


def test_a_resize_left_by_stopping_the_server_is_closed(cloud, flavor):
    host, uuid, bigger, migration_uuid = _resized(cloud, flavor)
    cloud.act(uuid, "stop")  # allowed from VERIFY_RESIZE, and leaves it
    cloud.wait_state(uuid, states.STOPPED)
    assert reconcile.run_once(cloud.rt).resizes_closed == 1
    assert _migration(cloud, uuid).status == "confirmed"
    assert cloud.allocations(migration_uuid) == [] and _memory(cloud, uuid) == [256]
    row = cloud.row(uuid)
    assert row.flavor["id"] == bigger["id"] and row.old_flavor is None
    wait_for(lambda: "confirm_resize" in cloud.agents[host].calls)
