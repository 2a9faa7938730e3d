"""Version discovery at /image and /image/versions, in Glance's format."""

from __future__ import annotations

import flask

from controller.api.image import bp

# v2.7 adds os_hidden, the newest feature served here; later versions add multiple
# stores and import methods, which this cloud does not offer.
CURRENT = 7


def _versions() -> dict:
    href = flask.request.host_url.rstrip("/") + "/image/v2/"
    values = [{"id": f"v2.{minor}", "status": "CURRENT" if minor == CURRENT else "SUPPORTED",
               "links": [{"rel": "self", "href": href}]}
              for minor in range(CURRENT, -1, -1)]
    return {"versions": values}


@bp.get("/")
@bp.get("/v2")
def versions():
    """Every version, with 300 Multiple Choices as Glance answers an unversioned URL."""
    return _versions(), 300


@bp.get("/versions")
def versions_list():
    return _versions()
