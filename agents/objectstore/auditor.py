"""stratus-object-auditor: reads every stored object, checks it against its ETag and
length, and quarantines corrupt copies (the replicator then restores a good one).

    stratus-object-auditor --config-file /etc/stratus/object-server-1.conf [--once]
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from typing import Any

from agents.objectstore import daemon, filenames
from agents.objectstore.diskfile import DiskFile, DiskFileNotFound, DiskFileQuarantined

LOG = logging.getLogger(__name__)
PROGRAM = "stratus-object-auditor"


class RateLimiter:
    """Sleeps so that at most `rate` units per second pass (0: unlimited)."""

    def __init__(self, rate: float):
        self.rate = rate
        self.started = time.monotonic()
        self.done = 0.0

    def add(self, units: float) -> None:
        if self.rate <= 0:
            return
        self.done += units
        ahead = self.done / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            time.sleep(ahead)


class Auditor(daemon.Daemon):
    """One pass reads every object on every local device."""

    name = "auditor"

    def __init__(self, conf):
        opts = conf.object_auditor
        super().__init__(conf, opts.interval)
        self.ctx = daemon.NodeContext(conf)
        self.bytes_per_second = opts.bytes_per_second
        self.files_per_second = opts.files_per_second

    def run_once(self) -> dict[str, Any]:
        stats: Counter[str] = Counter()
        byte_limit = RateLimiter(self.bytes_per_second)
        file_limit = RateLimiter(self.files_per_second)
        for name in self.ctx.devices.local():
            dev_path = self.ctx.devices.path(name)
            for part, name_hash in _iter_hashes(dev_path):
                stats[self.audit(dev_path, part, name_hash, byte_limit)] += 1
                file_limit.add(1)
        return dict(stats)

    def audit(self, dev_path: str, part: int, name_hash: str, limit: RateLimiter) -> str:
        """Check one object; 'ok', 'quarantined' or 'skipped' (deleted/gone)."""
        df = DiskFile(self.ctx.diskfiles, dev_path, part, name_hash, "")
        try:
            reader = df.open(allow_expired=True)
        except DiskFileQuarantined:
            LOG.error("quarantined %s/%s: unreadable metadata", dev_path, name_hash)
            return "quarantined"
        except DiskFileNotFound:
            return "skipped"
        try:
            for chunk in reader.iter_verified(self.ctx.chunk_size):
                limit.add(len(chunk))
        except DiskFileQuarantined:
            LOG.error("quarantined %s (%s): content does not match its ETag",
                      reader.metadata.get("name"), name_hash)
            return "quarantined"
        return "ok"


def _iter_hashes(dev_path: str):
    root = os.path.join(dev_path, "objects")
    try:
        parts = [p for p in os.listdir(root) if p.isdecimal()]
    except FileNotFoundError:
        return
    for part in parts:
        part_dir = os.path.join(root, part)
        try:
            suffixes = [s for s in os.listdir(part_dir) if filenames.is_suffix(s)]
        except FileNotFoundError:
            continue
        for suffix in suffixes:
            try:
                names = os.listdir(os.path.join(part_dir, suffix))
            except FileNotFoundError:
                continue
            for name_hash in names:
                if filenames.is_hash(name_hash):
                    yield int(part), name_hash


def main(argv: list[str] | None = None) -> int:
    return daemon.main(Auditor, PROGRAM, argv)


if __name__ == "__main__":
    sys.exit(main())
