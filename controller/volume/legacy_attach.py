"""The legacy attach/detach steps older consumers drive one by one (``os-reserve``,
``os-initialize_connection``, ``os-attach``, ``os-begin_detaching``,
``os-terminate_connection``, ``os-detach``...), on the same attachment records as the
3.27+ attachments API (:mod:`controller.volume.attachments`)."""

from __future__ import annotations

from typing import Any

from common.context import RequestContext
from controller.db.base import utcnow
from controller.db.models.volume import Volume, VolumeAttachment
from controller.runtime import Runtime
from controller.volume import attachments, errors, states, store


def reserve(rt: Runtime, ctx: RequestContext, volume_id: str) -> None:
    """os-reserve: hold the volume for an attach (status attaching)."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        action = "reserve_multiattach" if row.multiattach else "reserve"
        states.check(states.VOLUME, action, row.id, row.status)
        now = utcnow()
        session.add(VolumeAttachment(id=store.new_id(), volume_id=row.id,
                                     project_id=row.project_id, attach_status=states.ATTACHING,
                                     attach_mode=attachments.attach_mode(row, None),
                                     created_at=now, updated_at=now))
        session.flush()
        store.settle(session, row)


def _pending(row: Volume) -> list[VolumeAttachment]:
    return [a for a in row.attachments
            if a.attach_status in (states.RESERVED, states.ATTACHING)]


def unreserve(rt: Runtime, ctx: RequestContext, volume_id: str) -> None:
    """os-unreserve: give up a reservation that never got exported."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "unreserve", row.id, row.status)
        for item in _pending(row):
            if not item.connector:
                session.delete(item)
        session.flush()
        store.settle(session, row)


def initialize_connection(rt: Runtime, ctx: RequestContext, volume_id: str,
                          connector: dict[str, Any]) -> dict[str, Any]:
    """os-initialize_connection: export the volume to connector; its connection_info."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        states.check(states.VOLUME, "attach", row.id, row.status)
        # The same connector again (a consumer reconnecting) re-uses its attachment.
        free = [a.id for a in row.attachments if _same_connector(connector, a.connector)] \
            or [a.id for a in _pending(row) if not a.connector]
    attachment_id = free[0] if free else attachments.create(
        rt, ctx, volume_id, None, status=states.ATTACHING).id
    return attachments.update(rt, ctx, attachment_id, connector).connection_info or {}


def _same_connector(given: dict[str, Any], stored: dict[str, Any] | None) -> bool:
    return bool(stored) and all(given.get(k) == stored.get(k) for k in ("host", "initiator"))


def terminate_connection(rt: Runtime, ctx: RequestContext, volume_id: str,
                         connector: dict[str, Any]) -> None:
    """os-terminate_connection: remove the export to connector."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        backend = row.backend_host
    attachments.disconnect(rt, ctx, backend, volume_id, connector)
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        for item in row.attachments:
            if not _same_connector(connector, item.connector):
                continue
            if item.attach_status == states.ATTACHED:
                item.connector, item.connection_info = None, None
            else:
                session.delete(item)
        session.flush()
        store.settle(session, row)


def attach(rt: Runtime, ctx: RequestContext, volume_id: str, values: dict[str, Any]) -> None:
    """os-attach: the consumer attached the volume (to instance_uuid or host_name)."""
    instance, host = values.get("instance_uuid"), values.get("host_name")
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "attach", row.id, row.status)
        mode = attachments.attach_mode(row, values.get("mode"))
        pending = [a for a in _pending(row) if a.instance_uuid in (None, instance)]
        if pending:
            item = pending[0]
        else:
            if row.status == states.IN_USE and not row.multiattach:
                raise errors.InvalidVolume(f"Volume {row.id} is already attached and is not "
                                           "multiattach-capable.")
            item = VolumeAttachment(id=store.new_id(), volume_id=row.id,
                                    project_id=row.project_id, created_at=utcnow())
            session.add(item)
        now = utcnow()
        item.instance_uuid, item.mountpoint, item.attach_mode = instance, \
            values.get("mountpoint"), mode
        item.attached_host = host or item.attached_host
        item.attach_status, item.attach_time, item.updated_at = states.ATTACHED, now, now
        session.flush()
        store.set_admin_metadata(session, row.id, "attached_mode", mode)
        store.settle(session, row)


def begin_detaching(rt: Runtime, ctx: RequestContext, volume_id: str) -> None:
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        store.transition(session, row, states.VOLUME, "begin_detaching")


def roll_detaching(rt: Runtime, ctx: RequestContext, volume_id: str) -> None:
    """os-roll_detaching: a detach was abandoned (a no-op unless detaching)."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        if row.status == states.DETACHING:
            store.transition(session, row, states.VOLUME, "roll_detaching")


def detach(rt: Runtime, ctx: RequestContext, volume_id: str, attachment_id: str | None = None,
           connector: dict[str, Any] | None = None, force: bool = False) -> None:
    """os-detach (and admin os-force_detach): remove one attachment (the only one when
    attachment_id is not given) and its export.

    :raises NotFound: no such volume or attachment on it.
    :raises BadRequest: wrong status, or several attachments and none named.
    """
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        if not force:
            states.check(states.VOLUME, "detach", row.id, row.status)
        candidates = [a for a in row.attachments
                      if attachment_id is None or a.id == attachment_id]
        backend = row.backend_host
    if attachment_id is not None and not candidates:
        raise errors.attachment_not_found(attachment_id)
    if len(candidates) > 1:
        raise errors.InvalidVolume(f"Volume {volume_id} has {len(candidates)} attachments; "
                                   "name the one to detach (attachment_id).")
    if force and connector:
        attachments.disconnect(rt, ctx, backend, volume_id, connector)
    if candidates:
        attachments.delete(rt, ctx, candidates[0].id)
        return
    with rt.db.session() as session:  # a volume marked attached without a record
        row = store.volume(session, ctx, volume_id, lock=True)
        row.attach_status = states.DETACHED
        store.settle(session, row)
