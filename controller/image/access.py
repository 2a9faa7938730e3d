"""Who may see and who may change an image: Glance's visibility rules, in one place.

A caller sees public and community images, every image its project owns, and shared
images its project is a member of; an administrator sees everything. Only the
owning project (or an administrator) changes an image. Invisible images are
reported as missing, never as forbidden, so IDs of other projects' images leak nothing.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.models.image import Image, ImageMember

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
EVERYONE = ("public", "community")


def is_uuid(value: object) -> bool:
    """Whether value has the shape of an image ID."""
    return isinstance(value, str) and bool(_UUID.fullmatch(value))


def not_found(image_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"No image found with ID {image_id}")


def is_member(session: orm.Session, image_id: str, project_id: str | None,
              status: str | None = None) -> bool:
    """Whether project_id is a member of image_id (with status, when given)."""
    if project_id is None:
        return False
    query = sa.select(ImageMember.member).where(
        ImageMember.image_id == image_id, ImageMember.member == project_id)
    if status is not None:
        query = query.where(ImageMember.status == status)
    return session.execute(query.limit(1)).first() is not None


def can_see(session: orm.Session, ctx: RequestContext, image: Image) -> bool:
    """Glance's is_image_visible: membership of any status is enough to show an image."""
    if ctx.is_admin or image.owner is None or image.visibility in EVERYONE:
        return True
    if ctx.project_id is not None and ctx.project_id == image.owner:
        return True
    return image.visibility == "shared" and is_member(session, image.id, ctx.project_id)


def can_change(ctx: RequestContext, image: Image) -> bool:
    """Glance's is_image_mutable: only the owning project or an administrator."""
    if ctx.is_admin:
        return True
    return image.owner is not None and ctx.project_id == image.owner


def visible(session: orm.Session, ctx: RequestContext, image_id: str,
            lock: bool = False) -> Image:
    """The image image_id if ctx may see it.

    :raises NotFound: no such image, or one ctx may not see.
    """
    # Anything but a UUID cannot be an image ID; refusing it here keeps odd strings
    # (NULs, megabytes of text) away from the database driver.
    if not is_uuid(image_id):
        raise not_found(str(image_id)[:100])
    query = sa.select(Image).where(Image.id == image_id)
    if lock:
        query = query.with_for_update()
    image = session.scalars(query).first()
    if image is None or not can_see(session, ctx, image):
        raise not_found(image_id)
    return image


def mutable(session: orm.Session, ctx: RequestContext, image_id: str,
            lock: bool = True) -> Image:
    """The image image_id if ctx may change it.

    :raises NotFound: ctx may not even see it.
    :raises Forbidden: ctx sees it but does not own it.
    """
    image = visible(session, ctx, image_id, lock=lock)
    if not can_change(ctx, image):
        raise exceptions.Forbidden(f"You are not permitted to modify image {image_id}.")
    return image


def list_condition(ctx: RequestContext, member_status: str,
                   visibility: str | None) -> sa.ColumnElement[bool]:
    """The SQL condition Glance's image list applies for ctx.

    Without a visibility filter, other projects' community images are left out (they
    are listed only on request); shared images count when ctx's membership has
    member_status ('all' for any).
    """
    conditions = []
    if visibility is None:
        conditions.append(sa.or_(Image.owner == ctx.project_id,
                                 Image.visibility != "community"))
    elif visibility != "all":
        conditions.append(Image.visibility == visibility)
    if not ctx.is_admin:
        membership = sa.select(ImageMember.image_id).where(
            ImageMember.image_id == Image.id, ImageMember.member == ctx.project_id)
        if member_status != "all":
            membership = membership.where(ImageMember.status == member_status)
        conditions.append(sa.or_(
            Image.visibility.in_(EVERYONE),
            sa.and_(Image.owner.is_not(None), Image.owner == ctx.project_id),
            sa.and_(Image.visibility == "shared", membership.exists()),
        ))
    return sa.and_(sa.true(), *conditions)
