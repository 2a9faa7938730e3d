"""Network agents: their heartbeats (report_state), `network agent list/show/set/delete`,
and the choice of an L3 agent for a new router."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.context import RequestContext
from controller import services
from controller.db.base import utcnow
from controller.db.models.network import NetworkAgent, Port, Router
from controller.network import common, notify
from controller.network import exceptions as exc
from controller.runtime import Runtime

OVS = "Open vSwitch agent"
DHCP = "DHCP agent"
L3 = "L3 agent"
METADATA = "Metadata agent"
TOPICS = {OVS: "q-agent-notifier", DHCP: "dhcp_agent", L3: "l3_agent", METADATA: "N/A"}


def is_alive(rt: Runtime, agent: NetworkAgent, now: datetime.datetime | None = None) -> bool:
    down_after = datetime.timedelta(seconds=rt.conf.service.service_down_time)
    return (now or utcnow()) - agent.heartbeat_timestamp < down_after


def report_state(rt: Runtime, host: str, binary: str, agent_type: str,
                 configurations: dict[str, Any]) -> None:
    """Record an agent's heartbeat (its row is made on the first one)."""
    now = utcnow()
    for _ in range(2):  # a concurrent first report may insert the row first
        try:
            with rt.db.session() as session:
                row = session.scalars(sa.select(NetworkAgent).where(
                    NetworkAgent.agent_type == agent_type,
                    NetworkAgent.host == host)).first()
                if row is None:
                    row = NetworkAgent(id=common.new_id(), agent_type=agent_type, host=host,
                                       binary=binary, topic=TOPICS.get(agent_type),
                                       availability_zone=(
                                           rt.conf.network.default_availability_zone
                                           if agent_type in (DHCP, L3) else None),
                                       started_at=now)
                    session.add(row)
                elif not is_alive(rt, row, now):
                    row.started_at = now  # back after an outage: a restart
                row.binary = binary
                row.configurations = dict(configurations or {})
                row.heartbeat_timestamp = now
            break
        except sa_exc.IntegrityError:
            continue
    services.report(rt, host, binary, TOPICS.get(agent_type))


def get_row(session: orm.Session, agent_id: str) -> NetworkAgent:
    row = session.get(NetworkAgent, agent_id) if common.is_uuid(agent_id) else None
    if row is None:
        raise exc.AgentNotFound(f"Agent {agent_id} could not be found.")
    return row


def get(rt: Runtime, ctx: RequestContext, agent_id: str) -> NetworkAgent:
    """:raises AgentNotFound:"""
    with rt.db.session() as session:
        return get_row(session, agent_id)


def list_(rt: Runtime, ctx: RequestContext) -> list[NetworkAgent]:
    with rt.db.session() as session:
        return list(session.scalars(sa.select(NetworkAgent).order_by(
            NetworkAgent.host, NetworkAgent.agent_type)))


def update(rt: Runtime, ctx: RequestContext, agent_id: str,
           body: dict[str, Any]) -> NetworkAgent:
    """admin_state_up false keeps new routers and networks off the agent."""
    with rt.db.session() as session:
        row = get_row(session, agent_id)
        common.apply(row, body, ("admin_state_up", "description"))
    return row


def delete(rt: Runtime, ctx: RequestContext, agent_id: str) -> None:
    """Forget an agent; what it hosted goes back to be scheduled again."""
    changes = notify.Changes()
    with rt.db.session() as session:
        row = get_row(session, agent_id)
        if row.agent_type == L3:
            for router in session.scalars(sa.select(Router).where(Router.host == row.host)):
                router.host = None
                changes.router(router.id)
        if row.agent_type == DHCP:
            for port in session.scalars(sa.select(Port).where(
                    Port.device_owner == common.DHCP, Port.binding_host_id == row.host)):
                changes.network(port.network_id).port(port.id)
                session.delete(port)
        session.delete(row)
    changes.send(rt, ctx)


def alive_hosts(rt: Runtime, session: orm.Session, agent_type: str) -> list[str]:
    """Hosts whose agent of agent_type is alive and administratively up."""
    now = utcnow()
    return [row.host for row in session.scalars(sa.select(NetworkAgent).where(
        NetworkAgent.agent_type == agent_type, NetworkAgent.admin_state_up))
        if is_alive(rt, row, now)]


def pick_l3_host(rt: Runtime, session: orm.Session) -> str | None:
    """The live L3 agent host with the fewest routers, or None when there is none."""
    hosts = alive_hosts(rt, session, L3)
    if not hosts:
        return None
    load = dict(session.execute(sa.select(Router.host, sa.func.count()).where(
        Router.host.in_(hosts)).group_by(Router.host)).all())
    return min(hosts, key=lambda host: (load.get(host, 0), host))
