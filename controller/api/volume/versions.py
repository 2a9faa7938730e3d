"""Version discovery at /volume/ and /volume/v3/, in Cinder's format."""

from __future__ import annotations

from typing import Any

import flask

from controller.api import volume
from controller.api.volume import bp


def _v3() -> dict[str, Any]:
    href = flask.request.host_url.rstrip("/") + "/volume/v3/"
    return {
        "id": "v3.0", "status": "CURRENT", "version": str(volume.MAX_VERSION),
        "min_version": str(volume.MIN_VERSION), "updated": "2023-08-31T00:00:00Z",
        "links": [{"rel": "describedby", "type": "text/html",
                   "href": "https://docs.openstack.org/"},
                  {"rel": "self", "href": href}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@bp.get("/")
def versions():
    """Every version, with 300 Multiple Choices for the unversioned URL."""
    return {"versions": [_v3()]}, 300


@bp.get("/v3")
@bp.get("/v3/<project_id>")
def version_v3(project_id: str | None = None):
    """The v3 document, also at the catalog's project URL (version discovery reads it)."""
    return {"versions": [_v3()]}
