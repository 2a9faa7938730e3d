"""The block devices of a new server: ``block_device_mapping_v2`` (and the legacy v1
list) checked as Nova checks them, turned into a :class:`BootPlan`, and recorded.

What this cloud builds: a local root disk from an image (no mapping row), a root volume
(boot from volume: from an image, an existing bootable volume, a snapshot, or blank),
and further volumes attached at boot. Ephemeral and swap disks are refused. Volumes the
build makes are created by the conductor once the server has a host; an existing volume
is reserved here, at once, so nobody else attaches it in between.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from common.context import RequestContext
from controller import exceptions
from controller.compute import block_device_mappings as bdms
from controller.compute import boot_sources
from controller.db.models.block_devices import BlockDeviceMapping
from controller.runtime import Runtime
from controller.volume import attachments as volume_attachments
from controller.volume import snapshots as volume_snapshots
from controller.volume import volumes as volume_service

GIB = 1024 ** 3
SOURCES = ("image", "volume", "snapshot", "blank")
_TRUE = ("1", "t", "true", "on", "y", "yes")


def invalid(reason: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Block Device Mapping is Invalid: {reason}")


def bad_boot_sequence() -> exceptions.BadRequest:
    return invalid("Boot sequence for the instance and image/block device mapping "
                   "combination is not valid.")


@dataclasses.dataclass
class Mapping:
    """One requested volume of a new server."""

    source_type: str
    uuid: str | None = None
    volume_size: int | None = None
    boot_index: int | None = None
    device_name: str | None = None
    delete_on_termination: bool = False
    tag: str | None = None
    disk_bus: str | None = None
    device_type: str | None = None


@dataclasses.dataclass
class BootPlan:
    """What a create request boots from: a local image, or the root mapping."""

    image_id: str | None
    mappings: list[Mapping] = dataclasses.field(default_factory=list)

    @property
    def volume_backed(self) -> bool:
        return any(m.boot_index == 0 for m in self.mappings)

    @property
    def root(self) -> Mapping | None:
        return next((m for m in self.mappings if m.boot_index == 0), None)


def _bool(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def _int(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise invalid(f"{what} {str(value)[:32]!r} is not an integer.") from exc


def _from_legacy(items: list[dict[str, Any]], image_ref: str | None) -> list[dict[str, Any]]:
    """Legacy (v1) mappings in v2 terms: a volume on the root device with no image is
    the root volume."""
    converted = []
    for item in items:
        if item.get("no_device"):
            continue
        device = item.get("device_name")
        root = not image_ref and str(device or "").rsplit("/", 1)[-1] in ("vda", "sda")
        source = "snapshot" if item.get("snapshot_id") else "volume"
        converted.append({"source_type": source, "destination_type": "volume",
                          "uuid": item.get("snapshot_id") or item.get("volume_id"),
                          "volume_size": item.get("volume_size"), "device_name": device,
                          "boot_index": 0 if root else None,
                          "delete_on_termination": item.get("delete_on_termination")})
    return converted


def plan(image_ref: str | None, legacy: list[dict[str, Any]] | None,
         items: list[dict[str, Any]] | None) -> BootPlan:
    """The boot plan of a create request (syntax and boot sequence only).

    :raises BadRequest: both syntaxes, an unsupported or malformed mapping, a bad boot
        sequence, or no image and no root volume.
    """
    if legacy and items:
        raise exceptions.BadRequest("Using different block_device_mapping syntaxes is not "
                                    "allowed in the same request.")
    image_id = image_ref or None
    requested = _from_legacy(legacy, image_ref) if legacy else list(items or [])
    if not image_id and not requested:
        raise exceptions.BadRequest("Invalid imageRef provided.")
    mappings: list[Mapping] = []
    for item in requested:
        source = item.get("source_type")
        if source not in SOURCES:
            raise invalid("Missing or invalid source_type.")
        destination = item.get("destination_type") or (
            "local" if source in ("image", "blank") else "volume")
        boot_index = _int(item.get("boot_index"), "boot_index")
        uuid = item.get("uuid") or item.get("image_id") or item.get("volume_id") \
            or item.get("snapshot_id")
        if destination == "local":
            if source != "image" or boot_index != 0 or item.get("volume_size"):
                raise invalid("ephemeral, swap and blank local disks are not supported by "
                              "this cloud; use volumes (destination_type volume).")
            if image_id and uuid and uuid != image_id:
                raise invalid("the root image of block_device_mapping_v2 is not imageRef.")
            image_id = image_id or uuid
            continue
        if source != "blank" and not uuid:
            raise invalid("Missing device UUID.")
        size = _int(item.get("volume_size"), "volume_size")
        if size is not None and size <= 0:
            raise invalid(f"volume_size must be a positive number of GiB, not {size}.")
        if source == "blank" and size is None:
            raise invalid("a blank volume needs a volume_size.")
        mappings.append(Mapping(
            source_type=source, uuid=uuid if source != "blank" else None, volume_size=size,
            boot_index=boot_index if boot_index is not None and boot_index >= 0 else None,
            device_name=item.get("device_name"),
            delete_on_termination=_bool(item.get("delete_on_termination", False)),
            tag=item.get("tag"), disk_bus=item.get("disk_bus"),
            device_type=item.get("device_type")))
    volumes = [m.uuid for m in mappings if m.source_type == "volume"]
    if len(set(volumes)) != len(volumes):
        raise invalid("the same volume is mapped twice.")
    indexes = sorted([m.boot_index for m in mappings if m.boot_index is not None]
                     + ([0] if image_id and not any(m.boot_index == 0 for m in mappings)
                        else []))
    if not indexes or indexes != list(range(len(indexes))):
        raise bad_boot_sequence()
    if any(m.boot_index == 0 for m in mappings):
        root = next(m for m in mappings if m.boot_index == 0)
        if root.source_type == "image" and image_id and root.uuid != image_id:
            raise invalid("the root volume's image is not imageRef.")
        image_id = None  # the root is the volume; imageRef only named its source
    return BootPlan(image_id, mappings)


def validate(rt: Runtime, ctx: RequestContext, boot: BootPlan, flavor: dict[str, Any],
             count: int) -> dict[str, Any]:
    """Check every mapping's source; return the image facts the server records (its
    ``image``: the local root image, else the root volume's image metadata, id "").

    :raises BadRequest: a source that is missing, invisible, busy or unusable (Nova's
        messages), or too small for its image.
    """
    image: dict[str, Any] | None = None
    if boot.image_id:
        image = boot_sources.image(rt, ctx, boot.image_id, flavor)
    for mapping in boot.mappings:
        found = _check_source(rt, ctx, mapping, flavor, count)
        if mapping.boot_index == 0:
            image = {**found, "id": ""}
    if image is None:
        raise bad_boot_sequence()
    if flavor["memory_mb"] < int(image.get("min_ram") or 0):
        raise exceptions.BadRequest("Flavor's memory is too small for requested image.")
    return image


def _check_source(rt: Runtime, ctx: RequestContext, mapping: Mapping,
                  flavor: dict[str, Any], count: int) -> dict[str, Any]:
    """The image facts a mapping's source carries ({} for a blank volume)."""
    if mapping.source_type == "image":
        # The root disk is the volume: the flavor's disk size does not apply.
        image = boot_sources.image(rt, ctx, mapping.uuid, {**flavor, "root_gb": 0})
        needed = max(math.ceil((image.get("size") or 0) / GIB), image.get("min_disk") or 0)
        if mapping.volume_size is None:
            mapping.volume_size = max(needed, int(flavor.get("root_gb") or 0), 1)
        elif mapping.volume_size < needed:
            raise exceptions.BadRequest(
                f"Volume is smaller than the minimum size specified in image metadata. "
                f"Volume size is {mapping.volume_size * GIB} bytes, minimum size is "
                f"{needed * GIB} bytes.")
        return image
    if mapping.source_type == "snapshot":
        try:
            snapshot = volume_snapshots.get(rt, ctx, mapping.uuid)
        except exceptions.NotFound as exc:
            raise invalid(f"failed to get snapshot {mapping.uuid}.") from exc
        if snapshot.status != "available":
            raise invalid(f"snapshot {mapping.uuid} is {snapshot.status}, not available.")
        if mapping.volume_size is not None and mapping.volume_size < snapshot.size:
            raise invalid(f"volume_size {mapping.volume_size} is smaller than snapshot "
                          f"{mapping.uuid} ({snapshot.size} GiB).")
        return _image_metadata(snapshot.volume.image_metadata if snapshot.volume else {})
    if mapping.source_type == "volume":
        if count > 1:
            raise exceptions.BadRequest(f"Volume {mapping.uuid} can be attached to one of "
                                        "the new servers only; create them one at a time.")
        try:
            volume = volume_service.get(rt, ctx, mapping.uuid)
        except exceptions.NotFound as exc:
            raise invalid(f"failed to get volume {mapping.uuid}.") from exc
        if volume.status != "available":
            raise exceptions.BadRequest(f"Invalid volume: volume {volume.id} status must be "
                                        f"'available'. Currently in '{volume.status}'")
        if mapping.boot_index == 0 and not volume.bootable:
            raise exceptions.BadRequest(f"Block Device {volume.id} is not bootable.")
        return _image_metadata(volume.image_metadata)
    return {}


