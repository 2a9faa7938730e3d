"""Roles: global (domain_id stored as "") or domain-specific."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import new_id
from controller.db.models.identity import Assignment, Role
from controller.identity import revocations, store
from controller.runtime import Runtime

FIELDS = ("name", "description")


def _conflict(name: Any) -> str:
    return f"Conflict occurred attempting to store role - Duplicate entry found with name {name}."


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Role:
    with rt.db.session() as session:
        role = Role(id=values.get("id") or new_id(), domain_id=values.get("domain_id") or "",
                    **{f: values[f] for f in FIELDS if f in values})
        store.insert(session, role, _conflict(values["name"]))
    rt.notify(ctx, "identity.role.created", {"resource_info": role.id})
    return role


def get(rt: Runtime, role_id: str) -> Role:
    with rt.db.session() as session:
        return store.get(session, Role, role_id, "role")


def find_by_name(rt: Runtime, name: str) -> Role:
    with rt.db.session() as session:
        role = session.scalars(sa.select(Role).where(Role.name == name, Role.domain_id == "")
                               ).first()
        if role is None:
            raise exceptions.not_found("role", name)
        return role


def list_(rt: Runtime, filters: dict[str, Any]) -> list[Role]:
    if "domain_id" in filters:
        filters = {**filters, "domain_id": filters["domain_id"] or ""}
    with rt.db.session() as session:
        return store.listing(session, Role, filters, order_by=Role.name)


def update(rt: Runtime, ctx: RequestContext, role_id: str, values: dict[str, Any]) -> Role:
    with rt.db.session() as session:
        role = store.get(session, Role, role_id, "role")
        store.apply(role, values, FIELDS)
        store.save(session, role, _conflict(values.get("name")))
    rt.notify(ctx, "identity.role.updated", {"resource_info": role_id})
    return role


def delete(rt: Runtime, ctx: RequestContext, role_id: str) -> None:
    with rt.db.session() as session:
        role = store.get(session, Role, role_id, "role")
        holders = session.execute(sa.select(Assignment.actor_type, Assignment.actor_id).where(
            Assignment.role_id == role_id).distinct()).all()
        for actor_type, actor_id in holders:
            if actor_type == "user":
                revocations.revoke(session, rt.conf.token.expiration, user_id=actor_id)
        session.execute(sa.delete(Assignment).where(Assignment.role_id == role_id))
        store.delete(session, role)
    rt.notify(ctx, "identity.role.deleted", {"resource_info": role_id})
