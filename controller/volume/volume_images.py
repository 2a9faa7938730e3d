"""A volume's image metadata (what it was made from) and uploads of a volume to the image
service (``os-volume_upload_image``: the image record is made here, queued, and the
volume agent uploads the data)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.volume import Volume, VolumeAdminMetadata, VolumeImageMetadata
from controller.image import images
from controller.runtime import Runtime
from controller.volume import agent, errors, states, store

LOG = logging.getLogger(__name__)
PENDING_IMAGE = "uploading_image_id"  # admin metadata: the image an upload fills


def image_metadata(rt: Runtime, ctx: RequestContext, volume_id: str) -> dict[str, str]:
    """:raises NotFound: no such volume."""
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


