"""POST /volumes/{id}/action: extend, flags, admin resets, retype, image metadata, upload
to the image service, and the legacy attach/detach steps (``os-reserve`` ...
``os-detach``) older consumers drive one by one."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import (
    Volume,
    VolumeAdminMetadata,
    VolumeAttachment,
    VolumeImageMetadata,
    VolumePool,
)
from controller.image import images
from controller.runtime import Runtime
from controller.volume import agent, attachments, errors, quotas, scheduler, states, store, types

LOG = logging.getLogger(__name__)
PENDING_IMAGE = "uploading_image_id"  # admin metadata: the image an upload fills


def extend(rt: Runtime, ctx: RequestContext, volume_id: str, new_size: int,
           attached_ok: bool = False) -> None:
    """Grow a volume to new_size GiB (attached ones too when attached_ok, from 3.42).

    :raises BadRequest: not larger, too large, wrong status, or no room on its pool.
    :raises QuotaExceeded: the project is out of gigabytes.
    """
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        states.check(states.VOLUME, "extend_attached" if attached_ok else "extend", row.id,
                     row.status)
        if new_size <= row.size:
            raise errors.InvalidInput(f"New size for extend must be greater than current "
                                      f"size. (current: {row.size}, extended: {new_size}).")
        if new_size > rt.conf.volume.max_volume_size_gb:
            raise errors.InvalidInput(f"Volume size {new_size}GB is larger than the largest "
                                      f"volume this cloud creates "
                                      f"({rt.conf.volume.max_volume_size_gb}GB).")
        old_size, pool_id, type_name = row.size, row.pool_id, row.volume_type.name
    delta = new_size - old_size
    quotas.check(rt, row.project_id, {"gigabytes": delta, f"gigabytes_{type_name}": delta},
                 new_size)
    scheduler.claim_extend(rt, row.id, pool_id, old_size, new_size)
    try:
        with rt.db.session() as session:
            row = store.volume(session, ctx, volume_id, lock=True)
            store.transition(session, row, states.VOLUME,
                             "extend_attached" if attached_ok else "extend")
    except exceptions.StratusError:
        scheduler.release_extend(rt, volume_id)
        raise
    try:
        agent.api(rt).extend_volume(ctx, row.backend_host, row.id, new_size)
    except Exception:  # noqa: BLE001 - the volume must not stay "extending"
        LOG.exception("could not ask %s to extend volume %s", row.backend_host, row.id)
        scheduler.release_extend(rt, volume_id)
        _set_status(rt, volume_id, states.ERROR_EXTENDING)
    rt.notify(ctx, "volume.resize.start", {"volume_id": volume_id, "size": new_size})


def _set_status(rt: Runtime, volume_id: str, status: str) -> None:
    with rt.db.session() as session:
        session.execute(sa.update(Volume).where(Volume.id == volume_id).values(
            status=status, updated_at=utcnow()))


def _admin_flag(rt: Runtime, ctx: RequestContext, volume_id: str, key: str,
                value: str | None) -> None:
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "set_flags", row.id, row.status)
        store.set_admin_metadata(session, row.id, key, value)
        row.updated_at = utcnow()


def set_bootable(rt: Runtime, ctx: RequestContext, volume_id: str, bootable: bool) -> None:
    """:raises NotFound: no such volume. :raises BadRequest: it is busy."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        states.check(states.VOLUME, "set_flags", row.id, row.status)
        row.bootable, row.updated_at = bootable, utcnow()


def set_readonly(rt: Runtime, ctx: RequestContext, volume_id: str, readonly: bool) -> None:
    """Set the read-only flag new attachments follow. :raises NotFound, BadRequest."""
    _admin_flag(rt, ctx, volume_id, "readonly", str(readonly))


def reset_status(rt: Runtime, ctx: RequestContext, volume_id: str,
                 values: dict[str, Any]) -> None:
    """Admin: set status, attach_status and/or migration_status, unchecked.

    :raises NotFound: no such volume. :raises BadRequest: an unknown status.
    """
    status, attach_status = values.get("status"), values.get("attach_status")
    if status is not None and status not in states.VOLUME_STATUSES:
        raise errors.InvalidInput(f"Must specify a valid status (got {status!r}).")
    if attach_status is not None and attach_status not in (states.ATTACHED, states.DETACHED):
        raise errors.InvalidInput(f"Must specify a valid attach status (got "
                                  f"{attach_status!r}).")
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        if status is not None:
            row.status = status
        if attach_status is not None:
            row.attach_status = attach_status
            if attach_status == states.DETACHED:
                session.execute(sa.delete(VolumeAttachment).where(
                    VolumeAttachment.volume_id == row.id))
        if "migration_status" in values:
            row.migration_status = values["migration_status"]
        row.updated_at = utcnow()
    LOG.info("volume %s status reset to %s by %s", volume_id, values, ctx.user_id)


