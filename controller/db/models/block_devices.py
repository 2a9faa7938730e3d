"""Block device mappings: the volumes a server boots from or has attached (Nova's BDMs).

One row per volume of a server. The volume service keeps its own side of each attachment
(``volume_attachments``: the export, its connector and connection_info); a mapping names
that attachment and adds what only compute knows: the guest device, the boot index,
``delete_on_termination`` and the tag. A local boot from an image has no row.

A row is removed when its volume is detached; the rows of a deleted server are removed
once its volumes are detached (and deleted, with ``delete_on_termination``), so a row
that outlives its server is work the conductor's reconciliation still has to finish.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow

# status: pending (boot volume not made or not exported yet), attaching, attached,
# detaching.
PENDING = "pending"
ATTACHING = "attaching"
ATTACHED = "attached"
DETACHING = "detaching"


class BlockDeviceMapping(Base):
    __tablename__ = "block_device_mappings"
    __table_args__ = (
        # One mapping per volume and server, and one volume per guest device: two
        # concurrent attaches of the same volume (or to the same device) cannot both win.
        sa.UniqueConstraint("instance_uuid", "volume_id", name="uq_bdm_instance_volume"),
        sa.UniqueConstraint("instance_uuid", "device_name", name="uq_bdm_instance_device"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("instances.uuid", ondelete="CASCADE"), index=True)
    source_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))  # image|volume|snapshot|blank
    destination_type: orm.Mapped[str] = orm.mapped_column(sa.String(32), default="volume")
    image_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    volume_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), index=True)
    volume_size: orm.Mapped[int | None]
    boot_index: orm.Mapped[int | None]
    device_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    disk_bus: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    device_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    delete_on_termination: orm.Mapped[bool] = orm.mapped_column(default=False)
    tag: orm.Mapped[str | None] = orm.mapped_column(sa.String(60))
    # The volume service's attachment (controller.volume.attachments) of this mapping.
    attachment_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(32), default=PENDING)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow,
                                                                  onupdate=utcnow)

    @property
    def is_root(self) -> bool:
        return self.boot_index == 0

    @property
    def created_by_compute(self) -> bool:
        """The build made this volume (from an image, a snapshot or blank)."""
        return self.source_type != "volume"
