"""Fernet tokens: what they carry, how they are issued, validated and revoked.

A token carries only claims (who, how, which scope, when). Names, roles and the catalog
are looked up at validation, so a role removed is a role gone from every live token.
Validation results are cached per worker and dropped whenever identity data changes.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
from typing import Any

from cryptography.fernet import InvalidToken

from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.identity import ApplicationCredential, Domain, Project, Role, User
from controller.identity import assignments, catalog, revision, revocations
from controller.identity.app_credentials import is_expired
from controller.identity.fernet import KeyRepository
from controller.runtime import Runtime

PAYLOAD_VERSION = 1
_EPOCH = datetime.datetime(1970, 1, 1)


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).decode("ascii").rstrip("=")


@dataclasses.dataclass(frozen=True)
class Claims:
    """Everything a token says about itself."""

    user_id: str
    methods: tuple[str, ...]
    project_id: str | None
    domain_id: str | None
    expires_at: datetime.datetime
    issued_at: datetime.datetime
    audit_ids: tuple[str, ...]
    app_cred_id: str | None = None

    def encode(self) -> bytes:
        return json.dumps([
            PAYLOAD_VERSION, self.user_id, list(self.methods), self.project_id, self.domain_id,
            int((self.expires_at - _EPOCH).total_seconds()),
            int((self.issued_at - _EPOCH).total_seconds() * 1_000_000),
            list(self.audit_ids), self.app_cred_id], separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Claims:
        (version, user_id, methods, project_id, domain_id, expires, issued_us, audit_ids,
         app_cred_id) = json.loads(raw)
        if version != PAYLOAD_VERSION:
            raise ValueError(f"unknown token payload version {version}")
        return cls(user_id, tuple(methods), project_id, domain_id,
                   _EPOCH + datetime.timedelta(seconds=expires),
                   _EPOCH + datetime.timedelta(microseconds=issued_us),
                   tuple(audit_ids), app_cred_id)


@dataclasses.dataclass(frozen=True)
class AuthInfo:
    """A validated token: its claims plus the names and roles behind them."""

    claims: Claims
    user: dict[str, Any]
    project: dict[str, Any] | None
    domain: dict[str, Any] | None
    roles: tuple[dict[str, str], ...]
    app_cred: dict[str, Any] | None

    @property
    def role_names(self) -> list[str]:
        return [role["name"] for role in self.roles]


class TokenService:
    """Issues and validates tokens for one process; holds its keys and caches."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.keys = KeyRepository(rt.conf.fernet_tokens.key_repository,
                                  rt.conf.fernet_tokens.max_active_keys)
        self.cache = revision.RevisionCache(rt.conf.token.cache_size)

    # -- issue ----------------------------------------------------------------------

    def issue(self, claims: Claims) -> tuple[str, AuthInfo]:
        """Encrypt claims into a token, resolving them first so a bad scope fails here."""
        with self.rt.db.session() as session:
            info = self._resolve(session, claims)
        return self.keys.encrypt(claims.encode()), info

    def new_claims(self, user_id: str, methods: list[str], *, project_id: str | None = None,
                   domain_id: str | None = None, parent: Claims | None = None,
                   app_cred: ApplicationCredential | None = None) -> Claims:
        now = utcnow()
        expires = now + datetime.timedelta(seconds=self.rt.conf.token.expiration)
        audit_ids = (new_audit_id(),)
        if parent is not None:
            expires = min(expires, parent.expires_at)
            audit_ids = (audit_ids[0], parent.audit_ids[-1])
        if app_cred is not None and app_cred.expires_at is not None:
            expires = min(expires, app_cred.expires_at)
        return Claims(user_id, tuple(methods), project_id, domain_id, expires, now, audit_ids,
                      app_cred.id if app_cred is not None else None)

    # -- validate -------------------------------------------------------------------

    def validate(self, token: str) -> AuthInfo:
        """The AuthInfo for a live token.

        :raises NotFound: the token is malformed, expired, revoked, or its scope is gone.
        """
        self.cache.refresh(self.rt.db.engine)
        rev = self.cache.revision
        info = self.cache.get(token)
        if info is None:
            with self.rt.db.session() as session:
                info = self._validate_uncached(session, token)
            self.cache.put(token, info, rev)
        if info.claims.expires_at <= utcnow():
            raise exceptions.NotFound("The token has expired.")
        return info

    def _validate_uncached(self, session, token: str) -> AuthInfo:
        try:
            claims = Claims.decode(self.keys.decrypt(token))
        except (InvalidToken, ValueError, TypeError, UnicodeError) as exc:
            raise exceptions.NotFound("Failed to validate token.") from exc
        events = self.cache.get(("revocations",))
        if events is None:
            events = revocations.active(session)
            self.cache.put(("revocations",), events, self.cache.revision)
        audit_ids = list(claims.audit_ids) + ([claims.app_cred_id] if claims.app_cred_id else [])
        for event in events:
            if revocations.matches(event, audit_ids=audit_ids, user_id=claims.user_id,
                                   project_id=claims.project_id, issued_at=claims.issued_at):
                raise exceptions.NotFound("The token has been revoked.")
        return self._resolve(session, claims)

    def _resolve(self, session, claims: Claims) -> AuthInfo:
        """Look up the names and roles behind claims, refusing anything disabled or gone."""
        user = session.get(User, claims.user_id)
        if user is None or not user.enabled:
            raise exceptions.NotFound("The token's user is disabled or was deleted.")
        user_domain = session.get(Domain, user.domain_id)
        if user_domain is None or not user_domain.enabled:
            raise exceptions.NotFound("The token's user domain is disabled.")
        project = domain = app_cred = None
        roles: list[Role] = []
        if claims.project_id:
            row = session.get(Project, claims.project_id)
            if row is None or not row.enabled:
                raise exceptions.NotFound(f"Project {claims.project_id} is disabled or gone.")
            project_domain = session.get(Domain, row.domain_id)
            if project_domain is None or not project_domain.enabled:
                raise exceptions.NotFound("The project's domain is disabled.")
            project = {"id": row.id, "name": row.name,
                       "domain": {"id": project_domain.id, "name": project_domain.name}}
            roles = assignments.roles_on_project(session, user.id, row)
        elif claims.domain_id:
            row = session.get(Domain, claims.domain_id)
            if row is None or not row.enabled:
                raise exceptions.NotFound(f"Domain {claims.domain_id} is disabled or gone.")
            domain = {"id": row.id, "name": row.name}
            roles = assignments.roles_on_domain(session, user.id, row.id)
        if claims.app_cred_id:
            cred = session.get(ApplicationCredential, claims.app_cred_id)
            if cred is None or is_expired(cred):
                raise exceptions.NotFound("The application credential is gone or expired.")
            roles = [r for r in roles if r.id in set(cred.role_ids)]
            app_cred = {"id": cred.id, "name": cred.name, "restricted": not cred.unrestricted}
        if (claims.project_id or claims.domain_id) and not roles:
            scope = claims.project_id or claims.domain_id
            raise exceptions.NotFound(f"User {user.id} has no role on {scope}.")
        return AuthInfo(
            claims=claims,
            user={"id": user.id, "name": user.name, "password_expires_at": None,
                  "domain": {"id": user_domain.id, "name": user_domain.name}},
            project=project, domain=domain,
            roles=tuple({"id": r.id, "name": r.name} for r in roles), app_cred=app_cred)

    def catalog(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """The service catalog as a token scoped to project_id sees it, cached until
        identity data changes."""
        self.cache.refresh(self.rt.db.engine)
        rev = self.cache.revision
        key = ("catalog", project_id)
        cached = self.cache.get(key)
        if cached is None:
            full = self.cache.get(("catalog",))
            if full is None:
                with self.rt.db.session() as session:
                    full = catalog.build(session)
                self.cache.put(("catalog",), full, rev)
            cached = catalog.for_scope(full, project_id)
            self.cache.put(key, cached, rev)
        return cached

    # -- revoke ---------------------------------------------------------------------

    def revoke(self, info: AuthInfo) -> None:
        """Revoke a token and every token rescoped from it."""
        with self.rt.db.session() as session:
            revocations.revoke(session, self.rt.conf.token.expiration,
                               audit_id=info.claims.audit_ids[-1])