def retype(rt: Runtime, ctx: RequestContext, volume_id: str, new_type: str) -> None:
    """Change a volume's type when its pool also satisfies the new type (no migration).

    :raises NotFound: no such volume or type.
    :raises BadRequest: wrong status, or the new type needs another backend.
    :raises QuotaExceeded: the project is out of the new type's quota.
    """
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        states.check(states.VOLUME, "retype", row.id, row.status)
        vtype = types.resolve(session, rt, ctx, new_type)
        pool = session.get(VolumePool, row.pool_id) if row.pool_id else None
        specs, name, size = vtype.specs, vtype.name, row.size
        if vtype.id == row.volume_type_id:
            return
        if pool is not None:
            state = scheduler.state_of(rt, pool, 0)
            if not scheduler.CapabilitiesFilter().passes(
                    state, scheduler.Request(size, row.availability_zone, specs)):
                raise errors.InvalidVolume(f"Volume {row.id} would have to move to another "
                                           f"backend to become a {name} volume; migration is "
                                           "not supported.")
    quotas.check(rt, row.project_id, {f"volumes_{name}": 1, f"gigabytes_{name}": size})
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        store.transition(session, row, states.VOLUME, "retype", volume_type_id=vtype.id)


# ------------------------------------------------------------- image metadata
def image_metadata(rt: Runtime, ctx: RequestContext, volume_id: str) -> dict[str, str]:
    with rt.db.session() as session:
        return store.volume(session, ctx, volume_id).image_metadata


def set_image_metadata(rt: Runtime, ctx: RequestContext, volume_id: str,
                       items: dict[str, Any]) -> dict[str, str]:
    """Merge items into the volume's image metadata; return all of it."""
    for key, value in items.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255 or not isinstance(value, str):
            raise errors.InvalidInput("Image metadata keys must be strings of 1 to 255 "
                                      "characters and values strings.")
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        store.sync_items(row.image_metadata_items, {**row.image_metadata, **items},
                         VolumeImageMetadata)
        row.updated_at = utcnow()
    return image_metadata(rt, ctx, volume_id)


def unset_image_metadata(rt: Runtime, ctx: RequestContext, volume_id: str, key: str) -> None:
    """:raises NotFound: no such volume, or no such image metadata key."""
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id, lock=True)
        result = session.execute(sa.delete(VolumeImageMetadata).where(
            VolumeImageMetadata.volume_id == row.id, VolumeImageMetadata.key == key))
        if result.rowcount == 0:
            raise exceptions.NotFound(f"Glance metadata for volume/snapshot {volume_id} "
                                      "cannot be found.")


# ------------------------------------------------------------- upload to image
def upload_image(rt: Runtime, ctx: RequestContext, volume_id: str,
                 values: dict[str, Any]) -> tuple[Volume, dict[str, Any]]:
    """Register a queued image and cast copy_volume_to_image; return the volume and the
    image's fields (for Cinder's response).

    :raises NotFound: no such volume. :raises BadRequest: wrong status (in-use needs
        force) or disk format. :raises Forbidden: public images need an administrator.
    """
    disk_format = values.get("disk_format") or "raw"
    if disk_format not in rt.conf.volume.allowed_image_disk_formats:
        raise errors.InvalidInput(f"Invalid disk-format '{disk_format}' is specified. Allowed "
                                  f"disk-formats are "
                                  f"{', '.join(rt.conf.volume.allowed_image_disk_formats)}.")
    action = "upload_image_force" if values.get("force") else "upload_image"
    with rt.db.session() as session:
        row = store.volume(session, ctx, volume_id)
        states.check(states.VOLUME, action, row.id, row.status)
        properties = {k: v for k, v in row.image_metadata.items()
                      if k not in volumes_image_fields()}
    fields = {"name": values["image_name"], "disk_format": disk_format,
              "container_format": values.get("container_format") or "bare",
              "visibility": values.get("visibility") or "private",
              "protected": bool(values.get("protected", False)),
              "min_disk": row.size}
    image = images.create(rt, ctx, fields, properties, [])
    try:
        with rt.db.session() as session:
            row = store.volume(session, ctx, volume_id, lock=True)
            store.transition(session, row, states.VOLUME, action)
            store.set_admin_metadata(session, row.id, PENDING_IMAGE, image.id)
    except exceptions.StratusError:
        images.delete(rt, RequestContext.admin(), image.id)
        raise
    try:
        agent.api(rt).copy_volume_to_image(ctx, row.backend_host, row.id, {
            "id": image.id, "disk_format": disk_format, "name": image.name,
            "container_format": fields["container_format"]})
    except Exception:  # noqa: BLE001 - the volume must not stay "uploading"
        LOG.exception("could not ask %s to upload volume %s", row.backend_host, row.id)
        finish_upload(rt, row.id, image.id, "the volume agent could not be reached")
    return row, {**fields, "image_id": image.id, "updated_at": row.updated_at}


def volumes_image_fields() -> tuple[str, ...]:
    """Image metadata that describes the source image rather than being a property."""
    return ("image_id", "image_name", "checksum", "container_format", "disk_format",
            "min_disk", "min_ram", "size")


def finish_upload(rt: Runtime, volume_id: str, image_id: str, error: str | None) -> None:
    """An upload ended: the volume goes back to available or in-use; a failed upload's
    image is removed."""
    with rt.db.session() as session:
        row = session.get(Volume, volume_id)
        if row is not None:
            session.execute(sa.delete(VolumeAdminMetadata).where(
                VolumeAdminMetadata.volume_id == volume_id,
                VolumeAdminMetadata.key == PENDING_IMAGE))
            if row.status == states.UPLOADING:
                row.status = states.AVAILABLE
                store.settle(session, row)
    if error:
        LOG.warning("upload of volume %s to image %s failed: %s", volume_id, image_id, error)
        try:
            images.delete(rt, RequestContext.admin(), image_id)
        except exceptions.StratusError as exc:
            LOG.info("image %s of a failed upload not removed: %s", image_id, exc.message)


# ------------------------------------------------------------- legacy attach steps
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
