"""Keeping conntrack honest when security groups change.

Conntrack zones are per port (``ovs_flows``). Two things would otherwise let traffic
through that the rules no longer allow:
- a rule deleted (or a remote group losing a member) leaves its established
  connections in the zone: after every pass, ports whose rules shrank get the
  connections no remaining rule admits cut (``conntrack.cut``);
- a port that leaves the bridge leaves its zone filled: the next port given the same
  ofport would inherit its connections, so the zone is emptied.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from agents.network import conntrack, sg_rules
from agents.network.exception import HostCommandError
from agents.network.ovs_flows import WiredPort

LOG = logging.getLogger(__name__)


class Revocation:
    """What each filtered port's rules admitted at the last pass, and its zone."""

    def __init__(self) -> None:
        self._rules: dict[str, tuple[Any, ...]] = {}
        self._zones: dict[str, int] = {}

    def update(self, wired: list[WiredPort], groups: Mapping[str, Mapping[str, Any]]) -> int:
        """Cut what the rules stopped admitting and empty the zones of ports that left;
        returns how many connections were cut. Failures are logged: filtering of new
        connections holds either way."""
        count = self._cut_revoked(wired, groups)
        self._flush_left_zones(wired)
        return count

    def _cut_revoked(self, wired: list[WiredPort],
                     groups: Mapping[str, Mapping[str, Any]]) -> int:
        count = 0
        members = {g: frozenset(v) for g, v in sg_rules.all_members(groups).items()}
        rules: dict[str, tuple[Any, ...]] = {}
        for port in wired:
            if not port.filtered:
                continue
            ingress = frozenset(sg_rules.port_matches(groups, port.security_group_ids,
                                                      "ingress"))
            egress = frozenset(sg_rules.port_matches(groups, port.security_group_ids,
                                                     "egress"))
            remotes = {m.group: members.get(m.group, frozenset())
                       for m in ingress | egress if m.group}
            rules[port.id] = (ingress, egress, remotes)
            before = self._rules.get(port.id)
            if before is None or (ingress >= before[0] and egress >= before[1] and all(
                    remotes.get(g, frozenset()) >= old for g, old in before[2].items())):
                continue

            def allowed(direction: str, conn: conntrack.Connection, port=port) -> bool:
                remote = conn.src if direction == "ingress" else conn.dst
                return sg_rules.admits(groups, port.security_group_ids, direction,
                                       conn.protocol, remote, conn.dport, conn.icmp_type,
                                       conn.icmp_code)

            try:
                count += conntrack.cut(port.ofport, set(port.ips), allowed)
            except HostCommandError as exc:
                LOG.warning("could not cut revoked connections of port %s: %s", port.id, exc)
        self._rules = rules
        return count

    def _flush_left_zones(self, wired: list[WiredPort]) -> None:
        zones = {p.id: p.ofport for p in wired if p.filtered}
        for port_id, zone in self._zones.items():
            if zones.get(port_id) != zone and zone not in zones.values():
                try:
                    conntrack.flush_zone(zone)
                except HostCommandError as exc:
                    LOG.warning("could not empty conntrack zone %s: %s", zone, exc)
        self._zones = zones
