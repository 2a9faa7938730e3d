"""CoreFilter: VCPUs x cpu_allocation_ratio - claimed leaves room for the flavor."""

from __future__ import annotations

from controller.scheduler.filters.base import BaseFilter
from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class CoreFilter(BaseFilter):
    name = "CoreFilter"

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.free_vcpus >= spec.resources.vcpus

    def describe(self, spec: RequestSpec) -> str:
        return f"for {spec.resources.vcpus} VCPUs"
