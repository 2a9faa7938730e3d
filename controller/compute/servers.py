"""Servers: find one the caller may see, describe it for the views, rename it, delete it.

Creation is in ``server_create``, listing in ``server_list``, the actions in
``server_actions``. A project sees only its own servers (another project's server is
"not found", as Nova answers); an admin sees every project's.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.compute import (
    actions,
    block_device_mappings,
    compute_services,
    rpc,
    server_addresses,
    states,
)
from controller.db.base import utcnow
from controller.db.models.servers import Instance, InstanceFault
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)
UPDATABLE = ("display_name", "display_description", "access_ip_v4", "access_ip_v6",
             "disk_config")


def not_found(server_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Instance {str(server_id)[:64]} could not be found.")


def visible_condition(ctx: RequestContext) -> sa.ColumnElement[bool]:
    """The servers ctx may see: all for an admin, else its project's."""
    return sa.true() if ctx.is_admin else Instance.project_id == ctx.project_id


def get(rt: Runtime, ctx: RequestContext, server_id: str) -> Instance:
    """The live server server_id, if ctx may see it.

    :raises NotFound: no such server, deleted, or another project's (for a non-admin).
    """
    if not isinstance(server_id, str) or len(server_id) > 36:
        raise not_found(server_id)
    with rt.db.session() as session:
        row = session.scalars(sa.select(Instance).where(
            Instance.uuid == server_id, Instance.deleted.is_(False),
            visible_condition(ctx))).first()
    if row is None:
        raise not_found(server_id)
    return row


def get_deleted(rt: Runtime, ctx: RequestContext, server_id: str) -> Instance:
    """A deleted server ctx may see (its actions stay readable).

    :raises NotFound: no such deleted server visible to ctx.
    """
    if not isinstance(server_id, str) or len(server_id) > 36:
        raise not_found(server_id)
    with rt.db.session() as session:
        row = session.scalars(sa.select(Instance).where(
            Instance.uuid == server_id, Instance.deleted.is_(True),
            visible_condition(ctx))).first()
    if row is None:
        raise not_found(server_id)
    return row


@dataclasses.dataclass
class Described:
    """A server and the facts its view needs from other tables."""

    instance: Instance
    fault: InstanceFault | None = None
    host_status: str | None = None
    networking: server_addresses.Networking = dataclasses.field(
        default_factory=server_addresses.Networking)
    # The server's volumes: [{"id": volume id, "delete_on_termination": bool}].
    volumes: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def describe(rt: Runtime, rows: list[Instance],
             with_host_status: bool = False) -> list[Described]:
    """Attach the newest fault (for ERROR/DELETED servers), the addresses and security
    groups of the ports and, when asked, the host status, in a few queries for the
    whole list."""
    needs_fault = [row.uuid for row in rows
                   if row.vm_state in (states.ERROR, states.DELETED) or row.deleted]
    faults: dict[str, InstanceFault] = {}
    if needs_fault:
        with rt.db.session() as session:
            for fault in session.scalars(sa.select(InstanceFault).where(
                    InstanceFault.instance_uuid.in_(needs_fault))
                    .order_by(InstanceFault.id)):
                faults[fault.instance_uuid] = fault  # the newest wins
    statuses: dict[str, str] = {}
    if with_host_status:
        statuses = compute_services.host_statuses(rt, {row.host for row in rows if row.host})
    networking = server_addresses.describe(rt, [row.uuid for row in rows])
    mappings = block_device_mappings.by_instances(rt, [row.uuid for row in rows])
    return [Described(row, faults.get(row.uuid),
                      statuses.get(row.host, "") if with_host_status else None,
                      networking[row.uuid],
                      [{"id": m.volume_id, "delete_on_termination": m.delete_on_termination}
                       for m in mappings.get(row.uuid, []) if m.volume_id])
            for row in rows]


def update(rt: Runtime, ctx: RequestContext, server_id: str,
           changes: dict[str, Any]) -> Instance:
    """Set name, description, access IPs or disk config (keys of UPDATABLE).

    :raises NotFound: no such server visible to ctx.
    """
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise exceptions.BadRequest(f"Cannot update {', '.join(sorted(unknown))}.")
    with rt.db.session() as session:
        row = session.scalars(sa.select(Instance).where(
            Instance.uuid == server_id, Instance.deleted.is_(False),
            visible_condition(ctx)).with_for_update()).first()
        if row is None:
            raise not_found(server_id)
        for key, value in changes.items():
            if key == "disk_config":
                row.system_metadata = {**(row.system_metadata or {}), "disk_config": value}
            else:
                setattr(row, key, value)
        row.updated_at = utcnow()
    rt.notify(ctx, "instance.update", payload(row))
    return row


def delete(rt: Runtime, ctx: RequestContext, server_id: str) -> None:
    """Start deleting the server (task deleting) and ask the conductor to finish it.

    A delete already in flight is accepted again without a second cast.

    :raises Conflict: locked, for a non-admin. :raises ServiceUnavailable: the bus is
        down (the server is left as it was).
    """
    row = get(rt, ctx, server_id)
    if row.task_state == states.DELETING:
        return
    try:
        actions.transition(rt, ctx, row.uuid, "delete")
    except exceptions.Conflict:
        if get(rt, ctx, server_id).task_state == states.DELETING:
            return  # a concurrent delete won the race: same outcome
        raise
    rt.notify(ctx, "instance.delete.start", payload(row))
    try:
        rpc.cast("delete_instance", rt.conductor_api.delete_instance, ctx, row.uuid)
    except exceptions.ServiceUnavailable:
        actions.revert(rt, row.uuid, states.DELETING, row.task_state, ctx.request_id)
        raise


def payload(row: Instance) -> dict[str, Any]:
    """The notification body for a server (a subset of Nova's InstancePayload)."""
    return {"uuid": row.uuid, "display_name": row.display_name,
            "tenant_id": row.project_id, "user_id": row.user_id,
            "state": row.vm_state, "task_state": row.task_state,
            "power_state": row.power_state, "host": row.host,
            "flavor": {k: row.flavor.get(k) for k in ("name", "vcpus", "memory_mb",
                                                      "root_gb")},
            "image_uuid": row.image_ref, "availability_zone": row.availability_zone,
            "locked": row.locked}
