"""The in-memory twin of the disk-file API, for unit tests of the object server.

Same surface as diskfile.DiskFileManager / DiskFile / Writer / Reader, backed by a
dict: {(device, partition, hash): {file name: (metadata, bytes)}}.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

from agents.objectstore import filenames
from agents.objectstore.diskfile import (
    DiskFileExpired,
    DiskFileNotFound,
    DiskFileQuarantined,
    merge_metadata,
)


class MemDiskFileManager:
    """Holds every 'file' of every device in memory."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, int, str], dict[str, tuple[dict[str, Any], bytes]]] = {}
        self.quarantined: list[tuple[str, int, str]] = []
        self.expiring: list[tuple[int, str]] = []

    def get(self, device: str, partition: int, name_hash: str, name: str) -> MemDiskFile:
        return MemDiskFile(self, device, partition, name_hash, name)


class MemDiskFile:
    """One object's 'files' in memory."""

    def __init__(self, mgr: MemDiskFileManager, device: str, partition: int,
                 name_hash: str, name: str):
        self.mgr = mgr
        self.key = (device, partition, name_hash)
        self.dev_path = f"mem:{device}"
        self.partition = partition
        self.name_hash = name_hash
        self.name = name

    def _dir(self) -> dict[str, tuple[dict[str, Any], bytes]]:
        return self.mgr.files.setdefault(self.key, {})

    def _install(self, filename: str, metadata: dict[str, Any], data: bytes) -> None:
        files = self._dir()
        files[filename] = (metadata, data)
        _, _, obsolete = filenames.choose(list(files))
        for name in obsolete:
            files.pop(name, None)

    def has_data(self) -> bool:
        main, _, _ = filenames.choose(list(self._dir()))
        return main is not None and main.endswith(filenames.DATA)

    def current_timestamp(self) -> str | None:
        main, _, _ = filenames.choose(list(self._dir()))
        return main[:16] if main else None

    def open(self, *, allow_expired: bool = False) -> MemReader:
        main, meta, _ = filenames.choose(list(self._dir()))
        if main is None:
            raise DiskFileNotFound()
        if main.endswith(filenames.TOMBSTONE):
            raise DiskFileNotFound(main[:16])
        metadata, data = self._dir()[main]
        if meta is not None:
            metadata = merge_metadata(metadata, self._dir()[meta][0])
        reader = MemReader(self, dict(metadata), data)
        delete_at = metadata.get("X-Delete-At")
        if delete_at and not allow_expired and int(delete_at) <= time.time():
            raise DiskFileExpired(reader.metadata)
        return reader

    def read_metadata(self, *, allow_expired: bool = False) -> dict[str, Any]:
        return self.open(allow_expired=allow_expired).metadata

    def writer(self) -> MemWriter:
        return MemWriter(self)

    def write_metadata(self, metadata: dict[str, Any]) -> None:
        self._install(metadata["X-Timestamp"] + filenames.META, dict(metadata), b"")

    def delete(self, timestamp: str, extra: dict[str, Any] | None = None) -> None:
        self._install(timestamp + filenames.TOMBSTONE,
                      {"X-Timestamp": timestamp, "name": self.name, **(extra or {})}, b"")

    def schedule_expiry(self, delete_at: int) -> None:
        self.mgr.expiring.append((delete_at, self.name))

    def quarantine(self) -> None:
        self.mgr.files.pop(self.key, None)
        self.mgr.quarantined.append(self.key)


class MemWriter:
    """Collects a PUT body."""

    def __init__(self, df: MemDiskFile):
        self.df = df
        self.chunks: list[bytes] = []
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.md5.update(chunk)
        self.size += len(chunk)

    @property
    def etag(self) -> str:
        return self.md5.hexdigest()

    def put(self, metadata: dict[str, Any]) -> None:
        self.df._install(metadata["X-Timestamp"] + filenames.DATA, dict(metadata),
                         b"".join(self.chunks))

    def abort(self) -> None:
        self.chunks = []


class MemReader:
    """An 'open' in-memory replica."""

    def __init__(self, df: MemDiskFile, metadata: dict[str, Any], data: bytes):
        self.df = df
        self.metadata = metadata
        self.data = data
        self.content_length = len(data)

    @property
    def etag(self) -> str:
        return self.metadata.get("ETag", "")

    def close(self) -> None:
        pass

    def read_all_verified(self) -> bytes:
        if hashlib.md5(self.data, usedforsecurity=False).hexdigest() != self.etag:
            self.df.quarantine()
            raise DiskFileQuarantined()
        return self.data

    def iter_verified(self, chunk_size: int) -> Iterator[bytes]:
        yield self.read_all_verified()

    def iter_range(self, start: int, stop: int, chunk_size: int) -> Iterator[bytes]:
        yield self.data[start:stop]
