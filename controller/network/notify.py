"""Telling the agents what changed (fanout casts), after the change is committed.

A service function collects what it touched in a :class:`Changes` and sends it once its
transaction has committed, so an agent that reacts at once reads the new state. The casts
go out from a background thread: a request never waits for, or fails because of, the
message bus. A lost cast is repaired by the agents' periodic full resync.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import threading
from collections.abc import Iterable
from typing import Any, Protocol

from common.context import RequestContext
from common.rpc.network import NetworkAgentNotifier
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

ATTRIBUTE = "network_agent_notifier"  # tests assign a recorder to rt.<this>
METHODS = ("ports_changed", "security_groups_changed", "dhcp_networks_changed",
           "routers_changed")


class AgentNotifier(Protocol):
    def ports_changed(self, ctx: RequestContext, port_ids: list[str]) -> None: ...
    def security_groups_changed(self, ctx: RequestContext, group_ids: list[str]) -> None: ...
    def dhcp_networks_changed(self, ctx: RequestContext, network_ids: list[str]) -> None: ...
    def routers_changed(self, ctx: RequestContext, router_ids: list[str]) -> None: ...


class _Silent:
    """[network] agent_notifications = false: agents rely on their resync alone."""

    def __getattr__(self, name: str):
        if name in METHODS:
            return lambda ctx, ids: None
        raise AttributeError(name)


class BackgroundNotifier:
    """Queues casts and sends them from one thread, merging what piles up meanwhile."""

    def __init__(self, target: Any, max_pending: int = 10000):
        self._target = target
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._lock = threading.Lock()
        self._pid: int | None = None

    def _ensure_thread(self) -> None:
        # After a fork (gunicorn workers) the parent's thread does not exist here.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                threading.Thread(target=self._run, name="network-agent-notifier",
                                 daemon=True).start()
                self._pid = os.getpid()

    def _put(self, method: str, ctx: RequestContext, ids: list[str]) -> None:
        if not ids:
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait((method, ctx, list(ids)))
        except queue.Full:
            LOG.warning("agent notification queue full; dropped %s %s (agents resync)",
                        method, ids)

    def ports_changed(self, ctx: RequestContext, port_ids: list[str]) -> None:
        self._put("ports_changed", ctx, port_ids)

    def security_groups_changed(self, ctx: RequestContext, group_ids: list[str]) -> None:
        self._put("security_groups_changed", ctx, group_ids)

    def dhcp_networks_changed(self, ctx: RequestContext, network_ids: list[str]) -> None:
        self._put("dhcp_networks_changed", ctx, network_ids)

    def routers_changed(self, ctx: RequestContext, router_ids: list[str]) -> None:
        self._put("routers_changed", ctx, router_ids)

    def _run(self) -> None:
        while True:
            batch: dict[str, tuple[RequestContext, list[str]]] = {}
            method, ctx, ids = self._queue.get()
            batch[method] = (ctx, ids)
            while True:  # merge whatever else is already waiting
                try:
                    method, ctx, ids = self._queue.get_nowait()
                except queue.Empty:
                    break
                _, pending = batch.setdefault(method, (ctx, []))
                pending.extend(i for i in ids if i not in pending)
            for method, (ctx, ids) in batch.items():
                try:
                    getattr(self._target, method)(ctx, ids)
                except Exception:  # noqa: BLE001 - the agents' resync repairs a lost cast
                    LOG.warning("could not send %s to the agents", method, exc_info=True)


_create_lock = threading.Lock()


def agents(rt: Runtime) -> AgentNotifier:
    """The runtime's agent notifier, made on first use."""
    notifier = rt.__dict__.get(ATTRIBUTE)
    if notifier is None:
        with _create_lock:
            notifier = rt.__dict__.get(ATTRIBUTE)
            if notifier is None:
                notifier = (BackgroundNotifier(NetworkAgentNotifier(rt.conf))
                            if rt.conf.network.agent_notifications else _Silent())
                setattr(rt, ATTRIBUTE, notifier)
    return notifier


@dataclasses.dataclass
class Changes:
    """What a service call touched, for the agents to look at."""

    ports: set[str] = dataclasses.field(default_factory=set)
    security_groups: set[str] = dataclasses.field(default_factory=set)
    dhcp_networks: set[str] = dataclasses.field(default_factory=set)
    routers: set[str] = dataclasses.field(default_factory=set)

    def port(self, *ids: str) -> Changes:
        self.ports.update(i for i in ids if i)
        return self

    def groups(self, ids: Iterable[str]) -> Changes:
        self.security_groups.update(i for i in ids if i)
        return self

    def network(self, *ids: str) -> Changes:
        self.dhcp_networks.update(i for i in ids if i)
        return self

    def router(self, *ids: str | None) -> Changes:
        self.routers.update(i for i in ids if i)
        return self

    def send(self, rt: Runtime, ctx: RequestContext) -> None:
        """Cast every change (call after the transaction committed)."""
        target = agents(rt)
        for ids, method in ((self.ports, "ports_changed"),
                            (self.security_groups, "security_groups_changed"),
                            (self.dhcp_networks, "dhcp_networks_changed"),
                            (self.routers, "routers_changed")):
            if ids:
                try:
                    getattr(target, method)(ctx, sorted(ids))
                except Exception:  # noqa: BLE001 - never fail a committed change
                    LOG.warning("could not queue an agent notification", exc_info=True)


def event(rt: Runtime, ctx: RequestContext, event_type: str, payload: dict[str, Any]) -> None:
    """A versioned notification on the bus (network.create.end, port.delete.end...)."""
    rt.notify(ctx, event_type, payload)
