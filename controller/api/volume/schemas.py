"""JSON schemas of the block storage request bodies (Cinder's shapes and limits)."""

from __future__ import annotations

import copy
from typing import Any

from controller import exceptions

_BOOLEAN_WORDS = ["true", "false", "True", "False", "TRUE", "FALSE", "1", "0", "yes", "no",
                  "y", "n", "on", "off", "t", "f"]
BOOLEAN = {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": _BOOLEAN_WORDS}]}
NAME = {"type": ["string", "null"], "maxLength": 255}
REQUIRED_NAME = {"type": "string", "minLength": 1, "maxLength": 255,
                 "pattern": r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$"}
UUID = {"type": "string", "format": "uuid"}
UUID_OR_NULL = {"anyOf": [{"type": "null"}, UUID]}
SIZE = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 2 ** 31 - 1},
                  {"type": "string", "pattern": r"^\s*[1-9][0-9]{0,9}\s*$"}]}
_KEY = r"^[\s\S]{1,255}$"
METADATA = {"type": "object", "patternProperties": {_KEY: {"type": "string", "maxLength": 255}},
            "additionalProperties": False}
NULLABLE_METADATA = {"anyOf": [{"type": "null"}, METADATA]}
CONNECTOR = {"type": "object", "properties": {
    "host": {"type": "string", "minLength": 1, "maxLength": 255},
    "ip": {"type": ["string", "null"], "maxLength": 64},
    "initiator": {"type": ["string", "null"], "maxLength": 255},
    "mountpoint": {"type": ["string", "null"], "maxLength": 255},
    "mode": {"enum": ["rw", "ro", None]}}, "required": ["host"]}
EMPTY = {"type": ["object", "null"], "maxProperties": 0}


