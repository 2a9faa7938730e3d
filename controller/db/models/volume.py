"""Block storage tables: volumes, types, snapshots, attachments, backups and backend pools.

Volumes, snapshots and backups are marked deleted rather than removed, so a volume agent
that was down during a delete still learns at start-up (``volumes_on_backend``) that the
data it finds belongs to a deleted volume.

A pool's usage is the sum of ``allocated_gb`` of the live volumes placed on it. A claim
writes the volume's placement and bumps the pool's ``generation`` in one transaction,
guarded by the generation the scheduler read, so two concurrent creates can never both
take the last free gigabytes: the loser's guarded UPDATE matches no row and it re-reads.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow

UUID = sa.String(36)  # Cinder's IDs are dashed UUIDs


class VolumeType(Base):
    __tablename__ = "volume_types"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    is_public: orm.Mapped[bool] = orm.mapped_column(default=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None]

    extra_specs: orm.Mapped[list[VolumeTypeExtraSpec]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    projects: orm.Mapped[list[VolumeTypeProject]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")

    @property
    def specs(self) -> dict[str, str]:
        return {spec.key: spec.value for spec in self.extra_specs}


class VolumeTypeExtraSpec(Base):
    __tablename__ = "volume_type_extra_specs"
    volume_type_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volume_types.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")


class VolumeTypeProject(Base):
    """A project that may use a private volume type."""

    __tablename__ = "volume_type_projects"
    volume_type_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volume_types.id", ondelete="CASCADE"), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True,
                                                    index=True)


class VolumePool(Base):
    """One pool of one backend (``host@backend#pool``), as its volume agent reports it."""

    __tablename__ = "volume_pools"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    backend: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)  # host@backend
    volume_backend_name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    storage_protocol: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="iSCSI")
    total_capacity_gb: orm.Mapped[float] = orm.mapped_column(sa.Float, default=0.0)
    free_capacity_gb: orm.Mapped[float] = orm.mapped_column(sa.Float, default=0.0)
    provisioned_capacity_gb: orm.Mapped[float] = orm.mapped_column(sa.Float, default=0.0)
    reserved_percentage: orm.Mapped[int] = orm.mapped_column(default=0)
    max_over_subscription_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    thin_provisioning_support: orm.Mapped[bool] = orm.mapped_column(default=False)
    capabilities: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    generation: orm.Mapped[int] = orm.mapped_column(default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Volume(Base):
    __tablename__ = "volumes"
    __table_args__ = (sa.Index("ix_volumes_project_deleted", "project_id", "deleted"),
                      sa.Index("ix_volumes_pool_deleted", "pool_id", "deleted"))

    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    size: orm.Mapped[int] = orm.mapped_column()
    status: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="creating")
    attach_status: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="detached")
    migration_status: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    availability_zone: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    volume_type_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volume_types.id"), index=True)
    bootable: orm.Mapped[bool] = orm.mapped_column(default=False)
    multiattach: orm.Mapped[bool] = orm.mapped_column(default=False)
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    source_volid: orm.Mapped[str | None] = orm.mapped_column(UUID)
    image_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    backup_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    # Placement: the pool name (Cinder's os-vol-host-attr:host) and the claim on it.
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    pool_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("volume_pools.id", ondelete="SET NULL"))
    allocated_gb: orm.Mapped[int] = orm.mapped_column(default=0)
    provider_location: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None]
    deleted: orm.Mapped[bool] = orm.mapped_column(default=False)
    deleted_at: orm.Mapped[datetime.datetime | None]

    volume_type: orm.Mapped[VolumeType] = orm.relationship(lazy="joined", innerjoin=True)
    metadata_items: orm.Mapped[list[VolumeMetadata]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    admin_metadata_items: orm.Mapped[list[VolumeAdminMetadata]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    image_metadata_items: orm.Mapped[list[VolumeImageMetadata]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    attachments: orm.Mapped[list[VolumeAttachment]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin",
        order_by="VolumeAttachment.created_at")

    @property
    def metadata_dict(self) -> dict[str, str]:
        return {item.key: item.value for item in self.metadata_items}

    @property
    def admin_metadata(self) -> dict[str, str]:
        return {item.key: item.value for item in self.admin_metadata_items}

    @property
    def image_metadata(self) -> dict[str, str]:
        return {item.key: item.value for item in self.image_metadata_items}

    @property
    def backend_host(self) -> str | None:
        """``host@backend``: the volume agent that serves this volume."""
        return self.host.partition("#")[0] if self.host else None


class VolumeMetadata(Base):
    __tablename__ = "volume_metadata"
    volume_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")


class VolumeAdminMetadata(Base):
    """Flags users read but only the service sets (``readonly``, ``attached_mode``)."""

    __tablename__ = "volume_admin_metadata"
    volume_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")


class VolumeImageMetadata(Base):
    """The image a volume was made from (Cinder's volume_glance_metadata)."""

    __tablename__ = "volume_image_metadata"
    volume_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")


class VolumeAttachment(Base):
    """One attachment of a volume: to a server (instance_uuid) through a connector."""

    __tablename__ = "volume_attachments"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    instance_uuid: orm.Mapped[str | None] = orm.mapped_column(UUID, index=True)
    attached_host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    mountpoint: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    # {"host", "ip", "initiator", ...} as the consumer sent it.
    connector: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    connection_info: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    attach_mode: orm.Mapped[str] = orm.mapped_column(sa.String(2), default="rw")
    attach_status: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="reserved")
    attach_time: orm.Mapped[datetime.datetime | None]
    detach_time: orm.Mapped[datetime.datetime | None]
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None]


class Snapshot(Base):
    __tablename__ = "snapshots"
    __table_args__ = (sa.Index("ix_snapshots_project_deleted", "project_id", "deleted"),)

    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    volume_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("volumes.id"), index=True)
    volume_type_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="creating")
    progress: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="0%")
    size: orm.Mapped[int] = orm.mapped_column()
    provider_location: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None]
    deleted: orm.Mapped[bool] = orm.mapped_column(default=False)
    deleted_at: orm.Mapped[datetime.datetime | None]

    volume: orm.Mapped[Volume] = orm.relationship(lazy="joined", innerjoin=True)
    metadata_items: orm.Mapped[list[SnapshotMetadata]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")

    @property
    def metadata_dict(self) -> dict[str, str]:
        return {item.key: item.value for item in self.metadata_items}


class SnapshotMetadata(Base):
    __tablename__ = "snapshot_metadata"
    snapshot_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")


class Backup(Base):
    """A copy of a volume's data in the backup store; outlives the volume."""

    __tablename__ = "backups"
    __table_args__ = (sa.Index("ix_backups_project_deleted", "project_id", "deleted"),)

    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    volume_id: orm.Mapped[str] = orm.mapped_column(UUID, index=True)
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="creating")
    fail_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    size: orm.Mapped[int] = orm.mapped_column()
    object_count: orm.Mapped[int] = orm.mapped_column(default=0)
    container: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))  # host@backend
    is_incremental: orm.Mapped[bool] = orm.mapped_column(default=False)
    parent_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    restore_volume_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    # The volume status to return to when the backup ends (available or in-use).
    volume_status_before: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    data_timestamp: orm.Mapped[datetime.datetime | None]
    backup_metadata: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None]
    deleted: orm.Mapped[bool] = orm.mapped_column(default=False)
    deleted_at: orm.Mapped[datetime.datetime | None]
