"""JSON schemas for identity request bodies (Keystone's limits)."""

from __future__ import annotations

from controller.api.validation import BOOLEAN, DESCRIPTION, ID, NAME, NULLABLE_ID, string


def _wrapped(key: str, properties: dict, required: list[str] | None = None,
             additional: bool = False) -> dict:
    inner = {"type": "object", "properties": properties, "additionalProperties": additional}
    if required:
        inner["required"] = required
    return {"type": "object", "properties": {key: inner}, "required": [key],
            "additionalProperties": False}


_DOMAIN_REF = {"type": "object", "properties": {"id": ID, "name": string(64, 1)},
               "additionalProperties": False, "minProperties": 1}
_USER_REF = {"type": "object",
             "properties": {"id": ID, "name": string(255, 1), "domain": _DOMAIN_REF,
                            "password": string(4096)},
             "additionalProperties": False,
             "anyOf": [{"required": ["id"]}, {"required": ["name", "domain"]}]}
_TAGS = {"type": "array", "maxItems": 80, "uniqueItems": True,
         "items": {"type": "string", "minLength": 1, "maxLength": 255,
                   "pattern": "^[^,/]*$"}}

AUTH = {
    "type": "object", "required": ["auth"], "additionalProperties": False,
    "properties": {"auth": {
        "type": "object", "required": ["identity"], "additionalProperties": False,
        "properties": {
            "identity": {
                "type": "object", "required": ["methods"], "additionalProperties": False,
                "properties": {
                    "methods": {"type": "array", "minItems": 1, "uniqueItems": True,
                                "items": {"enum": ["password", "token",
                                                   "application_credential"]}},
                    "password": {"type": "object", "required": ["user"],
                                 "additionalProperties": False,
                                 "properties": {"user": _USER_REF}},
                    "token": {"type": "object", "required": ["id"],
                              "additionalProperties": False,
                              "properties": {"id": string(1024, 1)}},
                    "application_credential": {
                        "type": "object", "required": ["secret"],
                        "additionalProperties": False,
                        "properties": {"id": ID, "name": string(255, 1),
                                       "secret": string(4096, 1), "user": _USER_REF},
                        "anyOf": [{"required": ["id"]}, {"required": ["name", "user"]}]},
                },
            },
            "scope": {"oneOf": [
                {"enum": ["unscoped"]},
                {"type": "object", "additionalProperties": False,
                 "maxProperties": 1, "minProperties": 1,
                 "properties": {
                     "project": {"type": "object", "additionalProperties": False,
                                 "properties": {"id": ID, "name": string(64, 1),
                                                "domain": _DOMAIN_REF},
                                 "anyOf": [{"required": ["id"]},
                                           {"required": ["name", "domain"]}]},
                     "domain": _DOMAIN_REF,
                     "system": {"type": "object"},
                 }},
            ]},
        },
    }},
}

DOMAIN_PROPS = {"name": NAME, "description": DESCRIPTION, "enabled": BOOLEAN,
                "tags": _TAGS, "options": {"type": "object"}}
DOMAIN_CREATE = _wrapped("domain", {**DOMAIN_PROPS, "explicit_domain_id": ID}, ["name"])
DOMAIN_UPDATE = _wrapped("domain", DOMAIN_PROPS)

PROJECT_PROPS = {"name": NAME, "description": DESCRIPTION, "enabled": BOOLEAN,
                 "tags": _TAGS, "options": {"type": "object"}}
PROJECT_CREATE = _wrapped("project", {**PROJECT_PROPS, "domain_id": NULLABLE_ID,
                                      "parent_id": NULLABLE_ID,
                                      "is_domain": {"const": False}}, ["name"])
PROJECT_UPDATE = _wrapped("project", PROJECT_PROPS)

_PASSWORD = {"type": ["string", "null"], "maxLength": 4096}
USER_PROPS = {"name": string(255, 1), "enabled": BOOLEAN, "password": _PASSWORD,
              "default_project_id": NULLABLE_ID, "description": DESCRIPTION,
              "email": {"type": ["string", "null"], "maxLength": 255},
              "options": {"type": "object"}}
USER_CREATE = _wrapped("user", {**USER_PROPS, "domain_id": NULLABLE_ID}, ["name"],
                       additional=True)
USER_UPDATE = _wrapped("user", USER_PROPS, additional=True)
PASSWORD_CHANGE = _wrapped("user", {"original_password": string(4096, 0),
                                    "password": string(4096, 1)},
                           ["original_password", "password"])

GROUP_PROPS = {"name": NAME, "description": DESCRIPTION}
GROUP_CREATE = _wrapped("group", {**GROUP_PROPS, "domain_id": NULLABLE_ID}, ["name"])
GROUP_UPDATE = _wrapped("group", GROUP_PROPS)

ROLE_PROPS = {"name": string(255, 1), "description": DESCRIPTION,
              "options": {"type": "object"}}
ROLE_CREATE = _wrapped("role", {**ROLE_PROPS, "domain_id": NULLABLE_ID}, ["name"])
ROLE_UPDATE = _wrapped("role", ROLE_PROPS)

REGION_PROPS = {"description": DESCRIPTION, "parent_region_id": NULLABLE_ID}
REGION_CREATE = _wrapped("region", {**REGION_PROPS, "id": string(255, 1)})
REGION_UPDATE = _wrapped("region", REGION_PROPS)

SERVICE_PROPS = {"type": string(255, 1), "name": string(255), "description": DESCRIPTION,
                 "enabled": BOOLEAN}
SERVICE_CREATE = _wrapped("service", SERVICE_PROPS, ["type"])
SERVICE_UPDATE = _wrapped("service", SERVICE_PROPS)

_INTERFACE = {"enum": ["public", "internal", "admin"]}
_URL = {"type": "string", "minLength": 1, "maxLength": 1024, "pattern": "^[a-zA-Z0-9+.-]+://"}
ENDPOINT_PROPS = {"service_id": ID, "interface": _INTERFACE, "url": _URL,
                  "region_id": NULLABLE_ID, "region": NULLABLE_ID, "enabled": BOOLEAN}
ENDPOINT_CREATE = _wrapped("endpoint", ENDPOINT_PROPS, ["service_id", "interface", "url"])
ENDPOINT_UPDATE = _wrapped("endpoint", ENDPOINT_PROPS)

_ROLE_REF = {"type": "object", "properties": {"id": ID, "name": string(255, 1)},
             "minProperties": 1, "additionalProperties": True}
APP_CRED_CREATE = _wrapped("application_credential", {
    "name": string(255, 1), "description": DESCRIPTION,
    "secret": {"type": ["string", "null"], "minLength": 1, "maxLength": 4096},
    "expires_at": {"type": ["string", "null"], "maxLength": 64},
    "roles": {"type": "array", "items": _ROLE_REF, "maxItems": 100},
    "unrestricted": BOOLEAN,
    "access_rules": {"type": "array", "maxItems": 0},
}, ["name"])
