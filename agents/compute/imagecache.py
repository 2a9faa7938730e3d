"""Base images cached by image id, and the per-instance qcow2 overlays on top of them.

``<instances_path>/_base/<image-id>`` is a verified, read-only copy of an image. Each
instance's root disk is a qcow2 overlay backed by it, so N instances of one image cost
one download and one copy on disk.

Concurrency: every operation on a base image holds an exclusive ``flock`` on
``_base/locks/<image-id>.lock`` (between processes and between threads, because each
call opens its own file description). Downloads write ``<id>.part`` and rename it into
place only once verified, so a crash never leaves a half image under the final name.
Lock files are never deleted: unlinking a lock file others may hold open would let two
holders in at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import struct
import time
from collections.abc import Callable, Iterable, Iterator

from agents.compute import paths
from agents.compute.exception import (
    ComputeError,
    DiskError,
    DiskTooSmall,
    ImageChecksumMismatch,
    ImageError,
    ImageUnacceptable,
)
from agents.compute.model import ImageRef, canonical_uuid
from common import processutils

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3

Fetcher = Callable[[str], Iterable[bytes]]
"""Streams an image's bytes by image id (later: the image API's download)."""
Execute = Callable[..., str]


class ImageCache:
    """The base image cache of one host."""

    def __init__(self, instances_path: str, fetch: Fetcher, *, subdirectory: str = "_base",
                 download_timeout: float = 3600, execute: Execute = processutils.execute,
                 clock: Callable[[], float] = time.time):
        # Absolute: the overlays record the base's path, and QEMU resolves a relative
        # one against the overlay's own directory.
        self.instances_path = os.path.abspath(instances_path)
        self.base_dir = os.path.join(self.instances_path, subdirectory)
        self.lock_dir = os.path.join(self.base_dir, "locks")
        self._fetch = fetch
        self._download_timeout = download_timeout
        self._execute = execute
        self._clock = clock

    # ------------------------------------------------------------------ public
    def base_path(self, image_id: str) -> str:
        return os.path.join(self.base_dir, canonical_uuid(image_id, "image id"))

    def ensure_base(self, image: ImageRef) -> str:
        """Path of the verified base image, downloading it first when not cached.

        :raises ImageError: the download failed or was abandoned after the timeout.
        :raises ImageChecksumMismatch: the bytes differ from the recorded checksum.
        :raises ImageUnacceptable: the file's real format differs from its disk_format,
            or it refers to another file (backing or data file).
        """
        with self._locked(image.id):
            return self._ensure_base_locked(image)

    def create_overlay(self, image: ImageRef, dest: str, size_gb: int = 0) -> str:
        """Create dest as a qcow2 overlay on image's base (fetched if needed).

        size_gb 0 keeps the image's virtual size; a larger size grows the overlay. An
        existing dest is kept (a retried spawn resumes instead of wiping the disk).

        :raises DiskTooSmall: size_gb is smaller than the image's virtual size.
        :raises DiskError: qemu-img failed.
        :raises ImageError: see :meth:`ensure_base`.
        """
        # The lock spans ensure + create, so a cleanup can never delete the base between
        # the two: once the overlay exists, the cleanup sees it refers to the base.
        with self._locked(image.id):
            base = self._ensure_base_locked(image)
            if os.path.exists(dest):
                return dest
            virtual_size = self.virtual_size(base, image.disk_format)
            wanted = size_gb * GiB
            if wanted and wanted < virtual_size:
                raise DiskTooSmall(
                    f"image {image.id} needs a {virtual_size / GiB:.2f} GiB disk but the "
                    f"flavor has {size_gb} GiB; choose a flavor with a larger root disk")
            tmp = dest + ".part"
            argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", image.disk_format,
                    "-b", base, tmp]
            if wanted > virtual_size:
                argv.append(str(wanted))
            self._run(argv, f"create the root disk {dest}")
            os.replace(tmp, dest)
        return dest

    def resize_overlay(self, path: str, size_gb: int) -> None:
        """Grow the qcow2 disk at path to size_gb (a no-op at the same size).

        :raises DiskTooSmall: size_gb is below the current size (never shrink: data loss).
        :raises DiskError: qemu-img failed.
        """
        current = self.virtual_size(path, "qcow2")
        wanted = size_gb * GiB
        if wanted < current:
            raise DiskTooSmall(f"{path} is {current / GiB:.2f} GiB; a disk is never shrunk "
                               f"to {size_gb} GiB, choose a flavor at least as large")
        if wanted > current:
            self._run(["qemu-img", "resize", "-q", "-f", "qcow2", path, str(wanted)],
                      f"resize {path}")

    def virtual_size(self, path: str, disk_format: str) -> int:
        """Virtual size in bytes of the image at path (format given, never probed).

        :raises DiskError: qemu-img failed.
        """
        return int(self._info(path, disk_format)["virtual-size"])

    def cleanup(self, keep: Iterable[str] = (), min_age: float = 86400) -> list[str]:
        """Delete cached bases no overlay refers to, untouched for min_age seconds.

        keep: image ids the controller says instances on this host use (kept even when
        their overlays are missing, e.g. an instance being rebuilt). Returns the ids
        deleted. Interrupted downloads older than the download timeout go too.
        """
        keep_ids = {canonical_uuid(image_id, "image id") for image_id in keep}
        in_use = self.bases_in_use()
        removed = []
        for name in sorted(self._listdir(self.base_dir)):
            path = os.path.join(self.base_dir, name)
            if name.endswith(".part"):
                self._remove_stale_part(path)
                continue
            if name == "locks" or name in keep_ids or os.path.realpath(path) in in_use:
                continue
            try:
                image_id = canonical_uuid(name)
            except ComputeError:
                continue  # not ours
            with self._locked(image_id, blocking=False) as got_it:
                # Re-check the age under the lock: a spawn touches the base while
                # holding it, after our scan of the overlays.
                if got_it and self._age(path) >= min_age:
                    os.unlink(path)
                    removed.append(image_id)
                    LOG.info("image cache: removed unused base image %s", image_id)
        return removed

    def bases_in_use(self) -> set[str]:
        """Absolute paths of the base images the instances' root disks refer to."""
        used = set()
        for uuid in paths.list_instance_dirs(self.instances_path):
            backing = qcow2_backing_file(paths.InstancePaths(self.instances_path, uuid).disk)
            if backing:
                used.add(os.path.realpath(backing))
        return used

    # ----------------------------------------------------------------- private
    def _ensure_base_locked(self, image: ImageRef) -> str:
        path = self.base_path(image.id)
        if os.path.exists(path):
            os.utime(path)  # "last used", for the cleanup
            return path
        started = time.monotonic()
        self._download(image, path)
        LOG.info("image cache: fetched %s (%d bytes) in %.2f s", image.id,
                 os.path.getsize(path), time.monotonic() - started)
        return path

    def _download(self, image: ImageRef, path: str) -> None:
        tmp = path + ".part"
        hashes = {}
        if image.os_hash_value:
            hashes[image.os_hash_algo] = (hashlib.new(image.os_hash_algo), image.os_hash_value)
        if image.checksum:
            hashes["md5"] = (hashlib.md5(usedforsecurity=False), image.checksum)
        deadline = time.monotonic() + self._download_timeout
        try:
            with open(tmp, "wb") as out:
                for chunk in self._fetch(image.id):
                    out.write(chunk)
                    for hasher, _ in hashes.values():
                        hasher.update(chunk)
                    if time.monotonic() > deadline:
                        raise ImageError(f"download of image {image.id} took longer than "
                                         f"{self._download_timeout:.0f} s; abandoned")
                out.flush()
                os.fsync(out.fileno())
            for algo, (hasher, expected) in hashes.items():
                if hasher.hexdigest() != expected.lower():
                    raise ImageChecksumMismatch(
                        f"image {image.id}: {algo} of the downloaded data is "
                        f"{hasher.hexdigest()}, the image service recorded {expected}; "
                        "the image data is corrupt, re-upload it")
            if not hashes:
                LOG.warning("image %s has no checksum recorded; not verified", image.id)
            self._inspect(image, tmp)
            os.chmod(tmp, 0o644)  # QEMU's own user reads the backing file
            os.replace(tmp, path)
        except ComputeError:
            _unlink_quietly(tmp)
            raise
        except Exception as exc:  # the fetcher's own errors (HTTP, IO...)
            _unlink_quietly(tmp)
            raise ImageError(f"could not fetch image {image.id}: {exc}") from exc

    def _inspect(self, image: ImageRef, path: str) -> None:
        # Probing is deliberate here, on our private copy: an image declared raw that is
        # really qcow2 could name any host file as its backing file and expose it.
        info = self._info(path, None)
        if info.get("format") != image.disk_format:
            raise ImageUnacceptable(f"image {image.id} is declared {image.disk_format} but its "
                                    f"data is {info.get('format')}; fix the disk_format")
        data_file = info.get("format-specific", {}).get("data", {}).get("data-file")
        if info.get("backing-filename") or data_file:
            raise ImageUnacceptable(f"image {image.id} refers to another file "
                                    f"({info.get('backing-filename') or data_file}); "
                                    "upload a self-contained image (qemu-img convert)")

    def _info(self, path: str, disk_format: str | None) -> dict:
        # -U (force share): only reads the header, also of a disk a running guest holds.
        argv = ["qemu-img", "info", "-U", "--output=json"]
        if disk_format:
            argv += ["-f", disk_format]
        out = self._run(argv + [path], f"inspect {path}")
        try:
            return json.loads(out)
        except ValueError as exc:
            raise DiskError(f"qemu-img info {path} printed no JSON: {out[:200]!r}") from exc

    def _run(self, argv: list[str], what: str) -> str:
        try:
            return self._execute(argv)
        except processutils.ProcessExecutionError as exc:
            raise DiskError(f"could not {what}: {exc}") from exc

    @contextlib.contextmanager
    def _locked(self, image_id: str, blocking: bool = True) -> Iterator[bool]:
        os.makedirs(self.lock_dir, mode=0o755, exist_ok=True)
        os.chmod(self.base_dir, 0o755)  # QEMU must traverse it to the backing files
        lock_path = os.path.join(self.lock_dir, canonical_uuid(image_id) + ".lock")
        with open(lock_path, "a") as handle:
            flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
            try:
                fcntl.flock(handle, flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _age(self, path: str) -> float:
        try:
            return self._clock() - os.stat(path).st_mtime
        except FileNotFoundError:
            return 0.0

    def _remove_stale_part(self, path: str) -> None:
        image_id = os.path.basename(path)[: -len(".part")]
        try:
            canonical_uuid(image_id)
        except ComputeError:
            return
        with self._locked(image_id, blocking=False) as got_it:
            if got_it and self._age(path) > self._download_timeout:
                _unlink_quietly(path)

    @staticmethod
    def _listdir(path: str) -> list[str]:
        try:
            return os.listdir(path)
        except FileNotFoundError:
            return []


def qcow2_backing_file(path: str) -> str | None:
    """The backing file named in a qcow2 header, or None (not qcow2, none, unreadable).

    Read from the header directly (magic, version, offset, size: the first 20 bytes)
    rather than with qemu-img, so scanning every instance's disk costs no process.
    """
    try:
        with open(path, "rb") as disk:
            header = disk.read(20)
            if len(header) < 20 or header[:4] != b"QFI\xfb":
                return None
            offset, size = struct.unpack(">QI", header[8:20])
            if not offset or not 0 < size <= 4096:
                return None
            disk.seek(offset)
            return disk.read(size).decode("utf-8", "replace")
    except OSError:
        return None


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
