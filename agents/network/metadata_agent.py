"""stratus-metadata-agent: 169.254.169.254 for every tenant network, from one process.

Design: one daemon that binds a listening socket inside every ``qdhcp-``/``qrouter-``
namespace of its integration bridge (``netns_socket``), instead of one proxy process per
namespace started by the DHCP and L3 agents (Neutron's haproxy per namespace). Why:
- one Python process whatever the number of networks (a proxy per namespace costs tens
  of MB and a PID file each), and one RPC connection;
- no coupling in the DHCP/L3 agents' lifecycle: they only put the address (qdhcp) or the
  redirect (qrouter) in place; this agent finds namespaces by name, which names their
  owner (the network or router it asks ``get_instance_for_address`` about);
- a restart of any agent loses nothing: the scan rebinds within ``scan_interval``.
In a ``qdhcp-`` namespace it listens on 169.254.169.254:80 (the DHCP agent adds the
address; option 121 routes guests there); in a ``qrouter-`` namespace on
``metadata_proxy_port``, where the L3 agent redirects 169.254.169.254:80.
A socket pins its namespace, so a listener whose namespace was deleted (or replaced)
is closed at the next scan.
"""

from __future__ import annotations

import logging
import os
import selectors
import sys
import threading
from typing import Any

from oslo_config import cfg

from agents.network import agent as base
from agents.network import metadata_proxy, namespaces, netns_socket
from common.context import RequestContext

LOG = logging.getLogger(__name__)

METADATA_IP = "169.254.169.254"
KINDS = {namespaces.DHCP_PREFIX: "network", namespaces.ROUTER_PREFIX: "router"}


class MetadataAgent(base.Agent):
    binary = "stratus-metadata-agent"
    agent_type = "Metadata agent"
    topic_option = ""  # nobody notifies it: it watches the namespaces

    def __init__(self, conf: cfg.ConfigOpts, server: Any = None):
        super().__init__(conf, server)
        opts = conf.metadata
        self.marker = namespaces.marker(conf.ovs.integration_bridge)
        self.port = opts.metadata_proxy_port
        self.upstream = metadata_proxy.Upstream(opts.nova_metadata_url, opts.shared_secret,
                                                opts.nova_metadata_timeout,
                                                opts.nova_metadata_insecure)
        self.cache = metadata_proxy.InstanceCache(self._lookup)
        self.listeners: dict[str, tuple[int, metadata_proxy.Listener]] = {}
        self._foreign: dict[str, int] = {}  # namespaces of another bridge, by inode
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._serving: threading.Thread | None = None
        if not opts.shared_secret:
            LOG.error("[metadata] shared_secret is not set: every metadata request will "
                      "be answered 503 until it is")

    @property
    def resync_interval(self) -> float:
        return self.conf.metadata.scan_interval

    @property
    def poll_interval(self) -> float:
        return self.conf.metadata.scan_interval

    def configurations(self) -> dict[str, Any]:
        return {"namespaces": len(self.listeners),
                "nova_metadata_url": self.conf.metadata.nova_metadata_url}

    def _lookup(self, kind: str, owner: str, ip: str) -> dict[str, Any] | None:
        ctx = RequestContext.admin()
        if kind == "network":
            return self.server.get_instance_for_address(ctx, ip, network_id=owner)
        return self.server.get_instance_for_address(ctx, ip, router_id=owner)

    # -- namespaces --------------------------------------------------------------------

    def sync(self, ctx: RequestContext, ids: set[str] | None) -> dict[str, Any]:
        """Listen in every namespace of ours; stop listening in those that are gone."""
        try:
            names = sorted(os.listdir(netns_socket.NETNS_DIR))
        except FileNotFoundError:
            names = []
        present = {}
        for ns in names:
            for prefix, kind in KINDS.items():
                owner = namespaces.owner(ns, prefix)
                inode = netns_socket.namespace_inode(ns)
                if owner and inode is not None:
                    present[ns] = (kind, owner, inode)
        added = removed = 0
        for ns in list(self.listeners):
            inode, _ = self.listeners[ns]
            if ns not in present or present[ns][2] != inode:
                self._close(ns)
                removed += 1
        for ns, (kind, owner, inode) in present.items():
            if ns in self.listeners or self._foreign.get(ns) == inode:
                continue
            mark = namespaces.read_marker(ns)
            if mark != self.marker:
                if mark is not None:  # unmarked yet: its agent marks it right after creating
                    self._foreign[ns] = inode
                continue
            try:
                self._open(ns, kind, owner, inode)
                added += 1
            except OSError as exc:
                LOG.warning("cannot listen in %s yet: %s", ns, exc)
        self._foreign = {ns: i for ns, i in self._foreign.items()
                         if ns in present and present[ns][2] == i}
        return {"namespaces": len(self.listeners), "added": added, "removed": removed,
                "changed": bool(added or removed)}

    def _open(self, ns: str, kind: str, owner: str, inode: int) -> None:
        if kind == "network":
            sock = netns_socket.listen_in(ns, METADATA_IP, 80, freebind=True)
        else:
            sock = netns_socket.listen_in(ns, "0.0.0.0", self.port)
        listener = metadata_proxy.Listener(sock, kind, owner, self.upstream, self.cache)
        with self._lock:
            self.listeners[ns] = (inode, listener)
            self._selector.register(sock, selectors.EVENT_READ, listener)
        LOG.info("serving metadata in %s (%s %s)", ns, kind, owner)

    def _close(self, ns: str) -> None:
        with self._lock:
            _, listener = self.listeners.pop(ns)
            try:
                self._selector.unregister(listener.socket)
            except (KeyError, ValueError):
                pass
        listener.server_close()
        LOG.info("stopped serving metadata in %s", ns)

    # -- serving -----------------------------------------------------------------------

    def serve(self) -> None:
        """Accept on every listener until stop is set (runs in its own thread)."""
        while not self.stop.is_set():
            with self._lock:
                empty = not self.listeners
            if empty:
                self.stop.wait(0.2)
                continue
            for key, _ in self._selector.select(timeout=0.5):
                listener: metadata_proxy.Listener = key.data
                try:
                    request, address = listener.get_request()
                except OSError:  # the guest gave up, or the listener just closed
                    continue
                try:
                    listener.process_request(request, address)  # a thread per request
                except Exception:  # noqa: BLE001 - one request must not stop the loop
                    LOG.exception("metadata request from %s failed", address)
                    listener.shutdown_request(request)

    def start_serving(self) -> None:
        if self._serving is None:
            self._serving = threading.Thread(target=self.serve, name="metadata-proxy",
                                             daemon=True)
            self._serving.start()

    def close(self) -> None:
        """Stop serving and close every listener."""
        self.request_stop()
        if self._serving is not None:
            self._serving.join(timeout=5)
            self._serving = None
        for ns in list(self.listeners):
            self._close(ns)

    def run_forever(self) -> None:
        self.start_serving()
        try:
            super().run_forever()
        finally:
            self.close()


def main(argv: list[str] | None = None) -> int:
    return base.main(MetadataAgent, "stratus-metadata-agent", argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

