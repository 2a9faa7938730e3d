"""stratus-object-expirer: deletes this node's replicas of objects past X-Delete-At.

Each replica is expired by the node holding it, with a tombstone timestamped at the
X-Delete-At time, so every replica ends with the same tombstone and the container
listing drops the object.

    stratus-object-expirer --config-file /etc/stratus/object-server-1.conf [--once]
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from typing import Any

from agents.objectstore import daemon, expiring
from agents.objectstore.diskfile import DiskFile, DiskFileNotFound
from agents.objectstore.updates import ContainerUpdater
from common.objectstore import timestamp

LOG = logging.getLogger(__name__)
PROGRAM = "stratus-object-expirer"


class Expirer(daemon.Daemon):
    """One pass handles every due queue entry on every local device."""

    name = "expirer"

    def __init__(self, conf):
        super().__init__(conf, conf.object_expirer.interval)
        self.ctx = daemon.NodeContext(conf)
        self.updater = ContainerUpdater(self.ctx.pool, self.ctx.rings,
                                        conf.object_server.node_timeout,
                                        conf.object_server.fsync)

    def run_once(self) -> dict[str, Any]:
        stats: Counter[str] = Counter()
        now = time.time()
        for name in self.ctx.devices.local():
            dev_path = self.ctx.devices.path(name)
            for path, entry in expiring.due(dev_path, now):
                stats[self.expire(dev_path, entry)] += 1
                expiring.remove(path)
        return dict(stats)

    def expire(self, dev_path: str, entry: dict[str, Any]) -> str:
        df = DiskFile(self.ctx.diskfiles, dev_path, entry["partition"], entry["hash"],
                      entry["name"])
        try:
            metadata = df.read_metadata(allow_expired=True)
        except DiskFileNotFound:
            return "gone"
        if str(metadata.get("X-Delete-At")) != str(entry["delete_at"]):
            return "stale"  # re-PUT or POSTed since: the object lives on
        newest = max(float(metadata["X-Timestamp"]),
                     float(metadata.get("X-Data-Timestamp", 0)))
        ts = timestamp.normalize(max(float(entry["delete_at"]), newest + 0.00001))
        df.delete(ts, {"X-Delete-At": str(entry["delete_at"])})
        _, account, container, obj = entry["name"].split("/", 3)
        self.updater.update(dev_path, entry["hash"], "DELETE", account, container, obj,
                            {"X-Timestamp": ts}, [])
        LOG.info("expired %s", entry["name"])
        return "expired"


def main(argv: list[str] | None = None) -> int:
    return daemon.main(Expirer, PROGRAM, argv)


if __name__ == "__main__":
    sys.exit(main())
