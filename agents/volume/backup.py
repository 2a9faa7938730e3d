"""Volume backups: the data cut in chunks, each stored as an object, plus a manifest.

Layout in a store (:mod:`agents.volume.backup_stores`)::

    backup-<id>/chunk-00000 ...    compressed chunk data (all-zero chunks are not stored)
    backup-<id>/manifest.json      written last: a backup without it is incomplete

The manifest lists every chunk with its offset, length and the sha256 of its
uncompressed data; a restore verifies each chunk against it before writing, so a
damaged or swapped object fails the restore instead of corrupting the volume. A
delete removes the manifest first, so a half-deleted backup never looks complete.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import os
import threading
import time
import zlib
from typing import Any, BinaryIO

from agents.volume import names
from agents.volume.backup_stores import Store
from agents.volume.exception import BackupError, BackupNotFound, Cancelled, VolumeAgentError

LOG = logging.getLogger(__name__)
MANIFEST_VERSION = 1
MiB = 1 << 20
SPARSE_BLOCK = 1 << 20  # granularity of the zero-run check on restore


def prefix(backup_id: str) -> str:
    return f"backup-{names.canonical_uuid(backup_id, 'backup id')}/"


class BackupService:
    """Writes, restores and deletes backups in one store."""

    def __init__(self, store: Store, chunk_size: int = 32 * MiB, compression: str = "zlib"):
        if compression not in ("none", "zlib"):
            raise ValueError(f"unknown compression {compression!r}")
        self.store = store
        self.chunk_size = chunk_size
        self.compression = compression

    def backup(self, backup_id: str, volume_id: str, source: BinaryIO, size: int,
               cancel: threading.Event | None = None) -> dict[str, Any]:
        """Store size bytes of source as backup backup_id; return the manifest.

        :raises BackupError: the store refused a write, or source ended early.
        :raises Cancelled: cancel was set meanwhile (what was written is removed).
        """
        base = prefix(backup_id)
        started = time.monotonic()
        chunks: list[dict[str, Any]] = []
        stored = 0
        try:
            for index, offset in enumerate(range(0, size, self.chunk_size)):
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"backup {backup_id} abandoned")
                length = min(self.chunk_size, size - offset)
                if _is_hole(source, offset, length):
                    chunks.append({"offset": offset, "length": length, "zero": True})
                    continue  # sparse: not even read
                source.seek(offset)
                data = source.read(length)
                if len(data) != length:
                    raise BackupError(f"the volume ended at {offset + len(data)} bytes, "
                                      f"expected {size}")
                if data == _zeros(length):
                    chunks.append({"offset": offset, "length": length, "zero": True})
                    continue
                entry = {"offset": offset, "length": length,
                         "sha256": hashlib.sha256(data).hexdigest(),
                         "object": f"{base}chunk-{index:05d}"}
                payload = zlib.compress(data, 1) if self.compression == "zlib" else data
                self.store.put(entry["object"], payload)
                stored += 1
                chunks.append(entry)
            manifest = {"version": MANIFEST_VERSION, "backup_id": backup_id,
                        "volume_id": volume_id, "size": size, "chunk_size": self.chunk_size,
                        "compression": self.compression, "created_at": time.time(),
                        "object_count": stored, "chunks": chunks}
            self.store.put(base + "manifest.json", json.dumps(manifest).encode())
        except VolumeAgentError:
            self._remove_quietly(backup_id)
            raise
        except OSError as exc:
            self._remove_quietly(backup_id)
            raise BackupError(f"could not read the volume: {exc}") from exc
        LOG.info("backup %s of volume %s: %d bytes, %d of %d chunks stored, %.1f s",
                 backup_id, volume_id, size, stored, len(chunks), time.monotonic() - started)
        return manifest

    def manifest(self, backup_id: str) -> dict[str, Any]:
        """The backup's manifest.

        :raises BackupNotFound: no complete backup of this id.
        :raises BackupError: the manifest is unreadable.
        """
        raw = self.store.get(prefix(backup_id) + "manifest.json")
        if raw is None:
            raise BackupNotFound(backup_id)
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise BackupError(f"the manifest of backup {backup_id} is not JSON") from exc
        if manifest.get("version") != MANIFEST_VERSION:
            raise BackupError(f"backup {backup_id} has manifest version "
                              f"{manifest.get('version')!r}; this agent reads {MANIFEST_VERSION}")
        return manifest

    def restore(self, backup_id: str, dest: BinaryIO, dest_size: int,
                cancel: threading.Event | None = None) -> dict[str, Any]:
        """Write backup backup_id over the start of dest; return its manifest.

        :raises BackupNotFound: no complete backup of this id.
        :raises BackupError: the volume is too small, an object is missing, or a chunk
            does not match its sha256 (nothing after that chunk is written).
        :raises Cancelled: cancel was set meanwhile.
        """
        manifest = self.manifest(backup_id)
        if manifest["size"] > dest_size:
            raise BackupError(f"backup {backup_id} holds {manifest['size']} bytes; the volume "
                              f"has only {dest_size}: restore into a larger volume")
        decompress = zlib.decompress if manifest.get("compression") == "zlib" else bytes
        started = time.monotonic()
        for entry in manifest["chunks"]:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"restore of backup {backup_id} abandoned")
            if entry.get("zero"):
                self._write_zeros(dest, entry["offset"], entry["length"])
                continue
            payload = self.store.get(entry["object"])
            if payload is None:
                raise BackupError(f"backup {backup_id} lost its object {entry['object']}")
            try:
                data = decompress(payload)
            except zlib.error as exc:
                raise BackupError(f"object {entry['object']} is corrupt: {exc}") from exc
            if len(data) != entry["length"] or \
                    hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise BackupError(f"object {entry['object']} of backup {backup_id} does not "
                                  "match its sha256 in the manifest: the backup is damaged")
            self._write_sparse(dest, entry["offset"], data)
        dest.flush()
        LOG.info("restored backup %s (%d bytes) in %.1f s", backup_id, manifest["size"],
                 time.monotonic() - started)
        return manifest

    def delete(self, backup_id: str) -> int:
        """Remove every object of the backup (manifest first); return how many.

        :raises BackupError: the store refused a delete.
        """
        base = prefix(backup_id)
        names_found = self.store.list(base)
        removed = 0
        manifest = base + "manifest.json"
        if manifest in names_found:
            self.store.delete(manifest)
            removed += 1
        for name in names_found:
            if name != manifest:
                self.store.delete(name)
                removed += 1
        LOG.info("deleted backup %s (%d objects)", backup_id, removed)
        return removed

    def _write_sparse(self, dest: BinaryIO, offset: int, data: bytes) -> None:
        # Zero runs inside a chunk are not written where the volume is zero already, so
        # a restore into a fresh sparse volume allocates only what holds data.
        for start in range(0, len(data), SPARSE_BLOCK):
            block = data[start:start + SPARSE_BLOCK]
            if block == _zeros(len(block)):
                self._write_zeros(dest, offset + start, len(block))
            else:
                dest.seek(offset + start)
                dest.write(block)

    def _write_zeros(self, dest: BinaryIO, offset: int, length: int) -> None:
        # Only where the volume is not zero already: keeps sparse files sparse.
        if _is_hole(dest, offset, length):
            return
        dest.seek(offset)
        current = dest.read(length)
        if current != _zeros(length):
            dest.seek(offset)
            dest.write(_zeros(length))

    def _remove_quietly(self, backup_id: str) -> None:
        try:
            self.delete(backup_id)
        except VolumeAgentError as exc:
            LOG.warning("could not remove the partial backup %s: %s", backup_id, exc)


@functools.lru_cache(maxsize=8)
def _zeros(length: int) -> bytes:
    return bytes(length)


def _is_hole(handle: BinaryIO, offset: int, length: int) -> bool:
    """Whether [offset, offset+length) of a file holds no data at all (SEEK_DATA); False
    when that cannot be told (block devices, in-memory files): then it is read."""
    try:
        fd = handle.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    try:
        return os.lseek(fd, offset, os.SEEK_DATA) >= offset + length
    except OSError as exc:
        return exc.errno == errno.ENXIO  # no data from offset to the end of the file
