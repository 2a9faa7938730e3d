"""/v2.0/routers: CRUD, add/remove_router_interface, add/remove_extraroutes."""

from __future__ import annotations

from controller.api import handler
from controller.api.network import bp, common, schemas, views
from controller.network import router_interfaces, routers


def _owned(rule: str, router_id: str, values: dict | None = None):
    rt, ctx = handler.runtime(), common.context()
    row = routers.get(rt, ctx, router_id)
    common.authorize(rule, {"project_id": row.project_id}, values)
    return rt, ctx


@bp.post("/v2.0/routers")
def create_router():
    values = common.body(schemas.ROUTER_CREATE, "router")
    ctx = common.context()
    common.authorize("create_router", {"project_id": common.owner_of(ctx, values)}, values)
    return common.show("router", views.router(routers.create(handler.runtime(), ctx,
                                                             values))), 201


@bp.get("/v2.0/routers")
def list_routers():
    ctx = common.authorize("get_router")
    rows = routers.list_(handler.runtime(), ctx, common.filters())
    return common.listing("routers", [views.router(row) for row in rows])


@bp.get("/v2.0/routers/<router_id>")
def show_router(router_id: str):
    rt, ctx = _owned("get_router", router_id)
    return common.show("router", views.router(routers.get(rt, ctx, router_id)))


@bp.put("/v2.0/routers/<router_id>")
def update_router(router_id: str):
    values = common.body(schemas.ROUTER_UPDATE, "router")
    rt, ctx = _owned("update_router", router_id, values)
    return common.show("router", views.router(routers.update(rt, ctx, router_id, values)))


@bp.delete("/v2.0/routers/<router_id>")
def delete_router(router_id: str):
    rt, ctx = _owned("delete_router", router_id)
    routers.delete(rt, ctx, router_id)
    return common.no_content()


@bp.put("/v2.0/routers/<router_id>/add_router_interface")
def add_router_interface(router_id: str):
    values = common.body(schemas.ROUTER_INTERFACE, None)
    rt, ctx = _owned("add_router_interface", router_id)
    return router_interfaces.add(rt, ctx, router_id, values)


@bp.put("/v2.0/routers/<router_id>/remove_router_interface")
def remove_router_interface(router_id: str):
    values = common.body(schemas.ROUTER_INTERFACE, None)
    rt, ctx = _owned("remove_router_interface", router_id)
    return router_interfaces.remove(rt, ctx, router_id, values)


@bp.put("/v2.0/routers/<router_id>/add_extraroutes")
def add_extraroutes(router_id: str):
    values = common.body(schemas.ROUTER_ROUTES, "router")
    rt, ctx = _owned("add_extraroutes", router_id)
    return common.show("router", views.router(
        routers.change_routes(rt, ctx, router_id, values["routes"], add=True)))


@bp.put("/v2.0/routers/<router_id>/remove_extraroutes")
def remove_extraroutes(router_id: str):
    values = common.body(schemas.ROUTER_ROUTES, "router")
    rt, ctx = _owned("remove_extraroutes", router_id)
    return common.show("router", views.router(
        routers.change_routes(rt, ctx, router_id, values["routes"], add=False)))
