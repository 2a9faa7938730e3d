"""/v2/images/{id}/actions/deactivate and /reactivate (administrators, by default)."""

from __future__ import annotations

from controller.api import handler
from controller.api.image import bp, common
from controller.image import images


@bp.post("/v2/images/<image_id>/actions/deactivate")
def deactivate(image_id: str):
    ctx, _ = common.authorized_image("image:deactivate", image_id)
    images.deactivate(handler.runtime(), ctx, image_id)
    return handler.no_content()


@bp.post("/v2/images/<image_id>/actions/reactivate")
def reactivate(image_id: str):
    ctx, _ = common.authorized_image("image:reactivate", image_id)
    images.reactivate(handler.runtime(), ctx, image_id)
    return handler.no_content()
