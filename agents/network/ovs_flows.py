"""The OpenFlow tables of the agent's bridges, rendered from the desired state.

The agent renders each bridge's whole table and hands it to ``Bridge.replace_flows``
(an atomic, diffing bundle), so this module is pure: ports in, flow strings out.

Integration bridge pipeline (registers: reg5 = ofport of the filtered sender, reg6 =
local VLAN of the packet's network, reg7 = ofport of the filtered receiver).

Conntrack zones are per port (the port's ofport): a packet between two filtered ports
is tracked once in the sender's zone and once in the receiver's, each zone holding only
its port's connections. A zone shared by both ends would see each packet twice and let
the userspace conntrack call a flow "established" before any reply. A new TCP
connection must start with a SYN: a mid-stream packet never creates one, so a connection
cut after its rule was deleted stays cut.


- table 0 (classify): a known port sets reg6 (and reg5 when filtered) and goes to 10
  (filtered) or 60; patch ports from the physical/tunnel bridges translate VLANs; ports
  on the dead VLAN and anything unknown are dropped.
- table 10 (egress anti-spoofing): only the port's MAC/IP pairs (fixed IPs and allowed
  address pairs) may send ARP and IP; DHCP client traffic passes, DHCP/RA server
  traffic from a VM does not.
- tables 20/21 (egress security groups): conntrack in the sender's zone; established
  and related pass, new connections need an egress rule and are committed.
- table 60 (forward): unicast to a filtered port of this host goes to ingress filtering
  (reg7 = that port); everything else takes the NORMAL (learning switch) path.
- tables 70/71 (ingress security groups): ARP, DHCP replies and IPv6 neighbour discovery
  pass; IP goes through conntrack; new connections need an ingress rule.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from agents.network import sg_rules, validate

LOG = logging.getLogger(__name__)

T_CLASSIFY, T_SPOOF, T_EGRESS_CT, T_EGRESS, T_FORWARD, T_INGRESS_CT, T_INGRESS = (
    0, 10, 20, 21, 60, 70, 71)
T_CANARY = 250
DEAD_VLAN = 4095
EGRESS_ZONE = "NXM_NX_REG5[0..15]"
INGRESS_ZONE = "NXM_NX_REG7[0..15]"
# IPv6 neighbour discovery and MLD: types 130-132 (MLD), 133 RS, 135 NS, 136 NA, 143 MLDv2.
_ND_OUT = (130, 131, 132, 133, 135, 136, 143)
_ND_IN = (130, 131, 132, 134, 135, 136, 143)


@dataclasses.dataclass(frozen=True)
class Segment:
    """A network as this host carries it: its local VLAN and how it leaves the host."""

    network_id: str
    lvid: int
    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None


@dataclasses.dataclass(frozen=True)
class WiredPort:
    """A port on the integration bridge, validated, with what filtering needs."""

    id: str
    ofport: int
    lvid: int
    mac: str
    ips: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # (mac, ip or CIDR) incl. the port's own
    filtered: bool
    security_group_ids: tuple[str, ...]

    @classmethod
    def from_port(cls, port: Mapping[str, Any], ofport: int, lvid: int) -> WiredPort:
        """:raises InvalidInput: a MAC, IP or id in port is malformed."""
        mac = validate.mac(port["mac_address"])
        ips = tuple(validate.ip(f["ip_address"]) for f in port.get("fixed_ips") or [])
        pairs = [(mac, addr) for addr in ips]
        for pair in port.get("allowed_address_pairs") or []:
            pairs.append((validate.mac(pair.get("mac_address") or mac),
                          validate.cidr(pair["ip_address"], "allowed address pair")))
        owner = port.get("device_owner") or ""
        # Ports of the network itself (DHCP, routers) are trusted, as in Neutron.
        filtered = bool(port.get("port_security_enabled", True)) \
            and not owner.startswith("network:")
        return cls(id=validate.uuid(port["id"], "port id"), ofport=int(ofport), lvid=lvid,
                   mac=mac, ips=ips, pairs=tuple(dict.fromkeys(pairs)), filtered=filtered,
                   security_group_ids=tuple(port.get("security_group_ids") or ()))

    @property
    def macs(self) -> list[str]:
        return list(dict.fromkeys([self.mac] + [m for m, _ in self.pairs]))


def _flow(cookie: int, table: int, priority: int, match: str, actions: str) -> str:
    match = f",{match}" if match else ""
    return f"cookie={cookie:#x},table={table},priority={priority}{match},actions={actions}"


def _link_local(mac: str) -> str:
    """The EUI-64 IPv6 link-local address of mac."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xff, 0xfe] + octets[3:]
    return str(ipaddress.IPv6Address(bytes([0xfe, 0x80] + [0] * 6 + eui)))


