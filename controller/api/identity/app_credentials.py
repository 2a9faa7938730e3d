"""/v3/users/{user_id}/application_credentials"""

from __future__ import annotations

import datetime

import flask

from controller import exceptions
from controller.api import handler, validation
from controller.api.identity import bp, schemas, views
from controller.identity import app_credentials

BASE = "/v3/users/<user_id>/application_credentials"


def _target(user_id: str) -> dict:
    return {"target.user.id": user_id}


def _expiry(value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        raise exceptions.ValidationError(
            f"expires_at {value!r} is not an ISO 8601 timestamp.") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def _role_refs(roles) -> list[dict]:
    return [{"id": r.id, "name": r.name, "domain_id": r.domain_id or None} for r in roles]


def _roles(cred) -> list[dict]:
    return _role_refs(app_credentials.roles_of(handler.runtime(), cred))


@bp.post(BASE)
def create_application_credential(user_id: str):
    ctx = handler.authorize("identity:create_application_credential", _target(user_id))
    values = validation.body(schemas.APP_CRED_CREATE)["application_credential"]
    values["expires_at"] = _expiry(values.get("expires_at"))
    cred, secret, roles = app_credentials.create(handler.runtime(), ctx, user_id, values)
    return handler.created({"application_credential": views.app_credential(
        cred, _role_refs(roles), secret)})


@bp.get(BASE)
def list_application_credentials(user_id: str):
    handler.authorize("identity:list_application_credentials", _target(user_id))
    rows = app_credentials.list_(handler.runtime(), user_id, flask.request.args.get("name"))
    return views.collection("application_credentials", rows,
                            lambda c: views.app_credential(c, _roles(c)))


@bp.get(f"{BASE}/<cred_id>")
def get_application_credential(user_id: str, cred_id: str):
    handler.authorize("identity:get_application_credential", _target(user_id))
    cred = app_credentials.get(handler.runtime(), user_id, cred_id)
    return {"application_credential": views.app_credential(cred, _roles(cred))}


@bp.delete(f"{BASE}/<cred_id>")
def delete_application_credential(user_id: str, cred_id: str):
    ctx = handler.authorize("identity:delete_application_credential", _target(user_id))
    app_credentials.delete(handler.runtime(), ctx, user_id, cred_id)
    return handler.no_content()
