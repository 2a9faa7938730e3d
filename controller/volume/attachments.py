"""Volume attachments (the 3.27+ attachments API), and the calls compute makes in-process.

An attachment goes reserved (no connector yet) -> attaching (exported to a connector,
connection_info known) -> attached (the consumer confirmed) and is deleted on detach,
which removes the export. The volume's status follows its attachments (available,
reserved, attaching, in-use: :func:`controller.volume.store.settle`).

Compute uses :func:`attach` and :func:`detach`; the legacy ``os-*`` volume actions in
:mod:`controller.volume.volume_actions` are built on the same functions.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import Volume, VolumeAdminMetadata, VolumeAttachment
from controller.runtime import Runtime
from controller.volume import agent, errors, listing, states, store

LOG = logging.getLogger(__name__)

FILTER_COLUMNS = {"volume_id": VolumeAttachment.volume_id,
                  "instance_id": VolumeAttachment.instance_uuid,
                  "status": VolumeAttachment.attach_status,
                  "attach_status": VolumeAttachment.attach_status}
SORT_COLUMNS = {"id": VolumeAttachment.id, "created_at": VolumeAttachment.created_at,
                "volume_id": VolumeAttachment.volume_id,
                "instance_id": VolumeAttachment.instance_uuid,
                "status": VolumeAttachment.attach_status}


def _get(session: orm.Session, ctx: RequestContext, attachment_id: str,
         lock: bool = False) -> VolumeAttachment:
    query = store.visible(sa.select(VolumeAttachment).where(
        VolumeAttachment.id == attachment_id), VolumeAttachment, ctx)
    row = session.scalars(query.with_for_update(of=VolumeAttachment) if lock else query).first()
    if row is None:
        raise errors.attachment_not_found(attachment_id)
    return row


def readonly(volume: Volume) -> bool:
    return volume.admin_metadata.get("readonly", "False").lower() == "true"


def attach_mode(volume: Volume, mode: str | None) -> str:
    """The mode an attachment gets: as asked, else read-only for read-only volumes.

    :raises BadRequest: rw asked of a read-only volume, or an unknown mode.
    """
    if mode not in (None, "rw", "ro"):
        raise errors.InvalidInput(f"Attach mode must be rw or ro, not {mode!r}.")
    if mode == "rw" and readonly(volume):
        raise exceptions.BadRequest(f"Invalid attaching mode '{mode}' for volume "
                                    f"{volume.id}.")
    return mode or ("ro" if readonly(volume) else "rw")


def _check_shareable(volume: Volume) -> None:
    live = [a for a in volume.attachments if a.attach_status != states.DETACHED]
    if live and not volume.multiattach:
        raise errors.InvalidVolume(f"Volume {volume.id} status must be available or "
                                   f"downloading to reserve, but the current status is "
                                   f"{volume.status}. (It is not multiattach-capable and "
                                   "already has an attachment.)")


def get(rt: Runtime, ctx: RequestContext, attachment_id: str) -> VolumeAttachment:
    """:raises NotFound: no such attachment visible to ctx."""
    with rt.db.session() as session:
        return _get(session, ctx, attachment_id)


def list_(rt: Runtime, ctx: RequestContext,
          query: listing.Query) -> tuple[list[VolumeAttachment], bool, int]:
    """(page, more follow, total) of the attachments ctx sees.

    :raises BadRequest: an unknown filter or sort key.
    """
    filters = dict(query.filters)
    with rt.db.session() as session:
        stmt = listing.scope(sa.select(VolumeAttachment), VolumeAttachment, ctx,
                             listing.Query(filters=filters, all_projects=query.all_projects))
        stmt = listing.where(stmt, VolumeAttachment, filters, FILTER_COLUMNS)
        if filters:
            raise errors.InvalidInput(f"Invalid filters {', '.join(sorted(filters))} are "
                                      "found in query options.")
        stmt = listing.order(stmt, query.sort or [("created_at", "desc")], SORT_COLUMNS,
                             VolumeAttachment.id)
        rows = list(session.scalars(stmt))
    found, more = listing.page(rows, query, lambda r: r.id)
    return found, more, len(rows)


def create(rt: Runtime, ctx: RequestContext, volume_id: str, instance_uuid: str | None,
           connector: dict[str, Any] | None = None, mode: str | None = None,
           mountpoint: str | None = None, status: str = states.RESERVED) -> VolumeAttachment:
    """Reserve the volume for instance_uuid; with a connector, also export it.

    :raises NotFound: no such volume. :raises BadRequest: the volume's status does not
        allow a new attachment (or it is attached and not multiattach).
    :raises BackendUnavailable, BackendFailed: the export failed (nothing is kept).
    """
    with rt.db.session() as session:
        volume = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "attachment_create", volume.id, volume.status)
        _check_shareable(volume)
        now = utcnow()
        row = VolumeAttachment(id=store.new_id(), volume_id=volume.id,
                               project_id=volume.project_id, instance_uuid=instance_uuid,
                               mountpoint=mountpoint, attach_mode=attach_mode(volume, mode),
                               attach_status=status, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        store.settle(session, volume)
    if connector:
        try:
            return update(rt, ctx, row.id, connector, mountpoint)
        except Exception:
            _remove(rt, row.id)
            raise
    return row


def update(rt: Runtime, ctx: RequestContext, attachment_id: str, connector: dict[str, Any],
           mountpoint: str | None = None) -> VolumeAttachment:
    """Export the attachment's volume to connector; keep the connection_info.

    :raises NotFound: no such attachment. :raises BadRequest: it is being detached.
    :raises BackendUnavailable, BackendFailed: the agent could not export.
    """
    with rt.db.session() as session:
        row = _get(session, ctx, attachment_id)
        if row.attach_status in (states.DETACHING, states.DETACHED):
            raise errors.InvalidVolume(f"Attachment {row.id} is {row.attach_status}; create "
                                       "a new attachment.")
        volume = store.volume(session, ctx, row.volume_id)
        backend, mode = volume.backend_host, row.attach_mode
    info = connect(rt, ctx, backend, row.volume_id, connector, mode)
    with rt.db.session() as session:
        row = _get(session, ctx, attachment_id, lock=True)
        row.connector, row.connection_info = dict(connector), info
        row.attached_host = connector.get("host")
        row.mountpoint = connector.get("mountpoint") or mountpoint or row.mountpoint
        if row.attach_status in (states.RESERVED, states.ERROR_ATTACHING):
            row.attach_status = states.ATTACHING
        row.updated_at = utcnow()
        store.settle(session, store.volume(session, ctx, row.volume_id))
    return row


def connect(rt: Runtime, ctx: RequestContext, backend: str | None, volume_id: str,
            connector: dict[str, Any], mode: str) -> dict[str, Any]:
    """initialize_connection on the volume's agent, with the attachment's access mode.

    :raises BadRequest: the volume has no backend (it was never created).
    :raises BackendUnavailable, BackendFailed: the agent could not export.
    """
    if backend is None:
        raise errors.InvalidVolume(f"Volume {volume_id} has no backend host; it cannot be "
                                   "exported.")
    with agent.calling(backend, f"export volume {volume_id}"):
        info = agent.api(rt).initialize_connection(ctx, backend, volume_id,
                                                   agent.connector(connector))
    info = dict(info or {})
    info["data"] = {**(info.get("data") or {}), "access_mode": mode}
    return info


def disconnect(rt: Runtime, ctx: RequestContext, backend: str | None, volume_id: str,
               connector: dict[str, Any]) -> None:
    """terminate_connection on the volume's agent (idempotent there)."""
    if backend is None:
        return
    with agent.calling(backend, f"remove the export of volume {volume_id}"):
        agent.api(rt).terminate_connection(ctx, backend, volume_id, agent.connector(connector))


