"""Errors the service layer raises; each carries its HTTP status and a helpful message.

Each API blueprint renders these in its own service's fault format.
"""

from __future__ import annotations


class StratusError(Exception):
    code = 500
    title = "Internal Server Error"
    message = "An unexpected error occurred."

    def __init__(self, message: str | None = None, **details):
        self.message = message or self.message
        self.details = details
        super().__init__(self.message)


class BadRequest(StratusError):
    code = 400
    title = "Bad Request"
    message = "The request is invalid."


class ValidationError(BadRequest):
    pass


class Unauthorized(StratusError):
    code = 401
    title = "Unauthorized"
    message = "The request you have made requires authentication."


class Forbidden(StratusError):
    code = 403
    title = "Forbidden"
    message = "You are not authorized to perform the requested action."


class NotFound(StratusError):
    code = 404
    title = "Not Found"
    message = "Could not find the requested resource."


class MethodNotAllowed(StratusError):
    code = 405
    title = "Method Not Allowed"
    message = "The method is not allowed for the requested URL."


class NotAcceptable(StratusError):
    code = 406
    title = "Not Acceptable"
    message = "The requested version is not supported."


class Conflict(StratusError):
    code = 409
    title = "Conflict"
    message = "The request conflicts with the current state of the resource."


class RequestEntityTooLarge(StratusError):
    code = 413
    title = "Request Entity Too Large"
    message = "The request body is too large."


class UnsupportedMediaType(StratusError):
    code = 415
    title = "Unsupported Media Type"
    message = "The request body must be JSON."


class ServiceUnavailable(StratusError):
    code = 503
    title = "Service Unavailable"
    message = "A service this request needs is not reachable; try again later."


class OverQuota(StratusError):
    code = 403
    title = "Forbidden"
    message = "Quota exceeded."


def not_found(kind: str, ident: str) -> NotFound:
    """The standard 'Could not find' message Keystone-style clients show users."""
    return NotFound(f"Could not find {kind}: {ident}.")
