"""Version discovery: GET /network/ lists v2.0; GET /network/v2.0/ lists its resources."""

from __future__ import annotations

from controller.api.app import state
from controller.api.network import bp

COLLECTIONS = [("network", "networks"), ("subnet", "subnets"), ("port", "ports"),
               ("router", "routers"), ("floatingip", "floatingips"),
               ("security_group", "security-groups"),
               ("security_group_rule", "security-group-rules"), ("quota", "quotas"),
               ("agent", "agents"), ("network_ip_availability", "network-ip-availabilities"),
               ("extension", "extensions")]


def _base() -> str:
    return f"{state().rt.conf.api.public_endpoint.rstrip('/')}/network"


@bp.get("/")
def list_versions():
    return {"versions": [{"id": "v2.0", "status": "CURRENT",
                          "links": [{"href": f"{_base()}/v2.0/", "rel": "self"}]}]}


@bp.get("/v2.0/")
def show_version():
    base = f"{_base()}/v2.0"
    return {"resources": [{"name": name, "collection": collection,
                           "links": [{"href": f"{base}/{collection}", "rel": "self"}]}
                          for name, collection in COLLECTIONS]}
