"""stratus-object-replicator: restores missing or stale replicas of objects, accounts
and containers on the ring's primary nodes, and moves handoff data home.

    stratus-object-replicator --config-file /etc/stratus/object-server-1.conf [--once]
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agents.objectstore import daemon
from agents.objectstore.dbreplicator import DatabaseReplicator
from agents.objectstore.objreplicator import ObjectReplicator

LOG = logging.getLogger(__name__)
PROGRAM = "stratus-object-replicator"


class Replicator(daemon.Daemon):
    """One pass: every local database, then every local object partition."""

    name = "replicator"

    def __init__(self, conf):
        opts = conf.object_replicator
        super().__init__(conf, opts.interval)
        self.ctx = daemon.NodeContext(conf, node_timeout=opts.node_timeout)
        self.concurrency = opts.concurrency
        self.handoff_delete = opts.handoff_delete
        self.db_batch = conf.object_server.max_db_rows_per_push

    def run_once(self) -> dict[str, Any]:
        dbs = DatabaseReplicator(self.ctx, self.db_batch)
        objects = ObjectReplicator(self.ctx, self.handoff_delete)
        with ThreadPoolExecutor(self.concurrency) as pool:
            list(pool.map(lambda job: self._guard(dbs.replicate, *job), dbs.jobs()))
            list(pool.map(lambda job: self._guard(objects.replicate, *job), objects.jobs()))
        return dict(Counter(dbs.stats) + Counter(objects.stats))

    @staticmethod
    def _guard(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - one bad partition must not stop the pass
            LOG.exception("replication job %s failed", args[1:3])


def main(argv: list[str] | None = None) -> int:
    return daemon.main(Replicator, PROGRAM, argv)


if __name__ == "__main__":
    sys.exit(main())
