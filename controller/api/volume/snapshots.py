"""/snapshots: create, list (+detail), show, update, delete, metadata, admin actions."""

from __future__ import annotations

from typing import Any

import flask

from controller import exceptions
from controller.api import handler, validation, volume
from controller.api.volume import params, route, schemas, views
from controller.volume import snapshots


@route("/snapshots", ["POST"])
def create_snapshot():
    ctx = volume.authorize("volume:create_snapshot")
    given = volume.body(schemas.SNAPSHOT_CREATE)["snapshot"]
    values = {"name": given.get("name", given.get("display_name")),
              "description": given.get("description", given.get("display_description")),
              "force": schemas.truthy(given.get("force", False)),
              "metadata": given.get("metadata")}
    row = snapshots.create(handler.runtime(), ctx, given["volume_id"], values)
    return {"snapshot": views.snapshot(row, detail=False)}, 202


def _list(detail: bool):
    ctx = volume.authorize("volume:get_all_snapshots")
    rows, more, count = snapshots.list_(handler.runtime(), ctx, params.list_query())
    return views.collection("snapshots", [views.snapshot(r, detail) for r in rows], more,
                            count if params.with_count() else None,
                            rows[-1].id if rows else None)


@route("/snapshots", ["GET"])
def list_snapshots():
    return _list(detail=False)


@route("/snapshots/detail", ["GET"])
def list_snapshots_detail():
    return _list(detail=True)


@route("/snapshots/<snapshot_id>", ["GET"])
def show_snapshot(snapshot_id: str):
    ctx = volume.authorize("volume:get_snapshot")
    return {"snapshot": views.snapshot(snapshots.get(handler.runtime(), ctx, snapshot_id))}


@route("/snapshots/<snapshot_id>", ["PUT"])
def update_snapshot(snapshot_id: str):
    ctx = volume.authorize("volume:update_snapshot")
    given = volume.body(schemas.SNAPSHOT_UPDATE)["snapshot"]
    values: dict[str, Any] = {}
    for key, legacy in (("name", "display_name"), ("description", "display_description")):
        if key in given or legacy in given:
            values[key] = given.get(key, given.get(legacy))
    row = snapshots.update(handler.runtime(), ctx, snapshot_id, values)
    return {"snapshot": views.snapshot(row, detail=False)}


@route("/snapshots/<snapshot_id>", ["DELETE"])
def delete_snapshot(snapshot_id: str):
    ctx = volume.authorize("volume:delete_snapshot")
    snapshots.delete(handler.runtime(), ctx, snapshot_id)
    return flask.Response(status=202)


@route("/snapshots/<snapshot_id>/action", ["POST"])
def snapshot_action(snapshot_id: str):
    handler.authorize("volume:get_snapshot")
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise exceptions.BadRequest("The action body must hold exactly one action.")
    name, args = next(iter(body.items()))
    if name == "os-reset_status":
        ctx = volume.authorize("volume_extension:snapshot_admin_actions:reset_status")
        status = validation.validate(schemas.STATUS_ONLY, args)["status"]
        snapshots.reset_status(handler.runtime(), ctx, snapshot_id, status)
    elif name == "os-force_delete":
        ctx = volume.authorize("volume_extension:snapshot_admin_actions:force_delete")
        snapshots.delete(handler.runtime(), ctx, snapshot_id, force=True)
    else:
        raise exceptions.BadRequest(f"There is no such action: {name}")
    return flask.Response(status=202)


# ------------------------------------------------------------------ metadata
@route("/snapshots/<snapshot_id>/metadata", ["GET"])
def show_snapshot_metadata(snapshot_id: str):
    ctx = volume.authorize("volume:get_snapshot_metadata")
    return {"metadata": snapshots.metadata(handler.runtime(), ctx, snapshot_id)}


@route("/snapshots/<snapshot_id>/metadata", ["POST", "PUT"])
def set_snapshot_metadata(snapshot_id: str):
    ctx = volume.authorize("volume:update_snapshot_metadata")
    items = validation.body(schemas.METADATA_BODY)["metadata"]
    return {"metadata": snapshots.set_metadata(handler.runtime(), ctx, snapshot_id, items,
                                               replace=flask.request.method == "PUT")}


@route("/snapshots/<snapshot_id>/metadata/<key>", ["GET"])
def show_snapshot_metadata_item(snapshot_id: str, key: str):
    ctx = volume.authorize("volume:get_snapshot_metadata")
    items = snapshots.metadata(handler.runtime(), ctx, snapshot_id)
    if key not in items:
        raise exceptions.NotFound(f"Metadata item was not found: snapshot {snapshot_id} has "
                                  f"no key {key}.")
    return {"meta": {key: items[key]}}


@route("/snapshots/<snapshot_id>/metadata/<key>", ["PUT"])
def set_snapshot_metadata_item(snapshot_id: str, key: str):
    ctx = volume.authorize("volume:update_snapshot_metadata")
    meta = validation.body(schemas.META_ITEM)["meta"]
    if len(meta) > 1:
        raise exceptions.BadRequest("Request body contains too many items")
    value = schemas.single_item(meta, key)
    snapshots.set_metadata(handler.runtime(), ctx, snapshot_id, {key: value})
    return {"meta": {key: value}}


@route("/snapshots/<snapshot_id>/metadata/<key>", ["DELETE"])
def delete_snapshot_metadata_item(snapshot_id: str, key: str):
    ctx = volume.authorize("volume:delete_snapshot_metadata")
    snapshots.delete_metadata_item(handler.runtime(), ctx, snapshot_id, key)
    return flask.Response(status=200)
