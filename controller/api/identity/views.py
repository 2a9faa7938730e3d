"""Identity resources as Keystone's API renders them."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import flask

from controller.identity.tokens import AuthInfo

if TYPE_CHECKING:
    from controller.db.models import identity as models


def base_url() -> str:
    return flask.request.host_url.rstrip("/") + "/identity/v3"


def timestamp(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def collection(name: str, items: Iterable[Any], render: Callable[[Any], dict]) -> dict:
    return {name: [render(item) for item in items],
            "links": {"self": flask.request.base_url, "previous": None, "next": None}}


def domain(row: models.Domain) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description,
            "enabled": row.enabled, "tags": [], "options": {},
            "links": {"self": f"{base_url()}/domains/{row.id}"}}


def project(row: models.Project) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "domain_id": row.domain_id,
            "description": row.description, "enabled": row.enabled,
            "parent_id": row.parent_id or row.domain_id, "is_domain": False,
            "tags": list(row.tags or []), "options": {},
            "links": {"self": f"{base_url()}/projects/{row.id}"}}


def user(row: models.User) -> dict[str, Any]:
    body = {"id": row.id, "name": row.name, "domain_id": row.domain_id,
            "enabled": row.enabled, "password_expires_at": None,
            "options": dict(row.options or {}),
            "links": {"self": f"{base_url()}/users/{row.id}"}}
    if row.default_project_id:
        body["default_project_id"] = row.default_project_id
    if row.description:
        body["description"] = row.description
    if row.email:
        body["email"] = row.email
    for key, value in (row.extra or {}).items():
        body.setdefault(key, value)
    return body


def group(row: models.Group) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "domain_id": row.domain_id,
            "description": row.description,
            "links": {"self": f"{base_url()}/groups/{row.id}"}}


def role(row: models.Role) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "domain_id": row.domain_id or None,
            "description": row.description, "options": {},
            "links": {"self": f"{base_url()}/roles/{row.id}"}}


def region(row: models.Region) -> dict[str, Any]:
    return {"id": row.id, "description": row.description,
            "parent_region_id": row.parent_region_id,
            "links": {"self": f"{base_url()}/regions/{row.id}"}}


def service(row: models.CatalogService) -> dict[str, Any]:
    return {"id": row.id, "type": row.type, "name": row.name,
            "description": row.description, "enabled": row.enabled,
            "links": {"self": f"{base_url()}/services/{row.id}"}}


def endpoint(row: models.Endpoint) -> dict[str, Any]:
    return {"id": row.id, "service_id": row.service_id, "interface": row.interface,
            "url": row.url, "region_id": row.region_id, "region": row.region_id,
            "enabled": row.enabled, "links": {"self": f"{base_url()}/endpoints/{row.id}"}}


def app_credential(row: models.ApplicationCredential, roles: list[dict[str, Any]],
                   secret: str | None = None) -> dict[str, Any]:
    body = {"id": row.id, "name": row.name, "description": row.description,
            "user_id": row.user_id, "project_id": row.project_id,
            "expires_at": timestamp(row.expires_at), "unrestricted": row.unrestricted,
            "roles": roles, "access_rules": [],
            "links": {"self": f"{base_url()}/users/{row.user_id}/application_credentials/"
                              f"{row.id}"}}
    if secret is not None:
        body["secret"] = secret
    return body


def token(info: AuthInfo, catalog: list[dict[str, Any]] | None) -> dict[str, Any]:
    claims = info.claims
    body: dict[str, Any] = {
        "methods": list(claims.methods), "user": info.user,
        "audit_ids": list(claims.audit_ids),
        "expires_at": timestamp(claims.expires_at), "issued_at": timestamp(claims.issued_at),
    }
    if info.project is not None:
        body["project"] = info.project
        body["is_domain"] = False
    if info.domain is not None:
        body["domain"] = info.domain
    if info.project is not None or info.domain is not None:
        body["roles"] = list(info.roles)
        if catalog is not None:
            body["catalog"] = catalog
    if info.app_cred is not None:
        body["application_credential"] = info.app_cred
    return {"token": body}
