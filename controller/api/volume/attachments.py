"""/attachments (3.27+): create, update (connector), complete, show, list, delete."""

from __future__ import annotations

import flask

from controller.api import handler, validation, volume
from controller.api.volume import params, route, schemas, views
from controller.volume import attachments


@route("/attachments", ["POST"])
def create_attachment():
    volume.require("3.27")
    ctx = volume.authorize("volume:attachment_create")
    given = volume.body(schemas.ATTACHMENT_CREATE)["attachment"]
    mode = given.get("mode") if volume.at_least("3.54") else None
    connector = given.get("connector") or None
    if connector and not mode:
        mode = connector.get("mode")
    row = attachments.create(handler.runtime(), ctx, given["volume_uuid"],
                             given.get("instance_uuid"), connector, mode)
    return {"attachment": views.attachment(row)}


@route("/attachments/<attachment_id>", ["PUT"])
def update_attachment(attachment_id: str):
    volume.require("3.27")
    ctx = volume.authorize("volume:attachment_update")
    connector = volume.body(schemas.ATTACHMENT_UPDATE)["attachment"]["connector"]
    row = attachments.update(handler.runtime(), ctx, attachment_id, connector)
    return {"attachment": views.attachment(row)}


@route("/attachments/<attachment_id>/action", ["POST"])
def attachment_action(attachment_id: str):
    volume.require("3.44")
    ctx = volume.authorize("volume:attachment_complete")
    validation.body(schemas.ATTACHMENT_ACTION)
    attachments.complete(handler.runtime(), ctx, attachment_id)
    return flask.Response(status=204)


@route("/attachments/<attachment_id>", ["GET"])
def show_attachment(attachment_id: str):
    volume.require("3.27")
    ctx = volume.authorize("volume:attachment_get")
    return {"attachment": views.attachment(attachments.get(handler.runtime(), ctx,
                                                           attachment_id))}


def _list(detail: bool):
    volume.require("3.27")
    ctx = volume.authorize("volume:attachment_get")
    rows, more, count = attachments.list_(handler.runtime(), ctx, params.list_query())
    return views.collection("attachments", [views.attachment(r, detail) for r in rows], more,
                            count if params.with_count() else None,
                            rows[-1].id if rows else None)


@route("/attachments", ["GET"])
def list_attachments():
    return _list(detail=False)


@route("/attachments/detail", ["GET"])
def list_attachments_detail():
    return _list(detail=True)


@route("/attachments/<attachment_id>", ["DELETE"])
def delete_attachment(attachment_id: str):
    volume.require("3.27")
    ctx = volume.authorize("volume:attachment_delete")
    remaining = attachments.delete(handler.runtime(), ctx, attachment_id)
    return {"attachments": [views.attachment(r, detail=False) for r in remaining]}
