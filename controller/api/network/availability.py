"""/v2.0/network-ip-availabilities: addresses used and free per network (admin only)."""

from __future__ import annotations

import flask

from controller.api import handler
from controller.api.network import bp, common
from controller.network import availability


@bp.get("/v2.0/network-ip-availabilities")
def list_ip_availabilities():
    ctx = common.authorize("get_network_ip_availability", {"project_id": ""})
    rows = availability.list_(handler.runtime(), ctx)
    versions = flask.request.args.getlist("ip_version")
    if versions:  # networks with a subnet of that version, as Neutron filters
        rows = [row for row in rows if any(str(s["ip_version"]) in versions
                                           for s in row["subnet_ip_availability"])]
    return common.listing("network_ip_availabilities", rows, ident="network_id")


@bp.get("/v2.0/network-ip-availabilities/<network_id>")
def show_ip_availability(network_id: str):
    ctx = common.authorize("get_network_ip_availability", {"project_id": ""})
    return common.show("network_ip_availability",
                       availability.get(handler.runtime(), ctx, network_id))
