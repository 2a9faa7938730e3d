"""/v2.0/floatingips: allocate, list, show, associate/disassociate, release."""

from __future__ import annotations

from controller.api import handler
from controller.api.network import bp, common, schemas, views
from controller.network import floating_ips


def _owned(rule: str, fip_id: str, values: dict | None = None):
    rt, ctx = handler.runtime(), common.context()
    row = floating_ips.get(rt, ctx, fip_id)
    common.authorize(rule, {"project_id": row.project_id}, values)
    return rt, ctx


@bp.post("/v2.0/floatingips")
def create_floatingip():
    values = common.body(schemas.FLOATINGIP_CREATE, "floatingip")
    ctx = common.context()
    common.authorize("create_floatingip", {"project_id": common.owner_of(ctx, values)},
                     values)
    return common.show("floatingip", views.floating_ip(
        floating_ips.create(handler.runtime(), ctx, values))), 201


@bp.get("/v2.0/floatingips")
def list_floatingips():
    ctx = common.authorize("get_floatingip")
    rows = floating_ips.list_(handler.runtime(), ctx, common.filters())
    return common.listing("floatingips", [views.floating_ip(row) for row in rows])


@bp.get("/v2.0/floatingips/<fip_id>")
def show_floatingip(fip_id: str):
    rt, ctx = _owned("get_floatingip", fip_id)
    return common.show("floatingip", views.floating_ip(floating_ips.get(rt, ctx, fip_id)))


@bp.put("/v2.0/floatingips/<fip_id>")
def update_floatingip(fip_id: str):
    values = common.body(schemas.FLOATINGIP_UPDATE, "floatingip")
    rt, ctx = _owned("update_floatingip", fip_id, values)
    return common.show("floatingip", views.floating_ip(
        floating_ips.update(rt, ctx, fip_id, values)))


@bp.delete("/v2.0/floatingips/<fip_id>")
def delete_floatingip(fip_id: str):
    rt, ctx = _owned("delete_floatingip", fip_id)
    floating_ips.delete(rt, ctx, fip_id)
    return common.no_content()
