"""Account and container database replication over HTTP.

Each database remembers, per peer database id, up to which ROWID it has received
that peer's rows (``incoming_sync``). A replicator asks each other primary for its
info, then pushes its stat (timestamps, metadata) and every row after the sync point
the peer holds for it, in batches; the peer merges newest-wins. A peer without the
database gets all of it. Handoff copies are removed once every primary has them;
deleted rows and databases past reclaim_age are dropped.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from typing import Any

from agents.objectstore import filenames
from agents.objectstore.accountdb import AccountBroker
from agents.objectstore.containerdb import ContainerBroker
from agents.objectstore.daemon import NodeContext
from common.objectstore import httpclient, timestamp

LOG = logging.getLogger(__name__)
KINDS = {"accounts": ("account", AccountBroker), "containers": ("container", ContainerBroker)}
STAT_KEYS = ("account", "container", "created_at", "put_timestamp", "delete_timestamp",
             "status_changed_at", "metadata")


def iter_databases(dev_path: str, kind: str):
    """(partition, name hash, path) of every database of kind on a device."""
    root = os.path.join(dev_path, kind)
    try:
        parts = [p for p in os.listdir(root) if p.isdecimal()]
    except FileNotFoundError:
        return
    for part in parts:
        part_dir = os.path.join(root, part)
        for suffix in os.listdir(part_dir):
            if not filenames.is_suffix(suffix):
                continue
            for name_hash in os.listdir(os.path.join(part_dir, suffix)):
                path = os.path.join(part_dir, suffix, name_hash, name_hash + ".db")
                if os.path.exists(path):
                    yield int(part), name_hash, path


class DatabaseReplicator:
    """Pushes one node's account and container databases to the other replicas."""

    def __init__(self, ctx: NodeContext, batch: int = 1000):
        self.ctx = ctx
        self.batch = batch
        self.stats: Counter[str] = Counter()

    def jobs(self) -> list[tuple[str, dict[str, Any], int, str, str]]:
        out = []
        for kind, (ring_kind, _) in KINDS.items():
            for dev, dev_path in self.ctx.local_devices(ring_kind):
                for part, name_hash, path in iter_databases(dev_path, kind):
                    out.append((kind, dev, part, name_hash, path))
        return out

    def replicate(self, kind: str, dev: dict[str, Any], part: int, name_hash: str,
                  path: str) -> None:
        ring_kind, broker_cls = KINDS[kind]
        broker = broker_cls(path)
        try:
            self._reclaim(broker)
            if not os.path.exists(path):
                return
            ring = self.ctx.rings.get(ring_kind)
            primaries = ring.get_part_nodes(part)
            all_ok = True
            for node in primaries:
                if node["id"] == dev["id"]:
                    continue
                try:
                    self.sync(kind, broker, node, part, name_hash)
                except (httpclient.BackendError, ValueError) as exc:
                    all_ok = False
                    self.stats["peer_errors"] += 1
                    LOG.warning("replicating %s %s to %s:%s/%s: %s", kind, name_hash,
                                node["ip"], node["port"], node["device"], exc)
            self.stats[f"{kind}_checked"] += 1
            if all_ok and not any(n["id"] == dev["id"] for n in primaries):
                broker.close()
                _remove_db(path)
                self.stats["handoff_dbs_removed"] += 1
        finally:
            broker.close()

    def sync(self, kind: str, broker, node: dict[str, Any], part: int, name_hash: str
             ) -> None:
        """Push stat and missing rows to one peer.

        :raises BackendError: the peer is unreachable or refused the push.
        """
        path = httpclient.quote_path(f"/replicate/{kind}/{node['device']}/{part}/{name_hash}")
        resp = httpclient.request(self.ctx.pool, node["ip"], node["port"], "GET", path)
        body = resp.read()
        if resp.status not in (200, 404):
            raise httpclient.BackendError(f"GET {path}: {resp.status}")
        remote = json.loads(body) if resp.status == 200 else None
        info = broker.replication_info()
        point = (remote or {}).get("sync_points", {}).get(info["id"], -1)
        same_stat = remote is not None and all(
            remote.get(k) == info.get(k) for k in ("put_timestamp", "delete_timestamp",
                                                   "metadata"))
        if same_stat and point >= info["max_row"]:
            return
        stat = {k: info.get(k) for k in STAT_KEYS}
        while True:
            rows = broker.items_since(point, self.batch)
            new_point = rows[-1]["ROWID"] if rows else info["max_row"]
            doc = {"info": stat, "rows": rows, "source_id": info["id"],
                   "sync_point": new_point}
            resp = httpclient.request(self.ctx.pool, node["ip"], node["port"], "POST", path,
                                      {"Content-Type": "application/json"},
                                      json.dumps(doc).encode())
            resp.read()
            if resp.status // 100 != 2:
                raise httpclient.BackendError(f"POST {path}: {resp.status}")
            self.stats["rows_pushed"] += len(rows)
            if len(rows) < self.batch:
                return
            point = new_point

    def _reclaim(self, broker) -> None:
        """Drop old deleted rows; drop the whole database once deleted long enough."""
        before = timestamp.normalize(time.time() - self.ctx.reclaim_age)
        broker.reclaim(before)
        info = broker.get_info()
        if broker.is_deleted(info) and info["delete_timestamp"] < before:
            broker.close()
            _remove_db(broker.path)
            self.stats["dbs_reclaimed"] += 1


def _remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    try:
        os.rmdir(os.path.dirname(path))
    except OSError:
        pass
