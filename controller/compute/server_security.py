"""Security groups and floating IPs of a server, through the compute API.

``server add/remove security group`` (actions addSecurityGroup/removeSecurityGroup)
changes the groups of every port of the server that has port security; the list
(GET /servers/{id}/os-security-groups) shows the groups of its ports in Nova's format.
The floating IP actions (addFloatingIp/removeFloatingIp, below microversion 2.44) are
what older clients send; OSC associates through the network API directly. Both only
delegate to the network service (``compute_ports``), which notifies the agents.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.models.network import FloatingIP, SecurityGroup
from controller.db.models.servers import Instance
from controller.network import compute_ports
from controller.network import exceptions as network_exceptions
from controller.runtime import Runtime


def add_security_group(rt: Runtime, ctx: RequestContext, instance: Instance,
                       name: str) -> None:
    """:raises SecurityGroupNotFound: (404) :raises BadRequest: already there, or the
    server has no port that takes groups. :raises Conflict: an ambiguous name."""
    compute_ports.add_security_group(rt, ctx, instance.uuid, name)


def remove_security_group(rt: Runtime, ctx: RequestContext, instance: Instance,
                          name: str) -> None:
    """:raises SecurityGroupNotFound: (404) :raises BadRequest: not on the server."""
    compute_ports.remove_security_group(rt, ctx, instance.uuid, name)


def security_groups(rt: Runtime, instance: Instance) -> list[SecurityGroup]:
    return compute_ports.security_groups_of(rt, instance.uuid)


def _rule_view(rule: Any, group: SecurityGroup, names: dict[str, tuple[str, str]]
               ) -> dict[str, Any]:
    protocol = rule.protocol
    low, high = rule.port_range_min, rule.port_range_max
    if protocol in ("icmp", "1"):
        low = -1 if low is None else low
        high = -1 if high is None else high
    view: dict[str, Any] = {"id": rule.id, "parent_group_id": group.id,
                            "ip_protocol": protocol, "from_port": low, "to_port": high,
                            "group": {}, "ip_range": {}}
    if rule.remote_group_id:
        name, project = names.get(rule.remote_group_id, ("", ""))
        view["group"] = {"name": name, "tenant_id": project}
    else:
        view["ip_range"] = {"cidr": rule.remote_ip_prefix or
                            ("0.0.0.0/0" if rule.ethertype == "IPv4" else "::/0")}
    return view


def security_groups_view(rt: Runtime, groups: list[SecurityGroup]) -> list[dict[str, Any]]:
    """Nova's view of groups (only their ingress rules, as Nova shows them)."""
    remote_ids = {r.remote_group_id for g in groups for r in g.rules if r.remote_group_id}
    names: dict[str, tuple[str, str]] = {}
    if remote_ids:
        with rt.db.session() as session:
            names = {row.id: (row.name, row.project_id) for row in session.execute(
                sa.select(SecurityGroup.id, SecurityGroup.name, SecurityGroup.project_id)
                .where(SecurityGroup.id.in_(remote_ids)))}
    return [{"id": group.id, "name": group.name, "description": group.description,
             "tenant_id": group.project_id,
             "rules": [_rule_view(rule, group, names) for rule in group.rules
                       if rule.direction == "ingress"]}
            for group in groups]


def add_floating_ip(rt: Runtime, ctx: RequestContext, instance: Instance, address: str,
                    fixed_address: str | None) -> None:
    """:raises FloatingIPNotFound: (404) :raises BadRequest: the server has no port (with
    fixed_address). :raises ExternalGatewayForFloatingIPNotFound: no router reaches it."""
    compute_ports.floating_ip_for_instance(rt, ctx, instance.uuid, address, fixed_address)


def remove_floating_ip(rt: Runtime, ctx: RequestContext, instance: Instance,
                       address: str) -> None:
    """:raises NotFound: no such floating IP of the caller's.
    :raises Conflict: it is not associated with this server (Nova's 409)."""
    query = sa.select(FloatingIP.id).where(FloatingIP.floating_ip_address == address)
    if not ctx.is_admin:
        query = query.where(FloatingIP.project_id == ctx.project_id)
    with rt.db.session() as session:
        if session.scalar(query) is None:
            raise exceptions.NotFound(f"floating IP {address} not found")
    try:
        compute_ports.remove_floating_ip(rt, ctx, instance.uuid, address)
    except network_exceptions.FloatingIPNotFound as exc:
        raise exceptions.Conflict(f"Floating IP {address} is not associated with instance "
                                  f"{instance.uuid}.") from exc
