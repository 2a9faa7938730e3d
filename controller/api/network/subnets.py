"""/v2.0/subnets: create, list, show, update, delete."""

from __future__ import annotations

from typing import Any

from controller.api import handler
from controller.api.network import bp, common, schemas, views
from controller.network import networks, subnets


def _target(rt, ctx, project_id: str, network_id: str) -> dict[str, Any]:
    network = networks.get(rt, ctx, network_id)
    return {"project_id": project_id, "network:project_id": network.project_id,
            "network:shared": network.shared, "network:external": network.external}


@bp.post("/v2.0/subnets")
def create_subnet():
    values = common.body(schemas.SUBNET_CREATE, "subnet")
    rt, ctx = handler.runtime(), common.context()
    target = _target(rt, ctx, common.owner_of(ctx, values), values["network_id"])
    common.authorize("create_subnet", target, values)
    return common.show("subnet", views.subnet(subnets.create(rt, ctx, values))), 201


@bp.get("/v2.0/subnets")
def list_subnets():
    ctx = common.authorize("get_subnet", {"network:shared": False})
    rows = subnets.list_(handler.runtime(), ctx, common.filters())
    return common.listing("subnets", [views.subnet(row) for row in rows])


@bp.get("/v2.0/subnets/<subnet_id>")
def show_subnet(subnet_id: str):
    rt, ctx = handler.runtime(), common.context()
    row = subnets.get(rt, ctx, subnet_id)
    common.authorize("get_subnet", _target(rt, ctx, row.project_id, row.network_id))
    return common.show("subnet", views.subnet(row))


@bp.put("/v2.0/subnets/<subnet_id>")
def update_subnet(subnet_id: str):
    values = common.body(schemas.SUBNET_UPDATE, "subnet")
    rt, ctx = handler.runtime(), common.context()
    row = subnets.get(rt, ctx, subnet_id)
    common.authorize("update_subnet", _target(rt, ctx, row.project_id, row.network_id),
                     values)
    return common.show("subnet", views.subnet(subnets.update(rt, ctx, subnet_id, values)))


@bp.delete("/v2.0/subnets/<subnet_id>")
def delete_subnet(subnet_id: str):
    rt, ctx = handler.runtime(), common.context()
    row = subnets.get(rt, ctx, subnet_id)
    common.authorize("delete_subnet", _target(rt, ctx, row.project_id, row.network_id))
    subnets.delete(rt, ctx, subnet_id)
    return common.no_content()
