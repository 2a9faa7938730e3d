"""Object replication: make every primary hold the newest files of each partition.

For each partition on a local device, compare suffix hashes with each other primary;
for suffixes that differ, list the remote hash directories and push (HTTP PUT) the
files the remote lacks or has older versions of, then ask it to rehash those
suffixes. A partition on a handoff device is pushed to all primaries and removed
once they all have it. A wiped disk is refilled by its peers this way.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import Counter
from typing import Any

from agents.objectstore import filenames, hashes
from agents.objectstore.daemon import NodeContext
from agents.objectstore.replication_api import is_newer, suffix_listing
from common.objectstore import httpclient

LOG = logging.getLogger(__name__)


class PeerError(Exception):
    """A peer could not be asked or did not accept a push."""


class ObjectReplicator:
    """Pushes one node's object partitions to the other replicas."""

    def __init__(self, ctx: NodeContext, handoff_delete: bool = True):
        self.ctx = ctx
        self.handoff_delete = handoff_delete
        self.stats: Counter[str] = Counter()

    def jobs(self) -> list[tuple[dict[str, Any], str, int]]:
        """(device, device dir, partition) of every local object partition."""
        out = []
        for dev, dev_path in self.ctx.local_devices("object"):
            try:
                parts = os.listdir(os.path.join(dev_path, "objects"))
            except FileNotFoundError:
                continue
            out += [(dev, dev_path, int(p)) for p in parts if p.isdecimal()]
        return out

    def replicate(self, dev: dict[str, Any], dev_path: str, part: int) -> None:
        """Bring every other primary of part up to date with this copy."""
        ring = self.ctx.rings.get("object")
        part_dir = os.path.join(dev_path, "objects", str(part))
        primaries = ring.get_part_nodes(part)
        is_primary = any(n["id"] == dev["id"] for n in primaries)
        local = hashes.get_hashes(part_dir, reclaim_age=self.ctx.reclaim_age)
        all_ok = True
        for node in primaries:
            if node["id"] == dev["id"]:
                continue
            try:
                self.sync(node, part, part_dir, local)
            except (PeerError, httpclient.BackendError) as exc:
                all_ok = False
                self.stats["peer_errors"] += 1
                LOG.warning("replicating partition %s to %s:%s/%s: %s", part, node["ip"],
                            node["port"], node["device"], exc)
        self.stats["partitions"] += 1
        if not is_primary:
            self.stats["handoff_partitions"] += 1
            if all_ok and self.handoff_delete:
                shutil.rmtree(part_dir, ignore_errors=True)
                self.stats["handoffs_removed"] += 1

    def _get_json(self, node: dict[str, Any], path: str, query: str = "") -> Any:
        resp = httpclient.request(self.ctx.pool, node["ip"], node["port"], "GET",
                                  httpclient.quote_path(path) + query)
        body = resp.read()
        if resp.status != 200:
            raise PeerError(f"GET {path}: {resp.status}")
        return json.loads(body)

    def sync(self, node: dict[str, Any], part: int, part_dir: str,
             local: dict[str, str]) -> None:
        """Push what node lacks of this partition.

        :raises PeerError: node refused something. :raises BackendError: unreachable.
        """
        base = f"/replicate/objects/{node['device']}/{part}"
        remote = self._get_json(node, base)
        suffixes = [s for s, h in local.items() if remote.get(s) != h]
        if not suffixes:
            return
        for suffix in suffixes:
            theirs = self._get_json(node, f"{base}/{suffix}")
            for name_hash, files in suffix_listing(part_dir, suffix).items():
                have = list(theirs.get(name_hash, []))
                for filename in sorted(files, key=lambda f: f.endswith(filenames.META)):
                    if is_newer(have, filename):
                        self.push(node, f"{base}/{suffix}/{name_hash}/{filename}",
                                  os.path.join(part_dir, suffix, name_hash, filename))
                        have.append(filename)
        self._get_json(node, base, f"?recalc={','.join(suffixes)}")
        self.stats["suffixes_synced"] += len(suffixes)

    def push(self, node: dict[str, Any], path: str, local_file: str) -> None:
        """PUT one file to node, streamed with its length."""
        try:
            handle = open(local_file, "rb")
        except FileNotFoundError:
            return  # replaced or quarantined since listing; the next pass sees it
        with handle:
            size = os.fstat(handle.fileno()).st_size
            conn = httpclient.begin(self.ctx.pool, node["ip"], node["port"], "PUT",
                                    httpclient.quote_path(path),
                                    {"Content-Length": str(size)})
            try:
                while chunk := handle.read(self.ctx.chunk_size):
                    conn.send(chunk)
            except OSError as exc:
                conn.close()
                raise httpclient.BackendError(f"pushing {path}: {exc}") from exc
        resp = httpclient.finish(self.ctx.pool, conn)
        resp.read()
        if resp.status == 409:  # it got a newer copy meanwhile
            return
        if resp.status != 201:
            raise PeerError(f"PUT {path}: {resp.status}")
        self.stats["files_pushed"] += 1
