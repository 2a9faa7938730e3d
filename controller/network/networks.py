"""Networks: create (with a segment), list, show, update, delete."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import Network, Port
from controller.network import common, notify, ports, quotas, segments
from controller.network import exceptions as exc
from controller.runtime import Runtime

PROVIDER = ("provider:network_type", "provider:physical_network",
            "provider:segmentation_id")
UPDATABLE = ("name", "description", "admin_state_up", "shared", "port_security_enabled")


def _mtu(rt: Runtime, network_type: str, requested: int | None) -> int:
    """:raises InvalidInput: an MTU the segment cannot carry."""
    largest = segments.mtu_for(rt.conf, network_type)
    if requested is None:
        return largest
    if not 68 <= requested <= largest:
        raise exc.InvalidInput(f"Invalid input for operation: Requested MTU is too big, "
                               f"maximum is {largest}." if requested > largest else
                               "Invalid input for mtu. Reason: MTU must be at least 68.")
    return requested


def _numbers(body: dict[str, Any]) -> dict[str, Any]:
    """Neutron converts these from strings (the CLI sends the segment as one)."""
    body = dict(body)
    for key in ("mtu", "provider:segmentation_id"):
        if isinstance(body.get(key), str):
            body[key] = int(body[key])
    return body


def create(rt: Runtime, ctx: RequestContext, body: dict[str, Any]) -> Network:
    """:raises InvalidInput / SegmentationIdInUse / NoNetworkAvailable: the segment.
    :raises OverQuota:"""
    body = _numbers(body)
    project = common.owner(ctx, body)
    with rt.db.session() as session:
        network = Network(id=common.new_id(), project_id=project,
                          name=body.get("name") or "",
                          description=body.get("description") or "",
                          admin_state_up=body.get("admin_state_up", True),
                          shared=body.get("shared", False),
                          external=body.get("router:external", False),
                          port_security_enabled=body.get("port_security_enabled", True),
                          mtu=0)
        session.add(network)
        session.flush()
        quotas.check(rt, session, project, "network", already_added=True)
        segment = segments.allocate(session, rt.conf, network.id, body)
        network.mtu = _mtu(rt, segment.network_type, body.get("mtu"))
        session.flush()
        orm.attributes.set_committed_value(network, "segment", segment)
        orm.attributes.set_committed_value(network, "subnets", [])
    notify.event(rt, ctx, "network.create.end", {"id": network.id})
    return network


def get(rt: Runtime, ctx: RequestContext, network_id: str) -> Network:
    """:raises NetworkNotFound: absent, or not visible to ctx."""
    with rt.db.session() as session:
        return common.get_network(session, ctx, network_id)


def list_(rt: Runtime, ctx: RequestContext, filters: dict[str, list[str]]) -> list[Network]:
    """Networks ctx may see, narrowed in SQL by id, name and project."""
    query = sa.select(Network).where(common.network_visible(ctx)).order_by(Network.id)
    for name, column in (("id", Network.id), ("name", Network.name),
                         ("project_id", Network.project_id),
                         ("tenant_id", Network.project_id)):
        if filters.get(name):
            query = query.where(column.in_(filters[name]))
    with rt.db.session() as session:
        return list(session.scalars(query))


def _port_ids(session: orm.Session, network_id: str) -> list[str]:
    return list(session.scalars(sa.select(Port.id).where(Port.network_id == network_id)))


def update(rt: Runtime, ctx: RequestContext, network_id: str,
           body: dict[str, Any]) -> Network:
    """:raises InvalidInput: a provider attribute change or a bad MTU.
    :raises NetworkInUse: un-externalising a network routers or floating IPs use."""
    body = _numbers(body)
    with rt.db.session() as session:
        network = common.get_network(session, ctx, network_id)
        common.lock(session, Network, network.id)
        current = segments.view(network.segment)
        for key in PROVIDER:
            if key in body and body[key] != current[key]:
                raise exc.InvalidInput("Invalid input for operation: Plugin does not "
                                       "support updating provider attributes.")
        if body.get("router:external") is False and network.external:
            users = session.scalar(sa.select(sa.func.count()).select_from(Port).where(
                Port.network_id == network.id,
                Port.device_owner.in_([common.ROUTER_GATEWAY, common.FLOATING_IP])))
            if users:
                raise exc.NetworkInUse(f"Unable to complete operation on network "
                                       f"{network.id}. There are one or more ports still "
                                       "in use on the network.")
        if body.get("shared") is False and network.shared and session.scalar(
                sa.select(sa.func.count()).select_from(Port).where(
                    Port.network_id == network.id,
                    Port.project_id.not_in([network.project_id, ""]))):
            raise exc.InvalidSharedSetting(f"Unable to reconfigure sharing settings for "
                                           f"network {network.id}. Multiple tenants are "
                                           "using it.")
        if "router:external" in body:
            network.external = body["router:external"]
        common.apply(network, body, UPDATABLE)
        if "mtu" in body:
            network.mtu = _mtu(rt, network.segment.network_type, body["mtu"])
        common.touch(network)
        session.flush()
        changes = notify.Changes().network(network.id)
        if {"admin_state_up", "mtu"} & set(body):
            port_ids = _port_ids(session, network.id)
            changes.port(*port_ids)
            changes.router(*session.scalars(sa.select(Port.device_id).where(
                Port.network_id == network.id,
                Port.device_owner.in_(common.ROUTER_OWNERS))))
        session.refresh(network, ["segment", "subnets"])
    changes.send(rt, ctx)
    notify.event(rt, ctx, "network.update.end", {"id": network.id})
    return network


def delete(rt: Runtime, ctx: RequestContext, network_id: str) -> None:
    """Delete a network whose only ports are its DHCP ports.

    :raises NetworkNotFound: :raises NetworkInUse: other ports remain.
    """
    with rt.db.session() as session:
        network = common.get_network(session, ctx, network_id)
        if not ctx.is_admin and network.project_id != ctx.project_id:
            raise exc.NetworkNotFound(f"Network {network_id} could not be found.")
        common.lock(session, Network, network.id)
        busy = session.scalar(sa.select(sa.func.count()).select_from(Port).where(
            Port.network_id == network.id, Port.device_owner != common.DHCP))
        if busy:
            raise exc.NetworkInUse(f"Unable to complete operation on network {network.id}. "
                                   "There are one or more ports still in use on the "
                                   "network.")
        changes = notify.Changes().network(network.id)
        for port in list(session.scalars(sa.select(Port).where(
                Port.network_id == network.id))):
            changes.port(port.id)
            ports.delete_in_session(session, port)
        session.delete(network)
    changes.send(rt, ctx)
    notify.event(rt, ctx, "network.delete.end", {"id": network_id})

