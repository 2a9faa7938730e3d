"""The desired state each agent converges on, computed from the database.

The OVS agent gets the ports bound to its host (and their security groups); the DHCP
agent the networks it serves (scheduling new ones to itself and keeping its own port on
each); the L3 agent the routers it hosts (taking unhosted ones). Scheduling is
idempotent, so a resync after any failure is always safe.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import (
    FloatingIP,
    IPAllocation,
    Network,
    NetworkAgent,
    Port,
    Router,
    RouterPort,
    Subnet,
)
from controller.network import agents, common, ipam, notify, payloads, ports
from controller.runtime import Runtime

PORT_STATUSES = ("ACTIVE", "DOWN", "BUILD", "ERROR")


def ovs_state(rt: Runtime, host: str, port_ids: list[str] | None) -> dict[str, Any]:
    """{"ports", "removed", "security_groups", "tunnel_peers"} for host's OVS agent."""
    with rt.db.session() as session:
        query = sa.select(Port).where(Port.binding_host_id == host).order_by(Port.id)
        if port_ids is not None:
            query = query.where(Port.id.in_(port_ids))
        rows = list(session.scalars(query))
        found = {row.id for row in rows}
        groups = {b.security_group_id for row in rows if row.port_security_enabled
                  for b in row.security_group_bindings}
        peers = []
        for agent in session.scalars(sa.select(NetworkAgent).where(
                NetworkAgent.agent_type == agents.OVS, NetworkAgent.host != host)):
            address = (agent.configurations or {}).get("tunneling_ip")
            if address and agents.is_alive(rt, agent):
                peers.append({"host": agent.host, "ip": address})
        return {"ports": payloads.ports(session, rows),
                "removed": [p for p in (port_ids or []) if p not in found],
                "security_groups": payloads.security_groups(session, groups),
                "tunnel_peers": peers}


def update_port_status(rt: Runtime, port_ids: list[str], status: str, host: str) -> None:
    """Record what the agent on host did; ports bound elsewhere meanwhile are left."""
    if status not in PORT_STATUSES or not port_ids:
        return
    with rt.db.session() as session:
        session.execute(sa.update(Port).where(Port.id.in_(port_ids),
                                              Port.binding_host_id == host)
                        .values(status=status).execution_options(synchronize_session=False))


def _agent_accepts(session: orm.Session, host: str, agent_type: str) -> bool:
    row = session.scalars(sa.select(NetworkAgent).where(
        NetworkAgent.host == host, NetworkAgent.agent_type == agent_type)).first()
    return row is None or row.admin_state_up


def _dhcp_subnets(session: orm.Session, network_id: str) -> list[Subnet]:
    return [s for s in ipam.subnets_of(session, network_id) if s.enable_dhcp]


def _dhcp_device_id(host: str, network_id: str) -> str:
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{network_id}"


def _ensure_dhcp_port(rt: Runtime, session: orm.Session, ctx: RequestContext,
                      network: Network, host: str, existing: Port | None,
                      changes: notify.Changes) -> Port | None:
    """host's DHCP port on network, with an address on every DHCP subnet; None (and the
    port deleted) when the network has no DHCP subnet any more."""
    wanted = _dhcp_subnets(session, network.id)
    if not wanted:
        if existing is not None:
            changes.port(existing.id)
            session.delete(existing)
            session.flush()
        return None
    if not network.admin_state_up:
        return None  # served again, with the same port, once it is up
    if existing is None:
        common.lock(session, Network, network.id)
        count = session.scalar(sa.select(sa.func.count()).select_from(Port).where(
            Port.network_id == network.id, Port.device_owner == common.DHCP)) or 0
        if count >= rt.conf.network.dhcp_agents_per_network or \
                not _agent_accepts(session, host, agents.DHCP):
            return None
        existing = ports.create_in_session(session, rt, ctx, network, {
            "device_owner": common.DHCP, "device_id": _dhcp_device_id(host, network.id),
            "binding:host_id": host, "port_security_enabled": False,
            "fixed_ips": [{"subnet_id": s.id} for s in wanted]},
            project_id=network.project_id, count_quota=False)
        changes.port(existing.id)
        return existing
    have = {a.subnet_id for a in existing.fixed_ips}
    missing = [s for s in wanted if s.id not in have]
    if missing:
        ports.share_lock(session, network.id)
        ipam.reallocate(session, rt.conf, existing, network,
                        [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                         for a in existing.fixed_ips] + [{"subnet_id": s.id}
                                                         for s in missing])
        session.refresh(existing, ["fixed_ips"])
        changes.port(existing.id)
    return existing


