"""/backups: create, list (+detail), show, update, delete, restore, admin actions."""

from __future__ import annotations

from typing import Any

import flask

from controller import exceptions
from controller.api import handler, validation, volume
from controller.api.volume import params, route, schemas, views
from controller.volume import backups


@route("/backups", ["POST"])
def create_backup():
    ctx = volume.authorize("backup:create")
    given = dict(volume.body(schemas.BACKUP_CREATE)["backup"])
    for flag in ("incremental", "force"):
        given[flag] = schemas.truthy(given.get(flag, False))
    if not volume.at_least("3.43"):
        given.pop("metadata", None)
    if not volume.at_least("3.51"):
        given.pop("availability_zone", None)
    row = backups.create(handler.runtime(), ctx, given)
    return {"backup": views.backup_summary(row)}, 202


def _list(detail: bool):
    ctx = volume.authorize("backup:get_all")
    rows, more, count = backups.list_(handler.runtime(), ctx, params.list_query())
    view = views.backup_detail if detail else views.backup_summary
    return views.collection("backups", [view(r) for r in rows], more,
                            count if params.with_count() else None,
                            rows[-1].id if rows else None)


@route("/backups", ["GET"])
def list_backups():
    return _list(detail=False)


@route("/backups/detail", ["GET"])
def list_backups_detail():
    return _list(detail=True)


@route("/backups/<backup_id>", ["GET"])
def show_backup(backup_id: str):
    ctx = volume.authorize("backup:get")
    return {"backup": views.backup_detail(backups.get(handler.runtime(), ctx, backup_id))}


@route("/backups/<backup_id>", ["PUT"])
def update_backup(backup_id: str):
    volume.require("3.9")
    ctx = volume.authorize("backup:update")
    given: dict[str, Any] = dict(volume.body(schemas.BACKUP_UPDATE)["backup"])
    if not volume.at_least("3.43"):
        given.pop("metadata", None)
    row = backups.update(handler.runtime(), ctx, backup_id, given)
    return {"backup": views.backup_summary(row)}


@route("/backups/<backup_id>", ["DELETE"])
def delete_backup(backup_id: str):
    ctx = volume.authorize("backup:delete")
    backups.delete(handler.runtime(), ctx, backup_id)
    return flask.Response(status=202)


@route("/backups/<backup_id>/restore", ["POST"])
def restore_backup(backup_id: str):
    ctx = volume.authorize("backup:restore")
    given = validation.body(schemas.RESTORE)["restore"] or {}
    result = backups.restore(handler.runtime(), ctx, backup_id, given.get("volume_id"),
                             given.get("name"))
    return {"restore": result}, 202


@route("/backups/<backup_id>/action", ["POST"])
def backup_action(backup_id: str):
    handler.authorize("backup:get")
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise exceptions.BadRequest("The action body must hold exactly one action.")
    name, args = next(iter(body.items()))
    if name == "os-reset_status":
        ctx = volume.authorize("volume_extension:backup_admin_actions:reset_status")
        status = validation.validate(schemas.STATUS_ONLY, args)["status"]
        backups.reset_status(handler.runtime(), ctx, backup_id, status)
    elif name == "os-force_delete":
        ctx = volume.authorize("volume_extension:backup_admin_actions:force_delete")
        backups.delete(handler.runtime(), ctx, backup_id, force=True)
    else:
        raise exceptions.BadRequest(f"There is no such action: {name}")
    return flask.Response(status=202)
