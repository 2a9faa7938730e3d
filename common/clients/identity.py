"""The service user's token and catalog, from identity v3 password authentication.

One :class:`ServiceAuth` per daemon, shared by its clients and threads: the token is
fetched once and reused until ``REFRESH_MARGIN`` seconds before it expires (so a call
started with it does not see it expire midway), or until a client reports a 401.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from oslo_config import cfg

from common.clients.errors import ServiceError, from_response

LOG = logging.getLogger(__name__)
REFRESH_MARGIN = 120.0  # seconds before expiry at which a new token is fetched


@dataclasses.dataclass(frozen=True)
class Token:
    """A token and what came with it."""

    id: str
    expires_at: float  # POSIX time
    catalog: list[dict[str, Any]]
    user_id: str | None = None
    project_id: str | None = None


class ServiceAuth:
    """Tokens for the ``[service_auth]`` user, and endpoints from their catalog."""

    def __init__(self, conf: cfg.ConfigOpts, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time):
        self._opts = conf.service_auth
        self.session = session or requests.Session()
        if self._opts.cafile:
            self.session.verify = self._opts.cafile
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Token | None = None

    @property
    def timeout(self) -> float:
        return self._opts.timeout

    def token(self) -> Token:
        """A token valid for at least REFRESH_MARGIN more seconds.

        :raises ServiceError: authentication failed (status 401: wrong credentials).
        """
        with self._lock:
            if self._token is None or self._token.expires_at - REFRESH_MARGIN <= self._clock():
                self._token = self._authenticate()
            return self._token

    def invalidate(self) -> None:
        """Forget the token (a service answered 401: it was revoked or keys rotated)."""
        with self._lock:
            self._token = None

    def endpoint(self, service_type: str) -> str:
        """The URL of service_type for ``[service_auth] interface`` and region.

        :raises ServiceError: the catalog has no such endpoint, or authentication failed.
        """
        opts = self._opts
        for service in self.token().catalog:
            if service.get("type") != service_type:
                continue
            for endpoint in service.get("endpoints", []):
                region = endpoint.get("region_id") or endpoint.get("region")
                if endpoint.get("interface") == opts.interface and (
                        not opts.region or region == opts.region):
                    return str(endpoint["url"]).rstrip("/")
        raise ServiceError(service_type, None,
                           f"the catalog has no {opts.interface} {service_type} endpoint in "
                           f"region {opts.region}; check [service_auth] interface and region "
                           "(or set an endpoint override)")

    def _authenticate(self) -> Token:
        opts = self._opts
        if not opts.password:
            raise ServiceError("identity", None,
                               "[service_auth] password is not set; set it to the password "
                               "given to stratus-manage bootstrap --service-password")
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": opts.username, "domain": {"id": opts.user_domain_id},
                "password": opts.password}}},
            "scope": {"project": {"name": opts.project_name,
                                  "domain": {"id": opts.project_domain_id}}}}}
        url = opts.auth_url.rstrip("/") + "/auth/tokens"
        try:
            response = self.session.post(url, json=body, timeout=opts.timeout)
        except requests.RequestException as exc:
            raise ServiceError("identity", None, f"cannot reach {url}: {exc}") from exc
        if response.status_code != 201:
            raise from_response("identity", response,
                                f"authenticating {opts.username} to project "
                                f"{opts.project_name} failed")
        try:
            data = response.json()["token"]
            token = Token(id=response.headers["X-Subject-Token"],
                          expires_at=_posix(data["expires_at"]),
                          catalog=list(data.get("catalog") or []),
                          user_id=(data.get("user") or {}).get("id"),
                          project_id=(data.get("project") or {}).get("id"))
        except (KeyError, ValueError, TypeError) as exc:
            raise ServiceError("identity", response.status_code,
                               f"the token answer from {url} is malformed ({exc})") from exc
        LOG.info("service token for %s obtained, valid for %.0f s", opts.username,
                 token.expires_at - self._clock())
        return token


def _posix(value: str) -> float:
    """An identity expires_at (ISO 8601, 'Z' or offset) as POSIX time."""
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
