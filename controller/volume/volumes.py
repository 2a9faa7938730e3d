"""Volumes: create (blank, or from an image, snapshot, volume or backup), list, show,
update, delete, and the summary (metadata: :mod:`controller.volume.metadata`).

A create validates everything (sources, size, type, zone, quota) before it writes a row,
so bad input never leaves a half-made volume. It then claims room on a backend pool
(:mod:`controller.volume.scheduler`) and casts ``create_volume`` to that pool's agent,
which reports back (status available or error) through :mod:`controller.volume.rpc`.
A volume no pool can take is kept in status ``error``, as Cinder does.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.base import utcnow
from controller.db.models.volume import (
    Backup,
    Snapshot,
    Volume,
    VolumeAttachment,
    VolumeImageMetadata,
    VolumeMetadata,
)
from controller.runtime import Runtime
from controller.volume import (
    agent,
    errors,
    listing,
    metadata,
    quotas,
    scheduler,
    sources,
    states,
    store,
    types,
)

LOG = logging.getLogger(__name__)

FILTER_COLUMNS = {"name": Volume.name, "status": Volume.status, "bootable": Volume.bootable,
                  "availability_zone": Volume.availability_zone, "size": Volume.size,
                  "user_id": Volume.user_id, "migration_status": Volume.migration_status,
                  "created_at": Volume.created_at, "updated_at": Volume.updated_at,
                  "id": Volume.id}
SORT_COLUMNS = {"id": Volume.id, "name": Volume.name, "status": Volume.status,
                "size": Volume.size, "availability_zone": Volume.availability_zone,
                "created_at": Volume.created_at, "updated_at": Volume.updated_at,
                "bootable": Volume.bootable, "project_id": Volume.project_id,
                "user_id": Volume.user_id, "volume_type": Volume.volume_type_id}


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Volume:
    """Create a volume from values (size, name, description, volume_type,
    availability_zone, metadata, snapshot_id | source_volid | image_id | backup_id,
    multiattach).

    :raises NotFound: the type, snapshot, source volume or backup is not visible.
    :raises BadRequest: bad size, zone or image, or a source in the wrong status.
    :raises QuotaExceeded: (413) the project is out of volumes or gigabytes.
    """
    with rt.db.session() as session:
        source = sources.resolve(session, rt, ctx, values)
        size = sources.size(rt, values.get("size"), source)
        vtype = types.resolve(session, rt, ctx, values.get("volume_type") or source.type_id)
        type_id, type_name, specs = vtype.id, vtype.name, vtype.specs
    zone = sources.zone(rt, values.get("availability_zone"), source)
    requested = quotas.for_volume(type_name, size)
    quotas.check(rt, ctx.project_id, requested, size)
    now = utcnow()
    row = Volume(id=store.new_id(), project_id=ctx.project_id, user_id=ctx.user_id,
                 name=values.get("name"), description=values.get("description"), size=size,
                 status=states.CREATING, attach_status=states.DETACHED,
                 availability_zone=zone, volume_type_id=type_id,
                 bootable=source.kind == "image" or bool(source.image_metadata),
                 multiattach=sources.multiattach(values, specs),
                 snapshot_id=source.id if source.kind == "snapshot" else None,
                 source_volid=source.id if source.kind == "volume" else None,
                 image_id=source.id if source.kind == "image" else None,
                 backup_id=source.id if source.kind == "backup" else None,
                 created_at=now, updated_at=now)
    row.metadata_items = [VolumeMetadata(key=k, value=v)
                          for k, v in (values.get("metadata") or {}).items()]
    row.image_metadata_items = [VolumeImageMetadata(key=k, value=v)
                                for k, v in source.image_metadata.items()]
    with rt.db.session() as session:
        session.add(row)
    try:
        quotas.recheck(rt, ctx.project_id, requested)
    except errors.QuotaExceeded:
        with rt.db.session() as session:
            session.execute(sa.delete(Volume).where(Volume.id == row.id))
        raise
    rt.notify(ctx, "volume.create.start", payload(row))
    _place(rt, ctx, row, source, scheduler.Request(size, zone, specs, source.pool))
    return get(rt, ctx, row.id)


def _place(rt: Runtime, ctx: RequestContext, row: Volume, source: sources.Source,
           request: scheduler.Request) -> None:
    try:
        pool = scheduler.claim(rt, row.id, request)
    except errors.NoValidBackend as exc:
        LOG.warning("volume %s: %s", row.id, exc.message)
        fail_create(rt, row.id)
        return
    row.host = pool.name
    if source.kind == "backup":
        with rt.db.session() as session:
            taken = session.execute(sa.update(Backup).where(
                Backup.id == source.id, Backup.status == states.AVAILABLE).values(
                status=states.RESTORING, restore_volume_id=row.id, updated_at=utcnow()))
        if taken.rowcount != 1:
            LOG.warning("volume %s: backup %s is no longer available", row.id, source.id)
            fail_create(rt, row.id)
            return
    try:
        agent.api(rt).create_volume(ctx, pool.backend, agent.volume_payload(row,
                                                                             source.payload()))
    except Exception:  # noqa: BLE001 - any failure to hand over must not leave "creating"
        LOG.exception("could not ask %s to create volume %s", pool.backend, row.id)
        fail_create(rt, row.id)


def fail_create(rt: Runtime, volume_id: str) -> None:
    """A create went wrong before the agent took it: the volume is error; a backup that
    was to be restored into it is available again."""
    with rt.db.session() as session:
        session.execute(sa.update(Volume).where(
            Volume.id == volume_id, Volume.status == states.CREATING).values(
            status=states.ERROR, updated_at=utcnow()))
        session.execute(sa.update(Backup).where(
            Backup.restore_volume_id == volume_id, Backup.status == states.RESTORING).values(
            status=states.AVAILABLE, restore_volume_id=None, updated_at=utcnow()))


def payload(volume: Volume) -> dict[str, Any]:
    """The notification body for volume."""
    return {"volume_id": volume.id, "tenant_id": volume.project_id, "user_id": volume.user_id,
            "display_name": volume.name, "size": volume.size, "status": volume.status,
            "availability_zone": volume.availability_zone, "host": volume.host,
            "volume_type": volume.volume_type_id}


def get(rt: Runtime, ctx: RequestContext, volume_id: str) -> Volume:
    """:raises NotFound: no such volume visible to ctx."""
    with rt.db.session() as session:
        return store.volume(session, ctx, volume_id)


def list_(rt: Runtime, ctx: RequestContext,
          query: listing.Query) -> tuple[list[Volume], bool, int]:
    """(the page of volumes, whether more follow, how many match in all).

    :raises BadRequest: an unknown filter or sort key, a bad value, or a missing marker.
    """
    filters = dict(query.filters)
    metadata = filters.pop("metadata", None)
    image_metadata = filters.pop("glance_metadata", None)
    type_ref = filters.pop("volume_type", None)
    in_group = filters.pop("group_id", None)
    with rt.db.session() as session:
        stmt = sa.select(Volume).where(Volume.deleted.is_(False))
        stmt = listing.scope(stmt, Volume, ctx, dataclasses.replace(query, filters=filters))
        if type_ref is not None:
            found = types.find(session, ctx, str(type_ref))
            stmt = stmt.where(Volume.volume_type_id == (found.id if found else None))
        stmt = listing.where(stmt, Volume, filters, FILTER_COLUMNS)
        if filters:
            raise errors.InvalidInput(f"Invalid filters {', '.join(sorted(filters))} are "
                                      "found in query options.")
        stmt = listing.order(stmt, query.sort or [("created_at", "desc")], SORT_COLUMNS,
                             Volume.id)
        rows = list(session.scalars(stmt))
    if in_group:
        rows = []  # volume groups are not offered: no volume belongs to one
    if metadata is not None:
        rows = [r for r in rows if listing.metadata_matches(r.metadata_dict, metadata)]
    if image_metadata is not None:
        rows = [r for r in rows if listing.metadata_matches(r.image_metadata, image_metadata)]
    found_rows, more = listing.page(rows, query, lambda r: r.id)
    return found_rows, more, len(rows)


def summary(rt: Runtime, ctx: RequestContext, all_projects: bool = False) -> dict[str, Any]:
    """Count, total size and metadata of the volumes ctx sees (``volume summary``)."""
    rows, _, _ = list_(rt, ctx, listing.Query(all_projects=all_projects))
    metadata: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.metadata_dict.items():
            metadata.setdefault(key, set()).add(value)
    return {"total_size": sum(r.size for r in rows), "total_count": len(rows),
            "metadata": {k: sorted(v) for k, v in sorted(metadata.items())}}


def update(rt: Runtime, ctx: RequestContext, volume_id: str, values: dict[str, Any]) -> Volume:
    """Change name, description and/or (replacing it) metadata.

    :raises NotFound: no such volume. :raises BadRequest: the volume is in maintenance.
    """
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "update", row.id, row.status)
        for key in ("name", "description"):
            if key in values:
                setattr(row, key, values[key])
        if values.get("metadata") is not None:
            metadata.replace_all(session, row, values["metadata"])
        row.updated_at = utcnow()
    rt.notify(ctx, "volume.update", payload(row))
    return get(rt, ctx, volume_id)


def delete(rt: Runtime, ctx: RequestContext, volume_id: str, cascade: bool = False,
           force: bool = False) -> None:
    """Delete a volume (and with cascade its snapshots); the agent removes the data.

    :raises NotFound: no such volume. :raises BadRequest: (Cinder's InvalidVolume) it is
        attached, has snapshots (without cascade), or is busy.
    """
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        step = states.VOLUME["force_delete" if force else "delete"]
        attached = any(a.attach_status == states.ATTACHED for a in row.attachments)
        snaps = list(session.scalars(sa.select(Snapshot).where(
            Snapshot.volume_id == row.id, Snapshot.deleted.is_(False))))
        if attached or row.attach_status == states.ATTACHED or (snaps and not cascade):
            raise states.refused(step, row.id, row.status)
        busy = [s.id for s in snaps if s.status not in (states.AVAILABLE, states.ERROR,
                                                        states.DELETING)]
        if busy:
            raise errors.InvalidVolume(f"Unable to delete volume {row.id}: snapshot(s) "
                                       f"{', '.join(busy)} are neither available nor error.")
        store.transition(session, row, states.VOLUME, "force_delete" if force else "delete")
        for snap in snaps:
            snap.status, snap.updated_at = states.DELETING, utcnow()
        backend = row.backend_host
        if backend is None:
            mark_deleted(session, row)  # never placed: there is no data to remove
    rt.notify(ctx, "volume.delete.start", payload(row))
    if backend is None:
        return
    client = agent.api(rt)
    try:
        for snap in snaps:
            client.delete_snapshot(ctx, backend, snap.id)
        client.delete_volume(ctx, backend, row.id)
    except Exception:  # noqa: BLE001 - a volume the agent never heard of must not hang
        LOG.exception("could not ask %s to delete volume %s", backend, row.id)
        with rt.db.session() as session:
            session.execute(sa.update(Volume).where(Volume.id == row.id).values(
                status=states.ERROR_DELETING, updated_at=utcnow()))


def mark_deleted(session: orm.Session, row: Volume) -> None:
    """The volume is gone: keep the row (marked deleted) for the agents' reconciliation;
    its claim on the pool ends with it."""
    now = utcnow()
    row.deleted, row.deleted_at, row.updated_at = True, now, now
    row.status, row.attach_status = states.DELETED, states.DETACHED
    session.execute(sa.delete(VolumeAttachment).where(VolumeAttachment.volume_id == row.id))
