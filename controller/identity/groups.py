"""Groups and their membership."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import new_id
from controller.db.models.identity import Assignment, Domain, Group, GroupMembership, User
from controller.identity import revision, revocations, store
from controller.runtime import Runtime

FIELDS = ("name", "description")


def _conflict(name: Any) -> str:
    return ("Conflict occurred attempting to store group - Duplicate entry found with name "
            f"{name} at domain ID.")


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Group:
    domain_id = values.get("domain_id") or rt.conf.identity.default_domain_id
    with rt.db.session() as session:
        store.get(session, Domain, domain_id, "domain")
        group = Group(id=new_id(), domain_id=domain_id,
                      **{f: values[f] for f in FIELDS if f in values})
        store.insert(session, group, _conflict(values["name"]))
    rt.notify(ctx, "identity.group.created", {"resource_info": group.id})
    return group


def get(rt: Runtime, group_id: str) -> Group:
    with rt.db.session() as session:
        return store.get(session, Group, group_id, "group")


def list_(rt: Runtime, filters: dict[str, Any]) -> list[Group]:
    with rt.db.session() as session:
        return store.listing(session, Group, filters, order_by=Group.name)


def update(rt: Runtime, ctx: RequestContext, group_id: str, values: dict[str, Any]) -> Group:
    with rt.db.session() as session:
        group = store.get(session, Group, group_id, "group")
        store.apply(group, values, FIELDS)
        store.save(session, group, _conflict(values.get("name")))
    rt.notify(ctx, "identity.group.updated", {"resource_info": group_id})
    return group


def delete(rt: Runtime, ctx: RequestContext, group_id: str) -> None:
    with rt.db.session() as session:
        group = store.get(session, Group, group_id, "group")
        for user_id in _member_ids(session, group_id):
            revocations.revoke(session, rt.conf.token.expiration, user_id=user_id)
        session.execute(sa.delete(Assignment).where(
            Assignment.actor_type == "group", Assignment.actor_id == group_id))
        session.execute(sa.delete(GroupMembership).where(GroupMembership.group_id == group_id))
        store.delete(session, group)
    rt.notify(ctx, "identity.group.deleted", {"resource_info": group_id})


def _member_ids(session, group_id: str) -> list[str]:
    return list(session.scalars(
        sa.select(GroupMembership.user_id).where(GroupMembership.group_id == group_id)))


def add_user(rt: Runtime, ctx: RequestContext, group_id: str, user_id: str) -> None:
    with rt.db.session() as session:
        store.get(session, Group, group_id, "group")
        store.get(session, User, user_id, "user")
        if session.get(GroupMembership, (user_id, group_id)) is None:
            session.add(GroupMembership(user_id=user_id, group_id=group_id))
            revision.bump(session)


def remove_user(rt: Runtime, ctx: RequestContext, group_id: str, user_id: str) -> None:
    """Remove a member; its tokens go, since they may carry roles the group gave."""
    with rt.db.session() as session:
        store.get(session, Group, group_id, "group")
        store.get(session, User, user_id, "user")
        membership = session.get(GroupMembership, (user_id, group_id))
        if membership is None:
            raise exceptions.NotFound(
                f"Could not find membership of user {user_id} in group {group_id}.")
        session.delete(membership)
        revocations.revoke(session, rt.conf.token.expiration, user_id=user_id)


def check_user(rt: Runtime, group_id: str, user_id: str) -> None:
    """:raises NotFound: the user is not a member of the group."""
    with rt.db.session() as session:
        store.get(session, Group, group_id, "group")
        store.get(session, User, user_id, "user")
        if session.get(GroupMembership, (user_id, group_id)) is None:
            raise exceptions.NotFound(
                f"Could not find membership of user {user_id} in group {group_id}.")


def list_users(rt: Runtime, group_id: str) -> list[User]:
    with rt.db.session() as session:
        store.get(session, Group, group_id, "group")
        return list(session.scalars(sa.select(User).join(
            GroupMembership, GroupMembership.user_id == User.id).where(
            GroupMembership.group_id == group_id).order_by(User.name)))


def list_for_user(rt: Runtime, user_id: str) -> list[Group]:
    with rt.db.session() as session:
        store.get(session, User, user_id, "user")
        return list(session.scalars(sa.select(Group).join(
            GroupMembership, GroupMembership.group_id == Group.id).where(
            GroupMembership.user_id == user_id).order_by(Group.name)))
