"""Application credentials: a user's delegated, revocable secret for one project."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import new_id, utcnow
from controller.db.models.identity import ApplicationCredential, Project, Role
from controller.identity import assignments, passwords, revocations, store
from controller.runtime import Runtime


def create(rt: Runtime, ctx: RequestContext, user_id: str,
           values: dict[str, Any]) -> tuple[ApplicationCredential, str, list]:
    """Create a credential for the caller's current project; returns it, its secret (shown
    once) and its roles. Roles default to all the caller's roles on the project."""
    if ctx.user_id != user_id:
        raise exceptions.Forbidden("Application credentials can only be created for yourself.")
    if not ctx.project_id:
        raise exceptions.Forbidden("Application credentials need a project-scoped token.")
    if ctx.application_credential_id:
        with rt.db.session() as session:
            parent = session.get(ApplicationCredential, ctx.application_credential_id)
            if parent is None or not parent.unrestricted:
                raise exceptions.Forbidden(
                    "Using a restricted application credential to create another one is not "
                    "allowed; authenticate with your password or an unrestricted credential.")
    expires_at = values.get("expires_at")
    if expires_at is not None and expires_at <= utcnow():
        raise exceptions.BadRequest("expires_at must be in the future.")
    secret = values.get("secret") or secrets.token_urlsafe(64)
    with rt.db.session() as session:
        project = store.get(session, Project, ctx.project_id, "project")
        held = {r.id: r for r in assignments.roles_on_project(session, user_id, project)}
        by_name = {r.name: r for r in held.values()}
        wanted = []
        for ref in values.get("roles") or []:
            role = held.get(ref.get("id")) or by_name.get(ref.get("name"))
            if role is None:
                raise exceptions.BadRequest(
                    f"Role {ref.get('id') or ref.get('name')} is not assigned to you on "
                    f"project {project.id}; an application credential can only carry "
                    "roles you hold.")
            wanted.append(role)
        roles = wanted or list(held.values())
        cred = ApplicationCredential(
            id=new_id(), name=values["name"], user_id=user_id, project_id=project.id,
            description=values.get("description") or "", expires_at=expires_at,
            unrestricted=bool(values.get("unrestricted", False)),
            role_ids=[r.id for r in roles],
            secret_hash=passwords.hash_secret(secret, rt.conf.identity.password_hash_rounds))
        store.insert(session, cred, "Conflict occurred attempting to store "
                     f"application_credential - Duplicate entry found with name {cred.name}.")
    return cred, secret, roles


def get(rt: Runtime, user_id: str, cred_id: str) -> ApplicationCredential:
    with rt.db.session() as session:
        cred = store.get(session, ApplicationCredential, cred_id, "application credential")
        if cred.user_id != user_id:
            raise exceptions.not_found("application credential", cred_id)
        return cred


def find(rt: Runtime, *, cred_id: str | None, name: str | None,
         user_id: str | None) -> ApplicationCredential | None:
    with rt.db.session() as session:
        if cred_id:
            return session.get(ApplicationCredential, cred_id)
        return session.scalars(sa.select(ApplicationCredential).where(
            ApplicationCredential.name == name,
            ApplicationCredential.user_id == user_id)).first()


def list_(rt: Runtime, user_id: str, name: str | None = None) -> list[ApplicationCredential]:
    with rt.db.session() as session:
        return store.listing(session, ApplicationCredential,
                             {"user_id": user_id, "name": name},
                             order_by=ApplicationCredential.name)


def delete(rt: Runtime, ctx: RequestContext, user_id: str, cred_id: str) -> None:
    with rt.db.session() as session:
        cred = store.get(session, ApplicationCredential, cred_id, "application credential")
        if cred.user_id != user_id:
            raise exceptions.not_found("application credential", cred_id)
        store.delete(session, cred)
        # Tokens made from it carry its ID as their audit ID: revoke them all.
        revocations.revoke(session, rt.conf.token.expiration, audit_id=cred_id)


def is_expired(cred: ApplicationCredential, now: datetime.datetime | None = None) -> bool:
    return cred.expires_at is not None and cred.expires_at <= (now or utcnow())


def roles_of(rt: Runtime, cred: ApplicationCredential) -> list[Role]:
    """The roles the credential carries."""
    with rt.db.session() as session:
        return list(session.scalars(sa.select(Role).where(Role.id.in_(cred.role_ids))))
