"""Start-up reconciliation of one backend: converge the host to what the service says.

Runs before the backend's RPC server starts, so nothing of ours is in flight: whatever
is half done was interrupted by the restart. Input is ``volumes_on_backend`` (every
volume and snapshot the service places here, recently deleted ones marked, with the
exports that should exist). Mark and sweep, by owner name:

- data or a target of a volume the service does not know or has deleted: removed
  (``[volume] remove_orphans``), and so are snapshots nobody knows (including the
  temporary snapshots of backups that were running);
- a volume still ``creating``/``downloading``: its create was cut short; it goes to
  ``error`` and its partial data is removed (a create cast still queued for it will
  find the guard failing and undo itself); a snapshot still ``creating`` likewise;
- ``deleting`` volumes and snapshots: the delete is finished and reported;
- ``restoring-backup``: the restore was cut short, the data is partial:
  ``error_restoring``; ``backing-up``/``uploading``: the copy was cut short, the
  volume goes back to available/in-use (the service settles the backup/image);
- exports: every expected connector is (re-)allowed with the volume's credentials,
  connectors nobody expects are revoked, targets nobody expects are removed.

Targets are only touched when they belong to this backend (their LUN is our data, or
the volume is ours), since several backends and processes may share one tgtd.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from agents.volume.chap import ChapKeys
from agents.volume.driver import VolumeDriver
from agents.volume.exception import InvalidInput, VolumeAgentError
from agents.volume.targets import Connector, TargetHelper
from common.context import RequestContext

LOG = logging.getLogger(__name__)
CREATING = {"creating", "downloading"}
INTERRUPTED_COPY = {"backing-up", "uploading"}


@dataclasses.dataclass(frozen=True)
class Action:
    """One thing reconciliation did (for logs and tests)."""

    kind: str  # remove-orphan | fail-create | finish-delete | export | revoke | unexport ...
    resource: str  # volume or snapshot id
    detail: str = ""


def converge(ctx: RequestContext, expected: list[dict[str, Any]], driver: VolumeDriver,
             targets: TargetHelper, chap: ChapKeys, server: Any,
             remove_orphans: bool = True) -> list[Action]:
    """Bring the backend in line with expected; return what was done.

    Errors on one resource are logged and do not stop the others.
    """
    run = _Run(ctx, driver, targets, chap, server, remove_orphans)
    volumes = {e["id"]: e for e in expected if e.get("kind", "volume") == "volume"}
    snapshots = {e["id"]: e for e in expected if e.get("kind") == "snapshot"}
    on_host = driver.list_volumes()
    exports = {e.volume_id: e for e in targets.list_exports()
               if (e.path and driver.owns_path(e.path)) or e.volume_id in volumes
               or e.volume_id in on_host}

    for volume_id in sorted(on_host | set(exports) | set(volumes)):
        run.guarded(run.volume, volume_id, volumes.get(volume_id), volume_id in on_host,
                    exports.get(volume_id))
    for snapshot_id in sorted(driver.list_snapshots() | set(snapshots)):
        run.guarded(run.snapshot, snapshot_id, snapshots.get(snapshot_id))
    LOG.info("reconciliation of %s: %d actions", driver.backend.name, len(run.actions))
    return run.actions


class _Run:
    def __init__(self, ctx, driver, targets, chap, server, remove_orphans):
        self.ctx, self.driver, self.targets = ctx, driver, targets
        self.chap, self.server, self.remove_orphans = chap, server, remove_orphans
        self.actions: list[Action] = []

    def did(self, kind: str, resource: str, detail: str = "") -> None:
        self.actions.append(Action(kind, resource, detail))
        LOG.warning("reconcile: %s %s %s", kind, resource, detail)

    def guarded(self, func, resource: str, *args) -> None:
        try:
            func(resource, *args)
        except (VolumeAgentError, KeyError, TypeError, ValueError) as exc:
            LOG.error("reconcile: %s: %s", resource, exc)

    # ------------------------------------------------------------- volumes
    def volume(self, volume_id: str, entry: dict | None, has_data: bool, export) -> None:
        if entry is None or entry.get("deleted"):
            if not self.remove_orphans:
                LOG.warning("reconcile: volume %s is unknown or deleted; keeping it "
                            "(remove_orphans = False)", volume_id)
                return
            self._remove(volume_id, has_data, export)
            self.did("remove-orphan", volume_id, "deleted" if entry else "unknown")
            return
        status = entry.get("status")
        if status in CREATING:
            self._remove(volume_id, has_data, export)
            self.server.volume_update(self.ctx, volume_id, {"status": "error"},
                                      expected_status=sorted(CREATING))
            self.did("fail-create", volume_id, "the agent restarted during the create")
            return
        if status == "deleting":
            self._remove(volume_id, has_data, export)
            self.server.volume_deleted(self.ctx, volume_id)
            self.did("finish-delete", volume_id)
            return
        if not has_data:
            LOG.error("reconcile: volume %s is %s but has no data on backend %s (wrong "
                      "file_path or volume_group?)", volume_id, status, self.driver.backend.name)
            return
        if status == "restoring-backup":
            self.server.volume_update(self.ctx, volume_id, {"status": "error_restoring"},
                                      expected_status=["restoring-backup"])
            self.did("fail-restore", volume_id)
        self._exports(volume_id, entry, export)
        if status in INTERRUPTED_COPY:
            back = "in-use" if entry.get("exports") else "available"
            self.server.volume_update(self.ctx, volume_id, {"status": back},
                                      expected_status=[status])
            self.did("end-copy", volume_id, f"{status} -> {back}")

    def _exports(self, volume_id: str, entry: dict, export) -> None:
        connectors = []
        for raw in entry.get("exports") or []:
            try:
                connectors.append(Connector.from_dict(raw))
            except InvalidInput as exc:
                LOG.error("reconcile: volume %s: unusable connector %r: %s", volume_id, raw, exc)
        wanted = {self.targets.acl_key(c) for c in connectors}
        if connectors:
            credentials = self.chap.credentials(volume_id)
            path = self.driver.local_path(volume_id)
            missing = export is None or export.path != path or \
                not wanted <= set(export.initiators)
            for connector in connectors:
                self.targets.ensure_export(volume_id, path, credentials, connector)
            if missing:
                self.did("export", volume_id, ", ".join(sorted(wanted)))
        elif export is not None:
            self.targets.remove_export(volume_id)
            self.did("unexport", volume_id, "no attachment expects it")
            return
        for key in sorted(set(export.initiators) - wanted) if export else []:
            self.targets.revoke(volume_id, key)
            self.did("revoke", volume_id, key)

    def _remove(self, volume_id: str, has_data: bool, export) -> None:
        if export is not None:
            self.targets.remove_export(volume_id)
        if has_data:
            self.driver.delete_volume(volume_id)

    # ----------------------------------------------------------- snapshots
    def snapshot(self, snapshot_id: str, entry: dict | None) -> None:
        has_data = snapshot_id in self.driver.list_snapshots()
        if entry is None or entry.get("deleted"):
            if has_data and self.remove_orphans:
                self.driver.delete_snapshot(snapshot_id)
                self.did("remove-orphan", snapshot_id, "snapshot")
            return
        status = entry.get("status")
        if status in CREATING:
            self.driver.delete_snapshot(snapshot_id)
            self.server.snapshot_update(self.ctx, snapshot_id, {"status": "error"})
            self.did("fail-create", snapshot_id, "snapshot")
        elif status == "deleting":
            self.driver.delete_snapshot(snapshot_id)
            self.server.snapshot_deleted(self.ctx, snapshot_id)
            self.did("finish-delete", snapshot_id, "snapshot")
        elif not has_data:
            LOG.error("reconcile: snapshot %s is %s but has no data on backend %s",
                      snapshot_id, status, self.driver.backend.name)
