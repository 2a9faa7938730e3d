"""POST /volumes/{id}/action: one handler per Cinder volume action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask

from common.context import RequestContext
from controller import exceptions
from controller.api import auth, handler, validation, volume
from controller.api.volume import route, schemas, views
from controller.volume import legacy_attach, volume_actions, volume_images, volumes

_ACTIONS: dict[str, tuple[str, Callable[[RequestContext, str, Any], Any]]] = {}


def action(name: str, rule: str):
    """Register the handler of action name, allowed by policy rule."""

    def decorator(func: Callable[[RequestContext, str, Any], Any]):
        _ACTIONS[name] = (rule, func)
        return func

    return decorator


def _accepted() -> flask.Response:
    return flask.Response(status=202)


@route("/volumes/<volume_id>/action", ["POST"])
def volume_action(volume_id: str):
    auth.require_context()
    body = validation.validate(schemas.ACTION_BODY, validation.json_body())
    name, args = next(iter(body.items()))
    if name not in _ACTIONS:
        raise exceptions.BadRequest(f"There is no such action: {name}")
    rule, func = _ACTIONS[name]
    ctx = volume.authorize(rule)
    validation.validate({"type": "object", "properties": {name: schemas.ACTIONS[name]}},
                        {name: args})
    return func(ctx, volume_id, args or {})


@action("os-extend", "volume:extend")
def _extend(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    attached_ok = volume.at_least("3.42") and volume.allowed("volume:extend_attached_volume")
    volume_actions.extend(handler.runtime(), ctx, volume_id, int(str(args["new_size"])),
                          attached_ok=attached_ok)
    return _accepted()


@action("os-set_bootable", "volume:update")
def _set_bootable(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    volume_actions.set_bootable(handler.runtime(), ctx, volume_id,
                                schemas.truthy(args["bootable"]))
    return flask.Response(status=200)


@action("os-update_readonly_flag", "volume:update_readonly_flag")
def _set_readonly(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    volume_actions.set_readonly(handler.runtime(), ctx, volume_id,
                                schemas.truthy(args["readonly"]))
    return _accepted()


@action("os-reset_status", "volume_extension:volume_admin_actions:reset_status")
def _reset_status(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    volume_actions.reset_status(handler.runtime(), ctx, volume_id, args)
    return _accepted()


@action("os-force_delete", "volume_extension:volume_admin_actions:force_delete")
def _force_delete(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    volumes.delete(handler.runtime(), ctx, volume_id, force=True)
    return _accepted()


@action("os-retype", "volume:retype")
def _retype(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    volume_actions.retype(handler.runtime(), ctx, volume_id, args["new_type"])
    return _accepted()


@action("os-set_image_metadata", "volume_extension:volume_image_metadata:set")
def _set_image_metadata(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    return {"metadata": volume_images.set_image_metadata(handler.runtime(), ctx, volume_id,
                                                          args["metadata"])}


@action("os-unset_image_metadata", "volume_extension:volume_image_metadata:remove")
def _unset_image_metadata(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    volume_images.unset_image_metadata(handler.runtime(), ctx, volume_id, args["key"])
    return flask.Response(status=200)


@action("os-show_image_metadata", "volume_extension:volume_image_metadata:show")
def _show_image_metadata(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    return {"metadata": volume_images.image_metadata(handler.runtime(), ctx, volume_id)}


@action("os-volume_upload_image", "volume_extension:volume_actions:upload_image")
def _upload_image(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    values = dict(args)
    values["force"] = schemas.truthy(args.get("force", False))
    if not volume.at_least("3.1"):
        values.pop("visibility", None)
        values.pop("protected", None)
    elif "protected" in values:
        values["protected"] = schemas.truthy(values["protected"])
    if values.get("visibility") == "public":
        volume.authorize("volume_extension:volume_actions:upload_public")
    row, image = volume_images.upload_image(handler.runtime(), ctx, volume_id, values)
    body = {"id": row.id, "updated_at": views.isotime(image["updated_at"]),
            "status": "uploading", "display_description": row.description, "size": row.size,
            "volume_type": views.volume_type(row.volume_type, with_access=False),
            "image_id": image["image_id"], "container_format": image["container_format"],
            "disk_format": image["disk_format"], "image_name": image["name"]}
    if volume.at_least("3.1"):
        body.update(visibility=image["visibility"], protected=image["protected"])
    return {"os-volume_upload_image": body}, 202


# ------------------------------------------------------------------ legacy attach steps
@action("os-reserve", "volume_extension:volume_actions:reserve")
def _reserve(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    legacy_attach.reserve(handler.runtime(), ctx, volume_id)
    return _accepted()


@action("os-unreserve", "volume_extension:volume_actions:unreserve")
def _unreserve(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    legacy_attach.unreserve(handler.runtime(), ctx, volume_id)
    return _accepted()


@action("os-begin_detaching", "volume_extension:volume_actions:begin_detaching")
def _begin_detaching(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    legacy_attach.begin_detaching(handler.runtime(), ctx, volume_id)
    return _accepted()


@action("os-roll_detaching", "volume_extension:volume_actions:roll_detaching")
def _roll_detaching(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    legacy_attach.roll_detaching(handler.runtime(), ctx, volume_id)
    return _accepted()


@action("os-initialize_connection", "volume_extension:volume_actions:initialize_connection")
def _initialize_connection(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    info = legacy_attach.initialize_connection(handler.runtime(), ctx, volume_id,
                                                args["connector"])
    return {"connection_info": info}


@action("os-terminate_connection", "volume_extension:volume_actions:terminate_connection")
def _terminate_connection(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    legacy_attach.terminate_connection(handler.runtime(), ctx, volume_id, args["connector"])
    return _accepted()


@action("os-attach", "volume_extension:volume_actions:attach")
def _attach(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    if not args.get("instance_uuid") and not args.get("host_name"):
        raise exceptions.BadRequest("Invalid request to attach volume to an invalid target: "
                                    "give instance_uuid or host_name.")
    legacy_attach.attach(handler.runtime(), ctx, volume_id, args)
    return _accepted()


@action("os-detach", "volume_extension:volume_actions:detach")
def _detach(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    legacy_attach.detach(handler.runtime(), ctx, volume_id, args.get("attachment_id"))
    return _accepted()


@action("os-force_detach", "volume_extension:volume_admin_actions:force_detach")
def _force_detach(ctx: RequestContext, volume_id: str, args: dict) -> Any:
    legacy_attach.detach(handler.runtime(), ctx, volume_id, args.get("attachment_id"),
                          connector=args.get("connector"), force=True)
    return _accepted()
