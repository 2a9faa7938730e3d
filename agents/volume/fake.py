"""In-memory volume backend and iSCSI target, for unit tests of their callers.

They follow the interfaces' rules (idempotent deletes, the same exceptions) so tests of
the manager and the reconciliation exercise real behaviour. A "GiB" of the fake backend
is ``bytes_per_gb`` bytes (1 KiB by default) so tests can read and write whole volumes;
``volume_size`` reports those bytes.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from agents.volume import driver, names
from agents.volume.chap import Credentials
from agents.volume.conf import BackendConf
from agents.volume.exception import (
    AlreadyExists,
    BackendError,
    InvalidInput,
    SnapshotNotFound,
    VolumeNotFound,
)
from agents.volume.targets import Connector, Export, TargetHelper


class _VolumeFile(io.BytesIO):
    """A writable view of a fake volume that stores its data back on close."""

    def __init__(self, store: dict[str, bytearray], volume_id: str):
        super().__init__(bytes(store[volume_id]))
        self._store = store
        self._volume_id = volume_id

    def close(self) -> None:
        if not self.closed and self._volume_id in self._store:
            data = self.getvalue()
            size = len(self._store[self._volume_id])
            self._store[self._volume_id] = bytearray(data[:size].ljust(size, b"\0"))
        super().close()


class FakeDriver(driver.VolumeDriver):
    """Volumes and snapshots as bytearrays."""

    def __init__(self, backend: BackendConf, bytes_per_gb: int = 1024):
        super().__init__(backend, execute=_no_execute)
        self.bytes_per_gb = bytes_per_gb
        self.volumes: dict[str, bytearray] = {}
        self.snapshots: dict[str, bytearray] = {}
        self.fail_next: dict[str, Exception] = {}  # method name -> error raised once
        self.calls: list[tuple] = []

    def check_setup(self) -> None:
        self._record("check_setup")

    def create_volume(self, volume_id: str, size_gb: int) -> str:
        self._record("create_volume", volume_id, size_gb)
        if volume_id in self.volumes:
            raise AlreadyExists("volume", volume_id)
        self.volumes[volume_id] = bytearray(names.size_gb(size_gb) * self.bytes_per_gb)
        return self.local_path(volume_id)

    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> str:
        self._record("create_from_snapshot", volume_id, snapshot_id, size_gb)
        if snapshot_id not in self.snapshots:
            raise SnapshotNotFound(snapshot_id)
        return self._copy(self.snapshots[snapshot_id], volume_id, size_gb)

    def clone_volume(self, volume_id: str, source_id: str, size_gb: int) -> str:
        self._record("clone_volume", volume_id, source_id, size_gb)
        if source_id not in self.volumes:
            raise VolumeNotFound(source_id)
        return self._copy(self.volumes[source_id], volume_id, size_gb)

    def create_from_image(self, volume_id: str, size_gb: int, image_file: str,
                          disk_format: str, timeout: float = 3600) -> str:
        self._record("create_from_image", volume_id, size_gb, image_file, disk_format)
        path = self.create_volume(volume_id, size_gb)
        with open(image_file, "rb") as handle:
            data = handle.read(len(self.volumes[volume_id]))
        self.volumes[volume_id][:len(data)] = data
        return path

    def delete_volume(self, volume_id: str) -> None:
        self._record("delete_volume", volume_id)
        self.volumes.pop(volume_id, None)

    def extend_volume(self, volume_id: str, new_size_gb: int) -> None:
        self._record("extend_volume", volume_id, new_size_gb)
        data = self._volume(volume_id)
        new_size = names.size_gb(new_size_gb) * self.bytes_per_gb
        if new_size < len(data):
            raise InvalidInput(f"volume {volume_id} cannot shrink")
        data.extend(b"\0" * (new_size - len(data)))

    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        self._record("create_snapshot", snapshot_id, volume_id)
        if snapshot_id in self.snapshots:
            raise AlreadyExists("snapshot", snapshot_id)
        self.snapshots[snapshot_id] = bytearray(self._volume(volume_id))

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._record("delete_snapshot", snapshot_id)
        self.snapshots.pop(snapshot_id, None)

    def local_path(self, volume_id: str) -> str:
        return f"/fake/{self.backend.name}/{names.volume_name(volume_id)}"

    def snapshot_path(self, snapshot_id: str) -> str:
        return f"/fake/{self.backend.name}/{names.snapshot_name(snapshot_id)}"

    def volume_size(self, volume_id: str) -> int:
        return len(self._volume(volume_id))  # in the fake's own bytes

    def list_volumes(self) -> set[str]:
        return set(self.volumes)

    def list_snapshots(self) -> set[str]:
        return set(self.snapshots)

    def capacity(self) -> driver.Capacity:
        provisioned = sum(map(len, self.volumes.values())) / self.bytes_per_gb
        return driver.Capacity(total_gb=100.0, free_gb=100.0 - provisioned,
                               provisioned_gb=provisioned)

    def open_volume(self, volume_id: str, writable: bool = False) -> BinaryIO:
        self._volume(volume_id)
        if writable:
            return _VolumeFile(self.volumes, volume_id)
        return io.BytesIO(bytes(self.volumes[volume_id]))

    def _copy(self, source: bytearray, volume_id: str, size_gb: int) -> str:
        size = names.size_gb(size_gb) * self.bytes_per_gb
        if volume_id in self.volumes:
            raise AlreadyExists("volume", volume_id)
        if size < len(source):
            raise InvalidInput("the new volume is smaller than its source")
        self.volumes[volume_id] = bytearray(source) + bytearray(size - len(source))
        return self.local_path(volume_id)

    def _volume(self, volume_id: str) -> bytearray:
        try:
            return self.volumes[volume_id]
        except KeyError:
            raise VolumeNotFound(volume_id) from None

    def _record(self, name: str, *args) -> None:
        self.calls.append((name, *args))
        error = self.fail_next.pop(name, None)
        if error is not None:
            raise error


class FakeTarget(TargetHelper):
    """Exports as dicts; ACL entries are connector addresses (like tgt)."""

    def __init__(self, backend: BackendConf):
        super().__init__(backend)
        self.exports: dict[str, dict] = {}
        self.refreshed: list[str] = []

    def ensure_export(self, volume_id: str, path: str, credentials: Credentials,
                      connector: Connector | None = None) -> Export:
        export = self.exports.setdefault(volume_id, {"path": path, "acl": set()})
        export["path"], export["credentials"] = path, credentials
        if connector is not None:
            export["acl"].add(connector.ip)
        return self._export(volume_id)

    def revoke(self, volume_id: str, key: str) -> bool:
        export = self.exports.get(volume_id)
        if export is None:
            return False
        export["acl"].discard(key)
        if export["acl"]:
            return True
        del self.exports[volume_id]
        return False

    def remove_export(self, volume_id: str) -> None:
        self.exports.pop(volume_id, None)

    def refresh(self, volume_id: str) -> None:
        if volume_id in self.exports:
            self.refreshed.append(volume_id)

    def list_exports(self) -> list[Export]:
        return [self._export(volume_id) for volume_id in self.exports]

    def _export(self, volume_id: str) -> Export:
        export = self.exports[volume_id]
        return Export(volume_id, self.iqn(volume_id), export["path"], frozenset(export["acl"]))


def _no_execute(argv, **kwargs) -> str:
    raise BackendError(f"the fake backend runs no commands ({argv[0]})")
