"""What every image handler shares: the caller, policy targets, JSON bodies."""

from __future__ import annotations

from typing import Any

from common.context import RequestContext
from controller import exceptions
from controller.api import handler, validation
from controller.db.models.image import Image
from controller.image import images


def target(image: Image, **extra: Any) -> dict[str, Any]:
    """The policy target for image: its owner is the project rules compare with."""
    return {"project_id": image.owner, "owner": image.owner, "image_id": image.id,
            "visibility": image.visibility, **extra}


def authorized_image(rule: str, image_id: str) -> tuple[RequestContext, Image]:
    """The caller and image_id, after checking rule against the image.

    :raises Unauthorized: no valid token. :raises NotFound: the caller cannot see the
        image. :raises Forbidden: rule says no.
    """
    ctx = handler.authorize("image:get_image")
    image = images.get(handler.runtime(), ctx, image_id)
    handler.authorize(rule, target(image))
    return ctx, image


def json_body() -> Any:
    """The request body as JSON (see validation.json_body for what it refuses)."""
    return validation.json_body()


def json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    body = json_body()
    if not isinstance(body, dict):
        raise exceptions.BadRequest("The request body must be a JSON object.")
    return body
