"""A revision counter bumped by every identity write, and caches keyed on it.

Token validation, the catalog and role lookups are read far more often than identity
changes; each worker keeps them in memory and throws them all away when the counter moves.
One indexed single-row read per request keeps every worker (and every API node) exact.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.models.identity import Revision

_SELECT = sa.select(Revision.value).where(Revision.id == 1)


def bump(session: orm.Session) -> None:
    """Record that identity data changed; call inside the writing transaction."""
    result = session.execute(
        sa.update(Revision).where(Revision.id == 1).values(value=Revision.value + 1))
    if result.rowcount == 0:
        session.add(Revision(id=1, value=1))


def read(engine: sa.Engine) -> int:
    """The revision through a bare pooled connection: the per-request hot path."""
    with engine.connect() as connection:
        return connection.execute(_SELECT).scalar() or 0


class RevisionCache:
    """A bounded LRU map emptied whenever the identity revision changes."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self._revision: int | None = None
        self._lock = threading.Lock()
        self._request = threading.local()

    def begin_request(self) -> None:
        """Within one request the revision is read once, however many lookups it makes."""
        self._request.active = True
        self._request.synced = False

    def end_request(self) -> None:
        self._request.active = False

    def refresh(self, engine: sa.Engine) -> None:
        """Sync with the database's revision, unless this request already did."""
        in_request = getattr(self._request, "active", False)
        if in_request and self._request.synced:
            return
        self.sync(read(engine))
        if in_request:
            self._request.synced = True

    def sync(self, revision: int) -> None:
        """Drop everything if revision differs from the one the entries were made at."""
        with self._lock:
            if revision != self._revision:
                self._data.clear()
                self._revision = revision

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    @property
    def revision(self) -> int | None:
        return self._revision

    def put(self, key: Any, value: Any, revision: int | None) -> None:
        """Store value computed at revision, unless the cache has moved on since."""
        if self.maxsize <= 0:
            return
        with self._lock:
            if revision != self._revision:
                return
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
