"""RamFilter: RAM x ram_allocation_ratio - reserved - claimed leaves room for the flavor."""

from __future__ import annotations

from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class RamFilter(BaseFilter):
    name = "RamFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.free_memory_mb >= spec.resources.memory_mb

    def describe(self, spec: RequestSpec) -> str:
        return f"for {spec.resources.memory_mb} MB RAM"
