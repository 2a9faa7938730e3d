"""Server groups: affinity policies the scheduler enforces over their members.

A group belongs to a project; a non-admin sees only its project's groups (another's is
"not found"). Members are the group's live servers: deleted servers drop out of the
member list even before the conductor removes their rows.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller import quotas as quota_engine
from controller.compute import quotas
from controller.db.base import utcnow
from controller.db.models.servers import Instance, ServerGroup, ServerGroupMember
from controller.runtime import Runtime

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


def not_found(group_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"Instance group {str(group_id)[:64]} could not be found.")


def _visible(ctx: RequestContext) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else ServerGroup.project_id == ctx.project_id


def members(rt: Runtime, group_uuids: list[str]) -> dict[str, list[str]]:
    """Live member server uuids per group."""
    if not group_uuids:
        return {}
    result: dict[str, list[str]] = {group: [] for group in group_uuids}
    with rt.db.session() as session:
        for group, member in session.execute(
                sa.select(ServerGroupMember.group_uuid, ServerGroupMember.instance_uuid)
                .join(Instance, Instance.uuid == ServerGroupMember.instance_uuid)
                .where(ServerGroupMember.group_uuid.in_(group_uuids),
                       Instance.deleted.is_(False))
                .order_by(Instance.created_at, Instance.uuid)):
            result[group].append(member)
    return result


def create(rt: Runtime, ctx: RequestContext, name: str, policy: str,
           rules: dict | None = None) -> ServerGroup:
    """:raises OverQuota: the project has server_groups groups already."""
    limit = quotas.limits(rt, ctx.project_id)["server_groups"]
    row = ServerGroup(uuid=str(uuid.uuid4()), name=name, project_id=ctx.project_id,
                      user_id=ctx.user_id, policy=policy, rules=rules or {},
                      created_at=utcnow())
    with rt.db.session() as session:
        session.add(row)
        session.flush()
        # Counted after the insert, in the same transaction: concurrent creates cannot
        # both take the last slot (the loser rolls back).
        count = session.scalar(sa.select(sa.func.count()).select_from(ServerGroup).where(
            ServerGroup.project_id == ctx.project_id))
        if limit != quota_engine.UNLIMITED and count > limit:
            raise exceptions.OverQuota("Quota exceeded, too many server groups.")
    rt.notify(ctx, "server_group.create", {"uuid": row.uuid, "name": name,
                                           "policy": policy})
    return row


def list_(rt: Runtime, ctx: RequestContext, all_projects: bool = False) -> list[ServerGroup]:
    """The project's groups (every project's for an admin asking all_projects)."""
    query = sa.select(ServerGroup).order_by(ServerGroup.created_at, ServerGroup.uuid)
    if not (all_projects and ctx.is_admin):
        query = query.where(ServerGroup.project_id == ctx.project_id)
    with rt.db.session() as session:
        return list(session.scalars(query))


def _get(session: orm.Session, ctx: RequestContext, group_id: str) -> ServerGroup:
    row = session.scalars(sa.select(ServerGroup).where(
        ServerGroup.uuid == group_id, _visible(ctx))).first() \
        if isinstance(group_id, str) and len(group_id) <= 36 else None
    if row is None:
        raise not_found(group_id)
    return row


def get(rt: Runtime, ctx: RequestContext, group_id: str) -> ServerGroup:
    """:raises NotFound: no such group visible to ctx."""
    with rt.db.session() as session:
        return _get(session, ctx, group_id)


def delete(rt: Runtime, ctx: RequestContext, group_id: str) -> None:
    """:raises NotFound: no such group visible to ctx."""
    with rt.db.session() as session:
        row = _get(session, ctx, group_id)
        session.delete(row)
    rt.notify(ctx, "server_group.delete", {"uuid": group_id, "name": row.name})


def for_boot(rt: Runtime, ctx: RequestContext, group_id: str) -> ServerGroup:
    """The group a new server joins (scheduler hint ``group``).

    :raises BadRequest: no such group visible to ctx.
    """
    try:
        return get(rt, ctx, group_id)
    except exceptions.NotFound as exc:
        raise exceptions.BadRequest(exc.message) from exc


def check_members(rt: Runtime, group_uuid: str, adding: int) -> None:
    """:raises OverQuota: adding more servers would exceed server_group_members.

    adding 0 rechecks after the new members are inserted.
    """
    with rt.db.session() as session:
        group = session.get(ServerGroup, group_uuid)
        if group is None:
            return
        project_id = group.project_id
        count = quotas.group_member_count(session, group_uuid)
    limit = quotas.limits(rt, project_id)["server_group_members"]
    if limit != quota_engine.UNLIMITED and count + adding > limit:
        raise exceptions.OverQuota("Quota exceeded, too many servers in group")
