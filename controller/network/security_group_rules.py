"""Security group rules: validation as Neutron does it, create, list, show, delete."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller.db.models.network import SecurityGroup, SecurityGroupRule
from controller.network import addresses, common, notify, quotas, security_groups
from controller.network import exceptions as exc
from controller.runtime import Runtime

PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "icmp": 1,
             "icmpv6": 58, "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44,
             "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43,
             "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17,
             "udplite": 136, "vrrp": 112}
PORT_PROTOCOLS = {6, 17, 33, 132, 136}  # protocols with port numbers
ICMP_PROTOCOLS = {1, 58}


def _protocol(value: Any) -> tuple[str | None, int | None]:
    """(stored protocol, its number) from a name, a number or a number as text.

    :raises SecurityGroupRuleInvalidProtocol:
    """
    if value is None or value in ("any", ""):
        return None, None
    text = str(value).lower() if not isinstance(value, bool) else ""
    if text in PROTOCOLS:
        return text, PROTOCOLS[text]
    if text.isdecimal() and 0 <= int(text) <= 255:
        return str(int(text)), int(text)
    raise exc.SecurityGroupRuleInvalidProtocol(
        f"Security group rule protocol {value} not supported. Only protocol values "
        f"[None, {', '.join(sorted(PROTOCOLS))}] and integer representations [0 to 255] "
        "are supported.")


def _ports(number: int | None, low: Any, high: Any) -> tuple[int | None, int | None]:
    """:raises SecurityGroupInvalidPortRange / SecurityGroupInvalidPortValue /
    SecurityGroupInvalidIcmpValue / InvalidInput: port range that does not fit."""
    if low is None and high is None:
        return None, None
    if number is None or (number not in PORT_PROTOCOLS and number not in ICMP_PROTOCOLS):
        raise exc.InvalidInput("Invalid input for operation: port range can only be given "
                               "with protocol tcp, udp, sctp, dccp, udplite or icmp.")
    if number in ICMP_PROTOCOLS:
        if low is None:
            raise exc.SecurityGroupInvalidIcmpValue(
                f"ICMP code (port-range-max) {high} is provided but ICMP type "
                "(port-range-min) is missing.")
        for field, value in (("type", low), ("code", high)):
            if value is not None and not 0 <= value <= 255:
                raise exc.SecurityGroupInvalidIcmpValue(
                    f"Invalid value for ICMP {field} (port-range-min/max): {value}. It "
                    "must be 0 to 255.")
        return low, high
    low = high if low is None else low
    high = low if high is None else high
    for value in (low, high):
        if not 1 <= value <= 65535:
            raise exc.SecurityGroupInvalidPortValue(f"Invalid value for port {value}.")
    if low > high:
        raise exc.SecurityGroupInvalidPortRange(
            "For TCP/UDP protocols, port_range_min must be <= port_range_max")
    return low, high


def _same(rule: SecurityGroupRule, values: dict[str, Any]) -> bool:
    return all(getattr(rule, name) == value for name, value in values.items())


def create(rt: Runtime, ctx: RequestContext, body: dict[str, Any]) -> SecurityGroupRule:
    """Add a rule to a group the caller owns.

    :raises SecurityGroupNotFound: the group or the remote group.
    :raises SecurityGroupRuleExists: an identical rule is there already.
    :raises OverQuota:
    """
    ethertype = body.get("ethertype") or "IPv4"
    protocol, number = _protocol(body.get("protocol"))
    low, high = _ports(number, body.get("port_range_min"), body.get("port_range_max"))
    prefix = body.get("remote_ip_prefix")
    if prefix is not None and body.get("remote_group_id") is not None:
        raise exc.SecurityGroupRemoteGroupAndRemoteIpPrefix(
            "Only remote_ip_prefix or remote_group_id may be provided.")
    if prefix is not None:
        network = addresses.cidr(prefix, "remote_ip_prefix", strict=False)
        if f"IPv{network.version}" != ethertype:
            raise exc.SecurityGroupRuleParameterConflict(
                f"Conflicting value ethertype {ethertype} for CIDR {prefix}")
        prefix = str(network)
    with rt.db.session() as session:
        group = security_groups.get_row(session, ctx, body["security_group_id"])
        remote = body.get("remote_group_id")
        if remote is not None:
            remote = security_groups.get_row(session, ctx, remote).id
        values = {"direction": body["direction"], "ethertype": ethertype,
                  "protocol": protocol, "port_range_min": low, "port_range_max": high,
                  "remote_ip_prefix": prefix, "remote_group_id": remote}
        common.lock(session, SecurityGroup, group.id)
        for existing in session.scalars(sa.select(SecurityGroupRule).where(
                SecurityGroupRule.security_group_id == group.id)):
            if _same(existing, values):
                raise exc.SecurityGroupRuleExists(
                    f"Security group rule already exists. Rule id is {existing.id}.")
        rule = SecurityGroupRule(id=common.new_id(), project_id=group.project_id,
                                 security_group_id=group.id,
                                 description=body.get("description") or "", **values)
        session.add(rule)
        session.flush()
        quotas.check(rt, session, group.project_id, "security_group_rule",
                     already_added=True)
        common.touch(group)
    notify.Changes().groups([group.id]).send(rt, ctx)
    notify.event(rt, ctx, "security_group_rule.create.end", {"id": rule.id})
    return rule


def _visible(ctx: RequestContext):
    if ctx.is_admin:
        return sa.true()
    return SecurityGroupRule.security_group_id.in_(
        sa.select(SecurityGroup.id).where(SecurityGroup.project_id == ctx.project_id))


def get(rt: Runtime, ctx: RequestContext, rule_id: str) -> SecurityGroupRule:
    """:raises SecurityGroupRuleNotFound: absent or in another project's group."""
    with rt.db.session() as session:
        row = session.scalars(sa.select(SecurityGroupRule).where(
            SecurityGroupRule.id == rule_id, _visible(ctx))).first() \
            if common.is_uuid(rule_id) else None
        if row is None:
            raise exc.SecurityGroupRuleNotFound(
                f"Security group rule {rule_id} does not exist")
        return row


def list_(rt: Runtime, ctx: RequestContext) -> list[SecurityGroupRule]:
    with rt.db.session() as session:
        if ctx.project_id:
            security_groups.ensure_default(session, ctx.project_id)
        return list(session.scalars(sa.select(SecurityGroupRule).where(_visible(ctx))
                                    .order_by(SecurityGroupRule.created_at,
                                              SecurityGroupRule.id)))


def delete(rt: Runtime, ctx: RequestContext, rule_id: str) -> None:
    rule = get(rt, ctx, rule_id)
    with rt.db.session() as session:
        session.execute(sa.delete(SecurityGroupRule).where(SecurityGroupRule.id == rule.id))
        group = session.get(SecurityGroup, rule.security_group_id)
        if group is not None:
            common.touch(group)
    notify.Changes().groups([rule.security_group_id]).send(rt, ctx)
    notify.event(rt, ctx, "security_group_rule.delete.end", {"id": rule_id})
