"""/v3/auth/*: issuing, validating and revoking tokens; what a token may see."""

from __future__ import annotations

import flask

from controller import exceptions
from controller.api import handler, validation
from controller.api.app import state
from controller.api.auth import require_context
from controller.api.identity import bp, schemas, views
from controller.identity import assignments, authenticate, domains, projects
from controller.identity.tokens import AuthInfo


def _with_catalog(info: AuthInfo) -> list | None:
    if validation.bool_arg("nocatalog"):
        return None
    return state().tokens.catalog(info.project["id"] if info.project else None)


@bp.post("/v3/auth/tokens")
def issue_token():
    auth = validation.body(schemas.AUTH)["auth"]
    token, info = authenticate.authenticate(state().tokens, auth)
    response = flask.jsonify(views.token(info, _with_catalog(info)))
    response.status_code = 201
    response.headers["X-Subject-Token"] = token
    return response


def _subject() -> tuple[str, AuthInfo]:
    """The token named by X-Subject-Token, after checking the caller may look at it."""
    subject = flask.request.headers.get("X-Subject-Token")
    if not subject:
        raise exceptions.BadRequest("X-Subject-Token header is required.")
    require_context()
    try:
        info = state().tokens.validate(subject)
    except exceptions.NotFound as exc:
        raise exceptions.NotFound(f"Failed to validate token: {exc.message}") from exc
    return subject, info


@bp.get("/v3/auth/tokens")
def validate_token():
    subject, info = _subject()
    handler.authorize("identity:validate_token", {"target.token.user_id": info.user["id"]})
    response = flask.jsonify(views.token(info, _with_catalog(info)))
    response.headers["X-Subject-Token"] = subject
    return response


@bp.route("/v3/auth/tokens", methods=["HEAD"])
def check_token():
    subject, info = _subject()
    handler.authorize("identity:validate_token", {"target.token.user_id": info.user["id"]})
    response = flask.Response(status=200)
    response.headers["X-Subject-Token"] = subject
    return response


@bp.delete("/v3/auth/tokens")
def revoke_token():
    _, info = _subject()
    handler.authorize("identity:revoke_token", {"target.token.user_id": info.user["id"]})
    state().tokens.revoke(info)
    return handler.no_content()


@bp.get("/v3/auth/catalog")
def get_catalog():
    ctx = require_context()
    if not ctx.project_id and not ctx.domain_id:
        raise exceptions.Forbidden("A catalog can only be retrieved using a scoped token.")
    return {"catalog": state().tokens.catalog(ctx.project_id),
            "links": {"self": flask.request.base_url}}


@bp.get("/v3/auth/projects")
def get_auth_projects():
    ctx = require_context()
    rt = handler.runtime()
    ids = assignments.projects_of(rt, ctx.user_id)
    rows = [p for p in projects.list_(rt, {}, ids=ids) if p.enabled]
    return views.collection("projects", rows, views.project)


@bp.get("/v3/auth/domains")
def get_auth_domains():
    ctx = require_context()
    rt = handler.runtime()
    ids = set(assignments.domains_of(rt, ctx.user_id))
    rows = [d for d in domains.list_(rt, {}) if d.id in ids and d.enabled]
    return views.collection("domains", rows, views.domain)


@bp.get("/v3/auth/system")
def get_auth_system():
    require_context()
    return {"system": [], "links": {"self": flask.request.base_url}}
