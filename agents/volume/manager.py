"""VolumeManager: the RPC endpoint of one backend (``<host>@<backend>``).

It serves every cast and call of :class:`common.rpc.volume.VolumeAgentAPI` and reports
outcomes through :class:`common.rpc.volume.VolumeServerAPI`. Work on one volume or
snapshot is serialised by a per-resource lock; different resources proceed in parallel
on the RPC server's threads. Every report that ends a create is guarded by the status
the service expects (``volume_update(..., expected_status)``): when the guard fails the
volume was deleted meanwhile, and the data just made is removed again, so a delete
racing a long create never leaves an orphan.

Casts never raise back to the bus: a failure becomes the resource's error status and
a log line saying why. Calls (initialize/terminate_connection) raise, so the caller sees
the reason. The data copies (image upload, backups) live in :mod:`agents.volume.copies`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import oslo_messaging

from agents.volume import imagecopy, names
from agents.volume.backup import BackupService
from agents.volume.chap import ChapKeys
from agents.volume.copies import CopyOperations
from agents.volume.driver import VolumeDriver
from agents.volume.exception import (
    AlreadyExists,
    InvalidInput,
    VolumeAgentError,
    VolumeNotFound,
)
from agents.volume.locks import KeyedLocks
from agents.volume.targets import Connector, TargetHelper
from common.context import RequestContext

LOG = logging.getLogger(__name__)
CREATING = ["creating", "downloading"]
UNREACHABLE = object()  # the service did not answer a report: leave things as they are
REPORT_ATTEMPTS = 3


class VolumeManager(CopyOperations):
    """The volume agent's RPC endpoint for one backend."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self, backend_host: str, driver: VolumeDriver, targets: TargetHelper,
                 server: Any, chap: ChapKeys, *, backups: BackupService | None = None,
                 fetch: imagecopy.Fetch | None = None, upload: imagecopy.Upload | None = None,
                 conversion_dir: str = "/var/lib/stratus/volume-conversion",
                 conversion_timeout: float = 3600, retry_delay: float = 1.0):
        self.backend_host = backend_host
        self.driver = driver
        self.targets = targets
        self.server = server
        self.chap = chap
        self.backups = backups
        self.fetch = fetch
        self.upload = upload
        self.conversion_dir = conversion_dir
        self.conversion_timeout = conversion_timeout
        self.retry_delay = retry_delay
        self.locks = KeyedLocks()

    # -------------------------------------------------------------- volumes
    def create_volume(self, ctx: RequestContext, volume: dict[str, Any]) -> None:
        """Cast: make the volume's data; report available (or error)."""
        volume_id = names.canonical_uuid((volume or {}).get("id"), "volume id")
        with self.locks.hold(volume_id) as cancel:
            started = time.monotonic()
            try:
                path, updates = self._create_data(volume_id, volume, cancel)
            except Exception as exc:  # noqa: BLE001 - any failure ends as status error
                LOG.error("creating volume %s failed: %s", volume_id, exc,
                          exc_info=not isinstance(exc, VolumeAgentError))
                if not isinstance(exc, AlreadyExists):  # a repeated create keeps the data
                    self._discard(volume_id)
                self._volume_update(ctx, volume_id, {"status": "error"}, CREATING)
                return
            updates.update(status="available", provider_location=path)
            result = self._volume_update(ctx, volume_id, updates, CREATING)
            if result is None:
                LOG.warning("volume %s was deleted while it was being created; removing "
                            "its data again", volume_id)
                self._discard(volume_id)
                return
            LOG.info("volume %s created in %.1f s", volume_id, time.monotonic() - started)

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        """Cast: unexport and remove the volume's data; report volume_deleted."""
        volume_id = names.canonical_uuid(volume_id, "volume id")
        if self.locks.cancel(volume_id):
            LOG.info("volume %s: asked the operation in progress to stop", volume_id)
        with self.locks.hold(volume_id):
            try:
                self._discard(volume_id, strict=True)
            except VolumeAgentError as exc:
                LOG.error("deleting volume %s failed: %s", volume_id, exc)
                self._volume_update(ctx, volume_id, {"status": "error_deleting"})
                return
        self.server.volume_deleted(ctx, volume_id)
        LOG.info("volume %s deleted", volume_id)

    def extend_volume(self, ctx: RequestContext, volume_id: str, new_size: int) -> None:
        """Cast: grow the volume; report its new size (or error_extending)."""
        volume_id = names.canonical_uuid(volume_id, "volume id")
        with self.locks.hold(volume_id):
            try:
                self.driver.extend_volume(volume_id, names.size_gb(new_size, "new size"))
                self.targets.refresh(volume_id)
            except VolumeAgentError as exc:
                LOG.error("extending volume %s failed: %s", volume_id, exc)
                self._volume_update(ctx, volume_id, {"status": "error_extending"},
                                    ["extending"])
                return
            status = "in-use" if self._exported(volume_id) else "available"
        self._volume_update(ctx, volume_id, {"status": status, "size": new_size}, ["extending"])
        LOG.info("volume %s extended to %d GiB", volume_id, new_size)

    # ------------------------------------------------------------ snapshots
    def create_snapshot(self, ctx: RequestContext, snapshot_id: str, volume_id: str) -> None:
        """Cast: keep the volume's data as the snapshot; report available (or error)."""
        snapshot_id = names.canonical_uuid(snapshot_id, "snapshot id")
        volume_id = names.canonical_uuid(volume_id, "volume id")
        with self.locks.hold(volume_id), self.locks.hold(snapshot_id):
            try:
                self.driver.create_snapshot(snapshot_id, volume_id)
            except VolumeAgentError as exc:
                LOG.error("snapshot %s of volume %s failed: %s", snapshot_id, volume_id, exc)
                if not isinstance(exc, AlreadyExists):
                    self._quietly(self.driver.delete_snapshot, snapshot_id)
                self.server.snapshot_update(ctx, snapshot_id, {"status": "error"})
                return
        self.server.snapshot_update(ctx, snapshot_id, {"status": "available",
                                                       "progress": "100%"})
        LOG.info("snapshot %s of volume %s created", snapshot_id, volume_id)

    def delete_snapshot(self, ctx: RequestContext, snapshot_id: str) -> None:
        """Cast: remove the snapshot's data; report snapshot_deleted."""
        snapshot_id = names.canonical_uuid(snapshot_id, "snapshot id")
        with self.locks.hold(snapshot_id):
            try:
                self.driver.delete_snapshot(snapshot_id)
            except VolumeAgentError as exc:
                LOG.error("deleting snapshot %s failed: %s", snapshot_id, exc)
                self.server.snapshot_update(ctx, snapshot_id, {"status": "error_deleting"})
                return
        self.server.snapshot_deleted(ctx, snapshot_id)

    # ---------------------------------------------------------- attachment
    @oslo_messaging.expected_exceptions(VolumeAgentError)
    def initialize_connection(self, ctx: RequestContext, volume_id: str,
                              connector: dict[str, Any]) -> dict[str, Any]:
        """Call: export the volume to connector; return connection_info.

        :raises InvalidInput: the connector is unusable.
        :raises VolumeNotFound: the volume has no data here.
        :raises TargetError: the export could not be made.
        """
        volume_id = names.canonical_uuid(volume_id, "volume id")
        conn = Connector.from_dict(connector)
        with self.locks.hold(volume_id):
            if not self.driver.volume_exists(volume_id):
                raise VolumeNotFound(volume_id)
            credentials = self.chap.credentials(volume_id)
            self.targets.ensure_export(volume_id, self.driver.local_path(volume_id),
                                       credentials, conn)
        LOG.info("volume %s exported to %s (%s)", volume_id, conn.host, conn.ip)
        return self.targets.connection_info(volume_id, credentials)

    @oslo_messaging.expected_exceptions(VolumeAgentError)
    def terminate_connection(self, ctx: RequestContext, volume_id: str,
                             connector: dict[str, Any]) -> None:
        """Call: withdraw the export made for connector (idempotent).

        :raises InvalidInput: the connector is unusable.
        :raises TargetError: the export could not be changed.
        """
        volume_id = names.canonical_uuid(volume_id, "volume id")
        conn = Connector.from_dict(connector)
        with self.locks.hold(volume_id):
            remains = self.targets.remove_connector(volume_id, conn)
        LOG.info("volume %s no longer exported to %s (%s)%s", volume_id, conn.host, conn.ip,
                 "" if remains else "; target removed")

    # -------------------------------------------------------------- helpers
    def _create_data(self, volume_id: str, volume: dict[str, Any],
                     cancel) -> tuple[str, dict[str, Any]]:
        size = names.size_gb(volume.get("size"))
        source = volume.get("source") or {"type": "blank"}
        kind = source.get("type", "blank")
        if kind == "blank":
            return self.driver.create_volume(volume_id, size), {}
        if kind == "snapshot":
            snapshot_id = names.canonical_uuid(source.get("id"), "source snapshot id")
            with self.locks.hold(snapshot_id):
                return self.driver.create_from_snapshot(volume_id, snapshot_id, size), {}
        if kind == "volume":
            source_id = names.canonical_uuid(source.get("id"), "source volume id")
            with self.locks.hold(source_id):
                return self.driver.clone_volume(volume_id, source_id, size), {}
        if kind == "image":
            if self.fetch is None:
                raise InvalidInput("this agent has no image service client configured")
            image = source.get("image") or {"id": source.get("id")}
            with imagecopy.scratch_file(self.conversion_dir, f"{volume_id}.image") as scratch:
                fmt = imagecopy.download(self.fetch, image, scratch, cancel=cancel,
                                         timeout=self.conversion_timeout,
                                         execute=self.driver.execute)
                path = self.driver.create_from_image(volume_id, size, scratch, fmt,
                                                     timeout=self.conversion_timeout)
            return path, {"bootable": True}
        raise InvalidInput(f"unknown volume source type {kind!r}")

    def _discard(self, volume_id: str, strict: bool = False) -> None:
        """Remove the volume's export and data (strict: raise on failure)."""
        for step in (self.targets.remove_export, self.driver.delete_volume):
            try:
                step(volume_id)
            except VolumeAgentError as exc:
                if strict:
                    raise
                LOG.error("could not clean up volume %s: %s", volume_id, exc)

    def _exported(self, volume_id: str) -> bool:
        try:
            return any(export.volume_id == volume_id for export in self.targets.list_exports())
        except VolumeAgentError as exc:
            LOG.warning("cannot list the exports: %s", exc)
            return False

    def _volume_update(self, ctx: RequestContext, volume_id: str, updates: dict[str, Any],
                       expected: list[str] | None = None) -> Any:
        """volume_update with a few retries; UNREACHABLE when the service never answered."""
        for attempt in range(1, REPORT_ATTEMPTS + 1):
            try:
                return self.server.volume_update(ctx, volume_id, updates,
                                                 expected_status=expected)
            except oslo_messaging.MessagingException as exc:
                LOG.warning("reporting %s for volume %s failed (attempt %d): %s", updates,
                            volume_id, attempt, exc)
                time.sleep(self.retry_delay * attempt)
        LOG.error("the block storage service did not take %s for volume %s; start-up "
                  "reconciliation will settle it", updates, volume_id)
        return UNREACHABLE

    @staticmethod
    def _quietly(func, *args) -> None:
        try:
            func(*args)
        except VolumeAgentError as exc:
            LOG.warning("%s%s failed: %s", func.__name__, args, exc)
