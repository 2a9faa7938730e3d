"""/os-server-groups: create, list (all_projects for admins, limit/offset), show, delete.

Served in the shape below 2.64: a one-element ``policies`` list and empty ``metadata``.
"""

from __future__ import annotations

from typing import Any

import flask

from controller import exceptions
from controller.api import auth, compute, handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import _NAME
from controller.compute import server_groups

_BASE_POLICIES = ["affinity", "anti-affinity"]
_SOFT_POLICIES = ["soft-affinity", "soft-anti-affinity"]


def _schema(with_soft: bool) -> dict[str, Any]:
    names = _BASE_POLICIES + (_SOFT_POLICIES if with_soft else [])
    return {"type": "object", "required": ["server_group"], "additionalProperties": False,
            "properties": {"server_group": {
                "type": "object", "required": ["name", "policies"],
                "additionalProperties": False,
                "properties": {"name": _NAME, "policies": {
                    "type": "array", "items": {"type": "string", "enum": names},
                    "minItems": 1, "maxItems": 1, "uniqueItems": True}}}}}


_CREATE = _schema(False)
_CREATE_215 = _schema(True)


def _view(group: Any, members: list[str]) -> dict[str, Any]:
    view = {"id": group.uuid, "name": group.name, "policies": [group.policy],
            "members": members, "metadata": {}}
    if compute.at_least("2.13"):
        view.update(project_id=group.project_id, user_id=group.user_id)
    return view


def _offset_limit() -> tuple[int, int | None]:
    args = flask.request.args
    try:
        offset = int(args.get("offset", 0))
        limit = int(args["limit"]) if "limit" in args else None
    except ValueError as exc:
        raise exceptions.BadRequest("limit and offset must be integers.") from exc
    if offset < 0 or (limit is not None and limit < 0):
        raise exceptions.BadRequest("limit and offset must be zero or positive.")
    return offset, limit


@bp.post("/v2.1/os-server-groups")
def create_server_group():
    ctx = handler.authorize("os_compute_api:os-server-groups:create")
    server_access.require_project(ctx)
    body = validation.body(_CREATE_215 if compute.at_least("2.15") else _CREATE)
    args = body["server_group"]
    group = server_groups.create(handler.runtime(), ctx, args["name"], args["policies"][0])
    return {"server_group": _view(group, [])}


@bp.get("/v2.1/os-server-groups")
def list_server_groups():
    ctx = handler.authorize("os_compute_api:os-server-groups:index")
    server_access.require_project(ctx)
    all_projects = "all_projects" in flask.request.args and handler.allowed(
        ctx, "os_compute_api:os-server-groups:index:all_projects")
    offset, limit = _offset_limit()
    rows = server_groups.list_(handler.runtime(), ctx, all_projects)
    rows = rows[offset:] if limit is None else rows[offset:offset + limit]
    members = server_groups.members(handler.runtime(), [row.uuid for row in rows])
    return {"server_groups": [_view(row, members[row.uuid]) for row in rows]}


def _load(rule: str, group_id: str):
    ctx = auth.require_context()
    group = server_groups.get(handler.runtime(), ctx, group_id)
    handler.authorize(rule, {"project_id": group.project_id, "user_id": group.user_id})
    return ctx, group


@bp.get("/v2.1/os-server-groups/<group_id>")
def show_server_group(group_id: str):
    _, group = _load("os_compute_api:os-server-groups:show", group_id)
    members = server_groups.members(handler.runtime(), [group.uuid])[group.uuid]
    return {"server_group": _view(group, members)}


@bp.delete("/v2.1/os-server-groups/<group_id>")
def delete_server_group(group_id: str):
    ctx, group = _load("os_compute_api:os-server-groups:delete", group_id)
    server_groups.delete(handler.runtime(), ctx, group.uuid)
    return handler.no_content()
