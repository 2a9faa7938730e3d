"""Hypervisors: a read view over ``compute_nodes``, their compute service and what the
scheduler has claimed on them (``controller.scheduler.claims.usage``)."""

from __future__ import annotations

import dataclasses
import re

import sqlalchemy as sa

from controller import exceptions, services
from controller.compute import compute_services
from controller.db.models.hosts import ComputeNode
from controller.db.models.servers import Instance
from controller.db.models.services import Service
from controller.runtime import Runtime
from controller.scheduler import claims


@dataclasses.dataclass
class Hypervisor:
    """A compute node with its service and usage."""

    node: ComputeNode
    service: Service | None
    up: bool
    vcpus_used: int
    memory_mb_used: int
    local_gb_used: int
    running_vms: int
    servers: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def free_ram_mb(self) -> int:
        return self.node.memory_mb - self.memory_mb_used

    @property
    def free_disk_gb(self) -> int:
        return self.node.local_gb - self.local_gb_used


def _build(rt: Runtime, nodes: list[ComputeNode], with_servers: bool) -> list[Hypervisor]:
    if not nodes:
        return []
    hosts = sorted({node.host for node in nodes})
    usage = claims.usage(rt)
    with rt.db.session() as session:
        service_rows = {row.host: row for row in session.scalars(sa.select(Service).where(
            Service.binary == compute_services.COMPUTE_BINARY, Service.host.in_(hosts)))}
        on_host: dict[str, list[tuple[str, str]]] = {}
        if with_servers:
            for host, name, uuid in session.execute(
                    sa.select(Instance.host, Instance.display_name, Instance.uuid).where(
                        Instance.host.in_(hosts), Instance.deleted.is_(False))
                    .order_by(Instance.created_at)):
                on_host.setdefault(host, []).append((name, uuid))
    result = []
    for node in nodes:
        used = usage.get(node.id)
        service = service_rows.get(node.host)
        result.append(Hypervisor(
            node=node, service=service,
            up=service is not None and services.is_up(rt, service),
            vcpus_used=used.vcpus if used else 0,
            # Nova counts the host's reserved memory and disk as used.
            memory_mb_used=(used.memory_mb if used else 0) + node.reserved_host_memory_mb,
            local_gb_used=(used.disk_gb if used else 0) + node.reserved_host_disk_gb,
            running_vms=used.instances if used else 0,
            servers=on_host.get(node.host, [])))
    return result


def list_(rt: Runtime, hostname_pattern: str | None = None,
          with_servers: bool = False) -> list[Hypervisor]:
    """Every hypervisor (whose hostname contains hostname_pattern), by id.

    :raises NotFound: a pattern that matches nothing (as Nova answers).
    """
    with rt.db.session() as session:
        nodes = list(session.scalars(sa.select(ComputeNode).order_by(ComputeNode.id)))
    if hostname_pattern is not None:
        nodes = [node for node in nodes
                 if re.search(re.escape(hostname_pattern), node.hypervisor_hostname)]
        if not nodes:
            raise exceptions.NotFound(f"No hypervisor matching '{hostname_pattern[:64]}' "
                                      "could be found.")
    return _build(rt, nodes, with_servers)


def get(rt: Runtime, hypervisor_id: str, by_uuid: bool,
        with_servers: bool = False) -> Hypervisor:
    """:raises NotFound: no hypervisor with that id (an integer, or a uuid from 2.53)."""
    with rt.db.session() as session:
        node = None
        if by_uuid:
            node = session.scalars(sa.select(ComputeNode).where(
                ComputeNode.uuid == hypervisor_id)).first()
        elif hypervisor_id.isdecimal() and len(hypervisor_id) < 10:
            node = session.get(ComputeNode, int(hypervisor_id))
    if node is None:
        raise exceptions.NotFound(f"Hypervisor with ID {hypervisor_id[:64]} could not be "
                                  "found.")
    return _build(rt, [node], with_servers)[0]


def statistics(rt: Runtime) -> dict[str, int]:
    """Totals over every hypervisor, in Nova's hypervisor_statistics keys."""
    totals = dict.fromkeys(("count", "vcpus", "memory_mb", "local_gb", "vcpus_used",
                            "memory_mb_used", "local_gb_used", "free_ram_mb",
                            "free_disk_gb", "current_workload", "running_vms",
                            "disk_available_least"), 0)
    for hyp in list_(rt):
        totals["count"] += 1
        totals["vcpus"] += hyp.node.vcpus
        totals["memory_mb"] += hyp.node.memory_mb
        totals["local_gb"] += hyp.node.local_gb
        totals["vcpus_used"] += hyp.vcpus_used
        totals["memory_mb_used"] += hyp.memory_mb_used
        totals["local_gb_used"] += hyp.local_gb_used
        totals["free_ram_mb"] += hyp.free_ram_mb
        totals["free_disk_gb"] += hyp.free_disk_gb
        totals["running_vms"] += hyp.running_vms
        totals["disk_available_least"] += hyp.node.free_disk_gb
    return totals
