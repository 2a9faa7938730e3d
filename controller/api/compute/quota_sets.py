"""/os-quota-sets/{project_id}: show, detail (in_use), defaults, update (admin), delete.

The keys follow the microversion: the network-ish ones are gone from 2.36, the
personality ones from 2.57.
"""

from __future__ import annotations

from typing import Any

import flask

from controller.api import auth, compute, handler, validation
from controller.api.compute import bp
from controller.compute import quotas

_LIMIT = {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "minimum": -1,
          "maximum": 0x7FFFFFFF, "maxLength": 11}


def _keys() -> list[str]:
    keys = list(quotas.COMPUTE_KEYS)
    if compute.at_least("2.57"):
        keys = [key for key in keys if key not in quotas.PERSONALITY_KEYS]
    if not compute.at_least("2.36"):
        keys += list(quotas.NETWORK_KEYS)
    return sorted(keys)


def _update_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {key: _LIMIT for key in _keys()}
    properties["force"] = {"type": ["boolean", "string"],
                           "enum": [True, False, "True", "False", "true", "false"]}
    return {"type": "object", "required": ["quota_set"], "additionalProperties": False,
            "properties": {"quota_set": {"type": "object", "properties": properties,
                                         "additionalProperties": False}}}


_SCHEMAS: dict[tuple[bool, bool], dict[str, Any]] = {}


def _schema() -> dict[str, Any]:
    key = (compute.at_least("2.36"), compute.at_least("2.57"))
    if key not in _SCHEMAS:
        _SCHEMAS[key] = _update_schema()
    return _SCHEMAS[key]


def _authorize(rule: str, project_id: str):
    auth.require_context()
    return handler.authorize(rule, {"project_id": project_id})


def _project(project_id: str) -> str:
    return project_id[:255]


@bp.get("/v2.1/os-quota-sets/<project_id>")
def show_quota_set(project_id: str):
    project_id = _project(project_id)
    _authorize("os_compute_api:os-quota-sets:show", project_id)
    limits = quotas.limits(handler.runtime(), project_id)
    return {"quota_set": {"id": project_id, **{key: limits[key] for key in _keys()}}}


@bp.get("/v2.1/os-quota-sets/<project_id>/detail")
def show_quota_set_detail(project_id: str):
    project_id = _project(project_id)
    ctx = _authorize("os_compute_api:os-quota-sets:detail", project_id)
    rt = handler.runtime()
    limits = quotas.limits(rt, project_id)
    used = quotas.usage(rt, project_id, flask.request.args.get("user_id") or ctx.user_id)
    return {"quota_set": {"id": project_id, **{
        key: {"limit": limits[key], "in_use": used.get(key, 0), "reserved": 0}
        for key in _keys()}}}


@bp.get("/v2.1/os-quota-sets/<project_id>/defaults")
def show_quota_defaults(project_id: str):
    project_id = _project(project_id)
    _authorize("os_compute_api:os-quota-sets:defaults", project_id)
    defaults = quotas.defaults(handler.runtime())
    return {"quota_set": {"id": project_id, **{key: defaults[key] for key in _keys()}}}


@bp.put("/v2.1/os-quota-sets/<project_id>")
def update_quota_set(project_id: str):
    project_id = _project(project_id)
    _authorize("os_compute_api:os-quota-sets:update", project_id)
    body = dict(validation.body(_schema())["quota_set"])
    force = str(body.pop("force", False)).lower() == "true"
    values = {key: int(value) for key, value in body.items()}
    limits = quotas.set_limits(handler.runtime(), project_id, values, force=force)
    return {"quota_set": {key: limits[key] for key in _keys()}}


@bp.delete("/v2.1/os-quota-sets/<project_id>")
def delete_quota_set(project_id: str):
    project_id = _project(project_id)
    _authorize("os_compute_api:os-quota-sets:delete", project_id)
    quotas.reset(handler.runtime(), project_id)
    return flask.Response(status=202)
