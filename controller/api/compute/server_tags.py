"""/servers/{id}/tags (microversion 2.26): list, replace, delete all; one tag: check,
add, delete."""

from __future__ import annotations

import re

import flask

from controller import exceptions
from controller.api import compute, handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import servers as server_schemas
from controller.compute import server_metadata

_TAGS = {"type": "object", "required": ["tags"], "additionalProperties": False,
         "properties": {"tags": {"type": "array", "items": server_schemas.TAG,
                                 "maxItems": server_metadata.MAX_TAGS}}}
_TAG_RE = re.compile(r"^[^,/]{1,60}$")


def _load(rule: str, server_id: str):
    if not compute.at_least("2.26"):
        raise exceptions.NotFound("The resource could not be found.")
    return server_access.load(rule, server_id)


def _check_tag(tag: str) -> None:
    if not _TAG_RE.match(tag) or any(ord(ch) < 32 for ch in tag):
        raise exceptions.BadRequest(f"Tag '{tag[:64]}' is invalid: 1-60 characters, no "
                                    "',' or '/'.")


@bp.get("/v2.1/servers/<server_id>/tags")
def list_server_tags(server_id: str):
    _, instance = _load("os_compute_api:os-server-tags:index", server_id)
    return {"tags": server_metadata.get_tags(instance)}


@bp.put("/v2.1/servers/<server_id>/tags")
def replace_server_tags(server_id: str):
    ctx, instance = _load("os_compute_api:os-server-tags:update_all", server_id)
    tags = validation.body(_TAGS)["tags"]
    result, _ = server_metadata.set_tags(handler.runtime(), ctx, instance.uuid, tags,
                                         replace=True)
    return {"tags": result}


@bp.delete("/v2.1/servers/<server_id>/tags")
def delete_server_tags(server_id: str):
    ctx, instance = _load("os_compute_api:os-server-tags:delete_all", server_id)
    server_metadata.delete_tags(handler.runtime(), ctx, instance.uuid)
    return handler.no_content()


@bp.get("/v2.1/servers/<server_id>/tags/<tag>")
def check_server_tag(server_id: str, tag: str):
    _, instance = _load("os_compute_api:os-server-tags:show", server_id)
    if tag not in server_metadata.get_tags(instance):
        raise exceptions.NotFound(f"Tag {tag[:60]} could not be found.")
    return handler.no_content()


@bp.put("/v2.1/servers/<server_id>/tags/<tag>")
def add_server_tag(server_id: str, tag: str):
    ctx, instance = _load("os_compute_api:os-server-tags:update", server_id)
    _check_tag(tag)
    _, added = server_metadata.set_tags(handler.runtime(), ctx, instance.uuid, [tag],
                                        replace=False)
    response = flask.Response(status=201 if added else 204)
    response.headers["Location"] = flask.request.base_url
    return response


@bp.delete("/v2.1/servers/<server_id>/tags/<tag>")
def delete_server_tag(server_id: str, tag: str):
    ctx, instance = _load("os_compute_api:os-server-tags:delete", server_id)
    server_metadata.delete_tags(handler.runtime(), ctx, instance.uuid, tag)
    return handler.no_content()
