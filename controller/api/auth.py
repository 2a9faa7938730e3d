"""Authenticating API requests: X-Auth-Token in, RequestContext out."""

from __future__ import annotations

import flask

from common.context import RequestContext, current_request_id
from controller import exceptions
from controller.identity.tokens import AuthInfo


def context_from(info: AuthInfo, token: str | None) -> RequestContext:
    """A RequestContext for the holder of a validated token."""
    return RequestContext(
        request_id=current_request_id.get(),
        global_request_id=flask.g.get("global_request_id"),
        user_id=info.user["id"], user_name=info.user["name"],
        user_domain_id=info.user["domain"]["id"],
        project_id=info.project["id"] if info.project else None,
        project_name=info.project["name"] if info.project else None,
        domain_id=info.domain["id"] if info.domain else None,
        roles=info.role_names, auth_token=token, audit_ids=list(info.claims.audit_ids),
        application_credential_id=info.claims.app_cred_id)


def require_context() -> RequestContext:
    """The caller's context; every protected route starts here.

    :raises Unauthorized: no token, or a token that is invalid, expired or revoked.
    """
    ctx = flask.g.get("ctx")
    if ctx is not None:
        return ctx
    token = flask.request.headers.get("X-Auth-Token")
    if not token:
        raise exceptions.Unauthorized("The request you have made requires authentication.")
    try:
        info = flask.current_app.config["STRATUS"].tokens.validate(token)
    except exceptions.NotFound as exc:
        raise exceptions.Unauthorized(
            "The request you have made requires authentication.") from exc
    flask.g.auth_info = info
    flask.g.ctx = context_from(info, token)
    return flask.g.ctx
