"""One fault path: every error becomes the owning API's fault body, never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import flask
from werkzeug import exceptions as http_exc

from controller import exceptions

LOG = logging.getLogger(__name__)

Formatter = Callable[[exceptions.StratusError], dict[str, Any]]

_NOVA_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
               404: "itemNotFound", 405: "methodNotAllowed", 406: "notAcceptable",
               409: "conflictingRequest", 413: "overLimit", 415: "unsupportedMediaType",
               501: "notImplemented", 503: "serviceUnavailable"}


def keystone_fault(error: exceptions.StratusError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "title": error.title}}


def nova_fault(error: exceptions.StratusError) -> dict[str, Any]:
    name = _NOVA_NAMES.get(error.code, "computeFault")
    return {name: {"code": error.code, "message": error.message}}


def neutron_fault(error: exceptions.StratusError) -> dict[str, Any]:
    kind = type(error).__name__
    return {"NeutronError": {"type": kind, "message": error.message, "detail": ""}}


def glance_fault(error: exceptions.StratusError) -> dict[str, Any]:
    """Glance's error body: webob's JSON rendering of an HTTP exception."""
    return {"message": error.message, "code": f"{error.code} {error.title}",
            "title": error.title}


def _from_http(error: http_exc.HTTPException) -> exceptions.StratusError:
    mapping = {400: exceptions.BadRequest, 401: exceptions.Unauthorized,
               403: exceptions.Forbidden, 404: exceptions.NotFound,
               405: exceptions.MethodNotAllowed, 406: exceptions.NotAcceptable,
               409: exceptions.Conflict, 413: exceptions.RequestEntityTooLarge,
               415: exceptions.UnsupportedMediaType}
    cls = mapping.get(error.code or 500, exceptions.StratusError)
    message = error.description if cls is not exceptions.StratusError else None
    if cls is exceptions.NotFound:
        message = "The resource could not be found."
    return cls(message)


def render(error: exceptions.StratusError, formatter: Formatter) -> flask.Response:
    response = flask.jsonify(formatter(error))
    response.status_code = error.code
    for name, value in getattr(error, "headers", {}).items():
        response.headers[name] = value
    return response


_by_prefix: dict[str, Formatter] = {}


def formatter_for(path: str) -> Formatter:
    """The fault format of the API that owns path (Keystone's for anything unowned)."""
    for prefix, formatter in _by_prefix.items():
        if path == prefix or path.startswith(prefix + "/"):
            return formatter
    return keystone_fault


def install_app(app: flask.Flask) -> None:
    """Errors outside any route (unknown URL, wrong method) in the owning API's format."""

    @app.errorhandler(http_exc.HTTPException)
    def _http_error(error: http_exc.HTTPException):
        return render(_from_http(error), formatter_for(flask.request.path))

    @app.errorhandler(exceptions.StratusError)
    def _stratus_error(error: exceptions.StratusError):
        return render(error, formatter_for(flask.request.path))


def install(blueprint: flask.Blueprint, formatter: Formatter) -> None:
    """Render every error raised under blueprint with formatter."""
    _by_prefix[blueprint.url_prefix or "/"] = formatter

    @blueprint.errorhandler(exceptions.StratusError)
    def _stratus_error(error: exceptions.StratusError):
        return render(error, formatter)

    @blueprint.errorhandler(http_exc.HTTPException)
    def _http_error(error: http_exc.HTTPException):
        return render(_from_http(error), formatter)

    @blueprint.errorhandler(Exception)
    def _unexpected(error: Exception):
        LOG.exception("unexpected error serving %s %s", flask.request.method,
                      flask.request.path)
        return render(exceptions.StratusError(
            "An unexpected error prevented the server from fulfilling your request; the "
            "operator can find the details in the API log under this request ID."), formatter)
