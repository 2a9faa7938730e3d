"""Options of the network agents: one group per agent plus the bridges they share.

``[ovs]`` names the bridges (the DHCP and L3 agents plug their ports into the same
integration bridge the OVS agent wires), ``[dhcp_agent]``, ``[l3_agent]`` and
``[metadata]`` belong to one agent each. Every agent also reads ``[network_rpc]`` (the
topics of common.rpc.network) and the shared groups of common.conf.
"""

from __future__ import annotations

from collections.abc import Callable

from oslo_config import cfg

import common.conf
from common.rpc import network as network_rpc

OVS_OPTS = [
    cfg.StrOpt("integration_bridge", default="br-int",
               help="Bridge every VM tap, DHCP port and router port is plugged into. "
                    "Namespaces the agents create are marked with its name, so agents "
                    "of another bridge on the same host never touch them."),
    cfg.StrOpt("tunnel_bridge", default="br-tun",
               help="Bridge holding the VXLAN tunnel ports to the other hosts."),
    cfg.ListOpt("bridge_mappings", default=["public:br-ex"],
                help="physical_network:bridge pairs: flat and vlan networks on that "
                     "physical network leave this host through that bridge."),
    cfg.StrOpt("local_ip", default=None,
               help="This host's tunnel endpoint address; unset: no tunnels (vxlan "
                    "networks then reach only the ports of this host). With the userspace "
                    "(netdev) datapath OVS routes and encapsulates tunnel packets itself, so "
                    "this must be an address of an OVS bridge (e.g. the bridge holding the "
                    "host's uplink), not of a plain kernel interface."),
    cfg.PortOpt("vxlan_udp_port", default=4789, help="UDP port of the VXLAN tunnels."),
    cfg.FloatOpt("polling_interval", default=2.0, min=0.2,
                 help="Seconds between looks at the integration bridge for ports that "
                      "came or went (a new VM tap is wired at most this late)."),
    cfg.IntOpt("resync_interval", default=300, min=10,
               help="Seconds between full resyncs with the network service (±10% "
                    "jitter); notifications trigger partial ones in between."),
]

DHCP_OPTS = [
    cfg.StrOpt("state_dir", default="/var/lib/stratus/dhcp",
               help="Directory with one sub-directory per network (dnsmasq hosts, "
                    "options, leases and pid files)."),
    cfg.ListOpt("dnsmasq_dns_servers", default=[],
                help="Upstream DNS servers dnsmasq forwards to; empty: it answers only "
                     "the names of the network's own ports."),
    cfg.StrOpt("dns_domain", default="openstacklocal",
               help="Domain of the host names dnsmasq hands out."),
    cfg.IntOpt("dhcp_lease_duration", default=86400, min=120,
               help="Seconds a DHCP lease lasts."),
    cfg.BoolOpt("enable_isolated_metadata", default=True,
                help="Serve 169.254.169.254 from the DHCP namespace to subnets without "
                     "a router (a host route via the DHCP port, DHCP option 121)."),
    cfg.BoolOpt("dnsmasq_log_dhcp", default=False,
                help="Log every DHCP transaction to the network's dnsmasq log (in its "
                     "state directory); otherwise only start-up and warnings go there."),
    cfg.IntOpt("resync_interval", default=300, min=10,
               help="Seconds between full resyncs with the network service (±10%)."),
]

L3_OPTS = [
    cfg.IntOpt("resync_interval", default=300, min=10,
               help="Seconds between full resyncs with the network service (±10%)."),
    cfg.BoolOpt("send_gratuitous_arp", default=True,
                help="Announce a new gateway or floating IP address with gratuitous ARP "
                     "so neighbours forget an old owner at once."),
]

METADATA_OPTS = [
    cfg.URIOpt("nova_metadata_url", default="http://127.0.0.1:8770/metadata",
               schemes=["http", "https"],
               help="Base URL of the compute metadata API the proxy forwards to."),
    cfg.StrOpt("shared_secret", default="", secret=True,
               help="Secret for the X-Instance-ID-Signature header (HMAC-SHA256); must "
                    "equal the compute API's [metadata] shared_secret."),
    cfg.PortOpt("metadata_proxy_port", default=9697,
                help="Port the proxy listens on inside router namespaces (the L3 agent "
                     "redirects 169.254.169.254:80 there)."),
    cfg.FloatOpt("scan_interval", default=2.0, min=0.2,
                 help="Seconds between looks for namespaces that came or went."),
    cfg.FloatOpt("nova_metadata_timeout", default=30.0, min=1,
                 help="Seconds a forwarded request may take."),
    cfg.BoolOpt("nova_metadata_insecure", default=False,
                help="With an https nova_metadata_url: skip certificate verification."),
]

_GROUPS: dict[str, list[cfg.Opt]] = {
    "ovs": OVS_OPTS, "dhcp_agent": DHCP_OPTS, "l3_agent": L3_OPTS, "metadata": METADATA_OPTS,
}
# The groups each agent reads (for its registrations and its sample config).
AGENT_GROUPS = {
    "stratus-ovs-agent": ["ovs"],
    "stratus-dhcp-agent": ["ovs", "dhcp_agent", "metadata"],
    "stratus-l3-agent": ["ovs", "l3_agent", "metadata"],
    "stratus-metadata-agent": ["ovs", "metadata"],
}


def register(conf: cfg.ConfigOpts) -> None:
    """Register every network agent group (and [network_rpc]) on conf."""
    for group, opts in _GROUPS.items():
        if group not in conf or not all(o.dest in conf[group] for o in opts):
            conf.register_opts(opts, group=group)
    network_rpc.register(conf)


def bridge_mappings(conf: cfg.ConfigOpts) -> dict[str, str]:
    """{physical network: bridge} from [ovs] bridge_mappings.

    :raises ValueError: an entry is not physnet:bridge.
    """
    out = {}
    for entry in conf.ovs.bridge_mappings:
        physnet, sep, bridge = entry.partition(":")
        if not sep or not physnet.strip() or not bridge.strip():
            raise ValueError(f"[ovs] bridge_mappings entry {entry!r} is not physnet:bridge")
        out[physnet.strip()] = bridge.strip()
    return out


def _lister(program: str) -> Callable[[], list[tuple[str | None, list[cfg.Opt]]]]:
    def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
        return (list(common.conf.list_opts())
                + [(g, _GROUPS[g]) for g in AGENT_GROUPS[program]]
                + network_rpc.list_opts())
    return list_opts


list_ovs_agent_opts = _lister("stratus-ovs-agent")
list_dhcp_agent_opts = _lister("stratus-dhcp-agent")
list_l3_agent_opts = _lister("stratus-l3-agent")
list_metadata_agent_opts = _lister("stratus-metadata-agent")

ONCE = cfg.BoolOpt("once", default=False,
                   help="Run one full resync and exit (for tests and debugging).")


def make(program: str, argv: list[str] | None = None,
         overrides: dict[str, dict[str, object]] | None = None) -> cfg.ConfigOpts:
    """A parsed ConfigOpts for program (argv None: defaults only, for tests);
    overrides ({group: {name: value}}) win over the files."""
    return common.conf.build([register], argv, program, overrides, cli_opts=[ONCE])
