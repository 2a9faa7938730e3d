"""The disk-file API: one object's replica on one device.

Layout (per device)::

    objects/<partition>/<suffix>/<name hash>/<timestamp>.data|.ts|.meta
    tmp/                      writes in progress (renamed into place when durable)
    quarantined/objects/      corrupt copies, never served again

A ``.data`` file is the object's bytes followed by a trailer: its metadata as JSON,
the JSON length (4 bytes) and a magic string. Keeping the metadata in the file means
one fsync covers both, no xattr size limits apply, and replication copies a single
file. ``.meta`` (POST) and ``.ts`` (DELETE) files hold only a trailer.

Writers go to ``tmp/``, fsync, then rename into the hash directory and fsync it, so a
crash leaves either the old or the new object, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from agents.objectstore import expiring, filenames, hashes
from agents.objectstore.devices import Devices

MAGIC = b"\x00STRATUS-OBJMETA"
_LEN = struct.Struct(">I")
TRAILER_FIXED = _LEN.size + len(MAGIC)
SMALL_FILE = 128 * 1024  # read whole in one syscall
# keys a POST may replace; everything else comes from the PUT
POSTABLE_PREFIXES = ("X-Object-Meta-",)
POSTABLE = {"X-Delete-At", "Content-Disposition", "Content-Encoding", "Content-Type"}


class DiskFileError(Exception):
    """Base of disk-file failures."""


class DiskFileNotFound(DiskFileError):
    """No such object here. timestamp is set when a tombstone says it was deleted."""

    def __init__(self, timestamp: str | None = None):
        super().__init__(timestamp or "not found")
        self.timestamp = timestamp


class DiskFileExpired(DiskFileNotFound):
    """The object's X-Delete-At has passed."""

    def __init__(self, metadata: dict[str, Any]):
        super().__init__(None)
        self.metadata = metadata


class DiskFileQuarantined(DiskFileNotFound):
    """The copy was corrupt and has been moved to quarantine."""


def encode_trailer(metadata: dict[str, Any]) -> bytes:
    body = json.dumps(metadata, separators=(",", ":")).encode()
    return body + _LEN.pack(len(body)) + MAGIC


def decode_trailer(buf: bytes | memoryview, file_size: int) -> tuple[dict[str, Any], int] | int:
    """From the tail of a file: (metadata, content length) or, if buf was too short,
    how many tail bytes are needed.

    :raises ValueError: the file has no valid trailer.
    """
    if len(buf) < TRAILER_FIXED or bytes(buf[-len(MAGIC):]) != MAGIC:
        raise ValueError("no metadata trailer")
    (meta_len,) = _LEN.unpack_from(buf, len(buf) - TRAILER_FIXED)
    need = meta_len + TRAILER_FIXED
    if need > file_size:
        raise ValueError("bad metadata length")
    if need > len(buf):
        return need
    start = len(buf) - need
    return json.loads(bytes(buf[start:start + meta_len])), file_size - need


def read_file_metadata(path: str) -> tuple[dict[str, Any], int]:
    """(metadata, content length) of a .data/.ts/.meta file.

    :raises ValueError: no valid trailer. :raises OSError: unreadable.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        want = min(size, 4096)
        while True:
            result = decode_trailer(os.pread(fd, want, size - want), size)
            if isinstance(result, int):
                want = result
                continue
            return result
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def merge_metadata(data_meta: dict[str, Any], meta_meta: dict[str, Any] | None
                   ) -> dict[str, Any]:
    """The object's effective metadata: PUT metadata with a newer POST's on top."""
    if not meta_meta:
        return data_meta
    merged = {k: v for k, v in data_meta.items()
              if not (k.startswith(POSTABLE_PREFIXES) or k in POSTABLE)}
    merged["Content-Type"] = data_meta.get("Content-Type", "application/octet-stream")
    for key, value in meta_meta.items():
        if key.startswith(POSTABLE_PREFIXES) or key in POSTABLE:
            merged[key] = value
    # a POST moves X-Timestamp/Last-Modified forward, as in Swift
    merged["X-Data-Timestamp"] = data_meta["X-Timestamp"]
    merged["X-Timestamp"] = meta_meta["X-Timestamp"]
    return merged


class DiskFileManager:
    """Finds the DiskFile of a name on a device; holds the node's disk settings."""

    def __init__(self, devices: Devices, *, fsync: bool = True, chunk_size: int = 65536,
                 reclaim_age: float = 604800):
        self.devices = devices
        self.fsync = fsync
        self.chunk_size = chunk_size
        self.reclaim_age = reclaim_age

    def get(self, device: str, partition: int, name_hash: str, name: str) -> DiskFile:
        """The replica of object ``name`` (/account/container/object) on device.

        :raises DeviceUnavailable: the device is not served here.
        """
        return DiskFile(self, self.devices.path(device), partition, name_hash, name)


