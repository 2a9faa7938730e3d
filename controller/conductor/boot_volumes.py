"""The volumes of a build (boot from volume, volumes attached at boot), once it has a host.

task_state ``block_device_mapping``: the volumes the build makes (from an image, a
snapshot, or blank) are created through the volume service and waited for, bounded by
``[conductor] volume_create_timeout``, each wait an action event
(``conductor_create_volume``) so ``server event list`` shows where a slow build is; then
every volume is exported to the chosen host with its connector and its attachment
completed (``conductor_attach_volume``). The spec then carries the connection infos.

A reschedule removes the exports made for the host that failed (the volumes and their
reservations stay for the next host); a build that ends in ERROR releases every
attachment and deletes the volumes it created. A delete that comes in meanwhile wins:
each step re-checks that the server still waits for its volumes, and what was made
after the delete released the rest is undone here.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from common.context import RequestContext
from controller import exceptions
from controller.compute import block_device_mappings as bdms
from controller.compute import states
from controller.conductor import actions, instances, volumes
from controller.db.models import block_devices as bdm_model
from controller.db.models.block_devices import BlockDeviceMapping
from controller.db.models.servers import Instance
from controller.runtime import Runtime
from controller.volume import attachments as volume_attachments
from controller.volume import volumes as volume_service

LOG = logging.getLogger(__name__)

CREATE_EVENT = "conductor_create_volume"
ATTACH_EVENT = volumes.ATTACH_EVENT


class BlockDeviceError(exceptions.StratusError):
    """The build's volumes could not be made ready; the message says which and why."""

    code = 500


def has_volumes(rt: Runtime, uuid: str) -> bool:
    """Whether the build has volumes to make ready."""
    return bool(bdms.list_(rt, uuid))


def _waiting(rt: Runtime, uuid: str) -> bool:
    row = instances.get(rt, uuid)
    return row is not None and not row.deleted and \
        row.task_state == states.BLOCK_DEVICE_MAPPING


def prepare(rt: Runtime, ctx: RequestContext, row: Instance, host: str,
            sleep: Callable[[float], None] = time.sleep) -> bool:
    """Make the build's volumes ready on host (task block_device_mapping meanwhile).
    True when all is ready; False when the server stopped waiting (deleted meanwhile).

    :raises BlockDeviceError: a volume could not be created, did not become available
        in time, or could not be exported (the caller fails the build).
    """
    mappings = bdms.list_(rt, row.uuid)
    if instances.apply(rt, ctx, row.uuid, "build.block_devices") is None:
        return False
    try:
        owner = _owner_ctx(ctx, row)
        created = [_create(rt, owner, row, m) for m in mappings if m.volume_id is None]
        if not _wait_available(rt, ctx, row.uuid, [v for v in created if v], sleep):
            return False
        connector = volumes.connector(rt, host)
        for mapping in bdms.list_(rt, row.uuid):
            if not _export(rt, ctx, mapping, connector):
                return False
    except exceptions.StratusError as exc:
        if isinstance(exc, BlockDeviceError):
            raise
        raise BlockDeviceError(f"The server's volumes could not be prepared: "
                               f"{exc.message}") from exc
    return _waiting(rt, row.uuid)


def _owner_ctx(ctx: RequestContext, row: Instance) -> RequestContext:
    """ctx acting for the server's owner: the volumes belong (and count) to its project."""
    return dataclasses.replace(ctx, project_id=row.project_id, user_id=row.user_id)


def _create(rt: Runtime, ctx: RequestContext, row: Instance,
            mapping: BlockDeviceMapping) -> str | None:
    """Create the mapping's volume; its id (None if the server went away meanwhile)."""
    actions.event(rt, ctx, row.uuid, CREATE_EVENT, "start")
    values = {"size": mapping.volume_size, "name": "", "description": "",
              "image_id": mapping.image_id, "snapshot_id": mapping.snapshot_id}
    try:
        volume = volume_service.create(rt, ctx, {k: v for k, v in values.items()
                                                 if v is not None})
    except exceptions.StratusError as exc:
        actions.event(rt, ctx, row.uuid, CREATE_EVENT, "finish", result=actions.ERROR,
                      traceback=exc.message)
        raise BlockDeviceError(f"Volume for device {mapping.device_name} could not be "
                               f"created: {exc.message}") from exc
    if not bdms.set_values(rt, mapping.id, {"volume_id": volume.id}):
        LOG.info("instance %s went away while volume %s was created; deleting it",
                 row.uuid, volume.id)
        _delete_quietly(rt, ctx, volume.id)
        return None
    LOG.info("instance %s: creating volume %s (%s GiB) for %s", row.uuid, volume.id,
             volume.size, mapping.device_name)
    return volume.id


