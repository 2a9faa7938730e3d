"""The one error the service clients raise."""

from __future__ import annotations

import json

import requests


class ServiceError(Exception):
    """A call to another service failed.

    status: the HTTP status, or None when no answer came (connection refused, timeout,
    bad configuration). message: what the service (or the client) said, verbatim.
    """

    def __init__(self, service: str, status: int | None, message: str):
        self.service = service
        self.status = status
        self.message = message
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{service} service: {where}: {message}")


def from_response(service: str, response: requests.Response, what: str) -> ServiceError:
    """A ServiceError carrying response's status and the message in its fault body.

    Understands the fault bodies of every Stratus API: ``{"error": {"message"}}``
    (identity), ``{"message"}`` (image), ``{"<fault>": {"message"}}`` (compute...).
    """
    return ServiceError(service, response.status_code, f"{what}: {_message(response)}")


def _message(response: requests.Response) -> str:
    text = response.text[:2000] if response.content else ""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            return body["message"]
        for value in body.values():
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"]
    return text.strip()[:500] or response.reason or "no details"