def _is_v6(addr: str) -> bool:
    return ipaddress.ip_network(addr, strict=False).version == 6


def _port_flows(c: int, port: WiredPort, groups: Mapping[str, Mapping[str, Any]],
                conj: Conjunctions) -> list[str]:
    p = port.ofport
    if not port.filtered:
        return [_flow(c, T_CLASSIFY, 100, f"in_port={p}",
                      f"load:{port.lvid}->NXM_NX_REG6[],goto_table:{T_FORWARD}")]
    out = [_flow(c, T_CLASSIFY, 100, f"in_port={p}",
                 f"load:{p}->NXM_NX_REG5[],load:{port.lvid}->NXM_NX_REG6[],"
                 f"goto_table:{T_SPOOF}")]
    # Egress anti-spoofing.
    ok, ct_out = f"goto_table:{T_FORWARD}", f"goto_table:{T_EGRESS_CT}"
    out += [_flow(c, T_SPOOF, 95, f"reg5={p},udp,tp_src=67,tp_dst=68", "drop"),
            _flow(c, T_SPOOF, 95, f"reg5={p},udp6,tp_src=547,tp_dst=546", "drop"),
            _flow(c, T_SPOOF, 95, f"reg5={p},icmp6,icmp_type=134", "drop")]
    for mac in port.macs:
        out.append(_flow(c, T_SPOOF, 90, f"reg5={p},dl_src={mac},udp,nw_src=0.0.0.0,"
                                         "tp_src=68,tp_dst=67", ok))
        lla = _link_local(mac)
        out.append(_flow(c, T_SPOOF, 80, f"reg5={p},dl_src={mac},ipv6,ipv6_src={lla}", ct_out))
        for icmp_type in _ND_OUT:
            out.append(_flow(c, T_SPOOF, 90, f"reg5={p},dl_src={mac},icmp6,"
                                             f"icmp_type={icmp_type}", ok))
    for mac, addr in port.pairs:
        if _is_v6(addr):
            out.append(_flow(c, T_SPOOF, 80, f"reg5={p},dl_src={mac},ipv6,ipv6_src={addr}",
                             ct_out))
            out.append(_flow(c, T_SPOOF, 85, f"reg5={p},dl_src={mac},udp6,ipv6_src={addr},"
                                             "tp_src=546,tp_dst=547", ok))
        else:
            out.append(_flow(c, T_SPOOF, 90, f"reg5={p},dl_src={mac},arp,arp_sha={mac},"
                                             f"arp_spa={addr}", ok))
            out.append(_flow(c, T_SPOOF, 85, f"reg5={p},dl_src={mac},udp,nw_src={addr},"
                                             "tp_src=68,tp_dst=67", ok))
            out.append(_flow(c, T_SPOOF, 80, f"reg5={p},dl_src={mac},ip,nw_src={addr}",
                             ct_out))
    out.append(_flow(c, T_SPOOF, 10, f"reg5={p}", "drop"))
    # Security group rules: allows of new connections, committed to conntrack. Rules
    # with a remote group become conjunctions (port x member) instead of port*members flows.
    for direction, table, reg, action in (
            ("egress", T_EGRESS, "reg5", f"ct(commit,zone={EGRESS_ZONE}),"
                                         f"goto_table:{T_FORWARD}"),
            ("ingress", T_INGRESS, "reg7", f"ct(commit,zone={INGRESS_ZONE}),output:{p}")):
        for match in sg_rules.port_matches(groups, port.security_group_ids, direction):
            if match.group is not None:
                conj.add(direction, match, p)
                continue
            for text in match.expand({}):
                out.append(_flow(c, table, 50, f"ct_state=+new-est+trk,{reg}={p},{text}",
                                 action))
    # Unicast to this port (from here, a patch port or another VM) is filtered on the way in.
    for mac in port.macs:
        for vlan_match, strip in (("vlan_tci=0x1000/0x1000", "strip_vlan,"),
                                  ("vlan_tci=0x0000/0x1000", "")):
            out.append(_flow(c, T_FORWARD, 50, f"reg6={port.lvid},dl_dst={mac},{vlan_match}",
                             f"{strip}load:{p}->NXM_NX_REG7[],goto_table:{T_INGRESS_CT}"))
    return out