def complete(rt: Runtime, ctx: RequestContext, attachment_id: str) -> None:
    """The consumer attached the volume: the attachment is attached, the volume in-use.

    :raises NotFound: no such attachment. :raises BadRequest: it is being detached.
    """
    with rt.db.session() as session:
        row = _get(session, ctx, attachment_id, lock=True)
        if row.attach_status in (states.DETACHING, states.DETACHED):
            raise errors.InvalidVolume(f"Attachment {row.id} is {row.attach_status} and "
                                       "cannot be completed.")
        volume = store.volume(session, ctx, row.volume_id, lock=True)
        now = utcnow()
        row.attach_status, row.attach_time, row.updated_at = states.ATTACHED, now, now
        store.set_admin_metadata(session, volume.id, "attached_mode", row.attach_mode)
        store.settle(session, volume)


def delete(rt: Runtime, ctx: RequestContext, attachment_id: str,
           keep_export: bool = False) -> list[VolumeAttachment]:
    """Remove the export and the attachment; return the volume's remaining attachments.

    keep_export keeps the export: another attachment of the volume on the same
    host (a multiattach volume in two guests there) still uses it.

    :raises NotFound: no such attachment.
    :raises BackendUnavailable, BackendFailed: the export could not be removed (the
        attachment is left error_detaching; delete it again).
    """
    with rt.db.session() as session:
        row = _get(session, ctx, attachment_id, lock=True)
        volume = store.volume(session, ctx, row.volume_id)
        backend, connector, volume_id = volume.backend_host, row.connector, row.volume_id
        row.attach_status, row.updated_at = states.DETACHING, utcnow()
    if connector and not keep_export:
        try:
            disconnect(rt, ctx, backend, volume_id, connector)
        except exceptions.StratusError:
            with rt.db.session() as session:
                session.execute(sa.update(VolumeAttachment).where(
                    VolumeAttachment.id == attachment_id).values(
                    attach_status=states.ERROR_DETACHING))
            raise
    return _remove(rt, attachment_id)


