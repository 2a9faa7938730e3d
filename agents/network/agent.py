"""What the network agents share: the reconcile loop, notifications, heartbeats.

STYLE item 8: a notification only marks what to look at; the loop fetches the desired
state from the network service and converges the host on it. Marks coalesce (ten
notifications about one port cost one fetch), a full resync runs at start, every
``resync_interval`` (±10%) and after any failure, and failures back off exponentially.
``run_once`` is one deterministic pass for tests and ``--once``.
"""

from __future__ import annotations

import logging
import random
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from oslo_config import cfg

from agents.network import conf as agent_conf
from common import log, messaging
from common.context import RequestContext, current_request_id
from common.rpc.network import NetworkServerAPI

LOG = logging.getLogger(__name__)

MAX_BACKOFF = 60.0


class Agent:
    """Base of the OVS, DHCP and L3 agents; subclasses implement ``sync``."""

    binary = "stratus-network-agent"
    agent_type = "Network agent"
    topic_option = ""  # the [network_rpc] option naming this agent's fanout topic

    def __init__(self, conf: cfg.ConfigOpts, server: Any = None):
        self.conf = conf
        self.host = conf.host
        self.server = server if server is not None else NetworkServerAPI(conf)
        self.stop = threading.Event()
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._full = True
        self._request_id: str | None = None
        self._rpc_server: Any = None
        self.last_sync: dict[str, Any] = {}
        self.syncs = 0  # successful passes, for tests and the heartbeat

    # -- what subclasses provide --------------------------------------------------------

    @property
    def resync_interval(self) -> float:
        raise NotImplementedError

    @property
    def poll_interval(self) -> float:
        return 1.0

    def sync(self, ctx: RequestContext, ids: set[str] | None) -> dict[str, Any]:
        """Converge the host: everything (ids None) or what ids name.

        :raises Exception: anything; the loop retries with a full resync.
        """
        raise NotImplementedError

    def poll(self) -> None:
        """Look at the host for changes nobody notifies (new taps...); mark them."""

    def configurations(self) -> dict[str, Any]:
        return {}

    def endpoints(self) -> list[Any]:
        return []

    # -- marks ---------------------------------------------------------------------

    def mark(self, ids: Iterable[str], ctx: RequestContext | None = None) -> None:
        """Ask for a partial sync of ids (coalesced with what is pending)."""
        with self._lock:
            self._dirty.update(ids)
            if ctx is not None and self._request_id is None:
                self._request_id = ctx.request_id
        self.wake.set()

    def mark_full(self) -> None:
        with self._lock:
            self._full = True
        self.wake.set()

    def pending(self) -> bool:
        with self._lock:
            return self._full or bool(self._dirty)

    def run_once(self) -> dict[str, Any]:
        """One pass over what is pending (a full resync the first time).

        :raises Exception: the pass failed; what it covered stays pending, as a full
            resync.
        """
        with self._lock:
            full, ids, request_id = self._full, set(self._dirty), self._request_id
            self._full, self._dirty, self._request_id = False, set(), None
        ctx = RequestContext.admin()
        if request_id:  # log lines of this pass carry the request that caused it
            ctx.global_request_id = request_id
        token = current_request_id.set(ctx.request_id)
        started = time.monotonic()
        try:
            stats = self.sync(ctx, None if full else ids)
        except Exception:
            self.mark_full()
            raise
        finally:
            current_request_id.reset(token)
        stats["seconds"] = round(time.monotonic() - started, 3)
        stats["full"] = full
        self.last_sync = stats
        self.syncs += 1
        level = logging.DEBUG if stats.pop("changed", True) is False else logging.INFO
        LOG.log(level, "%s %s sync done (caused by %s): %s", self.binary,
                "full" if full else "partial", request_id or "the agent", stats)
        return stats

    # -- the daemon ---------------------------------------------------------------

    def report_state(self) -> None:
        try:
            self.server.report_state(RequestContext.admin(), self.host, self.binary,
                                     self.agent_type, self.configurations())
        except Exception:  # noqa: BLE001 - a missed heartbeat is not fatal
            LOG.warning("heartbeat to the network service failed", exc_info=True)

    def start_rpc(self) -> None:
        """Listen for this agent's fanout notifications."""
        if not self.topic_option:
            return
        topic = getattr(self.conf.network_rpc, self.topic_option)
        self._rpc_server = messaging.rpc_server(self.conf, topic, self.endpoints(),
                                                server=self.host)
        self._rpc_server.start()

    def stop_rpc(self) -> None:
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server.wait()
            self._rpc_server = None

    def run_forever(self) -> None:
        """Passes until stop is set: a full resync at start, every resync_interval and
        after failures (backing off up to a minute), partial ones when marked."""
        self.start_rpc()
        backoff = 1.0
        next_full = 0.0
        next_report = 0.0
        report_interval = self.conf.service.report_interval
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                if now >= next_report:
                    self.report_state()
                    next_report = now + report_interval
                if now >= next_full:
                    self.mark_full()
                    next_full = now + self.resync_interval * random.uniform(0.9, 1.1)
                try:
                    self.poll()
                    if self.pending():
                        self.run_once()
                    backoff = 1.0
                except Exception:  # noqa: BLE001 - log, back off, resync
                    LOG.exception("%s sync failed; full resync in %.0fs", self.binary,
                                  backoff)
                    self.stop.wait(backoff * random.uniform(0.8, 1.2))
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                if not self.pending():
                    self.wake.wait(self.poll_interval)
                self.wake.clear()
        finally:
            self.stop_rpc()

    def request_stop(self) -> None:
        self.stop.set()
        self.wake.set()


def main(agent_cls: type[Agent], program: str, argv: list[str] | None = None) -> int:
    """Entry point of a network agent: config, logging, then one pass or forever."""
    conf = agent_conf.make(program, sys.argv[1:] if argv is None else argv)
    log.setup(conf, program)
    agent = agent_cls(conf)
    if conf.once:
        try:
            agent.run_once()
        except Exception:  # noqa: BLE001 - exit status says it
            LOG.exception("%s: the sync failed", program)
            return 1
        finally:
            messaging.cleanup()
        return 0
    signal.signal(signal.SIGTERM, lambda *_: agent.request_stop())
    signal.signal(signal.SIGINT, lambda *_: agent.request_stop())
    LOG.info("%s starting on host %s", program, conf.host)
    try:
        agent.run_forever()
    finally:
        messaging.cleanup()
    LOG.info("%s stopped", program)
    return 0
