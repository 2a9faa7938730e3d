"""os-services: the daemons that heartbeat into the ``services`` table, their up/down
state, and an admin's enable/disable/force-down/delete of them.

Compute agents live in availability zone ``nova`` (or their own); the controller daemons
(scheduler, conductor) in Nova's ``internal`` zone.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions, services
from controller.db.base import utcnow
from controller.db.models.hosts import ComputeNode
from controller.db.models.servers import Instance
from controller.db.models.services import Service
from controller.runtime import Runtime

COMPUTE_BINARY = services.COMPUTE_BINARY
INTERNAL_ZONE = "internal"


@dataclasses.dataclass
class ServiceView:
    """A services row plus what is derived from it."""

    row: Service
    up: bool

    @property
    def zone(self) -> str:
        return self.row.availability_zone if self.row.binary == COMPUTE_BINARY \
            else INTERNAL_ZONE





def list_(rt: Runtime, host: str | None = None,
          binary: str | None = None) -> list[ServiceView]:
    """Every service (optionally of host / binary), by id."""
    query = sa.select(Service).order_by(Service.id)
    if host is not None:
        query = query.where(Service.host == host)
    if binary is not None:
        query = query.where(Service.binary == binary)
    now = utcnow()
    with rt.db.session() as session:
        return [ServiceView(row, services.is_up(rt, row, now)) for row in session.scalars(query)]


def _find(session: orm.Session, service_id: str, by_uuid: bool) -> Service:
    row = None
    if by_uuid:
        row = session.scalars(sa.select(Service).where(Service.uuid == service_id)).first()
    elif service_id.isdecimal() and len(service_id) < 10:
        row = session.get(Service, int(service_id))
    if row is None:
        raise exceptions.NotFound(f"Service {service_id} could not be found.")
    return row


def get(rt: Runtime, service_id: str, by_uuid: bool) -> ServiceView:
    """:raises NotFound: no service with that id (an integer, or a uuid from 2.53)."""
    with rt.db.session() as session:
        row = _find(session, service_id, by_uuid)
    return ServiceView(row, services.is_up(rt, row))


def find(rt: Runtime, host: str, binary: str) -> ServiceView:
    """:raises NotFound: no binary on host."""
    with rt.db.session() as session:
        row = session.scalars(sa.select(Service).where(Service.host == host,
                                                       Service.binary == binary)).first()
    if row is None:
        raise exceptions.NotFound(f"Service {binary} on host {host} could not be found.")
    return ServiceView(row, services.is_up(rt, row))


def update(rt: Runtime, ctx: RequestContext, service_id: int, *,
           disabled: bool | None = None, reason: str | None = None,
           forced_down: bool | None = None) -> ServiceView:
    """Enable/disable (with an optional reason) or force down/up a service."""
    with rt.db.session() as session:
        row = session.get(Service, service_id)
        if row is None:
            raise exceptions.NotFound(f"Service {service_id} could not be found.")
        if disabled is not None:
            row.disabled = disabled
            row.disabled_reason = reason if disabled else None
        if forced_down is not None:
            row.forced_down = forced_down
        row.updated_at = utcnow()
    rt.notify(ctx, "service.update", {"host": row.host, "binary": row.binary,
                                      "disabled": row.disabled,
                                      "forced_down": row.forced_down})
    return ServiceView(row, services.is_up(rt, row))


def delete(rt: Runtime, ctx: RequestContext, service_id: int) -> None:
    """Remove a service; a compute agent's also takes its compute node (and claims).

    :raises Conflict: a compute agent whose host still has servers.
    """
    with rt.db.session() as session:
        row = session.get(Service, service_id)
        if row is None:
            raise exceptions.NotFound(f"Service {service_id} could not be found.")
        if row.binary == COMPUTE_BINARY:
            hosting = session.scalar(sa.select(sa.func.count()).select_from(Instance).where(
                Instance.host == row.host, Instance.deleted.is_(False)))
            if hosting:
                raise exceptions.Conflict(
                    "Unable to delete compute service that is hosting instances. Migrate "
                    "or delete the instances first.")
            session.execute(sa.delete(ComputeNode).where(ComputeNode.host == row.host))
        session.delete(row)
    rt.notify(ctx, "service.delete", {"host": row.host, "binary": row.binary})


def host_statuses(rt: Runtime, hosts: set[str]) -> dict[str, str]:
    """Nova's host_status per compute host: DOWN (forced down), MAINTENANCE (disabled),
    UP (heartbeat recent), UNKNOWN (heartbeat stale), "" (no compute service)."""
    if not hosts:
        return {}
    with rt.db.session() as session:
        rows = {row.host: row for row in session.scalars(sa.select(Service).where(
            Service.binary == COMPUTE_BINARY, Service.host.in_(sorted(hosts))))}
    now = utcnow()
    result = {}
    for host in hosts:
        row = rows.get(host)
        if row is None:
            result[host] = ""
        elif row.forced_down:
            result[host] = "DOWN"
        elif row.disabled:
            result[host] = "MAINTENANCE"
        else:
            result[host] = "UP" if services.is_up(rt, row, now) else "UNKNOWN"
    return result


def zones(rt: Runtime) -> set[str]:
    """Availability zones servers may ask for: nova plus those compute agents are in."""
    with rt.db.session() as session:
        found = set(session.scalars(sa.select(Service.availability_zone).where(
            Service.binary == COMPUTE_BINARY).distinct()))
    return found | {"nova"}
