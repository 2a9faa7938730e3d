"""JSON schemas of the server networking bodies (Nova's): interface attach, the
security group and floating IP actions."""

from __future__ import annotations

import functools
from typing import Any

from controller.api.compute.schemas.servers import IP_ADDRESS, TAG


def _action(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "required": [name], "additionalProperties": False,
            "properties": {name: {"type": "object", "properties": properties,
                                  "required": required, "additionalProperties": False}}}


# Nova only requires a non-empty string: a group's name or its id.
ADD_SECURITY_GROUP = _action("addSecurityGroup",
                             {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
                             ["name"])
REMOVE_SECURITY_GROUP = _action("removeSecurityGroup",
                                {"name": {"type": "string", "minLength": 1,
                                          "maxLength": 255}}, ["name"])
ADD_FLOATING_IP = _action("addFloatingIp", {"address": IP_ADDRESS,
                                            "fixed_address": IP_ADDRESS}, ["address"])
REMOVE_FLOATING_IP = _action("removeFloatingIp", {"address": IP_ADDRESS}, ["address"])


@functools.cache
def _attach(with_tag: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "net_id": {"type": "string", "format": "uuid"},
        "port_id": {"type": "string", "format": "uuid"},
        "fixed_ips": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
            "type": "object", "properties": {"ip_address": IP_ADDRESS},
            "required": ["ip_address"], "additionalProperties": False}},
    }
    if with_tag:
        properties["tag"] = TAG
    return {"type": "object", "additionalProperties": False, "properties": {
        "interfaceAttachment": {"type": "object", "properties": properties,
                                "additionalProperties": False}}}


def attach(at_least) -> dict[str, Any]:
    """The interface attach body at the request's microversion (tag from 2.49)."""
    return _attach(at_least("2.49"))
