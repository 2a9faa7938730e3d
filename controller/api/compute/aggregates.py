"""/os-aggregates: host aggregates are not supported yet, so the list is always empty
(`openstack hypervisor show` reads it to say which aggregates a host is in)."""

from __future__ import annotations

from controller.api import handler
from controller.api.compute import bp


@bp.get("/v2.1/os-aggregates")
def list_aggregates():
    handler.authorize("os_compute_api:os-aggregates:index")
    return {"aggregates": []}
