"""JSON schemas of server bodies (create, update, actions), per microversion, as Nova's.

Each builder is cached per distinct schema, so the validator cache keyed by schema
identity stays bounded.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from controller.api.compute.schemas import _BOOLEAN, _NAME

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
METADATA = {"type": "object",
            "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string",
                                                                 "maxLength": 255}},
            "additionalProperties": False}
DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 255,
               "pattern": _PRINTABLE}
TAG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": r"^[^,/]*$"}
IMAGE_ID = {"type": "string", "format": "uuid"}
IMAGE_ID_OR_EMPTY = {"oneOf": [IMAGE_ID, {"type": "string", "maxLength": 0}]}
FLAVOR_REF = {"type": ["string", "integer"], "minLength": 1, "maxLength": 255}
POSITIVE_INT = {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1,
                "maximum": 0x7FFFFFFF, "minLength": 1, "maxLength": 10}
DISK_CONFIG = {"type": "string", "enum": ["AUTO", "MANUAL"]}
ACCESS_IP_V4 = {"type": "string", "format": "ipv4"}
ACCESS_IP_V6 = {"type": "string", "format": "ipv6"}
ADMIN_PASSWORD = {"type": "string", "maxLength": 255}
USER_DATA = {"type": "string", "maxLength": 65535}  # base64: checked by the service
PERSONALITY = {"type": "array", "items": {
    "type": "object", "properties": {"path": {"type": "string"},
                                     "contents": {"type": "string"}},
    "additionalProperties": False}}
IP_ADDRESS = {"oneOf": [{"type": "string", "format": "ipv4"},
                        {"type": "string", "format": "ipv6"}]}

_BDM = {"type": "object", "properties": {
    "virtual_name": {"type": "string", "maxLength": 255},
    "volume_id": {"type": "string", "format": "uuid"},
    "snapshot_id": {"type": "string", "format": "uuid"},
    "volume_size": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
    "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                    "pattern": r"^[a-zA-Z0-9._\-/]*$"},
    "delete_on_termination": _BOOLEAN,
    "no_device": {},
    "connection_info": {"type": "string", "maxLength": 16777215},
}, "additionalProperties": False}
_BDM_V2 = copy.deepcopy(_BDM)
_BDM_V2["properties"].update({
    "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
    "uuid": {"type": "string", "minLength": 1, "maxLength": 255,
             "pattern": r"^[a-zA-Z0-9._-]*$"},
    "image_id": IMAGE_ID,
    "destination_type": {"type": "string", "enum": ["local", "volume"]},
    "guest_format": {"type": "string", "maxLength": 255},
    "device_type": {"type": "string", "maxLength": 255},
    "disk_bus": {"type": "string", "maxLength": 255},
    "boot_index": {"type": ["integer", "string", "null"], "pattern": r"^-?[0-9]+$"},
})

HINTS = {"type": "object", "properties": {"group": {"type": "string", "format": "uuid"}},
         "additionalProperties": True}


def _network_item(with_tag: bool, uuid_format: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "fixed_ip": IP_ADDRESS,
        "port": {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
        "uuid": {"type": "string", "format": "uuid"} if uuid_format else {"type": "string"},
    }
    if with_tag:
        properties["tag"] = TAG
    return {"type": "object", "properties": properties, "additionalProperties": False}


@functools.cache
def _create(description: bool, networks_v237: bool, net_tag: bool, tags: bool,
            personality: bool) -> dict[str, Any]:
    bdm_v2 = copy.deepcopy(_BDM_V2)
    if net_tag:
        bdm_v2["properties"]["tag"] = TAG
    properties: dict[str, Any] = {
        "name": _NAME, "imageRef": IMAGE_ID_OR_EMPTY, "flavorRef": FLAVOR_REF,
        "adminPass": ADMIN_PASSWORD, "metadata": METADATA,
        "networks": {"type": "array", "items": _network_item(net_tag, False)},
        "OS-DCF:diskConfig": DISK_CONFIG, "accessIPv4": ACCESS_IP_V4,
        "accessIPv6": ACCESS_IP_V6, "availability_zone": _NAME,
        "block_device_mapping": {"type": "array", "items": _BDM},
        "block_device_mapping_v2": {"type": "array", "items": bdm_v2},
        "config_drive": _BOOLEAN, "key_name": _NAME, "min_count": POSITIVE_INT,
        "max_count": POSITIVE_INT, "return_reservation_id": _BOOLEAN,
        "security_groups": {"type": "array", "items": {
            "type": "object", "properties": {"name": _NAME}, "additionalProperties": False}},
        "user_data": USER_DATA,
    }
    required = ["name", "flavorRef"]
    if personality:
        properties["personality"] = PERSONALITY
    if description:
        properties["description"] = DESCRIPTION
    if networks_v237:
        properties["networks"] = {"oneOf": [
            {"type": "array", "items": _network_item(net_tag, True)},
            {"type": "string", "enum": ["none", "auto"]}]}
        required.append("networks")
    if tags:
        properties["tags"] = {"type": "array", "items": TAG, "maxItems": 50}
    return {"type": "object", "required": ["server"], "additionalProperties": False,
            "properties": {
                "server": {"type": "object", "properties": properties,
                           "required": required, "additionalProperties": False},
                "os:scheduler_hints": HINTS, "OS-SCH-HNT:scheduler_hints": HINTS}}


def create(at_least) -> dict[str, Any]:
    """The create schema at the request's microversion (at_least: version predicate)."""
    return _create(at_least("2.19"), at_least("2.37"), at_least("2.32"), at_least("2.52"),
                   not at_least("2.57"))


