"""What the compute service calls, in process, to give servers their network ports.

Ports compute creates for a server are marked auto_delete and go away with it; ports a
user made and handed in (`--port`, `server add port`) are only unbound. Every function
runs in one transaction: a failure leaves no half-made ports behind.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.models.network import (
    FloatingIP,
    Network,
    NetworkAgent,
    Port,
    SecurityGroup,
    SecurityGroupPortBinding,
)
from controller.network import agents, common, floating_ips, notify, ports, security_groups
from controller.network import exceptions as exc
from controller.runtime import Runtime

DEFAULT_BRIDGE = ports.VIF_DETAILS["bridge_name"]


def integration_bridges(session: orm.Session, hosts: set[str]) -> dict[str, str]:
    """{host: the integration bridge its OVS agent reports} (hosts whose agent never
    reported one are absent: :func:`vif` gives them the default, br-int)."""
    hosts = {host for host in hosts if host}
    if not hosts:
        return {}
    rows = session.execute(sa.select(NetworkAgent.host, NetworkAgent.configurations).where(
        NetworkAgent.agent_type == agents.OVS, NetworkAgent.host.in_(hosts))).all()
    return {host: (config or {}).get("integration_bridge") for host, config in rows
            if (config or {}).get("integration_bridge")}


def vif(port: Port, network: Network, bridge: str | None = None) -> dict[str, Any]:
    """What the compute agent plugs: a tap named after the port on the integration
    bridge of the port's host (the one its OVS agent wires; br-int by default)."""
    return {"id": port.id, "mac": port.mac_address, "type": "ovs",
            "bridge": bridge or DEFAULT_BRIDGE,
            "devname": f"tap{port.id[:11]}", "mtu": network.mtu,
            "network_id": network.id, "network_name": network.name,
            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address,
                           "version": ipaddress.ip_address(a.ip_address).version}
                          for a in port.fixed_ips]}


def _instance_ports(session: orm.Session, instance_uuid: str) -> list[Port]:
    return list(session.scalars(sa.select(Port).where(
        Port.device_id == instance_uuid,
        Port.device_owner.startswith(common.COMPUTE_PREFIX)).order_by(Port.created_at,
                                                                      Port.id)))


def _group_ids(session: orm.Session, project_id: str, names: list[str]) -> list[str]:
    """Security group names (or ids) of project_id, as ids.

    :raises SecurityGroupNotFound: :raises Conflict: a name two groups share.
    """
    result = []
    for name in names:
        if name == security_groups.DEFAULT:
            result.append(security_groups.ensure_default(session, project_id).id)
            continue
        matches = list(session.scalars(sa.select(SecurityGroup.id).where(
            SecurityGroup.project_id == project_id,
            sa.or_(SecurityGroup.name == name, SecurityGroup.id == name))))
        if not matches:
            raise exc.SecurityGroupNotFound(f"Security group {name} not found.")
        if len(matches) > 1:
            raise exceptions.Conflict(f"Multiple security groups found matching '{name}'. "
                                      "Use an ID to be more specific.")
        result.append(matches[0])
    return list(dict.fromkeys(result))


def _attach(port: Port, instance_uuid: str, host: str | None, owner: str) -> None:
    """:raises PortInUse: the port belongs to another device."""
    if port.device_id and port.device_id != instance_uuid:
        raise exc.PortInUse(f"Port {port.id} is still in use.")
    port.device_id, port.device_owner = instance_uuid, owner
    ports.bind(port, host)
    common.touch(port)


def _acting(ctx: RequestContext, project_id: str) -> RequestContext:
    """The context whose rights decide which networks and ports a server may use: the
    user's, or, for a daemon's context without a project, a member of project_id (so
    an internal admin context never opens other projects' networks)."""
    if ctx.project_id:
        return ctx
    return RequestContext(request_id=ctx.request_id, project_id=project_id,
                          roles=["member", "reader"], user_name=ctx.user_name)


