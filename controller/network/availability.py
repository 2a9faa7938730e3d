"""network-ip-availabilities: how many addresses each network's subnets have and use."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller.db.models.network import IPAllocation, Network, Subnet
from controller.network import addresses, common
from controller.network import exceptions as exc
from controller.runtime import Runtime


def _subnet(subnet: Subnet, used: int) -> dict[str, Any]:
    total = sum(addresses.pool_size(p["start"], p["end"]) for p in subnet.allocation_pools)
    return {"subnet_id": subnet.id, "subnet_name": subnet.name, "cidr": subnet.cidr,
            "ip_version": subnet.ip_version, "total_ips": total, "used_ips": used}


def list_(rt: Runtime, ctx: RequestContext,
          network_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """One entry per network: totals (pool sizes) and used addresses, per subnet too."""
    with rt.db.session() as session:
        query = sa.select(Network).where(common.network_visible(ctx)).order_by(Network.id)
        if network_ids:
            query = query.where(Network.id.in_(network_ids))
        networks = list(session.scalars(query))
        counts = dict(session.execute(
            sa.select(IPAllocation.subnet_id, sa.func.count()).where(
                IPAllocation.network_id.in_([n.id for n in networks]))
            .group_by(IPAllocation.subnet_id)).all()) if networks else {}
        result = []
        for network in networks:
            per_subnet = [_subnet(s, counts.get(s.id, 0)) for s in network.subnets]
            result.append({
                "network_id": network.id, "network_name": network.name,
                "tenant_id": network.project_id, "project_id": network.project_id,
                "total_ips": sum(s["total_ips"] for s in per_subnet),
                "used_ips": sum(s["used_ips"] for s in per_subnet),
                "subnet_ip_availability": per_subnet})
        return result


def get(rt: Runtime, ctx: RequestContext, network_id: str) -> dict[str, Any]:
    """:raises NetworkNotFound:"""
    found = list_(rt, ctx, [network_id]) if common.is_uuid(network_id) else []
    if not found:
        raise exc.NetworkNotFound(f"Network {network_id} could not be found.")
    return found[0]
