"""Updates a node sends to other nodes after a write.

* object server -> container servers: the object row (PUT) or its deletion; on
  failure the update is saved for the updater (``pending``);
* container server -> account servers: container counts, coalesced: writes only
  mark a container dirty and a background thread reports every
  ``account_update_interval`` seconds (the updater's sweep catches what it missed).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from agents.objectstore import pending
from agents.objectstore.containerdb import ContainerBroker, needs_report
from agents.objectstore.rings import NodeRings
from common.objectstore import httpclient, timestamp

LOG = logging.getLogger(__name__)


def parse_targets(host_header: str | None, device_header: str | None,
                  part_header: str | None) -> list[tuple[str, int, str, int]]:
    """X-Container-Host/-Device/-Partition (comma-separated) -> [(ip, port, dev, part)]."""
    if not host_header or not device_header or part_header is None:
        return []
    targets = []
    for host, device in zip(host_header.split(","), device_header.split(","), strict=False):
        ip, _, port = host.strip().rpartition(":")
        targets.append((ip.strip("[]"), int(port), device.strip(), int(part_header)))
    return targets


def ring_targets(rings: NodeRings, kind: str, account: str,
                 container: str | None = None) -> list[tuple[str, int, str, int]]:
    ring = rings.get(kind)
    part, nodes = ring.get_nodes(account, container)
    return [(n["ip"], n["port"], n["device"], part) for n in nodes]


def send_row(pool: httpclient.Pool, target: tuple[str, int, str, int], kind: str, op: str,
             path: str, headers: dict[str, str], timeout: float) -> bool:
    """One container/account row update; True when the target has it (2xx or 404:
    a container that is gone needs no rows; replication brings rows to late ones).

    kind ('container' or 'account') tells the node which server the row is for: one
    process serves all three, and the paths alone are ambiguous.
    """
    ip, port, device, part = target
    try:
        resp = httpclient.request(pool, ip, port, op,
                                  httpclient.quote_path(f"/{device}/{part}{path}"),
                                  {**headers, "X-Backend-Server-Type": kind},
                                  io_timeout=timeout)
        resp.read()
    except httpclient.BackendError as exc:
        LOG.warning("update %s %s to %s:%s/%s failed: %s", op, path, ip, port, device, exc)
        return False
    if resp.status // 100 == 2 or resp.status == 404:
        return True
    LOG.warning("update %s %s to %s:%s/%s: %s", op, path, ip, port, device, resp.status)
    return False


class ContainerUpdater:
    """Tells container servers about object writes, deferring what fails."""

    def __init__(self, pool: httpclient.Pool, rings: NodeRings, timeout: float,
                 fsync: bool = True, local: set[tuple[str, int]] | None = None,
                 apply_local=None):
        self.pool = pool
        self.rings = rings
        self.timeout = timeout
        self.fsync = fsync
        self.local = local or set()      # (ip, port) under which this node is known
        self.apply_local = apply_local   # f(target, op, account, container, obj, headers)

    def _send(self, target: tuple[str, int, str, int], op: str, account: str,
              container: str, obj: str, row_headers: dict[str, str]) -> bool:
        if self.apply_local is not None and (target[0], target[1]) in self.local:
            try:
                return self.apply_local(target, op, account, container, obj, row_headers)
            except Exception:  # noqa: BLE001 - fall back to the pending record
                LOG.exception("local container update of %s/%s/%s failed", account,
                              container, obj)
                return False
        return send_row(self.pool, target, "container", op, f"/{account}/{container}/{obj}",
                        row_headers, self.timeout)

    def update(self, dev_path: str, name_hash: str, op: str, account: str, container: str,
               obj: str, row_headers: dict[str, str],
               targets: list[tuple[str, int, str, int]]) -> None:
        """Send op (PUT/DELETE) for the object row to targets (all container
        replicas when the proxy named none); save a pending record on failure."""
        if not targets:
            try:
                targets = ring_targets(self.rings, "container", account, container)
            except OSError:
                targets = []
        ok = bool(targets) and all(
            [self._send(t, op, account, container, obj, row_headers) for t in targets])
        if not ok:
            pending.save(dev_path, name_hash, {
                "op": op, "account": account, "container": container, "obj": obj,
                "headers": row_headers}, fsync=self.fsync)


def account_row_headers(info: dict[str, Any]) -> dict[str, str]:
    return {"X-Put-Timestamp": info["put_timestamp"],
            "X-Delete-Timestamp": info["delete_timestamp"],
            "X-Object-Count": str(info["object_count"]),
            "X-Bytes-Used": str(info["bytes_used"]),
            "X-Stats-Timestamp": timestamp.now()}


def report_container(pool: httpclient.Pool, rings: NodeRings, broker: ContainerBroker,
                     timeout: float, targets: list[tuple[str, int, str, int]] | None = None,
                     force: bool = False) -> bool:
    """Send a container's counts to its account servers; True when all have them."""
    info = broker.get_info()
    if not force and not needs_report(info):
        return True
    if not targets:
        try:
            targets = ring_targets(rings, "account", info["account"])
        except OSError:
            return False
    headers = account_row_headers(info)
    path = f"/{info['account']}/{info['container']}"
    results = [send_row(pool, t, "account", "PUT", path, headers, timeout) for t in targets]
    if all(results):
        broker.mark_reported(info)
        return True
    return False


class AccountReporter:
    """Background thread pushing dirty containers' counts to the account servers."""

    def __init__(self, pool: httpclient.Pool, rings: NodeRings, brokers, interval: float,
                 timeout: float):
        self.pool = pool
        self.rings = rings
        self.brokers = brokers
        self.interval = interval
        self.timeout = timeout
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def mark(self, db_path: str) -> None:
        with self._lock:
            self._dirty.add(db_path)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="account-reporter",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                dirty, self._dirty = self._dirty, set()
            for path in dirty:
                try:
                    report_container(self.pool, self.rings, self.brokers.get(path),
                                     self.timeout)
                except Exception:  # noqa: BLE001 - the updater's sweep retries
                    LOG.exception("reporting container %s failed", path)
