"""Rows the conductor tests start from: images, flavors, compute hosts, instances.

Shared by the unit tests (SQLite) and the functional tests (SQLite and PostgreSQL);
everything is written the way the image service, the compute API and the agents'
reports would leave it, so the conductor sees realistic rows.
"""

from __future__ import annotations

import uuid
from typing import Any

from common.context import RequestContext
from controller import services
from controller.compute import states
from controller.db.models.compute import Flavor, FlavorExtraSpec
from controller.db.models.image import Image
from controller.db.models.servers import Instance, InstanceAction, InstanceMetadata
from controller.runtime import Runtime
from controller.scheduler import inventory
from controller.scheduler.host_state import COMPUTE_BINARY

PROJECT = "5a8c2b6e0a5b4f7c9a2e1d3c4b5a6978"
USER = "0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a"


def user_ctx() -> RequestContext:
    return RequestContext(user_id=USER, project_id=PROJECT, roles=["member", "reader"])


def image(rt: Runtime, status: str = "active", disk_format: str = "qcow2",
          owner: str = PROJECT) -> str:
    image_id = str(uuid.uuid4())
    with rt.db.session() as session:
        session.add(Image(id=image_id, name=f"img-{image_id[:6]}", status=status,
                          visibility="private", owner=owner, disk_format=disk_format,
                          container_format="bare", size=1024, os_hash_algo="sha512",
                          os_hash_value="ab" * 64, checksum="cd" * 16))
    return image_id


def flavor(rt: Runtime, memory_mb: int = 128, vcpus: int = 1, root_gb: int = 1,
           extra_specs: dict[str, str] | None = None) -> dict[str, Any]:
    """A new flavor row, returned as the copy an instance keeps."""
    flavor_id = uuid.uuid4().hex[:12]
    name = f"f-{flavor_id}"
    with rt.db.session() as session:
        session.add(Flavor(id=flavor_id, name=name, memory_mb=memory_mb, vcpus=vcpus,
                           root_gb=root_gb))
        session.flush()
        for key, value in (extra_specs or {}).items():
            session.add(FlavorExtraSpec(flavor_id=flavor_id, key=key, value=value))
    return {"id": flavor_id, "name": name, "memory_mb": memory_mb, "vcpus": vcpus,
            "root_gb": root_gb, "ephemeral_gb": 0, "swap": 0, "rxtx_factor": 1.0,
            "description": None, "extra_specs": dict(extra_specs or {})}


def compute_host(rt: Runtime, host: str, vcpus: int = 4, memory_mb: int = 1024,
                 disk_gb: int = 20, up: bool = True) -> int:
    """A compute node with inventory and (when up) a fresh heartbeat."""
    node_id = inventory.update_compute_node(rt, host, {
        "vcpus": vcpus, "memory_mb": memory_mb, "disk_gb": disk_gb,
        "disk_free_gb": disk_gb, "hypervisor_type": "QEMU", "hypervisor_version": 7002000,
        "cpu_model": "x86_64", "cpu_allocation_ratio": 1.0, "ram_allocation_ratio": 1.0,
        "disk_allocation_ratio": 1.0, "reserved_host_memory_mb": 0,
        "reserved_host_disk_gb": 0})
    if up:
        services.report(rt, host, COMPUTE_BINARY, "stratus-compute")
    return node_id


def instance(rt: Runtime, ctx: RequestContext, flavor_copy: dict[str, Any], image_id: str,
             action: str = "create", vm_state: str = states.BUILDING,
             task_state: str | None = states.SCHEDULING, host: str | None = None,
             power_state: int = 0, metadata: dict[str, str] | None = None,
             **columns: Any) -> str:
    """An instance row as the API leaves it, with its action under ctx.request_id."""
    uuid_ = str(uuid.uuid4())
    with rt.db.session() as session:
        session.add(Instance(
            uuid=uuid_, project_id=ctx.project_id or PROJECT, user_id=ctx.user_id or USER,
            display_name=columns.pop("display_name", f"vm-{uuid_[:6]}"),
            hostname=columns.pop("hostname", f"vm-{uuid_[:6]}"), image_ref=image_id,
            flavor_id=flavor_copy["id"], flavor=flavor_copy, vm_state=vm_state,
            task_state=task_state, host=host, node=host, power_state=power_state,
            availability_zone="nova", system_metadata={}, **columns))
        session.flush()
        for key, value in (metadata or {}).items():
            session.add(InstanceMetadata(instance_uuid=uuid_, key=key, value=value))
    new_action(rt, ctx, uuid_, action)
    return uuid_


def new_action(rt: Runtime, ctx: RequestContext, uuid_: str, action: str) -> None:
    """The instance action the API records for each request."""
    with rt.db.session() as session:
        session.add(InstanceAction(instance_uuid=uuid_, action=action,
                                   request_id=ctx.request_id, project_id=ctx.project_id,
                                   user_id=ctx.user_id))


def request_spec(flavor_copy: dict[str, Any], image_id: str, count: int = 1,
                 force_hosts: list[str] | None = None) -> dict[str, Any]:
    return {"flavor": flavor_copy, "image": {"id": image_id}, "availability_zone": None,
            "group_uuid": None, "force_hosts": list(force_hosts or []),
            "num_instances": count, "project_id": PROJECT}
