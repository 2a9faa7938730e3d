"""Lookups the volume service modules share: project-scoped gets and guarded transitions.

Another project's volume, snapshot or backup is simply not found (a 404, as Cinder
answers); administrators reach every project's.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.base import utcnow
from controller.db.models.volume import (
    Backup,
    Snapshot,
    Volume,
    VolumeAdminMetadata,
    VolumeAttachment,
)
from controller.volume import errors, states


def new_id() -> str:
    """Cinder's IDs are dashed UUIDs."""
    return str(uuid.uuid4())


def visible(query: sa.Select, model: Any, ctx: RequestContext) -> sa.Select:
    """query limited to ctx's project unless ctx is an administrator."""
    if ctx.is_admin:
        return query
    return query.where(model.project_id == ctx.project_id)


def _get(session: orm.Session, ctx: RequestContext, model: Any, ident: str,
         lock: bool) -> Any:
    query = visible(sa.select(model).where(model.id == ident, model.deleted.is_(False)),
                    model, ctx)
    if lock:
        query = query.with_for_update(of=model)
    return session.scalars(query).first()


def volume(session: orm.Session, ctx: RequestContext, volume_id: str,
           lock: bool = False) -> Volume:
    """:raises NotFound: no such live volume visible to ctx."""
    row = _get(session, ctx, Volume, volume_id, lock)
    if row is None:
        raise errors.volume_not_found(volume_id)
    return row


def snapshot(session: orm.Session, ctx: RequestContext, snapshot_id: str,
             lock: bool = False) -> Snapshot:
    """:raises NotFound: no such live snapshot visible to ctx."""
    row = _get(session, ctx, Snapshot, snapshot_id, lock)
    if row is None:
        raise errors.snapshot_not_found(snapshot_id)
    return row


def backup(session: orm.Session, ctx: RequestContext, backup_id: str,
           lock: bool = False) -> Backup:
    """:raises NotFound: no such live backup visible to ctx."""
    row = _get(session, ctx, Backup, backup_id, lock)
    if row is None:
        raise errors.backup_not_found(backup_id)
    return row


def transition(session: orm.Session, row: Any, table: dict[str, states.Transition],
               action: str, **values: Any) -> states.Transition:
    """Start action on row: an UPDATE guarded by the statuses the action is allowed from.

    :raises BadRequest: the row's status does not allow action (now, or after a
        concurrent request changed it).
    """
    step = states.check(table, action, row.id, row.status)
    if step.sets is not None:
        values["status"] = step.sets
    values["updated_at"] = utcnow()
    model = type(row)
    result = session.execute(
        sa.update(model).where(model.id == row.id, model.status.in_(step.allowed))
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(row)
        raise states.refused(step, row.id, row.status)
    for name, value in values.items():
        orm.attributes.set_committed_value(row, name, value)
    return step


def settle(session: orm.Session, volume_row: Volume) -> None:
    """Recompute an attach-related volume status from the volume's attachments."""
    if volume_row.status not in states.ATTACH_STATUSES:
        return
    found = list(session.scalars(sa.select(VolumeAttachment.attach_status).where(
        VolumeAttachment.volume_id == volume_row.id)))
    status, attach_status = states.settled(found)
    if (status, attach_status) != (volume_row.status, volume_row.attach_status):
        volume_row.status, volume_row.attach_status = status, attach_status
        volume_row.updated_at = utcnow()


def sync_items(items: list[Any], wanted: dict[str, str], make: Any) -> None:
    """Make a key/value relationship list (metadata) hold exactly wanted, in place (so
    the unit of work updates rows whose key stays instead of re-inserting them)."""
    current = {item.key: item for item in items}
    for key, item in current.items():
        if key not in wanted:
            items.remove(item)
        elif item.value != wanted[key]:
            item.value = wanted[key]
    for key, value in wanted.items():
        if key not in current:
            items.append(make(key=key, value=value))


def set_admin_metadata(session: orm.Session, volume_id: str, key: str,
                       value: str | None) -> None:
    """Set (or with None remove) one admin metadata item of a volume."""
    item = session.get(VolumeAdminMetadata, (volume_id, key))
    if value is None:
        if item is not None:
            session.delete(item)
    elif item is None:
        session.add(VolumeAdminMetadata(volume_id=volume_id, key=key, value=value))
    else:
        item.value = value
