"""JSON schemas of compute request bodies (Nova's rules)."""

from __future__ import annotations

from typing import Any

from controller.api.validation import DESCRIPTION

DB_MAX_INT = 0x7FFFFFFF
# Integers, or strings of digits, as Nova accepts for flavor sizes.
_POSITIVE = {"type": ["integer", "string"], "pattern": r"^[0-9]*$", "minimum": 1,
             "maximum": DB_MAX_INT}
_NON_NEGATIVE = {"type": ["integer", "string"], "pattern": r"^[0-9]*$", "minimum": 0,
                 "maximum": DB_MAX_INT}
_NAME = {"type": "string", "minLength": 1, "maxLength": 255,
         "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
_BOOLEAN = {"type": ["boolean", "string"],
            "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes",
                     "yes", False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO",
                     "No", "no"]}


def flavor_create(with_description: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "name": _NAME,
        "id": {"type": ["string", "integer", "null"], "minLength": 1, "maxLength": 255,
               "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
        "ram": _POSITIVE,
        "vcpus": _POSITIVE,
        "disk": _NON_NEGATIVE,
        "OS-FLV-EXT-DATA:ephemeral": _NON_NEGATIVE,
        "swap": _NON_NEGATIVE,
        "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                        "exclusiveMinimum": 0, "maximum": 3.40282e38},
        "os-flavor-access:is_public": _BOOLEAN,
    }
    if with_description:
        properties["description"] = DESCRIPTION
    return {"type": "object", "required": ["flavor"], "additionalProperties": False,
            "properties": {"flavor": {"type": "object", "properties": properties,
                                      "required": ["name", "ram", "vcpus", "disk"],
                                      "additionalProperties": False}}}


FLAVOR_CREATE = flavor_create(False)
FLAVOR_CREATE_255 = flavor_create(True)

FLAVOR_UPDATE = {
    "type": "object", "required": ["flavor"], "additionalProperties": False,
    "properties": {"flavor": {"type": "object", "required": ["description"],
                              "additionalProperties": False,
                              "properties": {"description": DESCRIPTION}}},
}

_SPEC_KEY = r"^[a-zA-Z0-9-_:. /]{1,255}$"
_SPEC_VALUE = {"type": ["string", "integer", "number", "boolean"], "maxLength": 255}

EXTRA_SPECS_CREATE = {
    "type": "object", "required": ["extra_specs"], "additionalProperties": False,
    "properties": {"extra_specs": {"type": "object", "patternProperties": {
        _SPEC_KEY: _SPEC_VALUE}, "additionalProperties": False}},
}
EXTRA_SPEC_UPDATE = {"type": "object", "minProperties": 1, "maxProperties": 1,
                     "patternProperties": {_SPEC_KEY: _SPEC_VALUE},
                     "additionalProperties": False}

_TENANT = {"type": "object", "required": ["tenant"], "additionalProperties": False,
           "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255,
                                     "pattern": r"^[^\x00-\x1f]+$"}}}
FLAVOR_ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1,
                 "additionalProperties": False,
                 "properties": {"addTenantAccess": _TENANT, "removeTenantAccess": _TENANT}}


def keypair_create(with_type: bool, with_user: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "name": {"type": "string"},  # checked by the service layer, with Nova's messages
        "public_key": {"type": "string", "maxLength": 65535},
    }
    if with_type:
        properties["type"] = {"type": "string", "enum": ["ssh", "x509"]}
    if with_user:
        properties["user_id"] = {"type": "string", "minLength": 1, "maxLength": 255}
    return {"type": "object", "required": ["keypair"], "additionalProperties": False,
            "properties": {"keypair": {"type": "object", "required": ["name"],
                                       "properties": properties,
                                       "additionalProperties": False}}}