def truthy(value: Any) -> bool:
    """A BOOLEAN value as a bool."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "y", "on", "t")


def _wrap(key: str, properties: dict[str, Any], required: list[str] | None = None,
          min_properties: int = 0) -> dict[str, Any]:
    inner = {"type": "object", "properties": properties, "required": required or [],
             "additionalProperties": False, "minProperties": min_properties}
    return {"type": "object", "properties": {key: inner}, "required": [key],
            "additionalProperties": False}


# ------------------------------------------------------------------ volumes
_VOLUME = {
    "name": NAME, "description": NAME, "display_name": NAME, "display_description": NAME,
    "size": {"anyOf": [{"type": "null"}, SIZE]},
    "availability_zone": NAME, "source_volid": UUID_OR_NULL, "snapshot_id": UUID_OR_NULL,
    "backup_id": UUID_OR_NULL, "imageRef": NAME, "image_id": NAME, "volume_type": NAME,
    "metadata": NULLABLE_METADATA, "consistencygroup_id": UUID_OR_NULL,
    "group_id": UUID_OR_NULL, "multiattach": BOOLEAN,
    "scheduler_hints": {"type": ["object", "null"]},
    "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]},
}


VOLUME_CREATE = _wrap("volume", _VOLUME)
VOLUME_CREATE["properties"]["OS-SCH-HNT:scheduler_hints"] = {"type": ["object", "null"]}
VOLUME_UPDATE = _wrap("volume", {"name": NAME, "description": NAME, "display_name": NAME,
                                 "display_description": NAME, "metadata": NULLABLE_METADATA})
METADATA_BODY = {"type": "object", "properties": {"metadata": METADATA},
                 "required": ["metadata"], "additionalProperties": False}
META_ITEM = {"type": "object", "properties": {"meta": {**METADATA, "minProperties": 1}},
             "required": ["meta"], "additionalProperties": False}

# ------------------------------------------------------------------ volume actions
ACTIONS: dict[str, dict[str, Any]] = {
    "os-extend": {"type": "object", "properties": {"new_size": SIZE}, "required": ["new_size"],
                  "additionalProperties": False},
    "os-set_bootable": {"type": "object", "properties": {"bootable": BOOLEAN},
                        "required": ["bootable"], "additionalProperties": False},
    "os-update_readonly_flag": {"type": "object", "properties": {"readonly": BOOLEAN},
                                "required": ["readonly"], "additionalProperties": False},
    "os-reset_status": {"type": "object", "properties": {
        "status": {"type": "string", "maxLength": 255},
        "attach_status": {"type": "string", "maxLength": 255},
        "migration_status": {"type": ["string", "null"], "maxLength": 255}},
        "additionalProperties": False, "minProperties": 1},
    "os-force_delete": EMPTY,
    "os-retype": {"type": "object", "properties": {
        "new_type": {"type": "string", "minLength": 1, "maxLength": 255},
        "migration_policy": {"enum": ["never", "on-demand", None]}},
        "required": ["new_type"], "additionalProperties": False},
    "os-set_image_metadata": {"type": "object", "properties": {"metadata": METADATA},
                              "required": ["metadata"], "additionalProperties": False},
    "os-unset_image_metadata": {"type": "object", "properties": {
        "key": {"type": "string", "minLength": 1, "maxLength": 255}}, "required": ["key"],
        "additionalProperties": False},
    "os-show_image_metadata": EMPTY,
    "os-volume_upload_image": {"type": "object", "properties": {
        "image_name": REQUIRED_NAME, "force": BOOLEAN,
        "disk_format": {"type": "string", "maxLength": 255},
        "container_format": {"type": "string", "maxLength": 255},
        "visibility": {"enum": ["public", "private", "community", "shared"]},
        "protected": BOOLEAN}, "required": ["image_name"], "additionalProperties": False},
    "os-reserve": EMPTY, "os-unreserve": EMPTY, "os-begin_detaching": EMPTY,
    "os-roll_detaching": EMPTY,
    "os-initialize_connection": {"type": "object", "properties": {"connector": CONNECTOR},
                                 "required": ["connector"], "additionalProperties": False},
    "os-terminate_connection": {"type": "object", "properties": {"connector": CONNECTOR},
                                "required": ["connector"], "additionalProperties": False},
    "os-attach": {"type": "object", "properties": {
        "instance_uuid": UUID_OR_NULL, "host_name": NAME,
        "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
        "mode": {"enum": ["rw", "ro"]}}, "required": ["mountpoint"],
        "additionalProperties": False},
    "os-detach": {"type": ["object", "null"], "properties": {"attachment_id": UUID_OR_NULL},
                  "additionalProperties": False},
    "os-force_detach": {"type": ["object", "null"], "properties": {
        "attachment_id": UUID_OR_NULL, "connector": {"anyOf": [{"type": "null"}, CONNECTOR]}},
        "additionalProperties": False},
}
ACTION_BODY = {"type": "object", "minProperties": 1, "maxProperties": 1}

# ------------------------------------------------------------------ types
TYPE_CREATE = _wrap("volume_type", {
    "name": REQUIRED_NAME, "description": NAME,
    "os-volume-type-access:is_public": BOOLEAN, "is_public": BOOLEAN,
    "extra_specs": {"type": "object", "patternProperties": {
        _KEY: {"type": "string", "maxLength": 255}}, "additionalProperties": False}},
    ["name"])
TYPE_UPDATE = _wrap("volume_type", {"name": REQUIRED_NAME, "description": NAME,
                                    "is_public": BOOLEAN}, min_properties=1)
EXTRA_SPECS = {"type": "object", "properties": {"extra_specs": {
    "type": "object", "patternProperties": {_KEY: {"type": ["string", "boolean"],
                                                   "maxLength": 255}},
    "additionalProperties": False}}, "required": ["extra_specs"], "additionalProperties": False}
EXTRA_SPEC_ITEM = {"type": "object", "patternProperties": {
    _KEY: {"type": ["string", "boolean"], "maxLength": 255}},
    "additionalProperties": False, "minProperties": 1, "maxProperties": 1}
TYPE_ACCESS = {"type": "object", "properties": {
    "project": {"type": "string", "minLength": 1, "maxLength": 255}},
    "required": ["project"], "additionalProperties": False}

# ------------------------------------------------------------------ snapshots
SNAPSHOT_CREATE = _wrap("snapshot", {
    "volume_id": UUID, "force": BOOLEAN, "name": NAME, "description": NAME,
    "display_name": NAME, "display_description": NAME, "metadata": NULLABLE_METADATA},
    ["volume_id"])
SNAPSHOT_UPDATE = _wrap("snapshot", {"name": NAME, "description": NAME, "display_name": NAME,
                                     "display_description": NAME})
STATUS_ONLY = {"type": "object", "properties": {"status": {"type": "string",
                                                            "maxLength": 255}},
               "required": ["status"], "additionalProperties": False}

# ------------------------------------------------------------------ backups
BACKUP_CREATE = _wrap("backup", {
    "volume_id": UUID, "container": NAME, "description": NAME, "name": NAME,
    "incremental": BOOLEAN, "force": BOOLEAN, "snapshot_id": UUID_OR_NULL,
    "metadata": NULLABLE_METADATA, "availability_zone": NAME}, ["volume_id"])
BACKUP_UPDATE = _wrap("backup", {"name": NAME, "description": NAME,
                                 "metadata": NULLABLE_METADATA})
RESTORE = {"type": "object", "properties": {"restore": {
    "type": ["object", "null"], "properties": {"volume_id": UUID_OR_NULL, "name": NAME},
    "additionalProperties": False}}, "required": ["restore"], "additionalProperties": False}

# ------------------------------------------------------------------ attachments
ATTACHMENT_CREATE = _wrap("attachment", {
    "volume_uuid": UUID, "instance_uuid": UUID_OR_NULL,
    "connector": {"anyOf": [{"type": "null"}, CONNECTOR]}, "mode": {"enum": ["rw", "ro"]}},
    ["volume_uuid"])
ATTACHMENT_UPDATE = _wrap("attachment", {"connector": CONNECTOR}, ["connector"])
ATTACHMENT_ACTION = {"type": "object", "properties": {"os-complete": EMPTY},
                     "required": ["os-complete"], "additionalProperties": False}

# ------------------------------------------------------------------ quotas, services
_LIMIT = {"anyOf": [{"type": "integer", "minimum": -1, "maximum": 2 ** 31 - 1},
                    {"type": "string", "pattern": r"^\s*-?[0-9]{1,10}\s*$"}]}
QUOTA_UPDATE = {"type": "object", "properties": {"quota_set": {
    "type": "object", "properties": {"tenant_id": {"type": "string"}},
    "additionalProperties": _LIMIT}}, "required": ["quota_set"], "additionalProperties": False}
SERVICE_UPDATE = {"type": "object", "properties": {
    "host": {"type": "string", "minLength": 1, "maxLength": 255},
    "binary": {"type": "string", "minLength": 1, "maxLength": 255},
    "disabled_reason": NAME}, "required": ["host"], "additionalProperties": False}


_LENIENT: dict[int, dict[str, Any]] = {}


def lenient(schema: dict[str, Any]) -> dict[str, Any]:
    """schema with unknown fields allowed in the body and its resource (Cinder before
    3.53 ignored them); cached so the validator cache keeps working."""
    if id(schema) not in _LENIENT:
        loose = copy.deepcopy(schema)
        loose["additionalProperties"] = True
        for inner in loose.get("properties", {}).values():
            if isinstance(inner, dict) and inner.get("type") == "object":
                inner["additionalProperties"] = True
        _LENIENT[id(schema)] = loose
    return _LENIENT[id(schema)]


def single_item(body: dict[str, Any], key: str) -> Any:
    """The value of a one-item body whose key must be the URL's key.

    :raises BadRequest: the body's key is not the URL's.
    """
    if key not in body:
        raise exceptions.BadRequest("Request body and URI mismatch")
    return body[key]
