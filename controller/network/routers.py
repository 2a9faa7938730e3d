"""Routers: create, list, show, update (gateway, routes), delete, and extra routes.

A router's gateway is a port on an external network (device_owner
network:router_gateway, no project); its interfaces are in router_interfaces. The L3
agent that hosts it is chosen at creation (the live one with the fewest routers), or
at the first resync of an L3 agent when none was alive.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import (
    FloatingIP,
    Port,
    Router,
    RouterPort,
    RouterRoute,
    Subnet,
)
from controller.network import addresses, agents, common, notify, ports, quotas
from controller.network import exceptions as exc
from controller.runtime import Runtime


def get_row(session: orm.Session, ctx: RequestContext, router_id: str) -> Router:
    """:raises RouterNotFound: absent, or another project's."""
    return common.get_owned(session, ctx, Router, router_id, exc.RouterNotFound, "Router")


def port_rows(session: orm.Session, router_id: str,
              port_type: str | None = None) -> list[Port]:
    query = sa.select(Port).join(RouterPort, RouterPort.port_id == Port.id).where(
        RouterPort.router_id == router_id).order_by(Port.created_at, Port.id)
    if port_type:
        query = query.where(RouterPort.port_type == port_type)
    return list(session.scalars(query))


def subnets_of(session: orm.Session, port_list: list[Port]) -> list[Subnet]:
    ids = [a.subnet_id for port in port_list for a in port.fixed_ips]
    if not ids:
        return []
    return list(session.scalars(sa.select(Subnet).where(Subnet.id.in_(ids))))


def check_overlap(session: orm.Session, router_id: str, new: list[Subnet],
                  exclude_port: str | None = None) -> None:
    """:raises BadRequest: a new subnet overlaps one the router is already on."""
    existing = subnets_of(session, [p for p in port_rows(session, router_id)
                                    if p.id != exclude_port])
    for subnet in new:
        for other in existing:
            if other.id == subnet.id:
                raise exc.BadRequest(f"Bad router request: Router already has a port on "
                                     f"subnet {subnet.id}.")
            if ipaddress.ip_network(other.cidr).overlaps(ipaddress.ip_network(subnet.cidr)):
                raise exc.BadRequest(f"Bad router request: Cidr {subnet.cidr} of subnet "
                                     f"{subnet.id} overlaps with cidr {other.cidr} of subnet "
                                     f"{other.id}.")


def _floating_ips_through(session: orm.Session, router_id: str) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(FloatingIP).where(
        FloatingIP.router_id == router_id)) or 0


def _remove_gateway(session: orm.Session, router: Router, changes: notify.Changes) -> None:
    """:raises RouterExternalGatewayInUseByFloatingIp:"""
    if router.gw_port_id is None:
        return
    if _floating_ips_through(session, router.id):
        raise exc.RouterExternalGatewayInUseByFloatingIp(
            f"Gateway cannot be updated for router {router.id}, since a gateway to external "
            f"network {router.gw_port.network_id} is required by one or more floating IPs.")
    changes.port(router.gw_port_id)
    port = router.gw_port
    router.gw_port = None
    session.flush()
    session.delete(port)
    session.flush()


def _set_gateway(rt: Runtime, session: orm.Session, ctx: RequestContext, router: Router,
                 info: dict[str, Any] | None, changes: notify.Changes) -> None:
    """Make the router's gateway what info says (None or {} removes it).

    :raises NetworkNotFound / BadRequest: not a visible external network, or overlaps.
    """
    if not info or not info.get("network_id"):
        if info and ("enable_snat" in info or "external_fixed_ips" in info):
            raise exc.InvalidInput("Invalid input for external_gateway_info. Reason: "
                                   "network_id is required.")
        _remove_gateway(session, router, changes)
        return
    network = common.get_network(session, ctx, info["network_id"])
    if not network.external:
        raise exc.BadRequest(f"Bad router request: Network {network.id} is not an external "
                             "network.")
    if "enable_snat" in info:
        router.enable_snat = info["enable_snat"]
    elif router.gw_port is None or router.gw_port.network_id != network.id:
        router.enable_snat = True
    same = router.gw_port is not None and router.gw_port.network_id == network.id
    if same and "external_fixed_ips" not in info:
        return
    _remove_gateway(session, router, changes)
    ports.share_lock(session, network.id)
    port = ports.create_in_session(session, rt, ctx, network, {
        "device_owner": common.ROUTER_GATEWAY, "device_id": router.id,
        "fixed_ips": info.get("external_fixed_ips"), "binding:host_id": router.host,
        "port_security_enabled": False}, project_id="", count_quota=False)
    check_overlap(session, router.id, subnets_of(session, [port]))
    session.add(RouterPort(router_id=router.id, port_id=port.id,
                           port_type=common.ROUTER_GATEWAY))
    router.gw_port_id = port.id
    session.flush()
    session.refresh(router, ["gw_port"])
    changes.port(port.id)


