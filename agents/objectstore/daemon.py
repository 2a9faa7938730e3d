"""What every background daemon of a node shares: its devices, rings and peers, and
the run_once / run_forever loop with a ``--once`` flag (tests run one pass)."""

from __future__ import annotations

import logging
import random
import signal
import sys
import threading
import time
from typing import Any

from oslo_config import cfg

from agents.objectstore import conf as node_conf
from agents.objectstore.devices import Devices, DeviceUnavailable, my_ips, ring_devices
from agents.objectstore.diskfile import DiskFileManager
from agents.objectstore.rings import NodeRings
from common import log
from common.objectstore import httpclient

LOG = logging.getLogger(__name__)


class NodeContext:
    """A node's devices, rings and connection pool, as its config describes them."""

    def __init__(self, conf: cfg.ConfigOpts, node_timeout: float | None = None):
        opts = conf.object_server
        self.conf = conf
        self.devices = Devices(opts.devices, opts.device_names, opts.mount_check)
        self.rings = NodeRings(conf)
        self.pool = httpclient.Pool(opts.conn_timeout, node_timeout or opts.node_timeout)
        self.ips = my_ips(opts.bind_host, opts.ring_ips)
        self.port = opts.bind_port
        self.reclaim_age = opts.reclaim_age
        self.chunk_size = opts.chunk_size
        self.diskfiles = DiskFileManager(self.devices, fsync=opts.fsync,
                                         chunk_size=opts.chunk_size,
                                         reclaim_age=opts.reclaim_age)

    def local_devices(self, kind: str) -> list[tuple[dict[str, Any], str]]:
        """(ring device, directory) of this node's devices in the kind's ring."""
        out = []
        try:
            ring = self.rings.get(kind)
        except OSError as exc:
            LOG.error("cannot load the %s ring: %s", kind, exc)
            return out
        for dev in ring_devices(ring, self.ips, self.port):
            try:
                out.append((dev, self.devices.path(dev["device"])))
            except DeviceUnavailable:
                LOG.warning("device %s is not available; skipping it", dev["device"])
        return out


class Daemon:
    """A periodic job: run_once does one full pass; run_forever repeats it."""

    name = "daemon"

    def __init__(self, conf: cfg.ConfigOpts, interval: float):
        self.conf = conf
        self.interval = interval
        self.stop = threading.Event()

    def run_once(self) -> dict[str, Any]:
        raise NotImplementedError

    def run_forever(self) -> None:
        """Pass after pass until SIGTERM, sleeping interval ±10% between passes so
        the nodes of a cluster do not all work at the same moment."""
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                stats = self.run_once()
                LOG.info("%s pass done in %.1fs: %s", self.name,
                         time.monotonic() - started, stats)
            except Exception:  # noqa: BLE001 - log and try again next pass
                LOG.exception("%s pass failed", self.name)
            self.stop.wait(self.interval * random.uniform(0.9, 1.1))


ONCE = cfg.BoolOpt("once", default=False, help="Run one pass and exit.")


def main(daemon_cls, program: str, argv: list[str] | None = None) -> int:
    """Entry point of a node daemon: parse config, then one pass or forever."""
    conf = node_conf.make(sys.argv[1:] if argv is None else argv, program, [ONCE])
    log.setup(conf, program)
    daemon = daemon_cls(conf)
    if conf.once:
        stats = daemon.run_once()
        LOG.info("%s: %s", program, stats)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop.set())
    signal.signal(signal.SIGINT, lambda *_: daemon.stop.set())
    daemon.run_forever()
    return 0
