"""The image store driver interface, its errors, and the hashing every driver shares."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from controller import exceptions


class StoreError(exceptions.StratusError):
    """The store could not complete an operation for a reason the operator must fix."""

    message = "The image store failed; the operator can find the cause in the API log."


class DataNotFound(exceptions.NotFound):
    message = "The image has no data in the store."


class StorageFull(exceptions.RequestEntityTooLarge):
    message = "Image storage media is full."


class StorageWriteDenied(StoreError):
    code = 503
    title = "Service Unavailable"
    message = "Insufficient permissions on image storage media."


class StoredData(NamedTuple):
    """What `Store.add` reports about the bytes it kept."""

    size: int
    md5: str
    sha512: str


class Hashing:
    """Counts and hashes chunks as they pass, so no driver reads the data twice."""

    def __init__(self) -> None:
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha512 = hashlib.sha512()

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if chunk:
                self.size += len(chunk)
                self._md5.update(chunk)
                self._sha512.update(chunk)
                yield chunk

    def result(self) -> StoredData:
        return StoredData(self.size, self._md5.hexdigest(), self._sha512.hexdigest())


class Store(abc.ABC):
    """Keeps image bytes under the image's ID. Drivers never see the database."""

    @abc.abstractmethod
    def add(self, image_id: str, chunks: Iterable[bytes]) -> StoredData:
        """Store chunks as image_id's data, replacing any earlier data, atomically.

        An exception raised by the chunks iterator propagates after the partial data
        is removed, so a failed upload leaves nothing behind.

        :raises StorageFull: no space left.
        :raises StorageWriteDenied: the store may not be written.
        :raises StoreError: any other failure of the medium.
        """

    @abc.abstractmethod
    def get(self, image_id: str, offset: int = 0,
            length: int | None = None) -> Iterator[bytes]:
        """The data of image_id from offset, length bytes of it (all when None).

        :raises DataNotFound: the store holds no data for image_id.
        :raises StoreError: the medium failed.
        """

    @abc.abstractmethod
    def delete(self, image_id: str) -> None:
        """Remove image_id's data; absent data is not an error.

        :raises StoreError: the medium failed.
        """

    @abc.abstractmethod
    def exists(self, image_id: str) -> bool:
        """Whether the store holds data for image_id."""
