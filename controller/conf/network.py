"""[network]: the Network v2.0 service (segments, MTUs, IPAM limits, quotas, DHCP).

Also registers [network_rpc] (the agent topics, shared with the agents through
common.rpc.network) and [metadata] (the secret the metadata proxy signs requests with).
"""

from __future__ import annotations

from oslo_config import cfg

from common.rpc import network as network_rpc

OPTS = [
    cfg.ListOpt("tenant_network_types", default=["vxlan"],
                help="Segment types given, in order of preference, to networks created "
                     "without provider attributes (vxlan or vlan)."),
    cfg.ListOpt("vni_ranges", default=["1:65535"],
                help="VXLAN VNI ranges (first:last) open to project networks."),
    cfg.ListOpt("network_vlan_ranges", default=[],
                help="Physical networks that carry VLANs, as physnet or "
                     "physnet:first:last (a range opens those VLANs to project "
                     "networks; a bare name allows admin-chosen VLANs only)."),
    cfg.ListOpt("flat_networks", default=["public"],
                help="Physical networks flat networks may use; '*' allows any."),
    cfg.StrOpt("external_physical_network", default="public",
               help="Physical network the external (floating IP) network is attached to "
                    "by the agents' external bridge."),
    cfg.IntOpt("global_physnet_mtu", default=1500, min=68, max=65535,
               help="MTU of the physical network; flat and vlan networks get this MTU."),
    cfg.IntOpt("vxlan_overhead", default=50, min=0, max=200,
               help="Bytes of VXLAN encapsulation taken from global_physnet_mtu for "
                    "vxlan networks (1500 - 50 = 1450)."),
    cfg.StrOpt("base_mac", default="fa:16:3e:00:00:00",
               help="First three octets of every generated port MAC address."),
    cfg.IntOpt("max_fixed_ips_per_port", default=5, min=1,
               help="Most fixed IPs one port may hold."),
    cfg.IntOpt("max_dns_nameservers", default=5, min=0,
               help="Most DNS name servers one subnet may list."),
    cfg.IntOpt("max_subnet_host_routes", default=20, min=0,
               help="Most host routes one subnet may list."),
    cfg.IntOpt("max_routes", default=30, min=0,
               help="Most static (extra) routes one router may hold."),
    cfg.IntOpt("dhcp_agents_per_network", default=1, min=1,
               help="DHCP agents that serve each network with DHCP enabled."),
    cfg.StrOpt("default_availability_zone", default="nova",
               help="Availability zone shown for networks, routers and agents."),
    cfg.BoolOpt("agent_notifications", default=True,
                help="Tell the network agents about every change (fanout RPC casts). "
                     "Without it agents converge only at their periodic resync."),
    cfg.IntOpt("quota_network", default=100, min=-1, help="Networks per project."),
    cfg.IntOpt("quota_subnet", default=100, min=-1, help="Subnets per project."),
    cfg.IntOpt("quota_port", default=500, min=-1, help="Ports per project."),
    cfg.IntOpt("quota_router", default=10, min=-1, help="Routers per project."),
    cfg.IntOpt("quota_floatingip", default=50, min=-1, help="Floating IPs per project."),
    cfg.IntOpt("quota_security_group", default=10, min=-1,
               help="Security groups per project."),
    cfg.IntOpt("quota_security_group_rule", default=100, min=-1,
               help="Security group rules per project."),
]

METADATA_OPTS = [
    cfg.StrOpt("shared_secret", default="", secret=True,
               help="Secret the metadata proxy signs X-Instance-ID with (HMAC-SHA256); "
                    "the metadata API refuses every request while it is empty."),
]


def register(conf: cfg.ConfigOpts) -> None:
    """Register [network], [network_rpc] and [metadata] on conf."""
    conf.register_opts(OPTS, group="network")
    conf.register_opts(METADATA_OPTS, group="metadata")
    network_rpc.register(conf)


def list_opts():
    """The options, for the sample config generator."""
    return [("network", OPTS), ("metadata", METADATA_OPTS)] + network_rpc.list_opts()
