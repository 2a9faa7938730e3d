"""Hosts as the scheduler sees them: capacity, usage and service status, read from SQL.

One query reads every compute node with the sum of its allocations, one reads the
compute services' heartbeats; a request's placements then update these objects in
memory, so later instances of the same request see the earlier ones.
"""

from __future__ import annotations

import dataclasses
import math

import sqlalchemy as sa

from controller import services
from controller.db.models.hosts import Allocation, ComputeNode
from controller.runtime import Runtime

COMPUTE_BINARY = services.COMPUTE_BINARY


@dataclasses.dataclass
class HostState:
    """One compute node and what is already claimed on it."""

    compute_node_id: int
    host: str
    node: str  # the hypervisor hostname
    generation: int
    total_vcpus: int
    total_memory_mb: int
    total_disk_gb: int
    cpu_allocation_ratio: float
    ram_allocation_ratio: float
    disk_allocation_ratio: float
    reserved_memory_mb: int
    reserved_disk_gb: int
    used_vcpus: int = 0
    used_memory_mb: int = 0
    used_disk_gb: int = 0
    consumers: int = 0
    # From the host's compute service row; no row means the agent never reported.
    zone: str | None = None
    service_up: bool = False
    service_disabled: bool = True

    @property
    def free_vcpus(self) -> float:
        return self.total_vcpus * self.cpu_allocation_ratio - self.used_vcpus

    @property
    def free_memory_mb(self) -> float:
        return (self.total_memory_mb * self.ram_allocation_ratio - self.reserved_memory_mb
                - self.used_memory_mb)

    @property
    def free_disk_gb(self) -> float:
        return (self.total_disk_gb * self.disk_allocation_ratio - self.reserved_disk_gb
                - self.used_disk_gb)

    def fits(self, wanted: Resources) -> bool:
        """True when wanted fits in what is left (after ratios and reservations)."""
        return (self.free_vcpus >= wanted.vcpus and self.free_memory_mb >= wanted.memory_mb
                and self.free_disk_gb >= wanted.disk_gb)

    def consume(self, wanted: Resources) -> None:
        """Account for a claim this scheduler just made here (and the generation bump)."""
        self.used_vcpus += wanted.vcpus
        self.used_memory_mb += wanted.memory_mb
        self.used_disk_gb += wanted.disk_gb
        self.consumers += 1
        self.generation += 1


@dataclasses.dataclass(frozen=True)
class Resources:
    """What one instance asks for, in the units allocations are counted in."""

    vcpus: int
    memory_mb: int
    disk_gb: int

    @classmethod
    def from_flavor(cls, flavor: dict, boot_from_volume: bool = False) -> Resources:
        """Disk is root + ephemeral + swap (rounded up to GiB); a volume-backed server's
        root disk lives on a volume, not on the host."""
        root = 0 if boot_from_volume else int(flavor.get("root_gb") or 0)
        swap_gb = math.ceil(int(flavor.get("swap") or 0) / 1024)
        return cls(vcpus=int(flavor.get("vcpus") or 0),
                   memory_mb=int(flavor.get("memory_mb") or 0),
                   disk_gb=root + int(flavor.get("ephemeral_gb") or 0) + swap_gb)


def from_row(row: ComputeNode) -> HostState:
    """A HostState for row with nothing used yet (the caller adds the usage)."""
    return HostState(
        compute_node_id=row.id, host=row.host, node=row.hypervisor_hostname,
        generation=row.generation, total_vcpus=row.vcpus, total_memory_mb=row.memory_mb,
        total_disk_gb=row.local_gb, cpu_allocation_ratio=row.cpu_allocation_ratio,
        ram_allocation_ratio=row.ram_allocation_ratio,
        disk_allocation_ratio=row.disk_allocation_ratio,
        reserved_memory_mb=row.reserved_host_memory_mb,
        reserved_disk_gb=row.reserved_host_disk_gb)


def load(rt: Runtime) -> list[HostState]:
    """Every compute node with its usage and its compute service's status, by host name."""
    usage = (sa.select(Allocation.compute_node_id,
                       sa.func.coalesce(sa.func.sum(Allocation.vcpus), 0).label("vcpus"),
                       sa.func.coalesce(sa.func.sum(Allocation.memory_mb), 0).label("mem"),
                       sa.func.coalesce(sa.func.sum(Allocation.disk_gb), 0).label("disk"),
                       sa.func.count(Allocation.id).label("consumers"))
             .group_by(Allocation.compute_node_id).subquery())
    query = (sa.select(ComputeNode, usage.c.vcpus, usage.c.mem, usage.c.disk,
                       usage.c.consumers)
             .outerjoin(usage, usage.c.compute_node_id == ComputeNode.id)
             .order_by(ComputeNode.host))
    with rt.db.session() as session:
        rows = session.execute(query).all()
        hosts = []
        for row, vcpus, mem, disk, consumers in rows:
            state = from_row(row)
            state.used_vcpus, state.used_memory_mb = int(vcpus or 0), int(mem or 0)
            state.used_disk_gb, state.consumers = int(disk or 0), int(consumers or 0)
            hosts.append(state)
    by_host = {s.host: s for s in services.list_(rt, binary=COMPUTE_BINARY)}
    for state in hosts:
        service = by_host.get(state.host)
        if service is not None:
            state.zone = service.zone
            state.service_up = service.up
            state.service_disabled = service.disabled
    return hosts
