"""/v3/groups and group membership."""

from controller.api import handler
from controller.api.identity import bp, crud, schemas, views
from controller.identity import groups

crud.register(bp, crud.Resource(
    singular="group", plural="groups", view=views.group,
    list=groups.list_, create=groups.create, get=groups.get, update=groups.update,
    delete=groups.delete, create_schema=schemas.GROUP_CREATE,
    update_schema=schemas.GROUP_UPDATE, filters={"name": "str", "domain_id": "str"}))


@bp.get("/v3/groups/<group_id>/users")
def list_users_in_group(group_id: str):
    handler.authorize("identity:list_users_in_group", {"target.group.id": group_id})
    return views.collection("users", groups.list_users(handler.runtime(), group_id), views.user)


@bp.put("/v3/groups/<group_id>/users/<user_id>")
def add_user_to_group(group_id: str, user_id: str):
    ctx = handler.authorize("identity:add_user_to_group", {"target.group.id": group_id})
    groups.add_user(handler.runtime(), ctx, group_id, user_id)
    return handler.no_content()


@bp.route("/v3/groups/<group_id>/users/<user_id>", methods=["HEAD"])
def check_user_in_group(group_id: str, user_id: str):
    handler.authorize("identity:check_user_in_group", {"target.group.id": group_id})
    groups.check_user(handler.runtime(), group_id, user_id)
    return handler.no_content()


@bp.delete("/v3/groups/<group_id>/users/<user_id>")
def remove_user_from_group(group_id: str, user_id: str):
    ctx = handler.authorize("identity:remove_user_from_group", {"target.group.id": group_id})
    groups.remove_user(handler.runtime(), ctx, group_id, user_id)
    return handler.no_content()
