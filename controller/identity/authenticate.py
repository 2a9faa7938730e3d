"""POST /v3/auth/tokens: turn an auth request into token claims.

Methods: password, token (rescoping an existing token), application_credential.
Every failure to prove identity is the same 401, so callers learn nothing about which
part was wrong.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from controller import exceptions
from controller.db.models.identity import ApplicationCredential, Domain, Project, User
from controller.identity import app_credentials, assignments, passwords
from controller.identity.tokens import AuthInfo, Claims, TokenService

UNAUTHORIZED = "The request you have made requires authentication."


def authenticate(tokens: TokenService, auth: dict[str, Any]) -> tuple[str, AuthInfo]:
    """Authenticate and scope; return the new token and what it resolves to.

    :raises Unauthorized: the identity could not be proven or the scope is not allowed.
    """
    identity = auth["identity"]
    methods = identity["methods"]
    for method in methods:
        if method not in identity:
            raise exceptions.BadRequest(f"Auth method {method} is listed but has no payload.")
    parent: Claims | None = None
    app_cred: ApplicationCredential | None = None
    if "application_credential" in methods:
        app_cred = _application_credential(tokens, identity["application_credential"])
        user_id = app_cred.user_id
    elif "password" in methods:
        user_id = _password(tokens, identity["password"]["user"])
    elif "token" in methods:
        parent = _token(tokens, identity["token"]["id"]).claims
        user_id = parent.user_id
    else:
        raise exceptions.Unauthorized(f"Unsupported authentication methods: {methods}.")

    project_id, domain_id = _scope(tokens, auth.get("scope"), user_id, app_cred, parent)
    claims = tokens.new_claims(user_id, methods, project_id=project_id, domain_id=domain_id,
                               parent=parent, app_cred=app_cred)
    try:
        return tokens.issue(claims)
    except exceptions.NotFound as exc:
        raise exceptions.Unauthorized(exc.message) from exc


def _password(tokens: TokenService, user_ref: dict[str, Any]) -> str:
    with tokens.rt.db.session() as session:
        user = _find_user(session, user_ref)
        if user is None or not user.enabled:
            raise exceptions.Unauthorized(UNAUTHORIZED)
        stored = user.password_hash
        user_id = user.id
    if not passwords.check_secret(user_ref.get("password", ""), stored):
        raise exceptions.Unauthorized(UNAUTHORIZED)
    return user_id


def _find_user(session, ref: dict[str, Any]) -> User | None:
    if "id" in ref:
        return session.get(User, ref["id"])
    domain = _find_domain(session, ref.get("domain") or {})
    if domain is None or not domain.enabled:
        return None
    return session.scalars(sa.select(User).where(
        User.name == ref.get("name"), User.domain_id == domain.id)).first()


def _find_domain(session, ref: dict[str, Any]) -> Domain | None:
    if "id" in ref:
        return session.get(Domain, ref["id"])
    if "name" in ref:
        return session.scalars(sa.select(Domain).where(Domain.name == ref["name"])).first()
    return None


def _token(tokens: TokenService, token_id: str) -> AuthInfo:
    try:
        info = tokens.validate(token_id)
    except exceptions.NotFound as exc:
        raise exceptions.Unauthorized(UNAUTHORIZED) from exc
    if info.claims.app_cred_id:
        raise exceptions.Forbidden("A token made from an application credential cannot be "
                                   "used to get another token.")
    return info


def _application_credential(tokens: TokenService, ref: dict[str, Any]) -> ApplicationCredential:
    user_id = None
    if "id" not in ref:
        with tokens.rt.db.session() as session:
            user = _find_user(session, ref.get("user") or {})
            user_id = user.id if user is not None else None
    cred = app_credentials.find(tokens.rt, cred_id=ref.get("id"), name=ref.get("name"),
                                user_id=user_id)
    if (cred is None or app_credentials.is_expired(cred)
            or not passwords.check_secret(ref.get("secret", ""), cred.secret_hash)):
        raise exceptions.Unauthorized(UNAUTHORIZED)
    return cred


def _scope(tokens: TokenService, scope: Any, user_id: str,
           app_cred: ApplicationCredential | None,
           parent: Claims | None) -> tuple[str | None, str | None]:
    """(project_id, domain_id) the new token is scoped to."""
    if app_cred is not None:
        if isinstance(scope, dict) and scope.get("project", {}).get("id") not in (
                None, app_cred.project_id):
            raise exceptions.Unauthorized(
                "An application credential token is always scoped to its own project.")
        return app_cred.project_id, None
    if scope == "unscoped":
        return None, None
    with tokens.rt.db.session() as session:
        if not scope:
            user = session.get(User, user_id)
            if parent is None and user is not None and user.default_project_id:
                project = session.get(Project, user.default_project_id)
                if (project is not None and project.enabled
                        and assignments.roles_on_project(session, user_id, project)):
                    return project.id, None
            return None, None
        if "project" in scope:
            ref = scope["project"]
            if "id" in ref:
                project = session.get(Project, ref["id"])
            else:
                domain = _find_domain(session, ref.get("domain") or {})
                project = domain and session.scalars(sa.select(Project).where(
                    Project.name == ref.get("name"), Project.domain_id == domain.id)).first()
            if project is None:
                raise exceptions.Unauthorized(
                    f"Could not find the project {ref.get('id') or ref.get('name')} to scope to.")
            return project.id, None
        if "domain" in scope:
            domain = _find_domain(session, scope["domain"])
            if domain is None:
                raise exceptions.Unauthorized("Could not find the domain to scope to.")
            return None, domain.id
    raise exceptions.Unauthorized(
        "Only project, domain and unscoped tokens are supported; system scope is not.")
