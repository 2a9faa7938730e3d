"""/servers/{id}/os-volume_attachments: list, show, attach (POST), detach (DELETE).

The attachment's id is the volume's id, as in Nova. Attach answers 200 with the device
chosen before the (asynchronous) attach completes; detach answers 202. Swapping (PUT)
is not offered by this cloud: it answers 409 after the same checks Nova makes.
"""

from __future__ import annotations

from typing import Any

import flask

from controller import exceptions
from controller.api import compute, handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import volume_attachments as schemas
from controller.compute import volume_attachments
from controller.volume import volumes as volume_service

_RULE = "os_compute_api:os-volumes-attachments:"


def _view(found: dict[str, Any], always_device: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {"id": found["volume_id"], "serverId": found["instance_uuid"],
                            "volumeId": found["volume_id"]}
    if found["device"] or always_device:
        view["device"] = found["device"]
    return view


def _offset_limit() -> tuple[int, int | None]:
    """Nova's ``limit`` and ``offset`` (common.limited): non-negative integers."""
    values = []
    for name in ("offset", "limit"):
        raw = flask.request.args.get(name)
        if raw is None:
            values.append(None)
            continue
        try:
            value = int(raw)
        except ValueError as exc:
            raise exceptions.BadRequest(f"{name} param must be an integer") from exc
        if value < 0:
            raise exceptions.BadRequest(f"{name} param must be positive")
        values.append(value)
    return values[0] or 0, values[1]


@bp.get("/v2.1/servers/<server_id>/os-volume_attachments")
def list_volume_attachments(server_id: str):
    _, instance = server_access.load(_RULE + "index", server_id)
    offset, limit = _offset_limit()
    found = volume_attachments.list_(handler.runtime(), instance)
    page = found[offset:] if limit is None else found[offset:offset + limit]
    return {"volumeAttachments": [_view(item) for item in page]}


@bp.get("/v2.1/servers/<server_id>/os-volume_attachments/<volume_id>")
def show_volume_attachment(server_id: str, volume_id: str):
    _, instance = server_access.load(_RULE + "show", server_id)
    found = volume_attachments.get(handler.runtime(), instance, volume_id)
    return {"volumeAttachment": _view(found)}


@bp.post("/v2.1/servers/<server_id>/os-volume_attachments")
def attach_volume(server_id: str):
    ctx, instance = server_access.load(_RULE + "create", server_id)
    body = validation.body(schemas.create(compute.at_least("2.49")))["volumeAttachment"]
    found = volume_attachments.attach(
        handler.runtime(), ctx, instance, body["volumeId"], device=body.get("device"),
        tag=body.get("tag"), multiattach_allowed=compute.at_least("2.60"))
    return {"volumeAttachment": _view(found, always_device=True)}


@bp.put("/v2.1/servers/<server_id>/os-volume_attachments/<volume_id>")
def swap_volume(server_id: str, volume_id: str):
    ctx, instance = server_access.load(_RULE + "update", server_id)
    handler.authorize(_RULE + "swap", server_access.target(instance))
    body = validation.body(schemas.UPDATE)["volumeAttachment"]
    rt = handler.runtime()
    volume_service.get(rt, ctx, volume_id)  # 404 for an unknown old volume
    try:
        volume_service.get(rt, ctx, body["volumeId"])
    except exceptions.NotFound as exc:
        raise exceptions.BadRequest(exc.message) from exc
    volume_attachments.get(rt, instance, volume_id)
    raise exceptions.Conflict("Swapping a server's volume is not supported by this cloud: "
                              "detach the volume and attach the other one.")


@bp.delete("/v2.1/servers/<server_id>/os-volume_attachments/<volume_id>")
def detach_volume(server_id: str, volume_id: str):
    ctx, instance = server_access.load(_RULE + "delete", server_id)
    volume_attachments.detach(handler.runtime(), ctx, instance, volume_id)
    return flask.Response(status=202)