class Conjunctions:
    """Remote group rules as OpenFlow conjunctions.

    A rule "tcp 22 from members of G" on N ports with M members would take N*M flows;
    as a conjunction it takes N + M + 1: clause 1/2 matches the port, clause 2/2 the
    member address, and a ``conj_id`` flow does what the rule allows. Ports sharing a
    rule share its conjunction. Ids are hashed from the rule, so they stay the same
    from one render to the next and an unchanged table is not rewritten.
    """

    def __init__(self) -> None:
        self._ports: dict[tuple[str, sg_rules.Match], set[int]] = {}

    def add(self, direction: str, match: sg_rules.Match, ofport: int) -> None:
        self._ports.setdefault((direction, match), set()).add(ofport)

    def _ids(self) -> dict[tuple[str, sg_rules.Match], int]:
        ids: dict[tuple[str, sg_rules.Match], int] = {}
        used: set[int] = set()
        for key in sorted(self._ports, key=repr):
            ident = zlib.crc32(repr(key).encode()) & 0x7fffffff or 1
            while ident in used:
                ident = ident % 0x7fffffff + 1
            used.add(ident)
            ids[key] = ident
        return ids

    def flows(self, c: int, members: Mapping[str, list[str]]) -> list[str]:
        clauses: dict[tuple[int, str], list[str]] = {}
        out = []
        ids = self._ids()
        for (direction, match), ofports in self._ports.items():
            addresses = sg_rules.member_addresses(members, match.group or "", match.version)
            if not addresses:
                continue  # a group without members admits nobody
            ident = ids[(direction, match)]
            table, reg, zone, then = (
                (T_INGRESS, "reg7", INGRESS_ZONE, "output:NXM_NX_REG7[]")
                if direction == "ingress" else
                (T_EGRESS, "reg5", EGRESS_ZONE, f"goto_table:{T_FORWARD}"))
            new = f"ct_state=+new-est+trk,{match.base}"
            for ofport in sorted(ofports):
                clauses.setdefault((table, f"{new},{reg}={ofport}"), []).append(
                    f"conjunction({ident},1/2)")
            for addr in addresses:
                clauses.setdefault((table, f"{new},{match.field}={addr}"), []).append(
                    f"conjunction({ident},2/2)")
            family = "ip" if match.version == 4 else "ipv6"
            out.append(_flow(c, table, 40, f"conj_id={ident},{family}",
                             f"ct(commit,zone={zone}),{then}"))
        for (table, match_text), actions in sorted(clauses.items()):
            out.append(_flow(c, table, 40, match_text, ",".join(sorted(set(actions)))))
        return out


