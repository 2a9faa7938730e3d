"""Helpers for driving the API in-process."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from controller import conf as controller_conf


def make_conf(database_url: str, key_repository: str, **groups: dict[str, Any]):
    """A controller config for tests: fast bcrypt, no notifications unless asked."""
    overrides: dict[str, dict[str, Any]] = {
        "database": {"connection": database_url},
        "fernet_tokens": {"key_repository": key_repository},
        "identity": {"password_hash_rounds": 4},
        "messaging": {"notification_driver": "noop"},
    }
    for group, values in groups.items():
        overrides.setdefault(group, {}).update(values)
    return controller_conf.make(None, overrides=overrides)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def password_auth(user: str, password: str, project: str | None = None,
                  domain: str | None = None) -> dict[str, Any]:
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    elif domain:
        auth["scope"] = {"domain": {"id": domain}}
    return {"auth": auth}


@dataclasses.dataclass
class Cloud:
    """A test client plus the bootstrap IDs and convenience calls."""

    client: Any
    rt: Any
    ids: dict[str, str]

    def call(self, method: str, path: str, token: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None):
        all_headers = dict(headers or {})
        if token:
            all_headers["X-Auth-Token"] = token
        return self.client.open(f"/identity/v3{path}", method=method, json=body,
                                headers=all_headers)

    def token(self, user: str, password: str, project: str | None = None,
              domain: str | None = None) -> str:
        response = self.client.post("/identity/v3/auth/tokens",
                                    json=password_auth(user, password, project, domain))
        assert response.status_code == 201, response.get_json()
        return response.headers["X-Subject-Token"]

    def admin(self) -> str:
        return self.token("admin", "admin-pw", "admin")

    def demo(self) -> str:
        return self.token("demo", "demo-pw", "demo")

    def valid(self, token: str) -> bool:
        response = self.call("GET", "/auth/tokens", self.admin(),
                             headers={"X-Subject-Token": token})
        return response.status_code == 200
