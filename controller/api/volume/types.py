"""/types: volume types, their extra specs and project access."""

from __future__ import annotations

import flask

from controller import exceptions
from controller.api import handler, validation, volume
from controller.api.volume import params, route, schemas, views
from controller.volume import types


def _is_public_arg() -> bool | None:
    """Cinder's is_public query parameter: absent means public only, 'none' means all."""
    raw = flask.request.args.get("is_public")
    if raw is None:
        return True
    if raw.strip().lower() == "none":
        return None
    return bool(validation.bool_arg("is_public"))


@route("/types", ["GET"])
def list_types():
    ctx = volume.authorize("volume_extension:type_get_all")
    specs = None
    if volume.at_least("3.52") and "extra_specs" in flask.request.args:
        specs = params.dict_filter("extra_specs", flask.request.args["extra_specs"])
    rows = types.list_(handler.runtime(), ctx, _is_public_arg(), specs)
    return {"volume_types": [views.volume_type(row) for row in rows]}


@route("/types/<type_id>", ["GET"])
def show_type(type_id: str):
    ctx = volume.authorize("volume_extension:type_get")
    if type_id == "default":
        type_id = handler.runtime().conf.volume.default_volume_type
    return {"volume_type": views.volume_type(types.get(handler.runtime(), ctx, type_id))}


@route("/types", ["POST"])
def create_type():
    ctx = volume.authorize("volume_extension:types_manage")
    given = volume.body(schemas.TYPE_CREATE)["volume_type"]
    public = given.get("os-volume-type-access:is_public", given.get("is_public", True))
    row = types.create(handler.runtime(), ctx, given["name"], given.get("description"),
                       schemas.truthy(public), given.get("extra_specs"))
    return {"volume_type": views.volume_type(row)}


@route("/types/<type_id>", ["PUT"])
def update_type(type_id: str):
    ctx = volume.authorize("volume_extension:types_manage")
    given = volume.body(schemas.TYPE_UPDATE)["volume_type"]
    if "is_public" in given:
        given["is_public"] = schemas.truthy(given["is_public"])
    row = types.update(handler.runtime(), ctx, type_id, given)
    return {"volume_type": views.volume_type(row, with_access=False)}


@route("/types/<type_id>", ["DELETE"])
def delete_type(type_id: str):
    ctx = volume.authorize("volume_extension:types_manage")
    types.delete(handler.runtime(), ctx, type_id)
    return flask.Response(status=202)


# ------------------------------------------------------------------ extra specs
@route("/types/<type_id>/extra_specs", ["GET"])
def list_extra_specs(type_id: str):
    ctx = volume.authorize("volume_extension:types_extra_specs:index")
    specs = types.extra_specs(handler.runtime(), ctx, type_id)
    if not volume.allowed("volume_extension:access_types_extra_specs"):
        specs = {k: v for k, v in specs.items() if k in views.USER_VISIBLE_SPECS}
    return {"extra_specs": specs}


@route("/types/<type_id>/extra_specs", ["POST"])
def create_extra_specs(type_id: str):
    ctx = volume.authorize("volume_extension:types_extra_specs:create")
    specs = validation.body(schemas.EXTRA_SPECS)["extra_specs"]
    return {"extra_specs": types.set_extra_specs(handler.runtime(), ctx, type_id, specs)}


@route("/types/<type_id>/extra_specs/<key>", ["GET"])
def show_extra_spec(type_id: str, key: str):
    ctx = volume.authorize("volume_extension:types_extra_specs:show")
    specs = types.extra_specs(handler.runtime(), ctx, type_id)
    if key not in specs or (key not in views.USER_VISIBLE_SPECS and not volume.allowed(
            "volume_extension:access_types_extra_specs")):
        raise exceptions.NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")
    return {key: specs[key]}


@route("/types/<type_id>/extra_specs/<key>", ["PUT"])
def update_extra_spec(type_id: str, key: str):
    ctx = volume.authorize("volume_extension:types_extra_specs:update")
    body = validation.body(schemas.EXTRA_SPEC_ITEM)
    value = schemas.single_item(body, key)
    return types.set_extra_specs(handler.runtime(), ctx, type_id, {key: value})


@route("/types/<type_id>/extra_specs/<key>", ["DELETE"])
def delete_extra_spec(type_id: str, key: str):
    ctx = volume.authorize("volume_extension:types_extra_specs:delete")
    types.delete_extra_spec(handler.runtime(), ctx, type_id, key)
    return flask.Response(status=202)


# ------------------------------------------------------------------ project access
@route("/types/<type_id>/os-volume-type-access", ["GET"])
def list_type_access(type_id: str):
    ctx = volume.authorize("volume_extension:volume_type_access:get_all_for_type")
    projects = types.access_list(handler.runtime(), ctx, type_id)
    return {"volume_type_access": [{"volume_type_id": type_id, "project_id": project}
                                   for project in projects]}


@route("/types/<type_id>/action", ["POST"])
def type_action(type_id: str):
    handler.authorize("volume_extension:type_get")
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise exceptions.BadRequest("The action body must hold exactly one action.")
    name, args = next(iter(body.items()))
    if name not in ("addProjectAccess", "removeProjectAccess"):
        raise exceptions.BadRequest(f"There is no such action: {name}")
    ctx = volume.authorize(f"volume_extension:volume_type_access:{name}")
    project = validation.validate(schemas.TYPE_ACCESS, args)["project"]
    if name == "addProjectAccess":
        types.add_access(handler.runtime(), ctx, type_id, project)
    else:
        types.remove_access(handler.runtime(), ctx, type_id, project)
    return flask.Response(status=202)
