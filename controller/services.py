"""Daemon heartbeats in SQL, and the up/down view built from them."""

from __future__ import annotations

import dataclasses
import datetime
import logging

import sqlalchemy as sa

from controller.db.base import utcnow
from controller.db.models.services import Service
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class ServiceStatus:
    id: int
    host: str
    binary: str
    zone: str
    disabled: bool
    disabled_reason: str | None
    forced_down: bool
    updated_at: datetime.datetime | None
    up: bool


COMPUTE_BINARY = "stratus-compute-agent"


def report(rt: Runtime, host: str, binary: str, topic: str | None = None,
           zone: str | None = None) -> None:
    """Record that binary on host is alive, creating its row on first report; zone, if
    given, is the availability zone the service reports itself in."""
    with rt.db.session() as session:
        row = session.scalars(sa.select(Service).where(
            Service.host == host, Service.binary == binary)).first()
        if row is None:
            row = Service(host=host, binary=binary, topic=topic)
            session.add(row)
        row.last_seen_at = utcnow()
        row.report_count = (row.report_count or 0) + 1
        if zone is not None and row.availability_zone != zone:
            row.availability_zone = zone


def is_up(rt: Runtime, row: Service, now: datetime.datetime | None = None) -> bool:
    """Heartbeat recent enough and not forced down."""
    if row.forced_down or row.last_seen_at is None:
        return False
    down_after = datetime.timedelta(seconds=rt.conf.service.service_down_time)
    return (now or utcnow()) - row.last_seen_at < down_after


def list_(rt: Runtime, binary: str | None = None, host: str | None = None) -> list[ServiceStatus]:
    now = utcnow()
    with rt.db.session() as session:
        query = sa.select(Service).order_by(Service.id)
        if binary:
            query = query.where(Service.binary == binary)
        if host:
            query = query.where(Service.host == host)
        return [ServiceStatus(
            id=s.id, host=s.host, binary=s.binary, zone=s.availability_zone,
            disabled=s.disabled, disabled_reason=s.disabled_reason, forced_down=s.forced_down,
            updated_at=s.last_seen_at, up=is_up(rt, s, now))
            for s in session.scalars(query)]