class DiskFile:
    """One object's files on one device."""

    def __init__(self, mgr: DiskFileManager, dev_path: str, partition: int, name_hash: str,
                 name: str):
        self.mgr = mgr
        self.dev_path = dev_path
        self.partition = partition
        self.name_hash = name_hash
        self.name = name
        self.part_dir = os.path.join(dev_path, "objects", str(partition))
        self.suffix = name_hash[-3:]
        self.hash_dir = os.path.join(self.part_dir, self.suffix, name_hash)

    # ------------------------------------------------------------ reading
    def _files(self) -> tuple[str | None, str | None]:
        try:
            names = os.listdir(self.hash_dir)
        except (FileNotFoundError, NotADirectoryError):
            return None, None
        main, meta, _ = filenames.choose(names)
        return main, meta

    def open(self, *, allow_expired: bool = False) -> Reader:
        """Open the current version for reading.

        :raises DiskFileNotFound: never written, deleted (timestamp set) or expired.
        :raises DiskFileQuarantined: the file was unreadable and is now quarantined.
        """
        main, meta = self._files()
        if main is None:
            raise DiskFileNotFound()
        if main.endswith(filenames.TOMBSTONE):
            raise DiskFileNotFound(main[:-len(filenames.TOMBSTONE)])
        path = os.path.join(self.hash_dir, main)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError as exc:  # replaced under us: look again once
            raise DiskFileNotFound() from exc
        try:
            reader = Reader(self, fd, os.fstat(fd).st_size)
            if meta is not None:
                meta_dict, _ = read_file_metadata(os.path.join(self.hash_dir, meta))
                reader.metadata = merge_metadata(reader.metadata, meta_dict)
        except (ValueError, OSError) as exc:
            os.close(fd)
            self.quarantine()
            raise DiskFileQuarantined() from exc
        except BaseException:
            os.close(fd)
            raise
        delete_at = reader.metadata.get("X-Delete-At")
        if delete_at and not allow_expired and int(delete_at) <= time.time():
            reader.close()
            raise DiskFileExpired(reader.metadata)
        return reader

    def read_metadata(self, *, allow_expired: bool = False) -> dict[str, Any]:
        """The effective metadata. :raises DiskFileNotFound: as open()."""
        reader = self.open(allow_expired=allow_expired)
        reader.close()
        return reader.metadata

    def has_data(self) -> bool:
        """Is the newest version data (not a tombstone)? Expiry is not considered."""
        main, _ = self._files()
        return main is not None and main.endswith(filenames.DATA)

    def current_timestamp(self) -> str | None:
        """Timestamp of the newest .data or .ts (None if neither)."""
        main, _ = self._files()
        return main[:16] if main else None

    # ------------------------------------------------------------ writing
    def writer(self) -> Writer:
        return Writer(self)

    def _install(self, tmp_path: str, filename: str) -> None:
        """Move a finished temp file into the hash dir durably; drop obsolete files."""
        created = not os.path.isdir(self.hash_dir)
        if created:
            os.makedirs(self.hash_dir, exist_ok=True)
        os.rename(tmp_path, os.path.join(self.hash_dir, filename))
        if self.mgr.fsync:
            _fsync_dir(self.hash_dir)
            if created:  # the new directory entries must survive a crash too
                _fsync_dir(os.path.dirname(self.hash_dir))
                _fsync_dir(self.part_dir)
        filenames.cleanup(self.hash_dir, self.mgr.reclaim_age, time.time())
        hashes.invalidate(self.part_dir, self.suffix)

    def _write_small(self, filename: str, payload: bytes) -> None:
        fd, tmp = _mkstemp(self.dev_path)
        try:
            _write_all(fd, payload)
            if self.mgr.fsync:
                os.fdatasync(fd)
        finally:
            os.close(fd)
        try:
            self._install(tmp, filename)
        except BaseException:
            _unlink_quiet(tmp)
            raise

    def write_metadata(self, metadata: dict[str, Any]) -> None:
        """Store a POST's metadata as <timestamp>.meta."""
        self._write_small(metadata["X-Timestamp"] + filenames.META, encode_trailer(metadata))

    def delete(self, timestamp: str, extra: dict[str, Any] | None = None) -> None:
        """Write a tombstone, so the delete wins over older copies everywhere."""
        metadata = {"X-Timestamp": timestamp, "name": self.name}
        metadata.update(extra or {})
        self._write_small(timestamp + filenames.TOMBSTONE, encode_trailer(metadata))

    def write_raw(self, filename: str, chunks: Iterator[bytes]) -> None:
        """Store a file pushed by a replicator verbatim (trailer included)."""
        fd, tmp = _mkstemp(self.dev_path)
        try:
            try:
                for chunk in chunks:
                    _write_all(fd, chunk)
                if self.mgr.fsync:
                    os.fdatasync(fd)
            finally:
                os.close(fd)
            read_file_metadata(tmp)  # refuse anything without a valid trailer
            self._install(tmp, filename)
        except BaseException:
            _unlink_quiet(tmp)
            raise

    def schedule_expiry(self, delete_at: int) -> None:
        """Queue this object for the expirer at delete_at."""
        expiring.add(self.dev_path, delete_at, self.partition, self.name_hash, self.name)

    def quarantine(self) -> str | None:
        """Move this hash dir out of the way; the replicator restores a good copy."""
        target = os.path.join(self.dev_path, "quarantined", "objects",
                              f"{self.name_hash}-{uuid.uuid4().hex}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            os.rename(self.hash_dir, target)
        except FileNotFoundError:
            return None
        hashes.invalidate(self.part_dir, self.suffix)
        return target


def _mkstemp(dev_path: str) -> tuple[int, str]:
    tmp_dir = os.path.join(dev_path, "tmp")
    try:
        return tempfile.mkstemp(dir=tmp_dir)
    except FileNotFoundError:
        os.makedirs(tmp_dir, exist_ok=True)
        return tempfile.mkstemp(dir=tmp_dir)


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Writer:
    """Streams a PUT body to a temp file, then installs it with its metadata."""

    def __init__(self, df: DiskFile):
        self.df = df
        self.fd, self.tmp = _mkstemp(df.dev_path)
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, chunk: bytes) -> None:
        _write_all(self.fd, chunk)
        self.md5.update(chunk)
        self.size += len(chunk)

    @property
    def etag(self) -> str:
        return self.md5.hexdigest()

    def put(self, metadata: dict[str, Any]) -> None:
        """Append the metadata, make it durable, install as <X-Timestamp>.data."""
        try:
            _write_all(self.fd, encode_trailer(metadata))
            if self.df.mgr.fsync:
                os.fdatasync(self.fd)
            os.close(self.fd)
            self.fd = -1
            self.df._install(self.tmp, metadata["X-Timestamp"] + filenames.DATA)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        _unlink_quiet(self.tmp)


