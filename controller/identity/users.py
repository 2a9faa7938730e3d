"""Users: creation, updates, passwords and the tokens those changes revoke."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import new_id, utcnow
from controller.db.models.identity import (
    ApplicationCredential,
    Assignment,
    Domain,
    GroupMembership,
    User,
)
from controller.identity import passwords, revocations, store
from controller.runtime import Runtime

FIELDS = ("name", "enabled", "default_project_id", "description", "email", "options")


def _conflict(name: Any) -> str:
    return ("Conflict occurred attempting to store user - Duplicate entry found with name "
            f"{name} at domain ID.")


def _extra(values: dict[str, Any]) -> dict[str, Any]:
    known = set(FIELDS) | {"password", "domain_id", "id"}
    return {k: v for k, v in values.items() if k not in known}


def create(rt: Runtime, ctx: RequestContext, values: dict[str, Any]) -> User:
    domain_id = values.get("domain_id") or rt.conf.identity.default_domain_id
    password = values.get("password")
    hashed = (passwords.hash_secret(password, rt.conf.identity.password_hash_rounds)
              if password else None)
    with rt.db.session() as session:
        store.get(session, Domain, domain_id, "domain")
        user = User(id=values.get("id") or new_id(), domain_id=domain_id,
                    password_hash=hashed, password_changed_at=utcnow() if hashed else None,
                    extra=_extra(values), options=values.get("options", {}),
                    **{f: values[f] for f in FIELDS if f in values and f != "options"})
        store.insert(session, user, _conflict(values["name"]))
    rt.notify(ctx, "identity.user.created", {"resource_info": user.id})
    return user


def get(rt: Runtime, user_id: str) -> User:
    with rt.db.session() as session:
        return store.get(session, User, user_id, "user")


def find(rt: Runtime, *, user_id: str | None = None, name: str | None = None,
         domain_id: str | None = None) -> User:
    """A user by ID, or by name within a domain."""
    with rt.db.session() as session:
        if user_id is not None:
            return store.get(session, User, user_id, "user")
        found = session.scalars(
            sa.select(User).where(User.name == name, User.domain_id == domain_id)).first()
        if found is None:
            raise exceptions.not_found("user", str(name))
        return found


def list_(rt: Runtime, filters: dict[str, Any]) -> list[User]:
    with rt.db.session() as session:
        return store.listing(session, User, filters, order_by=User.name)


def update(rt: Runtime, ctx: RequestContext, user_id: str, values: dict[str, Any]) -> User:
    """Update a user; disabling it or setting a password revokes its tokens."""
    hashed = None
    if values.get("password"):
        hashed = passwords.hash_secret(values["password"], rt.conf.identity.password_hash_rounds)
    with rt.db.session() as session:
        user = store.get(session, User, user_id, "user")
        revoke = (user.enabled and values.get("enabled") is False) or hashed is not None
        store.apply(user, values, FIELDS)
        if hashed:
            user.password_hash = hashed
            user.password_changed_at = utcnow()
        extra = _extra(values)
        if extra:
            user.extra = {**(user.extra or {}), **extra}
        store.save(session, user, _conflict(values.get("name")))
        if revoke:
            revocations.revoke(session, rt.conf.token.expiration, user_id=user_id)
    rt.notify(ctx, "identity.user.updated", {"resource_info": user_id})
    return user


def change_password(rt: Runtime, ctx: RequestContext, user_id: str, original: str,
                    new: str) -> None:
    """Self-service password change: the caller proves the old password."""
    with rt.db.session() as session:
        user = store.get(session, User, user_id, "user")
        stored_hash = user.password_hash
    if not passwords.check_secret(original, stored_hash):
        raise exceptions.Unauthorized("The original password is incorrect.")
    update(rt, ctx, user_id, {"password": new})


def delete(rt: Runtime, ctx: RequestContext, user_id: str) -> None:
    with rt.db.session() as session:
        user = store.get(session, User, user_id, "user")
        session.execute(sa.delete(Assignment).where(
            Assignment.actor_type == "user", Assignment.actor_id == user_id))
        session.execute(sa.delete(GroupMembership).where(GroupMembership.user_id == user_id))
        session.execute(sa.delete(ApplicationCredential).where(
            ApplicationCredential.user_id == user_id))
        revocations.revoke(session, rt.conf.token.expiration, user_id=user_id)
        store.delete(session, user)
    rt.notify(ctx, "identity.user.deleted", {"resource_info": user_id})
