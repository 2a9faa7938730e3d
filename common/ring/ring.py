"""Read-only ring lookup for the proxy and the storage nodes.

A Ring wraps a ring file. Lookups check at most every ``reload_interval`` seconds
whether the file changed (mtime and size) and swap in the new table atomically, so
``stratus-manage ring rebalance`` takes effect without restarting any daemon.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from common.ring.hashing import hash_path, partition_of
from common.ring.serialization import NONE_DEV, RingData, read_ring

LOG = logging.getLogger(__name__)


class _Table:
    """One immutable snapshot of a ring file."""

    def __init__(self, data: RingData):
        self.data = data
        self.part_shift = 32 - data.part_power
        self.devs = data.devs
        self.rows = data.replica2part2dev
        self.live_devs = [d for d in data.devs if d is not None and d.get("weight", 0) > 0]


class Ring:
    """Lookup of the devices holding an account, container or object."""

    def __init__(self, path: str | None = None, *, hash_prefix: str = "",
                 hash_suffix: str = "", reload_interval: float = 15.0,
                 data: RingData | None = None):
        """Load path (or use data, for tests); raise OSError/RingFileError if unreadable."""
        self.path = path
        self.hash_prefix = hash_prefix
        self.hash_suffix = hash_suffix
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._next_check = 0.0
        if data is not None:
            self._table = _Table(data)
        else:
            if path is None:
                raise ValueError("a Ring needs a path or data")
            self._table = self._load()

    # ---------------------------------------------------------------- loading
    def _load(self) -> _Table:
        assert self.path is not None
        st = os.stat(self.path)
        table = _Table(read_ring(self.path))
        self._stamp = (st.st_mtime, st.st_size)
        return table

    def _current(self) -> _Table:
        if self.path is None:
            return self._table
        now = time.monotonic()
        if now < self._next_check:
            return self._table
        with self._lock:
            if now < self._next_check:
                return self._table
            self._next_check = now + self.reload_interval
            try:
                st = os.stat(self.path)
                if (st.st_mtime, st.st_size) != self._stamp:
                    self._table = self._load()
                    LOG.info("reloaded ring %s (version %s)", self.path,
                             self._table.data.version)
            except Exception:  # noqa: BLE001 - keep serving the old ring
                LOG.exception("could not reload ring %s; keeping the loaded one", self.path)
        return self._table

    # ---------------------------------------------------------------- properties
    @property
    def replica_count(self) -> int:
        return self._current().data.replicas

    @property
    def partition_count(self) -> int:
        return self._current().data.partition_count

    @property
    def part_power(self) -> int:
        return self._current().data.part_power

    @property
    def devs(self) -> list[dict[str, Any] | None]:
        return self._current().devs

    @property
    def version(self) -> int:
        return self._current().data.version

    # ---------------------------------------------------------------- lookups
    def hash_of(self, account: str, container: str | None = None,
                obj: str | None = None) -> str:
        """The salted name hash (also names the on-disk directory of the item)."""
        return hash_path(account, container, obj, prefix=self.hash_prefix,
                         suffix=self.hash_suffix)

    def get_part(self, account: str, container: str | None = None,
                 obj: str | None = None) -> int:
        """The partition an account, container or object lives in."""
        return partition_of(self.hash_of(account, container, obj), self._current().part_shift)

    def part_of_hash(self, hex_hash: str) -> int:
        return partition_of(hex_hash, self._current().part_shift)

    def get_part_nodes(self, part: int) -> list[dict[str, Any]]:
        """The primary devices of a partition, one per replica, none repeated."""
        table = self._current()
        seen: set[int] = set()
        nodes = []
        for row in table.rows:
            dev_id = row[part]
            if dev_id != NONE_DEV and dev_id not in seen:
                seen.add(dev_id)
                dev = table.devs[dev_id]
                if dev is not None:
                    nodes.append(dev)
        return nodes

    def get_nodes(self, account: str, container: str | None = None,
                  obj: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """(partition, primary devices) for a name."""
        part = self.get_part(account, container, obj)
        return part, self.get_part_nodes(part)

    def get_more_nodes(self, part: int) -> Iterator[dict[str, Any]]:
        """Handoff devices for part, best first.

        Devices in regions, then zones, then hosts the primaries do not use come
        first, so a handoff copy survives what took the primary out. Within a group
        the order is a per-partition rendezvous hash: deterministic, and different
        partitions spread their handoffs over different devices.
        """
        table = self._current()
        primaries = self.get_part_nodes(part)
        used_ids = {d["id"] for d in primaries}
        regions = {d["region"] for d in primaries}
        zones = {(d["region"], d["zone"]) for d in primaries}
        hosts = {(d["region"], d["zone"], d["ip"]) for d in primaries}

        def rank(dev: dict[str, Any]) -> tuple[int, bytes]:
            if dev["region"] not in regions:
                tier = 0
            elif (dev["region"], dev["zone"]) not in zones:
                tier = 1
            elif (dev["region"], dev["zone"], dev["ip"]) not in hosts:
                tier = 2
            else:
                tier = 3
            key = hashlib.md5(f"{part}/{dev['id']}".encode(), usedforsecurity=False).digest()
            return tier, key

        candidates = [d for d in table.live_devs if d["id"] not in used_ids]
        yield from sorted(candidates, key=rank)