@functools.cache
def _update(description: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"name": _NAME, "OS-DCF:diskConfig": DISK_CONFIG,
                                  "accessIPv4": ACCESS_IP_V4, "accessIPv6": ACCESS_IP_V6}
    if description:
        properties["description"] = DESCRIPTION
    return {"type": "object", "required": ["server"], "additionalProperties": False,
            "properties": {"server": {"type": "object", "properties": properties,
                                      "additionalProperties": False}}}


def update(at_least) -> dict[str, Any]:
    return _update(at_least("2.19"))


@functools.cache
def _rebuild(description: bool, key_name: bool, v257: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "name": _NAME, "imageRef": IMAGE_ID, "adminPass": ADMIN_PASSWORD,
        "metadata": METADATA, "preserve_ephemeral": _BOOLEAN,
        "OS-DCF:diskConfig": DISK_CONFIG, "accessIPv4": ACCESS_IP_V4,
        "accessIPv6": ACCESS_IP_V6,
    }
    if description:
        properties["description"] = DESCRIPTION
    if key_name:
        properties["key_name"] = {"oneOf": [_NAME, {"type": "null"}]}
    if v257:
        properties["user_data"] = {"oneOf": [USER_DATA, {"type": "null"}]}
    else:
        properties["personality"] = PERSONALITY
    return {"type": "object", "required": ["rebuild"], "additionalProperties": False,
            "properties": {"rebuild": {"type": "object", "properties": properties,
                                       "required": ["imageRef"],
                                       "additionalProperties": False}}}


def rebuild(at_least) -> dict[str, Any]:
    return _rebuild(at_least("2.19"), at_least("2.54"), at_least("2.57"))


def _action(name: str, properties: dict[str, Any] | None, required: list[str] | None = None,
            nullable: bool = False) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": ["object", "null"] if nullable else "object",
                             "properties": properties or {}, "additionalProperties": False}
    if required:
        inner["required"] = required
    return {"type": "object", "required": [name], "additionalProperties": False,
            "properties": {name: inner}}


RESIZE = _action("resize", {"flavorRef": FLAVOR_REF, "OS-DCF:diskConfig": DISK_CONFIG},
                 ["flavorRef"])
CREATE_IMAGE = _action("createImage", {"name": _NAME, "metadata": METADATA}, ["name"])
REBOOT = _action("reboot", {"type": {"type": "string", "enum": [
    "HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}}, ["type"])
RESET_STATE = _action("os-resetState", {"state": {"type": "string",
                                                  "enum": ["active", "error"]}}, ["state"])
LOCK = _action("lock", {"locked_reason": {"type": "string", "minLength": 1,
                                          "maxLength": 255}}, nullable=True)
CONSOLE_OUTPUT = _action("os-getConsoleOutput", {"length": {
    "type": ["integer", "string", "null"], "pattern": r"^-?[0-9]+$", "minimum": -1}},
    nullable=True)
VNC_CONSOLE = _action("os-getVNCConsole", {"type": {
    "type": "string", "enum": ["novnc", "xvpvnc"]}}, ["type"])
SERIAL_CONSOLE = _action("os-getSerialConsole", {"type": {
    "type": "string", "enum": ["serial"]}}, ["type"])
REMOTE_CONSOLE = {"type": "object", "required": ["remote_console"],
                  "additionalProperties": False, "properties": {"remote_console": {
                      "type": "object", "required": ["protocol", "type"],
                      "additionalProperties": False, "properties": {
                          "protocol": {"type": "string",
                                       "enum": ["vnc", "spice", "rdp", "serial", "mks"]},
                          "type": {"type": "string",
                                   "enum": ["novnc", "xvpvnc", "rdp-html5",
                                            "spice-html5", "serial", "webmks"]}}}}}
# Actions whose body value Nova ignores (null or {}).
NO_BODY = {"type": ["object", "null"]}
