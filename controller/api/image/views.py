"""Images and members as Glance renders them."""

from __future__ import annotations

import datetime
from typing import Any

from controller.db.models.image import Image, ImageMember

# Base attributes in the order Glance's serializer emits them.
_ATTRIBUTES = ("name", "disk_format", "container_format", "visibility", "size",
               "virtual_size", "status", "checksum", "protected", "min_ram", "min_disk",
               "owner", "os_hidden", "os_hash_algo", "os_hash_value")


def isotime(moment: datetime.datetime) -> str:
    """Glance's timestamp format: UTC, seconds, Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def href(image_id: str, sub: str = "") -> str:
    """Glance's links are relative to the endpoint and start with /v2; clients rely on it."""
    return f"/v2/images/{image_id}" + (f"/{sub}" if sub else "")


def image(row: Image) -> dict[str, Any]:
    """One image: custom properties at the top level, beside the base attributes."""
    view: dict[str, Any] = {prop.name: prop.value for prop in row.properties}
    for name in _ATTRIBUTES:
        view[name] = getattr(row, name)
    view.update({
        "id": row.id,
        "created_at": isotime(row.created_at),
        "updated_at": isotime(row.updated_at),
        "tags": sorted(tag.value for tag in row.tags),
        "self": href(row.id),
        "file": href(row.id, "file"),
        "schema": "/v2/schemas/image",
    })
    return view


def member(row: ImageMember) -> dict[str, Any]:
    """One membership."""
    return {"member_id": row.member, "image_id": row.image_id, "status": row.status,
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
            "schema": "/v2/schemas/member"}
