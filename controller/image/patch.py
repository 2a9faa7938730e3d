"""Glance's JSON-patch dialect for PATCH /v2/images/{id}: parse, check, apply.

Two media types exist: `...-v2.1-json-patch` (RFC 6902 style `{"op", "path",
"value"}`, where `add` also overwrites) and the older `...-v2.0-json-patch`
(`{"replace": "/path", "value"}`, where `add` of an existing property is a 409).
Only top-level paths are accepted; `locations` is the one list Glance addresses by
index, and this cloud keeps no locations, so those changes are refused.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from oslo_config import cfg

from controller import exceptions
from controller.image import schema

MEDIA_TYPES = {"application/openstack-images-v2.0-json-patch": 4,
               "application/openstack-images-v2.1-json-patch": 10}
OPERATIONS = ("add", "remove", "replace")

READ_ONLY = ("created_at", "updated_at", "status", "checksum", "size", "virtual_size",
             "direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value",
             "stores")
RESERVED = ("location", "deleted", "deleted_at")
RESERVED_PREFIX = "os_glance"
# Base attributes a patch may set; they exist on every image and cannot be removed.
WRITABLE = ("name", "visibility", "protected", "os_hidden", "container_format",
            "disk_format", "min_disk", "min_ram", "tags", "owner")
_PATH_DEPTH = {"locations": {"add": 2, "remove": 2, "replace": 1}}


@dataclasses.dataclass(frozen=True)
class Change:
    """One operation: op on the property path[0] (path[1] only for locations)."""

    op: str
    path: tuple[str, ...]
    value: Any = None
    draft: int = 10

    @property
    def name(self) -> str:
        return self.path[0]


@dataclasses.dataclass
class EditableImage:
    """The parts of an image a patch may touch: base attributes and custom properties."""

    base: dict[str, Any]
    extra: dict[str, str]


def media_draft(content_type: str | None) -> int:
    """The JSON-schema draft the request's media type selects.

    :raises UnsupportedMediaType: any other type, with Glance's Accept-Patch header.
    """
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        error = exceptions.UnsupportedMediaType(
            f"Content type {media_type or 'None'} is not supported; send one of "
            f"{', '.join(sorted(MEDIA_TYPES))}.")
        error.headers = {"Accept-Patch": ", ".join(sorted(MEDIA_TYPES))}
        raise error
    return MEDIA_TYPES[media_type]


def decode_pointer(pointer: Any) -> tuple[str, ...]:
    """The parts of a JSON pointer, with ~1 and ~0 unescaped, checked as Glance does.

    :raises BadRequest: the pointer is malformed.
    """
    if not isinstance(pointer, str):
        raise exceptions.BadRequest(f"Pointer `{pointer}` must be a string.")
    if not pointer.startswith("/"):
        raise exceptions.BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise exceptions.BadRequest(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise exceptions.BadRequest(f'Pointer `{pointer}` end with "/".')
    if not pointer[1:].strip():
        raise exceptions.BadRequest(f"Pointer `{pointer}` does not contains valid token.")
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise exceptions.BadRequest(
            f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.')
    return tuple(part.replace("~1", "/").replace("~0", "~").strip()
                 for part in pointer.lstrip("/").split("/"))


def _operation(raw: dict[str, Any], draft: int) -> tuple[str, Any]:
    if draft == 10:
        op = raw.get("op")
        if op not in OPERATIONS:
            what = "Unable to find `op` in JSON Schema change" if op is None else \
                f"Invalid operation: `{op}`"
            raise exceptions.BadRequest(
                f"{what}. It must be one of the following: {', '.join(OPERATIONS)}.")
        if "path" not in raw:
            raise exceptions.BadRequest("Unable to find 'path' in JSON Schema change")
        return op, raw["path"]
    present = [op for op in OPERATIONS if op in raw]
    if len(present) != 1:
        raise exceptions.BadRequest('Operation objects must contain exactly one member '
                                    'named "add", "remove", or "replace".')
    return present[0], raw[present[0]]


def check_name(name: str) -> None:
    """:raises Forbidden: name is read-only or reserved. :raises BadRequest: too long."""
    if name in READ_ONLY:
        raise exceptions.Forbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise exceptions.Forbidden(f"Attribute '{name}' is reserved.")
    if len(name) > 255:
        raise exceptions.BadRequest("Custom property should not be greater than 255 "
                                    "characters.")


def parse(conf: cfg.ConfigOpts, body: Any, draft: int) -> list[Change]:
    """Check a patch document and turn it into Changes; nothing is applied yet.

    :raises BadRequest: malformed operations, paths or values.
    :raises Forbidden: a read-only or reserved attribute.
    """
    if not isinstance(body, list):
        raise exceptions.BadRequest("Request body must be a JSON array of operation objects.")
    changes = []
    for raw in body:
        if not isinstance(raw, dict):
            raise exceptions.BadRequest("Operations must be JSON objects.")
        op, pointer = _operation(raw, draft)
        path = decode_pointer(pointer)
        if len(path) != _PATH_DEPTH.get(path[0], {}).get(op, 1):
            raise exceptions.BadRequest(
                f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
        check_name(path[0])
        if op == "remove":
            changes.append(Change(op, path, draft=draft))
            continue
        if "value" not in raw:
            raise exceptions.BadRequest(f'Operation "{op}" requires a member named "value".')
        if len(path) == 1 and path[0] != "locations":
            schema.check_property(conf, path[0], raw["value"])
        changes.append(Change(op, path, raw["value"], draft))
    return changes


def apply(image: EditableImage, changes: list[Change]) -> None:
    """Apply changes in order to image, as Glance's controller does.

    :raises Forbidden: removing a base attribute, or touching locations.
    :raises Conflict: replacing or removing a custom property that does not exist, or
        (v2.0 patches only) adding one that does.
    """
    for change in changes:
        name = change.name
        if name == "locations":
            verb = {"replace": "update"}.get(change.op, change.op)
            raise exceptions.Forbidden(
                f"It's not allowed to {verb} locations if locations are invisible.")
        base = name in WRITABLE
        exists = base or name in image.extra
        if change.op == "remove":
            if base:
                raise exceptions.Forbidden(f"Property {name} may not be removed.")
            if not exists:
                raise exceptions.Conflict(f"Property {name} does not exist.")
            del image.extra[name]
            continue
        if change.op == "replace" and not exists:
            raise exceptions.Conflict(f"Property {name} does not exist.")
        if change.op == "add" and exists and change.draft == 4:
            raise exceptions.Conflict(f"Property {name} already present.")
        if base:
            image.base[name] = change.value
        else:
            image.extra[name] = change.value
