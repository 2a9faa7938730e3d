"""/v2/images/{id}/tags/{tag}: add or remove one tag."""

from __future__ import annotations

from controller.api import handler
from controller.api.image import bp, common
from controller.image import tags


@bp.put("/v2/images/<image_id>/tags/<tag>")
def add_tag(image_id: str, tag: str):
    ctx, _ = common.authorized_image("image:modify_image", image_id)
    tags.add(handler.runtime(), ctx, image_id, tag)
    return handler.no_content()


@bp.delete("/v2/images/<image_id>/tags/<tag>")
def delete_tag(image_id: str, tag: str):
    ctx, _ = common.authorized_image("image:modify_image", image_id)
    tags.delete(handler.runtime(), ctx, image_id, tag)
    return handler.no_content()
