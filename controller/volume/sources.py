"""What a new volume is made from (nothing, an image, a snapshot, a volume, a backup),
and the checks on size and zone that depend on it, with Cinder's messages."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.image import images
from controller.runtime import Runtime
from controller.volume import errors, states, store

GIB = 1024 ** 3
# Image attributes copied into a volume's image metadata (Cinder's glance metadata).
IMAGE_FIELDS = ("name", "checksum", "container_format", "disk_format", "min_disk", "min_ram",
                "size")


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


def resolve(session: orm.Session, rt: Runtime, ctx: RequestContext,
            values: dict[str, Any]) -> Source:
    """The source values name (one at most).

    :raises NotFound: the snapshot, volume or backup is not visible to ctx.
    :raises BadRequest: several sources, a source in the wrong status, a bad image.
    """
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
        return _image(rt, ctx, values["image_id"])
    return Source()


def _image(rt: Runtime, ctx: RequestContext, image_id: str) -> Source:
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


def size(rt: Runtime, size: Any, source: Source) -> int:
    """The new volume's size: as given (or the source's), checked against the source.

    :raises BadRequest: (InvalidInput) not a positive integer, too large, or too small
        for the source.
    """
    if size is None and source.kind in ("snapshot", "volume", "backup"):
        size = source.size
    if isinstance(size, str) and size.strip().isdecimal():
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


def zone(rt: Runtime, given: str | None, source: Source) -> str:
    """:raises BadRequest: an unknown zone, or not the source's."""
    zone = given or source.zone or rt.conf.volume.storage_availability_zone
    if zone != rt.conf.volume.storage_availability_zone:
        raise exceptions.BadRequest(f"Availability zone '{zone}' is invalid.")
    if source.zone and zone != source.zone:
        raise exceptions.BadRequest(f"Availability zone '{zone}' is invalid: the source is "
                                    f"in '{source.zone}'.")
    return zone


def multiattach(values: dict[str, Any], specs: dict[str, str]) -> bool:
    return bool(values.get("multiattach")) or \
        specs.get("multiattach", "").strip().lower() == "<is> true"
