"""/v2/schemas/* (the documents clients read to learn an image's shape) and /v2/info/import."""

from __future__ import annotations

from controller.api import handler
from controller.api.image import bp
from controller.image import schema


@bp.get("/v2/schemas/image")
def image_schema():
    handler.authorize("image:get_images")
    return schema.image_schema(handler.runtime().conf)


@bp.get("/v2/schemas/images")
def images_schema():
    handler.authorize("image:get_images")
    return schema.collection("images", schema.image_schema(handler.runtime().conf))


@bp.get("/v2/schemas/member")
def member_schema():
    handler.authorize("image:get_images")
    return schema.MEMBER_SCHEMA


@bp.get("/v2/schemas/members")
def members_schema():
    handler.authorize("image:get_images")
    return schema.collection("members", schema.MEMBER_SCHEMA)


@bp.get("/v2/info/import")
def import_info():
    """No interoperable import methods: data arrives by PUT /file only."""
    handler.authorize("image:get_images")
    return {"import-methods": {"description": "Import methods available.", "type": "array",
                               "value": []}}
