"""A container's database: its object rows, counts, metadata and sync points."""

from __future__ import annotations

from typing import Any

from agents.objectstore import listing
from agents.objectstore.dbbroker import DatabaseBroker, chexor
from common.objectstore import timestamp

SCHEMA = """
CREATE TABLE object (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL DEFAULT '',
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_object_deleted_name ON object (deleted, name);
CREATE TABLE stat (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '0',
    delete_timestamp TEXT NOT NULL DEFAULT '0',
    status_changed_at TEXT NOT NULL DEFAULT '0',
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL DEFAULT '0',
    id TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    reported_put_timestamp TEXT NOT NULL DEFAULT '0',
    reported_delete_timestamp TEXT NOT NULL DEFAULT '0',
    reported_object_count INTEGER NOT NULL DEFAULT -1,
    reported_bytes_used INTEGER NOT NULL DEFAULT -1
);
CREATE TABLE incoming_sync (remote_id TEXT PRIMARY KEY, sync_point INTEGER NOT NULL);
"""

COLUMNS = ("name", "created_at", "size", "content_type", "etag", "deleted")


class ContainerBroker(DatabaseBroker):
    """Object rows of one container."""

    KIND = "containers"
    ITEM_TABLE = "object"
    ITEM_COLUMNS = COLUMNS
    SCHEMA = SCHEMA
    COUNT_COLUMN = "object_count"

    def create(self, account: str, container: str, put_timestamp: str) -> bool:
        """Create (True) or, if it exists, just bring put_timestamp forward (False)."""
        created = self.initialize({
            "account": account, "container": container, "created_at": timestamp.now(),
            "put_timestamp": put_timestamp, "status_changed_at": timestamp.now()})
        if not created:
            self.update_put_timestamp(put_timestamp)
        return created

    def merge_items(self, rows: list[dict[str, Any]], source_id: str | None = None,
                    sync_point: int | None = None) -> int:
        changed = 0
        with self.transaction() as cur:
            count, used, digest = cur.execute(
                "SELECT object_count, bytes_used, hash FROM stat").fetchone()
            hash_int = int(digest, 16)
            for row in rows:
                name, created_at = row["name"], row["created_at"]
                old = cur.execute("SELECT created_at, size, deleted FROM object WHERE name = ?",
                                  (name,)).fetchone()
                if old is not None:
                    if old[0] >= created_at:
                        continue
                    hash_int = chexor(hash_int, name, old[0])
                    if not old[2]:
                        count -= 1
                        used -= old[1]
                deleted = 1 if row.get("deleted") else 0
                size = 0 if deleted else int(row.get("size") or 0)
                cur.execute("INSERT OR REPLACE INTO object (name, created_at, size, "
                            "content_type, etag, deleted) VALUES (?, ?, ?, ?, ?, ?)",
                            (name, created_at, size, row.get("content_type") or "",
                             row.get("etag") or "", deleted))
                hash_int = chexor(hash_int, name, created_at)
                if not deleted:
                    count += 1
                    used += size
                changed += 1
            if changed:
                cur.execute("UPDATE stat SET object_count = ?, bytes_used = ?, hash = ?",
                            (count, used, format(hash_int, "x")))
            self.record_sync(cur, source_id, sync_point)
        return changed

    def reclaim(self, before: str) -> int:
        with self.transaction() as cur:
            digest = cur.execute("SELECT hash FROM stat").fetchone()[0]
            hash_int = int(digest, 16)
            gone = cur.execute("SELECT name, created_at FROM object WHERE deleted = 1 "
                               "AND created_at < ?", (before,)).fetchall()
            for name, created_at in gone:
                hash_int = chexor(hash_int, name, created_at)
            cur.execute("DELETE FROM object WHERE deleted = 1 AND created_at < ?", (before,))
            cur.execute("UPDATE stat SET hash = ?", (format(hash_int, "x"),))
        return len(gone)

    def list_objects(self, **query: Any) -> list[dict[str, Any]]:
        """Listing entries in Swift's JSON shape (subdirs as {"subdir": ...})."""
        with self.lock:
            items = listing.list_items(
                self.conn, "object", ("name", "created_at", "size", "content_type", "etag"),
                **query)
        out: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, str):
                out.append({"subdir": item})
            else:
                name, created_at, size, content_type, etag = item
                out.append({"name": name, "hash": etag, "bytes": size,
                            "content_type": content_type,
                            "last_modified": timestamp.iso8601(created_at)})
        return out

    def mark_reported(self, info: dict[str, Any]) -> None:
        """Remember which counts the account servers have seen."""
        with self.transaction() as cur:
            cur.execute("UPDATE stat SET reported_put_timestamp = ?, "
                        "reported_delete_timestamp = ?, reported_object_count = ?, "
                        "reported_bytes_used = ?",
                        (info["put_timestamp"], info["delete_timestamp"],
                         info["object_count"], info["bytes_used"]))


def needs_report(info: dict[str, Any]) -> bool:
    """Have the counts or timestamps changed since the account servers last heard?"""
    return (info["put_timestamp"], info["delete_timestamp"], info["object_count"],
            info["bytes_used"]) != (info["reported_put_timestamp"],
                                    info["reported_delete_timestamp"],
                                    info["reported_object_count"],
                                    info["reported_bytes_used"])
