"""Compute hosts as the scheduler sees them: inventory, and the claims made against it.

A host's usage is the sum of its allocations. A claim inserts an allocation and bumps
the host's ``generation`` in one transaction, guarded by the generation the scheduler
read, so two schedulers (or two threads) can never both fill the last slot: the loser's
guarded UPDATE matches no row and it re-reads and retries.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow


class ComputeNode(Base):
    """One hypervisor, reported by its compute agent (``hypervisors`` API)."""

    __tablename__ = "compute_nodes"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    hypervisor_hostname: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hypervisor_type: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="QEMU")
    hypervisor_version: orm.Mapped[int] = orm.mapped_column(default=0)
    host_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(39))
    cpu_info: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    # Capacity as reported (before allocation ratios).
    vcpus: orm.Mapped[int] = orm.mapped_column(default=0)
    memory_mb: orm.Mapped[int] = orm.mapped_column(default=0)
    local_gb: orm.Mapped[int] = orm.mapped_column(default=0)
    free_disk_gb: orm.Mapped[int] = orm.mapped_column(default=0)  # filesystem free space
    # Held back for the host itself, and the overcommit the scheduler may apply.
    reserved_host_memory_mb: orm.Mapped[int] = orm.mapped_column(default=0)
    reserved_host_disk_gb: orm.Mapped[int] = orm.mapped_column(default=0)
    cpu_allocation_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=4.0)
    ram_allocation_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    disk_allocation_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    generation: orm.Mapped[int] = orm.mapped_column(default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Allocation(Base):
    """Resources one consumer holds on one host.

    The consumer is an instance uuid, or a migration uuid for the source side of a
    resize (so the old flavor stays claimed until the resize is confirmed or reverted).
    """

    __tablename__ = "allocations"
    __table_args__ = (sa.UniqueConstraint("consumer_uuid", "compute_node_id",
                                          name="uq_allocations_consumer_node"),)
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    consumer_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    compute_node_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("compute_nodes.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    vcpus: orm.Mapped[int] = orm.mapped_column(default=0)
    memory_mb: orm.Mapped[int] = orm.mapped_column(default=0)
    disk_gb: orm.Mapped[int] = orm.mapped_column(default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
