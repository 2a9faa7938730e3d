"""RPC between the network service and its agents (OVS, DHCP, L3, metadata).

Two directions, following STYLE item 8 ("reconcile, don't replay"):

- agents -> server (topic ``[network_rpc] server_topic``), served by
  ``controller.network.rpc.NetworkRpcManager`` inside the conductor daemon (the network
  service's API runs in stratus-api; its agent-facing RPC needs a long-lived process).
  These are *calls* that return the desired state an agent converges on; plus the
  heartbeat and port status *casts*.
- server -> agents: *fanout casts* that only say "look at X" (port ids, network id,
  router ids, security group ids). An agent that receives one fetches the current state
  through the calls above and converges; a missed notification is repaired by the
  agent's periodic full resync (at start and after any error).

Payload shapes (plain dicts; every id a dashed UUID string):

port = {"id", "mac_address", "network_id", "device_owner", "device_id",
        "admin_state_up", "status", "binding_host", "mtu",
        "network_type" (flat|vlan|vxlan), "physical_network", "segmentation_id",
        "fixed_ips": [{"subnet_id", "ip_address"}],
        "port_security_enabled", "security_group_ids": [...],
        "allowed_address_pairs": [{"ip_address", "mac_address"}]}
security_group = {"id", "rules": [{"id", "direction" (ingress|egress),
        "ethertype" (IPv4|IPv6), "protocol" (None|"tcp"|"udp"|"icmp"|number string),
        "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id"}],
        "member_ips": {remote group id: [ip, ...]}}   # for remote_group_id rules
subnet = {"id", "network_id", "cidr", "ip_version", "gateway_ip", "enable_dhcp",
          "dns_nameservers": [...], "host_routes": [{"destination", "nexthop"}],
          "allocation_pools": [{"start", "end"}]}
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import messaging
from common.context import RequestContext

OPTS = [
    cfg.StrOpt("server_topic", default="stratus-network",
               help="RPC topic the network service listens on for its agents."),
    cfg.StrOpt("ovs_topic", default="stratus-network-ovs",
               help="Fanout topic of the OVS agents."),
    cfg.StrOpt("dhcp_topic", default="stratus-network-dhcp",
               help="Fanout topic of the DHCP agents."),
    cfg.StrOpt("l3_topic", default="stratus-network-l3",
               help="Fanout topic of the L3 agents."),
]
GROUP = "network_rpc"


def register(conf: cfg.ConfigOpts) -> None:
    """Register [network_rpc] (the server and every network agent call this)."""
    if GROUP not in conf or "server_topic" not in conf[GROUP]:
        conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]


class NetworkServerAPI:
    """Agents -> network service."""

    def __init__(self, conf: cfg.ConfigOpts):
        register(conf)
        self._client = messaging.rpc_client(conf, conf.network_rpc.server_topic)

    def report_state(self, ctx: RequestContext, host: str, binary: str,
                     agent_type: str, configurations: dict[str, Any]) -> None:
        """Cast: heartbeat of an agent ("Open vSwitch agent", "DHCP agent", "L3 agent",
        "Metadata agent"), shown by ``openstack network agent list``."""
        self._client.cast(ctx, "report_state", host=host, binary=binary,
                          agent_type=agent_type, configurations=configurations)

    def get_ovs_state(self, ctx: RequestContext, host: str,
                      port_ids: list[str] | None = None) -> dict[str, Any]:
        """Call: what the OVS agent on host must wire.

        port_ids None: every port bound to host (full resync); else just those (ports
        not bound to host any more come back in "removed").
        Returns {"ports": [port], "removed": [port_id], "security_groups":
        {sg_id: security_group}, "tunnel_peers": [{"host", "ip"}]}.
        """
        return self._client.call(ctx, "get_ovs_state", host=host, port_ids=port_ids)

    def update_port_status(self, ctx: RequestContext, port_ids: list[str], status: str,
                           host: str) -> None:
        """Cast: the agent wired (ACTIVE) or unwired (DOWN) these ports on host."""
        self._client.cast(ctx, "update_port_status", port_ids=port_ids, status=status,
                          host=host)

    def get_dhcp_state(self, ctx: RequestContext, host: str,
                       network_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Call: the networks with DHCP-enabled subnets this DHCP agent serves, each
        {"id", "mtu", "subnets": [subnet], "ports": [port], "dhcp_port": port}. The
        server creates (idempotently) the agent's own port on each network
        (device_owner network:dhcp, bound to host). network_ids None: all (resync);
        a requested network with no DHCP any more is absent: tear it down."""
        return self._client.call(ctx, "get_dhcp_state", host=host, network_ids=network_ids)

    def get_routers(self, ctx: RequestContext, host: str,
                    router_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Call: the routers hosted by host's L3 agent, each {"id", "admin_state_up",
        "enable_snat", "gw_port": port + {"subnets": [subnet]} | None,
        "interfaces": [port + {"subnets": [subnet]}], "routes": [{"destination",
        "nexthop"}], "floating_ips": [{"id", "floating_ip_address",
        "fixed_ip_address", "port_id"}]}. A requested router that is gone or hosted
        elsewhere is absent: tear it down."""
        return self._client.call(ctx, "get_routers", host=host, router_ids=router_ids)

    def get_instance_for_address(self, ctx: RequestContext, ip_address: str,
                                 network_id: str | None = None,
                                 router_id: str | None = None) -> dict[str, Any] | None:
        """Call: {"instance_id", "project_id"} of the port with ip_address on
        network_id (or on any network attached to router_id), or None."""
        return self._client.call(ctx, "get_instance_for_address", ip_address=ip_address,
                                 network_id=network_id, router_id=router_id)


class NetworkAgentNotifier:
    """Network service -> agents: fanout casts that say what changed."""

    def __init__(self, conf: cfg.ConfigOpts):
        register(conf)
        self._conf = conf
        self._clients: dict[str, Any] = {}

    def _fanout(self, topic: str):
        if topic not in self._clients:
            self._clients[topic] = messaging.rpc_client(self._conf, topic).prepare(
                fanout=True)
        return self._clients[topic]

    def ports_changed(self, ctx: RequestContext, port_ids: list[str]) -> None:
        self._fanout(self._conf.network_rpc.ovs_topic).cast(ctx, "ports_changed",
                                                            port_ids=port_ids)

    def security_groups_changed(self, ctx: RequestContext, group_ids: list[str]) -> None:
        self._fanout(self._conf.network_rpc.ovs_topic).cast(ctx, "security_groups_changed",
                                                            group_ids=group_ids)

    def dhcp_networks_changed(self, ctx: RequestContext, network_ids: list[str]) -> None:
        self._fanout(self._conf.network_rpc.dhcp_topic).cast(ctx, "networks_changed",
                                                             network_ids=network_ids)

    def routers_changed(self, ctx: RequestContext, router_ids: list[str]) -> None:
        self._fanout(self._conf.network_rpc.l3_topic).cast(ctx, "routers_changed",
                                                           router_ids=router_ids)
