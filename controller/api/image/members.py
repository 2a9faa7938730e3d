"""/v2/images/{id}/members: share an image with projects; members accept or reject."""

from __future__ import annotations

from controller import exceptions
from controller.api import handler
from controller.api.image import bp, common, views
from controller.image import members


@bp.post("/v2/images/<image_id>/members")
def create_member(image_id: str):
    body = common.json_object()
    if "member" not in body:
        raise exceptions.BadRequest("Member to be added not specified")
    ctx, _ = common.authorized_image("image:add_member", image_id)
    return views.member(members.create(handler.runtime(), ctx, image_id, body["member"]))


@bp.get("/v2/images/<image_id>/members")
def list_members(image_id: str):
    ctx, _ = common.authorized_image("image:get_members", image_id)
    rows = members.list_(handler.runtime(), ctx, image_id)
    return {"members": [views.member(row) for row in rows], "schema": "/v2/schemas/members"}


@bp.get("/v2/images/<image_id>/members/<member_id>")
def show_member(image_id: str, member_id: str):
    ctx, _ = common.authorized_image("image:get_member", image_id)
    return views.member(members.get(handler.runtime(), ctx, image_id, member_id))


@bp.put("/v2/images/<image_id>/members/<member_id>")
def update_member(image_id: str, member_id: str):
    body = common.json_object()
    if "status" not in body:
        raise exceptions.BadRequest("Status not specified")
    ctx, image = common.authorized_image("image:get_member", image_id)
    handler.authorize("image:modify_member", common.target(image, member_id=member_id))
    return views.member(members.update(handler.runtime(), ctx, image_id, member_id,
                                       body["status"]))


@bp.delete("/v2/images/<image_id>/members/<member_id>")
def delete_member(image_id: str, member_id: str):
    ctx, _ = common.authorized_image("image:delete_member", image_id)
    members.delete(handler.runtime(), ctx, image_id, member_id)
    return handler.no_content()
