"""Version discovery at /compute and /compute/v2.1, in Nova's format."""

from __future__ import annotations

from typing import Any

import flask

from controller.api import compute
from controller.api.compute import bp


def _version(version_id: str) -> dict[str, Any]:
    current = version_id == "v2.1"
    href = flask.request.host_url.rstrip("/") + f"/compute/{version_id}/"
    return {
        "id": version_id,
        "status": "CURRENT" if current else "SUPPORTED",
        "version": str(compute.MAX_VERSION) if current else "",
        "min_version": str(compute.MIN_VERSION) if current else "",
        "updated": "2013-07-23T11:33:21Z" if current else "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": href},
                  {"rel": "describedby", "type": "text/html",
                   "href": "http://docs.openstack.org/"}],
        "media-types": [{"base": "application/json",
                         "type": f"application/vnd.openstack.compute+json;version="
                                 f"{version_id[1:]}"}],
    }


@bp.get("/")
def versions():
    """Every version, with 300 Multiple Choices for the unversioned URL."""
    return {"versions": [_version("v2.0"), _version("v2.1")]}, 300


@bp.get("/v2.1")
def version_v21():
    return {"version": _version("v2.1")}
