"""The data copies of :class:`agents.volume.manager.VolumeManager`: a volume uploaded as
an image, backed up, restored from a backup; and backups deleted.

Long reads hold no volume lock (attach and detach must not wait minutes behind a
backup): the service's state machine already keeps deletes and writes away from a volume
being copied, and an exported volume, which its guest may write meanwhile, is read
through a temporary snapshot taken under the lock. A restore writes, so it holds it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

from agents.volume import imagecopy, names
from agents.volume.backup import BackupService
from agents.volume.driver import GiB, VolumeDriver
from agents.volume.exception import InvalidInput, VolumeAgentError, VolumeNotFound
from agents.volume.locks import KeyedLocks
from agents.volume.targets import TargetHelper
from common.context import RequestContext

LOG = logging.getLogger(__name__)


class CopyOperations:
    """Mixin of VolumeManager, which provides these and the report helpers."""

    driver: VolumeDriver
    targets: TargetHelper
    server: Any
    locks: KeyedLocks
    backups: BackupService | None
    upload: imagecopy.Upload | None
    conversion_dir: str
    conversion_timeout: float

    def copy_volume_to_image(self, ctx: RequestContext, volume_id: str,
                             image: dict[str, Any]) -> None:
        """Cast: upload the volume's data as image["id"]; report image_uploaded."""
        volume_id = names.canonical_uuid(volume_id, "volume id")
        image_id = str((image or {}).get("id"))
        error = None
        try:
            if self.upload is None:
                raise InvalidInput("this agent has no image service client configured")
            with self._readable(volume_id) as (path, opener):
                imagecopy.upload_volume(self.upload, image, path, opener, self.conversion_dir,
                                        timeout=self.conversion_timeout,
                                        execute=self.driver.execute)
        except Exception as exc:  # noqa: BLE001 - reported to the service
            LOG.error("uploading volume %s as image %s failed: %s", volume_id, image_id, exc,
                      exc_info=not isinstance(exc, VolumeAgentError))
            error = str(exc)
        self.server.image_uploaded(ctx, volume_id, image_id, error=error)

    def backup_volume(self, ctx: RequestContext, backup_id: str, volume_id: str) -> None:
        """Cast: store the volume's data as a backup; report backup_update."""
        backup_id = names.canonical_uuid(backup_id, "backup id")
        volume_id = names.canonical_uuid(volume_id, "volume id")
        try:
            with self._readable(volume_id) as (_path, opener), opener() as data:
                size = self.driver.volume_size(volume_id)
                manifest = self._backups().backup(backup_id, volume_id, data, size)
        except Exception as exc:  # noqa: BLE001 - reported to the service
            LOG.error("backup %s of volume %s failed: %s", backup_id, volume_id, exc,
                      exc_info=not isinstance(exc, VolumeAgentError))
            self.server.backup_update(ctx, backup_id, {"status": "error",
                                                       "fail_reason": str(exc)[:255]})
        else:
            self.server.backup_update(ctx, backup_id, {
                "status": "available", "size": -(-size // GiB),
                "object_count": manifest["object_count"]})
        status = "in-use" if self._exported(volume_id) else "available"
        self._volume_update(ctx, volume_id, {"status": status}, ["backing-up"])

    def restore_backup(self, ctx: RequestContext, backup_id: str, volume_id: str) -> None:
        """Cast: write the backup into the volume; report the volume and the backup."""
        backup_id = names.canonical_uuid(backup_id, "backup id")
        volume_id = names.canonical_uuid(volume_id, "volume id")
        with self.locks.hold(volume_id) as cancel:
            try:
                size = self.driver.volume_size(volume_id)
                with self.driver.open_volume(volume_id, writable=True) as dest:
                    self._backups().restore(backup_id, dest, size, cancel)
                    _fsync(dest)
            except Exception as exc:  # noqa: BLE001 - reported to the service
                LOG.error("restoring backup %s into volume %s failed: %s", backup_id,
                          volume_id, exc, exc_info=not isinstance(exc, VolumeAgentError))
                self._volume_update(ctx, volume_id, {"status": "error_restoring"},
                                    ["restoring-backup"])
                self.server.backup_update(ctx, backup_id, {"status": "available"})
                return
        self._volume_update(ctx, volume_id, {"status": "available"}, ["restoring-backup"])
        self.server.backup_update(ctx, backup_id, {"status": "available"})
        LOG.info("backup %s restored into volume %s", backup_id, volume_id)

    def delete_backup(self, ctx: RequestContext, backup_id: str) -> None:
        """Cast: remove the backup's stored data; report backup_deleted."""
        backup_id = names.canonical_uuid(backup_id, "backup id")
        try:
            self._backups().delete(backup_id)
        except Exception as exc:  # noqa: BLE001 - reported to the service
            LOG.error("deleting backup %s failed: %s", backup_id, exc)
            self.server.backup_update(ctx, backup_id, {"status": "error_deleting",
                                                       "fail_reason": str(exc)[:255]})
            return
        self.server.backup_deleted(ctx, backup_id)

    # -------------------------------------------------------------- helpers
    @contextlib.contextmanager
    def _readable(self, volume_id: str) -> Iterator[tuple[str, Any]]:
        """(raw path, opener) of a stable copy of the volume's data.

        An exported volume may change under the reader, so it is read through a
        temporary snapshot (owner-named, swept at start-up if we die meanwhile).
        """
        if not self.driver.volume_exists(volume_id):
            raise VolumeNotFound(volume_id)
        if not self._exported(volume_id):
            yield (self.driver.local_path(volume_id),
                   lambda: self.driver.open_volume(volume_id))
            return
        temp = str(uuid.uuid4())
        with self.locks.hold(volume_id):
            self.driver.create_snapshot(temp, volume_id)
        try:
            path = self.driver.snapshot_path(temp)
            yield path, lambda: open(path, "rb")  # noqa: SIM115 - caller closes
        finally:
            self._quietly(self.driver.delete_snapshot, temp)

    def _backups(self) -> BackupService:
        if self.backups is None:
            raise InvalidInput("this agent has no backup store configured")
        return self.backups


def _fsync(handle) -> None:
    """Flush a restored volume to stable storage (in-memory fakes have no descriptor)."""
    try:
        os.fsync(handle.fileno())
    except (OSError, ValueError, AttributeError):
        pass