def _pipeline_flows(c: int) -> list[str]:
    """The port-independent part of the integration bridge pipeline."""
    to_port = "output:NXM_NX_REG7[]"
    out = [
        _flow(c, T_CLASSIFY, 0, "", "drop"),
        _flow(c, T_EGRESS_CT, 50, "ip", f"ct(table={T_EGRESS},zone={EGRESS_ZONE})"),
        _flow(c, T_EGRESS_CT, 50, "ipv6", f"ct(table={T_EGRESS},zone={EGRESS_ZONE})"),
        _flow(c, T_EGRESS_CT, 0, "", "drop"),
        _flow(c, T_EGRESS, 100, "ct_state=+inv+trk", "drop"),
        _flow(c, T_EGRESS, 95, "ct_state=+new+trk,tcp,tcp_flags=-syn", "drop"),
        _flow(c, T_EGRESS, 95, "ct_state=+new+trk,tcp6,tcp_flags=-syn", "drop"),
        _flow(c, T_EGRESS, 90, "ct_state=-new+est-inv+trk", f"goto_table:{T_FORWARD}"),
        _flow(c, T_EGRESS, 90, "ct_state=-new+rel-inv+trk", f"goto_table:{T_FORWARD}"),
        _flow(c, T_EGRESS, 0, "", "drop"),
        _flow(c, T_FORWARD, 0, "", "NORMAL"),
        _flow(c, T_INGRESS_CT, 100, "udp,tp_src=67,tp_dst=68", to_port),
        _flow(c, T_INGRESS_CT, 100, "udp6,tp_src=547,tp_dst=546", to_port),
        _flow(c, T_INGRESS_CT, 90, "arp", to_port),
        _flow(c, T_INGRESS_CT, 50, "ip", f"ct(table={T_INGRESS},zone={INGRESS_ZONE})"),
        _flow(c, T_INGRESS_CT, 50, "ipv6", f"ct(table={T_INGRESS},zone={INGRESS_ZONE})"),
        _flow(c, T_INGRESS_CT, 0, "", "drop"),
        _flow(c, T_INGRESS, 100, "ct_state=+inv+trk", "drop"),
        _flow(c, T_INGRESS, 95, "ct_state=+new+trk,tcp,tcp_flags=-syn", "drop"),
        _flow(c, T_INGRESS, 95, "ct_state=+new+trk,tcp6,tcp_flags=-syn", "drop"),
        _flow(c, T_INGRESS, 90, "ct_state=-new+est-inv+trk", to_port),
        _flow(c, T_INGRESS, 90, "ct_state=-new+rel-inv+trk", to_port),
        _flow(c, T_INGRESS, 0, "", "drop"),
        # Present while the agent's flows are: vanished after an ovs-vswitchd restart.
        _flow(c, T_CANARY, 0, "", "drop"),
    ]
    out += [_flow(c, T_INGRESS_CT, 100, f"icmp6,icmp_type={t}", to_port) for t in _ND_IN]
    return out


