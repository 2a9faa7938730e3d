"""Domains: the top-level containers of projects, users and groups."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import new_id
from controller.db.models.identity import Assignment, Domain, Group, Project, Role, User
from controller.identity import revocations, store
from controller.runtime import Runtime

FIELDS = ("name", "description", "enabled")


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> Domain:
    with rt.db.session() as session:
        domain = Domain(id=values.get("id") or new_id(), extra={},
                        **{f: values[f] for f in FIELDS if f in values})
        store.insert(session, domain, "Conflict occurred attempting to store domain - "
                     f"a domain named {values['name']} already exists.")
    rt.notify(ctx, "identity.domain.created", {"resource_info": domain.id})
    return domain


def get(rt: Runtime, domain_id: str) -> Domain:
    with rt.db.session() as session:
        return store.get(session, Domain, domain_id, "domain")


def find(rt: Runtime, *, domain_id: str | None = None, name: str | None = None) -> Domain:
    """A domain by ID or by name, as auth bodies name them."""
    with rt.db.session() as session:
        if domain_id is not None:
            return store.get(session, Domain, domain_id, "domain")
        found = session.scalars(sa.select(Domain).where(Domain.name == name)).first()
        if found is None:
            raise exceptions.not_found("domain", str(name))
        return found


def list_(rt: Runtime, filters: dict[str, Any]) -> list[Domain]:
    with rt.db.session() as session:
        return store.listing(session, Domain, filters, order_by=Domain.name)


def update(rt: Runtime, ctx: RequestContext, domain_id: str, values: dict[str, Any]) -> Domain:
    with rt.db.session() as session:
        domain = store.get(session, Domain, domain_id, "domain")
        store.apply(domain, values, FIELDS)
        store.save(session, domain, "Conflict occurred attempting to update domain - "
                   f"a domain named {values.get('name')} already exists.")
    rt.notify(ctx, "identity.domain.updated", {"resource_info": domain_id})
    return domain


def delete(rt: Runtime, ctx: RequestContext, domain_id: str) -> None:
    """Delete a disabled domain and everything it owns."""
    with rt.db.session() as session:
        domain = store.get(session, Domain, domain_id, "domain")
        if domain.enabled:
            raise exceptions.Forbidden(
                "Cannot delete a domain that is enabled, please disable it first.")
        project_ids = list(session.scalars(
            sa.select(Project.id).where(Project.domain_id == domain_id)))
        user_ids = list(session.scalars(sa.select(User.id).where(User.domain_id == domain_id)))
        group_ids = list(session.scalars(
            sa.select(Group.id).where(Group.domain_id == domain_id)))
        session.execute(sa.delete(Assignment).where(
            Assignment.target_id.in_(project_ids + [domain_id])
            | Assignment.actor_id.in_(user_ids + group_ids)))
        for user_id in user_ids:
            revocations.revoke(session, rt.conf.token.expiration, user_id=user_id)
        session.execute(sa.delete(Role).where(Role.domain_id == domain_id))
        for model in (Project, User, Group):
            session.execute(sa.delete(model).where(model.domain_id == domain_id))
        store.delete(session, domain)
    rt.notify(ctx, "identity.domain.deleted", {"resource_info": domain_id})
