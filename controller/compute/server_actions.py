"""Server actions: power, rebuild, resize, snapshot, lock, reset state.

Each mutating action is: lock check -> state check -> guarded task_state UPDATE with the
instance action recorded (``actions.transition``) -> cast ``run_instance_action`` to the
conductor. If the cast cannot be sent, the task_state is restored and the caller gets a
503, so a server is never left with a task nobody is carrying out.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller import quotas as quota_engine
from controller.compute import (
    actions,
    block_device_mappings,
    boot_sources,
    quotas,
    rpc,
    server_metadata,
    server_requests,
    servers,
    states,
)
from controller.db.base import utcnow
from controller.db.models.servers import Instance
from controller.image import images as image_service
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)
POWER_ACTIONS = ("stop", "start", "reboot_soft", "reboot_hard", "pause", "unpause",
                 "suspend", "resume")
RESET_STATES = {"active": states.ACTIVE, "error": states.ERROR}


def _start(rt: Runtime, ctx: RequestContext, instance: Instance, action: str,
           params: dict[str, Any] | None = None, values: dict | None = None) -> Instance:
    """Transition, then cast; undo the transition if the cast cannot be sent."""
    updated = actions.transition(rt, ctx, instance.uuid, action, values=values)
    try:
        rpc.cast(f"{action} of {instance.uuid}", rt.conductor_api.run_instance_action, ctx,
                 instance.uuid, action, params or {})
    except exceptions.ServiceUnavailable:
        actions.revert(rt, instance.uuid, updated.task_state, instance.task_state,
                       ctx.request_id)
        raise
    return updated


def power(rt: Runtime, ctx: RequestContext, instance: Instance, action: str) -> Instance:
    """stop, start, reboot_soft, reboot_hard, pause, unpause, suspend or resume."""
    if action not in POWER_ACTIONS:
        raise ValueError(action)
    return _start(rt, ctx, instance, action)


def rebuild(rt: Runtime, ctx: RequestContext, instance: Instance, image_id: str,
            changes: dict[str, Any], metadata: dict[str, str] | None = None) -> Instance:
    """Rebuild from image_id (checked against the server's flavor); changes are columns
    (display_name, display_description, access IPs, key_name/key_data, user_data) set
    with the transition; metadata replaces the server's metadata when given.
    """
    if block_device_mappings.is_volume_backed(rt, instance.uuid):
        raise exceptions.BadRequest("Unable to rebuild with a different image for a "
                                    "volume-backed server; this cloud rebuilds servers "
                                    "that boot from an image only.")
    image = boot_sources.image(rt, ctx, image_id, instance.flavor)
    if "key_name" in changes:
        key_data = server_requests.key_data_for(rt, ctx, changes["key_name"])
        changes = {**changes, "key_data": key_data}
    if "user_data" in changes:
        server_requests.check_user_data(changes["user_data"])
    if metadata is not None:
        quotas.check_metadata(rt, instance.project_id, len(metadata))
    values = dict(changes)
    values["image_ref"] = image["id"]
    system_metadata = dict(instance.system_metadata or {})
    system_metadata.update({"image_disk_format": image.get("disk_format") or "",
                            "image_container_format": image.get("container_format") or "",
                            "image_min_ram": str(image["min_ram"]),
                            "image_min_disk": str(image["min_disk"]),
                            "image_base_image_ref": image["id"]})
    if "disk_config" in values:
        system_metadata["disk_config"] = values.pop("disk_config")
    values["system_metadata"] = system_metadata
    updated = _start(rt, ctx, instance, "rebuild", {"image_id": image["id"],
                                                    **({"name": changes["display_name"]}
                                                       if "display_name" in changes
                                                       else {}),
                                                    **({"metadata": metadata}
                                                       if metadata is not None else {})},
                     values=values)
    if metadata is not None:
        with rt.db.session() as session:
            server_metadata.replace_all(session, instance.uuid, metadata)
    return servers.get(rt, ctx, updated.uuid)


def resize(rt: Runtime, ctx: RequestContext, instance: Instance, flavor_ref: object,
           disk_config: str | None = None) -> Instance:
    """Start a resize to another flavor.

    :raises BadRequest: unknown or same flavor, or a smaller root disk.
    :raises OverQuota: the bigger flavor does not fit the project's cores/ram.
    """
    new = boot_sources.flavor(rt, ctx, flavor_ref, missing="Unable to locate requested "
                                                           "flavor.")
    old = instance.flavor
    if new["id"] == old.get("id"):
        raise exceptions.BadRequest("When resizing, instances must change flavor!")
    if new["root_gb"] < old.get("root_gb", 0):
        raise exceptions.BadRequest("Resize error: Unable to resize disk down.")
    extra_cores = new["vcpus"] - old.get("vcpus", 0)
    extra_ram = new["memory_mb"] - old.get("memory_mb", 0)
    if extra_cores > 0 or extra_ram > 0:
        project_limits = quotas.limits(rt, instance.project_id)
        with rt.db.session() as session:
            used = quotas.instance_usage(session, instance.project_id)
        excess = quota_engine.over({"cores": max(extra_cores, 0), "ram": max(extra_ram, 0)},
                                   used, project_limits)
        if excess:
            raise exceptions.OverQuota(quotas.over_message(excess))
    values = {}
    if disk_config:
        values["system_metadata"] = {**(instance.system_metadata or {}),
                                     "disk_config": disk_config}
    return _start(rt, ctx, instance, "resize", {"flavor_id": new["id"]}, values=values)


def confirm_resize(rt: Runtime, ctx: RequestContext, instance: Instance) -> Instance:
    return _start(rt, ctx, instance, "confirm_resize")


def revert_resize(rt: Runtime, ctx: RequestContext, instance: Instance) -> Instance:
    return _start(rt, ctx, instance, "revert_resize")


def create_image(rt: Runtime, ctx: RequestContext, instance: Instance, name: str,
                 metadata: dict[str, str]) -> str:
    """Register the snapshot image (queued, private, owned by the server's project)
    and start the snapshot; return the image ID.

    :raises OverQuota: too many metadata items. :raises Conflict: state or lock.
    """
    quotas.check_metadata(rt, instance.project_id, len(metadata))
    # Check the state before creating the image record, so a refused snapshot leaves
    # no queued image behind; the guarded transition below re-checks atomically.
    if instance.locked and not ctx.is_admin:
        raise actions.locked_error(instance.uuid)
    states.check("snapshot", instance.uuid, instance.vm_state, instance.task_state)
    if block_device_mappings.is_volume_backed(rt, instance.uuid):
        raise exceptions.Conflict(f"Instance {instance.uuid} is volume-backed: this cloud "
                                  "does not make images of those yet; snapshot its volume "
                                  "instead (openstack volume snapshot create --force).")
    system = instance.system_metadata or {}
    base = instance.image_ref or ""
    properties = {key[len("image_"):]: str(value) for key, value in system.items()
                  if key.startswith("image_") and key not in (
                      "image_disk_format", "image_container_format", "image_min_ram",
                      "image_min_disk", "image_base_image_ref")}
    properties.update({k: str(v) for k, v in metadata.items()})
    properties.update({"image_type": "snapshot", "instance_uuid": instance.uuid,
                       "base_image_ref": base, "user_id": ctx.user_id or "",
                       "owner_project_name": ctx.project_name or ""})
    min_disk = max(int(system.get("image_min_disk", 0) or 0),
                   int(instance.flavor.get("root_gb", 0)))
    values = {"name": name, "owner": instance.project_id, "visibility": "private",
              "disk_format": "qcow2", "container_format": "bare",
              "min_ram": int(system.get("image_min_ram", 0) or 0), "min_disk": min_disk}
    image = image_service.create(rt, ctx, values, properties, [])
    try:
        _start(rt, ctx, instance, "snapshot", {"image_id": image.id})
    except exceptions.StratusError:
        image_service.delete(rt, ctx, image.id)
        raise
    return image.id


def lock(rt: Runtime, ctx: RequestContext, instance: Instance,
         reason: str | None = None) -> Instance:
    """Lock the server (a no-op when locked); records who: the owner or an admin."""
    locked_by = "owner" if ctx.project_id == instance.project_id else "admin"
    if instance.locked:
        return instance
    updated = actions.transition(rt, ctx, instance.uuid, "lock", check_lock=False,
                                 values={"locked": True, "locked_by": locked_by,
                                         "locked_reason": reason})
    actions.finish(rt, instance.uuid, ctx.request_id)
    rt.notify(ctx, "instance.lock", servers.payload(updated))
    return updated


def unlock(rt: Runtime, ctx: RequestContext, instance: Instance) -> Instance:
    """Unlock (a no-op when unlocked). The handler checked unlock_override for a lock
    an admin set."""
    if not instance.locked:
        return instance
    updated = actions.transition(rt, ctx, instance.uuid, "lock", check_lock=False,
                                 record_as="unlock",
                                 values={"locked": False, "locked_by": None,
                                         "locked_reason": None})
    actions.finish(rt, instance.uuid, ctx.request_id)
    rt.notify(ctx, "instance.unlock", servers.payload(updated))
    return updated


def expected_locker(ctx: RequestContext, instance: Instance) -> bool:
    """Whether ctx is who locked the server (its owner project, or an admin)."""
    if not instance.locked:
        return True
    is_owner = ctx.project_id == instance.project_id
    return (instance.locked_by == "owner") == is_owner


def reset_state(rt: Runtime, ctx: RequestContext, instance: Instance,
                state: str) -> Instance:
    """Admin: force vm_state active or error and clear the task (no cast: nothing runs).

    :raises BadRequest: a state other than active or error.
    """
    if state not in RESET_STATES:
        raise exceptions.BadRequest(f"Desired state must be specified. Valid states are: "
                                    f"{', '.join(sorted(RESET_STATES))}")
    with rt.db.session() as session:
        result = session.execute(sa.update(Instance).where(
            Instance.uuid == instance.uuid, Instance.deleted.is_(False)).values(
            vm_state=RESET_STATES[state], task_state=None, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise servers.not_found(instance.uuid)
        actions.record(session, ctx, instance.uuid, "resetState")
    actions.finish(rt, instance.uuid, ctx.request_id)
    updated = servers.get(rt, ctx, instance.uuid)
    rt.notify(ctx, "instance.update", servers.payload(updated))
    return updated