def integration_flows(cookie: int, ports: Iterable[WiredPort],
                      groups: Mapping[str, Mapping[str, Any]], segments: Iterable[Segment],
                      physical_patches: Mapping[str, int], tunnel_patch: int | None,
                      dead_ofports: Iterable[int] = ()) -> list[str]:
    """The whole flow table of the integration bridge.

    physical_patches: {physical network: ofport of its patch port on this bridge};
    tunnel_patch: ofport of the patch port to the tunnel bridge (None: no tunnels).
    """
    c = cookie
    out = _pipeline_flows(c)
    for ofport in sorted(set(dead_ofports)):
        out.append(_flow(c, T_CLASSIFY, 200, f"in_port={ofport}", "drop"))
    conj = Conjunctions()
    for port in sorted(ports, key=lambda p: p.ofport):
        try:
            out += _port_flows(c, port, groups, conj)
        except (ValueError, KeyError) as exc:  # one bad port must not stop the others
            LOG.error("port %s cannot be filtered and stays unreachable: %s", port.id, exc)
    out += conj.flows(c, sg_rules.all_members(groups))
    for patch in set(physical_patches.values()) | ({tunnel_patch} - {None}):
        out.append(_flow(c, T_CLASSIFY, 90, f"in_port={patch}", "drop"))
    for seg in segments:
        load = f"load:{seg.lvid}->NXM_NX_REG6[],goto_table:{T_FORWARD}"
        if seg.network_type == "vxlan" and tunnel_patch is not None:
            out.append(_flow(c, T_CLASSIFY, 100, f"in_port={tunnel_patch},dl_vlan={seg.lvid}",
                             load))
        elif seg.network_type in ("flat", "vlan") and seg.physical_network in physical_patches:
            patch = physical_patches[seg.physical_network]
            if seg.network_type == "flat":
                match = f"in_port={patch},vlan_tci=0x0000/0x1fff"
            else:
                match = f"in_port={patch},dl_vlan={seg.segmentation_id}"
            out.append(_flow(c, T_CLASSIFY, 100, match, f"mod_vlan_vid:{seg.lvid},{load}"))
    return out


def physical_flows(cookie: int, patch: int, segments: Iterable[Segment]) -> list[str]:
    """The flow table of a physical (external) bridge: local VLANs from the integration
    bridge become untagged (flat) or the network's VLAN (vlan); the rest is NORMAL."""
    c = cookie
    out = [_flow(c, 0, 0, "", "NORMAL"), _flow(c, 0, 1, f"in_port={patch}", "drop")]
    for seg in segments:
        if seg.network_type == "flat":
            out.append(_flow(c, 0, 2, f"in_port={patch},dl_vlan={seg.lvid}",
                             "strip_vlan,NORMAL"))
        elif seg.network_type == "vlan":
            out.append(_flow(c, 0, 2, f"in_port={patch},dl_vlan={seg.lvid}",
                             f"mod_vlan_vid:{seg.segmentation_id},NORMAL"))
    return out


def tunnel_flows(cookie: int, patch: int, tunnel_ofports: Iterable[int],
                 segments: Iterable[Segment]) -> list[str]:
    """The flow table of the tunnel bridge: local VLAN <-> VNI, MAC learning per
    network (table 20) so unicast goes to one peer, flooding to every peer otherwise."""
    c = cookie
    tunnels = sorted(set(tunnel_ofports))
    out = [_flow(c, 0, 0, "", "drop"), _flow(c, 0, 1, f"in_port={patch}", "goto_table:1"),
           _flow(c, 1, 0, "", "drop"), _flow(c, 4, 0, "", "drop"),
           _flow(c, 20, 0, "", "goto_table:22"), _flow(c, 22, 0, "", "drop"),
           _flow(c, 1, 1, "dl_dst=00:00:00:00:00:00/01:00:00:00:00:00", "goto_table:20"),
           _flow(c, 1, 1, "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00", "goto_table:22")]
    learn = (f"learn(table=20,hard_timeout=300,priority=1,cookie={c:#x},"
             "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
             "load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
             "output:OXM_OF_IN_PORT[])")
    out.append(_flow(c, 10, 1, "", f"{learn},output:{patch}"))
    for ofport in tunnels:
        out.append(_flow(c, 0, 1, f"in_port={ofport}", "goto_table:4"))
    for seg in segments:
        if seg.network_type != "vxlan" or seg.segmentation_id is None:
            continue
        out.append(_flow(c, 4, 1, f"tun_id={seg.segmentation_id:#x}",
                         f"mod_vlan_vid:{seg.lvid},goto_table:10"))
        if tunnels:
            outputs = ",".join(f"output:{t}" for t in tunnels)
            out.append(_flow(c, 22, 1, f"dl_vlan={seg.lvid}",
                             f"strip_vlan,set_tunnel:{seg.segmentation_id:#x},{outputs}"))
    return out
