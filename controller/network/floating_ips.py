"""Floating IPs: allocate from an external network, associate, disassociate, release.

The address is held by a port on the external network (device_owner network:floatingip,
no project), so IPAM keeps it from every other port. Association finds the router that
joins the external network to the fixed address's subnet.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import FloatingIP, Port, Router, RouterPort
from controller.network import common, notify, ports, quotas
from controller.network import exceptions as exc
from controller.runtime import Runtime


def get_row(session: orm.Session, ctx: RequestContext, fip_id: str) -> FloatingIP:
    """:raises FloatingIPNotFound: absent, or another project's."""
    return common.get_owned(session, ctx, FloatingIP, fip_id, exc.FloatingIPNotFound,
                            "Floating IP")


def _router_for(session: orm.Session, fip: FloatingIP, port: Port, subnet_id: str) -> str:
    """The router with a gateway on the floating network and an interface on subnet_id.

    :raises ExternalGatewayForFloatingIPNotFound:
    """
    interface_routers = sa.select(Port.device_id).where(
        Port.device_owner == common.ROUTER_INTERFACE,
        Port.id.in_(sa.select(RouterPort.port_id)),
        Port.fixed_ips.any(subnet_id=subnet_id))
    router_id = session.scalar(sa.select(Router.id).join(Port, Router.gw_port_id == Port.id)
                               .where(Port.network_id == fip.floating_network_id,
                                      Router.id.in_(interface_routers))
                               .order_by(Router.created_at))
    if router_id is None:
        raise exc.ExternalGatewayForFloatingIPNotFound(
            f"External network {fip.floating_network_id} is not reachable from subnet "
            f"{subnet_id}. Therefore, cannot associate Port {port.id} with a Floating IP.")
    return router_id


def associate(session: orm.Session, ctx: RequestContext, fip: FloatingIP,
               port_id: str | None, fixed_ip: str | None) -> None:
    """Point fip at port_id's fixed_ip (None port_id: disassociate).

    :raises PortNotFound / BadRequest / ExternalGatewayForFloatingIPNotFound /
        FloatingIPPortAlreadyAssociated:
    """
    if port_id is None:
        fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
        fip.status = "DOWN"
        return
    port = ports.get_row(session, ctx, port_id)
    if port.project_id != fip.project_id and not ctx.is_admin:
        raise exc.BadRequest(f"Bad floatingip request: Cannot create floating IP and bind "
                             f"it to Port {port.id}, since that port is owned by a "
                             "different project.")
    if port.device_owner.startswith("network:"):
        raise exc.BadRequest(f"Bad floatingip request: Port {port.id} has owner "
                             f"{port.device_owner} and therefore cannot be assigned a "
                             "floating IP.")
    v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
    if fixed_ip is not None:
        chosen = [a for a in v4 if a.ip_address == fixed_ip]
        if not chosen:
            raise exc.BadRequest(f"Bad floatingip request: Port {port.id} does not have "
                                 f"fixed ip {fixed_ip}.")
    elif len(v4) > 1:
        raise exc.BadRequest(f"Bad floatingip request: Port {port.id} has multiple fixed "
                             "IPv4 addresses. Must provide a specific IPv4 address when "
                             "assigning a floating IP.")
    else:
        chosen = v4
    if not chosen:
        raise exc.BadRequest(f"Bad floatingip request: Port {port.id} does not have any "
                             "IPv4 address.")
    allocation = chosen[0]
    taken = session.scalar(sa.select(FloatingIP.id).where(
        FloatingIP.fixed_port_id == port.id, FloatingIP.id != fip.id,
        FloatingIP.fixed_ip_address == allocation.ip_address,
        FloatingIP.floating_network_id == fip.floating_network_id))
    if taken:
        raise _already(fip, port, allocation.ip_address, taken)
    fip.router_id = _router_for(session, fip, port, allocation.subnet_id)
    fip.fixed_port_id, fip.fixed_ip_address = port.id, allocation.ip_address
    fip.status = "ACTIVE"
    try:
        with session.begin_nested():
            session.flush()
    except sa_exc.IntegrityError as error:
        raise _already(fip, port, allocation.ip_address, "another") from error


def _already(fip: FloatingIP, port: Port, address: str, other: str) -> Exception:
    return exc.FloatingIPPortAlreadyAssociated(
        f"Cannot associate floating IP {fip.floating_ip_address} ({fip.id}) with port "
        f"{port.id} using fixed IP {address}, as that fixed IP already has a floating IP on "
        f"external network {fip.floating_network_id} ({other}).")


