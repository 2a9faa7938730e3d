"""Block Storage v3 (Cinder-compatible), served under /volume.

Routes exist both under ``/volume/v3/<project_id>/`` (the catalog's URL, as Cinder's) and
under ``/volume/v3/`` (project-less URLs). Every request is served at a negotiated
microversion (``OpenStack-API-Version: volume 3.x``), echoed back on every response.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask

from common.context import RequestContext
from controller import exceptions
from controller.api import auth, faults, handler, microversions, validation
from controller.api.volume import schemas

bp = flask.Blueprint("volume", __name__, url_prefix="/volume")

MIN_VERSION = microversions.Version(3, 0)
MAX_VERSION = microversions.Version(3, 60)

_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                405: "badMethod", 406: "notAcceptable", 409: "conflictingRequest",
                413: "overLimit", 415: "badMediaType", 501: "notImplemented",
                503: "serviceUnavailable"}


def cinder_fault(error: exceptions.StratusError) -> dict[str, Any]:
    """Cinder's fault body: {"itemNotFound": {"code": 404, "message": "..."}}."""
    return {_FAULT_NAMES.get(error.code, "computeFault"): {"code": error.code,
                                                         "message": error.message}}


faults.install(bp, cinder_fault)


@bp.before_request
def _negotiate() -> None:
    flask.g.volume_version = microversions.negotiate("volume", MIN_VERSION, MAX_VERSION)


@bp.after_request
def _annotate(response: flask.Response) -> flask.Response:
    microversions.annotate(response, "volume", flask.g.get("volume_version") or MIN_VERSION)
    return response


def version() -> microversions.Version:
    """The microversion this request is served at."""
    return flask.g.get("volume_version") or MIN_VERSION


def at_least(text: str) -> bool:
    """Whether this request's microversion is text or newer."""
    return version() >= microversions.Version.parse(text)


def require(text: str) -> None:
    """:raises NotFound: the route exists only from microversion text (Cinder's answer)."""
    if not at_least(text):
        raise exceptions.NotFound(f"The resource could not be found. (It needs "
                                  f"OpenStack-API-Version: volume {text} or later.)")


def body(schema: dict[str, Any]) -> Any:
    """The request body, validated strictly from 3.53 and ignoring unknown fields before,
    as Cinder does.

    :raises BadRequest: not JSON, or not matching schema.
    """
    return validation.body(schema if at_least("3.53") else schemas.lenient(schema))


def route(rule: str, methods: list[str]) -> Callable:
    """Register a view under /v3/<project_id>{rule} and /v3{rule}."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def view(project_id: str | None = None, **kwargs: Any):
            flask.g.url_project_id = project_id
            return func(**kwargs)

        bp.add_url_rule(f"/v3/<project_id>{rule}", func.__name__, view, methods=methods)
        bp.add_url_rule(f"/v3{rule}", func.__name__, view, methods=methods)
        return view

    return decorator


def authorize(rule: str, target: dict[str, Any] | None = None) -> RequestContext:
    """The caller, if the policy allows rule on target and the URL names its project.

    :raises Unauthorized: no valid token. :raises Forbidden: the policy says no.
    :raises BadRequest: the URL's project is not the token's (Cinder's answer).
    """
    ctx = handler.authorize(rule, target)
    url_project = flask.g.get("url_project_id")
    if url_project and ctx.project_id and url_project != ctx.project_id:
        raise exceptions.BadRequest("Malformed request url: the project in the URL is not "
                                    "the project of the token.")
    return ctx


def allowed(rule: str, target: dict[str, Any] | None = None) -> bool:
    """Whether the (already authenticated) caller passes rule, for optional fields."""
    return handler.allowed(auth.require_context(), rule, target)


# Importing the handler modules registers their routes on bp.
from controller.api.volume import (  # noqa: E402,F401
    attachments,
    backups,
    quotas,
    services,
    snapshots,
    types,
    versions,
    volume_actions,
    volumes,
)
