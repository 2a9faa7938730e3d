"""Volumes on servers, the conductor's side: attach, detach, and what a delete releases.

Attach (the API reserved the volume and recorded the mapping ``attaching``): export the
volume to the server's host through the volume service (``attachments.update`` with the
host's connector: its address, which is where QEMU connects from, and its initiator
name), have the host's agent plug the network disk (``attach_volume``, a call: it
answers with the device the guest really got), then complete the attachment (volume
``in-use``) and the mapping (``attached``). Any failure removes the export, the
reservation and the mapping: the volume is ``available`` again, the action says Error.

Detach is the reverse; the export is only removed when no other attachment of the volume
on that host still uses it (a multiattach volume in two guests on one host shares it).
A failed unplug leaves the volume attached.

The volume service is called in-process with the caller's request ID and an elevated
context (the conductor acts for the system: an admin may detach a user's volume).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from common.messaging import messaging as oslo_messaging
from controller import exceptions
from controller.compute import block_device_mappings as bdms
from controller.conductor import actions, hosts, instances
from controller.db.models import block_devices as bdm_model
from controller.db.models.block_devices import BlockDeviceMapping
from controller.db.models.hosts import ComputeNode
from controller.runtime import Runtime
from controller.volume import attachments as volume_attachments
from controller.volume import volumes as volume_service

LOG = logging.getLogger(__name__)

ATTACH_EVENT = "conductor_attach_volume"
DETACH_EVENT = "conductor_detach_volume"
INITIATOR_PREFIX = "iqn.2010-10.org.stratus"


class VolumeStepError(exceptions.StratusError):
    """A step of a volume workflow failed; the message says which and why."""


def initiator(host: str) -> str | None:
    """The iSCSI initiator name QEMU logs in with from host (LIO's access lists name it;
    tgt's list the address): ``iqn.2010-10.org.stratus:<host>``."""
    label = re.sub(r"[^a-z0-9.-]+", "-", host.lower()).strip("-.")
    return f"{INITIATOR_PREFIX}:{label}" if label else None


def connector(rt: Runtime, host: str) -> dict[str, Any]:
    """The connector of host's compute agent: {host, ip, initiator}.

    :raises VolumeStepError: the host never reported its address.
    """
    with rt.db.session() as session:
        address = session.scalar(sa.select(ComputeNode.host_ip).where(ComputeNode.host == host))
    if not address:
        raise VolumeStepError(f"Compute host {host} has not reported its address "
                              "([compute] host_ip); volumes cannot be exported to it.")
    return {"host": host, "ip": address, "initiator": initiator(host)}


def short_device(device: str | None) -> str | None:
    return device.rsplit("/", 1)[-1] if device else None


def spec_entry(row: BlockDeviceMapping, info: dict[str, Any], host: str) -> dict[str, Any]:
    """A mapping as an instance spec's ``volumes`` item (``common.rpc.compute``)."""
    return {"volume_id": row.volume_id, "device": short_device(row.device_name),
            "boot_index": row.boot_index, "connection_info": info,
            "initiator": initiator(host)}


def spec_volumes(rt: Runtime, ctx: RequestContext, instance_uuid: str,
                 host: str | None) -> list[dict[str, Any]]:
    """The spec ``volumes`` of the instance: its mappings that are exported to a host
    (attached, or being attached at boot), with their connection_info."""
    admin = instances.elevated(ctx)
    found = []
    for row in bdms.list_(rt, instance_uuid):
        if not row.attachment_id or row.status not in (bdm_model.ATTACHED,
                                                       bdm_model.PENDING):
            continue
        try:
            info = volume_attachments.get(rt, admin, row.attachment_id).connection_info
        except exceptions.NotFound:
            continue
        if info:
            found.append(spec_entry(row, info, host or ""))
    return found


def shared_export(rt: Runtime, ctx: RequestContext, volume_id: str, attachment_id: str,
                   host: str | None) -> bool:
    """Whether another attachment of the volume is exported to the same host."""
    try:
        volume = volume_service.get(rt, ctx, volume_id)
    except exceptions.NotFound:
        return False
    return any(a.id != attachment_id and a.connector and a.attached_host == host
               for a in volume.attachments)


def release(rt: Runtime, ctx: RequestContext, row: BlockDeviceMapping,
            host: str | None) -> None:
    """Remove the mapping's attachment in the volume service (its export too, unless
    another guest on host shares it). Idempotent.

    :raises BackendUnavailable, BackendFailed: the export could not be removed.
    """
    if not row.attachment_id:
        return
    admin = instances.elevated(ctx)
    keep = bool(row.volume_id) and shared_export(rt, admin, row.volume_id,
                                                  row.attachment_id, host)
    try:
        volume_attachments.delete(rt, admin, row.attachment_id, keep_export=keep)
    except exceptions.NotFound:
        pass  # already gone: the goal is reached
    bdms.set_values(rt, row.id, {"attachment_id": None})


# ------------------------------------------------------------------------- attach
def attach_volume(rt: Runtime, ctx: RequestContext, instance_uuid: str, volume_id: str) -> None:
    """Carry out an attach the API started (see the module docstring)."""
    row = bdms.find(rt, instance_uuid, volume_id)
    if row is None or row.status != bdm_model.ATTACHING:
        LOG.info("attach of %s to %s skipped: no mapping waits for it", volume_id,
                 instance_uuid)
        return
    instance = instances.get(rt, instance_uuid)
    host = instance.host if instance is not None and not instance.deleted else None
    actions.event(rt, ctx, instance_uuid, ATTACH_EVENT, "start", host=host)
    try:
        if host is None:
            raise VolumeStepError(f"Instance {instance_uuid} has no host any more.")
        device = _plug(rt, ctx, row, host)
    except Exception as exc:  # noqa: BLE001 - every failure ends the same way: undone
        _undo_attach(rt, ctx, row, host)
        _failed(rt, ctx, instance_uuid, ATTACH_EVENT, f"Attaching volume {volume_id} failed",
                exc, host)
        return
    actions.event(rt, ctx, instance_uuid, ATTACH_EVENT, "finish", host=host,
                  result=actions.SUCCESS)
    actions.finish(rt, ctx, instance_uuid)
    instances.notify(rt, ctx, instance_uuid, "instance.volume_attach.end",
                     {"volume_id": volume_id, "device": device})


def _plug(rt: Runtime, ctx: RequestContext, row: BlockDeviceMapping, host: str) -> str:
    """Export, hot-plug, complete; return the guest device."""
    admin = instances.elevated(ctx)
    attachment = volume_attachments.update(rt, admin, row.attachment_id,
                                           connector(rt, host), row.device_name)
    answer = _call_agent(rt, ctx, host, "attach_volume", row.instance_uuid,
                         volume=spec_entry(row, attachment.connection_info or {}, host))
    device = f"/dev/{(answer or {}).get('device') or short_device(row.device_name)}"
    volume_attachments.complete(rt, admin, row.attachment_id)
    if not bdms.set_values(rt, row.id, {"status": bdm_model.ATTACHED, "device_name": device},
                           [bdm_model.ATTACHING]):
        # The server was deleted meanwhile (its delete removed the mapping) or the
        # device the guest got clashes: take the volume out again.
        raise VolumeStepError(f"Instance {row.instance_uuid} changed while volume "
                              f"{row.volume_id} was being attached; it was taken out again.")
    return device


def _undo_attach(rt: Runtime, ctx: RequestContext, row: BlockDeviceMapping,
                 host: str | None) -> None:
    if host is not None:
        try:  # the agent may have plugged it before the call failed or timed out
            _call_agent(rt, ctx, host, "detach_volume", row.instance_uuid,
                        volume_id=row.volume_id)
        except Exception as exc:  # noqa: BLE001 - best effort; the agent's sync repairs
            LOG.warning("could not make sure %s is unplugged from %s: %s", row.volume_id,
                        row.instance_uuid, exc)
    try:
        release(rt, ctx, row, host)
    except exceptions.StratusError as exc:
        LOG.warning("could not remove the export of %s: %s (the reconciliation retries)",
                    row.volume_id, exc.message)
        bdms.set_values(rt, row.id, {"status": bdm_model.DETACHING})
        return
    bdms.remove(rt, row.id)


def _call_agent(rt: Runtime, ctx: RequestContext, host: str, method: str,
                instance_uuid: str, **kwargs: Any) -> Any:
    """Call the host's agent; its failures become VolumeStepError (from the original)."""
    timeout = rt.conf.conductor.volume_attach_timeout
    try:
        return getattr(rt.compute_api, method)(ctx, host, instance_uuid, timeout=timeout,
                                               **kwargs)
    except oslo_messaging.MessagingTimeout as exc:
        raise VolumeStepError(f"The compute agent on {host} did not answer {method} within "
                              f"{timeout} s.") from exc
    except oslo_messaging.RemoteError as exc:
        raise VolumeStepError(f"The compute agent on {host} could not {method}: "
                              f"{exc.value or exc.exc_type}") from exc


# ------------------------------------------------------------------------- detach
def detach_volume(rt: Runtime, ctx: RequestContext, instance_uuid: str, volume_id: str) -> None:
    """Carry out a detach the API started (see the module docstring)."""
    row = bdms.find(rt, instance_uuid, volume_id)
    if row is None or row.status != bdm_model.DETACHING:
        LOG.info("detach of %s from %s skipped: not being detached", volume_id, instance_uuid)
        return
    instance = instances.get(rt, instance_uuid)
    host = instance.host if instance is not None else None
    actions.event(rt, ctx, instance_uuid, DETACH_EVENT, "start", host=host)
    try:
        if host and not hosts.compute_up(rt, host):
            raise VolumeStepError(f"The compute service on {host} is down; the volume stays "
                                  "attached. Try again once it is back.")
        if host:
            _call_agent(rt, ctx, host, "detach_volume", instance_uuid, volume_id=volume_id)
    except Exception as exc:  # noqa: BLE001 - the guest still has it: it stays attached
        bdms.set_values(rt, row.id, {"status": bdm_model.ATTACHED}, [bdm_model.DETACHING])
        _failed(rt, ctx, instance_uuid, DETACH_EVENT, f"Detaching volume {volume_id} "
                "failed", exc, host)
        return
    try:
        release(rt, ctx, row, host)
    except exceptions.StratusError as exc:
        # Unplugged, but the export is still there: the mapping stays detaching and
        # the reconciliation removes the export (and the mapping) later.
        _failed(rt, ctx, instance_uuid, DETACH_EVENT, f"Volume {volume_id} was unplugged "
                "but its export could not be removed yet (it is retried)", exc, host)
        return
    bdms.remove(rt, row.id)
    actions.event(rt, ctx, instance_uuid, DETACH_EVENT, "finish", host=host,
                  result=actions.SUCCESS)
    actions.finish(rt, ctx, instance_uuid)
    instances.notify(rt, ctx, instance_uuid, "instance.volume_detach.end",
                     {"volume_id": volume_id})


def _failed(rt: Runtime, ctx: RequestContext, instance_uuid: str, event: str, what: str,
            exc: Exception, host: str | None) -> None:
    """Log, record the fault, finish the event and the action with Error."""
    message = exc.message if isinstance(exc, exceptions.StratusError) else str(exc)
    LOG.warning("instance %s: %s: %s", instance_uuid, what, message,
                exc_info=not isinstance(exc, exceptions.StratusError))
    actions.add_fault(rt, instance_uuid, f"{what}: {message}", host=host,
                      code=getattr(exc, "code", 500))
    actions.event(rt, ctx, instance_uuid, event, "finish", host=host, result=actions.ERROR,
                  traceback=message)
    actions.finish(rt, ctx, instance_uuid, error=True)


# ------------------------------------------------------------------ server delete
def release_all(rt: Runtime, ctx: RequestContext, instance_uuid: str,
                host: str | None) -> bool:
    """The server is gone: detach every volume in the volume service and delete those
    marked delete_on_termination. Returns True when nothing is left to do; what fails
    stays mapped for the reconciliation to retry."""
    admin = instances.elevated(ctx)
    done = True
    for row in bdms.list_(rt, instance_uuid):
        try:
            release(rt, ctx, row, host)
            if row.volume_id and row.delete_on_termination:
                _delete_volume(rt, admin, row.volume_id)
        except Exception as exc:  # noqa: BLE001 - never block the delete; retried later
            LOG.warning("instance %s: volume %s not released yet: %s", instance_uuid,
                        row.volume_id, getattr(exc, "message", exc),
                        exc_info=not isinstance(exc, exceptions.StratusError))
            done = False
            continue
        bdms.remove(rt, row.id)
    return done


def _delete_volume(rt: Runtime, ctx: RequestContext, volume_id: str) -> None:
    try:
        volume = volume_service.get(rt, ctx, volume_id)
    except exceptions.NotFound:
        return
    if volume.status in ("deleting", "deleted"):
        return
    if any(a.attach_status != "detached" for a in volume.attachments):
        LOG.info("volume %s is still attached elsewhere; not deleted", volume_id)
        return
    volume_service.delete(rt, ctx, volume_id)
    LOG.info("volume %s deleted with its server (delete_on_termination)", volume_id)
