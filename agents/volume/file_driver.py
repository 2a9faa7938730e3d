"""File backend: each volume a sparse raw file ``volume-<uuid>`` in ``file_path``.

Snapshots are sparse copies ``snapshot-<uuid>`` (``cp --sparse=always --reflink=auto``),
not qcow2 overlays: tgt and LIO export raw files only, so an overlay chain would need a
conversion at every attach; and a raw copy keeps volume and snapshot independent (either
can be deleted in any order, a volume made from a snapshot is just another copy). The
price is the copy itself: O(allocated data), instant on reflink filesystems (XFS,
btrfs). A snapshot of an attached volume copies while the guest may write, so it is
only as consistent as the guest's own flushes (the API asks for ``force`` there).

Capacity comes from the filesystem (``statvfs``); provisioned capacity is the sum of
the files' apparent sizes, which is what thin provisioning reports.
"""

from __future__ import annotations

import errno
import logging
import os

from agents.volume import driver, names
from agents.volume.exception import (
    AlreadyExists,
    BackendError,
    InsufficientSpace,
    InvalidInput,
    SnapshotNotFound,
    VolumeNotFound,
)

LOG = logging.getLogger(__name__)
GiB = driver.GiB


class FileDriver(driver.VolumeDriver):
    """Sparse raw files in one directory."""

    @property
    def directory(self) -> str:
        return os.path.abspath(self.backend.file_path)

    def check_setup(self) -> None:
        try:
            os.makedirs(self.directory, mode=0o750, exist_ok=True)
        except OSError as exc:
            raise BackendError(f"cannot create the volume directory {self.directory}: {exc}") \
                from exc
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise BackendError(f"the volume directory {self.directory} is not writable")

    # -------------------------------------------------------------- volumes
    def create_volume(self, volume_id: str, size_gb: int) -> str:
        path = self.local_path(volume_id)
        size = names.size_gb(size_gb) * GiB
        self._absent(path, "volume", volume_id)
        self._guarded(f"create {path}", self._sparse_file, path, size)
        LOG.info("created volume file %s (%d GiB)", path, size_gb)
        return path

    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> str:
        source = self.snapshot_path(snapshot_id)
        if not os.path.exists(source):
            raise SnapshotNotFound(snapshot_id)
        return self._copy(source, volume_id, size_gb)

    def clone_volume(self, volume_id: str, source_id: str, size_gb: int) -> str:
        source = self.local_path(source_id)
        if not os.path.exists(source):
            raise VolumeNotFound(source_id)
        return self._copy(source, volume_id, size_gb)

    def delete_volume(self, volume_id: str) -> None:
        self._remove(self.local_path(volume_id))

    def extend_volume(self, volume_id: str, new_size_gb: int) -> None:
        path = self.local_path(volume_id)
        new_size = names.size_gb(new_size_gb, "new size") * GiB
        current = self.volume_size(volume_id)
        if new_size < current:
            raise InvalidInput(f"volume {volume_id} is {current // GiB} GiB; it cannot shrink "
                               f"to {new_size_gb} GiB")
        self._guarded(f"extend {path}", os.truncate, path, new_size)
        LOG.info("extended volume file %s to %d GiB", path, new_size_gb)

    # ------------------------------------------------------------ snapshots
    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        source = self.local_path(volume_id)
        if not os.path.exists(source):
            raise VolumeNotFound(volume_id)
        target = self.snapshot_path(snapshot_id)
        self._absent(target, "snapshot", snapshot_id)
        self._cp(source, target)
        LOG.info("snapshot %s of volume %s: %s", snapshot_id, volume_id, target)

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._remove(self.snapshot_path(snapshot_id))

    # ---------------------------------------------------------- inspection
    def local_path(self, volume_id: str) -> str:
        return os.path.join(self.directory, names.volume_name(volume_id))

    def snapshot_path(self, snapshot_id: str) -> str:
        return os.path.join(self.directory, names.snapshot_name(snapshot_id))

    def volume_size(self, volume_id: str) -> int:
        try:
            return os.stat(self.local_path(volume_id)).st_size
        except FileNotFoundError as exc:
            raise VolumeNotFound(volume_id) from exc

    def list_volumes(self) -> set[str]:
        return self._owned("volume")

    def list_snapshots(self) -> set[str]:
        return self._owned("snapshot")

    def capacity(self) -> driver.Capacity:
        try:
            fs = os.statvfs(self.directory)
        except OSError as exc:
            raise BackendError(f"cannot inspect {self.directory}: {exc}") from exc
        provisioned = 0
        for name in self._listdir():
            if names.owner_of(name):
                try:
                    provisioned += os.stat(os.path.join(self.directory, name)).st_size
                except FileNotFoundError:
                    continue  # deleted while we counted
        return driver.Capacity(total_gb=round(fs.f_blocks * fs.f_frsize / GiB, 2),
                               free_gb=round(fs.f_bavail * fs.f_frsize / GiB, 2),
                               provisioned_gb=round(provisioned / GiB, 2))

    # -------------------------------------------------------------- helpers
    def _copy(self, source: str, volume_id: str, size_gb: int) -> str:
        target = self.local_path(volume_id)
        size = names.size_gb(size_gb) * GiB
        self._absent(target, "volume", volume_id)
        source_size = os.stat(source).st_size
        if size < source_size:
            raise InvalidInput(f"the new volume ({size_gb} GiB) is smaller than its source "
                               f"({-(-source_size // GiB)} GiB)")
        self._cp(source, target)
        if size > source_size:
            self._guarded(f"grow {target}", os.truncate, target, size)
        LOG.info("volume %s copied from %s (%d GiB)", volume_id, source, size_gb)
        return target

    def _cp(self, source: str, target: str) -> None:
        # --reflink=auto: a constant-time clone where the filesystem can, else a sparse copy.
        driver.run(self._execute, ["cp", "--sparse=always", "--reflink=auto", "--",
                                   source, target], f"copy {source} to {target}", timeout=None)
        os.chmod(target, 0o600)

    @staticmethod
    def _absent(path: str, kind: str, resource_id: str) -> None:
        if os.path.lexists(path):
            raise AlreadyExists(kind, resource_id)

    @staticmethod
    def _sparse_file(path: str, size: int) -> None:
        # O_EXCL: never reuse (or truncate) what is already there.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)

    @staticmethod
    def _guarded(what: str, func, *args) -> None:
        try:
            func(*args)
        except FileExistsError as exc:
            raise BackendError(f"could not {what}: it appeared meanwhile") from exc
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise InsufficientSpace(f"could not {what}: the backend is full") from exc
            raise BackendError(f"could not {what}: {exc}") from exc

    def _remove(self, path: str) -> None:
        try:
            os.unlink(path)
            LOG.info("removed %s", path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BackendError(f"could not remove {path}: {exc}") from exc

    def _owned(self, kind: str) -> set[str]:
        found = set()
        for name in self._listdir():
            owner = names.owner_of(name)
            if owner and owner[0] == kind:
                found.add(owner[1])
        return found

    def _listdir(self) -> list[str]:
        try:
            return os.listdir(self.directory)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise BackendError(f"cannot list {self.directory}: {exc}") from exc
