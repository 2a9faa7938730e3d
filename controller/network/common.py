"""What the network resource modules share: ids, ownership, visibility, row locks."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import Network
from controller.network import exceptions as exc

T = TypeVar("T")

# device_owner values of the ports the service itself makes and manages.
DHCP = "network:dhcp"
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATING_IP = "network:floatingip"
ROUTER_OWNERS = (ROUTER_INTERFACE, ROUTER_GATEWAY)
COMPUTE_PREFIX = "compute:"


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def owner(ctx: RequestContext, body: dict[str, Any]) -> str:
    """The project a new resource belongs to: project_id (or tenant_id) from the body,
    else the caller's (policy decides whether the caller may name another project).

    :raises InvalidInput: project_id and tenant_id disagree, or no project at all.
    """
    project, tenant = body.get("project_id"), body.get("tenant_id")
    if project and tenant and project != tenant:
        raise exc.InvalidInput("Invalid input for operation: project_id and tenant_id "
                               "do not match.")
    chosen = project or tenant or ctx.project_id
    if not chosen:
        raise exc.InvalidInput("Invalid input for operation: a project-scoped token or a "
                               "project_id is required.")
    return chosen


def network_visible(ctx: RequestContext):
    """SQL condition: networks ctx may see (its own, shared and external ones)."""
    if ctx.is_admin:
        return sa.true()
    return sa.or_(Network.project_id == ctx.project_id, Network.shared, Network.external)


def get_network(session: orm.Session, ctx: RequestContext, network_id: str) -> Network:
    """:raises NetworkNotFound: no such network, or one ctx may not see."""
    row = session.get(Network, network_id) if is_uuid(network_id) else None
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id
                           or row.shared or row.external):
        raise exc.NetworkNotFound(f"Network {network_id} could not be found.")
    return row


def get_owned(session: orm.Session, ctx: RequestContext, model: type[T], ident: str,
              error: type[Exception], kind: str) -> T:
    """The row if it belongs to ctx's project (any project for admin).

    :raises error: no such row, or another project's (404, as Neutron answers).
    """
    row = session.get(model, ident) if is_uuid(ident) else None
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise error(f"{kind} {ident} could not be found.")
    return row


def lock(session: orm.Session, model: Any, ident: str) -> None:
    """Serialise writers on one row: a no-op UPDATE takes PostgreSQL's row lock and
    SQLite's database write lock until the transaction ends."""
    session.execute(sa.update(model).where(model.id == ident)
                    .values(revision_number=model.revision_number,
                            updated_at=model.updated_at)
                    .execution_options(synchronize_session=False))


def touch(row: Any) -> None:
    """Record an update of row: Neutron's revision_number goes up by one."""
    row.revision_number = (row.revision_number or 0) + 1


def apply(row: Any, values: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """Copy the fields present in values onto row; whether anything changed."""
    changed = False
    for field in fields:
        if field in values and getattr(row, field) != values[field]:
            setattr(row, field, values[field])
            changed = True
    return changed
