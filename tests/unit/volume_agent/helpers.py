"""Builders shared by the volume agent tests, and a recording stand-in for the service.

:class:`RecordingServer` plays the block storage service's side of the RPC contract
(``VolumeServerAPI``): it keeps each volume's status, applies guarded updates like the
real service (``expected_status``; None when the volume is gone or the guard fails),
and records every report. Unit tests call it directly; functional tests serve it on a
real RPC server so the agent's own ``VolumeServerAPI`` reaches it over RabbitMQ.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from agents.volume import conf as volume_conf


def backend_conf(name: str = "file", **overrides: Any) -> volume_conf.BackendConf:
    """The effective options of a backend, with overrides."""
    values = {opt.dest: opt.default for opt in volume_conf.BACKEND_OPTS}
    values.update(volume_backend_name=name, target_ip_address="127.0.0.1")
    values.update(overrides)
    return volume_conf.BackendConf(name=name, **values)


def new_id() -> str:
    return str(uuid.uuid4())


class RecordingServer:
    """The service side of the contract, in memory."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.volumes: dict[str, dict[str, Any]] = {}  # id -> {"status", "deleted", ...}
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.backups: dict[str, dict[str, Any]] = {}
        self.expected: list[dict[str, Any]] | None = None  # volumes_on_backend override
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.event = threading.Condition(self.lock)

    # ------------------------------------------------------ service model
    def add_volume(self, volume_id: str, status: str = "creating",
                   exports: list[dict] | None = None) -> None:
        with self.lock:
            self.volumes[volume_id] = {"status": status, "deleted": False,
                                       "exports": exports or []}

    def status(self, volume_id: str) -> str | None:
        with self.lock:
            volume = self.volumes.get(volume_id)
            return None if volume is None or volume["deleted"] else volume["status"]

    def named(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [kwargs for call, kwargs in self.calls if call == name]

    def wait_for(self, predicate, timeout: float = 30) -> bool:
        with self.event:
            return self.event.wait_for(predicate, timeout)

    def _record(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        self.event.notify_all()

    # ------------------------------------------------------- the contract
    def report_state(self, ctx, host, binary, backend):
        with self.lock:
            self._record("report_state", host=host, binary=binary, backend=backend)

    def report_capacity(self, ctx, backend_host, stats):
        with self.lock:
            self._record("report_capacity", backend_host=backend_host, stats=stats)

    def volumes_on_backend(self, ctx, backend_host):
        with self.lock:
            self._record("volumes_on_backend", backend_host=backend_host)
            if self.expected is not None:
                return list(self.expected)
            return ([{"id": vid, "kind": "volume", "status": v["status"],
                      "deleted": v["deleted"], "exports": v["exports"]}
                     for vid, v in self.volumes.items()] +
                    [{"id": sid, "kind": "snapshot", "status": s["status"],
                      "deleted": s.get("deleted", False), "exports": []}
                     for sid, s in self.snapshots.items()])

    def volume_update(self, ctx, volume_id, updates, expected_status=None):
        with self.lock:
            self._record("volume_update", volume_id=volume_id, updates=updates,
                         expected_status=expected_status)
            volume = self.volumes.get(volume_id)
            if volume is None or volume["deleted"]:
                return None
            if expected_status and volume["status"] not in expected_status:
                return None
            volume.update(updates)
            return dict(volume, id=volume_id)

    def volume_deleted(self, ctx, volume_id):
        with self.lock:
            self._record("volume_deleted", volume_id=volume_id)
            if volume_id in self.volumes:
                self.volumes[volume_id]["deleted"] = True

    def snapshot_update(self, ctx, snapshot_id, updates):
        with self.lock:
            self._record("snapshot_update", snapshot_id=snapshot_id, updates=updates)
            self.snapshots.setdefault(snapshot_id, {}).update(updates)

    def snapshot_deleted(self, ctx, snapshot_id):
        with self.lock:
            self._record("snapshot_deleted", snapshot_id=snapshot_id)
            self.snapshots.setdefault(snapshot_id, {})["deleted"] = True

    def backup_update(self, ctx, backup_id, updates):
        with self.lock:
            self._record("backup_update", backup_id=backup_id, updates=updates)
            self.backups.setdefault(backup_id, {}).update(updates)

    def backup_deleted(self, ctx, backup_id):
        with self.lock:
            self._record("backup_deleted", backup_id=backup_id)
            self.backups.pop(backup_id, None)

    def image_uploaded(self, ctx, volume_id, image_id, error=None):
        with self.lock:
            self._record("image_uploaded", volume_id=volume_id, image_id=image_id, error=error)
