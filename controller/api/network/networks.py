"""/v2.0/networks: create, list, show, update, delete."""

from __future__ import annotations

from typing import Any

from controller.api import handler
from controller.api.network import bp, common, schemas, views
from controller.network import networks

PROVIDER_RULE = "get_network:provider:network_type"


def _target(row: Any) -> dict[str, Any]:
    return {"project_id": row.project_id, "shared": row.shared,
            "router:external": row.external}


def _view(ctx, row) -> dict[str, Any]:
    return views.network(row, handler.allowed(ctx, PROVIDER_RULE, _target(row)))


@bp.post("/v2.0/networks")
def create_network():
    values = common.body(schemas.NETWORK_CREATE, "network")
    ctx = common.context()
    ctx = common.authorize("create_network", {"project_id": common.owner_of(ctx, values)},
                           values)
    return common.show("network", _view(ctx, networks.create(handler.runtime(), ctx,
                                                             values))), 201


@bp.get("/v2.0/networks")
def list_networks():
    ctx = common.authorize("get_network")
    rows = networks.list_(handler.runtime(), ctx, common.filters())
    provider = handler.allowed(ctx, PROVIDER_RULE, {})
    return common.listing("networks", [views.network(row, provider) for row in rows])


@bp.get("/v2.0/networks/<network_id>")
def show_network(network_id: str):
    ctx = common.context()
    row = networks.get(handler.runtime(), ctx, network_id)
    common.authorize("get_network", _target(row))
    return common.show("network", _view(ctx, row))


@bp.put("/v2.0/networks/<network_id>")
def update_network(network_id: str):
    values = common.body(schemas.NETWORK_UPDATE, "network")
    rt, ctx = handler.runtime(), common.context()
    common.authorize("update_network", _target(networks.get(rt, ctx, network_id)), values)
    return common.show("network", _view(ctx, networks.update(rt, ctx, network_id, values)))


@bp.delete("/v2.0/networks/<network_id>")
def delete_network(network_id: str):
    rt, ctx = handler.runtime(), common.context()
    common.authorize("delete_network", _target(networks.get(rt, ctx, network_id)))
    networks.delete(rt, ctx, network_id)
    return common.no_content()
