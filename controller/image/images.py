"""Image records: create, show, update by JSON patch, delete, deactivate, reactivate."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import exc as sa_exc

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.image import Image, ImageProperty, ImageTag
from controller.image import access, patch, states, store
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

# Base attributes a create request may set (besides id, owner and tags).
CREATE_FIELDS = ("name", "visibility", "protected", "os_hidden", "container_format",
                 "disk_format", "min_disk", "min_ram")
# Attributes Glance lets change only while the image has no data.
FORMAT_FIELDS = ("container_format", "disk_format")
MAX_PROPERTY_VALUE = 65535


def _limit(conf_value: int, attempted: int, what: str) -> None:
    if conf_value >= 0 and attempted > conf_value:
        raise exceptions.RequestEntityTooLarge(
            f"The limit has been exceeded on the number of allowed {what}. "
            f"Attempted: {attempted}, Maximum: {conf_value}")


def _check_extra(rt: Runtime, extra: dict[str, Any]) -> None:
    for name, value in extra.items():
        patch.check_name(name)
        if not isinstance(value, str):
            raise exceptions.BadRequest(f"Provided object does not match schema 'image': "
                                        f"{value!r} is not of type 'string' (at {name})")
        if len(value) > MAX_PROPERTY_VALUE:
            raise exceptions.BadRequest(
                f"Property {name} is longer than {MAX_PROPERTY_VALUE} characters.")
    _limit(rt.conf.image.image_property_quota, len(extra), "image properties")


def _set_tags(rt: Runtime, image: Image, tags: list[str]) -> None:
    unique = sorted(set(tags))
    _limit(rt.conf.image.image_tag_quota, len(unique), "image tags")
    # Reuse surviving rows so the flush only inserts and deletes what changed.
    current = {tag.value: tag for tag in image.tags}
    image.tags = [current.get(tag) or ImageTag(image_id=image.id, value=tag)
                  for tag in unique]


def _set_extra(image: Image, extra: dict[str, str]) -> None:
    current = {prop.name: prop for prop in image.properties}
    kept = []
    for name, value in extra.items():
        prop = current.get(name) or ImageProperty(image_id=image.id, name=name)
        prop.value = value
        kept.append(prop)
    image.properties = kept


def payload(image: Image) -> dict[str, Any]:
    """The notification body for image (Glance's image notification fields)."""
    return {
        "id": image.id, "name": image.name, "status": image.status,
        "visibility": image.visibility, "owner": image.owner, "size": image.size,
        "virtual_size": image.virtual_size, "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo, "os_hash_value": image.os_hash_value,
        "disk_format": image.disk_format, "container_format": image.container_format,
        "min_disk": image.min_disk, "min_ram": image.min_ram, "protected": image.protected,
        "os_hidden": image.os_hidden, "tags": sorted(tag.value for tag in image.tags),
        "properties": {prop.name: prop.value for prop in image.properties},
        "created_at": image.created_at.isoformat(), "updated_at": image.updated_at.isoformat(),
        "is_public": image.visibility == "public", "deleted": False,
    }


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any],
           extra: dict[str, Any], tags: list[str]) -> Image:
    """Register a new image (status queued, no data) owned by values['owner'] or ctx's project.

    :raises Forbidden: a non-administrator asks for another owner.
    :raises Conflict: values['id'] is taken.
    :raises RequestEntityTooLarge: too many properties or tags.
    """
    if "id" in values and not access.is_uuid(values["id"]):
        raise exceptions.BadRequest(f"Image ID {values['id']!r} is not a UUID.")
    owner = values.get("owner", ctx.project_id)
    if owner != ctx.project_id and not ctx.is_admin:
        raise exceptions.Forbidden("You are not permitted to create images owned by "
                                   f"'{owner}'.")
    _check_extra(rt, extra)
    now = utcnow()
    fields = {"visibility": "shared", "protected": False, "os_hidden": False,
              "min_disk": 0, "min_ram": 0}  # Glance's defaults
    fields.update({f: values[f] for f in CREATE_FIELDS if f in values})
    image = Image(id=values.get("id") or str(uuid.uuid4()), owner=owner,
                  status=states.QUEUED, created_at=now, updated_at=now, **fields)
    image.properties, image.tags = [], []
    _set_tags(rt, image, tags)
    _set_extra(image, extra)
    try:
        with rt.db.session() as session:
            session.add(image)
            session.flush()
            body = payload(image)
    except sa_exc.IntegrityError as exc:
        raise exceptions.Conflict(f"Image with identifier {image.id} already exists!") from exc
    rt.notify(ctx, "image.create", body)
    return image


