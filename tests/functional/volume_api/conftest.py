"""The block storage API in-process (the `cloud` fixture: SQLite and PostgreSQL), with a
recording fake in place of the volume agents and one backend reporting 100 GiB."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from common.context import RequestContext
from controller.identity import assignments, projects, roles, users
from tests.functional.volume_api import fakes

LATEST = "3.60"


@dataclasses.dataclass
class Volumes:
    """Calls to /volume/v3/<project>/... as one user."""

    cloud: Any
    token: str
    project_id: str

    def call(self, method: str, path: str, body: Any = None, version: str | None = LATEST,
             project: bool = True, token: str | None = None, **kwargs: Any):
        headers = {"X-Auth-Token": token or self.token}
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        prefix = f"/volume/v3/{self.project_id}" if project else "/volume/v3"
        return self.cloud.client.open(prefix + path, method=method, json=body,
                                      headers=headers, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, status: int | None = None,
           **kwargs: Any) -> Any:
        response = self.call(method, path, body, **kwargs)
        expected = status or {"POST": 202, "DELETE": 202}.get(method, 200)
        assert response.status_code == expected, (response.status_code, response.get_json())
        return response.get_json()

    def create_volume(self, size: int = 1, **values: Any) -> dict[str, Any]:
        return self.ok("POST", "/volumes", {"volume": {"size": size, **values}})["volume"]

    def show(self, volume_id: str) -> dict[str, Any]:
        return self.ok("GET", f"/volumes/{volume_id}")["volume"]

    def action(self, volume_id: str, name: str, args: Any = None, **kwargs: Any):
        return self.call("POST", f"/volumes/{volume_id}/action", {name: args}, **kwargs)


@pytest.fixture(scope="module")
def agent(cloud):
    fake = fakes.FakeAgent(cloud.rt)
    cloud.rt.volume_agent_api = fake
    fakes.add_backend(cloud.rt)
    return fake


@pytest.fixture(autouse=True)
def _fresh_agent(request):
    if "agent" not in request.fixturenames:
        yield
        return
    fake = request.getfixturevalue("agent")
    fake.auto, fake.fail_connections = True, False
    fake.calls.clear()
    yield


def _user(cloud, name: str) -> None:
    rt, ctx = cloud.rt, RequestContext.admin()
    project = projects.create(rt, ctx, {"name": name, "domain_id": "default"})
    user = users.create(rt, ctx, {"name": name, "password": f"{name}-pw",
                                  "domain_id": "default"})
    for role in ("member", "reader"):
        assignments.grant(rt, ctx, "user", user.id, "project", project.id,
                          roles.find_by_name(rt, role).id)
    return project.id


@pytest.fixture(scope="module")
def admin(cloud, agent) -> Volumes:
    return Volumes(cloud, cloud.admin(), cloud.ids["admin_project_id"])


@pytest.fixture(scope="module")
def demo(cloud, agent) -> Volumes:
    return Volumes(cloud, cloud.demo(), cloud.ids["demo_project_id"])


@pytest.fixture(scope="module")
def other(cloud, agent) -> Volumes:
    project_id = _user(cloud, "other")
    return Volumes(cloud, cloud.token("other", "other-pw", "other"), project_id)
