"""Per-project quota limits set by an admin; unset ones come from configuration.

Usage is never stored: it is counted from the resources themselves (Nova's counting
quotas), so it cannot drift.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow


class Quota(Base):
    """hard_limit -1 means unlimited. service: compute, network or volume."""

    __tablename__ = "quotas"
    service: orm.Mapped[str] = orm.mapped_column(sa.String(30), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column()
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow,
                                                                  onupdate=utcnow)
