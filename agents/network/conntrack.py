"""Connections the security groups no longer allow, found and cut.

Conntrack lets established connections pass without looking at the rules again, so a
deleted rule would keep working for connections opened while it existed. After a
port's rules shrink, the OVS agent reads the connections of the port's zone (the
network's local VLAN) from the userspace datapath, checks each one whose original
direction starts or ends at the port against the rules that are left, and flushes
exactly those no rule admits any more; connections still allowed are left alone.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable

from agents.network.exception import HostCommandError
from common import processutils

LOG = logging.getLogger(__name__)

_PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "icmpv6": 58}
_LINE_RE = re.compile(r"^(?P<proto>\w+),orig=\((?P<orig>[^)]*)\),reply=\([^)]*\)"
                      r"(?:,zone=(?P<zone>\d+))?")


@dataclasses.dataclass(frozen=True)
class Connection:
    """The original direction of one conntrack entry."""

    zone: int
    protocol: int
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    icmp_id: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None

    def flush_tuple(self) -> str:
        """The ct-tuple argument of ``dpctl/flush-conntrack`` naming this entry."""
        v6 = ":" in self.src
        fields = [f"ct_{'ipv6' if v6 else 'nw'}_src={self.src}",
                  f"ct_{'ipv6' if v6 else 'nw'}_dst={self.dst}",
                  f"ct_nw_proto={self.protocol}"]
        if self.sport is not None:
            fields += [f"ct_tp_src={self.sport}", f"ct_tp_dst={self.dport}"]
        if self.icmp_type is not None:
            fields += [f"icmp_id={self.icmp_id}", f"icmp_type={self.icmp_type}",
                       f"icmp_code={self.icmp_code}"]
        return ",".join(fields)


def parse(text: str) -> list[Connection]:
    """Entries of ``dpctl/dump-conntrack`` output that have a zone."""
    out = []
    for line in text.splitlines():
        match = _LINE_RE.match(line.strip())
        if not match or match.group("zone") is None:
            continue
        proto = match.group("proto")
        number = _PROTOCOLS.get(proto)
        fields = dict(kv.split("=", 1) for kv in match.group("orig").split(",") if "=" in kv)
        if number is None or "src" not in fields or "dst" not in fields:
            continue
        nums = {k: int(v) for k, v in fields.items() if v.isdecimal()}
        out.append(Connection(zone=int(match.group("zone")), protocol=number,
                              src=fields["src"], dst=fields["dst"], sport=nums.get("sport"),
                              dport=nums.get("dport"), icmp_id=nums.get("id"),
                              icmp_type=nums.get("type"), icmp_code=nums.get("code")))
    return out


def connections(zone: int) -> list[Connection]:
    """The connections of a conntrack zone.

    :raises HostCommandError: ovs-appctl failed.
    """
    try:
        return parse(processutils.execute(["ovs-appctl", "dpctl/dump-conntrack",
                                           f"zone={int(zone)}"]))
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"cannot read conntrack zone {zone}: {exc}") from exc


def flush(conn: Connection) -> None:
    """Forget one connection (its next packet is new again, and judged by the rules).

    :raises HostCommandError: ovs-appctl failed.
    """
    try:
        processutils.execute(["ovs-appctl", "dpctl/flush-conntrack", f"zone={conn.zone}",
                              conn.flush_tuple()])
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"cannot flush a conntrack entry: {exc}") from exc


def cut(zone: int, addresses: set[str],
        allowed: Callable[[str, Connection], bool]) -> int:
    """Flush the connections of zone to or from addresses that allowed(direction,
    connection) refuses (direction ``ingress`` when the connection was opened towards
    one of addresses, ``egress`` when it was opened from one); returns how many.

    :raises HostCommandError: ovs-appctl failed.
    """
    count = 0
    for conn in connections(zone):
        for direction, ours in (("ingress", conn.dst), ("egress", conn.src)):
            if ours in addresses and not allowed(direction, conn):
                LOG.info("cutting a %s connection %s -> %s (zone %s) no rule allows now",
                         direction, conn.src, conn.dst, zone)
                flush(conn)
                count += 1
                break
    return count


def flush_zone(zone: int) -> None:
    """Forget every connection of a zone.

    :raises HostCommandError: ovs-appctl failed.
    """
    try:
        processutils.execute(["ovs-appctl", "dpctl/flush-conntrack", f"zone={int(zone)}"])
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"cannot flush conntrack zone {zone}: {exc}") from exc
