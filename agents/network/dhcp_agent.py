"""stratus-dhcp-agent: one ``qdhcp-<network>`` namespace with dnsmasq per network.

For every network with a DHCP-enabled subnet the network service hands this host, the
agent keeps a namespace holding the network's DHCP port (a veth on the integration
bridge, wired by the OVS agent like any port), the port's addresses plus
169.254.169.254/32 (the metadata agent serves it there for subnets without a router),
and a dnsmasq with one static entry per port. Networks that are gone (or whose DHCP is
off) lose their namespace, port, process and files.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from oslo_config import cfg

from agents.network import agent as base
from agents.network import dnsmasq, ip_lib, namespaces, ovs, plug, validate
from agents.network.exception import HostCommandError, InvalidInput, NetworkAgentError
from common.context import RequestContext

LOG = logging.getLogger(__name__)


class DhcpRpcEndpoint:
    def __init__(self, agent: DhcpAgent):
        self.agent = agent

    def networks_changed(self, ctx: RequestContext, network_ids: list[str]) -> None:
        self.agent.mark([str(n) for n in network_ids], ctx)


class DhcpAgent(base.Agent):
    binary = "stratus-dhcp-agent"
    agent_type = "DHCP agent"
    topic_option = "dhcp_topic"

    def __init__(self, conf: cfg.ConfigOpts, server: Any = None):
        super().__init__(conf, server)
        self.int_br = ovs.Bridge(conf.ovs.integration_bridge)
        self.marker = namespaces.marker(conf.ovs.integration_bridge)
        self.state_dir = conf.dhcp_agent.state_dir
        opts = conf.dhcp_agent
        self.settings = dnsmasq.Settings(
            domain=validate.hostname(opts.dns_domain), lease_seconds=opts.dhcp_lease_duration,
            dns_servers=tuple(validate.ip(s, "dnsmasq_dns_servers entry")
                              for s in opts.dnsmasq_dns_servers),
            isolated_metadata=opts.enable_isolated_metadata, log_dhcp=opts.dnsmasq_log_dhcp)
        self.networks: set[str] = set()

    @property
    def resync_interval(self) -> float:
        return self.conf.dhcp_agent.resync_interval

    def endpoints(self) -> list[Any]:
        return [DhcpRpcEndpoint(self)]

    def configurations(self) -> dict[str, Any]:
        return {"networks": len(self.networks), "dhcp_driver": "dnsmasq",
                "integration_bridge": self.int_br.name}

    def sync(self, ctx: RequestContext, ids: set[str] | None) -> dict[str, Any]:
        requested = validate.notified_uuids(ids, "network id")
        if requested is not None and not requested:
            return {"networks": len(self.networks)}
        networks = self.server.get_dhcp_state(
            ctx, self.host, network_ids=None if requested is None else sorted(requested))
        if requested is None:
            self.int_br.ensure("secure")  # whichever agent starts first makes it
        served, failed, devices = set(), [], set()
        for network in networks:
            try:
                net_id = validate.uuid(network["id"], "network id")
                port = network.get("dhcp_port") or {}
                if not port.get("id"):
                    raise InvalidInput(f"network {net_id} has no DHCP port for this host")
                devices.add(namespaces.device_name("tap", port["id"]))
                self.converge(network)
                served.add(net_id)
            except (HostCommandError, InvalidInput, KeyError, TypeError, ValueError) as exc:
                LOG.error("DHCP for network %s failed: %s", network.get("id"), exc)
                failed.append(network.get("id"))
                served.add(str(network.get("id")))  # keep what exists; retried below
        if requested is None:
            removed = namespaces.sweep(namespaces.DHCP_PREFIX, self.marker, served,
                                       self.teardown)
            for net_id in sorted(self._state_dirs() - served - set(removed)):
                LOG.info("network %s: removing a dnsmasq left without namespace", net_id)
                self.teardown(net_id)
                removed.append(net_id)
            if not failed:  # a failed network's device is unknown: sweep next time
                plug.sweep(self.int_br, "dhcp", devices)
            self.networks = served
        else:
            removed = []
            for net_id in sorted(requested - served):
                self.teardown(net_id)
                removed.append(net_id)
            self.networks = (self.networks | served) - set(removed)
        if failed:
            raise NetworkAgentError(f"DHCP could not be set up for networks {failed}")
        return {"networks": len(self.networks), "removed": len(removed)}

    def _state_dirs(self) -> set[str]:
        try:
            names = os.listdir(self.state_dir)
        except FileNotFoundError:
            return set()
        out = set()
        for name in names:
            try:
                out.add(validate.uuid(name))
            except InvalidInput:
                continue
        return out

    def converge(self, network: Mapping[str, Any]) -> str:
        """Namespace, port, addresses and dnsmasq of one network; returns what dnsmasq
        did (started, reloaded, restarted, unchanged).

        :raises HostCommandError: a host command failed.
        :raises InvalidInput: the network's data is malformed.
        """
        net_id = validate.uuid(network["id"], "network id")
        port = network.get("dhcp_port")
        if not port:
            raise InvalidInput(f"network {net_id} has no DHCP port for this host")
        ns = namespaces.dhcp_namespace(net_id)
        dev = namespaces.device_name("tap", port["id"])
        mtu = int(network["mtu"]) if network.get("mtu") else None
        namespaces.create(ns, self.marker)
        for stale in plug.namespace_devices(ns, ("tap",)):
            if stale != dev:
                LOG.info("network %s: removing old DHCP port %s", net_id, stale)
                plug.unplug(self.int_br, ns, stale)
        plug.plug(self.int_br, ns, dev, port, mtu, "dhcp")
        ip_lib.sync_addresses(dev, ns, self._addresses(network, port))
        config = dnsmasq.render(network, dev, self.state_dir, self.settings)
        action = dnsmasq.Process(net_id, self.state_dir, ns).ensure(config)
        if action != "unchanged":
            LOG.info("network %s: dnsmasq %s", net_id, action)
        return action

    def _addresses(self, network: Mapping[str, Any], port: Mapping[str, Any]) -> list[str]:
        prefix = {s["id"]: ipaddress.ip_network(validate.cidr(s["cidr"])).prefixlen
                  for s in network.get("subnets") or []}
        out = [f"{validate.ip(f['ip_address'])}/{prefix[f['subnet_id']]}"
               for f in port.get("fixed_ips") or [] if f.get("subnet_id") in prefix]
        if self.settings.isolated_metadata:
            out.append(dnsmasq.METADATA_CIDR)
        return out

    def teardown(self, network_id: str) -> None:
        """Stop dnsmasq, unplug the port, delete the namespace and the files.

        :raises HostCommandError: a host command failed.
        """
        ns = namespaces.dhcp_namespace(network_id)
        process = dnsmasq.Process(network_id, self.state_dir, ns)
        process.stop()
        if ns in ip_lib.list_namespaces():
            for dev in plug.namespace_devices(ns, ("tap",)):
                plug.unplug(self.int_br, ns, dev)
            ip_lib.delete_namespace(ns)
        process.remove_files()
        LOG.info("network %s: DHCP removed from this host", network_id)


def main(argv: list[str] | None = None) -> int:
    return base.main(DhcpAgent, "stratus-dhcp-agent", argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
