"""Resize, and its confirm and revert.

This release resizes on the same host only: the scheduler is asked with
``force_hosts=[instance.host]``, so "no room" means no room on that host.

Claims: ``select_destinations(move_from=<migration>)`` re-keys the instance's claim to
the migration (the old flavor stays held) and claims the new flavor for the instance.
Confirm releases the migration's claim; revert (and any failure of the resize) moves
the migration's claim back to the instance, replacing the new one.

States: resize_prep -> resize_migrating (claimed, cast) -> resize_finish -> resized
(VERIFY_RESIZE, flavor = new). The vm_state before the resize is kept in
system_metadata ``old_vm_state`` so confirm/revert/failure bring a stopped server back
to stopped. A failed confirm or revert leaves it resized with both claims, to retry.
"""

from __future__ import annotations

import logging
from typing import Any

from common.context import RequestContext
from controller.compute import states
from controller.conductor import actions, build, hosts, instances, migrations, power, spec
from controller.db.models.servers import Instance
from controller.runtime import Runtime
from controller.scheduler import claims

LOG = logging.getLogger(__name__)

OLD_VM_STATE = "old_vm_state"
MIGRATION_KEY = "resize_migration"


def _system_metadata(row: Instance, **changes: str | None) -> dict[str, Any]:
    metadata = dict(row.system_metadata or {})
    for key, value in changes.items():
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    return metadata


def old_vm_state(row: Instance) -> str:
    """The vm_state the server had before the resize (active or stopped)."""
    saved = (row.system_metadata or {}).get(OLD_VM_STATE) or row.vm_state
    return saved if saved in (states.ACTIVE, states.STOPPED) else states.ACTIVE


def cleaned_system_metadata(row: Instance) -> dict[str, Any]:
    """row's system_metadata without the resize's bookkeeping."""
    return _system_metadata(row, **{OLD_VM_STATE: None, MIGRATION_KEY: None})


def run(rt: Runtime, ctx: RequestContext, row: Instance, params: dict[str, Any]) -> None:
    """Resize row to params["flavor_id"] on its own host."""
    if row.task_state != states.RESIZE_PREP:
        LOG.warning("resize of %s ignored: task_state is %s", row.uuid, row.task_state)
        return
    instances.notify(rt, ctx, row.uuid, "instance.resize.start")
    try:
        new_flavor = spec.flavor_copy(rt, ctx, params.get("flavor_id"))
    except spec.SpecError as exc:
        fail(rt, ctx, row.uuid, None, exc.message, claimed=False, code=400)
        return
    if not hosts.compute_up(rt, row.host):
        fail(rt, ctx, row.uuid, None, power.host_unreachable(row.host), claimed=False,
             code=409)
        return
    migration_uuid = migrations.create(rt, row, new_flavor["id"])
    prepared = instances.update(rt, ctx, row.uuid, {
        "old_flavor": row.flavor, "new_flavor": new_flavor,
        "system_metadata": _system_metadata(row, **{OLD_VM_STATE: row.vm_state,
                                                    MIGRATION_KEY: migration_uuid})},
        [states.RESIZE_PREP])
    if prepared is None:
        migrations.set_status(rt, migration_uuid, "error")
        return
    request_spec = {**((row.system_metadata or {}).get(build.SPEC_KEY) or {}),
                    "flavor": new_flavor, "force_hosts": [row.host], "num_instances": 1,
                    "project_id": row.project_id,
                    "image": {"id": row.image_ref} if row.image_ref else None}
    try:
        result = rt.scheduler_api.select_destinations(ctx, request_spec, [row.uuid],
                                                      move_from=migration_uuid)
    except Exception as exc:  # noqa: BLE001 - any RPC failure fails the resize
        LOG.exception("select_destinations failed for the resize of %s", row.uuid)
        result = {"selections": [], "failed": {row.uuid: f"the scheduler could not be "
                                                         f"asked: {exc}"}}
    if row.uuid in result["failed"]:
        fail(rt, ctx, row.uuid, migration_uuid,
             f"No valid host was found. Resizing happens on the server's own host in this "
             f"release, and host {row.host} has no room for flavor {new_flavor['name']}: "
             f"{result['failed'][row.uuid]}", claimed=False)
        return
    if instances.apply(rt, ctx, row.uuid, "resize.claimed") is None:
        claims.move(rt, migration_uuid, row.uuid)  # deleted meanwhile: undo the claim
        migrations.set_status(rt, migration_uuid, "error")
        return
    migrations.set_status(rt, migration_uuid, "migrating")
    try:
        body = spec.build(rt, ctx, prepared, flavor=new_flavor)
        body["old_flavor"] = spec.agent_flavor(row.flavor)  # what a revert goes back to
        rt.compute_api.resize_instance(ctx, row.host, body, migration_uuid)
    except Exception as exc:  # noqa: BLE001 - spec or bus failure: nothing moved
        LOG.exception("could not send the resize of %s to %s", row.uuid, row.host)
        fail(rt, ctx, row.uuid, migration_uuid,
             f"Could not send the resize request to host {row.host}: {exc}", claimed=True)


def fail(rt: Runtime, ctx: RequestContext, uuid: str, migration_uuid: str | None,
         message: str, claimed: bool, code: int = 500) -> None:
    """Undo a resize that did not happen: claims back, previous state, fault."""
    row = instances.get(rt, uuid)
    if row is None or row.deleted or row.task_state not in states.RESIZE_STATES:
        LOG.info("resize failure of %s not applied: no resize in flight", uuid)
        if migration_uuid:
            migrations.set_status(rt, migration_uuid, "error")
        return
    if claimed and migration_uuid:
        claims.move(rt, migration_uuid, uuid)
    if migration_uuid:
        migrations.set_status(rt, migration_uuid, "error")
    restored = instances.apply(rt, ctx, uuid, "resize.failed",
                               {"system_metadata": cleaned_system_metadata(row)},
                               restore=old_vm_state(row))
    if restored is None:
        return
    actions.add_fault(rt, uuid, message, host=row.host, code=code)
    actions.finish(rt, ctx, uuid, error=True)
    instances.notify(rt, ctx, uuid, "instance.resize.error", {"fault": message})


def resized(rt: Runtime, ctx: RequestContext, uuid: str, migration_uuid: str,
            error: str | None) -> None:
    """The agent moved the instance to the new flavor (or failed to: undo)."""
    if error:
        fail(rt, ctx, uuid, migration_uuid, f"Resize failed: {error}", claimed=True)
        return
    row = instances.apply(rt, ctx, uuid, "resize.finishing")
    if row is None:
        return
    migrations.set_status(rt, migration_uuid, "post-migrating")
    new_flavor = row.new_flavor or row.flavor
    # The migration is finished before the server shows VERIFY_RESIZE, so a confirm
    # sent the moment the user sees that status finds it.
    migrations.set_status(rt, migration_uuid, "finished")
    if instances.apply(rt, ctx, uuid, "resize.done", {
            "flavor": new_flavor, "flavor_id": new_flavor.get("id", row.flavor_id)}) is None:
        migrations.set_status(rt, migration_uuid, "error")
        return
    actions.finish(rt, ctx, uuid)
    instances.notify(rt, ctx, uuid, "instance.resize.end")