def allocate_for_instance(rt: Runtime, ctx: RequestContext, instance_uuid: str,
                          project_id: str, requested: list[dict[str, Any]],
                          security_group_names: list[str] | None = None,
                          host: str | None = None,
                          availability_zone: str = "nova") -> list[dict[str, Any]]:
    """Create (or take over) one port per request and bind each to host.

    requested: [{"network_id": id, "fixed_ip": address or None} | {"port_id": id}].
    ctx: the user's context (its rights decide which networks and ports are usable).
    :raises NetworkNotFound / PortNotFound / NotAuthorized / PortInUse /
        SecurityGroupNotFound / IpAddressInUse / IpAddressGenerationFailure / OverQuota:
    """
    owner = f"{common.COMPUTE_PREFIX}{availability_zone}"
    ctx = _acting(ctx, project_id)
    changes = notify.Changes()
    result = []
    with rt.db.session() as session:
        bridge = integration_bridges(session, {host}).get(host) if host else None
        groups = _group_ids(session, project_id, security_group_names) \
            if security_group_names else None
        for request in requested:
            if request.get("port_id"):
                port = ports.get_row(session, ctx, request["port_id"])
                ports.share_lock(session, port.network_id)
                _attach(port, instance_uuid, host, owner)
                network = session.get(Network, port.network_id)
            else:
                network = common.get_network(session, ctx, request.get("network_id", ""))
                ports.share_lock(session, network.id)
                ports.check_network_use(ctx, network, project_id)
                body: dict[str, Any] = {"device_id": instance_uuid, "device_owner": owner,
                                        "binding:host_id": host, "auto_delete": True}
                if request.get("fixed_ip"):
                    body["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
                if groups is not None and network.port_security_enabled:
                    body["security_groups"] = groups
                port = ports.create_in_session(session, rt, ctx, network, body, project_id)
            session.flush()
            changes.port(port.id).network(port.network_id)
            changes.groups(security_groups.referencing(
                session, {b.security_group_id for b in port.security_group_bindings}))
            result.append(vif(port, network, bridge))
    changes.send(rt, ctx)
    return result


def _release(session: orm.Session, port: Port, changes: notify.Changes) -> None:
    """Delete a port compute made; unbind one the user handed in."""
    changes.port(port.id).network(port.network_id)
    changes.groups(security_groups.referencing(
        session, {b.security_group_id for b in port.security_group_bindings}))
    if port.auto_delete:
        changes.router(*ports.disassociate_floating_ips(session, [port.id]))
        session.delete(port)
    else:
        port.device_id = port.device_owner = ""
        ports.bind(port, None)
        common.touch(port)
    session.flush()


def deallocate_for_instance(rt: Runtime, ctx: RequestContext, instance_uuid: str) -> None:
    """Release every port of the server (idempotent)."""
    changes = notify.Changes()
    with rt.db.session() as session:
        for port in _instance_ports(session, instance_uuid):
            _release(session, port, changes)
    changes.send(rt, ctx)


def bind(rt: Runtime, ctx: RequestContext, port_id: str, instance_uuid: str,
         host: str | None, availability_zone: str = "nova") -> dict[str, Any]:
    """Interface attach of an existing port (`server add port`): returns its vif.

    :raises PortNotFound: :raises PortInUse:
    """
    with rt.db.session() as session:
        port = ports.get_row(session, ctx, port_id)
        ports.share_lock(session, port.network_id)
        _attach(port, instance_uuid, host, f"{common.COMPUTE_PREFIX}{availability_zone}")
        session.flush()
        result = vif(port, session.get(Network, port.network_id),
                     integration_bridges(session, {host or ""}).get(host or ""))
    notify.Changes().port(port.id).network(port.network_id).send(rt, ctx)
    return result


def unbind(rt: Runtime, ctx: RequestContext, port_id: str, instance_uuid: str,
           host: str | None = None) -> None:
    """Interface detach: the port leaves the server (deleted if compute made it).

    :raises PortNotFound: the port is not attached to that server.
    """
    changes = notify.Changes()
    with rt.db.session() as session:
        port = ports.get_row(session, ctx, port_id)
        if port.device_id != instance_uuid:
            raise exc.PortNotFound(f"Port {port_id} is not attached to server "
                                   f"{instance_uuid}.")
        _release(session, port, changes)
    changes.send(rt, ctx)


def addresses(rt: Runtime, instance_uuids: list[str]) -> dict[str, dict[str, list[dict]]]:
    """{server: {network name: [{"version", "addr", "OS-EXT-IPS:type",
    "OS-EXT-IPS-MAC:mac_addr"}]}} for the compute server view (fixed, then floating)."""
    result: dict[str, dict[str, list[dict]]] = {uuid: {} for uuid in instance_uuids}
    if not instance_uuids:
        return result
    with rt.db.session() as session:
        rows = list(session.scalars(sa.select(Port).where(
            Port.device_id.in_(instance_uuids),
            Port.device_owner.startswith(common.COMPUTE_PREFIX)).order_by(
            Port.created_at, Port.id)))
        names = dict(session.execute(sa.select(Network.id, Network.name).where(
            Network.id.in_({p.network_id for p in rows}))).all()) if rows else {}
        floating: dict[str, list[FloatingIP]] = {}
        if rows:
            for fip in session.scalars(sa.select(FloatingIP).where(
                    FloatingIP.fixed_port_id.in_([p.id for p in rows]))):
                floating.setdefault(fip.fixed_port_id, []).append(fip)
        for port in rows:
            entries = result[port.device_id].setdefault(names.get(port.network_id, ""), [])
            for allocation in port.fixed_ips:
                entries.append(_address(allocation.ip_address, "fixed", port.mac_address))
            for fip in floating.get(port.id, []):
                entries.append(_address(fip.floating_ip_address, "floating",
                                        port.mac_address))
    return result


def _address(address: str, kind: str, mac: str) -> dict[str, Any]:
    return {"version": ipaddress.ip_address(address).version, "addr": address,
            "OS-EXT-IPS:type": kind, "OS-EXT-IPS-MAC:mac_addr": mac}


def security_groups_of(rt: Runtime, instance_uuid: str) -> list[SecurityGroup]:
    """The groups on the server's ports (`server show`'s security_groups)."""
    with rt.db.session() as session:
        port_ids = [p.id for p in _instance_ports(session, instance_uuid)]
        if not port_ids:
            return []
        return list(session.scalars(sa.select(SecurityGroup).where(
            SecurityGroup.id.in_(sa.select(SecurityGroupPortBinding.security_group_id)
                                 .where(SecurityGroupPortBinding.port_id.in_(port_ids))))
            .order_by(SecurityGroup.name)))


def _change_group(rt: Runtime, ctx: RequestContext, instance_uuid: str, name: str,
                  add: bool) -> None:
    changes = notify.Changes()
    with rt.db.session() as session:
        server_ports = [p for p in _instance_ports(session, instance_uuid)
                        if p.port_security_enabled]
        if not server_ports:
            raise exceptions.BadRequest(f"Server {instance_uuid} has no port that can take "
                                        "security groups.")
        group_id = _group_ids(session, server_ports[0].project_id, [name])[0]
        holders = [p for p in server_ports
                   if group_id in {b.security_group_id for b in p.security_group_bindings}]
        if add and len(holders) == len(server_ports):
            raise exceptions.BadRequest(f"Security group {name} is already associated with "
                                        "the instance")
        if not add and not holders:
            raise exceptions.BadRequest(f"Security group {name} not assigned to the "
                                        "instance")
        for port in server_ports:
            current = [b.security_group_id for b in port.security_group_bindings]
            wanted = current + [group_id] if add else [g for g in current if g != group_id]
            if wanted != current:
                ports.set_groups(session, port, list(dict.fromkeys(wanted)))
                common.touch(port)
                changes.port(port.id)
        changes.groups(security_groups.referencing(session, {group_id}))
    changes.send(rt, ctx)


def add_security_group(rt: Runtime, ctx: RequestContext, instance_uuid: str,
                       name: str) -> None:
    """`server add security group`. :raises SecurityGroupNotFound: :raises BadRequest:"""
    _change_group(rt, ctx, instance_uuid, name, add=True)


def remove_security_group(rt: Runtime, ctx: RequestContext, instance_uuid: str,
                          name: str) -> None:
    """`server remove security group`. :raises SecurityGroupNotFound: :raises BadRequest:"""
    _change_group(rt, ctx, instance_uuid, name, add=False)


def _floating_ip(session: orm.Session, ctx: RequestContext, address: str) -> FloatingIP:
    query = sa.select(FloatingIP).where(FloatingIP.floating_ip_address == address)
    if not ctx.is_admin:
        query = query.where(FloatingIP.project_id == ctx.project_id)
    fip = session.scalars(query).first()
    if fip is None:
        raise exc.FloatingIPNotFound(f"Floating IP {address} could not be found.")
    return fip


def floating_ip_for_instance(rt: Runtime, ctx: RequestContext, instance_uuid: str,
                             address: str, fixed_address: str | None = None) -> FloatingIP:
    """`server add floating ip`: associate the caller's floating IP with the server's
    port holding fixed_address (else the first port a router connects).

    :raises FloatingIPNotFound / ExternalGatewayForFloatingIPNotFound / BadRequest:
    """
    with rt.db.session() as session:
        fip = _floating_ip(session, ctx, address)
        common.lock(session, FloatingIP, fip.id)
        old_router = fip.router_id
        candidates = [p for p in _instance_ports(session, instance_uuid)
                      if fixed_address is None
                      or fixed_address in {a.ip_address for a in p.fixed_ips}]
        if not candidates:
            raise exceptions.BadRequest(f"Server {instance_uuid} has no port with fixed "
                                        f"address {fixed_address}." if fixed_address else
                                        f"Server {instance_uuid} has no port.")
        error: Exception | None = None
        for port in candidates:
            try:
                with session.begin_nested():
                    floating_ips.associate(session, ctx, fip, port.id, fixed_address)
                    session.flush()
                error = None
                break
            except (exc.ExternalGatewayForFloatingIPNotFound, exc.BadRequest) as failure:
                error = failure
        if error is not None:
            raise error
        common.touch(fip)
    notify.Changes().router(old_router, fip.router_id).send(rt, ctx)
    return fip


def remove_floating_ip(rt: Runtime, ctx: RequestContext, instance_uuid: str,
                       address: str) -> None:
    """`server remove floating ip`. :raises FloatingIPNotFound: not on this server."""
    with rt.db.session() as session:
        fip = _floating_ip(session, ctx, address)
        server_ports = {p.id for p in _instance_ports(session, instance_uuid)}
        if fip.fixed_port_id not in server_ports:
            raise exc.FloatingIPNotFound(f"Floating IP {address} is not associated with "
                                         f"server {instance_uuid}.")
        router_id = fip.router_id
        floating_ips.associate(session, ctx, fip, None, None)
        common.touch(fip)
    notify.Changes().router(router_id).send(rt, ctx)
