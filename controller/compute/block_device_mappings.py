"""Block device mappings as compute keeps them: read, add with a free guest device, move
their status with guarded updates, remove.

Guest devices are ``/dev/vda`` (the root volume of a volume-backed server) and
``/dev/vdb``... for the others. The name is what the API answers and a hint for the
hypervisor, which reports the device it really used (the conductor stores that). Two
concurrent attaches cannot take the same device or the same volume: the table's unique
constraints refuse the loser, which tries the next free device.
"""

from __future__ import annotations

import re
import string
import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.block_devices import BlockDeviceMapping
from controller.runtime import Runtime

ROOT_DEVICE = "/dev/vda"
# vdb..vdz: the root takes vda; Nova's TooManyDiskDevices is a 403.
MAX_DEVICES = 26
_DEVICE_RE = re.compile(r"^(/dev/)?(x?[shv]d|xvd)([a-z]{1,2})$")
_NOVA_DEVICE_RE = re.compile(r"^(/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$")
_INSERT_ATTEMPTS = 5


class TooManyDevices(exceptions.Forbidden):
    """No guest device is left for another volume."""


def invalid_device(device: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"The supplied device path ({str(device)[:64]}) is "
                                 "invalid.")


def device_hint(device: str | None) -> str | None:
    """A requested device as ``/dev/vdX``, or None when the hypervisor should choose.

    Nova's libvirt driver picks the device itself; a well-formed request for a free
    virtio name is honoured, any other well-formed name (sdb, xvdc) only says "next".

    :raises BadRequest: not a device path at all.
    """
    if device is None or device == "":
        return None
    text = str(device).strip()
    if not text.startswith("/dev/"):  # block_device_mapping_v2 names may omit it
        text = f"/dev/{text}"
    if not _NOVA_DEVICE_RE.match(text):
        raise invalid_device(text)
    match = _DEVICE_RE.match(text)
    if match is None or match.group(2) != "vd" or len(match.group(3)) != 1:
        return None
    return f"/dev/vd{match.group(3)}"


def _names() -> list[str]:
    return [f"/dev/vd{letter}" for letter in string.ascii_lowercase[1:MAX_DEVICES]]


def next_device(used: Iterable[str | None], hint: str | None = None) -> str:
    """hint if free, else the first free ``/dev/vdX`` after the root.

    :raises TooManyDevices: every device is taken.
    """
    taken = {name for name in used if name}
    if hint and hint != ROOT_DEVICE and hint not in taken:
        return hint
    for name in _names():
        if name not in taken:
            return name
    raise TooManyDevices(f"The maximum allowed number of disk devices ({MAX_DEVICES}) to "
                         "attach to a single instance has been exceeded.")


def new_row(instance_uuid: str, **values: Any) -> BlockDeviceMapping:
    """A mapping row (not added to any session)."""
    now = utcnow()
    values.setdefault("destination_type", "volume")
    values.setdefault("delete_on_termination", False)
    return BlockDeviceMapping(uuid=str(uuidlib.uuid4()), instance_uuid=instance_uuid,
                              created_at=now, updated_at=now, **values)


def of_instance(session: orm.Session, instance_uuid: str) -> list[BlockDeviceMapping]:
    return list(session.scalars(sa.select(BlockDeviceMapping).where(
        BlockDeviceMapping.instance_uuid == instance_uuid).order_by(
        sa.func.coalesce(BlockDeviceMapping.boot_index, 1 << 30), BlockDeviceMapping.id)))


def list_(rt: Runtime, instance_uuid: str) -> list[BlockDeviceMapping]:
    """The server's mappings, the root first, then in the order they were made."""
    with rt.db.session() as session:
        return of_instance(session, instance_uuid)


def by_instances(rt: Runtime, instance_uuids: list[str]) -> dict[str, list[BlockDeviceMapping]]:
    """Mappings of several servers at once (for list views), in one query."""
    found: dict[str, list[BlockDeviceMapping]] = {}
    if not instance_uuids:
        return found
    with rt.db.session() as session:
        for row in session.scalars(sa.select(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_uuid.in_(instance_uuids)).order_by(
                BlockDeviceMapping.id)):
            found.setdefault(row.instance_uuid, []).append(row)
    return found


def find(rt: Runtime, instance_uuid: str, volume_id: str) -> BlockDeviceMapping | None:
    with rt.db.session() as session:
        return session.scalars(sa.select(BlockDeviceMapping).where(
            BlockDeviceMapping.instance_uuid == instance_uuid,
            BlockDeviceMapping.volume_id == volume_id)).first()


def get(rt: Runtime, mapping_id: int) -> BlockDeviceMapping | None:
    with rt.db.session() as session:
        return session.get(BlockDeviceMapping, mapping_id)


def is_volume_backed(rt: Runtime, instance_uuid: str) -> bool:
    """Whether the server's root disk is a volume."""
    with rt.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(BlockDeviceMapping)
                              .where(BlockDeviceMapping.instance_uuid == instance_uuid,
                                     BlockDeviceMapping.boot_index == 0)) > 0


def add_attachment(rt: Runtime, instance_uuid: str, volume_id: str, hint: str | None,
                   **values: Any) -> BlockDeviceMapping:
    """Add the mapping of a volume being attached, on a free device (hint if free).

    :raises BadRequest: the volume already has a mapping on this server.
    :raises TooManyDevices: no device left.
    """
    for _ in range(_INSERT_ATTEMPTS):
        try:
            with rt.db.session() as session:
                rows = of_instance(session, instance_uuid)
                if any(row.volume_id == volume_id for row in rows):
                    raise exceptions.BadRequest(f"Invalid volume: volume {volume_id} is "
                                                f"already attached to instance "
                                                f"{instance_uuid}.")
                row = new_row(instance_uuid, volume_id=volume_id,
                              device_name=next_device([r.device_name for r in rows], hint),
                              **values)
                session.add(row)
                session.flush()
            return row
        except sa_exc.IntegrityError:
            continue  # a concurrent attach took the device or the volume: look again
    raise exceptions.Conflict(f"Could not reserve a device on instance {instance_uuid}: "
                              "too many concurrent attaches; try again.")


def set_values(rt: Runtime, mapping_id: int, values: dict[str, Any],
               expected_status: Iterable[str] | None = None) -> bool:
    """Update one mapping (guarded by its status); False when it is gone or moved on."""
    query = sa.update(BlockDeviceMapping).where(BlockDeviceMapping.id == mapping_id)
    if expected_status is not None:
        query = query.where(BlockDeviceMapping.status.in_(list(expected_status)))
    try:
        with rt.db.session() as session:
            result = session.execute(query.values(**values, updated_at=utcnow())
                                     .execution_options(synchronize_session=False))
    except sa_exc.IntegrityError:
        return False  # e.g. the device the hypervisor chose is another mapping's
    return result.rowcount == 1


def remove(rt: Runtime, mapping_id: int) -> None:
    with rt.db.session() as session:
        session.execute(sa.delete(BlockDeviceMapping).where(
            BlockDeviceMapping.id == mapping_id))


def view(row: BlockDeviceMapping) -> dict[str, Any]:
    """The facts a mapping's API views need, detached from the session."""
    return {"id": row.id, "volume_id": row.volume_id, "instance_uuid": row.instance_uuid,
            "device": row.device_name, "tag": row.tag, "status": row.status,
            "delete_on_termination": bool(row.delete_on_termination),
            "boot_index": row.boot_index}
