"""/v2.0/security-groups and /v2.0/security-group-rules."""

from __future__ import annotations

from controller.api import handler
from controller.api.network import bp, common, schemas, views
from controller.network import security_group_rules, security_groups


@bp.post("/v2.0/security-groups")
def create_security_group():
    values = common.body(schemas.SECURITY_GROUP_CREATE, "security_group")
    ctx = common.context()
    common.authorize("create_security_group", {"project_id": common.owner_of(ctx, values)},
                     values)
    return common.show("security_group", views.security_group(
        security_groups.create(handler.runtime(), ctx, values))), 201


@bp.get("/v2.0/security-groups")
def list_security_groups():
    ctx = common.authorize("get_security_group")
    rows = security_groups.list_(handler.runtime(), ctx)
    return common.listing("security_groups", [views.security_group(row) for row in rows])


def _group(rule: str, group_id: str, values: dict | None = None):
    rt, ctx = handler.runtime(), common.context()
    row = security_groups.get(rt, ctx, group_id)
    common.authorize(rule, {"project_id": row.project_id}, values)
    return rt, ctx, row


@bp.get("/v2.0/security-groups/<group_id>")
def show_security_group(group_id: str):
    _, _, row = _group("get_security_group", group_id)
    return common.show("security_group", views.security_group(row))


@bp.put("/v2.0/security-groups/<group_id>")
def update_security_group(group_id: str):
    values = common.body(schemas.SECURITY_GROUP_UPDATE, "security_group")
    rt, ctx, _ = _group("update_security_group", group_id, values)
    return common.show("security_group", views.security_group(
        security_groups.update(rt, ctx, group_id, values)))


@bp.delete("/v2.0/security-groups/<group_id>")
def delete_security_group(group_id: str):
    rt, ctx, _ = _group("delete_security_group", group_id)
    security_groups.delete(rt, ctx, group_id)
    return common.no_content()


@bp.post("/v2.0/security-group-rules")
def create_security_group_rule():
    values = common.body(schemas.SECURITY_GROUP_RULE_CREATE, "security_group_rule")
    rt, ctx = handler.runtime(), common.context()
    group = security_groups.get(rt, ctx, values["security_group_id"])
    common.authorize("create_security_group_rule", {"project_id": group.project_id}, values)
    return common.show("security_group_rule", views.security_group_rule(
        security_group_rules.create(rt, ctx, values))), 201


@bp.get("/v2.0/security-group-rules")
def list_security_group_rules():
    ctx = common.authorize("get_security_group_rule")
    rows = security_group_rules.list_(handler.runtime(), ctx)
    return common.listing("security_group_rules",
                          [views.security_group_rule(row) for row in rows])


@bp.get("/v2.0/security-group-rules/<rule_id>")
def show_security_group_rule(rule_id: str):
    rt, ctx = handler.runtime(), common.context()
    row = security_group_rules.get(rt, ctx, rule_id)
    common.authorize("get_security_group_rule", {"project_id": row.project_id})
    return common.show("security_group_rule", views.security_group_rule(row))


@bp.delete("/v2.0/security-group-rules/<rule_id>")
def delete_security_group_rule(rule_id: str):
    rt, ctx = handler.runtime(), common.context()
    row = security_group_rules.get(rt, ctx, rule_id)
    common.authorize("delete_security_group_rule", {"project_id": row.project_id})
    security_group_rules.delete(rt, ctx, rule_id)
    return common.no_content()
