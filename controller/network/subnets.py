"""Subnets: CIDR, gateway, allocation pools, DNS servers and host routes, validated."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import IPAllocation, Network, Port, RouterPort, Subnet
from controller.network import addresses, common, notify, quotas
from controller.network import exceptions as exc
from controller.runtime import Runtime

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")


def _gateway(network: addresses.Net, value: Any) -> str | None:
    """:raises InvalidInput: not an address of the subnet, or its network/broadcast."""
    if value is None:
        return None
    gateway = addresses.ip(value, "gateway_ip")
    bounds = addresses.usable_range(network)
    if gateway.version != network.version or gateway not in network or bounds is None \
            or not bounds[0] <= gateway <= bounds[1]:
        raise exc.InvalidInput(f"Invalid input for operation: Gateway IP {value} is not a "
                               f"usable address of subnet {network}.")
    return str(gateway)


def _pools(network: addresses.Net, pools: list[dict[str, Any]] | None,
           gateway: str | None) -> list[dict[str, str]]:
    """Validated allocation pools, or the default ones.

    :raises InvalidAllocationPool / OutOfBoundsAllocationPool /
        OverlappingAllocationPools / GatewayConflictWithAllocationPools:
    """
    gateway_ip = ipaddress.ip_address(gateway) if gateway else None
    if pools is None:
        return [{"start": str(a), "end": str(b)}
                for a, b in addresses.default_pools(network, gateway_ip)]
    bounds = addresses.usable_range(network)
    ranges = []
    for pool in pools:
        start = addresses.ip(pool.get("start"), "allocation_pools")
        end = addresses.ip(pool.get("end"), "allocation_pools")
        if start.version != network.version or end.version != network.version \
                or start > end:
            raise exc.InvalidAllocationPool(f"The allocation pool {start}-{end} is not "
                                            "valid.")
        if bounds is None or start < bounds[0] or end > bounds[1]:
            raise exc.OutOfBoundsAllocationPool(f"The allocation pool {start}-{end} spans "
                                                f"beyond the subnet cidr {network}.")
        if gateway_ip is not None and start <= gateway_ip <= end:
            raise exc.GatewayConflictWithAllocationPools(
                f"Gateway ip {gateway} conflicts with allocation pool {start}-{end}.")
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        if start <= end:
            raise exc.OverlappingAllocationPools(
                f"Found overlapping allocation pools: {ranges} for subnet {network}.")
    return [{"start": str(a), "end": str(b)} for a, b in ranges]


def _dns(rt: Runtime, servers: list[Any], version: int) -> list[str]:
    if len(servers) > rt.conf.network.max_dns_nameservers:
        raise exc.DNSNameServersExhausted(
            f"Unable to complete operation for the subnet. The number of DNS nameservers "
            f"exceeds the limit {rt.conf.network.max_dns_nameservers}.")
    result = [str(addresses.ip(server, "dns_nameservers")) for server in servers]
    if len(set(result)) != len(result):
        raise exc.InvalidInput("Invalid input for dns_nameservers. Reason: Duplicate "
                               "nameserver in the list.")
    return result


def _routes(rt: Runtime, routes: list[dict[str, Any]], version: int) -> list[dict[str, str]]:
    if len(routes) > rt.conf.network.max_subnet_host_routes:
        raise exc.HostRoutesExhausted(
            f"Unable to complete operation for the subnet. The number of host routes "
            f"exceeds the limit {rt.conf.network.max_subnet_host_routes}.")
    result = []
    for route in routes:
        destination = addresses.cidr(route.get("destination"), "host_routes")
        nexthop = addresses.ip(route.get("nexthop"), "host_routes")
        if destination.version != version or nexthop.version != version:
            raise exc.InvalidInput(f"Invalid input for host_routes. Reason: route {route} "
                                   f"is not IPv{version}.")
        item = {"destination": str(destination), "nexthop": str(nexthop)}
        if item in result:
            raise exc.InvalidInput("Invalid input for host_routes. Reason: Duplicate route "
                                   "in the list.")
        result.append(item)
    return result


def _ipv6_modes(body: dict[str, Any], version: int) -> tuple[str | None, str | None]:
    ra, address = body.get("ipv6_ra_mode"), body.get("ipv6_address_mode")
    if version == 4 and (ra or address):
        raise exc.InvalidInput("Invalid input for operation: ipv6_ra_mode or "
                               "ipv6_address_mode cannot be set when ip_version is 4.")
    if ra and address and ra != address:
        raise exc.InvalidInput(f"Invalid input for operation: ipv6_ra_mode set to '{ra}' "
                               f"with ipv6_address_mode set to '{address}' is not valid.")
    return ra, address


def _overlapping(session: orm.Session, network_id: str,
                 network: addresses.Net, exclude: str | None = None) -> Subnet | None:
    for subnet in session.scalars(sa.select(Subnet).where(Subnet.network_id == network_id)):
        if subnet.id != exclude and ipaddress.ip_network(subnet.cidr).overlaps(network):
            return subnet
    return None


def create(rt: Runtime, ctx: RequestContext, body: dict[str, Any]) -> Subnet:
    """:raises NetworkNotFound / InvalidInput / ... : see the helpers. :raises OverQuota:"""
    cidr = addresses.cidr(body.get("cidr"))
    version = body.get("ip_version", cidr.version)
    if version != cidr.version:
        raise exc.InvalidInput(f"Invalid input for operation: cidr '{cidr}' does not match "
                               f"the ip_version '{version}'.")
    gateway = _gateway(cidr, body["gateway_ip"]) if "gateway_ip" in body \
        else str(addresses.first_host(cidr)) if addresses.usable_range(cidr) else None
    pools = _pools(cidr, body.get("allocation_pools"), gateway)
    dns = _dns(rt, body.get("dns_nameservers") or [], version)
    routes = _routes(rt, body.get("host_routes") or [], version)
    ra_mode, address_mode = _ipv6_modes(body, version)
    project = common.owner(ctx, body)
    with rt.db.session() as session:
        network = common.get_network(session, ctx, body["network_id"])
        common.lock(session, Network, network.id)
        if _overlapping(session, network.id, cidr) is not None:
            raise exc.InvalidInput(f"Invalid input for operation: Requested subnet with "
                                   f"cidr: {cidr} for network: {network.id} overlaps with "
                                   "another subnet.")
        subnet = Subnet(id=common.new_id(), network_id=network.id, project_id=project,
                        name=body.get("name") or "",
                        description=body.get("description") or "", ip_version=version,
                        cidr=str(cidr), gateway_ip=gateway,
                        enable_dhcp=body.get("enable_dhcp", True), ipv6_ra_mode=ra_mode,
                        ipv6_address_mode=address_mode, allocation_pools=pools,
                        dns_nameservers=dns, host_routes=routes)
        session.add(subnet)
        session.flush()
        quotas.check(rt, session, project, "subnet", already_added=True)
    notify.Changes().network(subnet.network_id).send(rt, ctx)
    notify.event(rt, ctx, "subnet.create.end", {"id": subnet.id})
    return subnet


def get_row(session: orm.Session, ctx: RequestContext, subnet_id: str) -> Subnet:
    """:raises SubnetNotFound: absent, or on a network ctx cannot see."""
    row = session.get(Subnet, subnet_id) if common.is_uuid(subnet_id) else None
    if row is not None and not ctx.is_admin and row.project_id != ctx.project_id:
        network = session.get(Network, row.network_id)
        if not (network.shared or network.external or network.project_id == ctx.project_id):
            row = None
    if row is None:
        raise exc.SubnetNotFound(f"Subnet {subnet_id} could not be found.")
    return row


def get(rt: Runtime, ctx: RequestContext, subnet_id: str) -> Subnet:
    with rt.db.session() as session:
        return get_row(session, ctx, subnet_id)


def list_(rt: Runtime, ctx: RequestContext, filters: dict[str, list[str]]) -> list[Subnet]:
    query = sa.select(Subnet).order_by(Subnet.id)
    if not ctx.is_admin:
        query = query.where(sa.or_(Subnet.project_id == ctx.project_id,
                                   Subnet.network_id.in_(sa.select(Network.id).where(
                                       common.network_visible(ctx)))))
    for name, column in (("id", Subnet.id), ("network_id", Subnet.network_id),
                         ("name", Subnet.name), ("project_id", Subnet.project_id),
                         ("tenant_id", Subnet.project_id), ("cidr", Subnet.cidr)):
        if filters.get(name):
            query = query.where(column.in_(filters[name]))
    with rt.db.session() as session:
        return list(session.scalars(query))


def _router_ids(session: orm.Session, subnet_id: str) -> list[str]:
    return list(session.scalars(sa.select(RouterPort.router_id).where(
        RouterPort.port_id.in_(sa.select(IPAllocation.port_id).where(
            IPAllocation.subnet_id == subnet_id))).distinct()))


def update(rt: Runtime, ctx: RequestContext, subnet_id: str, body: dict[str, Any]) -> Subnet:
    """:raises InvalidInput / GatewayConflictWithAllocationPools / ...: as create."""
    with rt.db.session() as session:
        subnet = get_row(session, ctx, subnet_id)
        common.lock(session, Subnet, subnet.id)
        cidr = ipaddress.ip_network(subnet.cidr)
        if "gateway_ip" in body:
            gateway = _gateway(cidr, body["gateway_ip"])
            if gateway != subnet.gateway_ip and session.scalar(
                    sa.select(IPAllocation.port_id).join(Port).where(
                        IPAllocation.subnet_id == subnet.id,
                        IPAllocation.ip_address == subnet.gateway_ip,
                        Port.device_owner == common.ROUTER_INTERFACE)):
                raise exc.SubnetInUse(f"Unable to complete operation on subnet {subnet.id}: "
                                      f"Gateway ip {subnet.gateway_ip} is in use by a "
                                      "router interface.")
            subnet.gateway_ip = gateway
        pools = body.get("allocation_pools", subnet.allocation_pools)
        subnet.allocation_pools = _pools(cidr, pools, subnet.gateway_ip)
        if "dns_nameservers" in body:
            subnet.dns_nameservers = _dns(rt, body["dns_nameservers"] or [],
                                          subnet.ip_version)
        if "host_routes" in body:
            subnet.host_routes = _routes(rt, body["host_routes"] or [], subnet.ip_version)
        common.apply(subnet, body, ("name", "description", "enable_dhcp"))
        common.touch(subnet)
        changes = notify.Changes().network(subnet.network_id).router(
            *_router_ids(session, subnet.id))
    changes.send(rt, ctx)
    notify.event(rt, ctx, "subnet.update.end", {"id": subnet.id})
    return subnet


def delete(rt: Runtime, ctx: RequestContext, subnet_id: str) -> None:
    """Delete a subnet whose only addresses are held by DHCP ports.

    :raises SubnetNotFound: :raises SubnetInUse:
    """
    with rt.db.session() as session:
        subnet = get_row(session, ctx, subnet_id)
        common.lock(session, Network, subnet.network_id)
        holders = session.execute(sa.select(Port.id, Port.device_owner).join(
            IPAllocation, IPAllocation.port_id == Port.id).where(
            IPAllocation.subnet_id == subnet.id)).all()
        if any(owner != common.DHCP for _, owner in holders):
            raise exc.SubnetInUse(f"Unable to complete operation on subnet {subnet.id}: One "
                                  "or more ports have an IP allocation from this subnet.")
        session.execute(sa.delete(IPAllocation).where(IPAllocation.subnet_id == subnet.id))
        session.delete(subnet)
        changes = notify.Changes().network(subnet.network_id).port(
            *(port_id for port_id, _ in holders))
    changes.send(rt, ctx)
    notify.event(rt, ctx, "subnet.delete.end", {"id": subnet_id})
