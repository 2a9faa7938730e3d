"""The volume backend interface: where a backend keeps volume and snapshot data.

Implementations: :mod:`agents.volume.file_driver` (sparse raw files, the default),
:mod:`agents.volume.lvm_driver` (thin LVs, real hosts with device-mapper) and
:mod:`agents.volume.fake` (in memory, for unit tests of callers). Data is named after its
owner (``volume-<uuid>``, ``snapshot-<uuid>``); deletes are idempotent; every method
raises only :mod:`agents.volume.exception` errors, the backend's own are translated at
its edge. The data a backend hands to the target (:meth:`local_path`) is always raw, so
tgt and LIO can export it as a LUN and ``qemu-img`` can read and write it as ``raw``.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import logging
from collections.abc import Callable
from typing import BinaryIO

from agents.volume import names
from agents.volume.conf import BackendConf
from agents.volume.exception import (
    BackendError,
    ImageError,
    ImageUnacceptable,
    InsufficientSpace,
    VolumeNotFound,
)
from common import processutils

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3
Execute = Callable[..., str]


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What the scheduler needs to place volumes on a backend (GiB)."""

    total_gb: float
    free_gb: float
    provisioned_gb: float


class VolumeDriver(abc.ABC):
    """One backend's storage on this host."""

    def __init__(self, backend: BackendConf, execute: Execute = processutils.execute):
        self.backend = backend
        self._execute = execute

    @property
    def execute(self) -> Execute:
        """How this backend runs commands (qemu-img on its data goes through it too)."""
        return self._execute

    # --------------------------------------------------------------- set-up
    @abc.abstractmethod
    def check_setup(self) -> None:
        """Prepare the backend (directory, thin pool) and check it is usable.

        :raises BackendError: the backend cannot be used; the message says why.
        """

    # -------------------------------------------------------------- volumes
    @abc.abstractmethod
    def create_volume(self, volume_id: str, size_gb: int) -> str:
        """Create a blank (all zeros) volume; return its local path.

        :raises InsufficientSpace: the backend is full.
        :raises BackendError: it could not be created.
        """

    @abc.abstractmethod
    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> str:
        """Create a volume holding the snapshot's data, grown to size_gb.

        :raises SnapshotNotFound: no such snapshot on this backend.
        :raises InsufficientSpace, BackendError: see :meth:`create_volume`.
        """

    @abc.abstractmethod
    def clone_volume(self, volume_id: str, source_id: str, size_gb: int) -> str:
        """Create a volume holding a copy of source_id's data, grown to size_gb.

        :raises VolumeNotFound: no such source volume on this backend.
        :raises InsufficientSpace, BackendError: see :meth:`create_volume`.
        """

    @abc.abstractmethod
    def delete_volume(self, volume_id: str) -> None:
        """Remove the volume's data; nothing to remove is not an error.

        :raises BackendError: the data exists but could not be removed.
        """

    @abc.abstractmethod
    def extend_volume(self, volume_id: str, new_size_gb: int) -> None:
        """Grow the volume to new_size_gb (the new space reads as zeros).

        :raises VolumeNotFound: no such volume.
        :raises InvalidInput: new_size_gb is smaller than the volume.
        :raises InsufficientSpace, BackendError: see :meth:`create_volume`.
        """

    # ------------------------------------------------------------ snapshots
    @abc.abstractmethod
    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        """Keep a copy of the volume's current data as snapshot_id.

        :raises VolumeNotFound: no such volume.
        :raises InsufficientSpace, BackendError: see :meth:`create_volume`.
        """

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove the snapshot's data; nothing to remove is not an error.

        :raises BackendError: the data exists but could not be removed.
        """

    # ---------------------------------------------------------- inspection
    @abc.abstractmethod
    def local_path(self, volume_id: str) -> str:
        """Path of the volume's raw data on this host (whether or not it exists)."""

    @abc.abstractmethod
    def snapshot_path(self, snapshot_id: str) -> str:
        """Path of the snapshot's raw data on this host (whether or not it exists)."""

    @abc.abstractmethod
    def volume_size(self, volume_id: str) -> int:
        """The volume's size in bytes.

        :raises VolumeNotFound: no such volume.
        """

    @abc.abstractmethod
    def list_volumes(self) -> set[str]:
        """Ids of every volume with data on this backend (for mark-and-sweep)."""

    @abc.abstractmethod
    def list_snapshots(self) -> set[str]:
        """Ids of every snapshot with data on this backend (for mark-and-sweep)."""

    @abc.abstractmethod
    def capacity(self) -> Capacity:
        """Total, free and provisioned capacity.

        :raises BackendError: the backend cannot be inspected.
        """

    def owns_path(self, path: str) -> bool:
        """Whether path (e.g. a LUN's backing store) is data of this backend."""
        owner = names.owner_of(path.rsplit("/", 1)[-1])
        if owner is None:
            return False
        kind, uuid = owner
        expected = self.local_path(uuid) if kind == "volume" else self.snapshot_path(uuid)
        return path == expected

    def volume_exists(self, volume_id: str) -> bool:
        return volume_id in self.list_volumes()

    def open_volume(self, volume_id: str, writable: bool = False) -> BinaryIO:
        """The volume's raw data as a binary file (for backups and image uploads).

        :raises VolumeNotFound: no such volume.
        :raises BackendError: it exists but cannot be opened.
        """
        path = self.local_path(volume_id)
        try:
            return open(path, "r+b" if writable else "rb")  # noqa: SIM115 - caller closes
        except FileNotFoundError as exc:
            raise VolumeNotFound(volume_id) from exc
        except OSError as exc:
            raise BackendError(f"cannot open {path}: {exc}") from exc

    # ----------------------------------------------------------------- image
    def create_from_image(self, volume_id: str, size_gb: int, image_file: str,
                          disk_format: str, timeout: float = 3600) -> str:
        """Create a volume holding image_file (a verified local copy) as raw data.

        :raises ImageUnacceptable: the image's virtual size exceeds size_gb.
        :raises ImageError: qemu-img could not convert it.
        :raises InsufficientSpace, BackendError: see :meth:`create_volume`.
        """
        virtual_size = image_virtual_size(self._execute, image_file, disk_format)
        if virtual_size > size_gb * GiB:
            raise ImageUnacceptable(
                f"the image needs {-(-virtual_size // GiB)} GiB but the volume has {size_gb} "
                "GiB: create a larger volume")
        path = self.create_volume(volume_id, size_gb)
        # -n: write into the volume we made; --target-is-zero: it is new and reads as
        # zeros, so the image's holes are skipped instead of written out.
        argv = ["qemu-img", "convert", "-f", disk_format, "-O", "raw", "-n",
                "--target-is-zero", image_file, path]
        try:
            self._execute(argv, timeout=timeout)
        except processutils.ProcessExecutionError as exc:
            raise ImageError(f"could not convert the image into volume {volume_id}: "
                             f"{exc.stderr.strip()[:300] or exc}") from exc
        return path


