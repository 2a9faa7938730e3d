"""Per-resource locks with cancellation, for the RPC server's worker threads.

Operations on one volume (or snapshot) run one at a time; different volumes run in
parallel. A waiting delete can ask the operation in progress to stop early
(:meth:`KeyedLocks.cancel`): long copies check the event between chunks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class _Entry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.users = 0


class KeyedLocks:
    """One lock per key, created on demand and dropped when nobody uses it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[threading.Event]:
        """Hold key's lock; yields the event a :meth:`cancel` sets."""
        with self._guard:
            entry = self._entries.setdefault(key, _Entry())
            entry.users += 1
        try:
            with entry.lock:
                entry.cancel.clear()  # a cancel is meant for the holder before us
                yield entry.cancel
        finally:
            with self._guard:
                entry.users -= 1
                if entry.users == 0:
                    del self._entries[key]

    def cancel(self, key: str) -> bool:
        """Ask the current holder of key to stop; False when nobody holds it."""
        with self._guard:
            entry = self._entries.get(key)
            if entry is None or not entry.lock.locked():
                return False
            entry.cancel.set()
            return True
