"""Volume services (``volume service list``) and availability zones, from the heartbeats
the volume agents send (one services row per backend, host ``host@backend``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller import services as heartbeats
from controller.db.models.services import Service
from controller.db.models.volume import Volume, VolumePool
from controller.runtime import Runtime
from controller.volume import attachments, backups, scheduler, snapshots, types, volumes

SHOWN_BINARY = "cinder-volume"  # what Cinder's clients know volume services as


def report(rt: Runtime, host: str, binary: str, backend: str | None) -> None:
    """Heartbeat of one backend of a volume agent."""
    name = f"{host}@{backend}" if backend else host
    heartbeats.report(rt, name, binary, rt.conf.volume_rpc.agent_topic,
                      zone=rt.conf.volume.storage_availability_zone)


def _binaries(rt: Runtime, binary: str | None) -> list[str]:
    known = list(rt.conf.volume.agent_binaries)
    if binary is None or binary == SHOWN_BINARY:
        return known
    return [binary] if binary in known else []


def _matches_host(row: Service, host: str | None) -> bool:
    return host is None or row.host == host or row.host.partition("@")[0] == host


def list_(rt: Runtime, ctx: RequestContext, host: str | None = None,
          binary: str | None = None) -> list[dict[str, Any]]:
    """The volume services, as Cinder's os-services lists them."""
    with rt.db.session() as session:
        rows = list(session.scalars(sa.select(Service).where(
            Service.binary.in_(_binaries(rt, binary))).order_by(Service.host)))
    result = []
    for row in rows:
        if not _matches_host(row, host):
            continue
        up = heartbeats.is_up(rt, row)
        result.append({"binary": SHOWN_BINARY, "host": row.host, "zone": row.availability_zone,
                       "status": "disabled" if row.disabled else "enabled",
                       "state": "up" if up else "down",
                       "updated_at": row.last_seen_at or row.created_at,
                       "disabled_reason": row.disabled_reason, "frozen": False,
                       "cluster": None, "replication_status": "disabled",
                       "active_backend_id": None, "backend_state": "up" if up else "down"})
    return result


def set_enabled(rt: Runtime, ctx: RequestContext, host: str, binary: str, enabled: bool,
                reason: str | None = None) -> dict[str, Any]:
    """Enable or disable the volume service host (disabled backends get no new volumes).

    :raises NotFound: no such volume service.
    """
    with rt.db.session() as session:
        rows = list(session.scalars(sa.select(Service).where(
            Service.host == host, Service.binary.in_(_binaries(rt, binary)))))
        if not rows:
            raise exceptions.NotFound(f"Service {binary} on host {host} could not be found.")
        for row in rows:
            row.disabled = not enabled
            row.disabled_reason = None if enabled else reason
    return {"host": host, "binary": binary, "service": binary,
            "status": "enabled" if enabled else "disabled", "disabled": not enabled,
            "disabled_reason": None if enabled else reason}


def zones(rt: Runtime, ctx: RequestContext) -> list[tuple[str, bool]]:
    """[(zone, available)]: the zones of enabled volume services, available when one of
    the zone's services is up."""
    state: dict[str, bool] = {}
    with rt.db.session() as session:
        rows = list(session.scalars(sa.select(Service).where(
            Service.binary.in_(rt.conf.volume.agent_binaries), Service.disabled.is_(False))))
    for row in rows:
        zone = row.availability_zone
        state[zone] = state.get(zone, False) or heartbeats.is_up(rt, row)
    return sorted(state.items())


def pools(rt: Runtime, ctx: RequestContext, name: str | None = None,
          volume_type: str | None = None) -> list[dict[str, Any]]:
    """The backend pools with their capabilities and usage (scheduler-stats/get_pools);
    with volume_type, only those the type's extra specs select."""
    specs = types.get(rt, ctx, volume_type).specs if volume_type else None
    with rt.db.session() as session:
        usage = dict(session.execute(
            sa.select(Volume.pool_id, sa.func.sum(Volume.allocated_gb))
            .where(Volume.deleted.is_(False)).group_by(Volume.pool_id)).all())
        rows = list(session.scalars(sa.select(VolumePool).order_by(VolumePool.name)))
    result = []
    for row in rows:
        state = scheduler.state_of(rt, row, int(usage.get(row.id) or 0))
        if name is not None and row.name != name:
            continue
        if specs is not None and not scheduler.CapabilitiesFilter().passes(
                state, scheduler.Request(0, state.zone, specs)):
            continue
        capabilities = {
            **state.capabilities, "total_capacity_gb": row.total_capacity_gb,
            "free_capacity_gb": row.free_capacity_gb,
            "allocated_capacity_gb": state.allocated_gb,
            "provisioned_capacity_gb": row.provisioned_capacity_gb,
            "max_over_subscription_ratio": state.ratio,
            "reserved_percentage": row.reserved_percentage,
            "vendor_name": "Stratus", "driver_version": "1.0",
            "timestamp": row.updated_at, "updated": row.updated_at}
        result.append({"name": row.name, "capabilities": capabilities})
    return result


def resource_filters() -> dict[str, list[str]]:
    """The filters each list request accepts (besides limit, marker, sort...)."""
    return {
        "volume": sorted([*volumes.FILTER_COLUMNS, "metadata", "glance_metadata",
                          "volume_type", "group_id"]),
        "snapshot": sorted([*snapshots.FILTER_COLUMNS, "metadata"]),
        "backup": sorted(backups.FILTER_COLUMNS),
        "attachment": sorted(attachments.FILTER_COLUMNS),
    }
