"""The filesystem store: one file per image, named by its ID, under a data directory."""

from __future__ import annotations

import errno
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from controller.image.store.base import (
    DataNotFound,
    Hashing,
    StorageFull,
    StorageWriteDenied,
    Store,
    StoredData,
    StoreError,
)

LOG = logging.getLogger(__name__)

# Only this shape reaches the filesystem, so no ID can name a path outside datadir.
_SAFE_ID = re.compile(r"^[0-9a-fA-F-]{1,36}$")
PARTIAL_SUFFIX = ".partial"
T = TypeVar("T")


def _translate(exc: OSError, what: str) -> StoreError:
    """The store error an OSError means, raised once here at the driver edge."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"Image storage media is full: {exc.strerror}.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageWriteDenied(f"Insufficient permissions on image storage media "
                                  f"while {what}: {exc.strerror}.")
    return StoreError(f"The image store failed while {what}: {exc.strerror}.")


def _io(what: str, call: Callable[..., T], *args: Any) -> T:
    try:
        return call(*args)
    except OSError as exc:
        raise _translate(exc, what) from exc


class FilesystemStore(Store):
    """Writes go to `<id>.<random>.partial`, fsynced, then renamed into place."""

    def __init__(self, datadir: str, chunk_size: int = 65536):
        self.datadir = datadir
        self.chunk_size = chunk_size

    def path(self, image_id: str) -> str:
        if not _SAFE_ID.fullmatch(image_id):
            raise DataNotFound(f"No data stored for image {image_id}.")
        return os.path.join(self.datadir, image_id)

    def add(self, image_id: str, chunks: Iterable[bytes]) -> StoredData:
        final = self.path(image_id)
        partial = f"{final}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}"
        hashing = Hashing()
        _io("creating the image directory", os.makedirs, self.datadir, 0o750, True)
        fd = _io("creating the image file", os.open, partial,
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            with os.fdopen(fd, "wb") as out:
                # Errors raised by chunks (the client's side) pass through untranslated;
                # only the file operations' errors are the store's.
                for chunk in hashing.feed(chunks):
                    _io("writing the image file", out.write, chunk)
                _io("writing the image file", out.flush)
                # The record turns active only after this returns; the bytes must be
                # on disk by then or a crash could leave an active image with no data.
                _io("syncing the image file", os.fsync, out.fileno())
            _io("renaming the image file", os.replace, partial, final)
        except BaseException:
            self._discard(partial)
            raise
        return hashing.result()

    def get(self, image_id: str, offset: int = 0,
            length: int | None = None) -> Iterator[bytes]:
        # Open now, not in the generator, so a missing file is reported before the
        # response starts.
        try:
            handle = open(self.path(image_id), "rb")  # closed by _read
        except FileNotFoundError as exc:
            raise DataNotFound(f"No data stored for image {image_id}.") from exc
        except OSError as exc:
            raise _translate(exc, "opening the image file") from exc
        return self._read(handle, offset, length)

    def _read(self, handle, offset: int, length: int | None) -> Iterator[bytes]:
        with handle:
            handle.seek(offset)
            remaining = length
            while remaining is None or remaining > 0:
                size = self.chunk_size if remaining is None else min(self.chunk_size,
                                                                     remaining)
                chunk = handle.read(size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def delete(self, image_id: str) -> None:
        try:
            os.unlink(self.path(image_id))
        except (FileNotFoundError, DataNotFound):
            pass
        except OSError as exc:
            raise _translate(exc, "deleting the image file") from exc

    def exists(self, image_id: str) -> bool:
        try:
            return os.path.isfile(self.path(image_id))
        except DataNotFound:
            return False

    @staticmethod
    def _discard(path: str) -> None:
        try:
            os.unlink(path)
        except OSError:
            LOG.warning("could not remove partial image file %s", path, exc_info=True)
