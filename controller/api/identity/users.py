"""/v3/users, a user's password, projects and groups."""

from controller.api import handler, validation
from controller.api.identity import bp, crud, schemas, views
from controller.identity import assignments, groups, projects, users

crud.register(bp, crud.Resource(
    singular="user", plural="users", view=views.user,
    list=users.list_, create=users.create, get=users.get, update=users.update,
    delete=users.delete, create_schema=schemas.USER_CREATE, update_schema=schemas.USER_UPDATE,
    filters={"name": "str", "domain_id": "str", "enabled": "bool"}))


@bp.post("/v3/users/<user_id>/password")
def change_password(user_id: str):
    ctx = handler.authorize("identity:change_password", {"target.user.id": user_id})
    values = validation.body(schemas.PASSWORD_CHANGE)["user"]
    users.change_password(handler.runtime(), ctx, user_id, values["original_password"],
                          values["password"])
    return handler.no_content()


@bp.get("/v3/users/<user_id>/projects")
def list_user_projects(user_id: str):
    handler.authorize("identity:list_user_projects", {"target.user.id": user_id})
    rt = handler.runtime()
    users.get(rt, user_id)
    ids = assignments.projects_of(rt, user_id)
    filters = crud.query_filters({"name": "str", "domain_id": "str", "enabled": "bool"})
    return views.collection("projects", projects.list_(rt, filters, ids=ids), views.project)


@bp.get("/v3/users/<user_id>/groups")
def list_groups_for_user(user_id: str):
    handler.authorize("identity:list_groups_for_user", {"target.user.id": user_id})
    return views.collection("groups", groups.list_for_user(handler.runtime(), user_id),
                            views.group)