def create(rt: Runtime, ctx: RequestContext, body: dict[str, Any]) -> FloatingIP:
    """Allocate an address on an external network, associating it if port_id is given.

    :raises NetworkNotFound / BadRequest: the network is absent or not external.
    :raises IpAddressGenerationFailure / IpAddressInUse: no (such) address free.
    :raises OverQuota:
    """
    project = common.owner(ctx, body)
    with rt.db.session() as session:
        network = common.get_network(session, ctx, body["floating_network_id"])
        if not network.external:
            raise exc.BadRequest(f"Bad floatingip request: Network {network.id} is not a "
                                 "valid external network.")
        ports.share_lock(session, network.id)
        fip_id = common.new_id()
        fixed = {"subnet_id": body.get("subnet_id"),
                 "ip_address": body.get("floating_ip_address")}
        fixed = {key: value for key, value in fixed.items() if value}
        port = ports.create_in_session(session, rt, ctx, network, {
            "device_owner": common.FLOATING_IP, "device_id": fip_id,
            "fixed_ips": [fixed] if fixed else None, "port_security_enabled": False},
            project_id="", count_quota=False, ip_version=4)
        v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
        if not v4:
            raise exc.IpAddressGenerationFailure(f"No more IP addresses available on network "
                                                 f"{network.id}.")
        fip = FloatingIP(id=fip_id, project_id=project, floating_network_id=network.id,
                         floating_port_id=port.id, floating_ip_address=v4[0].ip_address,
                         description=body.get("description") or "")
        session.add(fip)
        session.flush()
        quotas.check(rt, session, project, "floatingip", already_added=True)
        if body.get("port_id"):
            associate(session, ctx, fip, body["port_id"], body.get("fixed_ip_address"))
    notify.Changes().router(fip.router_id).send(rt, ctx)
    notify.event(rt, ctx, "floatingip.create.end", {"id": fip.id})
    return fip


def get(rt: Runtime, ctx: RequestContext, fip_id: str) -> FloatingIP:
    with rt.db.session() as session:
        return get_row(session, ctx, fip_id)


def list_(rt: Runtime, ctx: RequestContext, filters: dict[str, list[str]]) -> list[FloatingIP]:
    query = sa.select(FloatingIP).order_by(FloatingIP.id)
    if not ctx.is_admin:
        query = query.where(FloatingIP.project_id == ctx.project_id)
    for name, column in (("id", FloatingIP.id),
                         ("floating_ip_address", FloatingIP.floating_ip_address),
                         ("port_id", FloatingIP.fixed_port_id),
                         ("router_id", FloatingIP.router_id),
                         ("floating_network_id", FloatingIP.floating_network_id),
                         ("project_id", FloatingIP.project_id),
                         ("tenant_id", FloatingIP.project_id)):
        if filters.get(name):
            query = query.where(column.in_(filters[name]))
    with rt.db.session() as session:
        return list(session.scalars(query))


def update(rt: Runtime, ctx: RequestContext, fip_id: str, body: dict[str, Any]) -> FloatingIP:
    """Associate (port_id), move, or disassociate (port_id null); change description."""
    with rt.db.session() as session:
        fip = get_row(session, ctx, fip_id)
        common.lock(session, FloatingIP, fip.id)
        old_router = fip.router_id
        if "port_id" in body:
            associate(session, ctx, fip, body["port_id"], body.get("fixed_ip_address"))
        elif "fixed_ip_address" in body and fip.fixed_port_id:
            associate(session, ctx, fip, fip.fixed_port_id, body["fixed_ip_address"])
        common.apply(fip, body, ("description",))
        common.touch(fip)
    notify.Changes().router(old_router, fip.router_id).send(rt, ctx)
    notify.event(rt, ctx, "floatingip.update.end", {"id": fip.id})
    return fip


def delete(rt: Runtime, ctx: RequestContext, fip_id: str) -> None:
    with rt.db.session() as session:
        fip = get_row(session, ctx, fip_id)
        router_id = fip.router_id
        port = session.get(Port, fip.floating_port_id)
        session.delete(fip)
        session.flush()
        if port is not None:
            session.delete(port)
    notify.Changes().router(router_id).send(rt, ctx)
    notify.event(rt, ctx, "floatingip.delete.end", {"id": fip_id})
