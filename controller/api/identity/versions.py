"""Version discovery at /identity and /identity/v3."""

from __future__ import annotations

import flask

from controller.api.identity import bp

UPDATED = "2024-01-01T00:00:00Z"


def _v3() -> dict:
    href = flask.request.host_url.rstrip("/") + "/identity/v3/"
    return {"id": "v3.14", "status": "stable", "updated": UPDATED,
            "links": [{"rel": "self", "href": href}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}]}


@bp.get("/")
def versions():
    return {"versions": {"values": [_v3()]}}, 300


@bp.get("/v3")
def version_v3():
    return {"version": _v3()}
