"""/v2/images and /v2/images/{id}: list, create, show, update (JSON patch), delete."""

from __future__ import annotations

import urllib.parse

import flask

from controller import exceptions
from controller.api import handler
from controller.api.image import bp, common, params, views
from controller.image import images, listing, patch, schema

# Glance refuses these at create: the server alone sets them.
_DISALLOWED = ("direct_url", "self", "file", "schema", "stores", "locations")
_READ_ONLY = ("created_at", "updated_at", "status", "checksum", "size", "virtual_size",
              "os_hash_algo", "os_hash_value")
_BASE = (*images.CREATE_FIELDS, "id", "owner")


def _authorize_visibility(visibility: object, owner: str | None) -> None:
    if visibility == "public":
        handler.authorize("image:publicize_image", {"project_id": owner})
    elif visibility == "community":
        handler.authorize("image:communitize_image", {"project_id": owner})


@bp.get("/v2/images")
def list_images():
    ctx = handler.authorize("image:get_images")
    conf = handler.runtime().conf.image
    query = params.list_query(conf.limit_param_default, conf.api_limit_max)
    rows, more = listing.list_(handler.runtime(), ctx, query)
    args = flask.request.args.to_dict(flat=False)
    args.pop("marker", None)
    first = "/v2/images"
    if args:
        first += "?" + _encode(args)
    body = {"images": [views.image(row) for row in rows], "first": first,
            "schema": "/v2/schemas/images"}
    if more and rows:
        body["next"] = "/v2/images?" + _encode({**args, "marker": [rows[-1].id]})
    return body


def _encode(args: dict[str, list[str]]) -> str:
    return urllib.parse.urlencode(args, doseq=True)


@bp.post("/v2/images")
def create_image():
    ctx = handler.authorize("image:get_images")
    body = common.json_object()
    for name in _DISALLOWED:
        if name in body:
            raise exceptions.Forbidden(f"Attribute '{name}' is read-only.")
    schema.check(schema.image_schema(handler.runtime().conf), body)
    for name in _READ_ONLY:
        if name in body:
            raise exceptions.Forbidden(f"Attribute '{name}' is read-only.")
    tags = body.pop("tags", [])
    values = {name: body.pop(name) for name in _BASE if name in body}
    owner = values.get("owner", ctx.project_id)
    handler.authorize("image:add_image", {"project_id": owner})
    _authorize_visibility(values.get("visibility"), owner)
    row = images.create(handler.runtime(), ctx, values, body, tags)
    response = flask.jsonify(views.image(row))
    response.status_code = 201
    response.headers["Location"] = flask.request.host_url.rstrip("/") + "/image" + \
        views.href(row.id)
    return response


@bp.get("/v2/images/<image_id>")
def show_image(image_id: str):
    ctx = handler.authorize("image:get_image")
    return views.image(images.get(handler.runtime(), ctx, image_id))


@bp.patch("/v2/images/<image_id>")
def update_image(image_id: str):
    handler.authorize("image:get_image")
    draft = patch.media_draft(flask.request.content_type)
    changes = patch.parse(handler.runtime().conf, common.json_body(), draft)
    ctx, image = common.authorized_image("image:modify_image", image_id)
    for change in changes:
        if change.name == "visibility":
            _authorize_visibility(change.value, image.owner)
    return views.image(images.update(handler.runtime(), ctx, image_id, changes))


@bp.delete("/v2/images/<image_id>")
def delete_image(image_id: str):
    ctx, _ = common.authorized_image("image:delete_image", image_id)
    images.delete(handler.runtime(), ctx, image_id)
    return handler.no_content()
