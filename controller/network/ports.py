"""Ports: create (MAC, addresses, security groups, binding), list, show, update, delete."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import (
    FloatingIP,
    Network,
    Port,
    SecurityGroupPortBinding,
)
from controller.network import addresses, common, ipam, notify, quotas, security_groups
from controller.network import exceptions as exc
from controller.runtime import Runtime

_MAC_ATTEMPTS = 16
VIF_DETAILS = {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int",
               "datapath_type": "netdev", "ovs_hybrid_plug": False}
UPDATABLE = ("name", "description", "admin_state_up", "device_id", "device_owner")


def share_lock(session: orm.Session, network_id: str) -> None:
    """Keep the network (and its subnets) from being deleted under this transaction;
    concurrent port operations on the network do not wait for each other on
    PostgreSQL. On SQLite this starts the write transaction (writers are serial)."""
    if session.get_bind().dialect.name == "sqlite":
        common.lock(session, Network, network_id)
    else:
        session.execute(sa.select(Network.id).where(Network.id == network_id)
                        .with_for_update(read=True))


def get_row(session: orm.Session, ctx: RequestContext, port_id: str) -> Port:
    """:raises PortNotFound: absent, or another project's."""
    return common.get_owned(session, ctx, Port, port_id, exc.PortNotFound, "Port")


def bind(port: Port, host: str | None) -> None:
    """Bind port to host (None/"" unbinds): the OVS agent there wires it."""
    port.binding_host_id = host or ""
    port.binding_vif_type = "ovs" if host else "unbound"
    port.binding_vif_details = dict(VIF_DETAILS) if host else {}
    if not host:
        port.status = "DOWN"


def _insert(session: orm.Session, port: Port, requested_mac: str | None,
            base_mac: str) -> None:
    """:raises MacAddressInUse: the requested MAC is taken on the network."""
    for _ in range(1 if requested_mac else _MAC_ATTEMPTS):
        port.mac_address = requested_mac or addresses.random_mac(base_mac)
        try:
            with session.begin_nested():
                session.add(port)
                session.flush()
            return
        except sa_exc.IntegrityError:
            if port in session:
                session.expunge(port)
    if requested_mac:
        raise exc.MacAddressInUse(f"Unable to complete operation for network "
                                  f"{port.network_id}. The mac address {requested_mac} is "
                                  "in use.")
    raise exc.MacAddressInUse("Unable to generate a unique MAC address; retry.")


def _address_pairs(pairs: list[dict[str, Any]], mac: str) -> list[dict[str, str]]:
    """:raises InvalidInput: an address or MAC that does not parse, or a duplicate."""
    result = []
    for pair in pairs:
        address = pair.get("ip_address")
        text = str(addresses.cidr(address, "allowed_address_pairs", strict=False)) \
            if isinstance(address, str) and "/" in address \
            else str(addresses.ip(address, "allowed_address_pairs"))
        item = {"ip_address": text, "mac_address": addresses.mac(pair.get("mac_address")
                                                                   or mac)}
        if item in result:
            raise exc.InvalidInput("Invalid input for allowed_address_pairs. Reason: "
                                   "duplicate address pair in the request.")
        result.append(item)
    return result


def set_groups(session: orm.Session, port: Port, group_ids: list[str]) -> None:
    for binding in list(port.security_group_bindings):
        if binding.security_group_id not in group_ids:
            session.delete(binding)
    current = {b.security_group_id for b in port.security_group_bindings}
    for group_id in group_ids:
        if group_id not in current:
            session.add(SecurityGroupPortBinding(port_id=port.id, security_group_id=group_id))
    session.flush()
    session.refresh(port, ["security_group_bindings"])


