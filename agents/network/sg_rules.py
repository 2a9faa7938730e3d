"""Security group rules as OpenFlow match strings.

A rule is an allow: its protocol, port range (as value/mask pairs, which is how OpenFlow
matches ranges), ICMP type/code and remote (a prefix, or every member IP of a remote
group) become one or more matches. The caller adds the port, direction and conntrack
parts. Rules the host cannot express (an unknown protocol name, a prefix of the other IP
version) match nothing and are logged, never fatal.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Iterable, Mapping
from typing import Any

LOG = logging.getLogger(__name__)

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "sctp": 132, "icmpv6": 58,
                    "ipv6-icmp": 58, "ah": 51, "esp": 50, "gre": 47, "igmp": 2}
# Protocols whose ports OpenFlow can match, by number: (IPv4 keyword, IPv6 keyword).
_L4 = {6: ("tcp", "tcp6"), 17: ("udp", "udp6"), 132: ("sctp", "sctp6")}


def port_range_masks(low: int | None, high: int | None) -> list[str]:
    """The value/mask pairs covering low..high (empty list: any port).

    >>> port_range_masks(80, 80)
    ['80']
    >>> port_range_masks(1000, 1003)
    ['0x03e8/0xfffc']
    """
    if low is None and high is None:
        return []
    low = 1 if low is None else int(low)
    high = low if high is None else int(high)
    if not 0 <= low <= high <= 65535:
        raise ValueError(f"port range {low}-{high} is not within 0..65535")
    if low <= 1 and high == 65535:
        return []
    out = []
    while low <= high:
        size = 1
        # Grow the block while it stays aligned and inside the range.
        while low % (size * 2) == 0 and low + size * 2 - 1 <= high:
            size *= 2
        if size == 1:
            out.append(str(low))
        else:
            out.append(f"0x{low:04x}/0x{(0xffff - size + 1):04x}")
        low += size
    return out


def protocol_number(protocol: Any, ethertype: str) -> int | None:
    """The IP protocol number of a rule's protocol (None: any protocol).

    :raises ValueError: an unknown protocol name or a number outside 0..255.
    """
    if protocol in (None, "", "any"):
        return None
    text = str(protocol).lower()
    if text.isdecimal():
        number = int(text)
        if not 0 <= number <= 255:
            raise ValueError(f"protocol number {number} is outside 0..255")
    elif text in PROTOCOL_NUMBERS:
        number = PROTOCOL_NUMBERS[text]
    else:
        raise ValueError(f"unknown protocol {protocol!r}")
    if ethertype == "IPv6" and number == 1:
        number = 58  # "icmp" on an IPv6 rule means ICMPv6, as Neutron reads it
    return number


@dataclasses.dataclass(frozen=True)
class Match:
    """What one rule admits: a protocol/port match and, when the rule names a remote,
    the address field with a prefix or a remote group (whose members fill it in)."""

    base: str
    version: int = 4
    field: str | None = None
    remote: str | None = None
    group: str | None = None

    def expand(self, members: Mapping[str, Iterable[str]]) -> list[str]:
        """Plain match strings (a remote group expanded to its members)."""
        if self.remote is not None:
            return [f"{self.base},{self.field}={self.remote}"]
        if self.group is not None:
            return [f"{self.base},{self.field}={m}"
                    for m in member_addresses(members, self.group, self.version)]
        return [self.base]


def member_addresses(members: Mapping[str, Iterable[str]], group_id: str,
                     version: int) -> list[str]:
    """The addresses (or CIDRs, from allowed address pairs) of a remote group's members
    of one IP version, as OpenFlow matches write them."""
    out = set()
    for addr in members.get(group_id, []):
        try:
            net = ipaddress.ip_network(str(addr), strict=False)
        except ValueError:
            LOG.warning("remote group %s lists a bad address %r", group_id, addr)
            continue
        if net.version == version:
            out.add(str(net.network_address) if net.prefixlen == net.max_prefixlen
                    else str(net))
    return sorted(out)


def rule_parts(rule: Mapping[str, Any]) -> list[Match]:
    """The matches of one rule (several when a port range needs several masks).

    :raises ValueError: the rule cannot be expressed (bad protocol, prefix or ports).
    """
    ethertype = rule.get("ethertype") or "IPv4"
    if ethertype not in ("IPv4", "IPv6"):
        raise ValueError(f"unknown ethertype {ethertype!r}")
    version = 4 if ethertype == "IPv4" else 6
    number = protocol_number(rule.get("protocol"), ethertype)
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if number in _L4:
        bases = [_L4[number][version == 6] + (f",tp_dst={m}" if m else "")
                 for m in port_range_masks(low, high) or [""]]
    elif number in (1, 58):
        base = "icmp" if number == 1 else "icmp6"
        if low is not None:
            base += f",icmp_type={int(low)}"
            if high is not None:
                base += f",icmp_code={int(high)}"
        bases = [base]
    elif number is None:
        bases = ["ip" if version == 4 else "ipv6"]
    else:
        bases = [f"{'ip' if version == 4 else 'ipv6'},nw_proto={number}"]
    field = ("nw_src" if version == 4 else "ipv6_src") if rule.get("direction") == "ingress" \
        else ("nw_dst" if version == 4 else "ipv6_dst")
    if rule.get("remote_group_id"):
        return [Match(b, version, field, group=str(rule["remote_group_id"])) for b in bases]
    if rule.get("remote_ip_prefix"):
        net = ipaddress.ip_network(str(rule["remote_ip_prefix"]), strict=False)
        if net.version != version:
            return []
        if net.prefixlen:
            return [Match(b, version, field, remote=str(net)) for b in bases]
    return [Match(b, version) for b in bases]


def rule_matches(rule: Mapping[str, Any], members: Mapping[str, Iterable[str]]) -> list[str]:
    """Match strings (no port, direction or conntrack parts) admitting what rule allows.

    :raises ValueError: the rule cannot be expressed (bad protocol, prefix or ports).
    """
    return [m for part in rule_parts(rule) for m in part.expand(members)]


def port_matches(groups: Mapping[str, Mapping[str, Any]], group_ids: Iterable[str],
                 direction: str) -> list[Match]:
    """Deduplicated matches of every direction rule of the groups a port is in."""
    out: dict[Match, None] = {}
    for group_id in group_ids:
        group = groups.get(group_id)
        if group is None:
            LOG.warning("security group %s is unknown to the agent; its rules match "
                        "nothing until the next resync", group_id)
            continue
        for rule in group.get("rules", []):
            if rule.get("direction") != direction:
                continue
            try:
                for match in rule_parts(rule):
                    out.setdefault(match)
            except ValueError as exc:
                LOG.warning("security group rule %s ignored: %s", rule.get("id"), exc)
    return list(out)


def all_members(groups: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """{remote group id: member addresses} merged from every group's member_ips."""
    out: dict[str, set[str]] = {}
    for group in groups.values():
        for remote, addresses in (group.get("member_ips") or {}).items():
            out.setdefault(remote, set()).update(addresses)
    return {k: sorted(v) for k, v in out.items()}


