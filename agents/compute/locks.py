"""One lock per instance: operations on one instance run one at a time, others in parallel.

The RPC server runs each message in its own thread; without this, a delete arriving
during a spawn, or two power actions, would race on the same domain. Periodic jobs
take the lock without waiting and skip instances that are busy.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class InstanceLocks:
    """Locks keyed by instance uuid, created on demand and dropped when unused."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def hold(self, instance_uuid: str, blocking: bool = True) -> Iterator[bool]:
        """Hold instance_uuid's lock for the block; yields False (not holding it) when
        blocking is False and another operation holds it."""
        lock = self._acquire_ref(instance_uuid)
        got = lock.acquire(blocking)
        try:
            yield got
        finally:
            if got:
                lock.release()
            self._release_ref(instance_uuid)

    def busy(self) -> set[str]:
        """uuids with an operation holding or waiting for their lock."""
        with self._guard:
            return set(self._locks)

    def _acquire_ref(self, instance_uuid: str) -> threading.Lock:
        with self._guard:
            lock, users = self._locks.get(instance_uuid, (threading.Lock(), 0))
            self._locks[instance_uuid] = (lock, users + 1)
            return lock

    def _release_ref(self, instance_uuid: str) -> None:
        with self._guard:
            lock, users = self._locks[instance_uuid]
            if users <= 1:
                del self._locks[instance_uuid]
            else:
                self._locks[instance_uuid] = (lock, users - 1)
