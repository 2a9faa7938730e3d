"""/servers/{id}/metadata: list, replace (PUT), merge (POST); one item: show, set, delete."""

from __future__ import annotations

from controller import exceptions
from controller.api import handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import servers as server_schemas
from controller.compute import server_metadata

_METADATA = {"type": "object", "required": ["metadata"], "additionalProperties": False,
             "properties": {"metadata": server_schemas.METADATA}}
_ITEM = {"type": "object", "required": ["meta"], "additionalProperties": False,
         "properties": {"meta": {**server_schemas.METADATA, "minProperties": 1,
                                 "maxProperties": 1}}}


@bp.get("/v2.1/servers/<server_id>/metadata")
def list_server_metadata(server_id: str):
    _, instance = server_access.load("os_compute_api:server-metadata:index", server_id)
    return {"metadata": server_metadata.get_metadata(instance)}


def _set(server_id: str, rule: str, replace: bool):
    ctx, instance = server_access.load(rule, server_id)
    metadata = validation.body(_METADATA)["metadata"]
    return {"metadata": server_metadata.set_metadata(handler.runtime(), ctx, instance.uuid,
                                                     metadata, replace)}


@bp.put("/v2.1/servers/<server_id>/metadata")
def replace_server_metadata(server_id: str):
    return _set(server_id, "os_compute_api:server-metadata:update_all", replace=True)


@bp.post("/v2.1/servers/<server_id>/metadata")
def merge_server_metadata(server_id: str):
    return _set(server_id, "os_compute_api:server-metadata:create", replace=False)


@bp.get("/v2.1/servers/<server_id>/metadata/<key>")
def show_server_metadata_item(server_id: str, key: str):
    _, instance = server_access.load("os_compute_api:server-metadata:show", server_id)
    metadata = server_metadata.get_metadata(instance)
    if key not in metadata:
        raise exceptions.NotFound("Metadata item was not found")
    return {"meta": {key: metadata[key]}}


@bp.put("/v2.1/servers/<server_id>/metadata/<key>")
def set_server_metadata_item(server_id: str, key: str):
    ctx, instance = server_access.load("os_compute_api:server-metadata:update", server_id)
    meta = validation.body(_ITEM)["meta"]
    if key not in meta:
        raise exceptions.BadRequest("Request body and URI mismatch")
    server_metadata.set_metadata(handler.runtime(), ctx, instance.uuid, meta, replace=False)
    return {"meta": meta}


@bp.delete("/v2.1/servers/<server_id>/metadata/<key>")
def delete_server_metadata_item(server_id: str, key: str):
    ctx, instance = server_access.load("os_compute_api:server-metadata:delete", server_id)
    server_metadata.delete_metadata_item(handler.runtime(), ctx, instance.uuid, key)
    return handler.no_content()
