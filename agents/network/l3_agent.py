"""stratus-l3-agent: one ``qrouter-<router>`` namespace per router of this host.

Each router namespace holds its internal interfaces (``qr-``), its gateway (``qg-``, on
the integration bridge in the external network's local VLAN, which the OVS agent
carries to the physical bridge like any flat or VLAN network), the floating IPs as /32
addresses on the gateway, forwarding on, its routes, and the NAT of ``l3_router``.
Routers that are gone, moved or administratively down lose their namespace.
"""

from __future__ import annotations

import logging
import shutil
import sys
from typing import Any

from oslo_config import cfg

from agents.network import agent as base
from agents.network import ip_lib, iptables, l3_router, namespaces, ovs, plug, validate
from agents.network.exception import HostCommandError, InvalidInput, NetworkAgentError
from common.context import RequestContext

LOG = logging.getLogger(__name__)

ROUTER_DEVICES = ("qr-", "qg-")


class L3RpcEndpoint:
    def __init__(self, agent: L3Agent):
        self.agent = agent

    def routers_changed(self, ctx: RequestContext, router_ids: list[str]) -> None:
        self.agent.mark([str(r) for r in router_ids], ctx)


class L3Agent(base.Agent):
    binary = "stratus-l3-agent"
    agent_type = "L3 agent"
    topic_option = "l3_topic"

    def __init__(self, conf: cfg.ConfigOpts, server: Any = None):
        super().__init__(conf, server)
        self.int_br = ovs.Bridge(conf.ovs.integration_bridge)
        self.marker = namespaces.marker(conf.ovs.integration_bridge)
        self.metadata_port = conf.metadata.metadata_proxy_port
        self.routers: set[str] = set()
        self._floating: dict[str, tuple[str, ...]] = {}

    @property
    def resync_interval(self) -> float:
        return self.conf.l3_agent.resync_interval

    def endpoints(self) -> list[Any]:
        return [L3RpcEndpoint(self)]

    def configurations(self) -> dict[str, Any]:
        return {"routers": len(self.routers), "agent_mode": "legacy",
                "floating_ips": sum(len(f) for f in self._floating.values()),
                "integration_bridge": self.int_br.name}

    def sync(self, ctx: RequestContext, ids: set[str] | None) -> dict[str, Any]:
        requested = validate.notified_uuids(ids, "router id")
        if requested is not None and not requested:
            return {"routers": len(self.routers)}
        routers = self.server.get_routers(
            ctx, self.host, router_ids=None if requested is None else sorted(requested))
        if requested is None:
            self.int_br.ensure("secure")  # whichever agent starts first makes it
        served, failed, devices = set(), [], set()
        for router in routers:
            router_id = str(router.get("id"))
            if not router.get("admin_state_up", True):
                continue  # torn down below, like a router that is gone
            try:
                plan = self.converge(router)
                devices |= {d.name for d in plan.interfaces}
                devices |= {plan.gateway.name} if plan.gateway else set()
            except (HostCommandError, InvalidInput, KeyError, TypeError, ValueError) as exc:
                LOG.error("router %s could not be set up: %s", router_id, exc)
                failed.append(router_id)
            served.add(router_id)
        if requested is None:
            removed = namespaces.sweep(namespaces.ROUTER_PREFIX, self.marker, served,
                                       self.teardown)
            self.routers = served
            if not failed:  # a failed router's devices are unknown: sweep next time
                plug.sweep(self.int_br, "l3", devices)
        else:
            removed = []
            for router_id in sorted(requested - served):
                self.teardown(router_id)
                removed.append(router_id)
            self.routers = (self.routers | served) - set(removed)
        if failed:
            raise NetworkAgentError(f"routers {failed} could not be set up")
        return {"routers": len(self.routers), "removed": len(removed)}

    def converge(self, router: dict[str, Any]) -> l3_router.Plan:
        """Make the router's namespace hold what its plan says.

        :raises HostCommandError: a host command failed.
        :raises InvalidInput: the router's data is malformed.
        """
        plan = l3_router.plan(router, self.metadata_port)
        ns = plan.namespace
        namespaces.create(ns, self.marker)
        ip_lib.sysctl(ns, "net.ipv4.ip_forward", "1")
        wanted = [d for d in plan.interfaces] + ([plan.gateway] if plan.gateway else [])
        names = {d.name for d in wanted}
        for stale in plug.namespace_devices(ns, ROUTER_DEVICES):
            if stale not in names:
                LOG.info("router %s: removing port device %s", plan.router_id, stale)
                plug.unplug(self.int_br, ns, stale)
        new_addresses: list[tuple[str, str]] = []
        for device in wanted:
            plug.plug(self.int_br, ns, device.name, device.port, device.mtu, "l3")
            before = set(ip_lib.addresses(device.name, ns))
            if ip_lib.sync_addresses(device.name, ns, device.addresses):
                new_addresses += [(device.name, a) for a in device.addresses
                                  if a not in before]
        ip_lib.sync_routes(ns, plan.routes)
        iptables.IptablesManager(ns).apply(plan.rules)
        if plan.gateway is not None and self.conf.l3_agent.send_gratuitous_arp:
            for dev, addr in new_addresses:
                if dev == plan.gateway.name and ":" not in addr:
                    self._announce(ns, dev, addr.split("/")[0])
        self._floating[plan.router_id] = tuple(f for f, _ in plan.floating_ips)
        return plan

    @staticmethod
    def _announce(ns: str, dev: str, addr: str) -> None:
        """Gratuitous ARP for addr (best effort: neighbours learn it anyway on use)."""
        arping = shutil.which("arping")
        argv = [arping, "-U", "-c", "1", "-I", dev, addr] if arping else \
            (["busybox", "arping", "-U", "-c", "1", "-I", dev, addr]
             if shutil.which("busybox") else None)
        if argv is None:
            return
        try:
            ip_lib.execute_in(ns, argv, timeout=5)
        except HostCommandError as exc:
            LOG.debug("gratuitous ARP for %s failed: %s", addr, exc)

    def teardown(self, router_id: str) -> None:
        """Unplug the router's ports and delete its namespace.

        :raises HostCommandError: a host command failed.
        """
        ns = namespaces.router_namespace(router_id)
        if ns in ip_lib.list_namespaces():
            for dev in plug.namespace_devices(ns, ROUTER_DEVICES):
                plug.unplug(self.int_br, ns, dev)
            ip_lib.delete_namespace(ns)
        self._floating.pop(router_id, None)
        LOG.info("router %s removed from this host", router_id)


def main(argv: list[str] | None = None) -> int:
    return base.main(L3Agent, "stratus-l3-agent", argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
