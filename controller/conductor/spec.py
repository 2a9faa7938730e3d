"""The instance spec a compute agent gets (format: ``common.rpc.compute``), from the DB.

Everything the agent needs travels in the spec, because agents never read the
database: the flavor copy the instance was given, the image facts the agent needs to
fetch and verify the base image, the public key, metadata and user data, the ports
(``vifs``, in plug order) with the ``network_data.json`` the config drive carries, and
the volumes exported to the host (``volumes``, with their connection_info; a
volume-backed instance has no ``image``: its root is the volume with boot_index 0).
"""

from __future__ import annotations

from typing import Any

from common.context import RequestContext
from controller import exceptions
from controller.compute import block_device_mappings, boot_sources, flavors
from controller.conductor import networking, volumes
from controller.conductor.instances import elevated
from controller.db.models.servers import Instance
from controller.image import images
from controller.runtime import Runtime


class SpecError(exceptions.BadRequest):
    """The instance cannot be described to an agent (its image or flavor is unusable)."""


def flavor_copy(rt: Runtime, ctx: RequestContext, flavor_id: str) -> dict[str, Any]:
    """The copy of flavor flavor_id an instance keeps (Instance.flavor's format).

    :raises SpecError: no such flavor.
    """
    try:
        flavor = flavors.get(rt, elevated(ctx), flavor_id)
    except exceptions.NotFound as exc:
        raise SpecError(f"Flavor {flavor_id} could not be found.") from exc
    return boot_sources.snapshot(flavor)


def image_facts(rt: Runtime, ctx: RequestContext, image_id: str | None) -> dict[str, Any]:
    """What the agent needs to fetch and verify image_id.

    The API already checked that the caller may use the image; the conductor reads it
    with an elevated context so a reschedule or rebuild is not refused by visibility.

    :raises SpecError: no image (and the server is not volume-backed), the image is
        gone, or it has no data yet.
    """
    if not image_id:
        raise SpecError("This server has neither an image nor a root volume.")
    try:
        image = images.get(rt, elevated(ctx), image_id)
    except exceptions.NotFound as exc:
        raise SpecError(f"Image {image_id} could not be found.") from exc
    if image.status != "active":
        raise SpecError(f"Image {image_id} is {image.status}, not active; boot from an "
                        "active image.")
    return {"id": image.id, "disk_format": image.disk_format or "raw",
            "os_hash_algo": image.os_hash_algo, "os_hash_value": image.os_hash_value,
            "checksum": image.checksum}


def agent_flavor(flavor: dict[str, Any]) -> dict[str, Any]:
    """The part of a flavor copy an agent uses (the spec's ``flavor``)."""
    return {"name": str(flavor.get("name") or flavor.get("id")),
            "memory_mb": int(flavor["memory_mb"]), "vcpus": int(flavor["vcpus"]),
            "root_gb": int(flavor.get("root_gb") or 0)}


def build(rt: Runtime, ctx: RequestContext, row: Instance,
          flavor: dict[str, Any] | None = None,
          image_id: str | None = None) -> dict[str, Any]:
    """The instance spec of row, with flavor (default: the instance's own) and image_id
    (default: its image_ref): a resize sends the new flavor, a rebuild the new image.

    :raises SpecError: see :func:`image_facts`; or the flavor copy is incomplete.
    """
    chosen = flavor or row.flavor or {}
    if not all(key in chosen for key in ("memory_mb", "vcpus")):
        raise SpecError(f"Instance {row.uuid} has no usable flavor copy.")
    public_keys = {row.key_name: row.key_data} if row.key_name and row.key_data else {}
    return {
        "uuid": row.uuid,
        "name": row.display_name,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "hostname": row.hostname,
        "availability_zone": row.availability_zone,
        "config_drive": bool(row.config_drive),
        "user_data": row.user_data,
        "public_keys": public_keys,
        "metadata": {item.key: item.value for item in row.metadata_items},
        "launch_index": row.launch_index or 0,
        "flavor": agent_flavor(chosen),
        "image": None if not image_id and block_device_mappings.is_volume_backed(
            rt, row.uuid) else image_facts(rt, ctx, image_id or row.image_ref),
        "vifs": networking.vifs(rt, row.uuid),
        "network_data": networking.network_data(rt, row),
        "volumes": volumes.spec_volumes(rt, ctx, row.uuid, row.host),
    }
