"""Server tables: instances, their metadata, faults and actions, migrations, server groups.

An instance row is never removed by a server delete: it is marked deleted (vm_state
``deleted``, ``deleted_at`` set), so ``changes-since`` listings show the deletion and a
compute agent that was down during the delete still learns, at start-up, that the
domain it finds belongs to a deleted instance.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow

INSTANCE_ID = sa.String(36)  # Nova's server IDs are dashed UUIDs


class Instance(Base):
    """One server. ``flavor`` is a copy of the flavor at boot (or resize): later edits or
    deletion of the flavor never change a running server."""

    __tablename__ = "instances"
    __table_args__ = (sa.Index("ix_instances_project_deleted", "project_id", "deleted"),
                      sa.Index("ix_instances_host_deleted", "host", "deleted"))

    uuid: orm.Mapped[str] = orm.mapped_column(INSTANCE_ID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    display_name: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    display_description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    hostname: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    reservation_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    launch_index: orm.Mapped[int] = orm.mapped_column(default=0)

    image_ref: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), index=True)
    flavor_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    # {"id", "name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap",
    #  "rxtx_factor", "description", "extra_specs": {...}}
    flavor: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    # During a resize: the flavor being left (old) and the one being moved to (new).
    old_flavor: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    new_flavor: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)

    key_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    key_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    user_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text)  # base64, as given
    config_drive: orm.Mapped[bool] = orm.mapped_column(default=False)
    access_ip_v4: orm.Mapped[str | None] = orm.mapped_column(sa.String(39))
    access_ip_v6: orm.Mapped[str | None] = orm.mapped_column(sa.String(39))

    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    launched_on: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))

    vm_state: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="building")
    task_state: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    power_state: orm.Mapped[int] = orm.mapped_column(default=0)
    progress: orm.Mapped[int] = orm.mapped_column(default=0)

    locked: orm.Mapped[bool] = orm.mapped_column(default=False)
    locked_by: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))  # owner | admin
    locked_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))

    # Free-form facts other services and workflows keep about the instance, e.g.
    # {"image_disk_format": "qcow2", "image_min_ram": "0"} (Nova's system_metadata).
    system_metadata: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)

    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow, index=True)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow,
                                                                  onupdate=utcnow, index=True)
    launched_at: orm.Mapped[datetime.datetime | None]
    terminated_at: orm.Mapped[datetime.datetime | None]
    deleted_at: orm.Mapped[datetime.datetime | None]
    deleted: orm.Mapped[bool] = orm.mapped_column(default=False)

    metadata_items: orm.Mapped[list[InstanceMetadata]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    tags: orm.Mapped[list[InstanceTag]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")


class InstanceMetadata(Base):
    """User metadata of a server (``openstack server set --property``)."""

    __tablename__ = "instance_metadata"
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        INSTANCE_ID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")


class InstanceTag(Base):
    __tablename__ = "instance_tags"
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        INSTANCE_ID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"), primary_key=True)
    tag: orm.Mapped[str] = orm.mapped_column(sa.String(80), primary_key=True)


class InstanceFault(Base):
    """Why an instance went to ERROR (or an action on it failed); the newest is shown."""

    __tablename__ = "instance_faults"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        INSTANCE_ID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"), index=True)
    code: orm.Mapped[int] = orm.mapped_column(default=500)
    message: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    details: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class InstanceAction(Base):
    """One user request on a server (create, stop, resize...): `server event list`."""

    __tablename__ = "instance_actions"
    __table_args__ = (sa.Index("ix_instance_actions_instance_request", "instance_uuid",
                               "request_id"),)
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        INSTANCE_ID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"))
    action: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    request_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    start_time: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    finish_time: orm.Mapped[datetime.datetime | None]
    message: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))  # "Error" on failure
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow,
                                                                  onupdate=utcnow)

    events: orm.Mapped[list[InstanceActionEvent]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin",
        order_by="InstanceActionEvent.id")


class InstanceActionEvent(Base):
    """A step of an action (compute_build_and_run_instance, ...) and how it ended."""

    __tablename__ = "instance_action_events"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    action_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("instance_actions.id", ondelete="CASCADE"), index=True)
    event: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    start_time: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    finish_time: orm.Mapped[datetime.datetime | None]
    result: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))  # Success | Error
    traceback: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    details: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class Migration(Base):
    """A resize (or, later, a migration): where from, where to, and how far it got."""

    __tablename__ = "migrations"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        INSTANCE_ID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"), index=True)
    migration_type: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="resize")
    source_compute: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    dest_compute: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    source_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    dest_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    old_flavor_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    new_flavor_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    # pre-migrating, migrating, post-migrating, finished, confirming, confirmed,
    # reverting, reverted, error
    status: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="pre-migrating")
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow,
                                                                  onupdate=utcnow)


class ServerGroup(Base):
    """Affinity or anti-affinity of its members, enforced by the scheduler."""

    __tablename__ = "server_groups"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    # affinity | anti-affinity | soft-affinity | soft-anti-affinity
    policy: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    rules: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)  # max_server_per_host
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)

    members: orm.Mapped[list[ServerGroupMember]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")


class ServerGroupMember(Base):
    __tablename__ = "server_group_members"
    group_uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("server_groups.uuid", ondelete="CASCADE"),
        primary_key=True)
    # No foreign key: a member row outlives nothing, it is removed with the server.
    instance_uuid: orm.Mapped[str] = orm.mapped_column(INSTANCE_ID, primary_key=True,
                                                       index=True)


class ConsoleAuthToken(Base):
    """A single-use, short-lived token the console proxy exchanges for host:port."""

    __tablename__ = "console_auth_tokens"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    token_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)  # sha256
    console_type: orm.Mapped[str] = orm.mapped_column(sa.String(50))  # novnc | serial
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    port: orm.Mapped[int] = orm.mapped_column()
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        INSTANCE_ID, sa.ForeignKey("instances.uuid", ondelete="CASCADE"), index=True)
    expires_at: orm.Mapped[datetime.datetime] = orm.mapped_column(index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