class Reader:
    """An open replica: metadata plus ways to read the bytes."""

    def __init__(self, df: DiskFile, fd: int, file_size: int):
        self.df = df
        self.fd = fd
        self._small: bytes | None = None
        if file_size <= SMALL_FILE:
            buf = os.pread(fd, file_size, 0)
            self._small = buf
            result = decode_trailer(buf, file_size)
        else:
            result = decode_trailer(os.pread(fd, 4096, file_size - 4096), file_size)
            if isinstance(result, int):
                result = decode_trailer(os.pread(fd, result, file_size - result), file_size)
        assert not isinstance(result, int)
        self.metadata, self.content_length = result
        if str(self.content_length) != str(self.metadata.get("Content-Length")):
            raise ValueError("size does not match metadata")

    @property
    def etag(self) -> str:
        return self.metadata.get("ETag", "")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _quarantine(self) -> None:
        self.close()
        self.df.quarantine()

    def read_all_verified(self) -> bytes:
        """All bytes of a small object, checked against its ETag first.

        :raises DiskFileQuarantined: the bytes do not match; the copy is quarantined.
        """
        if self._small is not None:
            data = self._small[:self.content_length]
        else:
            data = os.pread(self.fd, self.content_length, 0)
        if hashlib.md5(data, usedforsecurity=False).hexdigest() != self.etag or \
                len(data) != self.content_length:
            self._quarantine()
            raise DiskFileQuarantined()
        return data

    def iter_verified(self, chunk_size: int) -> Iterator[bytes]:
        """All bytes, holding the last chunk back until the MD5 checks out.

        On a mismatch the copy is quarantined and the stream raises before its end,
        so the client sees a short body (an error), never complete corrupt data.
        """
        md5 = hashlib.md5(usedforsecurity=False)
        pos, held = 0, b""
        try:
            while pos < self.content_length:
                chunk = os.pread(self.fd, min(chunk_size, self.content_length - pos), pos)
                if not chunk:
                    break
                pos += len(chunk)
                md5.update(chunk)
                if held:
                    yield held
                held = chunk
            if pos != self.content_length or md5.hexdigest() != self.etag:
                self._quarantine()
                raise DiskFileQuarantined()
            if held:
                yield held
        finally:
            self.close()

    def iter_range(self, start: int, stop: int, chunk_size: int) -> Iterator[bytes]:
        """Bytes [start, stop) unverified (a range cannot be checked against the ETag)."""
        pos = start
        while pos < stop:
            chunk = os.pread(self.fd, min(chunk_size, stop - pos), pos)
            if not chunk:
                raise DiskFileError("file shorter than its metadata says")
            pos += len(chunk)
            yield chunk

    def iter_raw(self, chunk_size: int) -> Iterator[bytes]:
        """The whole file, trailer included (what a replicator pushes)."""
        pos = 0
        while True:
            chunk = os.pread(self.fd, chunk_size, pos)
            if not chunk:
                return
            pos += len(chunk)
            yield chunk
