"""Role assignments: grants, effective roles, and the /v3/role_assignments listing."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import exceptions
from controller.db.models.identity import (
    Assignment,
    Domain,
    Group,
    GroupMembership,
    Project,
    Role,
    User,
)
from controller.identity import revision, revocations, store
from controller.runtime import Runtime

ACTORS = {"user": (User, "user"), "group": (Group, "group")}
TARGETS = {"project": (Project, "project"), "domain": (Domain, "domain")}


@dataclasses.dataclass(frozen=True)
class Grant:
    """One (possibly expanded) assignment row, as /v3/role_assignments lists it."""

    actor_type: str
    actor_id: str
    target_type: str
    target_id: str
    role_id: str
    inherited: bool = False
    via_group: str | None = None


def _check_parts(session: orm.Session, actor_type: str, actor_id: str, target_type: str,
                 target_id: str, role_id: str) -> None:
    model, kind = ACTORS[actor_type]
    store.get(session, model, actor_id, kind)
    model, kind = TARGETS[target_type]
    store.get(session, model, target_id, kind)
    store.get(session, Role, role_id, "role")


def grant(rt: Runtime, ctx: RequestContext, actor_type: str, actor_id: str, target_type: str,
          target_id: str, role_id: str, inherited: bool = False) -> None:
    """Give the role; granting twice is a no-op."""
    with rt.db.session() as session:
        _check_parts(session, actor_type, actor_id, target_type, target_id, role_id)
        key = (actor_type, actor_id, target_type, target_id, role_id, inherited)
        if session.get(Assignment, key) is None:
            session.add(Assignment(actor_type=actor_type, actor_id=actor_id,
                                   target_type=target_type, target_id=target_id,
                                   role_id=role_id, inherited=inherited))
            revision.bump(session)
    rt.notify(ctx, "identity.role_assignment.created",
              {"role": role_id, actor_type: actor_id, target_type: target_id,
               "inherited_to_projects": inherited})


def revoke(rt: Runtime, ctx: RequestContext, actor_type: str, actor_id: str, target_type: str,
           target_id: str, role_id: str, inherited: bool = False) -> None:
    """Take the role away and revoke the tokens that carried it."""
    with rt.db.session() as session:
        _check_parts(session, actor_type, actor_id, target_type, target_id, role_id)
        row = session.get(Assignment,
                          (actor_type, actor_id, target_type, target_id, role_id, inherited))
        if row is None:
            raise exceptions.NotFound(f"Could not find role assignment with role: {role_id}, "
                                      f"{actor_type}: {actor_id}, {target_type}: {target_id}.")
        session.delete(row)
        user_ids = ([actor_id] if actor_type == "user" else list(session.scalars(
            sa.select(GroupMembership.user_id).where(GroupMembership.group_id == actor_id))))
        project_id = target_id if target_type == "project" and not inherited else None
        for user_id in user_ids:
            revocations.revoke(session, rt.conf.token.expiration, user_id=user_id,
                               project_id=project_id)
    rt.notify(ctx, "identity.role_assignment.deleted",
              {"role": role_id, actor_type: actor_id, target_type: target_id})


def check(rt: Runtime, actor_type: str, actor_id: str, target_type: str, target_id: str,
          role_id: str, inherited: bool = False) -> None:
    """:raises NotFound: the assignment does not exist."""
    with rt.db.session() as session:
        _check_parts(session, actor_type, actor_id, target_type, target_id, role_id)
        if session.get(Assignment, (actor_type, actor_id, target_type, target_id, role_id,
                                    inherited)) is None:
            raise exceptions.NotFound(f"Could not find role assignment with role: {role_id}.")


def list_grants(rt: Runtime, actor_type: str, actor_id: str, target_type: str, target_id: str,
                inherited: bool = False) -> list[Role]:
    """The roles granted directly to actor on target."""
    with rt.db.session() as session:
        model, kind = ACTORS[actor_type]
        store.get(session, model, actor_id, kind)
        model, kind = TARGETS[target_type]
        store.get(session, model, target_id, kind)
        return list(session.scalars(sa.select(Role).join(
            Assignment, Assignment.role_id == Role.id).where(
            Assignment.actor_type == actor_type, Assignment.actor_id == actor_id,
            Assignment.target_type == target_type, Assignment.target_id == target_id,
            Assignment.inherited == inherited).order_by(Role.name)))


def _actor_clause(user_id: str):
    group_ids = sa.select(GroupMembership.group_id).where(GroupMembership.user_id == user_id)
    return (((Assignment.actor_type == "user") & (Assignment.actor_id == user_id))
            | ((Assignment.actor_type == "group") & Assignment.actor_id.in_(group_ids)))


def _ancestors(session: orm.Session, project: Project) -> list[str]:
    ids, parent_id = [], project.parent_id
    while parent_id and parent_id not in ids:
        ids.append(parent_id)
        parent_id = session.scalar(sa.select(Project.parent_id).where(Project.id == parent_id))
    return ids


def roles_on_project(session: orm.Session, user_id: str, project: Project) -> list[Role]:
    """Effective roles: direct, through groups, and inherited from the domain or parents."""
    inherited_from = [project.domain_id] + _ancestors(session, project)
    target = (((Assignment.target_type == "project") & (Assignment.target_id == project.id)
               & (Assignment.inherited.is_(False)))
              | (Assignment.inherited.is_(True) & Assignment.target_id.in_(inherited_from)))
    query = (sa.select(Role).join(Assignment, Assignment.role_id == Role.id)
             .where(_actor_clause(user_id), target).distinct().order_by(Role.name))
    return list(session.scalars(query))


def roles_on_domain(session: orm.Session, user_id: str, domain_id: str) -> list[Role]:
    query = (sa.select(Role).join(Assignment, Assignment.role_id == Role.id)
             .where(_actor_clause(user_id), Assignment.target_type == "domain",
                    Assignment.target_id == domain_id, Assignment.inherited.is_(False))
             .distinct().order_by(Role.name))
    return list(session.scalars(query))


def project_ids_for_user(session: orm.Session, user_id: str) -> list[str]:
    """Projects on which the user has at least one effective role."""
    rows = session.execute(sa.select(Assignment.target_type, Assignment.target_id,
                                     Assignment.inherited)
                           .where(_actor_clause(user_id))).all()
    direct = {t_id for t_type, t_id, inh in rows if t_type == "project" and not inh}
    parents = {t_id for t_type, t_id, inh in rows if t_type == "project" and inh}
    domains = {t_id for t_type, t_id, inh in rows if t_type == "domain" and inh}
    if domains:
        direct.update(session.scalars(sa.select(Project.id).where(
            Project.domain_id.in_(domains))))
    frontier = parents
    while frontier:
        children = set(session.scalars(sa.select(Project.id).where(
            Project.parent_id.in_(frontier)))) - direct
        direct.update(children)
        frontier = children
    return sorted(direct)


def domain_ids_for_user(session: orm.Session, user_id: str) -> list[str]:
    return sorted(set(session.scalars(sa.select(Assignment.target_id).where(
        _actor_clause(user_id), Assignment.target_type == "domain",
        Assignment.inherited.is_(False)))))


def list_role_assignments(rt: Runtime, filters: dict[str, Any], effective: bool) -> list[Grant]:
    """Assignments matching filters (user_id, group_id, role_id, project_id, domain_id,
    inherited); with effective, groups expand to members and inherited grants to projects."""
    with rt.db.session() as session:
        query = sa.select(Assignment)
        if filters.get("role_id"):
            query = query.where(Assignment.role_id == filters["role_id"])
        grants = [Grant(a.actor_type, a.actor_id, a.target_type, a.target_id, a.role_id,
                        a.inherited) for a in session.scalars(query)]
        if effective:
            grants = _expand(session, grants)
    return [g for g in grants if _matches(g, filters, effective)]


def _expand(session: orm.Session, grants: list[Grant]) -> list[Grant]:
    expanded: list[Grant] = []
    for grant_ in grants:
        targets = [(grant_.target_type, grant_.target_id)]
        if grant_.inherited:
            column = Project.domain_id if grant_.target_type == "domain" else Project.parent_id
            targets = [("project", pid) for pid in
                       session.scalars(sa.select(Project.id).where(column == grant_.target_id))]
        actors: list[tuple[str, str | None]] = [(grant_.actor_id, None)]
        if grant_.actor_type == "group":
            actors = [(uid, grant_.actor_id) for uid in session.scalars(
                sa.select(GroupMembership.user_id).where(
                    GroupMembership.group_id == grant_.actor_id))]
        for target_type, target_id in targets:
            for actor_id, via in actors:
                expanded.append(Grant("user", actor_id, target_type, target_id,
                                      grant_.role_id, False, via))
    return list(dict.fromkeys(expanded))


def _matches(grant_: Grant, filters: dict[str, Any], effective: bool) -> bool:
    if filters.get("user_id") and (grant_.actor_type, grant_.actor_id) != (
            "user", filters["user_id"]):
        return False
    if filters.get("group_id"):
        group = grant_.via_group if effective else (
            grant_.actor_id if grant_.actor_type == "group" else None)
        if group != filters["group_id"]:
            return False
    for target_type in ("project", "domain"):
        wanted = filters.get(f"{target_type}_id")
        if wanted and (grant_.target_type, grant_.target_id) != (target_type, wanted):
            return False
    if filters.get("inherited") is not None and grant_.inherited != filters["inherited"]:
        return False
    return True


def names_for(rt: Runtime, grants: list[Grant]) -> dict[str, dict[str, Any]]:
    """id -> {name, domain_id} for every user, group, project, domain and role in grants."""
    ids = {g.actor_id for g in grants} | {g.target_id for g in grants} | {
        g.role_id for g in grants}
    names: dict[str, dict[str, Any]] = {}
    with rt.db.session() as session:
        for model in (User, Group, Project):
            for row in session.scalars(sa.select(model).where(model.id.in_(ids))):
                names[row.id] = {"name": row.name, "domain_id": row.domain_id}
        for row in session.scalars(sa.select(Domain)):
            names[row.id] = {"name": row.name, "domain_id": None}
        for row in session.scalars(sa.select(Role).where(Role.id.in_(ids))):
            names[row.id] = {"name": row.name, "domain_id": row.domain_id or None}
    return names


def projects_of(rt: Runtime, user_id: str) -> list[str]:
    """IDs of the projects the user holds any effective role on."""
    with rt.db.session() as session:
        return project_ids_for_user(session, user_id)


def domains_of(rt: Runtime, user_id: str) -> list[str]:
    """IDs of the domains the user holds a role on."""
    with rt.db.session() as session:
        return domain_ids_for_user(session, user_id)
