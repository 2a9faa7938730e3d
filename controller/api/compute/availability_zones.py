"""/os-availability-zone: the zones servers may ask for; detail lists each zone's hosts
and their services (admins)."""

from __future__ import annotations

from typing import Any

from controller.api import handler
from controller.api.compute import bp
from controller.compute import compute_services

ZONE = "nova"


@bp.get("/v2.1/os-availability-zone")
def list_zones():
    handler.authorize("os_compute_api:os-availability-zone:list")
    zones = sorted(compute_services.zones(handler.runtime()))
    return {"availabilityZoneInfo": [{"zoneName": zone, "zoneState": {"available": True},
                                      "hosts": None} for zone in zones]}


@bp.get("/v2.1/os-availability-zone/detail")
def list_zones_detail():
    handler.authorize("os_compute_api:os-availability-zone:detail")
    rt = handler.runtime()
    by_zone: dict[str, dict[str, dict[str, Any]]] = {
        zone: {} for zone in compute_services.zones(rt)}
    for service in compute_services.list_(rt):
        row = service.row
        by_zone.setdefault(service.zone, {}).setdefault(row.host, {})[row.binary] = {
            "available": service.up, "active": not row.disabled,
            "updated_at": row.last_seen_at.isoformat() if row.last_seen_at else None}
    return {"availabilityZoneInfo": [
        {"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts}
        for zone, hosts in sorted(by_zone.items())]}