def _security(session: orm.Session, ctx: RequestContext, port: Port,
              body: dict[str, Any], creating: bool) -> None:
    """Apply port_security_enabled, security_groups and allowed_address_pairs."""
    enabled = port.port_security_enabled
    service_port = port.device_owner.startswith("network:")
    if "security_groups" in body:
        groups = security_groups.for_port(session, ctx, port.project_id,
                                          body["security_groups"] or [])
    elif creating and enabled and not service_port:
        groups = [security_groups.ensure_default(session, port.project_id).id]
    else:
        groups = [b.security_group_id for b in port.security_group_bindings]
    if not enabled and groups:
        raise exc.PortSecurityAndIPRequiredForSecurityGroups(
            "Port security must be enabled and port must have an IP address in order to "
            "use security groups.")
    if "allowed_address_pairs" in body:
        port.allowed_address_pairs = _address_pairs(body["allowed_address_pairs"] or [],
                                                    port.mac_address)
    if not enabled and port.allowed_address_pairs:
        raise exc.AddressPairAndPortSecurityRequired(
            "Port Security must be enabled in order to have allowed address pairs on a "
            "port.")
    set_groups(session, port, groups)


def create_in_session(session: orm.Session, rt: Runtime, ctx: RequestContext,
                      network: Network, body: dict[str, Any], project_id: str,
                      count_quota: bool = True, ip_version: int | None = None) -> Port:
    """Make a port on network inside the caller's transaction (routers, floating IPs,
    DHCP and compute use this too). The caller holds share_lock on the network."""
    port = Port(id=common.new_id(), network_id=network.id, project_id=project_id,
                name=body.get("name") or "", description=body.get("description") or "",
                admin_state_up=body.get("admin_state_up", True),
                device_id=body.get("device_id") or "",
                device_owner=body.get("device_owner") or "",
                port_security_enabled=body.get("port_security_enabled",
                                               network.port_security_enabled),
                binding_vnic_type=body.get("binding:vnic_type") or "normal",
                binding_profile=body.get("binding:profile") or {},
                auto_delete=body.get("auto_delete", False))
    bind(port, body.get("binding:host_id"))
    requested_mac = addresses.mac(body["mac_address"]) if body.get("mac_address") else None
    _insert(session, port, requested_mac, rt.conf.network.base_mac)
    if count_quota and project_id:
        quotas.check(rt, session, project_id, "port", already_added=True)
    ipam.allocate(session, rt.conf, port, network, body.get("fixed_ips"), ip_version)
    session.refresh(port, ["fixed_ips"])
    _security(session, ctx, port, body, creating=True)
    return port


def check_network_use(ctx: RequestContext, network: Network, project_id: str) -> None:
    """:raises NotAuthorized: a port on another project's network that is not shared."""
    if ctx.is_admin or network.shared or network.project_id == project_id:
        return
    raise exc.NotAuthorized(f"Tenant {project_id} not allowed to create port on this "
                            "network")


def create(rt: Runtime, ctx: RequestContext, body: dict[str, Any]) -> Port:
    """Create a port on a network the caller may use.

    :raises NetworkNotFound / NotAuthorized: the network.
    :raises MacAddressInUse / IpAddressInUse / IpAddressGenerationFailure: addresses.
    :raises OverQuota: the project has its full count of ports.
    """
    project = common.owner(ctx, body)
    with rt.db.session() as session:
        network = common.get_network(session, ctx, body["network_id"])
        share_lock(session, network.id)
        check_network_use(ctx, network, project)
        port = create_in_session(session, rt, ctx, network, body, project)
        changes = _changes_for(session, port)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "port.create.end", {"id": port.id})
    return port


def _changes_for(session: orm.Session, port: Port,
                 old_groups: set[str] = frozenset()) -> notify.Changes:
    groups = {b.security_group_id for b in port.security_group_bindings} | set(old_groups)
    changes = notify.Changes().port(port.id).network(port.network_id)
    changes.groups(security_groups.referencing(session, groups))
    if port.device_owner in common.ROUTER_OWNERS:
        changes.router(port.device_id)
    changes.router(*session.scalars(sa.select(FloatingIP.router_id).where(
        FloatingIP.fixed_port_id == port.id)))
    return changes


def get(rt: Runtime, ctx: RequestContext, port_id: str) -> Port:
    with rt.db.session() as session:
        return get_row(session, ctx, port_id)


SQL_FILTERS = {"id": Port.id, "network_id": Port.network_id, "device_id": Port.device_id,
               "device_owner": Port.device_owner, "project_id": Port.project_id,
               "tenant_id": Port.project_id, "name": Port.name,
               "mac_address": Port.mac_address, "binding:host_id": Port.binding_host_id}


