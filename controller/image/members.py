"""Image members: the projects a shared image is offered to, and their answers.

The owner adds and removes members; each member project accepts or rejects the offer
(only accepted images appear in its default image list). A member sees only its own
membership; only images with visibility `shared` have members.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.image import Image, ImageMember
from controller.image import access, schema
from controller.runtime import Runtime


def _payload(member: ImageMember) -> dict:
    return {"image_id": member.image_id, "member_id": member.member, "status": member.status}


def _shared(image: Image) -> None:
    if image.visibility != "shared":
        raise exceptions.Forbidden(f"Error fetching members of image {image.id}: Only "
                                   "shared images have members.")


def _find(session: orm.Session, ctx: RequestContext, image: Image,
          member_id: str) -> ImageMember:
    member = session.get(ImageMember, (image.id, member_id)) \
        if isinstance(member_id, str) and len(member_id) <= 255 else None
    # A member may only look at its own membership; the owner and admins see all.
    if member is None or not (access.can_change(ctx, image) or ctx.project_id == member_id):
        raise exceptions.NotFound(
            f"{member_id} not found in the member list of the image {image.id}.")
    return member


def create(rt: Runtime, ctx: RequestContext, image_id: str, member_id: str) -> ImageMember:
    """Offer image_id to project member_id (status pending).

    :raises Forbidden: not ctx's image, or not shared. :raises Conflict: already a member.
    :raises RequestEntityTooLarge: `[image] image_member_quota` reached.
    """
    if not isinstance(member_id, str) or not member_id.strip() or len(member_id) > 255:
        raise exceptions.BadRequest("Member can't be empty")
    with rt.db.session() as session:
        image = access.visible(session, ctx, image_id, lock=True)
        _shared(image)
        if not access.can_change(ctx, image):
            raise exceptions.Forbidden(f"Not allowed to create members for image {image_id}.")
        if session.get(ImageMember, (image_id, member_id)) is not None:
            raise exceptions.Conflict(
                f"Member {member_id} is duplicated for image {image_id}")
        quota = rt.conf.image.image_member_quota
        count = session.scalar(sa.select(sa.func.count()).select_from(ImageMember).where(
            ImageMember.image_id == image_id))
        if quota >= 0 and count >= quota:
            raise exceptions.RequestEntityTooLarge(
                f"Image member limit exceeded for image {image_id}: Maximum: {quota}")
        now = utcnow()
        member = ImageMember(image_id=image_id, member=member_id, status="pending",
                             created_at=now, updated_at=now)
        session.add(member)
    rt.notify(ctx, "image.member.create", _payload(member))
    return member


def list_(rt: Runtime, ctx: RequestContext, image_id: str) -> list[ImageMember]:
    """The members of image_id ctx may see: all for the owner, its own for a member."""
    with rt.db.session() as session:
        image = access.visible(session, ctx, image_id)
        _shared(image)
        query = sa.select(ImageMember).where(ImageMember.image_id == image_id)
        if not access.can_change(ctx, image):
            query = query.where(ImageMember.member == ctx.project_id)
        return list(session.scalars(query.order_by(ImageMember.created_at,
                                                   ImageMember.member)))


def get(rt: Runtime, ctx: RequestContext, image_id: str, member_id: str) -> ImageMember:
    """One membership. :raises NotFound: also when ctx may not see it (Glance hides it)."""
    with rt.db.session() as session:
        image = access.visible(session, ctx, image_id)
        try:
            _shared(image)
        except exceptions.Forbidden as exc:
            raise exceptions.NotFound(exc.message) from exc
        return _find(session, ctx, image, member_id)


def update(rt: Runtime, ctx: RequestContext, image_id: str, member_id: str,
           status: str) -> ImageMember:
    """Accept, reject or reset the offer of image_id to member_id; only that project may.

    :raises BadRequest: an unknown status. :raises Forbidden: ctx is not the member.
    """
    if status not in schema.MEMBER_STATUSES:
        raise exceptions.BadRequest(
            f"Incorrect request: Status must be one of {', '.join(schema.MEMBER_STATUSES)}, "
            f"not {str(status)[:50]!r}.")
    with rt.db.session() as session:
        image = access.visible(session, ctx, image_id)
        _shared(image)
        member = _find(session, ctx, image, member_id)
        if ctx.project_id != member_id and not ctx.is_admin:
            raise exceptions.Forbidden(f"Not allowed to update members for image {image_id}.")
        if member.status != status:
            member.status, member.updated_at = status, utcnow()
    rt.notify(ctx, "image.member.update", _payload(member))
    return member


def delete(rt: Runtime, ctx: RequestContext, image_id: str, member_id: str) -> None:
    """Withdraw the offer of image_id to member_id. :raises Forbidden: not ctx's image."""
    with rt.db.session() as session:
        image = access.visible(session, ctx, image_id)
        _shared(image)
        member = _find(session, ctx, image, member_id)
        if not access.can_change(ctx, image):
            raise exceptions.Forbidden(f"Not allowed to delete members for image {image_id}.")
        session.delete(member)
    rt.notify(ctx, "image.member.delete", _payload(member))
