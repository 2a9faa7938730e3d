"""Account and container facts the proxy needs on most requests, cached briefly.

Existence, ACLs, TempURL keys and counts come from a HEAD to any replica. Each
worker keeps them ``info_cache_time`` seconds; writes through this worker drop
the entry at once, other workers notice within that time (as with Swift's cache).
"Does not exist" is never cached, so a new container is usable at once everywhere.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from common.objectstore.wsgi import HTTPError
from controller.objectproxy.backend import Backend

Info = dict[str, str]


class InfoCache:
    """HEAD-and-remember for accounts and containers."""

    def __init__(self, backend: Backend, ttl: float, size: int = 10000):
        self.backend = backend
        self.ttl = ttl
        self.size = size
        self._items: dict[tuple[str, ...], tuple[float, Info | None]] = {}
        self._lock = threading.Lock()

    def _lookup(self, key: tuple[str, ...], kind: str) -> Info | None:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        ring = self.backend.rings[kind]
        part = ring.get_part(*key)
        resp = self.backend.get(kind, part, "HEAD", key, {})
        resp.read()
        if resp.status // 100 == 2:
            info: Info | None = dict(resp.headers)
        elif resp.status == 404:
            return None  # not remembered: it may be created through another worker now
        else:
            raise HTTPError(503)
        if self.ttl > 0:
            with self._lock:
                if len(self._items) >= self.size:
                    self._items.clear()  # crude but bounded; entries live seconds anyway
                self._items[key] = (now + self.ttl, info)
        return info

    def account(self, account: str) -> Info | None:
        """HEAD headers of the account (lower-case keys), None if it does not exist."""
        return self._lookup((account,), "account")

    def container(self, account: str, container: str) -> Info | None:
        """HEAD headers of the container (lower-case keys), None if it does not exist."""
        return self._lookup((account, container), "container")

    def forget(self, account: str, container: str | None = None) -> None:
        with self._lock:
            self._items.pop((account,) if container is None else (account, container), None)


def meta(info: Info | None, prefix: str) -> dict[str, Any]:
    """{lower-cased name after prefix: value} of the info's metadata headers."""
    if not info:
        return {}
    prefix = prefix.lower()
    return {k[len(prefix):]: v for k, v in info.items() if k.startswith(prefix)}
