"""SQLite databases of accounts and containers (one file per account or container).

Like Swift: each database sits in its partition directory on every replica,
``<device>/<accounts|containers>/<part>/<suffix>/<hash>/<hash>.db``. Rows are never
updated in place: a newer row replaces the old one with a new, larger ROWID
(AUTOINCREMENT), so "everything after row N" is exactly what a peer that synced up
to N is missing. Deletes are rows with deleted=1, kept for ``reclaim_age``.

WAL with synchronous=NORMAL: a commit survives a process crash; a power cut may lose
the last commits, which replication from the other replicas restores.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from common.objectstore import timestamp


class DatabaseNotFound(Exception):
    """The database does not exist on this device."""


def chexor(old: int, name: str, ts: str) -> int:
    """Fold one row into a replica-independent content hash (XOR of row hashes)."""
    return old ^ int(hashlib.md5(f"{name}-{ts}".encode(), usedforsecurity=False).hexdigest(), 16)


def merge_metadata(current: dict[str, list[str]], updates: dict[str, list[str]]
                   ) -> dict[str, list[str]]:
    """Per-key newest-wins merge of {name: [value, timestamp]} (value '' = removed)."""
    merged = dict(current)
    for key, (value, ts) in updates.items():
        if key not in merged or merged[key][1] < ts:
            merged[key] = [value, ts]
    return merged


def db_path(dev_path: str, kind: str, partition: int, name_hash: str) -> str:
    """Where the database of a name hash lives on a device (kind: accounts/containers)."""
    return os.path.join(dev_path, kind, str(partition), name_hash[-3:], name_hash,
                        name_hash + ".db")


class DatabaseBroker:
    """Shared mechanics; subclasses define the item table and how rows merge."""

    KIND = ""          # "accounts" or "containers" (directory name)
    ITEM_TABLE = ""
    ITEM_COLUMNS: tuple[str, ...] = ()
    SCHEMA = ""

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------ connections
    def exists(self) -> bool:
        return self._conn is not None or os.path.exists(self.path)

    def _connect(self, path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=25, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            if not os.path.exists(self.path):
                raise DatabaseNotFound(self.path)
            self._conn = self._connect(self.path)
        return self._conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction under the broker lock (BEGIN IMMEDIATE: no upgrade races)."""
        with self.lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def initialize(self, stat: dict[str, Any]) -> bool:
        """Create the database with its stat row unless it exists; True if created.

        Built under a temporary name and hard-linked into place, so concurrent
        creators never see a half-made file and exactly one of them wins.
        """
        if os.path.exists(self.path):
            return False
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f".tmp-{uuid.uuid4().hex}.db")
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.executescript(self.SCHEMA)
            row = dict(stat)
            row.setdefault("id", str(uuid.uuid4()))
            row.setdefault("hash", "0")
            row.setdefault("metadata", "{}")
            columns = ", ".join(row)
            conn.execute(f"INSERT INTO stat ({columns}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
        try:
            os.link(tmp, self.path)
            created = True
        except FileExistsError:
            created = False
        finally:
            os.unlink(tmp)
        return created

    # ------------------------------------------------------------ stat & metadata
    def get_info(self) -> dict[str, Any]:
        with self.lock:
            cur = self.conn.execute("SELECT * FROM stat")
            names = [d[0] for d in cur.description]
            row = cur.fetchone()
        info = dict(zip(names, row, strict=True))
        info["metadata"] = json.loads(info.get("metadata") or "{}")
        return info

    def is_deleted(self, info: dict[str, Any] | None = None) -> bool:
        info = info or self.get_info()
        return info["delete_timestamp"] > info["put_timestamp"] and \
            not info.get(self.COUNT_COLUMN)

    COUNT_COLUMN = "object_count"

    def update_metadata(self, updates: dict[str, list[str]]) -> None:
        if not updates:
            return
        with self.transaction() as cur:
            current = json.loads(cur.execute("SELECT metadata FROM stat").fetchone()[0] or "{}")
            cur.execute("UPDATE stat SET metadata = ?",
                        (json.dumps(merge_metadata(current, updates)),))

    def update_put_timestamp(self, ts: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE stat SET put_timestamp = ?, status_changed_at = ? "
                        "WHERE put_timestamp < ?", (ts, timestamp.now(), ts))

    def mark_deleted(self, ts: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE stat SET delete_timestamp = ?, status_changed_at = ? "
                        "WHERE delete_timestamp < ?", (ts, timestamp.now(), ts))

    # ------------------------------------------------------------ replication
    def max_row(self) -> int:
        with self.lock:
            row = self.conn.execute(f"SELECT MAX(ROWID) FROM {self.ITEM_TABLE}").fetchone()
        return row[0] or 0

    def replication_info(self) -> dict[str, Any]:
        """What a peer needs to decide what to push: identity, hash, sync points."""
        info = self.get_info()
        with self.lock:
            points = dict(self.conn.execute(
                "SELECT remote_id, sync_point FROM incoming_sync").fetchall())
        info["max_row"] = self.max_row()
        info["sync_points"] = points
        return info

    def items_since(self, start: int, limit: int) -> list[dict[str, Any]]:
        """Rows with ROWID > start, oldest first, with their ROWID."""
        columns = ", ".join(("ROWID",) + self.ITEM_COLUMNS)
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {columns} FROM {self.ITEM_TABLE} WHERE ROWID > ? "
                f"ORDER BY ROWID LIMIT ?", (start, limit)).fetchall()
        keys = ("ROWID",) + self.ITEM_COLUMNS
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def merge_stat(self, remote: dict[str, Any]) -> None:
        """Fold a peer's timestamps and metadata into ours."""
        with self.transaction() as cur:
            row = cur.execute("SELECT put_timestamp, delete_timestamp, created_at, metadata "
                              "FROM stat").fetchone()
            metadata = merge_metadata(json.loads(row[3] or "{}"),
                                      remote.get("metadata") or {})
            cur.execute("UPDATE stat SET put_timestamp = ?, delete_timestamp = ?, "
                        "created_at = ?, metadata = ?",
                        (max(row[0], remote["put_timestamp"]),
                         max(row[1], remote["delete_timestamp"]),
                         min(row[2], remote["created_at"]), json.dumps(metadata)))

    def record_sync(self, cur: sqlite3.Cursor, source_id: str | None,
                    point: int | None) -> None:
        if source_id and point is not None:
            cur.execute("INSERT OR REPLACE INTO incoming_sync (remote_id, sync_point) "
                        "VALUES (?, ?)", (source_id, point))

    def merge_items(self, rows: list[dict[str, Any]], source_id: str | None = None,
                    sync_point: int | None = None) -> int:
        """Merge rows (newest wins); return how many changed anything."""
        raise NotImplementedError

    def reclaim(self, before: str) -> int:
        """Drop deleted rows older than before; return how many."""
        raise NotImplementedError


class BrokerCache:
    """Open databases of one worker, least recently used closed first."""

    def __init__(self, factory, size: int = 256):
        self.factory = factory
        self.size = size
        self._items: OrderedDict[str, DatabaseBroker] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> DatabaseBroker:
        with self._lock:
            broker = self._items.get(path)
            if broker is not None:
                self._items.move_to_end(path)
                return broker
            broker = self.factory(path)
            self._items[path] = broker
            while len(self._items) > self.size:
                # unreferenced brokers close their connection when collected
                self._items.popitem(last=False)
            return broker

    def forget(self, path: str) -> None:
        with self._lock:
            broker = self._items.pop(path, None)
        if broker is not None:
            broker.close()
