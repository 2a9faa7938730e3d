"""/os-availability-zone: the one zone this cloud has, `nova`."""

from __future__ import annotations

from controller.api import handler
from controller.api.compute import bp

ZONE = "nova"


@bp.get("/v2.1/os-availability-zone")
def list_zones():
    handler.authorize("os_compute_api:os-availability-zone:list")
    return {"availabilityZoneInfo": [{"zoneName": ZONE, "zoneState": {"available": True},
                                      "hosts": None}]}


@bp.get("/v2.1/os-availability-zone/detail")
def list_zones_detail():
    handler.authorize("os_compute_api:os-availability-zone:detail")
    # Compute hosts join the zone once the compute service registers them.
    return {"availabilityZoneInfo": [{"zoneName": ZONE, "zoneState": {"available": True},
                                      "hosts": {}}]}
