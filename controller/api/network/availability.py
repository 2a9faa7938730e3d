"""/v2.0/network-ip-availabilities: addresses used and free per network (admin only)."""

from __future__ import annotations

from controller.api import handler
from controller.api.network import bp, common
from controller.network import availability


@bp.get("/v2.0/network-ip-availabilities")
def list_ip_availabilities():
    ctx = common.authorize("get_network_ip_availability", {"project_id": ""})
    rows = availability.list_(handler.runtime(), ctx)
    for row in rows:  # ip_version filters the subnets, as Neutron does
        row["ip_version"] = sorted({s["ip_version"] for s in row["subnet_ip_availability"]})
    listing = common.listing("network_ip_availabilities", rows, ident="network_id")
    for row in listing["network_ip_availabilities"]:
        row.pop("ip_version", None)
    return listing


@bp.get("/v2.0/network-ip-availabilities/<network_id>")
def show_ip_availability(network_id: str):
    ctx = common.authorize("get_network_ip_availability", {"project_id": ""})
    return common.show("network_ip_availability",
                       availability.get(handler.runtime(), ctx, network_id))
