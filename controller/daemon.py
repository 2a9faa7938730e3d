"""The plain loop every controller back-end daemon runs: serve RPC, heartbeat, stop on TERM.

A daemon may also name a periodic task (the conductor's reconciliation): it runs in its
own thread, every interval plus up to 10% random jitter (so several copies of the daemon
spread out), and a failing pass is logged and retried at the next interval.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import signal
import threading
from collections.abc import Callable
from typing import Any

from common import log, messaging
from common.context import current_request_id, new_request_id
from controller import conf as controller_conf
from controller import services
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Periodic:
    """A task to run every interval(conf) seconds while the daemon runs."""

    task: Callable[[Runtime], Any]
    interval: Callable[[Any], float]


def periodic_loop(rt: Runtime, periodic: Periodic, stop: threading.Event) -> None:
    """Run periodic.task until stop is set; the first pass waits one interval, so a
    restarted daemon lets the agents report before judging them."""
    while not stop.wait(periodic.interval(rt.conf) * (1 + random.uniform(0, 0.1))):
        current_request_id.set(new_request_id())
        try:
            periodic.task(rt)
        except Exception:  # noqa: BLE001 - a failed pass must not end the loop
            LOG.exception("periodic task %s failed; retrying next interval",
                          getattr(periodic.task, "__qualname__", periodic.task))


Extra = Callable[[Runtime], list[tuple[str, list[Any]]]]


def run(program: str, topic: Callable[[Any], str],
        endpoints: Callable[[Runtime], list[Any]], argv: list[str] | None,
        periodic: Periodic | None = None, extra: Extra | None = None) -> int:
    """Run program until SIGTERM/SIGINT: an RPC server on topic plus a heartbeat (and
    periodic, when given, in a thread of its own). extra: more (topic, endpoints) this
    daemon serves, e.g. the network and volume agents' reports in the conductor."""
    conf = controller_conf.make(argv if argv is not None else [], program)
    log.setup(conf, program)
    rt = Runtime.from_conf(conf)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    servers = [messaging.rpc_server(conf, topic(conf), endpoints(rt))]
    for extra_topic, extra_endpoints in (extra(rt) if extra else []):
        servers.append(messaging.rpc_server(conf, extra_topic, extra_endpoints))
        LOG.info("%s also serves topic %s", program, extra_topic)
    for server in servers:
        server.start()
    worker = None
    if periodic is not None:
        worker = threading.Thread(target=periodic_loop, args=(rt, periodic, stop),
                                  name=f"{program}-periodic", daemon=True)
        worker.start()
    LOG.info("%s started on host %s, topic %s", program, conf.host, topic(conf))
    while not stop.is_set():
        try:
            services.report(rt, conf.host, program, topic(conf))
        except Exception:  # noqa: BLE001 - a DB outage must not kill the daemon
            LOG.exception("heartbeat failed; will retry")
        stop.wait(conf.service.report_interval)
    LOG.info("%s stopping", program)
    if worker is not None:
        worker.join(timeout=30)
    for server in servers:
        server.stop()
    for server in servers:
        server.wait()
    messaging.cleanup()
    return 0
