"""The JSON schemas of an image and a member, as Glance publishes them under /v2/schemas.

The same documents validate create bodies and JSON-patch values, so what the API
advertises and what it enforces cannot drift apart.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
from oslo_config import cfg

from controller import exceptions
from controller.image import states

UUID_PATTERN = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$")
MAX_INT = 2 ** 31 - 1
CUSTOM_PROPERTY = {"type": "string"}  # Glance stores every custom property as a string


def _nullable(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": ["null", kind], "description": description, **extra}


def _read_only(kind: Any, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "readOnly": True, "description": description, **extra}


def base_properties(disk_formats: list[str],
                    container_formats: list[str]) -> dict[str, dict[str, Any]]:
    """Glance's base image properties, with the formats this cloud accepts."""
    return {
        "id": {"type": "string", "description": "An identifier for the image",
               "pattern": UUID_PATTERN},
        "name": _nullable("string", "Descriptive name for the image", maxLength=255),
        "status": _read_only("string", "Status of the image", enum=list(states.ALL)),
        "visibility": {"type": "string", "description": "Scope of image accessibility",
                       "enum": ["community", "public", "private", "shared"]},
        "protected": {"type": "boolean",
                      "description": "If true, image will not be deletable."},
        "os_hidden": {"type": "boolean", "description": "If true, image will not appear "
                                                        "in default image list response."},
        "checksum": _read_only(["null", "string"], "md5 hash of image contents.",
                               maxLength=32),
        "os_hash_algo": _read_only(["null", "string"],
                                   "Algorithm to calculate the os_hash_value", maxLength=64),
        "os_hash_value": _read_only(["null", "string"], "Hexdigest of the image contents "
                                    "using the algorithm specified by the os_hash_algo",
                                    maxLength=128),
        "owner": _nullable("string", "Owner of the image", maxLength=255),
        "size": _read_only(["null", "integer"], "Size of image file in bytes"),
        "virtual_size": _read_only(["null", "integer"], "Virtual size of image in bytes"),
        "container_format": _nullable("string", "Format of the container",
                                      enum=[None, *container_formats]),
        "disk_format": _nullable("string", "Format of the disk",
                                 enum=[None, *disk_formats]),
        "created_at": _read_only("string", "Date and time of image registration"),
        "updated_at": _read_only("string", "Date and time of the last image modification"),
        "tags": {"type": "array", "description": "List of strings related to the image",
                 "items": {"type": "string", "maxLength": 255}},
        "direct_url": _read_only("string", "URL to access the image file kept in "
                                           "external store"),
        "min_ram": {"type": "integer", "minimum": 0, "maximum": MAX_INT,
                    "description": "Amount of ram (in MB) required to boot image."},
        "min_disk": {"type": "integer", "minimum": 0, "maximum": MAX_INT,
                     "description": "Amount of disk space (in GB) required to boot image."},
        "self": _read_only("string", "An image self url"),
        "file": _read_only("string", "An image file url"),
        "stores": _read_only("string", "Store in which image data resides."),
        "schema": _read_only("string", "An image schema url"),
    }


@functools.lru_cache(maxsize=8)
def _image_schema(disk_formats: tuple[str, ...],
                  container_formats: tuple[str, ...]) -> dict[str, Any]:
    return {
        "name": "image",
        "properties": base_properties(list(disk_formats), list(container_formats)),
        "additionalProperties": CUSTOM_PROPERTY,
        "links": [{"rel": "self", "href": "{self}"},
                  {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def image_schema(conf: cfg.ConfigOpts) -> dict[str, Any]:
    """The `image` schema document (cached per format list; treat it as read-only)."""
    return _image_schema(tuple(conf.image.disk_formats), tuple(conf.image.container_formats))


def collection(name: str, item: dict[str, Any]) -> dict[str, Any]:
    """Glance's collection schema wrapping item (`images`, `members`)."""
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": item},
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [{"rel": "first", "href": "{first}"},
                  {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


MEMBER_STATUSES = ("pending", "accepted", "rejected")

MEMBER_SCHEMA: dict[str, Any] = {
    "name": "member",
    "properties": {
        "member_id": {"type": "string",
                      "description": "An identifier for the image member (tenantId)"},
        "image_id": {"type": "string", "description": "An identifier for the image",
                     "pattern": UUID_PATTERN},
        "created_at": {"type": "string",
                       "description": "Date and time of image member creation"},
        "updated_at": {"type": "string", "description": "Date and time of last "
                                                        "modification of image member"},
        "status": {"type": "string", "description": "The status of this image member",
                   "enum": list(MEMBER_STATUSES)},
        "schema": {"type": "string", "readOnly": True},
    },
    "required": ["image_id", "member_id", "status"],
    "additionalProperties": False,
}


_validators: dict[int, tuple[dict, jsonschema.Draft4Validator]] = {}


def check(schema: dict[str, Any], document: Any, name: str = "image") -> None:
    """:raises BadRequest: document does not match schema, in Glance's words."""
    cached = _validators.get(id(schema))
    if cached is None or cached[0] is not schema:  # the identity check guards id() reuse
        cached = _validators[id(schema)] = (schema, jsonschema.Draft4Validator(schema))
    validator = cached[1]
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        reason = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        if where:
            reason = f"{reason} (at {where})"
        raise exceptions.BadRequest(
            f"Provided object does not match schema '{name}': {reason}")


def check_property(conf: cfg.ConfigOpts, name: str, value: Any) -> None:
    """Validate one property value as the image schema would inside a whole image."""
    schema = image_schema(conf)
    check(schema["properties"].get(name, CUSTOM_PROPERTY), value)
