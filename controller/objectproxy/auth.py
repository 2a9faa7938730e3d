"""Who is calling: identity tokens validated against the identity API, cached briefly.

The proxy asks ``GET <identity_url>/v3/auth/tokens?nocatalog`` with the token as
both X-Auth-Token and X-Subject-Token (a token may validate itself). Answers are
kept ``token_cache_time`` seconds (never past the token's expiry), bounded in
number, so the identity API sees one call per token per half minute per worker.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
import threading
import time
import urllib.parse
from collections import OrderedDict

from common.objectstore import httpclient
from common.objectstore.wsgi import HTTPError

LOG = logging.getLogger(__name__)
NEGATIVE_CACHE_TIME = 5.0


@dataclasses.dataclass(frozen=True)
class Identity:
    """The caller, as the identity API described its token."""

    user_id: str
    user_name: str
    project_id: str | None
    project_name: str | None
    roles: frozenset[str]

    @classmethod
    def from_token(cls, token: dict) -> Identity:
        user = token.get("user") or {}
        project = token.get("project") or {}
        return cls(user_id=user.get("id", ""), user_name=user.get("name", ""),
                   project_id=project.get("id"), project_name=project.get("name"),
                   roles=frozenset(r.get("name", "") for r in token.get("roles") or []))


def _expires_in(token: dict) -> float | None:
    value = token.get("expires_at")
    if not value:
        return None
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.timestamp() - time.time()


class TokenValidator:
    """Validates tokens with the identity API, with a bounded per-worker cache."""

    def __init__(self, identity_url: str, cache_time: float = 30, cache_size: int = 10000,
                 timeout: float = 10.0, conn_timeout: float = 2.0):
        url = urllib.parse.urlsplit(identity_url.rstrip("/"))
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.path = url.path + "/v3/auth/tokens?nocatalog"
        self.cache_time = cache_time
        self.cache_size = cache_size
        self.pool = httpclient.Pool(conn_timeout, timeout)
        self._cache: OrderedDict[str, tuple[float, Identity | None]] = OrderedDict()
        self._lock = threading.Lock()

    def validate(self, token: str) -> Identity | None:
        """The token's identity, or None if identity says it is not valid.

        :raises HTTPError: 503 when the identity API cannot be reached.
        """
        key = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                if hit[0] > now:
                    return hit[1]
                del self._cache[key]
        identity, ttl = self._ask(token)
        ttl = min(ttl, self.cache_time)
        if ttl > 0:
            with self._lock:
                self._cache[key] = (now + ttl, identity)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return identity

    def _ask(self, token: str) -> tuple[Identity | None, float]:
        headers = {"X-Auth-Token": token, "X-Subject-Token": token,
                   "Accept": "application/json"}
        for attempt in (0, 1):  # one retry: a pooled connection may have gone stale
            try:
                resp = httpclient.request(self.pool, self.host, self.port, "GET", self.path,
                                          headers)
                body = resp.read()
                break
            except httpclient.BackendError as exc:
                if attempt:
                    LOG.error("identity API unreachable: %s", exc)
                    raise HTTPError(503, "Identity service unavailable") from exc
        if resp.status in (401, 403, 404):
            return None, NEGATIVE_CACHE_TIME
        if resp.status != 200:
            LOG.error("identity API answered %s validating a token", resp.status)
            raise HTTPError(503, "Identity service unavailable")
        try:
            token_doc = json.loads(body)["token"]
        except (ValueError, KeyError) as exc:
            raise HTTPError(503, "Identity service sent an invalid answer") from exc
        expires = _expires_in(token_doc)
        if expires is not None and expires <= 0:
            return None, NEGATIVE_CACHE_TIME
        return Identity.from_token(token_doc), expires if expires is not None else \
            self.cache_time
