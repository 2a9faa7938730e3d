"""add_router_interface / remove_router_interface, by subnet or by port."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import FloatingIP, Network, Port, Router, RouterPort
from controller.network import common, notify, ports, routers, subnets
from controller.network import exceptions as exc
from controller.runtime import Runtime


def _info(router: Router, port: Port) -> dict[str, Any]:
    """The response body of both calls."""
    subnet_ids = [a.subnet_id for a in port.fixed_ips]
    return {"id": router.id, "tenant_id": router.project_id, "project_id": router.project_id,
            "port_id": port.id, "network_id": port.network_id,
            "subnet_id": subnet_ids[0] if subnet_ids else None, "subnet_ids": subnet_ids}


def _which(body: dict[str, Any]) -> tuple[str | None, str | None]:
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    if not subnet_id and not port_id:
        raise exc.BadRequest("Bad router request: Either subnet_id or port_id must be "
                             "specified.")
    return subnet_id, port_id


def add(rt: Runtime, ctx: RequestContext, router_id: str, body: dict[str, Any]) -> dict:
    """Attach the router to a subnet (taking its gateway address) or to a free port.

    :raises SubnetNotFound / PortNotFound: not visible to the caller.
    :raises BadRequest: no gateway, overlapping subnets, both or neither given.
    :raises PortInUse / IpAddressInUse: the port or the gateway address is taken.
    """
    subnet_id, port_id = _which(body)
    if subnet_id and port_id:
        raise exc.BadRequest("Bad router request: Cannot specify both subnet-id and "
                             "port-id.")
    with rt.db.session() as session:
        router = routers.get_row(session, ctx, router_id)
        common.lock(session, Router, router.id)
        if subnet_id:
            subnet = subnets.get_row(session, ctx, subnet_id)
            if not subnet.gateway_ip:
                raise exc.BadRequest("Bad router request: Subnet for router interface must "
                                     "have a gateway IP.")
            network = session.get(Network, subnet.network_id)
            if not (ctx.is_admin or network.shared
                    or network.project_id == router.project_id):
                raise exc.BadRequest(f"Bad router request: network {network.id} belongs "
                                     "to another project; a router may join it through "
                                     "its gateway only.")
            routers.check_overlap(session, router.id, [subnet])
            ports.share_lock(session, network.id)
            port = ports.create_in_session(session, rt, ctx, network, {
                "device_owner": common.ROUTER_INTERFACE, "device_id": router.id,
                "fixed_ips": [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}],
                "binding:host_id": router.host, "port_security_enabled": False},
                project_id=router.project_id, count_quota=False)
        else:
            port = ports.get_row(session, ctx, port_id)
            if port.device_id or port.device_owner:
                raise exc.PortInUse(f"Unable to complete operation on port {port.id} for "
                                    f"network {port.network_id}. Port already has an "
                                    f"attached device {port.device_id}.")
            if not port.fixed_ips:
                raise exc.BadRequest("Bad router request: Router port must have at least "
                                     "one fixed IP.")
            routers.check_overlap(session, router.id, routers.subnets_of(session, [port]))
            old_groups = [b.security_group_id for b in port.security_group_bindings]
            port.device_owner, port.device_id = common.ROUTER_INTERFACE, router.id
            port.security_group_bindings.clear()
            ports.bind(port, router.host)
            common.touch(port)
            session.flush()
        session.add(RouterPort(router_id=router.id, port_id=port.id,
                               port_type=common.ROUTER_INTERFACE))
        common.touch(router)
        session.flush()
        info = _info(router, port)
        changes = notify.Changes().router(router.id).port(port.id).network(port.network_id)
        if port_id:
            changes.groups(old_groups)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "router.interface.create", info)
    return info


def _interface_for_subnet(session: orm.Session, router: Router, subnet_id: str) -> Port:
    for port in routers.port_rows(session, router.id, common.ROUTER_INTERFACE):
        if any(a.subnet_id == subnet_id for a in port.fixed_ips):
            return port
    raise exc.RouterInterfaceNotFoundForSubnet(f"Router {router.id} has no interface on "
                                               f"subnet {subnet_id}")


def _check_unused(session: orm.Session, router: Router, port: Port,
                  subnet_ids: list[str]) -> None:
    """:raises RouterInterfaceInUseByFloatingIP / RouterInterfaceInUseByRoute:"""
    cidrs = [ipaddress.ip_network(s.cidr) for s in routers.subnets_of(session, [port])
             if s.id in subnet_ids]
    for fip in session.scalars(sa.select(FloatingIP).where(FloatingIP.router_id == router.id,
                                                           FloatingIP.fixed_ip_address
                                                           .is_not(None))):
        if any(ipaddress.ip_address(fip.fixed_ip_address) in net for net in cidrs):
            raise exc.RouterInterfaceInUseByFloatingIP(
                f"Router interface for subnet {subnet_ids[0]} on router {router.id} cannot "
                "be deleted, as it is required by one or more floating IPs.")
    for route in router.routes:
        if any(ipaddress.ip_address(route.nexthop) in net for net in cidrs):
            raise exc.RouterInterfaceInUseByRoute(
                f"Router interface for subnet {subnet_ids[0]} on router {router.id} cannot "
                "be deleted, as it is required by one or more routes.")


def remove(rt: Runtime, ctx: RequestContext, router_id: str, body: dict[str, Any]) -> dict:
    """Detach the router from a subnet or port; the interface port is deleted.

    :raises RouterInterfaceNotFound / RouterInterfaceNotFoundForSubnet:
    :raises RouterInterfaceInUseByFloatingIP / RouterInterfaceInUseByRoute:
    """
    subnet_id, port_id = _which(body)
    with rt.db.session() as session:
        router = routers.get_row(session, ctx, router_id)
        common.lock(session, Router, router.id)
        if port_id:
            port = session.get(Port, port_id) if common.is_uuid(port_id) else None
            if port is None or port.device_id != router.id or \
                    port.device_owner != common.ROUTER_INTERFACE:
                raise exc.RouterInterfaceNotFound(f"Router {router.id} does not have an "
                                                  f"interface with id {port_id}")
            if subnet_id and subnet_id not in [a.subnet_id for a in port.fixed_ips]:
                raise exc.SubnetNotFound(f"Subnet {subnet_id} could not be found.")
        else:
            port = _interface_for_subnet(session, router, subnet_id)
        removing = [subnet_id] if subnet_id else [a.subnet_id for a in port.fixed_ips]
        _check_unused(session, router, port, removing)
        info = _info(router, port)
        if subnet_id and not port_id:
            info["subnet_id"], info["subnet_ids"] = subnet_id, [subnet_id]
        remaining = [a for a in port.fixed_ips if a.subnet_id not in removing]
        changes = notify.Changes().router(router.id).port(port.id).network(port.network_id)
        if remaining:
            for allocation in [a for a in port.fixed_ips if a.subnet_id in removing]:
                session.delete(allocation)
        else:
            session.delete(port)
        common.touch(router)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "router.interface.delete", info)
    return info