def _image_metadata(meta: dict[str, str]) -> dict[str, Any]:
    """A volume's image metadata in the shape of boot_sources.image's answer."""
    plain = ("image_id", "image_name", "disk_format", "container_format", "min_ram",
             "min_disk", "size", "checksum", "os_hash_algo", "os_hash_value", "owner")
    return {"id": "", "name": meta.get("image_name"), "disk_format": meta.get("disk_format"),
            "container_format": meta.get("container_format"),
            "min_ram": int(meta.get("min_ram") or 0), "min_disk": int(meta.get("min_disk") or 0),
            "properties": {k: v for k, v in meta.items() if k not in plain}}


def reserve(rt: Runtime, ctx: RequestContext, boot: BootPlan,
            instance_uuids: list[str]) -> list[BlockDeviceMapping]:
    """The mapping rows of the new servers (not yet added to a session); each existing
    volume is reserved for its server in the volume service now.

    :raises BadRequest, NotFound: a volume can no longer be reserved (nothing is kept).
    """
    rows: list[BlockDeviceMapping] = []
    try:
        for instance_uuid in instance_uuids:
            used: list[str] = []
            for mapping in boot.mappings:
                device = bdms.ROOT_DEVICE if mapping.boot_index == 0 else \
                    bdms.next_device(used, bdms.device_hint(mapping.device_name))
                used.append(device)
                attachment_id = None
                if mapping.source_type == "volume":
                    attachment_id = volume_attachments.create(
                        rt, ctx, mapping.uuid, instance_uuid, mountpoint=device).id
                rows.append(bdms.new_row(
                    instance_uuid, source_type=mapping.source_type,
                    image_id=mapping.uuid if mapping.source_type == "image" else None,
                    snapshot_id=mapping.uuid if mapping.source_type == "snapshot" else None,
                    volume_id=mapping.uuid if mapping.source_type == "volume" else None,
                    volume_size=mapping.volume_size, boot_index=mapping.boot_index,
                    device_name=device, disk_bus=mapping.disk_bus,
                    device_type=mapping.device_type,
                    delete_on_termination=mapping.delete_on_termination, tag=mapping.tag,
                    attachment_id=attachment_id))
    except Exception:
        release(rt, ctx, rows)
        raise
    return rows


def release(rt: Runtime, ctx: RequestContext, rows: list[BlockDeviceMapping]) -> None:
    """Undo :func:`reserve` (the servers were not created after all)."""
    for row in rows:
        if row.attachment_id:
            try:
                volume_attachments.delete(rt, ctx, row.attachment_id)
            except exceptions.NotFound:
                pass
