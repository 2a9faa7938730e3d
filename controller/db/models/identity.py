"""Identity tables: domains, projects, users, groups, roles, assignments, catalog."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow

ID = sa.String(64)
NAME = sa.String(255)


class Revision(Base):
    """One row whose value grows on every identity change; caches key on it."""

    __tablename__ = "identity_revision"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    value: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, default=0)


class Domain(Base):
    __tablename__ = "domains"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME, unique=True)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    extra: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_projects_domain_name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    domain_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("domains.id"), index=True)
    parent_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    tags: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    extra: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_users_domain_name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    domain_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("domains.id"), index=True)
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    password_hash: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    default_project_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    email: orm.Mapped[str | None] = orm.mapped_column(NAME)
    options: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    extra: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    password_changed_at: orm.Mapped[datetime.datetime | None]


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_groups_domain_name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    domain_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("domains.id"))
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")


class GroupMembership(Base):
    __tablename__ = "group_memberships"
    user_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True)


class Role(Base):
    __tablename__ = "roles"
    # Global roles store domain_id "" so the unique constraint holds (NULLs never collide).
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_roles_domain_name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    domain_id: orm.Mapped[str] = orm.mapped_column(ID, default="")
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")


class Assignment(Base):
    """A role held by a user or group on a project or domain."""

    __tablename__ = "assignments"
    actor_type: orm.Mapped[str] = orm.mapped_column(sa.String(8), primary_key=True)  # user|group
    actor_id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, index=True)
    target_type: orm.Mapped[str] = orm.mapped_column(sa.String(8), primary_key=True)
    target_id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, index=True)
    role_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    inherited: orm.Mapped[bool] = orm.mapped_column(primary_key=True, default=False)


class Region(Base):
    __tablename__ = "regions"
    id: orm.Mapped[str] = orm.mapped_column(NAME, primary_key=True)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    parent_region_id: orm.Mapped[str | None] = orm.mapped_column(NAME)


class CatalogService(Base):
    __tablename__ = "catalog_services"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    type: orm.Mapped[str] = orm.mapped_column(NAME)
    name: orm.Mapped[str] = orm.mapped_column(NAME, default="")
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)


class Endpoint(Base):
    __tablename__ = "endpoints"
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    service_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("catalog_services.id", ondelete="CASCADE"), index=True)
    interface: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    url: orm.Mapped[str] = orm.mapped_column(sa.Text)
    region_id: orm.Mapped[str | None] = orm.mapped_column(NAME)
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)


class ApplicationCredential(Base):
    __tablename__ = "application_credentials"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_app_creds_user_name"),)
    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(NAME)
    user_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(ID)
    secret_hash: orm.Mapped[str] = orm.mapped_column(sa.String(128))
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    expires_at: orm.Mapped[datetime.datetime | None]
    unrestricted: orm.Mapped[bool] = orm.mapped_column(default=False)
    role_ids: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)


class RevocationEvent(Base):
    """Tokens matching every non-null field and issued before issued_before are revoked."""

    __tablename__ = "revocation_events"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    audit_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), index=True)
    user_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    project_id: orm.Mapped[str | None] = orm.mapped_column(ID)
    issued_before: orm.Mapped[datetime.datetime]
    expires_at: orm.Mapped[datetime.datetime] = orm.mapped_column(index=True)
