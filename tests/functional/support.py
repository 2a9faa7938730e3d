"""Helpers for driving the API in-process."""

from __future__ import annotations

import dataclasses
import os
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


TEST_TRANSPORT_URL = "STRATUS_TEST_TRANSPORT_URL"

# Every RPC topic a Stratus daemon serves, by option group. Groups a test's code does not
# register are ignored by oslo.config, so one list serves every branch of the code.
RPC_TOPICS = {
    "conductor": ("topic",),
    "scheduler": ("topic",),
    "compute_rpc": ("topic",),
    "network_rpc": ("server_topic", "ovs_topic", "dhcp_topic", "l3_topic"),
    "volume_rpc": ("agent_topic", "server_topic"),
}


def isolated_rpc(suffix: str | None = None) -> dict[str, dict[str, str]]:
    """Messaging overrides that keep a test's RPC away from every other test and cloud.

    RabbitMQ names queues after the topic, not the exchange, so a private exchange is not
    enough: the topics are private too. The transport is STRATUS_TEST_TRANSPORT_URL
    (tools/run-tests.sh points it at a vhost of its own) when set.
    """
    suffix = suffix or uuid.uuid4().hex[:10]
    overrides: dict[str, dict[str, str]] = {
        "messaging": {"control_exchange": f"stratus-test-{suffix}"}}
    if os.environ.get(TEST_TRANSPORT_URL):
        overrides["messaging"]["transport_url"] = os.environ[TEST_TRANSPORT_URL]
    for group, names in RPC_TOPICS.items():
        overrides[group] = {name: f"test-{group}-{name}-{suffix}" for name in names}
    return overrides


def ini(groups: dict[str, dict[str, Any]]) -> str:
    """groups rendered as INI sections."""
    return "".join(f"[{group}]\n" + "".join(f"{key} = {value}\n"
                                            for key, value in values.items())
                   for group, values in groups.items())


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