def image_info(execute: Execute, path: str, disk_format: str | None = None) -> dict:
    """``qemu-img info`` of path as a dict (probing the format when disk_format is None).

    :raises ImageUnacceptable: qemu-img cannot read it.
    """
    argv = ["qemu-img", "info", "--output=json"]
    if disk_format:
        argv += ["-f", disk_format]
    try:
        return json.loads(execute(argv + [path]))
    except processutils.ProcessExecutionError as exc:
        raise ImageUnacceptable(f"qemu-img cannot read the image: {exc.stderr.strip()[:300]}") \
            from exc
    except ValueError as exc:
        raise ImageUnacceptable("qemu-img info printed no JSON for the image") from exc


def image_virtual_size(execute: Execute, path: str, disk_format: str) -> int:
    """The virtual size (bytes) of the image at path, read as disk_format.

    :raises ImageUnacceptable: qemu-img cannot read it.
    """
    info = image_info(execute, path, disk_format)
    try:
        return int(info["virtual-size"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ImageUnacceptable("qemu-img info reported no virtual size") from exc


def run(execute: Execute, argv: list[str], what: str, timeout: float | None = 120) -> str:
    """execute(argv), translating a failure into BackendError.

    :raises InsufficientSpace: the command ran out of space.
    :raises BackendError: any other failure.
    """
    try:
        return execute(argv, timeout=timeout)
    except processutils.ProcessExecutionError as exc:
        detail = exc.stderr.strip()[:300] or str(exc)
        if "No space left" in detail or "Insufficient free space" in detail:
            raise InsufficientSpace(f"could not {what}: the backend is full ({detail})") \
                from exc
        raise BackendError(f"could not {what}: {detail}") from exc
