"""stratus-object-updater: sends the container updates object servers had to defer,
and the container counts account servers have not heard yet.

    stratus-object-updater --config-file /etc/stratus/object-server-1.conf [--once]
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections import Counter
from typing import Any

from agents.objectstore import daemon, pending
from agents.objectstore.containerdb import ContainerBroker
from agents.objectstore.dbreplicator import iter_databases
from agents.objectstore.updates import report_container, ring_targets, send_row

LOG = logging.getLogger(__name__)
PROGRAM = "stratus-object-updater"


class Updater(daemon.Daemon):
    """One pass drains every pending record and reports every stale container."""

    name = "updater"

    def __init__(self, conf):
        opts = conf.object_updater
        super().__init__(conf, opts.interval)
        self.ctx = daemon.NodeContext(conf, node_timeout=opts.node_timeout)
        self.timeout = opts.node_timeout

    def run_once(self) -> dict[str, Any]:
        stats: Counter[str] = Counter()
        for name in self.ctx.devices.local():
            dev_path = self.ctx.devices.path(name)
            for path, record in pending.iter_records(dev_path):
                stats[self.send(path, record)] += 1
        for _dev, dev_path in self.ctx.local_devices("container"):
            for _part, _hash, path in iter_databases(dev_path, "containers"):
                broker = ContainerBroker(path)
                try:
                    if report_container(self.ctx.pool, self.ctx.rings, broker, self.timeout):
                        stats["containers_reported"] += 1
                    else:
                        stats["container_report_failures"] += 1
                finally:
                    broker.close()
        return dict(stats)

    def send(self, path: str, record: dict[str, Any] | None) -> str:
        """Deliver one pending update to every container replica; remove it when done."""
        if record is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return "unreadable"
        try:
            targets = ring_targets(self.ctx.rings, "container", record["account"],
                                   record["container"])
        except OSError:
            return "no_ring"
        done = set(record.get("successes", []))
        row_path = f"/{record['account']}/{record['container']}/{record['obj']}"
        for target in targets:
            key = f"{target[0]}:{target[1]}/{target[2]}"
            if key in done:
                continue
            if send_row(self.ctx.pool, target, "container", record["op"], row_path,
                        record["headers"], self.timeout):
                done.add(key)
        if len(done) >= len(targets):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return "sent"
        record["successes"] = sorted(done)
        pending.update(path, record)
        return "retry"


def main(argv: list[str] | None = None) -> int:
    return daemon.main(Updater, PROGRAM, argv)


if __name__ == "__main__":
    sys.exit(main())
