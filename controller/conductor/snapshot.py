"""Snapshot: the API created the queued image; the agent uploads the root disk to it.

task image_snapshot -> (agent uploads) -> ``snapshot_finished`` -> task None. The
instance keeps its vm_state whatever happens; on failure the queued image is deleted
(through the image service layer, so its notifications and store cleanup happen) and
the failure is recorded on the action and as a fault.
"""

from __future__ import annotations

import logging

from common.context import RequestContext
from controller import exceptions
from controller.compute import states
from controller.conductor import actions, hosts, instances, power
from controller.db.models.servers import Instance
from controller.image import images
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

EVENT = "conductor_snapshot_instance"
IMAGE_KEY = "snapshot_image_id"  # system_metadata: the image a snapshot task fills


def run(rt: Runtime, ctx: RequestContext, row: Instance, image_id: str) -> None:
    """Ask the instance's agent to upload its root disk as image_id's data."""
    if row.task_state != states.IMAGE_SNAPSHOT:
        LOG.warning("snapshot of %s ignored: task_state is %s", row.uuid, row.task_state)
        return
    recorded = instances.update(rt, ctx, row.uuid, {"system_metadata": {
        **(row.system_metadata or {}), IMAGE_KEY: image_id}}, [states.IMAGE_SNAPSHOT])
    if recorded is None:
        _discard_image(rt, ctx, image_id)  # deleted meanwhile: nobody fills the image
        return
    actions.event(rt, ctx, row.uuid, EVENT, "start", host=row.host)
    instances.notify(rt, ctx, row.uuid, "instance.snapshot.start", {"image_id": image_id})
    if not hosts.compute_up(rt, row.host):
        finished(rt, ctx, row.uuid, image_id, power.host_unreachable(row.host))
        return
    try:
        rt.compute_api.snapshot_instance(ctx, row.host, row.uuid, image_id)
    except Exception as exc:  # noqa: BLE001 - the bus refused the cast
        LOG.exception("could not send the snapshot of %s to %s", row.uuid, row.host)
        finished(rt, ctx, row.uuid, image_id, f"Could not send the snapshot request to "
                 f"host {row.host}: {exc}")


def _discard_image(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    admin = instances.elevated(ctx)
    try:
        if images.get(rt, admin, image_id).status == "active":
            return  # the data made it after all: never delete a usable image
        images.delete(rt, admin, image_id)
    except exceptions.NotFound:
        return
    except exceptions.StratusError:
        LOG.exception("could not delete the failed snapshot image %s", image_id)


def finished(rt: Runtime, ctx: RequestContext, uuid: str, image_id: str,
             error: str | None = None) -> None:
    """The snapshot is uploaded (or failed: error says why): clear the task."""
    current = instances.get(rt, uuid)
    metadata = dict((current.system_metadata if current else None) or {})
    metadata.pop(IMAGE_KEY, None)
    row = instances.apply(rt, ctx, uuid, "snapshot.done", {"system_metadata": metadata})
    if error:
        _discard_image(rt, ctx, image_id)
    if row is None:
        LOG.info("snapshot_finished for %s ignored: no snapshot task any more", uuid)
        return
    if error:
        message = f"Snapshot {image_id} failed: {error}"
        actions.add_fault(rt, uuid, message, host=row.host)
        actions.event(rt, ctx, uuid, EVENT, "finish", host=row.host, result=actions.ERROR,
                      traceback=error)
        actions.finish(rt, ctx, uuid, error=True)
        instances.notify(rt, ctx, uuid, "instance.snapshot.error",
                         {"image_id": image_id, "fault": message})
        return
    actions.event(rt, ctx, uuid, EVENT, "finish", host=row.host, result=actions.SUCCESS)
    actions.finish(rt, ctx, uuid)
    instances.notify(rt, ctx, uuid, "instance.snapshot.end", {"image_id": image_id})
