"""Flavors and key pairs as Nova renders them, at the request's microversion."""

from __future__ import annotations

import datetime
from typing import Any

import flask

from controller.api import compute


def _links(collection: str, item_id: str) -> list[dict[str, str]]:
    base = flask.request.host_url.rstrip("/") + "/compute"
    return [{"rel": "self", "href": f"{base}/v2.1/{collection}/{item_id}"},
            {"rel": "bookmark", "href": f"{base}/{collection}/{item_id}"}]


def flavor_summary(row: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"id": row.id, "name": row.name}
    if compute.at_least("2.55"):
        view["description"] = row.description
    view["links"] = _links("flavors", row.id)
    return view


def flavor(row: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row.id, "name": row.name, "ram": row.memory_mb, "disk": row.root_gb,
        "swap": row.swap or "",  # an integer always only from 2.75, not served here
        "OS-FLV-EXT-DATA:ephemeral": row.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": row.disabled, "vcpus": row.vcpus,
        "os-flavor-access:is_public": row.is_public, "rxtx_factor": row.rxtx_factor,
        "links": _links("flavors", row.id),
    }
    if compute.at_least("2.55"):
        view["description"] = row.description
    return view


def flavor_access(flavor_id: str, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": project}
                              for project in projects]}


def isotime(moment: datetime.datetime) -> str:
    """Nova's timestamp format for key pairs: naive ISO 8601 with microseconds."""
    return moment.isoformat()


def keypair(row: Any, detail: bool = False, private_key: str | None = None,
            listing: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {"name": row.name, "public_key": row.public_key,
                            "fingerprint": row.fingerprint}
    if not listing:
        view["user_id"] = row.user_id
    if compute.at_least("2.2"):
        view["type"] = row.type
    if private_key is not None:
        view["private_key"] = private_key
    if detail:
        view.update({"created_at": isotime(row.created_at), "deleted": False,
                     "deleted_at": None, "id": row.id, "updated_at": None})
    return view
