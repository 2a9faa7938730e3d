"""A server's ports on the conductor's side: allocated once the scheduler has picked a
host (before the agent spawns), rebound when a build is rescheduled, released when the
build fails or the server is deleted, and described to the agent in the instance spec.

What the user asked for was validated by the API and stored in the instance's
``system_metadata`` (:data:`controller.compute.server_networks.REQUESTED_KEY`). Ports
are allocated with the user's context (which networks and ports the user may use is
the user's rights, not the conductor's; a daemon context acts as a member of the
server's project, see ``compute_ports``), in one transaction: all or none.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.compute import server_networks
from controller.db.models.network import Network, Port
from controller.db.models.servers import Instance
from controller.network import common as network_common
from controller.network import compute_ports, metadata
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


def _ports(session, instance_uuid: str) -> list[Port]:
    return list(session.scalars(sa.select(Port).where(
        Port.device_id == instance_uuid,
        Port.device_owner.startswith(network_common.COMPUTE_PREFIX))
        .order_by(Port.created_at, Port.id)))


def port_ids(rt: Runtime, instance_uuid: str) -> list[str]:
    """The ports the server has now, in the order its NICs are plugged."""
    with rt.db.session() as session:
        return [port.id for port in _ports(session, instance_uuid)]


def allocate(rt: Runtime, ctx: RequestContext, row: Instance, host: str) -> list[str]:
    """Give the server its ports on host: the requested ones on a first attempt, the
    ones it already has (rebound to host) on a reschedule. Returns their ids.

    :raises NetworkNotFound / PortNotFound / PortInUse / NotAuthorized /
        SecurityGroupNotFound / IpAddressInUse / IpAddressGenerationFailure /
        OverQuota: see ``compute_ports.allocate_for_instance``; nothing was allocated.
    """
    zone = row.availability_zone or "nova"
    existing = port_ids(rt, row.uuid)
    if existing:
        with rt.db.session() as session:
            # Wired on the old host, not yet on this one: the new agent must wait.
            session.execute(sa.update(Port).where(
                Port.id.in_(existing), Port.binding_host_id != host).values(status="DOWN")
                .execution_options(synchronize_session=False))
        for port_id in existing:
            compute_ports.bind(rt, ctx, port_id, row.uuid, host, zone)
        LOG.info("instance %s: rebound its ports %s to %s", row.uuid, existing, host)
        return existing
    requested = server_networks.stored_request(row.system_metadata)
    if not requested:
        return []
    groups = (row.system_metadata or {}).get("security_groups") or None
    vifs = compute_ports.allocate_for_instance(
        rt, ctx, row.uuid, row.project_id, requested, groups, host, zone)
    LOG.info("instance %s: allocated ports %s on %s", row.uuid,
             [vif["id"] for vif in vifs], host)
    return [vif["id"] for vif in vifs]


def failure_message(error: Exception) -> str:
    """The fault of a build whose networks could not be allocated (Nova's wording)."""
    reason = error.message if isinstance(error, exceptions.StratusError) else str(error)
    return f"Failed to allocate the network(s), not rescheduling: {reason}"


def release(rt: Runtime, ctx: RequestContext, instance_uuid: str) -> bool:
    """Release every port of the server: the ones compute created are deleted, the
    ones the user handed in unbound and kept. Idempotent; never raises (a failure is
    logged and the ports stay for the next delete or the reconciliation)."""
    try:
        compute_ports.deallocate_for_instance(rt, ctx, instance_uuid)
    except Exception:  # noqa: BLE001 - the server's own deletion must go on
        LOG.exception("instance %s: could not release its ports", instance_uuid)
        return False
    return True


def vifs(rt: Runtime, instance_uuid: str) -> list[dict[str, Any]]:
    """The instance spec's ``vifs``: one per port, in plug order."""
    with rt.db.session() as session:
        rows = _ports(session, instance_uuid)
        networks = {net.id: net for net in session.scalars(sa.select(Network).where(
            Network.id.in_({port.network_id for port in rows})))} if rows else {}
        bridges = compute_ports.integration_bridges(
            session, {port.binding_host_id for port in rows})
        return [compute_ports.vif(port, networks[port.network_id],
                                  bridges.get(port.binding_host_id)) for port in rows]


def vif_of(rt: Runtime, instance_uuid: str, port_id: str) -> dict[str, Any] | None:
    """The vif of port_id if the server has that port, else None."""
    return next((vif for vif in vifs(rt, instance_uuid) if vif["id"] == port_id), None)


def network_data(rt: Runtime, row: Instance) -> dict[str, Any]:
    """network_data.json for the config drive: the metadata service's own document."""
    return metadata.network_data(rt, row)


def port_statuses(rt: Runtime, ids: list[str]) -> dict[str, str]:
    """{port id: status} of the ports that exist among ids."""
    wanted = [str(port_id) for port_id in ids if network_common.is_uuid(port_id)]
    if not wanted:
        return {}
    with rt.db.session() as session:
        return dict(session.execute(sa.select(Port.id, Port.status)
                                    .where(Port.id.in_(wanted))).all())


def servers_with_orphan_ports(rt: Runtime, limit: int) -> list[str]:
    """Deleted servers that still hold ports (at most limit of them)."""
    deleted = sa.select(Instance.uuid).where(Instance.deleted.is_(True))
    with rt.db.session() as session:
        return list(session.scalars(sa.select(Port.device_id).where(
            Port.device_owner.startswith(network_common.COMPUTE_PREFIX),
            Port.device_id.in_(deleted)).distinct().limit(limit)))
