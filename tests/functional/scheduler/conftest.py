"""A migrated database per module (SQLite and PostgreSQL) and helpers to fill it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from controller import services
from controller.db import base as db_base
from controller.db import migration
from controller.db.models.hosts import Allocation, ComputeNode
from controller.db.models.servers import Instance, ServerGroup, ServerGroupMember
from controller.db.models.services import Service
from controller.runtime import Runtime
from controller.scheduler import inventory
from controller.scheduler.host_state import COMPUTE_BINARY
from tests.functional import support


@pytest.fixture(scope="module")
def migrated_url(database_url) -> str:
    migration.sync(db_base.Database(database_url))
    return database_url


@pytest.fixture
def rt(migrated_url, tmp_path) -> Iterator[Runtime]:
    """A runtime on an emptied database (hosts, claims, instances, groups)."""
    conf = support.make_conf(migrated_url, str(tmp_path / "keys"))
    runtime = Runtime(conf=conf, db=db_base.Database(migrated_url))
    with runtime.db.session() as session:
        for model in (Allocation, ServerGroupMember, ServerGroup, Instance, ComputeNode,
                      Service):
            session.execute(sa.delete(model))
    yield runtime
    runtime.db.dispose()


def add_host(rt: Runtime, host: str, vcpus: int = 8, memory_mb: int = 8192,
             disk_gb: int = 100, zone: str = "nova", up: bool = True,
             disabled: bool = False, **extra) -> int:
    """A compute node whose agent reported (and heartbeats, unless up is False)."""
    node_id = inventory.update_compute_node(rt, host, {
        "vcpus": vcpus, "memory_mb": memory_mb, "disk_gb": disk_gb, "disk_free_gb": disk_gb,
        "cpu_allocation_ratio": 1.0, **extra})
    services.report(rt, host, COMPUTE_BINARY)
    with rt.db.session() as session:
        session.execute(sa.update(Service).where(Service.host == host).values(
            availability_zone=zone, disabled=disabled, forced_down=not up))
    return node_id


def add_instance(rt: Runtime, host: str | None = None, group: str | None = None) -> str:
    instance_uuid = str(uuid.uuid4())
    with rt.db.session() as session:
        session.add(Instance(uuid=instance_uuid, project_id="p1", user_id="u1",
                             display_name="vm", flavor_id="1", flavor={}, host=host))
        if group:
            session.flush()
            session.add(ServerGroupMember(group_uuid=group, instance_uuid=instance_uuid))
    return instance_uuid


def add_group(rt: Runtime, policy: str, rules: dict | None = None) -> str:
    group_uuid = str(uuid.uuid4())
    with rt.db.session() as session:
        session.add(ServerGroup(uuid=group_uuid, name="g", project_id="p1", user_id="u1",
                                policy=policy, rules=rules or {}))
    return group_uuid


def flavor_spec(memory_mb: int = 512, vcpus: int = 1, root_gb: int = 1, **extra) -> dict:
    return {"flavor": {"vcpus": vcpus, "memory_mb": memory_mb, "root_gb": root_gb,
                       "ephemeral_gb": 0, "swap": 0},
            "image": None, "availability_zone": None, "group_uuid": None,
            "force_hosts": [], "num_instances": 1, "project_id": "p1", **extra}
