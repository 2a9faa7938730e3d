"""/os-quota-sets (show, defaults, update, delete) and /limits."""

from __future__ import annotations

import flask

from controller.api import handler, validation, volume
from controller.api.volume import route, schemas
from controller.volume import limits, quotas


@route("/os-quota-sets/<target>", ["GET"])
def show_quotas(target: str):
    ctx = volume.authorize("volume_extension:quotas:show", {"project_id": target})
    with_usage = bool(validation.bool_arg("usage"))
    return {"quota_set": {"id": target, **quotas.show(handler.runtime(), ctx, target,
                                                      with_usage)}}


@route("/os-quota-sets/<target>/defaults", ["GET"])
def show_default_quotas(target: str):
    volume.authorize("volume_extension:quotas:show", {"project_id": target})
    return {"quota_set": {"id": target, **quotas.defaults(handler.runtime())}}


@route("/os-quota-sets/<target>", ["PUT"])
def update_quotas(target: str):
    ctx = volume.authorize("volume_extension:quotas:update", {"project_id": target})
    values = dict(validation.body(schemas.QUOTA_UPDATE)["quota_set"])
    values.pop("tenant_id", None)
    return {"quota_set": quotas.update(handler.runtime(), ctx, target, values)}


@route("/os-quota-sets/<target>", ["DELETE"])
def delete_quotas(target: str):
    ctx = volume.authorize("volume_extension:quotas:delete", {"project_id": target})
    quotas.reset(handler.runtime(), ctx, target)
    return "", 200


@route("/limits", ["GET"])
def show_limits():
    ctx = volume.authorize("limits_extension:used_limits")
    project = flask.request.args.get("project_id") if volume.at_least("3.39") else None
    return {"limits": {"rate": [], "absolute": limits.absolute(handler.runtime(), ctx,
                                                               project)}}
