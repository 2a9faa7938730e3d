"""A server's volumes (``os-volume_attachments``): list, show, attach, detach.

Attach reserves the volume in the volume service (it becomes ``reserved``: a busy or
attached volume is refused there with Cinder's message), records the mapping on a free
guest device and the ``attach_volume`` instance action, and casts the rest to the
conductor (export to the host, hot-plug, volume ``in-use``). Detach marks the mapping
``detaching`` and casts the reverse. Neither sets a task_state, as in Nova; the
mapping's status is what keeps two requests on one volume apart.
"""

from __future__ import annotations

import logging
from typing import Any

from common.context import RequestContext
from controller import exceptions
from controller.compute import actions, rpc, states
from controller.compute import block_device_mappings as bdms
from controller.db.models import block_devices as bdm_model
from controller.db.models.servers import Instance
from controller.runtime import Runtime
from controller.volume import attachments as volume_attachments
from controller.volume import volumes as volume_service

LOG = logging.getLogger(__name__)

# Nova's check_instance_state for attach_volume / detach_volume (no task may run).
_VOLUME_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED, states.RESIZED)
ATTACH = states.Action(frozenset(_VOLUME_STATES), frozenset({states.IDLE}), None)
DETACH = ATTACH


def not_attached(server_id: str, volume_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Instance {server_id} is not attached to volume "
                               f"{str(volume_id)[:64]}")


def list_(rt: Runtime, instance: Instance) -> list[dict[str, Any]]:
    """The server's volumes (root first), as :func:`bdms.view` dicts."""
    return [bdms.view(row) for row in bdms.list_(rt, instance.uuid) if row.volume_id]


def get(rt: Runtime, instance: Instance, volume_id: str) -> dict[str, Any]:
    """:raises NotFound: the volume is not one of the server's."""
    row = bdms.find(rt, instance.uuid, volume_id) if len(str(volume_id)) <= 36 else None
    if row is None:
        raise not_attached(instance.uuid, volume_id)
    return bdms.view(row)


def _check_state(ctx: RequestContext, instance: Instance, action: str,
                 rule: states.Action) -> None:
    if instance.locked and not ctx.is_admin:
        raise actions.locked_error(instance.uuid)
    actions.check(action, rule, instance.uuid, instance.vm_state, instance.task_state)


def attach(rt: Runtime, ctx: RequestContext, instance: Instance, volume_id: str,
           device: str | None = None, tag: str | None = None,
           multiattach_allowed: bool = True) -> dict[str, Any]:
    """Start attaching volume_id to the server; return the mapping's view (its device).

    :raises BadRequest: a bad device, the volume is not available (Cinder's reason),
        already on this server, or multiattach below microversion 2.60.
    :raises NotFound: no such volume visible to ctx. :raises Conflict: the server's
        state does not allow it, or it is locked. :raises Forbidden: no device left.
    :raises ServiceUnavailable: the conductor could not be reached (nothing is kept).
    """
    hint = bdms.device_hint(device)
    _check_state(ctx, instance, "attach_volume", ATTACH)
    volume = volume_service.get(rt, ctx, volume_id)
    if volume.multiattach and not multiattach_allowed:
        raise exceptions.BadRequest("Multiattach volumes are only supported starting with "
                                    "compute API version 2.60.")
    reservation = volume_attachments.create(rt, ctx, volume.id, instance.uuid)
    try:
        row = bdms.add_attachment(rt, instance.uuid, volume.id, hint, source_type="volume",
                                  tag=tag, attachment_id=reservation.id,
                                  status=bdm_model.ATTACHING)
    except exceptions.StratusError:
        volume_attachments.delete(rt, ctx, reservation.id)
        raise
    try:
        # Re-checks the state atomically (a concurrent stop or delete wins) and records
        # the action the conductor and the agent file their events under.
        actions.transition(rt, ctx, instance.uuid, "attach_volume", rule=ATTACH,
                           record_as="attach_volume")
        rpc.cast("attach_volume", rt.conductor_api.attach_volume, ctx, instance.uuid,
                 volume.id)
    except exceptions.StratusError:
        bdms.remove(rt, row.id)
        volume_attachments.delete(rt, ctx, reservation.id)
        actions.finish(rt, instance.uuid, ctx.request_id, error=True)
        raise
    LOG.info("attaching volume %s to instance %s as %s", volume.id, instance.uuid,
             row.device_name)
    return bdms.view(row)


def detach(rt: Runtime, ctx: RequestContext, instance: Instance, volume_id: str) -> None:
    """Start detaching volume_id from the server.

    :raises NotFound: no such volume visible to ctx, or not on this server.
    :raises BadRequest: it is the root volume, or it is not attached (yet, or any more).
    :raises Conflict: the server's state does not allow it, or it is locked.
    :raises ServiceUnavailable: the conductor could not be reached (nothing changed).
    """
    volume = volume_service.get(rt, ctx, volume_id)
    row = bdms.find(rt, instance.uuid, volume.id)
    if row is None:
        raise not_attached(instance.uuid, volume.id)
    if row.is_root:
        raise exceptions.BadRequest("Cannot detach a root device volume")
    _check_state(ctx, instance, "detach_volume", DETACH)
    if not bdms.set_values(rt, row.id, {"status": bdm_model.DETACHING},
                           [bdm_model.ATTACHED]):
        raise exceptions.BadRequest(f"Invalid volume: Unable to detach volume {volume.id}: "
                                    f"it is {_status(rt, row.id)} on instance "
                                    f"{instance.uuid}, not attached.")
    try:
        actions.transition(rt, ctx, instance.uuid, "detach_volume", rule=DETACH,
                           record_as="detach_volume")
        rpc.cast("detach_volume", rt.conductor_api.detach_volume, ctx, instance.uuid,
                 volume.id)
    except exceptions.StratusError:
        bdms.set_values(rt, row.id, {"status": bdm_model.ATTACHED}, [bdm_model.DETACHING])
        actions.finish(rt, instance.uuid, ctx.request_id, error=True)
        raise
    LOG.info("detaching volume %s from instance %s", volume.id, instance.uuid)


def _status(rt: Runtime, mapping_id: int) -> str:
    row = bdms.get(rt, mapping_id)
    return row.status if row is not None else "gone"
