"""VolumeRpcManager: what the volume agents report, written to the database here (agents
never touch it). Served in the conductor on ``[volume_rpc] server_topic``; see
:mod:`common.rpc.volume` for the contract and :mod:`controller.volume.rpc_server`.

Agent reports are applied with guards (a report about a volume that was deleted, or that
moved on, changes nothing), and the follow-ups of a step happen here: a volume made for
a backup restore gets the backup written into it, an extend that failed gives its claim
back, a copy cut short by an agent restart ends its backup or image.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.base import utcnow
from controller.db.models.volume import (
    Backup,
    Snapshot,
    Volume,
    VolumeAdminMetadata,
    VolumePool,
)
from controller.runtime import Runtime
from controller.volume import (
    agent,
    backups,
    services,
    snapshots,
    states,
    store,
    volume_images,
    volumes,
)

LOG = logging.getLogger(__name__)
VOLUME_UPDATES = ("status", "size", "provider_location", "bootable", "migration_status")
SNAPSHOT_UPDATES = ("status", "progress", "provider_location")
BACKUP_UPDATES = ("status", "size", "object_count", "container", "fail_reason",
                  "availability_zone")
RECENTLY_DELETED = datetime.timedelta(days=7)


def _only(updates: dict[str, Any] | None, allowed: tuple[str, ...], what: str) -> dict:
    updates = dict(updates or {})
    ignored = sorted(set(updates) - set(allowed))
    if ignored:
        LOG.warning("%s update: ignoring fields %s", what, ", ".join(ignored))
    return {k: v for k, v in updates.items() if k in allowed}


class VolumeRpcManager:
    """RPC endpoint for the volume agents' reports (calls and casts)."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    # ------------------------------------------------------------ heartbeats
    def report_state(self, ctxt: RequestContext, host: str, binary: str,
                     backend: str) -> None:
        services.report(self.rt, host, binary, backend)

    def report_capacity(self, ctxt: RequestContext, backend_host: str,
                        stats: dict[str, Any]) -> None:
        """Create or refresh the backend's pool from its agent's stats (cast)."""
        name = str(stats.get("volume_backend_name") or backend_host.partition("@")[2])
        pool_name = f"{backend_host}#{stats.get('pool_name') or name}"
        values = {"backend": backend_host, "volume_backend_name": name,
                  "storage_protocol": str(stats.get("storage_protocol") or "iSCSI"),
                  "total_capacity_gb": _number(stats.get("total_capacity_gb")),
                  "free_capacity_gb": _number(stats.get("free_capacity_gb")),
                  "provisioned_capacity_gb": _number(stats.get("provisioned_capacity_gb")),
                  "reserved_percentage": int(_number(stats.get("reserved_percentage"))),
                  "max_over_subscription_ratio": _number(
                      stats.get("max_over_subscription_ratio"),
                      self.rt.conf.volume.max_over_subscription_ratio),
                  "thin_provisioning_support": bool(stats.get("thin_provisioning_support")),
                  "capabilities": {k: v for k, v in stats.items()
                                   if isinstance(v, str | int | float | bool)},
                  "updated_at": utcnow()}
        for _attempt in range(3):
            try:
                with self.rt.db.session() as session:
                    row = session.scalars(sa.select(VolumePool).where(
                        VolumePool.name == pool_name)).first()
                    if row is None:
                        session.add(VolumePool(name=pool_name, created_at=utcnow(), **values))
                    else:
                        for key, value in values.items():
                            setattr(row, key, value)
                        row.generation += 1  # capacity changed: claims must re-read
                return
            except sa_exc.IntegrityError:
                continue  # two reports created the pool at once: update it instead

    def volumes_on_backend(self, ctxt: RequestContext,
                           backend_host: str) -> list[dict[str, Any]]:
        """Every volume and snapshot placed on backend_host (recently deleted ones too,
        marked), with the connectors each volume should be exported to (call)."""
        since = utcnow() - RECENTLY_DELETED
        on_backend = sa.or_(Volume.host == backend_host,
                            Volume.host.startswith(f"{backend_host}#", autoescape=True))
        recent = sa.or_(Volume.deleted.is_(False), Volume.deleted_at > since)
        result = []
        with self.rt.db.session() as session:
            for row in session.scalars(sa.select(Volume).where(on_backend, recent)):
                result.append({"id": row.id, "kind": "volume", "status": row.status,
                               "deleted": row.deleted,
                               "exports": [] if row.deleted else agent.exports(row.attachments)})
            for row in session.scalars(sa.select(Snapshot).join(Volume).where(
                    on_backend, sa.or_(Snapshot.deleted.is_(False),
                                       Snapshot.deleted_at > since))):
                result.append({"id": row.id, "kind": "snapshot", "status": row.status,
                               "deleted": row.deleted, "exports": []})
        return result

    # --------------------------------------------------------------- volumes
    def volume_update(self, ctxt: RequestContext, volume_id: str, updates: dict[str, Any],
                      expected_status: list[str] | None = None) -> dict[str, Any] | None:
        """Apply an agent's report about a volume, if its status is still one of
        expected_status; None when it is not (or the volume is gone): the agent undoes."""
        updates = _only(updates, VOLUME_UPDATES, f"volume {volume_id}")
        if updates.get("status") not in (None, *states.VOLUME_STATUSES):
            LOG.warning("volume %s: unknown status %r ignored", volume_id, updates["status"])
            updates.pop("status")
        follow_up = None
        with self.rt.db.session() as session:
            row = session.scalars(sa.select(Volume).where(
                Volume.id == volume_id, Volume.deleted.is_(False))
                .with_for_update(of=Volume)).first()
            if row is None or (expected_status and row.status not in expected_status):
                return None
            before = row.status
            for key, value in updates.items():
                setattr(row, key, int(value) if key == "size" else value)
            row.updated_at = utcnow()
            if row.status == states.AVAILABLE:
                store.settle(session, row)  # back from a copy while attached: in-use
            follow_up = self._after(ctxt, session, row, before)
            result = {"id": row.id, "status": row.status, "size": row.size,
                      "attach_status": row.attach_status, "host": row.host,
                      "provider_location": row.provider_location}
        if follow_up:
            follow_up()
        return result

    def _after(self, ctxt: RequestContext, session: orm.Session, row: Volume, before: str):
        """Side effects of a volume leaving status before; maybe a call to make after
        the transaction."""
        if before == states.EXTENDING or row.allocated_gb < row.size:
            row.allocated_gb = row.size  # an extend ended: the claim is the real size
        if before == states.BACKING_UP and row.status != states.BACKING_UP:
            session.execute(sa.update(Backup).where(
                Backup.volume_id == row.id, Backup.status == states.CREATING).values(
                status=states.ERROR, fail_reason="The backup was interrupted.",
                updated_at=utcnow()))
        if before == states.UPLOADING and row.status != states.UPLOADING:
            pending = session.get(VolumeAdminMetadata, (row.id, volume_images.PENDING_IMAGE))
            if pending is not None:
                image_id = pending.value
                return lambda: volume_images.finish_upload(self.rt, row.id, image_id,
                                                            "the upload was interrupted")
        if before in (states.CREATING, states.DOWNLOADING) and row.status == states.AVAILABLE:
            return self._restore_into(ctxt, session, row)
        if before in (states.CREATING, states.DOWNLOADING) and row.status == states.ERROR:
            session.execute(sa.update(Backup).where(
                Backup.restore_volume_id == row.id, Backup.status == states.RESTORING).values(
                status=states.AVAILABLE, restore_volume_id=None, updated_at=utcnow()))
        return None

    def _restore_into(self, ctxt: RequestContext, session: orm.Session, row: Volume):
        backup = session.scalars(sa.select(Backup).where(
            Backup.restore_volume_id == row.id, Backup.status == states.RESTORING,
            Backup.deleted.is_(False))).first()
        if backup is None:
            return None
        row.status = states.RESTORING_BACKUP
        backup_id, backend, volume_id = backup.id, row.backend_host, row.id
        return lambda: backups.start_restore(self.rt, ctxt, backup_id, volume_id, backend)

    def volume_deleted(self, ctxt: RequestContext, volume_id: str) -> None:
        """The agent removed the volume's data: the volume is deleted (cast)."""
        with self.rt.db.session() as session:
            row = session.get(Volume, volume_id)
            if row is None or row.deleted:
                return
            volumes.mark_deleted(session, row)
            for snap in session.scalars(sa.select(Snapshot).where(
                    Snapshot.volume_id == volume_id, Snapshot.deleted.is_(False))):
                snapshots.mark_deleted(snap)
        LOG.info("volume %s deleted", volume_id)

    # ------------------------------------------------------------- snapshots
    def snapshot_update(self, ctxt: RequestContext, snapshot_id: str,
                        updates: dict[str, Any]) -> None:
        updates = _only(updates, SNAPSHOT_UPDATES, f"snapshot {snapshot_id}")
        if updates.get("status") == states.AVAILABLE:
            updates.setdefault("progress", "100%")
        with self.rt.db.session() as session:
            row = session.get(Snapshot, snapshot_id)
            if row is None or row.deleted:
                return
            for key, value in updates.items():
                setattr(row, key, value)
            row.updated_at = utcnow()

    def snapshot_deleted(self, ctxt: RequestContext, snapshot_id: str) -> None:
        with self.rt.db.session() as session:
            row = session.get(Snapshot, snapshot_id)
            if row is not None and not row.deleted:
                snapshots.mark_deleted(row)

    # --------------------------------------------------------------- backups
    def backup_update(self, ctxt: RequestContext, backup_id: str,
                      updates: dict[str, Any]) -> None:
        updates = _only(updates, BACKUP_UPDATES, f"backup {backup_id}")
        with self.rt.db.session() as session:
            row = session.get(Backup, backup_id)
            if row is None or row.deleted:
                return
            for key, value in updates.items():
                setattr(row, key, value)
            if row.status == states.AVAILABLE and row.data_timestamp is None:
                row.data_timestamp = row.created_at
            if row.status != states.RESTORING:
                row.restore_volume_id = None
            row.updated_at = utcnow()

    def backup_deleted(self, ctxt: RequestContext, backup_id: str) -> None:
        with self.rt.db.session() as session:
            row = session.get(Backup, backup_id)
            if row is not None and not row.deleted:
                backups.mark_deleted(row)

    # ---------------------------------------------------------------- images
    def image_uploaded(self, ctxt: RequestContext, volume_id: str, image_id: str,
                       error: str | None = None) -> None:
        volume_images.finish_upload(self.rt, volume_id, image_id, error)


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default  # "unknown", "infinite", "auto" and friends
