"""Backups: full copies of a volume's data in the backup store (object storage, else a
file store), made and restored by the volume agent that serves the volume."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller.db.base import utcnow
from controller.db.models.volume import Backup, Volume
from controller.runtime import Runtime
from controller.volume import agent, errors, listing, quotas, states, store, volumes

LOG = logging.getLogger(__name__)

FILTER_COLUMNS = {"name": Backup.name, "status": Backup.status, "volume_id": Backup.volume_id,
                  "created_at": Backup.created_at, "updated_at": Backup.updated_at,
                  "id": Backup.id}
SORT_COLUMNS = {"id": Backup.id, "name": Backup.name, "status": Backup.status,
                "size": Backup.size, "volume_id": Backup.volume_id,
                "created_at": Backup.created_at, "updated_at": Backup.updated_at,
                "project_id": Backup.project_id}


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Backup:
    """Back up values["volume_id"] (an in-use volume only with force).

    :raises NotFound: no such volume. :raises BadRequest: wrong status, or an incremental
        or snapshot backup (this backup store makes full backups of volumes only).
    :raises QuotaExceeded: (413) the project is out of backups or backup gigabytes.
    """
    if values.get("incremental"):
        raise errors.InvalidBackup("Incremental backups are not supported by this backup "
                                   "store; create a full backup.")
    if values.get("snapshot_id"):
        raise errors.InvalidBackup("Backups of snapshots are not supported; back up the "
                                   "volume itself (in-use volumes with force).")
    action = "backup_force" if values.get("force") else "backup"
    with rt.db.session() as session:
        volume = store.volume(session, ctx, values["volume_id"])
        states.check(states.VOLUME, action, volume.id, volume.status)
    requested = {"backups": 1, "backup_gigabytes": volume.size}
    quotas.check(rt, volume.project_id, requested)
    now = utcnow()
    row = Backup(id=store.new_id(), project_id=volume.project_id, user_id=ctx.user_id,
                 volume_id=volume.id, name=values.get("name"),
                 description=values.get("description"), status=states.CREATING,
                 size=volume.size, container=values.get("container"),
                 availability_zone=values.get("availability_zone") or volume.availability_zone,
                 host=volume.backend_host, backup_metadata=values.get("metadata") or {},
                 created_at=now, updated_at=now)
    with rt.db.session() as session:
        locked = store.volume(session, ctx, volume.id, lock=True)
        row.volume_status_before = locked.status
        store.transition(session, locked, states.VOLUME, action)
        session.add(row)
    try:
        quotas.recheck(rt, volume.project_id, requested)
    except errors.QuotaExceeded:
        _abandon(rt, row.id, volume.id, delete=True)
        raise
    rt.notify(ctx, "backup.create.start", {"backup_id": row.id, "volume_id": volume.id})
    try:
        agent.api(rt).backup_volume(ctx, row.host, row.id, volume.id)
    except Exception:  # noqa: BLE001 - neither may stay busy
        LOG.exception("could not ask %s to back up volume %s", row.host, volume.id)
        _abandon(rt, row.id, volume.id, delete=False)
    return get(rt, ctx, row.id)


def _abandon(rt: Runtime, backup_id: str, volume_id: str, delete: bool) -> None:
    with rt.db.session() as session:
        if delete:
            session.execute(sa.delete(Backup).where(Backup.id == backup_id))
        else:
            session.execute(sa.update(Backup).where(Backup.id == backup_id).values(
                status=states.ERROR, fail_reason="The volume agent could not be reached.",
                updated_at=utcnow()))
        volume = session.get(Volume, volume_id)
        if volume is not None and volume.status == states.BACKING_UP:
            volume.status = states.AVAILABLE
            store.settle(session, volume)


def get(rt: Runtime, ctx: RequestContext, backup_id: str) -> Backup:
    """:raises NotFound: no such backup visible to ctx."""
    with rt.db.session() as session:
        return store.backup(session, ctx, backup_id)


def list_(rt: Runtime, ctx: RequestContext,
          query: listing.Query) -> tuple[list[Backup], bool, int]:
    """(page, more follow, total) of the backups ctx sees.

    :raises BadRequest: an unknown filter or sort key, a bad value, a missing marker.
    """
    filters = dict(query.filters)
    with rt.db.session() as session:
        stmt = sa.select(Backup).where(Backup.deleted.is_(False))
        stmt = listing.scope(stmt, Backup, ctx, listing.Query(
            filters=filters, all_projects=query.all_projects))
        stmt = listing.where(stmt, Backup, filters, FILTER_COLUMNS)
        if filters:
            raise errors.InvalidInput(f"Invalid filters {', '.join(sorted(filters))} are "
                                      "found in query options.")
        stmt = listing.order(stmt, query.sort or [("created_at", "desc")], SORT_COLUMNS,
                             Backup.id)
        rows = list(session.scalars(stmt))
    found, more = listing.page(rows, query, lambda r: r.id)
    return found, more, len(rows)


def update(rt: Runtime, ctx: RequestContext, backup_id: str, values: dict[str, Any]) -> Backup:
    """Change name, description and/or metadata (3.9, 3.43). :raises NotFound."""
    with rt.db.session() as session:
        row = store.backup(session, ctx, backup_id, lock=True)
        for key in ("name", "description"):
            if key in values:
                setattr(row, key, values[key])
        if values.get("metadata") is not None:
            row.backup_metadata = dict(values["metadata"])
        row.updated_at = utcnow()
    return get(rt, ctx, backup_id)


def delete(rt: Runtime, ctx: RequestContext, backup_id: str, force: bool = False) -> None:
    """Delete a backup; the agent removes its data and reports back.

    :raises NotFound: no such backup. :raises BadRequest: it is busy (not with force).
    """
    with rt.db.session() as session:
        row = store.backup(session, ctx, backup_id, lock=True)
        store.transition(session, row, states.BACKUP, "force_delete" if force else "delete")
        host = row.host
        if host is None:
            mark_deleted(row)
    rt.notify(ctx, "backup.delete.start", {"backup_id": backup_id})
    if host is None:
        return
    try:
        agent.api(rt).delete_backup(ctx, host, backup_id)
    except Exception:  # noqa: BLE001 - the backup must not stay "deleting"
        LOG.exception("could not ask %s to delete backup %s", host, backup_id)
        with rt.db.session() as session:
            session.execute(sa.update(Backup).where(Backup.id == backup_id).values(
                status=states.ERROR_DELETING, updated_at=utcnow()))


def mark_deleted(row: Backup) -> None:
    now = utcnow()
    row.deleted, row.deleted_at, row.updated_at, row.status = True, now, now, states.DELETED


def restore(rt: Runtime, ctx: RequestContext, backup_id: str, volume_id: str | None = None,
            name: str | None = None) -> dict[str, str]:
    """Restore a backup into volume_id, or into a new volume (made first, then filled).

    :raises NotFound: no such backup or volume.
    :raises BadRequest: the backup is not available, or the volume is not available or
        too small. :raises QuotaExceeded: no quota for the new volume.
    """
    with rt.db.session() as session:
        backup = store.backup(session, ctx, backup_id)
        states.check(states.BACKUP, "restore", backup.id, backup.status)
    if volume_id is None:
        volume = volumes.create(rt, ctx, {
            "size": backup.size, "backup_id": backup.id,
            "name": name or f"restore_backup_{backup.id}",
            "description": "auto-created_from_restore_from_backup"})
        return {"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name}
    with rt.db.session() as session:
        volume = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "restore_backup", volume.id, volume.status)
        if volume.size < backup.size:
            raise errors.InvalidVolume(f"volume size {volume.size} is too small to restore "
                                       f"backup of size {backup.size}.")
        backup = store.backup(session, ctx, backup_id, lock=True)
        store.transition(session, backup, states.BACKUP, "restore",
                         restore_volume_id=volume.id)
        store.transition(session, volume, states.VOLUME, "restore_backup")
    start_restore(rt, ctx, backup.id, volume.id, volume.backend_host)
    return {"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name or ""}


def start_restore(rt: Runtime, ctx: RequestContext, backup_id: str, volume_id: str,
                  backend: str | None) -> None:
    """Cast restore_backup; if the agent cannot be told, both end in an error status."""
    try:
        agent.api(rt).restore_backup(ctx, backend, backup_id, volume_id)
    except Exception:  # noqa: BLE001 - neither may stay busy
        LOG.exception("could not ask %s to restore backup %s", backend, backup_id)
        with rt.db.session() as session:
            session.execute(sa.update(Volume).where(Volume.id == volume_id).values(
                status=states.ERROR_RESTORING, updated_at=utcnow()))
            session.execute(sa.update(Backup).where(Backup.id == backup_id).values(
                status=states.AVAILABLE, restore_volume_id=None, updated_at=utcnow()))


def reset_status(rt: Runtime, ctx: RequestContext, backup_id: str, status: str) -> None:
    """Admin: set the status (available or error, as Cinder allows)."""
    if status not in (states.AVAILABLE, states.ERROR):
        raise errors.InvalidInput(f"Must specify a valid status (available or error, got "
                                  f"{status!r}).")
    with rt.db.session() as session:
        row = store.backup(session, ctx, backup_id, lock=True)
        row.status, row.updated_at = status, utcnow()
