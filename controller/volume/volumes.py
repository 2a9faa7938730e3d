"""Volumes: create (blank, or from an image, snapshot, volume or backup), list, show,
update, delete, metadata, and the summary.

A create validates everything (sources, size, type, zone, quota) before it writes a row,
so bad input never leaves a half-made volume. It then claims room on a backend pool
(:mod:`controller.volume.scheduler`) and casts ``create_volume`` to that pool's agent,
which reports back (status available or error) through :mod:`controller.volume.rpc`.
A volume no pool can take is kept in status ``error``, as Cinder does.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import (
    Backup,
    Snapshot,
    Volume,
    VolumeAttachment,
    VolumeImageMetadata,
    VolumeMetadata,
)
from controller.image import images
from controller.runtime import Runtime
from controller.volume import agent, errors, listing, quotas, scheduler, states, store, types

LOG = logging.getLogger(__name__)
GIB = 1024 ** 3
# Image attributes copied into a volume's image metadata (Cinder's glance metadata).
IMAGE_FIELDS = ("name", "checksum", "container_format", "disk_format", "min_disk", "min_ram",
                "size")

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


@dataclasses.dataclass
class Source:
    """What a new volume is made from."""

    kind: str = "blank"  # blank | image | snapshot | volume | backup
    id: str | None = None
    size: int | None = None
    pool: str | None = None  # snapshots and clones stay on their source's pool
    zone: str | None = None
    type_id: str | None = None
    image: dict[str, Any] | None = None
    image_metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    min_disk: int = 0

    def payload(self) -> dict[str, Any]:
        kind = "blank" if self.kind == "backup" else self.kind
        return {"type": kind, "id": None if kind == "blank" else self.id,
                "image": self.image}


def _source(session: orm.Session, rt: Runtime, ctx: RequestContext,
            values: dict[str, Any]) -> Source:
    given = [k for k in ("snapshot_id", "source_volid", "image_id", "backup_id")
             if values.get(k)]
    if len(given) > 1:
        raise errors.InvalidInput(f"A volume is made from one source at most, not from "
                                  f"{' and '.join(given)}.")
    if values.get("snapshot_id"):
        snap = store.snapshot(session, ctx, values["snapshot_id"])
        states.check(states.SNAPSHOT, "source", snap.id, snap.status)
        return Source("snapshot", snap.id, snap.size, snap.volume.host,
                      snap.volume.availability_zone,
                      snap.volume_type_id or snap.volume.volume_type_id,
                      image_metadata=snap.volume.image_metadata)
    if values.get("source_volid"):
        vol = store.volume(session, ctx, values["source_volid"])
        states.check(states.VOLUME, "clone", vol.id, vol.status)
        return Source("volume", vol.id, vol.size, vol.host, vol.availability_zone,
                      vol.volume_type_id, image_metadata=vol.image_metadata)
    if values.get("backup_id"):
        backup = store.backup(session, ctx, values["backup_id"])
        states.check(states.BACKUP, "source", backup.id, backup.status)
        return Source("backup", backup.id, backup.size)
    if values.get("image_id"):
        return _image_source(rt, ctx, values["image_id"])
    return Source()


def _image_source(rt: Runtime, ctx: RequestContext, image_id: str) -> Source:
    try:
        image = images.get(rt, ctx, str(image_id))
    except exceptions.NotFound as exc:
        raise exceptions.BadRequest("Invalid image identifier or unable to access requested "
                                    "image.") from exc
    if image.status != "active" or not image.size:
        raise errors.InvalidInput(f"Image {image.id} is not active.")
    meta = {field: str(getattr(image, field)) for field in IMAGE_FIELDS
            if getattr(image, field) is not None}
    meta.update({prop.name: prop.value for prop in image.properties})
    meta["image_id"] = image.id
    meta["image_name"] = meta.pop("name", "")
    return Source("image", image.id, math.ceil(image.size / GIB),
                  image={"id": image.id, "disk_format": image.disk_format,
                         "os_hash_algo": image.os_hash_algo,
                         "os_hash_value": image.os_hash_value, "size": image.size},
                  image_metadata=meta, min_disk=image.min_disk or 0)


def _size(rt: Runtime, size: Any, source: Source) -> int:
    if size is None and source.kind in ("snapshot", "volume", "backup"):
        size = source.size
    if isinstance(size, str) and size.strip().isdigit():
        size = int(size)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise errors.InvalidInput(f"Volume size '{size}' must be an integer and greater "
                                  "than 0")
    limit = rt.conf.volume.max_volume_size_gb
    if size > limit:
        raise errors.InvalidInput(f"Volume size {size}GB is larger than the largest volume "
                                  f"this cloud creates ({limit}GB).")
    small = source.size is not None and size < source.size
    if source.kind == "snapshot" and small:
        raise errors.InvalidInput(f"Volume size '{size}'GB cannot be smaller than the "
                                  f"snapshot size {source.size}GB. They must be >= original "
                                  "snapshot size.")
    if source.kind == "volume" and small:
        raise errors.InvalidInput(f"Volume size '{size}'GB cannot be smaller than original "
                                  f"volume size {source.size}GB. They must be >= original "
                                  "volume size.")
    if source.kind == "backup" and small:
        raise errors.InvalidInput(f"Volume size {size}GB cannot be smaller than the backup "
                                  f"size {source.size}GB. It must be >= backup size.")
    if source.kind == "image" and small:
        raise errors.InvalidInput(f"Size of specified image {source.size}GB is larger than "
                                  f"volume size {size}GB.")
    if source.kind == "image" and size < source.min_disk:
        raise errors.InvalidInput(f"Volume size {size}GB cannot be smaller than the image "
                                  f"minDisk size {source.min_disk}GB.")
    return size


def _zone(rt: Runtime, given: str | None, source: Source) -> str:
    zone = given or source.zone or rt.conf.volume.storage_availability_zone
    if zone != rt.conf.volume.storage_availability_zone:
        raise exceptions.BadRequest(f"Availability zone '{zone}' is invalid.")
    if source.zone and zone != source.zone:
        raise exceptions.BadRequest(f"Availability zone '{zone}' is invalid: the source is "
                                    f"in '{source.zone}'.")
    return zone


def _multiattach(values: dict[str, Any], specs: dict[str, str]) -> bool:
    return bool(values.get("multiattach")) or \
        specs.get("multiattach", "").strip().lower() == "<is> true"


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Volume:
    """Create a volume from values (size, name, description, volume_type,
    availability_zone, metadata, snapshot_id | source_volid | image_id | backup_id,
    multiattach).

    :raises NotFound: the type, snapshot, source volume or backup is not visible.
    :raises BadRequest: bad size, zone or image, or a source in the wrong status.
    :raises QuotaExceeded: (413) the project is out of volumes or gigabytes.
    """
    with rt.db.session() as session:
        source = _source(session, rt, ctx, values)
        size = _size(rt, values.get("size"), source)
        vtype = types.resolve(session, rt, ctx, values.get("volume_type") or source.type_id)
        type_id, type_name, specs = vtype.id, vtype.name, vtype.specs
    zone = _zone(rt, values.get("availability_zone"), source)
    requested = quotas.for_volume(type_name, size)
    quotas.check(rt, ctx.project_id, requested, size)
    now = utcnow()
    row = Volume(id=store.new_id(), project_id=ctx.project_id, user_id=ctx.user_id,
                 name=values.get("name"), description=values.get("description"), size=size,
                 status=states.CREATING, attach_status=states.DETACHED,
                 availability_zone=zone, volume_type_id=type_id,
                 bootable=source.kind == "image" or bool(source.image_metadata),
                 multiattach=_multiattach(values, specs),
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


def _place(rt: Runtime, ctx: RequestContext, row: Volume, source: Source,
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
        filters.pop("project_id", None)
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
            _replace_metadata(session, row, values["metadata"])
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


# ------------------------------------------------------------------ metadata
def _check_metadata(items: dict[str, Any]) -> dict[str, str]:
    for key, value in items.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise errors.InvalidInput("Metadata keys must be strings of 1 to 255 characters.")
        if not isinstance(value, str) or len(value) > 255:
            raise errors.InvalidInput(f"Metadata value for {key!r} must be a string of at "
                                      "most 255 characters.")
    return items


def _replace_metadata(session: orm.Session, row: Volume, items: dict[str, Any]) -> None:
    store.sync_items(row.metadata_items, _check_metadata(items), VolumeMetadata)


def metadata(rt: Runtime, ctx: RequestContext, volume_id: str) -> dict[str, str]:
    """:raises NotFound: no such volume."""
    return get(rt, ctx, volume_id).metadata_dict


def set_metadata(rt: Runtime, ctx: RequestContext, volume_id: str, items: dict[str, Any],
                 replace: bool = False) -> dict[str, str]:
    """Merge items into the volume's metadata (or replace it); return the result.

    :raises NotFound: no such volume. :raises BadRequest: bad keys or values.
    """
    items = _check_metadata(dict(items))
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "update", row.id, row.status)
        merged = {} if replace else row.metadata_dict
        merged.update(items)
        _replace_metadata(session, row, merged)
        row.updated_at = utcnow()
    return merged


def delete_metadata_item(rt: Runtime, ctx: RequestContext, volume_id: str, key: str) -> None:
    """:raises NotFound: no such volume, or it has no metadata key."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "update", row.id, row.status)
        result = session.execute(sa.delete(VolumeMetadata).where(
            VolumeMetadata.volume_id == row.id, VolumeMetadata.key == key))
        if result.rowcount == 0:
            raise exceptions.NotFound(f"Volume {volume_id} has no metadata with key {key}.")
        row.updated_at = utcnow()
