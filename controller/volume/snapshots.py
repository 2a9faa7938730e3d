"""Snapshots: point-in-time copies a volume agent keeps beside the volume (same backend),
from which new volumes can be made."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import Snapshot, SnapshotMetadata
from controller.runtime import Runtime
from controller.volume import agent, errors, listing, quotas, states, store
from controller.volume import metadata as volume_metadata

LOG = logging.getLogger(__name__)

FILTER_COLUMNS = {"name": Snapshot.name, "status": Snapshot.status,
                  "volume_id": Snapshot.volume_id, "user_id": Snapshot.user_id,
                  "created_at": Snapshot.created_at, "updated_at": Snapshot.updated_at,
                  "id": Snapshot.id}
SORT_COLUMNS = {"id": Snapshot.id, "name": Snapshot.name, "status": Snapshot.status,
                "size": Snapshot.size, "volume_id": Snapshot.volume_id,
                "created_at": Snapshot.created_at, "updated_at": Snapshot.updated_at,
                "project_id": Snapshot.project_id}


def payload(snapshot: Snapshot) -> dict[str, Any]:
    return {"snapshot_id": snapshot.id, "volume_id": snapshot.volume_id,
            "tenant_id": snapshot.project_id, "display_name": snapshot.name,
            "volume_size": snapshot.size, "status": snapshot.status}


def create(rt: Runtime, ctx: RequestContext, volume_id: str, values: dict[str, Any]) -> Snapshot:
    """Snapshot volume_id (an in-use volume only with force); the agent reports back.

    :raises NotFound: no such volume visible to ctx.
    :raises BadRequest: the volume's status does not allow a snapshot.
    :raises QuotaExceeded: (413) the project is out of snapshots or gigabytes.
    """
    with rt.db.session() as session:
        volume = store.volume(session, ctx, volume_id)
        states.check(states.VOLUME, "snapshot_force" if values.get("force") else "snapshot",
                     volume.id, volume.status)
        type_name = volume.volume_type.name
    requested = quotas.for_snapshot(type_name, volume.size)
    quotas.check(rt, volume.project_id, requested)
    metadata = volume_metadata.check(values.get("metadata") or {})
    now = utcnow()
    row = Snapshot(id=store.new_id(), project_id=volume.project_id, user_id=ctx.user_id,
                   volume_id=volume.id, volume_type_id=volume.volume_type_id,
                   name=values.get("name"), description=values.get("description"),
                   status=states.CREATING, progress="0%", size=volume.size,
                   created_at=now, updated_at=now)
    row.metadata_items = [SnapshotMetadata(key=k, value=v) for k, v in metadata.items()]
    with rt.db.session() as session:
        # Re-check under the lock: the volume may have changed since it was read.
        locked = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "snapshot_force" if values.get("force") else "snapshot",
                     locked.id, locked.status)
        session.add(row)
    try:
        quotas.recheck(rt, volume.project_id, requested)
    except errors.QuotaExceeded:
        with rt.db.session() as session:
            session.execute(sa.delete(Snapshot).where(Snapshot.id == row.id))
        raise
    rt.notify(ctx, "snapshot.create.start", payload(row))
    try:
        agent.api(rt).create_snapshot(ctx, volume.backend_host, row.id, volume.id)
    except Exception:  # noqa: BLE001 - the snapshot must not stay "creating"
        LOG.exception("could not ask %s to snapshot volume %s", volume.backend_host, volume.id)
        with rt.db.session() as session:
            session.execute(sa.update(Snapshot).where(Snapshot.id == row.id).values(
                status=states.ERROR, updated_at=utcnow()))
    return get(rt, ctx, row.id)


def get(rt: Runtime, ctx: RequestContext, snapshot_id: str) -> Snapshot:
    """:raises NotFound: no such snapshot visible to ctx."""
    with rt.db.session() as session:
        return store.snapshot(session, ctx, snapshot_id)


def list_(rt: Runtime, ctx: RequestContext,
          query: listing.Query) -> tuple[list[Snapshot], bool, int]:
    """(page, more follow, total) of the snapshots ctx sees.

    :raises BadRequest: an unknown filter or sort key, a bad value, a missing marker.
    """
    filters = dict(query.filters)
    metadata = filters.pop("metadata", None)
    with rt.db.session() as session:
        stmt = sa.select(Snapshot).where(Snapshot.deleted.is_(False))
        stmt = listing.scope(stmt, Snapshot, ctx, dataclasses.replace(query, filters=filters))
        stmt = listing.where(stmt, Snapshot, filters, FILTER_COLUMNS)
        if filters:
            raise errors.InvalidInput(f"Invalid filters {', '.join(sorted(filters))} are "
                                      "found in query options.")
        stmt = listing.order(stmt, query.sort or [("created_at", "desc")], SORT_COLUMNS,
                             Snapshot.id)
        rows = list(session.scalars(stmt))
    if metadata is not None:
        rows = [r for r in rows if listing.metadata_matches(r.metadata_dict, metadata)]
    found, more = listing.page(rows, query, lambda r: r.id)
    return found, more, len(rows)


def update(rt: Runtime, ctx: RequestContext, snapshot_id: str,
           values: dict[str, Any]) -> Snapshot:
    """Change name and/or description. :raises NotFound: no such snapshot."""
    with rt.db.session() as session:
        row = store.snapshot(session, ctx, snapshot_id, lock=True)
        for key in ("name", "description"):
            if key in values:
                setattr(row, key, values[key])
        row.updated_at = utcnow()
    return get(rt, ctx, snapshot_id)


def delete(rt: Runtime, ctx: RequestContext, snapshot_id: str, force: bool = False) -> None:
    """Delete a snapshot; the agent removes its data and reports back.

    :raises NotFound: no such snapshot. :raises BadRequest: it is busy (not with force).
    """
    with rt.db.session() as session:
        row = store.snapshot(session, ctx, snapshot_id, lock=True)
        store.transition(session, row, states.SNAPSHOT, "force_delete" if force else "delete")
        backend = row.volume.backend_host
        if backend is None:
            mark_deleted(row)
    rt.notify(ctx, "snapshot.delete.start", payload(row))
    if backend is None:
        return
    try:
        agent.api(rt).delete_snapshot(ctx, backend, row.id)
    except Exception:  # noqa: BLE001 - the snapshot must not stay "deleting"
        LOG.exception("could not ask %s to delete snapshot %s", backend, row.id)
        with rt.db.session() as session:
            session.execute(sa.update(Snapshot).where(Snapshot.id == row.id).values(
                status=states.ERROR_DELETING, updated_at=utcnow()))


def mark_deleted(row: Snapshot) -> None:
    now = utcnow()
    row.deleted, row.deleted_at, row.updated_at, row.status = True, now, now, states.DELETED


def reset_status(rt: Runtime, ctx: RequestContext, snapshot_id: str, status: str) -> None:
    """Admin: set the status, unchecked. :raises BadRequest: an unknown status."""
    if status not in states.SNAPSHOT_STATUSES:
        raise errors.InvalidInput(f"Must specify a valid status (got {status!r}).")
    with rt.db.session() as session:
        row = store.snapshot(session, ctx, snapshot_id, lock=True)
        row.status, row.updated_at = status, utcnow()


# ------------------------------------------------------------------ metadata
def metadata(rt: Runtime, ctx: RequestContext, snapshot_id: str) -> dict[str, str]:
    return get(rt, ctx, snapshot_id).metadata_dict


def set_metadata(rt: Runtime, ctx: RequestContext, snapshot_id: str, items: dict[str, Any],
                 replace: bool = False) -> dict[str, str]:
    """Merge items into the snapshot's metadata (or replace it); return the result."""
    items = volume_metadata.check(dict(items))
    with rt.db.session() as session:
        row = store.snapshot(session, ctx, snapshot_id, lock=True)
        merged = {} if replace else row.metadata_dict
        merged.update(items)
        store.sync_items(row.metadata_items, merged, SnapshotMetadata)
        row.updated_at = utcnow()
    return merged


def delete_metadata_item(rt: Runtime, ctx: RequestContext, snapshot_id: str, key: str) -> None:
    """:raises NotFound: no such snapshot, or it has no metadata key."""
    with rt.db.session() as session:
        row = store.snapshot(session, ctx, snapshot_id, lock=True)
        result = session.execute(sa.delete(SnapshotMetadata).where(
            SnapshotMetadata.snapshot_id == row.id, SnapshotMetadata.key == key))
        if result.rowcount == 0:
            raise exceptions.NotFound(f"Metadata item was not found: snapshot {snapshot_id} "
                                      f"has no key {key}.")
        row.updated_at = utcnow()
