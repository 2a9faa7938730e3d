"""/v3/role_assignments"""

from __future__ import annotations

from typing import Any

import flask

from controller import exceptions
from controller.api import handler, validation
from controller.api.identity import bp, views
from controller.identity import assignments
from controller.identity.assignments import Grant


@bp.get("/v3/role_assignments")
def list_role_assignments():
    handler.authorize("identity:list_role_assignments")
    args = flask.request.args
    inherited_to = args.get("scope.OS-INHERIT:inherited_to")
    if inherited_to not in (None, "projects"):
        raise exceptions.BadRequest("scope.OS-INHERIT:inherited_to only accepts 'projects'.")
    filters = {
        "user_id": args.get("user.id"), "group_id": args.get("group.id"),
        "role_id": args.get("role.id"), "project_id": args.get("scope.project.id"),
        "domain_id": args.get("scope.domain.id"),
        "inherited": True if inherited_to else None,
    }
    effective = bool(validation.bool_arg("effective"))
    if effective and filters["group_id"]:
        raise exceptions.BadRequest("Combining effective and group filter will always result "
                                    "in an empty list.")
    rt = handler.runtime()
    grants = assignments.list_role_assignments(rt, filters, effective)
    names = assignments.names_for(rt, grants) if validation.bool_arg("include_names") else None
    return views.collection("role_assignments", grants, lambda g: _render(g, names))


def _named(ident: str, names: dict[str, dict[str, Any]] | None, with_domain: bool) -> dict:
    ref: dict[str, Any] = {"id": ident}
    if names is not None and ident in names:
        entry = names[ident]
        ref["name"] = entry["name"]
        if with_domain and entry["domain_id"]:
            domain = names.get(entry["domain_id"], {})
            ref["domain"] = {"id": entry["domain_id"], "name": domain.get("name")}
    return ref


def _render(grant: Grant, names: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    base = views.base_url()
    target = f"{grant.target_type}s/{grant.target_id}"
    actor = f"{grant.actor_type}s/{grant.actor_id}"
    if grant.via_group:
        actor = f"groups/{grant.via_group}"
    link = f"{base}/{target}/{actor}/roles/{grant.role_id}"
    if grant.inherited:
        link = f"{base}/OS-INHERIT/{target}/{actor}/roles/{grant.role_id}/inherited_to_projects"
    scope: dict[str, Any] = {grant.target_type: _named(
        grant.target_id, names, with_domain=grant.target_type == "project")}
    if grant.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    body = {"role": _named(grant.role_id, names, with_domain=True), "scope": scope,
            grant.actor_type: _named(grant.actor_id, names, with_domain=True),
            "links": {"assignment": link}}
    if grant.via_group:
        body["links"]["membership"] = f"{base}/groups/{grant.via_group}/users/{grant.actor_id}"
    return body
