"""Compute v2.1 (Nova-compatible), served under /compute: servers and their actions,
consoles, metadata, tags and instance actions; server groups, quotas, limits, flavors,
key pairs, zones, services and hypervisors.

Every request is served at a negotiated microversion (OpenStack-API-Version: compute X.Y
or the legacy X-OpenStack-Nova-API-Version), echoed back on every response.
"""

import flask

from controller.api import faults, microversions

bp = flask.Blueprint("compute", __name__, url_prefix="/compute")
faults.install(bp, faults.nova_fault)

MIN_VERSION = microversions.Version(2, 1)
MAX_VERSION = microversions.Version(2, 60)
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"


@bp.before_request
def _negotiate() -> None:
    flask.g.compute_version = microversions.negotiate("compute", MIN_VERSION, MAX_VERSION,
                                                      LEGACY_HEADER)


@bp.after_request
def _annotate(response: flask.Response) -> flask.Response:
    version = flask.g.get("compute_version") or MIN_VERSION
    microversions.annotate(response, "compute", version, LEGACY_HEADER)
    return response


def version() -> microversions.Version:
    """The microversion this request is served at."""
    return flask.g.get("compute_version") or MIN_VERSION


def at_least(text: str) -> bool:
    """Whether this request's microversion is text or newer."""
    return version() >= microversions.Version.parse(text)


# Importing the handler modules registers their routes on bp.
from controller.api.compute import (  # noqa: E402,F401
    aggregates,
    availability_zones,
    consoles,
    flavors,
    hypervisors,
    instance_actions,
    interfaces,
    keypairs,
    limits,
    quota_sets,
    server_actions,
    server_groups,
    server_metadata,
    server_networking,
    server_tags,
    servers,
    services,
    versions,
    volume_attachments,
)
