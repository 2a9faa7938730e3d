"""Compute service tables: flavors, their extra specs and project access, key pairs."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow

FLAVOR_ID = sa.String(255)  # Nova's flavorid: any string, a UUID when generated


class Flavor(Base):
    """A server size; `id` is Nova's user-visible flavorid."""

    __tablename__ = "flavors"
    id: orm.Mapped[str] = orm.mapped_column(FLAVOR_ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    memory_mb: orm.Mapped[int] = orm.mapped_column()
    vcpus: orm.Mapped[int] = orm.mapped_column()
    root_gb: orm.Mapped[int] = orm.mapped_column(default=0)
    ephemeral_gb: orm.Mapped[int] = orm.mapped_column(default=0)
    swap: orm.Mapped[int] = orm.mapped_column(default=0)
    rxtx_factor: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    is_public: orm.Mapped[bool] = orm.mapped_column(default=True, index=True)
    disabled: orm.Mapped[bool] = orm.mapped_column(default=False)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)

    extra_specs: orm.Mapped[list[FlavorExtraSpec]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    projects: orm.Mapped[list[FlavorProject]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")


class FlavorExtraSpec(Base):
    __tablename__ = "flavor_extra_specs"
    flavor_id: orm.Mapped[str] = orm.mapped_column(
        FLAVOR_ID, sa.ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")


class FlavorProject(Base):
    """A project that may use a private flavor."""

    __tablename__ = "flavor_projects"
    flavor_id: orm.Mapped[str] = orm.mapped_column(
        FLAVOR_ID, sa.ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True,
                                                    index=True)


class KeyPair(Base):
    """An SSH (or x509) public key owned by one user."""

    __tablename__ = "key_pairs"
    __table_args__ = (sa.UniqueConstraint("user_id", "name",
                                          name="uq_key_pairs_user_id_name"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    type: orm.Mapped[str] = orm.mapped_column(sa.String(10), default="ssh")
    fingerprint: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    public_key: orm.Mapped[str] = orm.mapped_column(sa.Text)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
