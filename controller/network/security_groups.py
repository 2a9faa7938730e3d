"""Security groups: create, list, show, update, delete, and each project's `default`.

The default group is made on first use (listing groups, creating a group or a port)
with Neutron's rules: ingress from members of the same group and all egress, for IPv4
and IPv6. Its creation is race-free through default_security_groups' primary key.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.context import RequestContext
from controller.db.models.network import (
    DefaultSecurityGroup,
    SecurityGroup,
    SecurityGroupPortBinding,
    SecurityGroupRule,
)
from controller.network import common, notify, quotas
from controller.network import exceptions as exc
from controller.runtime import Runtime

DEFAULT = "default"


def _egress_rules(group: SecurityGroup) -> list[SecurityGroupRule]:
    return [SecurityGroupRule(id=common.new_id(), project_id=group.project_id,
                              security_group_id=group.id, direction="egress",
                              ethertype=ethertype)
            for ethertype in ("IPv4", "IPv6")]


def ensure_default(session: orm.Session, project_id: str) -> SecurityGroup:
    """The project's default group, created with its rules if it does not exist yet."""
    existing = session.get(DefaultSecurityGroup, project_id)
    if existing is not None:
        return session.get(SecurityGroup, existing.security_group_id)
    group = SecurityGroup(id=common.new_id(), project_id=project_id, name=DEFAULT,
                          description="Default security group")
    rules = _egress_rules(group) + [
        SecurityGroupRule(id=common.new_id(), project_id=project_id,
                          security_group_id=group.id, direction="ingress",
                          ethertype=ethertype, remote_group_id=group.id)
        for ethertype in ("IPv4", "IPv6")]
    try:
        with session.begin_nested():
            session.add(group)
            session.flush()
            session.add_all(rules)
            session.add(DefaultSecurityGroup(project_id=project_id,
                                             security_group_id=group.id))
            session.flush()
    except sa_exc.IntegrityError:
        # Another request created it first: use theirs.
        existing = session.get(DefaultSecurityGroup, project_id, populate_existing=True)
        return session.get(SecurityGroup, existing.security_group_id)
    session.refresh(group, ["rules"])
    return group


def is_default(session: orm.Session, group: SecurityGroup) -> bool:
    row = session.get(DefaultSecurityGroup, group.project_id)
    return row is not None and row.security_group_id == group.id


def get_row(session: orm.Session, ctx: RequestContext, group_id: str) -> SecurityGroup:
    """:raises SecurityGroupNotFound: absent, or another project's."""
    row = session.get(SecurityGroup, group_id) if common.is_uuid(group_id) else None
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise exc.SecurityGroupNotFound(f"Security group {group_id} does not exist")
    return row


def for_port(session: orm.Session, ctx: RequestContext, project_id: str,
             group_ids: list[str]) -> list[str]:
    """The groups a port of project_id may use: the project's own (any, for admin).

    :raises SecurityGroupNotFound: a group that does not exist or is not usable.
    """
    result = []
    for group_id in dict.fromkeys(group_ids):
        group = get_row(session, ctx, group_id)
        if group.project_id != project_id and not ctx.is_admin:
            raise exc.SecurityGroupNotFound(f"Security group {group_id} does not exist")
        result.append(group.id)
    return result


def referencing(session: orm.Session, group_ids: set[str]) -> set[str]:
    """group_ids plus the groups whose rules admit members of them (remote groups)."""
    if not group_ids:
        return set()
    others = session.scalars(sa.select(SecurityGroupRule.security_group_id).where(
        SecurityGroupRule.remote_group_id.in_(group_ids)))
    return set(group_ids) | set(others)


def create(rt: Runtime, ctx: RequestContext, body: dict[str, Any]) -> SecurityGroup:
    """:raises SecurityGroupDefaultAlreadyExists: name `default`. :raises OverQuota:"""
    project = common.owner(ctx, body)
    with rt.db.session() as session:
        ensure_default(session, project)
        if body.get("name") == DEFAULT:
            raise exc.SecurityGroupDefaultAlreadyExists(
                "Default security group already exists.")
        group = SecurityGroup(id=common.new_id(), project_id=project,
                              name=body.get("name", ""),
                              description=body.get("description") or "",
                              stateful=body.get("stateful", True))
        session.add(group)
        session.flush()
        session.add_all(_egress_rules(group))
        session.flush()
        quotas.check(rt, session, project, "security_group", already_added=True)
        quotas.check(rt, session, project, "security_group_rule", adding=2,
                     already_added=True)
        session.refresh(group, ["rules"])
    notify.event(rt, ctx, "security_group.create.end", {"id": group.id})
    return group


def get(rt: Runtime, ctx: RequestContext, group_id: str) -> SecurityGroup:
    with rt.db.session() as session:
        return get_row(session, ctx, group_id)


def list_(rt: Runtime, ctx: RequestContext, project_id: str | None = None) -> \
        list[SecurityGroup]:
    """The caller's groups (all, for admin), making sure its default group exists."""
    with rt.db.session() as session:
        if ctx.project_id:
            ensure_default(session, ctx.project_id)
        query = sa.select(SecurityGroup).order_by(SecurityGroup.created_at, SecurityGroup.id)
        if not ctx.is_admin:
            query = query.where(SecurityGroup.project_id == ctx.project_id)
        elif project_id:
            query = query.where(SecurityGroup.project_id == project_id)
        return list(session.scalars(query))


def update(rt: Runtime, ctx: RequestContext, group_id: str,
           body: dict[str, Any]) -> SecurityGroup:
    """:raises SecurityGroupCannotUpdateDefault: renaming the default group."""
    with rt.db.session() as session:
        group = get_row(session, ctx, group_id)
        if "name" in body and body["name"] != group.name and is_default(session, group):
            raise exc.SecurityGroupCannotUpdateDefault(
                "Updating default security group not allowed.")
        if common.apply(group, body, ("name", "description", "stateful")):
            common.touch(group)
        stateful_changed = "stateful" in body
    changes = notify.Changes()
    if stateful_changed:
        changes.groups([group.id])
    changes.send(rt, ctx)
    notify.event(rt, ctx, "security_group.update.end", {"id": group.id})
    return group


def delete(rt: Runtime, ctx: RequestContext, group_id: str) -> None:
    """:raises SecurityGroupInUse: a port uses it.
    :raises SecurityGroupCannotRemoveDefault: a member deleting its default group."""
    with rt.db.session() as session:
        group = get_row(session, ctx, group_id)
        if is_default(session, group) and not ctx.is_admin:
            raise exc.SecurityGroupCannotRemoveDefault("Insufficient rights for removing "
                                                       "default security group.")
        in_use = session.scalar(sa.select(sa.func.count()).select_from(
            SecurityGroupPortBinding).where(
            SecurityGroupPortBinding.security_group_id == group.id))
        if in_use:
            raise exc.SecurityGroupInUse(f"Security Group {group_id} in use.")
        affected = referencing(session, {group.id}) - {group.id}
        session.delete(group)
    notify.Changes().groups(affected).send(rt, ctx)
    notify.event(rt, ctx, "security_group.delete.end", {"id": group_id})
