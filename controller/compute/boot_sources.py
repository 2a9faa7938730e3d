"""The flavor and image a server boots (or rebuilds, or resizes) with, checked as Nova
checks them, and copied into plain dicts: the instance keeps its own copy of the flavor
and the conductor gets the image facts it needs without reading the image tables.
"""

from __future__ import annotations

from typing import Any

from common.context import RequestContext
from controller import exceptions
from controller.compute import flavors as flavor_service
from controller.db.models.compute import Flavor
from controller.image import images as image_service
from controller.runtime import Runtime

GIB = 1024 ** 3


def flavor_ref_id(ref: object) -> str:
    """Nova accepts a flavor ID or its URL; the ID is the last path segment."""
    text = str(ref).strip()
    return text.rstrip("/").rsplit("/", 1)[-1] if "/" in text else text


def snapshot(flavor: Flavor) -> dict[str, Any]:
    """The copy of flavor an instance keeps (later flavor edits never change it)."""
    return {"id": flavor.id, "name": flavor.name, "memory_mb": flavor.memory_mb,
            "vcpus": flavor.vcpus, "root_gb": flavor.root_gb,
            "ephemeral_gb": flavor.ephemeral_gb, "swap": flavor.swap,
            "rxtx_factor": flavor.rxtx_factor, "description": flavor.description,
            "extra_specs": {spec.key: spec.value for spec in flavor.extra_specs}}


def flavor(rt: Runtime, ctx: RequestContext, ref: object,
           missing: str = "Invalid flavorRef provided.") -> dict[str, Any]:
    """The flavor ref names, as an instance's flavor copy.

    :raises BadRequest: no such flavor visible to ctx (message missing), or disabled.
    """
    try:
        row = flavor_service.get(rt, ctx, flavor_ref_id(ref))
    except exceptions.NotFound as exc:
        raise exceptions.BadRequest(missing) from exc
    if row.disabled:
        raise exceptions.BadRequest("Flavor is disabled.")
    return snapshot(row)


def image(rt: Runtime, ctx: RequestContext, image_id: str,
          flavor_copy: dict[str, Any]) -> dict[str, Any]:
    """The image to boot, checked against the flavor.

    :raises BadRequest: missing or invisible, not active, or bigger than the flavor's
        memory or disk allow (Nova's messages).
    """
    try:
        row = image_service.get(rt, ctx, image_id)
    except exceptions.NotFound as exc:
        raise exceptions.BadRequest(f"Image {str(image_id)[:64]} could not be found.") \
            from exc
    if row.status != "active":
        raise exceptions.BadRequest(f"Image {image_id} is not active.")
    if flavor_copy["memory_mb"] < (row.min_ram or 0):
        raise exceptions.BadRequest("Flavor's memory is too small for requested image.")
    root_bytes = flavor_copy["root_gb"] * GIB
    if root_bytes:  # root_gb 0: the disk takes the image's size
        needed = max(row.size or 0, row.virtual_size or 0)
        if needed > root_bytes:
            raise exceptions.BadRequest(
                f"Flavor's disk is too small for requested image. Flavor disk is "
                f"{root_bytes} bytes, image is {needed} bytes.")
        if (row.min_disk or 0) * GIB > root_bytes:
            raise exceptions.BadRequest(
                f"Flavor's disk is too small for requested image. Flavor disk is "
                f"{root_bytes} bytes, minimum size is {row.min_disk * GIB} bytes.")
    return {"id": row.id, "name": row.name, "disk_format": row.disk_format,
            "container_format": row.container_format, "min_ram": row.min_ram or 0,
            "min_disk": row.min_disk or 0, "size": row.size,
            "virtual_size": row.virtual_size, "checksum": row.checksum,
            "os_hash_algo": row.os_hash_algo, "os_hash_value": row.os_hash_value,
            "owner": row.owner,
            "properties": {prop.name: prop.value for prop in row.properties}}