def dhcp_state(rt: Runtime, ctx: RequestContext, host: str,
               network_ids: list[str] | None) -> list[dict[str, Any]]:
    """The networks host's DHCP agent serves, each {"id", "mtu", "subnets", "ports",
    "dhcp_port"}; networks that need a DHCP server and have too few get host's."""
    changes = notify.Changes()
    result = []
    with rt.db.session() as session:
        query = sa.select(Network).where(Network.id.in_(
            sa.select(Subnet.network_id).where(Subnet.enable_dhcp)) | Network.id.in_(
            sa.select(Port.network_id).where(Port.device_owner == common.DHCP,
                                             Port.binding_host_id == host)))
        if network_ids is not None:
            query = query.where(Network.id.in_(network_ids))
        for network in session.scalars(query.order_by(Network.id)).all():
            mine = session.scalars(sa.select(Port).where(
                Port.network_id == network.id, Port.device_owner == common.DHCP,
                Port.binding_host_id == host)).first()
            dhcp_port = _ensure_dhcp_port(rt, session, ctx, network, host, mine, changes)
            if dhcp_port is None:
                continue
            all_ports = list(session.scalars(sa.select(Port).where(
                Port.network_id == network.id).order_by(Port.id)))
            result.append({"id": network.id, "mtu": network.mtu,
                           "subnets": [payloads.subnet(s)
                                       for s in _dhcp_subnets(session, network.id)],
                           "ports": payloads.ports(session, all_ports),
                           "dhcp_port": payloads.port(dhcp_port, network)})
    changes.send(rt, ctx)
    return result


def _schedule_routers(rt: Runtime, session: orm.Session, host: str,
                      router_ids: list[str] | None, changes: notify.Changes) -> None:
    """Give host's L3 agent the routers no agent hosts, and bind their ports there."""
    if not _agent_accepts(session, host, agents.L3):
        return
    query = sa.select(Router.id).where(Router.host.is_(None))
    if router_ids is not None:
        query = query.where(Router.id.in_(router_ids))
    for router_id in session.scalars(query).all():
        # Conditional update: two agents resyncing at once cannot both take it.
        taken = session.execute(sa.update(Router).where(Router.id == router_id,
                                                        Router.host.is_(None))
                                .values(host=host)
                                .execution_options(synchronize_session=False)).rowcount
        if not taken:
            continue
        for port in session.scalars(sa.select(Port).join(
                RouterPort, RouterPort.port_id == Port.id).where(
                RouterPort.router_id == router_id)):
            ports.bind(port, host)
            changes.port(port.id)
    session.flush()


def _router(session: orm.Session, router: Router) -> dict[str, Any]:
    router_ports = list(session.scalars(sa.select(Port).join(
        RouterPort, RouterPort.port_id == Port.id).where(
        RouterPort.router_id == router.id).order_by(Port.id)))
    networks = {n.id: n for n in session.scalars(sa.select(Network).where(
        Network.id.in_({p.network_id for p in router_ports})))} if router_ports else {}
    gateway = next((p for p in router_ports if p.id == router.gw_port_id), None)
    fips = session.scalars(sa.select(FloatingIP).where(
        FloatingIP.router_id == router.id, FloatingIP.fixed_port_id.is_not(None))
        .order_by(FloatingIP.id))
    return {"id": router.id, "name": router.name, "project_id": router.project_id,
            "admin_state_up": router.admin_state_up, "enable_snat": router.enable_snat,
            "gw_port": payloads.with_subnets(session, gateway, networks[gateway.network_id])
            if gateway is not None else None,
            "interfaces": [payloads.with_subnets(session, p, networks[p.network_id])
                           for p in router_ports if p.device_owner ==
                           common.ROUTER_INTERFACE],
            "routes": [{"destination": r.destination, "nexthop": r.nexthop}
                       for r in router.routes],
            "floating_ips": [{"id": f.id, "floating_ip_address": f.floating_ip_address,
                              "fixed_ip_address": f.fixed_ip_address,
                              "port_id": f.fixed_port_id} for f in fips]}


def routers_state(rt: Runtime, ctx: RequestContext, host: str,
                  router_ids: list[str] | None) -> list[dict[str, Any]]:
    """The routers host's L3 agent hosts (after taking any unhosted ones)."""
    changes = notify.Changes()
    with rt.db.session() as session:
        _schedule_routers(rt, session, host, router_ids, changes)
        query = sa.select(Router).where(Router.host == host).order_by(Router.id)
        if router_ids is not None:
            query = query.where(Router.id.in_(router_ids))
        result = [_router(session, router) for router in session.scalars(query).all()]
    changes.send(rt, ctx)
    return result


def instance_for_address(rt: Runtime, ip_address: str, network_id: str | None,
                         router_id: str | None) -> dict[str, Any] | None:
    """{"instance_id", "project_id"} of the server port holding ip_address."""
    query = sa.select(Port).join(IPAllocation, IPAllocation.port_id == Port.id).where(
        IPAllocation.ip_address == ip_address,
        Port.device_owner.startswith(common.COMPUTE_PREFIX))
    if network_id:
        query = query.where(Port.network_id == network_id)
    elif router_id:
        query = query.where(Port.network_id.in_(sa.select(Port.network_id).where(
            Port.device_id == router_id, Port.device_owner == common.ROUTER_INTERFACE)))
    else:
        return None
    with rt.db.session() as session:
        row = session.scalars(query.order_by(Port.created_at)).first()
        if row is None:
            return None
        return {"instance_id": row.device_id, "project_id": row.project_id}