def _validate_routes(rt: Runtime, session: orm.Session, router: Router,
                     routes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """:raises InvalidRoutes / RoutesExhausted: a route the router cannot use."""
    if len(routes) > rt.conf.network.max_routes:
        raise exc.RoutesExhausted(f"Unable to complete operation for {router.id}. The "
                                  f"number of routes exceeds the maximum "
                                  f"{rt.conf.network.max_routes}.")
    router_ports = port_rows(session, router.id)
    own = {a.ip_address for p in router_ports for a in p.fixed_ips}
    connected = [ipaddress.ip_network(s.cidr) for s in subnets_of(session, router_ports)]
    result = []
    for route in routes:
        destination = addresses.cidr(route.get("destination"), "routes")
        nexthop = addresses.ip(route.get("nexthop"), "routes")
        if str(nexthop) in own or not any(nexthop in net for net in connected):
            raise exc.InvalidRoutes(f"Invalid format for routes: {route}, the nexthop is not "
                                    "connected with router")
        if destination.version != nexthop.version:
            raise exc.InvalidRoutes(f"Invalid format for routes: {route}, the nexthop and "
                                    "destination are of different IP versions")
        result.append((str(destination), str(nexthop)))
    return list(dict.fromkeys(result))


def _store_routes(session: orm.Session, router: Router, routes: list[tuple[str, str]]) -> None:
    session.execute(sa.delete(RouterRoute).where(RouterRoute.router_id == router.id))
    session.add_all(RouterRoute(router_id=router.id, destination=d, nexthop=n)
                    for d, n in routes)
    session.flush()
    session.refresh(router, ["routes"])


def create(rt: Runtime, ctx: RequestContext, body: dict[str, Any]) -> Router:
    """:raises OverQuota: and whatever setting the gateway raises."""
    project = common.owner(ctx, body)
    changes = notify.Changes()
    with rt.db.session() as session:
        router = Router(id=common.new_id(), project_id=project, name=body.get("name") or "",
                        description=body.get("description") or "",
                        admin_state_up=body.get("admin_state_up", True),
                        host=agents.pick_l3_host(rt, session))
        session.add(router)
        session.flush()
        quotas.check(rt, session, project, "router", already_added=True)
        _set_gateway(rt, session, ctx, router, body.get("external_gateway_info"), changes)
        session.flush()
        session.refresh(router)
        changes.router(router.id)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "router.create.end", {"id": router.id})
    return router


def get(rt: Runtime, ctx: RequestContext, router_id: str) -> Router:
    with rt.db.session() as session:
        return get_row(session, ctx, router_id)


def list_(rt: Runtime, ctx: RequestContext, filters: dict[str, list[str]]) -> list[Router]:
    query = sa.select(Router).order_by(Router.id)
    if not ctx.is_admin:
        query = query.where(Router.project_id == ctx.project_id)
    for name, column in (("id", Router.id), ("name", Router.name),
                         ("project_id", Router.project_id), ("tenant_id", Router.project_id)):
        if filters.get(name):
            query = query.where(column.in_(filters[name]))
    with rt.db.session() as session:
        return list(session.scalars(query))


def update(rt: Runtime, ctx: RequestContext, router_id: str, body: dict[str, Any]) -> Router:
    changes = notify.Changes()
    with rt.db.session() as session:
        router = get_row(session, ctx, router_id)
        common.lock(session, Router, router.id)
        common.apply(router, body, ("name", "description", "admin_state_up"))
        if "external_gateway_info" in body:
            _set_gateway(rt, session, ctx, router, body["external_gateway_info"], changes)
        if "routes" in body:
            _store_routes(session, router,
                          _validate_routes(rt, session, router, body["routes"] or []))
        common.touch(router)
        changes.router(router.id)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "router.update.end", {"id": router.id})
    return router


def change_routes(rt: Runtime, ctx: RequestContext, router_id: str,
                  routes: list[dict[str, Any]], add: bool) -> Router:
    """add_extraroutes / remove_extraroutes: change only the routes given."""
    with rt.db.session() as session:
        router = get_row(session, ctx, router_id)
        common.lock(session, Router, router.id)
        current = [(r.destination, r.nexthop) for r in router.routes]
        if add:
            wanted = current + _validate_routes(rt, session, router, routes)
            wanted = list(dict.fromkeys(wanted))
            if len(wanted) > rt.conf.network.max_routes:
                raise exc.RoutesExhausted(f"Unable to complete operation for {router.id}. "
                                          "The number of routes exceeds the maximum "
                                          f"{rt.conf.network.max_routes}.")
        else:
            gone = set()
            for route in routes:
                gone.add((str(addresses.cidr(route.get("destination"), "routes")),
                          str(addresses.ip(route.get("nexthop"), "routes"))))
            wanted = [r for r in current if r not in gone]
        _store_routes(session, router, wanted)
        common.touch(router)
    notify.Changes().router(router.id).send(rt, ctx)
    return router


def delete(rt: Runtime, ctx: RequestContext, router_id: str) -> None:
    """:raises RouterInUse: the router still has interfaces."""
    changes = notify.Changes()
    with rt.db.session() as session:
        router = get_row(session, ctx, router_id)
        common.lock(session, Router, router.id)
        if port_rows(session, router.id, common.ROUTER_INTERFACE):
            raise exc.RouterInUse(f"Router {router.id} still has ports")
        _remove_gateway(session, router, changes)
        session.delete(router)
        changes.router(router.id)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "router.delete.end", {"id": router_id})

