"""/v3/roles and the grant routes that give roles on projects and domains."""

from __future__ import annotations

import flask

from controller.api import handler
from controller.api.identity import bp, crud, schemas, views
from controller.identity import assignments, roles

crud.register(bp, crud.Resource(
    singular="role", plural="roles", view=views.role,
    list=roles.list_, create=roles.create, get=roles.get, update=roles.update,
    delete=roles.delete, create_schema=schemas.ROLE_CREATE, update_schema=schemas.ROLE_UPDATE,
    filters={"name": "str", "domain_id": "str"}))


def _grant_routes(target_type: str, actor_type: str, inherited: bool) -> None:
    prefix = "/v3/OS-INHERIT" if inherited else "/v3"
    suffix = "/inherited_to_projects" if inherited else ""
    base = f"{prefix}/{target_type}s/<target_id>/{actor_type}s/<actor_id>/roles"
    name = f"{'inherited_' if inherited else ''}{target_type}_{actor_type}"

    def target(target_id: str) -> dict:
        return {f"target.{target_type}.id": target_id}

    def list_grants(target_id: str, actor_id: str):
        handler.authorize("identity:list_grants", target(target_id))
        rows = assignments.list_grants(handler.runtime(), actor_type, actor_id, target_type,
                                       target_id, inherited)
        return views.collection("roles", rows, views.role)

    def grant(target_id: str, actor_id: str, role_id: str):
        method = flask.request.method
        rule = {"PUT": "create_grant", "HEAD": "check_grant", "DELETE": "revoke_grant"}[method]
        ctx = handler.authorize(f"identity:{rule}", target(target_id))
        args = (actor_type, actor_id, target_type, target_id, role_id, inherited)
        rt = handler.runtime()
        if method == "PUT":
            assignments.grant(rt, ctx, *args)
        elif method == "HEAD":
            assignments.check(rt, *args)
        else:
            assignments.revoke(rt, ctx, *args)
        return handler.no_content()

    bp.add_url_rule(f"{base}{suffix}", f"list_grants_{name}", list_grants, methods=["GET"])
    bp.add_url_rule(f"{base}/<role_id>{suffix}", f"grant_{name}", grant,
                    methods=["PUT", "HEAD", "DELETE"])


for _target in ("project", "domain"):
    for _actor in ("user", "group"):
        _grant_routes(_target, _actor, inherited=False)
        _grant_routes(_target, _actor, inherited=True)
