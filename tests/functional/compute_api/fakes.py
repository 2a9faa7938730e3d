"""Recording RPC fakes and seed data for the in-process compute API tests."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller.db.base import utcnow
from controller.db.models.hosts import ComputeNode
from controller.db.models.image import Image
from controller.db.models.servers import Instance
from controller.db.models.services import Service
from controller.identity import assignments, projects, roles, users

LATEST = "2.60"


class Recorder:
    """Stands in for rt.conductor_api / rt.compute_api: records every call, answers from
    `answers`, raises `fail` when set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.answers: dict[str, Any] = {}
        self.fail: Exception | None = None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def record(ctx, *args, **kwargs):
            assert isinstance(ctx, RequestContext)
            if self.fail is not None:
                raise self.fail
            self.calls.append((name, args, kwargs))
            answer = self.answers.get(name)
            return answer(*args, **kwargs) if callable(answer) else answer
        return record

    def named(self, name: str) -> list[tuple[tuple, dict]]:
        return [(args, kwargs) for called, args, kwargs in self.calls if called == name]

    def reset(self) -> None:
        self.calls.clear()
        self.answers.clear()
        self.fail = None


@dataclasses.dataclass
class ComputeEnv:
    """The pieces the server tests use: tokens, fakes, an image and flavors."""

    cloud: Any
    tokens: dict[str, str]
    conductor: Recorder
    agent: Recorder
    image_id: str
    flavor: str
    big_flavor: str
    projects: dict[str, str] = dataclasses.field(default_factory=dict)

    def call(self, method: str, path: str, user: str = "demo", body: Any = None,
             version: str | None = LATEST, headers: dict | None = None):
        all_headers = {"X-Auth-Token": self.tokens[user], **(headers or {})}
        if version:
            all_headers["OpenStack-API-Version"] = f"compute {version}"
        return self.cloud.client.open(f"/compute/v2.1{path}", method=method, json=body,
                                      headers=all_headers)

    def boot(self, user: str = "demo", name: str = "vm", version: str = LATEST,
             **server: Any) -> dict:
        body = {"server": {"name": name, "imageRef": self.image_id,
                           "flavorRef": self.flavor, "networks": "none", **server}}
        response = self.call("POST", "/servers", user, body, version)
        assert response.status_code == 202, response.get_json()
        return response.get_json()["server"]

    def set_state(self, server_id: str, **values: Any) -> None:
        with self.cloud.rt.db.session() as session:
            session.execute(sa.update(Instance).where(Instance.uuid == server_id)
                            .values(**values))

    def row(self, server_id: str) -> Instance:
        with self.cloud.rt.db.session() as session:
            return session.get(Instance, server_id)


def add_member(rt, project_name: str, user_name: str, password: str) -> str:
    """A project with one member user (for cross-project tests)."""
    ctx = RequestContext.admin()
    domain = rt.conf.identity.default_domain_id
    project = projects.create(rt, ctx, {"name": project_name, "domain_id": domain})
    user = users.create(rt, ctx, {"name": user_name, "password": password,
                                  "domain_id": domain})
    for role in ("member", "reader"):
        assignments.grant(rt, ctx, "user", user.id, "project", project.id,
                          roles.find_by_name(rt, role).id)
    return project.id


def add_image(rt, owner: str | None = None, status: str = "active", min_ram: int = 0,
              min_disk: int = 0, size: int = 20 * 1024 ** 2,
              visibility: str = "public") -> str:
    image_id = str(uuid.uuid4())
    now = utcnow()
    with rt.db.session() as session:
        session.add(Image(id=image_id, name=f"img-{image_id[:8]}", status=status,
                          visibility=visibility, owner=owner, size=size,
                          virtual_size=size, disk_format="qcow2", container_format="bare",
                          min_ram=min_ram, min_disk=min_disk, protected=False,
                          os_hidden=False, created_at=now, updated_at=now,
                          checksum="0" * 32, os_hash_algo="sha512",
                          os_hash_value="0" * 128))
    return image_id


def add_compute_host(rt, host: str, zone: str = "nova", up: bool = True,
                     disabled: bool = False) -> ComputeNode:
    """A compute service heartbeat and its compute node, as the agent would report."""
    seen = utcnow() - (datetime.timedelta(0) if up else datetime.timedelta(hours=1))
    with rt.db.session() as session:
        session.add(Service(host=host, binary="stratus-compute-agent",
                            topic="stratus-compute", availability_zone=zone,
                            disabled=disabled, last_seen_at=seen))
        node = ComputeNode(uuid=str(uuid.uuid4()), host=host, hypervisor_hostname=host,
                           vcpus=8, memory_mb=16384, local_gb=100, free_disk_gb=90,
                           reserved_host_memory_mb=512, cpu_info='{"arch": "x86_64"}',
                           host_ip="192.0.2.10")
        session.add(node)
    return node