def get(rt: Runtime, ctx: RequestContext, image_id: str) -> Image:
    """The image image_id. :raises NotFound: missing, or not visible to ctx."""
    with rt.db.session() as session:
        return access.visible(session, ctx, image_id)


def update(rt: Runtime, ctx: RequestContext, image_id: str,
           changes: list[patch.Change]) -> Image:
    """Apply parsed JSON-patch changes to image_id, all or nothing.

    :raises NotFound: not visible to ctx. :raises Forbidden: not ctx's to change, a
        format change after upload, or an owner change by a non-administrator.
    :raises Conflict: a change names a missing (or, in v2.0 patches, present) property.
    """
    with rt.db.session() as session:
        image = access.mutable(session, ctx, image_id)
        state = patch.EditableImage(
            base={f: getattr(image, f) for f in patch.WRITABLE if f != "tags"},
            extra={prop.name: prop.value for prop in image.properties})
        state.base["tags"] = [tag.value for tag in image.tags]
        patch.apply(state, changes)
        for field in FORMAT_FIELDS:
            if state.base[field] != getattr(image, field) and image.status != states.QUEUED:
                raise exceptions.Forbidden(
                    f"Attribute {field} can be only replaced for a queued image.")
        if state.base["owner"] != image.owner and not ctx.is_admin:
            raise exceptions.Forbidden("Owner can't be updated by non admin.")
        _check_extra(rt, state.extra)
        for field in patch.WRITABLE:
            if field != "tags":
                setattr(image, field, state.base[field])
        _set_tags(rt, image, state.base["tags"])
        _set_extra(image, state.extra)
        if changes:
            image.updated_at = utcnow()
        session.flush()
        body = payload(image)
    if changes:
        rt.notify(ctx, "image.update", body)
    return image


def delete(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    """Delete image_id's record, members, tags and data.

    :raises Forbidden: the image is protected or not ctx's.
    """
    with rt.db.session() as session:
        image = access.mutable(session, ctx, image_id)
        if image.protected:
            raise exceptions.Forbidden(
                f"Image {image_id} is protected and cannot be deleted.")
        body = payload(image)
        session.delete(image)
    # The record goes first: if removing the data fails, the file is an orphan the
    # operator can sweep, never an image whose data vanished under a reader.
    try:
        store.get_store(rt.conf).delete(image_id)
    except store.StoreError:
        LOG.exception("image %s deleted, but its data could not be removed", image_id)
    body["status"], body["deleted"] = "deleted", True
    rt.notify(ctx, "image.delete", body)


def _move(rt: Runtime, ctx: RequestContext, image_id: str, old: str, new: str,
          verb: str) -> Image:
    with rt.db.session() as session:
        image = access.mutable(session, ctx, image_id)
        if image.status != new:
            if image.status != old:
                raise exceptions.Forbidden(
                    f"Not allowed to {verb} image in status '{image.status}'")
            states.check(old, new)
            image.status = new
            image.updated_at = utcnow()
        session.flush()
        body = payload(image)
    rt.notify(ctx, f"image.{verb}", body)
    return image


def deactivate(rt: Runtime, ctx: RequestContext, image_id: str) -> Image:
    """Hide an active image's data from non-administrators (a no-op when deactivated).

    :raises Forbidden: the image is neither active nor deactivated.
    """
    return _move(rt, ctx, image_id, states.ACTIVE, states.DEACTIVATED, "deactivate")


def reactivate(rt: Runtime, ctx: RequestContext, image_id: str) -> Image:
    """Make a deactivated image's data readable again (a no-op when active).

    :raises Forbidden: the image is neither deactivated nor active.
    """
    return _move(rt, ctx, image_id, states.DEACTIVATED, states.ACTIVE, "reactivate")
