"""An account's database: its container rows, totals, metadata and sync points."""

from __future__ import annotations

from typing import Any

from agents.objectstore import listing
from agents.objectstore.dbbroker import DatabaseBroker, chexor
from common.objectstore import timestamp

SCHEMA = """
CREATE TABLE container (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    put_timestamp TEXT NOT NULL DEFAULT '0',
    delete_timestamp TEXT NOT NULL DEFAULT '0',
    stats_timestamp TEXT NOT NULL DEFAULT '0',
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_container_deleted_name ON container (deleted, name);
CREATE TABLE stat (
    account TEXT NOT NULL,
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '0',
    delete_timestamp TEXT NOT NULL DEFAULT '0',
    status_changed_at TEXT NOT NULL DEFAULT '0',
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL DEFAULT '0',
    id TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE incoming_sync (remote_id TEXT PRIMARY KEY, sync_point INTEGER NOT NULL);
"""

COLUMNS = ("name", "put_timestamp", "delete_timestamp", "stats_timestamp", "object_count",
           "bytes_used", "deleted")


def _version(row: dict[str, Any] | tuple) -> str:
    """The identity of a container row's state, for the content hash."""
    if isinstance(row, dict):
        return f"{row['put_timestamp']}-{row['delete_timestamp']}-{row['stats_timestamp']}"
    return f"{row[0]}-{row[1]}-{row[2]}"


class AccountBroker(DatabaseBroker):
    """Container rows of one account."""

    KIND = "accounts"
    ITEM_TABLE = "container"
    ITEM_COLUMNS = COLUMNS
    SCHEMA = SCHEMA
    COUNT_COLUMN = "container_count"

    def create(self, account: str, put_timestamp: str) -> bool:
        created = self.initialize({
            "account": account, "created_at": timestamp.now(),
            "put_timestamp": put_timestamp, "status_changed_at": timestamp.now()})
        if not created:
            self.update_put_timestamp(put_timestamp)
        return created

    def merge_items(self, rows: list[dict[str, Any]], source_id: str | None = None,
                    sync_point: int | None = None) -> int:
        """Merge container rows: newest put/delete timestamps, newest stats."""
        changed = 0
        with self.transaction() as cur:
            ccount, ocount, used, digest = cur.execute(
                "SELECT container_count, object_count, bytes_used, hash FROM stat").fetchone()
            hash_int = int(digest, 16)
            for row in rows:
                name = row["name"]
                old = cur.execute(
                    "SELECT put_timestamp, delete_timestamp, stats_timestamp, object_count, "
                    "bytes_used, deleted FROM container WHERE name = ?", (name,)).fetchone()
                new = {"name": name,
                       "put_timestamp": row.get("put_timestamp") or "0",
                       "delete_timestamp": row.get("delete_timestamp") or "0",
                       "stats_timestamp": row.get("stats_timestamp") or "0",
                       "object_count": int(row.get("object_count") or 0),
                       "bytes_used": int(row.get("bytes_used") or 0)}
                if old is not None:
                    new["put_timestamp"] = max(old[0], new["put_timestamp"])
                    new["delete_timestamp"] = max(old[1], new["delete_timestamp"])
                    if old[2] >= new["stats_timestamp"]:
                        new["stats_timestamp"], new["object_count"], new["bytes_used"] = \
                            old[2], old[3], old[4]
                    if _version(new) == _version(old):
                        continue
                new["deleted"] = 1 if new["delete_timestamp"] > new["put_timestamp"] else 0
                if new["deleted"]:
                    new["object_count"] = new["bytes_used"] = 0
                if old is not None:
                    hash_int = chexor(hash_int, name, _version(old))
                    if not old[5]:
                        ccount, ocount, used = ccount - 1, ocount - old[3], used - old[4]
                cur.execute("INSERT OR REPLACE INTO container (name, put_timestamp, "
                            "delete_timestamp, stats_timestamp, object_count, bytes_used, "
                            "deleted) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            tuple(new[c] for c in COLUMNS))
                hash_int = chexor(hash_int, name, _version(new))
                if not new["deleted"]:
                    ccount, ocount, used = ccount + 1, ocount + new["object_count"], \
                        used + new["bytes_used"]
                changed += 1
            if changed:
                cur.execute("UPDATE stat SET container_count = ?, object_count = ?, "
                            "bytes_used = ?, hash = ?",
                            (ccount, ocount, used, format(hash_int, "x")))
            self.record_sync(cur, source_id, sync_point)
        return changed

    def reclaim(self, before: str) -> int:
        with self.transaction() as cur:
            hash_int = int(cur.execute("SELECT hash FROM stat").fetchone()[0], 16)
            gone = cur.execute("SELECT name, put_timestamp, delete_timestamp, stats_timestamp "
                               "FROM container WHERE deleted = 1 AND delete_timestamp < ?",
                               (before,)).fetchall()
            for name, *version in gone:
                hash_int = chexor(hash_int, name, _version(tuple(version)))
            cur.execute("DELETE FROM container WHERE deleted = 1 AND delete_timestamp < ?",
                        (before,))
            cur.execute("UPDATE stat SET hash = ?", (format(hash_int, "x"),))
        return len(gone)

    def list_containers(self, **query: Any) -> list[dict[str, Any]]:
        """Listing entries in Swift's JSON shape."""
        with self.lock:
            items = listing.list_items(
                self.conn, "container",
                ("name", "object_count", "bytes_used", "put_timestamp"), **query)
        out: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, str):
                out.append({"subdir": item})
            else:
                name, count, used, put_ts = item
                out.append({"name": name, "count": count, "bytes": used,
                            "last_modified": timestamp.iso8601(put_ts)})
        return out
