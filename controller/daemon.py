"""The plain loop every controller back-end daemon runs: serve RPC, heartbeat, stop on TERM."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from common import log, messaging
from controller import conf as controller_conf
from controller import services
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


def run(program: str, topic: Callable[[Any], str],
        endpoints: Callable[[Runtime], list[Any]], argv: list[str] | None) -> int:
    """Run program until SIGTERM/SIGINT: an RPC server on topic plus a heartbeat."""
    conf = controller_conf.make(argv if argv is not None else [], program)
    log.setup(conf, program)
    rt = Runtime.from_conf(conf)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = messaging.rpc_server(conf, topic(conf), endpoints(rt))
    server.start()
    LOG.info("%s started on host %s, topic %s", program, conf.host, topic(conf))
    while not stop.is_set():
        try:
            services.report(rt, conf.host, program, topic(conf))
        except Exception:  # noqa: BLE001 - a DB outage must not kill the daemon
            LOG.exception("heartbeat failed; will retry")
        stop.wait(conf.service.report_interval)
    LOG.info("%s stopping", program)
    server.stop()
    server.wait()
    messaging.cleanup()
    return 0
