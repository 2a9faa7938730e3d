"""An in-memory store: the fake unit tests use in place of the filesystem."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from controller.image.store.base import DataNotFound, Hashing, Store, StoredData


class MemoryStore(Store):
    """Keeps each image's bytes in a dict; for tests and single-process experiments."""

    def __init__(self, chunk_size: int = 65536):
        self.chunk_size = chunk_size
        self.data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def add(self, image_id: str, chunks: Iterable[bytes]) -> StoredData:
        hashing = Hashing()
        body = b"".join(hashing.feed(chunks))
        with self._lock:
            self.data[image_id] = body
        return hashing.result()

    def get(self, image_id: str, offset: int = 0,
            length: int | None = None) -> Iterator[bytes]:
        with self._lock:
            if image_id not in self.data:
                raise DataNotFound(f"No data stored for image {image_id}.")
            body = self.data[image_id]
        end = len(body) if length is None else min(len(body), offset + length)
        return (body[i:min(i + self.chunk_size, end)]
                for i in range(offset, end, self.chunk_size))

    def delete(self, image_id: str) -> None:
        with self._lock:
            self.data.pop(image_id, None)

    def exists(self, image_id: str) -> bool:
        with self._lock:
            return image_id in self.data
