"""/v2.0/ports: create, list, show, update, delete."""

from __future__ import annotations

from typing import Any

from controller.api import handler
from controller.api.network import bp, common, schemas, views
from controller.network import networks, ports

BINDING_RULE = "get_port:binding:host_id"


def _target(rt, ctx, project_id: str, network_id: str, device_owner: str) -> dict[str, Any]:
    network = networks.get(rt, ctx, network_id)
    return {"project_id": project_id, "network:project_id": network.project_id,
            "network:shared": network.shared,
            "device_owner_is_network": device_owner.startswith("network:")}


def _view(ctx, row) -> dict[str, Any]:
    return views.port(row, handler.allowed(ctx, BINDING_RULE, {"project_id": row.project_id}))


@bp.post("/v2.0/ports")
def create_port():
    values = common.body(schemas.PORT_CREATE, "port")
    rt, ctx = handler.runtime(), common.context()
    target = _target(rt, ctx, common.owner_of(ctx, values), values["network_id"],
                     values.get("device_owner") or "")
    common.authorize("create_port", target, values)
    return common.show("port", _view(ctx, ports.create(rt, ctx, values))), 201


@bp.get("/v2.0/ports")
def list_ports():
    ctx = common.authorize("get_port")
    rows = ports.list_(handler.runtime(), ctx, common.filters())
    binding = handler.allowed(ctx, BINDING_RULE, {})
    return common.listing("ports", [views.port(row, binding) for row in rows])


@bp.get("/v2.0/ports/<port_id>")
def show_port(port_id: str):
    ctx = common.context()
    row = ports.get(handler.runtime(), ctx, port_id)
    common.authorize("get_port", {"project_id": row.project_id})
    return common.show("port", _view(ctx, row))


@bp.put("/v2.0/ports/<port_id>")
def update_port(port_id: str):
    values = common.body(schemas.PORT_UPDATE, "port")
    rt, ctx = handler.runtime(), common.context()
    row = ports.get(rt, ctx, port_id)
    owner = values.get("device_owner", row.device_owner) or ""
    common.authorize("update_port", _target(rt, ctx, row.project_id, row.network_id, owner),
                     values)
    return common.show("port", _view(ctx, ports.update(rt, ctx, port_id, values)))


@bp.delete("/v2.0/ports/<port_id>")
def delete_port(port_id: str):
    rt, ctx = handler.runtime(), common.context()
    common.authorize("delete_port", {"project_id": ports.get(rt, ctx, port_id).project_id})
    ports.delete(rt, ctx, port_id)
    return common.no_content()