def _remove(rt: Runtime, attachment_id: str) -> list[VolumeAttachment]:
    with rt.db.session() as session:
        row = session.get(VolumeAttachment, attachment_id)
        if row is None:
            return []
        volume = session.get(Volume, row.volume_id)
        session.delete(row)
        session.flush()
        if volume is None:
            return []
        remaining = list(session.scalars(sa.select(VolumeAttachment).where(
            VolumeAttachment.volume_id == volume.id)))
        if not remaining:
            session.execute(sa.delete(VolumeAdminMetadata).where(
                VolumeAdminMetadata.volume_id == volume.id,
                VolumeAdminMetadata.key == "attached_mode"))
        store.settle(session, volume)
        return remaining


# ------------------------------------------------------------- compute's in-process API
def attach(rt: Runtime, ctx: RequestContext, volume_id: str, instance_uuid: str,
           connector: dict[str, Any], mountpoint: str | None = None,
           mode: str | None = None) -> dict[str, Any]:
    """Attach volume_id to instance_uuid through connector: export it and mark it
    attached (in-use); return the connection_info the hypervisor connects with.

    If the hypervisor then fails to attach, call :func:`detach` to undo.

    :raises NotFound: no such volume. :raises BadRequest: it cannot be attached now.
    :raises BackendUnavailable, BackendFailed: the export failed (nothing is kept).
    """
    row = create(rt, ctx, volume_id, instance_uuid, connector, mode, mountpoint)
    complete(rt, ctx, row.id)
    return row.connection_info or {}


def detach(rt: Runtime, ctx: RequestContext, volume_id: str, instance_uuid: str) -> None:
    """Detach volume_id from instance_uuid: remove its exports and attachments. Detaching
    a volume that is not attached to the instance does nothing.

    :raises NotFound: no such volume.
    :raises BackendUnavailable, BackendFailed: an export could not be removed.
    """
    with rt.db.session() as session:
        volume = store.volume(session, ctx, volume_id)
        ids = [a.id for a in volume.attachments if a.instance_uuid == instance_uuid]
    for attachment_id in ids:
        delete(rt, ctx, attachment_id)