def _wait_available(rt: Runtime, ctx: RequestContext, uuid: str, volume_ids: list[str],
                    sleep: Callable[[float], None]) -> bool:
    """Wait until every volume is available; False when the server stopped waiting.

    :raises BlockDeviceError: a volume went to error, or the timeout passed.
    """
    admin = instances.elevated(ctx)
    opts = rt.conf.conductor
    deadline = time.monotonic() + opts.volume_create_timeout
    pending = list(volume_ids)
    while pending:
        for volume_id in list(pending):
            status = volume_service.get(rt, admin, volume_id).status
            if status == "available":
                pending.remove(volume_id)
                actions.event(rt, ctx, uuid, CREATE_EVENT, "finish", result=actions.SUCCESS)
            elif status not in ("creating", "downloading"):
                message = f"Volume {volume_id} did not become available (status {status})."
                actions.event(rt, ctx, uuid, CREATE_EVENT, "finish", result=actions.ERROR,
                              traceback=message)
                raise BlockDeviceError(message)
        if not pending:
            break
        if not _waiting(rt, uuid):
            return False
        if time.monotonic() > deadline:
            message = (f"Volume(s) {', '.join(pending)} did not become available within "
                       f"{opts.volume_create_timeout} s ([conductor] volume_create_timeout).")
            actions.event(rt, ctx, uuid, CREATE_EVENT, "finish", result=actions.ERROR,
                          traceback=message)
            raise BlockDeviceError(message)
        sleep(opts.volume_poll_interval)
    return True


def _export(rt: Runtime, ctx: RequestContext, mapping: BlockDeviceMapping,
            connector: dict) -> bool:
    """Attach the mapping's volume through connector (reserving it first if nobody did).
    False when the server went away meanwhile (what was made here is undone)."""
    admin = instances.elevated(ctx)
    uuid = mapping.instance_uuid
    actions.event(rt, ctx, uuid, ATTACH_EVENT, "start", host=connector["host"])
    try:
        if mapping.attachment_id is None:
            attachment = volume_attachments.create(rt, admin, mapping.volume_id, uuid,
                                                   connector, mountpoint=mapping.device_name)
            if not bdms.set_values(rt, mapping.id, {"attachment_id": attachment.id}):
                volume_attachments.delete(rt, admin, attachment.id)
                return False
            attachment_id = attachment.id
        else:
            attachment_id = mapping.attachment_id
            volume_attachments.update(rt, admin, attachment_id, connector,
                                      mapping.device_name)
        volume_attachments.complete(rt, admin, attachment_id)
    except exceptions.StratusError as exc:
        actions.event(rt, ctx, uuid, ATTACH_EVENT, "finish", host=connector["host"],
                      result=actions.ERROR, traceback=exc.message)
        raise BlockDeviceError(f"Volume {mapping.volume_id} could not be attached to the "
                               f"server on {connector['host']}: {exc.message}") from exc
    bdms.set_values(rt, mapping.id, {"status": bdm_model.ATTACHED})
    actions.event(rt, ctx, uuid, ATTACH_EVENT, "finish", host=connector["host"],
                  result=actions.SUCCESS)
    return True


# -------------------------------------------------------------- reschedule, failure
def unplug(rt: Runtime, ctx: RequestContext, uuid: str, host: str) -> None:
    """A reschedule away from host: remove the exports made for it; the volumes and
    their reservations stay for the next host."""
    admin = instances.elevated(ctx)
    for mapping in bdms.list_(rt, uuid):
        if not mapping.attachment_id:
            continue
        try:
            attachment = volume_attachments.get(rt, admin, mapping.attachment_id)
            if attachment.connector and attachment.attached_host == host and not \
                    volumes.shared_export(rt, admin, mapping.volume_id, attachment.id, host):
                volume = volume_service.get(rt, admin, mapping.volume_id)
                volume_attachments.disconnect(rt, admin, volume.backend_host,
                                              mapping.volume_id, attachment.connector)
        except exceptions.StratusError as exc:
            # The volume agent's reconciliation drops exports nobody expects any more.
            LOG.warning("instance %s: export of volume %s to %s not removed: %s", uuid,
                        mapping.volume_id, host, exc.message)
        bdms.set_values(rt, mapping.id, {"status": bdm_model.PENDING})


def unwind(rt: Runtime, ctx: RequestContext, uuid: str) -> None:
    """The build ended in ERROR: release every attachment and delete the volumes the
    build created (an existing volume the user gave is only released)."""
    row = instances.get(rt, uuid)
    host = row.host if row is not None else None
    admin = instances.elevated(ctx)
    for mapping in bdms.list_(rt, uuid):
        try:
            volumes.release(rt, ctx, mapping, host)
        except exceptions.StratusError as exc:
            LOG.warning("instance %s: attachment of volume %s not released: %s (the "
                        "reconciliation retries when the server is deleted)", uuid,
                        mapping.volume_id, exc.message)
            continue
        if mapping.created_by_compute and mapping.volume_id:
            _delete_quietly(rt, admin, mapping.volume_id)
            bdms.set_values(rt, mapping.id, {"volume_id": None})
        bdms.set_values(rt, mapping.id, {"status": bdm_model.PENDING})


def _delete_quietly(rt: Runtime, ctx: RequestContext, volume_id: str) -> None:
    """Delete a volume the build made, whatever its status (one still being created is
    removed by its agent once the copy ends: the agent's report finds it deleting)."""
    try:
        volume_service.delete(rt, instances.elevated(ctx), volume_id, force=True)
    except exceptions.NotFound:
        pass
    except exceptions.StratusError as exc:
        LOG.warning("volume %s the build created could not be deleted: %s", volume_id,
                    exc.message)
