"""The plain-dict shapes the agents receive (documented in common.rpc.network)."""

from __future__ import annotations

import collections
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.models.network import (
    IPAllocation,
    Network,
    Port,
    SecurityGroup,
    SecurityGroupPortBinding,
    Subnet,
)
from controller.network import segments


def subnet(row: Subnet) -> dict[str, Any]:
    return {"id": row.id, "network_id": row.network_id, "cidr": row.cidr,
            "ip_version": row.ip_version, "gateway_ip": row.gateway_ip,
            "enable_dhcp": row.enable_dhcp, "dns_nameservers": list(row.dns_nameservers),
            "host_routes": [dict(r) for r in row.host_routes],
            "allocation_pools": [dict(p) for p in row.allocation_pools],
            "ipv6_address_mode": row.ipv6_address_mode, "ipv6_ra_mode": row.ipv6_ra_mode}


def port(row: Port, network: Network) -> dict[str, Any]:
    provider = segments.view(network.segment)
    return {"id": row.id, "mac_address": row.mac_address, "network_id": row.network_id,
            "device_owner": row.device_owner, "device_id": row.device_id,
            "admin_state_up": row.admin_state_up and network.admin_state_up,
            "status": row.status, "binding_host": row.binding_host_id or None,
            "mtu": network.mtu, "network_type": provider["provider:network_type"],
            "physical_network": provider["provider:physical_network"],
            "segmentation_id": provider["provider:segmentation_id"],
            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                          for a in row.fixed_ips],
            "port_security_enabled": row.port_security_enabled,
            "security_group_ids": sorted(b.security_group_id
                                         for b in row.security_group_bindings),
            "allowed_address_pairs": [dict(p) for p in row.allowed_address_pairs]}


def ports(session: orm.Session, rows: list[Port]) -> list[dict[str, Any]]:
    """Payloads of many ports, loading their networks once."""
    ids = {row.network_id for row in rows}
    networks = {n.id: n for n in session.scalars(sa.select(Network).where(
        Network.id.in_(ids)))} if ids else {}
    return [port(row, networks[row.network_id]) for row in rows]


def with_subnets(session: orm.Session, row: Port, network: Network) -> dict[str, Any]:
    """A port plus the subnets of its addresses (router ports)."""
    subnet_ids = [a.subnet_id for a in row.fixed_ips]
    rows = session.scalars(sa.select(Subnet).where(Subnet.id.in_(subnet_ids))) \
        if subnet_ids else []
    return {**port(row, network), "subnets": [subnet(s) for s in rows]}


def member_ips(session: orm.Session, group_ids: set[str]) -> dict[str, list[str]]:
    """{group id: addresses of its member ports (fixed IPs and allowed pairs)}."""
    if not group_ids:
        return {}
    result: dict[str, set[str]] = collections.defaultdict(set)
    rows = session.execute(
        sa.select(SecurityGroupPortBinding.security_group_id, IPAllocation.ip_address)
        .join(IPAllocation, IPAllocation.port_id == SecurityGroupPortBinding.port_id)
        .where(SecurityGroupPortBinding.security_group_id.in_(group_ids)))
    for group_id, address in rows:
        result[group_id].add(address)
    pairs = session.execute(
        sa.select(SecurityGroupPortBinding.security_group_id, Port.allowed_address_pairs)
        .join(Port, Port.id == SecurityGroupPortBinding.port_id)
        .where(SecurityGroupPortBinding.security_group_id.in_(group_ids)))
    for group_id, port_pairs in pairs:
        result[group_id].update(p["ip_address"] for p in port_pairs or [])
    return {group_id: sorted(result.get(group_id, ())) for group_id in group_ids}


def security_groups(session: orm.Session, group_ids: set[str]) -> dict[str, dict[str, Any]]:
    """{group id: {"id", "rules", "member_ips"}} for the groups (and their remotes)."""
    if not group_ids:
        return {}
    groups = list(session.scalars(sa.select(SecurityGroup).where(
        SecurityGroup.id.in_(group_ids))))
    result = {}
    for group in groups:
        remotes = {r.remote_group_id for r in group.rules if r.remote_group_id}
        result[group.id] = {
            "id": group.id, "stateful": group.stateful,
            "rules": [{"id": r.id, "direction": r.direction, "ethertype": r.ethertype,
                       "protocol": r.protocol, "port_range_min": r.port_range_min,
                       "port_range_max": r.port_range_max,
                       "remote_ip_prefix": r.remote_ip_prefix,
                       "remote_group_id": r.remote_group_id} for r in group.rules],
            "member_ips": member_ips(session, remotes)}
    return result