def group_matches(groups: Mapping[str, Mapping[str, Any]], group_ids: Iterable[str],
                  direction: str) -> list[str]:
    """Plain match strings of port_matches (remote groups expanded)."""
    members = all_members(groups)
    out: dict[str, None] = {}
    for match in port_matches(groups, group_ids, direction):
        for text in match.expand(members):
            out.setdefault(text)
    return list(out)


def admits(groups: Mapping[str, Mapping[str, Any]], group_ids: Iterable[str], direction: str,
           protocol: int, remote_ip: str, dport: int | None = None,
           icmp_type: int | None = None, icmp_code: int | None = None) -> bool:
    """Whether any direction rule of the groups admits a connection with the remote end
    remote_ip (the source of an ingress connection, the destination of an egress one)."""
    remote = ipaddress.ip_address(remote_ip)
    ethertype = "IPv4" if remote.version == 4 else "IPv6"
    for group_id in group_ids:
        group = groups.get(group_id) or {}
        members = group.get("member_ips") or {}
        for rule in group.get("rules", []):
            if rule.get("direction") != direction or (rule.get("ethertype") or "IPv4") \
                    != ethertype:
                continue
            try:
                if _rule_admits(rule, members, protocol, remote, dport, icmp_type, icmp_code):
                    return True
            except ValueError:
                continue
    return False


def _rule_admits(rule: Mapping[str, Any], members: Mapping[str, Iterable[str]], protocol: int,
                 remote: ipaddress.IPv4Address | ipaddress.IPv6Address, dport: int | None,
                 icmp_type: int | None, icmp_code: int | None) -> bool:
    number = protocol_number(rule.get("protocol"), rule.get("ethertype") or "IPv4")
    if number is not None and number != protocol:
        return False
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if number in _L4 and dport is not None and (low is not None or high is not None):
        low = 0 if low is None else int(low)
        high = low if high is None else int(high)
        if not low <= dport <= high:
            return False
    if number in (1, 58) and low is not None:
        if icmp_type != int(low) or (high is not None and icmp_code != int(high)):
            return False
    if rule.get("remote_group_id"):
        nets = []
        for addr in members.get(rule["remote_group_id"], []):
            try:
                nets.append(ipaddress.ip_network(str(addr), strict=False))
            except ValueError:
                continue
        return any(remote in net for net in nets if net.version == remote.version)
    if rule.get("remote_ip_prefix"):
        net = ipaddress.ip_network(str(rule["remote_ip_prefix"]), strict=False)
        return net.version == remote.version and remote in net
    return True
