"""Image tags, one at a time: PUT and DELETE /v2/images/{id}/tags/{tag}."""

from __future__ import annotations

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.image import ImageTag
from controller.image import access, images
from controller.runtime import Runtime


def add(rt: Runtime, ctx: RequestContext, image_id: str, tag: str) -> None:
    """Tag image_id with tag (adding a tag it has is a no-op).

    :raises BadRequest: tag longer than 255 characters.
    :raises RequestEntityTooLarge: `[image] image_tag_quota` reached.
    """
    if not tag or len(tag) > 255:
        raise exceptions.BadRequest(f"Tag must be 1 to 255 characters long: {tag[:300]!r}")
    with rt.db.session() as session:
        image = access.mutable(session, ctx, image_id)
        if any(existing.value == tag for existing in image.tags):
            return
        quota = rt.conf.image.image_tag_quota
        if 0 <= quota <= len(image.tags):
            raise exceptions.RequestEntityTooLarge(
                "The limit has been exceeded on the number of allowed image tags. "
                f"Attempted: {len(image.tags) + 1}, Maximum: {quota}")
        image.tags.append(ImageTag(image_id=image_id, value=tag))
        image.updated_at = utcnow()
        session.flush()
        body = images.payload(image)
    rt.notify(ctx, "image.update", body)


def delete(rt: Runtime, ctx: RequestContext, image_id: str, tag: str) -> None:
    """Remove tag from image_id. :raises NotFound: the image does not carry it."""
    with rt.db.session() as session:
        image = access.mutable(session, ctx, image_id)
        kept = [existing for existing in image.tags if existing.value != tag]
        if len(kept) == len(image.tags):
            raise exceptions.NotFound(f"Tag {tag[:300]} not found on image {image_id}.")
        image.tags = kept
        image.updated_at = utcnow()
        session.flush()
        body = images.payload(image)
    rt.notify(ctx, "image.update", body)
