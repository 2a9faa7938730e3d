"""Daemons and their heartbeats, for `compute service list`-style views."""

from __future__ import annotations

import datetime
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (sa.UniqueConstraint("host", "binary", name="uq_services_host_binary"),
                      sa.UniqueConstraint("uuid", name="uq_services_uuid"))

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    # The compute API shows this as the service's id from microversion 2.53.
    uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36),
                                                     default=lambda: str(uuidlib.uuid4()))
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    topic: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    availability_zone: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="nova")
    disabled: orm.Mapped[bool] = orm.mapped_column(default=False)
    disabled_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    forced_down: orm.Mapped[bool] = orm.mapped_column(default=False)
    report_count: orm.Mapped[int] = orm.mapped_column(default=0)
    last_seen_at: orm.Mapped[datetime.datetime | None]
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(onupdate=utcnow)
