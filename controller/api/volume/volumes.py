"""/volumes: create, list (+detail, summary), show, update, delete, and metadata."""

from __future__ import annotations

from typing import Any

import flask

from controller import exceptions
from controller.api import handler, validation, volume
from controller.api.volume import params, route, schemas, views
from controller.volume import metadata, volumes


def _create_values(body: dict[str, Any]) -> dict[str, Any]:
    given = body["volume"]
    values = {
        "name": given.get("name", given.get("display_name")),
        "description": given.get("description", given.get("display_description")),
        "size": given.get("size"), "availability_zone": given.get("availability_zone"),
        "volume_type": given.get("volume_type"), "metadata": given.get("metadata"),
        "snapshot_id": given.get("snapshot_id"), "source_volid": given.get("source_volid"),
        "image_id": given.get("imageRef") or given.get("image_id"),
        "multiattach": schemas.truthy(given.get("multiattach", False)),
    }
    if given.get("backup_id"):
        if not volume.at_least("3.47"):
            raise exceptions.BadRequest("Creating a volume from a backup needs microversion "
                                        "3.47.")
        values["backup_id"] = given["backup_id"]
    if given.get("consistencygroup_id") or given.get("group_id"):
        raise exceptions.BadRequest("Volume groups and consistency groups are not supported.")
    return values


@route("/volumes", ["POST"])
def create_volume():
    ctx = volume.authorize("volume:create")
    values = _create_values(volume.body(schemas.VOLUME_CREATE))
    if values["image_id"]:
        volume.authorize("volume:create_from_image")
    if values["multiattach"]:
        volume.authorize("volume:multiattach")
    row = volumes.create(handler.runtime(), ctx, values)
    return {"volume": views.volume_detail(row)}, 202


def _list(detail: bool):
    ctx = volume.authorize("volume:get_all")
    query = params.list_query()
    rows, more, count = volumes.list_(handler.runtime(), ctx, query)
    view = views.volume_detail if detail else views.volume_summary
    return views.collection("volumes", [view(r) for r in rows], more,
                            count if params.with_count() else None,
                            rows[-1].id if rows else None)


@route("/volumes", ["GET"])
def list_volumes():
    return _list(detail=False)


@route("/volumes/detail", ["GET"])
def list_volumes_detail():
    return _list(detail=True)


@route("/volumes/summary", ["GET"])
def volume_summary():
    volume.require("3.12")
    ctx = volume.authorize("volume:get_all")
    result = volumes.summary(handler.runtime(), ctx,
                             bool(validation.bool_arg("all_tenants")))
    if not volume.at_least("3.36"):
        result.pop("metadata")
    return {"volume-summary": result}


@route("/volumes/<volume_id>", ["GET"])
def show_volume(volume_id: str):
    ctx = volume.authorize("volume:get")
    return {"volume": views.volume_detail(volumes.get(handler.runtime(), ctx, volume_id))}


@route("/volumes/<volume_id>", ["PUT"])
def update_volume(volume_id: str):
    ctx = volume.authorize("volume:update")
    given = volume.body(schemas.VOLUME_UPDATE)["volume"]
    values: dict[str, Any] = {}
    for key, legacy in (("name", "display_name"), ("description", "display_description")):
        if key in given or legacy in given:
            values[key] = given.get(key, given.get(legacy))
    if given.get("metadata") is not None:
        values["metadata"] = given["metadata"]
    row = volumes.update(handler.runtime(), ctx, volume_id, values)
    return {"volume": views.volume_detail(row)}


@route("/volumes/<volume_id>", ["DELETE"])
def delete_volume(volume_id: str):
    ctx = volume.authorize("volume:delete")
    cascade = bool(validation.bool_arg("cascade"))
    force = volume.at_least("3.23") and bool(validation.bool_arg("force"))
    if force:
        volume.authorize("volume:force_delete")
    volumes.delete(handler.runtime(), ctx, volume_id, cascade=cascade, force=force)
    return flask.Response(status=202)


# ------------------------------------------------------------------ metadata
@route("/volumes/<volume_id>/metadata", ["GET"])
def show_volume_metadata(volume_id: str):
    ctx = volume.authorize("volume:get_volume_metadata")
    return {"metadata": metadata.get(handler.runtime(), ctx, volume_id)}


@route("/volumes/<volume_id>/metadata", ["POST", "PUT"])
def set_volume_metadata(volume_id: str):
    replace = flask.request.method == "PUT"
    ctx = volume.authorize("volume:update_volume_metadata" if replace
                           else "volume:create_volume_metadata")
    items = validation.body(schemas.METADATA_BODY)["metadata"]
    return {"metadata": metadata.set_items(handler.runtime(), ctx, volume_id, items,
                                           replace=replace)}


@route("/volumes/<volume_id>/metadata/<key>", ["GET"])
def show_volume_metadata_item(volume_id: str, key: str):
    ctx = volume.authorize("volume:get_volume_metadata")
    items = metadata.get(handler.runtime(), ctx, volume_id)
    if key not in items:
        raise exceptions.NotFound(f"Volume {volume_id} has no metadata with key {key}.")
    return {"meta": {key: items[key]}}


@route("/volumes/<volume_id>/metadata/<key>", ["PUT"])
def set_volume_metadata_item(volume_id: str, key: str):
    ctx = volume.authorize("volume:update_volume_metadata")
    meta = validation.body(schemas.META_ITEM)["meta"]
    if len(meta) > 1:
        raise exceptions.BadRequest("Request body contains too many items")
    value = schemas.single_item(meta, key)
    metadata.set_items(handler.runtime(), ctx, volume_id, {key: value})
    return {"meta": {key: value}}


@route("/volumes/<volume_id>/metadata/<key>", ["DELETE"])
def delete_volume_metadata_item(volume_id: str, key: str):
    ctx = volume.authorize("volume:delete_volume_metadata")
    metadata.delete_item(handler.runtime(), ctx, volume_id, key)
    return flask.Response(status=200)