def list_(rt: Runtime, ctx: RequestContext, filters: dict[str, list[str]]) -> list[Port]:
    """The caller's ports (all, for admin), narrowed in SQL by the simple filters."""
    query = sa.select(Port).order_by(Port.id)
    if not ctx.is_admin:
        query = query.where(Port.project_id == ctx.project_id)
    for name, column in SQL_FILTERS.items():
        if filters.get(name):
            query = query.where(column.in_(filters[name]))
    with rt.db.session() as session:
        return list(session.scalars(query))


def update(rt: Runtime, ctx: RequestContext, port_id: str, body: dict[str, Any]) -> Port:
    """Change a port: names, state, device, addresses, security, binding.

    :raises PortNotFound / InvalidInput / IpAddressInUse / ...: as create.
    """
    with rt.db.session() as session:
        port = get_row(session, ctx, port_id)
        share_lock(session, port.network_id)
        network = session.get(Network, port.network_id)
        old_groups = {b.security_group_id for b in port.security_group_bindings}
        old_router = port.device_id if port.device_owner in common.ROUTER_OWNERS else None
        common.apply(port, body, UPDATABLE)
        if "mac_address" in body and body["mac_address"] != port.mac_address:
            if port.binding_host_id:
                raise exc.PortInUse(f"Unable to complete operation on port {port.id}, "
                                    "port is already bound, port type: ovs, old_mac "
                                    f"{port.mac_address}, new_mac {body['mac_address']}.")
            new_mac = addresses.mac(body["mac_address"])
            try:
                with session.begin_nested():
                    port.mac_address = new_mac
                    session.flush()
            except sa_exc.IntegrityError as error:
                raise exc.MacAddressInUse(f"Unable to complete operation for network "
                                          f"{port.network_id}. The mac address {new_mac} "
                                          "is in use.") from error
        if "fixed_ips" in body:
            ipam.reallocate(session, rt.conf, port, network, body["fixed_ips"])
            session.refresh(port, ["fixed_ips"])
        if "port_security_enabled" in body:
            port.port_security_enabled = body["port_security_enabled"]
            if not port.port_security_enabled and "security_groups" not in body and \
                    port.security_group_bindings:
                raise exc.PortSecurityAndIPRequiredForSecurityGroups(
                    "Port has security group associated. Cannot disable port security or "
                    "IP address until security group is removed")
        _security(session, ctx, port, body, creating=False)
        for key, attribute in (("binding:vnic_type", "binding_vnic_type"),
                               ("binding:profile", "binding_profile")):
            if key in body:
                setattr(port, attribute, body[key] or ({} if key.endswith("profile")
                                                       else "normal"))
        if "binding:host_id" in body:
            bind(port, body["binding:host_id"])
        common.touch(port)
        session.flush()
        changes = _changes_for(session, port, old_groups).router(old_router)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "port.update.end", {"id": port.id})
    return port


def disassociate_floating_ips(session: orm.Session, port_ids: list[str]) -> set[str]:
    """Detach floating IPs from ports about to go; the routers that served them."""
    routers = set()
    for fip in session.scalars(sa.select(FloatingIP).where(
            FloatingIP.fixed_port_id.in_(port_ids))):
        routers.add(fip.router_id)
        fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
        fip.status = "DOWN"
        common.touch(fip)
    session.flush()
    return {r for r in routers if r}


def delete_in_session(session: orm.Session, port: Port) -> notify.Changes:
    """Delete port and its addresses; what the agents must hear about."""
    changes = _changes_for(session, port)
    changes.router(*disassociate_floating_ips(session, [port.id]))
    session.delete(port)
    session.flush()
    return changes


def delete(rt: Runtime, ctx: RequestContext, port_id: str) -> None:
    """:raises PortNotFound: :raises ServicePortInUse: a router's or floating IP's port."""
    with rt.db.session() as session:
        port = get_row(session, ctx, port_id)
        if port.device_owner in common.ROUTER_OWNERS + (common.FLOATING_IP,):
            raise exc.ServicePortInUse(f"Port {port.id} cannot be deleted directly via the "
                                       f"port API: has device owner {port.device_owner}.")
        changes = delete_in_session(session, port)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "port.delete.end", {"id": port_id})
